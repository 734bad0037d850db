//! Model checking (loom) of the change feed's commit-to-publish ordering, on the memory
//! backend, whose writer lock and the feed's publish lock are loom's under `--cfg loom`.
//!
//! The claims, under every interleaving loom explores:
//!
//! * two writers that each increment one counter record publish their changes in commit
//!   order (the counter values arrive as 1, 2), although the backend's writer lock is
//!   released at commit, before the publish;
//! * with the ordering deliberately weakened (the publish lock taken only after the
//!   backend commit, a knob compiled only under loom), loom finds the interleaving where
//!   the second commit is published first;
//! * a subscriber that has received a change can read the committed record: nothing is
//!   published before its commit is visible to readers.
//!
//! Run: `scripts/loom.sh`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use netabase_store::{Event, Store};

#[netabase_store::netabase_definition_module(FeedDefinition, FeedKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(FeedDefinition)]
    pub struct Counter {
        #[primary_key]
        pub id: u64,
        pub value: u64,
    }
}
use schema::*;

type S = Store<FeedDefinition, netabase_store::MemoryBackend>;

fn increment(store: &S) {
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<Counter>().unwrap();
        let value = t
            .get(CounterPrimaryKey(0))
            .unwrap()
            .map_or(0, |c| c.value.to_native());
        t.put(Counter {
            id: 0,
            value: value + 1,
        })
        .unwrap();
    }
    txn.commit().unwrap();
}

/// Two racing incrementers; the feed must carry the counter values in commit order.
fn two_writers_publish_in_commit_order(weaken: bool) {
    loom::model(move || {
        let store: Arc<S> = Arc::new(Store::memory().unwrap());
        if weaken {
            store.__weaken_publish_ordering();
        }
        let sub = store.subscribe::<Counter>();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let store = Arc::clone(&store);
                thread::spawn(move || increment(&store))
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let values: Vec<u64> = std::iter::from_fn(|| sub.try_recv())
            .map(|e| match e.unwrap() {
                Event::Change(c) => c.value.to_native(),
                Event::Lagged { missed } => panic!("lagged {missed}"),
            })
            .collect();
        assert_eq!(values, [1, 2], "feed order is commit order");
    });
}

#[test]
fn publishes_follow_commit_order() {
    two_writers_publish_in_commit_order(false);
}

#[test]
#[should_panic(expected = "feed order is commit order")]
fn loom_catches_a_weakened_publish_ordering() {
    two_writers_publish_in_commit_order(true);
}

#[test]
fn a_received_change_is_visible_to_readers() {
    loom::model(|| {
        let store: Arc<S> = Arc::new(Store::memory().unwrap());
        let sub = store.subscribe::<Counter>();
        let writer = {
            let store = Arc::clone(&store);
            thread::spawn(move || increment(&store))
        };
        let early = sub.try_recv();
        if let Some(event) = &early {
            assert!(matches!(event, Ok(Event::Change(_))));
            let txn = store.read().unwrap();
            let t = txn.open_tree::<Counter>().unwrap();
            assert!(
                t.get(CounterPrimaryKey(0)).unwrap().is_some(),
                "published before commit"
            );
        }
        writer.join().unwrap();
        assert!(
            early.or_else(|| sub.try_recv()).is_some(),
            "the commit was published"
        );
    });
}
