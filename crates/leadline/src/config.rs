//! One resolved configuration from flags, environment and `leadline.toml`, in that order of
//! precedence. Everything downstream reads [`Settings`], never raw arguments.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use leadline_core::dora::Bands;
use leadline_git::MineOptions;
use leadline_store::Location;
use serde::Deserialize;

use crate::cli::GlobalArgs;

const DEFAULT_DB: &str = "leadline.db";
const DEFAULT_CONFIG: &str = "leadline.toml";

/// The contents of `leadline.toml`. Unknown keys are errors, so a typo is reported rather than
/// silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub deployments: DeploymentsConfig,
    #[serde(default)]
    pub dora: DoraFileConfig,
    #[serde(default)]
    pub failures: FailuresConfig,
    /// Monorepo services: `[[services]] name = "api", paths = ["services/api/**"]`.
    #[serde(default)]
    pub services: Vec<ServiceConfig>,
    #[serde(default)]
    pub server: ServerFileConfig,
    #[serde(default)]
    pub flow: FlowFileConfig,
    /// Teams: `[[teams]] name = "payments", members = ["ann@example.com", "ann-gh"],
    /// repositories = ["octo/payments"]`.
    #[serde(default)]
    pub teams: Vec<TeamConfig>,
    #[serde(default)]
    pub privacy: PrivacyFileConfig,
    #[serde(default)]
    pub github: GithubFileConfig,
    #[serde(default)]
    pub gitlab: GitlabFileConfig,
    #[serde(default)]
    pub debt: DebtFileConfig,
    #[serde(default)]
    pub health: HealthFileConfig,
    #[serde(default)]
    pub postmortems: PostmortemsFileConfig,
    #[serde(default)]
    pub slo: SloFileConfig,
    #[serde(default)]
    pub ai: AiFileConfig,
    #[serde(default)]
    pub anomalies: AnomaliesFileConfig,
    #[serde(default)]
    pub product: ProductFileConfig,
    #[serde(default)]
    pub okrs: OkrsFileConfig,
    #[serde(default)]
    pub catalog: CatalogFileConfig,
    #[serde(default)]
    pub platform: PlatformFileConfig,
    #[serde(default)]
    pub scorecards: ScorecardsFileConfig,
    #[serde(default)]
    pub wellbeing: WellbeingFileConfig,
    /// Notification targets: `[[notify]] name = "ops", kind = "webhook", url = "…",
    /// secret = "…"` (or `kind = "slack"`).
    #[serde(default)]
    pub notify: Vec<NotifyFileConfig>,
    /// Repositories and sources kept fresh by `leadline worker`.
    #[serde(default)]
    pub fleet: crate::fleet::FleetFileConfig,
    #[serde(default)]
    pub report: ReportFileConfig,
    #[serde(default)]
    pub surveys: SurveysFileConfig,
    #[serde(default)]
    pub jira: JiraFileConfig,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct JiraFileConfig {
    /// The Jira site, e.g. https://acme.atlassian.net.
    pub url: Option<String>,
    /// The story points field's name [default: Story Points or Story point estimate].
    pub story_points_field: Option<String>,
    /// A Data Center (or Server) site.
    pub data_center: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveysFileConfig {
    /// Instruments beside the defaults [default: surveys].
    pub dir: Option<PathBuf>,
    /// A team with fewer respondents in a wave folds into `other` [default: 5].
    pub min_respondents: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportFileConfig {
    /// The Chromium that prints `report --pdf` [default: chromium or google-chrome on PATH].
    pub chromium: Option<PathBuf>,
}

/// `[ai]`: what marks a change as AI-assisted or AI-authored; a list given replaces its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiFileConfig {
    /// Email or login fragments of AI agents and assistants (`noreply@anthropic.com`,
    /// `copilot-swe-agent[bot]`).
    pub identities: Option<Vec<String>>,
    /// Assistant names as written in `Co-authored-by` and footers (`claude`, `github copilot`).
    pub assistants: Option<Vec<String>>,
    /// Trailer keys meaning AI assistance (`assisted-by`; `ai-assisted` needs a yes).
    pub trailers: Option<Vec<String>>,
    /// Pull request labels meaning AI assistance.
    pub labels: Option<Vec<String>>,
}

/// `[platform]` and `[[platform.capability]]`: what a platform offers and how its adoption is
/// measured.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformFileConfig {
    /// Weeks before and after an adoption compared [default: 8].
    pub weeks: Option<usize>,
    /// Outcome metrics (catalog names) [default: lead time, build duration, change failure
    /// rate, onboarding ramp].
    pub metrics: Option<Vec<String>>,
    #[serde(default)]
    pub capability: Vec<CapabilityConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityConfig {
    pub name: String,
    /// Globs of the files that show the capability (`.github/workflows/*.yml`).
    #[serde(
        alias = "glob",
        alias = "globs",
        alias = "path",
        alias = "paths",
        alias = "file"
    )]
    pub files: Names,
    /// A regex the file's contents must match (`uses: org/platform/.+/deploy.yml@`).
    #[serde(alias = "regex", alias = "content", alias = "pattern")]
    pub contains: Option<String>,
}

