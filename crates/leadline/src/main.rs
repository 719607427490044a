//! The `leadline` binary: parses arguments, resolves settings, connects the store and hands
//! each command to the library crates. Errors print to stderr with their causes and exit 1;
//! data goes to stdout.

mod actions;
mod ai;
mod analyze;
mod anomalies;
mod capacity;
mod catalog;
mod cli;
mod config;
mod csv_cell;
mod debt;
mod delivery;
mod dora;
mod dora_table;
mod export;
mod failure;
mod fleet;
mod flow;
mod forge;
mod health;
mod import;
mod incidents;
mod ingest;
mod jira;
mod metric;
mod notify;
mod okr;
mod oncall;
mod planning;
mod platform;
mod postmortem;
mod product;
mod report;
mod scorecard;
mod slo;
mod survey;
mod table;
mod time;
mod verdict;
mod web;
mod wellbeing;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use leadline_core::store::Store;
use leadline_store::{Location, SqlStore};

use crate::cli::{
    Cli, Command, DebtCommand, IngestCommand, MetricsCommand, PostmortemCommand, TokenCommand,
    TokenScope,
};
use crate::config::{Settings, Verbosity};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::resolve(&cli.global) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    init_logging(settings.verbosity, matches!(cli.command, Command::Serve(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    let result = runtime.block_on(run(cli.command, &settings));
    if settings.verbosity >= Verbosity::Verbose
        && let Some(kib) = peak_memory_kib()
    {
        eprintln!("peak memory {} MiB", kib / 1024);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if export::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// Exit 1 for failures, 2 for a request the caller can fix (a bad option, an unknown metric)
/// or a register or postmortem that cannot be read, and what the CI gates (`debt check`,
/// `actions check`, `postmortem check --strict`) decide for their verdicts.
fn fail(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    if let Some(exit) = e.downcast_ref::<verdict::Verdict>() {
        return ExitCode::from(exit.code());
    }
    match failure::is_usage(e) || failure::is_invalid_file(e) {
        true => ExitCode::from(2),
        false => ExitCode::FAILURE,
    }
}

/// Logs go to stderr. A server logs each request (at info) with timestamps; other commands
/// print warnings only, unless asked for more.
fn init_logging(verbosity: Verbosity, serving: bool) {
    let level = match (verbosity, serving) {
        (Verbosity::Quiet, _) => "error",
        (Verbosity::Normal, false) => "warn",
        (Verbosity::Normal, true) | (Verbosity::Verbose, _) => "info",
        (Verbosity::Debug, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEADLINE_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "leadline={level},leadline_core={level},tower_http={level}"
        ))
    });
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false);
    // LEADLINE_LOG_FORMAT=json: one JSON object per line, for log collectors.
    match (std::env::var("LEADLINE_LOG_FORMAT").as_deref(), serving) {
        (Ok("json"), _) => logs.json().init(),
        (_, true) => logs.init(),
        (_, false) => logs.without_time().init(),
    }
}

/// The process's peak resident memory (Linux), for the benchmark and `-v`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn open_store(location: &Location) -> Result<Arc<dyn Store>> {
    let shown = match location {
        Location::Sqlite(p) => p.display().to_string(),
        Location::Postgres(_) => "the PostgreSQL store".to_owned(),
    };
    let store = SqlStore::open(location)
        .await
        .with_context(|| format!("cannot open {shown}"))?;
    Ok(Arc::new(store))
}

async fn run(command: Command, settings: &Settings) -> Result<()> {
    let command = match command {
        Command::Debt(command) => return run_debt(command, settings).await,
        // The catalog needs no store (and creates none).
        Command::Metrics(MetricsCommand::List(args)) => {
            return metric::list(args.format, &mut std::io::stdout().lock());
        }
        Command::Metrics(MetricsCommand::Schema(args)) => {
            return metric::schema(&args.family, &mut std::io::stdout().lock());
        }
        other => other,
    };
    let store = open_store(&settings.db).await?;
    let merged;
    let settings = if settings.catalog.teams || settings.catalog.services {
        merged = with_catalog(&store, settings).await?;
        &merged
    } else {
        settings
    };
    let writes = matches!(
        command,
        Command::Ingest(_) | Command::Import(_) | Command::Analyze(_) | Command::Replay(_)
    );
    let result = run_on(&store, command, settings).await;
    // Servers sharing a PostgreSQL store drop what they cached at once (else within 30 s).
    if writes
        && result.is_ok()
        && let Err(e) = store.announce_change().await
    {
        tracing::warn!("stored, but cannot tell the servers sharing the store: {e}");
    }
    // The store is closed whatever happened, so that SQLite's file alone holds every row.
    let closed = store.close().await.context(
        "cannot close the store cleanly (nothing is lost: SQLite replays its log on the next open)",
    );
    result.and(closed)
}

