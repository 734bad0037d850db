//! Queries against a `BTreeMap` model, on the memory backend and on redb (in memory).
//!
//! A store is filled with arbitrary records; then arbitrary primary and secondary queries
//! (ranges with every bound kind, prefixes, exact values; forward or reverse; with a limit)
//! must return exactly the model's records in the model's order, `count` must agree, and
//! cursor pagination with any page size must return exactly the unpaginated result.
//! Secondary entries are ordered by `(value, primary key)`, as docs/format.md says.
#![no_main]

use std::fmt::Debug;
use std::ops::Bound;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netabase_store::backend::{Backend, ReadTable};
use netabase_store::key::{StrPrefix, key_bytes};
use netabase_store::traits::model::SecondaryKey;
use netabase_store::{Cursor, NetabaseError, SecondaryQuery, Store, Tree};
use netabase_store_fuzz::*;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ABound {
    Included(Bounded<8>),
    Excluded(Bounded<8>),
    Unbounded,
}

impl ABound {
    fn map<V>(self, f: impl Fn(usize) -> V) -> Bound<V> {
        match self {
            ABound::Included(i) => Bound::Included(f(i.get())),
            ABound::Excluded(i) => Bound::Excluded(f(i.get())),
            ABound::Unbounded => Bound::Unbounded,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Mode {
    Range(ABound, ABound),
    Prefix(Bounded<8>),
    Equal(Bounded<8>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Which {
    Primary,
    Owner,
    Handle,
    Label,
    Tags,
    Slug,
    OwnerRank,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Query {
    which: Which,
    mode: Mode,
    rev: bool,
    limit: Option<Bounded<6>>,
    /// Page size minus one, for the paginated run.
    page: Bounded<4>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    records: SmallVec<(Bounded<IDS>, Spec), 8>,
    queries: SmallVec<Query, 8>,
}

/// Text prefixes: every string of the universe and one that no value has.
const STR_PREFIXES: [&str; 6] = ["", "a", "a\0", "ab", "\u{ff}", "b"];
/// Prefixes of the text half of primary keys (`""` and `"k\0"` are stored).
const PK_PREFIXES: [&str; 4] = ["", "k", "k\0", "x"];

fn in_bounds<V: Ord>(v: &V, lo: &Bound<V>, hi: &Bound<V>) -> bool {
    (match lo {
        Bound::Included(l) => v >= l,
        Bound::Excluded(l) => v > l,
        Bound::Unbounded => true,
    }) && (match hi {
        Bound::Included(h) => v <= h,
        Bound::Excluded(h) => v < h,
        Bound::Unbounded => true,
    })
}

/// A secondary key the target queries, with its values and prefixes.
trait QKey: SecondaryKey<Item> + Ord + Clone + Debug {
    /// Candidate values (stored or not), by index.
    fn value(i: usize) -> Self;
    /// The distinct values `item` holds.
    fn of(item: &Item) -> Vec<Self>;
    /// Applies prefix number `i`.
    fn prefix<'a, 't, T: ReadTable>(
        q: SecondaryQuery<'a, 't, Item, T, Self>,
        i: usize,
    ) -> SecondaryQuery<'a, 't, Item, T, Self>;
    /// Whether `self` starts with prefix number `i`.
    fn has_prefix(&self, i: usize) -> bool;
}

macro_rules! string_key {
    ($k:ident, |$item:ident| $of:expr) => {
        impl QKey for $k {
            fn value(i: usize) -> Self {
                $k(STR_PREFIXES[i % STR_PREFIXES.len()].to_string())
            }
            fn of($item: &Item) -> Vec<Self> {
                let mut v: Vec<Self> = $of.into_iter().map(|s: &String| $k(s.clone())).collect();
                v.sort();
                v.dedup();
                v
            }
            fn prefix<'a, 't, T: ReadTable>(
                q: SecondaryQuery<'a, 't, Item, T, Self>,
                i: usize,
            ) -> SecondaryQuery<'a, 't, Item, T, Self> {
                q.prefix(StrPrefix(STR_PREFIXES[i % STR_PREFIXES.len()]))
            }
            fn has_prefix(&self, i: usize) -> bool {
                self.0.starts_with(STR_PREFIXES[i % STR_PREFIXES.len()])
            }
        }
    };
}

string_key!(ItemHandleSecondaryKey, |item| [&item.handle]);
string_key!(ItemLabelSecondaryKey, |item| item.label.iter());
string_key!(ItemTagsSecondaryKey, |item| item.tags.iter());
string_key!(ItemSlugSecondaryKey, |item| item.slug.iter());

impl QKey for ItemOwnerSecondaryKey {
    fn value(i: usize) -> Self {
        ItemOwnerSecondaryKey(i as u8 % (OWNERS + 1))
    }
    fn of(item: &Item) -> Vec<Self> {
        vec![ItemOwnerSecondaryKey(item.owner)]
    }
    fn prefix<'a, 't, T: ReadTable>(
        q: SecondaryQuery<'a, 't, Item, T, Self>,
        i: usize,
    ) -> SecondaryQuery<'a, 't, Item, T, Self> {
        q.prefix(Self::value(i).0)
    }
    fn has_prefix(&self, i: usize) -> bool {
        *self == Self::value(i)
    }
}

impl QKey for ItemOwnerRankSecondaryKey {
    fn value(i: usize) -> Self {
        ItemOwnerRankSecondaryKey(((i / 3) as u8 % (OWNERS + 1), RANKS[i % 3]))
    }
    fn of(item: &Item) -> Vec<Self> {
        vec![ItemOwnerRankSecondaryKey((item.owner, item.rank))]
    }
    fn prefix<'a, 't, T: ReadTable>(
        q: SecondaryQuery<'a, 't, Item, T, Self>,
        i: usize,
    ) -> SecondaryQuery<'a, 't, Item, T, Self> {
        q.prefix((i as u8 % (OWNERS + 1),))
    }
    fn has_prefix(&self, i: usize) -> bool {
        self.0.0 == i as u8 % (OWNERS + 1)
    }
}

/// Collects query results as owned items.
fn items<I: Iterator<Item = netabase_store::Result<R>>, R>(
    it: I,
    f: impl Fn(&R) -> Item,
) -> Vec<Item> {
    it.map(|r| f(&r.expect("query item"))).collect()
}

fn check_secondary<K: QKey, T: ReadTable>(tree: &Tree<'_, Item, T>, records: &Records, q: &Query) {
    // The model: one entry per (distinct value, record), in (enc(value), enc(pk)) order.
    let mut entries: Vec<(K, &Item)> = records
        .values()
        .flat_map(|item| K::of(item).into_iter().map(move |k| (k, item)))
        .collect();
    entries.sort_by_key(|(k, item)| (key_bytes(k), key_bytes(&item.id)));
    let keep = |k: &K| match q.mode {
        Mode::Range(lo, hi) => in_bounds(k, &lo.map(K::value), &hi.map(K::value)),
        Mode::Prefix(i) => k.has_prefix(i.get()),
        Mode::Equal(i) => *k == K::value(i.get()),
    };
    let mut want: Vec<Item> = entries
        .into_iter()
        .filter(|(k, _)| keep(k))
        .map(|(_, item)| item.clone())
        .collect();
    if q.rev {
        want.reverse();
    }
    let build = || {
        let mut s = tree.query_by::<K>();
        s = match q.mode {
            Mode::Range(lo, hi) => s.range((lo.map(K::value), hi.map(K::value))),
            Mode::Prefix(i) => K::prefix(s, i.get()),
            Mode::Equal(i) => s.equal(K::value(i.get())),
        };
        if q.rev { s.rev() } else { s }
    };
    let deser = |r: &netabase_store::TreeRef<'_, Item, T>| r.deserialize().expect("deserialize");

    // Paginated, unlimited: exactly the whole result.
    let size = q.page.get() + 1;
    let mut paged = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..=want.len() + 1 {
        let mut s = build().limit(size);
        if let Some(c) = &cursor {
            s = s.after(c);
        }
        let page = s.page().expect("page");
        assert!(page.items.len() <= size);
        if page.next.is_some() {
            assert_eq!(page.items.len(), size, "a non-final page is full");
        }
        paged.extend(page.items.iter().map(deser));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "pagination did not end");
    assert_eq!(paged, want, "pages of {q:?}");

    // Limited iteration and count.
    if let Some(l) = q.limit {
        want.truncate(l.get());
    }
    let s = match q.limit {
        Some(l) => build().limit(l.get()),
        None => build(),
    };
    assert_eq!(items(s.iter().expect("iter"), deser), want, "{q:?}");
    let s = match q.limit {
        Some(l) => build().limit(l.get()),
        None => build(),
    };
    assert_eq!(s.count().expect("count"), want.len() as u64, "count {q:?}");
}

fn check_primary<T: ReadTable>(tree: &Tree<'_, Item, T>, records: &Records, q: &Query) {
    let pk_of = |i: usize| ItemPrimaryKey(pk(i as u8));
    let mut want: Vec<Item> = holders(records, |item| match q.mode {
        Mode::Range(lo, hi) => in_bounds(
            &key_bytes(&item.id),
            &lo.map(|i| key_bytes(&pk(i as u8))),
            &hi.map(|i| key_bytes(&pk(i as u8))),
        ),
        // Odd: a `(u16,)` head; even: `(u16, StrPrefix(..))`.
        Mode::Prefix(i) if i.0 % 2 == 1 => item.id.0 == pk(i.0).0,
        Mode::Prefix(i) => {
            item.id.0 == pk(i.0).0 && item.id.1.starts_with(PK_PREFIXES[i.get() % 4])
        }
        Mode::Equal(i) => item.id == pk(i.0),
    })
    .into_iter()
    .cloned()
    .collect();
    if q.rev {
        want.reverse();
    }
    let build = || {
        let s = tree.query();
        let s = match q.mode {
            Mode::Range(lo, hi) => s.range((lo.map(pk_of), hi.map(pk_of))),
            Mode::Prefix(i) if i.0 % 2 == 1 => s.prefix((pk(i.0).0,)),
            Mode::Prefix(i) => s.prefix((pk(i.0).0, StrPrefix(PK_PREFIXES[i.get() % 4]))),
            Mode::Equal(i) => s.range(pk_of(i.get())..=pk_of(i.get())),
        };
        if q.rev { s.rev() } else { s }
    };
    let deser = |r: &netabase_store::TreeRef<'_, Item, T>| r.deserialize().expect("deserialize");

    let size = q.page.get() + 1;
    let mut paged = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..=want.len() + 1 {
        let mut s = build().limit(size);
        if let Some(c) = &cursor {
            s = s.after(c);
        }
        let page = s.page().expect("page");
        if page.next.is_some() {
            assert_eq!(page.items.len(), size, "a non-final page is full");
        }
        paged.extend(page.items.iter().map(deser));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "pagination did not end");
    assert_eq!(paged, want, "pages of {q:?}");

    if let Some(l) = q.limit {
        want.truncate(l.get());
    }
    let s = match q.limit {
        Some(l) => build().limit(l.get()),
        None => build(),
    };
    assert_eq!(items(s.iter().expect("iter"), deser), want, "{q:?}");
    let s = match q.limit {
        Some(l) => build().limit(l.get()),
        None => build(),
    };
    assert_eq!(s.count().expect("count"), want.len() as u64, "count {q:?}");
}

fn run<B: Backend>(db: &Store<FuzzDefinition, B>, input: &Input) {
    let mut records = Records::new();
    let w = db.write().expect("begin write");
    {
        let mut tree = w.open_tree::<Item>().expect("open");
        // The redb store is shared by every input: start empty, in the same transaction.
        tree.clear().expect("clear");
        for (id, spec) in &input.records.0 {
            let item = spec.item(id.0);
            match tree.put(&item) {
                Ok(()) => {
                    records.insert(id.0, item);
                }
                Err(NetabaseError::UniqueViolation { .. }) => {
                    assert!(unique_clash(&records, &item).is_some());
                }
                Err(e) => panic!("put: {e:?}"),
            }
        }
    }
    w.commit().expect("commit");
    let r = db.read().expect("begin read");
    let tree = r.open_tree::<Item>().expect("open");
    for q in &input.queries.0 {
        match q.which {
            Which::Primary => check_primary(&tree, &records, q),
            Which::Owner => check_secondary::<ItemOwnerSecondaryKey, _>(&tree, &records, q),
            Which::Handle => check_secondary::<ItemHandleSecondaryKey, _>(&tree, &records, q),
            Which::Label => check_secondary::<ItemLabelSecondaryKey, _>(&tree, &records, q),
            Which::Tags => check_secondary::<ItemTagsSecondaryKey, _>(&tree, &records, q),
            Which::Slug => check_secondary::<ItemSlugSecondaryKey, _>(&tree, &records, q),
            Which::OwnerRank => check_secondary::<ItemOwnerRankSecondaryKey, _>(&tree, &records, q),
        }
    }
}

fuzz_target!(|input: Input| {
    run(
        &Store::<FuzzDefinition, _>::memory().expect("memory store"),
        &input,
    );
    run(redb_store(), &input);
});
