//! leadline's end-to-end tests: the CLI and the server against real stores (SQLite and
//! PostgreSQL), real git, real headless Chromium, and fakes of the forges. One test binary, as
//! each binary links the whole stack: `cargo test -p leadline --test it [filter]`.

mod common;
#[path = "common/server.rs"]
mod server;
#[path = "common/synth.rs"]
mod synth;

mod ai;
mod analyze;
mod anomalies;
mod capacity;
mod catalog;
mod dashboard;
mod debt;
mod disk_full;
mod dora;
mod errors;
mod fleet;
mod flow;
mod forget;
mod git_crosscheck;
mod github_sync;
mod gitlab_sync;
mod golden;
mod health;
mod import;
mod incidents;
mod ingest;
mod jira;
mod notify;
mod okr;
mod oncall_sync;
mod platform;
mod product;
mod report;
mod scorecard;
mod serve;
mod serve_hardening;
mod slo;
mod store_file;
mod survey;
mod wellbeing;
