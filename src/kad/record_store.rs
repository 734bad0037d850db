//! libp2p's [`RecordStore`] trait over [`KadStore`]: each call one transaction, storage
//! errors kept for [`KadStore::take_error`].

use std::borrow::Cow;
use std::fmt;

use libp2p::PeerId;
use libp2p::kad::store::{self, RecordStore};
use libp2p::kad::{ProviderRecord, Record, RecordKey};
use netabase_backend_api::Backend;

use super::KadStore;
use crate::traits::definition::NetabaseDefinitionTrait;

impl<D: NetabaseDefinitionTrait, B: Backend> RecordStore for KadStore<D, B> {
    type RecordsIter<'a>
        = std::vec::IntoIter<Cow<'a, Record>>
    where
        Self: 'a;
    type ProvidedIter<'a>
        = std::vec::IntoIter<Cow<'a, ProviderRecord>>
    where
        Self: 'a;

    fn get(&self, k: &RecordKey) -> Option<Cow<'_, Record>> {
        match self.try_get(k) {
            Ok(r) => r.map(Cow::Owned),
            Err(e) => {
                self.note(e);
                None
            }
        }
    }

    fn put(&mut self, r: Record) -> store::Result<()> {
        self.limit_or(self.try_put(&r), store::Error::MaxRecords)
    }

    fn remove(&mut self, k: &RecordKey) {
        if let Err(e) = self.try_remove(k) {
            self.note(e);
        }
    }

    fn records(&self) -> Self::RecordsIter<'_> {
        let mut out = Vec::new();
        let walked = self.visit_records(|r| {
            match r {
                Ok(r) => out.push(Cow::Owned(r)),
                Err(e) => self.note(e),
            }
            Ok(())
        });
        if let Err(e) = walked {
            self.note(e);
        }
        out.into_iter()
    }

    fn add_provider(&mut self, record: ProviderRecord) -> store::Result<()> {
        self.limit_or(
            self.try_add_provider(&record),
            store::Error::MaxProvidedKeys,
        )
    }

    fn providers(&self, key: &RecordKey) -> Vec<ProviderRecord> {
        self.try_providers(key).unwrap_or_else(|e| {
            self.note(e);
            Vec::new()
        })
    }

    fn provided(&self) -> Self::ProvidedIter<'_> {
        self.try_provided()
            .unwrap_or_else(|e| {
                self.note(e);
                Vec::new()
            })
            .into_iter()
            .map(Cow::Owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    fn remove_provider(&mut self, k: &RecordKey, p: &PeerId) {
        if let Err(e) = self.try_remove_provider(k, p) {
            self.note(e);
        }
    }
}

impl<D, B> fmt::Debug for KadStore<D, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KadStore")
            .field("local", &self.local)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
