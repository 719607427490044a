//! The starting points of history: HEAD, branches, remote branches and tags, peeled to commits.

use std::collections::BTreeSet;

use gix::ObjectId;
use gix::objs::Kind;
use leadline_core::model::{Ref, RefKind};
use sha2::{Digest, Sha256};

use crate::MineError;

/// The refs of a repository at one moment.
#[derive(Debug, Clone)]
pub struct RefSnapshot {
    /// Refs that peel to a commit, ordered by name.
    pub refs: Vec<Ref>,
    /// The distinct commits those refs peel to.
    pub tips: Vec<ObjectId>,
    /// Changes whenever any ref (or the shallow boundary) changes: equal digests mean the set
    /// of reachable commits is the same, so a re-run has nothing to do.
    pub digest: String,
}

pub(crate) fn snapshot(repo: &gix::Repository) -> Result<RefSnapshot, MineError> {
    let mut refs = Vec::new();
    // What the digest covers: every ref's own target (a tag object id moves when a tag is
    // re-cut even if its commit does not) plus the shallow file.
    let mut state = BTreeSet::new();
    if let Some(head) = repo.head_id().ok().map(|id| id.detach()) {
        state.insert(format!("HEAD {head}"));
        if let Some(r) = peeled(repo, "HEAD", RefKind::Head, head)? {
            refs.push(r);
        }
    }
    let platform = repo
        .references()
        .map_err(MineError::git("cannot read refs"))?;
    for reference in platform.all().map_err(MineError::git("cannot read refs"))? {
        let mut reference = reference.map_err(MineError::git("cannot read a ref"))?;
        let name = reference.name().as_bstr().to_string();
        let Some(kind) = kind_of(&name) else { continue };
        let target = reference
            .follow_to_object()
            .map_err(MineError::git("cannot resolve a ref"))?
            .detach();
        state.insert(format!("{name} {target}"));
        if let Some(r) = peeled(repo, &name, kind, target)? {
            refs.push(r);
        }
    }
    if let Ok(Some(shallow)) = repo.shallow_commits() {
        state.extend(shallow.iter().map(|id| format!("shallow {id}")));
    }
    refs.sort_by(|a, b| a.name.cmp(&b.name));
    let tips: BTreeSet<ObjectId> = refs
        .iter()
        .filter_map(|r| ObjectId::from_hex(r.commit.as_bytes()).ok())
        .collect();
    let mut hasher = Sha256::new();
    for line in &state {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    Ok(RefSnapshot {
        refs,
        tips: tips.into_iter().collect(),
        digest: hex::encode(hasher.finalize()),
    })
}

fn kind_of(name: &str) -> Option<RefKind> {
    if name.starts_with("refs/heads/") {
        Some(RefKind::Branch)
    } else if name.starts_with("refs/remotes/") {
        Some(RefKind::Remote)
    } else if name.starts_with("refs/tags/") {
        Some(RefKind::Tag)
    } else {
        None
    }
}

/// The ref peeled to its commit, with the tagger time of an annotated tag. Refs to trees or
/// blobs are skipped, as `git log --tags` skips them.
fn peeled(
    repo: &gix::Repository,
    name: &str,
    kind: RefKind,
    target: ObjectId,
) -> Result<Option<Ref>, MineError> {
    let object = repo
        .find_object(target)
        .map_err(|e| MineError::object(target, e))?;
    let tagger = if object.kind == Kind::Tag {
        let tag = object.clone().into_tag();
        let tagger = tag
            .decode()
            .and_then(|t| t.tagger())
            .map_err(|e| MineError::object(target, e))?;
        match tagger {
            Some(sig) => Some(sig.time().map_err(|e| MineError::object(target, e))?),
            None => None,
        }
    } else {
        None
    };
    let peeled = object
        .peel_tags_to_end()
        .map_err(|e| MineError::object(target, e))?;
    if peeled.kind != Kind::Commit {
        return Ok(None);
    }
    Ok(Some(Ref {
        name: name.to_owned(),
        kind,
        commit: peeled.id.to_string(),
        annotated: tagger.is_some() || peeled.id != target,
        tagger_at: tagger.map(|t| t.seconds * 1000),
        tagger_offset_minutes: tagger.map(|t| t.offset / 60),
    }))
}
