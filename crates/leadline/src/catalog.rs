//! `leadline catalog [check]`: the Backstage descriptors of every ingested repository's HEAD
//! (`catalog-info.yaml`, `catalog-info.yml`) and of `[catalog] files` globs, with the files
//! their Location entities target, read into leadline-core's catalog.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use leadline_core::catalog::{Catalog, Entity, parse};
use leadline_core::store::Store;
use serde::Serialize;

use crate::cli::{CatalogArgs, CatalogCommand, SummaryFormat};

/// Descriptor file names read at each repository's HEAD.
const NAMES: [&str; 2] = ["catalog-info.yaml", "catalog-info.yml"];
/// Location targets followed at most this deep (a loop of Locations ends).
const MAX_DEPTH: usize = 8;

/// Where descriptors come from besides the ingested repositories (`[catalog] files`), and
/// whether the catalog's Groups become teams (`[catalog] teams`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub files: Vec<String>,
    pub teams: bool,
    pub services: bool,
}

/// Annotations that name a Component in other systems' data.
const SERVICE_ANNOTATIONS: [&str; 3] = [
    "pagerduty.com/service-id",
    "github.com/project-slug",
    "gitlab.com/project-slug",
];

/// Each other name of a Component (its annotations above, and the slug's repository name)
/// and the Component's name: the aliases deployments and incidents are read through.
pub fn service_aliases(catalog: &Catalog) -> std::collections::HashMap<String, String> {
    let mut aliases = std::collections::HashMap::new();
    for c in catalog.entities.iter().filter(|e| e.kind == "Component") {
        for key in SERVICE_ANNOTATIONS {
            if let Some(value) = c.annotations.get(key).filter(|v| **v != c.name) {
                aliases
                    .entry(value.clone())
                    .or_insert_with(|| c.name.clone());
            }
        }
    }
    aliases
}

/// `config`'s teams and the catalog's Groups as teams (members: their users' emails;
/// repositories: those of the Components they own). A team of leadline.toml wins over a Group
/// of the same name; the returned messages say where they disagree.
pub fn merge_teams(
    config: &[leadline_core::flow::Team],
    catalog: &Catalog,
) -> (Vec<leadline_core::flow::Team>, Vec<String>) {
    let mut teams = config.to_vec();
    let mut conflicts = Vec::new();
    for group in catalog.entities.iter().filter(|e| e.kind == "Group") {
        let reference = group.reference();
        let mut members: Vec<String> = catalog
            .members_of(&reference)
            .into_iter()
            .map(|m| m.to_lowercase())
            .collect();
        members.sort();
        let repositories: Vec<String> = catalog
            .entities
            .iter()
            .filter(|e| e.owner.as_ref() == Some(&reference))
            .filter_map(|e| e.repository.clone())
            .collect();
        match teams
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(&group.name))
        {
            Some(t) => {
                let mut theirs: Vec<String> = t.members.iter().map(|m| m.to_lowercase()).collect();
                theirs.sort();
                if !members.is_empty() && theirs != members {
                    conflicts.push(format!(
                        "team {}: leadline.toml lists {} member(s), the catalog's {reference} {}; leadline.toml wins",
                        t.name,
                        theirs.len(),
                        members.len()
                    ));
                }
            }
            None => teams.push(leadline_core::flow::Team {
                name: group.name.clone(),
                members,
                repositories,
                paths: Vec::new(),
            }),
        }
    }
    (teams, conflicts)
}

/// Files under `base` whose path relative to the working directory matches `pattern`.
fn glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let matcher = globset::Glob::new(pattern)
        .with_context(|| format!("leadline.toml: catalog.files: {pattern:?} is not a glob"))?
        .compile_matcher();
    let literal: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    if literal.is_file() {
        return Ok(vec![literal]);
    }
    let mut out = Vec::new();
    let mut stack = vec![if literal.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        literal
    }];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if matcher.is_match(path.strip_prefix(".").unwrap_or(&path)) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One descriptor source: a file on disk, or a path at a repository's HEAD.
enum Source<'a> {
    Disk(PathBuf),
    Head {
        repository: &'a str,
        blobs: &'a [(Vec<u8>, Vec<u8>)],
        path: String,
    },
}

/// Reads `source` and, recursively, the files its Location entities target.
fn read(catalog: &mut Catalog, source: Source<'_>, seen: &mut HashSet<String>, depth: usize) {
    let (label, text, repository) = match &source {
        Source::Disk(path) => {
            let label = path.display().to_string();
            match std::fs::read_to_string(path) {
                Ok(t) => (label, t, None),
                Err(e) => {
                    catalog.invalid.push(leadline_core::catalog::Invalid {
                        file: label,
                        document: 0,
                        line: 0,
                        field: String::new(),
                        message: format!("cannot read: {e}"),
                    });
                    return;
                }
            }
        }
        Source::Head {
            repository,
            blobs,
            path,
        } => {
            let Some((_, data)) = blobs.iter().find(|(p, _)| p == path.as_bytes()) else {
                catalog.invalid.push(leadline_core::catalog::Invalid {
                    file: format!("{repository}:{path}"),
                    document: 0,
                    line: 0,
                    field: String::new(),
                    message: "no such file at HEAD".into(),
                });
                return;
            };
            (
                format!("{repository}:{path}"),
                String::from_utf8_lossy(data).into_owned(),
                Some(*repository),
            )
        }
    };
    if !seen.insert(label.clone()) || depth > MAX_DEPTH {
        return;
    }
    let (entities, invalid) = parse(&text, &label, repository);
    let targets: Vec<String> = entities
        .iter()
        .filter(|e| e.kind == "Location")
        .flat_map(|e| e.targets.clone())
        .filter(|t| !t.contains("://"))
        .collect();
    catalog.add(entities, invalid);
    for target in targets {
        let next = match &source {
            Source::Disk(path) => Source::Disk(
                path.parent()
                    .unwrap_or(Path::new("."))
                    .join(target.trim_start_matches("./")),
            ),
            Source::Head {
                repository,
                blobs,
                path,
            } => {
                let dir = Path::new(path).parent().unwrap_or(Path::new(""));
                let joined = dir.join(target.trim_start_matches("./"));
                Source::Head {
                    repository,
                    blobs,
                    path: joined.to_string_lossy().into_owned(),
                }
            }
        };
        read(catalog, next, seen, depth + 1);
    }
}

