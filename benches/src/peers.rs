//! The peer group: what users pick instead of `netabase_store`, doing the same work with their
//! own natural shapes (only with the `bench` feature, so `cargo test --workspace` builds none
//! of it).
//!
//! * [`RawRedbSerde`] (`raw_redb_serde`): redb 4.6 by hand as its own examples use it: table
//!   `TableDefinition<u64, &[u8]>` (redb's fixed-width `u64` key) with bincode 1.3 values (a
//!   serde codec that decodes every read into an owned `User`), and a hand-kept
//!   `MultimapTableDefinition<&str, u64>` index from email to id.
//! * [`NativeDb`] (`native_db`): native_db 0.8.2 (redb 2 underneath, native_model's default
//!   codec, bincode 1.3), a `#[primary_key] id: u64` and a non-unique `#[secondary_key]
//!   email`. Its commits are always durable (native_db 0.8 has no durability setting), so its
//!   write workloads pay an fsync per commit that every other subject does not: compare its
//!   read workloads only.
//!
//! Reads decode the whole record (that is what these APIs give) and return the same
//! [`touch`](crate::touch) checksum: `id + username.len()`.

use std::cell::RefCell;
use std::path::Path;
use std::sync::OnceLock;

use redb::{
    Database, Durability, MultimapTableDefinition, ReadableDatabase, ReadableTable, TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::{Role, Spec, Subject, User, UserSecondaryKeys};

/// The checksum of a decoded user (the same as [`touch`](crate::touch) on an archive).
fn touch(id: u64, username: &str) -> u64 {
    id.wrapping_add(username.len() as u64)
}

// ---------------------------------------------------------------------------------------------
// raw redb, u64 keys, bincode values
// ---------------------------------------------------------------------------------------------

/// A user as a serde codec stores it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SerdeUser {
    /// Primary key.
    pub id: u64,
    /// A plain field.
    pub username: String,
    /// The indexed field.
    pub email: String,
}

impl From<&User> for SerdeUser {
    fn from(u: &User) -> Self {
        SerdeUser {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
        }
    }
}

impl From<SerdeUser> for User {
    fn from(u: SerdeUser) -> Self {
        User {
            id: u.id,
            username: u.username,
            email: u.email,
        }
    }
}

const USERS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("users");
const BY_EMAIL: MultimapTableDefinition<'static, &'static str, u64> =
    MultimapTableDefinition::new("users_by_email");

/// The spec of `raw_redb_serde`.
pub fn raw_redb_serde_spec() -> Spec {
    Spec {
        name: "raw_redb_serde".into(),
        backend: "redb",
        role: Role::Peer,
        open: |d| Box::new(RawRedbSerde::open(d)),
        wall: true,
        baseline: None,
    }
}

/// Raw redb with `u64` keys, bincode values and a multimap index.
pub struct RawRedbSerde {
    db: Database,
    buf: RefCell<Vec<u8>>,
}

type Users<'t> = redb::Table<'t, u64, &'static [u8]>;
type ByEmail<'t> = redb::MultimapTable<'t, &'static str, u64>;

fn decode(bytes: &[u8]) -> SerdeUser {
    bincode::deserialize(bytes).expect("decode")
}

impl RawRedbSerde {
    /// Opens `db.redb` in `dir` as the typed store does (256 MiB cache, durability `None`).
    pub fn open(dir: &Path) -> RawRedbSerde {
        let mut builder = redb::Builder::new();
        builder.set_cache_size(crate::raw_redb::CACHE_BYTES);
        let db = builder.create(dir.join("db.redb")).expect("create redb");
        RawRedbSerde {
            db,
            buf: RefCell::new(Vec::new()),
        }
    }

    fn write(&self, f: impl FnOnce(&mut Users<'_>, &mut ByEmail<'_>, &mut Vec<u8>)) {
        let mut txn = self.db.begin_write().expect("begin_write");
        txn.set_durability(Durability::None).expect("durability");
        {
            let mut users = txn.open_table(USERS).expect("open");
            let mut by_email = txn.open_multimap_table(BY_EMAIL).expect("open");
            f(&mut users, &mut by_email, &mut self.buf.borrow_mut());
        }
        txn.commit().expect("commit");
    }

