//! Taking a named scalar out of its family's report: one value, or a series over periods.

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{CATALOG, Metric, find};

/// A name the catalog does not hold.
#[derive(Debug, thiserror::Error)]
#[error("no metric is called {name:?}{hint}; `leadline metrics list` lists them")]
pub struct UnknownMetric {
    pub name: String,
    hint: String,
}

/// The metric called `name`, or an error naming the metrics of its family.
/// Label pairs of a metric name, `(key, value)` in order.
pub type Labels = Vec<(String, String)>;

/// A name with labels, `slo.budget_remaining{slo=checkout}`: the name and the label pairs.
pub fn labels(name: &str) -> Result<(&str, Labels), UnknownMetric> {
    let Some((bare, rest)) = name.split_once('{') else {
        return Ok((name, Vec::new()));
    };
    let bad = || UnknownMetric {
        name: name.to_owned(),
        hint: " (labels are written {key=value,…})".to_owned(),
    };
    let inner = rest.strip_suffix('}').ok_or_else(bad)?;
    let mut pairs = Vec::new();
    for pair in inner.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(bad)?;
        pairs.push((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()));
    }
    Ok((bare, pairs))
}

pub fn lookup(name: &str) -> Result<&'static Metric, UnknownMetric> {
    find(name).ok_or_else(|| {
        let family = name.split('.').next().unwrap_or("");
        let same: Vec<&str> = CATALOG
            .iter()
            .filter(|m| m.family.as_str() == family)
            .map(|m| m.name)
            .take(6)
            .collect();
        let hint = match same.as_slice() {
            [] => String::new(),
            names => format!(" (the {family} family has {}, …)", names.join(", ")),
        };
        UnknownMetric {
            name: name.to_owned(),
            hint,
        }
    })
}

/// The value at a dotted `path` of `report`, if there is one.
pub fn value_at<'a>(report: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(report, |v, key| v.get(key))
}

/// One period of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub since: String,
    pub until: String,
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `leadline metric NAME` prints as JSON: `{name, value}` (with a `reason` when the value
/// is `null`) or `{name, series: [{since, until, value}]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reading {
    Value {
        name: String,
        value: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Series {
        name: String,
        series: Vec<Point>,
    },
}

/// The scalar of `metric` in `report` exactly as the report holds it (an integer stays an
/// integer), or `null` with why: the report's own `reason` beside the scalar when it gives one
/// (e.g. a proxy DORA key), else that there was no data.
pub fn read(metric: &Metric, report: &Value) -> (Value, Option<String>) {
    match value_at(report, metric.path()) {
        Some(v) if !v.is_null() => (v.clone(), None),
        _ => {
            let parent = metric.path().rsplit_once('.').map_or("", |(p, _)| p);
            let own = value_at(report, &format!("{parent}.reason"))
                .or_else(|| report.get("reason"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let reason = own.unwrap_or_else(|| {
                format!(
                    "no data for {} in this window and scope (see {})",
                    metric.name, metric.docs
                )
            });
            (Value::Null, Some(reason))
        }
    }
}

/// `metric`'s reading of one report.
pub fn single(metric: &Metric, report: &Value) -> Reading {
    let (value, reason) = read(metric, report);
    Reading::Value {
        name: metric.name.to_owned(),
        value,
        reason,
    }
}

/// `metric`'s series over `reports`, one per period, each report carrying its `since` and
/// `until`.
pub fn series(metric: &Metric, reports: &[Value]) -> Reading {
    let text = |r: &Value, key: &str| r.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    Reading::Series {
        name: metric.name.to_owned(),
        series: reports
            .iter()
            .map(|r| {
                let (value, reason) = read(metric, r);
                Point {
                    since: text(r, "since"),
                    until: text(r, "until"),
                    value,
                    reason,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metric(name: &str) -> &'static Metric {
        lookup(name).unwrap()
    }

    #[test]
    fn a_value_is_the_field_as_the_report_holds_it() {
        let report = json!({"lead_time": {"median_seconds": 3600, "changes": 4}, "since": "a"});
        let reading = single(metric("dora.lead_time.median_seconds"), &report);
        assert_eq!(
            serde_json::to_value(&reading).unwrap(),
            json!({"name": "dora.lead_time.median_seconds", "value": 3600})
        );
    }

    #[test]
    fn null_carries_the_reports_reason_or_says_there_was_no_data() {
        let proxy =
            json!({"lead_time": {"median_seconds": null, "reason": "a proxy: import deployments"}});
        let (value, reason) = read(metric("dora.lead_time.median_seconds"), &proxy);
        assert_eq!(
            (value, reason.as_deref()),
            (Value::Null, Some("a proxy: import deployments"))
        );
        let (value, reason) = read(metric("flow.builds.failure_rate"), &json!({}));
        assert!(value.is_null());
        assert!(
            reason
                .unwrap()
                .contains("no data for flow.builds.failure_rate")
        );
    }

    #[test]
    fn a_series_has_one_point_per_report() {
        let reports = [
            json!({"since": "s1", "until": "u1", "rework_rate": {"rate": 0.5}}),
            json!({"since": "s2", "until": "u2", "rework_rate": {"rate": null}}),
        ];
        let Reading::Series { series, .. } = series(metric("dora.rework_rate.rate"), &reports)
        else {
            panic!("a series")
        };
        assert_eq!(series.len(), 2);
        assert_eq!(
            (series[0].since.as_str(), &series[0].value),
            ("s1", &json!(0.5))
        );
        assert!(series[1].value.is_null() && series[1].reason.is_some());
    }

    #[test]
    fn unknown_names_point_at_their_family() {
        let e = lookup("dora.lead_time.mean").unwrap_err().to_string();
        assert!(e.contains("dora.lead_time.median_seconds"), "{e}");
        assert!(
            lookup("nothing")
                .unwrap_err()
                .to_string()
                .contains("metrics list")
        );
    }
}
