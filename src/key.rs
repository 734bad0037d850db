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

use rkyv::option::ArchivedOption;

mod arg;
pub use arg::{KeyArg, KeyRange};

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

/// Returns the encoding of an archived key as a new vector: the same bytes as
/// [`key_bytes`] of the value it archives.
#[inline]
pub fn archived_key_bytes<K: Key>(archived: &K::Archived) -> Vec<u8> {
    let mut out = Vec::new();
    K::encode_archived_key(archived, &mut out);
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

/// Appends to `buf` the [`prefix_successor`] of `buf[start..]`, without allocating a new
/// vector. Returns the successor's start, or `None` (appending nothing) if there is none.
pub fn push_prefix_successor(buf: &mut Vec<u8>, start: usize) -> Option<usize> {
    let prefix = buf.get(start..)?;
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let at = buf.len();
    buf.extend_from_within(start..=start + last);
    let byte = buf.last_mut()?;
    *byte += 1; // cannot overflow: it was not 0xFF
    Some(at)
}

/// Takes the first `N` bytes of `input`, advancing it only on success.
#[inline]
fn take_array<const N: usize>(
    input: &mut &[u8],
    expected: &'static str,
) -> Result<[u8; N], KeyDecodeError> {
    match input.split_first_chunk::<N>() {
        Some((head, rest)) => {
            *input = rest;
            Ok(*head)
        }
        None => Err(KeyDecodeError::UnexpectedEnd { expected }),
    }
}

/// Takes one byte from `input`, advancing it only on success.
#[inline]
fn take_byte(input: &mut &[u8], expected: &'static str) -> Result<u8, KeyDecodeError> {
    match input.split_first() {
        Some((&b, rest)) => {
            *input = rest;
            Ok(b)
        }
        None => Err(KeyDecodeError::UnexpectedEnd { expected }),
    }
}

/// Decodes an escaped, terminated byte string, advancing `input` only on
/// success.
fn decode_escaped(input: &mut &[u8]) -> Result<Vec<u8>, KeyDecodeError> {
    const EXPECTED: &str = "string terminator";
    let mut rest = *input;
    let mut out = Vec::new();
    loop {
        let Some(zero) = rest.iter().position(|&b| b == 0) else {
            return Err(KeyDecodeError::UnexpectedEnd { expected: EXPECTED });
        };
        let (run, tail) = rest.split_at(zero);
        out.extend_from_slice(run);
        match tail {
            [0x00, 0x00, after @ ..] => {
                *input = after;
                return Ok(out);
            }
            [0x00, 0xFF, after @ ..] => {
                out.push(0x00);
                rest = after;
            }
            [0x00, byte, ..] => return Err(KeyDecodeError::InvalidEscape { byte: *byte }),
            _ => return Err(KeyDecodeError::UnexpectedEnd { expected: EXPECTED }),
        }
    }
}

/// Skips an escaped, terminated byte string, advancing `input` only on success.
fn skip_escaped(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
    const EXPECTED: &str = "string terminator";
    let mut rest = *input;
    loop {
        let Some(zero) = rest.iter().position(|&b| b == 0) else {
            return Err(KeyDecodeError::UnexpectedEnd { expected: EXPECTED });
        };
        match rest.get(zero..) {
            Some([0x00, 0x00, after @ ..]) => {
                *input = after;
                return Ok(());
            }
            Some([0x00, 0xFF, after @ ..]) => rest = after,
            Some([0x00, byte, ..]) => return Err(KeyDecodeError::InvalidEscape { byte: *byte }),
            _ => return Err(KeyDecodeError::UnexpectedEnd { expected: EXPECTED }),
        }
    }
}

/// Decodes an escaped, terminated UTF-8 string, advancing `input` only on
/// success.
fn decode_string(input: &mut &[u8]) -> Result<String, KeyDecodeError> {
    let mut rest = *input;
    let bytes = decode_escaped(&mut rest)?;
    let s = String::from_utf8(bytes).map_err(|e| KeyDecodeError::InvalidUtf8 {
        valid_up_to: e.utf8_error().valid_up_to(),
    })?;
    *input = rest;
    Ok(s)
}

macro_rules! impl_unsigned {
    ($($t:ty => |$a:ident| $native:expr;)*) => {$(
        impl Key for $t {
            #[inline]
            fn encode_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }

            #[inline]
            fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
                let $a = archived;
                let native: $t = $native;
                native.encode_key(out);
            }

            #[inline]
            fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
                take_array(input, stringify!($t)).map(<$t>::from_be_bytes)
            }
        }
    )*};
}