/// `leadline learning`: the learning family's report as a table or JSON.
async fn learning(
    store: &Arc<dyn Store>,
    args: &cli::LearningArgs,
    settings: &Settings,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let query = leadline_metrics::learning::Query {
        repo: args.repo.clone(),
        since: args.since.clone(),
        until: args.until.clone(),
    };
    let report =
        leadline_metrics::learning::compute(store, &query, settings.wellbeing.min_group_size)
            .await?;
    if args.format == cli::SummaryFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "window {} to {}: {} areas, knowledge spread {}",
        &report.since[..10],
        &report.until[..10],
        report.areas.len(),
        table::share(report.knowledge_spread)
    )?;
    let mut t = table::table(&[
        "quarter",
        "areas",
        "spread",
        "active",
        "new to an area",
        "mobility",
    ]);
    let count = |v: Option<usize>| v.map_or_else(|| "hidden".to_owned(), |n| n.to_string());
    for q in &report.quarters {
        t.add_row(vec![
            q.quarter.clone(),
            q.areas.to_string(),
            table::share(q.knowledge_spread),
            count(q.active_people),
            count(q.mobile_people),
            table::share(q.mobility),
        ]);
    }
    writeln!(out, "{t}")?;
    let mut lone: Vec<&leadline_metrics::learning::Area> =
        report.areas.iter().filter(|a| a.bus_factor == 1).collect();
    lone.truncate(20);
    if !lone.is_empty() {
        writeln!(
            out,
            "areas where one person made half the changes (bus factor 1):"
        )?;
        for a in lone {
            writeln!(out, "  {}", a.area)?;
        }
    }
    Ok(())
}

/// `settings` with the catalog's Groups as teams (`[catalog] teams`) and its Components'
/// other names as service aliases (`[catalog] services`).
async fn with_catalog(store: &Arc<dyn Store>, settings: &Settings) -> Result<Settings> {
    let catalog = catalog::load(store, &settings.catalog).await?;
    let mut out = settings.clone();
    if settings.catalog.teams {
        let (teams, conflicts) = catalog::merge_teams(&settings.teams, &catalog);
        for c in conflicts {
            tracing::warn!("{c}");
        }
        out.teams = teams;
    }
    if settings.catalog.services {
        out.dora.aliases = catalog::service_aliases(&catalog);
    }
    Ok(out)
}

