//! Fixed cases of the key codec (edge encodings, decode errors, prefix successors) and the
//! property tests of skipping and prefix scans.

use super::*;

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
