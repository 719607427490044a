//! Line counts of one changed path, exactly as `git diff --numstat` computes them.
//!
//! git's rules, which this module reproduces (see `shared/notes/history-mining.md`):
//! - a side is binary when its first 8000 bytes hold a NUL; then the row is `-\t-` (here
//!   `None`), even if only the mode changed;
//! - lines are compared with their terminators, so CRLF→LF and a missing final newline count as
//!   changed lines;
//! - the diff is Myers with git's heuristics, whose counts can differ from Histogram's.

use gix::diff::blob::{Algorithm, Diff, InternedInput, sources::byte_lines};

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
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    diff.compute_with(
        Algorithm::Myers,
        &input.before,
        &input.after,
        input.interner.num_tokens(),
    );
    Some((
        u64::from(diff.count_additions()),
        u64::from(diff.count_removals()),
    ))
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
}
