//! Change subscriptions: a typed, zero-copy, post-commit, bounded change feed.
//!
//! [`Store::subscribe`](crate::Store::subscribe) (or
//! [`Store::subscription`](crate::Store::subscription) for a filtered or sized one) hands
//! back a [`Subscription`] that yields every change committed to one model after it was
//! made: inserts, updates (old and new record) and removals, in commit order.
//!
//! How it works:
//!
//! * **Free when unused.** A write transaction reads the store's subscriber count once, with
//!   a relaxed atomic load, when it begins. With no subscriber it captures nothing and its
//!   commit takes no lock beyond the backend's own. A subscriber sees the write transactions
//!   that begin after [`subscribe`](crate::Store::subscribe) returns.
//! * **Post-commit, in commit order.** A capturing transaction takes the store's publish lock
//!   *before* the backend commit and releases it after the publish, so the publish of
//!   transaction N happens before the publish of N+1 although the backend's writer lock is
//!   released at commit. A failed or aborted commit publishes nothing.
//! * **Zero-copy.** Each change holds the committed archive bytes once, in an `Arc<[u8]>`
//!   shared by every subscriber (the archive format has alignment 1, so any address reads).
//!   An event validates them (bytecheck) and derefs to the model's archive.
//! * **Bounded.** Every subscriber has its own queue of `capacity` changes (a
//!   [flume](https://docs.rs/flume) channel, plus one slot for a lag marker). A writer never
//!   waits for a subscriber: when the queue is full the change is dropped for that
//!   subscriber and counted, and the subscriber receives [`Event::Lagged`] with the count
//!   right after the changes it did receive, then the changes committed after it caught up.
//!   It can resynchronise by re-reading what it follows.
//! * **Filters** (primary-key range, secondary-key value or range) are applied at publish,
//!   so a subscriber is sent (and its lag counts) only matching changes. An update is
//!   delivered when the old *or* the new record matches: a subscriber sees a record leave
//!   its range (an update whose new record does not match) as well as enter it.

mod feed;
mod filter;

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

pub(crate) use feed::{Capture, Feed, RawChange};
pub use filter::SubscriptionBuilder;

use crate::error::Result;
use crate::guard::Ref;
use crate::traits::model::NetabaseModelTrait;

/// The default queue length of a subscription, in changes.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What one subscriber's queue carries.
pub(crate) enum Msg {
    /// A committed change, with its transaction's commit sequence number.
    Change(u64, Arc<RawChange>),
    /// Changes were dropped after the ones before this marker; the count is in `missed`.
    Lagged,
}

/// One item of a [`Subscription`].
pub enum Event<M: NetabaseModelTrait> {
    /// A committed change of one record.
    Change(Change<M>),
    /// The subscriber fell behind: `missed` matching changes, committed after the changes
    /// received so far, were dropped for it. Re-read what you follow to resynchronise;
    /// the changes that follow this item were committed after the missed ones.
    Lagged {
        /// How many changes were dropped.
        missed: u64,
    },
}

impl<M: NetabaseModelTrait> fmt::Debug for Event<M>
where
    M::Archived: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Change(c) => f.debug_tuple("Change").field(c).finish(),
            Event::Lagged { missed } => f.debug_struct("Lagged").field("missed", missed).finish(),
        }
    }
}

/// What a [`Change`] did to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A record was stored under a new primary key.
    Inserted,
    /// A stored record was replaced.
    Updated,
    /// A record was removed (by `remove`, `delete` or `clear`).
    Removed,
}

/// The records of a change, each validated once.
enum Records<M: NetabaseModelTrait> {
    Inserted(Ref<M, Arc<[u8]>>),
    Updated {
        old: Ref<M, Arc<[u8]>>,
        new: Ref<M, Arc<[u8]>>,
    },
    Removed(Ref<M, Arc<[u8]>>),
}

/// One committed change of a record of model `M`.
///
/// It derefs to the archived record as it is after the change (for a removal: the removed
/// record), read in place from bytes shared with every other subscriber.
/// [`deserialize`](Change::deserialize) gives an owned model.
pub struct Change<M: NetabaseModelTrait> {
    seq: u64,
    key: Arc<RawChange>,
    records: Records<M>,
}

impl<M: NetabaseModelTrait> Change<M> {
    fn new(seq: u64, raw: Arc<RawChange>) -> Result<Self> {
        let table = M::INFO.table;
        let valid = |bytes: &Arc<[u8]>| Ref::<M, _>::new(Arc::clone(bytes), table, &*raw.key);
        let records = match (&raw.old, &raw.new) {
            (None, Some(new)) => Records::Inserted(valid(new)?),
            (Some(old), Some(new)) => Records::Updated {
                old: valid(old)?,
                new: valid(new)?,
            },
            (Some(old), None) => Records::Removed(valid(old)?),
            (None, None) => {
                return Err(crate::NetabaseError::Corrupt {
                    table,
                    key: raw.key.to_vec(),
                    reason: "a change with neither an old nor a new record".into(),
                });
            }
        };
        Ok(Change {
            seq,
            key: raw,
            records,
        })
    }

    /// The commit sequence number of the transaction that made this change: it grows with
    /// every transaction the store publishes (changes of one transaction share it).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether the record was inserted, updated or removed.
    pub fn kind(&self) -> ChangeKind {
        match self.records {
            Records::Inserted(_) => ChangeKind::Inserted,
            Records::Updated { .. } => ChangeKind::Updated,
            Records::Removed(_) => ChangeKind::Removed,
        }
    }

