//! Keeping mapped pack files from piling up in the process's resident memory.
//!
//! gix reads packs through read-only memory maps. Every page touched stays resident in this
//! process until unmapped, so mining a whole history ends up "holding" most of the pack (on
//! git.git: ~340 MB of file-backed pages, more than all of leadline's own allocations). The
//! pages are clean copies of the file and remain in the kernel's page cache either way, so
//! `MADV_DONTNEED` on the mappings releases them from this process at no risk: the next access
//! faults the same bytes back in from the page cache.

/// Releases resident pages of mapped `.pack` files (Linux; a no-op elsewhere).
pub(crate) fn release_pack_pages() {
    #[cfg(target_os = "linux")]
    linux::release();
}

#[cfg(target_os = "linux")]
mod linux {
    /// Address ranges of read-only mappings of `*.pack` files, from `/proc/self/maps`.
    fn pack_mappings(maps: &str) -> Vec<(usize, usize)> {
        maps.lines()
            .filter_map(|line| {
                // range perms offset dev inode, then the path after padding (it may hold spaces)
                let mut fields = line.splitn(6, ' ');
                let range = fields.next()?;
                let perms = fields.next()?;
                let path = fields.nth(3)?.trim();
                if !path.ends_with(".pack") || perms.contains('w') {
                    return None;
                }
                let (start, end) = range.split_once('-')?;
                Some((
                    usize::from_str_radix(start, 16).ok()?,
                    usize::from_str_radix(end, 16).ok()?,
                ))
            })
            .collect()
    }

    pub(super) fn release() {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for (start, end) in pack_mappings(&maps) {
            // SAFETY: the range is a read-only, file-backed mapping taken from the kernel's own
            // list. MADV_DONTNEED on such a mapping only drops this process's page-table
            // entries; later reads fault the unchanged file contents back in, so slices
            // borrowed from the map stay valid and keep their bytes.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::pack_mappings;

        #[test]
        fn finds_read_only_pack_mappings_only() {
            let maps = "\
7f0000000000-7f0000100000 r--s 00000000 fd:01 123 /repo/.git/objects/pack/pack-abc.pack
7f0000100000-7f0000200000 r--s 00000000 fd:01 124 /repo/.git/objects/pack/pack-abc.idx
7f0000200000-7f0000300000 rw-p 00000000 00:00 0
7f0000300000-7f0000400000 rw-s 00000000 fd:01 125 /tmp/x.pack
7f0000400000-7f0000500000 r--s 00000000 fd:01 126                   /my repo/pack-d.pack
";
            assert_eq!(
                pack_mappings(maps),
                vec![
                    (0x7f0000000000, 0x7f0000100000),
                    (0x7f0000400000, 0x7f0000500000)
                ]
            );
        }
    }
}
