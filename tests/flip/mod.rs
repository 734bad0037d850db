//! Byte flips in stored values and index entries, and what every typed read must do about
//! them. Shared by `tests/byte_flip.rs` (seeded, every backend) and the cargo-fuzz target
//! `fuzz/fuzz_targets/byte_flip.rs` (memory and redb), which include this file.
//!
//! A [`Plan`] writes records through the typed API, then flips bytes through the raw
//! backend handle (`store.backend()`, the byte-level contract): in stored values, and in
//! index entries (an entry is a key; the flipped key replaces the original). Then every
//! typed read must give a typed error or the intact record, never a panic and never a
//! wrong record silently:
//!
//! * `get`, `iter`, `range`, `range_rev` and primary `query()`: position by position, the
//!   record written, or `Corrupt` naming a record whose bytes were flipped. `len` is exact.
//! * `get_by`, `query_by(..).equal(..)`: every record returned holds the value, every record
//!   holding it is returned, or an error names the damage (`Corrupt` for a flipped record,
//!   `IndexInconsistent` for a flipped entry naming no record).
//! * `count_by` counts exactly the index entries under the value (it reads no record).
//! * `check_integrity()` counts the records and entries, lists as undecodable only flipped
//!   records, and is not clean when an entry of intact records was flipped; `Tree::purge`
//!   removes the undecodable records and `repair()` leaves no dangling or missing entry, after
//!   which every intact record reads back exactly, through every lookup.
//!
//! Without checksums, three cases are **noted, not failed** ([`Outcome`]), because nothing but
//! a checksum can tell them from intact data: a flipped value that still validates as an archive reads as
//! a different record; a flipped index entry that still parses and names an existing record
//! can make a lookup on a snapshot backend (redb, memory) return that record although it
//! does not hold the value (the lookup trusts the index; sled's read-committed lookups
//! re-check the record and skip it), or miss a record whose entry was flipped away; and a
//! flipped record that took another record's unique value makes `repair()` refuse with
//! `UniqueViolation` (after `check_integrity()` reported the conflict). Each is counted;
//! `check_integrity()` reports the damage whenever the records' keys disagree with the index.
//! With checksums ([`run_checksummed`], a `Checksummed` store, flips below the checksum
//! layer) the first two are failures, and `check_integrity()` must report every flipped
//! record and entry. A lookup can still miss a record whose entry was flipped into another
//! value's range: the entry it should find is gone, which only `check_integrity()` sees
//! (as a missing entry).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use netabase_store::backend::{
    Backend, BackendError, Direction, ReadTable, WriteTable, WriteTransaction,
};
use netabase_store::key::key_bytes;
use netabase_store::traits::model::{NetabaseModelTrait, SecondaryKey};
use netabase_store::{NetabaseError, RepairOptions, Store};

/// The flipped model: unique, multi-valued and optional secondary keys.
#[netabase_store::netabase_definition_module(FlipDefinition, FlipKeys)]
pub mod schema {
    use netabase_store::NetabaseModel;

    /// A record with every kind of secondary key the flips can hit.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(FlipDefinition)]
    pub struct Doc {
        #[primary_key]
        pub id: u32,
        #[secondary_key(unique)]
        pub name: String,
        #[secondary_key]
        pub tags: Vec<String>,
        #[secondary_key]
        pub group: Option<u16>,
        pub score: i64,
        pub body: Vec<u8>,
    }
}

pub use schema::*;

/// Record ids are `0..IDS`.
pub const IDS: u32 = 12;
/// Tag values (one a prefix of another, one empty).
pub const TAGS: [&str; 4] = ["a", "b", "ab", ""];
/// Groups are `0..GROUPS` (or none).
pub const GROUPS: u16 = 3;

/// Where a flip lands.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// A stored record's bytes.
    Value,
    /// An index entry's key bytes (index values are empty).
    IndexEntry,
}

/// One flipped byte: in the `entry`-th (modulo the count) value or index entry, at byte
/// `offset` (modulo its length), XOR `xor` (never 0).
#[derive(Clone, Copy, Debug)]
pub struct Flip {
    pub target: Target,
    pub entry: usize,
    pub offset: usize,
    pub xor: u8,
}

/// Records to write, then bytes to flip.
#[derive(Clone, Debug)]
pub struct Plan {
    pub docs: Vec<Doc>,
    pub flips: Vec<Flip>,
}

