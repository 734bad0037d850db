//! The order-preserving key codec.
//!
//! Every primary and secondary key is stored in the backend as a byte string
//! produced by [`Key::encode_key`]. The backend compares keys as plain byte
//! strings (lexicographically), so the encoding is designed such that, for all
//! values `a`, `b` of the same key type:
//!
//! 1. **Order-preserving**: `a.cmp(&b) == enc(a).cmp(&enc(b))`.
//! 2. **Self-delimiting (prefix-free)**: no encoding is a proper prefix of
//!    another encoding of the same type, so a decoder always knows where a key
//!    ends without a length header.
//! 3. **Round-tripping and canonical**: `decode(enc(a)) == a`, consuming
//!    exactly `enc(a)`, and every byte string the decoder accepts is the
//!    encoding of the value it returns.
//!
//! Because of (1) and (2), concatenations are again order-preserving and
//! unambiguous: tuples are encoded as the concatenation of their elements,
//! and a composite secondary-index key `enc(secondary) ++ enc(primary)` can
//! never equal, or be a prefix of, the composite key of a different pair.
//! All entries of one secondary value `s` lie in the byte range
//! `enc(s) .. prefix_successor(enc(s))` (see [`prefix_successor`]).
//!
//! # Encoding (part of the on-disk format: changing it is a breaking change)
//!
//! | type | encoding |
//! | --- | --- |
//! | `u8`, `u16`, `u32`, `u64`, `u128` | big-endian, fixed width |
//! | `i8`, `i16`, `i32`, `i64`, `i128` | big-endian, fixed width, with the sign bit flipped |
//! | `bool` | one byte: `0x00` = `false`, `0x01` = `true` |
//! | `char` | its scalar value as a big-endian `u32` |
//! | `()` | zero bytes |
//! | `String`, `Box<str>` | UTF-8 bytes, each `0x00` escaped as `0x00 0xFF`, then the terminator `0x00 0x00` |
//! | `Vec<u8>`, `Box<[u8]>` | same as strings (escape `0x00` as `0x00 0xFF`, terminate with `0x00 0x00`) |
//! | `Option<T>` | `None` = `0x00`; `Some(v)` = `0x01` followed by `enc(v)` |
//! | `(T1, ..., Tn)`, n = 1..=6 | `enc(t1) ++ ... ++ enc(tn)` |
//! | `[T; N]` | `enc(x0) ++ ... ++ enc(x(N-1))` (fixed count) |
//!
//! Examples: `1u16` → `00 01`; `-1i8` → `7F`; `0i8` → `80`; `"a\0b"` →
//! `61 00 FF 62 00 00`; `""` → `00 00`; `Some(7u8)` → `01 07`.
//!
//! Notes:
//!
//! * A string and a byte string with the same bytes encode identically
//!   (`"ab"` and `b"ab".to_vec()`), which is what lets [`encode_str`] and
//!   [`encode_bytes`] build lookup keys from borrowed data without allocating.
//!   Encodings of *different* key types are not meant to be compared.
//! * Floating-point numbers are **not** keys: `f32`/`f64` are not `Ord`
//!   (NaN, `-0.0 == 0.0`). Wrap them in a type with a total order of your
//!   choosing and implement [`Key`] for it if you need one.
//! * There is deliberately no generic `Vec<T>` impl (it would overlap with
//!   `Vec<u8>`).
//! * `usize` and `isize` are **not** keys: with the pinned archive format
//!   (`pointer_width_32`) rkyv archives them as 32-bit integers and silently
//!   truncates wider values, so the archived form of a record could disagree
//!   with the value that was put and index entries would go stale. Use `u64` /
//!   `i64`.
//!
//! Decoding never panics: malformed input yields a [`KeyDecodeError`], and a
//! failed [`Key::decode_key`] leaves its input slice where it was.

use core::fmt;

mod arg;
pub(crate) mod entries;
mod impls;
mod unstable;
pub use arg::{KeyArg, KeyRange};
// Helpers public only for this workspace's fuzz targets and benchmarks (feature `internals`,
// not covered by semver).
#[cfg(all(test, not(feature = "internals")))]
pub(crate) use unstable::archived_key_bytes;
#[cfg(not(feature = "internals"))]
pub(crate) use unstable::push_prefix_successor;
#[cfg(feature = "internals")]
pub use unstable::{archived_key_bytes, push_prefix_successor};

