//! The kit run against a deliberately simple reference backend (copied values, a `BTreeMap`
//! per table), in two capability profiles, so that the checks that no shipped backend triggers
//! (read-committed reads, a small entry limit) are themselves tested.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Harness;
use crate::{
    Backend, BackendError, Capabilities, Direction, ReadTable, ReadTransaction, Result, WriteTable,
    WriteTransaction, in_bounds, is_empty_range,
};

type State = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

trait Profile: Send + Sync + 'static {
    const CAPS: Capabilities;
}

struct SnapshotSmallLimit;
impl Profile for SnapshotSmallLimit {
    const CAPS: Capabilities = Capabilities::new("reference-snapshot")
        .with_snapshot_reads(true)
        .with_max_entry_len(Some(1024));
}

struct ReadCommitted;
impl Profile for ReadCommitted {
    const CAPS: Capabilities = Capabilities::new("reference-read-committed");
}

struct Reference<P> {
    committed: Mutex<Arc<State>>,
    writer: Mutex<()>,
    _profile: PhantomData<P>,
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(BackendError::InvalidConfig {
            message: "empty table name".into(),
        });
    }
    Ok(())
}

fn range_of(
    table: Option<&BTreeMap<Vec<u8>, Vec<u8>>>,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
) -> std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>> {
    let mut out: Vec<Result<(Vec<u8>, Vec<u8>)>> = Vec::new();
    if let Some(table) = table
        && !is_empty_range(lower, upper)
    {
        out = table
            .iter()
            .filter(|(k, _)| in_bounds(k, lower, upper))
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect();
    }
    if direction == Direction::Reverse {
        out.reverse();
    }
    out.into_iter()
}

impl<P: Profile> Backend for Reference<P> {
    type ReadTxn<'db> = RefRead<'db, P>;
    type WriteTxn<'db> = RefWrite<'db, P>;
    const CAPABILITIES: Capabilities = P::CAPS;

    fn begin_read(&self) -> Result<RefRead<'_, P>> {
        let snapshot = P::CAPS
            .snapshot_reads
            .then(|| self.committed.lock().expect("lock").clone());
        Ok(RefRead {
            backend: self,
            snapshot,
        })
    }

    fn begin_write(&self) -> Result<RefWrite<'_, P>> {
        let lock = self.writer.lock().expect("writer lock");
        let state = (**self.committed.lock().expect("lock")).clone();
        Ok(RefWrite {
            backend: self,
            _lock: lock,
            state: RefCell::new(state),
            open: RefCell::new(HashSet::new()),
        })
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}

struct RefRead<'db, P> {
    backend: &'db Reference<P>,
    snapshot: Option<Arc<State>>,
}

impl<P: Profile> ReadTransaction for RefRead<'_, P> {
    type Table<'t>
        = RefReadTable<'t, P>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<RefReadTable<'_, P>> {
        check_name(name)?;
        Ok(RefReadTable {
            txn: self,
            name: name.to_owned(),
        })
    }
}

struct RefReadTable<'t, P> {
    txn: &'t RefRead<'t, P>,
    name: String,
}

impl<P: Profile> RefReadTable<'_, P> {
    fn state(&self) -> Arc<State> {
        match &self.txn.snapshot {
            Some(s) => s.clone(),
            None => self.txn.backend.committed.lock().expect("lock").clone(),
        }
    }
}

impl<P: Profile> ReadTable for RefReadTable<'_, P> {
    type Guard<'g>
        = Vec<u8>
    where
        Self: 'g;
    type Range<'g>
        = std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .state()
            .get(&self.name)
            .and_then(|t| t.get(key).cloned()))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>> {
        Ok(range_of(
            self.state().get(&self.name),
            lower,
            upper,
            direction,
        ))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.state().get(&self.name).map_or(0, |t| t.len() as u64))
    }
}