impl Plan {
    /// A plan drawn from `draw`, which returns a number in `0..n` for `draw(n)` (a seeded
    /// generator in the test, the fuzzer's bytes in the fuzz target).
    pub fn draw(mut draw: impl FnMut(u64) -> u64) -> Plan {
        let docs = (0..=draw(u64::from(IDS)))
            .map(|_| {
                let id = draw(u64::from(IDS)) as u32;
                Doc {
                    id,
                    // Unique per id, so puts never clash.
                    name: format!("doc{id}.{}", draw(3)),
                    tags: (0..draw(4))
                        .map(|_| TAGS[draw(TAGS.len() as u64) as usize].to_owned())
                        .collect(),
                    group: (draw(3) > 0).then(|| draw(u64::from(GROUPS)) as u16),
                    score: draw(1000) as i64 - 500,
                    body: vec![draw(256) as u8; draw(40) as usize],
                }
            })
            .collect();
        let flips = (0..=draw(4))
            .map(|_| Flip {
                target: if draw(2) == 0 {
                    Target::Value
                } else {
                    Target::IndexEntry
                },
                entry: draw(64) as usize,
                offset: draw(256) as usize,
                xor: 1 + draw(255) as u8,
            })
            .collect();
        Plan { docs, flips }
    }
}

/// What the flips changed, as bytes.
#[derive(Debug, Default)]
pub struct Damage {
    /// Encoded primary keys of the records whose stored bytes differ from what was written.
    pub values: BTreeSet<Vec<u8>>,
    /// Index entries present that were not written.
    pub added: BTreeSet<Vec<u8>>,
    /// Index entries written that are gone.
    pub removed: BTreeSet<Vec<u8>>,
    /// Index entries whose stored bytes are not what was written: the added ones, and any
    /// a flipped key landed on (its value overwritten: with checksums, a wrong checksum).
    pub bad_entries: BTreeSet<Vec<u8>>,
    /// The index table after the flips.
    pub index: BTreeSet<Vec<u8>>,
    /// The store keeps checksums (`Checksummed`): nothing changed may read as data.
    pub checksums: bool,
}

/// What the flips did to the reads; the noted cases are the module docs' two.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// Flips applied (a flip of an empty table is skipped).
    pub flips: u64,
    /// Flipped records `get` answered with `Corrupt`.
    pub records_corrupt: u64,
    /// Noted: flipped records that still validate, read as a different record by `get`.
    pub records_changed_undetected: u64,
    /// Lookup items answered `IndexInconsistent` (a flipped entry naming no record).
    pub lookups_inconsistent: u64,
    /// Noted: lookups that returned a record through a flipped entry it does not hold.
    pub lookups_served_by_damaged_entry: u64,
    /// Noted: lookups that missed a record whose entry was flipped away.
    pub lookups_missed_by_damaged_entry: u64,
    /// Noted: repairs refused with `UniqueViolation`, because a flipped record that still
    /// validates took another record's unique value (`check_integrity()` reported it).
    pub repairs_refused_unique: u64,
    /// Records `Tree::purge` and `repair()` removed.
    pub purged: u64,
}

impl Outcome {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: Outcome) {
        self.flips += other.flips;
        self.records_corrupt += other.records_corrupt;
        self.records_changed_undetected += other.records_changed_undetected;
        self.lookups_inconsistent += other.lookups_inconsistent;
        self.lookups_served_by_damaged_entry += other.lookups_served_by_damaged_entry;
        self.lookups_missed_by_damaged_entry += other.lookups_missed_by_damaged_entry;
        self.repairs_refused_unique += other.repairs_refused_unique;
        self.purged += other.purged;
    }
}

type Db<B> = Store<FlipDefinition, B>;
type Records = BTreeMap<u32, Doc>;

/// Runs `plan` on `store` (emptied first) and checks every read; panics on a contract
/// violation.
pub fn run<B: Backend>(store: &Db<B>, plan: &Plan) -> Outcome {
    run_on(store, store.backend(), false, plan)
}

/// [`run`] on a store with checksums (`Checksummed`): the flips go below the checksum layer,
/// and the noted cases become failures (a flipped value or entry must never read as data).
pub fn run_checksummed<B: Backend>(
    store: &Db<netabase_store::Checksummed<B>>,
    plan: &Plan,
) -> Outcome {
    run_on(store, store.backend().inner(), true, plan)
}

