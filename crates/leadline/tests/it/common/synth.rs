//! Deterministic synthetic histories through `git fast-import`: a seeded stream of commits
//! with realistic edit sizes, topic-branch merges, binary files, renames and deletions.
//! Shared by the kill-and-rerun test and `benches/ingest.rs`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Shape of a synthetic history.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub commits: usize,
    pub files: usize,
    pub seed: u64,
}

/// xorshift64*: small, fast and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct File {
    path: String,
    lines: Vec<String>,
    binary: bool,
}

/// Creates a repository with a work tree at `dir` (which must not exist or be empty) holding
/// the history described by `shape`, on branch `main`, with a tag every 500 commits, packed
/// as a clone would be.
pub fn build(dir: &Path, shape: Shape) {
    std::fs::create_dir_all(dir).unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(dir)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut child = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut out = std::io::BufWriter::new(child.stdin.take().unwrap());
        stream(&mut out, shape).unwrap();
        out.flush().unwrap();
    }
    assert!(child.wait().unwrap().success(), "git fast-import failed");
    // fast-import deltas each version on the previous one (forward chains), which no clone
    // has: servers and `git gc` store the newest version whole and older ones as deltas.
    git(&["repack", "-a", "-d", "-f", "-q"]);
    git(&["checkout", "-q", "-f", "main"]);
}

fn stream(out: &mut impl Write, shape: Shape) -> std::io::Result<()> {
    let mut rng = Rng(shape.seed.max(1));
    let mut files: Vec<File> = (0..shape.files)
        .map(|i| {
            let binary = i % 97 == 0;
            let len = 20 + rng.below(300);
            File {
                path: format!(
                    "src/m{}/d{}/f{i}.{}",
                    i % 13,
                    i % 7,
                    if binary { "bin" } else { "rs" }
                ),
                lines: (0..len).map(|_| line(&mut rng)).collect(),
                binary,
            }
        })
        .collect();
    let mut mark = 0usize;
    let mut time = 1_500_000_000u64;
    let mut main_tip = 0usize;
    // The root commit adds every file.
    let all: Vec<usize> = (0..files.len()).collect();
    mark += 1;
    commit(
        out,
        "refs/heads/main",
        mark,
        time,
        None,
        None,
        &files,
        &all,
        &[],
    )?;
    main_tip = main_tip.max(mark);
    let mut made = 1;
    while made < shape.commits {
        let topic = rng.below(12) == 0 && shape.commits - made > 6;
        let branch = if topic {
            "refs/heads/topic"
        } else {
            "refs/heads/main"
        };
        let run = if topic { 2 + rng.below(4) } else { 1 };
        let base = main_tip;
        let mut tip = base;
        let mut topic_touched = Vec::new();
        let mut topic_renames = Vec::new();
        for _ in 0..run {
            time += 60 + rng.below(7200) as u64;
            let (touched, renames) = edit(&mut rng, &mut files);
            topic_touched.extend(touched.iter().copied());
            topic_renames.extend(renames.iter().cloned());
            mark += 1;
            commit(
                out,
                branch,
                mark,
                time,
                Some(tip),
                None,
                &files,
                &touched,
                &renames,
            )?;
            tip = mark;
            made += 1;
        }
        if topic {
            // No-ff merge of the topic: main has not moved, so removing the topic's renamed
            // paths and writing the files it touched gives the topic's tree.
            time += 60;
            mark += 1;
            topic_touched.sort_unstable();
            topic_touched.dedup();
            topic_touched.retain(|&i| i < files.len());
            commit(
                out,
                "refs/heads/main",
                mark,
                time,
                Some(base),
                Some(tip),
                &files,
                &topic_touched,
                &topic_renames,
            )?;
            made += 1;
        }
        main_tip = if topic { mark } else { tip };
        if made % 500 < run + usize::from(topic) {
            writeln!(out, "reset refs/tags/v{}.0\nfrom :{main_tip}\n", made / 500)?;
        }
    }
    writeln!(out, "done")
}

/// Edits 1–6 files (occasionally renaming or deleting one, or adding a new one); returns the
/// indices of files whose content must be written and the (old, new) paths renamed.
fn edit(rng: &mut Rng, files: &mut Vec<File>) -> (Vec<usize>, Vec<(String, String)>) {
    let mut touched = Vec::new();
    let mut renames = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let i = rng.below(files.len());
        let f = &mut files[i];
        let exists = f.binary || !f.lines.is_empty();
        match rng.below(40) {
            0 if exists => {
                let new = format!("{}.moved{}", f.path, rng.below(1000));
                renames.push((std::mem::replace(&mut f.path, new), f.path.clone()));
            }
            1 => f.lines.clear(),
            _ => {
                let at = rng.below(f.lines.len() + 1);
                let removed = rng.below(4).min(f.lines.len() - at.min(f.lines.len()));
                let added = match rng.below(10) {
                    0 => 30 + rng.below(120),
                    _ => rng.below(6),
                };
                let new: Vec<String> = (0..added).map(|_| line(rng)).collect();
                f.lines.splice(at..at + removed, new);
            }
        }
        touched.push(i);
    }
    if rng.below(30) == 0 {
        let n = files.len();
        files.push(File {
            path: format!("src/new/f{n}.rs"),
            lines: (0..10 + rng.below(50)).map(|_| line(rng)).collect(),
            binary: false,
        });
        touched.push(n);
    }
    (touched, renames)
}

#[allow(clippy::too_many_arguments)]
fn commit(
    out: &mut impl Write,
    branch: &str,
    mark: usize,
    time: u64,
    from: Option<usize>,
    merge: Option<usize>,
    files: &[File],
    touched: &[usize],
    renames: &[(String, String)],
) -> std::io::Result<()> {
    let who = mark % 17;
    writeln!(out, "commit {branch}\nmark :{mark}")?;
    writeln!(out, "author Dev {who} <dev{who}@example.com> {time} +0100")?;
    writeln!(
        out,
        "committer Dev {who} <dev{who}@example.com> {time} +0100"
    )?;
    let msg = format!("change {mark}\n");
    write!(out, "data {}\n{msg}", msg.len())?;
    if let Some(from) = from {
        writeln!(out, "from :{from}")?;
    }
    if let Some(merge) = merge {
        writeln!(out, "merge :{merge}")?;
    }
    for (old, new) in renames {
        if merge.is_some() {
            // A merge replays the topic's renames as deletions of the old paths (the new
            // paths are among the files it writes): an old path may not exist on main.
            writeln!(out, "D {old}")?;
        } else {
            writeln!(out, "R \"{old}\" \"{new}\"")?;
        }
    }
    for &i in touched {
        let f = &files[i];
        if f.lines.is_empty() && !f.binary {
            writeln!(out, "D {}", f.path)?;
            continue;
        }
        let mut data: Vec<u8> = Vec::new();
        if f.binary {
            data.extend_from_slice(b"\x89BIN\x00\x01");
        }
        for l in &f.lines {
            data.extend_from_slice(l.as_bytes());
        }
        writeln!(out, "M 100644 inline {}\ndata {}", f.path, data.len())?;
        out.write_all(&data)?;
        writeln!(out)?;
    }
    writeln!(out)
}

fn line(rng: &mut Rng) -> String {
    const WORDS: [&str; 12] = [
        "let", "x", "=", "fn", "value", "return", "if", "else", "{", "}", "self", "map",
    ];
    let indent = "    ".repeat(rng.below(4));
    let words: Vec<&str> = (0..1 + rng.below(8))
        .map(|_| WORDS[rng.below(WORDS.len())])
        .collect();
    format!("{indent}{}\n", words.join(" "))
}
