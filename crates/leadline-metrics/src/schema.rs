//! The JSON schema of each family's report, generated from the very types that are serialised
//! (their serde attributes included), so a schema cannot drift from the output it describes.

use leadline_core::activity::ActivitySummary;
use serde_json::Value;

use crate::catalog::Family;

/// The schema of one report of `family`, as `leadline FAMILY --format json` prints it (health
/// prints one per repository, in an array; `--by` prints an array of dora or flow reports; slo
/// status prints one per SLO, in an array).
pub fn of(family: Family) -> Value {
    let schema = match family {
        Family::Activity => schemars::schema_for!(ActivitySummary),
        Family::Dora => schemars::schema_for!(crate::dora::Report<'static>),
        Family::Flow => schemars::schema_for!(crate::flow::Report),
        Family::Health => schemars::schema_for!(crate::health::Report),
        Family::Debt => schemars::schema_for!(crate::debt::Listing),
        Family::Capacity => schemars::schema_for!(crate::capacity::Report),
        Family::Incidents => schemars::schema_for!(crate::incidents::Report),
        Family::Slo => schemars::schema_for!(crate::slo::Status),
        Family::Ai => schemars::schema_for!(crate::ai::Report),
        Family::Product => schemars::schema_for!(crate::product::Report),
        Family::Scorecard => schemars::schema_for!(crate::scope::ScorecardReport),
        Family::Wellbeing => schemars::schema_for!(crate::wellbeing::Report),
        Family::Planning => schemars::schema_for!(crate::planning::Report),
    };
    schema.to_value()
}

/// The family called `name`, if there is one.
pub fn family(name: &str) -> Option<Family> {
    Family::ALL.into_iter().find(|f| f.as_str() == name)
}
