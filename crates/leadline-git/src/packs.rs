//! Reading objects from packs the way git does on a history walk.
//!
//! A packed object is usually a delta on another object, itself a delta, down a chain of up to
//! 50 to a whole object. gix resolves a chain from its whole base every time unless the
//! requested object itself was cached, so mining re-inflates the same large bases over and
//! over. git keeps every object it builds along a chain (`delta_base_cache`), and so does this
//! reader: the next object of a chain then costs one inflated delta. Objects outside the
//! repository's own packs (loose objects, alternates, a pack that appeared after opening) are
//! read through gix, so nothing is missed.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use gix::hash::oid;
use gix::objs::{Data, Find};
use gix::odb::pack;
use gix::odb::pack::data::entry::Header;

use crate::cache::{Object, ObjectCache};
use crate::delta::{self, DeltaError};

/// Deepest chain of deltas on objects named by id (ref-deltas) followed before giving up: git's
/// packs nest them rarely; a cycle in a corrupt pack must not recurse for ever.
const MAX_REF_DEPTH: usize = 64;

/// The repository's packs, opened once and shared by the workers (read-only maps).
pub(crate) struct Packs {
    bundles: Vec<pack::Bundle>,
    hash: gix::hash::Kind,
}

impl Packs {
    /// Every readable pack in `objects/pack`. One that cannot be opened is left to gix.
    pub(crate) fn open(objects: &Path, hash: gix::hash::Kind) -> Packs {
        let mut bundles: Vec<pack::Bundle> = std::fs::read_dir(objects.join("pack"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "idx"))
            .filter_map(|path| pack::Bundle::at(path, hash).ok())
            .collect();
        // Most objects live in the largest pack: look there first.
        bundles.sort_by_key(|b| std::cmp::Reverse(b.index.num_objects()));
        Packs { bundles, hash }
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("pack {path}: {source}")]
    Pack {
        path: String,
        #[source]
        source: gix::Error,
    },
    #[error("pack {path}: {source}")]
    Delta {
        path: String,
        #[source]
        source: DeltaError,
    },
    #[error("a delta's base {0} is missing")]
    MissingBase(gix::ObjectId),
    #[error("deltas on named bases nest deeper than {MAX_REF_DEPTH}")]
    TooDeep,
    #[error(transparent)]
    Fallback(gix::Error),
}

/// One worker's reader: its cache and inflater are its own, the packs are shared.
pub(crate) struct Reader {
    packs: Arc<Packs>,
    fallback: gix::OdbHandle,
    state: RefCell<State>,
}

struct State {
    cache: ObjectCache,
    inflate: gix::zlib::Inflate,
    /// The inflated instructions of the delta being applied.
    instructions: Vec<u8>,
    /// The pack of the last object found, looked in first.
    last: usize,
}

impl Reader {
    /// A reader over `packs` keeping up to `cache_bytes` of objects, reading what they do not
    /// hold through `fallback`.
    pub(crate) fn new(packs: Arc<Packs>, fallback: gix::OdbHandle, cache_bytes: usize) -> Self {
        Reader {
            packs,
            fallback,
            state: RefCell::new(State {
                cache: ObjectCache::new(cache_bytes),
                inflate: Default::default(),
                instructions: Vec::new(),
                last: 0,
            }),
        }
    }

    /// The object `id`, or `None` if the repository does not have it.
    pub(crate) fn object(&self, id: &oid) -> Result<Option<Object>, ReadError> {
        let mut state = self.state.borrow_mut();
        self.find(&mut state, id, 0)
    }

    fn find(&self, state: &mut State, id: &oid, depth: usize) -> Result<Option<Object>, ReadError> {
        let Some((pack, offset)) = self.locate(state, id) else {
            let mut buf = Vec::new();
            return match self.fallback.try_find(id, &mut buf) {
                Ok(Some(data)) => Ok(Some((data.kind, Arc::new(data.data.to_vec())))),
                Ok(None) => Ok(None),
                Err(e) => Err(ReadError::Fallback(e)),
            };
        };
        self.resolve(state, pack, offset, depth).map(Some)
    }

