//! The table structure: a persistent (copy-on-write) B+ tree with packed keys.
//!
//! A [`Tree`] maps key bytes to value bytes in byte order. Cloning one is O(1): nodes are
//! shared behind `Arc`s, and a change copies only the nodes on the path from the root to the
//! change ([`Arc::make_mut`]), leaving every other clone untouched. That is what lets a write
//! transaction start from the committed state in O(1) while readers keep reading it.
//!
//! Lookups are what the layout is for. The keys of a node are packed into one byte buffer
//! (with a table of end offsets), so a binary search inside a node reads contiguous memory
//! instead of following a pointer per comparison, and nodes are wide (up to [`LEAF_MAX`]
//! entries, [`BRANCH_MAX`] children), so a tree of a million keys is three or four levels deep.
//! Values of up to [`INLINE_MAX`] bytes live in their leaf's own buffer (a scan reads them
//! with the leaf; a put allocates nothing per value); larger ones are `Arc<[u8]>`, so copying
//! a leaf copies at most `LEAF_MAX * INLINE_MAX` value bytes.
//!
//! Iteration keeps no stack (so a range allocates nothing): a range holds its current leaf
//! and position, and when a leaf is used up it finds the next one by descending from the root
//! past the leaf's last key (once per leaf, so O(log n / [`LEAF_MAX`]) per entry).
//!
//! Removing entries never leaves an empty node: an emptied leaf is unlinked from its parent,
//! an emptied branch from its own, and a root branch with one child is replaced by that child.
//! Nodes are not merged when they shrink, so a tree that lost most of its entries keeps its
//! height until it is rebuilt; that costs lookups a level at most, never correctness.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

/// The most entries a leaf holds; a leaf that grows past it splits in two.
pub(crate) const LEAF_MAX: usize = 128;
/// The most children a branch holds; a branch that grows past it splits in two.
pub(crate) const BRANCH_MAX: usize = 128;

/// A sorted sequence of byte strings packed into one buffer, with a search index.
///
/// Every string starts with the same `skip` bytes (a common prefix, not necessarily the
/// longest), and `heads[i]` holds the next 8 bytes of string `i` as a big-endian number
/// (zero-padded) and the length of the rest. A binary search compares those, which sit side
/// by side in memory, and reads a string's bytes only when two heads are equal and one of the
/// strings is longer than `skip + 8` bytes: for short keys (integers, tuples of them) a
/// lookup never reads the packed bytes at all.
#[derive(Clone, Default)]
struct Packed {
    bytes: Vec<u8>,
    /// `ends[i]` is where string `i` ends in `bytes` (it starts where `i - 1` ends).
    ends: Vec<usize>,
    /// The length of a prefix every string shares.
    skip: usize,
    /// `heads[i]` is [`head`]`(string i, skip)`.
    heads: Vec<Head>,
}

/// A string's bytes after a shared prefix of `skip`, summarised: see [`head`].
#[derive(Clone, Copy, PartialEq, Eq)]
struct Head {
    /// The next 8 bytes, big-endian, zero-padded.
    bytes: u64,
    /// How many bytes follow the prefix (saturating at `u32::MAX`).
    rest: u32,
}

/// The head of `s` after its first `skip` bytes. For two strings sharing their first `skip`
/// bytes: if their `bytes` differ, they order as their strings do (padding compares like the
/// end of a string); if not and both `rest`s are at most 8, the shorter string is the smaller
/// (it is a prefix of the other) and equal `rest`s mean equal strings; otherwise the heads
/// decide nothing.
fn head(s: &[u8], skip: usize) -> Head {
    let tail = s.get(skip..).unwrap_or_default();
    let n = tail.len().min(8);
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&tail[..n]);
    Head {
        bytes: u64::from_be_bytes(b),
        rest: u32::try_from(tail.len()).unwrap_or(u32::MAX),
    }
}

/// The length of the common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A key prepared for comparisons with the strings of one [`Packed`].
struct Probe<'k> {
    key: &'k [u8],
    /// How the key compares with the shared prefix: if not `Equal`, with every string.
    prefix: Ordering,
    head: Head,
}

