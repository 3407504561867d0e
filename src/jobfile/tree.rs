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
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
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
    integers: Vec<i64>,
    floats: Vec<f64>,
    datetimes: Vec<Datetime>,
    /// The children of tables with many keys (the `jobs` table), by table and key hash, so that
    /// finding a key stays constant-time there; small tables are scanned. A key whose hash is
    /// taken by another key of the table goes to the next free hash.
    index: HashMap<(Id, u64), Id, BuildHasherDefault<KeyHasher>>,
    /// Mixed into every key's hash, new for every load: a jobfile cannot be written whose keys
    /// collide (each collision costs a probe of all the keys that collided before it).
    seed: u64,
}

/// rustc's FxHash with a finaliser, seeded per load (see [`Tree::seed`]). On short keys it is
/// several times faster than std's SipHash (which was a tenth of a large load). Without the
/// finaliser its low bits, which pick the bucket, hardly depend on the key's later bytes, so
/// the keys of a large table crowded into a few buckets: a 1 MiB inline table of `kN = 1`
/// took 2.5 s and a 4 MiB one 38 s (issue 12).
#[derive(Default)]
struct KeyHasher(u64);

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        // MurmurHash3's fmix64: every bit of the state reaches every bit of the hash.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
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

/// A string: the text's bytes `start..end`, or when `start` is [`OWNED`] the `end`-th of
/// [`Tree::owned`]. (No range of a text under 4 GiB starts at `u32::MAX`.)
#[derive(Debug, Clone, Copy)]
struct Text {
    start: u32,
    end: u32,
}

const OWNED: u32 = u32::MAX;

/// What a node holds besides its key. Numbers and date-times, rare in a jobfile, live beside
/// the nodes, which keeps this to 12 bytes.
#[derive(Debug, Clone, Copy)]
enum Data {
    /// Tables, arrays of tables, arrays and inline tables: their first and last child.
    Children {
        first: Id,
        last: Id,
    },
    String(Text),
    Boolean(bool),
    /// Index in [`Tree::integers`].
    Integer(u32),
    /// Index in [`Tree::floats`].
    Float(u32),
    /// Index in [`Tree::datetimes`].
    Datetime(u32),
}

