//! `leadline import deployments|incidents|sli|events|samples FILE`: parse the whole file, refuse it on any bad row,
//! then store it in one transaction. Commits the store does not know are a warning: the file
//! may well be imported before the repository is ingested.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use leadline_core::store::Store;
use leadline_sources::import::{self, Format};

use crate::cli::{ImportArgs, ImportFormat, ImportKind};
use crate::config::Settings;

fn usage(message: &str) -> anyhow::Error {
    leadline_metrics::UsageError(message.to_owned()).into()
}

/// Files larger than this are refused before reading: an import is a list of events, not a
/// dump, and reading it whole must stay cheap.
const MAX_FILE_BYTES: u64 = 256 << 20;

pub async fn run(store: &Arc<dyn Store>, args: &ImportArgs, settings: &Settings) -> Result<()> {
    let label = args.file.display().to_string();
    if (args.instrument.is_some() || args.wave.is_some()) && args.what != ImportKind::Survey {
        return Err(usage("--instrument and --wave apply to `import survey`"));
    }
    let format = match args.format {
        Some(ImportFormat::Csv) => Format::Csv,
        Some(ImportFormat::Json) => Format::Json,
        Some(ImportFormat::Ndjson) => Format::Ndjson,
        None => Format::from_path(&args.file).ok_or_else(|| {
            anyhow!(
                "{label}: cannot tell the format from the file name; pass --format csv|json|ndjson"
            )
        })?,
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {label}"))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(anyhow!(
            "{label}: {size} bytes is more than the {MAX_FILE_BYTES} an import may hold"
        ));
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {label} as UTF-8 text"))?;
    let (what, shas, counts) = match args.what {
        ImportKind::Deployments => {
            let rows = import::deployments(&label, &text, format)?;
            let shas: Vec<String> = rows.iter().map(|d| d.sha.clone()).collect();
            (
                "deployments",
                shas,
                store.upsert_deployments(&args.source, &rows).await?,
            )
        }
        ImportKind::Incidents => {
            let rows = import::incidents(&label, &text, format)?;
            let shas: Vec<String> = rows.iter().filter_map(|i| i.cause_sha.clone()).collect();
            (
                "incidents",
                shas,
                store.upsert_incidents(&args.source, &rows).await?,
            )
        }
        // SLI counts are keyed by SLO, not by source.
        ImportKind::Sli => {
            let rows = import::sli(&label, &text, format)?;
            ("SLI counts", Vec::new(), store.upsert_sli(&rows).await?)
        }
        // Events are keyed by their own ids; users are pseudonymised before anything is
        // stored.
        ImportKind::Events => {
            let parsed = leadline_sources::product::events(&label, &text, format)?;
            if parsed.duplicates > 0 {
                eprintln!(
                    "{label}: {} row(s) repeated an earlier row's id: the same event, kept once",
                    parsed.duplicates
                );
            }
            if parsed.skipped > 0 {
                eprintln!(
                    "{label}: skipped {} call(s) that are not events (identify, page, screen…)",
                    parsed.skipped
                );
            }
            let key = store.pseudonym_key().await?;
            let rows: Vec<_> = parsed
                .events
                .into_iter()
                .map(|raw| leadline_core::product::stored(&key, raw))
                .collect();
            (
                "events",
                Vec::new(),
                store.insert_product_events(&rows).await?,
            )
        }
        ImportKind::Samples => {
            let rows = leadline_sources::product::samples(&label, &text, format)?;
            ("samples", Vec::new(), store.upsert_samples(&rows).await?)
        }
        ImportKind::Survey => {
            if format != Format::Csv {
                return Err(usage("survey responses come as CSV (the forms' export)"));
            }
            let rows = survey_rows(&label, &text, args, settings)?;
            (
                "survey responses",
                Vec::new(),
                store.insert_survey(&rows).await?,
            )
        }
    };
    let unknown = store.unknown_shas(&shas).await?;
    if !unknown.is_empty() {
        tracing::warn!(
            "{label}: {} commit(s) are not in any ingested repository (first: {}); they count once the repository is ingested",
            unknown.len(),
            unknown[0]
        );
    }
    eprintln!(
        "{label}: imported {} {what} ({} new)",
        counts.rows, counts.new
    );
    Ok(())
}

/// The responses of a form's CSV export as stored: the team and the answers, keyed by the
/// file's digest and the line, nothing else.
fn survey_rows(
    label: &str,
    text: &str,
    args: &ImportArgs,
    settings: &Settings,
) -> Result<Vec<leadline_core::store::SurveyRow>> {
    use sha2::{Digest, Sha256};
    let (Some(name), Some(wave)) = (&args.instrument, &args.wave) else {
        return Err(usage(
            "import survey needs --instrument NAME and --wave YYYY-MM",
        ));
    };
    if leadline_metrics::survey::month(wave).is_none() {
        return Err(usage(&format!("--wave {wave:?}: expected YYYY-MM")));
    }
    let instrument = leadline_metrics::survey::instrument(&settings.surveys, name)?;
    let teams: Vec<String> = settings.teams.iter().map(|t| t.name.clone()).collect();
    let known = (!teams.is_empty()).then_some(teams.as_slice());
    let parsed = leadline_sources::survey::responses(label, text, &instrument, known)?;
    let source = format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes())));
    parsed
        .into_iter()
        .map(|p| {
            Ok(leadline_core::store::SurveyRow {
                source: source.clone(),
                row: p.line as i64,
                instrument: instrument.name.clone(),
                wave: wave.clone(),
                team: p.team,
                answers: serde_json::to_string(&p.answers)?,
            })
        })
        .collect()
}
