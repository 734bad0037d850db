//! Schema evolution on file stores (redb and sled), each step a real reopen: nested layout
//! changes are refused naming the path, spellings and aliases are one schema, versioned
//! models migrate V1 -> V2 -> V3 with every record and index correct, new secondary keys
//! are indexed on open, newer stores are refused, and failed migrations change nothing.

use std::path::Path;

use netabase_store::backend::{Backend, Direction, ReadTable, ReadTransaction};
use netabase_store::prelude::*;
use netabase_store::{MigrationProgress, MigrationStage, RedbBackend, SledBackend};

/// The first release: `User` with a nested `Addr`.
mod v1 {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
            #[secondary_key]
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }
    }
}

/// v1's layout spelled differently: paths, aliases, a renamed nested type. One schema.
mod v1_spelled {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        pub type Zip = ::core::primitive::u32;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Address {
            pub zip: Zip,
            pub city: std::string::String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Membership {
            Guest,
            Member { since: ::std::primitive::u16 },
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: ::core::primitive::u64,
            pub name: std::string::String,
            #[secondary_key]
            pub email: ::std::string::String,
            pub addr: Address,
            pub role: Membership,
        }
    }
}

/// v1 with `Addr.zip` made signed, without a new version: refused.
mod nested_changed {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: i32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
            Admin,
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
            #[secondary_key]
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }
    }
}

/// v1 plus two secondary keys with stable tags (the old `email` keeps tag 0).
mod v1_more_keys {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            #[secondary_key(tag = 1)]
            pub name: String,
            #[secondary_key(tag = 0)]
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }
    }
}

/// The tags version 2 derives from a version-1 user.
fn v1_tags(city: &str, member: bool) -> Vec<String> {
    let mut tags = vec![city.to_lowercase()];
    if member {
        tags.push("member".into());
    }
    tags
}

// Each module spells out the version-1 types it migrates from: the module macro sees
// items before macro expansion, so they cannot come from a `macro_rules!`.

/// Version 2: the address flattened, the email unique, two new keys.
mod v2 {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(Clone, Debug, PartialEq)]
        #[netabase(version = 1)]
        pub struct UserV1 {
            pub id: u64,
            pub name: String,
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition, version = 2, from = UserV1)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
            #[secondary_key(unique)]
            pub email: String,
            #[secondary_key]
            pub zip: u32,
            #[secondary_key]
            pub tags: Vec<String>,
        }

        impl From<UserV1> for User {
            fn from(v1: UserV1) -> Self {
                let member = matches!(v1.role, Role::Member { .. });
                User {
                    id: v1.id,
                    name: v1.name,
                    email: v1.email,
                    zip: v1.addr.zip,
                    tags: crate::v1_tags(&v1.addr.city, member),
                }
            }
        }
    }
}

/// Version 3: a wider zip and a renamed field; migrates from v2 and, through it, from v1.
mod v3 {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(Clone, Debug, PartialEq)]
        #[netabase(version = 1)]
        pub struct UserV1 {
            pub id: u64,
            pub name: String,
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }

        #[derive(Clone, Debug, PartialEq)]
        #[netabase(version = 2, from = UserV1)]
        pub struct UserV2 {
            pub id: u64,
            pub name: String,
            pub email: String,
            pub zip: u32,
            pub tags: Vec<String>,
        }

        impl From<UserV1> for UserV2 {
            fn from(v1: UserV1) -> Self {
                let member = matches!(v1.role, Role::Member { .. });
                UserV2 {
                    id: v1.id,
                    name: v1.name,
                    email: v1.email,
                    zip: v1.addr.zip,
                    tags: crate::v1_tags(&v1.addr.city, member),
                }
            }
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition, version = 3, from = UserV2)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub display_name: String,
            #[secondary_key(unique)]
            pub email: String,
            #[secondary_key]
            pub zip: u64,
            #[secondary_key]
            pub tags: Vec<String>,
        }

        impl From<UserV2> for User {
            fn from(v2: UserV2) -> Self {
                User {
                    id: v2.id,
                    display_name: v2.name.to_uppercase(),
                    email: v2.email,
                    zip: u64::from(v2.zip) * 10,
                    tags: v2.tags,
                }
            }
        }
    }
}

/// Version 2 whose `From` panics on one record.
mod v2_panics {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(Clone, Debug, PartialEq)]
        #[netabase(version = 1)]
        pub struct UserV1 {
            pub id: u64,
            pub name: String,
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition, version = 2, from = UserV1)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
        }

        impl From<UserV1> for User {
            fn from(v1: UserV1) -> Self {
                assert!(v1.id != 7, "record 7 cannot be migrated");
                User {
                    id: v1.id,
                    name: v1.name,
                }
            }
        }
    }
}

