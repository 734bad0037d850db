//! Three Kademlia DHT nodes in one process, each keeping its records in its own netabase
//! store on redb, next to the application's own models.
//!
//! Node A stores a record and announces itself as a provider of a key; node C, which only
//! knows B, finds both through the DHT. Then A restarts on the same file and serves its
//! record to a new node D. Every step asserts what it prints.
//!
//! Run it with `cargo run --example kademlia_node --features libp2p`.

use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::kad::{self, Quorum, Record, RecordKey};
use netabase_store::prelude::*;
use netabase_store::{RedbBackend, Store};

#[path = "shared/kad_nodes.rs"]
mod kad_nodes;
use kad_nodes::{addresses, drive, node, progressed};

/// The application's schema.
#[netabase_definition_module(AppDefinition, AppKeys)]
pub mod app {
    use netabase_store::NetabaseModel;

    /// The application's own data, in the same file as the DHT's records.
    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(AppDefinition)]
    pub struct Setting {
        /// The setting's name.
        #[primary_key]
        pub name: String,
        /// Its value.
        pub value: String,
    }
}
use app::*;

const STEP: Duration = Duration::from_secs(30);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let open = |name: &str| -> Result<Arc<Store<AppDefinition, RedbBackend>>, NetabaseError> {
        Ok(Arc::new(Store::redb(dir.path().join(name))?))
    };
    let keys: Vec<Keypair> = (0..4).map(|_| Keypair::generate_ed25519()).collect();
    let ids: Vec<_> = keys.iter().map(|k| k.public().to_peer_id()).collect();

    let store_a = open("a.redb")?;
    store_a.open_tree::<Setting>().put(Setting {
        name: "nick".into(),
        value: "alice".into(),
    })?;
    let (mut a, mut b, mut c) = (
        node(&keys[0], store_a),
        node(&keys[1], open("b.redb")?),
        node(&keys[2], open("c.redb")?),
    );
    let addrs = addresses(&mut [&mut a, &mut b, &mut c], STEP);
    a.behaviour_mut().add_address(&ids[1], addrs[1].clone());
    c.behaviour_mut().add_address(&ids[1], addrs[1].clone());
    b.behaviour_mut().add_address(&ids[0], addrs[0].clone());
    b.behaviour_mut().add_address(&ids[2], addrs[2].clone());

    let key = RecordKey::new(b"/greetings/alice");
    a.behaviour_mut().put_record(
        Record::new(key.clone(), b"hello, DHT".to_vec()),
        Quorum::One,
    )?;
    drive(
        &mut [&mut a, &mut b, &mut c],
        STEP,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::PutRecord(r)) if i == 0 => {
                Some(r.expect("the put reaches a peer"))
            }
            _ => None,
        },
    );
    c.behaviour_mut().get_record(key.clone());
    let found = drive(
        &mut [&mut a, &mut b, &mut c],
        STEP,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(r)))) if i == 2 => {
                Some(r.record)
            }
            _ => None,
        },
    );
    assert_eq!(found.value, b"hello, DHT");
    println!(
        "C got {:?} = {:?}",
        key,
        String::from_utf8_lossy(&found.value)
    );

    let file = RecordKey::new(b"/files/report.pdf");
    a.behaviour_mut().start_providing(file.clone())?;
    drive(
        &mut [&mut a, &mut b, &mut c],
        STEP,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::StartProviding(r)) if i == 0 => Some(r.expect("announced")),
            _ => None,
        },
    );
    c.behaviour_mut().get_providers(file.clone());
    drive(
        &mut [&mut a, &mut b, &mut c],
        STEP,
        |i, e| match progressed(e) {
            Some(kad::QueryResult::GetProviders(Ok(kad::GetProvidersOk::FoundProviders {
                providers,
                ..
            }))) if i == 2 && providers.contains(&ids[0]) => Some(()),
            _ => None,
        },
    );
    println!("C found A ({}) as a provider of {:?}", ids[0], file);

    // A restarts on the same file: its record, its provided key and the app's own data
    // are all still there.
    drop((a, b, c));
    let store_a = open("a.redb")?;
    assert_eq!(
        store_a
            .open_tree::<Setting>()
            .get(SettingPrimaryKey("nick".into()))?
            .map(|s| s.value),
        Some("alice".into())
    );
    let mut a = node(&keys[0], store_a);
    let served = a
        .behaviour_mut()
        .store_mut()
        .try_get(&key)?
        .expect("kept across the restart");
    assert_eq!(served.value, b"hello, DHT");
    assert_eq!(a.behaviour_mut().store_mut().try_provided()?.len(), 1);
    // A new node D, which knows only A, asks the DHT.
    let mut d = node(&keys[3], open("d.redb")?);
    let addrs = addresses(&mut [&mut a, &mut d], STEP);
    d.behaviour_mut().add_address(&ids[0], addrs[0].clone());
    d.behaviour_mut().get_record(key.clone());
    let peer = drive(&mut [&mut a, &mut d], STEP, |i, e| match progressed(e) {
        Some(kad::QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(r)))) if i == 1 => {
            Some(r.peer)
        }
        _ => None,
    });
    assert_eq!(peer, Some(ids[0]));
    println!("after its restart, A served the record to a new node D");
    Ok(())
}
