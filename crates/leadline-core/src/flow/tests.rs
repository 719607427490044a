//! The worked example of docs/metrics.md ("Flow"), with values computed by hand there.

use super::*;

const H: i64 = 3_600_000;
const M: i64 = 60_000;

#[derive(Clone, Copy)]
struct Pr {
    rework: Option<i64>,
    number: i64,
    author: &'static str,
    first_commit: Option<i64>,
    created: i64,
    merged: Option<i64>,
    merge_sha: &'static str,
    lines: (i64, i64),
    files: i64,
}

fn pr(p: Pr) -> PullRequest {
    PullRequest {
        forge: "github".into(),
        repo: "octo/app".into(),
        number: p.number,
        title: format!("#{}", p.number),
        author: p.author.into(),
        state: if p.merged.is_some() { "merged" } else { "open" }.into(),
        draft: false,
        created_at: p.created * H,
        first_commit_at: p.first_commit.map(|h| h * H),
        rework_commits: p.rework,
        ready_at: None,
        updated_at: p.merged.unwrap_or(p.created) * H,
        merged_at: p.merged.map(|h| h * H),
        closed_at: p.merged.map(|h| h * H),
        base_ref: "main".into(),
        head_sha: "h".into(),
        merge_sha: Some(p.merge_sha.into()),
        additions: Some(p.lines.0),
        deletions: Some(p.lines.1),
        changed_files: Some(p.files),
        commits: Some(1),
        labels: vec![],
        review_requests: vec![],
        actions: vec![],
        issue_keys: vec![],
    }
}

fn review(number: i64, reviewer: &str, at_hours: i64, comments: Option<i64>) -> Review {
    Review {
        forge: "github".into(),
        repo: "octo/app".into(),
        number,
        id: format!("{number}-{reviewer}"),
        reviewer: reviewer.into(),
        state: "approved".into(),
        submitted_at: at_hours * H,
        comments,
    }
}

fn build(
    id: &str,
    attempt: i64,
    status: &str,
    created: i64,
    queue: i64,
    run: Option<i64>,
) -> Build {
    Build {
        id: format!("{id}/{attempt}"),
        repo: "octo/app".into(),
        pipeline: "CI".into(),
        sha: format!("sha-{id}"),
        branch: Some("main".into()),
        attempt,
        status: status.into(),
        created_at: created,
        started_at: Some(created + queue),
        finished_at: run.map(|r| created + queue + r),
        updated_at: created,
    }
}

fn example() -> (Vec<PullRequest>, Vec<Review>, Vec<Build>) {
    let prs = vec![
        pr(Pr {
            rework: Some(2),
            number: 1,
            author: "ann",
            first_commit: Some(0),
            created: 2,
            merged: Some(8),
            merge_sha: "m1",
            lines: (100, 20),
            files: 3,
        }),
        pr(Pr {
            rework: Some(0),
            number: 2,
            author: "bob",
            first_commit: None,
            created: 10,
            merged: Some(20),
            merge_sha: "m2",
            lines: (400, 100),
            files: 10,
        }),
        pr(Pr {
            rework: None,
            number: 3,
            author: "cat",
            first_commit: Some(1),
            created: 4,
            merged: Some(6),
            merge_sha: "m3",
            lines: (5, 5),
            files: 1,
        }),
        pr(Pr {
            rework: None,
            number: 4,
            author: "dependabot[bot]",
            first_commit: None,
            created: 5,
            merged: Some(7),
            merge_sha: "m4",
            lines: (1, 1),
            files: 1,
        }),
        pr(Pr {
            rework: None,
            number: 5,
            author: "ann",
            first_commit: None,
            created: 1,
            merged: None,
            merge_sha: "m5",
            lines: (1, 1),
            files: 1,
        }),
    ];
    let reviews = vec![
        review(1, "bob", 5, Some(3)),
        review(2, "ann", 11, Some(1)),
        review(2, "cat", 12, None),
        // An author's own review does not count.
        review(3, "cat", 5, Some(9)),
    ];
    let builds = vec![
        build("10", 1, "failure", H, 2 * M, Some(10 * M)),
        build("10", 2, "success", 2 * H, M, Some(10 * M)),
        build("11", 1, "success", 3 * H, 30_000, Some(5 * M)),
        build("12", 1, "in_progress", 4 * H, 0, None),
    ];
    (prs, reviews, builds)
}

