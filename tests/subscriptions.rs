//! Change subscriptions on every backend: commit order across writer threads, nothing from
//! aborted transactions, filters against a model, lag with bounded memory, the async Stream.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::blog::*;
use netabase_store::backend::Backend;
use netabase_store::{
    BackendStore, Change, ChangeKind, Event, MemoryStore, NetabaseError, RedbStore, SledStore,
    Store, Subscription,
};

type Blog<B> = Store<BlogDefinition, B>;

fn user(id: u64, age: u8) -> User {
    User {
        id,
        username: format!("user{id}"),
        email: format!("u{id}@x"),
        age,
    }
}

fn put<B: Backend>(store: &Blog<B>, u: &User) {
    let txn = store.write().unwrap();
    txn.open_tree::<User>().unwrap().put(u).unwrap();
    txn.commit().unwrap();
}

/// Every change queued now (the subscription must not have lagged).
fn drain(sub: &Subscription<User>) -> Vec<Change<User>> {
    std::iter::from_fn(|| sub.try_recv())
        .map(|e| match e.unwrap() {
            Event::Change(c) => c,
            Event::Lagged { missed } => panic!("unexpected lag of {missed}"),
        })
        .collect()
}

/// What a change says, owned: (kind, id, old, new).
type Seen = (ChangeKind, u64, Option<User>, Option<User>);

fn seen(c: &Change<User>) -> Seen {
    let new = (c.kind() != ChangeKind::Removed).then(|| c.deserialize().unwrap());
    let old = c.deserialize_old().unwrap();
    let id = old.as_ref().or(new.as_ref()).map(|u| u.id).unwrap();
    (c.kind(), id, old, new)
}

/// Writer threads increment one counter record; the counter value a transaction writes is
/// its place in commit order, so the feed must carry 1, 2, 3, ... with growing `seq`.
fn order_across_writers_is_commit_order<B: Backend + Sync>(store: Blog<B>) {
    const THREADS: u64 = 4;
    const EACH: u64 = 25;
    put(&store, &user(0, 0));
    let sub = store.subscribe::<User>();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for _ in 0..EACH {
                    let txn = store.write().unwrap();
                    {
                        let mut t = txn.open_tree::<User>().unwrap();
                        let n = t
                            .get(UserPrimaryKey(0))
                            .unwrap()
                            .unwrap()
                            .deserialize()
                            .unwrap();
                        t.put(User {
                            username: format!("{}", n.username.parse::<u64>().unwrap_or(0) + 1),
                            ..n
                        })
                        .unwrap();
                    }
                    txn.commit().unwrap();
                }
            });
        }
    });
    let changes = drain(&sub);
    assert_eq!(changes.len() as u64, THREADS * EACH);
    for (i, c) in changes.iter().enumerate() {
        assert_eq!(c.kind(), ChangeKind::Updated);
        assert_eq!(
            c.username,
            format!("{}", i + 1),
            "feed order is commit order"
        );
        let old: u64 = c.old().unwrap().username.parse().unwrap_or(0);
        assert_eq!(old, i as u64);
    }
    assert!(changes.windows(2).all(|w| w[0].seq() < w[1].seq()));
}

fn aborted_transactions_publish_nothing<B: Backend>(store: Blog<B>) {
    let sub = store.subscribe::<User>();
    // Dropped without commit.
    {
        let txn = store.write().unwrap();
        txn.open_tree::<User>().unwrap().put(user(1, 1)).unwrap();
    }
    // Aborted explicitly.
    let txn = store.write().unwrap();
    txn.open_tree::<User>().unwrap().put(user(2, 2)).unwrap();
    txn.abort().unwrap();
    // A batch whose unique-key clash rolls everything back.
    let accounts = store.subscribe::<Account>();
    let account = |h: &str| Account {
        handle: h.into(),
        email: "same@x".into(),
        plan: None,
    };
    store.open_tree::<Account>().put(account("a")).unwrap();
    assert_eq!(accounts.try_recv().map(|e| e.is_ok()), Some(true));
    let account_tree = store.open_tree::<Account>();
    let mut batch = account_tree.batch();
    batch.insert(account("b"));
    assert!(matches!(
        batch.commit(),
        Err(NetabaseError::UniqueViolation { .. })
    ));
    assert!(accounts.try_recv().is_none());
    assert!(
        sub.try_recv().is_none(),
        "nothing from aborted transactions"
    );
    // Then a committed one arrives alone.
    put(&store, &user(3, 3));
    let got = drain(&sub);
    assert_eq!(got.len(), 1);
    assert_eq!(
        seen(&got[0]),
        (ChangeKind::Inserted, 3, None, Some(user(3, 3)))
    );
}