/// Version 2 whose `TryFrom` refuses one record.
mod v2_refuses {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;

        #[derive(Clone, Debug, PartialEq)]
        pub struct Addr {
            pub zip: u32,
            pub city: String,
        }

        #[derive(Clone, Debug, PartialEq)]
        pub enum Role {
            Guest,
            Member { since: u16 },
        }

        #[derive(Clone, Debug, PartialEq)]
        #[netabase(version = 1)]
        pub struct UserV1 {
            pub id: u64,
            pub name: String,
            pub email: String,
            pub addr: Addr,
            pub role: Role,
        }

        #[derive(NetabaseModel, Clone, Debug, PartialEq)]
        #[netabase(AppDefinition, version = 2, try_from = UserV1)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub zip: u16,
        }

        impl TryFrom<UserV1> for User {
            type Error = String;
            fn try_from(v1: UserV1) -> Result<Self, String> {
                let zip = u16::try_from(v1.addr.zip)
                    .map_err(|_| format!("zip {} is too large", v1.addr.zip))?;
                Ok(User { id: v1.id, zip })
            }
        }
    }
}

/// Opens a store of definition `D` on one file backend.
trait Kind {
    type B: Backend;
    const FILE: &'static str;
    fn open<D: NetabaseDefinitionTrait>(path: &Path) -> Result<Store<D, Self::B>, NetabaseError>;
    fn open_with<D: NetabaseDefinitionTrait>(
        path: &Path,
        progress: impl FnMut(MigrationProgress),
    ) -> Result<Store<D, Self::B>, NetabaseError>;
}

struct Redb;
impl Kind for Redb {
    type B = RedbBackend;
    const FILE: &'static str = "app.redb";
    fn open<D: NetabaseDefinitionTrait>(
        path: &Path,
    ) -> Result<Store<D, RedbBackend>, NetabaseError> {
        Store::redb(path)
    }
    fn open_with<D: NetabaseDefinitionTrait>(
        path: &Path,
        progress: impl FnMut(MigrationProgress),
    ) -> Result<Store<D, RedbBackend>, NetabaseError> {
        let backend = RedbBackend::open(path, &netabase_store::redb::RedbOptions::new())?;
        Store::from_backend_with_progress(backend, progress)
    }
}

struct Sled;
impl Kind for Sled {
    type B = SledBackend;
    const FILE: &'static str = "app.sled";
    fn open<D: NetabaseDefinitionTrait>(
        path: &Path,
    ) -> Result<Store<D, SledBackend>, NetabaseError> {
        Store::sled(path)
    }
    fn open_with<D: NetabaseDefinitionTrait>(
        path: &Path,
        progress: impl FnMut(MigrationProgress),
    ) -> Result<Store<D, SledBackend>, NetabaseError> {
        let backend = SledBackend::open(path, &netabase_store::sled::SledOptions::new())?;
        Store::from_backend_with_progress(backend, progress)
    }
}

const N: u64 = 40;

fn v1_user(id: u64) -> v1::app::User {
    v1::app::User {
        id,
        name: format!("user{id}"),
        email: format!("u{id}@x"),
        addr: v1::app::Addr {
            zip: 3_000_000_000 + id as u32,
            city: ["Oslo", "Lima", "Pune"][id as usize % 3].into(),
        },
        role: if id.is_multiple_of(2) {
            v1::app::Role::Guest
        } else {
            v1::app::Role::Member {
                since: 2000 + id as u16,
            }
        },
    }
}

/// A v1 store with `N` users, closed.
fn seeded<K: Kind>() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(K::FILE);
    let store = K::open::<v1::app::AppDefinition>(&path).unwrap();
    store
        .open_tree::<v1::app::User>()
        .put_many((1..=N).map(v1_user))
        .unwrap();
    (dir, path)
}

fn mismatch<T>(r: Result<T, NetabaseError>) -> String {
    match r {
        Err(NetabaseError::SchemaMismatch { details, .. }) => details,
        Err(e) => panic!("expected SchemaMismatch, got {e}"),
        Ok(_) => panic!("expected SchemaMismatch, the store opened"),
    }
}

