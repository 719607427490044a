//! Pulse surveys: instruments as data, and team scores that never show a respondent.
//!
//! An instrument has items (an id, the question's text, a scale, whether it is reverse-coded)
//! and scores (each a named mean of items). A respondent's score is the mean of the score's
//! items they answered, reverse-coded items as `min + max − answer`; a group's score is the mean
//! of its respondents' scores, over the respondents who answered at least one of its items. A
//! group (a team in a wave) with fewer respondents than the floor is folded into `other`, and
//! `other` below the floor is not shown: no number ever rests on fewer people than the floor.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One question.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub text: String,
    /// The lowest and highest answer, e.g. `[1, 7]`.
    pub scale: [i64; 2],
    #[serde(default)]
    pub reverse: bool,
}

/// A named mean of items.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreDef {
    pub name: String,
    pub items: Vec<String>,
}

/// A survey instrument, as `surveys/NAME.toml` defines it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    pub name: String,
    pub title: String,
    /// Where the items come from (a citation).
    pub source: String,
    #[serde(rename = "item")]
    pub items: Vec<Item>,
    #[serde(rename = "score")]
    pub scores: Vec<ScoreDef>,
}

/// Why an instrument cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInstrument(pub String);

impl Instrument {
    /// Parses and checks an instrument: unique item ids, scales low to high, scores naming
    /// items that exist.
    pub fn parse(text: &str) -> Result<Instrument, InvalidInstrument> {
        let i: Instrument = toml::from_str(text).map_err(|e| InvalidInstrument(e.to_string()))?;
        i.check()?;
        Ok(i)
    }

    fn check(&self) -> Result<(), InvalidInstrument> {
        let bad = |m: String| Err(InvalidInstrument(format!("instrument {}: {m}", self.name)));
        if self.items.is_empty() || self.scores.is_empty() {
            return bad("needs at least one item and one score".to_owned());
        }
        for (k, item) in self.items.iter().enumerate() {
            if self.items[..k].iter().any(|o| o.id == item.id) {
                return bad(format!("item {} is defined twice", item.id));
            }
            if item.scale[0] >= item.scale[1] {
                return bad(format!(
                    "item {}: the scale must go from low to high",
                    item.id
                ));
            }
        }
        for s in &self.scores {
            if s.items.is_empty() {
                return bad(format!("score {} has no items", s.name));
            }
            if let Some(missing) = s.items.iter().find(|i| self.item(i).is_none()) {
                return bad(format!("score {} names no item {missing}", s.name));
            }
        }
        Ok(())
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
}

impl Item {
    /// The answer as scored: reverse-coded items as `min + max − answer` (8 − answer on 1–7).
    pub fn coded(&self, answer: f64) -> f64 {
        if self.reverse {
            (self.scale[0] + self.scale[1]) as f64 - answer
        } else {
            answer
        }
    }

    pub fn in_scale(&self, answer: f64) -> bool {
        answer.fract() == 0.0 && answer >= self.scale[0] as f64 && answer <= self.scale[1] as f64
    }
}

/// One response as stored: the team and the answers by item id, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub wave: String,
    pub team: String,
    pub answers: BTreeMap<String, f64>,
}

/// A group's scores in one wave; `respondents` counts its responses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub group: String,
    pub wave: String,
    pub respondents: usize,
    pub scores: BTreeMap<String, Option<f64>>,
}

/// The group that gathers teams under the floor.
pub const OTHER: &str = "other";

/// Scores per (wave, team), with teams under `floor` respondents folded into `other` and
/// `other` left out when it is under the floor too. Ordered by wave, then group (`other` last).
pub fn groups(instrument: &Instrument, responses: &[Response], floor: usize) -> Vec<Group> {
    let mut by: BTreeMap<(&str, &str), Vec<&Response>> = BTreeMap::new();
    for r in responses {
        by.entry((r.wave.as_str(), r.team.as_str()))
            .or_default()
            .push(r);
    }
    let mut waves: BTreeMap<&str, Vec<(String, Vec<&Response>)>> = BTreeMap::new();
    let mut folded: BTreeMap<&str, Vec<&Response>> = BTreeMap::new();
    for ((wave, team), rs) in by {
        if rs.len() >= floor {
            waves.entry(wave).or_default().push((team.to_owned(), rs));
        } else {
            folded.entry(wave).or_default().extend(rs);
            waves.entry(wave).or_default();
        }
    }
    let mut out = Vec::new();
    for (wave, teams) in waves {
        let other = folded.remove(wave).filter(|rs| rs.len() >= floor);
        for (group, rs) in teams
            .into_iter()
            .chain(other.map(|rs| (OTHER.to_owned(), rs)))
        {
            out.push(Group {
                scores: instrument
                    .scores
                    .iter()
                    .map(|s| (s.name.clone(), group_score(instrument, s, &rs)))
                    .collect(),
                group,
                wave: wave.to_owned(),
                respondents: rs.len(),
            });
        }
    }
    out
}

