//! Ranges: a committed tree's entries merged with a write transaction's buffer.

use std::collections::btree_map;
use std::fmt;

use netabase_backend_api::{Direction, Result};
use sled::IVec;

use crate::error::map_sled_error;
use crate::guard::SledGuard;

pub(crate) type BufferRange<'g> = btree_map::Range<'g, Vec<u8>, Option<Vec<u8>>>;
pub(crate) type BufferItem<'g> = (&'g Vec<u8>, &'g Option<Vec<u8>>);

/// An iterator over the `(key, value)` pairs of a range, in the requested direction: the
/// committed tree's entries merged with a write transaction's buffer (buffered entries shadow
/// the tree's, buffered removes hide them).
pub struct SledRange<'g> {
    tree: Option<sled::Iter>,
    buffer: Option<BufferRange<'g>>,
    direction: Direction,
    next_tree: Option<(IVec, IVec)>,
    next_buffer: Option<BufferItem<'g>>,
}

impl<'g> SledRange<'g> {
    pub(crate) fn empty() -> Self {
        SledRange::new(None, None, Direction::Forward)
    }

    pub(crate) fn new(
        tree: Option<sled::Iter>,
        buffer: Option<BufferRange<'g>>,
        direction: Direction,
    ) -> Self {
        SledRange {
            tree,
            buffer,
            direction,
            next_tree: None,
            next_buffer: None,
        }
    }

    /// Fills the tree lookahead; an error ends the range after it is reported.
    fn fill_tree(&mut self) -> Result<()> {
        if self.next_tree.is_some() {
            return Ok(());
        }
        let Some(iter) = &mut self.tree else {
            return Ok(());
        };
        let item = match self.direction {
            Direction::Forward => iter.next(),
            Direction::Reverse => iter.next_back(),
        };
        match item {
            Some(Ok(pair)) => self.next_tree = Some(pair),
            Some(Err(e)) => {
                self.tree = None;
                self.buffer = None;
                self.next_buffer = None;
                return Err(map_sled_error(e));
            }
            None => self.tree = None,
        }
        Ok(())
    }

    fn fill_buffer(&mut self) {
        if self.next_buffer.is_some() {
            return;
        }
        let Some(iter) = &mut self.buffer else {
            return;
        };
        let item = match self.direction {
            Direction::Forward => iter.next(),
            Direction::Reverse => iter.next_back(),
        };
        match item {
            Some(pair) => self.next_buffer = Some(pair),
            None => self.buffer = None,
        }
    }
}

impl<'g> Iterator for SledRange<'g> {
    type Item = Result<(SledGuard<'g>, SledGuard<'g>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Err(e) = self.fill_tree() {
                return Some(Err(e));
            }
            self.fill_buffer();
            let take_tree = match (&self.next_tree, &self.next_buffer) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((tree_key, _)), Some((buffer_key, _))) => {
                    let order = tree_key.as_ref().cmp(buffer_key.as_slice());
                    let order = match self.direction {
                        Direction::Forward => order,
                        Direction::Reverse => order.reverse(),
                    };
                    match order {
                        std::cmp::Ordering::Less => true,
                        std::cmp::Ordering::Equal => {
                            // The buffered entry shadows the committed one.
                            self.next_tree = None;
                            false
                        }
                        std::cmp::Ordering::Greater => false,
                    }
                }
            };
            if take_tree {
                let (key, value) = self.next_tree.take()?;
                return Some(Ok((SledGuard::shared(key), SledGuard::shared(value))));
            }
            let (key, value) = self.next_buffer.take()?;
            if let Some(value) = value {
                return Some(Ok((SledGuard::borrowed(key), SledGuard::borrowed(value))));
            }
            // A buffered remove: skip it (and the committed entry it shadowed).
        }
    }
}

impl fmt::Debug for SledRange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledRange")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}
