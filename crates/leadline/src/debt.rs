//! `leadline debt list|add|close|check`: the technical debt register in `debt.toml`, its
//! policies, and its links to the hotspots of the ingested repositories.
//!
//! Exit codes of `check`: 0 nothing is past its deadline, 1 something is (a CI gate), 2 the
//! register cannot be read. Every write validates the whole new register first and replaces
//! the file atomically, so a refused change leaves it as it was.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use comfy_table::{Cell, CellAlignment};
use jiff::civil::Date;
use leadline_core::debt::{self, Breach, Category, Item, Kind};
use leadline_core::store::Store;

use crate::cli::{
    DebtAddArgs, DebtCheckArgs, DebtCloseArgs, DebtFileArgs, DebtListArgs, SummaryFormat,
};
use crate::config::DebtConfig;
use crate::verdict::Verdict;

pub(crate) use leadline_metrics::debt::{
    Listing, Register, coverage, for_repository, linked, open_listing, portfolio_now,
};

/// The register of `--file` (else the configured one) as of `--today` (else today, UTC).
fn open(args: &DebtFileArgs, config: &DebtConfig) -> Result<Register> {
    let path = args.file.clone().unwrap_or_else(|| config.file.clone());
    let today = match &args.today {
        Some(d) => d
            .parse::<Date>()
            .with_context(|| format!("--today {d:?}: expected YYYY-MM-DD"))?,
        None => jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date(),
    };
    Ok(Register::open(&path, today)?)
}

fn parse(path: &Path, text: &str) -> Result<Vec<Item>> {
    Ok(leadline_metrics::debt::parse(path, text)?)
}

/// Validates `text` as a whole register, then replaces the file with it atomically.
fn write(path: &Path, text: &str) -> Result<Vec<Item>> {
    let items = parse(path, text)?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write next to {}", path.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(items)
}

pub fn check(args: &DebtCheckArgs, config: &DebtConfig, out: &mut dyn Write) -> Result<()> {
    let register = open(&args.register, config)?;
    let breaches = debt::breaches(&register.items, &config.policies, register.today);
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &breaches)?;
            writeln!(out)?;
        }
        SummaryFormat::Table if breaches.is_empty() => {
            let open = register.items.iter().filter(|i| i.closed.is_none()).count();
            writeln!(
                out,
                "{}: {open} open item(s), none past its deadline on {}",
                register.path.display(),
                register.today
            )?;
        }
        SummaryFormat::Table => print_breaches(&breaches, out)?,
    }
    if breaches.is_empty() {
        Ok(())
    } else {
        Err(Verdict::DebtBreached(breaches.len()).into())
    }
}

