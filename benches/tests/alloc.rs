//! The typed layer adds no heap allocation to a point read.
//!
//! A counting global allocator (per thread, so parallel tests do not disturb each other)
//! counts the allocations of warm point reads: `tree.get(key)` plus reading a field through
//! the `Ref`, against the raw engine doing the same read of the same bytes (`table.get(key)`
//! plus validated `rkyv::access`). Run with `-- --nocapture` to see the counts.
//!
//! String keys too: a lookup by `&str` (primary `tree.get("name")`, secondary
//! `tree.get_by(Handle::EMAIL, "a@x")`) encodes the borrowed text straight into the tree's
//! reused buffer: a warm primary lookup allocates nothing on redb and memory. A warm
//! secondary lookup allocates nothing on memory (its B+ tree's range iterator keeps no stack)
//! and, on redb, exactly what redb's own range scan does, nothing more: 3 per scan, which
//! redb 4.6 makes on every `range` (it copies both bounds into `Vec`s and keeps the cursor's
//! branch path in a `Vec`; its `lower_bound` cursor does the same), so on redb only a `get`
//! is free of allocation, and a secondary lookup is a range by the index format.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use netabase_benches::BenchDefinition;
use netabase_benches::raw_redb::access;
use netabase_benches::typed::BenchBackend;
use netabase_benches::{Inputs, User, UserPrimaryKey, touch};
use netabase_store::backend::{Backend, ReadTable, ReadTransaction};
use netabase_store::{MemoryBackend, RedbBackend, SledBackend, Store};
use redb::{ReadableDatabase, TableDefinition};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: never panic inside the allocator, even while the thread is torn down.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; counting touches only a thread-local `Cell` with a
// const initialiser and no destructor, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const N: usize = 1_000;

/// A guard's bytes, whatever the backend's guard type.
fn bytes<G: AsRef<[u8]>>(guard: &G) -> &[u8] {
    guard.as_ref()
}

/// Reads every id once to warm up, then counts the allocations of reading them all again,
/// five times; returns the smallest count (sled's epoch-based memory reclamation allocates
/// now and then on its own, whoever calls it).
fn count_reads(ids: &[u64], mut read: impl FnMut(u64) -> u64) -> u64 {
    for &id in ids {
        black_box(read(id));
    }
    (0..5)
        .map(|_| {
            allocations(|| {
                for &id in ids {
                    black_box(read(id));
                }
            })
        })
        .min()
        .unwrap_or(0)
}

fn put_all<B: BenchBackend>(
    store: &netabase_store::Store<netabase_benches::BenchDefinition, B>,
    users: &[User],
) {
    let txn = store.write().unwrap();
    {
        let mut tree = txn.open_tree::<User>().unwrap();
        tree.put_many(users).unwrap();
    }
    txn.commit().unwrap();
}

/// Counted allocations of warm typed point reads on `store` (filled with `inputs`).
fn typed_reads<B: BenchBackend>(store: &Store<BenchDefinition, B>, inputs: &Inputs) -> u64 {
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    count_reads(&inputs.get_ids, |id| {
        let user = tree.get(UserPrimaryKey(id)).unwrap().unwrap();
        touch(&user)
    })
}

/// Counted allocations of the same reads on the bare byte-level contract of `store`'s
/// backend.
fn contract_reads<B: BenchBackend>(store: &Store<BenchDefinition, B>, inputs: &Inputs) -> u64 {
    let txn = store.backend().begin_read().unwrap();
    let table = txn.open_table(netabase_benches::PRIMARY_TABLE).unwrap();
    count_reads(&inputs.get_ids, |id| {
        let guard = table.get(&id.to_be_bytes()).unwrap().unwrap();
        touch(access(bytes(&guard), true))
    })
}

fn filled<B: BenchBackend>(dir: &std::path::Path, inputs: &Inputs) -> Store<BenchDefinition, B> {
    let store = B::open_store(dir);
    put_all(&store, &inputs.users);
    store
}

#[test]
fn typed_point_read_on_redb_allocates_no_more_than_raw_redb() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Inputs::new(N);
    let store = filled::<RedbBackend>(dir.path(), &inputs);
    let typed = typed_reads(&store, &inputs);

    // Raw redb, reading the same bytes from the same file.
    let db = store.backend().database().unwrap();
    let raw_txn = db.begin_read().unwrap();
    let def = TableDefinition::<&[u8], &[u8]>::new(netabase_benches::PRIMARY_TABLE);
    let table = raw_txn.open_table(def).unwrap();
    let raw = count_reads(&inputs.get_ids, |id| {
        let guard = table.get(&id.to_be_bytes()[..]).unwrap().unwrap();
        touch(access(guard.value(), true))
    });

    println!("{N} warm point reads on redb: typed {typed} allocations, raw redb {raw}");
    assert_eq!(
        typed, raw,
        "the typed layer allocates on a warm point read (typed {typed}, raw {raw} over {N} reads)"
    );
    assert_eq!(contract_reads(&store, &inputs), raw);
}

