//! A libp2p Kademlia [`RecordStore`](libp2p::kad::store::RecordStore) over any backend (feature `libp2p`, alias
//! `record-store`).
//!
//! [`KadStore`] keeps a DHT node's records, provider records and locally provided keys in
//! the same store file as the user's models, in four tables of its own (names starting with
//! `__`, so they never clash with a model table and the schema check ignores them):
//!
//! | Table | Key | Value |
//! | --- | --- | --- |
//! | [`RECORDS_TABLE`] | the record key | a record ([`format::encode_record`]) |
//! | [`PROVIDERS_TABLE`] | the record key | its provider list ([`format::encode_providers`]) |
//! | [`PROVIDED_TABLE`] | a key this node provides | a marker |
//! | [`KAD_META_TABLE`] | `local_peer` | the local peer id the provided set belongs to |
//!
//! Every operation runs in one transaction of the store; the `*_in` methods take the
//! caller's [`WriteTxn`], so a DHT record and the user's models can change atomically.
//!
//! * **Expiry survives restarts.** libp2p's deadlines are monotonic [`Instant`](std::time::Instant)s, which mean
//!   nothing after a restart; they are stored as wall-clock time (nanoseconds since the Unix
//!   epoch) and mapped back to an `Instant` on load. Expired records and providers are never
//!   handed out, do not count against the limits, and are removed on open, when a limit is
//!   reached, when their key is written, and by [`KadStore::purge_expired`].
//! * **Records from the network are untrusted.** The limits of libp2p's `MemoryStore`
//!   ([`MemoryStoreConfig`]: records, value bytes, providers per key, provider keys) are
//!   enforced with the same [`store::Error`]s and the same rules. Bytes in the tables that do
//!   not decode are [`NetabaseError::Corrupt`](crate::NetabaseError::Corrupt), never a panic.
//!
//! # Errors through the `RecordStore` trait
//!
//! libp2p's trait has no room for storage errors: its `get` returns an `Option`, and its
//! `put` can only say [`store::Error`]. The fallible inherent methods (`try_get`,
//! `try_put`, ...) return every error as a [`KadError`]. Through the trait, a failed read
//! reads as absent, a corrupt entry is skipped, a failed `put` is
//! [`store::Error::MaxRecords`] and a failed `add_provider` is
//! [`store::Error::MaxProvidedKeys`] (the record was not stored); the cause of the latest
//! such failure is kept for [`KadStore::take_error`].
//!
//! The trait's methods each begin their own transaction: do not hold a write transaction of
//! the same store on the thread that polls the swarm (the trait's write would wait for it).

mod convert;
mod error;
pub mod format;
mod record_store;

use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError};

use libp2p::PeerId;
use libp2p::kad::store::{self, MemoryStoreConfig};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use netabase_backend_api::{
    Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};

use crate::store::Store;
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::txn::WriteTxn;
use convert::{
    Clock, decode_providers_at, encode_err, is_new_beyond, len_usize, provider_to_stored,
    purge_records, record_to_stored, stored_to_provider, stored_to_record, write_providers,
};
use error::corrupt;
pub use error::{KadError, KadResult};

/// The table of records.
pub const RECORDS_TABLE: &str = "__netabase_kad_records";
/// The table of provider lists, one per key.
pub const PROVIDERS_TABLE: &str = "__netabase_kad_providers";
/// The set of keys the local node provides.
pub const PROVIDED_TABLE: &str = "__netabase_kad_provided";
/// The record store's own metadata.
pub const KAD_META_TABLE: &str = "__netabase_kad_meta";

const META_LOCAL_PEER: &[u8] = b"local_peer";

/// A Kademlia record store in a [`Store`]: see the [module documentation](self).
pub struct KadStore<D, B> {
    store: Arc<Store<D, B>>,
    local: PeerId,
    local_bytes: Vec<u8>,
    config: MemoryStoreConfig,
    last_error: Mutex<Option<KadError>>,
}

impl<D: NetabaseDefinitionTrait, B: Backend> KadStore<D, B> {
    /// A record store for the node `local` in `store`, with `MemoryStore`'s default limits.
    ///
    /// Removes expired entries, and when the store was last used by another peer id,
    /// rebuilds the provided set for `local` from the provider lists.
    pub fn new(store: Arc<Store<D, B>>, local: PeerId) -> KadResult<Self> {
        Self::with_config(store, local, MemoryStoreConfig::default())
    }

