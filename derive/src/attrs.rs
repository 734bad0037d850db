//! Attribute parsing: the module macro's arguments, `#[derive(..)]` lists, and the key
//! attributes of a model (`#[secondary_key(..)]`, `#[compound_key(..)]`).

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, Meta, Path, Token};

/// Marker the module macro adds to every model it processed; the derive requires it.
pub(crate) const IN_MODULE: &str = "__netabase_in_module";

pub(crate) struct ModuleArgs {
    pub(crate) definition: Ident,
    pub(crate) keys: Ident,
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

pub(crate) fn item_attrs(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    match item {
        Item::Struct(s) => Some(&mut s.attrs),
        Item::Enum(e) => Some(&mut e.attrs),
        _ => None,
    }
}

pub(crate) fn derives(attrs: &[Attribute]) -> Vec<Path> {
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

pub(crate) fn derives_named(paths: &[Path], name: &str) -> bool {
    paths
        .iter()
        .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
}

/// `#[compound_key(AuthorDate = (author_id, created_at))]`, optionally `, unique`.
pub(crate) struct CompoundAttr {
    pub(crate) name: Ident,
    pub(crate) fields: Vec<Ident>,
    pub(crate) options: KeyOptions,
}

/// The options of a secondary key: `unique` and `tag = N`, in any order.
#[derive(Default)]
pub(crate) struct KeyOptions {
    pub(crate) unique: bool,
    pub(crate) tag: Option<(u8, Span)>,
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

pub(crate) fn has_attr<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.path().is_ident(name))
}

pub(crate) fn secondary_option(attr: &Attribute) -> syn::Result<KeyOptions> {
    match &attr.meta {
        Meta::Path(_) => Ok(KeyOptions::default()),
        Meta::List(list) => list.parse_args(),
        Meta::NameValue(nv) => Err(syn::Error::new(
            nv.span(),
            "expected `#[secondary_key]` or `#[secondary_key(unique, tag = N)]`",
        )),
    }
}
