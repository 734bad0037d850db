//! The Kademlia record store: real libp2p nodes on it, its semantics against libp2p's own
//! `MemoryStore`, expiry across restarts, limits, and corrupt bytes.
//!
//! Network tests use libp2p's in-process memory transport; every wait is bounded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::kad::store::{MemoryStore, MemoryStoreConfig, RecordStore};
use libp2p::kad::{self, ProviderRecord, Quorum, Record, RecordKey};
use libp2p::{PeerId, identity};
use netabase_store::backend::{Backend, WriteTable, WriteTransaction};
use netabase_store::kad::{KadError, KadStore, PROVIDERS_TABLE, RECORDS_TABLE, format};
use netabase_store::prelude::*;
use netabase_store::{MemoryBackend, NetabaseError, RedbBackend, Store};
use proptest::prelude::*;

/// The user's own models, stored next to the DHT's tables.
#[netabase_definition_module(NodeDefinition, NodeKeys)]
pub mod node_schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(NodeDefinition)]
    /// A user record.
    pub struct Note {
        /// Its key.
        #[primary_key]
        pub id: u64,
        /// Its content.
        pub text: String,
    }
}
use node_schema::*;

#[path = "../examples/shared/kad_nodes.rs"]
mod kad_nodes;
use kad_nodes::{addresses, drive, node, progressed};

const PHASE: Duration = Duration::from_secs(30);

fn redb_store(path: &std::path::Path) -> Arc<Store<NodeDefinition, RedbBackend>> {
    Arc::new(Store::redb(path).unwrap())
}

#[test]
fn three_nodes_put_get_provide_find_and_a_restarted_node_serves_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(format!("{n}.redb"));
    let keys: Vec<identity::Keypair> = (0..4)
        .map(|_| identity::Keypair::generate_ed25519())
        .collect();
    let ids: Vec<PeerId> = keys.iter().map(|k| k.public().to_peer_id()).collect();

    // A's store also holds the user's own models, next to the DHT's tables.
    let store_a = redb_store(&path("a"));
    store_a
        .open_tree::<Note>()
        .put(Note {
            id: 1,
            text: "user data".into(),
        })
        .unwrap();
    let mut a = node(&keys[0], store_a);
    let mut b = node(&keys[1], redb_store(&path("b")));
    let mut c = node(&keys[2], redb_store(&path("c")));
    let addrs = addresses(&mut [&mut a, &mut b, &mut c], PHASE);
    // B is the rendezvous: A and C know B, B knows both.
    a.behaviour_mut().add_address(&ids[1], addrs[1].clone());
    c.behaviour_mut().add_address(&ids[1], addrs[1].clone());
    b.behaviour_mut().add_address(&ids[0], addrs[0].clone());
    b.behaviour_mut().add_address(&ids[2], addrs[2].clone());

    // A puts a record; C gets it.
    let record_key = RecordKey::new(&b"greeting");
    let value = b"hello from A".to_vec();
    assert!(
        c.behaviour_mut()
            .store_mut()
            .try_get(&record_key)
            .unwrap()
            .is_none()
    );
    a.behaviour_mut()
        .put_record(Record::new(record_key.clone(), value.clone()), Quorum::One)
        .unwrap();
    drive(
        &mut [&mut a, &mut b, &mut c],
        PHASE,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::PutRecord(r)) if i == 0 => Some(r.expect("put succeeds")),
            _ => None,
        },
    );
    c.behaviour_mut().get_record(record_key.clone());
    let got = drive(
        &mut [&mut a, &mut b, &mut c],
        PHASE,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(r)))) if i == 2 => {
                Some(r.record)
            }
            _ => None,
        },
    );
    assert_eq!(got.value, value);
    assert_eq!(got.publisher, Some(ids[0]));

    // A provides a key; C finds A as its provider.
    let provided_key = RecordKey::new(&b"a file");
    a.behaviour_mut()
        .start_providing(provided_key.clone())
        .unwrap();
    drive(
        &mut [&mut a, &mut b, &mut c],
        PHASE,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::StartProviding(r)) if i == 0 => {
                Some(r.expect("provide succeeds"))
            }
            _ => None,
        },
    );
    c.behaviour_mut().get_providers(provided_key.clone());
    drive(
        &mut [&mut a, &mut b, &mut c],
        PHASE,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::GetProviders(Ok(kad::GetProvidersOk::FoundProviders {
                providers,
                ..
            }))) if i == 2 && providers.contains(&ids[0]) => Some(()),
            _ => None,
        },
    );

    // Every node goes down; A comes back on the same file with the same identity, and a
    // new node D that knows only A gets the record and the provider from A's store.
    drop((a, b, c));
    let store_a = redb_store(&path("a"));
    assert_eq!(
        store_a
            .open_tree::<Note>()
            .get(NotePrimaryKey(1))
            .unwrap()
            .unwrap()
            .text,
        "user data"
    );
    let mut a = node(&keys[0], store_a);
    let mut d = node(&keys[3], redb_store(&path("d")));
    assert_eq!(
        a.behaviour_mut().store_mut().try_provided().unwrap().len(),
        1
    );
    let addrs = addresses(&mut [&mut a, &mut d], PHASE);
    d.behaviour_mut().add_address(&ids[0], addrs[0].clone());
    d.behaviour_mut().get_record(record_key.clone());
    let (peer, got) = drive(&mut [&mut a, &mut d], PHASE, |i, e| match progressed(e) {
        Some(kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(r)))) if i == 1 => {
            Some((r.peer, r.record))
        }
        _ => None,
    });
    assert_eq!((peer, got.value), (Some(ids[0]), value));
    d.behaviour_mut().get_providers(provided_key);
    drive(&mut [&mut a, &mut d], PHASE, |i, e| match progressed(e) {
        Some(kad::QueryResult::GetProviders(Ok(kad::GetProvidersOk::FoundProviders {
            providers,
            ..
        }))) if i == 1 && providers.contains(&ids[0]) => Some(()),
        _ => None,
    });
}

