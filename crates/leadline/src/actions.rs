//! `leadline actions`: postmortem action items with their state, due date and the evidence
//! that did them; `actions check` fails a pipeline while a P0 or P1 item is past due.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use jiff::civil::Date;
use leadline_core::postmortem::{ActionState, Priority};
use leadline_core::store::Store;
use leadline_metrics::postmortems::{self, Settings, Tracked};
use serde::Serialize;

use crate::cli::{ActionsArgs, ActionsCommand, ActionsWhen, DoraFormat};
use crate::verdict::Verdict;

/// An item as listed: with whether it is overdue on the day asked about.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    item: &'a Tracked,
    overdue: bool,
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &ActionsArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    match &args.command {
        Some(ActionsCommand::Check(when)) => check(store, when, settings, out).await,
        None => list(store, args, settings, out).await,
    }
}

/// The folder asked for (else the configured one), its items, and the day to judge them on.
async fn tracked(
    store: &Arc<dyn Store>,
    when: &ActionsWhen,
    settings: &Settings,
) -> Result<(Vec<Tracked>, Date)> {
    let settings = Settings {
        dir: when.dir.clone().unwrap_or_else(|| settings.dir.clone()),
        ..settings.clone()
    };
    let today = match &when.today {
        Some(d) => d
            .parse::<Date>()
            .with_context(|| format!("--today {d:?}: expected YYYY-MM-DD"))?,
        None => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
    };
    let found = postmortems::load(&settings)?;
    let evidence = postmortems::evidence(store).await?;
    Ok((
        postmortems::track(&found, &evidence, &settings.policies),
        today,
    ))
}

async fn list(
    store: &Arc<dyn Store>,
    args: &ActionsArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let (items, today) = tracked(store, &args.when, settings).await?;
    let items: Vec<Tracked> = items
        .into_iter()
        .filter(|a| !args.overdue || a.overdue_on(today))
        .collect();
    match args.format {
        DoraFormat::Json => {
            let listed: Vec<Listed<'_>> = items
                .iter()
                .map(|item| Listed {
                    item,
                    overdue: item.overdue_on(today),
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &listed)?;
            writeln!(out)?;
        }
        DoraFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record([
                "reference",
                "title",
                "owner",
                "priority",
                "due",
                "state",
                "done",
                "on_time",
                "overdue",
                "evidence",
            ])?;
            for a in &items {
                crate::csv_cell::write(&mut w, row(a, today))?;
            }
            w.flush()?;
        }
        DoraFormat::Table if items.is_empty() => writeln!(
            out,
            "no action items{} in {}",
            if args.overdue { " past due" } else { "" },
            args.when.dir.as_deref().unwrap_or(&settings.dir).display()
        )?,
        DoraFormat::Table => print_table_on(&items, today, out)?,
    }
    Ok(())
}

async fn check(
    store: &Arc<dyn Store>,
    when: &ActionsWhen,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let (items, today) = tracked(store, when, settings).await?;
    let late: Vec<Tracked> = items
        .iter()
        .filter(|a| matches!(a.priority, Priority::P0 | Priority::P1) && a.overdue_on(today))
        .cloned()
        .collect();
    if late.is_empty() {
        let open = items
            .iter()
            .filter(|a| a.state == ActionState::Open)
            .count();
        writeln!(
            out,
            "{open} open action item(s), no P0 or P1 past its due date on {today}"
        )?;
        return Ok(());
    }
    print_table_on(&late, today, out)?;
    Err(Verdict::ActionsOverdue(late.len()).into())
}

fn row(a: &Tracked, today: Date) -> [String; 10] {
    let date = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    [
        a.reference.clone(),
        a.title.clone(),
        a.owner.clone().unwrap_or_default(),
        a.priority.as_str().to_owned(),
        date(a.due),
        match a.state {
            ActionState::Open => "open".to_owned(),
            ActionState::Done => "done".to_owned(),
        },
        date(a.done),
        a.on_time.to_string(),
        a.overdue_on(today).to_string(),
        a.evidence
            .as_ref()
            .map(|e| format!("{} {}", e.kind.replace('_', " "), e.reference))
            .unwrap_or_default(),
    ]
}

/// The items as a table, overdue judged on `today`.
fn print_table_on(items: &[Tracked], today: Date, out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[
        "action", "title", "owner", "priority", "due", "state", "done", "on time", "overdue",
        "evidence",
    ]);
    for a in items {
        t.add_row(row(a, today).to_vec());
    }
    writeln!(out, "{t}")?;
    Ok(())
}

/// The items behind an incidents report (`--explain`): overdue as of their report's end is
/// in the report's counts, so it is not repeated here.
pub fn print_table(items: &[Tracked], out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[
        "action", "title", "owner", "priority", "due", "state", "done", "evidence",
    ]);
    for a in items {
        let [
            reference,
            title,
            owner,
            priority,
            due,
            state,
            done,
            _,
            _,
            evidence,
        ] = row(a, Date::MAX);
        t.add_row(vec![
            reference, title, owner, priority, due, state, done, evidence,
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}
