//! Every named scalar of today's families, with its unit, the direction that is better and
//! where it is defined. A family registers its scalars here when it lands.

use serde::Serialize;

/// A metric family: one report shape, one command, one API route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `leadline analyze`: a repository's history summary.
    Activity,
    /// `leadline dora`: the report of one service and environment.
    Dora,
    /// `leadline flow`: the group the query selects (`all`, or a team), with its onboarding.
    Flow,
    /// `leadline health`: the report of one repository.
    Health,
    /// `leadline debt list`: the register's portfolio.
    Debt,
    /// `leadline debt capacity`: the group the query selects, over the window.
    Capacity,
    /// `leadline incidents`: the incidents of the window (one service, or all).
    Incidents,
    /// `leadline slo status`: the SLO the query names (`--slo`, or `NAME{slo=…}`), now.
    Slo,
    /// `leadline ai`: AI-assisted and AI-authored changes (one repository, or all).
    Ai,
    /// `leadline product`: activation, time to value, feature usage and stickiness (one
    /// definition by `{name=…}`, or the only one).
    Product,
    /// `leadline scorecard`: one service's level (`--service`), now or at `--until`.
    Scorecard,
    /// `leadline wellbeing`: the group the query selects (`all`, or `--team T`'s).
    Wellbeing,
    /// `leadline planning`: the tracker's issues over the window (everyone, or `--team T`'s).
    Planning,
}

impl Family {
    pub const ALL: [Family; 13] = [
        Family::Activity,
        Family::Dora,
        Family::Flow,
        Family::Health,
        Family::Debt,
        Family::Capacity,
        Family::Incidents,
        Family::Slo,
        Family::Ai,
        Family::Product,
        Family::Scorecard,
        Family::Wellbeing,
        Family::Planning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Activity => "activity",
            Family::Dora => "dora",
            Family::Flow => "flow",
            Family::Health => "health",
            Family::Debt => "debt",
            Family::Capacity => "capacity",
            Family::Incidents => "incidents",
            Family::Slo => "slo",
            Family::Ai => "ai",
            Family::Product => "product",
            Family::Scorecard => "scorecard",
            Family::Wellbeing => "wellbeing",
            Family::Planning => "planning",
        }
    }

    /// Whether the family's report comes per period (`--by week|month`).
    pub fn has_series(self) -> bool {
        matches!(
            self,
            Family::Dora
                | Family::Flow
                | Family::Incidents
                | Family::Ai
                | Family::Product
                | Family::Wellbeing
        )
    }
}

/// What a value counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Seconds,
    PerDay,
    /// A share from 0 to 1.
    Ratio,
    Count,
    Hours,
    HoursPerMonth,
    Lines,
    Files,
    /// A count per pull request or per review.
    PerItem,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::PerDay => "per_day",
            Unit::Ratio => "ratio",
            Unit::Count => "count",
            Unit::Hours => "hours",
            Unit::HoursPerMonth => "hours_per_month",
            Unit::Lines => "lines",
            Unit::Files => "files",
            Unit::PerItem => "per_item",
        }
    }
}

/// Which way is better; `neither` for volumes that only describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
    Neither,
}

impl Better {
    pub fn as_str(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
            Better::Neither => "neither",
        }
    }
}

/// One named scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Metric {
    /// `family.json.path`.
    pub name: &'static str,
    pub unit: Unit,
    pub better: Better,
    pub family: Family,
    pub description: &'static str,
    /// Where docs/metrics.md defines it.
    pub docs: &'static str,
}

impl Metric {
    /// The JSON path of the scalar in its family's report: the name without the family.
    pub fn path(&self) -> &'static str {
        let prefix = self.family.as_str().len() + 1;
        &self.name[prefix..]
    }
}

/// The metric called `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Metric> {
    CATALOG.iter().find(|m| m.name == name)
}

const fn m(
    family: Family,
    name: &'static str,
    unit: Unit,
    better: Better,
    description: &'static str,
    docs: &'static str,
) -> Metric {
    Metric {
        name,
        unit,
        better,
        family,
        description,
        docs,
    }
}

