//! [`Schema`] for primitives, `std` types and the containers rkyv archives.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::marker::PhantomData;
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroU8, NonZeroU16, NonZeroU32,
    NonZeroU64, NonZeroU128,
};
use std::rc::Rc;
use std::sync::Arc;

use super::{Schema, Shape};

macro_rules! leaf {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(impl Schema for $ty {
            const SHAPE: &'static Shape = &Shape::Leaf($name);
        })*
    };
}

leaf! {
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64", u128 => "u128",
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64", i128 => "i128",
    // The archive format has 32-bit pointers: rkyv archives `usize`/`isize` as 32 bits,
    // byte for byte the same as `u32`/`i32`.
    usize => "u32", isize => "i32",
    f32 => "f32", f64 => "f64", bool => "bool", char => "char",
    NonZeroU8 => "nonzero_u8", NonZeroU16 => "nonzero_u16", NonZeroU32 => "nonzero_u32",
    NonZeroU64 => "nonzero_u64", NonZeroU128 => "nonzero_u128",
    NonZeroI8 => "nonzero_i8", NonZeroI16 => "nonzero_i16", NonZeroI32 => "nonzero_i32",
    NonZeroI64 => "nonzero_i64", NonZeroI128 => "nonzero_i128",
    String => "string", str => "str",
}

impl<T: ?Sized> Schema for PhantomData<T> {
    const SHAPE: &'static Shape = &Shape::Leaf("phantom");
}

macro_rules! one_arg {
    ($($name:literal: $ty:ident $(: ?$unsized:ident)?;)*) => {
        $(impl<T: Schema $(+ ?$unsized)?> Schema for $ty<T> {
            const SHAPE: &'static Shape = &Shape::Generic($name, &[T::SHAPE]);
        })*
    };
}

one_arg! {
    "box": Box: ?Sized;
    "rc": Rc: ?Sized;
    "rc": Arc: ?Sized;
    "vec": Vec;
    // rkyv archives a `VecDeque<T>` as an `ArchivedVec<T>`.
    "vec": VecDeque;
    "option": Option;
    "btreeset": BTreeSet;
}

impl<K: Schema, S> Schema for HashSet<K, S> {
    const SHAPE: &'static Shape = &Shape::Generic("hashset", &[K::SHAPE]);
}

impl<K: Schema, V: Schema> Schema for BTreeMap<K, V> {
    const SHAPE: &'static Shape = &Shape::Generic("btreemap", &[K::SHAPE, V::SHAPE]);
}

impl<K: Schema, V: Schema, S> Schema for HashMap<K, V, S> {
    const SHAPE: &'static Shape = &Shape::Generic("hashmap", &[K::SHAPE, V::SHAPE]);
}

impl<T: Schema, E: Schema> Schema for Result<T, E> {
    const SHAPE: &'static Shape = &Shape::Generic("result", &[T::SHAPE, E::SHAPE]);
}

impl<T: Schema> Schema for [T] {
    const SHAPE: &'static Shape = &Shape::Generic("slice", &[T::SHAPE]);
}

impl<T: Schema, const N: usize> Schema for [T; N] {
    const SHAPE: &'static Shape = &Shape::Array(T::SHAPE, N);
}

impl Schema for () {
    const SHAPE: &'static Shape = &Shape::Tuple(&[]);
}

macro_rules! tuple {
    ($($t:ident),+) => {
        impl<$($t: Schema),+> Schema for ($($t,)+) {
            const SHAPE: &'static Shape = &Shape::Tuple(&[$($t::SHAPE),+]);
        }
    };
}

tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
tuple!(A, B, C, D, E);
tuple!(A, B, C, D, E, F);
tuple!(A, B, C, D, E, F, G);
tuple!(A, B, C, D, E, F, G, H);
tuple!(A, B, C, D, E, F, G, H, I);
tuple!(A, B, C, D, E, F, G, H, I, J);
tuple!(A, B, C, D, E, F, G, H, I, J, K);
tuple!(A, B, C, D, E, F, G, H, I, J, K, L);
