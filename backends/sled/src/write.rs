//! Write transactions: the per-table write buffer, the commit that applies it in one sled
//! transaction, and write tables.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::ops::Bound;
use std::sync::{MutexGuard, PoisonError};

use netabase_backend_api::{
    BackendError, Direction, ReadTable, Result, WriteTable, WriteTransaction, is_empty_range,
};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::{IVec, Transactional, Tree};

use crate::backend::{SledBackend, check_name};
use crate::error::{map_sled_error, map_transaction_error};
use crate::generation::RecordBase;
use crate::guard::SledGuard;
use crate::manifest;
use crate::options::SledDurability;
use crate::range::SledRange;
use crate::read::{tree_len, tree_range};

/// The buffered state of one table in a write transaction.
#[derive(Default)]
pub(crate) struct TableState {
    /// The table's tree, if it existed when the table was first opened in this transaction.
    tree: Option<Tree>,
    /// Writes since then: `Some(value)` is an insert, `None` a remove.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Whether the table was cleared: the tree's entries are then ignored.
    cleared: bool,
}

impl TableState {
    /// Whether commit has anything to do for this table.
    fn is_dirty(&self) -> bool {
        !self.writes.is_empty() || (self.cleared && self.tree.is_some())
    }

    /// The committed tree, unless the table was cleared in this transaction.
    fn visible_tree(&self) -> Option<&Tree> {
        if self.cleared {
            None
        } else {
            self.tree.as_ref()
        }
    }
}

pub(crate) enum Slot {
    /// A handle on the table is alive and holds its state.
    Open,
    /// No handle is alive; the state waits here for the next one (or for commit).
    Closed(TableState),
}

/// A write transaction: holds the store-wide writer lock and buffers every write until
/// [`commit`](WriteTransaction::commit). Dropping it without committing discards the buffer.
pub struct SledWriteTxn<'db> {
    pub(crate) backend: &'db SledBackend,
    pub(crate) _lock: MutexGuard<'db, ()>,
    pub(crate) tables: RefCell<HashMap<String, Slot>>,
}

impl fmt::Debug for SledWriteTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledWriteTxn")
            .field("tables", &self.tables.borrow().len())
            .finish_non_exhaustive()
    }
}

impl WriteTransaction for SledWriteTxn<'_> {
    type Table<'t>
        = SledWriteTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<SledWriteTable<'_>> {
        check_name(name)?;
        let mut tables = self.tables.borrow_mut();
        let state = match tables.get_mut(name) {
            Some(slot) => match std::mem::replace(slot, Slot::Open) {
                Slot::Closed(state) => state,
                Slot::Open => {
                    return Err(BackendError::TableAlreadyOpen {
                        table: name.to_owned(),
                    });
                }
            },
            None => {
                let tree = self.backend.existing_tree(name)?;
                tables.insert(name.to_owned(), Slot::Open);
                TableState {
                    tree,
                    ..TableState::default()
                }
            }
        };
        Ok(SledWriteTable {
            txn: self,
            name: name.to_owned(),
            state,
        })
    }

    fn commit(self) -> Result<()> {
        let tables = self.tables.take();
        let mut plans: Vec<(String, Tree, TableState, Vec<IVec>)> = Vec::new();
        for (name, slot) in tables {
            // A handle borrows the transaction, so none is alive (`Open`) when it is consumed.
            let Slot::Closed(state) = slot else {
                continue;
            };
            if !state.is_dirty() {
                continue;
            }
            let tree = match &state.tree {
                Some(tree) => tree.clone(),
                None => self.backend.open_tree(&name)?,
            };
            // The keys a clear removes: every key the tree holds now that the buffer does not
            // overwrite anyway. Writers are serialised, so no writer of this backend adds keys
            // between here and the transaction below.
            let mut cleared_keys = Vec::new();
            if state.cleared && state.tree.is_some() {
                for key in tree.iter().keys() {
                    let key = key.map_err(map_sled_error)?;
                    if !state.writes.contains_key(key.as_ref()) {
                        cleared_keys.push(key);
                    }
                }
            }
            plans.push((name, tree, state, cleared_keys));
        }
        // sled panics on a transaction over no trees.
        if plans.is_empty() {
            return Ok(());
        }
        let tracking = self.backend.tracking.as_ref();
        let durable = self.backend.durability == SledDurability::Immediate;
        let mut trees: Vec<Tree> = plans.iter().map(|(_, tree, _, _)| tree.clone()).collect();
        // What the record needs from its state, read under the lock without cloning its maps.
        let base = tracking.map(|tracking| {
            let state = tracking
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            RecordBase {
                generation: state.current.generation,
                dirty: state.dirty,
                counts: plans
                    .iter()
                    .map(|(name, ..)| state.current.counts.get(name).copied().unwrap_or(0))
                    .collect(),
                // Counts of the non-durable commits since the record was written, which a
                // durable commit writes too.
                stale: if durable && state.dirty {
                    state
                        .current
                        .counts
                        .iter()
                        .filter(|(name, count)| state.recorded.counts.get(*name) != Some(count))
                        .map(|(name, count)| (name.clone(), *count))
                        .collect()
                } else {
                    Vec::new()
                },
            }
        });
        // A durable commit writes the record; a non-durable one only marks it dirty, and
        // only if it is not already (see `TrackState`).
        let touch_record = base.as_ref().is_some_and(|b| durable || !b.dirty);
        if let (Some(tracking), true) = (tracking, touch_record) {
            trees.push(tracking.tree.clone());
        }
        let applied = Transactional::<Infallible>::transaction(
            trees.as_slice(),
            |views: &Vec<TransactionalTree>| -> std::result::Result<
                Vec<u64>,
                ConflictableTransactionError<Infallible>,
            > {
                let mut counts = match &base {
                    Some(base) => base.counts.clone(),
                    None => vec![0; plans.len()],
                };
                for ((view, (_, _, state, cleared_keys)), count) in
                    views.iter().zip(&plans).zip(counts.iter_mut())
                {
                    for key in cleared_keys {
                        if view.remove(key.clone())?.is_some() {
                            *count = count.saturating_sub(1);
                        }
                    }
                    for (key, value) in &state.writes {
                        let old = match value {
                            Some(value) => view.insert(key.as_slice(), value.as_slice())?,
                            None => view.remove(key.as_slice())?,
                        };
                        match (old.is_some(), value.is_some()) {
                            (false, true) => *count += 1,
                            (true, false) => *count = count.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                if let (Some(record), Some(base)) = (views.get(plans.len()), &base) {
                    if durable {
                        for (name, count) in &base.stale {
                            record.insert(manifest::count_key(name), &count.to_be_bytes())?;
                        }
                        for ((name, ..), count) in plans.iter().zip(&counts) {
                            record.insert(manifest::count_key(name), &count.to_be_bytes())?;
                        }
                        let generation = base.generation + 1;
                        record.insert(manifest::GENERATION_KEY, &generation.to_be_bytes())?;
                        if base.dirty {
                            record.insert(manifest::DIRTY_KEY, &0u64.to_be_bytes())?;
                        }
                    } else {
                        record.insert(manifest::DIRTY_KEY, &1u64.to_be_bytes())?;
                    }
                }
                Ok(counts)
            },
        );
        let counts = applied.map_err(map_transaction_error)?;
        let recorded = tracking.and_then(|tracking| {
            let mut state = tracking
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.current.generation += 1;
            for ((name, ..), count) in plans.iter().zip(counts) {
                match state.current.counts.get_mut(name) {
                    Some(stored) => *stored = count,
                    None => {
                        state.current.counts.insert(name.clone(), count);
                    }
                }
            }
            if durable {
                state.recorded = state.current.clone();
                state.dirty = false;
                Some(state.recorded.clone())
            } else {
                state.dirty = true;
                None
            }
        });
        if durable {
            self.backend.db().flush().map_err(map_sled_error)?;
            if let (Some(tracking), Some(recorded)) = (tracking, recorded) {
                tracking.record(&recorded)?;
            }
        }
        Ok(())
    }

    fn abort(self) -> Result<()> {
        Ok(())
    }
}

/// A table in a write transaction. Reads see the transaction's own writes merged over the
/// committed tree.
pub struct SledWriteTable<'t> {
    txn: &'t SledWriteTxn<'t>,
    name: String,
    state: TableState,
}

impl fmt::Debug for SledWriteTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledWriteTable")
            .field("name", &self.name)
            .field("buffered_writes", &self.state.writes.len())
            .field("cleared", &self.state.cleared)
            .finish_non_exhaustive()
    }
}

