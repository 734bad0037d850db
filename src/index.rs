//! Secondary index maintenance, sans I/O.
//!
//! Every secondary index entry of a model lives in the model's index table under the key
//!
//! ```text
//! [tag: u8] ++ enc(secondary value) ++ enc(primary key)        value: empty
//! ```
//!
//! where `enc` is the order-preserving, self-delimiting [key codec](crate::key) and `tag`
//! numbers the secondary keys of the model. Because `enc` is prefix-free, the prefix
//! `[tag] ++ enc(value)` selects exactly the records holding `value`, and no two
//! `(value, primary)` pairs share an encoding.
//!
//! [`IndexPlanner`] turns "this record was `old` (archived, or absent) and becomes `new`"
//! into the list of index writes that keep every index exact: the entries to remove, the
//! entries to insert, and the unique-key checks to run first. It performs no I/O; the
//! synchronous tree (and any async driver) executes the plan in the same transaction as
//! the record write. That is what the fuzz targets and model tests exercise.

use std::cmp::Ordering;

pub use crate::key::entries::{IndexEntries, IndexEntry};
use crate::traits::model::NetabaseModelTrait;

/// Plans index writes; owns the scratch buffers, so planning allocates nothing once warm.
#[derive(Debug, Default)]
pub struct IndexPlanner {
    old: IndexEntries,
    new: IndexEntries,
}

impl IndexPlanner {
    /// A planner with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Plans `put(new)` over the record currently stored under the same primary key
    /// (`old`, archived, or `None`). `primary_key` is the encoded primary key of both.
    pub fn plan_put<M: NetabaseModelTrait>(
        &mut self,
        primary_key: &[u8],
        old: Option<&M::Archived>,
        new: &M,
    ) -> IndexPlan<'_> {
        self.old.reset(primary_key);
        if let Some(old) = old {
            M::archived_index_entries(old, &mut self.old);
        }
        self.new.reset(primary_key);
        new.index_entries(&mut self.new);
        self.plan()
    }

    /// Plans removing the record `old` stored under `primary_key`.
    pub fn plan_remove<M: NetabaseModelTrait>(
        &mut self,
        primary_key: &[u8],
        old: &M::Archived,
    ) -> IndexPlan<'_> {
        self.old.reset(primary_key);
        M::archived_index_entries(old, &mut self.old);
        self.new.reset(primary_key);
        self.plan()
    }

    /// Plans the transition between two entry sets filled by the caller (the unit tests
    /// below build entries without a model type).
    #[cfg(test)]
    pub(crate) fn plan_entries(
        &mut self,
        fill: impl FnOnce(&mut IndexEntries, &mut IndexEntries),
    ) -> IndexPlan<'_> {
        fill(&mut self.old, &mut self.new);
        self.plan()
    }

    fn plan(&mut self) -> IndexPlan<'_> {
        self.old.sort_dedup();
        self.new.sort_dedup();
        self.last_plan()
    }

    /// The plan computed by the last `plan_*` call (empty before the first).
    pub fn last_plan(&self) -> IndexPlan<'_> {
        IndexPlan {
            old: &self.old,
            new: &self.new,
        }
    }
}

/// The index writes that take one record from its old state to its new state.
#[derive(Debug, Clone, Copy)]
pub struct IndexPlan<'a> {
    old: &'a IndexEntries,
    new: &'a IndexEntries,
}

impl<'a> IndexPlan<'a> {
    /// Entries of the old record that the new record no longer has.
    pub fn removals(self) -> impl Iterator<Item = IndexEntry<'a>> + 'a {
        difference(self.old, self.new)
    }

    /// Entries of the new record that the old record did not have.
    pub fn insertions(self) -> impl Iterator<Item = IndexEntry<'a>> + 'a {
        difference(self.new, self.old)
    }

    /// Inserted entries of unique keys: before writing anything, the driver must check
    /// that no *other* record holds an entry with the same [`prefix`](IndexEntry::prefix).
    pub fn unique_checks(self) -> impl Iterator<Item = IndexEntry<'a>> + 'a {
        self.insertions().filter(|e| e.unique)
    }

    /// Whether the plan writes nothing.
    pub fn is_noop(self) -> bool {
        self.removals().next().is_none() && self.insertions().next().is_none()
    }
}

