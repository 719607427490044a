//! Prometheus' HTTP API as a [`Series`]: `GET /api/v1/query_range`, in pieces of at most
//! 10 000 steps (Prometheus refuses more than 11 000 points a query), through the forge client
//! (retries, timeouts).

use leadline_core::model::Millis;
use leadline_core::slo::Series;
use serde_json::Value;

use crate::forge::{Client, Fetched, Options, Sink};

/// Steps per request.
const STEPS: i64 = 10_000;

pub struct Prometheus {
    client: Client,
}

impl Prometheus {
    /// A reader of the Prometheus at `url` (`http://127.0.0.1:9090`).
    pub fn new(url: &str) -> Result<Prometheus, String> {
        let options = Options {
            headers: vec![("Accept", "application/json")],
            ..Options::new(url, None)
        };
        Ok(Prometheus {
            client: Client::new(options).map_err(|e| e.to_string())?,
        })
    }
}

/// Prometheus has no pages or cursors: a sink that keeps nothing.
struct Quiet;

impl Sink for Quiet {
    async fn save(&mut self, _: leadline_core::events::Events, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn progress(&mut self, _: &str, _: u64) {}
    fn total(&mut self, _: &str, _: u64) {}
    // Retries are the client's business; what finally fails is the answer.
    fn notice(&mut self, _: &str) {}
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The samples of a `query_range` answer, summed per instant over its series.
pub fn samples(body: &Value) -> Result<Vec<(Millis, f64)>, String> {
    if body.get("status").and_then(Value::as_str) != Some("success") {
        let why = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no status: success");
        return Err(format!("Prometheus answered: {why}"));
    }
    let result = body
        .pointer("/data/result")
        .and_then(Value::as_array)
        .ok_or("Prometheus answered without data.result")?;
    let mut by_instant: std::collections::BTreeMap<Millis, f64> = Default::default();
    for series in result {
        let values = series
            .get("values")
            .and_then(Value::as_array)
            .ok_or("a series without values (expected a range query's matrix)")?;
        for v in values {
            let (Some(t), Some(x)) = (
                v.get(0).and_then(Value::as_f64),
                v.get(1).and_then(Value::as_str),
            ) else {
                return Err(format!("an unreadable sample {v}"));
            };
            let x: f64 = x
                .parse()
                .map_err(|_| format!("an unreadable sample value {x:?}"))?;
            // NaN (0/0) and infinities are no events.
            if x.is_finite() {
                *by_instant
                    .entry((t * 1000.0).round() as Millis)
                    .or_default() += x;
            }
        }
    }
    Ok(by_instant.into_iter().collect())
}

#[async_trait::async_trait]
impl Series for Prometheus {
    async fn range(
        &self,
        query: &str,
        start: Millis,
        end: Millis,
        step: Millis,
    ) -> Result<Vec<(Millis, f64)>, String> {
        let mut out = Vec::new();
        let mut from = start;
        while from <= end {
            let to = (from + (STEPS - 1) * step).min(end);
            let url = self.client.url(&format!(
                "/api/v1/query_range?query={}&start={}&end={}&step={}s",
                encode(query),
                from as f64 / 1000.0,
                to as f64 / 1000.0,
                step / 1000
            ));
            let body = match self.client.get(&url, None, &mut Quiet).await {
                Ok(Fetched::Page { body, .. }) => body,
                Ok(Fetched::NotModified) => return Err(format!("{url}: answered 304")),
                Err(e) => return Err(e.to_string()),
            };
            out.extend(samples(&body)?);
            from = to + step;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_summed_per_instant_and_errors_named() {
        let body = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"code": "500"}, "values": [[1772445660, "0.5"], [1772445720, "NaN"]]},
            {"metric": {"code": "503"}, "values": [[1772445660, "0.25"]]}
        ]}});
        assert_eq!(samples(&body).unwrap(), [(1_772_445_660_000, 0.75)]);
        let error =
            serde_json::json!({"status": "error", "errorType": "bad_data", "error": "parse error"});
        assert_eq!(
            samples(&error).unwrap_err(),
            "Prometheus answered: parse error"
        );
    }
}
