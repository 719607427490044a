//! The stored commit graph of a repository: one compact value per repository, rebuilt when an
//! ingest finishes, so that metrics load 100k commits in milliseconds.
//!
//! Layout (integers little-endian): `LLG1`; u32 author count, then per author a name and an
//! email; u32 commit count, then per commit its sha, i64 commit time, u32 author index, u8
//! parent count and the parents' shas. Strings are a u32 length and UTF-8 bytes.

use leadline_core::model::Millis;
use leadline_core::store::{GraphRow, StoreError, StoreResult};

const MAGIC: &[u8; 4] = b"LLG1";

/// Encodes a graph as its commits arrive; the authors are known up front.
pub(super) struct Encoder {
    out: Vec<u8>,
    authors: Vec<(String, String)>,
    count_at: usize,
    count: usize,
}

impl Encoder {
    pub(super) fn new(mut authors: Vec<(String, String)>) -> Encoder {
        authors.sort_unstable();
        authors.dedup();
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, authors.len());
        for (name, email) in &authors {
            put_str(&mut out, name);
            put_str(&mut out, email);
        }
        let count_at = out.len();
        put_u32(&mut out, 0);
        Encoder {
            out,
            authors,
            count_at,
            count: 0,
        }
    }

    pub(super) fn push(
        &mut self,
        sha: &str,
        parents: &str,
        committed_at: Millis,
        name: &str,
        email: &str,
    ) {
        put_str(&mut self.out, sha);
        self.out.extend_from_slice(&committed_at.to_le_bytes());
        let author = self
            .authors
            .binary_search_by(|(n, e)| (n.as_str(), e.as_str()).cmp(&(name, email)))
            .unwrap_or_default();
        put_u32(&mut self.out, author);
        let parents: Vec<&str> = parents.split_whitespace().collect();
        self.out
            .push(u8::try_from(parents.len()).unwrap_or(u8::MAX));
        for p in parents.iter().take(u8::MAX as usize) {
            put_str(&mut self.out, p);
        }
        self.count += 1;
    }

    /// The number of commits and the encoded graph.
    pub(super) fn finish(mut self) -> (usize, Vec<u8>) {
        let count = u32::try_from(self.count).unwrap_or(u32::MAX).to_le_bytes();
        self.out[self.count_at..self.count_at + 4].copy_from_slice(&count);
        (self.count, self.out)
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Decodes a graph, flagging commits whose author `is_bot` says is a bot.
pub(super) fn decode(
    data: &[u8],
    is_bot: &dyn Fn(&str, &str) -> bool,
    out: &mut Vec<GraphRow>,
) -> StoreResult<()> {
    let mut r = Reader { data, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(corrupt());
    }
    let authors = r.u32()?;
    let mut bots = Vec::with_capacity(authors.min(1 << 20));
    for _ in 0..authors {
        let (name, email) = (r.str()?, r.str()?);
        bots.push(is_bot(name, email));
    }
    let commits = r.u32()?;
    out.reserve(commits.min(1 << 24));
    for _ in 0..commits {
        let sha = r.str()?.to_owned();
        let committed_at = i64::from_le_bytes(r.take(8)?.try_into().map_err(|_| corrupt())?);
        let bot = *bots.get(r.u32()?).ok_or_else(corrupt)?;
        let n = r.take(1)?[0];
        let mut parents = Vec::with_capacity(n as usize);
        for _ in 0..n {
            parents.push(r.str()?.to_owned());
        }
        out.push(GraphRow {
            sha,
            parents,
            committed_at,
            bot,
        });
    }
    if r.at != data.len() {
        return Err(corrupt());
    }
    Ok(())
}

fn corrupt() -> StoreError {
    StoreError::Corrupt("unreadable stored commit graph".into())
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> StoreResult<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(corrupt)?;
        let bytes = self.data.get(self.at..end).ok_or_else(corrupt)?;
        self.at = end;
        Ok(bytes)
    }

    fn u32(&mut self) -> StoreResult<usize> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| corrupt())?;
        Ok(u32::from_le_bytes(bytes) as usize)
    }

    fn str(&mut self) -> StoreResult<&'a str> {
        let n = self.u32()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| corrupt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sha: &str, parents: &str, at: i64, name: &str) -> (String, String, i64, String, String) {
        (
            sha.into(),
            parents.into(),
            at,
            name.into(),
            format!("{name}@example.com"),
        )
    }

    fn encode(rows: &[(String, String, i64, String, String)]) -> Vec<u8> {
        let mut e = Encoder::new(rows.iter().map(|r| (r.3.clone(), r.4.clone())).collect());
        for (sha, parents, at, name, email) in rows {
            e.push(sha, parents, *at, name, email);
        }
        e.finish().1
    }

    #[test]
    fn round_trip_with_bot_flags() {
        let rows = [
            row("aa", "", -5, "ann"),
            row("bb", "aa", 10, "dependabot[bot]"),
            row("cc", "aa bb", i64::MAX, "ann"),
        ];
        let mut out = Vec::new();
        decode(&encode(&rows), &|name, _| name.contains("[bot]"), &mut out).unwrap();
        let got: Vec<(&str, Vec<&str>, i64, bool)> = out
            .iter()
            .map(|g| {
                (
                    g.sha.as_str(),
                    g.parents.iter().map(String::as_str).collect(),
                    g.committed_at,
                    g.bot,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("aa", vec![], -5, false),
                ("bb", vec!["aa"], 10, true),
                ("cc", vec!["aa", "bb"], i64::MAX, false),
            ]
        );
    }

    #[test]
    fn truncated_or_foreign_data_is_corrupt() {
        let data = encode(&[row("aa", "", 1, "ann")]);
        for cut in [0, 3, 10, data.len() - 1] {
            assert!(decode(&data[..cut], &|_, _| false, &mut Vec::new()).is_err());
        }
        assert!(decode(b"XXXX", &|_, _| false, &mut Vec::new()).is_err());
        let mut longer = data.clone();
        longer.push(0);
        assert!(decode(&longer, &|_, _| false, &mut Vec::new()).is_err());
    }
}
