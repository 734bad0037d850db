//! Ordered reads: ranges against the model, and keys at the edges of the byte order.

use std::ops::Bound;

use crate::conformance::Harness;
use crate::conformance::model::{
    Entries, Model, OTHER, TABLE, model_entries, probe_keys, random_model,
};
use crate::conformance::rng::Rng;
use crate::conformance::support::{
    OrFail, assert_ranges_match, collect_all, collect_range, commit_entries, committed_get,
    entry_limit, get_owned, len_of,
};
use crate::{Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction};

/// `range` in both directions with every bound kind (included, excluded, unbounded, on both
/// ends; empty and inverted ranges included) agrees with a `BTreeMap` model of a few hundred
/// keys of varied lengths, in a read transaction and in a write transaction. Ranges may be
/// dropped part-way and several may be alive at once.
pub fn check_range_matches_model<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let mut rng = Rng::new(0x5EED_0001);
    let model = random_model(&mut rng, 300, entry_limit::<H>());
    commit_entries(backend, TABLE, &model);
    let probes = probe_keys(&mut rng, &model, 10, 6);

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(collect_all(&t), model_entries(&model), "full forward range");
        assert_eq!(len_of(&t), model.len() as u64, "len");
        assert_ranges_match(&t, &model, &probes, "read transaction");

        // Explicit inverted and empty ranges, spelled out.
        let (a, b): (&[u8], &[u8]) = (b"a", b"b");
        let empty_cases = [
            (Bound::Included(b), Bound::Included(a)),
            (Bound::Included(b), Bound::Excluded(a)),
            (Bound::Excluded(b), Bound::Included(a)),
            (Bound::Excluded(b), Bound::Excluded(a)),
            (Bound::Included(a), Bound::Excluded(a)),
            (Bound::Excluded(a), Bound::Included(a)),
            (Bound::Excluded(a), Bound::Excluded(a)),
            (Bound::Excluded(&b""[..]), Bound::Excluded(&b""[..])),
            (Bound::Unbounded, Bound::Excluded(&b""[..])),
        ];
        for (lower, upper) in empty_cases {
            for direction in [Direction::Forward, Direction::Reverse] {
                assert_eq!(
                    collect_range(&t, lower, upper, direction),
                    Entries::new(),
                    "range({lower:?}, {upper:?}, {direction:?}) is empty and must yield nothing"
                );
            }
        }

        // Partial consumption and several live iterators.
        let mut forward = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .or_fail("range");
        let mut reverse = t
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Reverse)
            .or_fail("range");
        let want = model_entries(&model);
        for i in 0..3 {
            let (k, v) = forward
                .next()
                .expect("forward item")
                .or_fail("forward item");
            assert_eq!(
                (k.as_ref(), v.as_ref()),
                (want[i].0.as_slice(), want[i].1.as_slice()),
                "forward item {i} with a reverse range alive"
            );
            let (k, v) = reverse
                .next()
                .expect("reverse item")
                .or_fail("reverse item");
            let j = want.len() - 1 - i;
            assert_eq!(
                (k.as_ref(), v.as_ref()),
                (want[j].0.as_slice(), want[j].1.as_slice()),
                "reverse item {i} with a forward range alive"
            );
        }
        drop(forward);
        drop(reverse);
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let t = txn.open_table(TABLE).or_fail("open_table (write)");
        assert_ranges_match(&t, &model, &probes, "write transaction, committed data");
    }
    txn.abort().or_fail("abort");

    // An empty table.
    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(OTHER).or_fail("open_table (read)");
    assert_ranges_match(
        &t,
        &Model::new(),
        &probes[..4.min(probes.len())],
        "empty table",
    );
}

/// The empty key and keys containing 0x00 and 0xFF bytes are ordinary keys: stored, found,
/// ordered bytewise, and usable as range bounds.
pub fn check_edge_keys<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        vec![0x00, 0x01],
        vec![0x00, 0xFF],
        vec![0x01],
        b"a".to_vec(),
        b"a\0".to_vec(),
        b"a\0b".to_vec(),
        b"a\xFF".to_vec(),
        b"ab".to_vec(),
        vec![0xFE, 0xFF],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF],
        vec![0xFF; 300],
    ];
    let model: Model = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), format!("value {i}").into_bytes()))
        .collect();
    assert_eq!(model.len(), keys.len(), "the test keys are distinct");

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        for (k, v) in &model {
            t.insert(k, v).or_fail(format_args!("insert({k:?})"));
        }
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) in the write transaction"
            );
        }
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        for (k, v) in &model {
            assert_eq!(
                get_owned(&t, k).as_ref(),
                Some(v),
                "get({k:?}) after commit"
            );
        }
        assert_eq!(
            get_owned(&t, &[0x00, 0x00, 0x00]),
            None,
            "get of an absent 0x00 key"
        );
        assert_eq!(
            get_owned(&t, &[0xFF, 0xFF, 0xFF]),
            None,
            "get of an absent 0xFF key"
        );
        assert_eq!(
            collect_all(&t),
            model_entries(&model),
            "keys must sort bytewise"
        );
        let empty: &[u8] = b"";
        assert_eq!(
            collect_range(
                &t,
                Bound::Included(empty),
                Bound::Included(empty),
                Direction::Forward
            ),
            vec![(Vec::new(), b"value 0".to_vec())],
            "range [empty, empty] holds exactly the empty key"
        );
        assert_eq!(
            collect_range(
                &t,
                Bound::Unbounded,
                Bound::Included(empty),
                Direction::Reverse
            ),
            vec![(Vec::new(), b"value 0".to_vec())],
            "range (.., empty] holds exactly the empty key"
        );
        let probes: Vec<Vec<u8>> = keys
            .iter()
            .cloned()
            .chain([
                vec![0x00, 0x00, 0x00],
                vec![0xFF, 0xFF, 0xFF],
                b"a\0a".to_vec(),
            ])
            .collect();
        assert_ranges_match(&t, &model, &probes, "edge keys");
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        assert!(
            t.remove(b"").or_fail("remove empty key"),
            "the empty key was present"
        );
        assert!(
            t.remove(&[0xFF]).or_fail("remove [0xFF]"),
            "[0xFF] was present"
        );
    }
    txn.commit().or_fail("commit");
    assert_eq!(
        committed_get(backend, TABLE, b""),
        None,
        "the empty key was removed"
    );
    assert_eq!(
        committed_get(backend, TABLE, &[0xFF]),
        None,
        "[0xFF] was removed"
    );
    assert_eq!(
        committed_get(backend, TABLE, &[0xFF, 0x00]).as_deref(),
        Some(&b"value 13"[..]),
        "removing [0xFF] must not touch [0xFF, 0x00]"
    );
}
