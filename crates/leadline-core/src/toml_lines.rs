//! Lines of TOML files reviewed like code (`debt.toml`, `okrs.toml`, `scorecards.toml`): errors
//! name the line, and the field assigned on it, that a person fixes.

/// The 1-based line holding byte `offset` of `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key assigned on a line (`kind = "x"` gives `kind`), to name the field of an error.
pub fn key_on_line(text: &str, line: usize) -> Option<String> {
    let (key, _) = text.lines().nth(line.checked_sub(1)?)?.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_keys() {
        let text = "a = 1\n\nkind = \"x\"\n[table]\n";
        assert_eq!(
            (line_of(text, 0), line_of(text, 7), line_of(text, 999)),
            (1, 3, 5)
        );
        assert_eq!(key_on_line(text, 3).as_deref(), Some("kind"));
        assert_eq!(key_on_line(text, 4), None);
        assert_eq!(key_on_line(text, 0), None);
    }
}