#[test]
fn typed_point_read_on_sled_allocates_no_more_than_raw_sled() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Inputs::new(N);
    let store = filled::<SledBackend>(dir.path(), &inputs);
    let typed = typed_reads(&store, &inputs);

    // Raw sled, reading the same tree.
    let tree = store
        .backend()
        .db()
        .open_tree(netabase_benches::PRIMARY_TABLE)
        .unwrap();
    let raw = count_reads(&inputs.get_ids, |id| {
        let value = tree.get(id.to_be_bytes()).unwrap().unwrap();
        touch(access(&value, true))
    });

    println!("{N} warm point reads on sled: typed {typed} allocations, raw sled {raw}");
    // sled allocates about once per get itself, and its epoch-based reclamation adds a few
    // percent that vary from run to run; the typed layer must add nothing beyond that noise
    // (one extra allocation per read would be +N).
    assert!(
        typed <= raw + N as u64 / 20,
        "the typed layer allocates on a warm point read on sled (typed {typed}, raw {raw})"
    );
}

#[test]
fn typed_point_read_on_memory_allocates_no_more_than_the_bare_contract() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Inputs::new(N);
    let store = filled::<MemoryBackend>(dir.path(), &inputs);
    let typed = typed_reads(&store, &inputs);
    let raw = contract_reads(&store, &inputs);
    println!("{N} warm point reads on memory: typed {typed} allocations, bare contract {raw}");
    assert_eq!(typed, raw);
}

#[test]
fn secondary_lookup_allocations_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = Inputs::new(N);
    let store = filled::<RedbBackend>(dir.path(), &inputs);

    let txn = store.read().unwrap();
    let tree = txn.open_tree::<User>().unwrap();
    let mut i = 0;
    let typed = count_reads(&inputs.get_ids, |_| {
        let key = &inputs.email_keys[i % N];
        i += 1;
        let mut sum = 0;
        for user in tree.get_by_secondary_key(key).unwrap() {
            sum += touch(&user.unwrap());
        }
        sum
    });

    let db = store.backend().database().unwrap();
    let raw_txn = db.begin_read().unwrap();
    let primary = raw_txn
        .open_table(TableDefinition::<&[u8], &[u8]>::new(
            netabase_benches::PRIMARY_TABLE,
        ))
        .unwrap();
    let index = raw_txn
        .open_table(TableDefinition::<&[u8], &[u8]>::new(
            netabase_benches::INDEX_TABLE,
        ))
        .unwrap();
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    let mut i = 0;
    let raw = count_reads(&inputs.get_ids, |_| {
        let email = &inputs.emails[i % N];
        i += 1;
        netabase_benches::raw_redb::email_prefix(&mut lower, &mut upper, email);
        let mut sum = 0;
        for entry in index.range::<&[u8]>(&lower[..]..&upper[..]).unwrap() {
            let (key, _) = entry.unwrap();
            let guard = primary.get(&key.value()[lower.len()..]).unwrap().unwrap();
            sum += touch(access(guard.value(), true));
        }
        sum
    });

    println!("{N} warm secondary lookups on redb: typed {typed} allocations, raw redb {raw}");
    // The lookup's bounds are built in the tree's reused key buffer: the typed layer adds
    // no allocation to what redb's range does itself.
    assert!(
        typed <= raw,
        "secondary lookups allocate more than raw redb (typed {typed}, raw {raw})"
    );
}

#[netabase_store::netabase_definition_module(HandleDefinition, HandleStoreKeys)]
mod handles {
    #[derive(netabase_store::NetabaseModel, Clone, Debug)]
    #[netabase(HandleDefinition)]
    pub struct Handle {
        #[primary_key]
        pub name: String,
        #[secondary_key]
        pub email: String,
        pub visits: u64,
    }
}

