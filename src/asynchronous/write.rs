//! The writes of an [`AsyncTree`]: the same sans-I/O steps as the synchronous tree, driven
//! through the async table contract.

use std::borrow::Borrow;

use netabase_backend_api::{AsyncWriteTable, Direction};

use super::AsyncTree;
use crate::error::Result;
use crate::guard::{Ref, deserialize_archived};
use crate::key::KeyArg;
use crate::steps::{UNIQUE_CHECK_READS, Write, WriteSteps};
use crate::traits::model::NetabaseModelTrait;
use crate::tree::poison_on_err;

impl<'t, M: NetabaseModelTrait, T: AsyncWriteTable> AsyncTree<'t, M, T> {
    /// Inserts `model`, or replaces the record with the same primary key, and updates every
    /// secondary index in the same transaction. A unique key held by another record is
    /// [`NetabaseError::UniqueViolation`](crate::NetabaseError::UniqueViolation) and nothing
    /// of this put is written.
    pub async fn put(&mut self, model: impl Borrow<M>) -> Result<()> {
        let model = model.borrow();
        self.steps.start_put(model)?;
        if let Some(index) = &self.index {
            {
                let old = match self.primary.get(self.steps.key()).await? {
                    Some(g) => Some(Ref::<M, _>::new(g, M::INFO.table, self.steps.key())?),
                    None => None,
                };
                self.steps
                    .plan_put::<M>(old.as_ref().map(|r| r.archived()), model);
            }
            for check in self.steps.unique_checks() {
                let (lower, upper) = check.bounds(&mut self.scratch);
                let found = index
                    .range(lower, upper, Direction::Forward, Some(UNIQUE_CHECK_READS))
                    .await?;
                for (key, _) in found {
                    check.judge::<M>(key.as_ref())?;
                }
            }
        }
        let result = apply_writes(&self.steps, &mut self.primary, self.index.as_mut()).await;
        poison_on_err(self.poison, result)
    }

    /// Puts every model of `models`, in order; all or nothing (a failure after the first
    /// put poisons the transaction, so `commit` rolls back).
    pub async fn put_many<I>(&mut self, models: I) -> Result<()>
    where
        I: IntoIterator,
        I::Item: Borrow<M>,
    {
        for (i, model) in models.into_iter().enumerate() {
            if let Err(e) = self.put(model).await {
                if i > 0
                    && let Some(p) = self.poison
                {
                    p.set(true);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Removes the record stored under `key` and its index entries; returns it,
    /// deserialized.
    pub async fn remove(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<Option<M>> {
        self.steps.start_remove::<M>(key);
        let taken = {
            let Some(old) = self.primary.get(self.steps.key()).await? else {
                return Ok(None);
            };
            let old = Ref::<M, _>::new(old, M::INFO.table, self.steps.key())?;
            if self.index.is_some() {
                self.steps.plan_remove::<M>(old.archived());
            }
            deserialize_archived::<M>(old.archived())?
        };
        let result = apply_writes(&self.steps, &mut self.primary, self.index.as_mut()).await;
        poison_on_err(self.poison, result)?;
        Ok(Some(taken))
    }

    /// Removes the record stored under `key`; returns whether it existed.
    pub async fn delete(&mut self, key: impl KeyArg<M::PrimaryKey>) -> Result<bool> {
        Ok(self.remove(key).await?.is_some())
    }

    /// Removes the records stored under `keys`; returns how many existed.
    pub async fn remove_many<I>(&mut self, keys: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: KeyArg<M::PrimaryKey>,
    {
        let mut removed = 0;
        for key in keys {
            removed += usize::from(self.delete(key).await?);
        }
        Ok(removed)
    }

    /// Removes every record and index entry of this model.
    pub async fn clear(&mut self) -> Result<()> {
        let result = async {
            if let Some(index) = &mut self.index {
                index.clear().await?;
            }
            self.primary.clear().await
        }
        .await;
        poison_on_err(self.poison, result)
    }
}

/// Performs the writes of [`WriteSteps`] on async tables.
async fn apply_writes<T: AsyncWriteTable>(
    steps: &WriteSteps,
    primary: &mut T,
    mut index: Option<&mut T>,
) -> netabase_backend_api::Result<()> {
    for write in steps.writes() {
        match (write, index.as_deref_mut()) {
            (Write::IndexRemove(key), Some(index)) => {
                index.remove(key).await?;
            }
            (Write::IndexInsert(key), Some(index)) => index.insert(key, &[]).await?,
            (Write::IndexRemove(_) | Write::IndexInsert(_), None) => {}
            (Write::PrimaryInsert(key, value), _) => primary.insert(key, value).await?,
            (Write::PrimaryRemove(key), _) => {
                primary.remove(key).await?;
            }
        }
    }
    Ok(())
}
