//! The `diff` attribute, which decides for git whether a path's content is text.
//!
//! `git log --numstat` consults `.gitattributes` as they are *now* in the work tree (falling
//! back to the index), plus `$GIT_DIR/info/attributes` and the global attribute files, for every
//! commit of history; a bare repository has no work tree and so only the latter. `binary` and
//! `-diff` make a path binary (`-\t-`), a set `diff` forces text even with NUL bytes, and
//! `diff=<driver>` is binary when `diff.<driver>.binary` is true. Without an attribute, blobs
//! larger than `core.bigFileThreshold` are binary too.

use std::collections::HashMap;

use gix::bstr::ByteSlice;
use gix::worktree::stack::state::attributes::Source;

use crate::MineError;

/// How git treats a path's content when counting lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffMode {
    /// Binary when a NUL appears in the first 8000 bytes.
    Auto,
    Binary,
    Text,
}

/// Per-thread lookup of the `diff` attribute, cached by path.
pub(crate) struct DiffAttributes {
    stack: gix::worktree::Stack,
    outcome: gix::attrs::search::Outcome,
    by_path: HashMap<Vec<u8>, DiffMode>,
    binary_drivers: HashMap<String, bool>,
    config: gix::config::File,
    /// `core.bigFileThreshold`: git treats larger blobs as binary without looking inside.
    big_file_threshold: usize,
}

/// git's default `core.bigFileThreshold`.
const DEFAULT_BIG_FILE_THRESHOLD: usize = 512 << 20;

impl DiffAttributes {
    pub(crate) fn new(repo: &gix::Repository) -> Result<Self, MineError> {
        let index = repo
            .index_or_empty()
            .map_err(MineError::git("cannot read the index for .gitattributes"))?;
        let source = Source::WorktreeThenIdMapping.adjust_for_bare(repo.is_bare());
        let stack = repo
            .attributes_only(&index, source)
            .map_err(MineError::git("cannot read .gitattributes"))?
            .detach();
        let outcome = stack.selected_attribute_matches(["diff"]);
        let config = repo.config_snapshot().plumbing().clone();
        let big_file_threshold = match config.integer("core.bigFileThreshold") {
            Ok(Some(n)) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => DEFAULT_BIG_FILE_THRESHOLD,
        };
        Ok(DiffAttributes {
            stack,
            outcome,
            by_path: HashMap::new(),
            binary_drivers: HashMap::new(),
            config,
            big_file_threshold,
        })
    }

    /// How to treat `path` whose two sides are `sizes` bytes long.
    pub(crate) fn mode(
        &mut self,
        path: &[u8],
        sizes: [usize; 2],
        objects: &dyn gix::objs::Find,
    ) -> DiffMode {
        let mode = match self.by_path.get(path) {
            Some(mode) => *mode,
            None => {
                let mode = self.lookup(path, objects);
                self.by_path.insert(path.to_vec(), mode);
                mode
            }
        };
        match mode {
            DiffMode::Auto if sizes.iter().any(|&n| n > self.big_file_threshold) => {
                DiffMode::Binary
            }
            mode => mode,
        }
    }

    fn lookup(&mut self, path: &[u8], objects: &dyn gix::objs::Find) -> DiffMode {
        let Ok(platform) =
            self.stack
                .at_entry(path.as_bstr(), Some(gix::index::entry::Mode::FILE), objects)
        else {
            return DiffMode::Auto;
        };
        if !platform.matching_attributes(&mut self.outcome) {
            return DiffMode::Auto;
        }
        enum Found {
            Set,
            Unset,
            Driver(String),
            Nothing,
        }
        let found = match self
            .outcome
            .iter_selected()
            .next()
            .map(|m| m.assignment.state)
        {
            Some(gix::attrs::StateRef::Set) => Found::Set,
            Some(gix::attrs::StateRef::Unset) => Found::Unset,
            Some(gix::attrs::StateRef::Value(v)) => {
                Found::Driver(v.as_bstr().to_str_lossy().into_owned())
            }
            Some(gix::attrs::StateRef::Unspecified) | None => Found::Nothing,
        };
        match found {
            Found::Set => DiffMode::Text,
            Found::Unset => DiffMode::Binary,
            Found::Driver(driver) => {
                let config = &self.config;
                let binary = *self.binary_drivers.entry(driver).or_insert_with_key(|d| {
                    matches!(
                        config.boolean(format!("diff.{d}.binary").as_str()),
                        Ok(Some(true))
                    )
                });
                if binary {
                    DiffMode::Binary
                } else {
                    DiffMode::Auto
                }
            }
            Found::Nothing => DiffMode::Auto,
        }
    }
}

/// GitHub Linguist's `linguist-generated` and `linguist-vendored`, read from the
/// `.gitattributes` committed in one tree (as Linguist reads them, so a bare mirror and a work
/// tree agree) plus `$GIT_DIR/info/attributes` and the global attribute files.
pub(crate) struct LinguistAttributes {
    stack: gix::worktree::Stack,
    outcome: gix::attrs::search::Outcome,
}

impl LinguistAttributes {
    pub(crate) fn of_tree(repo: &gix::Repository, tree: gix::ObjectId) -> Result<Self, MineError> {
        let index = repo
            .index_from_tree(&tree)
            .map_err(MineError::git("cannot read HEAD's tree for .gitattributes"))?;
        let stack = repo
            .attributes_only(&index, Source::IdMapping)
            .map_err(MineError::git("cannot read .gitattributes"))?
            .detach();
        let outcome = stack.selected_attribute_matches(["linguist-generated", "linguist-vendored"]);
        Ok(LinguistAttributes { stack, outcome })
    }

    /// What the attributes say about `path`: generated before vendored; explicitly unset
    /// (`-attr` or `attr=false`) means maintained by hand.
    pub(crate) fn of(
        &mut self,
        path: &[u8],
        objects: &dyn gix::objs::Find,
    ) -> Option<leadline_core::model::Linguist> {
        use leadline_core::model::Linguist;
        let platform = self
            .stack
            .at_entry(path.as_bstr(), Some(gix::index::entry::Mode::FILE), objects)
            .ok()?;
        if !platform.matching_attributes(&mut self.outcome) {
            return None;
        }
        let mut said = [None, None];
        for m in self.outcome.iter_selected() {
            let value = match m.assignment.state {
                gix::attrs::StateRef::Set => Some(true),
                gix::attrs::StateRef::Unset => Some(false),
                gix::attrs::StateRef::Value(v) => match v.as_bstr().to_str_lossy().as_ref() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                },
                gix::attrs::StateRef::Unspecified => None,
            };
            let slot = usize::from(m.assignment.name.as_str() == "linguist-vendored");
            said[slot] = value;
        }
        match said {
            [Some(true), _] => Some(Linguist::Generated),
            [_, Some(true)] => Some(Linguist::Vendored),
            [Some(false), _] | [_, Some(false)] => Some(Linguist::ByHand),
            _ => None,
        }
    }
}