impl Packed {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] }
    }

    fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.ends[i]]
    }

    fn first(&self) -> &[u8] {
        self.get(0)
    }

    fn last(&self) -> &[u8] {
        self.get(self.len() - 1)
    }

    fn probe<'k>(&self, key: &'k [u8]) -> Probe<'k> {
        let prefix = if self.skip == 0 {
            Ordering::Equal
        } else {
            let shared = &self.bytes[..self.skip];
            let n = self.skip.min(key.len());
            // A key shorter than the prefix (and equal to its start) is below every string.
            key[..n]
                .cmp(&shared[..n])
                .then(key.len().min(self.skip).cmp(&self.skip))
        };
        Probe {
            key,
            prefix,
            head: head(key, self.skip),
        }
    }

    /// How string `i` compares with the probe's key.
    fn cmp_at(&self, i: usize, probe: &Probe<'_>) -> Ordering {
        if probe.prefix != Ordering::Equal {
            return probe.prefix.reverse();
        }
        let h = self.heads[i];
        match h.bytes.cmp(&probe.head.bytes) {
            Ordering::Equal if h.rest <= 8 && probe.head.rest <= 8 => h.rest.cmp(&probe.head.rest),
            Ordering::Equal => self.get(i)[self.skip..].cmp(&probe.key[self.skip..]),
            other => other,
        }
    }

    /// The number of leading strings below `key` (`inclusive`: at most `key`).
    fn count_below(&self, key: &[u8], inclusive: bool) -> usize {
        let probe = self.probe(key);
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let below = match self.cmp_at(mid, &probe) {
                Ordering::Less => true,
                Ordering::Equal => inclusive,
                Ordering::Greater => false,
            };
            if below {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Binary search for `key`: `Ok(i)` if string `i` equals it, else `Err(i)` where it would
    /// be inserted.
    fn search(&self, key: &[u8]) -> Result<usize, usize> {
        let probe = self.probe(key);
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.cmp_at(mid, &probe) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Recomputes the shared prefix (the longest one) and every head.
    fn reindex(&mut self) {
        self.skip = match self.len() {
            0 => 0,
            n => common_prefix(self.get(0), self.get(n - 1)),
        };
        let heads = (0..self.len())
            .map(|i| head(self.get(i), self.skip))
            .collect();
        self.heads = heads;
    }

    fn insert(&mut self, i: usize, key: &[u8]) {
        let at = self.start(i);
        self.bytes.splice(at..at, key.iter().copied());
        self.ends.insert(i, at + key.len());
        for end in &mut self.ends[i + 1..] {
            *end += key.len();
        }
        // The strings are sorted, so every one shares the prefix of the first and the last.
        let n = self.len();
        if n == 1 || common_prefix(self.get(0), self.get(n - 1)) < self.skip {
            self.reindex();
        } else {
            self.heads.insert(i, head(key, self.skip));
        }
    }

    fn remove(&mut self, i: usize) {
        let (start, end) = (self.start(i), self.ends[i]);
        self.bytes.drain(start..end);
        self.ends.remove(i);
        for e in &mut self.ends[i..] {
            *e -= end - start;
        }
        // The remaining strings still share the prefix (a longer one may exist: not needed).
        self.heads.remove(i);
        if self.ends.is_empty() {
            self.skip = 0;
        }
    }

    /// Splits off the strings from `i` on.
    fn split_off(&mut self, i: usize) -> Packed {
        let at = self.start(i);
        let bytes = self.bytes.split_off(at);
        let ends = self.ends.split_off(i).into_iter().map(|e| e - at).collect();
        let mut right = Packed {
            bytes,
            ends,
            skip: 0,
            heads: Vec::new(),
        };
        self.heads.truncate(i);
        self.reindex();
        right.reindex();
        right
    }
}

/// A leaf: entries in key order.
#[derive(Clone, Default)]
struct Leaf {
    keys: Packed,
    values: Values,
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
struct Values {
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
    fn len(&self) -> usize {
        self.slots.len()
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    fn get(&self, i: usize) -> &[u8] {
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

    fn insert(&mut self, i: usize, value: &[u8]) {
        let slot = self.slot(value);
        self.slots.insert(i, slot);
    }

    fn replace(&mut self, i: usize, value: &[u8]) {
        let slot = self.slot(value);
        let old = std::mem::replace(&mut self.slots[i], slot);
        self.discard(old);
    }

    fn remove(&mut self, i: usize) {
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
    fn split_off(&mut self, i: usize) -> Values {
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

/// A branch: `children[i]` holds the keys in `[seps[i - 1], seps[i])` (unbounded at the
/// ends). Every child is non-empty.
#[derive(Clone)]
struct Branch {
    seps: Packed,
    children: Vec<Node>,
}

impl Branch {
    /// The child that holds `key` if the tree holds it, and the first child that can hold
    /// keys above it.
    fn child_for(&self, key: &[u8]) -> usize {
        self.seps.count_below(key, true)
    }
}

#[derive(Clone)]
enum Node {
    Leaf(Arc<Leaf>),
    Branch(Arc<Branch>),
}

/// One table: a persistent ordered map from key bytes to value bytes. See the [module
/// docs](self).
#[derive(Clone, Default)]
pub(crate) struct Tree {
    root: Option<Node>,
    len: usize,
}

/// A position in a tree: a leaf and an index into it.
#[derive(Clone, Copy)]
struct Pos<'g> {
    leaf: &'g Leaf,
    idx: usize,
}

impl<'g> Pos<'g> {
    fn key(self) -> &'g [u8] {
        self.leaf.keys.get(self.idx)
    }

    fn value(self) -> &'g [u8] {
        self.leaf.values.get(self.idx)
    }

    fn same(self, other: Pos<'_>) -> bool {
        std::ptr::eq(self.leaf, other.leaf) && self.idx == other.idx
    }
}

/// The first entry of `node` whose key lies above `lower`.
fn seek_first<'g>(node: &'g Node, lower: Bound<&[u8]>) -> Option<Pos<'g>> {
    match node {
        Node::Leaf(leaf) => {
            let idx = match lower {
                Bound::Unbounded => 0,
                Bound::Included(l) => leaf.keys.count_below(l, false),
                Bound::Excluded(l) => leaf.keys.count_below(l, true),
            };
            (idx < leaf.keys.len()).then_some(Pos { leaf, idx })
        }
        Node::Branch(branch) => {
            let i = match lower {
                Bound::Unbounded => 0,
                Bound::Included(l) | Bound::Excluded(l) => branch.child_for(l),
            };
            // Every key of child `i + 1` is at least `seps[i]`, which is above `lower`.
            seek_first(&branch.children[i], lower).or_else(|| {
                branch
                    .children
                    .get(i + 1)
                    .and_then(|c| seek_first(c, Bound::Unbounded))
            })
        }
    }
}

/// The last entry of `node` whose key lies below `upper`.
fn seek_last<'g>(node: &'g Node, upper: Bound<&[u8]>) -> Option<Pos<'g>> {
    match node {
        Node::Leaf(leaf) => {
            let n = match upper {
                Bound::Unbounded => leaf.keys.len(),
                Bound::Included(u) => leaf.keys.count_below(u, true),
                Bound::Excluded(u) => leaf.keys.count_below(u, false),
            };
            n.checked_sub(1).map(|idx| Pos { leaf, idx })
        }
        Node::Branch(branch) => {
            let i = match upper {
                Bound::Unbounded => branch.children.len() - 1,
                Bound::Included(u) => branch.seps.count_below(u, true),
                Bound::Excluded(u) => branch.seps.count_below(u, false),
            };
            // Every key of child `i - 1` is below `seps[i - 1]`, which is below `upper`.
            seek_last(&branch.children[i], upper).or_else(|| {
                i.checked_sub(1)
                    .and_then(|j| seek_last(&branch.children[j], Bound::Unbounded))
            })
        }
    }
}

/// What inserting into a node did: whether the key is new, and the right half if the node
/// split (with the smallest key of that half).
struct Inserted {
    added: bool,
    split: Option<(Vec<u8>, Node)>,
}

/// Where a node of `len` entries that just grew at index `at` splits: in the middle, except
/// when it grew at its end (keys inserted in ascending order, as a bulk load does), where the
/// left node is left full, so ascending inserts fill nodes instead of leaving them half empty.
fn split_point(len: usize, at: usize) -> usize {
    if at + 1 == len { len - 1 } else { len / 2 }
}

fn insert(node: &mut Node, key: &[u8], value: &[u8]) -> Inserted {
    match node {
        Node::Leaf(leaf) => {
            let leaf = Arc::make_mut(leaf);
            let (added, at) = match leaf.keys.search(key) {
                Ok(i) => {
                    leaf.values.replace(i, value);
                    (false, i)
                }
                Err(i) => {
                    leaf.keys.insert(i, key);
                    leaf.values.insert(i, value);
                    (true, i)
                }
            };
            let split = (leaf.values.len() > LEAF_MAX).then(|| {
                let mid = split_point(leaf.values.len(), at);
                let right = Leaf {
                    keys: leaf.keys.split_off(mid),
                    values: leaf.values.split_off(mid),
                };
                (right.keys.first().to_vec(), Node::Leaf(Arc::new(right)))
            });
            Inserted { added, split }
        }
        Node::Branch(branch) => {
            let branch = Arc::make_mut(branch);
            let i = branch.child_for(key);
            let mut inserted = insert(&mut branch.children[i], key, value);
            if let Some((sep, right)) = inserted.split.take() {
                branch.seps.insert(i, &sep);
                branch.children.insert(i + 1, right);
            }
            if branch.children.len() > BRANCH_MAX {
                let mid = split_point(branch.children.len(), i + 1);
                let children = branch.children.split_off(mid);
                // `seps[mid - 1]` separates the halves: it moves up to the parent.
                let mut seps = branch.seps.split_off(mid - 1);
                let promoted = seps.first().to_vec();
                seps.remove(0);
                let right = Branch { seps, children };
                inserted.split = Some((promoted, Node::Branch(Arc::new(right))));
            }
            inserted
        }
    }
}

/// Removes `key` from `node` (which holds it); returns whether `node` is now empty.
fn remove(node: &mut Node, key: &[u8]) -> bool {
    match node {
        Node::Leaf(leaf) => {
            let leaf = Arc::make_mut(leaf);
            if let Ok(i) = leaf.keys.search(key) {
                leaf.keys.remove(i);
                leaf.values.remove(i);
            }
            leaf.values.is_empty()
        }
        Node::Branch(branch) => {
            let branch = Arc::make_mut(branch);
            let i = branch.child_for(key);
            if remove(&mut branch.children[i], key) {
                branch.children.remove(i);
                if branch.seps.len() > 0 {
                    // Child `i` was bounded by `seps[i - 1]` and `seps[i]`; dropping the lower
                    // one (or, for the first child, the upper one) keeps the invariant.
                    branch.seps.remove(i.saturating_sub(1));
                }
            }
            branch.children.is_empty()
        }
    }
}

impl Tree {
    /// An empty tree.
    pub(crate) fn new() -> Tree {
        Tree::default()
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree has no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let mut node = self.root.as_ref()?;
        loop {
            match node {
                Node::Branch(branch) => node = &branch.children[branch.child_for(key)],
                Node::Leaf(leaf) => {
                    return leaf.keys.search(key).ok().map(|i| leaf.values.get(i));
                }
            }
        }
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        let Some(root) = &mut self.root else {
            let mut keys = Packed::default();
            keys.insert(0, key);
            let mut values = Values::default();
            values.insert(0, value);
            self.root = Some(Node::Leaf(Arc::new(Leaf { keys, values })));
            self.len = 1;
            return;
        };
        let inserted = insert(root, key, value);
        if inserted.added {
            self.len += 1;
        }
        if let Some((sep, right)) = inserted.split {
            let mut seps = Packed::default();
            seps.insert(0, &sep);
            let left = self.root.take().expect("the root was just written");
            self.root = Some(Node::Branch(Arc::new(Branch {
                seps,
                children: vec![left, right],
            })));
        }
    }

    /// Removes `key`; returns whether it was present. Copies nothing when it was not.
    pub(crate) fn remove(&mut self, key: &[u8]) -> bool {
        if self.get(key).is_none() {
            return false;
        }
        let root = self.root.as_mut().expect("a tree holding a key has a root");
        if remove(root, key) {
            self.root = None;
        }
        // A root branch with one child is replaced by the child.
        while let Some(Node::Branch(branch)) = &self.root {
            if branch.children.len() != 1 {
                break;
            }
            let child = branch.children[0].clone();
            self.root = Some(child);
        }
        self.len -= 1;
        true
    }

    /// The entries within the bounds, walked forward or (`reverse`) backward.
    pub(crate) fn range(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
    ) -> Iter<'_> {
        let empty = Iter {
            root: None,
            next: None,
            last: None,
            reverse,
        };
        let Some(root) = &self.root else {
            return empty;
        };
        let Some(first) = seek_first(root, lower) else {
            return empty;
        };
        // The last entry is usually in the first one's leaf (a short range, such as the
        // entries of one secondary key): found there, it needs no second descent.
        let leaf = first.leaf;
        let below = match upper {
            Bound::Unbounded => leaf.keys.len(),
            Bound::Included(u) => leaf.keys.count_below(u, true),
            Bound::Excluded(u) => leaf.keys.count_below(u, false),
        };
        let last = if below < leaf.keys.len() {
            // A key of this leaf lies above the range, so every later leaf does too.
            match below.checked_sub(1) {
                Some(idx) if idx >= first.idx => Pos { leaf, idx },
                _ => return empty,
            }
        } else {
            match seek_last(root, upper) {
                Some(last) if first.key() <= last.key() => last,
                _ => return empty,
            }
        };
        let (next, last) = if reverse {
            (last, first)
        } else {
            (first, last)
        };
        Iter {
            root: Some(root),
            next: Some(next),
            last: Some(last),
            reverse,
        }
    }
}