struct RefWrite<'db, P> {
    backend: &'db Reference<P>,
    _lock: MutexGuard<'db, ()>,
    state: RefCell<State>,
    open: RefCell<HashSet<String>>,
}

impl<P: Profile> WriteTransaction for RefWrite<'_, P> {
    type Table<'t>
        = RefWriteTable<'t, P>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<RefWriteTable<'_, P>> {
        check_name(name)?;
        if !self.open.borrow_mut().insert(name.to_owned()) {
            return Err(BackendError::TableAlreadyOpen {
                table: name.to_owned(),
            });
        }
        Ok(RefWriteTable {
            txn: self,
            name: name.to_owned(),
        })
    }

    fn commit(self) -> Result<()> {
        *self.backend.committed.lock().expect("lock") = Arc::new(self.state.take());
        Ok(())
    }

    fn abort(self) -> Result<()> {
        Ok(())
    }
}

struct RefWriteTable<'t, P: Profile> {
    txn: &'t RefWrite<'t, P>,
    name: String,
}

impl<P: Profile> Drop for RefWriteTable<'_, P> {
    fn drop(&mut self) {
        self.txn.open.borrow_mut().remove(&self.name);
    }
}

impl<P: Profile> ReadTable for RefWriteTable<'_, P> {
    type Guard<'g>
        = Vec<u8>
    where
        Self: 'g;
    type Range<'g>
        = std::vec::IntoIter<Result<(Vec<u8>, Vec<u8>)>>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let state = self.txn.state.borrow();
        Ok(state.get(&self.name).and_then(|t| t.get(key).cloned()))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<Self::Range<'_>> {
        let state = self.txn.state.borrow();
        Ok(range_of(state.get(&self.name), lower, upper, direction))
    }

    fn len(&self) -> Result<u64> {
        let state = self.txn.state.borrow();
        Ok(state.get(&self.name).map_or(0, |t| t.len() as u64))
    }
}

impl<P: Profile> WriteTable for RefWriteTable<'_, P> {
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if let Some(max) = P::CAPS.max_entry_len {
            let len = key.len() + value.len();
            if len > max {
                return Err(BackendError::ValueTooLarge { len, max });
            }
        }
        let mut state = self.txn.state.borrow_mut();
        state
            .entry(self.name.clone())
            .or_default()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let mut state = self.txn.state.borrow_mut();
        Ok(state
            .get_mut(&self.name)
            .is_some_and(|t| t.remove(key).is_some()))
    }

    fn clear(&mut self) -> Result<()> {
        self.txn.state.borrow_mut().remove(&self.name);
        Ok(())
    }
}

struct RefHarness<P>(Reference<P>);

impl<P: Profile> Harness for RefHarness<P> {
    type Backend = Reference<P>;

    fn new() -> Self {
        RefHarness(Reference {
            committed: Mutex::new(Arc::new(State::new())),
            writer: Mutex::new(()),
            _profile: PhantomData,
        })
    }

    fn backend(&self) -> &Reference<P> {
        &self.0
    }

    fn reopen(&mut self) {
        unreachable!("the reference backend does not claim persistence");
    }
}

type SnapshotHarness = RefHarness<SnapshotSmallLimit>;
type ReadCommittedHarness = RefHarness<ReadCommitted>;

crate::conformance_tests!(snapshot_small_limit: SnapshotHarness);
crate::conformance_tests!(read_committed: ReadCommittedHarness);

/// Drives a future of the sync-to-async adapter, which is ready at its first poll.
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("an adapter future was not ready at once"),
    }
}

// The async kit, on the same two profiles (read-committed reads and a small entry limit
// exercise its capability-dependent checks).
crate::async_conformance_tests!(
    block_on = ready;
    async_snapshot_small_limit: crate::async_conformance::Adapted<SnapshotHarness>
);
crate::async_conformance_tests!(
    block_on = ready;
    async_read_committed: crate::async_conformance::Adapted<ReadCommittedHarness>
);