    /// Like [`new`](Self::new), with the given limits.
    pub fn with_config(
        store: Arc<Store<D, B>>,
        local: PeerId,
        config: MemoryStoreConfig,
    ) -> KadResult<Self> {
        let kad = KadStore {
            store,
            local,
            local_bytes: local.to_bytes(),
            config,
            last_error: Mutex::new(None),
        };
        let txn = kad.store.write()?;
        kad.adopt_local_peer(&txn)?;
        kad.purge_expired_in(&txn)?;
        txn.commit()?;
        Ok(kad)
    }

    /// The store the records live in.
    pub fn store(&self) -> &Arc<Store<D, B>> {
        &self.store
    }

    /// The local peer id (whose provider records form the provided set).
    pub fn local_peer_id(&self) -> PeerId {
        self.local
    }

    /// The limits in force.
    pub fn config(&self) -> &MemoryStoreConfig {
        &self.config
    }

    /// The latest error the `RecordStore` trait methods could not report, if any (taking
    /// it clears it).
    pub fn take_error(&self) -> Option<KadError> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// A write's outcome as libp2p's trait can say it: limits as they are, any other
    /// failure as `fallback` (the entry was not stored), its cause kept for `take_error`.
    fn limit_or(&self, outcome: KadResult<()>, fallback: store::Error) -> store::Result<()> {
        match outcome {
            Ok(()) => Ok(()),
            Err(KadError::Limit(e)) => Err(e),
            Err(e) => {
                self.note(e);
                Err(fallback)
            }
        }
    }

