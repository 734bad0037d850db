//! Detecting committed data that sled lost.
//!
//! sled 0.34 recovers its log up to the first damaged segment and treats the rest as a torn
//! write, so a damaged or truncated data file opens without error, holding fewer commits (often
//! none). To turn that silent loss into [`BackendError::Corrupted`], the backend keeps two
//! records of how far the database got:
//!
//! * **inside sled**, in the tree [`GENERATION_TREE`], written atomically with every commit
//!   (in the same sled transaction as the commit's own writes): the number of commits
//!   (`generation`) and each table's entry count (`count/<table>`);
//! * **outside sled**, in the file `<dir>/netabase.manifest`, rewritten (to a temporary file,
//!   synced, then renamed over the old one) after every flush that made commits durable: the
//!   generation that flush covered, and the counts at that generation.
//!
//! On open the generation sled recovered must be at least the manifest's: sled never loses a
//! commit that was flushed, so a smaller one (or none, while the manifest has one) means
//! committed data is gone. With `check_integrity_on_open`, every table's entry count must also
//! match the count committed with the generation sled recovered, which catches entries lost
//! inside sled without the generation record itself being lost. The exact list of what is and
//! is not detected is in the crate docs ("Damaged files").

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use netabase_backend_api::{BackendError, Result};
use sled::Tree;

/// The sled tree holding the generation and the per-table counts. Not a table of the
/// contract: a table of this name is refused.
pub(crate) const GENERATION_TREE: &str = "__netabase_sled_generation";

/// The key of the generation in [`GENERATION_TREE`] (a big-endian `u64`).
pub(crate) const GENERATION_KEY: &[u8] = b"generation";

/// The prefix of a table's count key in [`GENERATION_TREE`] (`count/<table>` -> `u64` BE).
pub(crate) const COUNT_PREFIX: &[u8] = b"count/";

/// The key of the "dirty" flag in [`GENERATION_TREE`] (a big-endian `u64`, 0 or 1): set by
/// the first non-durable commit after the record was brought up to date, cleared when it is
/// again (a durable commit, a flush, a clean close). While it is set, sled may hold commits
/// the generation and counts do not include yet.
pub(crate) const DIRTY_KEY: &[u8] = b"dirty";

/// The manifest's file name inside the database directory.
pub(crate) const FILE_NAME: &str = "netabase.manifest";

const MAGIC: &str = "netabase-sled-manifest 1";

/// How far the database got: a generation and each table's entry count at it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) generation: u64,
    pub(crate) counts: BTreeMap<String, u64>,
}

/// The key of `table`'s count.
pub(crate) fn count_key(table: &str) -> Vec<u8> {
    let mut key = COUNT_PREFIX.to_vec();
    key.extend_from_slice(table.as_bytes());
    key
}

pub(crate) fn decode_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn corrupted(message: String) -> BackendError {
    BackendError::Corrupted { message }
}

/// Reads the progress sled itself holds (`None` if it holds no generation tree), and whether
/// it is marked dirty (see [`DIRTY_KEY`]).
pub(crate) fn read_from_sled(tree: Option<&Tree>) -> Result<Option<(Progress, bool)>> {
    let Some(tree) = tree else {
        return Ok(None);
    };
    let mut progress = Progress::default();
    let mut seen_generation = false;
    let mut dirty = false;
    for item in tree.iter() {
        let (key, value) = item.map_err(crate::error::map_sled_error)?;
        let bad = || corrupted(format!("sled's generation record has a bad entry {key:?}"));
        let number = decode_u64(&value).ok_or_else(bad)?;
        if key.as_ref() == GENERATION_KEY {
            progress.generation = number;
            seen_generation = true;
        } else if key.as_ref() == DIRTY_KEY {
            dirty = number != 0;
        } else if let Some(name) = key.strip_prefix(COUNT_PREFIX) {
            let name = std::str::from_utf8(name).map_err(|_| bad())?;
            progress.counts.insert(name.to_owned(), number);
        } else {
            return Err(bad());
        }
    }
    Ok(seen_generation.then_some((progress, dirty)))
}

/// The manifest file of a database directory.
#[derive(Debug)]
pub(crate) struct ManifestFile {
    path: PathBuf,
}

impl ManifestFile {
    pub(crate) fn in_dir(dir: &Path) -> Self {
        ManifestFile {
            path: dir.join(FILE_NAME),
        }
    }

