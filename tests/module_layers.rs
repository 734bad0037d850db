//! The main crate's modules import each other in one direction only.
//!
//! Reads every `src/**/*.rs` file as text, collects the `crate::…` paths of its code (comments
//! and doc links do not count), resolves each to the top-level module it names (root
//! re-exports such as `crate::Store` are resolved through `src/lib.rs`), and checks:
//!
//! * every top-level module of `src/` has a place in [`LAYERS`] (and every listed one exists);
//! * a module imports only modules of its own layer or of a lower one;
//! * the module graph has no cycle (also within one layer).
//!
//! When this fails, move the item to the layer it belongs to (or add a new module to
//! [`LAYERS`] where it fits) instead of importing upwards. `docs/architecture.md` describes
//! the same map.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers of `src/`, bottom up: a module may import its own layer and the layers before
/// it, never a later one. `lib.rs` (the crate root, the facade) may import everything.
const LAYERS: &[(&str, &[&str])] = &[
    // The order-preserving key codec and the index entry layout built from it.
    ("codec", &["key"]),
    ("errors", &["error"]),
    // The archived layout (`Shape`) and the traits the macros implement.
    ("schema", &["schema", "traits"]),
    // Sans-I/O: index planning, validated records, the write steps and their buffer pool.
    ("planner", &["index", "guard", "steps", "scratch"]),
    // Change capture and delivery (the tree records changes, the store delivers them).
    ("changes", &["subscribe"]),
    ("tree/query", &["tree", "query", "integrity"]),
    ("txn", &["txn"]),
    ("store", &["meta", "config", "store"]),
    ("async", &["asynchronous"]),
    ("integrations", &["kad", "indexeddb"]),
];