    fn note(&self, e: KadError) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(e);
    }

    fn adopt_local_peer(&self, txn: &WriteTxn<'_, D, B>) -> KadResult<()> {
        let backend = txn.backend_txn();
        let mut meta = backend.open_table(KAD_META_TABLE)?;
        let same = match meta.get(META_LOCAL_PEER)? {
            Some(stored) => {
                format::decode_marker(stored.as_ref())
                    .map_err(|e| corrupt(KAD_META_TABLE, META_LOCAL_PEER, e))?
                    == self.local_bytes.as_slice()
            }
            None => false,
        };
        if same {
            return Ok(());
        }
        meta.insert(META_LOCAL_PEER, &format::encode_marker(&self.local_bytes))?;
        drop(meta);
        let mut provided = backend.open_table(PROVIDED_TABLE)?;
        provided.clear()?;
        let providers = backend.open_table(PROVIDERS_TABLE)?;
        for entry in providers.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            let (key, value) = entry?;
            let list = decode_providers_at(key.as_ref(), value.as_ref())?;
            if list.iter().any(|p| p.provider == self.local_bytes) {
                provided.insert(key.as_ref(), &format::encode_marker(&[]))?;
            }
        }
        Ok(())
    }

    /// Removes every expired record and provider; returns how many entries went.
    pub fn purge_expired(&self) -> KadResult<usize> {
        let txn = self.store.write()?;
        let n = self.purge_expired_in(&txn)?;
        txn.commit()?;
        Ok(n)
    }

    /// [`purge_expired`](Self::purge_expired) inside the caller's transaction. Corrupt
    /// entries are an error (and nothing is committed by the caller's `?`).
    pub fn purge_expired_in(&self, txn: &WriteTxn<'_, D, B>) -> KadResult<usize> {
        let clock = Clock::now();
        Ok(purge_records(txn.backend_txn(), clock)?
            + self.purge_providers(txn.backend_txn(), clock)?)
    }

    fn purge_providers<W: WriteTransaction>(&self, backend: &W, clock: Clock) -> KadResult<usize> {
        let mut removed = 0;
        let mut providers = backend.open_table(PROVIDERS_TABLE)?;
        let mut changed = Vec::new();
        for entry in providers.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            let (key, value) = entry?;
            let list = decode_providers_at(key.as_ref(), value.as_ref())?;
            let before = list.len();
            let kept: Vec<_> = list.into_iter().filter(|p| clock.live(p.expires)).collect();
            if kept.len() != before {
                removed += before - kept.len();
                changed.push((key.as_ref().to_vec(), kept));
            }
        }
        let mut provided = backend.open_table(PROVIDED_TABLE)?;
        for (key, kept) in &changed {
            write_providers(&mut providers, key, kept)?;
            if !kept.iter().any(|p| p.provider == self.local_bytes) {
                provided.remove(key)?;
            }
        }
        Ok(removed)
    }

    /// The live record under `key`, if any. An expired one reads as absent (and is left for
    /// the next write or purge to remove).
    pub fn try_get(&self, key: &RecordKey) -> KadResult<Option<Record>> {
        let clock = Clock::now();
        let txn = self.store.read()?;
        let table = txn.backend_txn().open_table(RECORDS_TABLE)?;
        let Some(bytes) = table.get(key.as_ref())? else {
            return Ok(None);
        };
        let stored = format::decode_record(bytes.as_ref())
            .map_err(|e| corrupt(RECORDS_TABLE, key.as_ref(), e))?;
        if !clock.live(stored.expires) {
            return Ok(None);
        }
        stored_to_record(key.as_ref(), stored, clock)
            .map(Some)
            .map_err(|e| corrupt(RECORDS_TABLE, key.as_ref(), e))
    }

    /// Stores `record` (replacing the record under its key), within `MemoryStore`'s limits.
    pub fn try_put(&self, record: &Record) -> KadResult<()> {
        let txn = self.store.write()?;
        self.put_in(&txn, record)?;
        txn.commit()?;
        Ok(())
    }

    /// [`try_put`](Self::try_put) inside the caller's transaction.
    pub fn put_in(&self, txn: &WriteTxn<'_, D, B>, record: &Record) -> KadResult<()> {
        if record.value.len() >= self.config.max_value_bytes {
            return Err(store::Error::ValueTooLarge.into());
        }
        let clock = Clock::now();
        let backend = txn.backend_txn();
        let key = record.key.as_ref();
        let max = self.config.max_records;
        let full = |table: &_| is_new_beyond(table, key, max);
        let mut table = backend.open_table(RECORDS_TABLE)?;
        if full(&table)? {
            // Expired records do not count: make room by removing them first.
            drop(table);
            purge_records(backend, clock)?;
            table = backend.open_table(RECORDS_TABLE)?;
            if full(&table)? {
                return Err(store::Error::MaxRecords.into());
            }
        }
        let bytes = format::encode_record(&record_to_stored(record, clock)).map_err(encode_err)?;
        table.insert(key, &bytes)?;
        Ok(())
    }

    /// Removes the record under `key`; returns whether there was one.
    pub fn try_remove(&self, key: &RecordKey) -> KadResult<bool> {
        let txn = self.store.write()?;
        let removed = self.remove_in(&txn, key)?;
        txn.commit()?;
        Ok(removed)
    }

    /// [`try_remove`](Self::try_remove) inside the caller's transaction.
    pub fn remove_in(&self, txn: &WriteTxn<'_, D, B>, key: &RecordKey) -> KadResult<bool> {
        let mut table = txn.backend_txn().open_table(RECORDS_TABLE)?;
        Ok(table.remove(key.as_ref())?)
    }

    /// Every live record, in key order. Fails on the first corrupt one.
    pub fn try_records(&self) -> KadResult<Vec<Record>> {
        let mut out = Vec::new();
        self.visit_records(|r| {
            out.push(r?);
            Ok(())
        })?;
        Ok(out)
    }

    fn visit_records(
        &self,
        mut f: impl FnMut(KadResult<Record>) -> KadResult<()>,
    ) -> KadResult<()> {
        let clock = Clock::now();
        let txn = self.store.read()?;
        let table = txn.backend_txn().open_table(RECORDS_TABLE)?;
        for entry in table.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            let (key, value) = entry?;
            let key = key.as_ref();
            let record = match format::decode_record(value.as_ref()) {
                Ok(s) if !clock.live(s.expires) => continue,
                Ok(s) => {
                    stored_to_record(key, s, clock).map_err(|e| corrupt(RECORDS_TABLE, key, e))
                }
                Err(e) => Err(corrupt(RECORDS_TABLE, key, e)),
            };
            f(record)?;
        }
        Ok(())
    }

    /// Adds (or updates) a provider of a key, within `MemoryStore`'s limits: a new key
    /// beyond `max_provided_keys` is [`store::Error::MaxProvidedKeys`]; a new provider of a
    /// key that already has `max_providers_per_key` live providers is ignored (as libp2p
    /// does, against Sybil floods). Expired providers of the key are dropped.
    pub fn try_add_provider(&self, record: &ProviderRecord) -> KadResult<()> {
        let txn = self.store.write()?;
        self.add_provider_in(&txn, record)?;
        txn.commit()?;
        Ok(())
    }

    /// [`try_add_provider`](Self::try_add_provider) inside the caller's transaction.
    pub fn add_provider_in(
        &self,
        txn: &WriteTxn<'_, D, B>,
        record: &ProviderRecord,
    ) -> KadResult<()> {
        let clock = Clock::now();
        let key = record.key.as_ref();
        let backend = txn.backend_txn();
        let mut table = backend.open_table(PROVIDERS_TABLE)?;
        let existing = table.get(key)?.map(|v| v.as_ref().to_vec());
        let mut list = match existing {
            Some(bytes) => decode_providers_at(key, &bytes)?,
            None => {
                if len_usize(table.len()?) >= self.config.max_provided_keys {
                    // Keys whose providers all expired do not count: remove them first.
                    drop(table);
                    self.purge_providers(backend, clock)?;
                    table = backend.open_table(PROVIDERS_TABLE)?;
                    if len_usize(table.len()?) >= self.config.max_provided_keys {
                        return Err(store::Error::MaxProvidedKeys.into());
                    }
                }
                Vec::new()
            }
        };
        list.retain(|p| clock.live(p.expires));
        let new = provider_to_stored(record, clock);
        let full = list.len() >= self.config.max_providers_per_key;
        match list.iter_mut().find(|p| p.provider == new.provider) {
            Some(slot) => *slot = new,
            None if full => {
                // Full: the new provider is ignored; expired ones dropped above still go.
                return write_providers(&mut table, key, &list);
            }
            None => list.push(new),
        }
        write_providers(&mut table, key, &list)?;
        if record.provider == self.local {
            let mut provided = backend.open_table(PROVIDED_TABLE)?;
            provided.insert(key, &format::encode_marker(&[]))?;
        }
        Ok(())
    }

    /// The live providers of `key`, in the order they were first added.
    pub fn try_providers(&self, key: &RecordKey) -> KadResult<Vec<ProviderRecord>> {
        let clock = Clock::now();
        let txn = self.store.read()?;
        let table = txn.backend_txn().open_table(PROVIDERS_TABLE)?;
        let Some(bytes) = table.get(key.as_ref())? else {
            return Ok(Vec::new());
        };
        decode_providers_at(key.as_ref(), bytes.as_ref())?
            .iter()
            .filter(|p| clock.live(p.expires))
            .map(|p| {
                stored_to_provider(key.as_ref(), p, clock)
                    .map_err(|e| corrupt(PROVIDERS_TABLE, key.as_ref(), e))
            })
            .collect()
    }

    /// The local node's live provider records, in key order.
    pub fn try_provided(&self) -> KadResult<Vec<ProviderRecord>> {
        let clock = Clock::now();
        let txn = self.store.read()?;
        let backend = txn.backend_txn();
        let provided = backend.open_table(PROVIDED_TABLE)?;
        let providers = backend.open_table(PROVIDERS_TABLE)?;
        let mut out = Vec::new();
        for entry in provided.range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)? {
            let (key, _) = entry?;
            let key = key.as_ref();
            let Some(bytes) = providers.get(key)? else {
                continue;
            };
            let list = decode_providers_at(key, bytes.as_ref())?;
            if let Some(p) = list
                .iter()
                .find(|p| p.provider == self.local_bytes && clock.live(p.expires))
            {
                out.push(
                    stored_to_provider(key, p, clock)
                        .map_err(|e| corrupt(PROVIDERS_TABLE, key, e))?,
                );
            }
        }
        Ok(out)
    }

    /// Removes `provider` from the providers of `key`.
    pub fn try_remove_provider(&self, key: &RecordKey, provider: &PeerId) -> KadResult<()> {
        let txn = self.store.write()?;
        self.remove_provider_in(&txn, key, provider)?;
        txn.commit()?;
        Ok(())
    }

    /// [`try_remove_provider`](Self::try_remove_provider) inside the caller's transaction.
    pub fn remove_provider_in(
        &self,
        txn: &WriteTxn<'_, D, B>,
        key: &RecordKey,
        provider: &PeerId,
    ) -> KadResult<()> {
        let key = key.as_ref();
        let backend = txn.backend_txn();
        let mut table = backend.open_table(PROVIDERS_TABLE)?;
        let existing = table.get(key)?.map(|v| v.as_ref().to_vec());
        if let Some(bytes) = existing {
            let mut list = decode_providers_at(key, &bytes)?;
            let peer = provider.to_bytes();
            if let Some(i) = list.iter().position(|p| p.provider == peer) {
                list.remove(i);
                write_providers(&mut table, key, &list)?;
            }
        }
        if *provider == self.local {
            let mut provided = backend.open_table(PROVIDED_TABLE)?;
            provided.remove(key)?;
        }
        Ok(())
    }
}
