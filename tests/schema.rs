//! The store records its schema on first open and refuses to open with an incompatible one
//! (on redb, and once more on sled: the check lives above the backend contract).

use netabase_store::{NetabaseError, RedbBackend, Store};

mod v1 {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
        }
    }
}

/// v1 plus a field on `User`: old archives would be misread.
mod v2_changed_user {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
            pub age: u32,
        }
    }
}

/// v1 plus a new model: compatible.
mod v2_added_model {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
        }
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(AppDefinition)]
        pub struct Team {
            #[primary_key]
            pub id: u64,
        }
    }
}

/// A secondary key added to v1's `User`: compatible, the new index is built on open.
mod v2_new_index {
    #[netabase_store::netabase_definition_module(AppDefinition, AppKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(AppDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            #[secondary_key]
            pub name: String,
        }
    }
}

mod other {
    #[netabase_store::netabase_definition_module(OtherDefinition, OtherKeys)]
    pub mod app {
        use netabase_store::NetabaseModel;
        #[derive(NetabaseModel, Clone, Debug)]
        #[netabase(OtherDefinition)]
        pub struct User {
            #[primary_key]
            pub id: u64,
            pub name: String,
        }
    }
}

fn mismatch<T>(r: Result<T, NetabaseError>) -> String {
    match r {
        Err(NetabaseError::SchemaMismatch { details, .. }) => details,
        Err(e) => panic!("expected SchemaMismatch, got {e}"),
        Ok(_) => panic!("expected SchemaMismatch, the store opened"),
    }
}

fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.redb");
    let store = Store::<v1::app::AppDefinition, RedbBackend>::redb(&path).unwrap();
    store
        .open_tree::<v1::app::User>()
        .put(v1::app::User {
            id: 1,
            name: "a".into(),
        })
        .unwrap();
    (dir, path)
}

#[test]
fn reopening_with_the_same_schema_works() {
    let (_dir, path) = seeded();
    let store = Store::<v1::app::AppDefinition, RedbBackend>::redb(&path).unwrap();
    assert_eq!(store.open_tree::<v1::app::User>().len().unwrap(), 1);
}

#[test]
fn a_changed_model_layout_is_a_schema_mismatch_naming_the_model() {
    let (_dir, path) = seeded();
    let details = mismatch(Store::<v2_changed_user::app::AppDefinition, RedbBackend>::redb(&path));
    assert!(
        details.contains("`User` changed layout at version 1: User.age: field added (u32)"),
        "{details}"
    );
    // The refused open changed nothing: v1 still opens.
    Store::<v1::app::AppDefinition, RedbBackend>::redb(&path).unwrap();
    // A new secondary key is not a layout change: the store opens and the key's index is
    // built from the records already there.
    let store = Store::<v2_new_index::app::AppDefinition, RedbBackend>::redb(&path).unwrap();
    let by_name = v2_new_index::app::UserSecondaryKeys::Name(
        v2_new_index::app::UserNameSecondaryKey("a".into()),
    );
    let found = store
        .open_tree::<v2_new_index::app::User>()
        .get_by_secondary_key(by_name)
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[test]
fn added_models_are_compatible_and_removed_models_are_not() {
    let (_dir, path) = seeded();
    let store = Store::<v2_added_model::app::AppDefinition, RedbBackend>::redb(&path).unwrap();
    store
        .open_tree::<v2_added_model::app::Team>()
        .put(v2_added_model::app::Team { id: 1 })
        .unwrap();
    assert_eq!(
        store
            .open_tree::<v2_added_model::app::User>()
            .len()
            .unwrap(),
        1
    );
    drop(store);
    let details = mismatch(Store::<v1::app::AppDefinition, RedbBackend>::redb(&path));
    assert!(details.contains("model `Team` was removed"), "{details}");
}

#[test]
fn another_definition_is_refused() {
    let (_dir, path) = seeded();
    let details = mismatch(Store::<other::app::OtherDefinition, RedbBackend>::redb(
        &path,
    ));
    assert!(
        details.contains("holds definition `AppDefinition`"),
        "{details}"
    );
}

#[test]
fn another_archive_format_is_refused() {
    let (_dir, path) = seeded();
    {
        let db = redb::Database::open(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut meta = w
                .open_table(redb::TableDefinition::<&[u8], &[u8]>::new(
                    netabase_store::META_TABLE,
                ))
                .unwrap();
            meta.insert(&b"format"[..], &b"netabase-0;rkyv-0.7;aligned"[..])
                .unwrap();
        }
        w.commit().unwrap();
    }
    let details = mismatch(Store::<v1::app::AppDefinition, RedbBackend>::redb(&path));
    assert!(details.contains("archive format changed"), "{details}");
}

#[test]
fn sled_stores_check_the_schema_too() {
    use netabase_store::SledBackend;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sled");
    {
        let store = Store::<v1::app::AppDefinition, SledBackend>::sled(&path).unwrap();
        store
            .open_tree::<v1::app::User>()
            .put(v1::app::User {
                id: 1,
                name: "a".into(),
            })
            .unwrap();
    }
    let details = mismatch(Store::<v2_changed_user::app::AppDefinition, SledBackend>::sled(&path));
    assert!(details.contains("User.age: field added (u32)"), "{details}");
    let store = Store::<v1::app::AppDefinition, SledBackend>::sled(&path).unwrap();
    assert_eq!(store.open_tree::<v1::app::User>().len().unwrap(), 1);
}