/// `pub use` lines that keep a public path of an item that lives in a higher layer. They
/// name the item, they do not use it, and they are not edges of the graph.
const PATH_REEXPORTS: &[(&str, &str)] = &[
    // `StoreQuery` runs read transactions, so it is part of the store; its documented path is
    // `netabase_store::query::StoreQuery`.
    ("src/query/mod.rs", "pub use crate::store::StoreQuery;"),
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src/")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code: comments and the contents of string and char literals replaced by
/// spaces (line breaks kept), so neither a comment nor a message that mentions `crate::…`
/// counts as a path.
fn strip_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &str| {
        out.extend(s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        let raw_hashes = rest
            .strip_prefix('r')
            .map(|r| r.bytes().take_while(|b| *b == b'#').count())
            .filter(|n| rest.as_bytes().get(1 + n) == Some(&b'"'));
        let prev_is_ident = i > 0 && is_ident_byte(bytes[i - 1]);
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(text.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(text.len(), |n| i + n + 2);
            blank(&mut out, &text[i..end]);
            i = end;
        } else if let (Some(hashes), false) = (raw_hashes, prev_is_ident) {
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            let end = text[body..]
                .find(&close)
                .map_or(text.len(), |n| body + n + close.len());
            blank(&mut out, &text[i..end]);
            i = end;
        } else if rest.starts_with('"') {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(bytes.len());
            blank(&mut out, &text[i..end]);
            i = end;
        } else if let Some(after) = rest.strip_prefix('\'') {
            // A char literal (`'"'`, `'\''`) or a lifetime (`'a`), which is kept.
            let end = if let Some(escaped) = after.strip_prefix('\\') {
                let c = escaped.chars().next().map_or(0, char::len_utf8);
                escaped[c..].find('\'').map(|n| i + 2 + c + n + 1)
            } else {
                let c = after.chars().next().map_or(0, char::len_utf8);
                (after.as_bytes().get(c) == Some(&b'\'')).then_some(i + 2 + c)
            };
            match end {
                Some(end) => {
                    blank(&mut out, &text[i..end]);
                    i = end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn ident_at(text: &str, at: usize) -> &str {
    let len = text[at..].bytes().take_while(|b| is_ident_byte(*b)).count();
    &text[at..at + len]
}

/// The first path segments of a `{…}` use group starting at `at` (just after the `{`).
fn group_heads(text: &str, at: usize, heads: &mut Vec<String>) {
    let mut depth = 0usize;
    let mut expect_head = true;
    let bytes = text.as_bytes();
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return,
            b'}' => depth -= 1,
            b',' if depth == 0 => expect_head = true,
            b if is_ident_byte(b) && expect_head && depth == 0 => {
                let ident = ident_at(text, i);
                heads.push(ident.to_owned());
                expect_head = false;
                i += ident.len();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The first segment after every `crate::` of `code`, with its line number.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && is_ident_byte(code.as_bytes()[at - 1]) {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let after = at + "crate::".len();
        if code[after..].starts_with('{') {
            let mut heads = Vec::new();
            group_heads(code, after + 1, &mut heads);
            out.extend(heads.into_iter().map(|h| (line, h)));
        } else {
            out.push((line, ident_at(code, after).to_owned()));
        }
    }
    out
}

/// The names `lib.rs` re-exports at the crate root (`pub use` outside any inline module),
/// with the top-level module they come from (`None` for another crate's items, such as
/// `rkyv` or `RedbBackend`).
fn root_reexports(lib: &str, modules: &BTreeSet<String>) -> BTreeMap<String, Option<String>> {
    let mut names = BTreeMap::new();
    for (at, _) in lib.match_indices("pub use ") {
        let before = &lib[..at];
        if before.matches('{').count() != before.matches('}').count() {
            continue;
        }
        let end = lib[at..].find(';').map_or(lib.len(), |n| at + n);
        let path = lib[at + "pub use ".len()..end].trim();
        let path = path.strip_prefix("crate::").unwrap_or(path);
        let head = ident_at(path, 0);
        let source = modules.contains(head).then(|| head.to_owned());
        let tail = match path.find('{') {
            Some(open) => &path[open + 1..path.rfind('}').unwrap_or(path.len())],
            None => path,
        };
        for item in tail.split(',') {
            let item = item.trim();
            let name = match item.split_once(" as ") {
                Some((_, alias)) => alias.trim(),
                None => item.rsplit("::").next().unwrap_or(item).trim(),
            };
            if !name.is_empty() {
                names.insert(name.to_owned(), source.clone());
            }
        }
    }
    names
}

/// The top-level module a file of `src/` belongs to (`lib` for the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("inside src/");
    let first = rel.components().next().expect("a file");
    let name = first.as_os_str().to_str().expect("utf-8 file name");
    name.strip_suffix(".rs").unwrap_or(name).to_owned()
}

#[test]
fn modules_import_only_their_own_layer_and_lower_ones() {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);

    let found: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m != "lib")
        .collect();
    let mut layer_of = BTreeMap::new();
    for (rank, (_, modules)) in LAYERS.iter().enumerate() {
        for m in *modules {
            assert!(
                layer_of.insert((*m).to_owned(), rank).is_none(),
                "`{m}` is listed in two layers"
            );
        }
    }
    let listed: BTreeSet<String> = layer_of.keys().cloned().collect();
    assert_eq!(
        found, listed,
        "every top-level module of src/ needs a place in LAYERS (and no other name may be listed)"
    );
    layer_of.insert("lib".to_owned(), LAYERS.len());

    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("read lib.rs");
    let reexports = root_reexports(&strip_comments(&lib), &found);

    let mut problems = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let rel = file
            .strip_prefix(src.parent().expect("crate dir"))
            .expect("inside the crate")
            .to_string_lossy()
            .replace('\\', "/");
        let mut code = strip_comments(&std::fs::read_to_string(file).expect("read a source file"));
        for (allowed_file, line) in PATH_REEXPORTS {
            if *allowed_file == rel {
                assert!(
                    code.contains(line),
                    "{rel}: the listed re-export `{line}` is gone; remove it from PATH_REEXPORTS"
                );
                code = code.replace(line, "");
            }
        }
        for (line, head) in crate_paths(&code) {
            let target = if found.contains(&head) {
                head.clone()
            } else {
                match reexports.get(&head) {
                    Some(Some(m)) => m.clone(),
                    Some(None) => continue,
                    None if module == "lib" => continue,
                    None => {
                        problems.push(format!("{rel}:{line}: `crate::{head}` names no module"));
                        continue;
                    }
                }
            };
            if target == module {
                continue;
            }
            graph
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
            if layer_of[&target] > layer_of[&module] {
                problems.push(format!(
                    "{rel}:{line}: `{module}` (layer {}) imports `{target}` (layer {})",
                    LAYERS[layer_of[&module]].0, LAYERS[layer_of[&target]].0,
                ));
            }
        }
    }

    // A cycle inside one layer is allowed by the rank check; find it here.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            cycles.push(cycle.join(" -> "));
            return;
        }
        if !done.insert(node.to_owned()) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    problems.extend(cycles.into_iter().map(|c| format!("import cycle: {c}")));

    assert!(
        problems.is_empty(),
        "module layering broken:\n  {}\n\nthe graph: {graph:#?}",
        problems.join("\n  ")
    );
}

#[test]
fn the_parser_sees_groups_root_names_and_skips_comments() {
    let code = strip_comments(
        "use crate::{a::X, b::{Y, Z}, c};\n// crate::commented\nlet s = \"// crate::in_string\";\n\
         let q = ('\"', '\\'', \"crate::x\"); fn f<'a>(x: &'a u8) {}\n\
         /* crate::block */ let v = crate::d::f(); my_crate::e; r#\"crate::raw\"#;\n",
    );
    let heads: Vec<String> = crate_paths(&code).into_iter().map(|(_, h)| h).collect();
    assert_eq!(heads, ["a", "b", "c", "d"]);

    let modules: BTreeSet<String> = ["store", "query"].map(String::from).into();
    let lib = "pub use store::{Store, StoreTree};\npub use query::Cursor as Cur;\n\
               pub use rkyv;\npub mod prelude { pub use crate::store::Batch; }\n";
    let names = root_reexports(lib, &modules);
    assert_eq!(names["Store"].as_deref(), Some("store"));
    assert_eq!(names["StoreTree"].as_deref(), Some("store"));
    assert_eq!(names["Cur"].as_deref(), Some("query"));
    assert_eq!(names["rkyv"], None);
    assert!(!names.contains_key("Batch"));
}
