// leadline dashboard: one page per metric family, each drawn from its family's API — Delivery
// (/api/v1/dora: the five DORA keys per service, weekly trends, the rows behind any number),
// Flow (/api/v1/flow: pull request phases, reviews and builds per group), Code health
// (/api/v1/health: hotspots with their complexity trend, coupling, knowledge risks), Debt
// (/api/v1/debt and /api/v1/capacity) and Reliability (/api/v1/incidents: lifecycle times,
// postmortems, action items, repeats). The page, the window, the environment, the service and
// the team live in the URL, so a view can be shared. Every shown number carries its exact API
// value in data-value, so tests (and curious users) can check one against the other.
"use strict";

const errors = [];
function reportError(message) {
  errors.push(String(message));
  const box = document.getElementById("errors");
  box.hidden = false;
  box.textContent = errors.join("\n");
}
window.addEventListener("error", (e) => reportError(e.message));
window.addEventListener("unhandledrejection", (e) => reportError(e.reason && e.reason.message || e.reason));

const DAY = 86400;
const KEYS = [
  { id: "deployment_frequency", title: "Deployment frequency", value: (k) => k.per_day,
    show: (v) => v == null ? "–" : (v >= 1 ? v.toFixed(1) + "/day" : (v * 7).toFixed(1) + "/week"),
    detail: (k) => k.deployments + " deployments" },
  { id: "lead_time", title: "Lead time (median)", value: (k) => k.median_seconds, show: duration,
    detail: (k) => k.changes + " changes, p90 " + duration(k.p90_seconds) },
  { id: "change_failure_rate", title: "Change failure rate", value: (k) => k.rate, show: percent,
    detail: (k) => k.failed_deployments + " of " + k.deployments + " deployments" },
  { id: "recovery_time", title: "Recovery time (median)", value: (k) => k.median_seconds, show: duration,
    detail: (k) => k.incidents + " incidents resolved" },
  { id: "rework_rate", title: "Rework rate", value: (k) => k.rate, show: percent,
    detail: (k) => k.rework_deployments + " of " + k.deployments + " deployments" },
];

function duration(s) {
  if (s == null) return "–";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 2 * DAY) return (s / 3600).toFixed(1) + " h";
  return (s / DAY).toFixed(1) + " days";
}
function percent(r) { return r == null ? "–" : (r * 100).toFixed(1) + "%"; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return node;
}

function token() { return sessionStorage.getItem("leadline-token") || ""; }

