//! Tests of the tree against a `BTreeMap`.

use std::ops::Bound;

use super::leaf::INLINE_MAX;
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
