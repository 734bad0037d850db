//! Same archived layout <=> same schema: a table of Rust type pairs (aliases, paths and
//! renamed types on one side; every kind of layout change on the other), the bytes of
//! "same" pairs read across, keys and tags in the fingerprint, and a property test of the
//! layout text (round trip, injectivity, and a diff that is empty exactly when equal).

use std::collections::{BTreeMap, HashMap, VecDeque};

use netabase_store::schema::{LayoutNode, Schema, diff_layouts, layout_text, parse_layout};
use netabase_store::{NetabaseSchema, netabase_type};
use proptest::prelude::*;

type Zip = u32;
type Name = std::string::String;

#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct A {
    x: u32,
    name: String,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct RenamedA {
    x: Zip,
    name: Name,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct Swapped {
    name: String,
    x: u32,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct RenamedField {
    y: u32,
    name: String,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct Tuple2(u8, u16);
#[derive(NetabaseSchema)]
struct Unit;
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct Outer {
    a: A,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct OuterRenamed {
    a: RenamedA,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct OuterSwapped {
    a: Swapped,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
enum E1 {
    A,
    B(u8),
    C { x: u16 },
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
enum E1Renamed {
    A,
    B(::core::primitive::u8),
    C { x: u16 },
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
enum E1Reordered {
    B(u8),
    A,
    C { x: u16 },
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
enum E1More {
    A,
    B(u8),
    C { x: u16 },
    D,
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
enum E1Field {
    A,
    B(u8),
    C { x: u32 },
}
#[derive(NetabaseSchema)]
#[allow(dead_code)]
struct Generic<T> {
    inner: Vec<T>,
}

fn text<T: Schema + ?Sized>() -> String {
    layout_text(T::SHAPE)
}

macro_rules! same {
    ($($a:ty, $b:ty;)*) => {
        $(assert_eq!(text::<$a>(), text::<$b>(), "{} vs {}", stringify!($a), stringify!($b));)*
    };
}
macro_rules! differ {
    ($($a:ty, $b:ty;)*) => {
        $(assert_ne!(text::<$a>(), text::<$b>(), "{} vs {}", stringify!($a), stringify!($b));)*
    };
}

#[test]
fn aliases_paths_and_type_names_do_not_change_the_schema() {
    same! {
        String, std::string::String;
        u32, Zip;
        Option<Zip>, Option<::core::primitive::u32>;
        Vec<Name>, std::vec::Vec<String>;
        usize, u32;
        isize, i32;
        VecDeque<u8>, Vec<u8>;
        A, RenamedA;
        Outer, OuterRenamed;
        E1, E1Renamed;
        (u8, u16), Tuple2;
        Unit, ();
        Generic<u8>, Generic<::core::primitive::u8>;
        Box<str>, Box<::core::primitive::str>;
        HashMap<String, u8>, std::collections::HashMap<Name, u8>;
    }
}

#[test]
fn every_layout_change_changes_the_schema() {
    differ! {
        u32, i32;
        u32, u64;
        u8, bool;
        String, Box<str>;
        Vec<u8>, Box<[u8]>;
        Option<u32>, u32;
        [u8; 4], [u8; 5];
        [u8; 4], Vec<u8>;
        (u8, u16), (u16, u8);
        A, Swapped;
        A, RenamedField;
        A, Tuple2;
        Outer, OuterSwapped;
        Outer, A;
        E1, E1Reordered;
        E1, E1More;
        E1, E1Field;
        Generic<u8>, Generic<u16>;
        HashMap<u8, u16>, BTreeMap<u8, u16>;
        Option<Box<u8>>, Option<u8>;
        Result<u8, u16>, Result<u16, u8>;
    }
}

#[test]
fn diffs_name_the_changed_path() {
    let old = LayoutNode::of(<Outer as Schema>::SHAPE);
    let new = LayoutNode::of(<OuterSwapped as Schema>::SHAPE);
    assert_eq!(
        diff_layouts("M", &old, &new),
        vec!["M.a: field order changed (x, name) -> (name, x)"]
    );
    let old = LayoutNode::of(<E1 as Schema>::SHAPE);
    let new = LayoutNode::of(<E1Field as Schema>::SHAPE);
    assert_eq!(
        diff_layouts("M.e", &old, &new),
        vec!["M.e::C.x: u16 -> u32"]
    );
}

/// The "same" pairs really are one archived layout: bytes of one read as the other.
#[test]
fn same_schema_pairs_read_each_others_bytes() {
    #[netabase_type]
    #[derive(Debug, PartialEq)]
    struct First {
        x: u32,
        items: VecDeque<u16>,
        n: usize,
    }
    #[netabase_type]
    #[derive(Debug, PartialEq)]
    struct Second {
        x: Zip,
        items: Vec<u16>,
        n: u32,
    }
    assert_eq!(text::<First>(), text::<Second>());
    let bytes = netabase_store::rkyv::to_bytes::<netabase_store::rkyv::rancor::Error>(&First {
        x: 7,
        items: [1, 2, 3].into(),
        n: 9,
    })
    .unwrap();
    let second: Second =
        netabase_store::rkyv::from_bytes::<Second, netabase_store::rkyv::rancor::Error>(&bytes)
            .unwrap();
    assert_eq!(
        second,
        Second {
            x: 7,
            items: vec![1, 2, 3],
            n: 9
        }
    );
}

/// Key kinds, tags and uniqueness are part of the definition's fingerprint.
#[test]
fn keys_and_tags_change_the_fingerprint() {
    use netabase_store::traits::definition::NetabaseDefinitionTrait;
    macro_rules! def {
        ($m:ident, $($attr:tt)*) => {
            #[allow(dead_code)]
            mod $m {
                #[netabase_store::netabase_definition_module(D, K)]
                pub mod d {
                    #[derive(netabase_store::NetabaseModel)]
                    #[netabase(D)]
                    pub struct M {
                        #[primary_key]
                        pub id: u64,
                        $($attr)*
                        pub v: Option<String>,
                    }
                }
            }
        };
    }
    def!(plain, #[secondary_key]);
    def!(plain_again, #[secondary_key]);
    def!(unique, #[secondary_key(unique)]);
    def!(tagged, #[secondary_key(tag = 3)]);
    def!(none,);
    let prints = [
        none::d::D::FINGERPRINT,
        plain::d::D::FINGERPRINT,
        unique::d::D::FINGERPRINT,
        tagged::d::D::FINGERPRINT,
    ];
    assert_eq!(plain::d::D::FINGERPRINT, plain_again::d::D::FINGERPRINT);
    for (i, a) in prints.iter().enumerate() {
        for b in prints.iter().skip(i + 1) {
            assert_ne!(a, b);
        }
    }
}

fn layout_strategy() -> impl Strategy<Value = LayoutNode> {
    let name = "[a-d][a-z0-9_]{0,3}";
    let leaf = prop_oneof![
        Just("u8"),
        Just("u32"),
        Just("i32"),
        Just("string"),
        Just("bool"),
        Just("with::AsBox")
    ]
    .prop_map(|s| LayoutNode::Leaf(s.to_owned()));
    leaf.prop_recursive(4, 48, 4, move |inner| {
        prop_oneof![
            (
                prop_oneof![Just("vec"), Just("option"), Just("box")],
                inner.clone()
            )
                .prop_map(|(n, a)| LayoutNode::Generic(n.to_owned(), vec![a])),
            (inner.clone(), inner.clone())
                .prop_map(|(k, v)| LayoutNode::Generic("hashmap".into(), vec![k, v])),
            (inner.clone(), 0usize..40).prop_map(|(a, n)| LayoutNode::Array(Box::new(a), n)),
            prop::collection::vec(inner.clone(), 0..4).prop_map(LayoutNode::Tuple),
            prop::collection::btree_map(name, inner.clone(), 1..4)
                .prop_map(|m| LayoutNode::Struct(m.into_iter().collect())),
            prop::collection::btree_map(
                name,
                prop_oneof![
                    Just(LayoutNode::Tuple(Vec::new())),
                    inner.clone().prop_map(|a| LayoutNode::Tuple(vec![a])),
                    prop::collection::btree_map(name, inner.clone(), 1..3)
                        .prop_map(|m| LayoutNode::Struct(m.into_iter().collect())),
                ],
                1..4
            )
            .prop_map(|m| LayoutNode::Enum(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn layout_texts_round_trip_and_identify_layouts(a in layout_strategy(), b in layout_strategy()) {
        let (ta, tb) = (a.to_string(), b.to_string());
        prop_assert_eq!(parse_layout(&ta).unwrap(), a.clone());
        prop_assert_eq!(ta == tb, a == b);
        prop_assert_eq!(diff_layouts("M", &a, &b).is_empty(), a == b);
        prop_assert!(diff_layouts("M", &a, &a).is_empty());
    }

    #[test]
    fn one_changed_leaf_is_one_named_change(a in layout_strategy()) {
        // Change the first `u32` leaf (if any) to `i32`.
        fn change(n: &mut LayoutNode) -> bool {
            match n {
                LayoutNode::Leaf(s) if s == "u32" => { *s = "i32".into(); true }
                LayoutNode::Leaf(_) => false,
                LayoutNode::Generic(_, xs) | LayoutNode::Tuple(xs) => xs.iter_mut().any(change),
                LayoutNode::Array(x, _) => change(x),
                LayoutNode::Struct(fs) | LayoutNode::Enum(fs) => fs.iter_mut().any(|(_, x)| change(x)),
            }
        }
        let mut b = a.clone();
        if change(&mut b) {
            let diff = diff_layouts("M", &a, &b);
            prop_assert_eq!(diff.len(), 1, "{:?}", diff);
            prop_assert!(diff[0].ends_with(": u32 -> i32"), "{:?}", diff);
        }
    }
}
