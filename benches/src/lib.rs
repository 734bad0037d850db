//! The benchmark workloads of `netabase_store` and the subjects they run on.
//!
//! A *subject* is one way of storing the same `User` records in the same format
//! (`docs/format.md`): the typed layer on a backend ([`typed`]), or a hand-written baseline
//! doing the same work without it: raw redb ([`raw_redb`]), raw sled ([`raw_sled`]), or the
//! byte-level backend contract driven by hand ([`bytes`], the baseline of backends with no
//! engine of their own, such as memory). Every subject implements [`Subject`]; the criterion
//! harness (`benches/wall.rs`), the paired-ratio harness (`benches/paired.rs`), the
//! iai-callgrind harness (`benches/instructions.rs`) and the allocation test
//! (`tests/alloc.rs`) all run the same code. The harnesses need the `bench` feature.
//!
//! Adding a backend: implement [`typed::BenchBackend`] for it (how to open it in a
//! directory, and which subject is its baseline) and add one line to [`subjects`].

pub mod bytes;
pub mod data;
pub mod iteration;
#[cfg(feature = "bench")]
pub mod peers;
pub mod raw_redb;
pub mod raw_sled;
pub mod typed;

use std::path::Path;

use netabase_store::netabase_definition_module;

pub use data::{Inputs, Rng, user};
pub use schema::*;

/// The benchmark schema: the issue's `User` with one (non-unique) secondary key.
#[netabase_definition_module(BenchDefinition, BenchKeys)]
pub mod schema {
    use netabase_store::NetabaseModel;

    /// A user, as in the spec's benchmark table.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(BenchDefinition)]
    pub struct User {
        /// Primary key.
        #[primary_key]
        pub id: u64,
        /// A plain field.
        pub username: String,
        /// The secondary key.
        #[secondary_key]
        pub email: String,
    }
}

/// The table names the typed layer uses for `User` (and the raw baselines reproduce).
pub const PRIMARY_TABLE: &str = "User";
/// The index table of `User`.
pub const INDEX_TABLE: &str = "User.idx";
/// The tag of the `email` secondary key in index keys.
pub const EMAIL_TAG: u8 = 0;

/// Store sizes the wall-time benchmarks run at (override with `NETABASE_BENCH_SIZES=1000,…`).
pub const SIZES: &[usize] = &[1_000, 100_000];
/// Operations in one `get_many` call, one `put_loop` / `update_email` / `remove` iteration.
pub const BATCH: usize = 100;
/// Range scans per `scan_range` iteration.
pub const RANGES: usize = 100;
/// Records per range scan.
pub const RANGE_WIDTH: u64 = 100;

/// The sizes to run: [`SIZES`], or the comma-separated list in `NETABASE_BENCH_SIZES`.
pub fn sizes() -> Vec<usize> {
    match std::env::var("NETABASE_BENCH_SIZES") {
        Ok(s) => s
            .split(',')
            .map(|n| {
                n.trim()
                    .replace('_', "")
                    .parse()
                    .expect("NETABASE_BENCH_SIZES")
            })
            .collect(),
        Err(_) => SIZES.to_vec(),
    }
}

/// The extra size the memory backend's subjects run at (issue 10: the memory backend must
/// stay fast at a million records), unless `NETABASE_BENCH_SIZES` chooses the sizes.
pub const MEMORY_SIZE: usize = 1_000_000;

/// The sizes subjects of `backend` run at: [`sizes`], plus [`MEMORY_SIZE`] for the memory
/// backend when `NETABASE_BENCH_SIZES` is not set.
pub fn sizes_for(backend: &str) -> Vec<usize> {
    let mut sizes = sizes();
    if backend == "memory" && std::env::var_os("NETABASE_BENCH_SIZES").is_none() {
        sizes.push(MEMORY_SIZE);
    }
    sizes
}

/// Every size some subject runs at, ascending.
pub fn all_sizes() -> Vec<usize> {
    let mut sizes = sizes_for("memory");
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// What one benchmark measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `n` puts into an empty store in one write transaction, then commit.
    InsertBulk,
    /// A point get of every key, in random order, in one read transaction; reads two fields.
    GetRandom,
    /// A secondary-key (email) lookup for every record, in random order, in one read
    /// transaction; each finds one record and reads two fields of it.
    GetSecondary,
    /// Every record in key order, in one read transaction; reads two fields of each.
    ScanFull,
    /// [`RANGES`] range scans of [`RANGE_WIDTH`] consecutive keys at random starts, in one
    /// read transaction.
    ScanRange,
    /// [`BATCH`] random keys read into owned `User`s (deserialized), in one read transaction
    /// (the typed layer's auto-commit `get_many`).
    GetMany,
    /// [`BATCH`] write transactions of one put each, overwriting a random record with a new
    /// username (same email, so no index change), each committed.
    PutLoop,
    /// [`BATCH`] random records get a new email (their index entry moves), in one write
    /// transaction.
    UpdateEmail,
    /// [`BATCH`] random records removed (with their index entries), in one write transaction.
    Remove,
}

impl Workload {
    /// Every workload, in the order the harnesses run them (reads before writes).
    pub const ALL: [Workload; 9] = [
        Workload::InsertBulk,
        Workload::GetRandom,
        Workload::GetSecondary,
        Workload::ScanFull,
        Workload::ScanRange,
        Workload::GetMany,
        Workload::PutLoop,
        Workload::UpdateEmail,
        Workload::Remove,
    ];