    fn put_in(users: &mut Users<'_>, by_email: &mut ByEmail<'_>, buf: &mut Vec<u8>, user: &User) {
        let old = users
            .get(user.id)
            .expect("get")
            .map(|old| decode(old.value()).email);
        match old {
            Some(email) if email == user.email => {}
            Some(email) => {
                by_email.remove(email.as_str(), user.id).expect("remove");
                by_email
                    .insert(user.email.as_str(), user.id)
                    .expect("insert");
            }
            None => {
                by_email
                    .insert(user.email.as_str(), user.id)
                    .expect("insert");
            }
        }
        buf.clear();
        bincode::serialize_into(&mut *buf, &SerdeUser::from(user)).expect("encode");
        users.insert(user.id, &buf[..]).expect("insert");
    }
}

impl Subject for RawRedbSerde {
    fn put_all(&self, users: &[User]) {
        self.write(|t, i, b| {
            for user in users {
                Self::put_in(t, i, b, user);
            }
        });
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            self.write(|t, i, b| Self::put_in(t, i, b, user));
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        self.write(|users, by_email, _| {
            for &id in ids {
                let Some(old) = users.remove(id).expect("remove") else {
                    continue;
                };
                let email = decode(old.value()).email;
                drop(old);
                by_email.remove(email.as_str(), id).expect("remove");
            }
        });
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0u64;
        for &id in ids {
            let guard = users.get(id).expect("get").expect("present");
            let u = decode(guard.value());
            sum = sum.wrapping_add(touch(u.id, &u.username));
        }
        sum
    }

    fn get_by_email(&self, _keys: &[UserSecondaryKeys], emails: &[String]) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let users = txn.open_table(USERS).expect("open");
        let by_email = txn.open_multimap_table(BY_EMAIL).expect("open");
        let mut sum = 0u64;
        for email in emails {
            for id in by_email.get(email.as_str()).expect("get") {
                let id = id.expect("id").value();
                let guard = users.get(id).expect("get").expect("indexed record");
                let u = decode(guard.value());
                sum = sum.wrapping_add(touch(u.id, &u.username));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0u64;
        for entry in users.iter().expect("iter") {
            let (_, value) = entry.expect("entry");
            let u = decode(value.value());
            sum = sum.wrapping_add(touch(u.id, &u.username));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let users = txn.open_table(USERS).expect("open");
        let mut sum = 0u64;
        for &start in starts {
            for entry in users.range(start..start + width).expect("range") {
                let (_, value) = entry.expect("entry");
                let u = decode(value.value());
                sum = sum.wrapping_add(touch(u.id, &u.username));
            }
        }
        sum
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        let txn = self.db.begin_read().expect("begin_read");
        let users = txn.open_table(USERS).expect("open");
        ids.iter()
            .map(|&id| {
                users
                    .get(id)
                    .expect("get")
                    .map(|g| User::from(decode(g.value())))
            })
            .collect()
    }

    fn flush(&self) {
        let mut txn = self.db.begin_write().expect("begin_write");
        txn.set_durability(Durability::Immediate)
            .expect("durability");
        txn.commit().expect("commit");
    }
}

// ---------------------------------------------------------------------------------------------
// native_db
// ---------------------------------------------------------------------------------------------

pub use native::NativeUser;
use native::NativeUserKey;

/// native_db's derive expects its prelude in scope.
mod native {
    use native_db::*;
    use native_model::{Model, native_model};
    use serde::{Deserialize, Serialize};

    /// The user as native_db models it.
    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
    #[native_model(id = 1, version = 1)]
    #[native_db]
    pub struct NativeUser {
        /// Primary key.
        #[primary_key]
        pub id: u64,
        /// A plain field.
        pub username: String,
        /// The secondary key (not unique, as in the typed schema).
        #[secondary_key]
        pub email: String,
    }
}

impl From<&User> for NativeUser {
    fn from(u: &User) -> Self {
        NativeUser {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
        }
    }
}

/// native_db's model registry; a database borrows it for its whole life.
fn models() -> &'static native_db::Models {
    static MODELS: OnceLock<native_db::Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let mut models = native_db::Models::new();
        models.define::<NativeUser>().expect("define NativeUser");
        models
    })
}

