//! The write algorithm of a typed tree, as explicit sans-I/O steps.
//!
//! A put is: encode the key and archive the model ([`WriteSteps::start_put`]), read the
//! old record and plan the index writes ([`WriteSteps::plan_put`]), run the unique checks
//! ([`WriteSteps::unique_checks`], each a bounded range read judged by
//! [`UniqueCheck::judge`]), then perform the writes ([`WriteSteps::writes`]). A remove is
//! the same without archiving. These steps do no I/O: the synchronous [`Tree`] and the
//! async tree both drive them, each with its own kind of table, so the algorithm exists
//! once.
//!
//! [`Tree`]: crate::Tree

use std::ops::Bound;

use rkyv::rancor;
use rkyv::ser::allocator::Arena;

use crate::error::{NetabaseError, Result};
use crate::index::{IndexEntry, IndexPlanner};
use crate::key::{KeyArg, push_prefix_successor};
use crate::traits::model::NetabaseModelTrait;

/// How many index entries a unique check reads: the record's own entry and one other are
/// enough to tell whether the value is taken.
pub(crate) const UNIQUE_CHECK_READS: usize = 2;

/// One write the driver performs, in the order [`WriteSteps::writes`] yields them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write<'a> {
    /// Remove this key from the model's index table.
    IndexRemove(&'a [u8]),
    /// Insert this key (with an empty value) into the model's index table.
    IndexInsert(&'a [u8]),
    /// Store the archived record under the primary key.
    PrimaryInsert(&'a [u8], &'a [u8]),
    /// Remove the primary key's record.
    PrimaryRemove(&'a [u8]),
}

/// What the current operation is, so [`WriteSteps::writes`] knows what to yield.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Op {
    #[default]
    None,
    Put,
    Remove,
}

/// The buffers and state of one write, reused by every write of a tree (and by the next
/// write transaction's trees), so a warm store allocates nothing per put.
#[derive(Default)]
pub(crate) struct WriteSteps {
    key: Vec<u8>,
    value: Vec<u8>,
    arena: Option<Arena>,
    planner: IndexPlanner,
    op: Op,
    /// Whether the index plan belongs to the current operation (models without secondary
    /// keys skip reading the old record and planning).
    planned: bool,
}

impl WriteSteps {
    /// Step 1 of a put: encodes `model`'s primary key and archives it.
    pub(crate) fn start_put<M: NetabaseModelTrait>(&mut self, model: &M) -> Result<()> {
        self.op = Op::None;
        self.planned = false;
        self.key.clear();
        model.encode_primary_key(&mut self.key);
        serialize(model, &mut self.value, &mut self.arena)?;
        self.op = Op::Put;
        Ok(())
    }

    /// Step 1 of a remove: encodes the primary key.
    pub(crate) fn start_remove<M: NetabaseModelTrait>(&mut self, key: impl KeyArg<M::PrimaryKey>) {
        self.planned = false;
        self.key.clear();
        key.encode_as(&mut self.key);
        self.op = Op::Remove;
    }

    /// The encoded primary key of the current operation (the old record is read under it).
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// The archived record of the current put.
    pub(crate) fn value(&self) -> &[u8] {
        &self.value
    }

    /// Step 2 of a put: plans the index writes from the old record (validated by the
    /// driver), when the model has secondary keys.
    pub(crate) fn plan_put<M: NetabaseModelTrait>(&mut self, old: Option<&M::Archived>, model: &M) {
        self.planner.plan_put::<M>(&self.key, old, model);
        self.planned = true;
    }

    /// Step 2 of a remove: plans removing the old record's index entries.
    pub(crate) fn plan_remove<M: NetabaseModelTrait>(&mut self, old: &M::Archived) {
        self.planner.plan_remove::<M>(&self.key, old);
        self.planned = true;
    }

    /// Step 3: the unique checks to run before writing anything (none without a plan).
    pub(crate) fn unique_checks(&self) -> impl Iterator<Item = UniqueCheck<'_>> + '_ {
        let plan = self.planned.then(|| self.planner.last_plan());
        plan.into_iter()
            .flat_map(|p| p.unique_checks())
            .map(|entry| UniqueCheck { entry })
    }

    /// Step 4: the writes, index removals first, then insertions, then the record.
    pub(crate) fn writes(&self) -> impl Iterator<Item = Write<'_>> + '_ {
        let plan = self.planned.then(|| self.planner.last_plan());
        let removals = plan
            .into_iter()
            .flat_map(|p| p.removals())
            .map(|e| Write::IndexRemove(e.key));
        let insertions = plan
            .into_iter()
            .flat_map(|p| p.insertions())
            .map(|e| Write::IndexInsert(e.key));
        let record = match self.op {
            Op::Put => Some(Write::PrimaryInsert(&self.key, &self.value)),
            Op::Remove => Some(Write::PrimaryRemove(&self.key)),
            Op::None => None,
        };
        removals.chain(insertions).chain(record)
    }
}

/// One unique check: the index range the driver reads (at most [`UNIQUE_CHECK_READS`]
/// entries) and the judgement of what it found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UniqueCheck<'a> {
    entry: IndexEntry<'a>,
}

impl<'a> UniqueCheck<'a> {
    /// A check of an entry built outside a plan (index rebuilds).
    pub(crate) fn of(entry: IndexEntry<'a>) -> Self {
        UniqueCheck { entry }
    }

    /// The bounds of the index range holding every entry with this value; the upper bound
    /// is built in `scratch` (no allocation once warm).
    pub(crate) fn bounds<'s>(
        &self,
        scratch: &'s mut Vec<u8>,
    ) -> (Bound<&'a [u8]>, Bound<&'s [u8]>) {
        let prefix = self.entry.prefix();
        scratch.clear();
        scratch.extend_from_slice(prefix);
        let upper = push_prefix_successor(scratch, 0)
            .and_then(|at| scratch.get(at..))
            .map_or(Bound::Unbounded, Bound::Excluded);
        (Bound::Included(prefix), upper)
    }

    /// Judges one index key found in [`bounds`](Self::bounds): any key other than the
    /// record's own entry means another record holds the value.
    pub(crate) fn judge<M: NetabaseModelTrait>(&self, found: &[u8]) -> Result<()> {
        if found == self.entry.key {
            return Ok(());
        }
        let prefix = self.entry.prefix();
        let tag = prefix.first().copied();
        let name = M::INFO
            .secondary_keys
            .iter()
            .find(|k| Some(k.tag) == tag)
            .map_or("?", |k| k.name);
        Err(NetabaseError::UniqueViolation {
            model: M::INFO.name,
            key: name,
            existing_primary_key: found.get(prefix.len()..).unwrap_or_default().to_vec(),
        })
    }
}

/// Archives `model` into `out`, reusing `arena` across calls.
fn serialize<M: NetabaseModelTrait>(
    model: &M,
    out: &mut Vec<u8>,
    arena: &mut Option<Arena>,
) -> Result<()> {
    let arena = arena.get_or_insert_with(Arena::new);
    let mut buf = std::mem::take(out);
    buf.clear();
    match rkyv::api::high::to_bytes_in_with_alloc::<_, _, rancor::Error>(
        model,
        buf,
        arena.acquire(),
    ) {
        Ok(buf) => {
            *out = buf;
            Ok(())
        }
        Err(e) => Err(NetabaseError::Serialize {
            model: M::INFO.name,
            reason: e.to_string(),
        }),
    }
}
