//! Turning one commit object into a [`Commit`] row with its `--numstat` file changes.

use std::collections::HashSet;
use std::sync::Arc;

use gix::ObjectId;
use gix::bstr::{BStr, ByteSlice};
use gix::diff::blob::Diff;
use gix::diff::tree::recorder::Change;
use gix::objs::tree::EntryKind;
use gix::objs::{FindExt, TreeRefIter};
use leadline_core::model::{
    ChangeStatus, Commit, Complexity, FileChange, Identity, Signature, Trailer,
};

use crate::MineError;
use crate::attributes::DiffAttributes;
use crate::numstat::line_counts;
use crate::packs::Reader;

/// Everything one thread needs to mine commits, reused across commits to avoid allocations
/// and keep the object caches warm.
pub(crate) struct CommitMiner {
    repo: gix::Repository,
    /// Every object is read through here (commits, trees, blobs), for its delta-base cache.
    objects: Reader,
    attributes: DiffAttributes,
    mailmap: gix::mailmap::Snapshot,
    /// Commits whose parents a shallow clone cut off; git shows them as roots.
    shallow_boundary: Arc<HashSet<ObjectId>>,
    commit_buf: Vec<u8>,
    parent_buf: Vec<u8>,
    old_tree_buf: Vec<u8>,
    new_tree_buf: Vec<u8>,
    tree_state: gix::diff::tree::State,
    diff: Diff,
}

/// One side of a changed path: what git would diff for it. Trees are walked, never diffed, so
/// a tree side (a directory replaced by a file, or the reverse) counts as absent.
#[derive(Clone, Copy)]
enum Side {
    Absent,
    /// A regular or executable file.
    File(ObjectId),
    /// A symlink; its target is its content.
    Link(ObjectId),
    /// A submodule pointer; git diffs the text `Subproject commit <hex>\n`.
    Gitlink(ObjectId),
}

impl Side {
    fn of(entry: Option<(EntryKind, ObjectId)>) -> Side {
        match entry {
            None | Some((EntryKind::Tree, _)) => Side::Absent,
            Some((EntryKind::Commit, oid)) => Side::Gitlink(oid),
            Some((EntryKind::Link, oid)) => Side::Link(oid),
            Some((EntryKind::Blob | EntryKind::BlobExecutable, oid)) => Side::File(oid),
        }
    }

    /// Sides of different classes at one path make a type change (`T`).
    fn class(self) -> u8 {
        match self {
            Side::Absent => 0,
            Side::File(_) => 1,
            Side::Link(_) => 2,
            Side::Gitlink(_) => 3,
        }
    }
}

impl CommitMiner {
    pub(crate) fn new(
        repo: gix::Repository,
        objects: Reader,
        attributes: DiffAttributes,
        mailmap: gix::mailmap::Snapshot,
        shallow_boundary: Arc<HashSet<ObjectId>>,
    ) -> Self {
        CommitMiner {
            repo,
            objects,
            attributes,
            mailmap,
            shallow_boundary,
            commit_buf: Vec::new(),
            parent_buf: Vec::new(),
            old_tree_buf: Vec::new(),
            new_tree_buf: Vec::new(),
            tree_state: Default::default(),
            diff: Diff::default(),
        }
    }

    pub(crate) fn mine(&mut self, id: ObjectId) -> Result<Commit, MineError> {
        let mut mined = self.decode(id)?;
        mined.commit.file_changes = match mined.parents.as_slice() {
            [] => self.file_changes(None, mined.tree, id)?,
            [parent] => {
                let parent_tree = self
                    .objects
                    .find_commit(parent, &mut self.parent_buf)
                    .map_err(|e| MineError::object(*parent, e))?
                    .tree();
                self.file_changes(Some(parent_tree), mined.tree, id)?
            }
            _ => Vec::new(),
        };
        Ok(mined.commit)
    }

