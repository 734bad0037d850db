//! Readers and writers together: snapshot isolation, guards that keep their bytes, and a
//! reader that does not block the writer.

use std::ops::Bound;
use std::sync::mpsc;
use std::time::Duration;

use crate::conformance::Harness;
use crate::conformance::model::{OTHER, TABLE, model_entries, model_of, model_range};
use crate::conformance::support::{
    OrFail, assert_table_is_empty, collect_all, collect_range, commit_entries, committed_get,
    get_owned, len_of,
};
use crate::{Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction};

/// How long the concurrency check waits for a writer before declaring it blocked.
const WRITER_TIMEOUT: Duration = Duration::from_secs(10);

/// With `snapshot_reads`, a read transaction begun before a commit keeps seeing the old state
/// (through get, len and range; through a table opened before or after the commit). Always, a
/// read transaction begun after a commit sees the new state.
pub fn check_snapshot_isolation<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let snapshot = <H::Backend as Backend>::CAPABILITIES.snapshot_reads;
    let old = model_of(&[(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]);
    commit_entries(backend, TABLE, &old);
    let mut new = old.clone();
    new.insert(b"a".to_vec(), b"10".to_vec());
    new.remove(&b"b"[..]);
    new.insert(b"d".to_vec(), b"4".to_vec());

    let reader = backend.begin_read().or_fail("begin_read");
    let early = reader.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        collect_all(&early),
        model_entries(&old),
        "state before the commit"
    );

    let txn = backend.begin_write().or_fail("begin_write");
    {
        let mut t = txn.open_table(TABLE).or_fail("open_table");
        t.insert(b"a", b"10").or_fail("overwrite");
        t.remove(b"b").or_fail("remove");
        t.insert(b"d", b"4").or_fail("insert");
        let mut n = txn.open_table(OTHER).or_fail("open_table");
        n.insert(b"x", b"y").or_fail("insert");
    }
    txn.commit().or_fail("commit");

    if snapshot {
        let late = reader
            .open_table(TABLE)
            .or_fail("open_table (read) after the commit");
        for (label, t) in [("opened before", &early), ("opened after", &late)] {
            let context = format!("snapshot_reads: a table {label} a later commit");
            assert_eq!(collect_all(t), model_entries(&old), "{context}: full range");
            assert_eq!(
                collect_range(t, Bound::Unbounded, Bound::Unbounded, Direction::Reverse),
                model_range(&old, Bound::Unbounded, Bound::Unbounded, Direction::Reverse),
                "{context}: reverse range"
            );
            let b: &[u8] = b"b";
            assert_eq!(
                collect_range(t, Bound::Included(b), Bound::Unbounded, Direction::Forward),
                model_range(
                    &old,
                    Bound::Included(b),
                    Bound::Unbounded,
                    Direction::Forward
                ),
                "{context}: range [b, ..)"
            );
            assert_eq!(
                get_owned(t, b"a").as_deref(),
                Some(&b"1"[..]),
                "{context}: get(a)"
            );
            assert_eq!(
                get_owned(t, b"b").as_deref(),
                Some(&b"2"[..]),
                "{context}: get(b)"
            );
            assert_eq!(get_owned(t, b"d"), None, "{context}: get(d)");
            assert_eq!(len_of(t), 3, "{context}: len");
        }
        let n = reader.open_table(OTHER).or_fail("open_table (read)");
        assert_table_is_empty(
            &n,
            "snapshot_reads: a table first written by a later commit",
        );
    }
    drop(early);
    drop(reader);

    let txn = backend.begin_read().or_fail("begin_read");
    let t = txn.open_table(TABLE).or_fail("open_table (read)");
    assert_eq!(
        collect_all(&t),
        model_entries(&new),
        "a read transaction begun after a commit"
    );
    assert_eq!(len_of(&t), 3, "len after the commit");
    let n = txn.open_table(OTHER).or_fail("open_table (read)");
    assert_eq!(
        get_owned(&n, b"x").as_deref(),
        Some(&b"y"[..]),
        "new table after the commit"
    );
}

