//! Macros of `netabase_store`: `#[netabase_definition_module]` and
//! `#[derive(NetabaseModel)]`. Use them through `netabase_store`'s re-exports; the generated
//! code names only paths under `::netabase_store`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod schema;

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Fields, Ident, Item, ItemMod, ItemStruct, Meta, Path, Token,
    Type, parse_macro_input, parse_quote,
};

/// Marker the module macro adds to every model it processed; the derive requires it.
const IN_MODULE: &str = "__netabase_in_module";

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

fn expand_key(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = crate::krate();
    let name = &input.ident;
    let error = || {
        syn::Error::new(
            name.span(),
            "`NetabaseKey` is for a tuple struct with exactly one field, like `struct UserId(u64);`",
        )
    };
    let Data::Struct(data) = &input.data else {
        return Err(error());
    };
    let Fields::Unnamed(fields) = &data.fields else {
        return Err(error());
    };
    let (Some(field), 1) = (fields.unnamed.first(), fields.unnamed.len()) else {
        return Err(error());
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "`NetabaseKey` does not support generics",
        ));
    }
    let ty = &field.ty;
    reject_non_key_type(ty)?;
    let key = quote!(#krate::__private::Key);
    let key_args = key_arg_impls(&krate, name, ty);
    Ok(quote! {
        impl #key for #name {
            #[inline]
            fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                <#ty as #key>::encode_key(&self.0, out)
            }
            #[inline]
            fn encode_archived_key(
                archived: &<Self as #krate::rkyv::Archive>::Archived,
                out: &mut ::std::vec::Vec<u8>,
            ) {
                <#ty as #key>::encode_archived_key(&archived.0, out)
            }
            #[inline]
            fn decode_key(
                input: &mut &[u8],
            ) -> ::core::result::Result<Self, #krate::key::KeyDecodeError> {
                <#ty as #key>::decode_key(input).map(#name)
            }
            #[inline]
            fn skip_key(
                input: &mut &[u8],
            ) -> ::core::result::Result<(), #krate::key::KeyDecodeError> {
                <#ty as #key>::skip_key(input)
            }
        }

        impl #krate::__private::KeyNewtype for #name {
            type Inner = #ty;
        }

        #key_args

        impl #krate::key::KeyPrefix<#name> for #name {
            fn encode_prefix(&self, out: &mut ::std::vec::Vec<u8>) {
                <Self as #key>::encode_key(self, out)
            }
        }
    })
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
    let mut item = parse_macro_input!(item as Item);
    let Some(attrs) = item_attrs(&mut item) else {
        return syn::Error::new(
            Span::call_site(),
            "`#[netabase_type]` goes on a struct or an enum",
        )
        .to_compile_error()
        .into();
    };
    let paths = derives(attrs);
    add_rkyv_derives(attrs, &paths);
    add_schema_derive(attrs, &paths);
    quote!(#item).into()
}

fn item_attrs(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    match item {
        Item::Struct(s) => Some(&mut s.attrs),
        Item::Enum(e) => Some(&mut e.attrs),
        _ => None,
    }
}

struct ModuleArgs {
    definition: Ident,
    keys: Ident,
}

impl Parse for ModuleArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let idents = Punctuated::<Ident, Token![,]>::parse_terminated(input)?;
        let mut it = idents.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(definition), Some(keys), None) => Ok(ModuleArgs { definition, keys }),
            _ => Err(syn::Error::new(
                Span::call_site(),
                "expected `#[netabase_definition_module(DefinitionName, KeysName)]`",
            )),
        }
    }
}

fn derives(attrs: &[Attribute]) -> Vec<Path> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

fn derives_named(paths: &[Path], name: &str) -> bool {
    paths
        .iter()
        .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
}

