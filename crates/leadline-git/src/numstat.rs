//! Line counts of one changed path, exactly as `git diff --numstat` computes them.
//!
//! git's rules, which this module reproduces (see `shared/notes/history-mining.md`):
//! - a side is binary when its first 8000 bytes hold a NUL; then the row is `-\t-` (here
//!   `None`), even if only the mode changed;
//! - lines are compared with their terminators, so CRLF→LF and a missing final newline count as
//!   changed lines;
//! - the diff is Myers with git's heuristics, whose counts can differ from Histogram's.

use std::collections::HashMap;

use gix::diff::blob::{Algorithm, Diff, Token, sources::byte_lines};

use crate::attributes::DiffMode;

/// How many leading bytes git inspects for a NUL (`FIRST_FEW_BYTES` in git's xdiff-interface).
const BINARY_PROBE_LEN: usize = 8000;

/// True when git would treat `data` as binary.
pub(crate) fn is_binary(data: &[u8]) -> bool {
    data[..data.len().min(BINARY_PROBE_LEN)].contains(&0)
}

/// Lines added and deleted going from `old` to `new`, or `None` when the content is binary:
/// by the path's `diff` attribute (`mode`), or else by a NUL in either side.
pub(crate) fn line_counts(
    old: &[u8],
    new: &[u8],
    mode: DiffMode,
    diff: &mut Diff,
) -> Option<(u64, u64)> {
    match mode {
        DiffMode::Binary => return None,
        DiffMode::Auto if is_binary(old) || is_binary(new) => return None,
        DiffMode::Auto | DiffMode::Text => {}
    }
    if old == new {
        return Some((0, 0));
    }
    if old.is_empty() || new.is_empty() {
        return Some((count_lines(new), count_lines(old)));
    }
    let (prefix, suffix) = common_lines(old, new);
    let old_middle = &old[prefix..old.len() - suffix];
    let new_middle = &new[prefix..new.len() - suffix];
    if old_middle.is_empty() || new_middle.is_empty() {
        return Some((count_lines(new_middle), count_lines(old_middle)));
    }
    let (before, after, tokens) = tokenize(
        &old[..prefix],
        old_middle,
        new_middle,
        &old[old.len() - suffix..],
    );
    diff.compute_with(Algorithm::Myers, &before, &after, tokens);
    Some((
        u64::from(diff.count_additions()),
        u64::from(diff.count_removals()),
    ))
}

/// The bytes of the longest run of whole lines `old` and `new` start with, then of the longest
/// run they end with in what remains: the lines the diff strips before searching (its common
/// prefix, then postfix), found by comparing bytes instead of hashing every line.
fn common_lines(old: &[u8], new: &[u8]) -> (usize, usize) {
    let same = same_from_start(old, new);
    // Lines whose terminator lies before the first difference are equal on both sides.
    let prefix = memchr::memrchr(b'\n', &old[..same]).map_or(0, |i| i + 1);
    let (old, new) = (&old[prefix..], &new[prefix..]);
    let tail = same_from_end(old, new);
    // A line of the equal tail starts on both sides after a newline inside the tail; the whole
    // tail is lines only if it starts a line on both sides too.
    let starts_line = |side: &[u8]| side.len() == tail || side[side.len() - tail - 1] == b'\n';
    let suffix = if starts_line(old) && starts_line(new) {
        tail
    } else {
        let tail_bytes = &old[old.len() - tail..];
        memchr::memchr(b'\n', tail_bytes).map_or(0, |i| tail - i - 1)
    };
    (prefix, suffix)
}

/// Bytes compared a block at a time before the byte that differs is looked for.
const BLOCK: usize = 32;