async fn run_on(store: &Arc<dyn Store>, command: Command, settings: &Settings) -> Result<()> {
    let store = store.clone();
    let chatty = settings.verbosity >= Verbosity::Normal;
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Ingest(IngestCommand::Git(args)) => {
            if args.name.is_some() && args.paths.len() > 1 {
                bail!("--name applies to one repository; give one PATH");
            }
            for path in &args.paths {
                let report =
                    ingest::ingest_git(&store, path, args.name.as_deref(), &settings.mine, chatty)
                        .await?;
                if chatty {
                    eprintln!("{}", report.summary());
                }
            }
        }
        Command::Ingest(IngestCommand::Github(args)) => {
            forge::run(&store, &args, &settings.server, chatty).await?;
        }
        Command::Ingest(IngestCommand::Gitlab(args)) => {
            forge::run_gitlab(&store, &args, &settings.server, chatty).await?;
        }
        Command::Ingest(IngestCommand::Jira(args)) => {
            jira::run(&store, &args, settings, chatty).await?;
        }
        Command::Ingest(IngestCommand::Pagerduty(args)) => {
            oncall::pagerduty(&store, &args, chatty).await?;
        }
        Command::Ingest(IngestCommand::Opsgenie(args)) => {
            oncall::opsgenie(&store, &args, chatty).await?;
        }
        Command::Analyze(args) => {
            let mut summaries = Vec::new();
            for path in &args.paths {
                let report = ingest::ingest_git(&store, path, None, &settings.mine, chatty).await?;
                if chatty {
                    eprintln!("{}", report.summary());
                }
                summaries.push(
                    analyze::summary(
                        &store,
                        &report.repo,
                        report.shallow,
                        &settings.debt,
                        &settings.teams,
                    )
                    .await?,
                );
            }
            analyze::report(&store, summaries, args.format, &settings.dora, &mut stdout).await?;
        }
        Command::Import(args) => import::run(&store, &args, settings).await?,
        Command::Dora(args) => dora::run(&store, &args, &settings.dora, &mut stdout).await?,
        Command::Flow(args) => {
            flow::run(
                &store,
                &args,
                &settings.flow,
                &settings.teams,
                &settings.dora,
                &mut stdout,
            )
            .await?
        }
        Command::Health(args) => {
            health::run(&store, &args, &settings.teams, &settings.debt, &mut stdout).await?
        }
        Command::Incidents(args) => {
            incidents::run(&store, &args, &settings.debt.postmortems, &mut stdout).await?
        }
        Command::Postmortem(PostmortemCommand::New(args)) => {
            let pm = &settings.debt.postmortems;
            postmortem::new(&store, &args, pm, &settings.dora, &mut stdout).await?
        }
        Command::Postmortem(PostmortemCommand::Check(args)) => {
            postmortem::check(&store, &args, &settings.debt.postmortems, &mut stdout).await?
        }
        Command::Ai(args) => ai::run(&store, &args, settings, &mut stdout).await?,
        Command::Learning(args) => learning(&store, &args, settings, &mut stdout).await?,
        Command::Wellbeing(args) => wellbeing::run(&store, &args, settings, &mut stdout).await?,
        Command::Scorecard(args) => scorecard::run(&store, &args, settings, &mut stdout).await?,
        Command::Platform(command) => {
            platform::run(&store, &command, settings, &mut stdout).await?
        }
        Command::Catalog(args) => {
            catalog::run(&store, &args, &settings.catalog, &mut stdout).await?
        }
        Command::Okr(command) => okr::run(&store, &command, settings, &mut stdout).await?,
        Command::Product(args) => product::run(&store, &args, settings, &mut stdout).await?,
        Command::Anomalies(args) => anomalies::run(&store, &args, settings, &mut stdout).await?,
        Command::Notify(command) => notify::run(&store, &command, settings, &mut stdout).await?,
        Command::Slo(command) => {
            slo::run(&store, &command, &settings.slo, &settings.dora, &mut stdout).await?
        }
        Command::Actions(args) => {
            actions::run(&store, &args, &settings.debt.postmortems, &mut stdout).await?
        }
        Command::Debt(_) => unreachable!("debt commands run before the store opens"),
        Command::Metrics(_) => unreachable!("the catalog is listed before the store opens"),
        Command::Metric(args) => {
            let slo_reader = slo::reader(&store, &settings.slo)?;
            let levels = scorecard::Levels {
                store: store.clone(),
                settings: Arc::new(settings.clone()),
            };
            let mut ctx = settings.ctx(&store, &slo_reader);
            ctx.scorecards = Some(&levels);
            metric::run(&ctx, &args, &mut stdout).await?
        }
        Command::Serve(args) => {
            drop(stdout);
            let addr = args.addr.unwrap_or_else(|| settings.server.addr.clone());
            notify::spawn(store.clone(), Arc::new(settings.clone()));
            web::serve(store, settings, &addr).await?;
        }
        Command::Planning(args) => {
            planning::run(&store, &args, &settings.dora, &mut stdout).await?
        }
        Command::Survey(args) => survey::run(&store, &args, settings, &mut stdout).await?,
        Command::Report(args) => report::run(&store, &args, settings).await?,
        Command::Fleet(command) => fleet::run(&store, &command, settings, &mut stdout).await?,
        Command::Worker(args) => {
            drop(stdout);
            fleet::worker(&store, &args, settings).await?;
        }
        Command::Token(command) => token(&store, command, &mut stdout).await?,
        Command::Replay(args) => delivery::replay(&store, &args, &settings.server).await?,
        Command::Forget(args) => forget(&store, &args).await?,
        Command::Backup(args) => {
            store
                .backup(&args.file)
                .await
                .with_context(|| format!("cannot back up to {}", args.file.display()))?;
            if chatty {
                eprintln!("backed up the store to {}", args.file.display());
            }
        }
        Command::Export(args) => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut stdout);
            export::run(&store, &args, &mut out).await?;
            out.flush()?;
        }
    }
    Ok(())
}

