//! Test helpers: repositories built with `git` itself, stores on both backends, and git's own
//! numstat as the independent reference.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

/// A numstat row keyed by (sha, path): (added, deleted), `None` for binary.
pub type Numstat = BTreeMap<(String, Vec<u8>), (Option<u64>, Option<u64>)>;

/// The refs `leadline ingest git` mines.
pub const ALL_REFS: [&str; 4] = ["--branches", "--remotes", "--tags", "HEAD"];

/// A repository in a temp dir, driven by `git` with a fixed identity and a clock that advances
/// one minute per commit so histories are deterministic.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
    clock: std::cell::Cell<i64>,
}

impl GitRepo {
    pub fn new() -> GitRepo {
        let repo = GitRepo {
            dir: tempfile::tempdir().unwrap(),
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs git with an isolated configuration; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_raw(args.iter().map(OsStr::new));
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn git_raw<'a>(&self, args: impl IntoIterator<Item = &'a OsStr>) -> Output {
        let t = self.clock.get();
        let date = format!("@{t} +0200");
        git_command(self.path())
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap()
    }

    pub fn write(&self, path: &[u8], content: &[u8]) {
        let full = self.path().join(OsStr::from_bytes(path));
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let _ = std::fs::remove_file(&full);
        std::fs::write(full, content).unwrap();
    }

    pub fn symlink(&self, path: &str, target: &str) {
        let full = self.path().join(path);
        let _ = std::fs::remove_file(&full);
        std::os::unix::fs::symlink(target, full).unwrap();
    }

    pub fn remove(&self, path: &str) {
        let full = self.path().join(path);
        if full.is_dir() {
            std::fs::remove_dir_all(full).unwrap();
        } else {
            std::fs::remove_file(full).unwrap();
        }
    }

    pub fn chmod(&self, path: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            self.path().join(path),
            std::fs::Permissions::from_mode(mode),
        )
        .unwrap();
    }

    /// Stages everything and commits (empty commits allowed); returns the new sha.
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_index(message)
    }

    /// Stages everything and commits as `author` (`Name <email>`).
    pub fn commit_all_as(&self, author: &str, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.tick();
        self.git(&["commit", "-q", "--author", author, "-m", message]);
        self.head()
    }

    /// Writes an object from raw bytes (`args` e.g. `["-t", "tree", "--literally"]`).
    pub fn hash_object(&self, args: &[&str], content: &[u8]) -> String {
        use std::io::Write;
        let mut child = git_command(self.path())
            .args(["hash-object", "-w", "--stdin"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(content).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git hash-object {args:?} failed");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Stages everything and commits at `unix` seconds (UTC), optionally as `author`.
    /// Commits everything by `who <who@example.com>` at `when` (RFC 3339 with the offset the
    /// author's clock had), as author and committer time.
    pub fn commit_as_at(&self, who: &str, when: &str, message: &str) -> String {
        self.git(&["add", "-A"]);
        let out = Command::new("git")
            .current_dir(self.path())
            .env("GIT_AUTHOR_DATE", when)
            .env("GIT_COMMITTER_DATE", when)
            .args(["commit", "-q", "-m", message, "--author"])
            .arg(format!("{who} <{who}@example.com>"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    pub fn commit_all_at(&self, unix: i64, author: Option<&str>, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.clock.set(unix);
        let mut args = vec!["commit", "-q", "--allow-empty", "-m", message];
        if let Some(author) = author {
            args.extend(["--author", author]);
        }
        let out = self.git_raw(args.iter().map(OsStr::new));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    /// Commits the index as it is.
    pub fn commit_index(&self, message: &str) -> String {
        self.tick();
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
        ]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    pub fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }
}

/// git with no system or user configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ann Author")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_COMMITTER_NAME", "Cal Committer")
        .env("GIT_COMMITTER_EMAIL", "cal@example.com")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "core.autocrlf=false",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ]);
    cmd
}

/// git's own `log --numstat --no-renames` over the refs leadline mines.
pub fn git_numstat(repo: &Path) -> Numstat {
    let out = git_command(repo)
        .args(["log", "--numstat", "--no-renames", "-z", "--format=C %H"])
        .args(ALL_REFS)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_numstat_z(&out.stdout)
}

/// Parses `git log --numstat -z --format='C %H'`.
pub fn parse_numstat_z(data: &[u8]) -> Numstat {
    let mut rows = Numstat::new();
    let mut sha = String::new();
    for mut token in data.split(|&b| b == 0) {
        while let [b'\n', rest @ ..] = token {
            token = rest;
        }
        if token.is_empty() {
            continue;
        }
        if let Some(rest) = token.strip_prefix(b"C ") {
            sha = String::from_utf8(rest[..40].to_vec()).unwrap();
            token = &rest[40..];
            while let [b'\n', rest @ ..] = token {
                token = rest;
            }
            if token.is_empty() {
                continue;
            }
        }
        let mut parts = token.splitn(3, |&b| b == b'\t');
        let added = count(parts.next().unwrap());
        let deleted = count(parts.next().unwrap());
        let path = parts.next().unwrap().to_vec();
        let previous = rows.insert((sha.clone(), path.clone()), (added, deleted));
        assert!(
            previous.is_none(),
            "git printed {sha} {:?} twice",
            String::from_utf8_lossy(&path)
        );
    }
    rows
}

fn count(field: &[u8]) -> Option<u64> {
    if field == b"-" {
        None
    } else {
        Some(std::str::from_utf8(field).unwrap().parse().unwrap())
    }
}

/// Parses `leadline export file-changes --format csv` into numstat rows, checking the header
/// and that no (sha, path) appears twice.
pub fn parse_export_csv(data: &[u8]) -> Numstat {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(data);
    let header = reader.byte_headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        [&b"repo"[..], b"sha", b"path", b"added", b"deleted"]
    );
    let mut rows = Numstat::new();
    for record in reader.byte_records() {
        let r = record.unwrap();
        let num =
            |f: &[u8]| (!f.is_empty()).then(|| std::str::from_utf8(f).unwrap().parse().unwrap());
        let key = (String::from_utf8(r[1].to_vec()).unwrap(), r[2].to_vec());
        let previous = rows.insert(key, (num(&r[3]), num(&r[4])));
        assert!(previous.is_none(), "exported twice: {:?}", r);
    }
    rows
}

/// Asserts two numstat sets are equal, showing the first differences.
pub fn assert_same_numstat(expected: &Numstat, actual: &Numstat) {
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, v)| actual.get(*k) != Some(v))
        .take(5)
        .collect();
    let extra: Vec<_> = actual
        .iter()
        .filter(|(k, v)| expected.get(*k) != Some(v))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && expected.len() == actual.len(),
        "numstat differs (git {} rows, leadline {}):\n git only: {missing:?}\n leadline only: {extra:?}",
        expected.len(),
        actual.len()
    );
}