/// An iterator over the entries of a range of a [`Tree`]. It allocates nothing.
#[derive(Clone)]
pub(crate) struct Iter<'g> {
    root: Option<&'g Node>,
    /// The entry to yield next (`None` when done).
    next: Option<Pos<'g>>,
    /// The last entry to yield.
    last: Option<Pos<'g>>,
    reverse: bool,
}

impl Iter<'_> {
    /// Whether the iterator has nothing left to yield.
    pub(crate) fn is_done(&self) -> bool {
        self.next.is_none()
    }
}

impl<'g> Iterator for Iter<'g> {
    type Item = (&'g [u8], &'g [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let pos = self.next?;
        let last = self.last?;
        self.next = if pos.same(last) {
            None
        } else if !self.reverse {
            if pos.idx + 1 < pos.leaf.values.len() {
                Some(Pos {
                    idx: pos.idx + 1,
                    ..pos
                })
            } else {
                let root = self.root?;
                seek_first(root, Bound::Excluded(pos.leaf.keys.last()))
            }
        } else if pos.idx > 0 {
            Some(Pos {
                idx: pos.idx - 1,
                ..pos
            })
        } else {
            let root = self.root?;
            seek_last(root, Bound::Excluded(pos.leaf.keys.first()))
        };
        Some((pos.key(), pos.value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator (SplitMix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    fn key(rng: &mut Rng, space: u64) -> Vec<u8> {
        let n = rng.next() % space;
        // Keys of different lengths, so packed offsets and prefixes are exercised.
        let mut k = n.to_be_bytes().to_vec();
        k.truncate(4 + (n % 5) as usize);
        k
    }

    fn check(tree: &Tree, model: &BTreeMap<Vec<u8>, Vec<u8>>, rng: &mut Rng, space: u64) {
        assert_eq!(tree.len(), model.len());
        let all: Vec<_> = tree
            .range(Bound::Unbounded, Bound::Unbounded, false)
            .collect();
        let want: Vec<_> = model.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        assert_eq!(all, want);
        let mut back: Vec<_> = tree
            .range(Bound::Unbounded, Bound::Unbounded, true)
            .collect();
        back.reverse();
        assert_eq!(back, want);
        for _ in 0..50 {
            let (a, b) = (key(rng, space), key(rng, space));
            let bound = |k: &Vec<u8>, r: u64| match r % 3 {
                0 => Bound::Included(k.clone()),
                1 => Bound::Excluded(k.clone()),
                _ => Bound::Unbounded,
            };
            let (lo, hi) = (bound(&a, rng.next()), bound(&b, rng.next()));
            let (l, h) = (lo.as_ref().map(|k| &k[..]), hi.as_ref().map(|k| &k[..]));
            let want: Vec<_> = model
                .iter()
                .filter(|(k, _)| netabase_backend_api::in_bounds(k, l, h))
                .map(|(k, v)| (&k[..], &v[..]))
                .collect();
            let got: Vec<_> = tree.range(l, h, false).collect();
            assert_eq!(got, want, "{lo:?} {hi:?}");
            let mut got: Vec<_> = tree.range(l, h, true).collect();
            got.reverse();
            assert_eq!(got, want, "reverse {lo:?} {hi:?}");
            assert_eq!(tree.get(&a), model.get(&a).map(|v| &v[..]));
        }
    }

    #[test]
    fn matches_a_btreemap_through_inserts_removes_and_snapshots() {
        for space in [50, 2_000, 100_000] {
            let mut rng = Rng(space);
            let mut tree = Tree::new();
            let mut model = BTreeMap::new();
            let mut snapshots = Vec::new();
            for round in 0..8 {
                for _ in 0..3_000 {
                    let k = key(&mut rng, space);
                    if rng.next().is_multiple_of(3) {
                        assert_eq!(tree.remove(&k), model.remove(&k).is_some());
                    } else {
                        // Mostly small values (inline), some above `INLINE_MAX` (shared).
                        let len = match rng.next() % 10 {
                            0 => INLINE_MAX + 1 + (rng.next() % 300) as usize,
                            1 => INLINE_MAX,
                            _ => (rng.next() % 40) as usize,
                        };
                        let byte = rng.next() as u8;
                        let v: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
                        tree.insert(&k, &v);
                        model.insert(k, v);
                    }
                }
                check(&tree, &model, &mut rng, space);
                snapshots.push((tree.clone(), model.clone()));
                if round == 5 {
                    // Empty it almost completely, through the shrinking paths.
                    let keys: Vec<_> = model.keys().cloned().collect();
                    for k in keys.iter().skip(3) {
                        assert!(tree.remove(k));
                        model.remove(k);
                    }
                    check(&tree, &model, &mut rng, space);
                }
            }
            // Earlier clones are untouched by every later change.
            for (tree, model) in &snapshots {
                check(tree, model, &mut rng, space);
            }
        }
    }

    #[test]
    fn a_single_entry_range_and_empty_ranges() {
        let mut tree = Tree::new();
        for i in 0u32..1_000 {
            tree.insert(&i.to_be_bytes(), &i.to_le_bytes());
        }
        let k = 500u32.to_be_bytes();
        let got: Vec<_> = tree
            .range(Bound::Included(&k), Bound::Included(&k), false)
            .collect();
        assert_eq!(got, [(&k[..], &500u32.to_le_bytes()[..])]);
        assert!(
            tree.range(Bound::Excluded(&k), Bound::Included(&k), false)
                .is_done()
        );
        let above = 2_000u32.to_be_bytes();
        assert!(
            tree.range(Bound::Included(&above), Bound::Unbounded, true)
                .is_done()
        );
        assert!(
            Tree::new()
                .range(Bound::Unbounded, Bound::Unbounded, false)
                .is_done()
        );
    }
}