/// The mean of the respondents' scores, each the mean of the items they answered.
fn group_score(instrument: &Instrument, score: &ScoreDef, responses: &[&Response]) -> Option<f64> {
    let per_respondent: Vec<f64> = responses
        .iter()
        .filter_map(|r| {
            let answered: Vec<f64> = score
                .items
                .iter()
                .filter_map(|id| Some(instrument.item(id)?.coded(*r.answers.get(id)?)))
                .collect();
            (!answered.is_empty()).then(|| answered.iter().sum::<f64>() / answered.len() as f64)
        })
        .collect();
    (!per_respondent.is_empty())
        .then(|| per_respondent.iter().sum::<f64>() / per_respondent.len() as f64)
}

/// The instruments leadline ships, in `surveys/*.toml` form.
pub const DEFAULTS: [&str; 2] = [PSYCHOLOGICAL_SAFETY, DEVELOPER_EXPERIENCE];

const PSYCHOLOGICAL_SAFETY: &str = r#"name = "psychological_safety"
title = "Team psychological safety"
source = "Edmondson, A. (1999). Psychological Safety and Learning Behavior in Work Teams. Administrative Science Quarterly 44(2), 350-383: the seven-item team psychological safety scale"

[[item]]
id = "ps1"
text = "If you make a mistake on this team, it is often held against you."
scale = [1, 7]
reverse = true

[[item]]
id = "ps2"
text = "Members of this team are able to bring up problems and tough issues."
scale = [1, 7]

[[item]]
id = "ps3"
text = "People on this team sometimes reject others for being different."
scale = [1, 7]
reverse = true

[[item]]
id = "ps4"
text = "It is safe to take a risk on this team."
scale = [1, 7]

[[item]]
id = "ps5"
text = "It is difficult to ask other members of this team for help."
scale = [1, 7]
reverse = true

[[item]]
id = "ps6"
text = "No one on this team would deliberately act in a way that undermines my efforts."
scale = [1, 7]

[[item]]
id = "ps7"
text = "Working with members of this team, my unique skills and talents are valued and utilized."
scale = [1, 7]

[[score]]
name = "psychological_safety"
items = ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"]
"#;

const DEVELOPER_EXPERIENCE: &str = r#"name = "developer_experience"
title = "Developer experience"
source = "After the developer experience dimensions of Noda, Storey, Forsgren and Greiler (2023), DevEx: What Actually Drives Productivity (ACM Queue 21(2)): feedback loops, cognitive load and flow state, asked as one item each, 1 (strongly disagree) to 5 (strongly agree)"

[[item]]
id = "dx_build"
text = "Builds and tests give me feedback quickly enough."
scale = [1, 5]

[[item]]
id = "dx_review"
text = "I rarely wait long for a code review."
scale = [1, 5]

[[item]]
id = "dx_focus"
text = "I get enough uninterrupted time to focus on my work."
scale = [1, 5]

[[item]]
id = "dx_tooling"
text = "Our tools and development environment help rather than hinder me."
scale = [1, 5]

[[item]]
id = "dx_docs"
text = "I can find the documentation I need to do my work."
scale = [1, 5]

[[item]]
id = "dx_onboarding"
text = "A new team member can become productive here quickly."
scale = [1, 5]

[[score]]
name = "build_speed"
items = ["dx_build"]

[[score]]
name = "review_wait"
items = ["dx_review"]

[[score]]
name = "focus_time"
items = ["dx_focus"]

[[score]]
name = "tooling"
items = ["dx_tooling"]

[[score]]
name = "documentation"
items = ["dx_docs"]

