//! The reference model the checks compare a backend against: a `BTreeMap` per table, an
//! independent range oracle, and the data (tables, seeded models, bound probes) the sync and
//! async kits share.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::rng::Rng;
use crate::Direction;

/// Owned `(key, value)` pairs, in the order a range yielded them.
pub(crate) type Entries = Vec<(Vec<u8>, Vec<u8>)>;
/// The reference model of one table.
pub(crate) type Model = BTreeMap<Vec<u8>, Vec<u8>>;

pub(crate) const TABLE: &str = "conformance";
pub(crate) const OTHER: &str = "conformance_other";
/// The largest `max_entry_len` the kit tests (allocating more is not reasonable in a test).
pub(crate) const MAX_TESTED_ENTRY_LEN: usize = 64 * 1024 * 1024;

/// What a range over `model` must yield. Written independently of the crate's own
/// `in_bounds` / `is_empty_range`, so the kit does not check the backend against itself.
pub(crate) fn model_range(
    model: &Model,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    direction: Direction,
) -> Entries {
    let mut out: Entries = model
        .iter()
        .filter(|(key, _)| {
            let key = key.as_slice();
            let above = match lower {
                Bound::Included(l) => key >= l,
                Bound::Excluded(l) => key > l,
                Bound::Unbounded => true,
            };
            let below = match upper {
                Bound::Included(u) => key <= u,
                Bound::Excluded(u) => key < u,
                Bound::Unbounded => true,
            };
            above && below
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if direction == Direction::Reverse {
        out.reverse();
    }
    out
}

pub(crate) fn model_entries(model: &Model) -> Entries {
    model_range(
        model,
        Bound::Unbounded,
        Bound::Unbounded,
        Direction::Forward,
    )
}

pub(crate) fn model_of(pairs: &[(&[u8], &[u8])]) -> Model {
    pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// A random model of `n` entries, each at most `limit` bytes.
pub(crate) fn random_model(rng: &mut Rng, n: usize, limit: usize) -> Model {
    let mut model = Model::new();
    while model.len() < n {
        let key = rng.key();
        if key.len() > limit {
            continue;
        }
        let value = rng.value(key.len(), limit);
        model.insert(key, value);
    }
    model
}

/// Bound probes: keys from the model, keys that are (most likely) absent, the empty key and a
/// key above every generated key.
pub(crate) fn probe_keys(
    rng: &mut Rng,
    model: &Model,
    from_model: usize,
    absent: usize,
) -> Vec<Vec<u8>> {
    let keys: Vec<&Vec<u8>> = model.keys().collect();
    let mut probes = vec![Vec::new(), vec![0xFF; 500]];
    for _ in 0..from_model {
        if !keys.is_empty() {
            probes.push(keys[rng.below(keys.len())].clone());
        }
    }
    if let (Some(first), Some(last)) = (keys.first(), keys.last()) {
        probes.push((*first).clone());
        probes.push((*last).clone());
    }
    for _ in 0..absent {
        probes.push(rng.key());
    }
    probes.sort();
    probes.dedup();
    probes
}

pub(crate) fn bounds_of(key: &[u8]) -> [Bound<&[u8]>; 2] {
    [Bound::Included(key), Bound::Excluded(key)]
}

pub(crate) fn first_difference(a: &Entries, b: &Entries) -> usize {
    a.iter()
        .zip(b.iter())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}