/// One key/value, table or array element, in 52 bytes (about 200 per job). Children form a
/// doubly linked list in key order.
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
    data: Data,
    /// Children, for tables and arrays.
    len: u32,
    next: Id,
    prev: Id,
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
            integers: Vec::new(),
            floats: Vec::new(),
            datetimes: Vec::new(),
            index: HashMap::default(),
            seed: fastrand::u64(..),
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
            key: Text { start: 0, end: 0 },
            key_span: (0, 0),
            span,
            data: Data::Children {
                first: NONE,
                last: NONE,
            },
            len: 0,
            next: NONE,
            prev: NONE,
        });
        id
    }

    /// A new leaf holding `data`.
    fn add_value(&mut self, kind: Kind, span: (u32, u32), data: Data) -> Id {
        let id = self.add(kind, span);
        self.node_mut(id).data = data;
        id
    }

    /// The first and last child of a table or array.
    fn ends(&self, id: Id) -> (Id, Id) {
        match self.node(id).data {
            Data::Children { first, last } => (first, last),
            _ => (NONE, NONE),
        }
    }

    fn set_ends(&mut self, id: Id, ends: (Id, Id)) {
        self.node_mut(id).data = Data::Children {
            first: ends.0,
            last: ends.1,
        };
    }

    fn node(&self, id: Id) -> &Node {
        &self.nodes[id as usize]
    }

    fn node_mut(&mut self, id: Id) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn str(&self, text: Text) -> &str {
        match text {
            Text { start: OWNED, end } => &self.owned[end as usize],
            Text { start, end } => &self.text[start as usize..end as usize],
        }
    }

    fn key_hash(&self, table: Id, key: &str) -> u64 {
        BuildHasherDefault::<KeyHasher>::default().hash_one((self.seed, table, key))
    }

    /// The child of `table` under `key`.
    fn get(&self, table: Id, key: &str) -> Option<Id> {
        if self.node(table).len > INDEX_FROM {
            let mut hash = self.key_hash(table, key);
            while let Some(&child) = self.index.get(&(table, hash)) {
                if self.str(self.node(child).key) == key {
                    return Some(child);
                }
                hash = hash.wrapping_add(1);
            }
            return None;
        }
        let mut child = self.ends(table).0;
        while child != NONE {
            let c = self.node(child);
            if self.str(c.key) == key {
                return Some(child);
            }
            child = c.next;
        }
        None
    }

    /// Appends `child` to the children of `parent` (a table or an array).
    fn push(&mut self, parent: Id, child: Id) {
        let (first, last) = self.ends(parent);
        self.node_mut(child).prev = last;
        self.node_mut(child).next = NONE;
        if last == NONE {
            self.set_ends(parent, (child, child));
        } else {
            self.node_mut(last).next = child;
            self.set_ends(parent, (first, child));
        }
        self.node_mut(parent).len += 1;
    }

    /// Adds `child` to `table` under `key`, at the end.
    fn insert(&mut self, table: Id, key: build::Key, child: Id) {
        let c = self.node_mut(child);
        c.key = key.text;
        c.key_span = key.span;
        self.push(table, child);
        let len = self.node(table).len;
        if len == INDEX_FROM + 1 {
            let mut each = self.ends(table).0;
            while each != NONE {
                self.index_child(table, each);
                each = self.node(each).next;
            }
        } else if len > INDEX_FROM + 1 {
            self.index_child(table, child);
        }
    }

    fn index_child(&mut self, table: Id, child: Id) {
        let mut hash = self.key_hash(table, self.str(self.node(child).key));
        while self.index.contains_key(&(table, hash)) {
            hash = hash.wrapping_add(1);
        }
        self.index.insert((table, hash), child);
    }

    /// Moves `child` of `table` to the end of its children, under `key` (the same key, perhaps
    /// written differently): what toml_edit's remove-then-insert of a reopened table does.
    fn move_to_end(&mut self, table: Id, child: Id, key: build::Key) {
        let (prev, next) = (self.node(child).prev, self.node(child).next);
        let (mut first, mut last) = self.ends(table);
        if prev == NONE {
            first = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NONE {
            last = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        self.set_ends(table, (first, last));
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
            Some(tree.ends(self.id).0).filter(|&id| id != NONE),
            move |&id| Some(tree.node(id).next).filter(|&id| id != NONE),
        )
        .map(move |id| Item { tree, id })
    }

    pub(super) fn as_str(self) -> Option<&'a str> {
        match self.node().data {
            Data::String(text) => Some(self.tree.str(text)),
            _ => None,
        }
    }

    pub(super) fn as_bool(self) -> Option<bool> {
        match self.node().data {
            Data::Boolean(b) => Some(b),
            _ => None,
        }
    }

    pub(super) fn as_integer(self) -> Option<i64> {
        match self.node().data {
            Data::Integer(i) => self.tree.integers.get(i as usize).copied(),
            _ => None,
        }
    }

    fn as_float(self) -> Option<f64> {
        match self.node().data {
            Data::Float(i) => self.tree.floats.get(i as usize).copied(),
            _ => None,
        }
    }

    pub(super) fn as_datetime(self) -> Option<&'a Datetime> {
        match self.node().data {
            Data::Datetime(i) => self.tree.datetimes.get(i as usize),
            _ => None,
        }
    }

    /// The value as toml_edit would print it, for help text like `quote it: "7"`; `None` for
    /// tables and arrays of tables, which are not values.
    pub(super) fn to_value(self) -> Option<Value> {
        let node = self.node();
        Some(match node.data {
            Data::Integer(_) => Value::from(self.as_integer()?),
            Data::Float(_) => Value::from(self.as_float()?),
            Data::Boolean(b) => Value::from(b),
            Data::String(text) => Value::from(self.tree.str(text)),
            Data::Datetime(_) => Value::from(*self.as_datetime()?),
            Data::Children { .. } => match node.kind {
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
