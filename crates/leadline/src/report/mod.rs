//! `leadline report`: one self-contained HTML page (and a PDF of it) for people outside
//! engineering. Every number is read through the metric seam, as `leadline metric NAME` and
//! the API read it, for this period and the one before; a section appears only when its
//! family has data. The page has no scripts and requests nothing: CSS and charts are inline.

mod format;
pub mod html;
mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use leadline_core::dora::quick_check::{QuickCheck, quick_check};
use leadline_core::model::Millis;
use leadline_core::store::Store;
use leadline_metrics::catalog::{Family, Metric};
use leadline_metrics::scope::{Ctx, Scope, fitted, reports_of};
use leadline_metrics::window::By;
use serde_json::Value;

use crate::cli::{ReportArgs, ReportPeriod};
use crate::config::Settings;

const DAY: Millis = 86_400_000;

/// One number of the report: a catalog metric in this period and the one before.
pub struct Figure {
    pub metric: &'static Metric,
    pub label: &'static str,
    pub now: Option<f64>,
    pub before: Option<f64>,
    /// DORA's band (`elite` … `low`) in this period.
    pub band: Option<String>,
    /// Why there is no value, as the family says (`reason` beside it in the report).
    pub reason: Option<String>,
}

/// A part of the report: a heading, a sentence saying what it shows, its numbers.
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub lead: &'static str,
    /// What the numbers rest on, when the family says (DORA: where deployments come from).
    pub basis: Option<String>,
    pub figures: Vec<Figure>,
}

/// Everything the page shows, computed before anything is rendered.
pub struct Document {
    pub since: Millis,
    pub until: Millis,
    pub previous_since: Millis,
    pub scope: String,
    pub summary: Vec<String>,
    pub quick_check: Option<QuickCheck>,
    /// Deployments per week: (week start, count).
    pub trend: Vec<(String, f64)>,
    pub sections: Vec<Section>,
    /// Objectives and their key results at the end of the window (okrs.toml).
    pub outcomes: Vec<leadline_metrics::okrs::ObjectiveStatus>,
    /// Every SLO's budget at the end of the window (slos/).
    pub slos: Vec<leadline_metrics::slo::Status>,
    /// Incidents of the window by severity (the incidents report's `by_severity`).
    pub severities: Option<Value>,
    /// Anomalies people acknowledged, of weeks in the window.
    pub confirmed: Vec<leadline_core::store::AnomalyReview>,
    /// Pulse survey scores of the waves (months) that start in the window, teams only.
    pub pulse: Vec<leadline_metrics::survey::GroupOut>,
    pub sources: Vec<(String, String)>,
    pub config: Vec<(String, String)>,
}

/// The metrics of each section, in order: (family, catalog name, label), and the figure whose
/// value says the section has data.
struct Plan {
    id: &'static str,
    title: &'static str,
    lead: &'static str,
    family: Family,
    present: &'static str,
    figures: &'static [(&'static str, &'static str)],
}

