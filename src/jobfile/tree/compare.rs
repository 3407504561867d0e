//! The tree against toml_edit, its oracle: both parsers' answers for one text, side by side.
//! The unit tests (`tests.rs`) and the fuzz target `jobfile_tree` (`fuzz/`) hold the tree to it.
//!
//! Both accept or both refuse a text; what they accept reads the same (keys in the same order,
//! kinds, values, spans, and values printed the same in help text), and what they refuse is
//! refused with the same message at the same place. One place differs on purpose: a dotted key
//! nested past the limit, which toml_edit reports at no place (so at 1:1) and the tree at the
//! first key past the limit.

use std::fmt::Write as _;

use toml_edit::{Document, Item as EditItem, TableLike, Value};

use super::Item;
use super::build::{build, message};

fn span(range: Option<std::ops::Range<usize>>) -> String {
    range.map_or_else(|| "-".to_owned(), |r| format!("{}..{}", r.start, r.end))
}

/// toml_edit's view: one line per key or element, depth first.
fn dump_edit(out: &mut String, depth: usize, key: &str, key_span: String, item: &EditItem) {
    let pad = "  ".repeat(depth);
    let (kind, text) = match item {
        EditItem::None => ("none", String::new()),
        EditItem::Table(_) => ("a table", String::new()),
        EditItem::ArrayOfTables(_) => ("an array of tables", String::new()),
        EditItem::Value(v) => (edit_kind(v), edit_scalar(v)),
    };
    let _ = writeln!(
        out,
        "{pad}{key:?} @{key_span} {kind} @{} {text}",
        span(item.span())
    );
    match item {
        EditItem::Table(t) => dump_edit_table(out, depth + 1, t),
        EditItem::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                let _ = writeln!(out, "{pad}  [{i}] @{}", span(t.span()));
                dump_edit_table(out, depth + 2, t);
            }
        }
        EditItem::Value(v) => dump_edit_value(out, depth + 1, v),
        EditItem::None => {}
    }
}

fn dump_edit_table(out: &mut String, depth: usize, table: &dyn TableLike) {
    for (key, _) in table.iter() {
        if let Some((key, item)) = table.get_key_value(key) {
            dump_edit(out, depth, key.get(), span(key.span()), item);
        }
    }
}

fn dump_edit_value(out: &mut String, depth: usize, value: &Value) {
    match value {
        Value::Array(a) => {
            for v in a.iter() {
                let _ = writeln!(
                    out,
                    "{}- {} @{} {}",
                    "  ".repeat(depth),
                    edit_kind(v),
                    span(v.span()),
                    edit_scalar(v)
                );
                dump_edit_value(out, depth + 1, v);
            }
        }
        Value::InlineTable(t) => dump_edit_table(out, depth, t),
        _ => {}
    }
}

fn edit_kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(dt) => match (dt.value().date, dt.value().time) {
            (Some(_), Some(_)) => "a date-time",
            (Some(_), None) => "a date",
            _ => "a time",
        },
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

fn edit_scalar(value: &Value) -> String {
    let shown = match value {
        Value::String(s) => format!("{:?}", s.value()),
        Value::Integer(n) => n.value().to_string(),
        Value::Float(f) => format!("{:?}", f.value()),
        Value::Boolean(b) => b.value().to_string(),
        Value::Datetime(dt) => dt.value().to_string(),
        Value::Array(_) | Value::InlineTable(_) => String::new(),
    };
    format!("{shown} printed {}", value.to_string().trim())
}

/// The tree's view, in the same format.
fn dump_tree(out: &mut String, depth: usize, key: &str, key_span: String, item: Item<'_>) {
    let pad = "  ".repeat(depth);
    let text = tree_scalar(item);
    let _ = writeln!(
        out,
        "{pad}{key:?} @{key_span} {} @{} {text}",
        item.kind(),
        span(Some(item.span()))
    );
    if item.is_array_of_tables() {
        for (i, t) in item.elements().enumerate() {
            let _ = writeln!(out, "{pad}  [{i}] @{}", span(Some(t.span())));
            dump_tree_table(out, depth + 2, t);
        }
    } else if item.is_array() {
        dump_tree_array(out, depth + 1, item);
    } else {
        dump_tree_table(out, depth + 1, item);
    }
}

fn dump_tree_table(out: &mut String, depth: usize, table: Item<'_>) {
    for entry in table.entries() {
        dump_tree(
            out,
            depth,
            entry.key,
            span(Some(entry.key_span)),
            entry.item,
        );
    }
}

fn dump_tree_array(out: &mut String, depth: usize, array: Item<'_>) {
    for v in array.elements() {
        let _ = writeln!(
            out,
            "{}- {} @{} {}",
            "  ".repeat(depth),
            v.kind(),
            span(Some(v.span())),
            tree_scalar(v)
        );
        if v.is_array() {
            dump_tree_array(out, depth + 1, v);
        } else {
            dump_tree_table(out, depth + 1, v);
        }
    }
}

fn tree_scalar(item: Item<'_>) -> String {
    let Some(value) = item.to_value() else {
        return String::new();
    };
    let shown = if let Some(s) = item.as_str() {
        format!("{s:?}")
    } else if let Some(n) = item.as_integer() {
        n.to_string()
    } else if let Some(b) = item.as_bool() {
        b.to_string()
    } else if let Some(dt) = item.as_datetime() {
        dt.to_string()
    } else if let Value::Float(f) = &value {
        format!("{:?}", f.value())
    } else {
        String::new()
    };
    format!("{shown} printed {}", value.to_string().trim())
}

/// Both parsers' answers for `text`, the tree's lexed `chunk` tokens at a time: `Err` saying
/// how when they disagree.
pub(crate) fn compare(text: &str, chunk: usize) -> Result<(), String> {
    let edit = Document::parse(text);
    let ours = build(text, chunk);
    match (edit, ours) {
        (Ok(doc), Ok(tree)) => {
            let mut expected = String::new();
            dump_edit_table(&mut expected, 0, doc.as_table());
            let mut actual = String::new();
            dump_tree_table(&mut actual, 0, tree.root());
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "{text:?} (chunk {chunk}) reads differently:\n--- toml_edit\n{expected}--- tree\n{actual}"
                ))
            }
        }
        (Err(expected), Err(actual)) => {
            let mut expected = (expected.span(), expected.message().to_owned());
            if expected == (None, "recursion limit".to_owned())
                && actual.description() == "recursion limit"
            {
                expected.0 = actual.unexpected().map(|s| s.start()..s.end());
            }
            let actual = (
                actual.unexpected().map(|s| s.start()..s.end()),
                message(&actual),
            );
            if expected == actual {
                Ok(())
            } else {
                Err(format!(
                    "{text:?} (chunk {chunk}) is refused differently:\n  toml_edit {expected:?}\n  tree      {actual:?}"
                ))
            }
        }
        (Ok(_), Err(e)) => Err(format!(
            "{text:?} (chunk {chunk}): toml_edit accepts it, the tree refuses it: {e:?}"
        )),
        (Err(e), Ok(_)) => Err(format!(
            "{text:?} (chunk {chunk}): the tree accepts it, toml_edit refuses it: {e}"
        )),
    }
}
