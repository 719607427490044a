//! Survey responses from the CSV that Google Forms, Typeform and Microsoft Forms export: one
//! row per response, one column per question. A column is an item when its header is the
//! item's id or its exact text; the `team` column names the team; every other column
//! (timestamps, emails, names, free text) is dropped here, before anything reaches the store.

use std::collections::BTreeMap;

use leadline_core::survey::Instrument;

use crate::import::{Rejected, RowError};

/// One response: its line in the file, the team, and the numeric answers by item id.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub line: usize,
    pub team: String,
    pub answers: BTreeMap<String, f64>,
}

/// Parses `text`, refusing the whole file on any answer outside its item's scale, a missing or
/// unknown team (`teams`: the known ones; `None` accepts any), or no item column at all. Rows
/// that answer no item are left out.
pub fn responses(
    file: &str,
    text: &str,
    instrument: &Instrument,
    teams: Option<&[String]>,
) -> Result<Vec<Parsed>, Rejected> {
    let reject = |line: usize, field: &str, message: String| Rejected {
        file: file.to_owned(),
        errors: vec![RowError::new(line, field, message)],
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| reject(1, "", e.to_string()))?
        .clone();
    let mut team_column = None;
    let mut items: Vec<(usize, &str)> = Vec::new();
    for (k, h) in headers.iter().enumerate() {
        let h = h.trim();
        if h.eq_ignore_ascii_case("team") {
            team_column = Some(k);
        } else if let Some(item) = instrument
            .items
            .iter()
            .find(|i| i.id == h || i.text.trim() == h)
        {
            if items.iter().any(|(_, id)| *id == item.id) {
                return Err(reject(
                    1,
                    h,
                    format!("a second column for item {}", item.id),
                ));
            }
            items.push((k, &item.id));
        }
    }
    let team_column = team_column.ok_or_else(|| reject(1, "team", "no team column".to_owned()))?;
    if items.is_empty() {
        return Err(reject(
            1,
            "",
            format!(
                "no column is an item of {} (a header must be an item's id or its exact text)",
                instrument.name
            ),
        ));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                return Err(reject(line, "", e.to_string()));
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let team = record.get(team_column).unwrap_or("").trim();
        let mut answers = BTreeMap::new();
        for (k, id) in &items {
            let raw = record.get(*k).unwrap_or("").trim();
            if raw.is_empty() {
                continue;
            }
            let item = instrument.item(id).expect("matched above");
            match raw.parse::<f64>() {
                Ok(v) if item.in_scale(v) => {
                    answers.insert((*id).to_owned(), v);
                }
                _ => errors.push(RowError::new(
                    line,
                    id,
                    format!(
                        "{raw:?} is not an answer from {} to {}",
                        item.scale[0], item.scale[1]
                    ),
                )),
            }
        }
        if answers.is_empty() && team.is_empty() {
            continue;
        }
        if team.is_empty() {
            errors.push(RowError::new(line, "team", "no team"));
        } else if let Some(known) = teams
            && !known.iter().any(|t| t == team)
        {
            errors.push(RowError::new(
                line,
                "team",
                format!("unknown team {team:?} (the teams: {})", known.join(", ")),
            ));
        }
        if !answers.is_empty() {
            out.push(Parsed {
                line,
                team: team.to_owned(),
                answers,
            });
        }
    }
    if !errors.is_empty() {
        return Err(Rejected {
            file: file.to_owned(),
            errors,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ps() -> Instrument {
        Instrument::parse(leadline_core::survey::DEFAULTS[0]).unwrap()
    }

    #[test]
    fn columns_match_by_id_or_exact_text_and_the_rest_is_dropped() {
        let csv = "\u{feff}Timestamp,Email Address,Team,It is safe to take a risk on this team.,ps1,Anything else?\n\
                   2026/10/03 9:14:02,ann@example.com,core,6,2,we are fine\n\
                   2026/10/03 9:20:11,bob@example.com,core,,7,\n";
        let rows = responses("f.csv", csv, &ps(), None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].team, "core");
        assert_eq!(
            rows[0].answers,
            BTreeMap::from([("ps1".to_owned(), 2.0), ("ps4".to_owned(), 6.0)])
        );
        assert_eq!(rows[1].answers.len(), 1);
    }

    #[test]
    fn answers_outside_the_scale_and_unknown_teams_refuse_the_file_naming_where() {
        let csv = "team,ps1,ps2\ncore,8,3\nghosts,1,1\n";
        let teams = ["core".to_owned()];
        let e = responses("f.csv", csv, &ps(), Some(&teams)).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("f.csv:2: ps1: \"8\" is not an answer from 1 to 7"),
            "{text}"
        );
        assert!(
            text.contains("f.csv:3: team: unknown team \"ghosts\""),
            "{text}"
        );
        assert!(responses("f.csv", "who,ps1\nx,1\n", &ps(), None).is_err());
        assert!(responses("f.csv", "team,email\nx,a@b\n", &ps(), None).is_err());
        assert!(responses("f.csv", "team,ps1\ncore,3.5\n", &ps(), None).is_err());
    }
}
