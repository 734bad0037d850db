//! Expansion of `#[netabase_definition_module]` (the definition and keys enums) and of
//! `#[netabase_type]`: both add the rkyv and schema derives to the types they declare.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, ItemMod, ItemStruct, Path, parse_quote};

use crate::analysis::analyze_fields;
use crate::attrs::{ModuleArgs, derives, derives_named, item_attrs};
use crate::schema;

pub(crate) fn expand_module(args: ModuleArgs, mut module: ItemMod) -> syn::Result<TokenStream2> {
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

/// `#[netabase_type]`: the rkyv and schema derives a definition module adds to the types it
/// declares, on one struct or enum.
pub(crate) fn expand_type(mut item: Item) -> syn::Result<TokenStream2> {
    let Some(attrs) = item_attrs(&mut item) else {
        return Err(syn::Error::new(
            Span::call_site(),
            "`#[netabase_type]` goes on a struct or an enum",
        ));
    };
    let paths = derives(attrs);
    add_rkyv_derives(attrs, &paths);
    add_schema_derive(attrs, &paths);
    Ok(quote!(#item))
}

/// Adds the rkyv derives (through `netabase_store`'s re-export) unless the struct derives
/// `Archive` itself.
pub(crate) fn add_rkyv_derives(attrs: &mut Vec<Attribute>, paths: &[Path]) {
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
pub(crate) fn add_schema_derive(attrs: &mut Vec<Attribute>, paths: &[Path]) {
    let krate = crate::krate();
    if !derives_named(paths, "NetabaseSchema") {
        attrs.push(parse_quote!(#[derive(#krate::NetabaseSchema)]));
    }
}

/// `#[netabase(X)]` must name the module's definition (it may be omitted).
pub(crate) fn check_definition_attr(s: &ItemStruct, definition: &Ident) -> syn::Result<()> {
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