const ACTIVITY: &str = "docs/metrics.md#history-summary-leadline-analyze";
const DORA_FREQUENCY: &str = "docs/metrics.md#deployment-frequency";
const DORA_LEAD: &str = "docs/metrics.md#lead-time-for-changes";
const DORA_CFR: &str = "docs/metrics.md#change-failure-rate";
const DORA_RECOVERY: &str = "docs/metrics.md#failed-deployment-recovery-time";
const DORA_REWORK: &str = "docs/metrics.md#deployment-rework-rate";
const FLOW: &str = "docs/metrics.md#flow-leadline-flow";
const HEALTH: &str = "docs/metrics.md#code-health-leadline-health";
const DEBT: &str = "docs/metrics.md#debt-register-leadline-debt";
const CAPACITY: &str = "docs/metrics.md#capacity-allocation-leadline-debt-capacity";
const INCIDENTS: &str = "docs/metrics.md#incidents-leadline-incidents";
const SLO: &str = "docs/metrics.md#slos-leadline-slo";
const AI: &str = "docs/metrics.md#ai-assisted-changes-leadline-ai";
const PRODUCT: &str = "docs/metrics.md#product-metrics-leadline-product";
const SCORECARD: &str = "docs/metrics.md#scorecards-leadline-scorecard";
const WELLBEING: &str = "docs/metrics.md#wellbeing-leadline-wellbeing";
const PLANNING: &str = "docs/metrics.md#planning-jira-leadline_coreplanning";

use Better::{Higher, Lower, Neither};
use Family::{
    Activity, Ai, Capacity, Debt, Dora, Flow, Health, Incidents, Planning, Product, Scorecard, Slo,
    Wellbeing,
};