fn changes_are_typed_and_shared<B: Backend>(store: Blog<B>) {
    let a = store.subscribe::<User>();
    let b = store.subscribe::<User>();
    let posts = store.subscribe::<Post>();
    put(&store, &user(1, 10));
    put(&store, &user(1, 11));
    let txn = store.write().unwrap();
    {
        let mut t = txn.open_tree::<User>().unwrap();
        t.put(user(2, 20)).unwrap();
        assert_eq!(t.remove(UserPrimaryKey(1)).unwrap(), Some(user(1, 11)));
        assert!(
            !t.delete(UserPrimaryKey(9)).unwrap(),
            "a missing key is no change"
        );
    }
    txn.commit().unwrap();
    store.open_tree::<User>().clear().unwrap();
    let (xa, xb) = (drain(&a), drain(&b));
    let expected: Vec<Seen> = vec![
        (ChangeKind::Inserted, 1, None, Some(user(1, 10))),
        (ChangeKind::Updated, 1, Some(user(1, 10)), Some(user(1, 11))),
        (ChangeKind::Inserted, 2, None, Some(user(2, 20))),
        (ChangeKind::Removed, 1, Some(user(1, 11)), None),
        (ChangeKind::Removed, 2, Some(user(2, 20)), None),
    ];
    assert_eq!(xa.iter().map(seen).collect::<Vec<_>>(), expected);
    let seqs: Vec<u64> = xa.iter().map(Change::seq).collect();
    assert_eq!(
        seqs,
        [1, 2, 3, 3, 4],
        "changes of one transaction share its seq"
    );
    // Zero-copy: both subscribers read the very same committed bytes.
    for (x, y) in xa.iter().zip(&xb) {
        assert_eq!(x.as_bytes().as_ptr(), y.as_bytes().as_ptr());
    }
    // In place: the change derefs to the archived record.
    assert_eq!(xa[1].age, 11);
    assert_eq!(xa[1].old().unwrap().age, 10);
    assert!(
        posts.try_recv().is_none(),
        "other models' subscribers see nothing"
    );
}

/// A tiny deterministic generator, so the model test needs no extra dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Random puts, removes and clears in random transactions; three filtered subscriptions
/// must each deliver exactly the changes a model of the store says match.
fn filters_match_a_model<B: Backend>(store: Blog<B>) {
    let by_range = store
        .subscription::<User>()
        .range(UserPrimaryKey(5)..UserPrimaryKey(15))
        .subscribe();
    let by_age = store
        .subscription::<User>()
        .secondary_eq::<UserAgeSecondaryKey>(UserAgeSecondaryKey(3))
        .subscribe();
    let by_age_range = store
        .subscription::<User>()
        .secondary_range::<UserAgeSecondaryKey, _, _>(
            UserAgeSecondaryKey(2)..=UserAgeSecondaryKey(4),
        )
        .range(UserPrimaryKey(0)..UserPrimaryKey(12))
        .subscribe();
    let mut model: BTreeMap<u64, User> = BTreeMap::new();
    let mut all: Vec<Seen> = Vec::new();
    let mut rng = Lcg(7);
    for _ in 0..60 {
        let txn = store.write().unwrap();
        let mut pending = Vec::new();
        let mut staged = model.clone();
        {
            let mut t = txn.open_tree::<User>().unwrap();
            for _ in 0..=rng.next(4) {
                let id = rng.next(20);
                match rng.next(10) {
                    0..=5 => {
                        let u = user(id, rng.next(7) as u8);
                        t.put(&u).unwrap();
                        let old = staged.insert(id, u.clone());
                        let kind = if old.is_some() {
                            ChangeKind::Updated
                        } else {
                            ChangeKind::Inserted
                        };
                        pending.push((kind, id, old, Some(u)));
                    }
                    6..=8 => {
                        let old = t.remove(UserPrimaryKey(id)).unwrap();
                        assert_eq!(old, staged.remove(&id));
                        if let Some(old) = old {
                            pending.push((ChangeKind::Removed, id, Some(old), None));
                        }
                    }
                    _ => {
                        t.clear().unwrap();
                        for (id, old) in std::mem::take(&mut staged) {
                            pending.push((ChangeKind::Removed, id, Some(old), None));
                        }
                    }
                }
            }
        }
        if rng.next(4) == 0 {
            txn.abort().unwrap();
        } else {
            txn.commit().unwrap();
            model = staged;
            all.extend(pending);
        }
    }
    let age_in =
        |u: &Option<User>, lo: u8, hi: u8| u.as_ref().is_some_and(|u| (lo..=hi).contains(&u.age));
    let expect =
        |f: &dyn Fn(&Seen) -> bool| all.iter().filter(|s| f(s)).cloned().collect::<Vec<_>>();
    let got = |s: &Subscription<User>| drain(s).iter().map(seen).collect::<Vec<_>>();
    assert_eq!(got(&by_range), expect(&|s| (5..15).contains(&s.1)));
    assert_eq!(
        got(&by_age),
        expect(&|s| age_in(&s.2, 3, 3) || age_in(&s.3, 3, 3))
    );
    assert_eq!(
        got(&by_age_range),
        expect(&|s| s.1 < 12 && (age_in(&s.2, 2, 4) || age_in(&s.3, 2, 4)))
    );
    assert!(!all.is_empty());
    // The model and the store agree at the end, too.
    let stored: Vec<User> = store
        .open_tree::<User>()
        .iter()
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(stored, model.into_values().collect::<Vec<_>>());
}

