//! leadline's sources: files, webhook payloads and (later) forge APIs turned into domain rows. Nothing
//! here touches the store; callers decide what to keep.

pub mod forge;
pub mod import;
pub mod jira;
pub mod notify;
pub mod oncall;
pub mod product;
pub mod prometheus;
/// Instants held to a sane range (in the core: the metrics layer filters stored rows with it too).
pub use leadline_core::instant;
mod records;
pub mod survey;
pub mod webhook;