/// How many bytes `a` and `b` share from the start.
fn same_from_start(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at the end.
fn same_from_end(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = n;
    while i >= BLOCK && a[i - BLOCK..i] == b[i - BLOCK..i] {
        i -= BLOCK;
    }
    let tail = a[..i]
        .iter()
        .rev()
        .zip(b[..i].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    n - i + tail
}

/// Tokens for the diff: the middle lines of both sides interned, and the shared prefix and
/// suffix lines as the middle token they equal, or else one token that appears nowhere in the
/// middle. The diff counts every line of both whole files to decide which lines are too common
/// to anchor on (git's `xdl_cleanup_records`), and only counts of middle lines matter to it, so
/// this gives the same result as interning every line, without hashing most of them.
fn tokenize(
    prefix: &[u8],
    old_middle: &[u8],
    new_middle: &[u8],
    suffix: &[u8],
) -> (Vec<Token>, Vec<Token>, u32) {
    let old_lines: Vec<&[u8]> = byte_lines(old_middle).collect();
    let new_lines: Vec<&[u8]> = byte_lines(new_middle).collect();
    let mut table: HashMap<&[u8], Token, foldhash::fast::RandomState> =
        HashMap::with_capacity_and_hasher(old_lines.len() + new_lines.len(), Default::default());
    let mut intern = |line| {
        let next = Token(table.len() as u32);
        *table.entry(line).or_insert(next)
    };
    let old_tokens: Vec<Token> = old_lines.into_iter().map(&mut intern).collect();
    let new_tokens: Vec<Token> = new_lines.into_iter().map(&mut intern).collect();
    let elsewhere = Token(table.len() as u32);
    let shared = |lines: &[u8]| -> Vec<Token> {
        byte_lines(lines)
            .map(|line| table.get(line).copied().unwrap_or(elsewhere))
            .collect()
    };
    let (head, tail) = (shared(prefix), shared(suffix));
    let side = |middle: &[Token]| [&head[..], middle, &tail[..]].concat();
    (side(&old_tokens), side(&new_tokens), elsewhere.0 + 1)
}

/// Lines in `data` as git counts them: a final line without newline still counts.
fn count_lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(old: &str, new: &str) -> Option<(u64, u64)> {
        line_counts(
            old.as_bytes(),
            new.as_bytes(),
            DiffMode::Auto,
            &mut Diff::default(),
        )
    }

    #[test]
    fn terminators_are_part_of_lines() {
        // git: CRLF→LF of two lines is 2/2; adding a missing final newline is 1/1.
        assert_eq!(counts("a\r\nb\r\n", "a\nb\n"), Some((2, 2)));
        assert_eq!(counts("a\nb", "a\nb\n"), Some((1, 1)));
    }

    #[test]
    fn whole_file_additions_and_deletions() {
        assert_eq!(counts("", "a\nb"), Some((2, 0)));
        assert_eq!(counts("a\n", ""), Some((0, 1)));
        assert_eq!(counts("", ""), Some((0, 0)));
    }

    #[test]
    fn nul_in_the_first_8000_bytes_makes_binary() {
        let auto =
            |old: &[u8], new: &[u8]| line_counts(old, new, DiffMode::Auto, &mut Diff::default());
        let mut late = vec![b'a'; 8000];
        late.push(0);
        assert_eq!(auto(b"x\n", &late), Some((1, 1)));
        late[7999] = 0;
        assert_eq!(auto(b"x\n", &late), None);
        assert_eq!(auto(b"\0", b"\0"), None);
    }

    #[test]
    fn the_diff_attribute_overrides_content_sniffing() {
        let count = |mode| line_counts(b"a\0\n", b"a\0\nb\n", mode, &mut Diff::default());
        assert_eq!(count(DiffMode::Text), Some((1, 0)));
        assert_eq!(count(DiffMode::Auto), None);
        let text = |mode| line_counts(b"a\n", b"b\n", mode, &mut Diff::default());
        assert_eq!(text(DiffMode::Binary), None);
        assert_eq!(text(DiffMode::Auto), Some((1, 1)));
    }

    #[test]
    fn counts_a_modification() {
        assert_eq!(counts("a\nb\nc\n", "a\nB\nc\nd\n"), Some((2, 1)));
    }

    /// What the diff gives when every line of both files is interned, as gix does it.
    fn whole_file_counts(old: &[u8], new: &[u8]) -> (u64, u64) {
        let input = gix::diff::blob::InternedInput::new(byte_lines(old), byte_lines(new));
        let mut diff = Diff::default();
        diff.compute_with(
            Algorithm::Myers,
            &input.before,
            &input.after,
            input.interner.num_tokens(),
        );
        (
            u64::from(diff.count_additions()),
            u64::from(diff.count_removals()),
        )
    }

    /// Files mixing a few lines that repeat often enough to be "too common" for the diff with
    /// lines mostly found on one side only, which make the diff discard common lines between
    /// them; with and without a final newline and with CRLF.
    fn file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let common = prop::sample::select(vec!["}\n", "\n", "a\r\n", "a"]).prop_map(String::from);
        let rare = (0u32..400).prop_map(|n| format!("line {n}\n"));
        let line = prop_oneof![common, rare];
        prop::collection::vec(line, 0..150).prop_map(|lines| lines.concat().into_bytes())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn trimming_common_lines_first_changes_no_count(old in file(), new in file(), cut in 0usize..60) {
            let counts = line_counts(&old, &new, DiffMode::Text, &mut Diff::default());
            proptest::prop_assert_eq!(counts, Some(whole_file_counts(&old, &new)));
            // A long shared head and tail around a small change, the common case in history.
            let mut edited = new.clone();
            edited.truncate(cut.min(edited.len()));
            let around = |middle: &[u8]| [&old[..], middle, &old[..]].concat();
            let (a, b) = (around(&new), around(&edited));
            let counts = line_counts(&a, &b, DiffMode::Text, &mut Diff::default());
            proptest::prop_assert_eq!(counts, Some(whole_file_counts(&a, &b)));
        }
    }
}