fn deployed(sha: &str) -> Option<Millis> {
    match sha {
        "m1" => Some(10 * H),
        "m3" => Some(30 * H),
        _ => None,
    }
}

fn durations(count: usize, median: f64, p90: f64) -> Durations {
    Durations {
        count,
        median_seconds: Some(median),
        p90_seconds: Some(p90),
    }
}

#[test]
fn worked_example_flow_keys() {
    let (prs, reviews, builds) = example();
    let prs: Vec<&PullRequest> = prs.iter().collect();
    let builds: Vec<&Build> = builds.iter().collect();
    let window = Window {
        since: 0,
        until: 48 * H,
    };
    let k = keys(
        &prs,
        &reviews,
        &builds,
        &deployed,
        window,
        &Options::default(),
    );
    let p = &k.pull_requests;
    assert_eq!((p.merged, p.bot_pull_requests), (3, 1));
    assert_eq!(p.cycle_time, durations(3, 28_800.0, 36_000.0));
    assert_eq!(p.coding, durations(2, 7_200.0, 10_800.0));
    assert_eq!(p.pickup, durations(2, 3_600.0, 10_800.0));
    assert_eq!(p.review, durations(2, 10_800.0, 32_400.0));
    assert_eq!(p.deploy, durations(2, 7_200.0, 86_400.0));
    assert_eq!(p.time_to_merge, durations(3, 21_600.0, 36_000.0));
    assert_eq!(p.size_lines_median, Some(120.0));
    assert_eq!(p.size_files_median, Some(3.0));
    assert_eq!(p.large_share, Some(1.0 / 3.0));
    assert_eq!(p.merged_without_review, Some(1.0 / 3.0));
    assert_eq!(p.reviews_per_pull_request, Some(1.0));
    // bob left 3 comments, ann 1; cat's count is unknown, cat's own review does not count.
    assert_eq!(p.comments_per_review, Some(2.0));
    // #1 got 2 commits after its first review, #2 none; #3 was not reviewed.
    assert_eq!(p.rework_share, Some(0.5));
    assert_eq!(p.rework_commits_per_pull_request, Some(1.0));
    assert_eq!(p.reviewers, 3);
    assert_eq!(p.review_load_top_fifth, Some(1.0 / 3.0));
    let b = &k.builds;
    assert_eq!((b.attempts, b.failed, b.runs, b.flaky), (3, 1, 3, 1));
    assert_eq!(b.failure_rate, Some(1.0 / 3.0));
    assert_eq!(b.flaky_rate, Some(1.0 / 3.0));
    assert_eq!(b.duration, durations(3, 600.0, 600.0));
    assert_eq!(b.queue, durations(4, 30.0, 120.0));
}

#[test]
fn a_window_without_data_has_no_numbers() {
    let (prs, reviews, builds) = example();
    let prs: Vec<&PullRequest> = prs.iter().collect();
    let builds: Vec<&Build> = builds.iter().collect();
    let window = Window {
        since: 100 * H,
        until: 200 * H,
    };
    let k = keys(
        &prs,
        &reviews,
        &builds,
        &deployed,
        window,
        &Options::default(),
    );
    assert_eq!(k.pull_requests.merged, 0);
    assert_eq!(k.pull_requests.cycle_time.median_seconds, None);
    assert_eq!(k.pull_requests.merged_without_review, None);
    assert_eq!(k.builds.failure_rate, None);
}

