//! The raw redb baseline: the typed layer's work written by hand on redb's own API.
//!
//! Same file format as the typed layer (`docs/format.md`): table `User` maps
//! `enc(id)` (big-endian `u64`) to the rkyv archive of the record, and table `User.idx` maps
//! `[0] ++ enc(email) ++ enc(id)` to an empty value. A put reads the old record (validated)
//! to find its stale index entry, exactly as a hand-written store with a secondary index
//! must; a remove does the same. Reads validate with `rkyv::access` (the `unchecked` variant
//! uses `rkyv::access_unchecked` and is labelled so in every report). Serialization reuses
//! one arena and one output buffer, as the typed layer does.

use std::cell::RefCell;
use std::path::Path;

use netabase_store::key::Key;
use netabase_store::rkyv::{self, rancor};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{ArchivedUser, EMAIL_TAG, Role, Spec, Subject, User, UserSecondaryKeys, touch};

type Def = TableDefinition<'static, &'static [u8], &'static [u8]>;
const PRIMARY: Def = TableDefinition::new(crate::PRIMARY_TABLE);
const INDEX: Def = TableDefinition::new(crate::INDEX_TABLE);

/// The page cache the typed store gets from `FileConfig`'s default (256 MiB).
pub const CACHE_BYTES: usize = 256 * 1024 * 1024;

/// The spec of the validated (`validate = true`, `raw_redb`) or unvalidated
/// (`raw_redb_unchecked`) baseline.
pub fn spec(validate: bool) -> Spec {
    if validate {
        Spec {
            name: "raw_redb".into(),
            backend: "redb",
            role: Role::Raw,
            open: |d| Box::new(RawRedb::open(d, true)),
            wall: true,
            baseline: None,
        }
    } else {
        Spec {
            name: "raw_redb_unchecked".into(),
            backend: "redb",
            role: Role::RawUnchecked,
            open: |d| Box::new(RawRedb::open(d, false)),
            wall: true,
            baseline: None,
        }
    }
}

/// Serializes users with one reused arena and output buffer.
#[derive(Default)]
pub struct Archiver {
    arena: rkyv::ser::allocator::Arena,
    buf: Vec<u8>,
}

impl Archiver {
    /// The archive of `user` (the same bytes as `rkyv::to_bytes`).
    pub fn archive(&mut self, user: &User) -> &[u8] {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.buf = rkyv::api::high::to_bytes_in_with_alloc::<_, _, rancor::Error>(
            user,
            buf,
            self.arena.acquire(),
        )
        .expect("archive");
        &self.buf
    }
}

/// Scratch buffers of one subject.
#[derive(Default)]
pub struct Scratch {
    /// The archiver.
    pub archiver: Archiver,
    /// An index key.
    pub index_key: Vec<u8>,
    /// The upper bound of a prefix scan.
    pub upper: Vec<u8>,
}

/// Writes `[EMAIL_TAG] ++ enc(email) ++ enc(id)` into `out`.
pub fn index_key(out: &mut Vec<u8>, email: impl FnOnce(&mut Vec<u8>), primary: &[u8]) {
    out.clear();
    out.push(EMAIL_TAG);
    email(out);
    out.extend_from_slice(primary);
}

/// Writes `[EMAIL_TAG] ++ enc(email)` into `lower` and its prefix successor into `upper`.
/// (An encoded string ends with `00 00`, so the successor just increments the last byte.)
pub fn email_prefix(lower: &mut Vec<u8>, upper: &mut Vec<u8>, email: &str) {
    lower.clear();
    lower.push(EMAIL_TAG);
    netabase_store::key::encode_str(email, lower);
    upper.clear();
    upper.extend_from_slice(lower);
    if let Some(last) = upper.last_mut() {
        *last += 1;
    }
}

/// Validated or unchecked access to an archived user.
#[inline]
pub fn access(bytes: &[u8], validate: bool) -> &ArchivedUser {
    if validate {
        rkyv::access::<ArchivedUser, rancor::Error>(bytes).expect("valid archive")
    } else {
        // SAFETY: only used on stores this crate wrote, with the pinned format (the
        // unvalidated baseline exists to show what validation costs).
        unsafe { rkyv::access_unchecked::<ArchivedUser>(bytes) }
    }
}

/// Raw redb.
pub struct RawRedb {
    db: Database,
    validate: bool,
    scratch: RefCell<Scratch>,
}

type Table<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

impl RawRedb {
    /// Opens `db.redb` in `dir` as the typed store does (256 MiB cache, durability `None`).
    pub fn open(dir: &Path, validate: bool) -> RawRedb {
        let mut builder = redb::Builder::new();
        builder.set_cache_size(CACHE_BYTES);
        let db = builder.create(dir.join("db.redb")).expect("create redb");
        RawRedb {
            db,
            validate,
            scratch: RefCell::new(Scratch::default()),
        }
    }

