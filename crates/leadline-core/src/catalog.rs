//! A service catalog from Backstage descriptor files (`catalog-info.yaml`): entities of the
//! kinds Component, System, API, Resource, Domain, Group, User and Location, their references
//! resolved by Backstage's rules (`kind:namespace/name`, the kind and namespace defaulting by
//! context, compared without case), each invalid document reported with its file, index and
//! field and left out, so one bad file never hides the rest.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Serialize;

use crate::yaml::{self, Node, Value};

/// A reference to an entity, canonical: every part lowercased (Backstage's
/// `stringifyEntityRef`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ref {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.namespace, self.name)
    }
}

impl Serialize for Ref {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Ref {
    /// Parses `[kind:][namespace/]name`, the kind and namespace taken from the context when
    /// absent; `None` when a part is empty or the kind is missing with no default.
    pub fn parse(text: &str, default_kind: Option<&str>, default_namespace: &str) -> Option<Ref> {
        let text = text.trim();
        let (kind, rest) = match text.split_once(':') {
            Some((k, r)) => (Some(k), r),
            None => (None, text),
        };
        let (namespace, name) = match rest.split_once('/') {
            Some((n, name)) => (n, name),
            None => (default_namespace, rest),
        };
        let kind = kind.or(default_kind)?;
        if [kind, namespace, name].iter().any(|p| p.is_empty())
            || name.contains(['/', ':'])
            || namespace.contains(':')
        {
            return None;
        }
        Some(Ref {
            kind: kind.to_lowercase(),
            namespace: namespace.to_lowercase(),
            name: name.to_lowercase(),
        })
    }
}

/// One entity as read from a descriptor.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub spec_type: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<Ref>,
    pub system: Option<Ref>,
    pub domain: Option<Ref>,
    pub depends_on: Vec<Ref>,
    pub provides_apis: Vec<Ref>,
    pub consumes_apis: Vec<Ref>,
    pub parent: Option<Ref>,
    pub children: Vec<Ref>,
    pub members: Vec<Ref>,
    pub member_of: Vec<Ref>,
    /// A User's `spec.profile.email`.
    pub email: Option<String>,
    pub annotations: BTreeMap<String, String>,
    /// A Location's targets, as written.
    pub targets: Vec<String>,
    /// Where it was read: the file and the document's index in it (1-based).
    pub file: String,
    pub document: usize,
    /// The ingested repository whose HEAD holds the file, if any.
    pub repository: Option<String>,
}

impl Entity {
    pub fn reference(&self) -> Ref {
        Ref {
            kind: self.kind.to_lowercase(),
            namespace: self.namespace.to_lowercase(),
            name: self.name.to_lowercase(),
        }
    }

    /// Every reference the entity makes, with the field that makes it.
    pub fn references(&self) -> Vec<(&'static str, &Ref)> {
        let mut out: Vec<(&'static str, &Ref)> = Vec::new();
        for (field, one) in [
            ("spec.owner", &self.owner),
            ("spec.system", &self.system),
            ("spec.domain", &self.domain),
            ("spec.parent", &self.parent),
        ] {
            if let Some(r) = one {
                out.push((field, r));
            }
        }
        for (field, many) in [
            ("spec.dependsOn", &self.depends_on),
            ("spec.providesApis", &self.provides_apis),
            ("spec.consumesApis", &self.consumes_apis),
            ("spec.children", &self.children),
            ("spec.members", &self.members),
            ("spec.memberOf", &self.member_of),
        ] {
            out.extend(many.iter().map(|r| (field, r)));
        }
        out
    }
}

/// A document that was not read: its file, index (1-based), field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invalid {
    pub file: String,
    pub document: usize,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: document {} (line {}){}: {}",
            self.file,
            self.document,
            self.line,
            if self.field.is_empty() {
                String::new()
            } else {
                format!(", field {}", self.field)
            },
            self.message
        )
    }
}

const KINDS: [&str; 8] = [
    "Component",
    "System",
    "API",
    "Resource",
    "Domain",
    "Group",
    "User",
    "Location",
];

/// Backstage's rule for names: 1 to 63 characters, runs of letters and digits separated by
/// one `-`, `_` or `.` each.
fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    let separator = |c: u8| matches!(c, b'-' | b'_' | b'.');
    !s.is_empty()
        && s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || separator(c))
        && !b.windows(2).any(|w| separator(w[0]) && separator(w[1]))
}

/// Backstage's rule for namespaces: 1 to 63 lowercase letters and digits, runs separated by
/// one `-` each (a DNS label).
fn valid_namespace(s: &str) -> bool {
    let b = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.contains("--")
}

fn get<'n>(node: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(node, |n, key| match &n.value {
        Value::Map(entries) => entries.iter().find(|(k, ..)| k == key).map(|(_, _, v)| v),
        _ => None,
    })
}

