//! Property tests of queries against a `BTreeMap` model: primary and secondary ranges with
//! every bound kind, in both directions, with limits; prefixes; and cursor pagination that
//! stays exact while records are inserted and removed between pages.
mod common;
use common::*;

use std::collections::BTreeMap;
use std::ops::Bound;

use netabase_store::backend::Backend;
use netabase_store::key::StrPrefix;
use netabase_store::{Cursor, Store};
use proptest::prelude::*;

fn bound() -> impl Strategy<Value = Bound<u8>> {
    prop_oneof![
        (0u8..12).prop_map(Bound::Included),
        (0u8..12).prop_map(Bound::Excluded),
        Just(Bound::Unbounded),
    ]
}

fn in_range(v: u8, lo: Bound<u8>, hi: Bound<u8>) -> bool {
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

fn seed<B: Backend>(store: &Store<BlogDefinition, B>, ages: &BTreeMap<u64, u8>) {
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<User>().unwrap();
        for (&id, &age) in ages {
            t.put(user(id, &format!("{}@x", id % 3), age)).unwrap();
        }
    }
    txn.commit().unwrap();
}

fn check_ranges<B: Backend>(
    store: &Store<BlogDefinition, B>,
    ages: &BTreeMap<u64, u8>,
    (lo, hi, rev, limit): RangeQuery,
) {
    let txn = store.read().unwrap();
    let t = txn.open_tree::<User>().unwrap();
    let limit_or_all = limit.unwrap_or(usize::MAX);

    // Primary range (ids are u64; reuse the u8 bounds).
    let id = |b: Bound<u8>| b.map(|v| UserPrimaryKey(u64::from(v) * 10));
    let mut want: Vec<u64> = ages
        .keys()
        .copied()
        .filter(|&k| {
            let lo_ok = match id(lo) {
                Bound::Included(l) => k >= l.0,
                Bound::Excluded(l) => k > l.0,
                Bound::Unbounded => true,
            };
            let hi_ok = match id(hi) {
                Bound::Included(h) => k <= h.0,
                Bound::Excluded(h) => k < h.0,
                Bound::Unbounded => true,
            };
            lo_ok && hi_ok
        })
        .collect();
    if rev {
        want.reverse();
    }
    want.truncate(limit_or_all);
    let mut q = t.query().range((id(lo), id(hi)));
    if rev {
        q = q.rev();
    }
    if let Some(n) = limit {
        q = q.limit(n);
    }
    let got: Vec<u64> = q
        .iter()
        .unwrap()
        .map(|r| r.unwrap().id.to_native())
        .collect();
    assert_eq!(
        got, want,
        "primary range {lo:?}..{hi:?} rev={rev} limit={limit:?}"
    );

    // Secondary range over age: (age, id) order.
    let mut want: Vec<(u8, u64)> = ages
        .iter()
        .filter(|(_, a)| in_range(**a, lo, hi))
        .map(|(i, a)| (*a, *i))
        .collect();
    want.sort();
    if rev {
        want.reverse();
    }
    want.truncate(limit_or_all);
    let mut q = t
        .query_by::<UserAgeSecondaryKey>()
        .range((lo.map(UserAgeSecondaryKey), hi.map(UserAgeSecondaryKey)));
    if rev {
        q = q.rev();
    }
    if let Some(n) = limit {
        q = q.limit(n);
    }
    let got: Vec<(u8, u64)> = q
        .iter()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (r.age, r.id.to_native())
        })
        .collect();
    assert_eq!(
        got, want,
        "age range {lo:?}..{hi:?} rev={rev} limit={limit:?}"
    );
    let count = t
        .query_by::<UserAgeSecondaryKey>()
        .range((lo.map(UserAgeSecondaryKey), hi.map(UserAgeSecondaryKey)))
        .count()
        .unwrap();
    assert_eq!(
        count as usize,
        ages.values().filter(|a| in_range(**a, lo, hi)).count()
    );
}