    /// The record before the change (`None` for an insert).
    pub fn old(&self) -> Option<&M::Archived> {
        match &self.records {
            Records::Inserted(_) => None,
            Records::Updated { old, .. } | Records::Removed(old) => Some(old),
        }
    }

    /// The record after the change (`None` for a removal).
    pub fn new_record(&self) -> Option<&M::Archived> {
        match &self.records {
            Records::Inserted(new) | Records::Updated { new, .. } => Some(new),
            Records::Removed(_) => None,
        }
    }

    /// The encoded primary key of the changed record.
    pub fn key_bytes(&self) -> &[u8] {
        &self.key.key
    }

    /// The committed archive bytes after the change (for a removal: before it), shared by
    /// every subscriber.
    pub fn as_bytes(&self) -> &[u8] {
        self.current().as_bytes()
    }

    /// Deserializes the record after the change (for a removal: the removed record).
    pub fn deserialize(&self) -> Result<M> {
        self.current().deserialize()
    }

    /// Deserializes the record before the change (`None` for an insert).
    pub fn deserialize_old(&self) -> Result<Option<M>> {
        match &self.records {
            Records::Inserted(_) => Ok(None),
            Records::Updated { old, .. } | Records::Removed(old) => old.deserialize().map(Some),
        }
    }

    fn current(&self) -> &Ref<M, Arc<[u8]>> {
        match &self.records {
            Records::Inserted(r) | Records::Updated { new: r, .. } | Records::Removed(r) => r,
        }
    }
}

impl<M: NetabaseModelTrait> Deref for Change<M> {
    type Target = M::Archived;

    fn deref(&self) -> &M::Archived {
        self.current()
    }
}

impl<M: NetabaseModelTrait> fmt::Debug for Change<M>
where
    M::Archived: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Change")
            .field("seq", &self.seq)
            .field("kind", &self.kind())
            .field("old", &self.old())
            .field("new", &self.new_record())
            .finish()
    }
}

/// A subscriber's end of the change feed of model `M`. See the [module docs](self).
///
/// Receive with [`recv`](Self::recv) (blocking), [`try_recv`](Self::try_recv),
/// [`recv_timeout`](Self::recv_timeout), as a blocking iterator, or as a
/// [`futures_core::Stream`] ([`into_stream`](Self::into_stream)). Receiving ends (`None`)
/// when the store is dropped and every queued change was received. Dropping the
/// subscription unsubscribes it.
pub struct Subscription<M: NetabaseModelTrait> {
    rx: flume::Receiver<Msg>,
    missed: Arc<AtomicU64>,
    _model: PhantomData<fn() -> M>,
}

impl<M: NetabaseModelTrait> Subscription<M> {
    pub(crate) fn new(rx: flume::Receiver<Msg>, missed: Arc<AtomicU64>) -> Self {
        Subscription {
            rx,
            missed,
            _model: PhantomData,
        }
    }

    fn event(&self, msg: Msg) -> Result<Event<M>> {
        to_event(&self.missed, msg)
    }

    /// The next event, waiting for it; `None` once the store is gone and the queue empty.
    /// A record that fails validation is a [`Corrupt`](crate::NetabaseError::Corrupt) error.
    pub fn recv(&self) -> Option<Result<Event<M>>> {
        self.rx.recv().ok().map(|m| self.event(m))
    }

    /// The next event if one is queued, without waiting.
    pub fn try_recv(&self) -> Option<Result<Event<M>>> {
        self.rx.try_recv().ok().map(|m| self.event(m))
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Result<Event<M>>> {
        self.rx.recv_timeout(timeout).ok().map(|m| self.event(m))
    }

    /// How many items are queued now.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no item is queued now.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// A blocking iterator over the events (the same as `for e in &subscription`).
    pub fn iter(&self) -> Iter<'_, M> {
        Iter { sub: self }
    }

    /// An async [`Stream`] of the events, for any executor.
    pub fn into_stream(self) -> SubscriptionStream<M> {
        SubscriptionStream {
            inner: self.rx.into_stream(),
            missed: self.missed,
            _model: PhantomData,
        }
    }
}

fn to_event<M: NetabaseModelTrait>(missed: &AtomicU64, msg: Msg) -> Result<Event<M>> {
    match msg {
        Msg::Change(seq, raw) => Change::new(seq, raw).map(Event::Change),
        // The marker closes the gap: the publisher counts into `missed` only while it is
        // non-zero (see `feed::Slot::offer`), so taking it here loses no count.
        Msg::Lagged => Ok(Event::Lagged {
            missed: missed.swap(0, Ordering::AcqRel),
        }),
    }
}

/// The blocking iterator of a [`Subscription`].
pub struct Iter<'s, M: NetabaseModelTrait> {
    sub: &'s Subscription<M>,
}

impl<M: NetabaseModelTrait> Iterator for Iter<'_, M> {
    type Item = Result<Event<M>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.sub.recv()
    }
}

impl<'s, M: NetabaseModelTrait> IntoIterator for &'s Subscription<M> {
    type Item = Result<Event<M>>;
    type IntoIter = Iter<'s, M>;

    fn into_iter(self) -> Iter<'s, M> {
        self.iter()
    }
}

/// A [`Subscription`] as an async [`Stream`], from [`Subscription::into_stream`].
pub struct SubscriptionStream<M: NetabaseModelTrait> {
    inner: flume::r#async::RecvStream<'static, Msg>,
    missed: Arc<AtomicU64>,
    _model: PhantomData<fn() -> M>,
}

impl<M: NetabaseModelTrait> Stream for SubscriptionStream<M> {
    type Item = Result<Event<M>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(msg)) => Poll::Ready(Some(to_event(&this.missed, msg))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