const PLANS: &[Plan] = &[
    Plan {
        id: "delivery",
        title: "Delivery",
        lead: "How often changes reach production, how fast, and how often they fail (DORA's keys).",
        family: Family::Dora,
        present: "dora.deployment_frequency.deployments",
        figures: &[
            ("dora.deployment_frequency.per_day", "Deployments"),
            (
                "dora.deployment_frequency.deployments",
                "Deployments in the period",
            ),
            (
                "dora.lead_time.median_seconds",
                "Lead time: commit to production (median)",
            ),
            (
                "dora.change_failure_rate.rate",
                "Change failure rate: deployments that failed",
            ),
            (
                "dora.recovery_time.median_seconds",
                "Recovery time after a failure (median)",
            ),
            (
                "dora.rework_rate.rate",
                "Rework rate: deployments that were unplanned fixes",
            ),
        ],
    },
    Plan {
        id: "reliability",
        title: "Reliability",
        lead: "Incidents, how long they took to resolve, and whether the lessons were written down and acted on.",
        family: Family::Incidents,
        present: "incidents.incidents.total",
        figures: &[
            ("incidents.incidents.total", "Incidents"),
            (
                "incidents.time_to_resolve.median_seconds",
                "Time to resolve (median)",
            ),
            (
                "incidents.postmortems.coverage",
                "Postmortems written where required",
            ),
            ("incidents.actions.overdue", "Postmortem actions overdue"),
            (
                "incidents.repeats.rate",
                "Incidents that repeated an earlier one",
            ),
        ],
    },
    Plan {
        id: "investment",
        title: "Investment",
        lead: "Where the work went: features, fixes, and debt and maintenance.",
        family: Family::Capacity,
        present: "capacity.window.feature",
        figures: &[
            ("capacity.window.feature", "Feature work"),
            ("capacity.window.fix", "Fixes"),
            (
                "capacity.window.debt_share",
                "Share spent on debt and maintenance",
            ),
        ],
    },
    Plan {
        id: "planning",
        title: "Planning",
        lead: "From the issue tracker (Jira): how long issues take from being started to running in production, how much of what sprints committed to got done, and how many defects escaped to incidents.",
        family: Family::Planning,
        present: "planning.resolved",
        figures: &[
            ("planning.resolved", "Issues resolved"),
            (
                "planning.lead_time.median_seconds",
                "Issue lead time: started to production (median)",
            ),
            ("planning.sprint_accuracy", "Sprint commitments done"),
            (
                "planning.defects.share",
                "Resolved issues that were defects",
            ),
            ("planning.defects.escaped", "Defects linked to incidents"),
        ],
    },
    Plan {
        id: "debt",
        title: "Technical debt",
        lead: "The debt register as a portfolio: what is open, what it would cost to fix, and what it costs each month to keep.",
        family: Family::Debt,
        present: "debt.portfolio.open",
        figures: &[
            ("debt.portfolio.open", "Open debt items"),
            ("debt.portfolio.cost_hours", "Cost to fix"),
            (
                "debt.portfolio.interest_hours_per_month",
                "Interest: time lost to it",
            ),
            ("debt.portfolio.overdue", "Items past their deadline"),
        ],
    },
    Plan {
        id: "flow",
        title: "Flow and developer experience",
        lead: "How pull requests move from first commit to production, and how often builds fail.",
        family: Family::Flow,
        present: "flow.pull_requests.merged",
        figures: &[
            ("flow.pull_requests.merged", "Pull requests merged"),
            (
                "flow.pull_requests.cycle_time.median_seconds",
                "Cycle time (median)",
            ),
            ("flow.pull_requests.coding.median_seconds", "… coding"),
            (
                "flow.pull_requests.pickup.median_seconds",
                "… waiting for a first review",
            ),
            ("flow.pull_requests.review.median_seconds", "… in review"),
            (
                "flow.pull_requests.deploy.median_seconds",
                "… merged to deployed",
            ),
            ("flow.builds.failure_rate", "Builds that failed"),
            (
                "flow.onboarding.to_tenth_change.median_seconds",
                "Newcomers: time to their tenth change",
            ),
        ],
    },
    Plan {
        id: "health",
        title: "Code health",
        lead: "Where knowledge of the code rests with few people.",
        family: Family::Health,
        present: "health.knowledge_risk.areas",
        figures: &[
            (
                "health.knowledge_risk.areas",
                "Areas where one person holds most knowledge",
            ),
            ("health.knowledge_risk.share", "Share of areas at risk"),
        ],
    },
    Plan {
        id: "ai",
        title: "AI-assisted changes",
        lead: "How much of the work was assisted or written by AI tools, and how those changes fared.",
        family: Family::Ai,
        present: "ai.ai_share",
        figures: &[
            ("ai.ai_share", "Changes assisted or written by AI"),
            (
                "ai.outcomes.change_failure.ai.rate",
                "AI-assisted changes that failed in production",
            ),
            (
                "ai.outcomes.change_failure.human.rate",
                "Other changes that failed in production",
            ),
        ],
    },
    Plan {
        id: "wellbeing",
        title: "Sustainable pace",
        lead: "When teams work, from commit times (team level only; small groups are never shown).",
        family: Family::Wellbeing,
        present: "wellbeing.commits.total",
        figures: &[
            (
                "wellbeing.commits.off_hours_share",
                "Commits outside working hours",
            ),
            ("wellbeing.commits.weekend_share", "Commits at weekends"),
            (
                "wellbeing.commits.late_night_share",
                "Commits late at night",
            ),
            ("wellbeing.pages.night_share", "Pages at night"),
        ],
    },
];

