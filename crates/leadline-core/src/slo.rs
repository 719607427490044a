//! Service level objectives: definitions read from OpenSLO v1 files ([`openslo`]) and the
//! arithmetic of error budgets, burn rates and multiwindow alerts ([`burn`]).

pub mod burn;
pub mod openslo;
pub mod rules;

use crate::model::Millis;

/// A time-series database leadline can ask for an SLO's events (Prometheus' HTTP API).
#[async_trait::async_trait]
pub trait Series: Send + Sync {
    /// The samples of `query` every `step` from `start` to `end` (both included), each the sum
    /// over the series the query returns; instants without a sample are left out.
    async fn range(
        &self,
        query: &str,
        start: Millis,
        end: Millis,
        step: Millis,
    ) -> Result<Vec<(Millis, f64)>, String>;
}