async function api(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v != null && v !== "") url.searchParams.set(k, v);
  const headers = token() ? { Authorization: "Bearer " + token() } : {};
  const response = await fetch(url, { headers });
  if (response.status === 401) {
    document.getElementById("auth").hidden = false;
    throw new Error("the server needs an API token");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// What the URL asks for: the page and its filters.
const query = new URLSearchParams(location.search);
const PAGE_NAMES = ["delivery", "flow", "health", "debt", "reliability", "outcomes", "scorecards"];
const page = PAGE_NAMES.includes(query.get("page")) ? query.get("page") : "delivery";
for (const id of ["since", "until", "env", "preset"]) {
  const v = query.get(id);
  if (v != null && v !== "") document.getElementById(id).value = v;
}

// The window asked for. "Last N days" ends where the data ends (the family's own default end,
// `defaultUntil`, asked of the API) unless an end is given.
async function windowParams(defaultUntil) {
  const env = document.getElementById("env").value.trim() || "production";
  const since = document.getElementById("since").value;
  const until = document.getElementById("until").value;
  const preset = document.getElementById("preset").value;
  const params = { env, since, until };
  if (preset && !since) {
    const end = until ? Date.parse(until) : Date.parse(await defaultUntil());
    params.since = new Date(end - preset * DAY * 1000).toISOString();
    if (!until) params.until = new Date(end).toISOString();
  }
  return params;
}

// The navigation keeps the window and filters; the current page is marked.
function showPage() {
  for (const section of document.querySelectorAll("main > section[data-page]")) {
    section.hidden = section.dataset.page !== page;
  }
  for (const link of document.querySelectorAll("nav#pages a")) {
    const target = new URLSearchParams(location.search);
    target.set("page", link.dataset.page);
    link.href = "?" + target.toString();
    if (link.dataset.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const label of document.querySelectorAll("label[data-for]")) {
    label.hidden = label.dataset.for !== page;
  }
}

function keyCard(report, service, previous) {
  const grid = el("div", { class: "keys" });
  for (const key of KEYS) {
    const k = report[key.id];
    const value = key.value(k);
    const band = k.band;
    const button = el("button", { class: "value", type: "button", title: "Show the rows behind this number",
      "data-service": service || "", "data-key": key.id, "data-value": value == null ? "null" : String(value) },
      key.show(value));
    button.addEventListener("click", () => {
      location.hash = "explain=" + encodeURIComponent(service || "");
    });
    const box = el("div", { class: "key" }, el("h3", {}, key.title), button, " ",
      band ? el("span", { class: "band " + band, "data-band": band }, band) : "",
      el("div", { class: "detail" }, key.detail(k)));
    if (previous) {
      const before = key.value(previous[key.id]);
      if (before != null && value != null) {
        const arrow = value > before ? "▲" : value < before ? "▼" : "=";
        box.append(el("div", { class: "trend" }, arrow + " previous window " + key.show(before)));
      }
    }
    grid.append(box);
  }
  return grid;
}

function trendChart(series, width) {
  const xs = series.map((r) => Date.parse(r.since) / 1000);
  const deploys = series.map((r) => r.deployment_frequency.deployments);
  const lead = series.map((r) => r.lead_time.median_seconds == null ? null : r.lead_time.median_seconds / 3600);
  const holder = el("div", { class: "chart" });
  /* global uPlot */
  new uPlot({
    width, height: 180,
    series: [{}, { label: "deployments / week", stroke: "#2f6db5", width: 2, scale: "n" },
      { label: "lead time median (h)", stroke: "#b27b00", width: 2, scale: "h", spanGaps: true }],
    axes: [{}, { scale: "n" }, { scale: "h", side: 1, grid: { show: false } }],
  }, [xs, deploys, lead], holder);
  return holder;
}

function previousParams(report) {
  const since = Date.parse(report.since), until = Date.parse(report.until);
  return { since: new Date(2 * since - until).toISOString(), until: new Date(since).toISOString() };
}

async function renderDelivery(params) {
  const overall = await api("/api/v1/dora", params);
  // Every later request uses the window the server chose, so all numbers share it.
  const window_ = { env: params.env, since: overall.since, until: overall.until };
  document.getElementById("window-shown").textContent =
    "Window " + overall.since.slice(0, 10) + " to " + overall.until.slice(0, 10) + " (end exclusive, UTC)" +
    " · deployments: " + overall.basis.deployments + " · incidents: " + overall.basis.incidents;
  const overallPrevious = await api("/api/v1/dora", { env: params.env, ...previousParams(overall) });
  const overallBox = document.getElementById("overall");
  overallBox.replaceChildren(el("div", { class: "card", "data-service": "" },
    el("h2", {}, "All services"), keyCard(overall, null, overallPrevious)));
  document.getElementById("anomalies").replaceChildren(await renderAnomalies(overall.since, overall.until));
  const all = (await api("/api/v1/services")).services;
  // ?service=NAME shows that service alone.
  const only = query.get("service");
  const services = only ? all.filter((s) => s === only) : all;
  const list = document.getElementById("services");
  list.replaceChildren();
  const width = Math.min(1100, list.clientWidth || 800) - 40;
  for (const service of services) {
    const [report, previous, series] = await Promise.all([
      api("/api/v1/dora", { ...window_, service }),
      api("/api/v1/dora", { env: params.env, service, ...previousParams(overall) }),
      api("/api/v1/dora", { ...window_, service, by: "week" }),
    ]);
    const card = el("div", { class: "card", "data-service": service }, el("h2", {}, service),
      keyCard(report, service, previous));
    list.append(card);
    // The chart fits the card as laid out (phones included).
    card.append(trendChart(series, Math.max(240, Math.min(width, card.clientWidth - 40))));
  }
  list.dataset.window = JSON.stringify(window_);
  await showExplainFromHash();
  return services.length + " services";
}

// Weeks the detector proposes for a person's judgement (weeks starting in the window), with
// how often people confirmed past proposals. Judging is `leadline anomalies ack|dismiss` or
// the API's write scope: the dashboard only reads.
async function renderAnomalies(since, until) {
  const [found, precision] = await Promise.all([
    api("/api/v1/anomalies", { since, until }),
    api("/api/v1/anomalies/precision"),
  ]);
  const unitOf = (metric) => (metric.endsWith("_seconds") ? duration
    : metric.endsWith(".rate") || metric.endsWith("_rate") || metric.endsWith("_fifth") ? percent
      : (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2)));
  const scopeOf = (s) => Object.entries(s).map(([k, v]) => k + " " + v).join("");
  const table = rowsTable("anomalies", [
    { title: "Week", show: (p) => p.week, attrs: (p) => ({ "data-anomaly": p.id }) },
    { title: "Metric", show: (p) => p.metric },
    { title: "Scope", show: (p) => scopeOf(p.scope) },
    { title: "Kind", show: (p) => p.kind + " " + p.direction },
    { title: "Value", numeric: true, show: (p) => unitOf(p.metric)(p.value),
      attrs: (p) => ({ "data-value": String(p.value) }) },
    { title: "Baseline", numeric: true, show: (p) => unitOf(p.metric)(p.baseline) },
    { title: "Band", show: (p) => unitOf(p.metric)(p.low) + " – " + unitOf(p.metric)(p.high) },
    { title: "State", show: (p) => p.state + (p.reason ? " (" + p.reason + ")" : ""),
      attrs: (p) => ({ "data-state": p.state }) },
  ], found);
  const judged = precision.acknowledged + precision.dismissed;
  return el("div", { class: "card", "data-card": "anomalies" },
    el("h2", {}, "Proposed anomalies"),
    el("p", { class: "detail" }, "Weeks far from their own recent baseline, per service and team; a person confirms or dismisses each (leadline anomalies ack|dismiss ID)"),
    found.length ? table : el("p", { "data-anomalies": "none" }, "Nothing proposed in this window."),
    el("p", { "data-precision": precision.precision == null ? "null" : String(precision.precision) },
      judged ? "People confirmed " + precision.acknowledged + " and dismissed " + precision.dismissed +
        " of the proposals they judged (live precision " + percent(precision.precision) + ")"
        : "No proposal judged yet"));
}

// The figures of a flow group, by their metric paths (`leadline metric flow.PATH`).
const FLOW_FIGURES = [
  ["pull_requests.merged", "Pull requests merged", (v) => v],
  ["pull_requests.cycle_time.median_seconds", "Cycle time (median)", duration],
  ["pull_requests.coding.median_seconds", "Coding (median)", duration],
  ["pull_requests.pickup.median_seconds", "Pickup (median)", duration],
  ["pull_requests.review.median_seconds", "Review (median)", duration],
  ["pull_requests.deploy.median_seconds", "Deploy (median)", duration],
  ["pull_requests.merged_without_review", "Merged without review", percent],
  ["pull_requests.reviews_per_pull_request", "Reviews per pull request", (v) => v == null ? "–" : v.toFixed(2)],
  ["pull_requests.large_share", "Large pull requests", percent],
  ["pull_requests.rework_share", "Rework after review", percent],
  ["builds.failure_rate", "Build failure rate", percent],
  ["builds.flaky_rate", "Flaky runs", percent],
  ["builds.duration.median_seconds", "Build duration (median)", duration],
  ["builds.queue.median_seconds", "Build queue (median)", duration],
];

function at(object, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), object);
}

