//! How knowledge spreads (docs/metrics.md, "Learning"): per area, the bus factor (the fewest
//! authors whose changes cover half the area's changes); the share of areas with a bus factor
//! of two or more; and mobility, the people who changed an area new to them, as a share of
//! those active. Counts only: nothing here names a person.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::model::Millis;

/// One file change: its area, its author and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub area: String,
    pub author: String,
    pub at: Millis,
}

/// The fewest authors whose changes cover at least half of all: `counts` are each author's
/// changes of one area. 0 without changes.
pub fn bus_factor(counts: &[usize]) -> usize {
    let total: usize = counts.iter().sum();
    let mut sorted = counts.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let mut covered = 0;
    for (i, c) in sorted.iter().enumerate() {
        covered += c;
        if covered * 2 >= total {
            return i + 1;
        }
    }
    0
}

/// The bus factor of every area over touches in [since, until).
pub fn bus_factors(touches: &[Touch], since: Millis, until: Millis) -> BTreeMap<String, usize> {
    let mut per: BTreeMap<&str, HashMap<&str, usize>> = BTreeMap::new();
    for t in touches.iter().filter(|t| since <= t.at && t.at < until) {
        *per.entry(&t.area)
            .or_default()
            .entry(&t.author)
            .or_default() += 1;
    }
    per.into_iter()
        .map(|(area, authors)| {
            let counts: Vec<usize> = authors.into_values().collect();
            (area.to_owned(), bus_factor(&counts))
        })
        .collect()
}

/// The share of areas with a bus factor of 2 or more; `None` without areas.
pub fn spread(factors: &BTreeMap<String, usize>) -> Option<f64> {
    (!factors.is_empty())
        .then(|| factors.values().filter(|f| **f >= 2).count() as f64 / factors.len() as f64)
}

/// In [since, until): the people active, and those who changed an area they had never changed
/// before `since`.
pub fn mobility(touches: &[Touch], since: Millis, until: Millis) -> (usize, usize) {
    let before: HashSet<(&str, &str)> = touches
        .iter()
        .filter(|t| t.at < since)
        .map(|t| (t.author.as_str(), t.area.as_str()))
        .collect();
    let mut active = HashSet::new();
    let mut mobile = HashSet::new();
    for t in touches.iter().filter(|t| since <= t.at && t.at < until) {
        active.insert(t.author.as_str());
        if !before.contains(&(t.author.as_str(), t.area.as_str())) {
            mobile.insert(t.author.as_str());
        }
    }
    (active.len(), mobile.len())
}

/// One quarter's figures.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Quarter {
    /// `2024-Q2`.
    pub quarter: String,
    pub since: String,
    pub until: String,
    pub areas: usize,
    pub knowledge_spread: Option<f64>,
    pub active_people: Option<usize>,
    pub mobile_people: Option<usize>,
    /// mobile / active; `null` (with both counts) under the group floor.
    pub mobility: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(area: &str, author: &str, at: Millis) -> Touch {
        Touch {
            area: area.into(),
            author: author.into(),
            at,
        }
    }

    #[test]
    fn bus_factor_is_the_fewest_authors_covering_half() {
        assert_eq!(bus_factor(&[]), 0);
        assert_eq!(bus_factor(&[10]), 1);
        // 6 of 10 by one author: half covered by one.
        assert_eq!(bus_factor(&[6, 2, 2]), 1);
        // 4, 3, 3: four is under half, four and three are over.
        assert_eq!(bus_factor(&[3, 4, 3]), 2);
        // Exactly half counts: 5 of 10.
        assert_eq!(bus_factor(&[5, 5]), 1);
    }

    #[test]
    fn spread_and_mobility_of_a_worked_example() {
        let touches = [
            touch("src/a", "ann", 1),
            touch("src/a", "bob", 2),
            touch("src/a", "bob", 3),
            touch("src/b", "ann", 4),
            // Later: bob in b (new to him), ann in a again (not new), cid in a (new).
            touch("src/b", "bob", 10),
            touch("src/a", "ann", 11),
            touch("src/a", "cid", 12),
        ];
        let early = bus_factors(&touches, 0, 10);
        // a: bob 2, ann 1 → 1; b: ann 1 → 1.
        assert_eq!(early.values().copied().collect::<Vec<_>>(), [1, 1]);
        assert_eq!(spread(&early), Some(0.0));
        let all = bus_factors(&touches, 0, 20);
        // a: ann 2, bob 2, cid 1 → 2 of 5 under half, ann + bob → 2; b: ann 1, bob 1 → 1.
        assert_eq!(all["src/a"], 2);
        assert_eq!(all["src/b"], 1);
        assert_eq!(spread(&all), Some(0.5));
        assert_eq!(mobility(&touches, 10, 20), (3, 2));
    }
}
