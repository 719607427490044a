//! leadline's file changes against `git log --numstat --no-renames` itself, row for row, on a
//! repository built to hold every case that trips a numstat reimplementation.

use std::ffi::OsStr;

use crate::common::{GitRepo, TestStore, assert_same_numstat, git_command, git_numstat};

/// Builds the edge-case repository.
fn edge_cases() -> GitRepo {
    let r = GitRepo::new();
    // Root commit: text, no final newline, CRLF, empty, binary, spaces, non-UTF-8, symlink.
    r.write(b"a.txt", b"one\ntwo\nthree\n");
    r.write(b"nonl", b"no newline at end");
    r.write(b"crlf.txt", b"a\r\nb\r\nc\r\n");
    r.write(b"empty", b"");
    r.write(b"bin.dat", b"\x00\x01\x02binary\n");
    r.write(b"dir with space/file name.txt", b"spaced\n");
    r.write(b"caf\xe9/men\xfc.txt", b"latin-1 path\n");
    r.write(b"d/x", b"in a directory\n");
    r.write(b"conflict.txt", b"base\n");
    r.symlink("link", "a.txt");
    // The diff attribute overrides content sniffing; git reads it from the work tree.
    r.write(
        b".gitattributes",
        b"*.dat binary\nforced.txt diff\nnodiff.txt -diff\ndrv.txt diff=bin\n",
    );
    r.git(&["config", "diff.bin.binary", "true"]);
    r.write(b"forced.txt", b"text with a \0 NUL\n");
    r.write(b"nodiff.txt", b"plain text\n");
    r.write(b"drv.txt", b"plain text\n");
    r.write(b"plain.dat", b"text in a .dat file\n");
    r.commit_all("root: many kinds of files");

    // Edits of every flavour.
    r.write(b"a.txt", b"one\nTWO\nthree\nfour\n");
    r.write(b"nonl", b"no newline at end\n");
    r.write(b"crlf.txt", b"a\nb\nc\n");
    r.write(b"empty", b"now\nfilled\n");
    r.write(b"bin.dat", b"\x00\x01\x03binary changed\n");
    r.write(b"forced.txt", b"text with a \0 NUL\nand more\n");
    r.write(b"nodiff.txt", b"plain text\nmore\n");
    r.write(b"drv.txt", b"plain text\nmore\n");
    r.write(b"plain.dat", b"text in a .dat file\nmore\n");
    r.chmod("dir with space/file name.txt", 0o755);
    r.chmod("bin.dat", 0o755);
    r.commit_all("edits, mode-only changes of text and binary");

    // A rename (no rename detection: a delete and an add), a deletion, an empty commit.
    r.git(&["mv", "a.txt", "b.txt"]);
    r.remove("empty");
    r.commit_all("rename and delete");
    r.commit_index("an empty commit");

    // Type changes: symlink -> file, file -> symlink; directory -> file.
    r.remove("link");
    r.write(b"link", b"now a regular file\n");
    r.symlink("nonl", "b.txt");
    r.remove("d");
    r.write(b"d", b"a file where a directory was\n");
    r.commit_all("type changes");

    // A large file, then scattered edits in it.
    let big: String = (0..60_000)
        .map(|i| format!("line {i} {}\n", i * 7919 % 1000))
        .collect();
    r.write(b"big.txt", big.as_bytes());
    r.commit_all("large file");
    let edited: String = big
        .lines()
        .enumerate()
        .filter(|(i, _)| i % 997 != 3)
        .map(|(i, l)| {
            if i % 1499 == 0 {
                format!("{l} edited\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    r.write(b"big.txt", edited.as_bytes());
    r.commit_all("scattered edits in the large file");

    // A conflicting merge resolved by hand.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write(b"conflict.txt", b"feature side\n");
    r.write(b"feature.txt", b"feature\n");
    r.commit_all("feature edit");
    r.git(&["checkout", "-q", "main"]);
    r.write(b"conflict.txt", b"main side\n");
    r.commit_all("main edit");
    r.tick();
    let merge = r.git_raw(["merge", "-q", "--no-edit", "feature"].map(OsStr::new));
    assert!(!merge.status.success(), "the merge should conflict");
    r.write(b"conflict.txt", b"resolved\nby hand\n");
    r.commit_all("merge feature, resolving the conflict");

    // An octopus merge of three branches.
    for name in ["o1", "o2", "o3"] {
        r.git(&["checkout", "-q", "-b", name, "main"]);
        r.write(
            format!("{name}.txt").as_bytes(),
            format!("{name}\n").as_bytes(),
        );
        r.commit_all(&format!("{name} work"));
    }
    r.git(&["checkout", "-q", "main"]);
    r.tick();
    r.git(&["merge", "-q", "--no-edit", "o1", "o2", "o3"]);

    // Tags (lightweight, annotated, on a tree), a remote-only commit, a detached side branch
    // reachable only from a tag.
    r.git(&["tag", "v1.0"]);
    r.tick();
    r.git(&["tag", "-a", "-m", "release 1.1", "v1.1"]);
    r.git(&["tag", "tree-tag", "HEAD^{tree}"]);
    r.git(&["checkout", "-q", "-b", "gone"]);
    r.write(b"remote-only.txt", b"only on the remote\n");
    let remote_only = r.commit_all("remote only");
    r.git(&["update-ref", "refs/remotes/origin/gone", &remote_only]);
    r.git(&["checkout", "-q", "--detach", "main"]);
    r.write(b"tagged-only.txt", b"only reachable from a tag\n");
    r.commit_all("tagged only");
    r.git(&["tag", "side-tag"]);
    r.git(&["checkout", "-q", "main"]);
    r.git(&["branch", "-D", "-q", "gone"]);

    // Submodule pointers (gitlinks): added, moved, turned into a file, deleted.
    let target_a = "1111111111111111111111111111111111111111";
    let target_b = "2222222222222222222222222222222222222222";
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{target_a},sub"),
    ]);
    r.commit_index("add a submodule pointer");
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("160000,{target_b},sub"),
    ]);
    r.commit_index("move the submodule pointer");
    let file_blob = r.hash_object(&[], b"sub is a file now\n");
    r.git(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{file_blob},sub"),
    ]);
    r.commit_index("submodule pointer becomes a file");
    r.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{target_a},sub2"),
    ]);
    r.commit_index("another submodule pointer");
    r.git(&["update-index", "--force-remove", "sub2"]);
    r.commit_index("remove the submodule pointer");

    // Early git wrote regular files as 100664; git reads that as 100644, so a later tree with
    // the same blob at 100644 is no change at all.
    let blob = r.hash_object(&[], b"legacy\n");
    let mut raw_tree = b"100664 legacy.txt\0".to_vec();
    raw_tree.extend(hex_bytes(&blob));
    let old_tree = r.hash_object(&["-t", "tree", "--literally"], &raw_tree);
    let old = r.git(&["commit-tree", &old_tree, "-m", "legacy mode"]);
    let new_tree = r.hash_object(&["-t", "tree"], &{
        let mut t = b"100644 legacy.txt\0".to_vec();
        t.extend(hex_bytes(&blob));
        t
    });
    r.tick();
    let new = r.git(&[
        "commit-tree",
        &new_tree,
        "-p",
        old.trim(),
        "-m",
        "canonical mode",
    ]);
    r.git(&["update-ref", "refs/heads/legacy", new.trim()]);
    r
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..40)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn file_changes_equal_git_numstat_on_every_edge_case() {
    let repo = edge_cases();
    let expected = git_numstat(repo.path());
    // The reference itself must hold the cases, or this test proves nothing.
    let paths: Vec<&[u8]> = expected.keys().map(|(_, p)| p.as_slice()).collect();
    for needle in [
        &b"caf\xe9/men\xfc.txt"[..],
        b"dir with space/file name.txt",
        b"sub",
        b"sub2",
        b"link",
        b"remote-only.txt",
        b"tagged-only.txt",
    ] {
        assert!(
            paths.contains(&needle),
            "git shows no row for {:?}",
            String::from_utf8_lossy(needle)
        );
    }
    assert!(expected.values().any(|v| v.0.is_none()), "no binary row");
    let by_path = |p: &[u8]| {
        expected
            .iter()
            .filter(|((_, path), _)| path == p)
            .map(|(_, v)| *v)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_path(b"forced.txt"),
        [(Some(1), Some(0)), (Some(1), Some(0))],
        "git should count forced.txt as text"
    );
    assert!(
        by_path(b"nodiff.txt")
            .iter()
            .chain(&by_path(b"drv.txt"))
            .all(|v| v.0.is_none())
    );

    // A bare clone has no work tree, so git ignores the in-tree .gitattributes there.
    let bare_dir = tempfile::tempdir().unwrap();
    let bare = bare_dir.path().join("edge.git");
    let cloned = git_command(bare_dir.path())
        .args(["clone", "-q", "--bare"])
        .arg(repo.path())
        .arg(&bare)
        .status()
        .unwrap();
    assert!(cloned.success());
    let bare_expected = git_numstat(&bare);
    assert_ne!(
        bare_expected, expected,
        "the bare clone should differ in its attributes"
    );

    for store in TestStore::both() {
        store.ingest(repo.path());
        assert_same_numstat(&expected, &store.numstat());
    }
    for store in TestStore::both() {
        store.ingest(&bare);
        assert_same_numstat(&bare_expected, &store.numstat());
    }
}