fn scalar(node: Option<&Node>) -> Option<&str> {
    match node.map(|n| &n.value) {
        Some(Value::Scalar(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Reads one document; `Err` names the field at fault.
fn entity(
    node: &Node,
    file: &str,
    document: usize,
    repository: Option<&str>,
) -> Result<Entity, Invalid> {
    let fail = |n: Option<&Node>, field: &str, message: String| Invalid {
        file: file.to_owned(),
        document,
        line: n.map_or(node.line, |n| n.line),
        field: field.to_owned(),
        message,
    };
    let required = |path: &[&str], field: &str| -> Result<String, Invalid> {
        let n = get(node, path);
        match scalar(n).map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => Err(fail(n, field, "is required (a non-empty string)".into())),
        }
    };
    let api_version = required(&["apiVersion"], "apiVersion")?;
    let kind = required(&["kind"], "kind")?;
    let known = KINDS.iter().find(|k| k.eq_ignore_ascii_case(&kind));
    let template = kind.eq_ignore_ascii_case("template");
    let supported = match known {
        Some(_) => matches!(
            api_version.as_str(),
            "backstage.io/v1alpha1" | "backstage.io/v1beta1"
        ),
        None if template => {
            api_version.starts_with("scaffolder.backstage.io/")
                || api_version.starts_with("backstage.io/")
        }
        None => false,
    };
    if !supported {
        let field = if known.is_some() || template {
            "apiVersion"
        } else {
            "kind"
        };
        return Err(fail(
            get(node, &[field]),
            field,
            format!(
                "{kind} of {api_version} is not a kind leadline reads (Component, System, API, Resource, Domain, Group, User, Location, Template of backstage.io/v1alpha1 or v1beta1)"
            ),
        ));
    }
    let name = required(&["metadata", "name"], "metadata.name")?;
    if !valid_name(&name) {
        return Err(fail(
            get(node, &["metadata", "name"]),
            "metadata.name",
            format!(
                "{name:?} is not a valid name (1 to 63 letters and digits, separated by -, _ or .)"
            ),
        ));
    }
    let namespace = match scalar(get(node, &["metadata", "namespace"])) {
        None => "default".to_owned(),
        Some(ns) if valid_namespace(ns) => ns.to_owned(),
        Some(ns) => {
            return Err(fail(
                get(node, &["metadata", "namespace"]),
                "metadata.namespace",
                format!(
                    "{ns:?} is not a valid namespace (lowercase letters and digits separated by -)"
                ),
            ));
        }
    };
    let kind = known.map_or(kind.clone(), |k| (*k).to_owned());
    let one = |field: &str, default_kind: &str| -> Result<Option<Ref>, Invalid> {
        let n = get(node, &["spec", field]);
        match n.map(|n| &n.value) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Scalar(s)) => Ref::parse(s, Some(default_kind), &namespace)
                .map(Some)
                .ok_or_else(|| {
                    fail(
                        n,
                        &format!("spec.{field}"),
                        format!("{s:?} is not an entity reference"),
                    )
                }),
            Some(_) => Err(fail(n, &format!("spec.{field}"), "is not a string".into())),
        }
    };
    let many = |field: &str, default_kind: Option<&str>| -> Result<Vec<Ref>, Invalid> {
        let n = get(node, &["spec", field]);
        match n.map(|n| &n.value) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Seq(items)) => items
                .iter()
                .map(|item| match &item.value {
                    Value::Scalar(s) => Ref::parse(s, default_kind, &namespace).ok_or_else(|| {
                        fail(
                            Some(item),
                            &format!("spec.{field}"),
                            format!(
                                "{s:?} is not an entity reference{}",
                                if default_kind.is_none() {
                                    " (its kind is required: resource:db)"
                                } else {
                                    ""
                                }
                            ),
                        )
                    }),
                    _ => Err(fail(
                        Some(item),
                        &format!("spec.{field}"),
                        "is not a string".into(),
                    )),
                })
                .collect(),
            Some(_) => Err(fail(n, &format!("spec.{field}"), "is not a list".into())),
        }
    };
    let spec_text = |field: &str| scalar(get(node, &["spec", field])).map(str::to_owned);
    // What Backstage's schemas require of each kind.
    let needs: &[&str] = match kind.as_str() {
        "Component" => &["type", "lifecycle", "owner"],
        "API" => &["type", "lifecycle", "owner", "definition"],
        "Resource" => &["type", "owner"],
        "System" | "Domain" => &["owner"],
        "Group" => &["type", "children"],
        "User" => &["memberOf"],
        _ => &[],
    };
    for field in needs {
        let n = get(node, &["spec", field]);
        let present = match n.map(|n| &n.value) {
            Some(Value::Scalar(s)) => !s.trim().is_empty(),
            Some(Value::Seq(_)) | Some(Value::Map(_)) => true,
            _ => false,
        };
        if !present {
            return Err(fail(
                n,
                &format!("spec.{field}"),
                format!("is required for a {kind}"),
            ));
        }
    }
    let mut annotations = BTreeMap::new();
    if let Some(Node {
        value: Value::Map(entries),
        ..
    }) = get(node, &["metadata", "annotations"])
    {
        for (k, _, v) in entries {
            if let Value::Scalar(s) = &v.value {
                annotations.insert(k.clone(), s.clone());
            }
        }
    }
    let mut targets: Vec<String> = spec_text("target").into_iter().collect();
    if let Some(Node {
        value: Value::Seq(items),
        ..
    }) = get(node, &["spec", "targets"])
    {
        targets.extend(
            items
                .iter()
                .filter_map(|i| scalar(Some(i)).map(str::to_owned)),
        );
    }
    Ok(Entity {
        owner: one("owner", "group")?,
        system: one("system", "system")?,
        domain: one("domain", "domain")?,
        parent: one("parent", "group")?,
        depends_on: many("dependsOn", None)?,
        provides_apis: many("providesApis", Some("api"))?,
        consumes_apis: many("consumesApis", Some("api"))?,
        children: many("children", Some("group"))?,
        members: many("members", Some("user"))?,
        member_of: many("memberOf", Some("group"))?,
        title: scalar(get(node, &["metadata", "title"])).map(str::to_owned),
        spec_type: spec_text("type"),
        lifecycle: spec_text("lifecycle"),
        email: scalar(get(node, &["spec", "profile", "email"])).map(str::to_owned),
        annotations,
        targets,
        api_version,
        kind,
        namespace,
        name,
        file: file.to_owned(),
        document,
        repository: repository.map(str::to_owned),
    })
}