    fn locate(&self, state: &mut State, id: &oid) -> Option<(usize, u64)> {
        let bundles = &self.packs.bundles;
        let order =
            std::iter::once(state.last).chain((0..bundles.len()).filter(|&i| i != state.last));
        for i in order {
            let Some(bundle) = bundles.get(i) else {
                continue;
            };
            if let Some(index) = bundle.index.lookup(id) {
                state.last = i;
                return Some((i, bundle.index.pack_offset_at_index(index)));
            }
        }
        None
    }

    /// The object at `offset` of pack `pack`: its chain is followed down to a cached object or a
    /// whole one, then rebuilt upwards, keeping every object on the way.
    fn resolve(
        &self,
        state: &mut State,
        pack: usize,
        offset: u64,
        depth: usize,
    ) -> Result<Object, ReadError> {
        let data = &self.packs.bundles[pack].pack;
        let key = |offset: u64| (pack as u32, offset);
        let pack_error = |source: gix::Error| ReadError::Pack {
            path: data.path().display().to_string(),
            source,
        };
        let mut chain = Vec::new();
        let mut cursor = data.entry(offset).map_err(pack_error)?;
        let mut object = loop {
            if let Some(hit) = state.cache.get(key(cursor.pack_offset())) {
                break hit;
            }
            match cursor.header {
                Header::OfsDelta { base_distance } => {
                    let base = cursor
                        .checked_base_pack_offset(base_distance)
                        .ok_or_else(|| pack_error(gix::Error::from_error(DeltaError::Header)))?;
                    chain.push(cursor);
                    cursor = data.entry(base).map_err(pack_error)?;
                }
                Header::RefDelta { base_id } => {
                    if depth >= MAX_REF_DEPTH {
                        return Err(ReadError::TooDeep);
                    }
                    chain.push(cursor);
                    break self
                        .find(state, &base_id, depth + 1)?
                        .ok_or(ReadError::MissingBase(base_id))?;
                }
                Header::Commit | Header::Tree | Header::Blob | Header::Tag => {
                    let kind = cursor.header.as_kind().unwrap_or(gix::objs::Kind::Blob);
                    let len = usize::try_from(cursor.decompressed_size)
                        .map_err(|e| pack_error(gix::Error::from_error(e)))?;
                    let mut whole = vec![0; len];
                    data.decompress_entry(&cursor, &mut state.inflate, &mut whole)
                        .map_err(pack_error)?;
                    let whole = (kind, Arc::new(whole));
                    state.cache.put(key(cursor.pack_offset()), whole.clone());
                    break whole;
                }
            }
        };
        for delta in chain.iter().rev() {
            let len = usize::try_from(delta.decompressed_size)
                .map_err(|e| pack_error(gix::Error::from_error(e)))?;
            state.instructions.resize(len, 0);
            data.decompress_entry(delta, &mut state.inflate, &mut state.instructions)
                .map_err(pack_error)?;
            let built = delta::apply(&object.1, &state.instructions).map_err(|source| {
                ReadError::Delta {
                    path: data.path().display().to_string(),
                    source,
                }
            })?;
            object = (object.0, Arc::new(built));
            state.cache.put(key(delta.pack_offset()), object.clone());
        }
        Ok(object)
    }
}

