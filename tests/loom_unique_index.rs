//! Model checking (loom) of index maintenance under concurrency, on the memory backend.
//!
//! loom runs each scenario under every interleaving of its threads (bounded by
//! `LOOM_MAX_PREEMPTIONS`), with the memory backend's locks replaced by loom's. The claims:
//!
//! * two writers racing to take the same unique secondary value: exactly one wins, the other
//!   gets `UniqueViolation`, and the index holds exactly the winner's entry;
//! * a reader running beside a writer that moves a record's secondary key sees either the old
//!   or the new state, never an index entry without its record or a record missing from the
//!   index (snapshot isolation of records *and* indexes).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test
//! --no-default-features --features memory --test loom_unique_index` (see scripts/loom.sh).
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use netabase_store::{NetabaseError, Store};

#[netabase_store::netabase_definition_module(LoomDefinition, LoomKeys)]
mod schema {
    use netabase_store::NetabaseModel;

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(LoomDefinition)]
    pub struct Account {
        #[primary_key]
        pub id: u64,
        #[secondary_key(unique)]
        pub email: String,
        #[secondary_key]
        pub team: u8,
    }
}
use schema::*;

type S = Store<LoomDefinition, netabase_store::MemoryBackend>;

fn by_email(e: &str) -> AccountSecondaryKeys {
    AccountSecondaryKeys::Email(AccountEmailSecondaryKey(e.to_string()))
}

fn by_team(t: u8) -> AccountSecondaryKeys {
    AccountSecondaryKeys::Team(AccountTeamSecondaryKey(t))
}

#[test]
fn racing_writers_cannot_both_take_a_unique_value() {
    loom::model(|| {
        let store: Arc<S> = Arc::new(Store::memory().unwrap());
        let racers: Vec<_> = (1..=2u64)
            .map(|id| {
                let store = Arc::clone(&store);
                thread::spawn(move || {
                    let txn = store.write().unwrap();
                    let result = {
                        let mut t = txn.open_tree::<Account>().unwrap();
                        t.put(Account {
                            id,
                            email: "same@x".into(),
                            team: 1,
                        })
                    };
                    txn.commit().unwrap();
                    result
                })
            })
            .collect();
        let results: Vec<_> = racers.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{results:?}");
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(NetabaseError::UniqueViolation { .. })))
        );

        let txn = store.read().unwrap();
        let t = txn.open_tree::<Account>().unwrap();
        assert_eq!(t.len().unwrap(), 1);
        let holders: Vec<u64> = t
            .get_by_secondary_key(by_email("same@x"))
            .unwrap()
            .map(|r| r.unwrap().id.to_native())
            .collect();
        assert_eq!(holders.len(), 1);
        assert_eq!(t.count_by_secondary_key(by_team(1)).unwrap(), 1);
    });
}

#[test]
fn a_reader_sees_records_and_indexes_from_one_snapshot() {
    loom::model(|| {
        let store: Arc<S> = Arc::new(Store::memory().unwrap());
        store
            .open_tree::<Account>()
            .put_many([
                Account {
                    id: 1,
                    email: "a@x".into(),
                    team: 1,
                },
                Account {
                    id: 2,
                    email: "b@x".into(),
                    team: 1,
                },
            ])
            .unwrap();

        let writer = {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                // Move account 1 to team 2 and account 2's email, in one transaction.
                let txn = store.write().unwrap();
                {
                    let mut t = txn.open_tree::<Account>().unwrap();
                    t.put(Account {
                        id: 1,
                        email: "a@x".into(),
                        team: 2,
                    })
                    .unwrap();
                    t.put(Account {
                        id: 2,
                        email: "c@x".into(),
                        team: 1,
                    })
                    .unwrap();
                }
                txn.commit().unwrap();
            })
        };

        {
            let txn = store.read().unwrap();
            let t = txn.open_tree::<Account>().unwrap();
            let team1: Vec<u64> = t
                .get_by_secondary_key(by_team(1))
                .unwrap()
                .map(|r| r.unwrap().id.to_native())
                .collect();
            let team2 = t.count_by_secondary_key(by_team(2)).unwrap();
            let b = t.count_by_secondary_key(by_email("b@x")).unwrap();
            let c = t.count_by_secondary_key(by_email("c@x")).unwrap();
            let one = t.get(AccountPrimaryKey(1)).unwrap().unwrap().team;
            // Either entirely before the commit or entirely after it.
            let before = team1 == [1, 2] && team2 == 0 && b == 1 && c == 0 && one == 1;
            let after = team1 == [2] && team2 == 1 && b == 0 && c == 1 && one == 2;
            assert!(
                before || after,
                "torn view: team1={team1:?} team2={team2} b={b} c={c} one={one}"
            );
        }
        writer.join().unwrap();
    });
}
