//! leadline's sources: files, webhook payloads and (later) forge APIs turned into domain rows. Nothing
//! here touches the store; callers decide what to keep.

pub mod forge;
pub mod import;
pub mod instant;
mod records;
pub mod webhook;