impl_unsigned! {
    u8 => |a| *a;
    u16 => |a| a.to_native();
    u32 => |a| a.to_native();
    u64 => |a| a.to_native();
    u128 => |a| a.to_native();
}

macro_rules! impl_signed {
    ($($t:ty as $u:ty => |$a:ident| $native:expr;)*) => {$(
        impl Key for $t {
            #[inline]
            fn encode_key(&self, out: &mut Vec<u8>) {
                const SIGN: $u = 1 << (<$u>::BITS - 1);
                out.extend_from_slice(&(self.cast_unsigned() ^ SIGN).to_be_bytes());
            }

            #[inline]
            fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
                let $a = archived;
                let native: $t = $native;
                native.encode_key(out);
            }

            #[inline]
            fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
                const SIGN: $u = 1 << (<$u>::BITS - 1);
                take_array(input, stringify!($t))
                    .map(|b| (<$u>::from_be_bytes(b) ^ SIGN).cast_signed())
            }
        }
    )*};
}

impl_signed! {
    i8 as u8 => |a| *a;
    i16 as u16 => |a| a.to_native();
    i32 as u32 => |a| a.to_native();
    i64 as u64 => |a| a.to_native();
    i128 as u128 => |a| a.to_native();
}

impl Key for bool {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        archived.encode_key(out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        match input.split_first() {
            Some((&0, rest)) => {
                *input = rest;
                Ok(false)
            }
            Some((&1, rest)) => {
                *input = rest;
                Ok(true)
            }
            Some((&tag, _)) => Err(KeyDecodeError::InvalidTag { ty: "bool", tag }),
            None => Err(KeyDecodeError::UnexpectedEnd { expected: "bool" }),
        }
    }
}

impl Key for char {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        u32::from(*self).encode_key(out);
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        archived.to_native().encode_key(out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        let mut rest = *input;
        let v = u32::decode_key(&mut rest)?;
        let c = char::from_u32(v).ok_or(KeyDecodeError::InvalidChar(v))?;
        *input = rest;
        Ok(c)
    }
}

impl Key for () {
    #[inline]
    fn encode_key(&self, _out: &mut Vec<u8>) {}

    #[inline]
    fn encode_archived_key(_archived: &Self::Archived, _out: &mut Vec<u8>) {}

    #[inline]
    fn decode_key(_input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        Ok(())
    }
}

impl Key for String {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_str(self, out);
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        encode_str(archived.as_str(), out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        decode_string(input)
    }
    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        skip_escaped(input)
    }
}

impl Key for Box<str> {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_str(self, out);
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        encode_str(archived.get(), out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        decode_string(input).map(String::into_boxed_str)
    }
    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        skip_escaped(input)
    }
}

impl Key for Vec<u8> {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_bytes(self, out);
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        encode_bytes(archived.as_slice(), out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        decode_escaped(input)
    }
    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        skip_escaped(input)
    }
}

impl Key for Box<[u8]> {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_bytes(self, out);
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        encode_bytes(archived.get(), out);
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        decode_escaped(input).map(Vec::into_boxed_slice)
    }
    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        skip_escaped(input)
    }
}

impl<T: Key> Key for Option<T> {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0x00),
            Some(v) => {
                out.push(0x01);
                v.encode_key(out);
            }
        }
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        match archived {
            ArchivedOption::None => out.push(0x00),
            ArchivedOption::Some(v) => {
                out.push(0x01);
                T::encode_archived_key(v, out);
            }
        }
    }

    #[inline]
    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        let mut rest = *input;
        let v = match take_byte(&mut rest, "Option tag")? {
            0x00 => None,
            0x01 => Some(T::decode_key(&mut rest)?),
            tag => return Err(KeyDecodeError::InvalidTag { ty: "Option", tag }),
        };
        *input = rest;
        Ok(v)
    }

    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        let mut rest = *input;
        match take_byte(&mut rest, "Option tag")? {
            0x00 => {}
            0x01 => T::skip_key(&mut rest)?,
            tag => return Err(KeyDecodeError::InvalidTag { ty: "Option", tag }),
        }
        *input = rest;
        Ok(())
    }
}