pub async fn run(store: &Arc<dyn Store>, args: &ReportArgs, settings: &Settings) -> Result<()> {
    let options = Options::new(
        args.period,
        args.since.as_deref(),
        args.until.as_deref(),
        args.team.clone(),
        args.service.clone(),
        crate::time::now(),
    )?;
    let page = html::render(&build(store, settings, &options).await?);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("report.html"));
    std::fs::write(&out, &page).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    if let Some(pdf) = &args.pdf {
        print_pdf(&out, pdf, settings)?;
        eprintln!("wrote {}", pdf.display());
    }
    Ok(())
}

/// The window and scope of a report.
#[derive(Debug, Clone)]
pub struct Options {
    pub since: Millis,
    pub until: Millis,
    pub team: Option<String>,
    pub service: Option<String>,
}

impl Options {
    /// `since`/`until`, else the period (30 or 91 days) ending at the end of today (UTC), so
    /// that two runs on one day give the same page.
    pub fn new(
        period: ReportPeriod,
        since: Option<&str>,
        until: Option<&str>,
        team: Option<String>,
        service: Option<String>,
        now: Millis,
    ) -> Result<Options> {
        let parse = |flag: &str, v: Option<&str>| -> Result<Option<Millis>> {
            v.map(|v| leadline_metrics::window::parse_instant(flag, v))
                .transpose()
                .map_err(Into::into)
        };
        let length = match period {
            ReportPeriod::Month => 30 * DAY,
            ReportPeriod::Quarter => 91 * DAY,
        };
        let until = match parse("until", until)? {
            Some(u) => u,
            None => (now.div_euclid(DAY) + 1) * DAY,
        };
        let since = parse("since", since)?.unwrap_or(until - length);
        if since >= until {
            bail!(leadline_metrics::UsageError(
                "since must be before until".to_owned()
            ));
        }
        if team.is_some() && service.is_some() {
            bail!(leadline_metrics::UsageError(
                "a report is of a team or of a service, not both".to_owned()
            ));
        }
        Ok(Options {
            since,
            until,
            team,
            service,
        })
    }
}