/// Pages through users by email ("0@x", "1@x", "2@x" prefix "1"), inserting and removing
/// records between pages: each page resumes exactly after the last key of the previous one.
fn check_pagination<B: Backend>(
    store: &Store<BlogDefinition, B>,
    ages: &BTreeMap<u64, u8>,
    page_size: usize,
    churn: &[(u64, bool)],
) {
    let mut seen: Vec<u64> = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let all_churn = churn;
    let mut churn = churn.iter();
    loop {
        let page_ids: Vec<u64>;
        let next;
        {
            let txn = store.read().unwrap();
            let t = txn.open_tree::<User>().unwrap();
            let mut q = t
                .query_by::<UserEmailSecondaryKey>()
                .prefix(StrPrefix("1"))
                .limit(page_size);
            if let Some(c) = &cursor {
                q = q.after(c);
            }
            let page = q.page().unwrap();
            page_ids = page.items.iter().map(|r| r.id.to_native()).collect();
            next = page.next;
        }
        assert!(page_ids.len() <= page_size);
        // Everything returned is after everything seen so far (ids with email "1@x" are
        // ordered by id inside the one email value).
        if let (Some(last), Some(first)) = (seen.last(), page_ids.first()) {
            assert!(first > last, "page went backwards: {first} after {last}");
        }
        seen.extend(&page_ids);
        let Some(c) = next else { break };
        cursor = Some(c);
        // Churn between pages: insert or remove a record with email "1@x".
        if let Some(&(id, insert)) = churn.next() {
            let id = id * 3 + 1;
            let txn = store.write().unwrap();
            {
                let mut t = txn.open_tree::<User>().unwrap();
                if insert {
                    t.put(user(id, "1@x", 0)).unwrap();
                } else {
                    t.delete(UserPrimaryKey(id)).unwrap();
                }
            }
            txn.commit().unwrap();
        }
    }
    // Every record that existed throughout (never churned) was seen exactly once.
    let churned: Vec<u64> = churn_ids(all_churn);
    let stable: Vec<u64> = ages
        .keys()
        .copied()
        .filter(|id| id % 3 == 1 && !churned.contains(id))
        .collect();
    for id in &stable {
        assert_eq!(
            seen.iter().filter(|s| *s == id).count(),
            1,
            "record {id} seen {seen:?}"
        );
    }
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen, "a record was returned twice");
}

/// One range query: lower and upper bound, reverse, limit.
type RangeQuery = (Bound<u8>, Bound<u8>, bool, Option<usize>);

/// Records (id, age), range queries, page size, churn between pages (id, insert).
type Case = (Vec<(u64, u8)>, Vec<RangeQuery>, usize, Vec<(u64, bool)>);

fn churn_ids(rest: &[(u64, bool)]) -> Vec<u64> {
    rest.iter().map(|(id, _)| id * 3 + 1).collect()
}

fn run<B: Backend>(
    store: Store<BlogDefinition, B>,
    ids: Vec<(u64, u8)>,
    queries: Vec<RangeQuery>,
    page: usize,
    churn: Vec<(u64, bool)>,
) {
    let ages: BTreeMap<u64, u8> = ids.into_iter().collect();
    seed(&store, &ages);
    for q in queries {
        check_ranges(&store, &ages, q);
    }
    check_pagination(&store, &ages, page, &churn);
}

fn cases() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u64..120, 0u8..12), 0..60),
        prop::collection::vec(
            (bound(), bound(), any::<bool>(), prop::option::of(0usize..8)),
            1..8,
        ),
        1usize..7,
        prop::collection::vec((0u64..40, any::<bool>()), 0..10),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn redb_queries_match_the_model((ids, queries, page, churn) in cases()) {
        let backend = netabase_store::RedbBackend::in_memory().unwrap();
        run(Store::<BlogDefinition, _>::from_backend(backend).unwrap(), ids, queries, page, churn);
    }

    #[test]
    fn sled_queries_match_the_model((ids, queries, page, churn) in cases()) {
        let dir = tempfile::tempdir().unwrap();
        run(Store::<BlogDefinition, _>::sled(dir.path().join("db")).unwrap(), ids, queries, page, churn);
    }

    #[test]
    fn memory_queries_match_the_model((ids, queries, page, churn) in cases()) {
        run(Store::<BlogDefinition, _>::memory().unwrap(), ids, queries, page, churn);
    }
}
