//! The object cache behind pack reading, kept to its memory budget.
//!
//! git keeps every base it inflates while resolving a delta chain (`delta_base_cache`), so the
//! next object of the same chain costs one delta instead of the whole chain. `packs.rs` does the
//! same and keeps its objects here, keyed by pack entry. gix's own `MemoryCappedHashmap` weighs
//! entries by length but keeps evicted buffers on a free list without bound, so its real
//! footprint grows well past the cap (measured: ~3× on git.git); this cache counts what it holds
//! and frees what it evicts (an object still in use elsewhere lives on through its `Arc`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use gix::objs::Kind;

/// A pack entry: the pack's position in `Packs` and the entry's offset in it.
pub(crate) type Key = (u32, u64);

/// A decoded object, shared between the cache and its readers.
pub(crate) type Object = (Kind, Arc<Vec<u8>>);

struct Entry {
    object: Object,
    stamp: u64,
}

/// Least-recently-used eviction under a byte budget.
pub(crate) struct ObjectCache {
    entries: HashMap<Key, Entry>,
    /// Use order: stamp → key; the smallest stamp is the least recently used.
    order: BTreeMap<u64, Key>,
    used: usize,
    cap: usize,
    clock: u64,
}

impl ObjectCache {
    pub(crate) fn new(cap: usize) -> Self {
        ObjectCache {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            used: 0,
            cap,
            clock: 0,
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn evict_until_fits(&mut self, incoming: usize) {
        while self.used + incoming > self.cap {
            let Some((_, key)) = self.order.pop_first() else {
                break;
            };
            if let Some(old) = self.entries.remove(&key) {
                self.used -= old.object.1.len();
            }
        }
    }

    pub(crate) fn put(&mut self, key: Key, object: Object) {
        let len = object.1.len();
        // One object may not crowd out the rest.
        if len > self.cap / 4 {
            return;
        }
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.stamp);
            self.used -= old.object.1.len();
        }
        self.evict_until_fits(len);
        let stamp = self.tick();
        self.order.insert(stamp, key);
        self.used += len;
        self.entries.insert(key, Entry { object, stamp });
    }

    pub(crate) fn get(&mut self, key: Key) -> Option<Object> {
        let stamp = self.tick();
        let entry = self.entries.get_mut(&key)?;
        self.order.remove(&entry.stamp);
        entry.stamp = stamp;
        self.order.insert(stamp, key);
        Some(entry.object.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(c: &mut ObjectCache, offset: u64, data: &[u8]) {
        c.put((0, offset), (Kind::Blob, Arc::new(data.to_vec())));
    }

    fn get(c: &mut ObjectCache, offset: u64) -> Option<Vec<u8>> {
        c.get((0, offset)).map(|(_, data)| data.to_vec())
    }

    #[test]
    fn evicts_the_least_recently_used_within_budget() {
        let mut c = ObjectCache::new(40);
        put(&mut c, 1, &[1; 10]);
        put(&mut c, 2, &[2; 10]);
        put(&mut c, 3, &[3; 10]);
        assert_eq!(get(&mut c, 1), Some(vec![1; 10])); // 1 is now the most recent
        put(&mut c, 4, &[4; 10]);
        put(&mut c, 5, &[5; 10]); // over budget: 2 goes first
        assert_eq!(get(&mut c, 2), None);
        assert!(get(&mut c, 1).is_some() && get(&mut c, 3).is_some());
        assert!(c.used <= 40);
        assert_eq!(
            c.used,
            c.entries.values().map(|e| e.object.1.len()).sum::<usize>()
        );
        assert_eq!(c.order.len(), c.entries.len());
    }

    #[test]
    fn refuses_objects_larger_than_a_quarter_and_replaces_duplicates() {
        let mut c = ObjectCache::new(40);
        put(&mut c, 1, &[1; 11]);
        assert_eq!(get(&mut c, 1), None);
        put(&mut c, 1, &[1; 4]);
        put(&mut c, 1, &[7; 6]);
        assert_eq!(get(&mut c, 1), Some(vec![7; 6]));
        assert_eq!(c.used, 6);
    }
}
