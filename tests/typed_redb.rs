//! The typed suite on redb: in memory and on a file.
mod common;
#[macro_use]
mod suite;

mod in_memory {
    typed_suite!(
        let s = netabase_store::Store::<crate::common::BlogDefinition, _>::from_backend(
            netabase_store::RedbBackend::in_memory().unwrap()
        ).unwrap();
        s
    );
}

mod on_file {
    /// A file-backed store that deletes its directory when dropped.
    pub struct FileStore {
        store: netabase_store::Store<crate::common::BlogDefinition, netabase_store::RedbBackend>,
        _dir: tempfile::TempDir,
    }

    fn open() -> FileStore {
        let dir = tempfile::tempdir().unwrap();
        let store = netabase_store::Store::redb(dir.path().join("db.redb")).unwrap();
        FileStore { store, _dir: dir }
    }

    typed_suite!(let s = open(); s.store);
}
