//! What kind of failure an error is, wherever it came from: the exit code and the HTTP status
//! depend on it.

use leadline_core::store::StoreError;

/// A request the caller can fix (an invalid option or time, an empty window): exit 2, 400.
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<leadline_metrics::UsageError>().is_some()
            || c.downcast_ref::<leadline_metrics::Error>()
                .is_some_and(leadline_metrics::Error::is_usage)
    })
}

/// A file reviewed like code (scorecards.toml) that does not validate; the message names the
/// file, line and field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFile(pub String);

/// A file reviewed like code (the debt register, postmortems, SLOs, OKRs, scorecards) does not
/// validate: exit 2 with usage errors; on the server, the operator's to fix.
pub fn is_invalid_file(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<InvalidFile>()
            || matches!(
                c.downcast_ref::<leadline_metrics::Error>(),
                Some(
                    leadline_metrics::Error::Register { .. }
                        | leadline_metrics::Error::Postmortems(_)
                        | leadline_metrics::Error::Slos(_)
                        | leadline_metrics::Error::Okrs(_)
                )
            )
    })
}

/// The store's error behind `e`, if a store operation failed (directly or inside the metrics
/// layer's error, which shows it transparently).
pub fn store_error(e: &anyhow::Error) -> Option<&StoreError> {
    e.chain().find_map(|c| {
        c.downcast_ref::<StoreError>().or_else(|| {
            match c.downcast_ref::<leadline_metrics::Error>() {
                Some(leadline_metrics::Error::Store(s)) => Some(s),
                _ => None,
            }
        })
    })
}