    /// Everything but the file changes.
    fn decode(&mut self, id: ObjectId) -> Result<Decoded, MineError> {
        let object_error = |e: gix::Error| MineError::object(id, e);
        let commit = self
            .objects
            .find_commit(&id, &mut self.commit_buf)
            .map_err(object_error)?;
        let parents: Vec<ObjectId> = if self.shallow_boundary.contains(&id) {
            Vec::new()
        } else {
            commit.parents().collect()
        };
        let author = signature(&self.mailmap, commit.author().map_err(object_error)?, id)?;
        let committer = signature(&self.mailmap, commit.committer().map_err(object_error)?, id)?;
        let message = commit.message();
        let trailers = message
            .body()
            .map(|b| {
                b.trailers()
                    .map(|t| Trailer {
                        key: lossy(t.token),
                        value: lossy(t.value.as_ref()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Decoded {
            tree: commit.tree(),
            commit: Commit {
                sha: id.to_string(),
                parents: parents.iter().map(ToString::to_string).collect(),
                author,
                committer,
                subject: lossy(message.summary().as_ref()),
                body: message.body.map(lossy).unwrap_or_default(),
                trailers,
                file_changes: Vec::new(),
            },
            parents,
        })
    }

    /// The `--numstat --no-renames` rows between two trees (`None`: the empty tree).
    fn file_changes(
        &mut self,
        old_tree: Option<ObjectId>,
        new_tree: ObjectId,
        id: ObjectId,
    ) -> Result<Vec<FileChange>, MineError> {
        let objects = &self.objects;
        let old = match old_tree {
            Some(t) => objects
                .find_tree_iter(&t, &mut self.old_tree_buf)
                .map_err(|e| MineError::object(t, e))?,
            None => TreeRefIter::from_bytes(&[], self.repo.object_hash()),
        };
        let new = objects
            .find_tree_iter(&new_tree, &mut self.new_tree_buf)
            .map_err(|e| MineError::object(new_tree, e))?;
        let mut recorder = gix::diff::tree::Recorder::default();
        gix::diff::tree(old, new, &mut self.tree_state, objects, &mut recorder)
            .map_err(|e| MineError::object(id, e))?;

        let mut rows = Vec::with_capacity(recorder.records.len());
        for change in recorder.records {
            let (path, old, new) = match change {
                Change::Addition {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (path, None, Some((entry_mode.kind(), oid))),
                Change::Deletion {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (path, Some((entry_mode.kind(), oid)), None),
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    ..
                } if previous_oid == oid && previous_entry_mode.kind() == entry_mode.kind() => {
                    // A non-canonical mode (e.g. 100664 in early git history) that git reads
                    // as the same 100644: git sees no change.
                    continue;
                }
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    path,
                } => (
                    path,
                    Some((previous_entry_mode.kind(), previous_oid)),
                    Some((entry_mode.kind(), oid)),
                ),
            };
            let (old, new) = (Side::of(old), Side::of(new));
            let status = match (old, new) {
                (Side::Absent, Side::Absent) => continue,
                (Side::Absent, _) => ChangeStatus::Added,
                (_, Side::Absent) => ChangeStatus::Deleted,
                (a, b) if a.class() != b.class() => ChangeStatus::TypeChanged,
                _ => ChangeStatus::Modified,
            };
            let regular = matches!(new, Side::File(_));
            let old = load(&self.objects, old)?;
            let new = load(&self.objects, new)?;
            let mode = self
                .attributes
                .mode(&path, [old.len(), new.len()], &self.repo.objects);
            let counts = line_counts(&old, &new, mode, &mut self.diff);
            rows.push(FileChange {
                path: path.into(),
                added: counts.map(|c| c.0),
                deleted: counts.map(|c| c.1),
                status,
                complexity: (regular && counts.is_some()).then(|| Complexity::of(&new)),
            });
        }
        Ok(rows)
    }
}

/// What git diffs for `side`.
fn load(objects: &Reader, side: Side) -> Result<Arc<Vec<u8>>, MineError> {
    match side {
        Side::Absent => Ok(Arc::default()),
        Side::Gitlink(oid) => Ok(Arc::new(format!("Subproject commit {oid}\n").into_bytes())),
        Side::File(oid) | Side::Link(oid) => match objects.object(&oid) {
            Ok(Some((gix::objs::Kind::Blob, data))) => Ok(data),
            Ok(Some((kind, _))) => Err(MineError::object(
                oid,
                format!("expected a blob, found a {kind}"),
            )),
            Ok(None) => Err(MineError::object(oid, "object not found")),
            Err(e) => Err(MineError::object(oid, e)),
        },
    }
}

struct Decoded {
    commit: Commit,
    tree: ObjectId,
    parents: Vec<ObjectId>,
}

/// The signature with `.mailmap` applied; `raw` keeps what was written when they differ.
fn signature(
    mailmap: &gix::mailmap::Snapshot,
    sig: gix::actor::SignatureRef<'_>,
    id: ObjectId,
) -> Result<Signature, MineError> {
    let time = sig.time().map_err(|e| MineError::object(id, e))?;
    let written = Identity {
        name: lossy(sig.name),
        email: lossy(sig.email),
    };
    let (identity, raw) = match mailmap.try_resolve(sig) {
        Some(mapped) => {
            let identity = Identity {
                name: lossy(mapped.name.as_ref()),
                email: lossy(mapped.email.as_ref()),
            };
            let raw = (identity != written).then_some(written);
            (identity, raw)
        }
        None => (written, None),
    };
    Ok(Signature {
        identity,
        raw,
        at: time.seconds * 1000,
        offset_minutes: time.offset / 60,
    })
}

/// Text for the store: invalid UTF-8 and NUL (which PostgreSQL text cannot hold) become U+FFFD,
/// so both stores keep the same string.
fn lossy(bytes: &BStr) -> String {
    let text = bytes.to_str_lossy();
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.into_owned()
    }
}