impl Drop for SledWriteTable<'_> {
    fn drop(&mut self) {
        let state = std::mem::take(&mut self.state);
        self.txn
            .tables
            .borrow_mut()
            .insert(std::mem::take(&mut self.name), Slot::Closed(state));
    }
}

impl ReadTable for SledWriteTable<'_> {
    type Guard<'g>
        = SledGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = SledRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<SledGuard<'_>>> {
        match self.state.writes.get(key) {
            Some(Some(value)) => Ok(Some(SledGuard::borrowed(value))),
            Some(None) => Ok(None),
            None => match self.state.visible_tree() {
                Some(tree) => Ok(tree
                    .get(key)
                    .map_err(map_sled_error)?
                    .map(SledGuard::shared)),
                None => Ok(None),
            },
        }
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<SledRange<'_>> {
        if is_empty_range(lower, upper) {
            return Ok(SledRange::empty());
        }
        let tree = self
            .state
            .visible_tree()
            .map(|tree| tree_range(tree, lower, upper));
        let buffer = self.state.writes.range::<[u8], _>((lower, upper));
        Ok(SledRange::new(tree, Some(buffer), direction))
    }

    fn len(&self) -> Result<u64> {
        if self.state.writes.is_empty() {
            return match self.state.visible_tree() {
                Some(tree) => tree_len(tree),
                None => Ok(0),
            };
        }
        let mut n = 0;
        for item in self.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            item?;
            n += 1;
        }
        Ok(n)
    }
}

impl WriteTable for SledWriteTable<'_> {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        match self.state.writes.get_mut(key) {
            Some(slot) => *slot = Some(value.to_vec()),
            None => {
                self.state.writes.insert(key.to_vec(), Some(value.to_vec()));
            }
        }
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let present = match self.state.writes.get_mut(key) {
            Some(slot) => slot.take().is_some(),
            None => {
                let present = match self.state.visible_tree() {
                    Some(tree) => tree.contains_key(key).map_err(map_sled_error)?,
                    None => false,
                };
                if present {
                    self.state.writes.insert(key.to_vec(), None);
                }
                present
            }
        };
        Ok(present)
    }

    fn clear(&mut self) -> Result<()> {
        self.state.writes.clear();
        self.state.cleared = true;
        Ok(())
    }
}
