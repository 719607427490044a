//! git's delta format (`patch-delta.c`): a base size, a result size, then instructions that copy
//! ranges of the base or insert literal bytes. Applied here rather than through gix so that
//! every intermediate object of a chain can be kept (see `packs.rs`).

/// A delta that does not fit its base or breaks the format: the pack is corrupt.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeltaError {
    #[error("delta header is truncated")]
    Header,
    #[error("delta expects a base of {expected} bytes, the base has {actual}")]
    BaseSize { expected: u64, actual: usize },
    #[error("delta instruction at byte {0} is truncated, reserved, or out of bounds")]
    Instruction(usize),
    #[error("delta promises {expected} bytes and produces {actual}")]
    ResultSize { expected: u64, actual: usize },
}

/// The object `delta` builds from `base`.
pub(crate) fn apply(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, DeltaError> {
    let mut at = 0;
    let base_size = size(delta, &mut at)?;
    if base_size != base.len() as u64 {
        return Err(DeltaError::BaseSize {
            expected: base_size,
            actual: base.len(),
        });
    }
    let result_size = size(delta, &mut at)?;
    let capacity = usize::try_from(result_size).map_err(|_| DeltaError::Header)?;
    // A result can be at most every instruction byte copying 64 KiB; a larger promise is corrupt
    // and must not drive the allocation.
    if capacity > delta.len().saturating_mul(0x10000) {
        return Err(DeltaError::Header);
    }
    let mut out = Vec::with_capacity(capacity);
    while let Some(&cmd) = delta.get(at) {
        let start = at;
        at += 1;
        if cmd & 0x80 != 0 {
            let offset = operand(delta, &mut at, cmd, 4).ok_or(DeltaError::Instruction(start))?;
            let len = match operand(delta, &mut at, cmd >> 4, 3) {
                Some(0) => 0x10000,
                Some(len) => len,
                None => return Err(DeltaError::Instruction(start)),
            };
            let copied = offset
                .checked_add(len)
                .and_then(|end| base.get(offset..end))
                .ok_or(DeltaError::Instruction(start))?;
            out.extend_from_slice(copied);
        } else if cmd != 0 {
            let literal = delta
                .get(at..at + usize::from(cmd))
                .ok_or(DeltaError::Instruction(start))?;
            out.extend_from_slice(literal);
            at += usize::from(cmd);
        } else {
            return Err(DeltaError::Instruction(start));
        }
    }
    if out.len() as u64 != result_size {
        return Err(DeltaError::ResultSize {
            expected: result_size,
            actual: out.len(),
        });
    }
    Ok(out)
}

/// A little-endian base-128 size from the header.
fn size(delta: &[u8], at: &mut usize) -> Result<u64, DeltaError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *delta.get(*at).ok_or(DeltaError::Header)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DeltaError::Header)
}

/// A copy operand of up to `bytes` little-endian bytes, present where `mask` has its bit set.
fn operand(delta: &[u8], at: &mut usize, mask: u8, bytes: u32) -> Option<usize> {
    let mut value = 0usize;
    for i in 0..bytes {
        if mask & (1 << i) != 0 {
            value |= usize::from(*delta.get(*at)?) << (8 * i);
            *at += 1;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_inserts() {
        // base "hello world" (11), result "world, hello!" (13):
        // copy 6..11 ("world"), insert ", ", copy 0..5 ("hello"), insert "!".
        let delta = [11, 13, 0x91, 6, 5, b'\x02', b',', b' ', 0x90, 5, 1, b'!'];
        assert_eq!(apply(b"hello world", &delta).unwrap(), b"world, hello!");
    }

    #[test]
    fn a_zero_copy_size_means_64_kib() {
        let base = vec![7u8; 0x10000];
        // result 0x10000 = varint [0x80, 0x80, 0x04]; copy from offset 0 with no size bytes.
        let delta = [0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80];
        assert_eq!(apply(&base, &delta).unwrap(), base);
    }

    #[test]
    fn refuses_corrupt_deltas() {
        assert!(matches!(
            apply(b"abc", &[4, 1, 1, b'x']),
            Err(DeltaError::BaseSize { .. })
        ));
        // copy past the end of the base
        assert!(matches!(
            apply(b"abc", &[3, 3, 0x91, 2, 3]),
            Err(DeltaError::Instruction(2))
        ));
        // reserved instruction 0, truncated literal, short result, truncated header
        assert!(apply(b"abc", &[3, 1, 0]).is_err());
        assert!(apply(b"abc", &[3, 2, 2, b'x']).is_err());
        assert!(matches!(
            apply(b"abc", &[3, 2, 1, b'x']),
            Err(DeltaError::ResultSize { .. })
        ));
        assert!(apply(b"abc", &[0x83]).is_err());
        // an absurd promised size is refused before allocating
        assert!(apply(b"", &[0, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }
}
