//! The storage format, pinned by a committed fixture (`tests/fixtures/format-1.txt`): every
//! table's entries, key and value in hex, of a store holding a fixed set of records of every
//! key kind. Two checks:
//!
//! * writing those records today produces exactly the fixture's bytes (the format did not
//!   drift: records, index entries and the schema record);
//! * a store loaded from the fixture's bytes opens and reads every record back (a later
//!   release must keep passing this with the file unchanged).
//!
//! After an intended format change (which must also change `netabase_store::FORMAT`), write
//! a new fixture with `NETABASE_WRITE_FIXTURE=1 cargo test --test format_fixture` and keep
//! the old one's reading test.

mod common;

use std::fmt::Write as _;

use common::*;
use netabase_store::backend::{
    Backend, Direction, ReadTable, ReadTransaction, WriteTable, WriteTransaction,
};
use netabase_store::traits::definition::NetabaseDefinitionTrait;
use netabase_store::{MemoryBackend, Store};

const FIXTURE: &str = "tests/fixtures/format-1.txt";

fn tables() -> Vec<&'static str> {
    let mut t = vec![netabase_store::META_TABLE];
    for m in BlogDefinition::MODELS {
        t.push(m.table);
        if !m.secondary_keys.is_empty() {
            t.push(m.index_table);
        }
    }
    t
}

/// Every entry of every table, one `table key value` line each, in order.
fn dump(backend: &MemoryBackend) -> String {
    let txn = backend.begin_read().unwrap();
    let mut out = String::new();
    for table in tables() {
        let t = txn.open_table(table).unwrap();
        let range = t
            .range(
                std::ops::Bound::Unbounded,
                std::ops::Bound::Unbounded,
                Direction::Forward,
            )
            .unwrap();
        for entry in range {
            let (k, v) = entry.unwrap();
            let _ = writeln!(out, "{table} {} {}", hex(k), hex(v));
        }
    }
    out
}

fn written_today() -> String {
    let store = Store::<BlogDefinition, _>::memory().unwrap();
    let (users, accounts, articles, settings) = fixture_records();
    let txn = store.write().unwrap();
    {
        txn.open_tree::<User>().unwrap().put_many(&users).unwrap();
        txn.open_tree::<Account>()
            .unwrap()
            .put_many(&accounts)
            .unwrap();
        txn.open_tree::<Article>()
            .unwrap()
            .put_many(&articles)
            .unwrap();
        txn.open_tree::<Setting>()
            .unwrap()
            .put_many(&settings)
            .unwrap();
    }
    txn.commit().unwrap();
    dump(store.backend())
}

#[test]
fn todays_bytes_equal_the_fixture() {
    let today = written_today();
    if std::env::var_os("NETABASE_WRITE_FIXTURE").is_some() {
        std::fs::write(FIXTURE, &today).unwrap();
    }
    let fixture = std::fs::read_to_string(FIXTURE).expect("the committed fixture");
    for (line, (a, b)) in fixture.lines().zip(today.lines()).enumerate() {
        assert_eq!(
            a,
            b,
            "line {} of {FIXTURE} differs from what this build writes",
            line + 1
        );
    }
    assert_eq!(fixture.lines().count(), today.lines().count());
}

#[test]
fn a_store_loaded_from_the_fixture_reads_every_record() {
    let fixture = std::fs::read_to_string(FIXTURE).expect("the committed fixture");
    let backend = MemoryBackend::new();
    {
        let txn = backend.begin_write().unwrap();
        for table in tables() {
            let mut t = txn.open_table(table).unwrap();
            for line in fixture
                .lines()
                .filter(|l| l.split(' ').next() == Some(table))
            {
                let mut parts = line.split(' ').skip(1);
                let key = unhex(parts.next().unwrap());
                let value = unhex(parts.next().unwrap_or(""));
                t.insert(&key, &value).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let store = Store::<BlogDefinition, _>::from_backend(backend).unwrap();
    let (users, accounts, articles, settings) = fixture_records();
    for u in &users {
        assert_eq!(
            store.open_tree::<User>().get(u.id).unwrap().as_ref(),
            Some(u)
        );
    }
    for a in &accounts {
        let found = store
            .open_tree::<Account>()
            .get_by(Account::EMAIL, &a.email)
            .unwrap();
        assert_eq!(found, vec![a.clone()]);
    }
    let txn = store.read().unwrap();
    let tree = txn.open_tree::<Article>().unwrap();
    assert_eq!(tree.count_by(Article::TAGS, "rust").unwrap(), 1);
    assert_eq!(tree.count_by(Article::AUTHOR_YEAR, (7, 2024)).unwrap(), 1);
    assert_eq!(
        tree.get((7, "intro"))
            .unwrap()
            .unwrap()
            .deserialize()
            .unwrap(),
        articles[0]
    );
    let s = txn
        .open_tree::<Setting>()
        .unwrap()
        .get("theme")
        .unwrap()
        .unwrap()
        .deserialize();
    assert_eq!(s.unwrap(), settings[0]);
}