/// The `StableBytes` promise: a value guard's bytes (content and address) do not change while
/// it lives, whatever writers do meanwhile: overwrite its key with a longer and a shorter
/// value, remove it, clear the table, and commit each time. Covers a small value (which some
/// engines keep inline) and a large one.
pub fn check_guards_keep_their_bytes<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let small: &[u8] = b"abc";
    // Large, within the backend's entry limit if it has one.
    let big = <H::Backend as Backend>::CAPABILITIES
        .max_entry_len
        .map_or(3000, |max| (max / 2).min(3000));
    let large = vec![7u8; big];
    commit_entries(backend, TABLE, &model_of(&[(b"s", small), (b"l", &large)]));
    let txn = backend.begin_read().or_fail("begin_read");
    let table = txn.open_table(TABLE).or_fail("open_table");
    let gs = table.get(b"s").or_fail("get").expect("stored above");
    let gl = table.get(b"l").or_fail("get").expect("stored above");
    let (ps, pl) = (gs.as_ref().as_ptr(), gl.as_ref().as_ptr());
    let check = |when: &str| {
        assert_eq!(
            gs.as_ref(),
            small,
            "a small value's guard changed after {when}"
        );
        assert_eq!(
            gl.as_ref(),
            &large[..],
            "a large value's guard changed after {when}"
        );
        assert_eq!(
            gs.as_ref().as_ptr(),
            ps,
            "a small value's guard moved after {when}"
        );
        assert_eq!(
            gl.as_ref().as_ptr(),
            pl,
            "a large value's guard moved after {when}"
        );
    };
    #[allow(clippy::type_complexity)]
    let write = |f: &dyn Fn(
        &mut <<H::Backend as Backend>::WriteTxn<'_> as WriteTransaction>::Table<'_>,
    )| {
        let w = backend
            .begin_write()
            .or_fail("begin_write while a guard lives");
        {
            let mut t = w.open_table(TABLE).or_fail("open_table");
            f(&mut t);
        }
        w.commit().or_fail("commit while a guard lives");
    };
    write(&|t| {
        t.insert(b"s", &vec![9u8; big / 2])
            .or_fail("overwrite longer");
        t.insert(b"l", b"x").or_fail("overwrite shorter");
    });
    check("overwrites");
    write(&|t| {
        t.remove(b"s").or_fail("remove");
        t.remove(b"l").or_fail("remove");
    });
    check("removes");
    write(&|t| {
        t.insert(b"s", b"again").or_fail("insert");
        t.clear().or_fail("clear");
    });
    check("a clear");
}

/// A read transaction held open on another thread does not block a writer from beginning and
/// committing. The wait is bounded: a blocked writer fails the check instead of hanging it.
pub fn check_reader_does_not_block_writer<H: Harness>() {
    let harness = H::new();
    let backend = harness.backend();
    let snapshot = <H::Backend as Backend>::CAPABILITIES.snapshot_reads;
    commit_entries(backend, TABLE, &model_of(&[(b"k", b"old")]));

    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();

    let (committed, seen_before, seen_after) = std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let txn = backend
                .begin_read()
                .or_fail("begin_read on the reader thread");
            let t = txn
                .open_table(TABLE)
                .or_fail("open_table on the reader thread");
            let before = get_owned(&t, b"k");
            // Ignore a send error: the main thread only goes away by panicking.
            let _ = ready_tx.send(());
            // Hold the transaction until released (bounded, in case the main thread is stuck).
            let _ = release_rx.recv_timeout(WRITER_TIMEOUT + Duration::from_secs(10));
            let after = get_owned(&t, b"k");
            (before, after)
        });
        if ready_rx.recv_timeout(WRITER_TIMEOUT).is_err() {
            // The reader failed before it was ready; its panic is reported by join below.
            let _ = release_tx.send(());
            let result = reader.join();
            match result {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(_) => panic!("conformance: the reader thread never opened its transaction"),
            }
        }
        let writer = s.spawn(move || {
            let txn = backend
                .begin_write()
                .or_fail("begin_write while a reader is open");
            {
                let mut t = txn.open_table(TABLE).or_fail("open_table");
                t.insert(b"k", b"new").or_fail("insert");
            }
            txn.commit().or_fail("commit while a reader is open");
            let _ = done_tx.send(());
        });
        let committed = done_rx.recv_timeout(WRITER_TIMEOUT).is_ok();
        let _ = release_tx.send(());
        let (before, after) = match reader.join() {
            Ok(seen) => seen,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if let Err(panic) = writer.join() {
            std::panic::resume_unwind(panic);
        }
        (committed, before, after)
    });

    assert!(
        committed,
        "a writer could not commit within {WRITER_TIMEOUT:?} while a read transaction was open \
         on another thread: readers must not block writers"
    );
    assert_eq!(
        seen_before.as_deref(),
        Some(&b"old"[..]),
        "the reader's first read"
    );
    if snapshot {
        assert_eq!(
            seen_after.as_deref(),
            Some(&b"old"[..]),
            "snapshot_reads: the reader must keep seeing its snapshot after the commit"
        );
    }
    assert_eq!(
        committed_get(backend, TABLE, b"k").as_deref(),
        Some(&b"new"[..]),
        "the writer's commit"
    );
}
