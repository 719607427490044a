//! The survey family: team scores per wave from stored responses, under a floor of
//! respondents, beside the team's delivery numbers of the same month (an association, never a
//! cause).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use leadline_core::store::Store;
use leadline_core::survey::{DEFAULTS, Group, Instrument, Response};
use serde::Serialize;
use serde_json::Value;

use crate::{Error, Result, UsageError};

/// `[surveys]`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Instruments beside the defaults (`surveys/*.toml`); one named like a default replaces it.
    pub dir: PathBuf,
    /// Teams with fewer respondents in a wave fold into `other` [default: 5].
    pub min_respondents: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dir: PathBuf::from("surveys"),
            min_respondents: 5,
        }
    }
}

/// The defaults, then `dir`'s `*.toml` files by name (replacing a default of the same name).
pub fn instruments(settings: &Settings) -> Result<Vec<Instrument>> {
    let mut out: Vec<Instrument> = DEFAULTS
        .iter()
        .map(|d| Instrument::parse(d).map_err(|e| Error::Settings(e.to_string())))
        .collect::<Result<_>>()?;
    let entries = match std::fs::read_dir(&settings.dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(Error::Settings(format!(
                "cannot read {}: {e}",
                settings.dir.display()
            )));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Settings(format!("cannot read {}: {e}", path.display())))?;
        let parsed = Instrument::parse(&text)
            .map_err(|e| Error::Settings(format!("{}: {e}", path.display())))?;
        out.retain(|i| i.name != parsed.name);
        out.push(parsed);
    }
    Ok(out)
}

/// The instrument called `name`, or a usage error listing them.
pub fn instrument(settings: &Settings, name: &str) -> Result<Instrument> {
    let all = instruments(settings)?;
    let names: Vec<String> = all.iter().map(|i| i.name.clone()).collect();
    all.into_iter().find(|i| i.name == name).ok_or_else(|| {
        UsageError(format!(
            "no survey instrument {name:?} (the instruments: {})",
            names.join(", ")
        ))
        .into()
    })
}

/// What `leadline survey` is asked for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    pub instrument: Option<String>,
    pub wave: Option<String>,
    /// `wave`: each team's waves together, oldest first (the trend).
    pub by: Option<String>,
}

/// One group of one wave, as the JSON shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GroupOut {
    pub instrument: String,
    pub group: String,
    pub wave: String,
    pub respondents: usize,
    pub scores: BTreeMap<String, Option<f64>>,
    /// The team's flow in the wave's month, beside (not explained by) its scores; `other` has
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beside: Option<Value>,
}

/// Every group's scores for the query: one instrument, or every instrument with responses.
pub async fn report(
    store: &Arc<dyn Store>,
    settings: &Settings,
    query: &Query,
) -> Result<Vec<GroupOut>> {
    if let Some(by) = query.by.as_deref().filter(|b| *b != "wave") {
        return Err(UsageError(format!("--by {by}: surveys go by wave")).into());
    }
    let chosen = match &query.instrument {
        Some(name) => vec![instrument(settings, name)?],
        None => instruments(settings)?,
    };
    let mut out = Vec::new();
    for i in chosen {
        let responses: Vec<Response> = store
            .survey_responses(&i.name)
            .await?
            .into_iter()
            .filter(|r| query.wave.as_deref().is_none_or(|w| w == r.wave))
            .map(|r| {
                let answers: BTreeMap<String, f64> =
                    serde_json::from_str(&r.answers).unwrap_or_default();
                Response {
                    wave: r.wave,
                    team: r.team,
                    answers,
                }
            })
            .collect();
        let groups: Vec<Group> =
            leadline_core::survey::groups(&i, &responses, settings.min_respondents.max(1));
        out.extend(groups.into_iter().map(|g| GroupOut {
            instrument: i.name.clone(),
            group: g.group,
            wave: g.wave,
            respondents: g.respondents,
            scores: g.scores,
            beside: None,
        }));
    }
    if query.by.is_some() {
        out.sort_by(|a, b| {
            (&a.instrument, &a.group, &a.wave).cmp(&(&b.instrument, &b.group, &b.wave))
        });
    }
    Ok(out)
}

