//! A read-only, spanned TOML tree for loading the jobfile: keys, values and where they are,
//! nothing about layout.
//!
//! Why not toml_edit's `Document`, which `edit.rs` keeps using: it holds every byte of layout
//! for rewriting (decor, reprs, an `IndexMap` per table), about 3.8 KB per job, so loading a
//! 10,000-job jobfile peaked at 38 MB and took 30 ms before validation began; glibc keeps
//! most of that heap after it is freed. Here a node is a fixed-size record in one `Vec`, and
//! keys and strings are ranges of the text unless escapes made them differ from it.
//!
//! The tree is built from toml_parser's events (the parser toml_edit itself is built on) by a
//! port of toml_edit's rules for tables, dotted keys, inline tables and arrays of tables
//! (`build.rs`), so it accepts exactly the documents toml_edit accepts and lists keys in the
//! same order, and refuses the others with toml_edit's message, so syntax diagnostics stay word
//! for word what they were.

mod build;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::ops::Range;

use toml_edit::{Array, Datetime, InlineTable, Value};

/// Where a node is in [`Tree::nodes`].
type Id = u32;
/// No node: the end of a list of children.
const NONE: Id = Id::MAX;
/// The document's top-level table.
const ROOT: Id = 0;

/// A valid TOML document.
pub(super) struct Tree<'t> {
    text: &'t str,
    nodes: Vec<Node>,
    /// Decoded keys and strings that are not a range of the text (they had escapes).
    owned: Vec<String>,
    datetimes: Vec<Datetime>,
    /// The children of tables with many keys (the `jobs` table), by table and key hash, so that
    /// finding a key stays constant-time there; small tables are scanned.
    index: HashMap<(Id, u64), Id>,
    hasher: RandomState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A `[header]` table, or one made implicitly by a header or dotted key.
    Table,
    ArrayOfTables,
    String,
    Integer,
    Float,
    Boolean,
    Datetime,
    Array,
    InlineTable,
}

/// A string: a range of the text, or one of [`Tree::owned`].
#[derive(Debug, Clone, Copy)]
enum Text {
    Slice(u32, u32),
    Owned(u32),
}

#[derive(Debug, Clone, Copy)]
enum Scalar {
    None,
    Integer(i64),
    Float(f64),
    Boolean(bool),
    String(Text),
    /// Index in [`Tree::datetimes`].
    Datetime(u32),
}

/// One key/value, table or array element. Children form a doubly linked list in key order.
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// A table nobody declared, made for `[a.b]` or `a.b = 1`.
    implicit: bool,
    /// A table made by a dotted key.
    dotted: bool,
    /// Arrays and inline tables: written with a comma after the last element.
    trailing_comma: bool,
    /// The key under which the node sits in its table (unused for array elements).
    key: Text,
    key_span: (u32, u32),
    span: (u32, u32),
    scalar: Scalar,
    first: Id,
    last: Id,
    next: Id,
    prev: Id,
    len: u32,
    /// The next child of the same table whose key has the same hash ([`Tree::index`]).
    same_hash: Id,
}

/// Tables with more children than this are indexed.
const INDEX_FROM: u32 = 8;

impl<'t> Tree<'t> {
    /// The tree of `text`; when it is not valid TOML, the problem toml_edit reports (its first)
    /// and where it is, worded as toml_edit words it.
    pub(super) fn parse(text: &'t str) -> Result<Tree<'t>, (Option<Range<usize>>, String)> {
        build::build(text, build::CHUNK_TOKENS).map_err(|e| {
            let span = e.unexpected().map(|s| s.start()..s.end());
            (span, build::message(&e))
        })
    }

    pub(super) fn root(&self) -> Item<'_> {
        Item {
            tree: self,
            id: ROOT,
        }
    }

