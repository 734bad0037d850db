//! Keys as lookups take them: the key itself, a reference, or a borrowed form, encoded
//! straight into the tree's reused buffer (no allocation for `&str` or `&[u8]`).

use std::ops::{Bound, Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

use super::{Key, encode_bytes, encode_str};

/// A value that encodes exactly as a key of type `K`. What every lookup takes.
///
/// Implemented for:
/// * every key type for itself (`u64`, `String`, tuples, `Option`, arrays, ...), and for any
///   reference to something that is one (`&K`, `&&K`);
/// * `str` for `String` and `Box<str>`, `[u8]` for `Vec<u8>` and `Box<[u8]>`, so `"alice"`
///   and `&bytes[..]` look up string and byte keys without building an owned key;
/// * tuples, `Option`s and arrays of such values for the tuple, option or array key
///   (`(7, "x")` for a `(u64, String)` key);
/// * the generated key newtypes (`UserPrimaryKey`, `UserEmailSecondaryKey`) for themselves,
///   for their inner type, and, when the inner type is written `String` / `Box<str>` /
///   `Vec<u8>` / `Box<[u8]>`, for `str` / `[u8]`.
///
/// ```
/// use netabase_store::key::{KeyArg, key_bytes};
/// let mut out = Vec::new();
/// KeyArg::<String>::encode_as(&"alice", &mut out);
/// assert_eq!(out, key_bytes(&"alice".to_string()));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a key of type `{K}`",
    label = "not a `{K}`",
    note = "a lookup takes the key itself, a reference to it, its inner type, or a borrowed \
            form (`&str` for a string key, `&[u8]` for a byte-string key)"
)]
pub trait KeyArg<K> {
    /// Appends the encoding of the key this value stands for.
    fn encode_as(&self, out: &mut Vec<u8>);
}

impl<K, Q: KeyArg<K> + ?Sized> KeyArg<K> for &Q {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        (**self).encode_as(out)
    }
}

macro_rules! itself {
    ($($t:ty),* $(,)?) => {$(
        impl KeyArg<$t> for $t {
            #[inline]
            fn encode_as(&self, out: &mut Vec<u8>) {
                self.encode_key(out)
            }
        }
    )*};
}

itself!(
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

impl KeyArg<String> for str {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_str(self, out)
    }
}

impl KeyArg<Box<str>> for str {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_str(self, out)
    }
}

impl KeyArg<Vec<u8>> for [u8] {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_bytes(self, out)
    }
}

impl KeyArg<Box<[u8]>> for [u8] {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        encode_bytes(self, out)
    }
}

impl<T: Key, Q: KeyArg<T>> KeyArg<Option<T>> for Option<Q> {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        // The same bytes as `Option<T>::encode_key`.
        match self {
            None => out.push(0x00),
            Some(v) => {
                out.push(0x01);
                v.encode_as(out);
            }
        }
    }
}

impl<T: Key, Q: KeyArg<T>, const N: usize> KeyArg<[T; N]> for [Q; N] {
    #[inline]
    fn encode_as(&self, out: &mut Vec<u8>) {
        for x in self {
            x.encode_as(out);
        }
    }
}

macro_rules! tuple {
    ($($t:ident $q:ident $idx:tt),+) => {
        impl<$($t: Key, $q: KeyArg<$t>),+> KeyArg<($($t,)+)> for ($($q,)+) {
            #[inline]
            fn encode_as(&self, out: &mut Vec<u8>) {
                $(self.$idx.encode_as(out);)+
            }
        }
    };
}

tuple!(T0 Q0 0);
tuple!(T0 Q0 0, T1 Q1 1);
tuple!(T0 Q0 0, T1 Q1 1, T2 Q2 2);
tuple!(T0 Q0 0, T1 Q1 1, T2 Q2 2, T3 Q3 3);
tuple!(T0 Q0 0, T1 Q1 1, T2 Q2 2, T3 Q3 3, T4 Q4 4);
tuple!(T0 Q0 0, T1 Q1 1, T2 Q2 2, T3 Q3 3, T4 Q4 4, T5 Q5 5);