/// The catalog of every ingested repository's HEAD and of `settings.files`.
pub async fn load(store: &Arc<dyn Store>, settings: &Settings) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let mut seen = HashSet::new();
    for repo in store.repositories().await? {
        let Ok(miner) = leadline_git::Miner::open(Path::new(&repo.location)) else {
            tracing::warn!(
                "catalog: {} cannot be opened at {}; its descriptors are left out",
                repo.name,
                repo.location
            );
            continue;
        };
        // Every YAML file at HEAD is kept, for Location targets; only the named ones start.
        let blobs = miner
            .head_blobs(&|p: &[u8]| p.ends_with(b".yaml") || p.ends_with(b".yml"))
            .with_context(|| format!("cannot read {}'s HEAD", repo.name))?;
        let starts: Vec<String> = blobs
            .iter()
            .map(|(p, _)| String::from_utf8_lossy(p).into_owned())
            .filter(|p| {
                NAMES
                    .iter()
                    .any(|n| p == n || p.ends_with(&format!("/{n}")))
            })
            .collect();
        for path in starts {
            let source = Source::Head {
                repository: &repo.name,
                blobs: &blobs,
                path,
            };
            read(&mut catalog, source, &mut seen, 0);
        }
    }
    for pattern in &settings.files {
        for path in glob(pattern)? {
            read(&mut catalog, Source::Disk(path), &mut seen, 0);
        }
    }
    Ok(catalog)
}

/// An entity as `catalog --format json` lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    kind: String,
    namespace: String,
    name: String,
    owner: Option<String>,
    system: Option<String>,
    lifecycle: Option<String>,
    #[serde(rename = "type")]
    spec_type: Option<String>,
    repository: Option<String>,
}

pub fn listed(e: &Entity) -> Listed {
    Listed {
        kind: e.kind.clone(),
        namespace: e.namespace.clone(),
        name: e.name.clone(),
        owner: e.owner.as_ref().map(ToString::to_string),
        system: e.system.as_ref().map(ToString::to_string),
        lifecycle: e.lifecycle.clone(),
        spec_type: e.spec_type.clone(),
        repository: e
            .repository
            .clone()
            .or_else(|| e.annotations.get("github.com/project-slug").cloned()),
    }
}

pub async fn run(
    store: &Arc<dyn Store>,
    args: &CatalogArgs,
    settings: &Settings,
    out: &mut dyn Write,
) -> Result<()> {
    let catalog = load(store, settings).await?;
    for problem in &catalog.invalid {
        eprintln!("invalid: {problem}");
    }
    if let Some(CatalogCommand::Check) = &args.command {
        let dangling = catalog.dangling();
        for d in &dangling {
            eprintln!(
                "dangling: {} {} names {}, which is not in the catalog",
                d.entity, d.field, d.target
            );
        }
        writeln!(
            out,
            "{} entities, {} invalid documents, {} dangling references",
            catalog.entities.len(),
            catalog.invalid.len(),
            dangling.len()
        )?;
        if !catalog.invalid.is_empty() || !dangling.is_empty() {
            anyhow::bail!(
                "the catalog has {} invalid document(s) and {} dangling reference(s)",
                catalog.invalid.len(),
                dangling.len()
            );
        }
        return Ok(());
    }
    let mut entities: Vec<&Entity> = catalog
        .entities
        .iter()
        .filter(|e| {
            args.kind
                .as_deref()
                .is_none_or(|k| e.kind.eq_ignore_ascii_case(k))
        })
        .collect();
    entities.sort_by_key(|e| e.reference());
    match args.format {
        SummaryFormat::Json => {
            let list: Vec<Listed> = entities.iter().map(|e| listed(e)).collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            writeln!(out)?;
        }
        SummaryFormat::Table if entities.is_empty() => {
            writeln!(
                out,
                "no catalog entities: no catalog-info.yaml at the HEAD of an ingested repository, \
                 and no [catalog] files (see docs/metrics.md, \"Service catalog\")"
            )?;
        }
        SummaryFormat::Table => {
            let mut t = crate::table::table(&[
                "kind",
                "entity",
                "owner",
                "system",
                "lifecycle",
                "type",
                "repository",
            ]);
            for e in &entities {
                let l = listed(e);
                t.add_row(vec![
                    l.kind,
                    format!("{}/{}", l.namespace, l.name),
                    l.owner.unwrap_or_default(),
                    l.system.unwrap_or_default(),
                    l.lifecycle.unwrap_or_default(),
                    l.spec_type.unwrap_or_default(),
                    l.repository.unwrap_or_default(),
                ]);
            }
            writeln!(out, "{t}")?;
            if !catalog.invalid.is_empty() {
                writeln!(
                    out,
                    "{} invalid document(s) left out (listed on stderr; `leadline catalog check` fails on them)",
                    catalog.invalid.len()
                )?;
            }
        }
    }
    Ok(())
}
