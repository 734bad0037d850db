//! The one `unsafe` block of the typed core, under Miri.
//!
//! `Ref::deref` (src/guard.rs) reads a record with `rkyv::access_unchecked`, trusting that
//! `Ref::new` validated the same bytes and that the backend's guard keeps them unchanged
//! (`StableBytes`). This test drives that path as a user would, on the memory backend only
//! (no files, no threads, so Miri can run it): records with strings, vectors and options of
//! many lengths (so fields and the archive root sit at many offsets), read back through
//! `Ref`s from read and write transactions, by key, by iteration, by every kind of secondary
//! key and by query; many `Ref`s alive at once; a `Ref` kept while other reads, and a commit
//! replacing its record, happen.
//!
//! It is an ordinary integration test too (`cargo test --test miri_ref`). Under Miri:
//! `scripts/miri.sh` (`MIRIFLAGS=-Zmiri-tree-borrows cargo +nightly miri test -p
//! netabase_store --no-default-features --features memory --test miri_ref`).

use netabase_store::prelude::*;
use netabase_store::{MemoryBackend, Ref, Store};

#[netabase_definition_module(MiriDefinition, MiriKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq, Eq)]
    #[netabase(MiriDefinition)]
    #[compound_key(OwnerYear = (owner, year))]
    pub struct Doc {
        #[primary_key]
        pub id: u32,
        #[secondary_key]
        pub owner: u16,
        #[secondary_key(unique)]
        pub name: String,
        #[secondary_key]
        pub label: Option<String>,
        #[secondary_key]
        pub tags: Vec<String>,
        pub year: i32,
        pub body: Vec<u8>,
        pub scores: Vec<u64>,
        pub note: Option<String>,
    }
}
use schema::*;

type Db = Store<MiriDefinition, MemoryBackend>;

/// Record `i`: every variable-length field has a different length per record.
fn doc(i: u32) -> Doc {
    let n = i as usize;
    Doc {
        id: i,
        owner: (i % 3) as u16,
        name: format!("doc{i}-{}", "x".repeat(n % 7)),
        label: (!i.is_multiple_of(4)).then(|| "l".repeat(n % 5)),
        tags: (0..n % 4)
            .map(|t| format!("t{}", "#".repeat(t + n % 3)))
            .collect(),
        year: 2000 + (i as i32 % 2) - 1000 * (i as i32 % 3),
        body: (0..(n * 7) % 41).map(|b| (b * 31 + n) as u8).collect(),
        scores: (0..n % 5).map(|s| (s as u64) << (8 * (n % 8))).collect(),
        note: i.is_multiple_of(2).then(|| "é\0".repeat(n % 6)),
    }
}

const N: u32 = 14;

/// Every field of `r`, read through `Deref`, equals `want`.
fn assert_reads_as(r: &ArchivedDoc, want: &Doc) {
    assert_eq!(r.id.to_native(), want.id);
    assert_eq!(r.owner.to_native(), want.owner);
    assert_eq!(r.name.as_str(), want.name);
    assert_eq!(r.label.as_ref().map(|l| l.as_str()), want.label.as_deref());
    let tags: Vec<&str> = r.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, want.tags);
    assert_eq!(r.year.to_native(), want.year);
    assert_eq!(r.body.as_slice(), want.body.as_slice());
    let scores: Vec<u64> = r.scores.iter().map(|s| s.to_native()).collect();
    assert_eq!(scores, want.scores);
    assert_eq!(r.note.as_ref().map(|n| n.as_str()), want.note.as_deref());
}

fn assert_ref<G: netabase_store::backend::StableBytes>(r: &Ref<Doc, G>, want: &Doc) {
    assert_reads_as(r, want);
    assert_reads_as(r.archived(), want);
    assert_eq!(&r.deserialize().unwrap(), want);
    assert!(format!("{r:?}").contains(&format!("{:?}", want.name)));
    // The bytes `Deref` reads are the bytes that were validated: safe access agrees.
    let safe = netabase_store::rkyv::access::<ArchivedDoc, netabase_store::rkyv::rancor::Error>(
        r.as_bytes(),
    )
    .unwrap();
    assert_reads_as(safe, want);
}

