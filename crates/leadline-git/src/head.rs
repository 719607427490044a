//! The regular files of the tree HEAD points to, with their complexity: what hotspots rank.

use std::collections::HashMap;

use gix::objs::FindExt;
use gix::objs::tree::EntryKind;
use leadline_core::model::{Complexity, HeadFile};

use crate::MineError;
use crate::attributes::{DiffAttributes, DiffMode, LinguistAttributes};
use crate::numstat::is_binary;

/// Every regular file at HEAD (none when HEAD is unborn). A file whose blob is in `known` (the
/// previous snapshot, by path) keeps its measured complexity; only changed blobs are read.
/// Binary content, by the same rules as `--numstat`, has no complexity. Each file carries what
/// HEAD's `.gitattributes` say about it (see [`LinguistAttributes`]).
pub(crate) fn files(
    repo: &gix::Repository,
    known: &HashMap<Vec<u8>, HeadFile>,
) -> Result<Vec<HeadFile>, MineError> {
    let mut head = repo.head().map_err(MineError::git("cannot read HEAD"))?;
    if head.is_unborn() {
        return Ok(Vec::new());
    }
    let tree = head
        .peel_to_commit()
        .map_err(MineError::git("cannot read HEAD's commit"))?
        .tree()
        .map_err(MineError::git("cannot read HEAD's tree"))?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .map_err(MineError::git("cannot walk HEAD's tree"))?;
    let mut attributes = DiffAttributes::new(repo)?;
    let mut linguist = LinguistAttributes::of_tree(repo, tree.id)?;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for entry in recorder.records {
        if !matches!(
            entry.mode.kind(),
            EntryKind::Blob | EntryKind::BlobExecutable
        ) {
            continue;
        }
        let path: Vec<u8> = entry.filepath.into();
        let blob = entry.oid.to_string();
        // Attributes can change while the blob does not: they are read again every time.
        let said = linguist.of(&path, &repo.objects);
        if let Some(previous) = known.get(&path).filter(|f| f.blob == blob) {
            out.push(HeadFile {
                linguist: said,
                ..previous.clone()
            });
            continue;
        }
        let data = repo
            .objects
            .find_blob(&entry.oid, &mut buf)
            .map_err(|e| MineError::object(entry.oid, e))?
            .data;
        let text = match attributes.mode(&path, [0, data.len()], &repo.objects) {
            DiffMode::Binary => false,
            DiffMode::Auto => !is_binary(data),
            DiffMode::Text => true,
        };
        out.push(HeadFile {
            complexity: text.then(|| Complexity::of(data)),
            linguist: said,
            path,
            blob,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A file's path and contents.
pub type Blob = (Vec<u8>, Vec<u8>);

/// The contents of the regular files at HEAD whose path `wanted` accepts (none when HEAD is
/// unborn), sorted by path: catalog descriptors and the like, read without a checkout.
pub(crate) fn blobs(
    repo: &gix::Repository,
    wanted: &dyn Fn(&[u8]) -> bool,
) -> Result<Vec<Blob>, MineError> {
    Ok(blobs_at(repo, wanted, i64::MAX)?
        .map(|(_, b)| b)
        .unwrap_or_default())
}

/// As [`blobs`], at the newest commit of HEAD's first-parent history committed at or before
/// `before` (seconds): the files HEAD had then, with that commit's sha. `None` when there is no
/// such commit.
pub(crate) fn blobs_at(
    repo: &gix::Repository,
    wanted: &dyn Fn(&[u8]) -> bool,
    before: i64,
) -> Result<Option<(String, Vec<Blob>)>, MineError> {
    let mut head = repo.head().map_err(MineError::git("cannot read HEAD"))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let mut commit = head
        .peel_to_commit()
        .map_err(MineError::git("cannot read HEAD's commit"))?;
    loop {
        let time = commit
            .time()
            .map_err(MineError::git("cannot read a commit's time"))?
            .seconds;
        if time <= before {
            break;
        }
        let Some(parent) = commit.parent_ids().next() else {
            return Ok(None);
        };
        commit = parent
            .object()
            .map_err(MineError::git("cannot read a parent commit"))?
            .into_commit();
    }
    let tree = commit
        .tree()
        .map_err(MineError::git("cannot read a commit's tree"))?;
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .map_err(MineError::git("cannot walk a tree"))?;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for entry in recorder.records {
        let path: Vec<u8> = entry.filepath.into();
        if !matches!(
            entry.mode.kind(),
            EntryKind::Blob | EntryKind::BlobExecutable
        ) || !wanted(&path)
        {
            continue;
        }
        let data = repo
            .objects
            .find_blob(&entry.oid, &mut buf)
            .map_err(|e| MineError::object(entry.oid, e))?
            .data
            .to_vec();
        out.push((path, data));
    }
    out.sort();
    Ok(Some((commit.id.to_string(), out)))
}

/// Whether `tree` holds a regular file whose path `wanted` accepts and whose contents
/// `content` accepts.
fn tree_matches(
    repo: &gix::Repository,
    tree: gix::Tree<'_>,
    wanted: &dyn Fn(&[u8]) -> bool,
    content: &dyn Fn(&[u8]) -> bool,
    buf: &mut Vec<u8>,
) -> Result<bool, MineError> {
    let mut recorder = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut recorder)
        .map_err(MineError::git("cannot walk a tree"))?;
    for entry in recorder.records {
        let path: &[u8] = entry.filepath.as_ref();
        if !matches!(
            entry.mode.kind(),
            EntryKind::Blob | EntryKind::BlobExecutable
        ) || !wanted(path)
        {
            continue;
        }
        let data = repo
            .objects
            .find_blob(&entry.oid, buf)
            .map_err(|e| MineError::object(entry.oid, e))?
            .data;
        if content(data) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Where a detector started matching for good: walking HEAD's first-parent history back from
/// HEAD while every commit matches, the oldest of them, as (sha, committer time in seconds);
/// `None` when HEAD itself does not match. At most `limit` commits are looked at.
pub(crate) fn adoption(
    repo: &gix::Repository,
    wanted: &dyn Fn(&[u8]) -> bool,
    content: &dyn Fn(&[u8]) -> bool,
    limit: usize,
) -> Result<Option<(String, i64)>, MineError> {
    let mut head = repo.head().map_err(MineError::git("cannot read HEAD"))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let mut commit = head
        .peel_to_commit()
        .map_err(MineError::git("cannot read HEAD's commit"))?;
    let mut buf = Vec::new();
    let mut found = None;
    for _ in 0..limit {
        let tree = commit
            .tree()
            .map_err(MineError::git("cannot read a commit's tree"))?;
        if !tree_matches(repo, tree, wanted, content, &mut buf)? {
            break;
        }
        let time = commit
            .time()
            .map_err(MineError::git("cannot read a commit's time"))?
            .seconds;
        found = Some((commit.id.to_string(), time));
        let Some(parent) = commit.parent_ids().next() else {
            break;
        };
        commit = parent
            .object()
            .map_err(MineError::git("cannot read a parent commit"))?
            .into_commit();
    }
    Ok(found)
}