/// Entries of sorted, deduplicated `a` that are not in `b` (a merge walk).
fn difference<'a>(
    a: &'a IndexEntries,
    b: &'a IndexEntries,
) -> impl Iterator<Item = IndexEntry<'a>> + 'a {
    let mut other = b.iter().peekable();
    a.iter().filter(move |entry| {
        while let Some(next) = other.peek() {
            match next.key.cmp(entry.key) {
                Ordering::Less => {
                    other.next();
                }
                Ordering::Equal => return false,
                Ordering::Greater => break,
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;
    use std::collections::{BTreeMap, BTreeSet};

    /// A record as the tests model it: primary key and a list of (tag, unique, value).
    type Record = Vec<(u8, bool, String)>;

    fn fill(entries: &mut IndexEntries, pk: u64, record: Option<&Record>) {
        entries.reset(&pk.to_be_bytes());
        for (tag, unique, value) in record.into_iter().flatten() {
            entries.push::<String>(*tag, *unique, value);
        }
    }

    fn expected_index(records: &BTreeMap<u64, Record>) -> BTreeSet<Vec<u8>> {
        let mut out = BTreeSet::new();
        let mut e = IndexEntries::new();
        for (pk, r) in records {
            fill(&mut e, *pk, Some(r));
            out.extend(e.iter().map(|x| x.key.to_vec()));
        }
        out
    }

    fn apply(
        planner: &mut IndexPlanner,
        index: &mut BTreeSet<Vec<u8>>,
        pk: u64,
        old: Option<&Record>,
        new: Option<&Record>,
    ) {
        let plan = planner.plan_entries(|o, n| {
            fill(o, pk, old);
            fill(n, pk, new);
        });
        for r in plan.removals() {
            assert!(index.remove(r.key), "removal of an absent entry");
        }
        for i in plan.insertions() {
            assert!(index.insert(i.key.to_vec()), "insertion of a present entry");
        }
    }

    #[test]
    fn plans_keep_the_index_equal_to_what_records_imply() {
        use proptest::prelude::*;
        let op = (
            0u64..6,
            prop::option::of(prop::collection::vec(
                (0u8..3, any::<bool>(), "[ab]{0,2}"),
                0..4,
            )),
        );
        proptest!(|(ops in prop::collection::vec(op, 1..40))| {
            let mut records: BTreeMap<u64, Record> = BTreeMap::new();
            let mut index = BTreeSet::new();
            let mut planner = IndexPlanner::new();
            for (pk, new) in ops {
                let old = records.get(&pk).cloned();
                apply(&mut planner, &mut index, pk, old.as_ref(), new.as_ref());
                match new {
                    Some(r) => { records.insert(pk, r); }
                    None => { records.remove(&pk); }
                }
                prop_assert_eq!(&index, &expected_index(&records));
            }
        });
    }

    #[test]
    fn unchanged_record_plans_nothing_and_changed_key_swaps_one_entry() {
        let mut planner = IndexPlanner::new();
        let a: Record = vec![(0, true, "x".into()), (1, false, "y".into())];
        let plan = planner.plan_entries(|o, n| {
            fill(o, 7, Some(&a));
            fill(n, 7, Some(&a));
        });
        assert!(plan.is_noop());
        let b: Record = vec![(0, true, "z".into()), (1, false, "y".into())];
        let plan = planner.plan_entries(|o, n| {
            fill(o, 7, Some(&a));
            fill(n, 7, Some(&b));
        });
        assert_eq!(plan.removals().count(), 1);
        let ins: Vec<_> = plan.insertions().collect();
        assert_eq!(ins.len(), 1);
        let checks: Vec<_> = plan.unique_checks().collect();
        assert_eq!(checks.len(), 1);
        let mut prefix = vec![0u8];
        "z".to_string().encode_key(&mut prefix);
        assert_eq!(checks[0].prefix(), prefix.as_slice());
    }

    #[test]
    fn duplicate_values_of_a_record_produce_one_entry() {
        let mut planner = IndexPlanner::new();
        let a: Record = vec![(2, false, "t".into()), (2, false, "t".into())];
        let plan = planner.plan_entries(|o, n| {
            fill(o, 1, None);
            fill(n, 1, Some(&a));
        });
        assert_eq!(plan.insertions().count(), 1);
    }
}
