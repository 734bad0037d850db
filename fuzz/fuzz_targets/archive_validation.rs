//! Stored bytes that are not a valid archive must be typed errors, never panics or bad
//! reads.
//!
//! Arbitrary bytes (raw, or a valid archive of a record with bytes flipped, cut off or
//! put in front) are written as a stored record through the memory backend's raw write
//! transaction, under a valid primary key, next to the index entries of the record it was
//! meant to be, a valid neighbour record and optionally garbage index keys. Then typed
//! `get`, `iter`, `get_by_secondary_key`, queries, `put` over it, `remove` and `delete`
//! must return `Ok` or a typed error (`Corrupt` for the record; `IndexInconsistent` /
//! `KeyDecode` for garbage index keys; `UniqueViolation` for a put), never panic. When
//! `get` succeeds, every field reads (the archive is walked through `Deref`) and
//! `deserialize()` succeeds too. A refused write changes nothing.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netabase_store::backend::{Backend, ReadTable, WriteTable, WriteTransaction};
use netabase_store::key::key_bytes;
use netabase_store::rkyv;
use netabase_store::traits::model::NetabaseModelTrait;
use netabase_store::{NetabaseError, Store};
use netabase_store_fuzz::*;

#[derive(Arbitrary, Debug)]
enum Payload {
    Raw(Vec<u8>),
    Mutated {
        /// `(position, xor)`: flip bits of the valid archive.
        edits: SmallVec<(u16, u8), 6>,
        drop_front: u8,
        drop_back: u8,
        /// Bytes put in front (relative pointers survive it; the root does not move).
        pad_front: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    id: Bounded<IDS>,
    spec: Spec,
    payload: Payload,
    neighbour: Option<(Bounded<IDS>, Spec)>,
    index_garbage: SmallVec<Vec<u8>, 3>,
    new: Spec,
}

type Db = Store<FuzzDefinition, netabase_store::MemoryBackend>;

fn payload_bytes(input: &Input) -> Vec<u8> {
    match &input.payload {
        Payload::Raw(bytes) => bytes.clone(),
        Payload::Mutated {
            edits,
            drop_front,
            drop_back,
            pad_front,
        } => {
            let item = input.spec.item(input.id.0);
            let mut bytes = rkyv::to_bytes::<rkyv::rancor::Error>(&item)
                .expect("archive a record")
                .to_vec();
            for (pos, xor) in &edits.0 {
                let len = bytes.len();
                if len > 0 {
                    bytes[usize::from(*pos) % len] ^= xor;
                }
            }
            let back = usize::from(*drop_back).min(bytes.len());
            bytes.truncate(bytes.len() - back);
            let front = usize::from(*drop_front).min(bytes.len());
            bytes.drain(..front);
            let mut padded = vec![0xA5; usize::from(*pad_front)];
            padded.extend_from_slice(&bytes);
            padded
        }
    }
}

/// Errors a read may give over damaged data.
fn read_error_ok(e: &NetabaseError, pk: &[u8]) -> bool {
    match e {
        NetabaseError::Corrupt { table, key, .. } => *table == "Item" && key == pk,
        NetabaseError::IndexInconsistent { table, .. } => *table == "Item.idx",
        NetabaseError::KeyDecode(_) => true,
        _ => false,
    }
}

/// Walks every field of a validated archive (through `Ref`'s unchecked `Deref`).
fn touch(r: &ArchivedItem) -> usize {
    let mut n = r.id.1.len() + usize::from(r.owner) + r.handle.len() + r.note.len();
    n += r.label.as_ref().map_or(0, |l| l.len());
    n += r.slug.as_ref().map_or(0, |l| l.len());
    n += r.tags.iter().map(|t| t.as_str().len()).sum::<usize>();
    n += format!("{r:?}").len();
    n + usize::from(r.id.0.to_native()) + r.rank.to_native().unsigned_abs() as usize
}

fn raw_tables(db: &Db) -> (Entries, Entries) {
    use netabase_store::backend::ReadTransaction;
    let r = db.backend().begin_read().expect("begin read");
    let primary = scan_entries(&r.open_table(Item::INFO.table).expect("open"));
    let index = scan_entries(&r.open_table(Item::INFO.index_table).expect("open"));
    (primary, index)
}

fn check_reads<T: ReadTable>(tree: &netabase_store::Tree<'_, Item, T>, input: &Input, pk: &[u8]) {
    // get
    match tree.get(ItemPrimaryKey(netabase_store_fuzz::pk(input.id.0))) {
        Ok(Some(r)) => {
            std::hint::black_box(touch(&r));
            r.deserialize().expect("a validated archive deserializes");
        }
        Ok(None) => panic!("the stored record is missing"),
        Err(e) => assert!(read_error_ok(&e, pk), "get: {e:?}"),
    }
    assert!(
        tree.contains_key(ItemPrimaryKey(netabase_store_fuzz::pk(input.id.0)))
            .expect("contains")
    );
    // iter, forward and reverse, and pages
    let mut seen = 0;
    for r in tree.iter().expect("iter") {
        seen += 1;
        match r {
            Ok(r) => {
                std::hint::black_box(touch(&r));
                r.deserialize().expect("a validated archive deserializes");
            }
            Err(e) => assert!(read_error_ok(&e, pk), "iter: {e:?}"),
        }
    }
    assert_eq!(seen as u64, tree.len().expect("len"));
    for r in tree.query().rev().limit(3).iter().expect("rev") {
        if let Err(e) = r {
            assert!(read_error_ok(&e, pk), "rev: {e:?}");
        }
    }
    if let Err(e) = tree.query().limit(1).page() {
        assert!(read_error_ok(&e, pk), "page: {e:?}");
    }
    // secondary lookups of every value the record was meant to hold, and queries
    let item = input.spec.item(input.id.0);
    let mut keys = vec![
        ItemSecondaryKeys::Owner(ItemOwnerSecondaryKey(item.owner)),
        ItemSecondaryKeys::Handle(ItemHandleSecondaryKey(item.handle.clone())),
        ItemSecondaryKeys::OwnerRank(ItemOwnerRankSecondaryKey((item.owner, item.rank))),
    ];
    keys.extend(
        item.label
            .clone()
            .map(|l| ItemSecondaryKeys::Label(ItemLabelSecondaryKey(l))),
    );
    keys.extend(
        item.slug
            .clone()
            .map(|l| ItemSecondaryKeys::Slug(ItemSlugSecondaryKey(l))),
    );
    keys.extend(
        item.tags
            .iter()
            .map(|t| ItemSecondaryKeys::Tags(ItemTagsSecondaryKey(t.clone()))),
    );
    for key in &keys {
        for r in tree.get_by_secondary_key(key).expect("lookup") {
            match r {
                Ok(r) => {
                    std::hint::black_box(touch(&r));
                    r.deserialize().expect("a validated archive deserializes");
                }
                Err(e) => assert!(read_error_ok(&e, pk), "lookup {key:?}: {e:?}"),
            }
        }
        tree.count_by_secondary_key(key)
            .expect("count reads only the index");
    }
    let queries = [
        tree.query_by::<ItemHandleSecondaryKey>().iter(),
        tree.query_by::<ItemTagsSecondaryKey>().rev().iter(),
        tree.query_by::<ItemHandleSecondaryKey>()
            .range(ItemHandleSecondaryKey("a".into())..)
            .iter(),
    ];
    for q in queries {
        match q {
            Ok(it) => {
                for r in it {
                    if let Err(e) = r {
                        assert!(read_error_ok(&e, pk), "query: {e:?}");
                    }
                }
            }
            Err(e) => assert!(read_error_ok(&e, pk), "query: {e:?}"),
        }
    }
}

fuzz_target!(|input: Input| {
    let db = Db::memory().expect("memory store");
    let pk = key_bytes(&netabase_store_fuzz::pk(input.id.0));

    // A valid neighbour, written through the typed layer.
    if let Some((nid, nspec)) = &input.neighbour
        && nid.0 != input.id.0
    {
        let w = db.write().expect("begin write");
        w.open_tree::<Item>()
            .expect("open")
            .put(nspec.item(nid.0))
            .expect("put neighbour");
        w.commit().expect("commit");
    }

    // The damaged record, its intended index entries and garbage, written raw.
    {
        let w = db.backend().begin_write().expect("begin raw write");
        {
            let mut primary = w.open_table(Item::INFO.table).expect("open primary");
            primary
                .insert(&pk, &payload_bytes(&input))
                .expect("insert record");
        }
        {
            let mut index = w.open_table(Item::INFO.index_table).expect("open index");
            let mut entries = std::collections::BTreeSet::new();
            record_entries(&input.spec.item(input.id.0), &mut entries);
            for key in entries.iter().chain(&input.index_garbage.0) {
                index.insert(key, &[]).expect("insert index entry");
            }
        }
        w.commit().expect("commit raw write");
    }

    {
        let r = db.read().expect("begin read");
        check_reads(&r.open_tree::<Item>().expect("open"), &input, &pk);
    }

    let key = ItemPrimaryKey(netabase_store_fuzz::pk(input.id.0));
    let before = raw_tables(&db);

    // put over it: Ok, or refused without writing anything.
    {
        let w = db.write().expect("begin write");
        let new = input.new.item(input.id.0);
        let result = w.open_tree::<Item>().expect("open").put(&new);
        match result {
            Ok(()) => {
                let t = w.open_tree::<Item>().expect("open");
                let got = t
                    .get(&key)
                    .expect("get after put")
                    .expect("present after put");
                assert_eq!(got.deserialize().expect("deserialize"), new);
                check_reads(&t, &input, &pk);
            }
            Err(NetabaseError::UniqueViolation { .. }) => {}
            Err(e) => assert!(read_error_ok(&e, &pk), "put: {e:?}"),
        }
        // rolled back
    }
    assert_eq!(
        raw_tables(&db),
        before,
        "a rolled-back put changed the store"
    );

    // remove and delete
    {
        let w = db.write().expect("begin write");
        let result = w.open_tree::<Item>().expect("open").remove(&key);
        match result {
            Ok(Some(_)) => {
                assert!(
                    w.open_tree::<Item>()
                        .expect("open")
                        .get(&key)
                        .expect("get")
                        .is_none()
                );
            }
            Ok(None) => panic!("remove found no record"),
            Err(e) => assert!(read_error_ok(&e, &pk), "remove: {e:?}"),
        }
    }
    {
        let w = db.write().expect("begin write");
        let result = w.open_tree::<Item>().expect("open").delete(&key);
        match result {
            Ok(existed) => assert!(existed),
            Err(e) => {
                assert!(read_error_ok(&e, &pk), "delete: {e:?}");
                drop(w);
                assert_eq!(
                    raw_tables(&db),
                    before,
                    "a refused delete changed the store"
                );
                return;
            }
        }
        w.commit().expect("commit delete");
    }
    assert!(
        !db.read()
            .expect("read")
            .open_tree::<Item>()
            .expect("open")
            .contains_key(&key)
            .expect("contains")
    );
});
