//! Tables (read and write) and ranges: borrowed from a snapshot or a write transaction's
//! working copy.

use std::cell::RefCell;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use netabase_backend_api::{Direction, ReadTable, Result, WriteTable, is_empty_range};

use crate::{Table, Working, tree};

/// A table in a read transaction, borrowed from its snapshot. A table that does not exist
/// reads as empty.
#[derive(Clone, Copy)]
pub struct MemoryReadTable<'t> {
    pub(crate) table: Option<&'t Table>,
}

impl fmt::Debug for MemoryReadTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReadTable")
            .field("len", &self.table.map_or(0, Table::len))
            .finish()
    }
}

impl ReadTable for MemoryReadTable<'_> {
    type Guard<'g>
        = &'g [u8]
    where
        Self: 'g;
    type Range<'g>
        = MemoryRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(self.table.and_then(|t| get(t, key)))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<MemoryRange<'_>> {
        Ok(match self.table {
            Some(table) => MemoryRange::new(table, lower, upper, direction),
            None => MemoryRange::empty(),
        })
    }

    fn len(&self) -> Result<u64> {
        Ok(self.table.map_or(0, |t| t.len() as u64))
    }
}

/// A table in a write transaction. It owns the table's map while it lives (reads and writes
/// touch no shared state) and puts it back into the transaction's working copy when dropped.
pub struct MemoryWriteTable<'t> {
    pub(crate) working: &'t RefCell<Working>,
    pub(crate) name: Arc<str>,
    pub(crate) table: Table,
}

impl fmt::Debug for MemoryWriteTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryWriteTable")
            .field("name", &self.name)
            .field("len", &self.table.len())
            .finish()
    }
}

impl Drop for MemoryWriteTable<'_> {
    fn drop(&mut self) {
        let mut working = self.working.borrow_mut();
        working.open.remove(&self.name);
        let table = std::mem::take(&mut self.table);
        // Empty tables are not stored: a missing table reads as empty.
        if !table.is_empty() {
            working.tables.insert(Arc::clone(&self.name), table);
        }
    }
}

impl ReadTable for MemoryWriteTable<'_> {
    type Guard<'g>
        = &'g [u8]
    where
        Self: 'g;
    type Range<'g>
        = MemoryRange<'g>
    where
        Self: 'g;

    fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(get(&self.table, key))
    }

    fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Result<MemoryRange<'_>> {
        Ok(MemoryRange::new(&self.table, lower, upper, direction))
    }

    fn len(&self) -> Result<u64> {
        Ok(self.table.len() as u64)
    }
}

impl WriteTable for MemoryWriteTable<'_> {
    /// Copies `key` and `value` into the table (there is no size limit beyond memory).
    fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.table.insert(key, value);
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.table.remove(key))
    }

    fn clear(&mut self) -> Result<()> {
        self.table = Table::new();
        Ok(())
    }
}

/// The value under `key`, borrowed from the table.
pub(crate) fn get<'g>(table: &'g Table, key: &[u8]) -> Option<&'g [u8]> {
    table.get(key)
}

/// An iterator over the `(key, value)` pairs of a range, in the requested direction, borrowed
/// from the table. It never fails (every item is `Ok`) and never allocates.
#[derive(Clone)]
pub struct MemoryRange<'g> {
    inner: Option<tree::Iter<'g>>,
    direction: Direction,
}

impl<'g> MemoryRange<'g> {
    fn empty() -> Self {
        MemoryRange {
            inner: None,
            direction: Direction::Forward,
        }
    }

    fn new(
        table: &'g Table,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        direction: Direction,
    ) -> Self {
        // Inverted ranges are answered up front, without a descent.
        if is_empty_range(lower, upper) {
            return MemoryRange::empty();
        }
        MemoryRange {
            inner: Some(table.range(lower, upper, direction == Direction::Reverse)),
            direction,
        }
    }
}

impl<'g> Iterator for MemoryRange<'g> {
    type Item = Result<(&'g [u8], &'g [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        // The tree's iterator walks in the direction it was made with.
        self.inner.as_mut()?.next().map(Ok)
    }
}

impl fmt::Debug for MemoryRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRange")
            .field("done", &self.inner.as_ref().is_none_or(tree::Iter::is_done))
            .field("direction", &self.direction)
            .finish()
    }
}
