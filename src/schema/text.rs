//! The layout text a store records, its parser, and the diff that names what changed.
//!
//! Grammar (no whitespace):
//!
//! ```text
//! field and variant names are `[A-Za-z0-9_]+`; type names may also contain `::`.
//!
//! layout  := leaf | name '<' layout (',' layout)* '>' | '[' layout ';' N ']'
//!          | '(' (layout (',' layout)*)? ')' | '{' (field (',' field)*)? '}'
//!          | 'enum{' (variant (',' variant)*)? '}'
//! field   := name ':' layout
//! variant := name | name '(' .. ')' | name '{' .. '}'      (a unit variant is its name)
//! ```

use std::fmt::{self, Write as _};

use super::Shape;

/// An owned layout tree: a [`Shape`] as read back from a store, normalised (a struct with
/// no fields is the empty tuple, as rkyv archives both as nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutNode {
    /// A primitive or opaque archived type.
    Leaf(String),
    /// A container and its type arguments.
    Generic(String, Vec<LayoutNode>),
    /// `[T; N]`.
    Array(Box<LayoutNode>, usize),
    /// A tuple, tuple struct, `()` or unit struct.
    Tuple(Vec<LayoutNode>),
    /// Named fields, in order.
    Struct(Vec<(String, LayoutNode)>),
    /// Variants (name, fields), in order.
    Enum(Vec<(String, LayoutNode)>),
}

impl LayoutNode {
    /// The owned tree of a static shape.
    pub fn of(shape: &Shape) -> LayoutNode {
        match shape {
            Shape::Leaf(name) => LayoutNode::Leaf((*name).to_owned()),
            Shape::Generic(name, args) => LayoutNode::Generic(
                (*name).to_owned(),
                args.iter().map(|a| LayoutNode::of(a)).collect(),
            ),
            Shape::Array(inner, len) => LayoutNode::Array(Box::new(LayoutNode::of(inner)), *len),
            Shape::Tuple(items) => {
                LayoutNode::Tuple(items.iter().map(|s| LayoutNode::of(s)).collect())
            }
            Shape::Struct([]) => LayoutNode::Tuple(Vec::new()),
            Shape::Struct(fields) => LayoutNode::Struct(
                fields
                    .iter()
                    .map(|f| (f.name.to_owned(), LayoutNode::of(f.shape)))
                    .collect(),
            ),
            Shape::Enum(variants) => LayoutNode::Enum(
                variants
                    .iter()
                    .map(|v| (v.name.to_owned(), LayoutNode::of(v.shape)))
                    .collect(),
            ),
        }
    }

    fn write(&self, out: &mut String) {
        fn list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                each(out, item);
            }
        }
        match self {
            LayoutNode::Leaf(name) => out.push_str(name),
            LayoutNode::Generic(name, args) => {
                out.push_str(name);
                out.push('<');
                list(out, args, |o, a| a.write(o));
                out.push('>');
            }
            LayoutNode::Array(inner, len) => {
                out.push('[');
                inner.write(out);
                let _ = write!(out, ";{len}]");
            }
            LayoutNode::Tuple(items) => {
                out.push('(');
                list(out, items, |o, a| a.write(o));
                out.push(')');
            }
            LayoutNode::Struct(fields) => {
                out.push('{');
                list(out, fields, |o, (name, node)| {
                    o.push_str(name);
                    o.push(':');
                    node.write(o);
                });
                out.push('}');
            }
            LayoutNode::Enum(variants) => {
                out.push_str("enum{");
                list(out, variants, |o, (name, node)| {
                    o.push_str(name);
                    if node != &LayoutNode::Tuple(Vec::new()) {
                        node.write(o);
                    }
                });
                out.push('}');
            }
        }
    }
}

impl fmt::Display for LayoutNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

/// The canonical text of a shape: what a store records for each model.
pub fn layout_text(shape: &Shape) -> String {
    LayoutNode::of(shape).to_string()
}

/// A layout text that does not follow the grammar (a damaged or foreign schema record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLayoutError {
    /// The byte offset where parsing stopped.
    pub at: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for ParseLayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.at)
    }
}