/// The spec of `native_db`.
pub fn native_db_spec() -> Spec {
    Spec {
        name: "native_db".into(),
        backend: "redb",
        role: Role::Peer,
        open: |d| Box::new(NativeDb::open(d)),
        wall: true,
        baseline: None,
    }
}

/// native_db 0.8.
pub struct NativeDb {
    db: native_db::Database<'static>,
}

impl NativeDb {
    /// Creates `native.db` in `dir` with the typed store's cache size (256 MiB).
    pub fn open(dir: &Path) -> NativeDb {
        let mut builder = native_db::Builder::new();
        builder.set_cache_size(crate::raw_redb::CACHE_BYTES);
        let db = builder
            .create(models(), dir.join("native.db"))
            .expect("create native_db");
        NativeDb { db }
    }
}

impl Subject for NativeDb {
    fn put_all(&self, users: &[User]) {
        let rw = self.db.rw_transaction().expect("rw_transaction");
        for user in users {
            rw.upsert(NativeUser::from(user)).expect("upsert");
        }
        rw.commit().expect("commit");
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            let rw = self.db.rw_transaction().expect("rw_transaction");
            rw.upsert(NativeUser::from(user)).expect("upsert");
            rw.commit().expect("commit");
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        let rw = self.db.rw_transaction().expect("rw_transaction");
        for &id in ids {
            let old: Option<NativeUser> = rw.get().primary(id).expect("get");
            if let Some(old) = old {
                rw.remove(old).expect("remove");
            }
        }
        rw.commit().expect("commit");
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let r = self.db.r_transaction().expect("r_transaction");
        let mut sum = 0u64;
        for &id in ids {
            let u: NativeUser = r.get().primary(id).expect("get").expect("present");
            sum = sum.wrapping_add(touch(u.id, &u.username));
        }
        sum
    }

    fn get_by_email(&self, _keys: &[UserSecondaryKeys], emails: &[String]) -> u64 {
        let r = self.db.r_transaction().expect("r_transaction");
        let mut sum = 0u64;
        for email in emails {
            let scan = r
                .scan()
                .secondary::<NativeUser>(NativeUserKey::email)
                .expect("scan");
            for u in scan.range(email.as_str()..=email.as_str()).expect("range") {
                let u = u.expect("user");
                sum = sum.wrapping_add(touch(u.id, &u.username));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let r = self.db.r_transaction().expect("r_transaction");
        let mut sum = 0u64;
        for u in r
            .scan()
            .primary::<NativeUser>()
            .expect("scan")
            .all()
            .expect("all")
        {
            let u = u.expect("user");
            sum = sum.wrapping_add(touch(u.id, &u.username));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let r = self.db.r_transaction().expect("r_transaction");
        let scan = r.scan().primary::<NativeUser>().expect("scan");
        let mut sum = 0u64;
        for &start in starts {
            for u in scan.range(start..start + width).expect("range") {
                let u = u.expect("user");
                sum = sum.wrapping_add(touch(u.id, &u.username));
            }
        }
        sum
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        let r = self.db.r_transaction().expect("r_transaction");
        ids.iter()
            .map(|&id| {
                let u: Option<NativeUser> = r.get().primary(id).expect("get");
                u.map(|u| User {
                    id: u.id,
                    username: u.username,
                    email: u.email,
                })
            })
            .collect()
    }

    fn flush(&self) {
        // Every native_db commit is durable already.
    }
}
