//! The byte-level contract (`netabase_backend_api`) driven by hand, with the same algorithm
//! as the raw baselines: the baseline for backends that have no engine API of their own
//! (memory), and, on redb, a way to tell the backend adapter's cost from the typed layer's.

use std::cell::RefCell;
use std::ops::Bound;
use std::path::Path;

use netabase_store::backend::{
    Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_store::key::Key;
use netabase_store::rkyv::{self, rancor};

use crate::raw_redb::{Scratch, access, email_prefix, index_key};
use crate::typed::BenchBackend;
use crate::{INDEX_TABLE, PRIMARY_TABLE, Role, Spec, Subject, User, UserSecondaryKeys, touch};

/// The spec of `bytes_<backend>`; `wall` says whether the wall-time harness runs it.
pub fn spec<B: BenchBackend>(wall: bool) -> Spec {
    Spec {
        name: format!("bytes_{}", B::NAME),
        backend: B::NAME,
        role: Role::Bytes,
        open: |d| Box::new(Bytes::<B>::open(d)),
        wall,
        baseline: None,
    }
}

/// The contract of backend `B`, driven by hand.
pub struct Bytes<B> {
    backend: B,
    scratch: RefCell<Scratch>,
}

fn put_in<T: WriteTable>(p: &mut T, i: &mut T, s: &mut Scratch, user: &User) {
    let key = user.id.to_be_bytes();
    let mut index_new = true;
    if let Some(old) = p.get(&key).expect("get") {
        let old = access(old.as_ref(), true);
        if old.email.as_str() == user.email {
            index_new = false;
        } else {
            index_key(
                &mut s.index_key,
                |o| String::encode_archived_key(&old.email, o),
                &key,
            );
            i.remove(&s.index_key).expect("remove");
        }
    }
    if index_new {
        index_key(&mut s.index_key, |o| user.email.encode_key(o), &key);
        i.insert(&s.index_key, &[]).expect("insert");
    }
    p.insert(&key, s.archiver.archive(user)).expect("insert");
}

impl<B: BenchBackend> Bytes<B> {
    /// Opens the backend in `dir`, configured as the typed store configures it.
    pub fn open(dir: &Path) -> Self {
        Bytes {
            backend: B::open_backend(dir),
            scratch: RefCell::new(Scratch::default()),
        }
    }
}

impl<B: BenchBackend> Subject for Bytes<B> {
    fn put_all(&self, users: &[User]) {
        let txn = self.backend.begin_write().expect("begin_write");
        {
            let mut p = txn.open_table(PRIMARY_TABLE).expect("open");
            let mut i = txn.open_table(INDEX_TABLE).expect("open");
            let s = &mut *self.scratch.borrow_mut();
            for user in users {
                put_in(&mut p, &mut i, s, user);
            }
        }
        txn.commit().expect("commit");
    }

    fn put_each(&self, users: &[User]) {
        for user in users {
            let txn = self.backend.begin_write().expect("begin_write");
            {
                let mut p = txn.open_table(PRIMARY_TABLE).expect("open");
                let mut i = txn.open_table(INDEX_TABLE).expect("open");
                put_in(&mut p, &mut i, &mut self.scratch.borrow_mut(), user);
            }
            txn.commit().expect("commit");
        }
    }

    fn delete_all(&self, ids: &[u64]) {
        let txn = self.backend.begin_write().expect("begin_write");
        {
            let mut p = txn.open_table(PRIMARY_TABLE).expect("open");
            let mut i = txn.open_table(INDEX_TABLE).expect("open");
            let s = &mut *self.scratch.borrow_mut();
            for id in ids {
                let key = id.to_be_bytes();
                {
                    let Some(old) = p.get(&key).expect("get") else {
                        continue;
                    };
                    let old = access(old.as_ref(), true);
                    index_key(
                        &mut s.index_key,
                        |o| String::encode_archived_key(&old.email, o),
                        &key,
                    );
                }
                i.remove(&s.index_key).expect("remove");
                p.remove(&key).expect("remove");
            }
        }
        txn.commit().expect("commit");
    }

    fn get(&self, ids: &[u64]) -> u64 {
        let txn = self.backend.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY_TABLE).expect("open");
        let mut sum = 0u64;
        for id in ids {
            let guard = table.get(&id.to_be_bytes()).expect("get").expect("present");
            sum = sum.wrapping_add(touch(access(guard.as_ref(), true)));
        }
        sum
    }

    fn get_by_email(&self, _keys: &[UserSecondaryKeys], emails: &[String]) -> u64 {
        let txn = self.backend.begin_read().expect("begin_read");
        let primary = txn.open_table(PRIMARY_TABLE).expect("open");
        let index = txn.open_table(INDEX_TABLE).expect("open");
        let s = &mut *self.scratch.borrow_mut();
        let mut sum = 0u64;
        for email in emails {
            email_prefix(&mut s.index_key, &mut s.upper, email);
            let prefix_len = s.index_key.len();
            let range = index
                .range(
                    Bound::Included(&s.index_key),
                    Bound::Excluded(&s.upper),
                    Direction::Forward,
                )
                .expect("range");
            for entry in range {
                let (key, _) = entry.expect("entry");
                let pk = &key.as_ref()[prefix_len..];
                let guard = primary.get(pk).expect("get").expect("indexed record");
                sum = sum.wrapping_add(touch(access(guard.as_ref(), true)));
            }
        }
        sum
    }

    fn scan(&self) -> u64 {
        let txn = self.backend.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY_TABLE).expect("open");
        let mut sum = 0u64;
        let range = table
            .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
            .expect("range");
        for entry in range {
            let (_, value) = entry.expect("entry");
            sum = sum.wrapping_add(touch(access(value.as_ref(), true)));
        }
        sum
    }

    fn scan_ranges(&self, starts: &[u64], width: u64) -> u64 {
        let txn = self.backend.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY_TABLE).expect("open");
        let mut sum = 0u64;
        for &start in starts {
            let (lo, hi) = (start.to_be_bytes(), (start + width).to_be_bytes());
            let range = table
                .range(
                    Bound::Included(&lo),
                    Bound::Excluded(&hi),
                    Direction::Forward,
                )
                .expect("range");
            for entry in range {
                let (_, value) = entry.expect("entry");
                sum = sum.wrapping_add(touch(access(value.as_ref(), true)));
            }
        }
        sum
    }

    fn flush(&self) {
        self.backend.flush().expect("flush");
    }

    fn get_many(&self, ids: &[u64]) -> Vec<Option<User>> {
        let txn = self.backend.begin_read().expect("begin_read");
        let table = txn.open_table(PRIMARY_TABLE).expect("open");
        ids.iter()
            .map(|id| {
                table.get(&id.to_be_bytes()).expect("get").map(|guard| {
                    rkyv::deserialize::<User, rancor::Error>(access(guard.as_ref(), true))
                        .expect("deserialize")
                })
            })
            .collect()
    }
}
