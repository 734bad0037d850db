//! `FileConfig` means the same on every file backend: each option is honoured, and bad
//! combinations are typed errors.
mod common;
use common::*;

use netabase_store::backend::BackendError;
use netabase_store::{BackendStore, FileConfig, NetabaseError, RedbStore, SledStore};

fn config(path: &std::path::Path) -> netabase_store::config::FileConfigBuilder {
    FileConfig::builder()
        .path(path.to_path_buf())
        .cache_size_mb(8)
}

macro_rules! config_tests {
    ($name:ident, $store:ty, $file:expr) => {
        mod $name {
            use super::*;

            fn open(c: FileConfig) -> Result<$store, NetabaseError> {
                <$store as BackendStore<BlogDefinition>>::new(c)
            }

            #[test]
            fn a_new_store_is_created_and_reopened_with_its_data() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                {
                    let s = open(config(&path).build()).unwrap();
                    s.open_tree::<User>().put(user(1, "a@x", 1)).unwrap();
                    s.flush().unwrap();
                }
                let s =
                    <$store as BackendStore<BlogDefinition>>::open(config(&path).build()).unwrap();
                assert_eq!(s.open_tree::<User>().len().unwrap(), 1);
            }

            #[test]
            fn create_if_missing_false_on_a_missing_path_is_a_typed_error() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                let err = open(config(&path).create_if_missing(false).build())
                    .err()
                    .unwrap();
                assert!(
                    matches!(
                        err,
                        NetabaseError::Backend(BackendError::InvalidConfig { .. })
                    ),
                    "{err}"
                );
                // `open` (the 0.0.x name) follows the same rule as `new`.
                assert!(
                    <$store as BackendStore<BlogDefinition>>::open(
                        config(&path).create_if_missing(false).build()
                    )
                    .is_err()
                );
                assert!(!path.exists(), "nothing was created");
            }

            #[test]
            fn read_only_refuses_writes_with_a_typed_error_and_reads_work() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                {
                    let s = open(config(&path).build()).unwrap();
                    s.open_tree::<User>().put(user(1, "a@x", 1)).unwrap();
                }
                let s = open(config(&path).read_only(true).build()).unwrap();
                assert_eq!(
                    s.open_tree::<User>()
                        .get(UserPrimaryKey(1))
                        .unwrap()
                        .unwrap()
                        .id,
                    1
                );
                let err = s.open_tree::<User>().put(user(2, "b@x", 1)).unwrap_err();
                assert!(
                    matches!(err, NetabaseError::Backend(BackendError::ReadOnly)),
                    "{err}"
                );
                assert!(matches!(
                    s.write(),
                    Err(NetabaseError::Backend(BackendError::ReadOnly))
                ));
                assert_eq!(s.open_tree::<User>().len().unwrap(), 1);
            }

            #[test]
            fn truncate_wipes_existing_data() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                {
                    let s = open(config(&path).build()).unwrap();
                    s.open_tree::<User>().put(user(1, "a@x", 1)).unwrap();
                }
                let s = open(config(&path).truncate(true).build()).unwrap();
                assert!(s.open_tree::<User>().is_empty().unwrap());
                assert!(
                    s.open_tree::<User>()
                        .get_by_secondary_key(email_key("a@x"))
                        .unwrap()
                        .is_empty()
                );
                // The wiped store is usable (and records its schema again).
                s.open_tree::<User>().put(user(2, "b@x", 1)).unwrap();
            }

            #[test]
            fn contradictory_options_are_refused_before_touching_disk() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                let err = open(config(&path).read_only(true).truncate(true).build())
                    .err()
                    .unwrap();
                assert!(matches!(err, NetabaseError::Config { .. }), "{err}");
                let err = open(config(&path).cache_size_mb(0).build()).err().unwrap();
                assert!(matches!(err, NetabaseError::Config { .. }), "{err}");
                assert!(!path.exists());
            }

            #[test]
            fn eventual_durability_commits_and_flush_makes_them_durable() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                {
                    let s = open(config(&path).use_fsync(false).build()).unwrap();
                    s.open_tree::<User>()
                        .put_many((0..50).map(|i| user(i, "e@x", 1)))
                        .unwrap();
                    s.flush().unwrap();
                }
                let s = open(config(&path).build()).unwrap();
                assert_eq!(s.open_tree::<User>().len().unwrap(), 50);
            }

            #[test]
            fn a_second_open_of_the_same_path_is_a_typed_error() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join($file);
                let _first = open(config(&path).build()).unwrap();
                let err = open(config(&path).build()).err().unwrap();
                assert!(
                    matches!(err, NetabaseError::Backend(BackendError::AlreadyOpen)),
                    "{err}"
                );
            }

            #[test]
            fn temp_stores_are_empty_and_independent() {
                let a = <$store as BackendStore<BlogDefinition>>::temp().unwrap();
                let b = <$store as BackendStore<BlogDefinition>>::temp().unwrap();
                a.open_tree::<User>().put(user(1, "a@x", 1)).unwrap();
                assert!(b.open_tree::<User>().is_empty().unwrap());
            }
        }
    };
}

config_tests!(redb, RedbStore<BlogDefinition>, "db.redb");
config_tests!(sled, SledStore<BlogDefinition>, "db.sled");
