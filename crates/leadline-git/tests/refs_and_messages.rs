//! Tags, refs, trailers and signatures as the miner returns them, against git's own output.

use std::path::Path;
use std::process::Command;

use leadline_git::{MineOptions, Miner};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_AUTHOR_DATE", "@1700000000 -0330")
        .env("GIT_COMMITTER_NAME", "Cal")
        .env("GIT_COMMITTER_EMAIL", "cal@example.com")
        .env("GIT_COMMITTER_DATE", "@1700000100 +0545")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join("f"), "1\n").unwrap();
    git(d, &["add", "f"]);
    let message = "Fix the thing\n\nLonger explanation.\n\nSigned-off-by: Ann <ann@example.com>\nCo-authored-by: Bo <bo@example.com>\nReviewed-by: Cy\n  continued\n";
    git(d, &["commit", "-q", "-m", message]);
    git(d, &["tag", "light"]);
    git(d, &["tag", "-a", "-m", "release", "v1.0"]);
    git(d, &["tag", "-a", "-m", "tag of a tag", "outer", "v1.0"]);
    git(d, &["tag", "blob-tag", "HEAD:f"]);
    dir
}

#[test]
fn trailers_equal_git_interpret_trailers() {
    let dir = repo();
    let miner = Miner::open(dir.path()).unwrap();
    let refs = miner.refs().unwrap();
    let mut commits = Vec::new();
    let reachable = miner
        .mine_reachable(
            &refs.tips,
            |_| true,
            |_| {},
            &MineOptions::default(),
            |b| {
                commits.extend(b);
                true
            },
        )
        .unwrap();
    assert_eq!(reachable.len(), commits.len());
    let c = &commits[0];
    let expected = git(
        dir.path(),
        &["log", "-1", "--format=%(trailers:unfold,only)"],
    );
    let expected: Vec<(String, String)> = expected
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let actual: Vec<(String, String)> = c
        .trailers
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(c.subject, "Fix the thing");
    // Times and offsets as git recorded them.
    assert_eq!(
        (c.author.at, c.author.offset_minutes),
        (1_700_000_000_000, -210)
    );
    assert_eq!(
        (c.committer.at, c.committer.offset_minutes),
        (1_700_000_100_000, 345)
    );
    assert_eq!(c.committer.identity.email, "cal@example.com");
    assert!(c.parents.is_empty());
}

#[test]
fn tags_peel_to_commits_with_tagger_times() {
    let dir = repo();
    let miner = Miner::open(dir.path()).unwrap();
    let refs = miner.refs().unwrap();
    let head = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    let names: Vec<&str> = refs.refs.iter().map(|r| r.name.as_str()).collect();
    // The tag of a blob is not a starting point of history.
    assert_eq!(
        names,
        [
            "HEAD",
            "refs/heads/main",
            "refs/tags/light",
            "refs/tags/outer",
            "refs/tags/v1.0"
        ]
    );
    assert!(refs.refs.iter().all(|r| r.commit == head));
    let tagger = git(
        dir.path(),
        &[
            "for-each-ref",
            "--format=%(refname) %(taggerdate:unix)",
            "refs/tags",
        ],
    );
    for line in tagger.lines() {
        let (name, unix) = line.split_once(' ').unwrap();
        let Some(r) = refs.refs.iter().find(|r| r.name == name) else {
            continue;
        };
        let expected = unix.parse::<i64>().ok().map(|s| s * 1000);
        assert_eq!(r.tagger_at, expected, "{name}");
        assert_eq!(r.annotated, expected.is_some(), "{name}");
    }
    assert_eq!(refs.tips.len(), 1);
    // The digest moves with any ref and only then.
    assert_eq!(miner.refs().unwrap().digest, refs.digest);
    git(dir.path(), &["tag", "another"]);
    assert_ne!(miner.refs().unwrap().digest, refs.digest);
}