impl std::error::Error for ParseLayoutError {}

/// Parses a layout text (the inverse of [`layout_text`]).
pub fn parse_layout(text: &str) -> Result<LayoutNode, ParseLayoutError> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    let node = p.layout()?;
    if p.at != p.s.len() {
        return Err(p.error("the end of the layout"));
    }
    Ok(node)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

/// Deeper nesting than any real schema; bounds the recursion on hostile input.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn error(&self, expected: &'static str) -> ParseLayoutError {
        ParseLayoutError {
            at: self.at,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8, what: &'static str) -> Result<(), ParseLayoutError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// A field or variant name (`[A-Za-z0-9_]+`), or with `path`, a type name that may
    /// contain `::` (`with::AsBox`).
    fn name(&mut self, path: bool) -> Result<String, ParseLayoutError> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || (path && c == b':'))
        {
            self.at += 1;
        }
        match self.s.get(start..self.at) {
            Some(bytes) if !bytes.is_empty() => Ok(String::from_utf8_lossy(bytes).into_owned()),
            _ => Err(self.error("a name")),
        }
    }

    /// `item (',' item)* close`, or just `close`.
    fn list<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<T, ParseLayoutError>,
    ) -> Result<Vec<T>, ParseLayoutError> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(b',', "`,` or a closing bracket")?;
        }
    }

    fn layout(&mut self) -> Result<LayoutNode, ParseLayoutError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("less deeply nested layout"));
        }
        let node = self.layout_inner();
        self.depth -= 1;
        node
    }

    fn layout_inner(&mut self) -> Result<LayoutNode, ParseLayoutError> {
        if self.eat(b'(') {
            return Ok(LayoutNode::Tuple(self.list(b')', Self::layout)?));
        }
        if self.eat(b'{') {
            return Ok(LayoutNode::Struct(self.list(b'}', Self::field)?));
        }
        if self.eat(b'[') {
            let inner = self.layout()?;
            self.expect(b';', "`;` in an array layout")?;
            let start = self.at;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
            let len = std::str::from_utf8(self.s.get(start..self.at).unwrap_or_default())
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| self.error("an array length"))?;
            self.expect(b']', "`]`")?;
            return Ok(LayoutNode::Array(Box::new(inner), len));
        }
        let name = self.name(true)?;
        if name == "enum" && self.eat(b'{') {
            return Ok(LayoutNode::Enum(self.list(b'}', Self::variant)?));
        }
        if self.eat(b'<') {
            let args = self.list(b'>', Self::layout)?;
            if args.is_empty() {
                return Err(self.error("a type argument"));
            }
            return Ok(LayoutNode::Generic(name, args));
        }
        Ok(LayoutNode::Leaf(name))
    }

    fn field(&mut self) -> Result<(String, LayoutNode), ParseLayoutError> {
        let name = self.name(false)?;
        self.expect(b':', "`:` after a field name")?;
        Ok((name, self.layout()?))
    }

    fn variant(&mut self) -> Result<(String, LayoutNode), ParseLayoutError> {
        let name = self.name(false)?;
        let fields = match self.peek() {
            Some(b'(' | b'{') => self.layout()?,
            _ => LayoutNode::Tuple(Vec::new()),
        };
        Ok((name, fields))
    }
}

/// What changed from `old` to `new`, one line per change, each naming its path from
/// `root`: `User.addr.zip: u32 -> i32`. Empty when the layouts are equal.
pub fn diff_layouts(root: &str, old: &LayoutNode, new: &LayoutNode) -> Vec<String> {
    let mut out = Vec::new();
    diff(root, old, new, &mut out);
    out
}

