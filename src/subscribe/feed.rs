//! The store-level feed: subscriber slots, the publish lock and the per-transaction capture.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError};

use super::Msg;
use crate::error::Result;

/// The locks of the feed: std's, or loom's when model-checking (`--cfg loom`), so loom
/// explores the interleavings of backend commit and publish.
mod sync {
    #[cfg(loom)]
    pub(crate) use loom::sync::{Mutex, MutexGuard};
    #[cfg(not(loom))]
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

use sync::{Mutex, MutexGuard};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while publishing leaves consistent data (slots are only pushed or retained).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One change as captured in a write transaction: the model's table, the encoded primary
/// key and the archive bytes before and after (each held once, shared by every subscriber).
pub(crate) struct RawChange {
    pub(crate) table: &'static str,
    pub(crate) key: Box<[u8]>,
    pub(crate) old: Option<Arc<[u8]>>,
    pub(crate) new: Option<Arc<[u8]>>,
}

/// The changes a write transaction made, in order (only when it began with subscribers).
pub(crate) type Capture = RefCell<Vec<RawChange>>;

/// Which changes a slot wants: the model's table, then a filter on the change.
pub(crate) type Matcher = Box<dyn Fn(&RawChange) -> bool + Send + Sync>;

struct Slot {
    table: &'static str,
    matches: Matcher,
    tx: flume::Sender<Msg>,
    /// Changes in the queue, at most; the channel holds one more for the lag marker.
    capacity: usize,
    /// Dropped changes not yet reported; non-zero exactly while a lag marker is queued.
    missed: Arc<AtomicU64>,
}

impl Slot {
    /// Queues `change` or counts it as missed. `false` when the subscriber is gone.
    ///
    /// Publishing is serialised (one producer per slot at a time). The invariant: while
    /// `missed` is non-zero a marker is queued and no change is queued after it, so the
    /// receiver sees every change before the gap, then `Lagged`, then later changes.
    fn offer(&self, seq: u64, change: &Arc<RawChange>) -> bool {
        // Gap open: count into it, atomically with the receiver taking the count.
        let counted = self
            .missed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |m| {
                (m > 0).then(|| m.saturating_add(1))
            })
            .is_ok();
        if counted {
            return !self.tx.is_disconnected();
        }
        if self.tx.len() >= self.capacity {
            // Open a gap: the marker takes the reserved slot (at most one marker is queued).
            self.missed.store(1, Ordering::Release);
            return self.tx.try_send(Msg::Lagged).is_ok();
        }
        self.tx
            .try_send(Msg::Change(seq, Arc::clone(change)))
            .is_ok()
    }
}

/// A store's change feed.
pub(crate) struct Feed {
    /// How many subscribers there are: read with one relaxed load per write transaction.
    active: AtomicUsize,
    /// The commit sequence of the last published transaction. Held from before the
    /// backend commit until after the publish, so feed order is commit order.
    publish: Mutex<u64>,
    slots: Mutex<Vec<Slot>>,
    /// Model-checking knob: publish without holding the lock across the backend commit.
    #[cfg(loom)]
    weakened: std::sync::atomic::AtomicBool,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            active: AtomicUsize::new(0),
            publish: Mutex::new(0),
            slots: Mutex::new(Vec::new()),
            #[cfg(loom)]
            weakened: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Feed {
    /// Whether a write transaction beginning now must capture its changes.
    #[inline]
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }

    /// Adds a subscriber to `table`'s changes that pass `matches`.
    pub(crate) fn subscribe(
        &self,
        table: &'static str,
        matches: Matcher,
        capacity: usize,
    ) -> (flume::Receiver<Msg>, Arc<AtomicU64>) {
        let capacity = capacity.max(1);
        let (tx, rx) = flume::bounded(capacity + 1);
        let missed = Arc::new(AtomicU64::new(0));
        let mut slots = lock(&self.slots);
        slots.push(Slot {
            table,
            matches,
            tx,
            capacity,
            missed: Arc::clone(&missed),
        });
        self.active.store(slots.len(), Ordering::Relaxed);
        (rx, missed)
    }

    /// Runs the backend `commit` and, when it succeeds, publishes `changes`, so that the
    /// publishes of successive transactions happen in their commit order.
    pub(crate) fn commit_and_publish(
        &self,
        changes: Vec<RawChange>,
        commit: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        #[cfg(loom)]
        if self.weakened.load(Ordering::Relaxed) {
            commit()?;
            let mut seq = lock(&self.publish);
            *seq += 1;
            self.deliver(*seq, changes);
            return Ok(());
        }
        let mut seq = lock(&self.publish);
        commit()?;
        *seq += 1;
        self.deliver(*seq, changes);
        Ok(())
    }

    fn deliver(&self, seq: u64, changes: Vec<RawChange>) {
        let changes: Vec<Arc<RawChange>> = changes.into_iter().map(Arc::new).collect();
        let mut slots = lock(&self.slots);
        slots.retain(|slot| {
            changes
                .iter()
                .filter(|c| c.table == slot.table && (slot.matches)(c))
                .all(|c| slot.offer(seq, c))
                && !slot.tx.is_disconnected()
        });
        self.active.store(slots.len(), Ordering::Relaxed);
    }

    /// Model-checking knob (loom builds only): take the publish lock only after the
    /// backend commit, the ordering bug the loom model must catch.
    #[cfg(loom)]
    pub(crate) fn weaken_ordering(&self) {
        self.weakened.store(true, Ordering::Relaxed);
    }
}