[[score]]
name = "onboarding"
items = ["dx_onboarding"]

[[score]]
name = "developer_experience"
items = ["dx_build", "dx_review", "dx_focus", "dx_tooling", "dx_docs", "dx_onboarding"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn ps() -> Instrument {
        Instrument::parse(PSYCHOLOGICAL_SAFETY).unwrap()
    }

    fn response(wave: &str, team: &str, answers: &[(&str, f64)]) -> Response {
        Response {
            wave: wave.to_owned(),
            team: team.to_owned(),
            answers: answers.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        }
    }

    #[test]
    fn the_defaults_parse() {
        for d in DEFAULTS {
            Instrument::parse(d).unwrap();
        }
        assert_eq!(ps().items.iter().filter(|i| i.reverse).count(), 3);
    }

    /// docs/metrics.md, "Pulse surveys": two respondents; reverse-coded ps1, ps3, ps5 are
    /// 8 − answer; the team's score is the mean of the respondents' means.
    #[test]
    fn worked_example_reverse_coding_and_means_of_means() {
        let all = |v: [f64; 7]| -> Vec<(&'static str, f64)> {
            ["ps1", "ps2", "ps3", "ps4", "ps5", "ps6", "ps7"]
                .into_iter()
                .zip(v)
                .collect()
        };
        // A: 2,6,1,5,3,6,7 → coded 6,6,7,5,5,6,7 = 42 / 7 = 6.0
        // B: 7,2,7,3 on ps1–ps4 only → coded 1,2,1,3 = 7 / 4 = 1.75
        let responses = [
            response("2026-10", "core", &all([2.0, 6.0, 1.0, 5.0, 3.0, 6.0, 7.0])),
            response(
                "2026-10",
                "core",
                &[("ps1", 7.0), ("ps2", 2.0), ("ps3", 7.0), ("ps4", 3.0)],
            ),
        ];
        let g = groups(&ps(), &responses, 2);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].respondents, 2);
        assert_eq!(
            g[0].scores["psychological_safety"],
            Some((6.0 + 1.75) / 2.0)
        );
    }

    #[test]
    fn teams_under_the_floor_fold_into_other_and_other_under_it_is_not_shown() {
        let one = |team: &str| response("2026-10", team, &[("ps2", 5.0)]);
        let mut responses: Vec<Response> = (0..3).map(|_| one("big")).collect();
        responses.extend([one("a"), one("b")]);
        let g = groups(&ps(), &responses, 3);
        assert_eq!(
            g.iter()
                .map(|g| (g.group.as_str(), g.respondents))
                .collect::<Vec<_>>(),
            [("big", 3)],
            "a and b (2 together) stay hidden"
        );
        responses.push(one("c"));
        let g = groups(&ps(), &responses, 3);
        assert_eq!(
            g.iter()
                .map(|g| (g.group.as_str(), g.respondents))
                .collect::<Vec<_>>(),
            [("big", 3), (OTHER, 3)]
        );
    }

    /// A missing answer leaves that item's score to those who answered it.
    #[test]
    fn a_missing_answer_is_excluded_from_that_item_only() {
        let dx = Instrument::parse(DEVELOPER_EXPERIENCE).unwrap();
        let responses = [
            response("2026-11", "web", &[("dx_build", 4.0), ("dx_docs", 2.0)]),
            response("2026-11", "web", &[("dx_build", 2.0)]),
        ];
        let g = groups(&dx, &responses, 1);
        assert_eq!(g[0].scores["build_speed"], Some(3.0));
        assert_eq!(g[0].scores["documentation"], Some(2.0));
        assert_eq!(g[0].scores["focus_time"], None);
        // Respondent means: (4 + 2) / 2 = 3 and 2: the overall score is 2.5.
        assert_eq!(g[0].scores["developer_experience"], Some(2.5));
    }

    #[test]
    fn bad_instruments_are_refused() {
        let bad = PSYCHOLOGICAL_SAFETY.replace("items = [\"ps1\",", "items = [\"ps9\",");
        assert!(Instrument::parse(&bad).unwrap_err().0.contains("ps9"));
        let flipped = PSYCHOLOGICAL_SAFETY.replacen("scale = [1, 7]", "scale = [7, 1]", 1);
        assert!(Instrument::parse(&flipped).is_err());
    }
}