/// Commit metadata against `git log`'s own formatting (with .mailmap applied, as %aN/%aE do).
#[test]
fn commit_metadata_equals_git_log() {
    let repo = GitRepo::new();
    repo.write(
        b".mailmap",
        b"New Name <new@example.com> Old Name <old@example.com>\n",
    );
    repo.commit_all("add a mailmap\n\nwith a body\n\nCo-authored-by: Someone <s@example.com>");
    repo.write(b"f", b"x\n");
    repo.commit_all_as(
        "Old Name <old@example.com>",
        "subject over\ntwo lines\n\nbody",
    );
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~1"]);
    repo.write(b"g", b"y\n");
    repo.commit_all("side");
    repo.git(&["checkout", "-q", "main"]);
    repo.tick();
    repo.git(&["merge", "-q", "--no-edit", "side"]);

    let out = git_command(repo.path())
        .args(["log", "--format=%H%x09%P%x09%aN <%aE>%x09%aI%x09%cI%x09%s"])
        .args(crate::common::ALL_REFS)
        .output()
        .unwrap();
    let mut expected: Vec<Vec<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(|f| f.replace('Z', "+00:00")).collect())
        .collect();
    expected.sort();
    assert!(
        expected
            .iter()
            .any(|row| row[2] == "New Name <new@example.com>")
    );

    for store in TestStore::both() {
        store.ingest(repo.path());
        let data =
            store.run(&["export", "commits", "--identify", "--format", "ndjson"].map(OsStr::new));
        let mut actual: Vec<Vec<String>> = String::from_utf8(data)
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                let parents: Vec<&str> = v["parents"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect();
                vec![
                    v["sha"].as_str().unwrap().to_owned(),
                    parents.join(" "),
                    v["author"].as_str().unwrap().to_owned(),
                    v["authored_at"].as_str().unwrap().to_owned(),
                    v["committed_at"].as_str().unwrap().to_owned(),
                    v["subject"].as_str().unwrap().to_owned(),
                ]
            })
            .collect();
        actual.sort();
        assert_eq!(actual, expected, "on {}", store.backend);
    }
}

