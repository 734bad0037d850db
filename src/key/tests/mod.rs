//! Unit and property tests of the key codec.

use super::*;

use core::fmt::Debug;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rkyv::api::high::{HighSerializer, HighValidator};
use rkyv::bytecheck::CheckBytes;
use rkyv::rancor::Error as RkyvError;
use rkyv::ser::allocator::ArenaHandle;
use rkyv::util::AlignedVec;

mod cases;

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
    let bytes = rkyv::to_bytes::<RkyvError>(a).map_err(|e| TestCaseError::fail(e.to_string()))?;
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