fn expand_module(args: ModuleArgs, mut module: ItemMod) -> syn::Result<TokenStream2> {
    let krate = crate::krate();
    let ModuleArgs { definition, keys } = args;
    let Some((_, items)) = module.content.as_mut() else {
        return Err(syn::Error::new(
            module.ident.span(),
            "`#[netabase_definition_module]` needs an inline module (`mod name { .. }`)",
        ));
    };
    let mut models: Vec<(Ident, Vec<Path>)> = Vec::new();
    let mut versions = Vec::new();
    let mut invalid = false;
    for item in items.iter_mut() {
        let ident = match item {
            Item::Struct(s) => s.ident.clone(),
            Item::Enum(e) => e.ident.clone(),
            _ => continue,
        };
        let Some(attrs) = item_attrs(item) else {
            continue;
        };
        let paths = derives(attrs);
        if derives_named(&paths, "NetabaseModel") {
            let Item::Struct(s) = item else {
                return Err(syn::Error::new(
                    ident.span(),
                    "`NetabaseModel` can only be derived for structs",
                ));
            };
            check_definition_attr(s, &definition)?;
            add_rkyv_derives(&mut s.attrs, &paths);
            add_schema_derive(&mut s.attrs, &paths);
            s.attrs.push(parse_quote!(#[__netabase_in_module]));
            if analyze_fields(&s.ident, &s.attrs, &s.fields).is_err() {
                // The derive reports the error on the model itself; generating the definition
                // on top of a model with no implementation would only add noise.
                invalid = true;
            }
            models.push((s.ident.clone(), paths));
            continue;
        }
        // Any other struct or enum is a type stored inside models (or an earlier version
        // of a model), unless it says `#[netabase(skip)]`.
        let options = schema::netabase_attr(attrs)?;
        if let Some(def) = &options.definition {
            return Err(syn::Error::new(
                def.span(),
                format!(
                    "`{ident}` is not a model: `#[netabase(..)]` on other types takes \
                     `version = N`, `from = Previous` or `skip`"
                ),
            ));
        }
        attrs.retain(|a| !a.path().is_ident("netabase"));
        if options.skip {
            continue;
        }
        add_rkyv_derives(attrs, &paths);
        add_schema_derive(attrs, &paths);
        if let Some(version) = options.version {
            versions.push(schema::version_impl(&ident, version, options.from.as_ref()));
        }
    }
    if invalid {
        return Ok(quote!(#module));
    }
    if models.is_empty() {
        return Err(syn::Error::new(
            module.ident.span(),
            "this definition module declares no `#[derive(NetabaseModel)]` struct",
        ));
    }

    let names: Vec<&Ident> = models.iter().map(|(n, _)| n).collect();
    let name_strs: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let model_keys: Vec<Ident> = names.iter().map(|n| format_ident!("{}Keys", n)).collect();
    let all = |d: &str| models.iter().all(|(_, p)| derives_named(p, d));
    let mut def_derives = Vec::new();
    for d in ["Debug", "Clone", "PartialEq"] {
        if all(d) {
            def_derives.push(Ident::new(d, Span::call_site()));
        }
    }
    let def_name = definition.to_string();
    let generated = quote! {
        /// The models of this definition, one variant per model.
        #[derive(#(#def_derives),*)]
        pub enum #definition {
            #(
                #[doc = concat!("A `", #name_strs, "` record.")]
                #names(#names),
            )*
        }

        /// The keys of every model of this definition.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #keys {
            #(
                #[doc = concat!("A key of a `", #name_strs, "`.")]
                #names(#model_keys),
            )*
        }

        impl #krate::__private::NetabaseDefinitionTrait for #definition {
            const NAME: &'static str = #def_name;
            const MODELS: &'static [&'static #krate::__private::ModelInfo] = &[
                #(<#names as #krate::__private::NetabaseModelTrait>::INFO),*
            ];
            const FINGERPRINT: u64 = #krate::__private::fingerprint(
                #def_name,
                Self::MODELS,
            );

            fn visit_models<V: #krate::__private::ModelVisitor<Self>>(
                visitor: &mut V,
            ) -> #krate::Result<()> {
                #(visitor.visit::<#names>()?;)*
                ::core::result::Result::Ok(())
            }
        }

        #(
            impl ::core::convert::From<#names> for #definition {
                fn from(model: #names) -> Self {
                    #definition::#names(model)
                }
            }

            impl ::core::convert::TryFrom<#definition> for #names {
                type Error = #definition;
                #[allow(unreachable_patterns)]
                fn try_from(value: #definition) -> ::core::result::Result<Self, #definition> {
                    match value {
                        #definition::#names(model) => ::core::result::Result::Ok(model),
                        other => ::core::result::Result::Err(other),
                    }
                }
            }

            impl ::core::convert::From<#model_keys> for #keys {
                fn from(key: #model_keys) -> Self {
                    #keys::#names(key)
                }
            }
        )*
    };
    items.push(Item::Verbatim(generated));
    items.push(Item::Verbatim(quote!(#(#versions)*)));
    Ok(quote!(#module))
}

/// Adds the rkyv derives (through `netabase_store`'s re-export) unless the struct derives
/// `Archive` itself.
fn add_rkyv_derives(attrs: &mut Vec<Attribute>, paths: &[Path]) {
    let krate = crate::krate();
    if derives_named(paths, "Archive") {
        return;
    }
    attrs.push(parse_quote!(#[derive(
        #krate::rkyv::Archive,
        #krate::rkyv::Serialize,
        #krate::rkyv::Deserialize
    )]));
    if derives_named(paths, "Debug") {
        attrs.push(parse_quote!(#[rkyv(crate = #krate::rkyv, derive(Debug))]));
    } else {
        attrs.push(parse_quote!(#[rkyv(crate = #krate::rkyv)]));
    }
}

/// Adds `#[derive(NetabaseSchema)]` unless the type derives it itself.
fn add_schema_derive(attrs: &mut Vec<Attribute>, paths: &[Path]) {
    let krate = crate::krate();
    if !derives_named(paths, "NetabaseSchema") {
        attrs.push(parse_quote!(#[derive(#krate::NetabaseSchema)]));
    }
}

/// `#[netabase(X)]` must name the module's definition (it may be omitted).
fn check_definition_attr(s: &ItemStruct, definition: &Ident) -> syn::Result<()> {
    let options = schema::netabase_attr(&s.attrs)?;
    if options.skip {
        return Err(syn::Error::new(
            s.ident.span(),
            "a model cannot be `skip`ped: remove `#[derive(NetabaseModel)]` instead",
        ));
    }
    if let Some(named) = options.definition
        && !named.is_ident(definition)
    {
        return Err(syn::Error::new(
            named.span(),
            format!(
                "`{}` is declared in the module of `{definition}`, so it belongs to \
                     `{definition}`; write `#[netabase({definition})]` or move it into the \
                     module of its definition",
                s.ident
            ),
        ));
    }
    Ok(())
}

struct KeyField {
    ident: Ident,
    ty: Type,
}

/// How a secondary key's index entries come from the record.
enum SkKind {
    /// One entry holding the field's value.
    Plain(Ident),
    /// An `Option<T>` field: one entry for `Some(v)`, none for `None`.
    Optional(Ident),
    /// A `Vec<T>` field (T != u8): one entry per element.
    Multi(Ident),
    /// Several fields: one entry holding the tuple of their values.
    Compound(Vec<KeyField>),
}

struct SecondaryKey {
    /// The field's name, or the compound key's name.
    name: String,
    /// The variant and newtype stem (`Email`, `AuthorDate`).
    variant: Ident,
    /// The key type a lookup takes (`String` for `Option<String>` / `Vec<String>` fields,
    /// a tuple for compound keys).
    key_ty: Type,
    kind: SkKind,
    unique: bool,
    /// The byte prefixing its index entries.
    tag: u8,
    span: Span,
}

/// `Option<T>` → `Some(T)`, for any single-argument generic named `wrapper`.
fn generic_arg<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

fn is_u8(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.path.is_ident("u8"))
}

/// `#[compound_key(AuthorDate = (author_id, created_at))]`, optionally `, unique`.
struct CompoundAttr {
    name: Ident,
    fields: Vec<Ident>,
    options: KeyOptions,
}

/// The options of a secondary key: `unique` and `tag = N`, in any order.
#[derive(Default)]
struct KeyOptions {
    unique: bool,
    tag: Option<(u8, Span)>,
}

impl Parse for KeyOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut out = KeyOptions::default();
        while !input.is_empty() {
            let opt: Ident = input.parse()?;
            if opt == "unique" {
                out.unique = true;
            } else if opt == "tag" {
                input.parse::<Token![=]>()?;
                let lit: syn::LitInt = input.parse()?;
                out.tag = Some((lit.base10_parse()?, lit.span()));
            } else {
                return Err(syn::Error::new(
                    opt.span(),
                    "unknown secondary key option; expected `unique` or `tag = N`",
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(out)
    }
}

impl Parse for CompoundAttr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let content;
        syn::parenthesized!(content in input);
        let fields = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        let options = if input.parse::<Option<Token![,]>>()?.is_some() {
            input.parse()?
        } else {
            KeyOptions::default()
        };
        Ok(CompoundAttr {
            name,
            fields,
            options,
        })
    }
}

fn has_attr<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.path().is_ident(name))
}

fn to_pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `author_id` / `AuthorYear` → `AUTHOR_ID` / `AUTHOR_YEAR`.
fn to_screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 && !out.ends_with('_') {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

fn type_text(ty: &Type) -> String {
    quote!(#ty)
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The keys of a model, with every misuse reported at its span.
struct Analysis {
    primary: KeyField,
    secondary: Vec<SecondaryKey>,
}

/// Types that look like keys but are not: reported with a reason, instead of a wall of
/// unsatisfied-bound errors.
fn reject_non_key_type(ty: &Type) -> syn::Result<()> {
    let Type::Path(path) = ty else { return Ok(()) };
    let Some(last) = path.path.segments.last() else {
        return Ok(());
    };
    let reason = match last.ident.to_string().as_str() {
        "f32" | "f64" => {
            "floating-point numbers have no total order (NaN, -0.0), so they \
                          cannot be keys; store them scaled as an integer, or wrap them in a \
                          type with a total order that implements `netabase_store::key::Key`"
        }
        "usize" | "isize" => {
            "`usize`/`isize` are archived as 32 bits, so large values would \
                              not round-trip; use `u64`/`i64`"
        }
        "HashMap" | "HashSet" | "BTreeMap" | "BTreeSet" => "collections cannot be keys",
        _ => return Ok(()),
    };
    Err(syn::Error::new(
        ty.span(),
        format!("`{}` cannot be a key: {reason}", type_text(ty)),
    ))
}

fn secondary_option(attr: &Attribute) -> syn::Result<KeyOptions> {
    match &attr.meta {
        Meta::Path(_) => Ok(KeyOptions::default()),
        Meta::List(list) => list.parse_args(),
        Meta::NameValue(nv) => Err(syn::Error::new(
            nv.span(),
            "expected `#[secondary_key]` or `#[secondary_key(unique, tag = N)]`",
        )),
    }
}

fn analyze_fields(name: &Ident, attrs: &[Attribute], fields: &Fields) -> syn::Result<Analysis> {
    let Fields::Named(fields) = fields else {
        return Err(syn::Error::new(
            name.span(),
            "`NetabaseModel` needs a struct with named fields",
        ));
    };
    let mut primary: Option<KeyField> = None;
    let mut secondary: Vec<SecondaryKey> = Vec::new();
    // Explicit tags, checked against each other and the positional tags of the others
    // once every key is known.
    let mut explicit: Vec<Option<(u8, Span)>> = Vec::new();
    for field in &fields.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new(field.span(), "unnamed field"))?;
        if let Some(attr) = has_attr(&field.attrs, "primary_key") {
            if !matches!(attr.meta, Meta::Path(_)) {
                return Err(syn::Error::new(
                    attr.span(),
                    "`#[primary_key]` takes no arguments",
                ));
            }
            if let Some(first) = &primary {
                return Err(syn::Error::new(
                    attr.path().span(),
                    format!(
                        "`{name}` has two primary keys: `{}` is already the primary key",
                        first.ident
                    ),
                ));
            }
            if has_attr(&field.attrs, "secondary_key").is_some() {
                return Err(syn::Error::new(
                    attr.path().span(),
                    "a field cannot be both the primary key and a secondary key",
                ));
            }
            reject_non_key_type(&field.ty)?;
            primary = Some(KeyField {
                ident: ident.clone(),
                ty: field.ty.clone(),
            });
        }
        if let Some(attr) = has_attr(&field.attrs, "secondary_key") {
            let KeyOptions { unique, tag } = secondary_option(attr)?;
            let (kind, key_ty) = if let Some(inner) = generic_arg(&field.ty, "Option") {
                (SkKind::Optional(ident.clone()), inner.clone())
            } else if let Some(inner) = generic_arg(&field.ty, "Vec").filter(|t| !is_u8(t)) {
                (SkKind::Multi(ident.clone()), inner.clone())
            } else {
                (SkKind::Plain(ident.clone()), field.ty.clone())
            };
            reject_non_key_type(&key_ty)?;
            explicit.push(tag);
            secondary.push(SecondaryKey {
                tag: 0,
                name: ident.to_string(),
                variant: format_ident!("{}", to_pascal(&ident.to_string()), span = ident.span()),
                key_ty,
                kind,
                unique,
                span: ident.span(),
            });
        }
    }
    for attr in attrs.iter().filter(|a| a.path().is_ident("compound_key")) {
        let c: CompoundAttr = attr.parse_args()?;
        if c.fields.is_empty() || c.fields.len() > 6 {
            return Err(syn::Error::new(
                c.name.span(),
                "a compound key combines 1 to 6 fields: `#[compound_key(Name = (field_a, field_b))]`",
            ));
        }
        let mut parts = Vec::new();
        for f in &c.fields {
            let Some(field) = fields.named.iter().find(|x| x.ident.as_ref() == Some(f)) else {
                return Err(syn::Error::new(
                    f.span(),
                    format!("`{name}` has no field `{f}`"),
                ));
            };
            if parts.iter().any(|p: &KeyField| &p.ident == f) {
                return Err(syn::Error::new(
                    f.span(),
                    format!("field `{f}` appears twice"),
                ));
            }
            reject_non_key_type(&field.ty)?;
            parts.push(KeyField {
                ident: f.clone(),
                ty: field.ty.clone(),
            });
        }
        if secondary.iter().any(|k| k.variant == c.name) {
            return Err(syn::Error::new(
                c.name.span(),
                format!("`{name}` already has a secondary key named `{}`", c.name),
            ));
        }
        let types = parts.iter().map(|p| &p.ty);
        let key_ty: Type = parse_quote!((#(#types,)*));
        explicit.push(c.options.tag);
        secondary.push(SecondaryKey {
            tag: 0,
            name: c.name.to_string(),
            variant: c.name.clone(),
            key_ty,
            kind: SkKind::Compound(parts),
            unique: c.options.unique,
            span: c.name.span(),
        });
    }
    if secondary.len() > usize::from(u8::MAX) {
        return Err(syn::Error::new(
            name.span(),
            "a model can have at most 255 secondary keys",
        ));
    }
    assign_tags(&mut secondary, &explicit)?;
    let Some(primary) = primary else {
        return Err(syn::Error::new(
            name.span(),
            format!("`{name}` has no primary key: mark one field `#[primary_key]`"),
        ));
    };
    Ok(Analysis { primary, secondary })
}

/// Gives each key its explicit `tag = N`, or else its position among the keys; two keys
/// with one tag are an error at the second.
fn assign_tags(keys: &mut [SecondaryKey], explicit: &[Option<(u8, Span)>]) -> syn::Result<()> {
    for (i, key) in keys.iter_mut().enumerate() {
        key.tag = match explicit.get(i).copied().flatten() {
            Some((tag, _)) => tag,
            None => u8::try_from(i).unwrap_or(u8::MAX),
        };
    }
    for (i, key) in keys.iter().enumerate() {
        if let Some(first) = keys.iter().take(i).find(|k| k.tag == key.tag) {
            let span = explicit
                .get(i)
                .copied()
                .flatten()
                .map_or(key.span, |(_, span)| span);
            return Err(syn::Error::new(
                span,
                format!(
                    "secondary keys `{}` and `{}` both have tag {}: give one of them another \
                     `tag = N` (tags number a model's index entries and must stay unique)",
                    first.name, key.name, key.tag
                ),
            ));
        }
    }
    Ok(())
}

fn expand_model(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = crate::krate();
    let name = &input.ident;
    if has_attr(&input.attrs, IN_MODULE).is_none() {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "`{name}` derives `NetabaseModel` outside a definition: declare it inside a \
                 `#[netabase_definition_module(Definition, Keys)]` module"
            ),
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "`NetabaseModel` does not support generic models",
        ));
    }
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        _ => {
            return Err(syn::Error::new(
                name.span(),
                "`NetabaseModel` can only be derived for structs",
            ));
        }
    };
    let options = schema::netabase_attr(&input.attrs)?;
    let Some(definition) = options.definition.clone() else {
        return Err(syn::Error::new(
            name.span(),
            format!("`{name}` needs `#[netabase(Definition)]` naming its definition"),
        ));
    };
    let version = options.version.unwrap_or(1);
    let version_impl = schema::version_impl(name, version, options.from.as_ref());
    let Analysis { primary, secondary } = analyze_fields(name, &input.attrs, fields)?;

    let vis = &input.vis;
    let name_str = name.to_string();
    let index_table = format!("{name}.idx");
    let pk_name = format_ident!("{}PrimaryKey", name);
    let sk_enum = format_ident!("{}SecondaryKeys", name);
    let keys_enum = format_ident!("{}Keys", name);
    let pk_field = &primary.ident;
    let pk_ty = &primary.ty;

    // Every key type must implement `Key`; the error points at the field's type.
    let key_types = std::iter::once(pk_ty).chain(secondary.iter().flat_map(|k| match &k.kind {
        SkKind::Compound(parts) => parts.iter().map(|p| &p.ty).collect::<Vec<_>>(),
        _ => vec![&k.key_ty],
    }));
    let key_asserts = key_types.map(|ty| {
        quote_spanned! {ty.span()=>
            const _: fn() = {
                fn assert_key<K: #krate::__private::Key>() {}
                assert_key::<#ty>
            };
        }
    });

    let key_newtype = |newtype: &Ident, ty: &Type, doc: String| {
        let key_args = key_arg_impls(&krate, newtype, ty);
        quote! {
            #[doc = #doc]
            #[derive(
                Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash,
                #krate::rkyv::Archive,
                #krate::rkyv::Serialize,
                #krate::rkyv::Deserialize
            )]
            #[rkyv(crate = #krate::rkyv)]
            #vis struct #newtype(pub #ty);

            impl #krate::__private::Key for #newtype {
                #[inline]
                fn encode_key(&self, out: &mut ::std::vec::Vec<u8>) {
                    <#ty as #krate::__private::Key>::encode_key(&self.0, out)
                }
                #[inline]
                fn encode_archived_key(
                    archived: &<Self as #krate::rkyv::Archive>::Archived,
                    out: &mut ::std::vec::Vec<u8>,
                ) {
                    <#ty as #krate::__private::Key>::encode_archived_key(&archived.0, out)
                }
                #[inline]
                fn decode_key(
                    input: &mut &[u8],
                ) -> ::core::result::Result<Self, #krate::key::KeyDecodeError> {
                    <#ty as #krate::__private::Key>::decode_key(input).map(#newtype)
                }
                #[inline]
                fn skip_key(
                    input: &mut &[u8],
                ) -> ::core::result::Result<(), #krate::key::KeyDecodeError> {
                    <#ty as #krate::__private::Key>::skip_key(input)
                }
            }

            impl #krate::__private::KeyNewtype for #newtype {
                type Inner = #ty;
            }

            #key_args

            impl ::core::convert::From<#ty> for #newtype {
                fn from(value: #ty) -> Self {
                    #newtype(value)
                }
            }
        }
    };

    let pk_newtype = key_newtype(&pk_name, pk_ty, format!("The primary key of a `{name}`."));
    let sk_newtypes: Vec<Ident> = secondary
        .iter()
        .map(|k| format_ident!("{}{}SecondaryKey", name, k.variant, span = k.span))
        .collect();
    let sk_variants: Vec<&Ident> = secondary.iter().map(|k| &k.variant).collect();
    let sk_defs = secondary.iter().zip(&sk_newtypes).map(|(k, n)| {
        key_newtype(
            n,
            &k.key_ty,
            format!("The `{}` secondary key of a `{name}`.", k.name),
        )
    });
    let sk_tags: Vec<u8> = secondary.iter().map(|k| k.tag).collect();
    let sk_kinds: Vec<TokenStream2> = secondary
        .iter()
        .map(|k| {
            let kind = match k.kind {
                SkKind::Plain(_) => quote!(Plain),
                SkKind::Optional(_) => quote!(Optional),
                SkKind::Multi(_) => quote!(Multi),
                SkKind::Compound(_) => quote!(Compound),
            };
            quote!(#krate::__private::KeyKind::#kind)
        })
        .collect();
    let sk_fields: Vec<Vec<String>> = secondary
        .iter()
        .map(|k| match &k.kind {
            SkKind::Plain(f) | SkKind::Optional(f) | SkKind::Multi(f) => vec![f.to_string()],
            SkKind::Compound(parts) => parts.iter().map(|p| p.ident.to_string()).collect(),
        })
        .collect();
    let pk_field_name = pk_field.to_string();
    let sk_consts: Vec<Ident> = secondary
        .iter()
        .map(|k| format_ident!("{}", to_screaming(&k.name), span = k.span))
        .collect();
    let sk_consts_str: Vec<String> = sk_consts.iter().map(|c| c.to_string()).collect();
    let sk_uniques: Vec<bool> = secondary.iter().map(|k| k.unique).collect();
    let sk_names: Vec<String> = secondary.iter().map(|k| k.name.clone()).collect();

    let key_path = quote!(#krate::__private::Key);
    let mut push_owned = Vec::new();
    let mut push_archived = Vec::new();
    let mut collect_keys = Vec::new();
    for (i, k) in secondary.iter().enumerate() {
        let (tag, unique, ty) = (sk_tags[i], k.unique, &k.key_ty);
        let (variant, newtype) = (&k.variant, &sk_newtypes[i]);
        let wrap = |inner: TokenStream2| quote!(#sk_enum::#variant(#newtype(#inner)));
        match &k.kind {
            SkKind::Plain(f) => {
                push_owned.push(quote!(entries.push::<#ty>(#tag, #unique, &self.#f);));
                push_archived
                    .push(quote!(entries.push_archived::<#ty>(#tag, #unique, &archived.#f);));
                let key = wrap(quote!(::core::clone::Clone::clone(&self.#f)));
                collect_keys.push(quote!(keys.push(#key);));
            }
            SkKind::Optional(f) => {
                push_owned.push(quote! {
                    if let ::core::option::Option::Some(value) = &self.#f {
                        entries.push::<#ty>(#tag, #unique, value);
                    }
                });
                push_archived.push(quote! {
                    if let #krate::rkyv::option::ArchivedOption::Some(value) = &archived.#f {
                        entries.push_archived::<#ty>(#tag, #unique, value);
                    }
                });
                let key = wrap(quote!(::core::clone::Clone::clone(value)));
                collect_keys.push(quote! {
                    if let ::core::option::Option::Some(value) = &self.#f {
                        keys.push(#key);
                    }
                });
            }
            SkKind::Multi(f) => {
                push_owned.push(quote! {
                    for value in self.#f.iter() {
                        entries.push::<#ty>(#tag, #unique, value);
                    }
                });
                push_archived.push(quote! {
                    for value in archived.#f.iter() {
                        entries.push_archived::<#ty>(#tag, #unique, value);
                    }
                });
                let key = wrap(quote!(::core::clone::Clone::clone(value)));
                collect_keys.push(quote! {
                    for value in self.#f.iter() {
                        keys.push(#key);
                    }
                });
            }
            SkKind::Compound(parts) => {
                let fs: Vec<&Ident> = parts.iter().map(|p| &p.ident).collect();
                let ts: Vec<&Type> = parts.iter().map(|p| &p.ty).collect();
                push_owned.push(quote! {
                    entries.push_encoded(#tag, #unique, |out| {
                        #(<#ts as #key_path>::encode_key(&self.#fs, out);)*
                    });
                });
                push_archived.push(quote! {
                    entries.push_encoded(#tag, #unique, |out| {
                        #(<#ts as #key_path>::encode_archived_key(&archived.#fs, out);)*
                    });
                });
                let key = wrap(quote!((#(::core::clone::Clone::clone(&self.#fs),)*)));
                collect_keys.push(quote!(keys.push(#key);));
            }
        }
    }

    Ok(quote! {
        #(#key_asserts)*

        // Backends hand out values at any offset inside their pages; the pinned archive
        // format (unaligned) makes that safe only if every archived model has alignment 1.
        const _: () = ::core::assert!(
            ::core::mem::align_of::<<#name as #krate::rkyv::Archive>::Archived>() == 1,
            "the archived model must have alignment 1 (netabase_store's pinned rkyv format)"
        );

        #version_impl

        #pk_newtype
        #(#sk_defs)*

        #[doc = concat!("The secondary keys of a `", #name_str, "`, one variant per `#[secondary_key]` field and `#[compound_key]`.")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #vis enum #sk_enum {
            #(
                #[doc = concat!("The `", #sk_names, "` key.")]
                #sk_variants(#sk_newtypes),
            )*
        }

        #(
            impl ::core::convert::From<#sk_newtypes> for #sk_enum {
                fn from(key: #sk_newtypes) -> Self {
                    #sk_enum::#sk_variants(key)
                }
            }

            impl #krate::__private::SecondaryKey<#name> for #sk_newtypes {
                const TAG: u8 = #sk_tags;
            }

            impl #krate::__private::SecondaryLookup<#name> for #sk_newtypes {
                #[inline]
                fn lookup_tag(&self) -> u8 {
                    #sk_tags
                }
                #[inline]
                fn encode_lookup_value(&self, out: &mut ::std::vec::Vec<u8>) {
                    #krate::__private::Key::encode_key(self, out)
                }
            }
        )*

        impl #krate::__private::SecondaryLookup<#name> for #sk_enum {
            #[inline]
            fn lookup_tag(&self) -> u8 {
                #krate::__private::SecondaryKeyEnum::tag(self)
            }
            #[inline]
            fn encode_lookup_value(&self, out: &mut ::std::vec::Vec<u8>) {
                #krate::__private::SecondaryKeyEnum::encode_value(self, out)
            }
        }

        #[allow(missing_docs)]
        impl #name {
            #(
                #[doc = concat!("The `", #sk_names, "` secondary key, for `tree.get_by(", #name_str, "::", #sk_consts_str, ", value)`.")]
                #vis const #sk_consts: #krate::__private::KeyField<#sk_newtypes> = #krate::__private::KeyField::new();
            )*
        }

        impl #krate::__private::SecondaryKeyEnum for #sk_enum {
            #[inline]
            fn tag(&self) -> u8 {
                match *self {
                    #(#sk_enum::#sk_variants(_) => #sk_tags,)*
                }
            }
            #[inline]
            fn encode_value(&self, out: &mut ::std::vec::Vec<u8>) {
                match *self {
                    #(#sk_enum::#sk_variants(ref key) => #krate::__private::Key::encode_key(key, out),)*
                }
            }
        }

        #[doc = concat!("A primary or secondary key of a `", #name_str, "`.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #vis enum #keys_enum {
            /// The primary key.
            Primary(#pk_name),
            /// A secondary key.
            Secondary(#sk_enum),
        }

        impl #krate::__private::NetabaseModelTrait for #name {
            type Definition = #definition;
            type PrimaryKey = #pk_name;
            type SecondaryKeys = #sk_enum;
            const INFO: &'static #krate::__private::ModelInfo = &#krate::__private::ModelInfo {
                name: #name_str,
                table: #name_str,
                index_table: #index_table,
                shape: <Self as #krate::__private::Schema>::SHAPE,
                version: #version,
                primary_key: #pk_field_name,
                secondary_keys: &[
                    #(#krate::__private::SecondaryKeyInfo {
                        name: #sk_names,
                        tag: #sk_tags,
                        unique: #sk_uniques,
                        kind: #sk_kinds,
                        fields: &[#(#sk_fields),*],
                    }),*
                ],
            };

            #[inline]
            fn primary_key(&self) -> #pk_name {
                #pk_name(::core::clone::Clone::clone(&self.#pk_field))
            }

            #[allow(unused_mut)]
            fn secondary_keys(&self) -> ::std::vec::Vec<#sk_enum> {
                let mut keys = ::std::vec::Vec::new();
                #(#collect_keys)*
                keys
            }

            #[inline]
            fn encode_primary_key(&self, out: &mut ::std::vec::Vec<u8>) {
                <#pk_ty as #krate::__private::Key>::encode_key(&self.#pk_field, out)
            }

            #[inline]
            fn encode_archived_primary_key(
                archived: &<Self as #krate::rkyv::Archive>::Archived,
                out: &mut ::std::vec::Vec<u8>,
            ) {
                <#pk_ty as #krate::__private::Key>::encode_archived_key(&archived.#pk_field, out)
            }

            #[inline]
            #[allow(unused_variables)]
            fn index_entries(&self, entries: &mut #krate::__private::IndexEntries) {
                #(#push_owned)*
            }

            #[inline]
            #[allow(unused_variables)]
            fn archived_index_entries(
                archived: &<Self as #krate::rkyv::Archive>::Archived,
                entries: &mut #krate::__private::IndexEntries,
            ) {
                #(#push_archived)*
            }

            #[allow(unused_mut)]
            fn index_entry_primary_key(entry: &[u8]) -> ::core::option::Option<&[u8]> {
                let (&tag, mut rest) = entry.split_first()?;
                let skipped = match tag {
                    #(#sk_tags => <#sk_newtypes as #krate::__private::Key>::skip_key(&mut rest).is_ok(),)*
                    _ => false,
                };
                skipped.then_some(rest)
            }
        }
    })
}

