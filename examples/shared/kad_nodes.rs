//! In-process Kademlia nodes on `KadStore`s, shared by `examples/kademlia_node.rs` and
//! `tests/kad_record_store.rs`: libp2p's memory transport, and a bounded event loop.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use libp2p::futures::{StreamExt, executor::block_on, future::poll_fn};
use libp2p::kad;
use libp2p::swarm::{Swarm, SwarmEvent};
use libp2p::{Multiaddr, Transport, identity};
use netabase_store::Store;
use netabase_store::backend::Backend;
use netabase_store::kad::KadStore;
use netabase_store::prelude::NetabaseDefinitionTrait;

/// A Kademlia node whose records live in a netabase store.
pub type Node<D, B> = Swarm<kad::Behaviour<KadStore<D, B>>>;

/// A node with `keypair`'s identity on `store`, listening on a fresh memory address.
pub fn node<D: NetabaseDefinitionTrait, B: Backend>(
    keypair: &identity::Keypair,
    store: Arc<Store<D, B>>,
) -> Node<D, B> {
    let peer = keypair.public().to_peer_id();
    let transport = libp2p::core::transport::MemoryTransport::default()
        .upgrade(libp2p::core::upgrade::Version::V1)
        .authenticate(libp2p::plaintext::Config::new(keypair))
        .multiplex(libp2p::yamux::Config::default())
        .boxed();
    let mut config = kad::Config::new(kad::PROTOCOL_NAME);
    config.set_query_timeout(Duration::from_secs(10));
    let records = KadStore::new(store, peer).expect("the record store opens");
    let mut behaviour = kad::Behaviour::with_config(peer, records, config);
    // Answer other nodes' queries even without a confirmed external address.
    behaviour.set_mode(Some(kad::Mode::Server));
    // Connection tasks on their own threads; they end when their connection closes.
    let swarm_config = libp2p::swarm::Config::with_executor(|task| {
        std::thread::spawn(move || block_on(task));
    })
    .with_idle_connection_timeout(Duration::from_secs(60));
    let mut swarm = Swarm::new(transport, behaviour, peer, swarm_config);
    swarm
        .listen_on("/memory/0".parse().expect("a valid multiaddr"))
        .expect("the memory transport listens");
    swarm
}

/// Polls every node until `f` returns `Some`; panics after `limit`.
pub fn drive<D: NetabaseDefinitionTrait, B: Backend, T>(
    nodes: &mut [&mut Node<D, B>],
    limit: Duration,
    mut f: impl FnMut(usize, SwarmEvent<kad::Event>) -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    let waker: Arc<Mutex<Option<Waker>>> = Arc::default();
    let timer = Arc::clone(&waker);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        if let Some(w) = timer.lock().expect("no panic holds it").take() {
            w.wake();
        }
    });
    block_on(poll_fn(|cx| {
        *waker.lock().expect("no panic holds it") = Some(cx.waker().clone());
        assert!(Instant::now() < deadline, "timed out after {limit:?}");
        loop {
            let mut progressed = false;
            for (i, n) in nodes.iter_mut().enumerate() {
                if let Poll::Ready(Some(event)) = n.poll_next_unpin(cx) {
                    progressed = true;
                    if let Some(t) = f(i, event) {
                        return Poll::Ready(t);
                    }
                }
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    }))
}

/// Each node's listen address.
pub fn addresses<D: NetabaseDefinitionTrait, B: Backend>(
    nodes: &mut [&mut Node<D, B>],
    limit: Duration,
) -> Vec<Multiaddr> {
    let mut found: Vec<Option<Multiaddr>> = vec![None; nodes.len()];
    drive(nodes, limit, |i, e| {
        if let SwarmEvent::NewListenAddr { address, .. } = e {
            found[i] = Some(address);
        }
        found
            .iter()
            .all(Option::is_some)
            .then(|| found.iter().flatten().cloned().collect())
    })
}

/// The result of a query step, if `e` is one.
pub fn progressed(e: SwarmEvent<kad::Event>) -> Option<kad::QueryResult> {
    match e {
        SwarmEvent::Behaviour(kad::Event::OutboundQueryProgressed { result, .. }) => Some(result),
        _ => None,
    }
}
