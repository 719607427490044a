//! The metrics layer between leadline's core and its front-ends (see docs/architecture.md).
//!
//! Every scalar leadline reports has a name: its family followed by the JSON path of the
//! scalar in that family's report (`dora.lead_time.median_seconds` is the field
//! `lead_time.median_seconds` of `leadline dora --format json`), so a name and its report never
//! drift. The [`catalog`] lists them with unit, direction and definition; [`reading`] takes a
//! named scalar out of a family's report, or a series out of a family's reports by period. The
//! command line (`leadline metrics list`, `leadline metric NAME`) and the API
//! (`GET /api/v1/metrics`, `GET /api/v1/metric/{name}`) are thin doors onto this, and it is
//! the one door through which OKRs, anomaly detection, scorecards and the stakeholder report
//! read metrics. This crate knows no command-line parser and no web framework.

pub mod activity;
pub mod ai;
pub mod anomalies;
pub mod capacity;
pub mod catalog;
pub mod debt;
pub mod dora;
pub mod error;
pub mod flow;
pub mod group;
pub mod health;
pub mod history;
pub mod incidents;
pub mod learning;
pub mod okrs;
pub mod planning;
pub mod postmortems;
pub mod product;
pub mod reading;
pub mod samples;
pub mod schema;
pub mod scope;
pub mod slo;
pub mod survey;
pub mod wellbeing;
pub mod window;

pub use catalog::{Better, CATALOG, Family, Metric, Unit};
pub use error::{Error, Result, UsageError};
pub use reading::{Point, Reading, UnknownMetric};
