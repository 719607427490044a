//! Reading CSV, a JSON array or NDJSON into flat records of named text fields, each with the
//! line it starts on, so that every later complaint can name `FILE:LINE: FIELD`.

use crate::import::{Format, RowError};

/// One row or object: `(field, value)` pairs in file order; `None` for empty or null.
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<(String, Option<String>)>,
}

/// The problems of the records that could not be read, and for CSV the header's column names
/// (checked even when there are no rows).
pub(crate) type Read = (Vec<RowError>, Option<Vec<String>>);

/// Reads `text` record by record, handing each to `each` as soon as it is read: a file of a
/// million rows is never held as a million records at once.
pub(crate) fn read(text: &str, format: Format, each: &mut dyn FnMut(Record)) -> Read {
    read_with(text, format, false, each)
}

/// As [`read`], with JSON values that are objects, arrays or booleans kept as their JSON text
/// (product events carry `properties` objects, and vendors' shapes carry more).
pub(crate) fn read_nested(text: &str, format: Format, each: &mut dyn FnMut(Record)) -> Read {
    read_with(text, format, true, each)
}

fn read_with(text: &str, format: Format, nested: bool, each: &mut dyn FnMut(Record)) -> Read {
    // Editors on Windows start UTF-8 files with a byte order mark; it is not data.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    // A NUL byte in an id or a name is never data either: it truncates in C consumers and
    // makes two different values print alike.
    let mut checked = |r: Record, errors: &mut Vec<RowError>| {
        for (name, value) in &r.fields {
            if value.as_deref().is_some_and(|v| v.contains('\0')) {
                errors.push(RowError::new(r.line, name, "contains a NUL byte"));
            }
        }
        each(r);
    };
    let header = match format {
        Format::Csv => csv_records(text, &mut errors, &mut checked),
        Format::Json => {
            json_array(text, nested, &mut errors, &mut checked);
            None
        }
        Format::Ndjson => {
            ndjson(text, nested, &mut errors, &mut checked);
            None
        }
    };
    (errors, header)
}

type Each<'a> = dyn FnMut(Record, &mut Vec<RowError>) + 'a;

fn csv_records(text: &str, errors: &mut Vec<RowError>, each: &mut Each<'_>) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            errors.push(RowError::new(1, "", format!("unreadable header: {e}")));
            return None;
        }
    };
    for (i, name) in header.iter().enumerate() {
        if header[..i].contains(name) {
            errors.push(RowError::new(1, name, "appears twice in the header"));
        }
    }
    // Lines are counted from byte offsets: the csv crate's own count is one short after CRLF
    // line ends (files written by Excel or Python's csv module), where a record's position is
    // the `\n` that ends the line before it.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
        .collect();
    let line_of = |p: Option<&csv::Position>| {
        p.map_or(0, |p| {
            newlines.partition_point(|&n| n <= p.byte() as usize) + 1
        })
    };
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {
                let line = line_of(row.position());
                let fields = header
                    .iter()
                    .zip(row.iter())
                    .map(|(name, value)| {
                        (name.clone(), (!value.is_empty()).then(|| value.to_owned()))
                    })
                    .collect();
                each(Record { line, fields }, errors);
            }
            Err(e) => {
                let line = line_of(e.position());
                errors.push(RowError::new(line, "", csv_message(&e)));
                // A malformed row (unequal lengths) is reported; reading goes on after it.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    Some(header)
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

fn ndjson(text: &str, nested: bool, errors: &mut Vec<RowError>, each: &mut Each<'_>) {
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match object(line, i + 1, nested) {
            Ok(r) => each(r, errors),
            Err(e) => errors.push(e),
        }
    }
}

fn json_array(text: &str, nested: bool, errors: &mut Vec<RowError>, each: &mut Each<'_>) {
    let items = match array_items(text) {
        Ok(items) => items,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    for (line, item) in items {
        match object(item, line, nested) {
            Ok(r) => each(r, errors),
            Err(e) => errors.push(e),
        }
    }
}

/// A JSON object's members in order, duplicates kept so they can be refused (serde_json's
/// own map would silently keep the last).
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// One JSON object whose values are strings, numbers or null.
fn object(text: &str, line: usize, nested: bool) -> Result<Record, RowError> {
    // One parse: a well-formed value of another type is a data error, anything else syntax.
    let Members(members) = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => RowError::new(line, "", "expected a JSON object"),
        _ => RowError::new(
            line + e.line().saturating_sub(1),
            "",
            format!("invalid JSON: {e}"),
        ),
    })?;
    let mut fields: Vec<(String, Option<String>)> = Vec::with_capacity(members.len());
    for (name, value) in members {
        if fields.iter().any(|(seen, _)| *seen == name) {
            return Err(RowError::new(line, &name, "appears twice in the object"));
        }
        let text = match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) if s.trim().is_empty() => None,
            serde_json::Value::String(s) => Some(s.trim().to_owned()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            other if nested => Some(other.to_string()),
            other => {
                let kind = match other {
                    serde_json::Value::Bool(_) => "a boolean",
                    serde_json::Value::Array(_) => "an array",
                    _ => "an object",
                };
                return Err(RowError::new(
                    line,
                    &name,
                    format!("expected a string, found {kind}"),
                ));
            }
        };
        fields.push((name, text));
    }
    Ok(Record { line, fields })
}

/// The top-level items of a JSON array with the line each starts on. Only the array's
/// structure is checked here; each item is parsed on its own so errors name its line.
fn array_items(text: &str) -> Result<Vec<(usize, &str)>, RowError> {
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut i = 0;
    let skip_ws = |i: &mut usize, line: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            if bytes[*i] == b'\n' {
                *line += 1;
            }
            *i += 1;
        }
    };
    skip_ws(&mut i, &mut line);
    if bytes.get(i) != Some(&b'[') {
        return Err(RowError::new(line, "", "expected a JSON array of objects"));
    }
    i += 1;
    let mut items = Vec::new();
    loop {
        skip_ws(&mut i, &mut line);
        match bytes.get(i) {
            Some(b']') if items.is_empty() => break,
            None => return Err(RowError::new(line, "", "the array is not closed")),
            _ => {}
        }
        let (start, start_line) = (i, line);
        let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\n' {
                line += 1;
            }
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b',' | b']' if depth == 0 => break,
                    _ => {}
                }
            }
            i += 1;
        }
        items.push((start_line, text[start..i].trim_end()));
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => break,
            _ => return Err(RowError::new(line, "", "the array is not closed")),
        }
    }
    i += 1; // past the closing bracket
    skip_ws(&mut i, &mut line);
    if i < bytes.len() {
        return Err(RowError::new(line, "", "text after the end of the array"));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_items_know_their_lines() {
        let text = "[\n  {\"a\": \"x, ]\"},\n  {\"b\": [1, 2],\n   \"c\": \"}\"}\n]\n";
        let items = array_items(text).unwrap();
        assert_eq!(items.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(items[0].1, "{\"a\": \"x, ]\"}");
        assert!(array_items("[]").unwrap().is_empty());
        assert!(array_items("[{}").is_err());
        assert!(array_items("{}").is_err());
        assert!(array_items("[{}] x").is_err());
        assert!(array_items("[{}]\n").is_ok());
    }
}
