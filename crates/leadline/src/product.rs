//! `leadline product`: the product family's reports (computed in leadline-metrics) as a table
//! or JSON.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use leadline_core::store::Store;
use leadline_metrics::product::{Query, compute};

use crate::cli::{ProductArgs, SummaryFormat};
use crate::table::{human, share};

pub async fn run(
    store: &Arc<dyn Store>,
    args: &ProductArgs,
    settings: &crate::config::Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let query = Query {
        since: args.since.clone(),
        until: args.until.clone(),
        by: args.by,
    };
    let reports = compute(store, &query, &settings.product).await?;
    match args.format {
        SummaryFormat::Json => crate::table::write_json(&reports, args.by.is_some(), out)?,
        SummaryFormat::Table => {
            if settings.product.activation.is_empty() && settings.product.feature.is_empty() {
                writeln!(
                    out,
                    "no [[product.activation]] or [[product.feature]] in leadline.toml: only \
                     stickiness is shown"
                )?;
            }
            for r in &reports {
                writeln!(out, "window {} to {}", &r.since[..10], &r.until[..10])?;
                let mut t = crate::table::table(&["metric", "name", "value", "of"]);
                for a in &r.activation {
                    t.add_row(vec![
                        "activation".to_owned(),
                        a.name.clone(),
                        share(a.rate),
                        format!("{} of {} eligible signups", a.activated, a.cohort),
                    ]);
                }
                let time = |s: Option<f64>| s.map_or_else(|| "n/a".to_owned(), human);
                for v in &r.time_to_value {
                    t.add_row(vec![
                        "time to value p50 / p75".to_owned(),
                        v.name.clone(),
                        format!("{} / {}", time(v.p50_seconds), time(v.p75_seconds)),
                        format!("{} of {} signups reached it", v.reached, v.users),
                    ]);
                }
                for f in &r.features {
                    t.add_row(vec![
                        "feature usage".to_owned(),
                        f.name.clone(),
                        share(f.usage),
                        format!("{} of {} active users", f.users, f.active_users),
                    ]);
                }
                let s = &r.stickiness;
                t.add_row(vec![
                    "stickiness (DAU/MAU, last 30 days)".to_owned(),
                    String::new(),
                    share(s.ratio),
                    format!(
                        "{} daily on average of {} monthly",
                        s.dau_avg
                            .map_or_else(|| "n/a".to_owned(), |d| format!("{d:.1}")),
                        s.mau
                    ),
                ]);
                writeln!(out, "{t}")?;
            }
        }
    }
    Ok(())
}
