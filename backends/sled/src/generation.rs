//! The generation record (see [`manifest`]): the generation tree and the manifest file of a
//! database opened from a path, and the entry counts a commit records.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use netabase_backend_api::Result;
use sled::Tree;

use crate::backend::SledBackend;
use crate::error::map_sled_error;
use crate::options::SledOptions;
use crate::read::tree_len;
use crate::{DEFAULT_TREE, manifest};

/// The generation tree and the manifest file of a database opened from a path.
pub(crate) struct Tracking {
    pub(crate) tree: Tree,
    file: manifest::ManifestFile,
    /// What the last commit reached and what sled's record holds (writers are serialised).
    pub(crate) state: Mutex<TrackState>,
    /// Serialises manifest writes; holds the generation last written.
    written: Mutex<u64>,
}

/// What a commit needs from the record's state (see [`SledWriteTxn::commit`]).
pub(crate) struct RecordBase {
    pub(crate) generation: u64,
    pub(crate) dirty: bool,
    /// The current count of each table the commit writes, in the commit's order.
    pub(crate) counts: Vec<u64>,
    /// Counts that differ from what sled's record holds (for a durable commit after
    /// non-durable ones).
    pub(crate) stale: Vec<(String, u64)>,
}

/// The generation record, in memory.
///
/// A durable commit writes the record in its own sled transaction. A non-durable one only
/// marks the record dirty (the first after it was up to date; later ones skip it, which keeps
/// a non-durable commit as cheap as without the record), and the record is brought up to date
/// at the next durable commit, flush or clean close. The manifest always states the record's
/// generation, never more, so the check "sled's record >= manifest" stays exact.
#[derive(Clone, Default)]
pub(crate) struct TrackState {
    /// The generation and counts after the last commit.
    pub(crate) current: manifest::Progress,
    /// What sled's record holds (the last time it was written).
    pub(crate) recorded: manifest::Progress,
    /// Whether sled's record is marked dirty.
    pub(crate) dirty: bool,
}

impl Tracking {
    /// Opens the record of `backend`'s database in `dir` and checks it (see [`manifest`]).
    pub(crate) fn open(
        backend: &SledBackend,
        dir: &Path,
        options: &SledOptions,
    ) -> Result<Option<Tracking>> {
        let db = backend.db();
        let exists = db
            .tree_names()
            .iter()
            .any(|n| n.as_ref() == manifest::GENERATION_TREE.as_bytes());
        let tree = if exists || !options.read_only {
            Some(
                db.open_tree(manifest::GENERATION_TREE)
                    .map_err(map_sled_error)?,
            )
        } else {
            None
        };
        let read = manifest::read_from_sled(tree.as_ref().filter(|_| exists))?;
        let was_dirty = read.as_ref().is_some_and(|(_, dirty)| *dirty);
        let recovered = read.map(|(progress, _)| progress);
        let file = manifest::ManifestFile::in_dir(dir);
        let recorded = file.read()?;
        manifest::verify(dir, recovered.as_ref(), recorded.as_ref())?;
        // A dirty record (the last session ended without bringing it up to date after
        // non-durable commits) has counts that may lag: count again, and check nothing more.
        let counted = match (&recovered, options.check_integrity_on_open || was_dirty) {
            (Some(_), false) => None,
            _ => Some(table_counts(db)?),
        };
        let rewrite = !exists || was_dirty;
        let progress = match recovered {
            Some(progress) if was_dirty => manifest::Progress {
                generation: progress.generation,
                counts: counted.unwrap_or_default(),
            },
            Some(progress) => {
                if let Some(actual) = &counted {
                    manifest::verify_counts(dir, &progress, actual)?;
                }
                progress
            }
            // A new database, or one written before this record existed: start it now.
            None => manifest::Progress {
                generation: 0,
                counts: counted.unwrap_or_default(),
            },
        };
        let Some(tree) = tree else {
            // Read-only, and sled holds no record: nothing is written, so nothing to track.
            return Ok(None);
        };
        if rewrite && !options.read_only {
            let mut batch = sled::Batch::default();
            if was_dirty {
                // Tables counted before may be empty now: their old counts must go.
                for key in tree.scan_prefix(manifest::COUNT_PREFIX).keys() {
                    batch.remove(key.map_err(map_sled_error)?);
                }
            }
            for (name, count) in &progress.counts {
                batch.insert(manifest::count_key(name), &count.to_be_bytes());
            }
            batch.insert(manifest::GENERATION_KEY, &progress.generation.to_be_bytes());
            batch.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes());
            tree.apply_batch(batch).map_err(map_sled_error)?;
            db.flush().map_err(map_sled_error)?;
        }
        let tracking = Tracking {
            tree,
            file,
            state: Mutex::new(TrackState {
                current: progress.clone(),
                recorded: progress.clone(),
                dirty: was_dirty && options.read_only,
            }),
            written: Mutex::new(recorded.as_ref().map_or(0, |m| m.generation)),
        };
        if !options.read_only && recorded.as_ref() != Some(&progress) {
            // What sled recovered is on disk: the manifest may say so.
            tracking.record(&progress)?;
        }
        Ok(Some(tracking))
    }

    /// Writes `progress` to the manifest unless a later one was written already.
    pub(crate) fn record(&self, progress: &manifest::Progress) -> Result<()> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if progress.generation < *written {
            return Ok(());
        }
        self.file.write(progress)?;
        *written = progress.generation;
        Ok(())
    }

    /// The record state.
    pub(crate) fn snapshot(&self) -> TrackState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Brings sled's record up to the last commit if it is dirty (one atomic batch on the
    /// record's tree); returns what the record holds. The caller holds the writer lock, so no
    /// commit runs meanwhile.
    pub(crate) fn catch_up(&self) -> Result<manifest::Progress> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.dirty {
            let mut batch = sled::Batch::default();
            for (name, count) in &state.current.counts {
                if state.recorded.counts.get(name) != Some(count) {
                    batch.insert(manifest::count_key(name), &count.to_be_bytes());
                }
            }
            batch.insert(
                manifest::GENERATION_KEY,
                &state.current.generation.to_be_bytes(),
            );
            batch.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes());
            self.tree.apply_batch(batch).map_err(map_sled_error)?;
            state.recorded = state.current.clone();
            state.dirty = false;
        }
        Ok(state.recorded.clone())
    }
}

/// Every table's entry count (one pass over every tree).
pub(crate) fn table_counts(db: &sled::Db) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    for name in db.tree_names() {
        let Ok(name) = std::str::from_utf8(&name) else {
            continue;
        };
        if name == manifest::GENERATION_TREE {
            continue;
        }
        let tree: Tree = if name == DEFAULT_TREE {
            (**db).clone()
        } else {
            db.open_tree(name).map_err(map_sled_error)?
        };
        let len = tree_len(&tree)?;
        if len > 0 {
            counts.insert(name.to_owned(), len);
        }
    }
    Ok(counts)
}