/// `leadline debt …`: the register needs no store, and `list` reads one only if it exists, so
/// a CI gate never creates a store in the repository it checks.
async fn run_debt(command: DebtCommand, settings: &Settings) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match command {
        DebtCommand::Check(args) => debt::check(&args, &settings.debt, &mut stdout),
        DebtCommand::Add(args) => debt::add(&args, &settings.debt, &mut stdout),
        DebtCommand::Close(args) => debt::close(&args, &settings.debt),
        DebtCommand::Capacity(args) => {
            let store = open_store(&settings.db).await?;
            capacity::run(
                &store,
                &args,
                &settings.debt,
                &settings.flow,
                &settings.teams,
                &mut stdout,
            )
            .await
        }
        DebtCommand::List(args) => {
            let exists = match &settings.db {
                Location::Sqlite(path) => path.exists(),
                Location::Postgres(_) => true,
            };
            let store = match exists {
                true => Some(open_store(&settings.db).await?),
                false => None,
            };
            debt::list(store.as_ref(), &args, &settings.debt, &mut stdout).await
        }
    }
}

/// `leadline token create|list|revoke`. A created token is printed once, alone on stdout.
async fn token(store: &Arc<dyn Store>, command: TokenCommand, out: &mut dyn Write) -> Result<()> {
    use leadline_core::events::{ApiToken, Scope};
    match command {
        TokenCommand::Create { name, scope } => {
            if name.trim().is_empty() {
                bail!("--name must not be empty");
            }
            let (token, hash) = web::new_token();
            store
                .create_token(&ApiToken {
                    name: name.clone(),
                    scope: match scope {
                        TokenScope::Read => Scope::Read,
                        TokenScope::Write => Scope::Write,
                        TokenScope::Admin => Scope::Admin,
                    },
                    hash,
                    created_at: jiff::Timestamp::now().as_millisecond(),
                })
                .await?;
            writeln!(out, "{token}")?;
            eprintln!("created token {name:?}; it is shown only now, store it safely");
        }
        TokenCommand::List => {
            let tokens = store.tokens().await?;
            if tokens.is_empty() {
                eprintln!(
                    "no tokens; create one with `leadline token create --name NAME --scope read`"
                );
            }
            for t in tokens {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    t.name,
                    t.scope.as_str(),
                    time::rfc3339(t.created_at, 0)
                )?;
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(&name).await? {
                bail!("no token named {name:?}");
            }
            eprintln!("revoked token {name:?}");
        }
    }
    Ok(())
}

/// `leadline forget EMAIL [--login LOGIN]...`.
async fn forget(store: &Arc<dyn Store>, args: &cli::ForgetArgs) -> Result<()> {
    use rand::RngCore;
    if !args.email.contains('@') {
        bail!("{:?} is not an email address", args.email);
    }
    let mut id = [0u8; 4];
    rand::rng().fill_bytes(&mut id);
    let who = leadline_core::store::Forget {
        email: args.email.clone(),
        logins: args.logins.clone(),
        replacement: format!("forgotten-{}", hex::encode(id)),
    };
    let done = store.forget(&who).await?;
    let rows: Vec<String> = done
        .tables
        .iter()
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    eprintln!(
        "forgotten: rows rewritten per table: {}; they now say {}",
        if rows.is_empty() {
            "none".to_owned()
        } else {
            rows.join(", ")
        },
        who.replacement
    );
    if !done.compacted {
        eprintln!(
            "warning: another process has the store open, so old copies may remain in its \
             write-ahead log; stop it (e.g. leadline serve) and run this forget again to remove them"
        );
    }
    Ok(())
}
