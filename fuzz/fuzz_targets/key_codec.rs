//! The key codec (`netabase_store::key`).
//!
//! * Arbitrary bytes decoded as many key types never panic. On success the consumed bytes
//!   are exactly the re-encoding (the encoding is canonical), `skip_key` consumes the same
//!   length, and the archived value encodes to the same bytes. On failure the input is left
//!   where it was, and so does `skip_key` when it fails.
//! * Arbitrary pairs of values: `a.cmp(&b) == enc(a).cmp(&enc(b))`, decoding round-trips,
//!   no encoding is a proper prefix of another, concatenations split back, and string /
//!   byte-string prefixes select exactly the values starting with them.
#![no_main]

use std::fmt::Debug;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netabase_store::key::{
    BytesPrefix, Key, KeyPrefix, StrPrefix, archived_key_bytes, key_bytes, key_from_bytes,
    prefix_successor,
};
use netabase_store::rkyv;
use netabase_store_fuzz::Bounded;
use rkyv::api::high::{HighSerializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor::Error as RkyvError;
use rkyv::ser::allocator::ArenaHandle;
use rkyv::util::AlignedVec;

/// Key types whose archived form can be built and validated here.
trait ArchivableKey:
    Key
    + Debug
    + PartialEq
    + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, RkyvError>>
where
    Self::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
{
}

impl<K> ArchivableKey for K
where
    K: Key
        + Debug
        + PartialEq
        + for<'a> rkyv::Serialize<HighSerializer<AlignedVec, ArenaHandle<'a>, RkyvError>>,
    K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
{
}

/// `encode_archived_key` of the archived value gives exactly `enc(v)`.
fn check_archived<K: ArchivableKey>(v: &K)
where
    K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
{
    let bytes = rkyv::to_bytes::<RkyvError>(v).expect("archive a key");
    let archived = rkyv::access::<K::Archived, RkyvError>(&bytes).expect("access an archive");
    assert_eq!(
        archived_key_bytes::<K>(archived),
        key_bytes(v),
        "archived {v:?}"
    );
}

/// Decodes `data` as a `K`, then the rest again, until it fails or runs out.
fn check_decode<K: ArchivableKey>(data: &[u8])
where
    K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
{
    let mut rest = data;
    for _ in 0..4 {
        let before = rest;
        let mut input = rest;
        let mut skip = rest;
        let decoded = K::decode_key(&mut input);
        let skipped = K::skip_key(&mut skip);
        match decoded {
            Ok(v) => {
                let consumed = &before[..before.len() - input.len()];
                assert_eq!(key_bytes(&v), consumed, "non-canonical decode of {v:?}");
                assert!(
                    skipped.is_ok(),
                    "skip failed where decode of {v:?} succeeded"
                );
                assert_eq!(skip.len(), input.len(), "skip and decode of {v:?} disagree");
                let whole = key_from_bytes::<K>(consumed).expect("decode exactly its encoding");
                assert_eq!(whole, v);
                check_archived(&v);
                rest = input;
            }
            Err(e) => {
                assert_eq!(input, before, "a failed decode moved its input");
                assert!(!e.to_string().is_empty());
                // `skip_key` may accept more than `decode_key` (it does not check UTF-8),
                // never less, and fails without moving.
                if skipped.is_err() {
                    assert_eq!(skip, before, "a failed skip moved its input");
                }
                let _ = key_from_bytes::<K>(before);
                return;
            }
        }
        if rest.is_empty() {
            return;
        }
    }
}

/// Order, round trip, prefix-freedom and self-delimitation for one pair.
fn check_pair<K: ArchivableKey + Ord>(a: &K, b: &K)
where
    K::Archived: for<'a> CheckBytes<HighValidator<'a, RkyvError>>,
{
    let (ea, eb) = (key_bytes(a), key_bytes(b));
    assert_eq!(a.cmp(b), ea.cmp(&eb), "order of {a:?} and {b:?}");
    assert_eq!(&key_from_bytes::<K>(&ea).expect("round trip"), a);
    assert_eq!(&key_from_bytes::<K>(&eb).expect("round trip"), b);
    if a != b {
        assert!(!eb.starts_with(&ea), "enc({a:?}) is a prefix of enc({b:?})");
        assert!(!ea.starts_with(&eb), "enc({b:?}) is a prefix of enc({a:?})");
    }
    // Self-delimiting: the concatenation splits back, and skip finds the boundary.
    let both = [ea.as_slice(), eb.as_slice()].concat();
    let mut input = both.as_slice();
    assert_eq!(&K::decode_key(&mut input).expect("first of two"), a);
    assert_eq!(input, eb.as_slice());
    let mut skip = both.as_slice();
    K::skip_key(&mut skip).expect("skip the first of two");
    assert_eq!(skip, eb.as_slice());
    // The range `enc(a) .. prefix_successor(enc(a))` holds exactly a's encodings with
    // something appended (a composite key starting with a).
    if let Some(succ) = prefix_successor(&ea) {
        assert!(ea < succ);
        let mut extended = ea.clone();
        extended.extend_from_slice(&eb);
        assert!(extended < succ && extended >= ea);
        assert_eq!(
            eb >= ea && eb < succ,
            eb == ea,
            "{b:?} inside the prefix range of {a:?}"
        );
    }
    check_archived(a);
    check_archived(b);
}

/// A prefix `p` of a string-like key selects exactly the values starting with it.
fn check_prefix<K: Key, P: KeyPrefix<K>>(prefix: &P, prefix_holds: bool, value: &K) {
    let mut p = Vec::new();
    prefix.encode_prefix(&mut p);
    let ev = key_bytes(value);
    assert_eq!(
        ev.starts_with(&p),
        prefix_holds,
        "prefix {p:02x?} of {ev:02x?}"
    );
}

/// Bytes over a small alphabet, so NUL escapes and 0xFF runs are common.
#[derive(Arbitrary, Debug)]
struct Nulish(Vec<Bounded<4>>);

impl Nulish {
    fn bytes(&self) -> Vec<u8> {
        self.0
            .iter()
            .map(|b| [0x00, 0x01, 0xFF, b'a'][b.get()])
            .collect()
    }
    fn string(&self) -> String {
        self.0
            .iter()
            .map(|b| ['\0', 'a', '\u{ff}', 'b'][b.get()])
            .collect()
    }
}

#[derive(Arbitrary, Debug)]
enum Pair {
    U8(u8, u8),
    U64(u64, u64),
    I32(i32, i32),
    I64(i64, i64),
    U128(u128, u128),
    I128(i128, i128),
    Bool(bool, bool),
    Char(char, char),
    Str(String, String),
    NulStr(Nulish, Nulish),
    BoxStr(Box<str>, Box<str>),
    Bytes(Vec<u8>, Vec<u8>),
    NulBytes(Nulish, Nulish),
    BoxBytes(Box<[u8]>, Box<[u8]>),
    OptTuple(Option<(u64, String)>, Option<(u64, String)>),
    Triple((i32, Box<[u8]>, bool), (i32, Box<[u8]>, bool)),
    Array([u16; 3], [u16; 3]),
    StrArray([String; 2], [String; 2]),
    NestedOpt(Option<Option<i8>>, Option<Option<i8>>),
    Six(
        (u8, i16, bool, char, Option<u32>, String),
        (u8, i16, bool, char, Option<u32>, String),
    ),
    /// `b` is `a` with a suffix, the case a naive concatenation gets wrong.
    Extended(Nulish, Nulish, u64, u64),
}

#[derive(Arbitrary, Debug)]
enum Input<'a> {
    Decode(&'a [u8]),
    Pairs(Vec<Pair>),
}

fn decode_all(data: &[u8]) {
    check_decode::<u8>(data);
    check_decode::<i16>(data);
    check_decode::<u64>(data);
    check_decode::<i128>(data);
    check_decode::<bool>(data);
    check_decode::<char>(data);
    check_decode::<()>(data);
    check_decode::<String>(data);
    check_decode::<Box<str>>(data);
    check_decode::<Vec<u8>>(data);
    check_decode::<Box<[u8]>>(data);
    check_decode::<Option<(u64, String)>>(data);
    check_decode::<(i32, Box<[u8]>, bool)>(data);
    check_decode::<[u16; 3]>(data);
    check_decode::<[String; 2]>(data);
    check_decode::<Option<Option<bool>>>(data);
    check_decode::<Option<char>>(data);
    check_decode::<(String, Vec<u8>, Option<String>)>(data);
    check_decode::<(u8, i16, bool, char, Option<u32>, String)>(data);
    check_decode::<[Option<i8>; 2]>(data);
}

fn pair(p: &Pair) {
    match p {
        Pair::U8(a, b) => check_pair(a, b),
        Pair::U64(a, b) => check_pair(a, b),
        Pair::I32(a, b) => check_pair(a, b),
        Pair::I64(a, b) => check_pair(a, b),
        Pair::U128(a, b) => check_pair(a, b),
        Pair::I128(a, b) => check_pair(a, b),
        Pair::Bool(a, b) => check_pair(a, b),
        Pair::Char(a, b) => check_pair(a, b),
        Pair::Str(a, b) => {
            check_pair(a, b);
            check_prefix(&StrPrefix(a), b.starts_with(a.as_str()), b);
        }
        Pair::NulStr(a, b) => {
            let (a, b) = (a.string(), b.string());
            check_pair(&a, &b);
            check_prefix(&StrPrefix(&a), b.starts_with(a.as_str()), &b);
            // A string and a byte string with the same bytes encode identically.
            assert_eq!(key_bytes(&a), key_bytes(&a.as_bytes().to_vec()));
        }
        Pair::BoxStr(a, b) => check_pair(a, b),
        Pair::Bytes(a, b) => {
            check_pair(a, b);
            check_prefix(&BytesPrefix(a), b.starts_with(a), b);
        }
        Pair::NulBytes(a, b) => {
            let (a, b) = (a.bytes(), b.bytes());
            check_pair(&a, &b);
            check_prefix(&BytesPrefix(&a), b.starts_with(&a), &b);
        }
        Pair::BoxBytes(a, b) => check_pair(a, b),
        Pair::OptTuple(a, b) => check_pair(a, b),
        Pair::Triple(a, b) => check_pair(a, b),
        Pair::Array(a, b) => check_pair(a, b),
        Pair::StrArray(a, b) => check_pair(a, b),
        Pair::NestedOpt(a, b) => check_pair(a, b),
        Pair::Six(a, b) => check_pair(a, b),
        Pair::Extended(a, suffix, x, y) => {
            let a = a.string();
            let b = format!("{a}{}", suffix.string());
            check_pair(&a, &b);
            check_pair(&(a.clone(), *x), &(b.clone(), *y));
            check_pair(&(*x, a.clone()), &(*y, b.clone()));
            check_prefix(&StrPrefix(&a), true, &b);
            // A tuple head selects exactly the tuples starting with it.
            check_prefix(&(a.clone(),), true, &(a.clone(), *y));
            check_prefix(&(a.clone(),), a == b, &(b.clone(), *y));
        }
    }
}

fuzz_target!(|input: Input<'_>| {
    match input {
        Input::Decode(data) => decode_all(data),
        Input::Pairs(pairs) => {
            for p in pairs.iter().take(16) {
                pair(p);
            }
        }
    }
});