/// `plan` on `store`, flipping bytes through `raw` (the backend below any checksums).
fn run_on<B: Backend, R: Backend>(store: &Db<B>, raw: &R, checksums: bool, plan: &Plan) -> Outcome {
    let mut records = Records::new();
    let w = store.write().expect("begin write");
    {
        let mut docs = w.open_tree::<Doc>().expect("open tree");
        // The fuzz target reuses one redb store for every input: start empty.
        docs.clear().expect("clear");
        for doc in &plan.docs {
            docs.put(doc).expect("put");
            records.insert(doc.id, doc.clone());
        }
    }
    w.commit().expect("commit");
    let mut out = Outcome::default();
    let mut damage = flip(raw, &plan.flips, &mut out);
    damage.checksums = checksums;
    check_reads(store, &records, &damage, &mut out);
    check_repair(store, &records, &damage, &mut out);
    out
}

fn scan<T: ReadTable>(table: &T) -> Vec<(Vec<u8>, Vec<u8>)> {
    table
        .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .expect("raw range")
        .map(|e| {
            let (k, v) = e.expect("raw entry");
            (k.as_ref().to_vec(), v.as_ref().to_vec())
        })
        .collect()
}

/// Applies the flips in one raw write transaction and returns what they changed.
fn flip<B: Backend>(backend: &B, flips: &[Flip], out: &mut Outcome) -> Damage {
    let w = backend.begin_write().expect("raw write");
    let mut damage = Damage::default();
    {
        let mut primary = w.open_table(Doc::INFO.table).expect("raw primary");
        let mut index = w.open_table(Doc::INFO.index_table).expect("raw index");
        let values_before = scan(&primary);
        let index_before: BTreeMap<Vec<u8>, Vec<u8>> = scan(&index).into_iter().collect();
        for f in flips {
            let table = match f.target {
                Target::Value => &mut primary,
                Target::IndexEntry => &mut index,
            };
            let entries = scan(table);
            if entries.is_empty() {
                continue;
            }
            let (key, value) = &entries[f.entry % entries.len()];
            match f.target {
                Target::Value => {
                    let mut value = value.clone();
                    let at = f.offset % value.len();
                    value[at] ^= f.xor;
                    table.insert(key, &value).expect("raw insert");
                }
                Target::IndexEntry => {
                    let mut flipped = key.clone();
                    let at = f.offset % flipped.len();
                    flipped[at] ^= f.xor;
                    table.remove(key).expect("raw remove");
                    // The raw value: empty, or the checksum of the original key.
                    table.insert(&flipped, value).expect("raw insert");
                }
            }
            out.flips += 1;
        }
        for ((key, before), (_, after)) in values_before.iter().zip(scan(&primary)) {
            if *before != after {
                damage.values.insert(key.clone());
            }
        }
        let index_after: BTreeMap<Vec<u8>, Vec<u8>> = scan(&index).into_iter().collect();
        damage.index = index_after.keys().cloned().collect();
        let before: BTreeSet<Vec<u8>> = index_before.keys().cloned().collect();
        damage.added = damage.index.difference(&before).cloned().collect();
        damage.removed = before.difference(&damage.index).cloned().collect();
        damage.bad_entries = index_after
            .iter()
            .filter(|(k, v)| index_before.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
    }
    w.commit().expect("raw commit");
    damage
}

/// Judges a record read under primary key `id`: the record written, or (only for a
/// flipped record) a different one; returns whether it differs.
fn judge_record(what: &str, got: Doc, records: &Records, id: u32, damage: &Damage) -> bool {
    let want = records
        .get(&id)
        .unwrap_or_else(|| panic!("{what}: record {id} was never written"));
    if got != *want {
        assert!(
            damage.values.contains(&key_bytes(&id)),
            "{what}: intact record {id} read back as {got:?}"
        );
        assert!(
            !damage.checksums,
            "{what}: with checksums, flipped record {id} read back as {got:?}"
        );
    }
    got != *want
}

/// Judges an error: only `Corrupt` naming a flipped record, or `IndexInconsistent` naming
/// a flipped entry; returns whether it is the latter.
fn judge_error(what: &str, e: NetabaseError, damage: &Damage) -> bool {
    match e {
        NetabaseError::Corrupt { ref key, .. } if damage.values.contains(key) => false,
        NetabaseError::Backend(BackendError::ChecksumMismatch { ref table, ref key })
            if damage.checksums
                && ((table == Doc::INFO.table && damage.values.contains(key))
                    || (table == Doc::INFO.index_table && damage.bad_entries.contains(key))) =>
        {
            false
        }
        NetabaseError::IndexInconsistent { ref index_key, .. }
            if damage.added.contains(index_key) =>
        {
            true
        }
        e => panic!("{what}: an error that names no damage: {e:?}"),
    }
}

/// Judges the records of a primary-key scan, position by position against `ids`.
fn judge_scan<T: ReadTable>(
    what: &str,
    got: netabase_store::Result<netabase_store::Iter<'_, Doc, T>>,
    ids: Vec<u32>,
    records: &Records,
    damage: &Damage,
) {
    let got: Vec<_> = got
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
        .map(|r| r.and_then(|r| r.deserialize()))
        .collect();
    assert_eq!(got.len(), ids.len(), "{what}: records returned");
    for (got, id) in got.into_iter().zip(ids) {
        match got {
            Ok(doc) => {
                judge_record(what, doc, records, id, damage);
            }
            Err(e) => {
                let at = |key: &Vec<u8>| *key == key_bytes(&id);
                assert!(
                    match &e {
                        NetabaseError::Corrupt { key, .. } => at(key),
                        NetabaseError::Backend(BackendError::ChecksumMismatch { key, .. }) => {
                            at(key)
                        }
                        _ => false,
                    },
                    "{what}: error at record {id}: {e:?}"
                );
                judge_error(what, e, damage);
            }
        }
    }
}

/// Judges a secondary lookup under the index prefix `prefix` (`[tag] ++ enc(value)`);
/// `holds` says whether a written record holds the value.
fn judge_lookup(
    what: &str,
    got: Vec<netabase_store::Result<Doc>>,
    prefix: &[u8],
    holds: impl Fn(&Doc) -> bool,
    records: &Records,
    damage: &Damage,
    out: &mut Outcome,
) {
    let mut returned = BTreeSet::new();
    let mut served = false;
    for r in got {
        match r {
            Ok(doc) => {
                let id = doc.id;
                match records.get(&id) {
                    Some(want) if *want == doc => {
                        if !holds(want) {
                            let mut entry = prefix.to_vec();
                            entry.extend(key_bytes(&id));
                            assert!(
                                damage.added.contains(&entry),
                                "{what}: returned record {id}, which does not hold the value, \
                                 and no flipped entry points at it"
                            );
                            assert!(
                                !damage.checksums,
                                "{what}: with checksums, returned record {id} through a \
                                 flipped entry"
                            );
                            served = true;
                        }
                        returned.insert(id);
                    }
                    // A record that differs from everything written: a flipped value that
                    // still validates (maybe even in its `id` field).
                    _ => assert!(
                        !damage.values.is_empty() && !damage.checksums,
                        "{what}: returned {doc:?}, which was never written"
                    ),
                }
            }
            Err(e) => {
                if judge_error(what, e, damage) {
                    out.lookups_inconsistent += 1;
                }
            }
        }
    }
    let mut missed = false;
    for (id, doc) in records.iter().filter(|(_, d)| holds(d)) {
        if returned.contains(id) {
            continue;
        }
        let mut entry = prefix.to_vec();
        entry.extend(key_bytes(id));
        let value_flipped = damage.values.contains(&key_bytes(id));
        // An entry flipped away, or one another flipped entry landed on (its value, with
        // checksums its checksum, overwritten: read as `ChecksumMismatch`, judged above).
        let entry_damaged = damage.removed.contains(&entry) || damage.bad_entries.contains(&entry);
        assert!(
            entry_damaged || value_flipped,
            "{what}: missed intact record {doc:?}"
        );
        missed |= !value_flipped;
    }
    out.lookups_served_by_damaged_entry += u64::from(served);
    out.lookups_missed_by_damaged_entry += u64::from(missed);
}

fn prefix<K: SecondaryKey<Doc>>(value: &impl netabase_store::key::Key) -> Vec<u8> {
    let mut p = vec![K::TAG];
    p.extend(key_bytes(value));
    p
}

fn entries_under(damage: &Damage, prefix: &[u8]) -> u64 {
    damage
        .index
        .iter()
        .filter(|k| k.starts_with(prefix))
        .count() as u64
}

/// `count_by` counts exactly the entries under the value; with checksums, an error naming a
/// flipped entry under it is the other answer.
fn judge_count(what: &str, got: netabase_store::Result<u64>, prefix: &[u8], damage: &Damage) {
    match got {
        Ok(n) => assert_eq!(n, entries_under(damage, prefix), "{what}"),
        Err(NetabaseError::Backend(BackendError::ChecksumMismatch { key, .. }))
            if damage.checksums && key.starts_with(prefix) && damage.bad_entries.contains(&key) => {
        }
        Err(e) => panic!("{what}: {e:?}"),
    }
}

/// Every read path, judged against what was written and what was flipped.
fn check_reads<B: Backend>(store: &Db<B>, records: &Records, damage: &Damage, out: &mut Outcome) {
    let txn = store.read().expect("begin read");
    let tree = txn.open_tree::<Doc>().expect("open tree");
    for id in 0..IDS {
        let what = format!("get({id})");
        match tree.get(id).map(|r| r.map(|r| r.deserialize()).transpose()) {
            Ok(Ok(None)) => assert!(!records.contains_key(&id), "{what}: record missing"),
            Ok(Ok(Some(doc))) => {
                let changed = judge_record(&what, doc, records, id, damage);
                out.records_changed_undetected += u64::from(changed);
            }
            Ok(Err(e)) | Err(e) => {
                let inconsistent = judge_error(&what, e, damage);
                assert!(
                    !inconsistent,
                    "{what}: a primary read is never IndexInconsistent"
                );
                out.records_corrupt += 1;
            }
        }
    }
    assert_eq!(tree.len().expect("len"), records.len() as u64, "len");
    let all: Vec<u32> = records.keys().copied().collect();
    judge_scan("iter", tree.iter(), all.clone(), records, damage);
    let (lo, hi) = (IDS / 4, IDS - IDS / 4);
    let inside: Vec<u32> = all
        .iter()
        .copied()
        .filter(|i| (lo..hi).contains(i))
        .collect();
    judge_scan("range", tree.range(lo..hi), inside.clone(), records, damage);
    let rev: Vec<u32> = inside.iter().rev().copied().collect();
    judge_scan(
        "range_rev",
        tree.range_rev(lo..hi),
        rev.clone(),
        records,
        damage,
    );
    let limited: Vec<u32> = rev.iter().take(3).copied().collect();
    let q = tree.query().range(lo..hi).rev().limit(3).iter();
    judge_scan("query", q, limited, records, damage);

    let collect = |it: netabase_store::Result<netabase_store::SecondaryIter<'_, Doc, _>>| {
        let it = it.unwrap_or_else(|e| panic!("lookup: {e:?}"));
        it.map(|r| r.and_then(|r| r.deserialize()))
            .collect::<Vec<_>>()
    };
    let names: BTreeSet<String> = records.values().map(|d| d.name.clone()).collect();
    for name in &names {
        let what = format!("get_by(name {name:?})");
        let p = prefix::<DocNameSecondaryKey>(name);
        let got = collect(tree.get_by(Doc::NAME, name.as_str()));
        judge_lookup(&what, got, &p, |d| d.name == *name, records, damage, out);
        let count = tree.count_by(Doc::NAME, name.as_str());
        judge_count(&format!("count_by(name {name:?})"), count, &p, damage);
    }
    for tag in TAGS {
        let what = format!("get_by(tag {tag:?})");
        let p = prefix::<DocTagsSecondaryKey>(&tag.to_owned());
        let holds = |d: &Doc| d.tags.iter().any(|t| t == tag);
        let got = collect(tree.get_by(Doc::TAGS, tag));
        judge_lookup(&what, got, &p, holds, records, damage, out);
        let count = tree.count_by(Doc::TAGS, tag);
        judge_count(&format!("count_by(tag {tag:?})"), count, &p, damage);
        let q = tree
            .query_by::<DocTagsSecondaryKey>()
            .equal(tag)
            .rev()
            .iter();
        judge_lookup("query_by(tag)", collect(q), &p, holds, records, damage, out);
    }
    for group in 0..GROUPS {
        let what = format!("get_by(group {group})");
        let p = prefix::<DocGroupSecondaryKey>(&group);
        let holds = |d: &Doc| d.group == Some(group);
        let got = collect(tree.get_by(Doc::GROUP, group));
        judge_lookup(&what, got, &p, holds, records, damage, out);
        let count = tree.count_by(Doc::GROUP, group);
        judge_count(&format!("count_by(group {group})"), count, &p, damage);
    }
}

