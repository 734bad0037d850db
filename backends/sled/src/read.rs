//! Read transactions and their tables.

use std::fmt;
use std::ops::Bound;
use std::sync::OnceLock;

use netabase_backend_api::{Direction, ReadTable, ReadTransaction, Result, is_empty_range};
use sled::Tree;

use crate::backend::{SledBackend, check_name};
use crate::error::map_sled_error;
use crate::guard::SledGuard;
use crate::range::SledRange;

/// A read transaction. sled has no snapshots: every read sees the latest committed state
/// (read-committed; see the crate docs).
pub struct SledReadTxn<'db> {
    pub(crate) backend: &'db SledBackend,
}

impl fmt::Debug for SledReadTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledReadTxn").finish_non_exhaustive()
    }
}

impl ReadTransaction for SledReadTxn<'_> {
    type Table<'t>
        = SledReadTable<'t>
    where
        Self: 't;

    fn open_table(&self, name: &str) -> Result<SledReadTable<'_>> {
        check_name(name)?;
        let tree = OnceLock::new();
        if let Some(existing) = self.backend.existing_tree(name)? {
            let _ = tree.set(existing);
        }
        Ok(SledReadTable {
            backend: self.backend,
            name: name.to_owned(),
            tree,
        })
    }
}

/// A table in a read transaction. A table that does not exist reads as empty (and is not
/// created); if a later commit creates it, the handle sees it (read-committed).
pub struct SledReadTable<'t> {
    backend: &'t SledBackend,
    name: String,
    tree: OnceLock<Tree>,
}

impl fmt::Debug for SledReadTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledReadTable")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SledReadTable<'_> {
    /// The table's tree, looked up again while it does not exist.
    fn tree(&self) -> Result<Option<&Tree>> {
        if let Some(tree) = self.tree.get() {
            return Ok(Some(tree));
        }
        Ok(self
            .backend
            .existing_tree(&self.name)?
            .map(|tree| self.tree.get_or_init(|| tree)))
    }
}

impl ReadTable for SledReadTable<'_> {
    type Guard<'g>
        = SledGuard<'g>
    where
        Self: 'g;
    type Range<'g>
        = SledRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<SledGuard<'_>>> {
        let Some(tree) = self.tree()? else {
            return Ok(None);
        };
        let value = tree.get(key).map_err(map_sled_error)?;
        Ok(value.map(SledGuard::shared))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<SledRange<'_>> {
        if is_empty_range(lower, upper) {
            return Ok(SledRange::empty());
        }
        let tree = self.tree()?.map(|tree| tree_range(tree, lower, upper));
        Ok(SledRange::new(tree, None, direction))
    }

    fn len(&self) -> Result<u64> {
        match self.tree()? {
            Some(tree) => tree_len(tree),
            None => Ok(0),
        }
    }
}

pub(crate) fn tree_range(tree: &Tree, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> sled::Iter {
    tree.range::<&[u8], _>((lower, upper))
}

/// The number of entries of a tree, reporting errors (sled's `Tree::len` counts them).
pub(crate) fn tree_len(tree: &Tree) -> Result<u64> {
    let mut n = 0;
    for item in tree.iter() {
        item.map_err(map_sled_error)?;
        n += 1;
    }
    Ok(n)
}
