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

mod leaf;
mod packed;
#[cfg(test)]
mod tests;

use std::ops::Bound;
use std::sync::Arc;

use leaf::{Leaf, Values};
use packed::Packed;

/// The most entries a leaf holds; a leaf that grows past it splits in two.
pub(crate) const LEAF_MAX: usize = 128;
/// The most children a branch holds; a branch that grows past it splits in two.
pub(crate) const BRANCH_MAX: usize = 128;

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
