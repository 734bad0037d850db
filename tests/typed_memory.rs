//! The typed suite on the in-memory MVCC backend.
mod common;
#[macro_use]
mod suite;

typed_suite!(let s = netabase_store::Store::<crate::common::BlogDefinition, _>::memory().unwrap(); s);
