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

/// A duration for a reader: minutes under an hour, hours under two days, else days.
pub(crate) fn human(seconds: f64) -> String {
    match seconds {
        s if s.abs() < 3600.0 => format!("{:.0} min", s / 60.0),
        s if s.abs() < 172_800.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} d", s / 86_400.0),
    }
}

/// A share as a percentage; `n/a` without one.
pub(crate) fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A family's reports as JSON: the one report, or the array of a series (`--by`).
pub(crate) fn write_json<T: serde::Serialize>(
    reports: &[T],
    series: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    if series {
        serde_json::to_writer_pretty(&mut *out, reports)?;
    } else if let Some(first) = reports.first() {
        serde_json::to_writer_pretty(&mut *out, first)?;
    }
    writeln!(out)?;
    Ok(())
}