    fn new(text: &'t str) -> Tree<'t> {
        let mut tree = Tree {
            text,
            nodes: Vec::new(),
            owned: Vec::new(),
            datetimes: Vec::new(),
            index: HashMap::new(),
            hasher: RandomState::new(),
        };
        tree.add(Kind::Table, (0, 0));
        tree
    }

    fn add(&mut self, kind: Kind, span: (u32, u32)) -> Id {
        let id = Id::try_from(self.nodes.len()).unwrap_or(NONE);
        self.nodes.push(Node {
            kind,
            implicit: false,
            dotted: false,
            trailing_comma: false,
            key: Text::Slice(0, 0),
            key_span: (0, 0),
            span,
            scalar: Scalar::None,
            first: NONE,
            last: NONE,
            next: NONE,
            prev: NONE,
            len: 0,
            same_hash: NONE,
        });
        id
    }

    fn node(&self, id: Id) -> &Node {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: Id) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn str(&self, text: Text) -> &str {
        match text {
            Text::Slice(start, end) => &self.text[start as usize..end as usize],
            Text::Owned(i) => &self.owned[i as usize],
        }
    }

    fn key_hash(&self, table: Id, key: &str) -> u64 {
        self.hasher.hash_one((table, key))
    }

    /// The child of `table` under `key`.
    fn get(&self, table: Id, key: &str) -> Option<Id> {
        let t = self.node(table);
        let mut child = if t.len > INDEX_FROM {
            self.index
                .get(&(table, self.key_hash(table, key)))
                .copied()
                .unwrap_or(NONE)
        } else {
            t.first
        };
        let indexed = t.len > INDEX_FROM;
        while child != NONE {
            let c = self.node(child);
            if self.str(c.key) == key {
                return Some(child);
            }
            child = if indexed { c.same_hash } else { c.next };
        }
        None
    }

    /// Appends `child` to the children of `parent` (a table or an array).
    fn push(&mut self, parent: Id, child: Id) {
        let last = self.node(parent).last;
        self.node_mut(child).prev = last;
        self.node_mut(child).next = NONE;
        if last == NONE {
            self.node_mut(parent).first = child;
        } else {
            self.node_mut(last).next = child;
        }
        let p = self.node_mut(parent);
        p.last = child;
        p.len += 1;
    }

    /// Adds `child` to `table` under `key`, at the end.
    fn insert(&mut self, table: Id, key: build::Key, child: Id) {
        let c = self.node_mut(child);
        c.key = key.text;
        c.key_span = key.span;
        self.push(table, child);
        let len = self.node(table).len;
        if len == INDEX_FROM + 1 {
            let mut each = self.node(table).first;
            while each != NONE {
                self.index_child(table, each);
                each = self.node(each).next;
            }
        } else if len > INDEX_FROM + 1 {
            self.index_child(table, child);
        }
    }

    fn index_child(&mut self, table: Id, child: Id) {
        let hash = self.key_hash(table, self.str(self.node(child).key));
        let previous = self.index.insert((table, hash), child).unwrap_or(NONE);
        self.node_mut(child).same_hash = previous;
    }

    /// Moves `child` of `table` to the end of its children, under `key` (the same key, perhaps
    /// written differently): what toml_edit's remove-then-insert of a reopened table does.
    fn move_to_end(&mut self, table: Id, child: Id, key: build::Key) {
        let (prev, next) = (self.node(child).prev, self.node(child).next);
        if prev == NONE {
            self.node_mut(table).first = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NONE {
            self.node_mut(table).last = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        self.node_mut(table).len -= 1;
        let c = self.node_mut(child);
        c.key = key.text;
        c.key_span = key.span;
        self.push(table, child);
    }
}

/// A node of the tree, with the accessors validation needs.
#[derive(Clone, Copy)]
pub(super) struct Item<'a> {
    tree: &'a Tree<'a>,
    id: Id,
}

/// One key of a table: the key as decoded, where it is written, and its value.
#[derive(Clone)]
pub(super) struct KeyValue<'a> {
    pub(super) key: &'a str,
    pub(super) key_span: Range<usize>,
    pub(super) item: Item<'a>,
}

impl<'a> Item<'a> {
    fn node(self) -> &'a Node {
        self.tree.node(self.id)
    }

    /// The value's bytes; for a `[table]` its header, for an implicit table the key that made
    /// it, for an array of tables from its first header to its last.
    pub(super) fn span(self) -> Range<usize> {
        let (start, end) = self.node().span;
        start as usize..end as usize
    }