macro_rules! impl_tuple {
    ($($t:ident $idx:tt),+) => {
        impl<$($t: Key),+> Key for ($($t,)+) {
            #[inline]
            fn encode_key(&self, out: &mut Vec<u8>) {
                $(self.$idx.encode_key(out);)+
            }

            #[inline]
            fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
                $($t::encode_archived_key(&archived.$idx, out);)+
            }

            #[inline]
            fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
                let mut rest = *input;
                let v = ($($t::decode_key(&mut rest)?,)+);
                *input = rest;
                Ok(v)
            }

            #[inline]
            fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
                let mut rest = *input;
                $($t::skip_key(&mut rest)?;)+
                *input = rest;
                Ok(())
            }
        }
    };
}

impl_tuple!(T0 0);
impl_tuple!(T0 0, T1 1);
impl_tuple!(T0 0, T1 1, T2 2);
impl_tuple!(T0 0, T1 1, T2 2, T3 3);
impl_tuple!(T0 0, T1 1, T2 2, T3 3, T4 4);
impl_tuple!(T0 0, T1 1, T2 2, T3 3, T4 4, T5 5);

impl<T: Key, const N: usize> Key for [T; N] {
    #[inline]
    fn encode_key(&self, out: &mut Vec<u8>) {
        for x in self {
            x.encode_key(out);
        }
    }

    #[inline]
    fn encode_archived_key(archived: &Self::Archived, out: &mut Vec<u8>) {
        for x in archived {
            T::encode_archived_key(x, out);
        }
    }

    fn decode_key(input: &mut &[u8]) -> Result<Self, KeyDecodeError> {
        let mut rest = *input;
        let mut items = Vec::with_capacity(N);
        for _ in 0..N {
            items.push(T::decode_key(&mut rest)?);
        }
        // Exactly N items were pushed, so the conversion always succeeds; the
        // error arm only keeps this path panic-free.
        let array: [T; N] = items
            .try_into()
            .map_err(|_| KeyDecodeError::UnexpectedEnd { expected: "array" })?;
        *input = rest;
        Ok(array)
    }

    #[inline]
    fn skip_key(input: &mut &[u8]) -> Result<(), KeyDecodeError> {
        let mut rest = *input;
        for _ in 0..N {
            T::skip_key(&mut rest)?;
        }
        *input = rest;
        Ok(())
    }
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
mod tests {
    use super::*;

    use core::fmt::Debug;

    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use rkyv::api::high::{HighSerializer, HighValidator};
    use rkyv::bytecheck::CheckBytes;
    use rkyv::rancor::Error as RkyvError;
    use rkyv::ser::allocator::ArenaHandle;
    use rkyv::util::AlignedVec;

    fn enc<K: Key>(k: &K) -> Vec<u8> {
        key_bytes(k)
    }

