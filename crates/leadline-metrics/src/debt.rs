//! The debt family (`leadline debt list`): the register in `debt.toml` as of a day, its
//! portfolio, and its items linked to the hotspots of the ingested repositories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;
use leadline_core::by_hand::HandRules;
use leadline_core::debt::{self, InvalidRegister, Item, Policies, Portfolio};
use leadline_core::health::Hotspot;
use leadline_core::store::Store;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::health;

/// The register's settings, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: PathBuf,
    pub policies: Policies,
    pub capacity_target: Option<f64>,
    pub rules: leadline_core::capacity::Rules,
    /// Which files can be hotspots (`[health] include` / `exclude` over the built-ins): the
    /// register links items to hotspots, and every hotspot list (health, analyze, the API)
    /// reads the rules from here so they agree.
    pub by_hand: Arc<HandRules>,
    /// The postmortems: their overdue action items are reliability debt, listed as candidates.
    pub postmortems: crate::postmortems::Settings,
}

/// The register as read on a day.
pub struct Register {
    pub path: PathBuf,
    pub today: Date,
    /// `None`: there is no register file yet.
    pub text: Option<String>,
    pub items: Vec<Item>,
}

impl Register {
    /// The register at `path` as of `today`; no file is an empty register. An invalid one is
    /// [`Error::Register`], naming its line and field.
    pub fn open(path: &Path, today: Date) -> Result<Register> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(Error::Settings(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let items = parse(path, text.as_deref().unwrap_or(""))?;
        Ok(Register {
            path: path.to_owned(),
            today,
            text,
            items,
        })
    }

    /// The configured register as of today (UTC).
    pub fn today(settings: &Settings) -> Result<Register> {
        let today = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        Register::open(&settings.file, today)
    }
}

/// The items of a register's text, or why it is invalid.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Item>> {
    debt::parse(text).map_err(|source: InvalidRegister| Error::Register {
        path: path.to_owned(),
        source,
    })
}

/// An item with where it stands today and the hotspots it covers.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Listed {
    #[serde(flatten)]
    pub item: Item,
    pub deadline: Option<Date>,
    pub deadline_rule: Option<String>,
    /// Days until the deadline (negative: past it).
    pub days_left: Option<i32>,
    pub hotspots: Vec<Linked>,
}

#[derive(Serialize, Clone, schemars::JsonSchema)]
pub struct Linked {
    pub repository: String,
    pub path: String,
    pub score: u64,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Listing {
    pub register: String,
    pub today: Date,
    pub portfolio: Portfolio,
    pub items: Vec<Listed>,
    /// Top hotspots no open item covers: candidates for the register.
    pub candidates: Vec<Linked>,
    /// Postmortem action items past their due date: reliability debt, candidates too.
    pub reliability_candidates: Vec<crate::postmortems::Tracked>,
}

/// The register as of `today`, linked to `hotspots`.
pub fn listing(
    hotspots: Vec<Linked>,
    register_path: &Path,
    items: Vec<Item>,
    config: &Settings,
    today: Date,
) -> Listing {
    let covered_by = |h: &Linked, i: &Item| i.covers(&h.repository, &h.path);
    let candidates = hotspots
        .iter()
        .filter(|h| !items.iter().any(|i| i.closed.is_none() && covered_by(h, i)))
        .cloned()
        .collect();
    let portfolio = debt::portfolio(&items, &config.policies, today);
    let items = items
        .into_iter()
        .map(|item| {
            let deadline = item.deadline(&config.policies);
            Listed {
                days_left: deadline.as_ref().map(|(d, _)| (*d - today).get_days()),
                deadline: deadline.as_ref().map(|(d, _)| *d),
                deadline_rule: deadline.map(|(_, r)| r),
                hotspots: hotspots
                    .iter()
                    .filter(|h| covered_by(h, &item))
                    .cloned()
                    .collect(),
                item,
            }
        })
        .collect();
    Listing {
        register: register_path.display().to_string(),
        today,
        portfolio,
        items,
        candidates,
        reliability_candidates: Vec::new(),
    }
}

/// The open items of the register that apply to `repository`, linked to its `hotspots`;
/// `None` when there is no register file.
pub fn for_repository(
    repository: &str,
    hotspots: &[Hotspot],
    config: &Settings,
) -> Result<Option<Listing>> {
    let register = Register::today(config)?;
    if register.text.is_none() {
        return Ok(None);
    }
    let items = register
        .items
        .into_iter()
        .filter(|i| i.closed.is_none() && i.repository.as_deref().is_none_or(|r| r == repository))
        .collect();
    let hotspots = hotspots
        .iter()
        .map(|h| Linked {
            repository: repository.to_owned(),
            path: h.path.clone(),
            score: h.score,
        })
        .collect();
    Ok(Some(listing(
        hotspots,
        &register.path,
        items,
        config,
        register.today,
    )))
}

/// The register's portfolio today; `None` when there is no register file.
pub fn portfolio_now(config: &Settings) -> Result<Option<Portfolio>> {
    let register = Register::today(config)?;
    Ok(register
        .text
        .is_some()
        .then(|| debt::portfolio(&register.items, &config.policies, register.today)))
}

/// Per hotspot of `listing`'s repository, the ids of the open items covering it (none: a
/// candidate for the register).
pub fn coverage(listing: &Listing, hotspots: &[Hotspot]) -> BTreeMap<String, Vec<String>> {
    hotspots
        .iter()
        .map(|h| {
            let ids = listing
                .items
                .iter()
                .filter(|i| i.hotspots.iter().any(|l| l.path == h.path))
                .map(|i| i.item.id.clone())
                .collect();
            (h.path.clone(), ids)
        })
        .collect()
}

pub async fn top_hotspots(
    store: &Arc<dyn Store>,
    top: usize,
    config: &Settings,
) -> Result<Vec<Linked>> {
    let query = health::Query::defaults(top, &config.by_hand);
    let mut out = Vec::new();
    for repo in store.repositories().await? {
        let report = health::report(store, &repo, &query).await?;
        out.extend(report.hotspots.into_iter().map(|h| Linked {
            repository: repo.name.clone(),
            path: h.path,
            score: h.score,
        }));
    }
    Ok(out)
}

/// The register's open items linked to the store's top hotspots (an empty register when there
/// is no file). An invalid register is an error naming its line and field.
pub async fn open_listing(
    store: &Arc<dyn Store>,
    config: &Settings,
    top: usize,
) -> Result<Listing> {
    let register = Register::today(config)?;
    linked(Some(store), register, config, top, false).await
}

/// The register linked to the top `top` hotspots of each repository in `store` (none without
/// a store); closed items only with `closed`.
pub async fn linked(
    store: Option<&Arc<dyn Store>>,
    register: Register,
    config: &Settings,
    top: usize,
    closed: bool,
) -> Result<Listing> {
    let hotspots = match store {
        Some(store) => top_hotspots(store, top, config).await?,
        None => Vec::new(),
    };
    let mut l = listing(
        hotspots,
        &register.path,
        register.items,
        config,
        register.today,
    );
    if !closed {
        l.items.retain(|i| i.item.closed.is_none());
    }
    if let Some(store) = store {
        l.reliability_candidates =
            crate::postmortems::overdue(store, &config.postmortems, l.today).await?;
    }
    Ok(l)
}
