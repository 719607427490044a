//! The metrics layer's errors: what the caller can fix (a usage error: exit 2 on the command
//! line, 400 from the API) apart from what went wrong underneath.

use leadline_core::store::StoreError;

/// A request the caller can fix: a bad time, an empty window, too many periods, an option a
/// family does not take, an unknown metric.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A setting that cannot be used (an invalid pattern): the configuration's to fix.
    #[error("{0}")]
    Settings(String),
    /// A report that would not serialise (a bug, not an input).
    #[error("cannot serialise a report: {0}")]
    Serialise(#[from] serde_json::Error),
    /// Postmortem files that do not validate: each problem names its file, line and field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Postmortems(Vec<leadline_core::postmortem::Problem>),
    /// SLO files that do not validate: each problem names its file, line and field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Slos(Vec<leadline_core::yaml::Problem>),
    /// The OKRs file does not validate: each problem names its file, line and field.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Okrs(Vec<crate::okrs::Problem>),
    /// The debt register cannot be read: its line and field are in the source.
    #[error("{}", path.display())]
    Register {
        path: std::path::PathBuf,
        source: leadline_core::debt::InvalidRegister,
    },
}

impl Error {
    /// Whether the caller can fix it by asking differently.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
