//! Damaged database files: copies of a valid file with random bytes overwritten are opened and
//! read through every read path. No panic may escape the store (redb panics on some damaged
//! pages; the backend turns those into `Corrupted`), every error is typed, and with
//! `FileConfig::check_integrity_on_open` no damaged copy hands back a changed record.
//!
//! On sled, which keeps no page checksums and recovers a damaged log by dropping everything
//! from the damage on, the store's manifest turns that loss into `Corrupted` at open: no
//! damaged copy opens as an emptier store.
//!
//! `NETABASE_DAMAGED_COPIES=N` runs N copies per mode instead of the default 40.
mod common;
use common::*;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use netabase_store::{BackendStore, FileConfig, NetabaseError, Result, SledStore};

const RECORDS: u64 = 2000;

/// Panics raised (and caught) inside the engine, counted by the hook below.
static ENGINE_PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts panics raised inside redb or sled without printing them; every other panic (a
/// failed assertion of this test) is printed as usual.
fn quiet_engine_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file()).unwrap_or_default();
            if file.contains("/redb-") || file.contains("/sled-") {
                ENGINE_PANICS.fetch_add(1, Ordering::Relaxed);
                if std::env::var_os("NETABASE_SHOW_PANICS").is_some() {
                    default(info);
                }
            } else {
                default(info);
            }
        }));
    });
}