fn platform_settings(file: &PlatformFileConfig) -> Result<crate::platform::Settings> {
    let mut capabilities = Vec::new();
    for c in &file.capability {
        let mut set = globset::GlobSetBuilder::new();
        for g in c.files.list() {
            set.add(globset::Glob::new(&g).with_context(|| {
                format!(
                    "leadline.toml: platform.capability {:?}: {g:?} is not a glob",
                    c.name
                )
            })?);
        }
        let contains = c
            .contains
            .as_deref()
            .map(regex::bytes::Regex::new)
            .transpose()
            .with_context(|| {
                format!(
                    "leadline.toml: platform.capability {:?}: contains is not a regex",
                    c.name
                )
            })?;
        capabilities.push(crate::platform::Capability {
            name: c.name.clone(),
            files: set.build().context("cannot build the capability's globs")?,
            contains,
        });
    }
    let names: Vec<String> = match &file.metrics {
        Some(m) => m.clone(),
        None => crate::platform::DEFAULT_METRICS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    let mut metrics = Vec::new();
    for name in &names {
        let m = leadline_metrics::catalog::find(name)
            .filter(|m| m.family.has_series())
            .ok_or_else(|| anyhow::anyhow!("leadline.toml: platform.metrics: {name:?} is not a catalog metric with weekly series"))?;
        metrics.push(m);
    }
    let weeks = bounded("platform.weeks", file.weeks, 2..=52)?.unwrap_or(8);
    Ok(crate::platform::Settings {
        capabilities,
        metrics,
        weeks,
    })
}

/// `[wellbeing]`: the floor and the working time.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WellbeingFileConfig {
    /// Fewer distinct people than this and a group folds into `other` [default: 5].
    pub min_group_size: Option<usize>,
    /// `HH:MM-HH:MM` [default: 09:00-18:00].
    pub working_hours: Option<String>,
    /// Day names [default: Monday to Friday].
    pub working_days: Option<Vec<String>>,
    /// Where deployments and pages are judged (an IANA zone) [default: UTC].
    pub timezone: Option<String>,
}

fn hours(
    key: &str,
    span: Option<&str>,
    days: Option<&[String]>,
    base: leadline_core::wellbeing::Hours,
) -> Result<leadline_core::wellbeing::Hours> {
    let mut h = base;
    if let Some(span) = span {
        (h.start, h.end) = leadline_core::wellbeing::Hours::parse_span(span).ok_or_else(|| {
            anyhow::anyhow!("leadline.toml: {key}.working_hours {span:?}: expected HH:MM-HH:MM")
        })?;
    }
    if let Some(days) = days {
        h.days = leadline_core::wellbeing::Hours::parse_days(days).ok_or_else(|| {
            anyhow::anyhow!(
                "leadline.toml: {key}.working_days {days:?}: expected day names (Mon, Tue…)"
            )
        })?;
    }
    Ok(h)
}

fn zone(key: &str, name: Option<&str>) -> Result<Option<jiff::tz::TimeZone>> {
    name.map(|n| {
        jiff::tz::TimeZone::get(n)
            .map_err(|e| anyhow::anyhow!("leadline.toml: {key}.timezone {n:?}: {e}"))
    })
    .transpose()
}

fn wellbeing_settings(
    file: &WellbeingFileConfig,
    teams: &[TeamConfig],
) -> Result<leadline_metrics::wellbeing::Settings> {
    let base = hours(
        "wellbeing",
        file.working_hours.as_deref(),
        file.working_days.as_deref(),
        leadline_core::wellbeing::Hours::default(),
    )?;
    let tz = zone("wellbeing", file.timezone.as_deref())?.unwrap_or(jiff::tz::TimeZone::UTC);
    let mut per_team = std::collections::HashMap::new();
    for t in teams {
        if t.working_hours.is_none() && t.working_days.is_none() && t.timezone.is_none() {
            continue;
        }
        let key = format!("teams {:?}", t.name);
        let h = hours(
            &key,
            t.working_hours.as_deref(),
            t.working_days.as_deref(),
            base,
        )?;
        let z = zone(&key, t.timezone.as_deref())?.unwrap_or_else(|| tz.clone());
        per_team.insert(t.name.clone(), (h, z));
    }
    Ok(leadline_metrics::wellbeing::Settings {
        min_group_size: bounded("wellbeing.min_group_size", file.min_group_size, 1..=1000)?
            .unwrap_or(5),
        hours: base,
        timezone: tz,
        teams: per_team,
    })
}

/// `[scorecards]`: where the scorecards are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardsFileConfig {
    /// The file [default: scorecards.toml].
    pub file: Option<PathBuf>,
}

/// `[catalog]`: Backstage descriptors besides those at each repository's HEAD.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFileConfig {
    /// Globs of descriptor files (`catalog/**/*.yaml`).
    #[serde(default)]
    pub files: Vec<String>,
    /// The catalog's Groups become teams (beside `[[teams]]`, which win).
    #[serde(default)]
    pub teams: bool,
    /// The catalog's Components are services: deployments and incidents filed under their
    /// annotations (`pagerduty.com/service-id`, `github.com/project-slug`) count for them.
    #[serde(default)]
    pub services: bool,
}

