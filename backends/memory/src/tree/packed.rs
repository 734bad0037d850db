//! Packed keys: a node's sorted byte strings in one buffer, with a search index of heads.

use std::cmp::Ordering;

/// A sorted sequence of byte strings packed into one buffer, with a search index.
///
/// Every string starts with the same `skip` bytes (a common prefix, not necessarily the
/// longest), and `heads[i]` holds the next 8 bytes of string `i` as a big-endian number
/// (zero-padded) and the length of the rest. A binary search compares those, which sit side
/// by side in memory, and reads a string's bytes only when two heads are equal and one of the
/// strings is longer than `skip + 8` bytes: for short keys (integers, tuples of them) a
/// lookup never reads the packed bytes at all.
#[derive(Clone, Default)]
pub(crate) struct Packed {
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
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn start(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] }
    }

    pub(crate) fn get(&self, i: usize) -> &[u8] {
        &self.bytes[self.start(i)..self.ends[i]]
    }

    pub(crate) fn first(&self) -> &[u8] {
        self.get(0)
    }

    pub(crate) fn last(&self) -> &[u8] {
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
    pub(crate) fn count_below(&self, key: &[u8], inclusive: bool) -> usize {
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
    pub(crate) fn search(&self, key: &[u8]) -> Result<usize, usize> {
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

    pub(crate) fn insert(&mut self, i: usize, key: &[u8]) {
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

    pub(crate) fn remove(&mut self, i: usize) {
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
    pub(crate) fn split_off(&mut self, i: usize) -> Packed {
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