/// A small deterministic generator (xorshift64*), so every run damages the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn copies() -> u64 {
    std::env::var("NETABASE_DAMAGED_COPIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

fn expected(id: u64) -> User {
    user(id, &format!("user{id}@example.com"), (id % 90) as u8)
}

/// Overwrites 64 bytes of `bytes`: one run of 64 at a random offset for even seeds, 64
/// scattered bytes for odd ones.
fn damage(bytes: &mut [u8], seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    if seed.is_multiple_of(2) {
        let at = rng.below(bytes.len() - 64);
        for b in &mut bytes[at..at + 64] {
            *b = rng.next() as u8;
        }
    } else {
        for _ in 0..64 {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    refused_at_open: u64,
    opened: u64,
    typed_errors: u64,
    intact_records: u64,
    missing_records: u64,
    changed_records: u64,
}

/// Reads everything a user could read; counts what came back. Any panic fails the test.
fn read_everything<B: netabase_store::backend::Backend>(
    store: &netabase_store::Store<BlogDefinition, B>,
    tally: &mut Tally,
) {
    let mut note = |r: Result<()>| {
        if let Err(e) = r {
            assert_typed(&e);
            tally.typed_errors += 1;
        }
    };
    let tree = store.open_tree::<User>();
    note(tree.len().map(drop));
    for item in tree.iter() {
        note(item.map(drop));
    }
    note(store.check_integrity().map(drop));
    for id in (1..=RECORDS).step_by(7) {
        match tree.get(id) {
            Ok(Some(u)) if u == expected(id) => tally.intact_records += 1,
            Ok(Some(_)) => tally.changed_records += 1,
            Ok(None) => tally.missing_records += 1,
            Err(e) => note(Err(e)),
        }
        note(
            tree.get_by(User::EMAIL, format!("user{id}@example.com").as_str())
                .map(drop),
        );
    }
    note(tree.count_by(User::AGE, 7).map(drop));
    note(tree.query().rev().limit(50).collect().map(drop));
    // A write on a damaged file fails with a typed error or succeeds; never a panic.
    note(tree.put(expected(RECORDS + 1)));
}

/// Every error a damaged file may produce is one of the typed damage errors.
fn assert_typed(e: &NetabaseError) {
    let ok = matches!(
        e,
        NetabaseError::Corrupt { .. }
            | NetabaseError::IndexInconsistent { .. }
            | NetabaseError::Backend(_)
            | NetabaseError::SchemaMismatch { .. }
            | NetabaseError::SchemaTooNew { .. }
            | NetabaseError::KeyDecode(_)
            | NetabaseError::UniqueViolation { .. }
    );
    assert!(ok, "unexpected error kind: {e:?}");
}

/// Opens one damaged copy and reads everything; no panic may escape.
fn try_copy<B: netabase_store::backend::Backend>(
    path: &Path,
    check_on_open: bool,
    seed: u64,
    tally: &mut Tally,
) where
    netabase_store::Store<BlogDefinition, B>: BackendStore<BlogDefinition>,
{
    let config = FileConfig::builder()
        .path(path)
        .check_integrity_on_open(check_on_open)
        .build();
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || match <netabase_store::Store<BlogDefinition, B>>::open(config) {
                Err(e) => {
                    assert_typed(&e);
                    tally.refused_at_open += 1;
                }
                Ok(store) => {
                    tally.opened += 1;
                    read_everything(&store, tally);
                }
            },
        ));
    assert!(
        outcome.is_ok(),
        "a panic escaped the store on damaged copy {seed}"
    );
}

fn valid_file<B: netabase_store::backend::Backend>(path: &Path)
where
    netabase_store::Store<BlogDefinition, B>: BackendStore<BlogDefinition>,
{
    let store = <netabase_store::Store<BlogDefinition, B>>::open(FileConfig::new(path)).unwrap();
    store
        .open_tree::<User>()
        .put_many((1..=RECORDS).map(expected))
        .unwrap();
}

fn run_redb(check_on_open: bool) -> Tally {
    run_redb_on::<netabase_store::RedbBackend>(check_on_open)
}

fn run_redb_on<B: netabase_store::backend::Backend>(check_on_open: bool) -> Tally
where
    netabase_store::Store<BlogDefinition, B>: BackendStore<BlogDefinition>,
{
    quiet_engine_panics();
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("valid.redb");
    valid_file::<B>(&original);
    let bytes = std::fs::read(&original).unwrap();
    let mut tally = Tally::default();
    for seed in 0..copies() {
        let mut copy = bytes.clone();
        damage(&mut copy, seed);
        let path = dir.path().join(format!("copy{seed}.redb"));
        std::fs::write(&path, &copy).unwrap();
        try_copy::<B>(&path, check_on_open, seed, &mut tally);
        std::fs::remove_file(&path).unwrap();
    }
    println!(
        "redb (checksums: {}), check_integrity_on_open = {check_on_open}: {tally:?}; panics \
         raised inside redb and turned into errors so far: {}",
        B::CAPABILITIES.checksums,
        ENGINE_PANICS.load(Ordering::Relaxed)
    );
    tally
}

#[test]
fn damaged_redb_files_give_typed_errors_never_a_panic() {
    let tally = run_redb(false);
    assert_eq!(tally.refused_at_open + tally.opened, copies());
    assert!(tally.intact_records > 0, "most of each copy is undamaged");
}

#[test]
fn with_the_integrity_check_no_damaged_redb_file_returns_a_changed_record() {
    let tally = run_redb(true);
    assert_eq!(tally.refused_at_open + tally.opened, copies());
    assert_eq!(tally.changed_records, 0, "{tally:?}");
    assert!(tally.refused_at_open > 0, "{tally:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn run_sled(check_on_open: bool) -> Tally {
    quiet_engine_panics();
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("valid.sled");
    {
        let store = SledStore::<BlogDefinition>::open(FileConfig::new(&original)).unwrap();
        store
            .open_tree::<User>()
            .put_many((1..=RECORDS).map(expected))
            .unwrap();
    }
    let data = std::fs::read(original.join("db")).unwrap();
    let mut tally = Tally::default();
    for seed in 0..copies() {
        let path = dir.path().join(format!("copy{seed}.sled"));
        copy_dir(&original, &path);
        let mut copy = data.clone();
        damage(&mut copy, seed);
        std::fs::write(path.join("db"), &copy).unwrap();
        try_copy::<netabase_store::SledBackend>(&path, check_on_open, seed, &mut tally);
        std::fs::remove_dir_all(&path).unwrap();
    }
    println!("sled, check_integrity_on_open = {check_on_open}: {tally:?}");
    tally
}

#[test]
fn damaged_sled_files_are_refused_never_an_emptier_store() {
    for check_on_open in [false, true] {
        let tally = run_sled(check_on_open);
        assert_eq!(tally.refused_at_open + tally.opened, copies());
        assert_eq!(tally.missing_records, 0, "{tally:?}");
        assert_eq!(tally.changed_records, 0, "{tally:?}");
    }
}

#[test]
fn with_checksums_no_damaged_redb_file_returns_a_changed_record() {
    let tally = run_redb_on::<netabase_store::Checksummed<netabase_store::RedbBackend>>(false);
    assert_eq!(tally.refused_at_open + tally.opened, copies());
    assert_eq!(tally.changed_records, 0, "{tally:?}");
}