// ---- Semantics against libp2p's MemoryStore ----

#[derive(Clone, Debug)]
enum Op {
    Put {
        key: u8,
        value_len: usize,
        publisher: Option<u8>,
        expires: Option<u16>,
    },
    Get(u8),
    Remove(u8),
    AddProvider {
        key: u8,
        provider: u8,
        expires: Option<u16>,
        addrs: u8,
    },
    Providers(u8),
    RemoveProvider {
        key: u8,
        provider: u8,
    },
    Records,
    Provided,
}

fn op() -> impl Strategy<Value = Op> {
    // Few keys and peers, so operations collide; values straddle the size limit.
    let key = 0u8..6;
    let peer = 0u8..5;
    let expires = proptest::option::of(1u16..1000);
    prop_oneof![
        (
            key.clone(),
            0usize..40,
            proptest::option::of(peer.clone()),
            expires.clone()
        )
            .prop_map(|(key, value_len, publisher, expires)| Op::Put {
                key,
                value_len,
                publisher,
                expires
            }),
        key.clone().prop_map(Op::Get),
        key.clone().prop_map(Op::Remove),
        (key.clone(), peer.clone(), expires, 0u8..3).prop_map(|(key, provider, expires, addrs)| {
            Op::AddProvider {
                key,
                provider,
                expires,
                addrs,
            }
        }),
        key.clone().prop_map(Op::Providers),
        (key, peer).prop_map(|(key, provider)| Op::RemoveProvider { key, provider }),
        Just(Op::Records),
        Just(Op::Provided),
    ]
}

/// Small limits, so the sequences hit every one of them.
fn limits() -> MemoryStoreConfig {
    MemoryStoreConfig {
        max_records: 4,
        max_value_bytes: 32,
        max_providers_per_key: 3,
        max_provided_keys: 4,
    }
}

fn peers() -> Vec<PeerId> {
    (0..5u8)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[0] = i + 1;
            identity::Keypair::ed25519_from_bytes(seed)
                .unwrap()
                .public()
                .to_peer_id()
        })
        .collect()
}

/// A record without its expiry (compared separately, to clock precision).
fn plain(r: &Record) -> (Vec<u8>, Vec<u8>, Option<PeerId>) {
    (r.key.to_vec(), r.value.clone(), r.publisher)
}

fn close(a: Option<Instant>, b: Option<Instant>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let d = if a > b { a - b } else { b - a };
            d < Duration::from_secs(1)
        }
        _ => false,
    }
}

fn same_records(ours: &[Record], theirs: &[Record]) -> Result<(), TestCaseError> {
    let ours: BTreeMap<_, _> = ours.iter().map(|r| (plain(r), r.expires)).collect();
    let theirs: BTreeMap<_, _> = theirs.iter().map(|r| (plain(r), r.expires)).collect();
    prop_assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (k, e) in &ours {
        prop_assert!(close(*e, theirs[k]), "expiry of {:?}", k);
    }
    Ok(())
}

fn same_providers(ours: &[ProviderRecord], theirs: &[ProviderRecord]) -> Result<(), TestCaseError> {
    prop_assert_eq!(ours.len(), theirs.len());
    for (o, t) in ours.iter().zip(theirs) {
        prop_assert_eq!(
            (&o.key, &o.provider, &o.addresses),
            (&t.key, &t.provider, &t.addresses)
        );
        prop_assert!(close(o.expires, t.expires));
    }
    Ok(())
}

