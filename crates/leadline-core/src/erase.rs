//! Erasing a person from text: every case form of their emails (as substrings, percent-encoded
//! too), names and logins (as whole words, so `ann` leaves `annotated` alone but not
//! `https://github.com/ann/x`) is replaced by one pseudonym. Case-insensitive by Unicode
//! lower-casing, character by character, so `ÅNN` matches `ånn` whatever the byte lengths.
//! JSON is scrubbed value by value (keys too) and written back; other bytes as text.
//!
//! Pure functions: the store decides where to look, this decides what to replace.

use std::collections::BTreeSet;

use serde_json::Value;

/// Who is being forgotten, every form lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub emails: BTreeSet<String>,
    pub names: BTreeSet<String>,
    pub logins: BTreeSet<String>,
}

impl Person {
    pub fn new(email: &str, logins: &[String]) -> Person {
        let mut p = Person::default();
        p.add_email(email);
        for l in logins {
            p.add_login(l);
        }
        p
    }

    pub fn add_email(&mut self, email: &str) -> bool {
        let e = fold(email.trim());
        e.contains('@') && self.emails.insert(e)
    }

    /// Names with fewer than two letters or digits are not names one could find anyone by,
    /// and as whole words they would match far too much.
    pub fn add_name(&mut self, name: &str) -> bool {
        let n = fold(name.trim());
        n.chars().filter(|c| c.is_alphanumeric()).count() >= 2 && self.names.insert(n)
    }

    pub fn add_login(&mut self, login: &str) -> bool {
        let l = fold(login.trim().trim_start_matches('@'));
        !l.is_empty() && self.logins.insert(l)
    }

    /// Learns the names, emails and logins that a JSON document pairs with one this person is
    /// already known by: `{"name": …, "email": …, "username": …}` (commit authors) and
    /// `{"login": …, "name": …, "email": …}` (forge users). Returns whether anything was new.
    pub fn learn_from_json(&mut self, value: &Value) -> bool {
        let mut learned = false;
        let mut stack = vec![value];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    let field = |k: &str| map.get(k).and_then(Value::as_str);
                    let email = field("email").map(fold);
                    let login = field("login").or(field("username")).map(fold);
                    let known = email.as_ref().is_some_and(|e| self.emails.contains(e))
                        || login.as_ref().is_some_and(|l| self.logins.contains(l));
                    if known {
                        if let Some(e) = field("email") {
                            learned |= self.add_email(e);
                        }
                        if let Some(l) = field("login").or(field("username")) {
                            learned |= self.add_login(l);
                        }
                        if let Some(n) = field("name") {
                            learned |= self.add_name(n);
                        }
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        learned
    }

    /// Learns the names written with one of the person's emails as `Name <email>` (trailers,
    /// messages, mailmaps).
    pub fn learn_from_text(&mut self, text: &str) -> bool {
        let mut learned = false;
        let needles: Vec<String> = self.emails.iter().map(|e| format!("<{e}>")).collect();
        for line in text.lines() {
            for needle in &needles {
                let Some(at) = find_folded(line, needle) else {
                    continue;
                };
                let before = &line[..at];
                let name = before.rsplit([':', ',', '(', '"']).next().unwrap_or(before);
                learned |= self.add_name(name);
            }
        }
        learned
    }
}

/// Each lower-cased character of `text` with the byte range of the original character it
/// comes from, and whether it is the first of that character's lower-case forms.
fn folded_chars(text: &str) -> Vec<(char, usize, usize, bool)> {
    let mut folded = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        for (i, l) in c.to_lowercase().enumerate() {
            folded.push((l, at, end, i == 0));
        }
    }
    folded
}

/// The byte offset in `text` where folded `needle` first occurs, ignoring case.
fn find_folded(text: &str, needle: &str) -> Option<usize> {
    let folded = folded_chars(text);
    let needle: Vec<char> = needle.chars().collect();
    (0..folded.len()).find_map(|i| {
        let window = folded.get(i..i + needle.len())?;
        (folded[i].3 && window.iter().map(|f| f.0).eq(needle.iter().copied())).then(|| folded[i].1)
    })
}

/// Per-character lower-casing (not `str::to_lowercase`, whose final-sigma rule depends on
/// context): the same fold for texts and needles.
fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

