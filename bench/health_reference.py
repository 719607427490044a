#!/usr/bin/env python3
"""An independent calculation of `leadline health`'s hotspots, coupling and knowledge from git.

Reads `git log --numstat --no-renames HEAD` and the blobs of `git ls-tree -r HEAD` only, with
the definitions of docs/metrics.md ("Code health"), and prints JSON shaped like one report of
`leadline health --format json --top N`. bench/health compares the two on the same repository.

usage: health_reference.py REPO SINCE_MS UNTIL_MS [--depth 1] [--left-after-days 90]
       [--min-revisions 5] [--min-shared 5] [--min-degree 0.3] [--max-files 30]
"""
import argparse
import collections
import json
import subprocess


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, stdout=subprocess.PIPE).stdout


def history(repo):
    """(sha, committer ms, author email, [(path, added, deleted)]) per commit of HEAD."""
    out = git(repo, "log", "HEAD", "--no-renames", "--numstat", "-z", "--format=%x01%H %ct %aE")
    commits = []
    for record in out.split(b"\x01")[1:]:
        header, _, rest = record.partition(b"\n")
        sha, ct, email = header.decode().split(" ", 2)
        files = []
        for entry in rest.split(b"\0"):
            entry = entry.strip(b"\n")
            if not entry:
                continue
            added, deleted, path = entry.split(b"\t", 2)
            files.append((path.decode("utf-8", "replace"),
                          0 if added == b"-" else int(added),
                          0 if deleted == b"-" else int(deleted)))
        commits.append((sha, int(ct) * 1000, email, files))
    return commits


def by_hand(path):
    """False for files nobody maintains by hand: lock files, change logs, vendored and
    installed dependencies, minified bundles (leadline's NOT_BY_HAND)."""
    dirs, _, name = path.rpartition("/")
    if set(dirs.split("/")) & {"vendor", "third_party", "node_modules"}:
        return False
    return not (name.endswith((".lock", ".min.js", ".min.css"))
                or name in ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "go.sum")
                or name.startswith(("CHANGELOG", "changelog")))


def complexity(data):
    lines = indentation = 0
    for line in data.split(b"\n"):
        columns = 0
        i = 0
        while i < len(line) and line[i] in b" \t":
            columns = columns + 1 if line[i] == 32 else (columns // 4 + 1) * 4
            i += 1
        if line[i:].strip():
            lines += 1
            indentation += columns // 4
    return lines + indentation


def head_complexity(repo):
    """(path -> complexity for text files, every regular file) at HEAD; binary files (a NUL in
    the first 8000 bytes) have no complexity."""
    entries = []
    for line in git(repo, "ls-tree", "-r", "-z", "HEAD").split(b"\0"):
        if not line:
            continue
        meta, path = line.split(b"\t", 1)
        mode, kind, oid = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((path.decode("utf-8", "replace"), oid))
    batch = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = batch.communicate(b"".join(oid + b"\n" for _, oid in entries))
    result, pos = {}, 0
    for path, _ in entries:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        data = out[header_end + 1:header_end + 1 + size]
        pos = header_end + 1 + size + 1
        if b"\0" not in data[:8000]:
            result[path] = complexity(data)
    return result, [path for path, _ in entries]


def area(path, depth):
    dirs = path.split("/")
    return "." if len(dirs) <= 1 else "/".join(dirs[:min(len(dirs) - 1, depth)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("repo")
    p.add_argument("since", type=int)
    p.add_argument("until", type=int)
    p.add_argument("--depth", type=int, default=1)
    p.add_argument("--left-after-days", type=int, default=90)
    p.add_argument("--min-revisions", type=int, default=5)
    p.add_argument("--min-degree", type=float, default=0.3)
    p.add_argument("--max-files", type=int, default=30)
    p.add_argument("--min-shared", type=int, default=5)
    a = p.parse_args()
    commits = history(a.repo)
    in_window = [c for c in commits if a.since <= c[1] < a.until]

    revisions = collections.Counter()
    for _, _, _, files in in_window:
        for path in {f[0] for f in files}:
            revisions[path] += 1
    head, regular = head_complexity(a.repo)  # files deleted since are left out of every list
    hotspots = sorted(
        ({"path": f, "revisions": n, "complexity": head[f], "score": n * head[f]}
         for f, n in revisions.items() if f in head and by_hand(f)),
        key=lambda h: (-h["score"], -h["revisions"], h["path"]))

    together = collections.Counter()
    coupled_revisions = collections.Counter()
    for _, _, _, files in in_window:
        paths = sorted({f[0] for f in files})
        if len(paths) > a.max_files:
            continue
        for i, x in enumerate(paths):
            coupled_revisions[x] += 1
            for y in paths[i + 1:]:
                together[(x, y)] += 1
    coupling = []
    at_head = set(regular)
    for (x, y), n in together.items():
        if x not in at_head or y not in at_head:
            continue
        rx, ry = coupled_revisions[x], coupled_revisions[y]
        degree = n / ((rx + ry) / 2)
        # code-maat's rules: the average revisions, shared commits, degree.
        if (rx + ry) / 2 >= a.min_revisions and n >= a.min_shared and degree >= a.min_degree:
            coupling.append({"a": x, "b": y, "shared": n, "degree": degree})

    last_seen = {}
    for _, at, email, _ in commits:
        if at < a.until:
            last_seen[email] = max(last_seen.get(email, at), at)
    left = a.left_after_days * 86_400_000
    present = {area(f, a.depth) for f in regular}
    by_area = collections.defaultdict(collections.Counter)
    for _, at, email, files in in_window:
        for path, _, _ in files:
            by_area[area(path, a.depth)][email] += 1
    areas = []
    for name in sorted(present):
        authors = by_area.get(name, collections.Counter())
        changes = sum(authors.values())
        areas.append({
            "area": name,
            "changes": changes,
            "active_authors": len(authors),
            "main_author_share": max(authors.values()) / changes if changes else None,
            "knowledge_risk": bool(authors) and all(
                last_seen.get(e, -1) < a.until - left for e in authors),
        })
    json.dump({"hotspots": hotspots, "coupling": coupling, "areas": areas}, __import__("sys").stdout)


if __name__ == "__main__":
    main()
