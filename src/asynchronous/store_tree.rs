//! The auto-commit handle of an [`AsyncStore`]: [`AsyncStoreTree`].

use std::borrow::Borrow;
use std::marker::PhantomData;

use netabase_backend_api::AsyncBackend;

use super::AsyncStore;
use crate::error::Result;
use crate::key::KeyArg;
use crate::traits::definition::NetabaseDefinitionTrait;
use crate::traits::model::{KeyField, NetabaseModelTrait, SecondaryKey};

/// The auto-commit handle of an [`AsyncStore`] on model `M`: each call is one transaction
/// and returns owned values.
pub struct AsyncStoreTree<'s, D, B, M> {
    store: &'s AsyncStore<D, B>,
    _model: PhantomData<fn() -> M>,
}

impl<'s, D, B, M> AsyncStoreTree<'s, D, B, M> {
    pub(super) fn new(store: &'s AsyncStore<D, B>) -> Self {
        AsyncStoreTree {
            store,
            _model: PhantomData,
        }
    }
}

impl<D, B, M> AsyncStoreTree<'_, D, B, M>
where
    D: NetabaseDefinitionTrait,
    B: AsyncBackend,
    M: NetabaseModelTrait<Definition = D>,
{
    /// Inserts or replaces `model`, in its own transaction.
    pub async fn put(&self, model: impl Borrow<M>) -> Result<()> {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.put(model).await?;
        txn.commit().await
    }

    /// Puts every model of `models` in one transaction: all or nothing.
    pub async fn put_many<I>(&self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.put_many(models).await?;
        txn.commit().await
    }

    /// The record stored under `key`, deserialized.
    pub async fn get(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.get(key).await?;
        found.map(|r| r.deserialize()).transpose()
    }

    /// Removes the record stored under `key`; returns it.
    pub async fn remove(&self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        let txn = self.store.write().await?;
        let removed = txn.open_tree::<M>().await?.remove(key).await?;
        txn.commit().await?;
        Ok(removed)
    }

    /// Removes the records stored under `keys` in one transaction; returns how many existed.
    pub async fn remove_many<I>(&self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let txn = self.store.write().await?;
        let removed = txn.open_tree::<M>().await?.remove_many(keys).await?;
        txn.commit().await?;
        Ok(removed)
    }

    /// Every record whose secondary key `K` holds `value`, deserialized.
    pub async fn get_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<Vec<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.get_by(key, value).await?;
        found.iter().map(|r| r.deserialize()).collect()
    }

    /// How many records hold `value` in the secondary key `K`.
    pub async fn count_by<K: SecondaryKey<M>>(
        &self,
        key: KeyField<K>,
        value: impl KeyArg<K>,
    ) -> Result<u64> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        tree.count_by(key, value).await
    }

    /// Every record, in primary-key order, deserialized.
    pub async fn all(&self) -> Result<Vec<M>> {
        let txn = self.store.read().await?;
        let tree = txn.open_tree::<M>().await?;
        let found = tree.iter().await?;
        found.iter().map(|r| r.deserialize()).collect()
    }

    /// The number of records.
    pub async fn len(&self) -> Result<u64> {
        let txn = self.store.read().await?;
        txn.open_tree::<M>().await?.len().await
    }

    /// Whether there are no records.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    /// Removes every record of this model.
    pub async fn clear(&self) -> Result<()> {
        let txn = self.store.write().await?;
        txn.open_tree::<M>().await?.clear().await?;
        txn.commit().await
    }
}
