//! YAML as a tree that remembers lines: errors in postmortems and SLO files name the line of
//! the field, which `serde`'s YAML loaders lose.

use std::collections::HashMap;
use std::fmt;

use jiff::civil::Date;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A node and the 1-based line (within the YAML text) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Every scalar as written (YAML's own typing of dates and numbers is not used: a date
    /// is checked as a date where one is expected).
    Scalar(String),
    /// `~`, `null` or nothing.
    Null,
    Seq(Vec<Node>),
    /// Keys in document order, with the line of each key.
    Map(Vec<(String, usize, Node)>),
}

/// Parses one YAML document; an error is (line, message).
pub fn load(text: &str) -> Result<Option<Node>, (usize, String)> {
    Ok(load_all(text)?.into_iter().next())
}

/// Parses every document of a stream (`---` separated); empty documents are left out.
pub fn load_all(text: &str) -> Result<Vec<Node>, (usize, String)> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| (e.marker().line(), e.info().to_owned()))?;
    if let Some(problem) = builder.problem {
        return Err(problem);
    }
    Ok(builder.documents)
}

#[derive(Default)]
struct Builder {
    /// Open collections: a node under construction and, for maps, a key waiting for its value.
    stack: Vec<(Node, Option<(String, usize)>)>,
    root: Option<Node>,
    documents: Vec<Node>,
    problem: Option<(usize, String)>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((
                Node {
                    value: Value::Seq(items),
                    ..
                },
                _,
            )) => items.push(node),
            Some((
                Node {
                    value: Value::Map(entries),
                    ..
                },
                pending,
            )) => match pending.take() {
                Some((key, line)) => entries.push((key, line, node)),
                None => match node.value {
                    Value::Scalar(key) => *pending = Some((key, node.line)),
                    Value::Null => *pending = Some((String::new(), node.line)),
                    _ => {
                        self.problem
                            .get_or_insert((node.line, "a key must be plain text".to_owned()));
                    }
                },
            },
            Some(_) => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, style, _, _) => {
                let plain = style == yaml_rust2::scanner::TScalarStyle::Plain;
                let value = if plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
                {
                    Value::Null
                } else {
                    Value::Scalar(text)
                };
                self.push_value(Node { line, value });
            }
            Event::SequenceStart(..) => self.stack.push((
                Node {
                    line,
                    value: Value::Seq(Vec::new()),
                },
                None,
            )),
            Event::MappingStart(..) => self.stack.push((
                Node {
                    line,
                    value: Value::Map(Vec::new()),
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.push_value(node);
                }
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take().filter(|r| r.value != Value::Null) {
                    self.documents.push(root);
                }
            }
            Event::Alias(_) => {
                self.problem
                    .get_or_insert((line, "aliases are not supported".to_owned()));
                self.push_value(Node {
                    line,
                    value: Value::Null,
                });
            }
            _ => {}
        }
    }
}

/// One problem in a YAML file (a postmortem, an SLO definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    /// The field (`actions.0.due`), or empty for the file itself.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field.as_str() {
            "" => write!(f, "{}: line {}: {}", self.file, self.line, self.message),
            field => write!(
                f,
                "{}: line {}, field {}: {}",
                self.file, self.line, field, self.message
            ),
        }
    }
}

/// Field access that records problems instead of stopping at the first.
pub struct Reader<'a> {
    pub file: &'a str,
    /// Lines before the YAML text in the file.
    pub offset: usize,
    pub problems: Vec<Problem>,
}