fn filled() -> Db {
    let db = Db::memory().unwrap();
    let w = db.write().unwrap();
    {
        let mut t = w.open_tree::<Doc>().unwrap();
        for i in 0..N {
            t.put(doc(i)).unwrap();
        }
    }
    w.commit().unwrap();
    db
}

fn ids<G: netabase_store::backend::StableBytes>(
    refs: impl Iterator<Item = Result<Ref<Doc, G>, NetabaseError>>,
) -> Vec<u32> {
    refs.map(|r| {
        let r = r.unwrap();
        assert_ref(&r, &doc(r.id.to_native()));
        r.id.to_native()
    })
    .collect()
}

#[test]
fn refs_read_every_field_by_key_and_by_iteration() {
    let db = filled();
    let r = db.read().unwrap();
    let t = r.open_tree::<Doc>().unwrap();
    for i in 0..N {
        assert_ref(&t.get(DocPrimaryKey(i)).unwrap().unwrap(), &doc(i));
    }
    assert!(t.get(DocPrimaryKey(N)).unwrap().is_none());

    // Every record alive at once, then read in reverse order of creation.
    let all: Vec<_> = t.iter().unwrap().map(Result::unwrap).collect();
    assert_eq!(all.len(), N as usize);
    for (i, r) in all.iter().enumerate().rev() {
        assert_ref(r, &doc(i as u32));
    }
    let rev: Vec<u32> = ids(t.range_rev(DocPrimaryKey(3)..DocPrimaryKey(9)).unwrap());
    assert_eq!(rev, [8, 7, 6, 5, 4, 3]);
    let page = t.query().limit(4).page().unwrap();
    for (i, r) in page.items.iter().enumerate() {
        assert_ref(r, &doc(i as u32));
    }
    let next = t
        .query()
        .after(&page.next.unwrap())
        .limit(2)
        .page()
        .unwrap();
    assert_eq!(
        next.items
            .iter()
            .map(|r| r.id.to_native())
            .collect::<Vec<_>>(),
        [4, 5]
    );
}

#[test]
fn refs_from_every_kind_of_secondary_lookup() {
    let db = filled();
    let r = db.read().unwrap();
    let t = r.open_tree::<Doc>().unwrap();
    let model: Vec<Doc> = (0..N).map(doc).collect();
    let want = |f: &dyn Fn(&Doc) -> bool| -> Vec<u32> {
        model.iter().filter(|d| f(d)).map(|d| d.id).collect()
    };

    for owner in 0..3 {
        let key = DocSecondaryKeys::Owner(DocOwnerSecondaryKey(owner));
        assert_eq!(
            ids(t.get_by_secondary_key(key).unwrap()),
            want(&|d| d.owner == owner)
        );
    }
    let name = doc(5).name;
    let key = DocSecondaryKeys::Name(DocNameSecondaryKey(name.clone()));
    assert_eq!(ids(t.get_by_secondary_key(key).unwrap()), [5]);
    for label in ["", "l", "ll"] {
        let key = DocSecondaryKeys::Label(DocLabelSecondaryKey(label.into()));
        assert_eq!(
            ids(t.get_by_secondary_key(key).unwrap()),
            want(&|d| d.label.as_deref() == Some(label))
        );
    }
    for tag in ["t", "t#", "t##"] {
        let key = DocSecondaryKeys::Tags(DocTagsSecondaryKey(tag.into()));
        assert_eq!(
            ids(t.get_by_secondary_key(key).unwrap()),
            want(&|d| d.tags.iter().any(|x| x == tag))
        );
    }
    let (o, y) = (doc(4).owner, doc(4).year);
    let key = DocSecondaryKeys::OwnerYear(DocOwnerYearSecondaryKey((o, y)));
    assert_eq!(
        ids(t.get_by_secondary_key(key).unwrap()),
        want(&|d| d.owner == o && d.year == y)
    );
    // Queries by secondary key: prefixes and reverse ranges resolve records the same way.
    let by_prefix = ids(t
        .query_by::<DocNameSecondaryKey>()
        .prefix(StrPrefix("doc1"))
        .iter()
        .unwrap());
    let mut want_prefix = want(&|d| d.name.starts_with("doc1"));
    want_prefix.sort_by_key(|&i| doc(i).name);
    assert_eq!(by_prefix, want_prefix);
    let owners_rev = ids(t
        .query_by::<DocOwnerSecondaryKey>()
        .rev()
        .limit(5)
        .iter()
        .unwrap());
    assert_eq!(owners_rev.len(), 5);
}