    /// The benchmark group name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::InsertBulk => "insert_bulk",
            Workload::GetRandom => "get_random",
            Workload::GetSecondary => "get_secondary",
            Workload::ScanFull => "scan_full",
            Workload::ScanRange => "scan_range",
            Workload::GetMany => "get_many",
            Workload::PutLoop => "put_loop",
            Workload::UpdateEmail => "update_email",
            Workload::Remove => "remove",
        }
    }

    /// Operations (records read or written) per iteration at store size `n`.
    pub fn ops(self, n: usize) -> u64 {
        match self {
            Workload::InsertBulk
            | Workload::GetRandom
            | Workload::GetSecondary
            | Workload::ScanFull => n as u64,
            Workload::ScanRange => RANGES as u64 * RANGE_WIDTH,
            Workload::GetMany | Workload::PutLoop | Workload::UpdateEmail | Workload::Remove => {
                BATCH as u64
            }
        }
    }

    /// Whether the workload changes the store.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Workload::InsertBulk | Workload::PutLoop | Workload::UpdateEmail | Workload::Remove
        )
    }
}

/// The checksum every read returns (so no read can be optimised away): the id plus the
/// username length, read through the archived record.
pub fn touch(user: &ArchivedUser) -> u64 {
    user.id.to_native().wrapping_add(user.username.len() as u64)
}

/// One way of storing `User` records. Every method runs its whole workload (transaction
/// included) and panics on any error.
pub trait Subject {
    /// Puts every user (insert or overwrite, index maintained) in one write transaction.
    fn put_all(&self, users: &[User]);
    /// Puts each user in its own write transaction, committing each.
    fn put_each(&self, users: &[User]);
    /// Removes every id (record and index entry) in one write transaction.
    fn delete_all(&self, ids: &[u64]);
    /// Gets every id in one read transaction; returns the sum of [`touch`].
    fn get(&self, ids: &[u64]) -> u64;
    /// Looks up every email (prebuilt typed keys and their strings, the same order) in one
    /// read transaction; returns the sum of [`touch`] over the records found.
    fn get_by_email(&self, keys: &[UserSecondaryKeys], emails: &[String]) -> u64;
    /// Reads every record in key order; returns the sum of [`touch`].
    fn scan(&self) -> u64;
    /// Reads the ranges `[start, start + width)`; returns the sum of [`touch`].
    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64;
    /// Reads `ids` into owned users, in one read transaction.
    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>>;
    /// Makes every commit durable (the benchmarks commit without fsync; this runs outside
    /// the timings, so that every timed write starts from a durable state instead of an
    /// ever longer chain of non-durable commits).
    fn flush(&self);
}

/// What a subject is, for reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A hand-written baseline on the engine's own API; typed figures are ratios to it.
    Raw,
    /// The raw baseline reading without validation (`rkyv::access_unchecked`): informational.
    RawUnchecked,
    /// The byte-level backend contract driven by hand (the baseline for backends without an
    /// engine API of their own; informational elsewhere).
    Bytes,
    /// The typed layer.
    Typed,
    /// What users pick instead (`bench` feature only): raw redb with its natural `u64` keys and
    /// a serde codec, native_db. Not the same bytes: the same work, the way those users do it.
    Peer,
}

/// A subject the harnesses can open.
pub struct Spec {
    /// The benchmark id, e.g. `typed_redb`.
    pub name: String,
    /// The backend, e.g. `redb`.
    pub backend: &'static str,
    /// What it is.
    pub role: Role,
    /// Opens it, empty, in a directory.
    pub open: fn(&Path) -> Box<dyn Subject>,
    /// Whether the wall-time harness runs it (the iai harness runs every subject).
    pub wall: bool,
    /// For a typed subject, the subject its figures are ratios to.
    pub baseline: Option<&'static str>,
}

impl Spec {
    /// Whether the wall-time harness runs workload `w` on this subject.
    pub fn runs_wall(&self, w: Workload) -> bool {
        self.wall
            && (self.role != Role::RawUnchecked
                || matches!(w, Workload::GetRandom | Workload::ScanFull))
    }
}

/// Every subject, baselines first. Add a backend here (one line) after implementing
/// [`typed::BenchBackend`] for it.
pub fn subjects() -> Vec<Spec> {
    use netabase_store::{MemoryBackend, RedbBackend, SledBackend};
    vec![
        raw_redb::spec(true),
        raw_redb::spec(false),
        bytes::spec::<RedbBackend>(false),
        typed::spec::<RedbBackend>(),
        raw_sled::spec(),
        bytes::spec::<SledBackend>(false),
        typed::spec::<SledBackend>(),
        bytes::spec::<MemoryBackend>(true),
        typed::spec::<MemoryBackend>(),
        #[cfg(feature = "bench")]
        peers::raw_redb_serde_spec(),
        #[cfg(feature = "bench")]
        peers::native_db_spec(),
    ]
}

/// The subject called `name`.
pub fn subject(name: &str) -> Spec {
    subjects()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no subject named {name}"))
}

/// A subject open in its own temporary directory (deleted on drop).
pub struct Fixture {
    /// The subject (dropped before the directory).
    pub subject: Box<dyn Subject>,
    /// The store's directory.
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Opens `spec` empty in a fresh temporary directory.
    pub fn empty(spec: &Spec) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        Fixture {
            subject: (spec.open)(dir.path()),
            dir,
        }
    }

    /// Opens `spec`, puts every user of `inputs` in one transaction and flushes.
    pub fn populated(spec: &Spec, inputs: &Inputs) -> Fixture {
        let f = Fixture::empty(spec);
        f.subject.put_all(&inputs.users);
        f.subject.flush();
        f
    }
}
