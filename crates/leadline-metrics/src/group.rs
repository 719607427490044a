//! How a family's numbers are grouped when the query says: by team (configured `[[teams]]`, or
//! CODEOWNERS teams) or by repository.

use serde::Deserialize;

use crate::error::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    Team,
    Repository,
}

impl std::str::FromStr for GroupBy {
    type Err = UsageError;

    fn from_str(s: &str) -> Result<GroupBy, UsageError> {
        match s {
            "team" => Ok(GroupBy::Team),
            "repository" => Ok(GroupBy::Repository),
            other => Err(UsageError(format!(
                "group {other:?}: expected team or repository"
            ))),
        }
    }
}
