//! User newtypes as keys: `#[derive(NetabaseKey)]` on `struct UserId(u64)` makes it a primary
//! key, a secondary key, and a tuple element, ordered like its field.

#[netabase_store::netabase_definition_module(TeamDefinition, TeamKeys)]
mod schema {
    use netabase_store::{NetabaseKey, NetabaseModel};

    #[derive(NetabaseKey, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct MemberId(pub u64);

    #[derive(NetabaseKey, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct TeamName(pub String);

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(TeamDefinition)]
    pub struct Member {
        #[primary_key]
        pub id: MemberId,
        #[secondary_key]
        pub team: TeamName,
        #[secondary_key]
        pub mentor: Option<MemberId>,
    }

    #[derive(NetabaseModel, Clone, Debug, PartialEq)]
    #[netabase(TeamDefinition)]
    pub struct Membership {
        #[primary_key]
        pub key: (TeamName, MemberId),
        pub role: String,
    }
}
use schema::*;

use netabase_store::Store;
use netabase_store::key::{Key, key_bytes};

#[test]
fn newtype_keys_encode_like_their_field() {
    assert_eq!(key_bytes(&MemberId(7)), key_bytes(&7u64));
    assert_eq!(
        key_bytes(&TeamName("a".into())),
        key_bytes(&"a".to_string())
    );
    let mut input = key_bytes(&TeamName("x\0y".into()));
    input.push(9);
    let mut rest = input.as_slice();
    assert_eq!(
        TeamName::decode_key(&mut rest).unwrap(),
        TeamName("x\0y".into())
    );
    assert_eq!(rest, [9]);
}

#[test]
fn newtype_keys_work_as_primary_secondary_and_tuple_keys() {
    let store = Store::<TeamDefinition, _>::memory().unwrap();
    let txn = store.write().unwrap();
    {
        let mut members = txn.open_tree::<Member>().unwrap();
        let mut memberships = txn.open_tree::<Membership>().unwrap();
        for (id, team, mentor) in [(1, "red", None), (2, "red", Some(1)), (3, "blue", Some(1))] {
            members
                .put(Member {
                    id: MemberId(id),
                    team: TeamName(team.into()),
                    mentor: mentor.map(MemberId),
                })
                .unwrap();
            memberships
                .put(Membership {
                    key: (TeamName(team.into()), MemberId(id)),
                    role: "dev".into(),
                })
                .unwrap();
        }
    }
    txn.commit().unwrap();

    let txn = store.read().unwrap();
    let members = txn.open_tree::<Member>().unwrap();
    assert_eq!(
        members
            .get(MemberPrimaryKey(MemberId(2)))
            .unwrap()
            .unwrap()
            .team
            .0,
        "red"
    );
    let mentees: Vec<u64> = members
        .query_by::<MemberMentorSecondaryKey>()
        .equal(MemberMentorSecondaryKey(MemberId(1)))
        .iter()
        .unwrap()
        .map(|m| m.unwrap().id.0.to_native())
        .collect();
    assert_eq!(mentees, [2, 3]);
    let ids: Vec<u64> = members
        .query()
        .range(MemberPrimaryKey(MemberId(2))..)
        .iter()
        .unwrap()
        .map(|m| m.unwrap().id.0.to_native())
        .collect();
    assert_eq!(ids, [2, 3]);

    let memberships = txn.open_tree::<Membership>().unwrap();
    assert_eq!(
        memberships
            .query()
            .prefix((TeamName("red".into()),))
            .count()
            .unwrap(),
        2
    );
}