    /// Roundtrip: decoding consumes exactly `enc(a)`, also with trailing
    /// bytes after it, and `encode_key` appends rather than overwrites.
    fn check_roundtrip<K: Key + PartialEq + Debug>(a: &K) -> Result<(), TestCaseError> {
        let bytes = enc(a);
        let mut input = bytes.as_slice();
        let decoded = K::decode_key(&mut input)
            .map_err(|e| TestCaseError::fail(format!("decode of {a:?} failed: {e}")))?;
        prop_assert_eq!(&decoded, a);
        prop_assert!(input.is_empty(), "{} bytes left over", input.len());
        prop_assert_eq!(
            &key_from_bytes::<K>(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?,
            a
        );

        let mut out = vec![0xAB, 0x00];
        a.encode_key(&mut out);
        prop_assert_eq!(&out[..2], &[0xAB, 0x00]);
        prop_assert_eq!(&out[2..], bytes.as_slice());

        let mut with_tail = bytes.clone();
        with_tail.extend_from_slice(&[0x00, 0x00, 0xFF, 0x01]);
        let mut input = with_tail.as_slice();
        let decoded = K::decode_key(&mut input)
            .map_err(|e| TestCaseError::fail(format!("decode with tail of {a:?} failed: {e}")))?;
        prop_assert_eq!(&decoded, a);
        prop_assert_eq!(input, &[0x00, 0x00, 0xFF, 0x01][..]);
        Ok(())
    }

    /// Order-preservation and prefix-freedom for a pair.
    fn check_pair<K: Key + Ord + Debug>(a: &K, b: &K) -> Result<(), TestCaseError> {
        let (ea, eb) = (enc(a), enc(b));
        prop_assert_eq!(a.cmp(b), ea.cmp(&eb), "a = {:?}, b = {:?}", a, b);
        if a != b {
            prop_assert!(
                !eb.starts_with(&ea),
                "enc({:?}) is a prefix of enc({:?})",
                a,
                b
            );
            prop_assert!(
                !ea.starts_with(&eb),
                "enc({:?}) is a prefix of enc({:?})",
                b,
                a
            );
        }
        Ok(())
    }

    /// `encode_archived_key` of the rkyv archive equals `encode_key`.
    fn check_archived<K>(a: &K) -> Result<(), TestCaseError>
    where
        K: Key
            + Debug
            + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, RkyvError>>,
        K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
    {
        let bytes =
            rkyv::to_bytes::<RkyvError>(a).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let archived = rkyv::access::<rkyv::Archived<K>, RkyvError>(&bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut out = vec![0x42];
        K::encode_archived_key(archived, &mut out);
        prop_assert_eq!(out[0], 0x42);
        let expected = enc(a);
        prop_assert_eq!(
            &out[1..],
            expected.as_slice(),
            "archived encoding differs for {:?}",
            a
        );
        prop_assert_eq!(archived_key_bytes::<K>(archived), enc(a));
        Ok(())
    }

    fn check_all<K>(a: &K, b: &K) -> Result<(), TestCaseError>
    where
        K: Key
            + Ord
            + Debug
            + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, RkyvError>>,
        K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
    {
        check_pair(a, b)?;
        check_pair(a, a)?;
        check_roundtrip(a)?;
        check_roundtrip(b)?;
        check_archived(a)?;
        check_archived(b)?;
        Ok(())
    }

    /// Decoding arbitrary bytes: no panic; on success the consumed bytes are
    /// exactly the re-encoding (canonical encoding); on failure the input is
    /// untouched.
    fn check_arbitrary_decode<K: Key + Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
        let mut input = bytes;
        match K::decode_key(&mut input) {
            Ok(v) => {
                let consumed = &bytes[..bytes.len() - input.len()];
                let reencoded = enc(&v);
                prop_assert_eq!(
                    reencoded.as_slice(),
                    consumed,
                    "non-canonical decode of {:?}",
                    v
                );
            }
            Err(e) => {
                prop_assert_eq!(input, bytes);
                prop_assert!(!e.to_string().is_empty());
            }
        }
        Ok(())
    }

    macro_rules! int_strategy {
        ($t:ty) => {
            prop_oneof![
                4 => any::<$t>(),
                1 => Just(<$t>::MIN),
                1 => Just(<$t>::MAX),
                2 => (<$t>::MIN..<$t>::MIN.saturating_add(4)),
                2 => (<$t>::default()..=<$t>::default().saturating_add(3)),
                1 => (<$t>::MAX.saturating_sub(3)..=<$t>::MAX),
            ]
        };
    }

    /// Strings over a small alphabet (with NUL, U+00FF and U+10FFFF, so
    /// escapes, shared prefixes and ties are common) or arbitrary strings.
    fn string_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::collection::vec(
                prop::sample::select(vec!['\0', 'a', 'b', '\u{ff}', '\u{10FFFF}']),
                0..6,
            )
            .prop_map(String::from_iter),
            1 => any::<String>(),
        ]
    }