/// Runs `ops` on a `KadStore` over `B` and on a `MemoryStore`, comparing every answer.
/// Deadlines lie in the future, so no entry expires during a case (the reference never
/// expires anything itself; expiry is tested on its own below).
fn run_against_memory_store<B: Backend>(
    store: Store<NodeDefinition, B>,
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let peers = peers();
    let local = peers[0];
    let mut ours = KadStore::with_config(Arc::new(store), local, limits()).unwrap();
    let mut theirs = MemoryStore::with_config(local, limits());
    let start = Instant::now();
    let key = |k: u8| RecordKey::new(&[k]);
    let deadline = |e: Option<u16>| e.map(|s| start + Duration::from_secs(3600 + u64::from(s)));
    for op in ops {
        match op.clone() {
            Op::Put {
                key: k,
                value_len,
                publisher,
                expires,
            } => {
                let r = Record {
                    key: key(k),
                    value: vec![k; value_len],
                    publisher: publisher.map(|p| peers[usize::from(p)]),
                    expires: deadline(expires),
                };
                let a = ours.put(r.clone()).map_err(|e| e.to_string());
                let b = theirs.put(r).map_err(|e| e.to_string());
                prop_assert_eq!(a, b);
            }
            Op::Get(k) => {
                let a = ours.get(&key(k)).map(|r| r.into_owned());
                let b = theirs.get(&key(k)).map(|r| r.into_owned());
                same_records(a.as_slice(), b.as_slice())?;
            }
            Op::Remove(k) => {
                ours.remove(&key(k));
                theirs.remove(&key(k));
            }
            Op::AddProvider {
                key: k,
                provider,
                expires,
                addrs,
            } => {
                let r = ProviderRecord {
                    key: key(k),
                    provider: peers[usize::from(provider)],
                    expires: deadline(expires),
                    addresses: (0..addrs)
                        .map(|i| format!("/memory/{}", u64::from(i) + 1).parse().unwrap())
                        .collect(),
                };
                let a = ours.add_provider(r.clone()).map_err(|e| e.to_string());
                let b = theirs.add_provider(r).map_err(|e| e.to_string());
                prop_assert_eq!(a, b);
            }
            Op::Providers(k) => {
                same_providers(&ours.providers(&key(k)), &theirs.providers(&key(k)))?
            }
            Op::RemoveProvider { key: k, provider } => {
                ours.remove_provider(&key(k), &peers[usize::from(provider)]);
                theirs.remove_provider(&key(k), &peers[usize::from(provider)]);
            }
            Op::Records => {
                let a: Vec<Record> = ours.records().map(|r| r.into_owned()).collect();
                let b: Vec<Record> = theirs.records().map(|r| r.into_owned()).collect();
                same_records(&a, &b)?;
            }
            Op::Provided => {
                let mut a: Vec<ProviderRecord> = ours.provided().map(|r| r.into_owned()).collect();
                let mut b: Vec<ProviderRecord> =
                    theirs.provided().map(|r| r.into_owned()).collect();
                a.sort_by_key(|x| x.key.to_vec());
                b.sort_by_key(|x| x.key.to_vec());
                same_providers(&a, &b)?;
            }
        }
        prop_assert!(ours.take_error().is_none());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn memory_backend_answers_like_libp2p_memory_store(ops in proptest::collection::vec(op(), 1..60)) {
        run_against_memory_store(Store::<NodeDefinition, MemoryBackend>::memory().unwrap(), &ops)?;
    }

    #[test]
    fn redb_backend_answers_like_libp2p_memory_store(ops in proptest::collection::vec(op(), 1..60)) {
        run_against_memory_store(Store::<NodeDefinition, RedbBackend>::temp().unwrap(), &ops)?;
    }
}

/// sled is opt-in (feature `sled`); `.ci/run` runs this file with it.
#[cfg(feature = "sled")]
#[test]
fn sled_backend_answers_like_libp2p_memory_store() {
    let ops: Vec<Op> = (0..6u8)
        .flat_map(|k| {
            [
                Op::Put {
                    key: k,
                    value_len: usize::from(k) * 7,
                    publisher: Some(k % 5),
                    expires: Some(5),
                },
                Op::AddProvider {
                    key: k,
                    provider: k % 5,
                    expires: None,
                    addrs: 2,
                },
                Op::AddProvider {
                    key: k % 2,
                    provider: (k + 1) % 5,
                    expires: Some(9),
                    addrs: 1,
                },
                Op::Get(k),
                Op::Providers(k % 3),
                Op::Records,
                Op::Provided,
            ]
        })
        .chain([
            Op::RemoveProvider {
                key: 0,
                provider: 0,
            },
            Op::Remove(1),
            Op::Records,
            Op::Provided,
        ])
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store =
        Store::<NodeDefinition, netabase_store::SledBackend>::sled(dir.path().join("kad.sled"))
            .unwrap();
    run_against_memory_store(store, &ops).unwrap();
}

// ---- Expiry, limits and corrupt bytes ----

#[test]
fn expiry_survives_a_restart_and_expired_entries_are_neither_served_nor_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("expiry.redb");
    let local = peers()[0];
    let in_an_hour = Instant::now() + Duration::from_secs(3600);
    let soon = Instant::now() + Duration::from_millis(300);
    {
        let kad = KadStore::new(redb_store(&path), local).unwrap();
        for (k, expires) in [(b"lasting", in_an_hour), (b"short!!", soon)] {
            let mut r = Record::new(RecordKey::new(k), k.to_vec());
            r.expires = Some(expires);
            kad.try_put(&r).unwrap();
            let mut p = ProviderRecord::new(RecordKey::new(k), local, vec![]);
            p.expires = Some(expires);
            kad.try_add_provider(&p).unwrap();
        }
        assert_eq!(kad.try_records().unwrap().len(), 2);
    }
    std::thread::sleep(Duration::from_millis(400));
    let store = redb_store(&path);
    let kad = KadStore::new(Arc::clone(&store), local).unwrap();
    // The lasting deadline came back as the same instant (to clock precision).
    let lasting = kad.try_get(&RecordKey::new(b"lasting")).unwrap().unwrap();
    assert!(close(lasting.expires, Some(in_an_hour)));
    assert!(kad.try_get(&RecordKey::new(b"short!!")).unwrap().is_none());
    assert_eq!(kad.try_records().unwrap().len(), 1);
    assert!(
        kad.try_providers(&RecordKey::new(b"short!!"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(kad.try_provided().unwrap().len(), 1);
    // Opening purged them from the tables, not only from the answers.
    let txn = store.read().unwrap();
    use netabase_store::backend::{ReadTable, ReadTransaction};
    let records = txn.backend_txn().open_table(RECORDS_TABLE).unwrap();
    assert_eq!(records.len().unwrap(), 1);
    let providers = txn.backend_txn().open_table(PROVIDERS_TABLE).unwrap();
    assert_eq!(providers.len().unwrap(), 1);
}

#[test]
fn network_input_beyond_the_limits_is_refused_with_libp2p_errors() {
    let store = Arc::new(Store::<NodeDefinition, MemoryBackend>::memory().unwrap());
    let mut kad = KadStore::with_config(store, peers()[0], limits()).unwrap();
    let big = Record::new(RecordKey::new(b"big"), vec![0; 32]);
    assert!(matches!(
        kad.put(big),
        Err(kad::store::Error::ValueTooLarge)
    ));
    for k in 0..4u8 {
        kad.put(Record::new(RecordKey::new(&[k]), vec![k])).unwrap();
    }
    let fifth = Record::new(RecordKey::new(&[9]), vec![]);
    assert!(matches!(kad.put(fifth), Err(kad::store::Error::MaxRecords)));
    // Replacing an existing record is not a new one.
    kad.put(Record::new(RecordKey::new(&[0]), vec![7])).unwrap();
    for k in 0..4u8 {
        for p in peers() {
            kad.add_provider(ProviderRecord::new(RecordKey::new(&[k]), p, vec![]))
                .unwrap();
        }
        assert_eq!(kad.providers(&RecordKey::new(&[k])).len(), 3);
    }
    let fifth = ProviderRecord::new(RecordKey::new(&[9]), peers()[1], vec![]);
    assert!(matches!(
        kad.add_provider(fifth),
        Err(kad::store::Error::MaxProvidedKeys)
    ));
}

#[test]
fn corrupt_stored_bytes_are_errors_never_panics() {
    let store = Arc::new(Store::<NodeDefinition, MemoryBackend>::memory().unwrap());
    let mut kad = KadStore::new(Arc::clone(&store), peers()[0]).unwrap();
    let good = Record::new(RecordKey::new(b"good"), b"fine".to_vec());
    kad.try_put(&good).unwrap();
    let bad_peer = format::encode_record(&format::StoredRecord {
        value: vec![],
        publisher: Some(vec![0xff; 3]),
        expires: None,
    })
    .unwrap();
    {
        let txn = store.write().unwrap();
        let mut records = txn.backend_txn().open_table(RECORDS_TABLE).unwrap();
        records
            .insert(b"truncated", &[format::VERSION, 0, 9])
            .unwrap();
        records.insert(b"bad peer", &bad_peer).unwrap();
        drop(records);
        let mut providers = txn.backend_txn().open_table(PROVIDERS_TABLE).unwrap();
        providers.insert(b"junk", b"\x01\xff\xff").unwrap();
        drop(providers);
        txn.commit().unwrap();
    }
    let corrupt = |e: KadError| matches!(e, KadError::Store(NetabaseError::Corrupt { .. }));
    assert!(corrupt(
        kad.try_get(&RecordKey::new(b"truncated")).unwrap_err()
    ));
    assert!(corrupt(
        kad.try_get(&RecordKey::new(b"bad peer")).unwrap_err()
    ));
    assert!(corrupt(
        kad.try_providers(&RecordKey::new(b"junk")).unwrap_err()
    ));
    assert!(corrupt(kad.try_records().unwrap_err()));
    // Through libp2p's trait: absent / skipped, with the cause kept.
    assert!(kad.get(&RecordKey::new(b"truncated")).is_none());
    assert!(corrupt(kad.take_error().unwrap()));
    let served: Vec<_> = kad.records().map(|r| r.into_owned()).collect();
    assert_eq!(served, vec![good]);
    assert!(corrupt(kad.take_error().unwrap()));
    assert!(kad.providers(&RecordKey::new(b"junk")).is_empty());
    let p = ProviderRecord::new(RecordKey::new(b"junk"), peers()[1], vec![]);
    assert!(kad.add_provider(p).is_err());
    assert!(corrupt(kad.take_error().unwrap()));
    // Opening on damaged tables reports it too.
    assert!(corrupt(KadStore::new(store, peers()[0]).unwrap_err()));
}

#[test]
fn a_record_and_a_model_commit_in_one_transaction() {
    let store = Arc::new(Store::<NodeDefinition, MemoryBackend>::memory().unwrap());
    let kad = KadStore::new(Arc::clone(&store), peers()[0]).unwrap();
    let record = Record::new(RecordKey::new(b"k"), b"v".to_vec());
    let write_both = |commit: bool| {
        let txn = store.write().unwrap();
        kad.put_in(&txn, &record).unwrap();
        let note = Note {
            id: 7,
            text: "t".into(),
        };
        txn.open_tree::<Note>().unwrap().put(note).unwrap();
        if commit {
            txn.commit().unwrap();
        }
    };
    // Dropped without commit: neither is stored.
    write_both(false);
    assert!(kad.try_get(&record.key).unwrap().is_none());
    assert!(
        store
            .open_tree::<Note>()
            .get(NotePrimaryKey(7))
            .unwrap()
            .is_none()
    );
    write_both(true);
    assert_eq!(kad.try_get(&record.key).unwrap().unwrap().value, b"v");
    assert!(
        store
            .open_tree::<Note>()
            .get(NotePrimaryKey(7))
            .unwrap()
            .is_some()
    );
}

#[test]
fn expired_entries_do_not_count_against_the_limits() {
    let store = Arc::new(Store::<NodeDefinition, MemoryBackend>::memory().unwrap());
    let mut kad = KadStore::with_config(store, peers()[0], limits()).unwrap();
    let soon = Instant::now() + Duration::from_millis(200);
    for k in 0..4u8 {
        let mut r = Record::new(RecordKey::new(&[k]), vec![k]);
        r.expires = Some(soon);
        kad.put(r).unwrap();
        let mut p = ProviderRecord::new(RecordKey::new(&[k]), peers()[1], vec![]);
        p.expires = Some(soon);
        kad.add_provider(p).unwrap();
    }
    let new_record = Record::new(RecordKey::new(&[9]), vec![9]);
    let new_provider = ProviderRecord::new(RecordKey::new(&[9]), peers()[1], vec![]);
    assert!(matches!(
        kad.put(new_record.clone()),
        Err(kad::store::Error::MaxRecords)
    ));
    assert!(matches!(
        kad.add_provider(new_provider.clone()),
        Err(kad::store::Error::MaxProvidedKeys)
    ));
    std::thread::sleep(Duration::from_millis(300));
    // Now expired: they make room, and they are gone.
    kad.put(new_record.clone()).unwrap();
    kad.add_provider(new_provider.clone()).unwrap();
    assert_eq!(kad.try_records().unwrap(), vec![new_record]);
    assert_eq!(kad.providers(&RecordKey::new(&[9])), vec![new_provider]);
    assert!(kad.providers(&RecordKey::new(&[0])).is_empty());
}
