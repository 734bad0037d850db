//! The typed layer on any backend: what a user of `netabase_store` writes.

use std::path::Path;

use netabase_store::backend::Backend;
use netabase_store::redb::{RedbBackend, RedbDurability, RedbOptions};
use netabase_store::sled::{SledBackend, SledDurability, SledOptions};
use netabase_store::{FileConfig, MemoryBackend, Store};

use crate::{BenchDefinition, Role, Spec, Subject, User, UserPrimaryKey, UserSecondaryKeys, touch};

/// A backend the benchmarks can open: how to open it in a directory, and which subject
/// its typed figures are compared with.
pub trait BenchBackend: Backend + Sized {
    /// The backend's name in benchmark ids (`typed_<NAME>`, `bytes_<NAME>`).
    const NAME: &'static str;
    /// The subject typed figures on this backend are ratios to.
    const BASELINE: &'static str;

    /// Opens the backend, empty, in `dir` (as the typed store opens it).
    fn open_backend(dir: &Path) -> Self;

    /// Opens the typed store the way a user would.
    fn open_store(dir: &Path) -> Store<BenchDefinition, Self> {
        Store::from_backend(Self::open_backend(dir)).expect("open store")
    }
}

impl BenchBackend for RedbBackend {
    const NAME: &'static str = "redb";
    const BASELINE: &'static str = "raw_redb";

    fn open_backend(dir: &Path) -> Self {
        // What `Store::open` makes of the `FileConfig` in `open_store`.
        let options = RedbOptions::new()
            .cache_size_bytes(crate::raw_redb::CACHE_BYTES)
            .durability(RedbDurability::None);
        RedbBackend::open(dir.join("db.redb"), &options).expect("open redb")
    }

    fn open_store(dir: &Path) -> Store<BenchDefinition, Self> {
        let config = FileConfig::builder()
            .path(dir.join("db.redb"))
            .use_fsync(false)
            .build();
        assert_eq!(config.cache_size_bytes(), crate::raw_redb::CACHE_BYTES);
        Store::open(config).expect("open store")
    }
}

impl BenchBackend for SledBackend {
    const NAME: &'static str = "sled";
    const BASELINE: &'static str = "raw_sled";

    fn open_backend(dir: &Path) -> Self {
        // What `Store::open_sled` makes of the `FileConfig` in `open_store`.
        let options = SledOptions::new()
            .cache_size_bytes(crate::raw_sled::CACHE_BYTES)
            .durability(SledDurability::None);
        SledBackend::open(dir.join("db.sled"), &options).expect("open sled")
    }

    fn open_store(dir: &Path) -> Store<BenchDefinition, Self> {
        let config = FileConfig::builder()
            .path(dir.join("db.sled"))
            .use_fsync(false)
            .build();
        Store::open_sled(config).expect("open store")
    }
}

impl BenchBackend for MemoryBackend {
    const NAME: &'static str = "memory";
    const BASELINE: &'static str = "bytes_memory";

    fn open_backend(_dir: &Path) -> Self {
        MemoryBackend::new()
    }

    fn open_store(_dir: &Path) -> Store<BenchDefinition, Self> {
        Store::memory().expect("open store")
    }
}

/// The spec of `typed_<backend>`.
pub fn spec<B: BenchBackend>() -> Spec {
    Spec {
        name: format!("typed_{}", B::NAME),
        backend: B::NAME,
        role: Role::Typed,
        open: |d| Box::new(Typed::<B>::open(d)),
        wall: true,
        baseline: Some(B::BASELINE),
    }
}

/// The typed layer on backend `B`.
pub struct Typed<B> {
    store: Store<BenchDefinition, B>,
}

impl<B: BenchBackend> Typed<B> {
    /// Opens the store in `dir`.
    pub fn open(dir: &Path) -> Self {
        Typed {
            store: B::open_store(dir),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store<BenchDefinition, B> {
        &self.store
    }
}

impl<B: BenchBackend> Subject for Typed<B> {
    fn put_all(&self, users: &[User]) {
        let txn = self.store.write().expect("write");
        {
            let mut tree = txn.open_tree::<User>().expect("open_tree");
            for user in users {
                tree.put(user).expect("put");
            }
        }
        txn.commit().expect("commit");
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            let txn = self.store.write().expect("write");
            {
                let mut tree = txn.open_tree::<User>().expect("open_tree");
                tree.put(user).expect("put");
            }
            txn.commit().expect("commit");
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        let txn = self.store.write().expect("write");
        {
            let mut tree = txn.open_tree::<User>().expect("open_tree");
            for &id in ids {
                tree.delete(UserPrimaryKey(id)).expect("delete");
            }
        }
        txn.commit().expect("commit");
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let txn = self.store.read().expect("read");
        let tree = txn.open_tree::<User>().expect("open_tree");
        let mut sum = 0u64;
        for &id in ids {
            let user = tree.get(UserPrimaryKey(id)).expect("get").expect("present");
            sum = sum.wrapping_add(touch(&user));
        }
        sum
    }

    fn get_by_email(&self, keys: &[UserSecondaryKeys], _emails: &[String]) -> u64 {
        let txn = self.store.read().expect("read");
        let tree = txn.open_tree::<User>().expect("open_tree");
        let mut sum = 0u64;
        for key in keys {
            for user in tree.get_by_secondary_key(key).expect("lookup") {
                sum = sum.wrapping_add(touch(&user.expect("record")));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let txn = self.store.read().expect("read");
        let tree = txn.open_tree::<User>().expect("open_tree");
        let mut sum = 0u64;
        for user in tree.iter().expect("iter") {
            sum = sum.wrapping_add(touch(&user.expect("record")));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let txn = self.store.read().expect("read");
        let tree = txn.open_tree::<User>().expect("open_tree");
        let mut sum = 0u64;
        for &start in starts {
            let range = UserPrimaryKey(start)..UserPrimaryKey(start + width);
            for user in tree.range(range).expect("range") {
                sum = sum.wrapping_add(touch(&user.expect("record")));
            }
        }
        sum
    }

    fn flush(&self) {
        self.store.flush().expect("flush");
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        self.store
            .open_tree::<User>()
            .get_many(ids.iter().map(|&id| UserPrimaryKey(id)))
            .expect("get_many")
    }
}