fn print_breaches(breaches: &[Breach], out: &mut dyn Write) -> Result<()> {
    let mut t = crate::table::table(&[
        "past deadline",
        "title",
        "kind",
        "owner",
        "deadline",
        "days over",
        "rule",
    ]);
    for b in breaches {
        t.add_row(vec![
            Cell::new(&b.id),
            Cell::new(&b.title),
            Cell::new(b.kind.as_str()),
            Cell::new(&b.owner),
            Cell::new(b.deadline),
            Cell::new(b.days_over).set_alignment(CellAlignment::Right),
            Cell::new(&b.rule),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

pub fn add(args: &DebtAddArgs, config: &DebtConfig, out: &mut dyn Write) -> Result<()> {
    let register = open(&args.register, config)?;
    let id = match &args.id {
        Some(id) => id.clone(),
        None => next_id(&register.items),
    };
    let Some(category) = Category::parse(&args.category) else {
        bail!(
            "--category {:?}: expected strategic, tactical or accidental",
            args.category
        );
    };
    let Some(kind) = Kind::parse(&args.kind) else {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        bail!(
            "--kind {:?}: expected one of {}",
            args.kind,
            known.join(", ")
        );
    };
    let mut table = toml_edit::Table::new();
    let mut set = |key: &str, value: toml_edit::Value| {
        table.insert(key, toml_edit::Item::Value(value));
    };
    set("id", id.as_str().into());
    set("title", args.title.as_str().into());
    let mut area = toml_edit::Array::new();
    area.extend(args.area.iter().map(String::as_str));
    set("area", area.into());
    if let Some(r) = &args.repository {
        set("repository", r.as_str().into());
    }
    set("category", category.as_str().into());
    set("kind", kind.as_str().into());
    set("owner", args.owner.as_str().into());
    for (key, hours) in [
        ("cost_hours", args.cost_hours),
        ("interest_hours_per_month", args.interest_hours_per_month),
    ] {
        if let Some(h) = hours {
            set(key, h.into());
        }
    }
    for (key, text) in [("interest", &args.interest), ("rationale", &args.rationale)] {
        if let Some(t) = text {
            set(key, t.as_str().into());
        }
    }
    set("created", date_value(register.today)?);
    if let Some(due) = &args.due {
        let due: Date = due
            .parse()
            .with_context(|| format!("--due {due:?}: expected YYYY-MM-DD"))?;
        set("due", date_value(due)?);
    }
    let mut doc = document(&register)?;
    doc.entry("item")
        .or_insert(toml_edit::Item::ArrayOfTables(Default::default()))
        .as_array_of_tables_mut()
        .context("`item` in the register is not an array of tables")?
        .push(table);
    write(&register.path, &doc.to_string())?;
    writeln!(out, "{id}")?;
    eprintln!("added {id} to {}", register.path.display());
    Ok(())
}

pub fn close(args: &DebtCloseArgs, config: &DebtConfig) -> Result<()> {
    let register = open(&args.register, config)?;
    let Some(item) = register.items.iter().find(|i| i.id == args.id) else {
        bail!("{}: no item {:?}", register.path.display(), args.id);
    };
    if let Some(closed) = item.closed {
        bail!("{} was already closed on {closed}", args.id);
    }
    let mut doc = document(&register)?;
    let tables = doc
        .get_mut("item")
        .and_then(|i| i.as_array_of_tables_mut())
        .context("`item` in the register is not an array of tables")?;
    let table = tables
        .iter_mut()
        .find(|t| t.get("id").and_then(|v| v.as_str()).map(str::trim) == Some(args.id.as_str()))
        .context("the item vanished while editing")?;
    table.insert(
        "closed",
        toml_edit::Item::Value(date_value(register.today)?),
    );
    write(&register.path, &doc.to_string())?;
    eprintln!("closed {} on {}", args.id, register.today);
    Ok(())
}

fn document(register: &Register) -> Result<toml_edit::DocumentMut> {
    register
        .text
        .as_deref()
        .unwrap_or("")
        .parse()
        .with_context(|| format!("cannot edit {}", register.path.display()))
}

/// A TOML date; TOML has no years before 1.
fn date_value(d: Date) -> Result<toml_edit::Value> {
    let year = u16::try_from(d.year())
        .ok()
        .filter(|y| *y >= 1)
        .with_context(|| format!("{d}: TOML dates start at year 1"))?;
    Ok(toml_edit::Value::from(toml_edit::Datetime {
        date: Some(toml_edit::Date {
            year,
            month: d.month() as u8,
            day: d.day() as u8,
        }),
        time: None,
        offset: None,
    }))
}

/// `D-<n>` after the highest such number in use.
fn next_id(items: &[Item]) -> String {
    let n = items
        .iter()
        .filter_map(|i| i.id.strip_prefix("D-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("D-{}", n + 1)
}

/// What `analyze` shows: the portfolio, items past their deadline and candidates.
pub(crate) fn print_summary(l: &Listing, out: &mut dyn Write) -> Result<()> {
    let overdue: Vec<Breach> = l
        .items
        .iter()
        .filter(|i| i.days_left.is_some_and(|d| d < 0))
        .map(|i| Breach {
            id: i.item.id.clone(),
            title: i.item.title.clone(),
            kind: i.item.kind,
            owner: i.item.owner.clone(),
            deadline: i.deadline.unwrap_or(l.today),
            days_over: -i.days_left.unwrap_or(0),
            rule: i.deadline_rule.clone().unwrap_or_default(),
        })
        .collect();
    let summary = Listing {
        register: l.register.clone(),
        today: l.today,
        portfolio: l.portfolio.clone(),
        items: Vec::new(),
        candidates: l.candidates.clone(),
        reliability_candidates: l.reliability_candidates.clone(),
    };
    print_listing(&summary, out)?;
    if !overdue.is_empty() {
        print_breaches(&overdue, out)?;
    }
    Ok(())
}

pub async fn list(
    store: Option<&Arc<dyn Store>>,
    args: &DebtListArgs,
    config: &DebtConfig,
    out: &mut dyn Write,
) -> Result<()> {
    let register = open(&args.register, config)?;
    if register.text.is_none() {
        eprintln!(
            "no debt register at {}: add an item with `leadline debt add`",
            register.path.display()
        );
    }
    let listing = linked(store, register, config, args.top, args.all).await?;
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &listing)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => print_listing(&listing, out)?,
    }
    Ok(())
}

fn print_listing(l: &Listing, out: &mut dyn Write) -> Result<()> {
    let p = &l.portfolio;
    writeln!(
        out,
        "{}: {} open ({} past deadline), {} closed; open cost {:.0} h, interest {:.0} h/month",
        l.register, p.open, p.overdue, p.closed, p.cost_hours, p.interest_hours_per_month
    )?;
    if !l.items.is_empty() {
        let mut t = crate::table::table(&[
            "id",
            "title",
            "category",
            "kind",
            "owner",
            "cost h",
            "interest h/month",
            "deadline",
            "days left",
            "hotspots covered",
        ]);
        for i in &l.items {
            let it = &i.item;
            t.add_row(vec![
                Cell::new(&it.id),
                Cell::new(&it.title),
                Cell::new(it.category.as_str()),
                Cell::new(it.kind.as_str()),
                Cell::new(&it.owner),
                hours(it.cost_hours),
                hours(it.interest_hours_per_month),
                Cell::new(match (it.closed, i.deadline) {
                    (Some(c), _) => format!("closed {c}"),
                    (None, Some(d)) => d.to_string(),
                    (None, None) => String::new(),
                }),
                Cell::new(match (it.closed, i.days_left) {
                    (None, Some(d)) => d.to_string(),
                    _ => String::new(),
                })
                .set_alignment(CellAlignment::Right),
                Cell::new(
                    i.hotspots
                        .iter()
                        .map(|h| h.path.as_str())
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    if !l.candidates.is_empty() {
        let mut t = crate::table::table(&["hotspot with no debt item", "repository", "score"]);
        for c in &l.candidates {
            t.add_row(vec![
                Cell::new(&c.path),
                Cell::new(&c.repository),
                Cell::new(c.score).set_alignment(CellAlignment::Right),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    if !l.reliability_candidates.is_empty() {
        let mut t = crate::table::table(&[
            "overdue postmortem action",
            "title",
            "owner",
            "priority",
            "due",
        ]);
        for a in &l.reliability_candidates {
            t.add_row(vec![
                Cell::new(&a.reference),
                Cell::new(&a.title),
                Cell::new(a.owner.as_deref().unwrap_or("")),
                Cell::new(a.priority.as_str()),
                Cell::new(a.due.map(|d| d.to_string()).unwrap_or_default()),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

fn hours(h: Option<f64>) -> Cell {
    Cell::new(h.map(|h| format!("{h:.0}")).unwrap_or_default()).set_alignment(CellAlignment::Right)
}