#[test]
fn small_groups_fold_into_other_and_stay_unreported_alone() {
    let (mut prs, _, _) = example();
    let mut tiny = prs[0].clone();
    tiny.repo = "octo/tiny".into();
    tiny.author = "dan".into();
    prs.push(tiny);
    let window = Window {
        since: 0,
        until: 48 * H,
    };
    let groups = groups(&prs, window, &Options::default());
    let names: Vec<&str> = groups.iter().map(|(g, _)| g.as_str()).collect();
    // octo/app has three authors; octo/tiny one, and "other" alone would still be one person.
    assert_eq!(names, ["github:octo/app"]);
    let two = Options {
        min_group_size: 1,
        ..Options::default()
    };
    let names: Vec<String> = super::groups(&prs, window, &two)
        .into_iter()
        .map(|(g, _)| g)
        .collect();
    assert_eq!(names, ["github:octo/app", "github:octo/tiny"]);
}

#[test]
fn worked_example_onboarding() {
    const D: i64 = 86_400_000;
    let mut changes: Vec<(&str, Millis)> = Vec::new();
    // ann: first change day 1, one a day: her tenth lands day 10 (9 days).
    changes.extend((1..=12).map(|d| ("ann", d * D)));
    // bob: first change day 2, every other day: tenth on day 20 (18 days).
    changes.extend((0..10).map(|i| ("bob", (2 + 2 * i) * D)));
    // cat: first change day 3, ten changes by day 6 (3 days; two on each of days 3-6 and day 7).
    changes.extend([3, 3, 4, 4, 5, 5, 6, 6, 6, 6].map(|d| ("cat", d * D)));
    // dan: first change day 4, only three changes: a newcomer, not yet onboarded.
    changes.extend([4, 5, 6].map(|d| ("dan", d * D)));
    // eve started before the window; renovate[bot] is a bot.
    changes.extend((0..10).map(|i| ("eve", -D + i)));
    changes.extend((1..=10).map(|d| ("renovate[bot]", d * D)));
    let window = Window {
        since: 0,
        until: 30 * D,
    };
    let o = onboarding(&changes, window, &Options::default());
    assert_eq!(o.newcomers, 4);
    // 9, 18 and 3 days: median (rank 2) 9 days, p90 (rank 3) 18 days.
    assert_eq!(
        o.to_tenth_change,
        durations(3, 9.0 * 86_400.0, 18.0 * 86_400.0)
    );
    // Fewer onboarded newcomers than the minimum group: counted, not reported.
    let strict = Options {
        min_group_size: 4,
        ..Options::default()
    };
    let o = onboarding(&changes, window, &strict);
    assert_eq!(
        (o.to_tenth_change.count, o.to_tenth_change.median_seconds),
        (3, None)
    );
}

#[test]
fn teams_group_by_member_then_by_repository_and_a_team_of_two_folds() {
    let (mut prs, _, _) = example();
    let mut other_repo = prs[0].clone();
    other_repo.repo = "octo/billing".into();
    other_repo.author = "zed".into();
    other_repo.number = 9;
    prs.push(other_repo);
    let teams = vec![
        // ann, bob and cat: a team of three.
        Team {
            name: "checkout".into(),
            members: vec!["ANN".into(), "bob".into(), "cat".into()],
            ..Team::default()
        },
        // A team of two people (dan is on it but merged nothing) owns octo/billing.
        Team {
            name: "billing".into(),
            members: vec!["dan".into()],
            repositories: vec!["octo/billing".into()],
            ..Team::default()
        },
    ];
    let ownership = Ownership::new(&teams, &[], &[]);
    assert_eq!(ownership.team_of(&prs[5]).as_deref(), Some("billing"));
    let window = Window {
        since: 0,
        until: 48 * H,
    };
    let groups = team_groups(&prs, &ownership, window, &Options::default());
    let names: Vec<(&str, usize)> = groups
        .iter()
        .map(|(g, members)| (g.as_str(), members.len()))
        .collect();
    // checkout: #1-#3, #5 (open) and the bot's #4 (repository octo/app belongs to no team,
    // so dependabot's pull request is ungrouped and folds into other with billing's one
    // author: other has one author, too few to show).
    assert_eq!(names, [("checkout", 4)]);
}

