//! Schema identity: every stored type describes its **archived layout**, recursively.
//!
//! A store records the layout of each model when it is first written and compares it on
//! every open. The description comes from the *type*, never from how a field's type was
//! spelled: `String`, `std::string::String` and a `type Name = String;` alias are one
//! schema, while `Addr { zip: u32 }` and `Addr { zip: i32 }` are two, however deep `Addr`
//! sits inside a model.
//!
//! [`Schema`] is implemented here for the primitives, `std` types and containers that rkyv
//! archives, and derived (`#[derive(NetabaseSchema)]`, added for you to every struct and
//! enum of a `#[netabase_definition_module]`) for user types. Each implementation is a
//! `const` [`Shape`], composed at compile time: describing a model costs nothing at run
//! time until a store is opened.
//!
//! ## What a schema names
//!
//! The principle is *the archived type, structurally*:
//!
//! * primitives by their archived form (`usize` is archived as 32 bits, so it is `u32`;
//!   `VecDeque<T>` is archived as a `Vec<T>`, so it is `vec<T>`);
//! * containers by the archived container (`String` is `string`, `Box<str>` is `box<str>`,
//!   a different archived type with a different layout);
//! * structs by their fields' names and schemas, in declaration order; tuple structs and
//!   tuples by their elements; enums by their variants' names and fields, in order.
//!
//! Names of nested structs and enums are **not** part of the schema (renaming a type, or
//! moving it to another module, does not change a byte); field and variant names are
//! (renaming a field usually changes what it means, and a swap of two same-typed fields is
//! then caught as well).
//!
//! A type rkyv cannot archive has no `Schema`; a field with `#[rkyv(with = W)]` is
//! described as `with::W<inner>`, since the wrapper decides its archived layout.
//!
//! ```
//! use netabase_store::schema::{Schema, layout_text};
//!
//! type Zip = u32;
//! assert_eq!(layout_text(<Vec<Option<Zip>> as Schema>::SHAPE), "vec<option<u32>>");
//! assert_eq!(
//!     layout_text(<std::string::String as Schema>::SHAPE),
//!     layout_text(<String as Schema>::SHAPE),
//! );
//! ```

mod impls;
mod text;
mod version;

pub use text::layout_text;
// The layout parser and differ behind the schema-mismatch messages: public only for this
// workspace's tests (feature `internals`, not covered by semver).
#[cfg(feature = "internals")]
pub use text::{LayoutNode, ParseLayoutError, diff_layouts, parse_layout};
#[cfg(not(feature = "internals"))]
pub(crate) use text::{LayoutNode, diff_layouts, parse_layout};
pub use version::{
    MigrationError, ModelVersion, convert_from, convert_try_from, read_version_exact,
};

/// The archived layout of a stored type, as a `const` tree.
///
/// Build one only through [`Schema`] implementations (derived or hand-written for a type
/// with a hand-written rkyv `Archive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// A primitive or an opaque archived type: `u32`, `bool`, `string`.
    Leaf(&'static str),
    /// A container of other types: `vec<T>`, `option<T>`, `hashmap<K,V>`.
    Generic(&'static str, &'static [&'static Shape]),
    /// A fixed-size array `[T; N]`.
    Array(&'static Shape, usize),
    /// A tuple, a tuple struct, or (with no elements) `()` and unit structs.
    Tuple(&'static [&'static Shape]),
    /// A struct with named fields, in declaration order.
    Struct(&'static [Field]),
    /// An enum: its variants, in declaration order (rkyv archives the variant's index).
    Enum(&'static [Variant]),
}

/// A named field of a [`Shape::Struct`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field {
    /// The field's name.
    pub name: &'static str,
    /// The field's archived layout.
    pub shape: &'static Shape,
}

/// A variant of a [`Shape::Enum`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// The variant's name.
    pub name: &'static str,
    /// Its fields: a [`Shape::Struct`] for `V { .. }`, a [`Shape::Tuple`] for `V(..)` and
    /// an empty tuple for a unit variant.
    pub shape: &'static Shape,
}

/// A type whose archived layout is known: what a store records and checks.
///
/// Derive it with `#[derive(NetabaseSchema)]` (a definition module adds the derive to each
/// of its structs and enums); implement it by hand only for a type whose rkyv `Archive` is
/// hand-written, describing what that implementation archives.
pub trait Schema {
    /// The archived layout.
    const SHAPE: &'static Shape;
}

/// A 64-bit FNV-1a hash of a shape, computable at compile time (the definition
/// fingerprint is built from it).
pub const fn shape_hash(mut hash: u64, shape: &Shape) -> u64 {
    hash = hash_u64(hash, discriminant(shape));
    match shape {
        Shape::Leaf(name) => hash_str(hash, name),
        Shape::Generic(name, args) => hash_shapes(hash_str(hash, name), args),
        Shape::Array(inner, len) => hash_u64(shape_hash(hash, inner), *len as u64),
        Shape::Tuple(items) => hash_shapes(hash, items),
        Shape::Struct(fields) => {
            let mut i = 0;
            while i < fields.len() {
                hash = hash_str(hash, fields[i].name);
                hash = shape_hash(hash, fields[i].shape);
                i += 1;
            }
            hash_u64(hash, fields.len() as u64)
        }
        Shape::Enum(variants) => {
            let mut i = 0;
            while i < variants.len() {
                hash = hash_str(hash, variants[i].name);
                hash = shape_hash(hash, variants[i].shape);
                i += 1;
            }
            hash_u64(hash, variants.len() as u64)
        }
    }
}

/// Each shape of `shapes` in order, then their count.
const fn hash_shapes(mut hash: u64, shapes: &[&Shape]) -> u64 {
    let mut i = 0;
    while i < shapes.len() {
        hash = shape_hash(hash, shapes[i]);
        i += 1;
    }
    hash_u64(hash, shapes.len() as u64)
}

const fn discriminant(shape: &Shape) -> u64 {
    match shape {
        Shape::Leaf(_) => 1,
        Shape::Generic(..) => 2,
        Shape::Array(..) => 3,
        Shape::Tuple(_) => 4,
        Shape::Struct(_) => 5,
        Shape::Enum(_) => 6,
    }
}

/// FNV-1a over `s`, then a separator (so `["ab", "c"]` and `["a", "bc"]` differ).
pub const fn hash_str(mut hash: u64, s: &str) -> u64 {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash ^= 0xff;
    hash.wrapping_mul(0x0100_0000_01b3)
}

/// FNV-1a over the little-endian bytes of `v`.
pub const fn hash_u64(mut hash: u64, v: u64) -> u64 {
    let bytes = v.to_le_bytes();
    let mut i = 0;
    while i < 8 {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The FNV-1a offset basis: the start of every hash above.
pub const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;
