//! A repository's HEAD history held compactly for the health and capacity analyses: each
//! string (sha, path, author) stored once, one small row per file change. File changes stream
//! from the store, so a 100k-commit history never sits in memory as rows of owned strings.

use std::collections::HashMap;
use std::sync::Arc;

use leadline_core::health::history_of;
use leadline_core::model::{Complexity, Millis, RefKind, Repository};
use leadline_core::store::{ChurnRow, Store};

use crate::error::Result;

/// One file change of a commit on HEAD's history; the numbers index [`History`]'s tables.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub commit: u32,
    pub path: u32,
    pub author: u32,
    pub at: Millis,
    pub added: Option<u64>,
    pub deleted: Option<u64>,
    pub complexity: Option<Complexity>,
}

#[derive(Debug, Default)]
pub struct History {
    pub shas: Vec<String>,
    /// Paths as text (invalid UTF-8 replaced).
    pub paths: Vec<String>,
    /// Canonical author emails: personal data, for counts only.
    pub authors: Vec<String>,
    pub changes: Vec<Change>,
    /// (author, committed at) of every commit on HEAD's history, merges included.
    pub commits: Vec<(String, Millis)>,
}

impl History {
    pub fn sha(&self, c: &Change) -> &str {
        &self.shas[c.commit as usize]
    }

    pub fn path(&self, c: &Change) -> &str {
        &self.paths[c.path as usize]
    }

    pub fn author(&self, c: &Change) -> &str {
        &self.authors[c.author as usize]
    }
}

/// The file changes of the commits reachable from HEAD, as `git log HEAD` lists them: side
/// branches and stale remote branches would blur a picture of the code as it is. Without a
/// HEAD (nothing ingested yet), every stored change.
pub async fn head_history(store: &Arc<dyn Store>, repo: &Repository) -> Result<History> {
    let refs = store.refs(repo.id).await?;
    let parents = match refs.iter().find(|r| r.kind == RefKind::Head) {
        Some(_) => store.commit_parents(repo.id).await?,
        None => Vec::new(),
    };
    let on_head = refs
        .iter()
        .find(|r| r.kind == RefKind::Head)
        .map(|head| history_of(&head.commit, &parents));
    let mut builder = Builder::default();
    store
        .each_file_change(repo.id, &mut |row| {
            if on_head
                .as_ref()
                .is_none_or(|h| h.contains(row.sha.as_str()))
            {
                builder.push(row);
            }
        })
        .await?;
    let commits = store
        .commit_facts(repo.id)
        .await?
        .into_iter()
        .filter(|c| on_head.as_ref().is_none_or(|h| h.contains(c.sha.as_str())))
        .map(|c| (c.author_email, c.committed_at))
        .collect();
    let mut history = builder.finish();
    history.commits = commits;
    Ok(history)
}

#[derive(Default)]
struct Builder {
    shas: Interner,
    paths: Interner,
    authors: Interner,
    changes: Vec<Change>,
}

impl Builder {
    fn push(&mut self, row: ChurnRow) {
        let path = self.paths.id(&String::from_utf8_lossy(&row.path));
        self.changes.push(Change {
            commit: self.shas.id(&row.sha),
            path,
            author: self.authors.id(&row.author_email),
            at: row.committed_at,
            added: row.added,
            deleted: row.deleted,
            complexity: row.complexity,
        });
    }

    fn finish(self) -> History {
        History {
            shas: self.shas.into_table(),
            paths: self.paths.into_table(),
            authors: self.authors.into_table(),
            changes: self.changes,
            commits: Vec::new(),
        }
    }
}

/// Numbers strings in the order they are first seen.
#[derive(Default)]
struct Interner(HashMap<String, u32>);

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(id) = self.0.get(s) {
            return *id;
        }
        let id = self.0.len() as u32;
        self.0.insert(s.to_owned(), id);
        id
    }

    fn into_table(self) -> Vec<String> {
        let mut table = vec![String::new(); self.0.len()];
        for (s, id) in self.0 {
            table[id as usize] = s;
        }
        table
    }
}