fn diff(path: &str, old: &LayoutNode, new: &LayoutNode, out: &mut Vec<String>) {
    use LayoutNode as N;
    if old == new {
        return;
    }
    match (old, new) {
        (N::Generic(a, xs), N::Generic(b, ys)) if a == b && xs.len() == ys.len() => {
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                let segment = match (a.as_str(), xs.len()) {
                    ("vec" | "slice", 1) => "[]".to_owned(),
                    ("option", 1) => "?".to_owned(),
                    (_, 1) => "<>".to_owned(),
                    _ => format!("<{i}>"),
                };
                diff(&format!("{path}{segment}"), x, y, out);
            }
        }
        (N::Array(x, n), N::Array(y, m)) if n == m => diff(&format!("{path}[]"), x, y, out),
        (N::Tuple(xs), N::Tuple(ys)) if xs.len() == ys.len() => {
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                diff(&format!("{path}.{i}"), x, y, out);
            }
        }
        (N::Struct(xs), N::Struct(ys)) => diff_named(path, ".", "field", xs, ys, out),
        (N::Enum(xs), N::Enum(ys)) => diff_named(path, "::", "variant", xs, ys, out),
        _ => out.push(format!("{path}: {old} -> {new}")),
    }
}

/// Fields or variants: matched by name; additions, removals and reorderings are named.
fn diff_named(
    path: &str,
    sep: &str,
    what: &str,
    old: &[(String, LayoutNode)],
    new: &[(String, LayoutNode)],
    out: &mut Vec<String>,
) {
    let find = |list: &[(String, LayoutNode)], name: &str| list.iter().position(|(n, _)| n == name);
    for (name, node) in old {
        if find(new, name).is_none() {
            out.push(format!("{path}{sep}{name}: {what} removed (was {node})"));
        }
    }
    for (name, node) in new {
        if find(old, name).is_none() {
            out.push(format!("{path}{sep}{name}: {what} added ({node})"));
        }
    }
    let common_old: Vec<&str> = old
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| find(new, n).is_some())
        .collect();
    let common_new: Vec<&str> = new
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| find(old, n).is_some())
        .collect();
    if common_old != common_new {
        out.push(format!(
            "{path}: {what} order changed ({}) -> ({})",
            names(old),
            names(new)
        ));
    }
    for (name, x) in old {
        if let Some(j) = find(new, name)
            && let Some((_, y)) = new.get(j)
        {
            diff(&format!("{path}{sep}{name}"), x, y, out);
        }
    }
}

fn names(list: &[(String, LayoutNode)]) -> String {
    list.iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_and_diffs_name_paths() {
        let old = parse_layout(
            "{id:u64,addr:{zip:u32,city:string},tags:vec<string>,k:enum{A,B(u8),C{x:i8}}}",
        )
        .unwrap();
        assert_eq!(
            old.to_string(),
            "{id:u64,addr:{zip:u32,city:string},tags:vec<string>,k:enum{A,B(u8),C{x:i8}}}"
        );
        let new = parse_layout(
            "{id:u64,addr:{zip:i32,city:string},tags:vec<u32>,k:enum{A,B(u8),C{x:i16}}}",
        )
        .unwrap();
        assert_eq!(
            diff_layouts("User", &old, &new),
            vec![
                "User.addr.zip: u32 -> i32",
                "User.tags[]: string -> u32",
                "User.k::C.x: i8 -> i16",
            ]
        );
        let reordered = parse_layout(
            "{addr:{zip:u32,city:string},id:u64,tags:vec<string>,k:enum{A,B(u8),C{x:i8}}}",
        )
        .unwrap();
        assert_eq!(
            diff_layouts("User", &old, &reordered),
            vec!["User: field order changed (id, addr, tags, k) -> (addr, id, tags, k)"]
        );
        let added = parse_layout("{id:u64}").unwrap();
        assert_eq!(
            diff_layouts("M", &added, &parse_layout("{id:u64,n:option<u8>}").unwrap()),
            vec!["M.n: field added (option<u8>)"]
        );
    }

    #[test]
    fn damaged_texts_are_errors_not_panics() {
        for bad in [
            "",
            "{",
            "{a}",
            "vec<>",
            "[u8;]",
            "[u8;9999999999999999999999]",
            "u8,",
            "enum{A(}",
        ] {
            assert!(parse_layout(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_layout(&"(".repeat(10_000)).is_err());
    }
}