async function renderFlow(params) {
  const section = document.getElementById("flow");
  const flowParams = { since: params.since, until: params.until };
  const [report, weekly] = await Promise.all([
    api("/api/v1/flow", flowParams),
    api("/api/v1/flow", { ...flowParams, by: "week" }),
  ]);
  document.getElementById("window-shown").textContent =
    "Window " + report.since.slice(0, 10) + " to " + report.until.slice(0, 10) + " (end exclusive, UTC)";
  // ?team=NAME shows that group alone.
  const only = query.get("team");
  const groups = report.groups.filter((g) => !only || g.group === only);
  const cards = groups.map((g) => {
    const figures = el("div", { class: "figures" }, ...FLOW_FIGURES.map(([path, title, show]) => {
      const value = at(g, path);
      return el("div", { class: "key" }, el("h3", {}, title),
        el("span", { class: "value", "data-flow": g.group, "data-key": path,
          "data-value": value == null ? "null" : String(value) }, show(value)));
    }));
    const card = el("div", { class: "card", "data-group": g.group }, el("h2", {}, g.group === "all" ? "All pull requests" : g.group), figures);
    const series = weekly.map((w) => (w.groups.find((x) => x.group === g.group) || null));
    if (series.some((x) => x)) {
      card.append(flowChart(weekly, series, Math.max(240, Math.min(1060, (section.clientWidth || 800) - 60))));
    }
    return card;
  });
  const o = report.onboarding;
  cards.push(el("div", { class: "card" }, el("h2", {}, "Onboarding"),
    el("p", { "data-onboarding": String(o.newcomers) }, o.newcomers + (o.newcomers === 1 ? " newcomer" : " newcomers") + "; first to tenth change " +
      duration(o.to_tenth_change.median_seconds) + " (median)")));
  if (!groups.length) {
    cards.unshift(el("p", {}, "No group to show: too few people merged pull requests in the window to report without naming anyone, or no forge was synced."));
  }
  section.replaceChildren(...cards);
  section.append(await renderAi(report.since, report.until));
  section.append(await renderWellbeing(report.since, report.until));
  section.append(await renderPulse());
  section.append(await renderPlanning());
  return groups.length + " groups";
}