/// Every raw entry of a table.
fn raw<D: NetabaseDefinitionTrait, B: Backend>(
    store: &Store<D, B>,
    table: &str,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let txn = store.read().unwrap();
    let t = txn.backend_txn().open_table(table).unwrap();
    t.range(
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
        Direction::Forward,
    )
    .unwrap()
    .map(|e| {
        let (k, v) = e.unwrap();
        (k.as_ref().to_vec(), v.as_ref().to_vec())
    })
    .collect()
}

/// The index equals what the records imply: rebuilding it from the records changes nothing.
fn assert_index_matches_records<D: NetabaseDefinitionTrait, B: Backend>(store: &Store<D, B>) {
    let before = raw(store, "User.idx");
    store.rebuild_indexes().unwrap();
    assert_eq!(
        raw(store, "User.idx"),
        before,
        "the index differs from the records"
    );
}

fn schema_record<D: NetabaseDefinitionTrait, B: Backend>(store: &Store<D, B>) -> String {
    let txn = store.read().unwrap();
    let meta = txn
        .backend_txn()
        .open_table(netabase_store::META_TABLE)
        .unwrap();
    String::from_utf8(meta.get(b"model:User").unwrap().unwrap().as_ref().to_vec()).unwrap()
}

fn nested_change_is_refused_naming_the_path<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let details = mismatch(K::open::<nested_changed::app::AppDefinition>(&path));
    assert!(details.contains("User.addr.zip: u32 -> i32"), "{details}");
    assert!(
        details.contains("User.role::Admin: variant added (())"),
        "{details}"
    );
    // Nothing was written: v1 opens and reads its records as they were.
    let store = K::open::<v1::app::AppDefinition>(&path).unwrap();
    let users = store.open_tree::<v1::app::User>();
    assert_eq!(
        users.get(v1::app::UserPrimaryKey(5)).unwrap(),
        Some(v1_user(5))
    );
}

fn spellings_and_aliases_are_one_schema<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let store = K::open::<v1_spelled::app::AppDefinition>(&path).unwrap();
    let users = store.open_tree::<v1_spelled::app::User>();
    let u = users
        .get(v1_spelled::app::UserPrimaryKey(3))
        .unwrap()
        .unwrap();
    assert_eq!(u.addr.zip, 3_000_000_003);
    assert_eq!(u.role, v1_spelled::app::Membership::Member { since: 2003 });
    drop(store);
    // And back: still the same schema.
    K::open::<v1::app::AppDefinition>(&path).unwrap();
}

fn new_secondary_keys_are_indexed_on_open<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let store = K::open::<v1_more_keys::app::AppDefinition>(&path).unwrap();
    use v1_more_keys::app::*;
    let users = store.open_tree::<User>();
    let by_name = UserSecondaryKeys::Name(UserNameSecondaryKey("user9".into()));
    assert_eq!(users.get_by_secondary_key(by_name).unwrap().len(), 1);
    let by_email = UserSecondaryKeys::Email(UserEmailSecondaryKey("u9@x".into()));
    assert_eq!(users.get_by_secondary_key(by_email).unwrap()[0].id, 9);
    assert_index_matches_records(&store);
    drop(store);
    // Going back drops the new key's entries and keeps email's.
    let store = K::open::<v1::app::AppDefinition>(&path).unwrap();
    assert_index_matches_records(&store);
    assert_eq!(raw(&store, "User.idx").len() as u64, N);
}

/// Checks a v2 store holds exactly the v1 seed, converted, with a correct index.
fn assert_v2<B: Backend>(store: &Store<v2::app::AppDefinition, B>) {
    use v2::app::*;
    let users = store.open_tree::<User>();
    assert_eq!(users.len().unwrap(), N);
    for id in 1..=N {
        let old = v1_user(id);
        let u = users.get(UserPrimaryKey(id)).unwrap().unwrap();
        assert_eq!(u.zip, old.addr.zip);
        assert_eq!(u.email, old.email);
        let by_email = UserSecondaryKeys::Email(UserEmailSecondaryKey(old.email.clone()));
        assert_eq!(
            users.get_by_secondary_key(by_email).unwrap(),
            vec![u.clone()]
        );
        let by_zip = UserSecondaryKeys::Zip(UserZipSecondaryKey(old.addr.zip));
        assert_eq!(users.count_by_secondary_key(by_zip).unwrap(), 1);
    }
    let members = UserSecondaryKeys::Tags(UserTagsSecondaryKey("member".into()));
    assert_eq!(users.count_by_secondary_key(members).unwrap(), N / 2);
    assert_index_matches_records(store);
}

