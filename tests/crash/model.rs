//! The schema, the deterministic transaction generator and the model (oracle) state, shared
//! by the parent and the writer child.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};

/// Two models with secondary keys, and the progress record.
#[netabase_store::netabase_definition_module(CrashDefinition, CrashKeys)]
pub mod schema {
    use netabase_store::NetabaseModel;

    /// Unique (`email`), multi-valued (`tags`) and optional (`plan`) secondary keys.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(CrashDefinition)]
    pub struct Account {
        #[primary_key]
        pub id: u32,
        #[secondary_key(unique)]
        pub email: String,
        #[secondary_key]
        pub tags: Vec<String>,
        #[secondary_key]
        pub plan: Option<u8>,
        pub balance: u64,
        pub note: String,
    }

    /// A tuple primary key, a plain (`account`) and an optional unique (`slug`) secondary
    /// key, and a body of up to 3 KiB (so records span pages and log segments).
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(CrashDefinition)]
    pub struct Entry {
        #[primary_key]
        pub id: (u32, u16),
        #[secondary_key]
        pub account: u32,
        #[secondary_key(unique)]
        pub slug: Option<String>,
        pub body: Vec<u8>,
    }

    /// Written by every transaction: the sequence number of the last commit.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(CrashDefinition)]
    pub struct Progress {
        #[primary_key]
        pub id: u8,
        pub seq: u64,
        pub ops: u32,
    }
}

pub use schema::*;

/// Account ids are `0..ACCOUNTS`; entry ids `(0..ACCOUNTS, 0..ENTRY_SLOTS)`.
pub const ACCOUNTS: u32 = 40;
/// Entries per account id.
pub const ENTRY_SLOTS: u16 = 4;
/// Plans are `0..PLANS` (or none).
pub const PLANS: u8 = 4;
/// Every tag value (with an empty one and one holding NUL, which the key codec escapes).
pub const TAGS: [&str; 5] = ["red", "green", "blue", "", "x\0y"];
/// The primary key of the one `Progress` record.
pub const PROGRESS: u8 = 0;