impl Find for Reader {
    fn try_find<'a>(
        &self,
        id: &oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::error::Result<Option<Data<'a>>> {
        let Some((kind, data)) = self.object(id).map_err(gix::Error::from_error)? else {
            return Ok(None);
        };
        buffer.clear();
        buffer.extend_from_slice(&data);
        Ok(Some(Data {
            kind,
            object_hash: self.packs.hash,
            data: buffer,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        use std::io::Write;
        let mut child = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            // Fixed dates and one delta-search thread: otherwise the commits' times, and the
            // share of the window each thread searches, depend on the machine's load, and so
            // do the delta chains git builds.
            .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
            .args(["-c", "user.name=A", "-c", "user.email=a@example.com"])
            .args(["-c", "pack.threads=1"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.unwrap_or_default()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        out.stdout
    }

    /// A file of pseudo-random lines with one line replaced per commit, 150 times: each version
    /// is nearest to its neighbours, so packing makes long delta chains.
    fn history() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"], None);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut random_line = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            format!("{seed:016x}{:016x}\n", seed.rotate_left(29))
        };
        let mut lines: Vec<String> = (0..300).map(|_| random_line()).collect();
        for i in 0..150 {
            lines[(i * 7919) % 300] = random_line();
            std::fs::write(d.join("grow.txt"), lines.concat()).unwrap();
            std::fs::write(d.join("small.txt"), format!("{}\n", i % 3)).unwrap();
            git(d, &["add", "."], None);
            git(d, &["commit", "-q", "-m", &format!("c{i}")], None);
        }
        dir
    }

    /// Every object in the repository, read through a [`Reader`] with a cache of `cache` bytes,
    /// equals `git cat-file --batch`.
    fn assert_reads_like_git(d: &Path, cache: usize) {
        let ids = String::from_utf8(git(
            d,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname)",
            ],
            None,
        ))
        .unwrap();
        let batch = git(d, &["cat-file", "--batch"], Some(ids.as_bytes()));
        let repo = gix::open(d).unwrap();
        let packs = Arc::new(Packs::open(&d.join(".git/objects"), repo.object_hash()));
        let reader = Reader::new(packs, repo.objects.clone(), cache);
        let mut rest = &batch[..];
        let mut objects = 0;
        while !rest.is_empty() {
            let eol = rest.iter().position(|&b| b == b'\n').unwrap();
            let header = std::str::from_utf8(&rest[..eol]).unwrap().to_owned();
            let mut fields = header.split(' ');
            let (id, kind, len) = (
                fields.next().unwrap(),
                fields.next().unwrap(),
                fields.next().unwrap().parse::<usize>().unwrap(),
            );
            let content = &rest[eol + 1..eol + 1 + len];
            let id = gix::ObjectId::from_hex(id.as_bytes()).unwrap();
            let (got_kind, got) = reader.object(&id).unwrap().expect("object found");
            assert_eq!(got_kind.to_string(), kind, "{id}");
            assert_eq!(got.as_slice(), content, "{id}");
            rest = &rest[eol + 1 + len + 1..];
            objects += 1;
        }
        assert!(objects > 450, "{objects} objects");
    }

    fn pack_glob(d: &Path) -> Vec<String> {
        std::fs::read_dir(d.join(".git/objects/pack"))
            .unwrap()
            .flatten()
            .map(|e| e.path().display().to_string())
            .filter(|p| p.ends_with(".idx"))
            .collect()
    }

    #[test]
    fn objects_at_the_end_of_long_chains_equal_git() {
        let dir = history();
        let d = dir.path();
        git(d, &["repack", "-adfq", "--depth=50", "--window=250"], None);
        let idx = pack_glob(d);
        assert_eq!(idx.len(), 1);
        let mut args = vec!["verify-pack", "-v"];
        args.extend(idx.iter().map(String::as_str));
        let stats = String::from_utf8(git(d, &args, None)).unwrap();
        let longest = stats
            .lines()
            .filter_map(|l| l.strip_prefix("chain length = "))
            .filter_map(|l| l.split(':').next()?.parse::<usize>().ok())
            .max();
        assert!(longest >= Some(40), "no long chains: {longest:?}");
        // A cache too small to hold anything, then one that holds every base.
        for cache in [0, 64 << 20] {
            assert_reads_like_git(d, cache);
        }
    }

    #[test]
    fn deltas_on_named_bases_and_loose_objects_equal_git() {
        let dir = history();
        let d = dir.path();
        git(
            d,
            &[
                "-c",
                "pack.useDeltaBaseOffset=false",
                "repack",
                "-adfq",
                "--depth=20",
            ],
            None,
        );
        // One object after packing stays loose and is read through gix.
        std::fs::write(d.join("late.txt"), "late\n").unwrap();
        git(d, &["add", "late.txt"], None);
        git(d, &["commit", "-q", "-m", "late"], None);
        assert_reads_like_git(d, 1 << 20);
    }
}