/// Adds to each team's group the team's flow in the wave's month (merged pull requests and
/// their median cycle time), for teams of `[[teams]]`; `other` gets none.
pub async fn add_beside(ctx: &crate::scope::Ctx<'_>, groups: &mut [GroupOut]) {
    for g in groups.iter_mut() {
        if !ctx.teams.iter().any(|t| t.name == g.group) {
            continue;
        }
        let Some((since, until)) = month(&g.wave) else {
            continue;
        };
        let scope = crate::scope::Scope {
            team: Some(g.group.clone()),
            since: Some(since),
            until: Some(until),
            ..crate::scope::Scope::default()
        };
        let reports =
            crate::scope::reports_of(ctx, None, crate::catalog::Family::Flow, &scope).await;
        if let Some(r) = reports.ok().and_then(|r| r.into_iter().next()) {
            let at = |p: &str| {
                crate::reading::value_at(&r, p)
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            g.beside = Some(serde_json::json!({
                "pull_requests_merged": at("pull_requests.merged"),
                "cycle_time_median_seconds": at("pull_requests.cycle_time.median_seconds"),
            }));
        }
    }
}

/// `survey.SCORE.score{team=T[,wave=YYYY-MM][,instrument=I]}`: the team's score (or
/// `other`'s) in the wave named, else the newest wave that starts in the scope's window, as
/// `leadline survey` gives it; `null` when the team is under the floor in that wave.
pub async fn read(
    store: &Arc<dyn Store>,
    settings: &Settings,
    full_name: &str,
    labels: &[(String, String)],
    scope: &crate::scope::Scope,
) -> Result<crate::reading::Reading> {
    let bare = full_name.split('{').next().unwrap_or(full_name);
    let score = &bare["survey.".len()..bare.len() - ".score".len()];
    let label = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some((k, _)) = labels
        .iter()
        .find(|(k, _)| !["team", "wave", "instrument"].contains(&k.as_str()))
    {
        return Err(UsageError(format!(
            "{full_name}: survey scores take team, wave and instrument labels, not {k}"
        ))
        .into());
    }
    if scope.by.is_some() || scope.service.is_some() || scope.repo.is_some() {
        return Err(UsageError(format!(
            "{full_name}: a survey score is read for one team and wave (no --by, --service or --repo)"
        ))
        .into());
    }
    let Some(team) = label("team").or_else(|| scope.team.clone()) else {
        return Err(UsageError(format!(
            "{full_name}: survey scores are per team: survey.{score}.score{{team=…}}"
        ))
        .into());
    };
    let query = Query {
        instrument: label("instrument"),
        wave: label("wave"),
        by: None,
    };
    let groups = report(store, settings, &query).await?;
    let instant = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| crate::window::parse_instant(flag, v))
            .transpose()
    };
    let (since, until) = (
        instant("--since", &scope.since)?,
        instant("--until", &scope.until)?,
    );
    let in_window = |wave: &str| {
        let Some(start) =
            month(wave).and_then(|(start, _)| crate::window::parse_instant("wave", &start).ok())
        else {
            return false;
        };
        since.is_none_or(|s| start >= s) && until.is_none_or(|u| start < u)
    };
    let found = groups
        .iter()
        .filter(|g| g.scores.contains_key(score) && in_window(&g.wave))
        .filter(|g| g.group == team)
        .max_by(|a, b| a.wave.cmp(&b.wave));
    let value = found.and_then(|g| g.scores.get(score).copied().flatten());
    Ok(crate::reading::Reading::Value {
        name: full_name.to_owned(),
        value: value.map_or(Value::Null, Value::from),
        reason: value.is_none().then(|| {
            format!(
                "no wave has a {score} score for {team} (under {} respondents, teams fold into `other`)",
                settings.min_respondents
            )
        }),
    })
}

/// `YYYY-MM`: the wave's month as a window (RFC 3339 start, exclusive end).
pub fn month(wave: &str) -> Option<(String, String)> {
    let (y, m) = wave.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&m) || wave.len() != 7 {
        return None;
    }
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Some((
        format!("{y:04}-{m:02}-01T00:00:00Z"),
        format!("{ny:04}-{nm:02}-01T00:00:00Z"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_are_months() {
        assert_eq!(
            month("2026-12"),
            Some((
                "2026-12-01T00:00:00Z".to_owned(),
                "2027-01-01T00:00:00Z".to_owned()
            ))
        );
        assert_eq!(month("2026-13"), None);
        assert_eq!(month("2026-1"), None);
    }
}
