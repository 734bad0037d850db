//! `#[derive(NetabaseSchema)]`, the `#[netabase(..)]` options of a definition module's
//! types, and the `ModelVersion` impls of models and their earlier versions.

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitInt, Path, Token, Type, parse_quote};

/// `#[netabase(Definition, version = 3, from = UserV2)]` on a model,
/// `#[netabase(version = 2, from = UserV1)]` / `#[netabase(skip)]` on other types of a
/// definition module.
#[derive(Default)]
pub(crate) struct NetabaseAttr {
    pub definition: Option<Path>,
    pub version: Option<u32>,
    /// The previous version's type, and whether the conversion is `TryFrom`.
    pub from: Option<(Path, bool)>,
    pub skip: bool,
}

impl Parse for NetabaseAttr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut out = NetabaseAttr::default();
        while !input.is_empty() {
            let path: Path = input.parse()?;
            let key = path.get_ident().map(|i| i.to_string());
            match key.as_deref() {
                Some("version") if input.peek(Token![=]) => {
                    input.parse::<Token![=]>()?;
                    let lit: LitInt = input.parse()?;
                    let v: u32 = lit.base10_parse()?;
                    if v == 0 {
                        return Err(syn::Error::new(lit.span(), "versions start at 1"));
                    }
                    out.version = Some(v);
                }
                Some(k @ ("from" | "try_from")) if input.peek(Token![=]) => {
                    input.parse::<Token![=]>()?;
                    if out.from.is_some() {
                        return Err(syn::Error::new(
                            path.span(),
                            "give `from` or `try_from` once",
                        ));
                    }
                    out.from = Some((input.parse()?, k == "try_from"));
                }
                Some("skip") => out.skip = true,
                _ if out.definition.is_none() && !input.peek(Token![=]) => {
                    out.definition = Some(path)
                }
                _ => {
                    return Err(syn::Error::new(
                        path.span(),
                        "expected the definition's name, `version = N`, `from = PreviousVersion`, \
                         `try_from = PreviousVersion` or `skip`",
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        if out.from.is_some() && out.version.is_none() {
            return Err(input.error("`from` needs `version = N` (the version of this type)"));
        }
        Ok(out)
    }
}

/// Parses every `#[netabase(..)]` of `attrs` into one set of options.
pub(crate) fn netabase_attr(attrs: &[Attribute]) -> syn::Result<NetabaseAttr> {
    let mut out = NetabaseAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("netabase")) {
        let one: NetabaseAttr = attr.parse_args()?;
        out.definition = out.definition.or(one.definition);
        out.version = out.version.or(one.version);
        out.from = out.from.or(one.from);
        out.skip |= one.skip;
    }
    Ok(out)
}

pub(crate) fn expand_schema(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let krate = crate::krate();
    let p = quote!(#krate::__private);
    let name = &input.ident;
    let shape = match &input.data {
        Data::Struct(s) => fields_shape(&s.fields),
        Data::Enum(e) => {
            let variants = e.variants.iter().map(|v| {
                let vname = v.ident.unraw().to_string();
                let shape = fields_shape(&v.fields);
                quote!(#p::Variant { name: #vname, shape: &#shape })
            });
            quote!(#p::Shape::Enum(&[#(#variants),*]))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span(),
                "`NetabaseSchema` cannot describe a union (rkyv does not archive unions)",
            ));
        }
    };
    let mut generics = input.generics.clone();
    let params: Vec<Ident> = generics.type_params().map(|t| t.ident.clone()).collect();
    let where_clause = generics.make_where_clause();
    for t in params {
        where_clause.predicates.push(parse_quote!(#t: #p::Schema));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #p::Schema for #name #ty_generics #where_clause {
            const SHAPE: &'static #p::Shape = &#shape;
        }
    })
}

fn fields_shape(fields: &Fields) -> TokenStream2 {
    let krate = crate::krate();
    let p = quote!(#krate::__private);
    match fields {
        Fields::Named(named) => {
            let fields = named.named.iter().map(|f| {
                let fname = f.ident.as_ref().map(|i| i.unraw().to_string());
                let shape = field_shape(&f.ty, &f.attrs);
                quote!(#p::Field { name: #fname, shape: #shape })
            });
            quote!(#p::Shape::Struct(&[#(#fields),*]))
        }
        Fields::Unnamed(unnamed) => {
            let items = unnamed.unnamed.iter().map(|f| field_shape(&f.ty, &f.attrs));
            quote!(#p::Shape::Tuple(&[#(#items),*]))
        }
        Fields::Unit => quote!(#p::Shape::Tuple(&[])),
    }
}

/// A field's shape: its type's, unless `#[rkyv(with = W)]` lets `W` archive it.
fn field_shape(ty: &Type, attrs: &[Attribute]) -> TokenStream2 {
    let krate = crate::krate();
    let p = quote!(#krate::__private);
    match rkyv_with(attrs) {
        Some(wrapper) => {
            let label = format!("with::{wrapper}");
            quote!(&#p::Shape::Generic(#label, &[<#ty as #p::Schema>::SHAPE]))
        }
        None => quote!(<#ty as #p::Schema>::SHAPE),
    }
}

/// The last path segment of `W` in a field's `#[rkyv(with = W)]`.
fn rkyv_with(attrs: &[Attribute]) -> Option<String> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("rkyv")) {
        let syn::Meta::List(list) = &attr.meta else {
            continue;
        };
        let tokens: Vec<proc_macro2::TokenTree> = list.tokens.clone().into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            let is_with = matches!(t, proc_macro2::TokenTree::Ident(id) if id == "with");
            let eq = matches!(tokens.get(i + 1), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '=');
            if is_with && eq {
                let mut last = None;
                for t in tokens.iter().skip(i + 2) {
                    match t {
                        proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => break,
                        proc_macro2::TokenTree::Ident(id) => last = Some(id.to_string()),
                        _ => {}
                    }
                }
                return last;
            }
        }
    }
    None
}

/// `impl ModelVersion for #name`: version `version`, migrating from `from` when given.
pub(crate) fn version_impl(
    name: &Ident,
    version: u32,
    from: Option<&(Path, bool)>,
) -> TokenStream2 {
    let krate = crate::krate();
    let p = quote!(#krate::__private);
    let (push_prev, read_prev, order) = match from {
        None => (
            quote!(),
            quote!(::core::result::Result::Err(#p::MigrationError::UnknownVersion(version))),
            quote!(),
        ),
        Some((prev, try_from)) => {
            let convert = if *try_from {
                quote!(#p::convert_try_from)
            } else {
                quote!(#p::convert_from)
            };
            (
                quote!(<#prev as #p::ModelVersion>::versions(out);),
                quote!(#convert::<#prev, Self>(<#prev as #p::ModelVersion>::read_version(version, bytes)?)),
                quote! {
                    const _: () = ::core::assert!(
                        <#prev as #p::ModelVersion>::VERSION < #version,
                        "`from = ..` must name an earlier version (a smaller `version = N`)"
                    );
                },
            )
        }
    };
    quote! {
        impl #p::ModelVersion for #name {
            const VERSION: u32 = #version;
            fn versions(out: &mut ::std::vec::Vec<(u32, &'static #p::Shape)>) {
                out.push((#version, <Self as #p::Schema>::SHAPE));
                #push_prev
            }
            fn read_version(
                version: u32,
                bytes: &[u8],
            ) -> ::core::result::Result<Self, #p::MigrationError> {
                if version == #version {
                    return #p::read_version_exact::<Self>(bytes);
                }
                #read_prev
            }
        }
        #order
    }
}
