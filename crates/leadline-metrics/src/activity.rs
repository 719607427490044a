//! The activity family: a repository's history at a glance, as `leadline analyze` shows it —
//! its span, commits and merges, how many people contributed (a count, never a list), the last
//! 90 days of the history, the busiest areas and twelve weeks of activity.

use std::sync::Arc;

use leadline_core::activity::{ActivitySummary, RECENT_DAYS, summarize};
use leadline_core::model::Repository;
use leadline_core::store::Store;

use crate::error::Result;
use crate::window::DAY_MS;

/// `repo`'s activity summary.
pub async fn report(store: &Arc<dyn Store>, repo: &Repository) -> Result<ActivitySummary> {
    let commits = store.commit_facts(repo.id).await?;
    let last = commits.iter().map(|c| c.committed_at).max().unwrap_or(0);
    let churn = store
        .churn_since(repo.id, last - RECENT_DAYS * DAY_MS)
        .await?;
    Ok(summarize(&commits, &churn))
}