impl Reader<'_> {
    pub fn fail(&mut self, yaml_line: usize, field: &str, message: &str) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            line: yaml_line + self.offset,
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }

    /// A mapping's fields by name (the node of each value, its line being the key's), with
    /// unknown and repeated keys reported.
    pub fn map<'n>(
        &mut self,
        node: &'n Node,
        prefix: &str,
        known: &[&str],
    ) -> Option<HashMap<&'n str, &'n Node>> {
        let Value::Map(entries) = &node.value else {
            self.fail(node.line, prefix, "must be a mapping of fields");
            return None;
        };
        let mut fields = HashMap::new();
        for (key, line, value) in entries {
            let name = join(prefix, key);
            if !known.contains(&key.as_str()) {
                self.fail(
                    *line,
                    &name,
                    &format!("unknown field (known: {})", known.join(", ")),
                );
            } else if fields.insert(key.as_str(), value).is_some() {
                self.fail(*line, &name, "appears twice");
            }
        }
        Some(fields)
    }

    pub fn text(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.value {
            Value::Scalar(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => {
                self.fail(node.line, field, "must be a non-empty text");
                None
            }
        }
    }

    pub fn required_text(
        &mut self,
        fields: &HashMap<&str, &Node>,
        parent: &Node,
        field: &str,
    ) -> Option<String> {
        self.required(fields, parent, field)
            .and_then(|n| self.text(n, field))
    }

    pub fn required<'n>(
        &mut self,
        fields: &HashMap<&str, &'n Node>,
        parent: &Node,
        field: &str,
    ) -> Option<&'n Node> {
        let name = field.rsplit('.').next().unwrap_or(field);
        let node = fields.get(name).copied();
        if node.is_none() {
            self.fail(parent.line, field, "is required");
        }
        node
    }

    pub fn optional_text(&mut self, node: Option<&Node>, field: &str) -> Option<Option<String>> {
        match node {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => Some(None),
            Some(n) => self.text(n, field).map(Some),
        }
    }

    pub fn required_list(
        &mut self,
        fields: &HashMap<&str, &Node>,
        parent: &Node,
        field: &str,
    ) -> Option<Vec<String>> {
        let node = self.required(fields, parent, field)?;
        self.list(Some(node), field)
    }

    /// A list of texts; a single text is a list of one.
    pub fn list(&mut self, node: Option<&Node>, field: &str) -> Option<Vec<String>> {
        let Some(node) = node else {
            return Some(Vec::new());
        };
        match &node.value {
            Value::Null => Some(Vec::new()),
            Value::Scalar(_) => self.text(node, field).map(|s| vec![s]),
            Value::Seq(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.text(item, &format!("{field}.{i}")) {
                        Some(s) => out.push(s),
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
            Value::Map(_) => {
                self.fail(node.line, field, "must be a list");
                None
            }
        }
    }

    /// An optional `YYYY-MM-DD` date.
    pub fn date(&mut self, node: Option<&Node>, field: &str) -> Option<Option<Date>> {
        let text = self.optional_text(node, field)?;
        let Some(text) = text else {
            return Some(None);
        };
        match text.parse::<Date>() {
            Ok(d) if text.len() == 10 => Some(Some(d)),
            _ => {
                self.fail(
                    node.map_or(1, |n| n.line),
                    field,
                    &format!("{text:?} is not a date (YYYY-MM-DD)"),
                );
                None
            }
        }
    }
}

/// `prefix.key`, or `key` at the top.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_text() {
        let node = load("id: PM-1\nincidents: [A, B]\nactions:\n  - id: A1\n    title: x\n")
            .unwrap()
            .unwrap();
        let Value::Map(entries) = node.value else {
            panic!("not a map")
        };
        let lines: Vec<_> = entries.iter().map(|(k, l, _)| (k.as_str(), *l)).collect();
        assert_eq!(lines, [("id", 1), ("incidents", 2), ("actions", 3)]);
        let Value::Seq(actions) = &entries[2].2.value else {
            panic!("not a list")
        };
        let Value::Map(action) = &actions[0].value else {
            panic!("not a map")
        };
        assert_eq!((action[1].0.as_str(), action[1].1), ("title", 5));
        assert!(load("a: [unclosed\n").is_err());
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn documents_of_a_stream_keep_their_lines() {
        let docs = load_all("a: 1\n---\nb: 2\n---\n").unwrap();
        assert_eq!(docs.len(), 2);
        let Value::Map(second) = &docs[1].value else {
            panic!("not a map")
        };
        assert_eq!((second[0].0.as_str(), second[0].1), ("b", 3));
    }
}
