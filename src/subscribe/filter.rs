//! Filtered subscriptions: [`SubscriptionBuilder`].

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::{Bound, RangeBounds};

use super::feed::{Feed, Matcher, RawChange};
use super::{DEFAULT_CAPACITY, Subscription};
use crate::index::IndexEntries;
use crate::key::Key;
use crate::traits::model::{NetabaseModelTrait, SecondaryKey};

/// Builds a [`Subscription`]: filters and queue length. From
/// [`Store::subscription`](crate::Store::subscription).
///
/// With several filters a change must pass all of them. An update passes a filter when its
/// old record or its new record does.
#[must_use = "a builder subscribes nothing until `subscribe` is called"]
pub struct SubscriptionBuilder<'s, M: NetabaseModelTrait> {
    feed: &'s Feed,
    capacity: usize,
    filters: Vec<Matcher>,
    _model: PhantomData<fn() -> M>,
}

/// Encodes a bound on a key into owned bytes, `head` first.
fn encode_bound<K: Key, Q: Borrow<K>>(bound: Bound<&Q>, head: &[u8]) -> Bound<Vec<u8>> {
    let enc = |k: &Q| {
        let mut out = head.to_vec();
        k.borrow().encode_key(&mut out);
        out
    };
    match bound {
        Bound::Included(k) => Bound::Included(enc(k)),
        Bound::Excluded(k) => Bound::Excluded(enc(k)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn within(bytes: &[u8], lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    let above = match lower {
        Bound::Included(l) => bytes >= l.as_slice(),
        Bound::Excluded(l) => bytes > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => bytes <= u.as_slice(),
        Bound::Excluded(u) => bytes < u.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

impl<'s, M: NetabaseModelTrait> SubscriptionBuilder<'s, M> {
    pub(crate) fn new(feed: &'s Feed) -> Self {
        SubscriptionBuilder {
            feed,
            capacity: DEFAULT_CAPACITY,
            filters: Vec::new(),
            _model: PhantomData,
        }
    }

    /// How many changes may wait in the queue before later ones are dropped (and reported
    /// as [`Lagged`](super::Event::Lagged)); at least 1. Default: [`DEFAULT_CAPACITY`].
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Only changes of records whose primary key lies in `range`.
    pub fn range<Q, R>(mut self, range: R) -> Self
    where
        Q: Borrow<M::PrimaryKey>,
        R: RangeBounds<Q>,
    {
        let lower = encode_bound::<M::PrimaryKey, Q>(range.start_bound(), &[]);
        let upper = encode_bound::<M::PrimaryKey, Q>(range.end_bound(), &[]);
        self.filters.push(Box::new(move |c: &RawChange| {
            within(&c.key, &lower, &upper)
        }));
        self
    }

    /// Only changes of records whose secondary key `K` (`UserEmailSecondaryKey`) equals
    /// `value` (before or after the change).
    pub fn secondary_eq<K: SecondaryKey<M>>(self, value: impl Borrow<K>) -> Self {
        let value = value.borrow();
        self.secondary_range::<K, &K, _>((Bound::Included(value), Bound::Included(value)))
    }

    /// Only changes of records whose secondary key `K` lies in `range` (before or after
    /// the change).
    pub fn secondary_range<K, Q, R>(mut self, range: R) -> Self
    where
        K: SecondaryKey<M>,
        Q: Borrow<K>,
        R: RangeBounds<Q>,
    {
        let head = [K::TAG];
        let lower = encode_bound::<K, Q>(range.start_bound(), &head);
        let upper = encode_bound::<K, Q>(range.end_bound(), &head);
        self.filters.push(Box::new(move |c: &RawChange| {
            let side = |bytes: &Option<std::sync::Arc<[u8]>>| {
                bytes
                    .as_deref()
                    .is_some_and(|b| has_entry_in::<M>(&c.key, b, K::TAG, &lower, &upper))
            };
            side(&c.old) || side(&c.new)
        }));
        self
    }

    /// Subscribes: the subscription sees every write transaction that begins from now on.
    pub fn subscribe(self) -> Subscription<M> {
        let filters = self.filters;
        let matches: Matcher = Box::new(move |c| filters.iter().all(|f| f(c)));
        let (rx, missed) = self.feed.subscribe(M::INFO.table, matches, self.capacity);
        Subscription::new(rx, missed)
    }
}

/// Whether the archived record `bytes` has an index entry of key `tag` whose prefix lies
/// in the bounds. A record that fails validation matches, so the subscriber receives it
/// and gets the [`Corrupt`](crate::NetabaseError::Corrupt) error instead of losing it.
fn has_entry_in<M: NetabaseModelTrait>(
    primary_key: &[u8],
    bytes: &[u8],
    tag: u8,
    lower: &Bound<Vec<u8>>,
    upper: &Bound<Vec<u8>>,
) -> bool {
    let Ok(archived) = rkyv::access::<M::Archived, rkyv::rancor::Error>(bytes) else {
        return true;
    };
    let mut entries = IndexEntries::new();
    entries.reset(primary_key);
    M::archived_index_entries(archived, &mut entries);
    entries.iter().any(|e| {
        let prefix = e.prefix();
        prefix.first() == Some(&tag) && within(prefix, lower, upper)
    })
}