/// `check_integrity()` sees the damage; `purge` and `repair()` clear it; every intact record
/// then reads back exactly through every lookup.
fn check_repair<B: Backend>(store: &Db<B>, records: &Records, damage: &Damage, out: &mut Outcome) {
    let report = store.check_integrity().expect("check_integrity");
    let m = report.model("Doc").expect("a report for Doc").clone();
    assert_eq!(m.records, records.len() as u64, "records counted: {m}");
    assert_eq!(
        m.index_entries,
        damage.index.len() as u64,
        "entries counted: {m}"
    );
    for pk in m.undecodable.iter().chain(&m.misplaced) {
        assert!(
            damage.values.contains(pk),
            "an intact record reported bad: {m}"
        );
    }
    if damage.values.is_empty() && !damage.removed.is_empty() {
        assert!(
            m.missing_entries > 0,
            "a flipped entry of an intact record unreported: {m}"
        );
    }
    if damage.values.is_empty() && !damage.added.is_empty() {
        assert!(m.dangling_entries > 0, "a flipped entry unreported: {m}");
    }
    if damage.checksums {
        // Every flipped record and entry fails its checksum, so the check finds them all.
        let bad: BTreeSet<Vec<u8>> = m.undecodable.iter().chain(&m.misplaced).cloned().collect();
        assert_eq!(
            bad, damage.values,
            "with checksums, flipped records reported: {m}"
        );
        assert!(
            m.dangling_entries >= damage.bad_entries.len() as u64,
            "with checksums, flipped entries reported: {m}"
        );
    }
    // Purge what cannot be read, then rebuild the index.
    if !m.undecodable.is_empty() {
        let w = store.write().expect("begin write");
        let mut tree = w.open_tree::<Doc>().expect("open tree");
        for pk in &m.undecodable {
            let id = records
                .keys()
                .find(|id| key_bytes(*id) == *pk)
                .copied()
                .expect("a written record");
            assert!(tree.purge(id).expect("purge"), "purge({id}) found nothing");
            out.purged += 1;
        }
        drop(tree);
        w.commit().expect("commit");
    }
    let repaired = match store.repair(RepairOptions::new().purge_undecodable(true)) {
        Ok(repaired) => repaired,
        // A flipped record that still validates took another's unique value: the index
        // cannot hold both, and which one is right is not the store's to guess.
        Err(NetabaseError::UniqueViolation { .. }) if m.unique_conflicts > 0 => {
            out.repairs_refused_unique += 1;
            return;
        }
        Err(e) => panic!("repair: {e:?} ({m})"),
    };
    out.purged += repaired.purged() as u64;
    let after = store.check_integrity().expect("check_integrity");
    let m = after.model("Doc").expect("a report for Doc");
    assert!(
        m.dangling_entries == 0
            && m.missing_entries == 0
            && m.undecodable.is_empty()
            && m.misplaced.is_empty(),
        "after purge and repair: {m}"
    );
    // Every intact record reads back exactly; every lookup returns only holders.
    let txn = store.read().expect("begin read");
    let tree = txn.open_tree::<Doc>().expect("open tree");
    let intact: Vec<&Doc> = records
        .values()
        .filter(|d| !damage.values.contains(&key_bytes(&d.id)))
        .collect();
    for doc in &intact {
        let got = tree.get(doc.id).expect("get").expect("intact record kept");
        assert_eq!(
            got.deserialize().expect("deserialize"),
            **doc,
            "after repair"
        );
    }
    let lookup = |it: netabase_store::Result<netabase_store::SecondaryIter<'_, Doc, _>>| {
        it.expect("lookup")
            .map(|r| {
                r.and_then(|r| r.deserialize())
                    .expect("lookup after repair")
            })
            .collect::<Vec<Doc>>()
    };
    for doc in &intact {
        let got = lookup(tree.get_by(Doc::NAME, doc.name.as_str()));
        assert!(got.contains(doc) && got.iter().all(|d| d.name == doc.name));
    }
    for tag in TAGS {
        let got = lookup(tree.get_by(Doc::TAGS, tag));
        assert!(
            got.iter().all(|d| d.tags.iter().any(|t| t == tag)),
            "tag {tag:?}"
        );
        for doc in intact.iter().filter(|d| d.tags.iter().any(|t| t == tag)) {
            assert!(got.contains(doc), "tag {tag:?} after repair misses {doc:?}");
        }
    }
    for group in 0..GROUPS {
        let got = lookup(tree.get_by(Doc::GROUP, group));
        assert!(got.iter().all(|d| d.group == Some(group)), "group {group}");
        for doc in intact.iter().filter(|d| d.group == Some(group)) {
            assert!(
                got.contains(doc),
                "group {group} after repair misses {doc:?}"
            );
        }
    }
}