#[test]
fn a_kept_ref_stays_valid_while_other_reads_and_a_commit_happen() {
    let db = filled();
    let r = db.read().unwrap();
    let t = r.open_tree::<Doc>().unwrap();
    let kept = t.get(DocPrimaryKey(6)).unwrap().unwrap();
    assert_ref(&kept, &doc(6));

    // Other reads through the same tree, while `kept` lives.
    for i in (0..N).rev() {
        let other = t.get(DocPrimaryKey(i)).unwrap().unwrap();
        assert_ref(&other, &doc(i));
        assert_ref(&kept, &doc(6));
    }
    let _count = t.iter().unwrap().count();

    // A writer replaces record 6 with a longer one and removes record 7, and commits; the
    // kept `Ref` reads its snapshot's bytes, unchanged.
    let longer = Doc {
        body: vec![0xEE; 300],
        tags: vec!["new".into(); 3],
        ..doc(6)
    };
    let w = db.write().unwrap();
    {
        let mut wt = w.open_tree::<Doc>().unwrap();
        wt.put(&longer).unwrap();
        assert_eq!(wt.remove(DocPrimaryKey(7)).unwrap(), Some(doc(7)));
    }
    w.commit().unwrap();
    assert_ref(&kept, &doc(6));
    assert!(
        t.get(DocPrimaryKey(7)).unwrap().is_some(),
        "the snapshot still has it"
    );

    let r2 = db.read().unwrap();
    let t2 = r2.open_tree::<Doc>().unwrap();
    assert_ref(&t2.get(DocPrimaryKey(6)).unwrap().unwrap(), &longer);
    assert!(t2.get(DocPrimaryKey(7)).unwrap().is_none());
    // A `Ref`'s guard outlives the `Ref` and holds the same bytes.
    let r6 = t2.get(DocPrimaryKey(6)).unwrap().unwrap();
    let len = r6.as_bytes().len();
    let guard = r6.into_guard();
    assert_eq!(guard.len(), len);
}

#[test]
fn refs_inside_a_write_transaction_across_updates() {
    let db = filled();
    let w = db.write().unwrap();
    {
        let mut t = w.open_tree::<Doc>().unwrap();
        for round in 0..3u32 {
            for i in [0, 5, 13] {
                let mut d = doc(i + round);
                d.id = i;
                d.name = format!("{}-{round}", d.name);
                t.put(&d).unwrap();
                let r = t.get(DocPrimaryKey(i)).unwrap().unwrap();
                assert_ref(&r, &d);
                let by_name = DocSecondaryKeys::Name(DocNameSecondaryKey(d.name.clone()));
                let found: Vec<_> = t.get_by_secondary_key(by_name).unwrap().collect();
                assert_eq!(found.len(), 1);
                assert_ref(found[0].as_ref().unwrap(), &d);
                assert_ref(&r, &d);
            }
        }
    }
    drop(w); // rolled back
    let r = db.read().unwrap();
    let t = r.open_tree::<Doc>().unwrap();
    assert_ref(&t.get(DocPrimaryKey(13)).unwrap().unwrap(), &doc(13));
}

#[test]
fn auto_commit_reads_give_owned_values() {
    let db = filled();
    let docs = db.open_tree::<Doc>();
    assert_eq!(docs.get(DocPrimaryKey(9)).unwrap(), Some(doc(9)));
    let tagged = docs
        .get_by_secondary_key(DocSecondaryKeys::Tags(DocTagsSecondaryKey("t#".into())))
        .unwrap();
    assert!(tagged.iter().all(|d| d.tags.iter().any(|t| t == "t#")));
}