#[test]
fn teams_by_the_files_a_pull_request_changes() {
    let (prs, _, _) = example();
    let teams = vec![Team {
        name: "payments".into(),
        paths: vec!["/services/payments/".into()],
        ..Team::default()
    }];
    let files = |number: i64, paths: &[&str]| PullRequestFiles {
        forge: "github".into(),
        repo: "octo/app".into(),
        number,
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    };
    let files = vec![
        // #1: two payments files and one web file: payments.
        files(
            1,
            &[
                "services/payments/a.rs",
                "services/payments/b.rs",
                "web/app.js",
            ],
        ),
        // #2: only web files: CODEOWNERS' @org/web.
        files(2, &["web/app.js", "web/page.js"]),
        // #3: a file owned by a person, not a team: no team.
        files(3, &["docs/intro.md"]),
    ];
    let owners = vec![CodeOwnersFile {
        forge: "github".into(),
        repo: "octo/app".into(),
        rules: vec![
            ("*.js".into(), vec!["@org/web".into()]),
            ("docs/".into(), vec!["ann@example.com".into()]),
        ],
    }];
    let ownership = Ownership::new(&teams, &files, &owners);
    // ann, bob and cat are no team members here: their files decide.
    let team = |i: usize| ownership.team_of(&prs[i]);
    assert_eq!(team(0).as_deref(), Some("payments"));
    assert_eq!(team(1).as_deref(), Some("web"));
    assert_eq!(team(2), None);
}

#[test]
fn timeouts_fail_and_cancelled_attempts_are_not_verdicts() {
    let builds = [
        build("20", 1, "timed_out", H, M, Some(10 * M)),
        build("20", 2, "success", 2 * H, M, Some(10 * M)),
        build("21", 1, "startup_failure", 3 * H, M, Some(M)),
        build("22", 1, "cancelled", 4 * H, M, Some(M)),
        build("23", 1, "skipped", 5 * H, 0, Some(0)),
        build("24", 1, "neutral", 6 * H, M, Some(M)),
    ];
    let builds: Vec<&Build> = builds.iter().collect();
    let window = Window {
        since: 0,
        until: 100 * H,
    };
    let k = keys(&[], &[], &builds, &deployed, window, &Options::default());
    let b = &k.builds;
    // Finished attempts: the timeout, its successful retry and the startup failure.
    assert_eq!((b.attempts, b.failed, b.flaky), (3, 2, 1));
    assert_eq!(b.failure_rate, Some(2.0 / 3.0));
}

#[test]
fn a_review_after_the_merge_is_not_a_review_of_what_was_merged() {
    let (prs, _, _) = example();
    let prs: Vec<&PullRequest> = prs.iter().take(1).collect();
    // #1 was created at hour 2 and merged at hour 8; dan approves at hour 9.
    let reviews = vec![review(1, "dan", 9, Some(1))];
    let window = Window {
        since: 0,
        until: 48 * H,
    };
    let k = keys(&prs, &reviews, &[], &deployed, window, &Options::default());
    let p = &k.pull_requests;
    assert_eq!(p.pickup.count, 0, "pickup would end after the merge");
    assert_eq!(p.merged_without_review, Some(1.0));
    assert_eq!(p.reviewers, 0);
}

#[test]
fn a_repository_belongs_to_its_configured_team_else_its_catch_all_code_owner() {
    let owners = vec![
        CodeOwnersFile {
            forge: "github".into(),
            repo: "octo/app".into(),
            rules: vec![
                ("*".into(), vec!["@org/core".into()]),
                ("*.js".into(), vec!["@org/web".into()]),
            ],
        },
        CodeOwnersFile {
            forge: "github".into(),
            repo: "octo/site".into(),
            rules: vec![("docs/".into(), vec!["@org/docs".into()])],
        },
    ];
    let teams = vec![Team {
        name: "payments".into(),
        repositories: vec!["octo/pay".into()],
        ..Team::default()
    }];
    let ownership = Ownership::new(&teams, &[], &owners);
    assert_eq!(
        ownership
            .team_of_repository("github", "octo/app")
            .as_deref(),
        Some("core")
    );
    assert_eq!(
        ownership
            .team_of_repository("github", "octo/pay")
            .as_deref(),
        Some("payments")
    );
    // Owning a directory is not owning the repository.
    assert_eq!(ownership.team_of_repository("github", "octo/site"), None);
}