// AI-assisted and AI-authored changes over the flow window: shares, and outcomes against
// human changes of similar size (repository level, never people).
async function renderAi(since, until) {
  const r = await api("/api/v1/ai", { since, until });
  const figure = (path, value, show) => el("span", { class: "value", "data-ai": path,
    "data-value": value == null ? "null" : String(value) }, show(value));
  const card = el("div", { class: "card", "data-card": "ai" }, el("h2", {}, "AI-assisted changes"),
    el("p", { class: "detail" }, "Changes are non-merge commits on HEAD; AI marks come from trailers and agent identities only"),
    el("div", { class: "figures" },
      el("div", { class: "key" }, el("h3", {}, "AI share of changes"), figure("ai_share", r.ai_share, percent)),
      ...["human", "ai_assisted", "ai_authored"].map((k) =>
        el("div", { class: "key" }, el("h3", {}, k.replace("_", " ") + " changes"), figure("changes." + k, r.changes[k], (v) => v)))));
  for (const [key, title] of [["change_failure", "Change failure"], ["rework", "Rework"]]) {
    const o = r.outcomes[key];
    card.append(el("p", {}, title + ": human " + percent(o.human.rate) + " of " + o.human.changes +
      ", AI " + percent(o.ai.rate) + " of " + o.ai.changes + " · ",
      o.note ? el("span", { "data-ai": "outcomes." + key + ".note", "data-value": o.note }, o.note)
        : figure("outcomes." + key + ".size_weighted_difference", o.size_weighted_difference,
          (v) => (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + " points (size-weighted)")));
  }
  return card;
}

// When teams work, by their own local time: team level only, groups under the floor folded
// away by the server.
async function renderWellbeing(since, until) {
  const r = await api("/api/v1/wellbeing", { since, until });
  const card = el("div", { class: "card", "data-card": "wellbeing" }, el("h2", {}, "Sustainable pace"),
    el("p", { class: "detail" }, "Commits by their authors' local time, deployments and pages in the team's time zone; teams only, never people"));
  if (!r.groups.length) {
    card.append(el("p", {}, "No team has enough people in this window to show without pointing at anyone."));
    return card;
  }
  card.append(rowsTable("wellbeing", [
    { title: "Group", show: (g) => g.group, attrs: (g) => ({ "data-wellbeing": g.group }) },
    { title: "People", numeric: true, show: (g) => String(g.people) },
    { title: "Commits", numeric: true, show: (g) => String(g.commits.total) },
    { title: "Off hours", numeric: true, show: (g) => percent(g.commits.off_hours_share),
      attrs: (g) => ({ "data-off-hours": g.commits.off_hours_share == null ? "null" : String(g.commits.off_hours_share) }) },
    { title: "Weekend", numeric: true, show: (g) => percent(g.commits.weekend_share) },
    { title: "Late night", numeric: true, show: (g) => percent(g.commits.late_night_share) },
    { title: "Night pages", numeric: true, show: (g) => percent(g.pages.night_share) },
  ], r.groups));
  return card;
}

// Pulse surveys: each team's scores wave by wave, never a respondent; teams under the floor
// are folded into `other` by the server.
async function renderPulse() {
  const groups = await api("/api/v1/survey", { by: "wave" });
  const card = el("div", { class: "card", "data-card": "survey" }, el("h2", {}, "Team pulse"),
    el("p", { class: "detail" }, "Anonymous survey scores per team and wave (psychological safety 1-7, developer experience 1-5); flow beside them is an association, not a cause"));
  if (!groups.length) {
    card.append(el("p", {}, "No survey wave yet: leadline import survey FILE --instrument NAME --wave YYYY-MM."));
    return card;
  }
  const fixed = (v) => (v == null ? "n/a" : v.toFixed(2));
  card.append(rowsTable("survey", [
    { title: "Instrument", show: (g) => g.instrument.replace(/_/g, " ") },
    { title: "Group", show: (g) => g.group },
    { title: "Wave", show: (g) => g.wave },
    { title: "Respondents", numeric: true, show: (g) => String(g.respondents) },
    { title: "Scores", show: (g) => el("span", {}, ...Object.entries(g.scores).map(([name, v]) =>
      el("span", { class: "score", "data-survey": g.instrument + "/" + g.group + "/" + g.wave + "/" + name,
        "data-value": v == null ? "null" : String(v) }, name.replace(/_/g, " ") + " " + fixed(v) + " "))) },
  ], groups));
  return card;
}

// Planning from Jira: issue lead time, resolved issues and each closed sprint's accuracy, for
// teams as a whole (never an assignee).
async function renderPlanning() {
  const r = await api("/api/v1/planning", {});
  const card = el("div", { class: "card", "data-card": "planning" }, el("h2", {}, "Planning (Jira)"),
    el("p", { class: "detail" }, "Issue lead time runs from the first In Progress to the first production deployment of a linked change (else the resolution); accuracy is the share of a sprint's committed issues done at its close"));
  if (!r.resolved && !r.sprints.length) {
    card.append(el("p", {}, "No Jira issues resolved in this window: leadline ingest jira PROJECT."));
    return card;
  }
  const figure = (label, path, value, show) => el("span", { class: "score", "data-planning": path,
    "data-value": value == null ? "null" : String(value) }, label + " " + show(value) + " ");
  card.append(el("p", {},
    figure("resolved", "resolved", r.resolved, String),
    figure("lead time median", "lead_time.median_seconds", r.lead_time.median_seconds, duration),
    figure("p90", "lead_time.p90_seconds", r.lead_time.p90_seconds, duration),
    figure("defects", "defects.share", r.defects.share, percent),
    figure("escaped", "defects.escaped", r.defects.escaped, String)));
  if (r.sprints.length) {
    card.append(rowsTable("sprints", [
      { title: "Sprint", show: (s) => s.sprint },
      { title: "Committed", numeric: true, show: (s) => String(s.committed) },
      { title: "Done", numeric: true, show: (s) => String(s.done) },
      { title: "Accuracy", numeric: true, show: (s) => percent(s.accuracy),
        attrs: (s) => ({ "data-sprint": s.sprint, "data-value": s.accuracy == null ? "null" : String(s.accuracy) }) },
      { title: "Added", numeric: true, show: (s) => String(s.added) },
      { title: "Carried over", numeric: true, show: (s) => String(s.carried_over) },
    ], r.sprints));
  }
  return card;
}

function flowChart(weeks, series, width) {
  const xs = weeks.map((w) => Date.parse(w.since) / 1000);
  const merged = series.map((g) => (g ? g.pull_requests.merged : null));
  const cycle = series.map((g) => (g && g.pull_requests.cycle_time.median_seconds != null
    ? g.pull_requests.cycle_time.median_seconds / 3600 : null));
  const holder = el("div", { class: "chart" });
  /* global uPlot */
  new uPlot({
    width, height: 160,
    series: [{}, { label: "merged / week", stroke: "#2f6db5", width: 2, scale: "n" },
      { label: "cycle time median (h)", stroke: "#b27b00", width: 2, scale: "h", spanGaps: true }],
    axes: [{}, { scale: "n" }, { scale: "h", side: 1, grid: { show: false } }],
  }, [xs, merged, cycle], holder);
  return holder;
}

async function renderDebtPage() {
  await renderDebt();
  await renderCapacity();
  return "debt and capacity";
}

// The stakeholder report (/report) over the window asked for; with a token, fetched with it
// (a plain link cannot carry one) and opened as a page of its own.
function reportLink() {
  const link = document.getElementById("report-link");
  const target = new URLSearchParams();
  for (const id of ["since", "until"]) if (query.get(id)) target.set(id, query.get(id));
  link.href = "/report" + (target.toString() ? "?" + target.toString() : "");
  link.onclick = async (event) => {
    if (!token()) return;
    event.preventDefault();
    const response = await fetch(link.href, { headers: { Authorization: "Bearer " + token() } });
    if (!response.ok) {
      document.getElementById("status").textContent = "the report: " + response.statusText;
      return;
    }
    const page = new Blob([await response.text()], { type: "text/html" });
    window.open(URL.createObjectURL(page), "_blank");
  };
}

async function render() {
  showPage();
  reportLink();
  const status = document.getElementById("status");
  status.textContent = "loading…";
  const ends = {
    delivery: async () => (await api("/api/v1/dora", { env: document.getElementById("env").value.trim() })).until,
    flow: async () => (await api("/api/v1/flow")).until,
    reliability: async () => (await api("/api/v1/incidents")).until,
    outcomes: async () => (await api("/api/v1/product")).until,
    scorecards: async () => new Date().toISOString(),
  };
  const params = await windowParams(ends[page] || (async () => new Date().toISOString()));
  const pages = { delivery: renderDelivery, flow: renderFlow, health: renderHealth, debt: renderDebtPage,
    reliability: renderReliability, outcomes: renderOutcomes, scorecards: renderScorecards };
  const shown = await pages[page](params);
  status.textContent = shown;
  status.dataset.state = "ready";
  status.dataset.page = page;
}

const HEALTH_TOP = 5;

// Plain rows with a data-value on the cells tests compare with the API.
function rowsTable(label, columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", c.numeric ? { class: "num" } : {}, c.title)));
  const body = rows.map((r) => el("tr", {}, ...columns.map((c) => {
    const td = el("td", c.attrs ? c.attrs(r) : {}, c.show(r));
    if (c.numeric) td.className = "num";
    return td;
  })));
  return el("table", { "data-table": label }, el("thead", {}, head), el("tbody", {}, ...body));
}

async function renderHealth() {
  const section = document.getElementById("health");
  const repositories = await api("/api/v1/repositories", { limit: 1 });
  if (!repositories.items.length) {
    section.replaceChildren(el("p", {}, "No repository ingested yet: run leadline ingest git PATH."));
    return "no repositories";
  }
  // An explicit window applies; "last N days" is the delivery and flow pages'.
  const reports = await api("/api/v1/health", { top: HEALTH_TOP, since: query.get("since"), until: query.get("until") });
  section.replaceChildren(...reports.map((r) => {
    const card = el("div", { class: "card", "data-repository": r.repository },
      el("h2", {}, "Code health: " + r.repository),
      el("p", { class: "detail" }, r.since.slice(0, 10) + " to " + r.until.slice(0, 10) +
        " · score = commits × complexity (non-blank lines + indentation) at HEAD"));
    card.append(el("h3", {}, "Hotspots"), rowsTable("hotspots", [
      { title: "file", show: (h) => h.path },
      { title: "commits", numeric: true, show: (h) => h.revisions },
      { title: "complexity", numeric: true, show: (h) => h.complexity },
      { title: "score", numeric: true, show: (h) => h.score,
        attrs: (h) => ({ "data-health": r.repository, "data-path": h.path, "data-value": String(h.score) }) },
      { title: "trend", show: (h) => sparkline(r.trends.find((t) => t.path === h.path)) },
      { title: "months since a change", numeric: true, show: (h) => h.age_months.toFixed(1) },
      ...(r.debt_items ? [{ title: "debt item", show: (h) => (r.debt_items[h.path] || []).join(", ") || "none: a candidate" }] : []),
    ], r.hotspots));
    card.append(el("h3", {}, "Files that change together"), r.coupling.length ? rowsTable("coupling", [
      { title: "file", show: (c) => c.a },
      { title: "with", show: (c) => c.b },
      { title: "shared commits", numeric: true, show: (c) => c.shared + " of " + c.revisions_a + "/" + c.revisions_b },
      { title: "degree", numeric: true, show: (c) => percent(c.degree),
        attrs: (c) => ({ "data-coupling": r.repository, "data-value": String(c.degree) }) },
    ], r.coupling) : el("p", {}, "none above the thresholds"));
    const risky = r.areas.filter((a) => a.knowledge_risk);
    card.append(el("h3", {}, "Knowledge risk"), risky.length
      ? el("p", { "data-risk": risky.map((a) => a.area).join(",") },
        "Every recent author of these areas has left: " + risky.map((a) => a.area).join(", "))
      : el("p", { "data-risk": "" }, "no area depends only on people who left"));
    return card;
  }));
  return reports.length + " repositories";
}

// A hotspot's complexity by month as a small SVG line (text glyphs render as solid bars in
// some fonts), with the first and last values.
function sparkline(trend) {
  const points = trend ? trend.complexity.map((v, i) => [i, v]).filter(([, v]) => v != null) : [];
  if (!points.length) return "";
  const NS = "http://www.w3.org/2000/svg";
  const width = 90, height = 22, pad = 3;
  const values = points.map(([, v]) => v);
  const min = Math.min(...values), max = Math.max(...values);
  const n = Math.max(trend.complexity.length - 1, 1);
  const x = (i) => pad + (i / n) * (width - 2 * pad);
  const y = (v) => (max === min ? height / 2 : height - pad - ((v - min) / (max - min)) * (height - 2 * pad));
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("role", "img");
  svg.setAttribute("data-sparkline", trend.complexity.map((v) => (v == null ? "" : v)).join(","));
  const label = "complexity " + values[0] + " to " + values[values.length - 1] + " by month";
  svg.setAttribute("aria-label", label);
  const title = document.createElementNS(NS, "title");
  title.textContent = label;
  const line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", points.map(([i, v]) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" "));
  const [li, lv] = points[points.length - 1];
  const dot = document.createElementNS(NS, "circle");
  dot.setAttribute("cx", x(li).toFixed(1));
  dot.setAttribute("cy", y(lv).toFixed(1));
  dot.setAttribute("r", "2");
  svg.append(title, line, dot);
  return el("span", {}, svg, " " + values[0] + "→" + values[values.length - 1]);
}

async function renderDebt() {
  const d = await api("/api/v1/debt");
  const p = d.portfolio;
  const section = document.getElementById("debt");
  const figure = (key, label, show) => el("div", { class: "key" }, el("h3", {}, label),
    el("span", { class: "value", "data-debt": key, "data-value": String(p[key]) }, show(p[key])));
  const card = el("div", { class: "card" }, el("h2", {}, "Debt portfolio"),
    el("p", { class: "detail" }, d.register + " as of " + d.today),
    el("div", { class: "keys" },
      figure("open", "Open items", (v) => v),
      figure("overdue", "Past deadline", (v) => v),
      figure("cost_hours", "Cost to repay", (v) => Math.round(v) + " h"),
      figure("interest_hours_per_month", "Interest", (v) => Math.round(v) + " h/month")));
  if (d.items.length) {
    card.append(el("h3", {}, "Open items"), rowsTable("debt-items", [
      { title: "id", show: (i) => i.id },
      { title: "title", show: (i) => i.title },
      { title: "category", show: (i) => i.category },
      { title: "kind", show: (i) => i.kind },
      { title: "owner", show: (i) => i.owner },
      { title: "deadline", show: (i) => i.deadline || "" },
      { title: "days left", numeric: true, show: (i) => i.days_left == null ? "" : i.days_left,
        attrs: (i) => (i.days_left != null && i.days_left < 0 ? { class: "late" } : {}) },
      { title: "hotspots covered", show: (i) => i.hotspots.map((h) => h.path).join(", ") },
    ], d.items));
  }
  if (d.candidates.length) {
    card.append(el("h3", {}, "Hotspots with no debt item"), rowsTable("debt-candidates", [
      { title: "file", show: (c) => c.path },
      { title: "repository", show: (c) => c.repository },
      { title: "score", numeric: true, show: (c) => c.score },
    ], d.candidates));
  }
  section.replaceChildren(card);
}

// The figures of the reliability page: a path of the incidents report, its title, how to show it.
const INCIDENT_FIGURES = [
  ["incidents.total", "Incidents", (v) => v],
  ["time_to_detect.median_seconds", "Time to detect (median)", duration],
  ["time_to_acknowledge.median_seconds", "Time to acknowledge (median)", duration],
  ["time_to_mitigate.median_seconds", "Time to mitigate (median)", duration],
  ["time_to_resolve.median_seconds", "Time to resolve (median)", duration],
  ["postmortems.coverage", "Postmortems reviewed on time", percent],
  ["actions.completion_rate", "Action items done", percent],
  ["actions.on_time_rate", "Action items done on time", percent],
  ["actions.overdue", "Action items overdue", (v) => v],
  ["repeats.rate", "Repeat incidents", percent],
];

// Objectives with their key results (progress bars, projection, status, check-ins) and the
// owner team's delivery; then the product metrics of the window, weekly.
async function renderOutcomes(params) {
  const section = document.getElementById("outcomes");
  const objectives = await api("/api/v1/okrs");
  const number = (v) => (v == null ? "–" : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en") : String(+v.toFixed(4)));
  const shown = (metric, v) => (metric.includes("_seconds") ? (v == null ? "–" : duration(v)) : number(v));
  const cards = objectives.map((o) => {
    const rows = o.key_results.map((k) => {
      const bar = el("progress", { max: "1.5", value: String(k.progress ?? 0), "data-kr": k.id,
        "data-progress": k.progress == null ? "null" : String(k.progress) });
      const checkins = k.checkins.map((c) => c.at.slice(0, 10) + " " + c.confidence + "/10" + (c.note ? " (" + c.note + ")" : "")).join(" · ");
      return el("tr", {},
        el("td", {}, k.id + " " + k.title, el("br"), el("code", {}, k.metric)),
        el("td", { class: "num", "data-kr-current": k.id, "data-value": k.current == null ? "null" : String(k.current) }, shown(k.metric, k.current)),
        el("td", { class: "num" }, shown(k.metric, k.baseline) + " → " + shown(k.metric, k.target)),
        el("td", {}, bar, " ", percent(k.progress)),
        el("td", { class: "num" }, shown(k.metric, k.projection)),
        el("td", { "data-kr-status": k.id }, k.stale ? "stale" : (k.status || "–")),
        el("td", {}, k.confidence == null ? "–" : k.confidence + "/10", checkins ? el("div", { class: "detail" }, checkins) : ""));
    });
    const table = el("table", { "data-table": "key-results" },
      el("thead", {}, el("tr", {}, ...["Key result", "Current", "Baseline → target", "Progress", "Projection", "Status", "Confidence"].map((t) => el("th", {}, t)))),
      el("tbody", {}, ...rows));
    const d = o.delivery;
    const delivery = d ? el("p", { class: "detail", "data-delivery": d.team },
      d.team + " delivered " + (d.pull_requests_merged ?? "–") + " pull requests, cycle time " +
      (d.cycle_time_median_seconds == null ? "–" : duration(d.cycle_time_median_seconds)) + ", debt share " + percent(d.debt_share)) : "";
    return el("div", { class: "card", "data-objective": o.id },
      el("h2", {}, o.id + " " + o.title),
      el("p", { class: "detail" }, o.period.name + (o.owner ? " · " + o.owner : "") + " · progress " + percent(o.progress)),
      table, delivery);
  });
  if (!objectives.length) cards.push(el("p", {}, "No objectives: write okrs.toml (docs/metrics.md, \"OKRs\")."));
  const weekly = await api("/api/v1/product", { since: params.since, until: params.until, by: "week" });
  const product = el("div", { class: "card", "data-card": "product" }, el("h2", {}, "Product"));
  const last = weekly[weekly.length - 1];
  if (last) {
    product.append(el("p", { class: "detail" }, "Week of " + last.since.slice(0, 10) + ": " +
      last.activation.map((a) => a.name + " activation " + percent(a.rate)).concat(
        last.features.map((f) => f.name + " usage " + percent(f.usage))).join(" · ") +
      " · DAU/MAU " + percent(last.stickiness.ratio)));
    const xs = weekly.map((w) => Date.parse(w.since) / 1000);
    const series = [{}];
    const data = [xs];
    for (const [i, a] of last.activation.entries()) {
      series.push({ label: a.name + " activation", stroke: "#2f6db5", width: 2, spanGaps: true });
      data.push(weekly.map((w) => w.activation[i].rate));
    }
    for (const [i, f] of last.features.entries()) {
      series.push({ label: f.name + " usage", stroke: "#b27b00", width: 2, spanGaps: true });
      data.push(weekly.map((w) => w.features[i].usage));
    }
    if (series.length > 1) {
      const holder = el("div", { class: "chart" });
      /* global uPlot */
      new uPlot({ width: Math.max(240, Math.min(1060, (section.clientWidth || 800) - 60)), height: 160, series }, data, holder);
      product.append(holder);
    }
  }
  section.replaceChildren(...cards, product);
  return objectives.length + " objectives";
}

// Services by level (a level counts only when every lower level passes too), each with its
// checks to drill into: what passed, the evidence, and the hint of what fails.
async function renderScorecards() {
  const section = document.getElementById("scorecards");
  const cards = await api("/api/v1/scorecards");
  const levels = [...new Set(cards.flatMap((c) => c.checks.map((k) => k.level)))];
  const head = el("tr", {}, el("th", {}, "Service"), el("th", {}, "Level"),
    ...levels.map((l) => el("th", {}, l + " checks")));
  const rows = cards.map((c) => el("tr", {},
    el("td", {}, c.service),
    el("td", { "data-scorecard": c.service, "data-level": c.level ?? "none" }, c.level ?? "no level"),
    ...levels.map((l) => {
      const mine = c.checks.filter((k) => k.level === l);
      const passed = mine.filter((k) => k.pass).length;
      return el("td", { class: "num" }, passed + " / " + mine.length);
    })));
  const details = cards.map((c) => el("details", { "data-checks": c.service },
    el("summary", {}, c.service + ": " + (c.level ?? "no level")),
    rowsTable("checks-" + c.service, [
      { title: "Level", show: (k) => k.level },
      { title: "Check", show: (k) => k.name },
      { title: "", show: (k) => (k.pass ? "pass" : "FAIL"), attrs: (k) => ({ "data-pass": String(k.pass) }) },
      { title: "Evidence", show: (k) => k.evidence },
      { title: "Hint", show: (k) => (k.pass ? "" : k.hint || "") },
    ], c.checks)));
  section.replaceChildren(el("div", { class: "card" }, el("h2", {}, "Scorecards"),
    el("table", { "data-table": "scorecards" }, el("thead", {}, head), el("tbody", {}, ...rows)), ...details));
  return cards.length + " services";
}

async function renderReliability(params) {
  const section = document.getElementById("reliability");
  const service = query.get("service") || "";
  const r = await api("/api/v1/incidents", { since: params.since, until: params.until, service, explain: "true" });
  document.getElementById("window-shown").textContent =
    "Window " + r.since.slice(0, 10) + " to " + r.until.slice(0, 10) + " (end exclusive, UTC)";
  const s = r.incidents.by_severity;
  const card = el("div", { class: "card" }, el("h2", {}, "Incidents" + (r.service ? ": " + r.service : "")),
    el("p", { class: "detail" }, "sev1 " + s.sev1 + " · sev2 " + s.sev2 + " · sev3 " + s.sev3 + " · sev4 " + s.sev4 +
      " · unknown " + s.unknown + " · no responder or author is named"),
    el("div", { class: "figures" }, ...INCIDENT_FIGURES.map(([path, title, show]) => {
      const value = at(r, path);
      return el("div", { class: "key" }, el("h3", {}, title),
        el("span", { class: "value", "data-incidents": path, "data-value": value == null ? "null" : String(value) },
          value == null ? "–" : show(value)));
    })));
  const e = r.explain;
  if (e.incidents.length) {
    card.append(el("h3", {}, "Incidents in the window"), rowsTable("incidents", [
      { title: "id", show: (i) => i.id },
      { title: "service", show: (i) => i.service },
      { title: "severity", show: (i) => i.severity },
      { title: "opened", show: (i) => i.opened_at.slice(0, 16).replace("T", " ") },
      { title: "to resolve", numeric: true, show: (i) => i.time_to_resolve_seconds == null ? "open" : duration(i.time_to_resolve_seconds) },
      { title: "postmortems", show: (i) => i.postmortems.join(", ") },
      { title: "repeat of", show: (i) => i.repeat_of || "" },
    ], e.incidents));
  }
  if (e.actions.length) {
    card.append(el("h3", {}, "Postmortem action items"), rowsTable("actions", [
      { title: "action", show: (a) => a.reference },
      { title: "title", show: (a) => a.title },
      { title: "owner", show: (a) => a.owner || "" },
      { title: "priority", show: (a) => a.priority },
      { title: "due", show: (a) => a.due || "" },
      { title: "state", show: (a) => a.state, attrs: (a) => ({ "data-action": a.reference, "data-value": a.state }) },
      { title: "evidence", show: (a) => (a.evidence ? a.evidence.kind.replace("_", " ") + " " + a.evidence.reference : "") },
    ], e.actions));
  }
  section.replaceChildren(card);
  const slos = await renderSlos(r.until);
  if (slos) section.append(slos);
  return r.incidents.total + " incidents";
}

// SLOs at the end of the page's window: budget remaining, burn rates, and each budget's
// burn-down over its window.
async function renderSlos(until) {
  const at = until || new Date().toISOString();
  const statuses = await api("/api/v1/slo", { at });
  if (!statuses.length) return null;
  const card = el("div", { class: "card" }, el("h2", {}, "Service level objectives"),
    el("p", { class: "detail" }, "At " + at.slice(0, 16).replace("T", " ") + " UTC · burn rate 1 = spending the budget exactly over the window"));
  const figure = (s, key, value, show) => ({ "data-slo": s.slo, "data-key": key, "data-value": value == null ? "null" : String(value) });
  card.append(rowsTable("slos", [
    { title: "SLO", show: (s) => s.slo },
    { title: "service", show: (s) => s.service },
    { title: "target", numeric: true, show: (s) => percent(s.target) },
    { title: "SLI", numeric: true, show: (s) => s.sli == null ? "–" : (s.sli * 100).toFixed(3) + "%",
      attrs: (s) => figure(s, "sli", s.sli) },
    { title: "budget left", numeric: true, show: (s) => percent(s.budget_remaining),
      attrs: (s) => figure(s, "budget_remaining", s.budget_remaining) },
    ...["1h", "6h", "1d", "3d"].map((w) => ({ title: "burn " + w, numeric: true,
      show: (s) => s.burn_rates[w] == null ? "–" : s.burn_rates[w].toFixed(2),
      attrs: (s) => figure(s, "burn_rates." + w, s.burn_rates[w]) })),
  ], statuses));
  for (const s of statuses) {
    const points = await api("/api/v1/slo/burndown", { slo: s.slo, at, points: 60 });
    const xs = points.map((p) => Date.parse(p.at) / 1000);
    const ys = points.map((p) => (p.budget_remaining == null ? null : p.budget_remaining * 100));
    const holder = el("div", { class: "chart", "data-burndown": s.slo });
    card.append(el("h3", {}, s.slo + ": budget remaining over its window (%)"), holder);
    /* global uPlot */
    new uPlot({
      width: Math.max(240, Math.min(1060, (document.getElementById("reliability").clientWidth || 800) - 60)),
      height: 160,
      series: [{}, { label: "budget remaining %", stroke: "#b23b3b", width: 2, spanGaps: true }],
    }, [xs, ys], holder);
  }
  return card;
}

async function renderCapacity() {
  const c = await api("/api/v1/capacity", { since: query.get("since"), until: query.get("until") });
  const card = el("div", { class: "card" }, el("h2", {}, "Capacity allocation"),
    el("p", { class: "detail" }, (c.source === "issues" ? "Resolved Jira issues" : "Merged " + c.source.replace("_", " ")) + ", " + c.since.slice(0, 10) +
      " to " + c.until.slice(0, 10) + (c.target == null ? "" : " · debt target " + percent(c.target))));
  if (!c.groups.length) card.append(el("p", {}, c.source === "issues" ? "Nothing to show: no issue was resolved in the window."
    : "Nothing to show: too few authors merged work in the window to report without naming anyone."));
  for (const g of c.groups) {
    card.append(el("h3", {}, g.group), rowsTable("capacity", [
      { title: "month", show: (m) => m.period },
      { title: "feature", numeric: true, show: (m) => m.feature },
      { title: "debt", numeric: true, show: (m) => m.debt },
      { title: "fix", numeric: true, show: (m) => m.fix },
      { title: "other", numeric: true, show: (m) => m.other },
      { title: "debt share", numeric: true, show: (m) => percent(m.debt_share),
        attrs: (m) => ({ "data-capacity": g.group, "data-period": m.period, "data-value": String(m.debt_share) }) },
      { title: "vs target", numeric: true,
        show: (m) => m.versus_target == null ? "" : (m.versus_target >= 0 ? "+" : "") + (m.versus_target * 100).toFixed(0) + " pts" },
    ], g.months));
  }
  document.getElementById("capacity").replaceChildren(card);
}

// The drill-down is addressable: #explain=SERVICE (empty: all services) opens it.
async function showExplainFromHash() {
  const match = location.hash.match(/^#explain=(.*)$/);
  if (!match || page !== "delivery") {
    document.getElementById("explain").hidden = true;
    return;
  }
  const service = decodeURIComponent(match[1]);
  await explain(service || null, "the rows behind the numbers");
}

function cell(v) {
  if (v == null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return v;
}

function table(title, columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", {}, c)));
  const body = rows.map((r) => el("tr", {}, ...columns.map((c) => el("td", {}, cell(r[c])))));
  return [el("h3", {}, title + " (" + rows.length + ")"),
    el("table", { "data-rows": title.toLowerCase() }, el("thead", {}, head), el("tbody", {}, ...body))];
}

async function explain(service, title) {
  const window_ = JSON.parse(document.getElementById("services").dataset.window || "{}");
  const report = await api("/api/v1/dora", { ...window_, service, explain: "true" });
  const e = report.explain;
  document.getElementById("explain-title").textContent = (service || "All services") + ": " + title;
  document.getElementById("explain").dataset.service = service || "";
  document.getElementById("explain-body").replaceChildren(
    ...table("Deployments", Object.keys(e.deployments[0] || { id: 1 }), e.deployments),
    ...table("Changes", Object.keys(e.changes[0] || { sha: 1 }), e.changes),
    ...table("Incidents", Object.keys(e.incidents[0] || { id: 1 }), e.incidents));
  document.getElementById("explain").hidden = false;
}

document.getElementById("explain-close").addEventListener("click", () => {
  history.replaceState(null, "", location.pathname + location.search);
  document.getElementById("explain").hidden = true;
});
window.addEventListener("hashchange", () => showExplainFromHash().catch(reportError));
// Showing a window puts it in the URL (shareable), keeping the page and its filters.
document.getElementById("window").addEventListener("submit", (e) => {
  e.preventDefault();
  const next = new URLSearchParams(location.search);
  next.set("page", page);
  for (const id of ["preset", "since", "until", "env"]) {
    const v = document.getElementById(id).value.trim();
    if (v && !(id === "env" && v === "production")) next.set(id, v);
    else next.delete(id);
  }
  location.search = next.toString();
});
document.getElementById("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("leadline-token", document.getElementById("token").value.trim());
  document.getElementById("auth").hidden = true;
  render().catch(reportError);
});
render().catch(reportError);
