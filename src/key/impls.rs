//! The [`Key`] impls of the std types (integers, `bool`, `char`, `()`, strings, byte
//! strings, `Option`, tuples and arrays), with the decoding primitives they share. The
//! encoding of each is the table in the [parent module](super).

use rkyv::option::ArchivedOption;

use super::{Key, KeyDecodeError, encode_bytes, encode_str};

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