/// `[okrs]`: where the objectives and key results are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OkrsFileConfig {
    /// The file [default: okrs.toml].
    pub file: Option<PathBuf>,
}

/// `[[product.activation]]` and `[[product.feature]]`: the product metrics.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFileConfig {
    #[serde(default)]
    pub activation: Vec<ActivationConfig>,
    #[serde(default)]
    pub feature: Vec<FeatureConfig>,
}

/// One event name or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn list(&self) -> Vec<String> {
        match self {
            Names::One(n) => vec![n.clone()],
            Names::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationConfig {
    pub name: String,
    /// The event that starts a user's clock.
    pub signup: String,
    /// Every one of these …
    pub criteria: Vec<String>,
    /// … within this many days of signup.
    pub within_days: i64,
    /// Time to value ends at the first of these.
    pub value: Option<Names>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureConfig {
    pub name: String,
    pub events: Names,
}

fn product_settings(file: &ProductFileConfig) -> Result<leadline_metrics::product::Settings> {
    let mut names = std::collections::HashSet::new();
    let mut activation = Vec::new();
    for a in &file.activation {
        if !names.insert(("activation", a.name.clone())) {
            bail!(
                "leadline.toml: product.activation {:?} is defined twice",
                a.name
            );
        }
        if a.criteria.is_empty() {
            bail!(
                "leadline.toml: product.activation {:?}: criteria is empty",
                a.name
            );
        }
        if !(0..=3650).contains(&a.within_days) {
            bail!(
                "leadline.toml: product.activation {:?}: within_days = {} is out of range (0 to 3650)",
                a.name,
                a.within_days
            );
        }
        activation.push(leadline_core::product::Activation {
            name: a.name.clone(),
            signup: a.signup.clone(),
            criteria: a.criteria.clone(),
            within_days: a.within_days,
            value: a.value.as_ref().map(Names::list).unwrap_or_default(),
        });
    }
    let mut feature = Vec::new();
    for f in &file.feature {
        if !names.insert(("feature", f.name.clone())) {
            bail!(
                "leadline.toml: product.feature {:?} is defined twice",
                f.name
            );
        }
        let events = f.events.list();
        if events.is_empty() {
            bail!(
                "leadline.toml: product.feature {:?}: events is empty",
                f.name
            );
        }
        feature.push(leadline_core::product::Feature {
            name: f.name.clone(),
            events,
        });
    }
    Ok(leadline_metrics::product::Settings {
        activation,
        feature,
    })
}

/// `[anomalies]`: which weekly series are watched and how they are judged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomaliesFileConfig {
    /// Catalog metric names (`leadline metrics list`) with weekly series.
    pub watch: Option<Vec<String>>,
    /// The environment whose deployments the DORA metrics count [default: production].
    pub env: Option<String>,
    /// ISO weeks in which a fall is expected and no drop is proposed [default: 52, 53, 1].
    pub holiday_weeks: Option<Vec<u8>>,
    /// Modified z-score beyond which one week is flagged [default: 3.5].
    pub z: Option<f64>,
    /// Smallest relative change worth a person's time [default: 0.2].
    pub floor: Option<f64>,
}

fn anomaly_settings(file: &AnomaliesFileConfig) -> Result<leadline_metrics::anomalies::Settings> {
    let watch: Vec<String> = match &file.watch {
        Some(v) => v.clone(),
        None => leadline_metrics::anomalies::DEFAULT_WATCH
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    if let Some(w) = file
        .holiday_weeks
        .iter()
        .flatten()
        .find(|w| !(1..=53).contains(*w))
    {
        bail!("leadline.toml: anomalies.holiday_weeks holds {w}: ISO weeks are 1 to 53");
    }
    let mut settings = leadline_metrics::anomalies::Settings::new(
        &watch,
        file.env.clone().unwrap_or_else(|| "production".to_owned()),
        file.holiday_weeks
            .clone()
            .unwrap_or_else(|| vec![52, 53, 1]),
    )
    .map_err(|e| anyhow::anyhow!("leadline.toml: {e}"))?;
    if let Some(z) = file.z {
        if !(z.is_finite() && z > 0.0) {
            bail!("leadline.toml: anomalies.z = {z}: expected a positive number");
        }
        settings.params.z = z;
    }
    if let Some(floor) = file.floor {
        if !(floor.is_finite() && floor >= 0.0) {
            bail!("leadline.toml: anomalies.floor = {floor}: expected 0 or more");
        }
        settings.params.floor = floor;
    }
    Ok(settings)
}

fn ai_rules(file: &AiFileConfig) -> leadline_core::ai::Rules {
    let mut rules = leadline_core::ai::Rules::default();
    let lower = |v: &Vec<String>| v.iter().map(|s| s.trim().to_lowercase()).collect();
    if let Some(v) = &file.identities {
        rules.identities = lower(v);
    }
    if let Some(v) = &file.assistants {
        rules.assistants = lower(v);
    }
    if let Some(v) = &file.trailers {
        rules.trailers = lower(v);
    }
    if let Some(v) = &file.labels {
        rules.labels = lower(v);
    }
    rules
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFileConfig {
    pub name: String,
    /// `webhook` (JSON, HMAC-signed with `secret`) or `slack` (an incoming webhook).
    pub kind: String,
    pub url: String,
    pub secret: Option<String>,
    /// Seconds before the first retry of a failed delivery (doubling, at most 600) [default: 5].
    pub retry_secs: Option<u64>,
}

fn notify_targets(file: &[NotifyFileConfig]) -> Result<Vec<leadline_sources::notify::Target>> {
    use leadline_sources::notify::{Kind, Target};
    let mut out: Vec<Target> = Vec::new();
    for t in file {
        let kind = match t.kind.as_str() {
            "webhook" => Kind::Webhook,
            "slack" => Kind::Slack,
            other => bail!(
                "leadline.toml: notify {:?}: kind {other:?}, expected webhook or slack",
                t.name
            ),
        };
        if t.name.trim().is_empty() || out.iter().any(|o| o.name == t.name) {
            bail!(
                "leadline.toml: notify names must be present and unique ({:?})",
                t.name
            );
        }
        if !(t.url.starts_with("http://") || t.url.starts_with("https://")) {
            bail!(
                "leadline.toml: notify {:?}: url must be http:// or https://",
                t.name
            );
        }
        out.push(Target {
            name: t.name.clone(),
            kind,
            url: t.url.clone(),
            secret: not_empty(&format!("notify {:?} secret", t.name), &t.secret)?,
            retry: std::time::Duration::from_secs(
                bounded("notify.retry_secs", t.retry_secs, 1..=600)?.unwrap_or(5),
            ),
        });
    }
    Ok(out)
}

/// `[slo]`: where the OpenSLO files are.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloFileConfig {
    /// The folder [default: slos].
    pub dir: Option<PathBuf>,
    #[serde(default)]
    pub prometheus: SloPrometheusConfig,
}

/// `[slo.prometheus]`: the Prometheus SLOs with a Prometheus indicator are read from.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloPrometheusConfig {
    /// e.g. `http://127.0.0.1:9090`.
    pub url: Option<String>,
}

/// `[postmortems]`: where the files are and what they promise.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostmortemsFileConfig {
    /// The folder [default: postmortems].
    pub dir: Option<PathBuf>,
    /// Days after an incident's resolution by which its postmortem is reviewed on time
    /// [default: 7].
    pub review_within_days: Option<u32>,
    /// Days after the review by which an action of each priority is due, e.g. `{ P1 = 21 }`
    /// [default: P0 14, P1 28, P2 56].
    pub policies: Option<std::collections::BTreeMap<String, u32>>,
}