/// A deterministic generator: proptest's ChaCha `TestRng`, seeded from a `u64`.
pub struct Rng(TestRng);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        Rng(TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.random()
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// One operation of a transaction.
#[derive(Clone, Debug)]
pub enum Op {
    /// Insert or replace an account.
    PutAccount(Account),
    /// Remove an account (a no-op when absent).
    RemoveAccount(u32),
    /// Insert or replace an entry.
    PutEntry(Entry),
    /// Remove an entry (a no-op when absent).
    RemoveEntry((u32, u16)),
}

/// The operations of transaction `seq` of a run seeded with `seed`. They depend only on
/// `(seed, seq)`, never on the state, so the parent and every child agree on them. Unique
/// values are derived from the primary key (and a version), so no put ever clashes.
pub fn transaction(seed: u64, seq: u64) -> Vec<Op> {
    let mut rng = Rng::new(seed ^ seq.wrapping_mul(0xd6e8_feb8_6659_fd93));
    let n = 1 + rng.below(16);
    (0..n)
        .map(|_| {
            let account = rng.below(u64::from(ACCOUNTS)) as u32;
            let slot = rng.below(u64::from(ENTRY_SLOTS)) as u16;
            let version = rng.below(1000);
            match rng.below(5) {
                0 | 1 => Op::PutAccount(Account {
                    id: account,
                    email: format!("a{account}.v{version}@example.com"),
                    tags: (0..rng.below(4))
                        .map(|_| TAGS[rng.below(TAGS.len() as u64) as usize].to_owned())
                        .collect(),
                    plan: rng.chance(2, 3).then(|| rng.below(u64::from(PLANS)) as u8),
                    balance: rng.next_u64(),
                    note: "n".repeat(rng.below(200) as usize),
                }),
                2 => Op::RemoveAccount(account),
                3 => Op::PutEntry(Entry {
                    id: (account, slot),
                    account: rng.below(u64::from(ACCOUNTS)) as u32,
                    slug: rng
                        .chance(1, 2)
                        .then(|| format!("e{account}-{slot}.v{version}")),
                    body: {
                        let len = rng.below(3072) as usize;
                        let fill = rng.next_u64() as u8;
                        (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
                    },
                }),
                _ => Op::RemoveEntry((account, slot)),
            }
        })
        .collect()
}

/// What the store must hold after some prefix of the transactions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    /// The sequence number of the last applied transaction (0: none).
    pub seq: u64,
    /// Operations in the last applied transaction.
    pub ops: u32,
    /// Accounts by id.
    pub accounts: BTreeMap<u32, Account>,
    /// Entries by id.
    pub entries: BTreeMap<(u32, u16), Entry>,
}

impl State {
    /// Applies transaction `self.seq + 1`.
    pub fn apply_next(&mut self, seed: u64) {
        let seq = self.seq + 1;
        let ops = transaction(seed, seq);
        self.ops = ops.len() as u32;
        for op in ops {
            match op {
                Op::PutAccount(a) => {
                    self.accounts.insert(a.id, a);
                }
                Op::RemoveAccount(id) => {
                    self.accounts.remove(&id);
                }
                Op::PutEntry(e) => {
                    self.entries.insert(e.id, e);
                }
                Op::RemoveEntry(id) => {
                    self.entries.remove(&id);
                }
            }
        }
        self.seq = seq;
    }

    /// The state after transaction `seq` (`seq >= self.seq`).
    pub fn advanced_to(&self, seed: u64, seq: u64) -> State {
        let mut s = self.clone();
        while s.seq < seq {
            s.apply_next(seed);
        }
        s
    }

    /// The `Progress` record this state implies (none before the first commit).
    pub fn progress(&self) -> Option<Progress> {
        (self.seq > 0).then_some(Progress {
            id: PROGRESS,
            seq: self.seq,
            ops: self.ops,
        })
    }

    /// Index entries the accounts imply: the email, each distinct tag, the plan if any.
    pub fn account_index_entries(&self) -> u64 {
        self.accounts
            .values()
            .map(|a| {
                let tags: BTreeSet<&String> = a.tags.iter().collect();
                1 + tags.len() as u64 + u64::from(a.plan.is_some())
            })
            .sum()
    }

    /// Index entries the entries imply: the account, the slug if any.
    pub fn entry_index_entries(&self) -> u64 {
        self.entries
            .values()
            .map(|e| 1 + u64::from(e.slug.is_some()))
            .sum()
    }
}

/// A persistent backend the harness runs on.
pub trait Engine {
    /// The backend.
    type B: netabase_store::backend::Backend;
    /// Its name, as `NETABASE_CRASH_CHILD` and the output spell it.
    const NAME: &'static str;
    /// Opens (creating if needed) the store in `dir`, with the default (durable) options.
    fn open(dir: &Path) -> netabase_store::Result<Store<Self::B>>;
}

/// A store of the crash schema.
pub type Store<B> = netabase_store::Store<CrashDefinition, B>;

/// redb, one file, fsync on every commit (`FileConfig`'s default).
pub struct Redb;

impl Engine for Redb {
    type B = netabase_store::RedbBackend;
    const NAME: &'static str = "redb";
    fn open(dir: &Path) -> netabase_store::Result<Store<Self::B>> {
        Store::redb(dir.join("crash.redb"))
    }
}

/// sled 0.34, one directory, a sled flush (write + fsync) after every commit (the default).
pub struct Sled;

impl Engine for Sled {
    type B = netabase_store::SledBackend;
    const NAME: &'static str = "sled";
    fn open(dir: &Path) -> netabase_store::Result<Store<Self::B>> {
        Store::sled(dir.join("crash.sled"))
    }
}

/// redb with end-to-end checksums (`Checksummed`), fsync on every commit.
pub struct RedbChecksummed;

impl Engine for RedbChecksummed {
    type B = netabase_store::Checksummed<netabase_store::RedbBackend>;
    const NAME: &'static str = "redb+checksums";
    fn open(dir: &Path) -> netabase_store::Result<Store<Self::B>> {
        netabase_store::BackendStore::new(netabase_store::FileConfig::new(dir.join("crash.redb")))
    }
}

/// sled with end-to-end checksums (`Checksummed`), a flush after every commit.
pub struct SledChecksummed;

impl Engine for SledChecksummed {
    type B = netabase_store::Checksummed<netabase_store::SledBackend>;
    const NAME: &'static str = "sled+checksums";
    fn open(dir: &Path) -> netabase_store::Result<Store<Self::B>> {
        netabase_store::BackendStore::new(netabase_store::FileConfig::new(dir.join("crash.sled")))
    }
}

/// The recorded commit of a store: its `Progress` record's sequence number (0: none).
pub fn stored_seq<B: netabase_store::backend::Backend>(
    store: &Store<B>,
) -> netabase_store::Result<u64> {
    let txn = store.read()?;
    let progress = txn.open_tree::<Progress>()?;
    Ok(match progress.get(PROGRESS)? {
        Some(p) => p.seq.to_native(),
        None => 0,
    })
}