    /// What the value is, for "expected …, found …" messages.
    pub(super) fn kind(self) -> &'static str {
        match self.node().kind {
            Kind::Table | Kind::InlineTable => "a table",
            Kind::ArrayOfTables => "an array of tables",
            Kind::String => "a string",
            Kind::Integer => "an integer",
            Kind::Float => "a float",
            Kind::Boolean => "a boolean",
            Kind::Array => "an array",
            Kind::Datetime => match self.as_datetime() {
                Some(Datetime {
                    date: Some(_),
                    time: Some(_),
                    ..
                }) => "a date-time",
                Some(Datetime { date: Some(_), .. }) => "a date",
                _ => "a time",
            },
        }
    }

    /// A `[table]` or an inline `{ ... }` table.
    pub(super) fn is_table(self) -> bool {
        matches!(self.node().kind, Kind::Table | Kind::InlineTable)
    }

    /// An integer, float or boolean: a value that is a string once quoted.
    pub(super) fn is_number_or_boolean(self) -> bool {
        matches!(
            self.node().kind,
            Kind::Integer | Kind::Float | Kind::Boolean
        )
    }

    pub(super) fn is_array(self) -> bool {
        self.node().kind == Kind::Array
    }

    pub(super) fn is_array_of_tables(self) -> bool {
        self.node().kind == Kind::ArrayOfTables
    }

    /// The keys of a table in file order; nothing for other values.
    pub(super) fn entries(self) -> impl Iterator<Item = KeyValue<'a>> + use<'a> {
        let tree = self.tree;
        let table = self.is_table().then_some(self);
        table.into_iter().flat_map(Item::children).map(move |item| {
            let node = item.node();
            KeyValue {
                key: tree.str(node.key),
                key_span: node.key_span.0 as usize..node.key_span.1 as usize,
                item,
            }
        })
    }

    /// The elements of an array or an array of tables; nothing for other values.
    pub(super) fn elements(self) -> impl Iterator<Item = Item<'a>> + use<'a> {
        let list = matches!(self.node().kind, Kind::Array | Kind::ArrayOfTables).then_some(self);
        list.into_iter().flat_map(Item::children)
    }

    /// The number of elements of an array (or keys of a table).
    pub(super) fn len(self) -> usize {
        self.node().len as usize
    }

    fn children(self) -> impl Iterator<Item = Item<'a>> {
        let tree = self.tree;
        std::iter::successors(
            Some(self.node().first).filter(|&id| id != NONE),
            move |&id| Some(tree.node(id).next).filter(|&id| id != NONE),
        )
        .map(move |id| Item { tree, id })
    }

    pub(super) fn as_str(self) -> Option<&'a str> {
        match self.node().scalar {
            Scalar::String(text) => Some(self.tree.str(text)),
            _ => None,
        }
    }

    pub(super) fn as_bool(self) -> Option<bool> {
        match self.node().scalar {
            Scalar::Boolean(b) => Some(b),
            _ => None,
        }
    }

    pub(super) fn as_integer(self) -> Option<i64> {
        match self.node().scalar {
            Scalar::Integer(n) => Some(n),
            _ => None,
        }
    }

    pub(super) fn as_datetime(self) -> Option<&'a Datetime> {
        match self.node().scalar {
            Scalar::Datetime(i) => self.tree.datetimes.get(i as usize),
            _ => None,
        }
    }

    /// The value as toml_edit would print it, for help text like `quote it: "7"`; `None` for
    /// tables and arrays of tables, which are not values.
    pub(super) fn to_value(self) -> Option<Value> {
        let node = self.node();
        Some(match node.scalar {
            Scalar::Integer(n) => Value::from(n),
            Scalar::Float(f) => Value::from(f),
            Scalar::Boolean(b) => Value::from(b),
            Scalar::String(text) => Value::from(self.tree.str(text)),
            Scalar::Datetime(_) => Value::from(*self.as_datetime()?),
            Scalar::None => match node.kind {
                Kind::Array => {
                    let mut array: Array =
                        self.children().map(Item::to_value).collect::<Option<_>>()?;
                    array.set_trailing_comma(node.trailing_comma);
                    Value::Array(array)
                }
                Kind::InlineTable => Value::InlineTable(self.to_inline_table()?),
                _ => return None,
            },
        })
    }

    fn to_inline_table(self) -> Option<InlineTable> {
        let node = self.node();
        let mut table = InlineTable::new();
        for entry in self.entries() {
            table.insert(entry.key, entry.item.to_value()?);
        }
        // Dotted keys print as `b.c = 2`, as they were written.
        table.set_dotted(node.dotted);
        table.set_trailing_comma(node.trailing_comma);
        Some(table)
    }
}
