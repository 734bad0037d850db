//! Shared pieces of the fuzz targets: the fuzz schema, bounded generators and the index
//! model.
//!
//! Generators draw from small universes on purpose (8 primary keys, 5 strings that include
//! NUL and a prefix of another, ...): collisions, updates, unique clashes and shared
//! prefixes then happen in almost every input, and every run stays fast.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use arbitrary::{Arbitrary, Result as ArbResult, Unstructured};
use netabase_store::backend::{Direction, ReadTable};
use netabase_store::key::{Key, key_bytes};

/// The schema the targets store: one model with every kind of secondary key.
#[netabase_store::netabase_definition_module(FuzzDefinition, FuzzKeys)]
pub mod schema {
    use netabase_store::NetabaseModel;

    /// Plain (`owner`), unique (`handle`), optional (`label`), multi-valued (`tags`),
    /// optional unique (`slug`) and compound (`OwnerRank`) secondary keys; a tuple primary
    /// key.
    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(FuzzDefinition)]
    #[compound_key(OwnerRank = (owner, rank))]
    pub struct Item {
        #[primary_key]
        pub id: (u16, String),
        #[secondary_key]
        pub owner: u8,
        #[secondary_key(unique)]
        pub handle: String,
        #[secondary_key]
        pub label: Option<String>,
        #[secondary_key]
        pub tags: Vec<String>,
        #[secondary_key(unique)]
        pub slug: Option<String>,
        pub rank: i16,
        pub note: Vec<u8>,
    }
}

pub use schema::*;

/// A redb database in memory.
///
/// Under cargo-fuzz (`--cfg fuzzing`) it uses redb's fuzzing-only builder options: 512-byte
/// pages, so a few records already split B-tree pages, and small regions; and its commits
/// are non-durable (`RedbDurability::None`): an in-memory database has nothing to make
/// durable, and redb's durable commit (freed-page bookkeeping, the commit slot flip) was
/// about half of `query_model`'s own time under perf. What the targets check is the same
/// with either durability (committed data is visible to later transactions); the durable
/// commit path is exercised by the crash test (`tests/crash`) on real files. Elsewhere it is
/// `RedbBackend::in_memory()`.
pub fn redb_backend() -> netabase_store::RedbBackend {
    #[cfg(fuzzing)]
    {
        let db = redb::Builder::new()
            .set_page_size(512)
            .set_region_size(64 * 1024)
            .set_cache_size(1 << 20)
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("redb in memory");
        netabase_store::RedbBackend::from_database(db)
            .with_durability(netabase_store::redb::RedbDurability::None)
    }
    #[cfg(not(fuzzing))]
    {
        netabase_store::RedbBackend::in_memory().expect("redb in memory")
    }
}

/// A redb store type for the fuzz schema.
pub type RedbStore = netabase_store::Store<FuzzDefinition, netabase_store::RedbBackend>;

/// This process's redb store, as the last input left it (see [`with_redb_store`]); a target
/// that writes in one transaction clears the `Item` tables in that transaction itself, and
/// saves a commit.
pub fn redb_store() -> &'static RedbStore {
    static STORE: std::sync::OnceLock<RedbStore> = std::sync::OnceLock::new();
    STORE.get_or_init(|| RedbStore::from_backend(redb_backend()).expect("redb store"))
}

/// Runs `f` on this process's redb store, emptied first.
///
/// Creating and closing a redb database costs about 5 ms under the fuzzing sanitizers
/// (redb writes its region allocator state on close), ten times a whole input's work; so
/// one database serves every input of a process, and each input starts by clearing the
/// fuzzed model's tables in a committed transaction. The logical state each input sees is
/// the same as a fresh store's (empty `Item` tables, the same schema record); only redb's
/// page layout carries over.
pub fn with_redb_store(f: impl FnOnce(&RedbStore)) {
    let db = redb_store();
    let w = db.write().expect("begin write");
    w.open_tree::<Item>().expect("open").clear().expect("clear");
    w.commit().expect("commit");
    f(db)
}

// ---------------------------------------------------------------------------------------
// Bounded generators
// ---------------------------------------------------------------------------------------

/// A number in `0..N`, taking one byte of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const N: u8>(pub u8);

impl<'a, const N: u8> Arbitrary<'a> for Bounded<N> {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(Bounded(u.int_in_range(0..=N.saturating_sub(1))?))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(1))
    }
}

impl<const N: u8> Bounded<N> {
    /// The number as an index.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// A vector of at most `MAX` elements.
#[derive(Clone, Debug)]
pub struct SmallVec<T, const MAX: usize>(pub Vec<T>);

impl<'a, T: Arbitrary<'a>, const MAX: usize> Arbitrary<'a> for SmallVec<T, MAX> {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        let mut out = Vec::new();
        for item in u.arbitrary_iter::<T>()? {
            if out.len() == MAX {
                break;
            }
            out.push(item?);
        }
        Ok(SmallVec(out))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> ArbResult<Self> {
        let mut out = Vec::new();
        for item in u.arbitrary_take_rest_iter::<T>()? {
            if out.len() == MAX {
                break;
            }
            out.push(item?);
        }
        Ok(SmallVec(out))
    }
}