/// A type usable as a primary or secondary key.
///
/// Implementations must uphold the contract in the [module docs](self):
/// the encoding is order-preserving (consistent with [`Ord`] where the type
/// implements it), self-delimiting, and round-trips through
/// [`decode_key`](Key::decode_key); `encode_archived_key` must produce exactly
/// the bytes `encode_key` produces for the archived value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a key",
    label = "not a key type",
    note = "keys need an order-preserving encoding: integers (not usize/isize), bool, char, \
            String, Box<str>, Vec<u8>, Box<[u8]>, arrays, tuples, Option, or a type that \
            implements `netabase_store::key::Key`"
)]
pub trait Key: rkyv::Archive + Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode_key(&self, out: &mut Vec<u8>);
    /// Appends the encoding of an archived value: byte-for-byte the same as `encode_key` of the value it archives.
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>);
    /// Decodes one key from the front of `input` and advances `input` past it.
    ///
    /// On error, `input` is left unchanged.
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError>;

    /// Advances `input` past one encoded key without building the value (no allocation
    /// for strings and byte strings). Used to find where the primary key starts inside a
    /// secondary index entry.
    ///
    /// On error, `input` is left unchanged.
    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        Self::decode_key(input).map(drop)
    }
}

/// Why a byte string could not be decoded as a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDecodeError {
    /// The input ended before the key was complete.
    UnexpectedEnd {
        /// What was being decoded when the input ran out.
        expected: &'static str,
    },
    /// A tag byte (of an `Option` or a `bool`) had a value that is not used
    /// by the encoding.
    InvalidTag {
        /// The type whose tag was read.
        ty: &'static str,
        /// The byte that was found.
        tag: u8,
    },
    /// In a string or byte string, `0x00` was followed by a byte other than
    /// `0xFF` (escaped zero) or `0x00` (terminator).
    InvalidEscape {
        /// The byte that followed `0x00`.
        byte: u8,
    },
    /// A string key was not valid UTF-8.
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix of the decoded bytes.
        valid_up_to: usize,
    },
    /// A `char` key was not a Unicode scalar value.
    InvalidChar(u32),
    /// [`key_from_bytes`] decoded a key but bytes were left over.
    TrailingBytes {
        /// How many bytes were left.
        remaining: usize,
    },
}

impl fmt::Display for KeyDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd { expected } => {
                write!(
                    f,
                    "invalid key: unexpected end of input while decoding {expected}"
                )
            }
            Self::InvalidTag { ty, tag } => {
                write!(f, "invalid key: invalid tag byte {tag:#04x} for {ty}")
            }
            Self::InvalidEscape { byte } => write!(
                f,
                "invalid key: invalid escape 0x00 {byte:#04x} in string (expected 0x00 0xff or terminator 0x00 0x00)"
            ),
            Self::InvalidUtf8 { valid_up_to } => write!(
                f,
                "invalid key: string is not valid UTF-8 (valid up to byte {valid_up_to})"
            ),
            Self::InvalidChar(v) => {
                write!(f, "invalid key: {v:#x} is not a Unicode scalar value")
            }
            Self::TrailingBytes { remaining } => {
                write!(f, "invalid key: {remaining} trailing byte(s) after the key")
            }
        }
    }
}

impl std::error::Error for KeyDecodeError {}

/// Returns the encoding of `k` as a new vector.
#[inline]
pub fn key_bytes<K: Key>(k: &K) -> Vec<u8> {
    let mut out = Vec::new();
    k.encode_key(&mut out);
    out
}

/// Decodes a key that must span all of `bytes`.
///
/// Fails with [`KeyDecodeError::TrailingBytes`] if bytes are left over.
pub fn key_from_bytes<K: Key>(bytes: &[u8]) -> Result<K, KeyDecodeError> {
    let mut input = bytes;
    let key = K::decode_key(&mut input)?;
    if input.is_empty() {
        Ok(key)
    } else {
        Err(KeyDecodeError::TrailingBytes {
            remaining: input.len(),
        })
    }
}

/// Appends the key encoding of a string slice: the same bytes as
/// `String::encode_key` / `Box<str>::encode_key` of an equal string.
#[inline]
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    encode_bytes(s.as_bytes(), out);
}

/// Appends the key encoding of a byte slice: the same bytes as
/// `Vec<u8>::encode_key` / `Box<[u8]>::encode_key` of an equal byte string.
#[inline]
pub fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    // `split` always yields at least one run; runs are separated by the 0x00
    // bytes, which are written escaped.
    let mut runs = bytes.split(|&b| b == 0);
    if let Some(first) = runs.next() {
        out.extend_from_slice(first);
    }
    for run in runs {
        out.extend_from_slice(&[0x00, 0xFF]);
        out.extend_from_slice(run);
    }
    out.extend_from_slice(&[0x00, 0x00]);
}

