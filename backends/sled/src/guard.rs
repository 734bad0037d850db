//! Value guards and their `StableBytes` argument.

use std::fmt;

use netabase_backend_api::StableBytes;
use sled::IVec;

/// Bytes of one key or value: sled's own reference-counted [`IVec`] (values longer than 22
/// bytes shared with sled's cache, not copied), or a slice of the write transaction's buffer.
pub struct SledGuard<'g>(Repr<'g>);

/// Private, so nothing outside this crate can reach the `IVec` mutably (see the `StableBytes`
/// safety comment).
pub(crate) enum Repr<'g> {
    Shared(IVec),
    Borrowed(&'g [u8]),
}

impl<'g> SledGuard<'g> {
    pub(crate) fn shared(value: IVec) -> Self {
        SledGuard(Repr::Shared(value))
    }

    pub(crate) fn borrowed(value: &'g [u8]) -> Self {
        SledGuard(Repr::Borrowed(value))
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Shared(value) => value.as_ref(),
            Repr::Borrowed(value) => value,
        }
    }

    /// The bytes as an [`IVec`] (a copy only for bytes borrowed from a write transaction's
    /// buffer).
    pub fn into_ivec(self) -> IVec {
        match self.0 {
            Repr::Shared(value) => value,
            Repr::Borrowed(value) => IVec::from(value),
        }
    }

    /// Whether the bytes come from sled (not from a write transaction's buffer).
    pub fn is_from_sled(&self) -> bool {
        matches!(self.0, Repr::Shared(_))
    }
}

/// Wraps an `IVec` as a guard (as the backend's reads do): for code that reads sled
/// directly and hands the bytes to the typed layer, and for tests of the guard itself.
impl From<IVec> for SledGuard<'_> {
    fn from(value: IVec) -> Self {
        SledGuard::shared(value)
    }
}

impl AsRef<[u8]> for SledGuard<'_> {
    fn as_ref(&self) -> &[u8] {
        self.bytes()
    }
}

impl fmt::Debug for SledGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SledGuard").field(&self.bytes()).finish()
    }
}

// SAFETY: `as_ref` returns the same bytes on every call for as long as the guard lives.
// * `Repr::Borrowed(&'g [u8])`: a shared slice, immutable for `'g`. It points into the write
//   table's buffer, which only `&mut self` methods of the table change, and the guard's `'g`
//   borrow of the table excludes them.
// * `Repr::Shared(IVec)` (sled 0.34.7, `ivec.rs`): `IVec::as_ref` returns either the inline
//   array held in the `IVec` itself (its content moves with the guard and never changes; the
//   address may differ after a move, which `StableBytes` allows), or a fixed `offset..len`
//   window of a reference-counted `Arc<[u8]>` (sled's own `Arc`, `arc.rs`). The only ways to
//   write through an `IVec` are `AsMut`/`DerefMut`, which take `&mut IVec` and first call
//   `make_mut`, which copies the buffer whenever the `Arc` is shared (strong count != 1). The
//   guard holds its own clone of the `Arc`, so every other `IVec` sees a count of at least 2
//   and copies instead of writing; and the guard's `IVec` is private (`Repr` is not exported
//   and no method hands out `&mut`), so nothing writes through it either. sled updates tree
//   nodes by replacing `IVec`s, never by writing into shared buffers.
#[allow(unsafe_code)]
unsafe impl StableBytes for SledGuard<'_> {}