fn postmortems_config(
    file: &PostmortemsFileConfig,
) -> Result<leadline_metrics::postmortems::Settings> {
    use leadline_core::postmortem::Priority;
    let mut settings = leadline_metrics::postmortems::Settings::default();
    if let Some(dir) = &file.dir {
        settings.dir = dir.clone();
    }
    if let Some(days) = bounded(
        "postmortems.review_within_days",
        file.review_within_days,
        0..=365,
    )? {
        settings.review_within_days = days;
    }
    for (priority, days) in file.policies.iter().flatten() {
        let Some(p) = Priority::parse(priority) else {
            bail!(
                "leadline.toml: postmortems.policies: unknown priority {priority:?}, expected P0, P1 or P2"
            );
        };
        if *days > 3650 {
            bail!(
                "leadline.toml: postmortems.policies.{priority} = {days}: expected at most 3650 days"
            );
        }
        settings.policies.0.insert(p, *days);
    }
    Ok(settings)
}

/// `[health]`: which files hotspots (and so the debt register's candidates) may rank.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthFileConfig {
    /// Paths people maintain by hand although a built-in rule or `.gitattributes` says
    /// otherwise (CODEOWNERS patterns), e.g. `["vendor/ours/"]`.
    #[serde(default)]
    pub include: Vec<String>,
    /// Paths nobody maintains by hand besides the built-in ones, e.g. `["gen/", "*.pb.go"]`.
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebtFileConfig {
    /// The register [default: debt.toml].
    pub file: Option<PathBuf>,
    /// Days an open item of a kind may stay open, e.g. `{ security = 30 }`; 0 means no limit
    /// [default: security 30, compliance 90, performance 90].
    pub policies: Option<std::collections::BTreeMap<String, u32>>,
    /// The share of merged work meant for debt and maintenance, e.g. 0.2.
    pub capacity_target: Option<f64>,
    /// Capacity classes (`feature`, `debt`, `fix`): the evidence for each, replacing that
    /// class's defaults.
    pub classes: Option<std::collections::BTreeMap<String, ClassConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Conventional-commit types, e.g. ["refactor", "chore"].
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Pull request labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Path patterns (CODEOWNERS syntax) that decide the class when every changed path matches.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Jira issue types, e.g. ["Story", "New Feature"].
    #[serde(default)]
    pub issue_types: Vec<String>,
}

