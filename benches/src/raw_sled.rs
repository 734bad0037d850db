//! The raw sled baseline: the typed layer's work written by hand on sled 0.34's own API.
//!
//! The same format as [`raw_redb`](crate::raw_redb), in two sled trees `User` and
//! `User.idx`. A write transaction is one multi-tree sled transaction over both trees (the
//! only way sled writes two trees atomically); a put reads the old record inside it to find
//! the stale index entry. Reads are plain `Tree::get` / `range` / `scan_prefix`
//! (read-committed: sled 0.34 has no snapshots). Reads validate with `rkyv::access`.

use std::cell::RefCell;
use std::path::Path;

use netabase_store::key::Key;
use netabase_store::rkyv::{self, rancor};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::raw_redb::{Scratch, access, email_prefix, index_key};
use crate::{Role, Spec, Subject, User, UserSecondaryKeys, touch};

/// The page cache, the same size as the redb subjects'.
pub const CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The spec of `raw_sled`.
pub fn spec() -> Spec {
    Spec {
        name: "raw_sled".into(),
        backend: "sled",
        role: Role::Raw,
        open: |d| Box::new(RawSled::open(d)),
        wall: true,
        baseline: None,
    }
}

/// Raw sled.
pub struct RawSled {
    // Trees before the database, so they drop first.
    primary: sled::Tree,
    index: sled::Tree,
    db: sled::Db,
    scratch: RefCell<Scratch>,
}

type TxResult = Result<(), ConflictableTransactionError<()>>;

impl RawSled {
    /// Opens a sled database in `dir/db.sled` (256 MiB cache, sled's default background
    /// flush; no flush per commit).
    pub fn open(dir: &Path) -> RawSled {
        let db = sled::Config::new()
            .path(dir.join("db.sled"))
            .cache_capacity(CACHE_BYTES)
            .open()
            .expect("open sled");
        RawSled {
            primary: db.open_tree(crate::PRIMARY_TABLE).expect("open tree"),
            index: db.open_tree(crate::INDEX_TABLE).expect("open tree"),
            db,
            scratch: RefCell::new(Scratch::default()),
        }
    }

    fn write(&self, f: impl Fn(&TransactionalTree, &TransactionalTree, &mut Scratch) -> TxResult) {
        (&self.primary, &self.index)
            .transaction(|(p, i)| f(p, i, &mut self.scratch.borrow_mut()))
            .expect("transaction");
    }

    fn put_in(
        p: &TransactionalTree,
        i: &TransactionalTree,
        s: &mut Scratch,
        user: &User,
    ) -> TxResult {
        let key = user.id.to_be_bytes();
        let mut index_new = true;
        if let Some(old) = p.get(key)? {
            let old = access(&old, true);
            if old.email.as_str() == user.email {
                index_new = false;
            } else {
                index_key(
                    &mut s.index_key,
                    |o| String::encode_archived_key(&old.email, o),
                    &key,
                );
                i.remove(&s.index_key[..])?;
            }
        }
        if index_new {
            index_key(&mut s.index_key, |o| user.email.encode_key(o), &key);
            i.insert(&s.index_key[..], &[][..])?;
        }
        p.insert(&key[..], s.archiver.archive(user))?;
        Ok(())
    }
}

impl Subject for RawSled {
    fn put_all(&self, users: &[User]) {
        self.write(|p, i, s| users.iter().try_for_each(|u| Self::put_in(p, i, s, u)));
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            self.write(|p, i, s| Self::put_in(p, i, s, user));
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        self.write(|p, i, s| {
            for id in ids {
                let key = id.to_be_bytes();
                let Some(old) = p.get(key)? else { continue };
                let old = access(&old, true);
                index_key(
                    &mut s.index_key,
                    |o| String::encode_archived_key(&old.email, o),
                    &key,
                );
                i.remove(&s.index_key[..])?;
                p.remove(&key[..])?;
            }
            Ok(())
        });
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let mut sum = 0u64;
        for id in ids {
            let value = self
                .primary
                .get(id.to_be_bytes())
                .expect("get")
                .expect("present");
            sum = sum.wrapping_add(touch(access(&value, true)));
        }
        sum
    }

    fn get_by_email(&self, _keys: &[UserSecondaryKeys], emails: &[String]) -> u64 {
        let s = &mut *self.scratch.borrow_mut();
        let mut sum = 0u64;
        for email in emails {
            email_prefix(&mut s.index_key, &mut s.upper, email);
            let prefix_len = s.index_key.len();
            for entry in self.index.range(&s.index_key[..]..&s.upper[..]) {
                let (key, _) = entry.expect("entry");
                let value = self
                    .primary
                    .get(&key[prefix_len..])
                    .expect("get")
                    .expect("indexed record");
                sum = sum.wrapping_add(touch(access(&value, true)));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let mut sum = 0u64;
        for entry in self.primary.iter() {
            let (_, value) = entry.expect("entry");
            sum = sum.wrapping_add(touch(access(&value, true)));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let mut sum = 0u64;
        for &start in starts {
            let (lo, hi) = (start.to_be_bytes(), (start + width).to_be_bytes());
            for entry in self.primary.range(lo..hi) {
                let (_, value) = entry.expect("entry");
                sum = sum.wrapping_add(touch(access(&value, true)));
            }
        }
        sum
    }

    fn flush(&self) {
        self.db.flush().expect("flush");
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        ids.iter()
            .map(|id| {
                self.primary
                    .get(id.to_be_bytes())
                    .expect("get")
                    .map(|value| {
                        rkyv::deserialize::<User, rancor::Error>(access(&value, true))
                            .expect("deserialize")
                    })
            })
            .collect()
    }
}
