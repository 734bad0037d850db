//! Analysis of a model's fields: its primary key, its secondary keys (plain, optional,
//! multi-valued and compound) and their tags, with every misuse reported at its span.

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Fields, Ident, Meta, Type, parse_quote};

use crate::attrs::{CompoundAttr, KeyOptions, has_attr, secondary_option};

pub(crate) struct KeyField {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
}

/// How a secondary key's index entries come from the record.
pub(crate) enum SkKind {
    /// One entry holding the field's value.
    Plain(Ident),
    /// An `Option<T>` field: one entry for `Some(v)`, none for `None`.
    Optional(Ident),
    /// A `Vec<T>` field (T != u8): one entry per element.
    Multi(Ident),
    /// Several fields: one entry holding the tuple of their values.
    Compound(Vec<KeyField>),
}

pub(crate) struct SecondaryKey {
    /// The field's name, or the compound key's name.
    pub(crate) name: String,
    /// The variant and newtype stem (`Email`, `AuthorDate`).
    pub(crate) variant: Ident,
    /// The key type a lookup takes (`String` for `Option<String>` / `Vec<String>` fields,
    /// a tuple for compound keys).
    pub(crate) key_ty: Type,
    pub(crate) kind: SkKind,
    pub(crate) unique: bool,
    /// The byte prefixing its index entries.
    pub(crate) tag: u8,
    pub(crate) span: Span,
}

/// The keys of a model, with every misuse reported at its span.
pub(crate) struct Analysis {
    pub(crate) primary: KeyField,
    pub(crate) secondary: Vec<SecondaryKey>,
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
pub(crate) fn to_screaming(name: &str) -> String {
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

/// Types that look like keys but are not: reported with a reason, instead of a wall of
/// unsatisfied-bound errors.
pub(crate) fn reject_non_key_type(ty: &Type) -> syn::Result<()> {
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

pub(crate) fn analyze_fields(
    name: &Ident,
    attrs: &[Attribute],
    fields: &Fields,
) -> syn::Result<Analysis> {
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