struct Needle {
    folded: Vec<char>,
    /// Must stand as a whole word: no letter or digit right before or after.
    whole_word: bool,
}

/// Replaces a [`Person`]'s identity in texts.
pub struct Eraser {
    needles: Vec<Needle>,
    /// The needles as folded strings, for a quick "nothing to do" check.
    quick: Vec<String>,
    replacement: String,
}

impl Eraser {
    pub fn new(person: &Person, replacement: &str) -> Eraser {
        let mut forms: Vec<(String, bool)> = Vec::new();
        for e in &person.emails {
            forms.push((e.clone(), false));
            forms.push((e.replace('@', "%40"), false));
        }
        for n in &person.names {
            forms.push((n.clone(), true));
            if n.contains(' ') {
                forms.push((n.replace(' ', "%20"), true));
                forms.push((n.replace(' ', "+"), true));
            }
        }
        for l in &person.logins {
            forms.push((l.clone(), true));
        }
        // Longest first, so "ann example" wins over "ann" where both match.
        forms.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then(a.cmp(b)));
        forms.dedup_by(|a, b| a.0 == b.0);
        Eraser {
            quick: forms.iter().map(|(f, _)| f.clone()).collect(),
            needles: forms
                .into_iter()
                .map(|(f, whole_word)| Needle {
                    folded: f.chars().collect(),
                    whole_word,
                })
                .collect(),
            replacement: replacement.to_owned(),
        }
    }

    /// `text` with every form of the person replaced, or `None` when it names them nowhere.
    pub fn text(&self, text: &str) -> Option<String> {
        let lower = fold(text);
        if !self.quick.iter().any(|q| lower.contains(q.as_str())) {
            return None;
        }
        let folded = folded_chars(text);
        let mut out = String::with_capacity(text.len());
        let mut copied = 0; // bytes of `text` already handled
        let mut i = 0;
        let mut changed = false;
        while i < folded.len() {
            let (_, start, _, first) = folded[i];
            if first
                && start >= copied
                && let Some(n) = self.match_at(text, &folded, i)
            {
                let end = folded[i + n - 1].2;
                out.push_str(&text[copied..start]);
                out.push_str(&self.replacement);
                copied = end;
                changed = true;
                i += n;
                continue;
            }
            i += 1;
        }
        out.push_str(&text[copied..]);
        changed.then_some(out)
    }

    /// How many folded characters the longest needle matching at `i` spans.
    fn match_at(
        &self,
        text: &str,
        folded: &[(char, usize, usize, bool)],
        i: usize,
    ) -> Option<usize> {
        self.needles.iter().find_map(|needle| {
            let n = needle.folded.len();
            let window = folded.get(i..i + n)?;
            if window.iter().map(|f| f.0).ne(needle.folded.iter().copied()) {
                return None;
            }
            // The match ends where an original character ends.
            if folded.get(i + n).is_some_and(|f| !f.3) {
                return None;
            }
            if needle.whole_word {
                let (start, end) = (folded[i].1, window[n - 1].2);
                let before = text[..start].chars().next_back();
                let after = text[end..].chars().next();
                if before.is_some_and(char::is_alphanumeric)
                    || after.is_some_and(char::is_alphanumeric)
                {
                    return None;
                }
            }
            Some(n)
        })
    }

    /// Bytes as stored: JSON is scrubbed value by value (and key by key) and written back,
    /// other UTF-8 as text, anything else by ASCII-only matching.
    pub fn bytes(&self, data: &[u8]) -> Option<Vec<u8>> {
        let Ok(text) = std::str::from_utf8(data) else {
            return self.ascii_bytes(data);
        };
        let trimmed = text.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(mut value) = serde_json::from_str::<Value>(text)
        {
            return self
                .json(&mut value)
                .then(|| value.to_string().into_bytes());
        }
        self.text(text).map(String::into_bytes)
    }

    /// Scrubs every string and key of `value` in place; whether anything changed.
    pub fn json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.text(s) {
                Some(new) => {
                    *s = new;
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |c, v| self.json(v) | c),
            Value::Object(map) => {
                let mut changed = false;
                let old = std::mem::take(map);
                for (key, mut v) in old {
                    changed |= self.json(&mut v);
                    let key = match self.text(&key) {
                        Some(k) => {
                            changed = true;
                            k
                        }
                        None => key,
                    };
                    map.insert(key, v);
                }
                changed
            }
            _ => false,
        }
    }

    /// Bytes that are not UTF-8: the needles that are ASCII, matched ignoring ASCII case.
    fn ascii_bytes(&self, data: &[u8]) -> Option<Vec<u8>> {
        let lower = data.to_ascii_lowercase();
        let mut out = Vec::with_capacity(data.len());
        let (mut i, mut changed) = (0, false);
        'scan: while i < data.len() {
            for needle in self
                .needles
                .iter()
                .filter(|n| n.folded.iter().all(char::is_ascii))
            {
                let bytes: Vec<u8> = needle.folded.iter().map(|&c| c as u8).collect();
                if lower[i..].starts_with(&bytes) {
                    let end = i + bytes.len();
                    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
                    if needle.whole_word
                        && (word(i.checked_sub(1).map(|j| &data[j])) || word(data.get(end)))
                    {
                        continue;
                    }
                    out.extend_from_slice(self.replacement.as_bytes());
                    i = end;
                    changed = true;
                    continue 'scan;
                }
            }
            out.push(data[i]);
            i += 1;
        }
        changed.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann() -> Eraser {
        let mut p = Person::new("ann@example.com", &["annx".to_owned()]);
        p.add_name("Ann Example");
        p.add_name("Ånnika Öst");
        Eraser::new(&p, "forgotten-1")
    }

    #[test]
    fn every_case_form_is_replaced() {
        let e = ann();
        for (given, want) in [
            (
                "Fix typo reported by ann@example.com",
                "Fix typo reported by forgotten-1",
            ),
            (
                "Signed-off-by: Ann Example <ANN@EXAMPLE.COM>",
                "Signed-off-by: forgotten-1 <forgotten-1>",
            ),
            (
                "Ärger: ann@Example.COM meldete",
                "Ärger: forgotten-1 meldete",
            ),
            ("ÅNNIKA ÖST und ånnika öst", "forgotten-1 und forgotten-1"),
            (
                "https://github.com/AnnX/repo/pull/1",
                "https://github.com/forgotten-1/repo/pull/1",
            ),
            ("@annx please review", "@forgotten-1 please review"),
            ("mailto:ann%40example.com", "mailto:forgotten-1"),
            (
                "q=Ann+Example&x=Ann%20Example",
                "q=forgotten-1&x=forgotten-1",
            ),
            ("annx-patch-1", "forgotten-1-patch-1"),
        ] {
            assert_eq!(e.text(given).as_deref(), Some(want), "{given}");
        }
    }

    #[test]
    fn words_that_merely_contain_a_login_or_name_stay() {
        let e = ann();
        for text in [
            "annxious",
            "Annex Example",
            "Ann Examples",
            "plain text",
            "",
        ] {
            assert_eq!(e.text(text), None, "{text}");
        }
    }

    #[test]
    fn json_is_scrubbed_by_value_and_key() {
        let e = ann();
        let body = br#"{"sender":{"login":"AnnX","url":"https://api.github.com/users/annx"},"annx":1,"note":"annotated"}"#;
        let out = String::from_utf8(e.bytes(body).unwrap()).unwrap();
        assert!(!out.to_lowercase().contains("annx"), "{out}");
        assert!(out.contains("annotated"));
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["sender"]["login"], "forgotten-1");
        assert_eq!(e.bytes(br#"{"a":"b"}"#), None);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_matched_in_ascii() {
        let e = ann();
        let out = e.bytes(b"\xff ANN@example.com \xfe").unwrap();
        assert_eq!(out, b"\xff forgotten-1 \xfe");
    }

    #[test]
    fn names_and_logins_are_learned_from_what_pairs_them() {
        let mut p = Person::new("ann@example.com", &[]);
        let push: Value = serde_json::json!({
            "commits": [{"author": {"name": "Ann Example", "email": "Ann@Example.com", "username": "annx"}}],
            "pusher": {"name": "bob", "email": "bob@example.com"}
        });
        assert!(p.learn_from_json(&push));
        assert!(p.names.contains("ann example") && p.logins.contains("annx"));
        assert!(!p.names.contains("bob"));
        assert!(p.learn_from_text("Co-authored-by: Ann E. <ann@example.com>"));
        assert!(p.names.contains("ann e."));
        assert!(!p.add_name("A"), "one letter is not a name");
    }
}