/// Reads every section's numbers for the window and the one before it.
pub async fn build(
    store: &Arc<dyn Store>,
    settings: &Settings,
    options: &Options,
) -> Result<Document> {
    let slo_reader = crate::slo::reader(store, &settings.slo)?;
    let ctx = settings.ctx(store, &slo_reader);
    let gathered = Arc::new(leadline_metrics::dora::load(store, &settings.dora).await?);
    let previous_since = options.since - (options.until - options.since);
    let scope = |since: Millis, until: Millis| Scope {
        service: options.service.clone(),
        team: options.team.clone(),
        since: Some(crate::time::rfc3339(since, 0)),
        until: Some(crate::time::rfc3339(until, 0)),
        ..Scope::default()
    };
    let now_scope = scope(options.since, options.until);
    let before_scope = scope(previous_since, options.since);
    let mut sections = Vec::new();
    let mut severities = None;
    for plan in PLANS {
        let now = family(&ctx, &gathered, plan.family, &now_scope).await;
        let Some(now) = now else { continue };
        if value(&now, plan.present).is_none_or(|v| v == 0.0) {
            continue;
        }
        if plan.family == Family::Incidents {
            severities = now.pointer("/incidents/by_severity").cloned();
        }
        let before = family(&ctx, &gathered, plan.family, &before_scope).await;
        sections.push(section(plan, &now, before.as_ref()));
    }
    let figure = |name: &str| {
        sections
            .iter()
            .flat_map(|s| &s.figures)
            .find(|f| f.metric.name == name)
    };
    let pair = |name: &str| {
        figure(name).map_or_else(summary::Pair::default, |f| summary::Pair {
            now: f.now,
            before: f.before,
        })
    };
    let inputs = summary::Inputs {
        deployments_per_day: pair("dora.deployment_frequency.per_day"),
        lead_time: pair("dora.lead_time.median_seconds"),
        change_failure_rate: pair("dora.change_failure_rate.rate"),
        recovery_time: pair("dora.recovery_time.median_seconds"),
        incidents: pair("incidents.incidents.total"),
    };
    let at = options.until.min(crate::time::now()) - 1;
    let outcomes = outcomes(&ctx, &gathered, store, settings, at).await;
    let slos = match leadline_metrics::slo::load(&settings.slo) {
        Ok(slos) if !slos.is_empty() => leadline_metrics::slo::status(&slo_reader, &slos, at)
            .await
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    // The ISO weeks the window touches.
    let weeks: std::collections::HashSet<String> = (options.since..options.until)
        .step_by(DAY as usize)
        .map(leadline_metrics::anomalies::iso_week)
        .collect();
    let confirmed = store
        .anomaly_reviews()
        .await?
        .into_iter()
        .filter(|r| r.state == "acknowledged" && weeks.contains(&r.week))
        .collect();
    let pulse = pulse(store, settings, options).await;
    let delivered = figure("dora.deployment_frequency.per_day").is_some();
    let quick = delivered.then(|| {
        quick_check(
            inputs.deployments_per_day.now,
            inputs.lead_time.now,
            inputs.change_failure_rate.now,
            inputs.recovery_time.now,
        )
    });
    let trend = match delivered {
        true => trend(&ctx, &gathered, &now_scope).await,
        false => Vec::new(),
    };
    if !delivered && let Some(history) = history(&ctx).await {
        sections.insert(0, history);
    }
    Ok(Document {
        since: options.since,
        until: options.until,
        previous_since,
        scope: match (&options.team, &options.service) {
            (Some(t), _) => format!("team {t}"),
            (None, Some(s)) => format!("service {s}"),
            (None, None) => "the whole organisation".to_owned(),
        },
        summary: summary::sentences(&inputs),
        quick_check: quick,
        trend,
        sections,
        outcomes,
        slos,
        severities,
        confirmed,
        pulse,
        sources: sources(store, &gathered).await?,
        config: configuration(settings),
    })
}

/// The objectives of okrs.toml at `at`; none without the file (or when it cannot be read,
/// which `okr check` reports).
async fn outcomes(
    ctx: &Ctx<'_>,
    gathered: &Arc<leadline_metrics::dora::Gathered>,
    store: &Arc<dyn Store>,
    settings: &Settings,
    at: Millis,
) -> Vec<leadline_metrics::okrs::ObjectiveStatus> {
    let Ok(objectives) = leadline_metrics::okrs::load(&settings.okrs) else {
        return Vec::new();
    };
    if objectives.is_empty() {
        return Vec::new();
    }
    let checkins = store.checkins().await.unwrap_or_default();
    leadline_metrics::okrs::status(
        ctx,
        Some(gathered.clone()),
        &objectives,
        &checkins,
        None,
        at,
    )
    .await
    .unwrap_or_default()
}

/// The survey groups of waves starting in the window (the team's, or all of them).
async fn pulse(
    store: &Arc<dyn Store>,
    settings: &Settings,
    options: &Options,
) -> Vec<leadline_metrics::survey::GroupOut> {
    let groups = leadline_metrics::survey::report(
        store,
        &settings.surveys,
        &leadline_metrics::survey::Query::default(),
    )
    .await
    .unwrap_or_default();
    groups
        .into_iter()
        .filter(|g| {
            let start = leadline_metrics::survey::month(&g.wave)
                .and_then(|(s, _)| leadline_metrics::window::parse_instant("wave", &s).ok());
            start.is_some_and(|s| s >= options.since && s < options.until)
        })
        .filter(|g| options.team.as_ref().is_none_or(|t| *t == g.group))
        .collect()
}

/// The family's report over `scope` (the options it does not take left out), or None when it
/// cannot be computed here (no register, no SLO files): its section is then left out.
async fn family(
    ctx: &Ctx<'_>,
    gathered: &Arc<leadline_metrics::dora::Gathered>,
    family: Family,
    scope: &Scope,
) -> Option<Value> {
    let scope = fitted(family, scope);
    let gathered = (family == Family::Dora).then(|| gathered.clone());
    match reports_of(ctx, gathered, family, &scope).await {
        Ok(mut reports) if !reports.is_empty() => Some(reports.swap_remove(0)),
        Ok(_) => None,
        Err(e) => {
            tracing::info!("report: {} left out: {e:#}", family.as_str());
            None
        }
    }
}

fn value(report: &Value, name: &str) -> Option<f64> {
    let metric = leadline_metrics::catalog::find(name)?;
    leadline_metrics::reading::value_at(report, metric.path())?.as_f64()
}

fn section(plan: &Plan, now: &Value, before: Option<&Value>) -> Section {
    let figures = plan
        .figures
        .iter()
        .filter_map(|(name, label)| {
            let metric = leadline_metrics::catalog::find(name)?;
            let key = metric.path().split('.').next().unwrap_or_default();
            let beside = |what: &str| {
                leadline_metrics::reading::value_at(now, &format!("{key}.{what}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let value_now = value(now, name);
            Some(Figure {
                metric,
                label,
                now: value_now,
                before: before.and_then(|b| value(b, name)),
                // The band belongs to the key's headline figure, not to its counts.
                band: (metric.unit != leadline_metrics::catalog::Unit::Count)
                    .then(|| beside("band"))
                    .flatten(),
                reason: value_now.is_none().then(|| beside("reason")).flatten(),
            })
        })
        .collect();
    Section {
        id: plan.id,
        title: plan.title,
        lead: plan.lead,
        basis: basis(now),
        figures,
    }
}

/// What a family's numbers rest on, when it says: where DORA's deployments come from, the
/// target share of capacity for debt and maintenance.
fn basis(report: &Value) -> Option<String> {
    if let Some(b) = report.pointer("/basis/deployments").and_then(Value::as_str) {
        return Some(format!("Deployments: {b}."));
    }
    let target = report.get("target").and_then(Value::as_f64)?;
    let versus = report
        .pointer("/window/versus_target")
        .and_then(Value::as_f64)
        .map_or_else(String::new, |v| {
            format!(
                "; this period is {} points {} it",
                (v.abs() * 100.0).round(),
                if v >= 0.0 { "above" } else { "below" }
            )
        });
    Some(format!(
        "The target for debt and maintenance is {} of the work{versus}.",
        format::percent(target)
    ))
}

/// Deployments per week over the window, for the trend chart.
async fn trend(
    ctx: &Ctx<'_>,
    gathered: &Arc<leadline_metrics::dora::Gathered>,
    scope: &Scope,
) -> Vec<(String, f64)> {
    let weekly = Scope {
        by: Some(By::Week),
        ..fitted(Family::Dora, scope)
    };
    let reports = reports_of(ctx, Some(gathered.clone()), Family::Dora, &weekly)
        .await
        .unwrap_or_default();
    reports
        .iter()
        .map(|r| {
            let week = r["since"].as_str().unwrap_or_default();
            (
                week.get(..10).unwrap_or(week).to_owned(),
                value(r, "dora.deployment_frequency.deployments").unwrap_or(0.0),
            )
        })
        .collect()
}

/// A store with history but no deployments still gets a section: its activity.
async fn history(ctx: &Ctx<'_>) -> Option<Section> {
    let report = reports_of(ctx, None, Family::Activity, &Scope::default())
        .await
        .ok()?
        .into_iter()
        .next()?;
    let names = [
        ("activity.commits", "Commits"),
        ("activity.contributors", "People who committed"),
        ("activity.recent_commits", "Commits in the last 90 days"),
        (
            "activity.active_contributors",
            "People active in the last 90 days",
        ),
    ];
    let figures: Vec<Figure> = names
        .iter()
        .filter_map(|(name, label)| {
            Some(Figure {
                metric: leadline_metrics::catalog::find(name)?,
                label,
                now: value(&report, name),
                before: None,
                band: None,
                reason: None,
            })
        })
        .collect();
    figures
        .iter()
        .any(|f| f.now.is_some_and(|v| v > 0.0))
        .then_some(Section {
            id: "history",
            title: "History",
            lead: "What the repositories' history shows: how much work, by how many people.",
            basis: None,
            figures,
        })
}

/// Where the numbers come from and how fresh each source is. Deployments and incidents are
/// DORA's inputs, already in memory, not read again.
async fn sources(
    store: &Arc<dyn Store>,
    gathered: &leadline_metrics::dora::Gathered,
) -> Result<Vec<(String, String)>> {
    let repos = store.repositories().await?;
    let (deployments, incidents) = (&gathered.inputs.deployments, &gathered.inputs.incidents);
    let pulls = store.pull_requests().await?;
    let newest = |at: Option<Millis>| at.map_or_else(|| "none".to_owned(), crate::time::date);
    Ok(vec![
        (
            "Repositories".to_owned(),
            match repos.len() {
                0 => "none".to_owned(),
                n => format!(
                    "{n}: {}",
                    repos
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
        ),
        (
            "Deployments".to_owned(),
            format!(
                "{} as DORA reads them (recorded, or releases); the newest finished {}",
                deployments.len(),
                newest(deployments.iter().map(|d| d.finished_at).max())
            ),
        ),
        (
            "Incidents".to_owned(),
            format!(
                "{} as DORA reads them; the newest opened {}",
                incidents.len(),
                newest(incidents.iter().filter_map(|i| i.started_at).max())
            ),
        ),
        (
            "Pull requests (forges)".to_owned(),
            format!(
                "{} synced; the newest updated {}",
                pulls.len(),
                newest(pulls.iter().map(|p| p.updated_at).max())
            ),
        ),
    ])
}

/// The settings that shaped the numbers.
fn configuration(settings: &Settings) -> Vec<(String, String)> {
    let b = &settings.dora.bands;
    let teams: Vec<&str> = settings.teams.iter().map(|t| t.name.as_str()).collect();
    vec![
        (
            "Releases (tags that count as deployments)".to_owned(),
            settings
                .dora
                .tag_pattern
                .clone()
                .unwrap_or_else(|| "the default: v1.2.3, 1.2 and the like".to_owned()),
        ),
        (
            "Bands: deployments a day for elite, high, medium".to_owned(),
            format!("{:?}", b.frequency_per_day),
        ),
        (
            "Bands: lead time in seconds".to_owned(),
            format!("{:?}", b.lead_time_seconds),
        ),
        (
            "Bands: change failure rate".to_owned(),
            format!("{:?}", b.change_failure_rate),
        ),
        (
            "Bands: recovery time in seconds".to_owned(),
            format!("{:?}", b.recovery_seconds),
        ),
        (
            "Teams".to_owned(),
            if teams.is_empty() {
                "none defined".to_owned()
            } else {
                teams.join(", ")
            },
        ),
    ]
}

/// Prints `html` to `pdf` through headless Chromium (`[report] chromium`, else found on PATH).
fn print_pdf(html: &Path, pdf: &Path, settings: &Settings) -> Result<()> {
    let Some(chromium) = settings.report_chromium.clone().or_else(find_chromium) else {
        bail!(
            "--pdf needs Chromium: install it (Debian: apt-get install chromium) or set \
             [report] chromium to its path; the HTML report was written"
        );
    };
    let html = std::fs::canonicalize(html)?;
    let profile = tempfile::tempdir()?;
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .with_context(|| format!("cannot run {}", chromium.display()))?;
    if !out.status.success() || !pdf.exists() {
        bail!(
            "Chromium could not print the PDF: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
    })
}