#[test]
fn a_rerun_that_keeps_its_runs_creation_time_has_no_queue_time() {
    // GitHub: attempt 2, re-run four hours later, still says it was created with attempt 1.
    let mut rerun = build("30", 2, "success", H, 4 * H, Some(10 * M));
    rerun.created_at = H;
    // GitLab-like: a retry with its own request time.
    let retry = build("31", 2, "success", 3 * H, 2 * M, Some(10 * M));
    let builds = [
        build("30", 1, "failure", H, M, Some(10 * M)),
        rerun,
        build("31", 1, "failure", 2 * H, M, Some(10 * M)),
        retry,
    ];
    let builds: Vec<&Build> = builds.iter().collect();
    let window = Window {
        since: 0,
        until: 100 * H,
    };
    let k = keys(&[], &[], &builds, &deployed, window, &Options::default());
    assert_eq!(k.builds.queue, durations(3, 60.0, 120.0));
}

/// docs/metrics.md, "Flow", drafts: pickup starts when a draft was marked ready for review.
#[test]
fn worked_example_pickup_of_a_draft_starts_when_it_is_ready() {
    let base = Pr {
        rework: None,
        number: 1,
        author: "ann",
        first_commit: None,
        created: 2,
        merged: Some(9),
        merge_sha: "m9",
        lines: (1, 1),
        files: 1,
    };
    // #1 opened as a draft at hour 2, ready at hour 6, reviewed at 7, merged at 9.
    let mut drafted = pr(Pr { ..base });
    drafted.ready_at = Some(6 * H);
    // #2 reviewed at hour 5 while still a draft, ready at 6: nobody waited for a reviewer.
    let mut early = pr(Pr { number: 2, ..base });
    early.ready_at = Some(6 * H);
    // #3 never a draft: pickup from its opening at hour 2 to the review at 4.
    let plain = pr(Pr { number: 3, ..base });
    let prs = [drafted, early, plain];
    let prs: Vec<&PullRequest> = prs.iter().collect();
    let reviews = vec![
        review(1, "dan", 7, None),
        review(2, "dan", 5, None),
        review(3, "dan", 4, None),
    ];
    let window = Window {
        since: 0,
        until: 48 * H,
    };
    let k = keys(&prs, &reviews, &[], &deployed, window, &Options::default());
    let p = &k.pull_requests;
    // Pickups 3,600 s, 0 s and 7,200 s: median 3,600 s, p90 7,200 s.
    assert_eq!(p.pickup, durations(3, 3_600.0, 7_200.0));
    // Time to merge and the review phase do not move: 7 h from the opening, reviews to merge.
    assert_eq!(p.time_to_merge, durations(3, 25_200.0, 25_200.0));
    assert_eq!(p.review, durations(3, 14_400.0, 18_000.0));
}

#[test]
fn times_out_of_order_are_no_durations() {
    // Started 10 minutes before it was created, and finished before it started: records with
    // skewed clocks, left out of queue and duration rather than counted negative.
    let skewed = build("1", 1, "success", 60 * M, -10 * M, Some(-5 * M));
    let fine = build("2", 1, "success", 60 * M, M, Some(5 * M));
    let builds = [skewed, fine];
    let builds: Vec<&Build> = builds.iter().collect();
    let window = Window {
        since: 0,
        until: 100 * H,
    };
    let k = keys(&[], &[], &builds, &deployed, window, &Options::default());
    assert_eq!(k.builds.attempts, 2);
    assert_eq!(k.builds.queue, durations(1, 60.0, 60.0));
    assert_eq!(k.builds.duration, durations(1, 300.0, 300.0));
}