/// A range of keys of type `K`, as range lookups take it: `..`, `a..b`, `a..=b`, `a..`,
/// `..b`, `..=b` or a `(Bound, Bound)` pair, of anything that is a [`KeyArg<K>`]. `..`
/// needs no type annotation.
pub trait KeyRange<K> {
    /// The encoded lower and upper bounds, each appended after `head`.
    fn encode_bounds(&self, head: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>);
}

fn bound<K, Q: KeyArg<K>>(b: Bound<&Q>, head: &[u8]) -> Bound<Vec<u8>> {
    let enc = |q: &Q| {
        let mut out = head.to_vec();
        q.encode_as(&mut out);
        out
    };
    match b {
        Bound::Included(q) => Bound::Included(enc(q)),
        Bound::Excluded(q) => Bound::Excluded(enc(q)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl<K> KeyRange<K> for RangeFull {
    fn encode_bounds(&self, _head: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        (Bound::Unbounded, Bound::Unbounded)
    }
}

macro_rules! ranges {
    ($($r:ident => |$s:ident| ($lo:expr, $hi:expr);)*) => {$(
        impl<K, Q: KeyArg<K>> KeyRange<K> for $r<Q> {
            fn encode_bounds(&self, head: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
                let $s = self;
                (bound::<K, Q>($lo, head), bound::<K, Q>($hi, head))
            }
        }
    )*};
}

ranges! {
    Range => |r| (Bound::Included(&r.start), Bound::Excluded(&r.end));
    RangeInclusive => |r| (Bound::Included(r.start()), Bound::Included(r.end()));
    RangeFrom => |r| (Bound::Included(&r.start), Bound::Unbounded);
    RangeTo => |r| (Bound::Unbounded, Bound::Excluded(&r.end));
    RangeToInclusive => |r| (Bound::Unbounded, Bound::Included(&r.end));
}

impl<K, Q: KeyArg<K>> KeyRange<K> for (Bound<Q>, Bound<Q>) {
    fn encode_bounds(&self, head: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        (
            bound::<K, Q>(self.0.as_ref(), head),
            bound::<K, Q>(self.1.as_ref(), head),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::key_bytes;

    fn enc<K, Q: KeyArg<K> + ?Sized>(q: &Q) -> Vec<u8> {
        let mut out = Vec::new();
        q.encode_as(&mut out);
        out
    }

    #[test]
    fn borrowed_forms_encode_like_the_owned_key() {
        assert_eq!(enc::<String, _>("a\0b"), key_bytes(&"a\0b".to_string()));
        assert_eq!(enc::<Box<str>, _>("x"), key_bytes(&Box::<str>::from("x")));
        assert_eq!(enc::<Vec<u8>, _>(&[0u8, 1][..]), key_bytes(&vec![0u8, 1]));
        assert_eq!(
            enc::<(u64, String), _>(&(7u64, "x")),
            key_bytes(&(7u64, "x".to_string()))
        );
        assert_eq!(
            enc::<Option<String>, _>(&Some("y")),
            key_bytes(&Some("y".to_string()))
        );
        assert_eq!(
            enc::<Option<String>, _>(&None::<&str>),
            key_bytes(&None::<String>)
        );
        assert_eq!(enc::<[u16; 2], _>(&[1u16, 2]), key_bytes(&[1u16, 2]));
        assert_eq!(enc::<u64, _>(&&&5u64), key_bytes(&5u64));
    }

    #[test]
    fn ranges_encode_both_bounds() {
        let (lo, hi) = KeyRange::<u64>::encode_bounds(&(3u64..=9), &[1]);
        assert_eq!(
            lo,
            Bound::Included([&[1u8][..], &key_bytes(&3u64)].concat())
        );
        assert_eq!(
            hi,
            Bound::Included([&[1u8][..], &key_bytes(&9u64)].concat())
        );
        assert_eq!(
            KeyRange::<String>::encode_bounds(&.., &[]),
            (Bound::Unbounded, Bound::Unbounded)
        );
        let (lo, _) = KeyRange::<String>::encode_bounds(&("b"..), &[]);
        assert_eq!(lo, Bound::Included(key_bytes(&"b".to_string())));
    }
}
