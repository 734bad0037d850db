//! Macros of `netabase_store`: `#[netabase_definition_module]` and
//! `#[derive(NetabaseModel)]`. Use them through `netabase_store`'s re-exports; the generated
//! code names only paths under `::netabase_store`.
//!
//! This file holds only the entry points. Each macro runs in phases, one module each:
//! `attrs` parses attributes, `analysis` turns a model's fields into its keys (and
//! reports misuse at its span), and the expansion modules write the code: `module` for
//! `#[netabase_definition_module]` and `#[netabase_type]`, `model` for
//! `#[derive(NetabaseModel)]`, `keys` for `#[derive(NetabaseKey)]` and the one generator
//! of a key newtype's impls, `schema` for `#[derive(NetabaseSchema)]` and versions.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analysis;
mod attrs;
mod keys;
mod model;
mod module;
mod schema;

use proc_macro::TokenStream;
use proc_macro2::Span;
use syn::{DeriveInput, Item, ItemMod, parse_macro_input};

use attrs::ModuleArgs;
use keys::{expand_key, krate};
use model::expand_model;
use module::{expand_module, expand_type};

/// Declares a definition: the set of models stored together.
///
/// ```ignore
/// #[netabase_definition_module(BlogDefinition, BlogKeys)]
/// pub mod blog {
///     use netabase_store::NetabaseModel;
///
///     #[derive(NetabaseModel, Clone, Debug)]
///     #[netabase(BlogDefinition)]
///     pub struct User {
///         #[primary_key]
///         pub id: u64,
///         #[secondary_key]
///         pub email: String,
///     }
/// }
/// ```
///
/// Generates, inside the module: `enum BlogDefinition { User(User), .. }` implementing
/// `NetabaseDefinitionTrait`, and `enum BlogKeys { User(UserKeys), .. }`. Adds the rkyv
/// derives (through `netabase_store::rkyv`) to every model that does not derive `Archive`
/// itself.
#[proc_macro_attribute]
pub fn netabase_definition_module(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr as ModuleArgs);
    let module = parse_macro_input!(item as ItemMod);
    match expand_module(args, module) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `NetabaseModelTrait` and the key types of a model.
///
/// Field attributes: `#[primary_key]` (exactly one), `#[secondary_key]` and
/// `#[secondary_key(unique)]` (any number). The struct must be declared inside a
/// `#[netabase_definition_module]` module and name its definition with
/// `#[netabase(Definition)]`.
///
/// For `struct User { #[primary_key] id: u64, #[secondary_key] email: String }` it generates
/// `UserPrimaryKey(u64)`, `UserEmailSecondaryKey(String)`,
/// `enum UserSecondaryKeys { Email(UserEmailSecondaryKey) }` and
/// `enum UserKeys { Primary(UserPrimaryKey), Secondary(UserSecondaryKeys) }`.
#[proc_macro_derive(
    NetabaseModel,
    attributes(
        netabase,
        primary_key,
        secondary_key,
        compound_key,
        __netabase_in_module
    )
)]
pub fn derive_netabase_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_model(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Makes a single-field tuple struct (`struct UserId(u64);`) a key: its encoding is the
/// field's, so it orders like the field and can be a primary key, a secondary key, or part
/// of a tuple or compound key.
///
/// The struct must also implement rkyv's `Archive`: inside a `#[netabase_definition_module]`
/// the module macro adds the rkyv derives; elsewhere derive them yourself with
/// `#[rkyv(crate = netabase_store::rkyv)]`. A primary key type needs `Debug`, `Clone`, `Eq`,
/// `Ord` and `Hash` too.
#[proc_macro_derive(NetabaseKey)]
pub fn derive_netabase_key(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_key(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `netabase_store::schema::Schema`: the archived layout of a struct or enum, from
/// its fields' types (so aliases and paths do not matter, and a nested change is seen).
///
/// A `#[netabase_definition_module]` adds it (and the rkyv derives) to every struct and
/// enum it declares; outside one, use `#[netabase_store::netabase_type]`, or derive it next
/// to your own rkyv derives.
#[proc_macro_derive(NetabaseSchema)]
pub fn derive_netabase_schema(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match schema::expand_schema(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Makes a struct or enum declared outside a definition module storable inside models:
/// adds the rkyv derives (through `netabase_store::rkyv`, with an archived `Debug` when the
/// type derives `Debug`) and `#[derive(NetabaseSchema)]`, as a definition module does for
/// the types it declares.
///
/// ```ignore
/// #[netabase_store::netabase_type]
/// #[derive(Clone, Debug, PartialEq)]
/// pub struct Address { pub street: String, pub zip: u32 }
/// ```
#[proc_macro_attribute]
pub fn netabase_type(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "`#[netabase_type]` takes no arguments")
            .to_compile_error()
            .into();
    }
    let item = parse_macro_input!(item as Item);
    match expand_type(item) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}
