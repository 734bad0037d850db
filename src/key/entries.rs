//! The layout of secondary index entries: `[tag] ++ enc(value) ++ enc(primary key)`.
//!
//! [`IndexEntries`] is the buffer a model's generated `index_entries` fills; it lives with
//! the codec because the schema layer (the model traits) writes into it and the planner
//! ([`crate::index`], which re-exports it) reads it.

use super::Key;

#[derive(Debug, Clone, Copy)]
struct EntryMeta {
    start: usize,
    prefix_end: usize,
    end: usize,
    unique: bool,
}

/// One secondary index entry, borrowed from [`IndexEntries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    /// The whole index key: `[tag] ++ enc(value) ++ enc(primary key)`.
    pub key: &'a [u8],
    /// The length of the `[tag] ++ enc(value)` prefix.
    pub prefix_len: usize,
    /// Whether the secondary key is unique.
    pub unique: bool,
}

impl<'a> IndexEntry<'a> {
    /// The `[tag] ++ enc(value)` prefix shared by every record holding the same value.
    pub fn prefix(&self) -> &'a [u8] {
        self.key.get(..self.prefix_len).unwrap_or(self.key)
    }
}

/// The secondary index entries of one record, in one flat buffer.
///
/// Generated code fills it through [`push`](Self::push) (from an owned model) and
/// [`push_archived`](Self::push_archived) (from an archived one); both must produce the
/// same entries for the same record.
#[derive(Debug, Default, Clone)]
pub struct IndexEntries {
    buf: Vec<u8>,
    primary: Vec<u8>,
    entries: Vec<EntryMeta>,
}

impl IndexEntries {
    /// An empty set of entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every entry and sets the primary key the next entries end with.
    pub fn reset(&mut self, primary_key: &[u8]) {
        self.buf.clear();
        self.entries.clear();
        self.primary.clear();
        self.primary.extend_from_slice(primary_key);
    }

    /// Adds the entry of secondary key `tag` holding `value`.
    pub fn push<K: Key>(&mut self, tag: u8, unique: bool, value: &K) {
        self.push_with(tag, unique, |out| value.encode_key(out));
    }

    /// Adds the entry of secondary key `tag` holding the archived `value`.
    pub fn push_archived<K: Key>(&mut self, tag: u8, unique: bool, value: &K::Archived) {
        self.push_with(tag, unique, |out| K::encode_archived_key(value, out));
    }

    /// Adds the entry of secondary key `tag` whose value `encode` appends (compound keys
    /// append each field's encoding, which equals the encoding of their tuple).
    pub fn push_encoded(&mut self, tag: u8, unique: bool, encode: impl FnOnce(&mut Vec<u8>)) {
        self.push_with(tag, unique, encode);
    }

    fn push_with(&mut self, tag: u8, unique: bool, encode: impl FnOnce(&mut Vec<u8>)) {
        let start = self.buf.len();
        self.buf.push(tag);
        encode(&mut self.buf);
        let prefix_end = self.buf.len();
        self.buf.extend_from_slice(&self.primary);
        self.entries.push(EntryMeta {
            start,
            prefix_end,
            end: self.buf.len(),
            unique,
        });
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn entry(&self, meta: &EntryMeta) -> IndexEntry<'_> {
        IndexEntry {
            key: self.buf.get(meta.start..meta.end).unwrap_or_default(),
            prefix_len: meta.prefix_end - meta.start,
            unique: meta.unique,
        }
    }

    /// The entries, in the order they were pushed (or sorted, after planning).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = IndexEntry<'_>> + '_ {
        self.entries.iter().map(|m| self.entry(m))
    }

    /// Sorts the entries by key and drops duplicates (a multi-valued key may repeat a value).
    pub(crate) fn sort_dedup(&mut self) {
        let buf = &self.buf;
        let key = |m: &EntryMeta| buf.get(m.start..m.end).unwrap_or_default();
        if !self.entries.is_sorted_by(|a, b| key(a) < key(b)) {
            self.entries.sort_unstable_by(|a, b| key(a).cmp(key(b)));
            self.entries.dedup_by(|a, b| key(a) == key(b));
        }
    }
}
