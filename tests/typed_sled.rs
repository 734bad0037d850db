//! The typed suite on sled 0.34.
mod common;
#[macro_use]
mod suite;

/// A sled store in a directory deleted when dropped.
pub struct SledStore {
    store: netabase_store::SledStore<crate::common::BlogDefinition>,
    _dir: tempfile::TempDir,
}

fn open() -> SledStore {
    let dir = tempfile::tempdir().unwrap();
    let store = netabase_store::Store::sled(dir.path().join("db")).unwrap();
    SledStore { store, _dir: dir }
}

typed_suite!(let s = open(); s.store);
