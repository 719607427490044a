//! A delta-base cache for pack decoding that keeps to its memory budget.
//!
//! Decompressing delta bases is most of the cost of reading blobs, and a large cache saves much
//! of it. gix's `MemoryCappedHashmap` weighs entries by length but keeps evicted buffers on a
//! free list without bound, so its real footprint grows well past the cap (measured: ~3× on
//! git.git). This cache counts what it holds — exact-length buffers — and frees what it evicts.

use std::collections::{BTreeMap, HashMap};

use gix::objs::Kind;
use gix::odb::pack::cache::DecodeEntry;

type Key = (u32, u64);

struct Entry {
    data: Box<[u8]>,
    kind: Kind,
    compressed_size: usize,
    stamp: u64,
}

/// Least-recently-used eviction under a byte budget.
pub(crate) struct DeltaBaseCache {
    entries: HashMap<Key, Entry>,
    /// Use order: stamp → key; the smallest stamp is the least recently used.
    order: BTreeMap<u64, Key>,
    used: usize,
    cap: usize,
    clock: u64,
}

impl DeltaBaseCache {
    pub(crate) fn new(cap: usize) -> Self {
        DeltaBaseCache {
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
                self.used -= old.data.len();
            }
        }
    }
}

impl DecodeEntry for DeltaBaseCache {
    fn put(&mut self, pack_id: u32, offset: u64, data: &[u8], kind: Kind, compressed_size: usize) {
        // One object may not crowd out the rest.
        if data.len() > self.cap / 4 {
            return;
        }
        let key = (pack_id, offset);
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.stamp);
            self.used -= old.data.len();
        }
        self.evict_until_fits(data.len());
        let stamp = self.tick();
        self.order.insert(stamp, key);
        self.used += data.len();
        self.entries.insert(
            key,
            Entry {
                data: data.into(),
                kind,
                compressed_size,
                stamp,
            },
        );
    }

    fn get(&mut self, pack_id: u32, offset: u64, out: &mut Vec<u8>) -> Option<(Kind, usize)> {
        let stamp = self.tick();
        let entry = self.entries.get_mut(&(pack_id, offset))?;
        self.order.remove(&entry.stamp);
        entry.stamp = stamp;
        self.order.insert(stamp, (pack_id, offset));
        out.clear();
        out.extend_from_slice(&entry.data);
        Some((entry.kind, entry.compressed_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(c: &mut DeltaBaseCache, offset: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        c.get(0, offset, &mut out).map(|_| out)
    }

    #[test]
    fn evicts_the_least_recently_used_within_budget() {
        let mut c = DeltaBaseCache::new(40);
        c.put(0, 1, &[1; 10], Kind::Blob, 5);
        c.put(0, 2, &[2; 10], Kind::Blob, 5);
        c.put(0, 3, &[3; 10], Kind::Tree, 5);
        assert_eq!(get(&mut c, 1), Some(vec![1; 10])); // 1 is now the most recent
        c.put(0, 4, &[4; 10], Kind::Blob, 5);
        c.put(0, 5, &[5; 10], Kind::Blob, 5); // over budget: 2 goes first
        assert_eq!(get(&mut c, 2), None);
        assert!(get(&mut c, 1).is_some() && get(&mut c, 3).is_some());
        assert!(c.used <= 40);
        assert_eq!(
            c.used,
            c.entries.values().map(|e| e.data.len()).sum::<usize>()
        );
        assert_eq!(c.order.len(), c.entries.len());
    }

    #[test]
    fn refuses_objects_larger_than_a_quarter_and_replaces_duplicates() {
        let mut c = DeltaBaseCache::new(40);
        c.put(0, 1, &[1; 11], Kind::Blob, 5);
        assert_eq!(get(&mut c, 1), None);
        c.put(0, 1, &[1; 4], Kind::Blob, 5);
        c.put(0, 1, &[7; 6], Kind::Blob, 5);
        assert_eq!(get(&mut c, 1), Some(vec![7; 6]));
        assert_eq!(c.used, 6);
    }
}