/// Every metric, by family.
pub static CATALOG: &[Metric] = &[
    m(
        Activity,
        "activity.commits",
        Unit::Count,
        Neither,
        "Commits on the repository's history, merges included",
        ACTIVITY,
    ),
    m(
        Activity,
        "activity.contributors",
        Unit::Count,
        Neither,
        "People who committed to the repository (a count, never a list)",
        ACTIVITY,
    ),
    m(
        Activity,
        "activity.recent_commits",
        Unit::Count,
        Neither,
        "Commits in the last 90 days of the history",
        ACTIVITY,
    ),
    m(
        Activity,
        "activity.active_contributors",
        Unit::Count,
        Neither,
        "People who committed in the last 90 days of the history",
        ACTIVITY,
    ),
    m(
        Dora,
        "dora.deployment_frequency.per_day",
        Unit::PerDay,
        Higher,
        "Successful deployments per day in the window",
        DORA_FREQUENCY,
    ),
    m(
        Dora,
        "dora.deployment_frequency.deployments",
        Unit::Count,
        Higher,
        "Successful deployments in the window",
        DORA_FREQUENCY,
    ),
    m(
        Dora,
        "dora.lead_time.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from a change's commit to the end of the first deployment carrying it",
        DORA_LEAD,
    ),
    m(
        Dora,
        "dora.lead_time.p90_seconds",
        Unit::Seconds,
        Lower,
        "90th percentile lead time for changes",
        DORA_LEAD,
    ),
    m(
        Dora,
        "dora.lead_time.changes",
        Unit::Count,
        Neither,
        "Changes whose lead time was measured",
        DORA_LEAD,
    ),
    m(
        Dora,
        "dora.change_failure_rate.rate",
        Unit::Ratio,
        Lower,
        "Share of deployments that failed or caused an incident",
        DORA_CFR,
    ),
    m(
        Dora,
        "dora.change_failure_rate.failed_deployments",
        Unit::Count,
        Lower,
        "Deployments that failed or caused an incident",
        DORA_CFR,
    ),
    m(
        Dora,
        "dora.recovery_time.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time to restore service after a failed deployment",
        DORA_RECOVERY,
    ),
    m(
        Dora,
        "dora.recovery_time.incidents",
        Unit::Count,
        Lower,
        "Incidents attributed to deployments and resolved in the window",
        DORA_RECOVERY,
    ),
    m(
        Dora,
        "dora.rework_rate.rate",
        Unit::Ratio,
        Lower,
        "Share of deployments that were unplanned fixes (reverts, hotfixes, named fixes)",
        DORA_REWORK,
    ),
    m(
        Dora,
        "dora.rework_rate.rework_deployments",
        Unit::Count,
        Lower,
        "Deployments that were unplanned fixes",
        DORA_REWORK,
    ),
    m(
        Flow,
        "flow.pull_requests.merged",
        Unit::Count,
        Neither,
        "Pull requests merged in the window (bots left out)",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.cycle_time.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from a pull request's first commit to its merge",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.cycle_time.p90_seconds",
        Unit::Seconds,
        Lower,
        "90th percentile cycle time",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.coding.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from the first commit to the opening",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.pickup.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from the opening (or readiness) to the first review",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.review.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from the first review to the merge",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.deploy.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from the merge to the first deployment carrying it",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.time_to_merge.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from the opening to the merge",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.size_lines_median",
        Unit::Lines,
        Lower,
        "Median lines changed per pull request",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.large_share",
        Unit::Ratio,
        Lower,
        "Share of pull requests over the large size",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.merged_without_review",
        Unit::Ratio,
        Lower,
        "Share of pull requests merged without a review by someone else",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.reviews_per_pull_request",
        Unit::PerItem,
        Higher,
        "Reviews by others per merged pull request",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.comments_per_review",
        Unit::PerItem,
        Neither,
        "Line comments per review",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.rework_share",
        Unit::Ratio,
        Lower,
        "Share of reviewed pull requests that got commits after their first review",
        FLOW,
    ),
    m(
        Flow,
        "flow.pull_requests.review_load_top_fifth",
        Unit::Ratio,
        Lower,
        "Share of reviews done by the busiest fifth of reviewers",
        FLOW,
    ),
    m(
        Flow,
        "flow.builds.attempts",
        Unit::Count,
        Neither,
        "CI attempts that finished with a verdict",
        FLOW,
    ),
    m(
        Flow,
        "flow.builds.failure_rate",
        Unit::Ratio,
        Lower,
        "Share of finished CI attempts that failed",
        FLOW,
    ),
    m(
        Flow,
        "flow.builds.flaky_rate",
        Unit::Ratio,
        Lower,
        "Share of CI runs that failed and then passed on the same commit",
        FLOW,
    ),
    m(
        Flow,
        "flow.builds.duration.median_seconds",
        Unit::Seconds,
        Lower,
        "Median CI attempt duration, start to finish",
        FLOW,
    ),
    m(
        Flow,
        "flow.builds.queue.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time a CI attempt waited to start",
        FLOW,
    ),
    m(
        Flow,
        "flow.onboarding.newcomers",
        Unit::Count,
        Neither,
        "People whose first change landed in the window",
        FLOW,
    ),
    m(
        Flow,
        "flow.onboarding.to_tenth_change.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time from a newcomer's first change to their tenth",
        FLOW,
    ),
    m(
        Health,
        "health.knowledge_risk.areas",
        Unit::Count,
        Lower,
        "Areas at HEAD all of whose recent authors have left",
        HEALTH,
    ),
    m(
        Health,
        "health.knowledge_risk.share",
        Unit::Ratio,
        Lower,
        "Share of areas at HEAD at knowledge risk",
        HEALTH,
    ),
    m(
        Debt,
        "debt.portfolio.open",
        Unit::Count,
        Lower,
        "Open items in the debt register",
        DEBT,
    ),
    m(
        Debt,
        "debt.portfolio.cost_hours",
        Unit::Hours,
        Lower,
        "Estimated hours to pay off the open items",
        DEBT,
    ),
    m(
        Debt,
        "debt.portfolio.interest_hours_per_month",
        Unit::HoursPerMonth,
        Lower,
        "Hours a month the open items cost while they stay",
        DEBT,
    ),
    m(
        Debt,
        "debt.portfolio.overdue",
        Unit::Count,
        Lower,
        "Open items past their deadline",
        DEBT,
    ),
    m(
        Capacity,
        "capacity.window.debt_share",
        Unit::Ratio,
        Neither,
        "Share of merged work that went to debt and maintenance over the window (compare with debt.capacity_target)",
        CAPACITY,
    ),
    m(
        Capacity,
        "capacity.window.feature",
        Unit::Count,
        Neither,
        "Merged changes classified as features over the window",
        CAPACITY,
    ),
    m(
        Capacity,
        "capacity.window.fix",
        Unit::Count,
        Lower,
        "Merged changes classified as fixes over the window",
        CAPACITY,
    ),
    m(
        Incidents,
        "incidents.incidents.total",
        Unit::Count,
        Neither,
        "Incidents opened in the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.incidents.by_severity.sev1",
        Unit::Count,
        Lower,
        "sev1 incidents (sev1, P0, P1, critical) opened in the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.incidents.by_severity.sev2",
        Unit::Count,
        Lower,
        "sev2 incidents (sev2, P2, high, major) opened in the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.incidents.by_severity.sev3",
        Unit::Count,
        Neither,
        "sev3 incidents (sev3, P3, medium, moderate, minor) opened in the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.incidents.by_severity.sev4",
        Unit::Count,
        Neither,
        "sev4 incidents (sev4, P4, P5, low, info) opened in the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.incidents.by_severity.unknown",
        Unit::Count,
        Lower,
        "Incidents whose severity maps to no level",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_detect.median_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to detection (incidents with a known start): median",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_detect.p90_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to detection (incidents with a known start): 90th percentile",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_detect.incidents",
        Unit::Count,
        Neither,
        "From the start of impact to detection (incidents with a known start): incidents measured",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_acknowledge.median_seconds",
        Unit::Seconds,
        Lower,
        "From detection to acknowledgement: median",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_acknowledge.p90_seconds",
        Unit::Seconds,
        Lower,
        "From detection to acknowledgement: 90th percentile",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_acknowledge.incidents",
        Unit::Count,
        Neither,
        "From detection to acknowledgement: incidents measured",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_mitigate.median_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to mitigation (else resolution): median",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_mitigate.p90_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to mitigation (else resolution): 90th percentile",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_mitigate.incidents",
        Unit::Count,
        Neither,
        "From the start of impact to mitigation (else resolution): incidents measured",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_resolve.median_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to resolution: median",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_resolve.p90_seconds",
        Unit::Seconds,
        Lower,
        "From the start of impact to resolution: 90th percentile",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.time_to_resolve.incidents",
        Unit::Count,
        Neither,
        "From the start of impact to resolution: incidents measured",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.postmortems.required",
        Unit::Count,
        Neither,
        "sev1 and sev2 incidents, which need a postmortem",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.postmortems.written",
        Unit::Count,
        Higher,
        "Required incidents a postmortem file names",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.postmortems.reviewed_on_time",
        Unit::Count,
        Higher,
        "Required incidents whose postmortem was reviewed within the allowed days of resolution",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.postmortems.coverage",
        Unit::Ratio,
        Higher,
        "Share of required incidents with a postmortem reviewed on time",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.total",
        Unit::Count,
        Neither,
        "Action items of the postmortems of the window's incidents",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.done",
        Unit::Count,
        Higher,
        "Action items done (by their file, or a commit or pull request naming them)",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.done_on_time",
        Unit::Count,
        Higher,
        "Action items done no later than due",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.open",
        Unit::Count,
        Lower,
        "Action items not done",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.overdue",
        Unit::Count,
        Lower,
        "Open action items past due at the end of the window",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.completion_rate",
        Unit::Ratio,
        Higher,
        "Share of action items done",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.actions.on_time_rate",
        Unit::Ratio,
        Higher,
        "Share of action items done on time",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.repeats.repeats",
        Unit::Count,
        Lower,
        "Incidents repeating an earlier one of their service (fingerprint or contributing factor, within 90 days)",
        INCIDENTS,
    ),
    m(
        Incidents,
        "incidents.repeats.rate",
        Unit::Ratio,
        Lower,
        "Share of the window's incidents that are repeats",
        INCIDENTS,
    ),
    m(
        Slo,
        "slo.target",
        Unit::Ratio,
        Neither,
        "The SLO's objective",
        SLO,
    ),
    m(
        Slo,
        "slo.sli",
        Unit::Ratio,
        Higher,
        "Good events (Timeslices: good slices) over all in the SLO's window, now",
        SLO,
    ),
    m(
        Slo,
        "slo.budget_remaining",
        Unit::Ratio,
        Higher,
        "Share of the error budget left in the window: 1 − (1 − SLI)/(1 − target)",
        SLO,
    ),
    m(
        Slo,
        "slo.good",
        Unit::Count,
        Neither,
        "Good events (or slices) in the window",
        SLO,
    ),
    m(
        Slo,
        "slo.total",
        Unit::Count,
        Neither,
        "Events (or slices with events) in the window",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.5m",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 5m ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.30m",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 30m ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.1h",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 1h ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.2h",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 2h ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.6h",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 6h ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.1d",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 1d ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Slo,
        "slo.burn_rates.3d",
        Unit::Ratio,
        Lower,
        "Error budget burn rate over the 3d ending now (1: the budget lasts exactly the window)",
        SLO,
    ),
    m(
        Ai,
        "ai.changes.total",
        Unit::Count,
        Neither,
        "Changes (non-merge commits on HEAD) in the window",
        AI,
    ),
    m(
        Ai,
        "ai.changes.human",
        Unit::Count,
        Neither,
        "Changes (non-merge commits on HEAD) by people alone",
        AI,
    ),
    m(
        Ai,
        "ai.changes.ai_assisted",
        Unit::Count,
        Neither,
        "Changes (non-merge commits on HEAD) an assistant helped write",
        AI,
    ),
    m(
        Ai,
        "ai.changes.ai_authored",
        Unit::Count,
        Neither,
        "Changes (non-merge commits on HEAD) an AI agent wrote",
        AI,
    ),
    m(
        Ai,
        "ai.lines.total",
        Unit::Lines,
        Neither,
        "Lines changed in the window",
        AI,
    ),
    m(
        Ai,
        "ai.lines.human",
        Unit::Lines,
        Neither,
        "Lines changed by people alone",
        AI,
    ),
    m(
        Ai,
        "ai.lines.ai_assisted",
        Unit::Lines,
        Neither,
        "Lines changed an assistant helped write",
        AI,
    ),
    m(
        Ai,
        "ai.lines.ai_authored",
        Unit::Lines,
        Neither,
        "Lines changed an AI agent wrote",
        AI,
    ),
    m(
        Ai,
        "ai.ai_share",
        Unit::Ratio,
        Neither,
        "Share of changes AI-assisted or AI-authored",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.change_failure.human.rate",
        Unit::Ratio,
        Lower,
        "Change failure (first deployment failed, or reverted within 90 days): rate of human changes",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.change_failure.ai.rate",
        Unit::Ratio,
        Lower,
        "Change failure (first deployment failed, or reverted within 90 days): rate of AI changes",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.change_failure.size_weighted_difference",
        Unit::Ratio,
        Lower,
        "Change failure (first deployment failed, or reverted within 90 days): AI minus human, weighted by the human size mix",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.rework.human.rate",
        Unit::Ratio,
        Lower,
        "Rework (a fix or revert of its files within 21 days): rate of human changes",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.rework.ai.rate",
        Unit::Ratio,
        Lower,
        "Rework (a fix or revert of its files within 21 days): rate of AI changes",
        AI,
    ),
    m(
        Ai,
        "ai.outcomes.rework.size_weighted_difference",
        Unit::Ratio,
        Lower,
        "Rework (a fix or revert of its files within 21 days): AI minus human, weighted by the human size mix",
        AI,
    ),
    m(
        Product,
        "product.activation.cohort",
        Unit::Count,
        Neither,
        "Users whose signup is in the window and at least within_days before its end",
        PRODUCT,
    ),
    m(
        Product,
        "product.activation.activated",
        Unit::Count,
        Higher,
        "Of the cohort, users who did every criteria event within within_days of signup",
        PRODUCT,
    ),
    m(
        Product,
        "product.activation.rate",
        Unit::Ratio,
        Higher,
        "Activated users / cohort",
        PRODUCT,
    ),
    m(
        Product,
        "product.time_to_value.users",
        Unit::Count,
        Neither,
        "Users whose signup is in the window",
        PRODUCT,
    ),
    m(
        Product,
        "product.time_to_value.reached",
        Unit::Count,
        Higher,
        "Of them, users with a value event before the window's end",
        PRODUCT,
    ),
    m(
        Product,
        "product.time_to_value.p50_seconds",
        Unit::Seconds,
        Lower,
        "Time from signup to the first value event, median (nearest rank)",
        PRODUCT,
    ),
    m(
        Product,
        "product.time_to_value.p75_seconds",
        Unit::Seconds,
        Lower,
        "Time from signup to the first value event, 75th percentile (nearest rank)",
        PRODUCT,
    ),
    m(
        Product,
        "product.feature.users",
        Unit::Count,
        Higher,
        "Distinct users with any of the feature's events in the window",
        PRODUCT,
    ),
    m(
        Product,
        "product.feature.active_users",
        Unit::Count,
        Neither,
        "Distinct users with any event in the window",
        PRODUCT,
    ),
    m(
        Product,
        "product.feature.usage",
        Unit::Ratio,
        Higher,
        "Feature users / active users",
        PRODUCT,
    ),
    m(
        Product,
        "product.stickiness.dau_avg",
        Unit::Count,
        Higher,
        "Mean daily active users over the window's last 30 days",
        PRODUCT,
    ),
    m(
        Product,
        "product.stickiness.mau",
        Unit::Count,
        Higher,
        "Distinct users active over the window's last 30 days",
        PRODUCT,
    ),
    m(
        Product,
        "product.stickiness.ratio",
        Unit::Ratio,
        Higher,
        "DAU / MAU over the window's last 30 days",
        PRODUCT,
    ),
    m(
        Scorecard,
        "scorecard.level",
        Unit::Count,
        Higher,
        "The service's scorecard level: 0 for none, 1 for the lowest level and so on",
        SCORECARD,
    ),
    m(
        Wellbeing,
        "wellbeing.people",
        Unit::Count,
        Neither,
        "Distinct authors of the group's commits (a count, never a list)",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.commits.total",
        Unit::Count,
        Neither,
        "Non-merge commits of the group in the window",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.commits.off_hours_share",
        Unit::Ratio,
        Lower,
        "Share of commits made outside working time, in their authors' local time",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.commits.weekend_share",
        Unit::Ratio,
        Lower,
        "Share of commits made on a local Saturday or Sunday",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.commits.late_night_share",
        Unit::Ratio,
        Lower,
        "Share of commits made between 22:00 and 06:00 local time",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.deployments.share",
        Unit::Ratio,
        Lower,
        "Share of production deployments finished outside working time in the team's time zone",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.pages.night_share",
        Unit::Ratio,
        Lower,
        "Share of pages between 22:00 and 06:00 in the team's time zone",
        WELLBEING,
    ),
    m(
        Wellbeing,
        "wellbeing.pages.disrupted_hours",
        Unit::Count,
        Lower,
        "Distinct clock hours with a page outside working time",
        WELLBEING,
    ),
    m(
        Planning,
        "planning.resolved",
        Unit::Count,
        Neither,
        "Tracker issues resolved in the window",
        PLANNING,
    ),
    m(
        Planning,
        "planning.lead_time.median_seconds",
        Unit::Seconds,
        Lower,
        "Median issue lead time: first In Progress to the first production deployment of a linked change, else the resolution",
        PLANNING,
    ),
    m(
        Planning,
        "planning.lead_time.p90_seconds",
        Unit::Seconds,
        Lower,
        "90th percentile issue lead time",
        PLANNING,
    ),
    m(
        Planning,
        "planning.time_in.indeterminate.median_seconds",
        Unit::Seconds,
        Lower,
        "Median time resolved issues spent In Progress",
        PLANNING,
    ),
    m(
        Planning,
        "planning.defects.share",
        Unit::Ratio,
        Lower,
        "Share of the issues resolved in the window that are defects (Bug, Defect)",
        PLANNING,
    ),
    m(
        Planning,
        "planning.defects.escaped",
        Unit::Count,
        Lower,
        "Resolved defects linked to an incident (its title names the key, or its fix commit is linked)",
        PLANNING,
    ),
    m(
        Planning,
        "planning.sprint_accuracy",
        Unit::Ratio,
        Higher,
        "Issues committed at the start of the sprints closed in the window that were done at their close, over all committed",
        PLANNING,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_start_with_their_family() {
        let mut names: Vec<&str> = CATALOG.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len());
        for metric in CATALOG {
            let (family, path) = metric.name.split_once('.').unwrap();
            assert_eq!(family, metric.family.as_str(), "{}", metric.name);
            assert_eq!(path, metric.path());
            assert!(metric.docs.starts_with("docs/metrics.md#"));
        }
        assert!(CATALOG.len() >= 25);
        assert_eq!(
            find("dora.lead_time.median_seconds").map(Metric::path),
            Some("lead_time.median_seconds")
        );
        assert!(find("dora.nothing").is_none());
    }
}
