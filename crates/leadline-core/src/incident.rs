//! What every source of incidents agrees on: the normalised severity and the order of an
//! incident's lifecycle instants.

use serde::Serialize;

use crate::model::{Incident, Millis};

/// A severity on one scale, whatever the source called it. Sources keep their own spelling
/// in [`Incident::severity`]; reports count by this.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
    Unknown,
}

impl Severity {
    /// Case-insensitively, ignoring surrounding spaces: sev1/P1/P0/critical → sev1,
    /// sev2/P2/high/major → sev2, sev3/P3/medium/moderate/minor → sev3, sev4/P4/P5/low/info →
    /// sev4; anything else (or nothing) is unknown. PagerDuty's urgencies `high` and `low`
    /// fall out of the same table.
    pub fn of(given: Option<&str>) -> Severity {
        let Some(given) = given else {
            return Severity::Unknown;
        };
        match given.trim().to_ascii_lowercase().as_str() {
            "sev1" | "p1" | "p0" | "critical" => Severity::Sev1,
            "sev2" | "p2" | "high" | "major" => Severity::Sev2,
            "sev3" | "p3" | "medium" | "moderate" | "minor" => Severity::Sev3,
            "sev4" | "p4" | "p5" | "low" | "info" => Severity::Sev4,
            _ => Severity::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
            Severity::Unknown => "unknown",
        }
    }
}

/// A lifecycle instant out of order: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfOrder {
    pub field: &'static str,
    pub message: &'static str,
}

impl Incident {
    /// The normalised severity.
    pub fn level(&self) -> Severity {
        Severity::of(self.severity.as_deref())
    }

    /// When the impact began: `started_at`, else `opened_at`.
    pub fn start(&self) -> Millis {
        self.started_at.unwrap_or(self.opened_at)
    }

    /// When it was noticed: `detected_at`, else `opened_at`.
    pub fn detected(&self) -> Millis {
        self.detected_at.unwrap_or(self.opened_at)
    }

    /// The lifecycle instants with their field names, in the order a report lists them.
    pub fn lifecycle(&self) -> [(&'static str, Option<Millis>); 5] {
        [
            ("opened_at", Some(self.opened_at)),
            ("detected_at", self.detected_at),
            ("acknowledged_at", self.acknowledged_at),
            ("mitigated_at", self.mitigated_at),
            ("resolved_at", self.resolved_at),
        ]
    }

    /// Every problem with the order of the instants: any before `started_at`, and
    /// `resolved_at` before `opened_at`. Other orders are allowed on purpose (an alert may be
    /// acknowledged before the incident record is opened, and mitigation may be recorded late).
    pub fn out_of_order(&self) -> Vec<OutOfOrder> {
        let mut problems = Vec::new();
        if let Some(started) = self.started_at {
            for (field, at) in self.lifecycle() {
                if at.is_some_and(|at| at < started) {
                    problems.push(OutOfOrder {
                        field,
                        message: "is before started_at",
                    });
                }
            }
        }
        if self.resolved_at.is_some_and(|r| r < self.opened_at)
            && !problems.iter().any(|p| p.field == "resolved_at")
        {
            problems.push(OutOfOrder {
                field: "resolved_at",
                message: "is before opened_at",
            });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_from_every_vocabulary_land_on_one_scale() {
        for (given, expected) in [
            ("SEV1", Severity::Sev1),
            ("p0", Severity::Sev1),
            ("Critical", Severity::Sev1),
            ("P2", Severity::Sev2),
            ("high", Severity::Sev2),
            ("MAJOR", Severity::Sev2),
            ("moderate", Severity::Sev3),
            ("minor", Severity::Sev3),
            ("P5", Severity::Sev4),
            ("info", Severity::Sev4),
            ("low", Severity::Sev4),
            ("sev 1", Severity::Unknown),
            ("warning", Severity::Unknown),
            ("", Severity::Unknown),
        ] {
            assert_eq!(Severity::of(Some(given)), expected, "{given:?}");
        }
        assert_eq!(Severity::of(None), Severity::Unknown);
    }

    #[test]
    fn times_before_the_start_are_named() {
        let incident = Incident {
            opened_at: 100,
            started_at: Some(50),
            detected_at: Some(40),
            acknowledged_at: Some(60),
            resolved_at: Some(90),
            ..Incident::default()
        };
        let fields: Vec<_> = incident.out_of_order().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["detected_at", "resolved_at"]);
        let ok = Incident {
            opened_at: 100,
            acknowledged_at: Some(95),
            resolved_at: Some(100),
            ..Incident::default()
        };
        assert!(ok.out_of_order().is_empty());
    }
}