fn capacity_rules(
    classes: Option<&std::collections::BTreeMap<String, ClassConfig>>,
) -> Result<leadline_core::capacity::Rules> {
    use leadline_core::capacity::{Class, Rule, Rules};
    let mut rules = Rules::default();
    for (name, c) in classes.into_iter().flatten() {
        let Some(class) = Class::parse(name).filter(|c| Class::RULED.contains(c)) else {
            bail!(
                "leadline.toml: debt.classes: unknown class {name:?}, expected feature, debt or fix"
            );
        };
        let mut paths = Vec::new();
        for p in &c.paths {
            let Some(re) = leadline_core::codeowners::pattern_regex(p) else {
                bail!("leadline.toml: debt.classes.{name}: invalid path pattern {p:?}");
            };
            paths.push(re);
        }
        rules.0.insert(
            class,
            Rule {
                prefixes: c.prefixes.iter().map(|p| p.to_ascii_lowercase()).collect(),
                labels: c.labels.clone(),
                paths,
                issue_types: c.issue_types.clone(),
            },
        );
    }
    Ok(rules)
}

/// The debt register's settings, with defaults filled in.
pub type DebtConfig = leadline_metrics::debt::Settings;

/// `[debt]` and `[health]` of the file, resolved.
fn debt_config(
    file: &DebtFileConfig,
    health: &HealthFileConfig,
    postmortems: &PostmortemsFileConfig,
) -> Result<DebtConfig> {
    use leadline_core::debt::Kind;
    let mut policies: leadline_core::debt::Policies = [
        (Kind::Security, 30),
        (Kind::Compliance, 90),
        (Kind::Performance, 90),
    ]
    .into();
    for (kind, days) in file.policies.iter().flatten() {
        let Some(k) = Kind::parse(kind) else {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            bail!(
                "leadline.toml: debt.policies: unknown kind {kind:?}, expected one of {}",
                known.join(", ")
            );
        };
        if *days == 0 {
            policies.remove(&k);
        } else {
            policies.insert(k, *days);
        }
    }
    if let Some(t) = file.capacity_target
        && !(0.0..=1.0).contains(&t)
    {
        bail!("leadline.toml: debt.capacity_target {t}: expected a share from 0 to 1");
    }
    Ok(DebtConfig {
        file: file
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from("debt.toml")),
        policies,
        capacity_target: file.capacity_target,
        rules: capacity_rules(file.classes.as_ref())?,
        by_hand: std::sync::Arc::new(
            leadline_core::by_hand::HandRules::new(&health.include, &health.exclude)
                .context("leadline.toml")?,
        ),
        postmortems: postmortems_config(postmortems)?,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFileConfig {
    /// Author login fragments that mark bots [default: [bot], dependabot, renovate].
    pub bots: Option<Vec<String>>,
    /// Pull requests above this many changed lines are large [default: 400].
    pub large_pr_lines: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    pub name: String,
    /// Emails or forge logins.
    #[serde(default)]
    pub members: Vec<String>,
    /// Repositories the team owns (OWNER/REPO): their pull requests by non-members and their
    /// builds count for it.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// Paths the team owns in any repository (CODEOWNERS patterns): a pull request by a
    /// non-member changing mostly these is the team's.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The team's own working time and time zone (wellbeing), beside `[wellbeing]`'s.
    pub working_hours: Option<String>,
    pub working_days: Option<Vec<String>>,
    pub timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyFileConfig {
    /// Groups with fewer distinct people fold into "other" [default: 3].
    pub min_group_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFileConfig {
    /// Where `leadline serve` listens [default: 127.0.0.1:8080].
    pub addr: Option<String>,
    /// Largest request body in MiB [default: 25, GitHub's own maximum payload].
    pub body_limit_mb: Option<usize>,
    /// Seconds before a request is answered 408 [default: 30].
    pub request_timeout_secs: Option<u64>,
    /// Host names (beyond localhost, 127.0.0.1 and [::1]) that requests to a server on a
    /// loopback address may name, e.g. a reverse proxy's.
    pub allowed_hosts: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubFileConfig {
    /// The webhook secret; `LEADLINE_GITHUB_WEBHOOK_SECRET` overrides it.
    pub webhook_secret: Option<String>,
    /// Issues with this label are incidents [default: incident].
    pub incident_label: Option<String>,
    /// Published releases are production deployments [default: false].
    pub releases_are_deployments: Option<bool>,
    /// API root for `ingest github` (GitHub Enterprise Server: `https://HOST/api/v3`).
    pub api_url: Option<String>,
    /// Days of workflow runs listed again on each sync, for re-runs [default: 30].
    pub rerun_lookback_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitlabFileConfig {
    /// The webhook secret token; `LEADLINE_GITLAB_WEBHOOK_TOKEN` overrides it.
    pub webhook_token: Option<String>,
    /// The GitLab instance for `ingest gitlab` [default: https://gitlab.com].
    pub url: Option<String>,
}

/// What `leadline serve` needs, with defaults filled in. Secrets stay out of `Debug`.
#[derive(Clone)]
pub struct ServerConfig {
    pub addr: String,
    /// Host names a loopback server answers besides localhost and its loopback addresses.
    pub allowed_hosts: Vec<String>,
    pub body_limit: usize,
    pub request_timeout: std::time::Duration,
    pub github_secret: Option<String>,
    pub github: leadline_sources::webhook::github::Options,
    pub gitlab_token: Option<String>,
    pub github_api_url: String,
    pub gitlab_api_url: String,
    /// `[github] rerun_lookback_days`.
    pub github_rerun_lookback_days: u32,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("addr", &self.addr)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("body_limit", &self.body_limit)
            .field("request_timeout", &self.request_timeout)
            .field("github_secret", &self.github_secret.as_ref().map(|_| "…"))
            .field("github", &self.github)
            .field("gitlab_token", &self.gitlab_token.as_ref().map(|_| "…"))
            .field("github_api_url", &self.github_api_url)
            .field("gitlab_api_url", &self.gitlab_api_url)
            .finish()
    }
}

/// GitHub's maximum webhook payload.
const DEFAULT_BODY_LIMIT_MB: usize = 25;

impl ServerConfig {
    fn resolve(file: &FileConfig) -> Result<ServerConfig> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let body_limit_mb = bounded("server.body_limit_mb", file.server.body_limit_mb, 1..=1024)?
            .unwrap_or(DEFAULT_BODY_LIMIT_MB);
        let timeout = bounded(
            "server.request_timeout_secs",
            file.server.request_timeout_secs,
            1..=3600,
        )?;
        // An empty secret is a key anyone can compute: refused, not taken as "no secret".
        let github_secret = not_empty("github.webhook_secret", &file.github.webhook_secret)?;
        let gitlab_token = not_empty("gitlab.webhook_token", &file.gitlab.webhook_token)?;
        let github_api_url = not_empty("github.api_url", &file.github.api_url)?;
        let gitlab_url = not_empty("gitlab.url", &file.gitlab.url)?;
        let defaults = leadline_sources::webhook::github::Options::default();
        Ok(ServerConfig {
            github_rerun_lookback_days: bounded(
                "github.rerun_lookback_days",
                file.github.rerun_lookback_days,
                0..=365,
            )?
            .unwrap_or(30),
            allowed_hosts: file
                .server
                .allowed_hosts
                .iter()
                .flatten()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            addr: file
                .server
                .addr
                .clone()
                .unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
            body_limit: body_limit_mb << 20,
            request_timeout: std::time::Duration::from_secs(timeout.unwrap_or(30)),
            github_secret: env("LEADLINE_GITHUB_WEBHOOK_SECRET").or(github_secret),
            github: leadline_sources::webhook::github::Options {
                incident_label: file
                    .github
                    .incident_label
                    .clone()
                    .unwrap_or(defaults.incident_label),
                releases_are_deployments: file
                    .github
                    .releases_are_deployments
                    .unwrap_or(defaults.releases_are_deployments),
            },
            gitlab_token: env("LEADLINE_GITLAB_WEBHOOK_TOKEN").or(gitlab_token),
            github_api_url: github_api_url.unwrap_or_else(|| "https://api.github.com".to_owned()),
            gitlab_api_url: format!(
                "{}/api/v4",
                gitlab_url
                    .as_deref()
                    .unwrap_or("https://gitlab.com")
                    .trim_end_matches('/')
            ),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub name: String,
    /// Globs of the paths the service owns; a change belongs to the services whose paths it
    /// touches. Without paths, a service owns every change of what it deploys.
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailuresConfig {
    /// Commit subjects that mark a hotfix (a regex), e.g. `^(hotfix|fix!)`.
    pub hotfix_pattern: Option<String>,
    /// Days after the reverted commit's first deployment a revert still marks it failed.
    pub revert_max_age_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentsConfig {
    /// Which tags are releases [default: `^v?\d+\.\d+(\.\d+)?$`].
    pub tag_pattern: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoraFileConfig {
    /// Author name or email fragments that mark bots (case-insensitive).
    pub bots: Option<Vec<String>>,
    /// Band thresholds.
    pub bands: Option<Bands>,
    /// Where a change's lead time starts: "commit" (default) or "pr_first_commit".
    pub lead_time_start: Option<String>,
}

/// What `leadline dora` needs from the configuration, with defaults filled in.
pub type DoraConfig = leadline_metrics::dora::Settings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Same as `--db`.
    pub db: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Threads diffing commits [default: every core].
    pub threads: Option<usize>,
    /// Pack cache per thread, in MiB.
    pub pack_cache_mb: Option<usize>,
    /// Commits stored per transaction.
    pub batch: Option<usize>,
}

/// How chatty the CLI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
    Debug,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub db: Location,
    pub mine: MineOptions,
    pub verbosity: Verbosity,
    pub dora: DoraConfig,
    pub server: ServerConfig,
    pub flow: leadline_core::flow::Options,
    pub teams: Vec<leadline_core::flow::Team>,
    pub debt: DebtConfig,
    pub slo: leadline_metrics::slo::Settings,
    pub notify: Vec<leadline_sources::notify::Target>,
    pub ai: leadline_core::ai::Rules,
    pub anomalies: leadline_metrics::anomalies::Settings,
    pub product: leadline_metrics::product::Settings,
    pub okrs: leadline_metrics::okrs::Settings,
    pub catalog: crate::catalog::Settings,
    pub platform: crate::platform::Settings,
    pub scorecards: PathBuf,
    pub wellbeing: leadline_metrics::wellbeing::Settings,
    pub fleet: crate::fleet::FleetSettings,
    /// `[report] chromium`.
    pub report_chromium: Option<PathBuf>,
    pub surveys: leadline_metrics::survey::Settings,
    /// `[jira]`.
    pub jira: JiraFileConfig,
}

impl Settings {
    /// What the metric families are computed with, for the seam's readers.
    pub fn ctx<'a>(
        &'a self,
        store: &'a std::sync::Arc<dyn leadline_core::store::Store>,
        slo_reader: &'a leadline_metrics::slo::Reader,
    ) -> leadline_metrics::scope::Ctx<'a> {
        leadline_metrics::scope::Ctx {
            store,
            dora: &self.dora,
            debt: &self.debt,
            flow: &self.flow,
            teams: &self.teams,
            slo: &self.slo,
            slo_reader,
            ai: &self.ai,
            product: &self.product,
            scorecards: None,
            wellbeing: &self.wellbeing,
            surveys: &self.surveys,
        }
    }

    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let file = load(args.config.as_deref())?;
        let db = args
            .db
            .clone()
            .or(file.store.db.clone())
            .unwrap_or_else(|| DEFAULT_DB.to_owned());
        let location = Location::parse(&db)?;
        let mut mine = MineOptions::default();
        if let Some(threads) = bounded("ingest.threads", file.ingest.threads, 1..=256)? {
            mine.threads = threads;
        }
        if let Some(mb) = bounded("ingest.pack_cache_mb", file.ingest.pack_cache_mb, 0..=65536)? {
            mine.pack_cache_bytes = mb << 20;
        }
        if let Some(batch) = bounded("ingest.batch", file.ingest.batch, 1..=1_000_000)? {
            mine.batch = batch;
        }
        let verbosity = match (args.quiet, args.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Debug,
        };
        let mut services = Vec::new();
        for service in &file.services {
            if service.paths.is_empty() {
                continue;
            }
            let mut globs = globset::GlobSetBuilder::new();
            for pattern in &service.paths {
                let glob = globset::Glob::new(pattern).with_context(|| {
                    format!(
                        "leadline.toml: services {:?}: invalid path glob {pattern:?}",
                        service.name
                    )
                })?;
                globs.add(glob);
            }
            let set = globs.build().with_context(|| {
                format!(
                    "leadline.toml: services {:?}: invalid path globs",
                    service.name
                )
            })?;
            services.push((service.name.clone(), set));
        }
        let server = ServerConfig::resolve(&file)?;
        let defaults = leadline_core::flow::Options::default();
        let flow = leadline_core::flow::Options {
            bots: file.flow.bots.clone().unwrap_or(defaults.bots),
            large_pr_lines: bounded("flow.large_pr_lines", file.flow.large_pr_lines, 1..=1 << 40)?
                .unwrap_or(defaults.large_pr_lines),
            min_group_size: bounded(
                "privacy.min_group_size",
                file.privacy.min_group_size,
                1..=1_000_000,
            )?
            .unwrap_or(defaults.min_group_size),
        };
        let mut teams = Vec::new();
        for t in &file.teams {
            if teams
                .iter()
                .any(|known: &leadline_core::flow::Team| known.name == t.name)
            {
                bail!("leadline.toml: teams: {:?} is defined twice", t.name);
            }
            for p in &t.paths {
                if leadline_core::codeowners::pattern_regex(p).is_none() {
                    bail!(
                        "leadline.toml: teams {:?}: invalid path pattern {p:?}",
                        t.name
                    );
                }
            }
            teams.push(leadline_core::flow::Team {
                name: t.name.clone(),
                members: t.members.clone(),
                repositories: t.repositories.clone(),
                paths: t.paths.clone(),
            });
        }
        let dora = DoraConfig {
            services,
            tag_pattern: file.deployments.tag_pattern,
            hotfix_pattern: file.failures.hotfix_pattern,
            revert_max_age: bounded(
                "failures.revert_max_age_days",
                file.failures.revert_max_age_days,
                1..=36500,
            )?
            .map_or(leadline_core::dora::infer::DEFAULT_REVERT_MAX_AGE, |d| {
                i64::from(d) * 24 * 3600 * 1000
            }),
            bots: file
                .dora
                .bots
                .unwrap_or_else(leadline_metrics::dora::default_bots),
            bands: file.dora.bands.unwrap_or_default(),
            lead_time_from_pull_requests: match file.dora.lead_time_start.as_deref() {
                None | Some("commit") => false,
                Some("pr_first_commit") => true,
                Some(other) => bail!(
                    "leadline.toml: dora.lead_time_start {other:?}: expected \"commit\" or \"pr_first_commit\""
                ),
            },
            aliases: std::collections::HashMap::new(),
        };
        Ok(Settings {
            db: location.clone(),
            mine,
            verbosity,
            dora,
            server,
            flow,
            teams,
            debt: debt_config(&file.debt, &file.health, &file.postmortems)?,
            slo: leadline_metrics::slo::Settings {
                dir: file
                    .slo
                    .dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("slos")),
                prometheus_url: not_empty("slo.prometheus.url", &file.slo.prometheus.url)?,
            },
            notify: notify_targets(&file.notify)?,
            ai: ai_rules(&file.ai),
            anomalies: anomaly_settings(&file.anomalies)?,
            product: product_settings(&file.product)?,
            platform: platform_settings(&file.platform)?,
            wellbeing: wellbeing_settings(&file.wellbeing, &file.teams)?,
            fleet: crate::fleet::FleetSettings::resolve(&file.fleet, sqlite_dir(&location))?,
            report_chromium: file.report.chromium.clone(),
            jira: file.jira.clone(),
            surveys: leadline_metrics::survey::Settings {
                dir: file
                    .surveys
                    .dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("surveys")),
                min_respondents: bounded(
                    "surveys.min_respondents",
                    file.surveys.min_respondents,
                    1..=1000,
                )?
                .unwrap_or(5),
            },
            scorecards: file
                .scorecards
                .file
                .clone()
                .unwrap_or_else(|| PathBuf::from("scorecards.toml")),
            catalog: crate::catalog::Settings {
                files: file.catalog.files.clone(),
                teams: file.catalog.teams,
                services: file.catalog.services,
            },
            okrs: leadline_metrics::okrs::Settings {
                file: file
                    .okrs
                    .file
                    .clone()
                    .unwrap_or_else(|| PathBuf::from("okrs.toml")),
            },
        })
    }
}

/// The directory of a SQLite store (`None` for PostgreSQL or a file in the working directory).
fn sqlite_dir(db: &Location) -> Option<&Path> {
    match db {
        Location::Sqlite(path) => path.parent().filter(|p| !p.as_os_str().is_empty()),
        Location::Postgres(_) => None,
    }
}

/// A number from the file, refused naming its key when outside `range` (a value that would
/// overflow arithmetic downstream, such as MiB shifted to bytes, never gets that far).
fn bounded<T>(key: &str, value: Option<T>, range: std::ops::RangeInclusive<T>) -> Result<Option<T>>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    match value {
        Some(v) if !range.contains(&v) => bail!(
            "leadline.toml: {key} = {v} is out of range: expected {} to {}",
            range.start(),
            range.end()
        ),
        _ => Ok(value),
    }
}

/// A string from the file that must not be empty when given.
fn not_empty(key: &str, value: &Option<String>) -> Result<Option<String>> {
    match value {
        Some(v) if v.trim().is_empty() => {
            bail!("leadline.toml: {key} is empty: remove the key or give it a value")
        }
        _ => Ok(value.clone()),
    }
}

/// Reads the configuration: `explicit` must exist; the default file is optional.
fn load(explicit: Option<&Path>) -> Result<FileConfig> {
    let path = match explicit {
        Some(p) => p.to_owned(),
        None if Path::new(DEFAULT_CONFIG).is_file() => PathBuf::from(DEFAULT_CONFIG),
        None => return Ok(FileConfig::default()),
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid configuration in {}", path.display()))
}

fn parse(text: &str) -> Result<FileConfig> {
    Ok(toml::from_str(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_keys() {
        let c = parse("[store]\ndb = \"x.db\"\n[ingest]\nthreads = 3\n").unwrap();
        assert_eq!(c.store.db.as_deref(), Some("x.db"));
        assert_eq!(c.ingest.threads, Some(3));
    }

    #[test]
    fn unknown_keys_are_errors_naming_line_and_key() {
        let err = format!("{:#}", parse("[store]\n\ndbb = \"x\"\n").unwrap_err());
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("dbb"), "{err}");
    }

    fn server_error(text: &str) -> String {
        let file = parse(text).unwrap();
        format!("{:#}", ServerConfig::resolve(&file).unwrap_err())
    }

    #[test]
    fn empty_secrets_are_refused_naming_the_key() {
        let err = server_error("[github]\nwebhook_secret = \"\"\n");
        assert!(err.contains("github.webhook_secret is empty"), "{err}");
        let err = server_error("[gitlab]\nwebhook_token = \"  \"\n");
        assert!(err.contains("gitlab.webhook_token is empty"), "{err}");
        let file = parse("[github]\nwebhook_secret = \"s\"\n").unwrap();
        assert!(ServerConfig::resolve(&file).is_ok());
    }

    #[test]
    fn sizes_that_would_overflow_are_refused_naming_the_key() {
        for value in ["0", "1025", "17592186044416"] {
            let err = server_error(&format!("[server]\nbody_limit_mb = {value}\n"));
            assert!(err.contains("server.body_limit_mb"), "{err}");
            assert!(err.contains("out of range"), "{err}");
        }
        let err = server_error("[server]\nrequest_timeout_secs = 0\n");
        assert!(err.contains("server.request_timeout_secs"), "{err}");
        let file = parse("[server]\nbody_limit_mb = 1024\n").unwrap();
        assert_eq!(ServerConfig::resolve(&file).unwrap().body_limit, 1 << 30);
    }
}
