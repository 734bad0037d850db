//! Value sizes: empty and large values, and the entry size limit.

use crate::conformance::Harness;
use crate::conformance::model::{MAX_TESTED_ENTRY_LEN, TABLE};
use crate::conformance::support::{
    OrFail, collect_all, committed_get, entry_limit, get_owned, len_of, name,
};
use crate::{Backend, BackendError, ReadTransaction, WriteTable, WriteTransaction};

/// An empty value is stored and read back as present and empty (not as missing); values of
/// 1 MiB (or the largest the backend accepts, if less) roundtrip byte for byte.
pub fn check_empty_and_large_values<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let size = (1024 * 1024).min(entry_limit::<H>().saturating_sub(16));
    let large = |seed: u8| -> Vec<u8> {
        (0..size)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 12) as u8)
            .collect()
    };
    let (big1, big2, big3) = (large(7), large(101), large(200));

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"empty", b"").or_fail("insert empty value");
        assert_eq!(
            get_owned(&t, b"empty"),
            Some(Vec::new()),
            "an empty value must read back as Some(empty), not None"
        );
        t.insert(b"big1", &big1).or_fail("insert a large value");
        t.insert(b"big2", &big2).or_fail("insert a large value");
        assert!(
            get_owned(&t, b"big1") == Some(big1.clone()),
            "large value (in transaction)"
        );
        assert!(
            get_owned(&t, b"big2") == Some(big2.clone()),
            "large value (in transaction)"
        );
    }
    txn.commit().or_fail("commit");

    {
        let txn = backend.begin_read().or_fail("begin_read");
        let t = txn.open_table(TABLE).or_fail("open_table (read)");
        assert_eq!(
            get_owned(&t, b"empty"),
            Some(Vec::new()),
            "committed empty value"
        );
        assert!(
            get_owned(&t, b"big1") == Some(big1.clone()),
            "committed large value"
        );
        assert!(
            get_owned(&t, b"big2") == Some(big2.clone()),
            "committed large value"
        );
        let all = collect_all(&t);
        let keys: Vec<&[u8]> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(
            keys,
            vec![&b"big1"[..], b"big2", b"empty"],
            "keys of the range"
        );
        assert!(
            all[0].1 == big1 && all[1].1 == big2,
            "large values through range"
        );
        assert!(all[2].1.is_empty(), "empty value through range");
        assert_eq!(len_of(&t), 3, "len counts the empty value");
    }

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"big1", &big3)
            .or_fail("overwrite large with large");
        t.insert(b"big2", b"small now")
            .or_fail("overwrite large with small");
        t.insert(b"empty", &big1)
            .or_fail("overwrite empty with large");
    }
    txn.commit().or_fail("commit");
    assert!(
        committed_get(backend, TABLE, b"big1") == Some(big3),
        "overwritten large value"
    );
    assert_eq!(
        committed_get(backend, TABLE, b"big2").as_deref(),
        Some(&b"small now"[..]),
        "large value overwritten with a small one"
    );
    assert!(
        committed_get(backend, TABLE, b"empty") == Some(big1),
        "empty overwritten with large"
    );
}

/// With `max_entry_len` of at most 64 MiB: an entry of exactly the limit is stored, one byte
/// more fails with [`BackendError::ValueTooLarge`], and the transaction still commits its other
/// writes. Skipped for larger (or no) limits.
pub fn check_value_too_large<H: Harness>() {
    let Some(max) = <H::Backend as Backend>::CAPABILITIES.max_entry_len else {
        return;
    };
    if max > MAX_TESTED_ENTRY_LEN {
        return;
    }
    let harness = H::new();
    let backend = harness.backend();
    let key: &[u8] = b"k";
    let fits = vec![0xA5; max.saturating_sub(key.len())];
    let too_big = vec![0x5A; max + 1];

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"before", b"1").or_fail("insert");
        if max >= key.len() {
            t.insert(key, &fits).or_fail(format_args!(
                "insert of an entry of exactly max_entry_len ({max})"
            ));
        }
        match t.insert(b"too big", &too_big) {
            Err(BackendError::ValueTooLarge { len, max: reported }) => {
                assert_eq!(
                    reported, max,
                    "ValueTooLarge must report the backend's limit"
                );
                assert!(
                    len > max,
                    "ValueTooLarge reports len {len}, not above the limit {max}"
                );
            }
            Err(e) => panic!(
                "{} entry over max_entry_len: expected ValueTooLarge, got {e:?}",
                name::<H>()
            ),
            Ok(()) => panic!(
                "{}: an entry of {} bytes was accepted although max_entry_len is {max}",
                name::<H>(),
                b"too big".len() + too_big.len()
            ),
        }
        t.insert(b"after", b"2")
            .or_fail("insert after ValueTooLarge");
    }
    txn.commit().or_fail("commit after ValueTooLarge");

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        get_owned(&t, b"before").as_deref(),
        Some(&b"1"[..]),
        "write before the error"
    );
    assert_eq!(
        get_owned(&t, b"after").as_deref(),
        Some(&b"2"[..]),
        "write after the error"
    );
    assert_eq!(
        get_owned(&t, b"too big"),
        None,
        "the rejected entry must not be stored"
    );
    if max >= key.len() {
        assert!(
            get_owned(&t, key) == Some(fits),
            "the entry of exactly max_entry_len"
        );
    }
}