/// The path generated code names `netabase_store` by: `::netabase_store`, or the name the
/// user's `Cargo.toml` gave the dependency (`store = { package = "netabase_store", .. }`).
fn krate() -> TokenStream2 {
    match proc_macro_crate::crate_name("netabase_store") {
        Ok(proc_macro_crate::FoundCrate::Name(name)) if name != "netabase_store" => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        _ => quote!(::netabase_store),
    }
}

/// `KeyArg` impls of a key newtype `N(T)`: lookups take `N`, `T`, references to either, and
/// `str` / `[u8]` when `T` is written as a string or byte-string type; a tuple `T` takes a
/// tuple of anything each element takes (`(7, "x")`).
fn key_arg_impls(krate: &TokenStream2, newtype: &Ident, ty: &Type) -> TokenStream2 {
    let arg = quote!(#krate::key::KeyArg);
    let key = quote!(#krate::__private::Key);
    let inner = if let Type::Tuple(tuple) = ty {
        let elems: Vec<&Type> = tuple.elems.iter().collect();
        let qs: Vec<Ident> = (0..elems.len()).map(|i| format_ident!("Q{i}")).collect();
        let idx = (0..elems.len()).map(syn::Index::from);
        quote! {
            impl<#(#qs: #arg<#elems>),*> #arg<#newtype> for (#(#qs,)*) {
                #[inline]
                fn encode_as(&self, out: &mut ::std::vec::Vec<u8>) {
                    #(#arg::<#elems>::encode_as(&self.#idx, out);)*
                }
            }
        }
    } else {
        let last = match ty {
            Type::Path(p) => p.path.segments.last().map(|s| {
                let args = &s.arguments;
                format!("{}{}", s.ident, quote!(#args)).replace(' ', "")
            }),
            _ => None,
        };
        let borrowed = match last.as_deref() {
            Some("String" | "Box<str>") => Some(quote!(str)),
            Some("Vec<u8>" | "Box<[u8]>") => Some(quote!([u8])),
            _ => None,
        };
        let borrowed = borrowed.map(|b| {
            quote! {
                impl #arg<#newtype> for #b {
                    #[inline]
                    fn encode_as(&self, out: &mut ::std::vec::Vec<u8>) {
                        #arg::<#ty>::encode_as(self, out)
                    }
                }
            }
        });
        quote! {
            impl #arg<#newtype> for #ty {
                #[inline]
                fn encode_as(&self, out: &mut ::std::vec::Vec<u8>) {
                    <#ty as #key>::encode_key(self, out)
                }
            }
            #borrowed
        }
    };
    quote! {
        impl #arg<#newtype> for #newtype {
            #[inline]
            fn encode_as(&self, out: &mut ::std::vec::Vec<u8>) {
                <Self as #key>::encode_key(self, out)
            }
        }
        #inner
    }
}