fn versions_migrate_v1_v2_v3<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let mut seen = Vec::new();
    let store = K::open_with::<v2::app::AppDefinition>(&path, |p| seen.push(p)).unwrap();
    assert_v2(&store);
    let last = seen.last().copied().unwrap();
    assert_eq!(
        (last.model, last.from_version, last.to_version),
        ("User", 1, 2)
    );
    assert_eq!(
        (last.stage, last.done, last.total),
        (MigrationStage::Writing, N, N)
    );
    assert_eq!(seen.len() as u64, 2 * N);
    drop(store);
    // Reopening at version 2 migrates nothing.
    let mut again = 0;
    let store = K::open_with::<v2::app::AppDefinition>(&path, |_| again += 1).unwrap();
    assert_eq!(again, 0);
    assert!(schema_record(&store).contains("\nversion 2\n"));
    drop(store);

    let store = K::open::<v3::app::AppDefinition>(&path).unwrap();
    {
        use v3::app::*;
        let users = store.open_tree::<User>();
        assert_eq!(users.len().unwrap(), N);
        for id in 1..=N {
            let u = users.get(UserPrimaryKey(id)).unwrap().unwrap();
            assert_eq!(u.display_name, format!("USER{id}"));
            assert_eq!(u.zip, u64::from(3_000_000_000 + id as u32) * 10);
            let by_zip = UserSecondaryKeys::Zip(UserZipSecondaryKey(u.zip));
            assert_eq!(users.get_by_secondary_key(by_zip).unwrap(), vec![u]);
        }
    }
    assert_index_matches_records(&store);
    let record = schema_record(&store);
    assert!(record.contains("\nversion 3\n"), "{record}");
    assert!(record.contains("\nhistory 1 {id:u64,name:string,email:string,addr:{zip:u32,city:string},role:enum{Guest,Member{since:u16}}}\n"), "{record}");
    assert!(record.contains("\nhistory 2 {id:u64,"), "{record}");
    drop(store);

    // Version 3 on disk is newer than the version-2 code: refused, nothing written.
    match K::open::<v2::app::AppDefinition>(&path) {
        Err(NetabaseError::SchemaTooNew {
            model: "User",
            stored_version: 3,
            known_version: 2,
        }) => {}
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a newer store opened"),
    }
    K::open::<v3::app::AppDefinition>(&path).unwrap();
}

fn v1_migrates_straight_to_v3<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let store = K::open::<v3::app::AppDefinition>(&path).unwrap();
    let users = store.open_tree::<v3::app::User>();
    let u = users.get(v3::app::UserPrimaryKey(4)).unwrap().unwrap();
    assert_eq!(u.display_name, "USER4");
    assert_eq!(u.tags, vec!["lima".to_string()]);
    assert_index_matches_records(&store);
}

fn failed_migrations_leave_the_store_as_it_was<K: Kind>() {
    let (_dir, path) = seeded::<K>();
    let before = {
        let store = K::open::<v1::app::AppDefinition>(&path).unwrap();
        (
            raw(&store, "User"),
            raw(&store, "User.idx"),
            schema_record(&store),
        )
    };
    match K::open::<v2_panics::app::AppDefinition>(&path) {
        Err(NetabaseError::MigrationFailed {
            model: "User",
            from_version: 1,
            to_version: 2,
            reason,
            ..
        }) => {
            assert!(reason.contains("record 7 cannot be migrated"), "{reason}");
        }
        Err(e) => panic!("expected MigrationFailed, got {e}"),
        Ok(_) => panic!("the migration should fail"),
    }
    match K::open::<v2_refuses::app::AppDefinition>(&path) {
        Err(NetabaseError::MigrationFailed { reason, .. }) => {
            assert!(reason.contains("is too large"), "{reason}");
        }
        Err(e) => panic!("expected MigrationFailed, got {e}"),
        Ok(_) => panic!("the migration should fail"),
    }
    let store = K::open::<v1::app::AppDefinition>(&path).unwrap();
    assert_eq!(
        (
            raw(&store, "User"),
            raw(&store, "User.idx"),
            schema_record(&store)
        ),
        before
    );
}

macro_rules! on_file_backends {
    ($($name:ident),* $(,)?) => {
        mod redb {
            $(#[test] fn $name() { super::$name::<super::Redb>() })*
        }
        mod sled {
            $(#[test] fn $name() { super::$name::<super::Sled>() })*
        }
    };
}

on_file_backends!(
    nested_change_is_refused_naming_the_path,
    spellings_and_aliases_are_one_schema,
    new_secondary_keys_are_indexed_on_open,
    versions_migrate_v1_v2_v3,
    v1_migrates_straight_to_v3,
    failed_migrations_leave_the_store_as_it_was,
);
