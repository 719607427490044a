//! `leadline ingest jira PROJECT…`: runs the Jira sync of `leadline-sources` and stores each
//! page of issues with the cursor that follows it. An issue's assignee only picks the team it
//! counts for (a `[[teams]]` member by account id, name or email); it is never stored.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use base64::Engine;
use leadline_core::store::{Store, TrackedIssue};
use leadline_sources::forge::{Client, Options};
use leadline_sources::jira::{self, Cursor, Flavour, IssueSink, JiraIssue, Query};

use crate::cli::IngestJiraArgs;
use crate::config::Settings;

const SOURCE: &str = "jira";

struct StoreSink<'a> {
    store: &'a Arc<dyn Store>,
    scope: String,
    teams: &'a [leadline_core::team::Team],
    chatty: bool,
}

impl IssueSink for StoreSink<'_> {
    async fn save(&mut self, issues: Vec<JiraIssue>, cursor: &str) -> Result<(), String> {
        let rows: Vec<TrackedIssue> = issues.into_iter().map(|i| tracked(i, self.teams)).collect();
        self.store
            .upsert_tracked_issues(&rows, Some((SOURCE, &self.scope, cursor)))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn notice(&mut self, message: &str) {
        if self.chatty {
            eprintln!("{}: {message}", self.scope);
        }
    }
}

/// The issue as stored: the assignee replaced by their team.
fn tracked(i: JiraIssue, teams: &[leadline_core::team::Team]) -> TrackedIssue {
    let team = i.assignee.as_deref().and_then(|who| {
        teams
            .iter()
            .find(|t| t.members.iter().any(|m| m.eq_ignore_ascii_case(who)))
            .map(|t| t.name.clone())
    });
    TrackedIssue {
        key: i.key,
        project: i.project,
        issue_type: i.issue_type,
        status: i.status,
        category: i.category,
        priority: i.priority,
        labels: i.labels,
        components: i.components,
        parent: i.parent,
        story_points: i.story_points,
        team,
        created_at: i.created_at,
        updated_at: i.updated_at,
        resolved_at: i.resolved_at,
        transitions: i.transitions,
        sprints: i.sprints,
        sprint_changes: i.sprint_changes,
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Cloud: Basic with JIRA_EMAIL and JIRA_API_TOKEN; Data Center: a bearer JIRA_PAT.
fn authorization(flavour: Flavour) -> Result<String> {
    let usage = |m: &str| anyhow!(leadline_metrics::UsageError(m.to_owned()));
    match flavour {
        Flavour::Cloud => {
            let (Some(email), Some(token)) = (env("JIRA_EMAIL"), env("JIRA_API_TOKEN")) else {
                return Err(usage(
                    "set JIRA_EMAIL and JIRA_API_TOKEN (an Atlassian API token)",
                ));
            };
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{token}"));
            Ok(format!("Basic {pair}"))
        }
        Flavour::DataCenter => env("JIRA_PAT")
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| usage("set JIRA_PAT to a personal access token")),
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &IngestJiraArgs,
    settings: &Settings,
    chatty: bool,
) -> Result<()> {
    let site = args
        .api_url
        .clone()
        .or_else(|| settings.jira.url.clone())
        .ok_or_else(|| {
            anyhow!(leadline_metrics::UsageError(
                "give the Jira site: --api-url URL or [jira] url".to_owned()
            ))
        })?;
    let flavour = if args.data_center || settings.jira.data_center.unwrap_or(false) {
        Flavour::DataCenter
    } else {
        Flavour::Cloud
    };
    let mut options = Options::new(&site, None);
    options.authorization = Some(authorization(flavour)?);
    options.headers = vec![("Accept", "application/json")];
    let client = Client::new(options)?;
    let scope = format!("{} {}", client.options.api_url, args.projects.join(","));
    let cursor: Cursor = match store.cursor(SOURCE, &scope).await? {
        Some(text) => serde_json::from_str(&text)
            .with_context(|| format!("{scope}: unreadable sync cursor in the store"))?,
        None => Cursor::default(),
    };
    let query = Query {
        projects: args.projects.clone(),
        jql: args.jql.clone(),
        story_points: settings.jira.story_points_field.clone(),
    };
    let mut sink = StoreSink {
        store,
        scope: scope.clone(),
        teams: &settings.teams,
        chatty,
    };
    let synced = jira::sync(&client, flavour, &query, cursor, &mut sink)
        .await
        .with_context(|| format!("{scope}: sync stopped; run again to resume"))?;
    let sprints = jira::sync_sprints(&client, &args.projects, &mut sink)
        .await
        .with_context(|| format!("{scope}: cannot list the boards' sprints"))?;
    store.upsert_tracked_sprints(&sprints).await?;
    if chatty {
        eprintln!(
            "{scope}: {}{} issues in {} pages, {} sprints",
            if synced.resumed { "resumed; " } else { "" },
            synced.issues,
            synced.pages,
            sprints.len()
        );
    }
    Ok(())
}