/// A store location for `--db`: a fresh SQLite file or a fresh PostgreSQL database.
pub struct TestStore {
    pub db: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        TestStore {
            db: dir.path().join("leadline.db").display().to_string(),
            backend: "sqlite",
            _dir: Some(dir),
        }
    }

    /// A SQLite file in `dir` (which the caller keeps alive), e.g. on a small filesystem.
    pub fn sqlite_in(dir: &Path) -> TestStore {
        TestStore {
            db: dir.join("leadline.db").display().to_string(),
            backend: "sqlite",
            _dir: None,
        }
    }

    /// A fresh database on the cluster in `LEADLINE_TEST_POSTGRES`; `None` when that is `skip`.
    pub fn postgres() -> Option<TestStore> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let admin = std::env::var("LEADLINE_TEST_POSTGRES")
            .expect("set LEADLINE_TEST_POSTGRES to a PostgreSQL admin URL (bash .ci/run does), or to `skip`");
        if admin == "skip" {
            return None;
        }
        let name = format!(
            "cli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            for sql in [
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
        });
        let base = &admin[..admin.rfind('/').unwrap()];
        Some(TestStore {
            db: format!("{base}/{name}"),
            backend: "postgres",
            _dir: None,
        })
    }

    /// Both backends (PostgreSQL unless skipped).
    pub fn both() -> Vec<TestStore> {
        std::iter::once(TestStore::sqlite())
            .chain(TestStore::postgres())
            .collect()
    }

    pub fn leadline(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("leadline").unwrap();
        cmd.env_remove("LEADLINE_DB").arg("--db").arg(&self.db);
        cmd
    }

    /// Runs leadline and returns stdout, panicking with stderr on failure.
    pub fn run(&self, args: &[&OsStr]) -> Vec<u8> {
        let out = self.leadline().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "leadline {args:?} failed on {}: {}",
            self.backend,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// `leadline --config CONFIG report` for October 2026, written to `dir` and read back.
    pub fn october_report(&self, config: &Path, dir: &Path) -> String {
        let out = dir.join("report.html");
        let run = self
            .leadline()
            .arg("--config")
            .arg(config)
            .args([
                "report",
                "--since",
                "2026-10-01",
                "--until",
                "2026-11-01",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read_to_string(out).unwrap()
    }

    pub fn ingest(&self, repo: &Path) {
        self.run(&[OsStr::new("ingest"), OsStr::new("git"), repo.as_os_str()]);
    }

    /// A new API token of `scope` (read, write or admin), named like the scope.
    pub fn token(&self, scope: &str) -> String {
        let out = self.run(&[
            OsStr::new("token"),
            OsStr::new("create"),
            OsStr::new("--name"),
            OsStr::new(scope),
            OsStr::new("--scope"),
            OsStr::new(scope),
        ]);
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    pub fn export(&self, what: &str, format: &str) -> Vec<u8> {
        self.run(&[
            OsStr::new("export"),
            OsStr::new(what),
            OsStr::new("--format"),
            OsStr::new(format),
        ])
    }

    pub fn numstat(&self) -> Numstat {
        parse_export_csv(&self.export("file-changes", "csv"))
    }
}

/// Serves `app` (a fake of a remote API) on a loopback port from a thread of its own; returns
/// its `http://127.0.0.1:PORT`.
pub fn serve(app: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

/// Runs `cmd`, panicking with its stderr unless it succeeds, and parses its stdout as JSON.
pub fn json_stdout(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Writes `register` as `dir/debt.toml` and a `dir/leadline.toml` pointing at it, followed by
/// `more` (more `[debt]` keys, then other tables); returns (the config, the register).
pub fn debt_config(
    dir: &Path,
    register: &str,
    more: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let path = dir.join("debt.toml");
    std::fs::write(&path, register).unwrap();
    let config = dir.join("leadline.toml");
    std::fs::write(
        &config,
        format!("[debt]\nfile = {:?}\n{more}", path.display().to_string()),
    )
    .unwrap();
    (config, path)
}

/// Waits until a fake server has seen a request containing `needle` (`seen` reads its log),
/// while `child` (the process under test) keeps running; at most a minute.
pub fn wait_for_request(
    seen: impl Fn(&str) -> bool,
    needle: &str,
    child: &mut std::process::Child,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !seen(needle) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the process ended before {needle}"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "never asked for {needle}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// This package's directory: as `cargo test` says when it runs the test (a test binary reused
/// from a build at another path would otherwise look in that path), else as it was built.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}
