//! The one table style every command prints with.

use comfy_table::Table;
use comfy_table::presets::UTF8_FULL_CONDENSED;

/// An empty table with `header`, in leadline's style.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}
