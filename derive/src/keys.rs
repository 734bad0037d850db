//! Key newtypes: `#[derive(NetabaseKey)]`, and the one generator of the `Key`,
//! `KeyNewtype` and `KeyArg` impls it shares with the key newtypes a model declares.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::analysis::reject_non_key_type;

/// `#[derive(NetabaseKey)]` on `struct N(T);`: the newtype impls, and `N` as a prefix of itself.
pub(crate) fn expand_key(input: &DeriveInput) -> syn::Result<TokenStream2> {
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
    let impls = newtype_key_impls(&krate, name, ty);
    Ok(quote! {
        #impls

        impl #krate::key::KeyPrefix<#name> for #name {
            fn encode_prefix(&self, out: &mut ::std::vec::Vec<u8>) {
                <Self as #key>::encode_key(self, out)
            }
        }
    })
}

/// The `Key` and `KeyNewtype` impls of a key newtype `N(T)` (it encodes, decodes and skips
/// exactly as `T`), followed by its `KeyArg` impls: the one generator behind both
/// `#[derive(NetabaseKey)]` and the key newtypes `#[derive(NetabaseModel)]` declares.
pub(crate) fn newtype_key_impls(krate: &TokenStream2, newtype: &Ident, ty: &Type) -> TokenStream2 {
    let key = quote!(#krate::__private::Key);
    let key_args = key_arg_impls(krate, newtype, ty);
    quote! {
        impl #key for #newtype {
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
                <#ty as #key>::decode_key(input).map(#newtype)
            }
            #[inline]
            fn skip_key(
                input: &mut &[u8],
            ) -> ::core::result::Result<(), #krate::key::KeyDecodeError> {
                <#ty as #key>::skip_key(input)
            }
        }

        impl #krate::__private::KeyNewtype for #newtype {
            type Inner = #ty;
        }

        #key_args
    }
}

/// The path generated code names `netabase_store` by: `::netabase_store`, or the name the
/// user's `Cargo.toml` gave the dependency (`store = { package = "netabase_store", .. }`).
pub(crate) fn krate() -> TokenStream2 {
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