/// Counted allocations of warm lookups by `&str` (primary and secondary) on `store`.
fn string_key_lookups<B: netabase_store::backend::Backend>(
    store: &Store<handles::HandleDefinition, B>,
) -> (u64, u64) {
    use handles::Handle;
    let names: Vec<String> = (0..N).map(|i| format!("handle-{i:05}")).collect();
    let emails: Vec<String> = (0..N).map(|i| format!("user{i}@example.com")).collect();
    store
        .open_tree::<Handle>()
        .put_many(names.iter().zip(&emails).map(|(n, e)| Handle {
            name: n.clone(),
            email: e.clone(),
            visits: 1,
        }))
        .unwrap();
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<Handle>().unwrap();
    let ids: Vec<u64> = (0..N as u64).collect();
    let primary = count_reads(&ids, |i| {
        let h = tree.get(names[i as usize].as_str()).unwrap().unwrap();
        h.visits.to_native()
    });
    let secondary = count_reads(&ids, |i| {
        let mut sum = 0;
        for h in tree
            .get_by(Handle::EMAIL, emails[i as usize].as_str())
            .unwrap()
        {
            sum += h.unwrap().visits.to_native();
        }
        sum
    });
    (primary, secondary)
}

/// The index range of the handles holding `email` (tag 0), built in reused buffers.
fn email_bounds(lower: &mut Vec<u8>, upper: &mut Vec<u8>, email: &str) {
    lower.clear();
    lower.push(0);
    netabase_store::key::encode_str(email, lower);
    upper.clear();
    upper.extend_from_slice(lower);
    netabase_store::key::push_prefix_successor(upper, 0);
}

/// Secondary lookups of every handle's email through the byte-level contract alone.
fn contract_secondary_lookups<T: ReadTable>(index: &T, table: &T) -> u64 {
    let emails: Vec<String> = (0..N).map(|i| format!("user{i}@example.com")).collect();
    let ids: Vec<u64> = (0..N as u64).collect();
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    count_reads(&ids, |i| {
        email_bounds(&mut lower, &mut upper, &emails[i as usize]);
        let mut sum = 0;
        let range = index
            .range(
                std::ops::Bound::Included(&lower[..]),
                std::ops::Bound::Excluded(&upper[..]),
                netabase_store::backend::Direction::Forward,
            )
            .unwrap();
        for entry in range {
            let (key, _) = entry.unwrap();
            let guard = table.get(&key.as_ref()[lower.len()..]).unwrap().unwrap();
            sum += guard.as_ref().len() as u64;
        }
        sum
    })
}

#[test]
fn string_key_lookups_allocate_nothing_the_engine_does_not() {
    let memory = Store::<handles::HandleDefinition, _>::memory().unwrap();
    let (primary, secondary) = string_key_lookups(&memory);
    // The same secondary lookups on the memory backend's bare contract: a range scan
    // allocates nothing there, so neither may the typed layer.
    let contract = {
        let txn = memory.backend().begin_read().unwrap();
        let index = txn.open_table("Handle.idx").unwrap();
        let table = txn.open_table("Handle").unwrap();
        contract_secondary_lookups(&index, &table)
    };
    println!(
        "{N} warm &str lookups on memory: primary {primary}, secondary {secondary} allocations \
         (bare contract secondary: {contract})"
    );
    assert_eq!(
        primary, 0,
        "a warm primary lookup by &str allocated on memory"
    );
    assert_eq!(
        (secondary, contract),
        (0, 0),
        "a warm secondary lookup by &str allocated on memory (typed, bare contract)"
    );

    let dir = tempfile::tempdir().unwrap();
    let redb = Store::<handles::HandleDefinition, _>::redb(dir.path().join("h.redb")).unwrap();
    let (primary, secondary) = string_key_lookups(&redb);
    // Raw redb doing the same secondary lookups: a range over the index entries of the
    // email, then a get of each record (redb's range allocates internally).
    let db = redb.backend().database().unwrap();
    let raw_txn = db.begin_read().unwrap();
    let index = raw_txn
        .open_table(TableDefinition::<&[u8], &[u8]>::new("Handle.idx"))
        .unwrap();
    let table = raw_txn
        .open_table(TableDefinition::<&[u8], &[u8]>::new("Handle"))
        .unwrap();
    let emails: Vec<String> = (0..N).map(|i| format!("user{i}@example.com")).collect();
    let ids: Vec<u64> = (0..N as u64).collect();
    let (mut lower, mut upper) = (Vec::new(), Vec::new());
    let raw = count_reads(&ids, |i| {
        email_bounds(&mut lower, &mut upper, &emails[i as usize]);
        let mut sum = 0;
        for entry in index.range::<&[u8]>(&lower[..]..&upper[..]).unwrap() {
            let (key, _) = entry.unwrap();
            let guard = table.get(&key.value()[lower.len()..]).unwrap().unwrap();
            sum += guard.value().len() as u64;
        }
        sum
    });
    println!(
        "{N} warm &str lookups on redb: primary {primary}, secondary {secondary} allocations \
         (raw redb secondary: {raw})"
    );
    assert_eq!(
        primary, 0,
        "a warm primary lookup by &str allocated on redb"
    );
    assert!(
        secondary <= raw,
        "typed {secondary} > raw redb {raw} allocations"
    );
}