    /// The recorded progress; `None` if there is no manifest file.
    pub(crate) fn read(&self) -> Result<Option<Progress>> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        parse(&text).map(Some).ok_or_else(|| {
            corrupted(format!(
                "`{}` is damaged (the store's record of its durable commits)",
                self.path.display()
            ))
        })
    }

    /// Replaces the manifest with `progress`: written to a temporary file, synced, renamed.
    pub(crate) fn write(&self, progress: &Progress) -> Result<()> {
        let tmp = self.path.with_extension("manifest.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(render(progress).as_bytes())?;
        file.sync_data()?;
        drop(file);
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

/// FNV-1a, 64 bits: enough to tell a damaged manifest from an intact one.
fn checksum(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The manifest text: magic, generation, one `table <count> <hex name>` line per table, and
/// a checksum line over everything before it.
fn render(progress: &Progress) -> String {
    let mut text = format!("{MAGIC}\ngeneration {}\n", progress.generation);
    for (name, count) in &progress.counts {
        let _ = writeln!(text, "table {count} {}", hex(name.as_bytes()));
    }
    let sum = checksum(&text);
    let _ = writeln!(text, "checksum {sum:016x}");
    text
}

fn parse(bytes: &[u8]) -> Option<Progress> {
    let text = std::str::from_utf8(bytes).ok()?;
    let body_end = text.rfind("checksum ")?;
    let (body, last) = text.split_at(body_end);
    let sum = u64::from_str_radix(last.strip_prefix("checksum ")?.strip_suffix('\n')?, 16).ok()?;
    if sum != checksum(body) {
        return None;
    }
    let mut lines = body.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let generation = lines.next()?.strip_prefix("generation ")?.parse().ok()?;
    let mut counts = BTreeMap::new();
    for line in lines {
        let mut parts = line.strip_prefix("table ")?.split(' ');
        let count = parts.next()?.parse().ok()?;
        let name = String::from_utf8(unhex(parts.next()?)?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        counts.insert(name, count);
    }
    Some(Progress { generation, counts })
}

/// Checks what sled recovered against the manifest; see the module docs.
pub(crate) fn verify(
    dir: &Path,
    recovered: Option<&Progress>,
    manifest: Option<&Progress>,
) -> Result<()> {
    let durable = manifest.map_or(0, |m| m.generation);
    let have = recovered.map_or(0, |r| r.generation);
    if have < durable {
        return Err(corrupted(format!(
            "`{}`: sled recovered {have} commits, but {durable} were made durable: committed \
             data is lost (a damaged, truncated or replaced data file)",
            dir.display()
        )));
    }
    Ok(())
}

/// Checks every table's entry count against the counts committed with the recovered
/// generation (the `check_integrity_on_open` check).
pub(crate) fn verify_counts(
    dir: &Path,
    recovered: &Progress,
    actual: &BTreeMap<String, u64>,
) -> Result<()> {
    let names = recovered.counts.keys().chain(actual.keys());
    for name in names {
        let want = recovered.counts.get(name).copied().unwrap_or(0);
        let have = actual.get(name).copied().unwrap_or(0);
        if want != have {
            return Err(corrupted(format!(
                "`{}`: table `{name}` holds {have} entries, but {want} were committed: the data \
                 file is damaged",
                dir.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Progress {
        Progress {
            generation: 42,
            counts: [("User".to_owned(), 7), ("a b\n".to_owned(), 0)]
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn manifests_round_trip_and_damage_is_refused() {
        let text = render(&sample());
        assert_eq!(parse(text.as_bytes()), Some(sample()));
        for at in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[at] ^= 0x01;
            assert_ne!(parse(&bytes), Some(sample()), "flip at {at} went unnoticed");
        }
        for len in 0..text.len() {
            assert_eq!(parse(&text.as_bytes()[..len]), None, "truncated to {len}");
        }
    }

    #[test]
    fn fewer_recovered_commits_than_durable_ones_is_corrupted() {
        let dir = Path::new("d");
        let p = sample();
        assert!(verify(dir, Some(&p), Some(&p)).is_ok());
        assert!(verify(dir, Some(&p), None).is_ok());
        let older = Progress {
            generation: 41,
            ..p.clone()
        };
        assert!(matches!(
            verify(dir, Some(&older), Some(&p)),
            Err(BackendError::Corrupted { .. })
        ));
        assert!(verify(dir, None, Some(&p)).is_err());
        assert!(verify_counts(dir, &p, &p.counts).is_ok());
        let mut fewer = p.counts.clone();
        fewer.insert("User".into(), 6);
        assert!(verify_counts(dir, &p, &fewer).is_err());
        fewer.insert("User".into(), 7);
        fewer.insert("Extra".into(), 1);
        assert!(verify_counts(dir, &p, &fewer).is_err());
    }
}