    fn bytes_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => prop::collection::vec(
                prop_oneof![Just(0x00u8), Just(0x01), Just(0xFF), any::<u8>()],
                0..8,
            ),
            1 => any::<Vec<u8>>(),
        ]
    }

    macro_rules! key_props {
        ($($name:ident: $t:ty = $strategy:expr;)*) => {
            proptest! {
                $(
                    #[test]
                    fn $name(a in $strategy, b in $strategy) {
                        check_all::<$t>(&a, &b)?;
                    }
                )*
            }
        };
    }

    key_props! {
        props_u8: u8 = int_strategy!(u8);
        props_u16: u16 = int_strategy!(u16);
        props_u32: u32 = int_strategy!(u32);
        props_u64: u64 = int_strategy!(u64);
        props_u128: u128 = int_strategy!(u128);
        props_i8: i8 = int_strategy!(i8);
        props_i16: i16 = int_strategy!(i16);
        props_i32: i32 = int_strategy!(i32);
        props_i64: i64 = int_strategy!(i64);
        props_i128: i128 = int_strategy!(i128);
        props_bool: bool = any::<bool>();
        props_char: char = prop_oneof![any::<char>(), Just('\0'), Just(char::MAX), Just('\u{D7FF}'), Just('\u{E000}')];
        props_unit: () = Just(());
        props_string: String = string_strategy();
        props_box_str: Box<str> = string_strategy().prop_map(String::into_boxed_str);
        props_vec_u8: Vec<u8> = bytes_strategy();
        props_box_bytes: Box<[u8]> = bytes_strategy().prop_map(Vec::into_boxed_slice);
        props_option_string: Option<String> = prop::option::of(string_strategy());
        props_option_u64: Option<u64> = prop::option::of(int_strategy!(u64));
        props_option_option_bool: Option<Option<bool>> = prop::option::of(prop::option::of(any::<bool>()));
        props_tuple1: (i8,) = int_strategy!(i8).prop_map(|v| (v,));
        props_tuple_u64_string: (u64, String) = (0u64..3, string_strategy());
        props_tuple_string_i32_option: (String, i32, Option<u8>) =
            (string_strategy(), -2i32..2, prop::option::of(0u8..3));
        props_tuple6: (bool, u8, Vec<u8>, (), char, i16) =
            (any::<bool>(), 0u8..2, bytes_strategy(), Just(()), prop::sample::select(vec!['\0', 'z']), -1i16..1);
        props_array_u8_4: [u8; 4] = prop::array::uniform4(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()]);
        props_array_i16_3: [i16; 3] = prop::array::uniform3(int_strategy!(i16));
        props_array_string_2: [String; 2] = prop::array::uniform2(string_strategy());
    }

    proptest! {

        #[test]
        fn composite_string_u64(
            s1 in string_strategy(), p1 in 0u64..3,
            s2 in string_strategy(), p2 in 0u64..3,
        ) {
            check_composite(&s1, &p1, &s2, &p2)?;
        }

        #[test]
        fn composite_bytes_string(
            s1 in bytes_strategy(), p1 in string_strategy(),
            s2 in bytes_strategy(), p2 in string_strategy(),
        ) {
            check_composite(&s1, &p1, &s2, &p2)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in prop_oneof![
                any::<Vec<u8>>(),
                prop::collection::vec(prop_oneof![Just(0x00u8), Just(0x01), Just(0xFF), any::<u8>()], 0..40),
            ]
        ) {
            check_arbitrary_decode::<u8>(&bytes)?;
            check_arbitrary_decode::<u16>(&bytes)?;
            check_arbitrary_decode::<u32>(&bytes)?;
            check_arbitrary_decode::<u64>(&bytes)?;
            check_arbitrary_decode::<u128>(&bytes)?;
            check_arbitrary_decode::<i8>(&bytes)?;
            check_arbitrary_decode::<i16>(&bytes)?;
            check_arbitrary_decode::<i32>(&bytes)?;
            check_arbitrary_decode::<i64>(&bytes)?;
            check_arbitrary_decode::<i128>(&bytes)?;
            check_arbitrary_decode::<bool>(&bytes)?;
            check_arbitrary_decode::<char>(&bytes)?;
            check_arbitrary_decode::<()>(&bytes)?;
            check_arbitrary_decode::<String>(&bytes)?;
            check_arbitrary_decode::<Box<str>>(&bytes)?;
            check_arbitrary_decode::<Vec<u8>>(&bytes)?;
            check_arbitrary_decode::<Box<[u8]>>(&bytes)?;
            check_arbitrary_decode::<Option<String>>(&bytes)?;
            check_arbitrary_decode::<Option<u64>>(&bytes)?;
            check_arbitrary_decode::<(u64, String)>(&bytes)?;
            check_arbitrary_decode::<(String, i32, Option<u8>)>(&bytes)?;
            check_arbitrary_decode::<(bool, u8, Vec<u8>, (), char, i16)>(&bytes)?;
            check_arbitrary_decode::<[u8; 4]>(&bytes)?;
            check_arbitrary_decode::<[i16; 3]>(&bytes)?;
            check_arbitrary_decode::<[String; 2]>(&bytes)?;
        }

        #[test]
        fn prefix_successor_bounds_prefix_range(
            prefix in bytes_strategy(),
            suffix in bytes_strategy(),
            other in bytes_strategy(),
        ) {
            let mut extended = prefix.clone();
            extended.extend_from_slice(&suffix);
            match prefix_successor(&prefix) {
                Some(succ) => {
                    prop_assert!(succ > prefix);
                    prop_assert!(extended < succ);
                    prop_assert!(!succ.starts_with(&prefix));
                    // Everything in [prefix, succ) starts with prefix.
                    let probe = if other.starts_with(&prefix) { other.clone() } else { [prefix.as_slice(), &other].concat() };
                    prop_assert!(probe < succ);
                    if other >= prefix && other < succ {
                        prop_assert!(other.starts_with(&prefix));
                    }
                }
                None => prop_assert!(prefix.iter().all(|&b| b == 0xFF)),
            }
        }

        #[test]
        fn encode_str_and_bytes_match_owned(s in string_strategy(), b in bytes_strategy()) {
            let mut out = Vec::new();
            encode_str(&s, &mut out);
            prop_assert_eq!(&out, &enc(&s));
            prop_assert_eq!(&out, &enc(&s.clone().into_bytes()));
            let mut out = Vec::new();
            encode_bytes(&b, &mut out);
            prop_assert_eq!(&out, &enc(&b));
        }
    }

    /// `enc(s1) ++ enc(p1)` is never equal to, nor a prefix of, the
    /// concatenation for a different pair; it orders like the tuple; and a
    /// prefix scan over `enc(s1)` finds exactly the pairs with `s == s1`.
    fn check_composite<S: Key + Ord + Debug, P: Key + Ord + Debug>(
        s1: &S,
        p1: &P,
        s2: &S,
        p2: &P,
    ) -> Result<(), TestCaseError> {
        let k1 = [enc(s1), enc(p1)].concat();
        let k2 = [enc(s2), enc(p2)].concat();
        if (s1, p1) != (s2, p2) {
            prop_assert_ne!(&k1, &k2);
            prop_assert!(!k2.starts_with(&k1));
            prop_assert!(!k1.starts_with(&k2));
        }
        prop_assert_eq!((s1, p1).cmp(&(s2, p2)), k1.cmp(&k2));
        let scan_start = enc(s1);
        prop_assert_eq!(k2.starts_with(&scan_start), s1 == s2);
        if let Some(scan_end) = prefix_successor(&scan_start) {
            prop_assert_eq!(k2 >= scan_start && k2 < scan_end, s1 == s2);
        }
        Ok(())
    }

    fn roundtrip_exact<K: Key + PartialEq + Debug>(v: K) {
        check_roundtrip(&v).unwrap();
    }

    #[test]
    fn edge_case_encodings() {
        assert_eq!(enc(&String::new()), [0x00, 0x00]);
        assert_eq!(enc(&"\0".to_string()), [0x00, 0xFF, 0x00, 0x00]);
        assert_eq!(
            enc(&"a\0b".to_string()),
            [0x61, 0x00, 0xFF, 0x62, 0x00, 0x00]
        );
        assert_eq!(
            enc(&"\0\u{ff}".to_string()),
            [0x00, 0xFF, 0xC3, 0xBF, 0x00, 0x00]
        );
        assert_eq!(enc(&vec![0u8, 0xFF]), [0x00, 0xFF, 0xFF, 0x00, 0x00]);
        assert!(enc(&String::new()) < enc(&"\0".to_string()));
        assert!(enc(&"\0".to_string()) < enc(&"\0\0".to_string()));
        assert!(enc(&"\0".to_string()) < enc(&"\u{1}".to_string()));
        assert!(enc(&"\0\u{ff}".to_string()) < enc(&"\u{1}".to_string()));
        assert!(enc(&"a".to_string()) < enc(&"a\0".to_string()));
        assert!(enc(&vec![0u8]) < enc(&vec![0u8, 0]));
        assert!(enc(&vec![0u8, 0xFF]) < enc(&vec![1u8]));
        assert!(enc(&vec![0xFFu8]) > enc(&vec![0u8, 0xFF, 0xFF]));

        assert_eq!(enc(&0i64), [0x80, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            enc(&-1i64),
            [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        );
        assert_eq!(enc(&i64::MIN), [0; 8]);
        assert_eq!(enc(&i64::MAX), [0xFF; 8]);
        assert!(enc(&i64::MIN) < enc(&-1i64));
        assert!(enc(&-1i64) < enc(&0i64));
        assert!(enc(&0i64) < enc(&i64::MAX));
        assert_eq!(enc(&-1i8), [0x7F]);
        assert_eq!(enc(&0i8), [0x80]);
        assert_eq!(enc(&u128::MAX), [0xFF; 16]);
        assert_eq!(enc(&1u16), [0x00, 0x01]);
        assert_eq!(enc(&char::MAX), [0x00, 0x10, 0xFF, 0xFF]);
        assert_eq!(enc(&'\0'), [0, 0, 0, 0]);
        assert_eq!(enc(&true), [1]);
        assert_eq!(enc(&()), [0u8; 0]);
        assert_eq!(enc(&None::<u8>), [0x00]);
        assert_eq!(enc(&Some(7u8)), [0x01, 0x07]);
        assert!(enc(&None::<String>) < enc(&Some(String::new())));
        assert_eq!(enc(&(1u8, String::from("x"))), [0x01, b'x', 0x00, 0x00]);
        assert_eq!(enc(&[1u8, 2, 3, 4]), [1, 2, 3, 4]);

        roundtrip_exact(String::new());
        roundtrip_exact("\0".to_string());
        roundtrip_exact("\0\u{ff}".to_string());
        roundtrip_exact("\0\0\0".to_string());
        roundtrip_exact(i64::MIN);
        roundtrip_exact(i64::MAX);
        roundtrip_exact(0i64);
        roundtrip_exact(-1i64);
        roundtrip_exact(u128::MAX);
        roundtrip_exact(i128::MIN);
        roundtrip_exact(char::MAX);
        roundtrip_exact(Some(None::<u8>));
        roundtrip_exact((Some(String::from("\0")), -5i32, [true, false]));
        roundtrip_exact(vec![0u8; 5].into_boxed_slice());
        roundtrip_exact(String::from("\0x").into_boxed_str());
    }

    #[test]
    fn edge_case_archived() {
        check_archived(&String::from("\0\u{ff}")).unwrap();
        check_archived(&Some(String::from("\0"))).unwrap();
        check_archived(&None::<String>).unwrap();
        check_archived(&i64::MIN).unwrap();
        check_archived(&u128::MAX).unwrap();
        check_archived(&char::MAX).unwrap();
        check_archived(&vec![0u8; 3].into_boxed_slice()).unwrap();
        check_archived(&[String::new(), String::from("a")]).unwrap();
    }

    #[test]
    fn decode_errors() {
        fn err<K: Key + Debug>(bytes: &[u8]) -> KeyDecodeError {
            let mut input = bytes;
            let e = K::decode_key(&mut input).unwrap_err();
            assert_eq!(input, bytes, "input must be untouched on error");
            e
        }
        assert_eq!(
            err::<u32>(&[1, 2, 3]),
            KeyDecodeError::UnexpectedEnd { expected: "u32" }
        );
        assert_eq!(
            err::<bool>(&[2]),
            KeyDecodeError::InvalidTag { ty: "bool", tag: 2 }
        );
        assert_eq!(
            err::<Option<u8>>(&[7, 1]),
            KeyDecodeError::InvalidTag {
                ty: "Option",
                tag: 7
            }
        );
        assert!(matches!(
            err::<Option<u16>>(&[1, 1]),
            KeyDecodeError::UnexpectedEnd { .. }
        ));
        assert_eq!(
            err::<char>(&[0, 0, 0xD8, 0]),
            KeyDecodeError::InvalidChar(0xD800)
        );
        assert_eq!(
            err::<char>(&[0, 0x11, 0, 0]),
            KeyDecodeError::InvalidChar(0x11_0000)
        );
        assert_eq!(
            err::<String>(&[b'a', 0, 1]),
            KeyDecodeError::InvalidEscape { byte: 1 }
        );
        assert!(matches!(
            err::<String>(&[b'a', 0]),
            KeyDecodeError::UnexpectedEnd { .. }
        ));
        assert!(matches!(
            err::<String>(b"abc"),
            KeyDecodeError::UnexpectedEnd { .. }
        ));
        assert_eq!(
            err::<String>(&[b'a', 0xC3, 0, 0]),
            KeyDecodeError::InvalidUtf8 { valid_up_to: 1 }
        );
        assert!(matches!(
            err::<(u8, String)>(&[1, b'x']),
            KeyDecodeError::UnexpectedEnd { .. }
        ));
        assert!(matches!(
            err::<[u16; 2]>(&[0, 1, 0]),
            KeyDecodeError::UnexpectedEnd { .. }
        ));
        assert_eq!(
            key_from_bytes::<u8>(&[1, 2]),
            Err(KeyDecodeError::TrailingBytes { remaining: 1 })
        );
        assert_eq!(key_from_bytes::<()>(&[]), Ok(()));
        // Errors are usable as boxed, thread-safe errors.
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err::<bool>(&[9]));
        assert!(boxed.to_string().contains("bool"));
    }

    #[test]
    fn prefix_successor_cases() {
        assert_eq!(prefix_successor(&[]), None);
        assert_eq!(prefix_successor(&[0xFF]), None);
        assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_successor(&[0x00]), Some(vec![0x01]));
        assert_eq!(prefix_successor(&[0x12, 0x34]), Some(vec![0x12, 0x35]));
        assert_eq!(prefix_successor(&[0x12, 0xFF]), Some(vec![0x13]));
        assert_eq!(prefix_successor(&[0x12, 0xFF, 0xFF]), Some(vec![0x13]));
        assert_eq!(prefix_successor(&[0xFE, 0xFF]), Some(vec![0xFF]));
        assert_eq!(prefix_successor(&[0x00, 0x00]), Some(vec![0x00, 0x01]));
    }

    fn skips_exactly<K: Key>(k: &K) -> Result<(), TestCaseError> {
        let mut bytes = key_bytes(k);
        let len = bytes.len();
        bytes.extend_from_slice(&[0x00, 0x07, 0xFF]);
        let mut input = bytes.as_slice();
        K::skip_key(&mut input).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(input.len(), bytes.len() - len);
        Ok(())
    }

    proptest! {
        #[test]
        fn skip_key_consumes_exactly_one_encoding(
            s in string_strategy(),
            b in bytes_strategy(),
            o in prop::option::of(string_strategy()),
            t in (any::<u64>(), string_strategy(), any::<i8>()),
        ) {
            skips_exactly(&s)?;
            skips_exactly(&b)?;
            skips_exactly(&o)?;
            skips_exactly(&t)?;
            skips_exactly(&[s.clone(), s])?;
            skips_exactly(&b.into_boxed_slice())?;
        }

        #[test]
        fn skip_key_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..32)) {
            let mut input = bytes.as_slice();
            if <(String, Option<Vec<u8>>)>::skip_key(&mut input).is_err() {
                prop_assert_eq!(input.len(), bytes.len());
            }
        }

        #[test]
        fn a_string_prefix_selects_exactly_the_strings_starting_with_it(
            p in string_strategy(),
            t in string_strategy(),
        ) {
            let mut prefix = Vec::new();
            KeyPrefix::<String>::encode_prefix(&StrPrefix(&p), &mut prefix);
            prop_assert_eq!(key_bytes(&t).starts_with(&prefix), t.starts_with(p.as_str()));
            let mut tuple_prefix = Vec::new();
            KeyPrefix::<(u8, String)>::encode_prefix(&(3u8, StrPrefix(&p)), &mut tuple_prefix);
            prop_assert_eq!(key_bytes(&(3u8, t.clone())).starts_with(&tuple_prefix), t.starts_with(p.as_str()));
            prop_assert!(!key_bytes(&(4u8, t.clone())).starts_with(&tuple_prefix));
        }

        #[test]
        fn a_tuple_head_selects_exactly_its_tuples(a in 0u64..4, b in 0u64..4, c in string_strategy()) {
            let mut prefix = Vec::new();
            KeyPrefix::<(u64, String)>::encode_prefix(&(1u64,), &mut prefix);
            prop_assert_eq!(key_bytes(&(a, c.clone())).starts_with(&prefix), a == 1);
            let mut prefix = Vec::new();
            KeyPrefix::<(u64, u64, String)>::encode_prefix(&(1u64, 2u64), &mut prefix);
            prop_assert_eq!(key_bytes(&(a, b, c)).starts_with(&prefix), a == 1 && b == 2);
        }
    }

    proptest! {
        #[test]
        fn push_prefix_successor_matches_prefix_successor(
            head in bytes_strategy(),
            prefix in prop::collection::vec(prop_oneof![Just(0xFFu8), any::<u8>()], 0..8),
        ) {
            let mut buf = head.clone();
            buf.extend_from_slice(&prefix);
            let at = push_prefix_successor(&mut buf, head.len());
            match prefix_successor(&prefix) {
                Some(succ) => prop_assert_eq!(buf.get(at.unwrap()..), Some(succ.as_slice())),
                None => {
                    prop_assert!(at.is_none());
                    prop_assert_eq!(buf.len(), head.len() + prefix.len());
                }
            }
        }
    }
}