// ---------------------------------------------------------------------------------------
// Value universes
// ---------------------------------------------------------------------------------------

/// Strings of every secondary key: the empty string, a NUL byte (escaped by the codec), a
/// value that is a prefix of others, a non-ASCII one.
pub const STRINGS: [&str; 5] = ["", "a", "a\0", "ab", "\u{ff}"];
/// Owners (`owner`, the first half of `OwnerRank`).
pub const OWNERS: u8 = 3;
/// Ranks (the second half of `OwnerRank`), negative and positive.
pub const RANKS: [i16; 3] = [-300, 0, 1];
/// Number of distinct primary keys.
pub const IDS: u8 = 8;

/// The primary key of record number `id` (`0..IDS`): a tuple with a string holding NUL.
pub fn pk(id: u8) -> (u16, String) {
    (
        u16::from(id & 3) * 257,
        if id & 4 == 0 { "" } else { "k\0" }.to_string(),
    )
}

/// A string of the universe.
pub fn s(i: impl Into<usize>) -> String {
    STRINGS[i.into() % STRINGS.len()].to_string()
}

/// An arbitrary record body (everything but the primary key), drawn from the universes.
#[derive(Arbitrary, Clone, Debug)]
pub struct Spec {
    pub owner: Bounded<OWNERS>,
    pub handle: Bounded<5>,
    pub label: Option<Bounded<5>>,
    pub tags: SmallVec<Bounded<5>, 4>,
    pub slug: Option<Bounded<5>>,
    pub rank: Bounded<3>,
    /// Length of the unindexed payload, so archives (and the bytes around them) vary in size.
    pub note_len: Bounded<64>,
}

