//! [`Ref`]: a zero-copy, validated view of one stored record.
//!
//! This is the only module of the typed core with `unsafe` code (one block, in
//! [`Ref::deref`]): a record's bytes are validated with bytecheck once, when the `Ref` is
//! made, and every later access reads the archive in place without validating again. The
//! validated-once / read-many split is worth it: on this project's reference machine,
//! validating a typical record cost about 21 ns and unchecked access about 1 ns. The soundness
//! argument rests on the backend contract [`StableBytes`]: the guard's bytes cannot change
//! while it lives.
#![allow(unsafe_code)]

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use netabase_backend_api::StableBytes;
use rkyv::rancor;

use crate::error::{NetabaseError, Result};
use crate::traits::model::NetabaseModelTrait;

/// A stored record, read in place.
///
/// `Ref` derefs to the model's archived form (`ArchivedUser` for `User`), read straight
/// out of the bytes the backend lent (for redb: out of its page, with no copy). It borrows
/// the tree it came from, so it cannot outlive its transaction, and on a write
/// transaction's tree a live `Ref` prevents writes to that tree until it is dropped.
///
/// Call [`deserialize`](Ref::deserialize) for an owned model.
pub struct Ref<M: NetabaseModelTrait, G> {
    guard: G,
    _model: PhantomData<fn() -> M>,
}

impl<M: NetabaseModelTrait, G: StableBytes> Ref<M, G> {
    /// Validates `guard`'s bytes as an archived `M`. `key` is only read to build the error.
    #[inline]
    pub(crate) fn new<K: AsRef<[u8]> + ?Sized>(
        guard: G,
        table: &'static str,
        key: &K,
    ) -> Result<Self> {
        match rkyv::access::<M::Archived, rancor::Error>(guard.as_ref()) {
            Ok(_) => Ok(Ref {
                guard,
                _model: PhantomData,
            }),
            Err(e) => Err(corrupt(table, key.as_ref(), &e)),
        }
    }

    /// The archived record (the same as `&*self`).
    pub fn archived(&self) -> &M::Archived {
        self
    }

    /// Deserializes into an owned model.
    pub fn deserialize(&self) -> Result<M> {
        deserialize_archived::<M>(self.archived())
    }

    /// The raw archived bytes, as the backend lent them.
    pub fn as_bytes(&self) -> &[u8] {
        self.guard.as_ref()
    }

    /// The backend's guard.
    pub fn into_guard(self) -> G {
        self.guard
    }
}

#[cold]
#[inline(never)]
fn corrupt(table: &'static str, key: &[u8], e: &rancor::Error) -> NetabaseError {
    NetabaseError::Corrupt {
        table,
        key: key.to_vec(),
        reason: e.to_string(),
    }
}

/// Deserializes a validated archive into an owned model.
pub(crate) fn deserialize_archived<M: NetabaseModelTrait>(archived: &M::Archived) -> Result<M> {
    rkyv::deserialize::<M, rancor::Error>(archived).map_err(|e| NetabaseError::Corrupt {
        table: M::INFO.table,
        key: Vec::new(),
        reason: format!("deserialization failed: {e}"),
    })
}

impl<M: NetabaseModelTrait, G: StableBytes> Deref for Ref<M, G> {
    type Target = M::Archived;

    #[inline]
    fn deref(&self) -> &M::Archived {
        // SAFETY: `Ref::new` is the only constructor, and it validated these bytes as an
        // `M::Archived` with bytecheck. `G: StableBytes` promises that `as_ref` returns the
        // same content on every call while the guard lives, and the guard is owned by
        // `self` and never exposed mutably, so the bytes are still a valid archive.
        // The archive format is unaligned (alignment 1, pinned in Cargo.toml), so the
        // address the bytes sit at does not matter either.
        unsafe { rkyv::access_unchecked::<M::Archived>(self.guard.as_ref()) }
    }
}

impl<M, G> fmt::Debug for Ref<M, G>
where
    M: NetabaseModelTrait,
    M::Archived: fmt::Debug,
    G: StableBytes,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.archived(), f)
    }
}
