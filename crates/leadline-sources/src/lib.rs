//! leadline's sources: files and (later) forge APIs and webhooks turned into domain rows. Nothing
//! here touches the store; callers decide what to keep.

pub mod import;
mod records;
