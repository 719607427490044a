//! The product family (`leadline product`): activation, time to value, feature usage and
//! stickiness from product analytics events, by the definitions of docs/metrics.md ("Product
//! metrics"), for the `[[product.activation]]` and `[[product.feature]]` of leadline.toml.

use std::sync::Arc;

use leadline_core::dora::Window;
use leadline_core::product::{
    Activation, ActivationResult, Feature, FeatureUsage, Index, Stickiness, TimeToValue,
};
use leadline_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::window::{By, DAY_MS, MAX_PERIODS, buckets, resolve, utc};

/// The default window: the 90 days before the UTC midnight after the newest event.
const DEFAULT_DAYS: i64 = 90;

/// The product metrics defined in leadline.toml.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub activation: Vec<Activation>,
    pub feature: Vec<Feature>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Query {
    pub since: Option<String>,
    pub until: Option<String>,
    /// A series, one report per calendar week or month.
    pub by: Option<By>,
}

/// One window's report, as `leadline product --format json` and `GET /api/v1/product` give it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub since: String,
    pub until: String,
    pub activation: Vec<ActivationResult>,
    /// For each activation with a `value` event.
    pub time_to_value: Vec<TimeToValue>,
    pub features: Vec<FeatureUsage>,
    pub stickiness: Stickiness,
}

/// The reports `q` asks for: one, or one per period with `by`.
pub async fn compute(
    store: &Arc<dyn Store>,
    q: &Query,
    settings: &Settings,
) -> Result<Vec<Report>> {
    let newest = store.newest_product_event().await?;
    let window = resolve(q.since.as_deref(), q.until.as_deref(), newest, |until| {
        Ok(until - DEFAULT_DAYS * DAY_MS)
    })?;
    let windows = match q.by {
        None => vec![window],
        Some(by) => buckets(window, by, MAX_PERIODS)?,
    };
    // Every event counts that a definition may reach: signups before the window decide who
    // is in its cohort, and an activation's last instant may be the window's end itself.
    let events = store.product_events(window.until + 1).await?;
    let index = Index::new(&events);
    Ok(windows
        .into_iter()
        .map(|w| report(&index, settings, w))
        .collect())
}

fn report(index: &Index<'_>, settings: &Settings, w: Window) -> Report {
    Report {
        since: utc(w.since),
        until: utc(w.until),
        activation: settings
            .activation
            .iter()
            .map(|a| index.activation(a, w.since, w.until))
            .collect(),
        time_to_value: settings
            .activation
            .iter()
            .filter(|a| !a.value.is_empty())
            .map(|a| index.time_to_value(a, w.since, w.until))
            .collect(),
        features: settings
            .feature
            .iter()
            .map(|f| index.feature(f, w.since, w.until))
            .collect(),
        stickiness: index.stickiness(w.since, w.until),
    }
}
