//! Raw command-line arguments, as clap parses them. `config.rs` turns them, the environment
//! and `leadline.toml` into one resolved [`Settings`](crate::config::Settings).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "leadline",
    version,
    about = "How well your engineering organisation delivers, from its own data",
    long_about = "How well your engineering organisation delivers, from its own data.\n\n\
                  Start with `leadline analyze PATH` on any git clone: it mines the history into a local \
                  store (./leadline.db) and prints a summary. Data goes to stdout, messages to stderr."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The store: a SQLite file path or a postgres:// URL [default: ./leadline.db]
    #[arg(long, env = "LEADLINE_DB", global = true, value_name = "PATH|URL")]
    pub db: Option<String>,
    /// Configuration file [default: ./leadline.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (repeat for debug output)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ingest repositories, then print a summary of their history
    Analyze(AnalyzeArgs),
    /// Bring data into the store
    #[command(subcommand)]
    Ingest(IngestCommand),
    /// Write stored data to stdout
    Export(ExportArgs),
    /// Import deployments, incidents or SLI counts from a CSV, JSON or NDJSON file
    Import(ImportArgs),
    /// The five DORA keys for a window, or a trend
    Dora(DoraArgs),
    /// Flow: pull request cycle time and its phases, review coverage and load, build health
    Flow(FlowArgs),
    /// Code health from history: hotspots, churn, coupling, knowledge and code age
    Health(HealthArgs),
    /// The technical debt register (debt.toml): list, add, close, and check against policies
    #[command(subcommand)]
    Debt(DebtCommand),
    /// Incidents: time to detect, acknowledge, mitigate and resolve, postmortem coverage,
    /// action items and repeats
    Incidents(IncidentsArgs),
    /// Postmortem files (Markdown with YAML front matter): write a draft, or check them all
    #[command(subcommand)]
    Postmortem(PostmortemCommand),
    /// Postmortem action items with their state and the commits or pull requests that did
    /// them; `actions check` is a CI gate
    Actions(ActionsArgs),
    /// Service level objectives from OpenSLO files: status, error budget, burn-rate alerts,
    /// and a release gate
    #[command(subcommand)]
    Slo(SloCommand),
    /// AI-assisted and AI-authored changes: their share of changes and lines (by repository,
    /// never by person)
    Ai(AiArgs),
    /// Product metrics from analytics events: activation, time to value, feature usage and
    /// stickiness ([[product.activation]], [[product.feature]] in leadline.toml)
    Product(ProductArgs),
    /// The service catalog from Backstage descriptors (catalog-info.yaml at each ingested
    /// repository's HEAD, and [catalog] files): list it, or check it
    Catalog(CatalogArgs),
    /// When teams work, deploy and are paged (off-hours, weekend, late-night commits; night
    /// pages): team level only, groups under [wellbeing] min_group_size folded
    Wellbeing(WellbeingArgs),
    /// How knowledge spreads: each area's bus factor and its trend by quarter, the share of
    /// areas with a bus factor of 2 or more, and mobility (people in areas new to them)
    Learning(LearningArgs),
    /// Each service graded by the checks of scorecards.toml (files at HEAD, catalog entry,
    /// metrics, SLOs, postmortems, debt): its level and what fails
    Scorecard(ScorecardArgs),
    /// Platform capabilities: when each service adopted them, and what that changed
    /// (difference-in-differences against services that had not adopted yet)
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Objectives and key results (okrs.toml) whose key results compute themselves from any
    /// metric: progress, projection, status, check-ins
    #[command(subcommand)]
    Okr(OkrCommand),
    /// Weeks where a team's or service's delivery changed (spikes, drops, level shifts),
    /// proposed for a person to acknowledge or dismiss
    Anomalies(AnomaliesArgs),
    /// Notifications through the outbox: list them, send a test, or run one evaluation and
    /// delivery pass (`serve` does this every 30 seconds)
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// The catalog of named metrics (every scalar of every family)
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// One metric by name (see `metrics list`), or its series by week or month
    Metric(MetricArgs),
    /// Serve the JSON API, webhooks, the dashboard and /metrics
    Serve(ServeArgs),
    /// Create, list and revoke API tokens
    #[command(subcommand)]
    Token(TokenCommand),
    /// Map stored webhook deliveries again (after a mapping fix) and store what they yield
    Replay(ReplayArgs),
    /// Erase a person's identity everywhere in the store; their work stays, unattributed
    Forget(ForgetArgs),
    /// Write a consistent copy of the SQLite store to FILE, safe while others use it
    Backup(BackupArgs),
    /// Planning from Jira (ingest jira): lead time from the first In Progress, time per status
    /// category, the investment mix by issue type and epic, defects; teams, never people
    Planning(PlanningArgs),
    /// Pulse survey scores per team and wave (psychological safety, developer experience):
    /// never per respondent; teams under [surveys] min_respondents fold into `other`
    Survey(SurveyArgs),
    /// A self-contained HTML report (and PDF) for stakeholders: summary, delivery, outcomes,
    /// reliability, investment, flow, with definitions
    Report(ReportArgs),
    /// The fleet of [fleet] in leadline.toml: arm the jobs that are due, or show the queue
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Run the fleet's jobs (fetch and ingest git, sync forges and incident tools) under
    /// leases shared with other workers on the same store
    Worker(WorkerArgs),
}

