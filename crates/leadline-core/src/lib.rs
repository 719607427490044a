//! leadline's core: domain rows, metric math and the [`Store`](store::Store) trait.
//!
//! Nothing here performs I/O or knows about SQL, HTTP or the command line; metric functions take
//! plain slices of rows and return plain results so that each definition can be tested alone.

pub mod activity;
pub mod ai;
pub mod anomaly;
pub mod by_hand;
pub mod capacity;
pub mod catalog;
pub mod codeowners;
pub mod debt;
pub mod dora;
pub mod erase;
pub mod events;
pub mod flow;
pub mod health;
pub mod incident;
pub mod instant;
pub mod learning;
pub mod model;
pub mod okr;
pub mod planning;
pub mod platform;
pub mod postmortem;
pub mod product;
pub mod pseudonym;
pub mod scorecard;
pub mod slo;
pub mod stats;
pub mod store;
pub mod survey;
pub mod team;
pub mod toml_lines;
pub mod wellbeing;
pub mod yaml;