    fn write(&self, f: impl FnOnce(&mut Table<'_>, &mut Table<'_>, &mut Scratch)) {
        let mut txn = self.db.begin_write().expect("begin_write");
        txn.set_durability(Durability::None).expect("durability");
        {
            let mut primary = txn.open_table(PRIMARY).expect("open");
            let mut index = txn.open_table(INDEX).expect("open");
            f(&mut primary, &mut index, &mut self.scratch.borrow_mut());
        }
        txn.commit().expect("commit");
    }

    fn put_in(primary: &mut Table<'_>, index: &mut Table<'_>, s: &mut Scratch, user: &User) {
        let key = user.id.to_be_bytes();
        let mut index_new = true;
        if let Some(old) = primary.get(&key[..]).expect("get") {
            let old = access(old.value(), true);
            if old.email.as_str() == user.email {
                index_new = false;
            } else {
                index_key(
                    &mut s.index_key,
                    |o| String::encode_archived_key(&old.email, o),
                    &key,
                );
                index.remove(&s.index_key[..]).expect("remove");
            }
        }
        if index_new {
            index_key(&mut s.index_key, |o| user.email.encode_key(o), &key);
            index.insert(&s.index_key[..], &[][..]).expect("insert");
        }
        let value = s.archiver.archive(user);
        primary.insert(&key[..], value).expect("insert");
    }
}

impl Subject for RawRedb {
    fn put_all(&self, users: &[User]) {
        self.write(|p, i, s| {
            for user in users {
                Self::put_in(p, i, s, user);
            }
        });
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            self.write(|p, i, s| Self::put_in(p, i, s, user));
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        self.write(|primary, index, s| {
            for id in ids {
                let key = id.to_be_bytes();
                {
                    let Some(old) = primary.get(&key[..]).expect("get") else {
                        continue;
                    };
                    let old = access(old.value(), true);
                    index_key(
                        &mut s.index_key,
                        |o| String::encode_archived_key(&old.email, o),
                        &key,
                    );
                }
                index.remove(&s.index_key[..]).expect("remove");
                primary.remove(&key[..]).expect("remove");
            }
        });
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY).expect("open");
        let mut sum = 0u64;
        for id in ids {
            let guard = table
                .get(&id.to_be_bytes()[..])
                .expect("get")
                .expect("present");
            sum = sum.wrapping_add(touch(access(guard.value(), self.validate)));
        }
        sum
    }

    fn get_by_email(&self, _keys: &[UserSecondaryKeys], emails: &[String]) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let primary = txn.open_table(PRIMARY).expect("open");
        let index = txn.open_table(INDEX).expect("open");
        let s = &mut *self.scratch.borrow_mut();
        let mut sum = 0u64;
        for email in emails {
            email_prefix(&mut s.index_key, &mut s.upper, email);
            let prefix_len = s.index_key.len();
            for entry in index
                .range::<&[u8]>(&s.index_key[..]..&s.upper[..])
                .expect("range")
            {
                let (key, _) = entry.expect("entry");
                let pk = &key.value()[prefix_len..];
                let guard = primary.get(pk).expect("get").expect("indexed record");
                sum = sum.wrapping_add(touch(access(guard.value(), self.validate)));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY).expect("open");
        let mut sum = 0u64;
        for entry in table.iter().expect("iter") {
            let (_, value) = entry.expect("entry");
            sum = sum.wrapping_add(touch(access(value.value(), self.validate)));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let txn = self.db.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY).expect("open");
        let mut sum = 0u64;
        for &start in starts {
            let (lo, hi) = (start.to_be_bytes(), (start + width).to_be_bytes());
            for entry in table.range::<&[u8]>(&lo[..]..&hi[..]).expect("range") {
                let (_, value) = entry.expect("entry");
                sum = sum.wrapping_add(touch(access(value.value(), self.validate)));
            }
        }
        sum
    }

    fn flush(&self) {
        // An empty commit with immediate durability persists every earlier one.
        let mut txn = self.db.begin_write().expect("begin_write");
        txn.set_durability(Durability::Immediate)
            .expect("durability");
        txn.commit().expect("commit");
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        let txn = self.db.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY).expect("open");
        ids.iter()
            .map(|id| {
                table.get(&id.to_be_bytes()[..]).expect("get").map(|guard| {
                    let archived = access(guard.value(), self.validate);
                    rkyv::deserialize::<User, rancor::Error>(archived).expect("deserialize")
                })
            })
            .collect()
    }
}