/// A longer generated history (topic merges, renames, binaries, deletions) against git.
#[test]
fn synthetic_history_equals_git_numstat() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("synthetic");
    crate::synth::build(
        &repo,
        crate::synth::Shape {
            commits: 1500,
            files: 300,
            seed: 11,
        },
    );
    let expected = git_numstat(&repo);
    assert!(expected.len() > 3000, "only {} rows", expected.len());
    for store in TestStore::both() {
        store.ingest(&repo);
        assert_same_numstat(&expected, &store.numstat());
    }
}

/// git treats blobs above `core.bigFileThreshold` as binary unless an attribute says otherwise.
#[test]
fn big_file_threshold_makes_binary_as_in_git() {
    let r = GitRepo::new();
    r.git(&["config", "core.bigFileThreshold", "1k"]);
    r.write(b".gitattributes", b"forced.txt diff\n");
    let big: String = (0..400).map(|i| format!("{i}\n")).collect();
    for name in ["big.txt", "forced.txt", "small.txt"] {
        let content = if name == "small.txt" {
            "small\n"
        } else {
            big.as_str()
        };
        r.write(name.as_bytes(), content.as_bytes());
    }
    r.commit_all("one");
    r.write(b"big.txt", format!("{big}more\n").as_bytes());
    r.write(b"forced.txt", format!("{big}more\n").as_bytes());
    r.commit_all("two");
    let expected = git_numstat(r.path());
    let binary: Vec<&[u8]> = expected
        .iter()
        .filter(|(_, v)| v.0.is_none())
        .map(|((_, p), _)| p.as_slice())
        .collect();
    assert_eq!(binary, [b"big.txt", b"big.txt"], "git's own view changed");
    for store in TestStore::both() {
        store.ingest(r.path());
        assert_same_numstat(&expected, &store.numstat());
    }
}