/// A subscriber that never reads: its queue stays at its capacity (plus the lag marker),
/// writers never wait, and it learns exactly how many changes it missed.
fn stalled_subscriber_lags_with_bounded_memory<B: Backend>(store: Blog<B>) {
    const CAP: usize = 8;
    let sub = store.subscription::<User>().capacity(CAP).subscribe();
    for id in 0..100 {
        put(&store, &user(id, 1));
        assert!(sub.len() <= CAP + 1, "queue bounded: {}", sub.len());
    }
    let mut ids = Vec::new();
    let missed = loop {
        match sub.try_recv().unwrap().unwrap() {
            Event::Change(c) => ids.push(c.id),
            Event::Lagged { missed } => break missed,
        }
    };
    assert_eq!(ids, (0..CAP as u64).collect::<Vec<_>>());
    assert_eq!(missed, 100 - CAP as u64);
    assert!(sub.try_recv().is_none());
    // Caught up: later commits arrive again.
    put(&store, &user(500, 1));
    assert_eq!(drain(&sub).iter().map(|c| c.id).collect::<Vec<_>>(), [500]);
}

macro_rules! on_every_backend {
    ($($check:ident),* $(,)?) => {
        mod memory { $( #[test] fn $check() { super::$check(super::MemoryStore::<super::BlogDefinition>::memory().unwrap()) } )* }
        mod redb { $( #[test] fn $check() { super::$check(<super::RedbStore<super::BlogDefinition> as super::BackendStore<_>>::temp().unwrap()) } )* }
        mod sled { $( #[test] fn $check() { super::$check(<super::SledStore<super::BlogDefinition> as super::BackendStore<_>>::temp().unwrap()) } )* }
    };
}

on_every_backend!(
    order_across_writers_is_commit_order,
    aborted_transactions_publish_nothing,
    changes_are_typed_and_shared,
    filters_match_a_model,
    stalled_subscriber_lags_with_bounded_memory,
);

#[test]
fn a_subscription_ends_when_the_store_is_dropped() {
    let store = MemoryStore::<BlogDefinition>::memory().unwrap();
    let sub = store.subscribe::<User>();
    put(&store, &user(1, 1));
    drop(store);
    assert!(matches!(sub.recv(), Some(Ok(Event::Change(_)))));
    assert!(sub.recv().is_none());
    assert!(sub.recv_timeout(Duration::from_millis(1)).is_none());
}

#[test]
fn the_stream_works_under_an_async_runtime() {
    use futures_util::StreamExt;
    let store = Arc::new(MemoryStore::<BlogDefinition>::memory().unwrap());
    let mut stream = store.subscribe::<User>().into_stream();
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for id in 0..20 {
                put(&store, &user(id, 1));
            }
        })
    };
    let ids = futures_executor::block_on(async {
        let mut ids = Vec::new();
        while ids.len() < 20 {
            match stream.next().await.unwrap().unwrap() {
                Event::Change(c) => ids.push(c.id),
                Event::Lagged { missed } => panic!("lagged {missed}"),
            }
        }
        ids
    });
    writer.join().unwrap();
    assert_eq!(ids, (0..20).collect::<Vec<_>>());
    drop(store);
    assert!(
        futures_executor::block_on(stream.next()).is_none(),
        "ends with the store"
    );
}

#[test]
fn no_subscriber_means_no_capture_and_a_dropped_one_is_forgotten() {
    let store = MemoryStore::<BlogDefinition>::memory().unwrap();
    let sub = store.subscribe::<User>();
    drop(sub);
    // The first publish after the drop prunes the slot; writes still succeed.
    put(&store, &user(1, 1));
    put(&store, &user(2, 1));
    let later = store.subscribe::<User>();
    put(&store, &user(3, 1));
    assert_eq!(drain(&later).iter().map(|c| c.id).collect::<Vec<_>>(), [3]);
}