impl Spec {
    /// The record with primary key number `id`.
    pub fn item(&self, id: u8) -> Item {
        Item {
            id: pk(id),
            owner: self.owner.0,
            handle: s(self.handle.0),
            label: self.label.map(|l| s(l.0)),
            tags: self.tags.0.iter().map(|t| s(t.0)).collect(),
            slug: self.slug.map(|l| s(l.0)),
            rank: RANKS[self.rank.get()],
            note: (0..self.note_len.0).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The model: what the records imply, computed from docs/format.md, not from the planner
// ---------------------------------------------------------------------------------------

/// Secondary key tags, as docs/format.md states them: each `#[secondary_key]` field's
/// position among them, then the compound keys.
pub const TAG_OWNER: u8 = 0;
pub const TAG_HANDLE: u8 = 1;
pub const TAG_LABEL: u8 = 2;
pub const TAG_TAGS: u8 = 3;
pub const TAG_SLUG: u8 = 4;
pub const TAG_OWNER_RANK: u8 = 5;

/// Asserts that the generated schema description agrees with the tags above.
pub fn assert_schema_info() {
    use netabase_store::traits::model::NetabaseModelTrait;
    let got: Vec<(&str, u8, bool)> = Item::INFO
        .secondary_keys
        .iter()
        .map(|k| (k.name, k.tag, k.unique))
        .collect();
    assert_eq!(
        got,
        [
            ("owner", TAG_OWNER, false),
            ("handle", TAG_HANDLE, true),
            ("label", TAG_LABEL, false),
            ("tags", TAG_TAGS, false),
            ("slug", TAG_SLUG, true),
            ("OwnerRank", TAG_OWNER_RANK, false),
        ]
    );
    assert_eq!(Item::INFO.table, "Item");
    assert_eq!(Item::INFO.index_table, "Item.idx");
}

/// `[tag] ++ enc(value) ++ enc(primary key)`.
pub fn index_key<V: Key>(tag: u8, value: &V, pk: &(u16, String)) -> Vec<u8> {
    let mut k = vec![tag];
    k.extend(key_bytes(value));
    k.extend(key_bytes(pk));
    k
}

/// Every index entry of one record.
pub fn record_entries(item: &Item, out: &mut BTreeSet<Vec<u8>>) {
    let pk = &item.id;
    out.insert(index_key(TAG_OWNER, &item.owner, pk));
    out.insert(index_key(TAG_HANDLE, &item.handle, pk));
    if let Some(label) = &item.label {
        out.insert(index_key(TAG_LABEL, label, pk));
    }
    for tag in &item.tags {
        out.insert(index_key(TAG_TAGS, tag, pk));
    }
    if let Some(slug) = &item.slug {
        out.insert(index_key(TAG_SLUG, slug, pk));
    }
    out.insert(index_key(TAG_OWNER_RANK, &(item.owner, item.rank), pk));
}

/// The records of a model state, keyed by record number.
pub type Records = BTreeMap<u8, Item>;

/// The index table the records imply.
pub fn expected_index(records: &Records) -> BTreeSet<Vec<u8>> {
    let mut out = BTreeSet::new();
    for item in records.values() {
        record_entries(item, &mut out);
    }
    out
}

/// The primary table's keys the records imply.
pub fn expected_primary_keys(records: &Records) -> BTreeSet<Vec<u8>> {
    records.values().map(|i| key_bytes(&i.id)).collect()
}

/// Every key of a raw table, in order.
pub fn scan_keys<T: ReadTable>(table: &T) -> Vec<Vec<u8>> {
    table
        .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .expect("range over a raw table")
        .map(|e| e.expect("raw table entry").0.as_ref().to_vec())
        .collect()
}

/// The `(key, value)` pairs of a raw table, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every `(key, value)` of a raw table, in order.
pub fn scan_entries<T: ReadTable>(table: &T) -> Entries {
    table
        .range(Bound::Unbounded, Bound::Unbounded, Direction::Forward)
        .expect("range over a raw table")
        .map(|e| {
            let (k, v) = e.expect("raw table entry");
            (k.as_ref().to_vec(), v.as_ref().to_vec())
        })
        .collect()
}

/// The records holding a secondary value, in primary-key (byte) order.
pub fn holders(records: &Records, holds: impl Fn(&Item) -> bool) -> Vec<&Item> {
    let mut out: Vec<&Item> = records.values().filter(|i| holds(i)).collect();
    out.sort_by_key(|i| key_bytes(&i.id));
    out
}

/// The record that already holds a unique value `new` would take, if any: the unique
/// check the store must run before writing anything. Checks run in index-key order, so
/// `handle` (tag 1) is reported before `slug` (tag 4).
pub fn unique_clash<'a>(records: &'a Records, new: &Item) -> Option<(&'static str, &'a Item)> {
    let other =
        |f: &dyn Fn(&Item) -> bool| records.values().filter(|i| i.id != new.id).find(|i| f(i));
    if let Some(holder) = other(&|i| i.handle == new.handle) {
        return Some(("handle", holder));
    }
    if new.slug.is_some()
        && let Some(holder) = other(&|i| i.slug == new.slug)
    {
        return Some(("slug", holder));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Checks of a typed tree against the model
// ---------------------------------------------------------------------------------------

/// Every secondary lookup of the universe, `get` of every primary key, `len` and `iter`
/// of `tree` must give exactly the model's answer.
pub fn check_lookups<T: ReadTable>(tree: &netabase_store::Tree<'_, Item, T>, records: &Records) {
    fn ids<T: ReadTable>(it: netabase_store::SecondaryIter<'_, Item, T>) -> Vec<Item> {
        it.map(|r| {
            r.expect("secondary lookup")
                .deserialize()
                .expect("deserialize")
        })
        .collect()
    }
    fn cloned(v: Vec<&Item>) -> Vec<Item> {
        v.into_iter().cloned().collect()
    }
    let mut lookups: Vec<(ItemSecondaryKeys, Vec<Item>)> = Vec::new();
    for owner in 0..OWNERS {
        lookups.push((
            ItemSecondaryKeys::Owner(ItemOwnerSecondaryKey(owner)),
            cloned(holders(records, |i| i.owner == owner)),
        ));
        for rank in RANKS {
            lookups.push((
                ItemSecondaryKeys::OwnerRank(ItemOwnerRankSecondaryKey((owner, rank))),
                cloned(holders(records, |i| i.owner == owner && i.rank == rank)),
            ));
        }
    }
    for v in STRINGS {
        let v = v.to_string();
        lookups.push((
            ItemSecondaryKeys::Handle(ItemHandleSecondaryKey(v.clone())),
            cloned(holders(records, |i| i.handle == v)),
        ));
        lookups.push((
            ItemSecondaryKeys::Label(ItemLabelSecondaryKey(v.clone())),
            cloned(holders(records, |i| i.label.as_ref() == Some(&v))),
        ));
        lookups.push((
            ItemSecondaryKeys::Tags(ItemTagsSecondaryKey(v.clone())),
            cloned(holders(records, |i| i.tags.contains(&v))),
        ));
        lookups.push((
            ItemSecondaryKeys::Slug(ItemSlugSecondaryKey(v.clone())),
            cloned(holders(records, |i| i.slug.as_ref() == Some(&v))),
        ));
    }
    for (key, want) in lookups {
        let got = ids(tree.get_by_secondary_key(&key).expect("lookup"));
        assert_eq!(got, want, "lookup {key:?}");
        let n = tree.count_by_secondary_key(&key).expect("count");
        assert_eq!(n, want.len() as u64, "count {key:?}");
    }
    check_gets(tree, records, &(0..IDS).collect::<Vec<u8>>());
    let all: Vec<Item> = tree
        .iter()
        .expect("iter")
        .map(|r| r.expect("iter item").deserialize().expect("deserialize"))
        .collect();
    assert_eq!(all, cloned(holders(records, |_| true)));
}

/// `get` of the records numbered `ids`, and `len`, against the model.
pub fn check_gets<T: ReadTable>(
    tree: &netabase_store::Tree<'_, Item, T>,
    records: &Records,
    ids: &[u8],
) {
    for &id in ids {
        let got = tree
            .get(ItemPrimaryKey(pk(id)))
            .expect("get")
            .map(|r| r.deserialize().expect("deserialize"));
        assert_eq!(got.as_ref(), records.get(&id), "get {id}");
    }
    assert_eq!(tree.len().expect("len"), records.len() as u64, "len");
}