/// The entities of one descriptor file and the documents that were not read. A file that is
/// not YAML at all is one problem (document 0).
pub fn parse(text: &str, file: &str, repository: Option<&str>) -> (Vec<Entity>, Vec<Invalid>) {
    let documents = match yaml::load_all(text) {
        Ok(d) => d,
        Err((line, message)) => {
            return (
                Vec::new(),
                vec![Invalid {
                    file: file.to_owned(),
                    document: 0,
                    line,
                    field: String::new(),
                    message: format!("not YAML: {message}"),
                }],
            );
        }
    };
    let mut entities = Vec::new();
    let mut invalid = Vec::new();
    for (i, doc) in documents.iter().enumerate() {
        if !matches!(doc.value, Value::Map(_)) {
            invalid.push(Invalid {
                file: file.to_owned(),
                document: i + 1,
                line: doc.line,
                field: String::new(),
                message: "is not a mapping".into(),
            });
            continue;
        }
        match entity(doc, file, i + 1, repository) {
            Ok(e) => entities.push(e),
            Err(e) => invalid.push(e),
        }
    }
    (entities, invalid)
}

/// The catalog: every entity once (the first read wins; a repeated reference is a problem),
/// and the references that name no entity.
#[derive(Debug, Default)]
pub struct Catalog {
    pub entities: Vec<Entity>,
    pub invalid: Vec<Invalid>,
}

/// A reference to nothing in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dangling {
    pub entity: Ref,
    pub field: &'static str,
    pub target: Ref,
}

impl Catalog {
    /// Adds a file's entities; an entity already in the catalog is reported, not replaced.
    pub fn add(&mut self, entities: Vec<Entity>, invalid: Vec<Invalid>) {
        self.invalid.extend(invalid);
        let mut seen: HashSet<Ref> = self.entities.iter().map(Entity::reference).collect();
        for e in entities {
            if seen.insert(e.reference()) {
                self.entities.push(e);
            } else {
                self.invalid.push(Invalid {
                    file: e.file.clone(),
                    document: e.document,
                    line: 0,
                    field: "metadata.name".into(),
                    message: format!("{} is already in the catalog", e.reference()),
                });
            }
        }
    }

    pub fn get(&self, r: &Ref) -> Option<&Entity> {
        self.entities.iter().find(|e| e.reference() == *r)
    }

    /// References that name no entity of the catalog.
    pub fn dangling(&self) -> Vec<Dangling> {
        let known: HashSet<Ref> = self.entities.iter().map(Entity::reference).collect();
        let mut out = Vec::new();
        for e in &self.entities {
            for (field, target) in e.references() {
                if !known.contains(target) {
                    out.push(Dangling {
                        entity: e.reference(),
                        field,
                        target: target.clone(),
                    });
                }
            }
        }
        out
    }

    /// The members of a group (its `spec.members` and the users whose `memberOf` names it),
    /// as their emails when their User entity gives one, else their names.
    pub fn members_of(&self, group: &Ref) -> Vec<String> {
        let mut users: Vec<Ref> = self
            .get(group)
            .map(|g| g.members.clone())
            .unwrap_or_default();
        users.extend(
            self.entities
                .iter()
                .filter(|e| e.kind == "User" && e.member_of.contains(group))
                .map(Entity::reference),
        );
        users.sort();
        users.dedup();
        users
            .iter()
            .map(|u| {
                self.get(u)
                    .and_then(|e| e.email.clone())
                    .unwrap_or_else(|| u.name.clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
