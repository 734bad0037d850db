//! Expansion of `#[derive(NetabaseModel)]`: the key newtypes and enums of a model and its
//! `NetabaseModelTrait` impl.

use proc_macro2::TokenStream as TokenStream2;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Ident, Type};

use crate::analysis::{Analysis, SkKind, analyze_fields, to_screaming};
use crate::attrs::{IN_MODULE, has_attr};
use crate::keys::newtype_key_impls;
use crate::schema;

pub(crate) fn expand_model(input: &DeriveInput) -> syn::Result<TokenStream2> {
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
        let impls = newtype_key_impls(&krate, newtype, ty);
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

            #impls

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
