//! Leaves: packed keys and their values (small ones inline, large ones shared).

use std::sync::Arc;

use super::packed::Packed;

/// A leaf: entries in key order.
#[derive(Clone, Default)]
pub(crate) struct Leaf {
    pub(crate) keys: Packed,
    pub(crate) values: Values,
}

/// The largest value a leaf holds inline; larger ones are shared behind an `Arc`, so that
/// copying a leaf never copies more than `LEAF_MAX * INLINE_MAX` value bytes.
pub(crate) const INLINE_MAX: usize = 256;

/// The values of a leaf, in key order. Small values live in one buffer of the leaf (a scan
/// reads them as it reads the leaf, and a put allocates nothing per value); a value larger
/// than [`INLINE_MAX`] is an `Arc<[u8]>`, so copying the leaf clones a reference count.
///
/// Inline bytes are appended in the order values are written; replaced or removed ones
/// become garbage, and the buffer is rewritten in key order once garbage is half of it.
#[derive(Clone, Default)]
pub(crate) struct Values {
    slots: Vec<Slot>,
    bytes: Vec<u8>,
    /// Bytes of `bytes` no slot refers to.
    garbage: usize,
}

#[derive(Clone)]
enum Slot {
    Inline { start: usize, len: usize },
    Shared(Arc<[u8]>),
}

impl Values {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        match &self.slots[i] {
            Slot::Inline { start, len } => &self.bytes[*start..*start + *len],
            Slot::Shared(value) => value,
        }
    }

    fn slot(&mut self, value: &[u8]) -> Slot {
        if value.len() <= INLINE_MAX {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(value);
            Slot::Inline {
                start,
                len: value.len(),
            }
        } else {
            Slot::Shared(Arc::from(value))
        }
    }

    pub(crate) fn insert(&mut self, i: usize, value: &[u8]) {
        let slot = self.slot(value);
        self.slots.insert(i, slot);
    }

    pub(crate) fn replace(&mut self, i: usize, value: &[u8]) {
        let slot = self.slot(value);
        let old = std::mem::replace(&mut self.slots[i], slot);
        self.discard(old);
    }

    pub(crate) fn remove(&mut self, i: usize) {
        let old = self.slots.remove(i);
        self.discard(old);
    }

    fn discard(&mut self, old: Slot) {
        if let Slot::Inline { len, .. } = old {
            self.garbage += len;
            if self.garbage * 2 > self.bytes.len() {
                self.compact();
            }
        }
    }

    /// Rewrites the inline bytes in key order, without garbage.
    fn compact(&mut self) {
        let mut bytes = Vec::with_capacity(self.bytes.len() - self.garbage);
        for slot in &mut self.slots {
            if let Slot::Inline { start, len } = slot {
                let new_start = bytes.len();
                bytes.extend_from_slice(&self.bytes[*start..*start + *len]);
                *start = new_start;
            }
        }
        self.bytes = bytes;
        self.garbage = 0;
    }

    /// Splits off the values from `i` on.
    pub(crate) fn split_off(&mut self, i: usize) -> Values {
        let mut right = Values {
            slots: self.slots.split_off(i),
            bytes: Vec::new(),
            garbage: 0,
        };
        // Both halves are rewritten from the old buffer, in key order.
        let old = std::mem::take(&mut self.bytes);
        for (half, slots) in [
            (&mut right.bytes, &mut right.slots),
            (&mut self.bytes, &mut self.slots),
        ] {
            for slot in slots.iter_mut() {
                if let Slot::Inline { start, len } = slot {
                    let new_start = half.len();
                    half.extend_from_slice(&old[*start..*start + *len]);
                    *start = new_start;
                }
            }
        }
        self.garbage = 0;
        right
    }
}