/// Returns the smallest byte string greater than every byte string that
/// starts with `prefix`, i.e. the exclusive upper bound of a prefix range
/// scan `prefix..successor`.
///
/// Returns `None` if there is no such bound: `prefix` is empty or consists
/// only of `0xFF` bytes (then the scan is unbounded above).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut succ = prefix.get(..=last)?.to_vec();
    let byte = succ.last_mut()?;
    *byte += 1; // cannot overflow: *byte != 0xFF
    Some(succ)
}

/// A key type generated as a newtype around another key (`UserPrimaryKey(u64)`,
/// `UserEmailSecondaryKey(String)`): its encoding is the inner key's encoding.
pub trait KeyNewtype: Key {
    /// The wrapped key type.
    type Inner: Key;
}

/// A partial key: the encoding of a prefix of some keys of type `K`, for prefix scans.
///
/// Implemented by:
/// * every key type `K` for itself (the whole key: an exact match);
/// * [`StrPrefix`] for strings and [`BytesPrefix`] for byte strings (every string starting
///   with the given text);
/// * a shorter tuple for a longer one, the last element of which may itself be a prefix:
///   `(a,)` selects every `(a, _)` and `(a, _, _)`; `(a, StrPrefix("x"))` every
///   `(a, "x…")`; `(a, b, StrPrefix("x"))` every `(a, b, "x…")`.
pub trait KeyPrefix<K> {
    /// Appends the prefix's bytes.
    fn encode_prefix(&self, out: &mut Vec<u8>);
}

/// Every string that starts with the given text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrPrefix<'a>(pub &'a str);

/// Every byte string that starts with the given bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BytesPrefix<'a>(pub &'a [u8]);

/// The escaped bytes of a string without its terminator: a prefix of the encoding of every
/// string that starts with `bytes`.
fn encode_unterminated(bytes: &[u8], out: &mut Vec<u8>) {
    encode_bytes(bytes, out);
    out.truncate(out.len() - 2);
}

impl KeyPrefix<String> for StrPrefix<'_> {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        encode_unterminated(self.0.as_bytes(), out);
    }
}

impl KeyPrefix<Box<str>> for StrPrefix<'_> {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        encode_unterminated(self.0.as_bytes(), out);
    }
}

impl KeyPrefix<Vec<u8>> for BytesPrefix<'_> {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        encode_unterminated(self.0, out);
    }
}

impl KeyPrefix<Box<[u8]>> for BytesPrefix<'_> {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        encode_unterminated(self.0, out);
    }
}

macro_rules! impl_whole_key_prefix {
    ($($t:ty),*) => {$(
        impl KeyPrefix<$t> for $t {
            fn encode_prefix(&self, out: &mut Vec<u8>) {
                self.encode_key(out);
            }
        }
    )*};
}

impl_whole_key_prefix!(
    u8,
    u16,
    u32,
    u64,
    u128,
    i8,
    i16,
    i32,
    i64,
    i128,
    bool,
    char,
    (),
    String,
    Box<str>,
    Vec<u8>,
    Box<[u8]>
);

impl<T: Key> KeyPrefix<Option<T>> for Option<T> {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.encode_key(out);
    }
}

impl<T: Key, const N: usize> KeyPrefix<[T; N]> for [T; N] {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.encode_key(out);
    }
}

impl<A: Key> KeyPrefix<(A,)> for (A,) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.encode_key(out);
    }
}

impl<A: Key, B: Key> KeyPrefix<(A, B)> for (A,) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
    }
}

impl<A: Key, B: Key, C: Key> KeyPrefix<(A, B, C)> for (A,) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
    }
}

impl<A: Key, B: Key, P: KeyPrefix<B>> KeyPrefix<(A, B)> for (A, P) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
        self.1.encode_prefix(out);
    }
}

impl<A: Key, B: Key, C: Key, P: KeyPrefix<B>> KeyPrefix<(A, B, C)> for (A, P) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
        self.1.encode_prefix(out);
    }
}

impl<A: Key, B: Key, C: Key, P: KeyPrefix<C>> KeyPrefix<(A, B, C)> for (A, B, P) {
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
        self.1.encode_key(out);
        self.2.encode_prefix(out);
    }
}

#[cfg(test)]
mod tests;