#[derive(Debug, Args)]
pub struct PlanningArgs {
    /// Start (YYYY-MM-DD or RFC 3339) [default: 90 days before --until]
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End, exclusive [default: after the newest update]
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only this team's issues
    #[arg(long, value_name = "T")]
    pub team: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct SurveyArgs {
    /// Only this instrument [default: every instrument with responses]
    #[arg(long, value_name = "NAME")]
    pub instrument: Option<String>,
    /// Only this wave, YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub wave: Option<String>,
    /// `wave`: each team's waves together, oldest first (the trend)
    #[arg(long, value_name = "wave")]
    pub by: Option<String>,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The period's length when --since is not given: 30 days, or 91 [default: month]
    #[arg(long, value_enum, default_value_t = ReportPeriod::Month)]
    pub period: ReportPeriod,
    /// Start (YYYY-MM-DD or RFC 3339) [default: the period before --until]
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// End, exclusive [default: the end of today, UTC]
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Only this team (the families that have teams)
    #[arg(long, value_name = "T", conflicts_with = "service")]
    pub team: Option<String>,
    /// Only this service (the families that have services)
    #[arg(long, value_name = "S")]
    pub service: Option<String>,
    /// Where the HTML goes [default: report.html]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also print it to a PDF through headless Chromium
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportPeriod {
    Month,
    Quarter,
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Arm a job for each target that is due (never synced, or last synced [fleet] every ago)
    Sync(FleetSyncArgs),
    /// Per target: state, last success, lag, attempts and error; and the queue
    Status(FleetStatusArgs),
}

#[derive(Debug, Args)]
pub struct FleetSyncArgs {
    /// Arm every target not already queued, due or not
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct FleetStatusArgs {
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once by this process (PostgreSQL; a SQLite store runs one)
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Also arm what is due on [fleet] every (one scheduler at a time among the workers)
    #[arg(long)]
    pub schedule: bool,
    /// Exit once no job is pending or running (for CI and cron)
    #[arg(long)]
    pub until_idle: bool,
}

#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// Only this service's incidents
    #[arg(long)]
    pub service: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest incident]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// List the incidents and action items behind the numbers (never responders or authors)
    #[arg(long)]
    pub explain: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

#[derive(Debug, Args)]
pub struct AiArgs {
    /// Only this ingested repository
    #[arg(long)]
    pub repo: Option<String>,
    /// Only changes by this team's members ([[teams]]; refused with fewer than
    /// privacy.min_group_size authors)
    #[arg(long)]
    pub team: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest commit]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// List the AI-marked changes and the rule that marked each
    #[arg(long)]
    pub explain: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub command: Option<CatalogCommand>,
    /// Only entities of this kind (Component, System, API, Resource, Domain, Group, User,
    /// Location)
    #[arg(long)]
    pub kind: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct WellbeingArgs {
    /// Only this team's group
    #[arg(long)]
    pub team: Option<String>,
    /// Only this repository's commits
    #[arg(long)]
    pub repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest commit]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// List each group's commits (sha and local time, never the author) and how they counted
    #[arg(long)]
    pub explain: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

#[derive(Debug, Args)]
pub struct LearningArgs {
    /// Only this repository
    #[arg(long)]
    pub repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 365 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest change]
    #[arg(long)]
    pub until: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct ScorecardArgs {
    /// Only this service (an ingested repository)
    #[arg(long)]
    pub service: Option<String>,
    /// Grade as of this instant (metric checks over the window ending then) [default: now]
    #[arg(long)]
    pub at: Option<String>,
    /// Each service's level at each month's end before --at instead (files HEAD had then)
    #[arg(long)]
    pub trend: bool,
    /// How many month ends --trend shows
    #[arg(long, default_value_t = 12)]
    pub months: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Subcommand)]
pub enum PlatformCommand {
    /// Each service's adoption date of each capability, and the share adopted month by month
    Adoption(PlatformAdoptionArgs),
    /// Each capability's effect on the outcome metrics, with a 90% interval
    Impact(PlatformImpactArgs),
}

#[derive(Debug, Args)]
pub struct PlatformAdoptionArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct PlatformImpactArgs {
    /// Only this capability
    #[arg(long)]
    pub capability: Option<String>,
    /// Weeks before and after each adoption [default: [platform] weeks, 8]
    #[arg(long)]
    pub weeks: Option<usize>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Exit 1 when a document is invalid or a reference names no entity: a CI gate
    Check,
}

#[derive(Debug, Subcommand)]
pub enum OkrCommand {
    /// The objectives and key results of the file, as written
    List(OkrListArgs),
    /// Each key result's current value, progress, projection, status and confidence, and
    /// each objective's owner team's delivery
    Status(OkrStatusArgs),
    /// Record how confident you are in a key result (0 to 10), with a note
    Checkin(OkrCheckinArgs),
    /// Validate the file and its metric names (exit 2 on a problem): a CI gate
    Check,
}

#[derive(Debug, Args)]
pub struct OkrListArgs {
    /// Only objectives of this period (as written: 2026-Q3)
    #[arg(long)]
    pub period: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct OkrStatusArgs {
    /// Only objectives of this period (as written: 2026-Q3)
    #[arg(long)]
    pub period: Option<String>,
    /// Evaluate as of this instant: RFC 3339 or YYYY-MM-DD [default: now]
    #[arg(long)]
    pub at: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct OkrCheckinArgs {
    /// The key result's id (O1.KR1)
    pub key_result: String,
    /// 0 (no chance) to 10 (certain)
    #[arg(long)]
    pub confidence: i64,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProductArgs {
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive, and the time activation is evaluated at [default: the UTC
    /// midnight after the newest event]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AnomaliesArgs {
    #[command(subcommand)]
    pub command: Option<AnomaliesCommand>,
    /// Only weeks starting at or after this: RFC 3339 or YYYY-MM-DD (UTC) [default: the whole
    /// history]
    #[arg(long)]
    pub since: Option<String>,
    /// Only weeks starting before this [default: the end of the newest data's week]
    #[arg(long)]
    pub until: Option<String>,
    /// With the rows behind each flagged week (the family's --explain)
    #[arg(long)]
    pub explain: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Subcommand)]
pub enum AnomaliesCommand {
    /// Confirm a proposal: the change is real
    Ack(AnomalyAckArgs),
    /// Dismiss a proposal; its week leaves later baselines
    Dismiss(AnomalyDismissArgs),
}

#[derive(Debug, Args)]
pub struct AnomalyAckArgs {
    /// The proposal's id (from `leadline anomalies`)
    pub id: String,
    /// What was found
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct AnomalyDismissArgs {
    /// The proposal's id (from `leadline anomalies`)
    pub id: String,
    /// Why: expected, false-positive or data-issue
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// The newest notifications and where each was delivered
    List(NotifyListArgs),
    /// Decide a sample notification and deliver it to every target
    Test,
    /// Decide what the SLO alerts say now (or at --at) and deliver what is due
    Run(NotifyRunArgs),
}

#[derive(Debug, Args)]
pub struct NotifyListArgs {
    /// How many notifications
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct NotifyRunArgs {
    /// Evaluate the alerts at this moment: RFC 3339 or YYYY-MM-DD (UTC) [default: now]
    #[arg(long, value_name = "T")]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SloCommand {
    /// The SLOs of the OpenSLO files in slos/ ([slo] dir)
    List(SloListArgs),
    /// Each SLO's SLI, budget remaining and burn rates at a moment
    Status(SloStatusArgs),
    /// The page and ticket alerts (multiwindow, multi-burn-rate) over a span
    Alerts(SloAlertsArgs),
    /// Exit 1 when an SLO's budget remaining is below the threshold (a release gate)
    Check(SloCheckArgs),
    /// Compliance per calendar month or week: SLI, budget remaining, met or not
    History(SloHistoryArgs),
    /// Prometheus recording and alerting rules (Sloth's layout) for SLOs read from Prometheus
    Rules(SloRulesArgs),
}

#[derive(Debug, Args)]
pub struct SloRulesArgs {
    /// Only this SLO
    #[arg(long)]
    pub slo: Option<String>,
}

#[derive(Debug, Args)]
pub struct SloHistoryArgs {
    /// The SLO
    #[arg(long)]
    pub slo: String,
    /// Periods
    #[arg(long, value_parser = by_parser(), default_value = "month")]
    pub by: By,
    /// Span start: RFC 3339 or YYYY-MM-DD (UTC) [default: the first count]
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Span end, exclusive [default: after the last count]
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct SloListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct SloStatusArgs {
    /// Only this SLO
    #[arg(long)]
    pub slo: Option<String>,
    /// List the deployments that spent the most of each budget, with their changes
    #[arg(long)]
    pub explain: bool,
    /// The moment: RFC 3339 or YYYY-MM-DD (UTC) [default: now]
    #[arg(long, value_name = "T")]
    pub at: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct SloAlertsArgs {
    /// Only this SLO
    #[arg(long)]
    pub slo: Option<String>,
    /// Span start: RFC 3339 or YYYY-MM-DD (UTC)
    #[arg(long, value_name = "T")]
    pub since: String,
    /// Span end, exclusive
    #[arg(long, value_name = "T")]
    pub until: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct SloCheckArgs {
    /// Only this service's SLOs
    #[arg(long)]
    pub service: Option<String>,
    /// The lowest budget remaining that passes
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    pub min_remaining: f64,
    /// The moment: RFC 3339 or YYYY-MM-DD (UTC) [default: now]
    #[arg(long, value_name = "T")]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PostmortemCommand {
    /// Write a draft postmortem for an incident, with its timeline and what leadline knows
    /// around it (the deployment it is attributed to, its changes, reverts, failing builds)
    New(PostmortemNewArgs),
    /// Validate every postmortem file (exit 2 on an invalid one) and lint for blameless
    /// language (warnings; exit 1 with --strict)
    Check(PostmortemCheckArgs),
}

#[derive(Debug, Args)]
pub struct PostmortemNewArgs {
    /// The incident's id
    pub incident: String,
    /// The folder [default: postmortems.dir in leadline.toml, else ./postmortems]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PostmortemCheckArgs {
    /// The folder [default: postmortems.dir in leadline.toml, else ./postmortems]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Lint findings fail the check (exit 1)
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: Option<ActionsCommand>,
    /// Only the open items past their due date
    #[arg(long)]
    pub overdue: bool,
    #[command(flatten)]
    pub when: ActionsWhen,
    /// Output format
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

#[derive(Debug, Default, Args)]
pub struct ActionsWhen {
    /// The folder [default: postmortems.dir in leadline.toml, else ./postmortems]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Judge due dates as of this date (YYYY-MM-DD) [default: today, UTC]
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Exit 1 and list the P0 and P1 items past their due date (a CI gate); exit 2 when a
    /// postmortem file is invalid
    Check(ActionsWhen),
}

#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Every metric: name, unit, which way is better, definition
    List(MetricsListArgs),
    /// The JSON schema of a family's report (activity, dora, flow, health, debt, capacity,
    /// incidents)
    Schema(MetricsSchemaArgs),
}

#[derive(Debug, Args)]
pub struct MetricsSchemaArgs {
    /// The family
    #[arg(value_parser = ["activity", "dora", "flow", "health", "debt", "capacity", "incidents", "slo", "ai"])]
    pub family: String,
}

#[derive(Debug, Args)]
pub struct MetricsListArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = MetricsFormat::Table)]
    pub format: MetricsFormat,
}

#[derive(Debug, Args)]
pub struct MetricArgs {
    /// The metric's name, e.g. dora.lead_time.median_seconds
    pub name: String,
    /// Only this service (dora, incidents)
    #[arg(long)]
    pub service: Option<String>,
    /// Only this repository (flow, capacity: OWNER/REPO; health, ai: the ingested name)
    #[arg(long)]
    pub repo: Option<String>,
    /// This team's group (flow, capacity) [default: all]
    #[arg(long)]
    pub team: Option<String>,
    /// The environment whose deployments count (dora) [default: production]
    #[arg(long)]
    pub env: Option<String>,
    /// The SLO (slo metrics; or write NAME{slo=…})
    #[arg(long)]
    pub slo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: the family's]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the family's]
    #[arg(long)]
    pub until: Option<String>,
    /// A series: one value per calendar week or month (dora, flow, incidents, ai)
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// Output format
    #[arg(long, value_enum, default_value_t = MetricsFormat::Table)]
    pub format: MetricsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where the copy goes (a new file; an existing one is never overwritten)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Their email (emails .mailmap maps to it are forgotten too)
    pub email: String,
    /// Their forge login(s) (pull request authors, reviewers)
    #[arg(long = "login", value_name = "LOGIN")]
    pub logins: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    /// Only this repository (OWNER/REPO)
    #[arg(long)]
    pub repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest merge or build]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// List the pull requests behind the numbers (without their authors)
    #[arg(long)]
    pub explain: bool,
    /// Group by team ([[teams]] in leadline.toml) or repository [default: team when teams are
    /// configured]
    #[arg(long, value_parser = group_parser())]
    pub group: Option<GroupBy>,
    /// Output format
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

#[derive(Debug, Subcommand)]
pub enum DebtCommand {
    /// The register: open items with deadlines and the hotspots they cover, the portfolio,
    /// and top hotspots no item covers (candidates)
    List(DebtListArgs),
    /// Add an item to the register
    Add(Box<DebtAddArgs>),
    /// Mark an item closed
    Close(DebtCloseArgs),
    /// The share of merged work per class (feature, debt, fix, other) per team and month,
    /// against debt.capacity_target
    Capacity(DebtCapacityArgs),
    /// Exit 1 and list the open items past their deadline (a CI gate); exit 2 when the
    /// register is invalid
    Check(DebtCheckArgs),
}

#[derive(Debug, Default, Args)]
pub struct DebtFileArgs {
    /// The register [default: debt.file in leadline.toml, else ./debt.toml]
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Judge deadlines as of this date (YYYY-MM-DD) [default: today, UTC]
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

#[derive(Debug, Args)]
pub struct DebtListArgs {
    #[command(flatten)]
    pub register: DebtFileArgs,
    /// Closed items too
    #[arg(long)]
    pub all: bool,
    /// How many top hotspots per repository to link and suggest
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct DebtCheckArgs {
    #[command(flatten)]
    pub register: DebtFileArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Args)]
pub struct DebtAddArgs {
    #[command(flatten)]
    pub register: DebtFileArgs,
    /// What the debt is
    #[arg(long)]
    pub title: String,
    /// Path patterns (CODEOWNERS syntax) of the code it lives in; repeat for more
    #[arg(long = "area", value_name = "PATTERN", required = true)]
    pub area: Vec<String>,
    /// Only in this ingested repository
    #[arg(long)]
    pub repository: Option<String>,
    /// strategic, tactical or accidental
    #[arg(long)]
    pub category: String,
    /// security, performance, compliance, reliability, maintainability or other
    #[arg(long)]
    pub kind: String,
    /// The team that owns it
    #[arg(long)]
    pub owner: String,
    /// Hours to repay it
    #[arg(long)]
    pub cost_hours: Option<f64>,
    /// What it slows, in words
    #[arg(long)]
    pub interest: Option<String>,
    /// What it costs while it stays, in hours per month
    #[arg(long)]
    pub interest_hours_per_month: Option<f64>,
    /// Why it waits
    #[arg(long)]
    pub rationale: Option<String>,
    /// Due date (YYYY-MM-DD)
    #[arg(long)]
    pub due: Option<String>,
    /// Its id [default: D-<next number>]
    #[arg(long)]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct DebtCapacityArgs {
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: six calendar months up to --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest merge]
    #[arg(long)]
    pub until: Option<String>,
    /// What counts as merged work [default: resolved Jira issues if any were synced, else
    /// merged pull requests if any were, else commits]
    #[arg(long, value_parser = source_parser())]
    pub source: Option<CapacitySource>,
    /// Only this repository (OWNER/REPO for pull requests, the ingested name for commits, the
    /// project key for issues)
    #[arg(long)]
    pub repo: Option<String>,
    /// Group by team or repository [default: team when teams are configured, else all]
    #[arg(long, value_parser = group_parser())]
    pub group: Option<GroupBy>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

pub use leadline_metrics::capacity::Source as CapacitySource;

/// `--source issues|pull-requests|commits`.
fn source_parser() -> impl clap::builder::TypedValueParser<Value = CapacitySource> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["issues", "pull-requests", "commits"])
        .try_map(|s| s.parse())
}

#[derive(Debug, Args)]
pub struct DebtCloseArgs {
    #[command(flatten)]
    pub register: DebtFileArgs,
    /// The item's id
    pub id: String,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Only this repository (by name) [default: each ingested repository]
    #[arg(long)]
    pub repo: Option<String>,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 365 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the repository's newest commit]
    #[arg(long)]
    pub until: Option<String>,
    /// Coupling: the two files' revisions average at least this (code-maat's min-revs)
    #[arg(long, default_value_t = leadline_core::health::Thresholds::DEFAULT.min_revisions)]
    pub min_revisions: usize,
    /// Coupling: the two files changed together in at least this many commits
    #[arg(long, default_value_t = leadline_core::health::Thresholds::DEFAULT.min_shared)]
    pub min_shared: usize,
    /// Coupling: shared commits / average revisions, at least this
    #[arg(long, default_value_t = leadline_core::health::Thresholds::DEFAULT.min_degree)]
    pub min_degree: f64,
    /// Commits changing more files than this are left out of coupling
    #[arg(long, default_value_t = leadline_core::health::Thresholds::DEFAULT.max_files)]
    pub max_files: usize,
    /// How many files and pairs to show (0: all)
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Show the complexity trend of this many top hotspots
    #[arg(long, default_value_t = leadline_metrics::health::DEFAULT_TREND)]
    pub trend: usize,
    /// Say how each figure is computed
    #[arg(long)]
    pub explain: bool,
    /// Areas are the first N directories of a path
    #[arg(long, default_value_t = leadline_metrics::health::DEFAULT_DEPTH)]
    pub depth: usize,
    /// An author with no commit for this many days before the window's end has left
    #[arg(long, default_value_t = leadline_metrics::health::DEFAULT_LEFT_AFTER_DAYS)]
    pub left_after_days: i64,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

pub use leadline_metrics::group::GroupBy;

/// `--group team|repository`.
fn group_parser() -> impl clap::builder::TypedValueParser<Value = GroupBy> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["team", "repository"]).try_map(|s| s.parse())
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: server.addr in leadline.toml, else 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once, alone on stdout; only its hash is stored
    Create {
        /// A unique name saying who or what uses it
        #[arg(long)]
        name: String,
        /// read: the API's GETs; write: also POSTs and the incident webhook; admin: everything
        #[arg(long, value_enum)]
        scope: TokenScope,
    },
    /// List tokens (names, scopes, creation times; never the tokens)
    List,
    /// Revoke a token by name
    Revoke { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenScope {
    Read,
    Write,
    Admin,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Only deliveries of this source (github, gitlab or alerts)
    #[arg(long)]
    pub source: Option<String>,
    /// Only deliveries received at or after this time (RFC 3339 or YYYY-MM-DD)
    #[arg(long)]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoraArgs {
    /// Only this service [default: all services together]
    #[arg(long)]
    pub service: Option<String>,
    /// The environment whose deployments count
    #[arg(long, default_value = "production")]
    pub env: String,
    /// Window start: RFC 3339 or YYYY-MM-DD (UTC) [default: 90 days before --until]
    #[arg(long)]
    pub since: Option<String>,
    /// Window end, exclusive [default: the UTC midnight after the newest deployment or incident]
    #[arg(long)]
    pub until: Option<String>,
    /// A trend: one result per calendar week or month
    #[arg(long, value_parser = by_parser())]
    pub by: Option<By>,
    /// List the deployments, changes and incidents behind each number
    #[arg(long)]
    pub explain: bool,
    /// With --explain: skip this many explanation rows (the next page starts where one ended)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub explain_offset: usize,
    /// With --explain: at most this many explanation rows (1 to 10000)
    #[arg(long, default_value_t = leadline_metrics::dora::MAX_EXPLAIN_ROWS, value_name = "N")]
    pub explain_limit: usize,
    /// Output format
    #[arg(long, value_enum, default_value_t = DoraFormat::Table)]
    pub format: DoraFormat,
}

pub use leadline_metrics::window::By;

/// `--by week|month`, listed in the help as clap's value enums are.
fn by_parser() -> impl clap::builder::TypedValueParser<Value = By> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["week", "month"]).try_map(|s| s.parse())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DoraFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds
    #[arg(value_enum)]
    pub what: ImportKind,
    /// The file (.csv, .json or .ndjson/.jsonl)
    pub file: PathBuf,
    /// The file's format, when its name does not tell
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Where the rows come from: ids are unique per source, so re-importing replaces
    #[arg(long, default_value = "import")]
    pub source: String,
    /// For `survey`: the instrument the form asked (psychological_safety, developer_experience
    /// or one of surveys/*.toml)
    #[arg(long, value_name = "NAME")]
    pub instrument: Option<String>,
    /// For `survey`: the wave, YYYY-MM
    #[arg(long, value_name = "YYYY-MM")]
    pub wave: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    Deployments,
    Incidents,
    /// Good and total events of SLOs: slo,time,good,total
    Sli,
    /// Product analytics events: time,user,event[,properties][,id], or Segment's and
    /// PostHog's shapes (users are stored only as keyed pseudonyms)
    Events,
    /// Samples of metrics that live elsewhere: name,time,value[,labels] (catalog names
    /// samples.NAME)
    Samples,
    /// Pulse survey responses: the CSV a form exports (Google Forms, Typeform, Microsoft
    /// Forms), a `team` column and one column per item; everything else is dropped
    Survey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    Csv,
    Json,
    Ndjson,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Git repositories (work trees or bare)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum IngestCommand {
    /// Mine git history: commits of all branches, remote branches and tags, with file changes
    Git(IngestGitArgs),
    /// Sync pull requests, reviews and workflow runs from GitHub (token: env GITHUB_TOKEN)
    Github(IngestGithubArgs),
    /// Sync merge requests, reviews and pipelines from GitLab (token: env GITLAB_TOKEN)
    Gitlab(IngestGitlabArgs),
    /// Sync issues with their status changes from Jira (Cloud: env JIRA_EMAIL and
    /// JIRA_API_TOKEN; Data Center: env JIRA_PAT); no person is kept, only the team
    Jira(IngestJiraArgs),
    /// Sync incidents with their acknowledge and resolve times from PagerDuty (token: env
    /// PAGERDUTY_TOKEN)
    Pagerduty(IngestPagerdutyArgs),
    /// Sync alerts with their acknowledge and close times from Opsgenie (key: env
    /// OPSGENIE_API_KEY)
    Opsgenie(IngestOpsgenieArgs),
}

#[derive(Debug, Args)]
pub struct IngestJiraArgs {
    /// Project keys, e.g. PAY OPS
    #[arg(required = true, value_name = "PROJECT")]
    pub projects: Vec<String>,
    /// More JQL, ANDed with the projects
    #[arg(long, value_name = "Q")]
    pub jql: Option<String>,
    /// The Jira site [default: [jira] url]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// A Data Center (or Server) site: REST v2 and a personal access token
    #[arg(long)]
    pub data_center: bool,
}

#[derive(Debug, Args)]
pub struct IngestPagerdutyArgs {
    /// API root [default: https://api.pagerduty.com]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// On the first sync, incidents created from this date (YYYY-MM-DD or RFC 3339) [default:
    /// a year ago]; later syncs continue where the last one stopped
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct IngestOpsgenieArgs {
    /// The EU instance (https://api.eu.opsgenie.com)
    #[arg(long, conflicts_with = "api_url")]
    pub eu: bool,
    /// API root [default: https://api.opsgenie.com]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// On the first sync, alerts created from this date (YYYY-MM-DD or RFC 3339) [default: a
    /// year ago]; later syncs continue where the last one stopped
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
}

#[derive(Debug, Args)]
pub struct IngestGitlabArgs {
    /// The project's path, GROUP/PROJECT (subgroups allowed), or with --group a group's path
    #[arg(value_name = "GROUP/PROJECT")]
    pub project: String,
    /// The path is a group: sync all its projects (and its subgroups')
    #[arg(long)]
    pub group: bool,
    /// Only a group's projects whose path contains this (case-insensitive)
    #[arg(long, requires = "group")]
    pub filter: Option<String>,
    /// List a group's projects instead of syncing them
    #[arg(long, requires = "group")]
    pub list: bool,
    /// API root, for self-managed GitLab [default: [gitlab] url + /api/v4, else https://gitlab.com/api/v4]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct IngestGithubArgs {
    /// OWNER/REPO, or an organisation (or user) to sync all its repositories
    #[arg(value_name = "OWNER/REPO|ORG")]
    pub target: String,
    /// API root, for GitHub Enterprise Server [default: [github] api_url, else https://api.github.com]
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Only an organisation's repositories whose name contains this (case-insensitive)
    #[arg(long)]
    pub filter: Option<String>,
    /// List an organisation's repositories (with --filter) instead of syncing them
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct IngestGitArgs {
    /// Git repositories (work trees or bare)
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Name to store the repository under [default: its directory name]; one PATH only
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export
    #[arg(value_enum)]
    pub what: ExportKind,
    /// Output format
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Only this repository (by name)
    #[arg(long, value_name = "NAME")]
    pub repo: Option<String>,
    /// Show people's names and emails instead of pseudonyms
    #[arg(long)]
    pub identify: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    Commits,
    FileChanges,
    Tags,
    Deployments,
    Incidents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Ndjson,
}
