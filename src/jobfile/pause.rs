//! `jobrun pause` and `jobrun resume`: set the `paused` key of jobs, changing only the bytes
//! that say it.
//!
//! As in `removal.rs`, the change is spliced into the text at spans from toml_edit's spanned
//! `Document` rather than printed from an edited `DocumentMut`, which would normalise what it
//! did not touch (CRLF, a missing final newline, spacing). Where the key goes depends on how the
//! job is written:
//! - a `paused` key already there: its value is rewritten in place (a comment after it stays);
//! - `[jobs.NAME]`: a line `paused = true` after the table's last key, with that line's
//!   indentation and line ending;
//! - dotted keys (`NAME.cron = …` under `[jobs]`, or `jobs.NAME.cron = …` at the top): a line
//!   `NAME.paused = true` (or `jobs.NAME.paused = true`) after the job's last key;
//! - an inline table (`NAME = { … }`, also inside `jobs = { … }`): `, paused = true` after its
//!   last value.
//!
//! `[defaults]` cannot hold `paused` (the loader refuses it), so a job's own key decides alone.
//! Jobs already in the wanted state are not touched; when none needs a change the file is not
//! written at all.

use std::ops::Range;
use std::path::Path;

use crate::zone::Tz;
use toml_edit::{Document, InlineTable, Item, Table, Value};

use super::edit::{EditError, Existing};
use super::removal::{collect_headerless_values, is_headed};

/// What `pause` or `resume` did to one named job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseChange {
    pub name: String,
    /// False when the job was already in the wanted state.
    pub changed: bool,
}

/// Sets `paused` on the named jobs (all of them, or none when one is unknown) and reports each
/// name once, in the order given.
pub fn set_paused(
    path: &Path,
    names: &[String],
    paused: bool,
    local_tz: Tz,
) -> Result<Vec<PauseChange>, EditError> {
    let existing = Existing::read(path, local_tz)?;
    existing.check_names(names)?;
    let mut changes: Vec<PauseChange> = Vec::new();
    for name in names {
        if !changes.iter().any(|c| &c.name == name) {
            let changed = existing
                .jobfile
                .job(name)
                .is_some_and(|j| j.paused != paused);
            changes.push(PauseChange {
                name: name.clone(),
                changed,
            });
        }
    }
    let to_change: Vec<&str> = changes
        .iter()
        .filter(|c| c.changed)
        .map(|c| c.name.as_str())
        .collect();
    if to_change.is_empty() {
        return Ok(changes);
    }
    let unwritable = |name: &str| EditError::PausedUnwritable {
        name: name.to_owned(),
        path: path.into(),
    };
    let new_text = with_paused(&existing.text, &to_change, paused).map_err(unwritable)?;
    let result = existing.validate(&new_text, local_tz)?;
    // The splice follows the forms listed above; a form it did not foresee must not be written
    // as if it had worked.
    if let Some(name) = to_change
        .iter()
        .find(|n| result.job(n).is_none_or(|j| j.paused != paused))
    {
        return Err(unwritable(name));
    }
    existing.write(&new_text)?;
    Ok(changes)
}

/// Text to put in place of a range of the original.
struct Splice {
    at: Range<usize>,
    text: String,
}

/// `text` with `paused = {paused}` in each named job, or the first job that has no place for
/// the key. The caller has checked that the text is valid and has these jobs.
fn with_paused<'n>(text: &str, names: &[&'n str], paused: bool) -> Result<String, &'n str> {
    let Some(first) = names.first() else {
        return Ok(text.to_owned());
    };
    let doc = Document::parse(text).map_err(|_| *first)?;
    let mut splices = Vec::with_capacity(names.len());
    for name in names {
        splices.push(splice_for(&doc, text, name, paused).ok_or(*name)?);
    }
    splices.sort_by_key(|s| std::cmp::Reverse(s.at.start));
    let mut out = text.to_owned();
    for splice in splices {
        out.replace_range(splice.at, &splice.text);
    }
    Ok(out)
}

fn splice_for(doc: &Document<&str>, text: &str, name: &str, paused: bool) -> Option<Splice> {
    let jobs = doc.get("jobs")?;
    let job = jobs.get(name)?;
    let value = if paused { "true" } else { "false" };
    if let Some(existing) = job.get("paused") {
        return Some(Splice {
            at: existing.as_value()?.span()?,
            text: value.to_owned(),
        });
    }
    match job {
        Item::Table(table) if is_headed(table) => {
            let mut spans = Vec::new();
            for (_, child) in table.iter() {
                collect_headerless_values(child, &mut spans);
            }
            let last = last_value(spans).or_else(|| table.span())?;
            Some(new_line_after(text, last, &format!("paused = {value}")))
        }
        Item::Table(table) if table.is_dotted() => {
            let mut spans = Vec::new();
            collect_headerless_values(job, &mut spans);
            let prefix = if jobs.as_table().is_some_and(Table::is_dotted) {
                "jobs."
            } else {
                ""
            };
            Some(new_line_after(
                text,
                last_value(spans)?,
                &format!("{prefix}{name}.paused = {value}"),
            ))
        }
        Item::Value(Value::InlineTable(table)) => {
            let mut spans = Vec::new();
            inline_values(table, &mut spans);
            let end = last_value(spans)?.end;
            Some(Splice {
                at: end..end,
                text: format!(", paused = {value}"),
            })
        }
        _ => None,
    }
}

/// The span that ends last: the job's last key-value in the file.
fn last_value(spans: Vec<Range<usize>>) -> Option<Range<usize>> {
    spans.into_iter().max_by_key(|s| s.end)
}

/// Spans of the values of an inline table, through dotted keys (`{ env.A = "1" }`).
fn inline_values(table: &InlineTable, out: &mut Vec<Range<usize>>) {
    for (_, value) in table.iter() {
        match value {
            Value::InlineTable(inner) if inner.is_dotted() => inline_values(inner, out),
            _ => out.extend(value.span()),
        }
    }
}

/// A new line holding `line` after the line that `last` ends on, indented like the line it
/// starts on (a key's line, even when its value spans several) and ended like it. At the end of
/// a file without a final newline the new line comes after one and has none itself.
fn new_line_after(text: &str, last: Range<usize>, line: &str) -> Splice {
    let line_start = text[..last.start].rfind('\n').map_or(0, |i| i + 1);
    let indent_len = text[line_start..]
        .find(|c: char| c != ' ' && c != '\t')
        .unwrap_or(0);
    let indent = &text[line_start..line_start + indent_len];
    match text[last.end..].find('\n').map(|i| last.end + i) {
        Some(newline) => {
            let ending = if text[..newline].ends_with('\r') {
                "\r\n"
            } else {
                "\n"
            };
            Splice {
                at: newline + 1..newline + 1,
                text: format!("{indent}{line}{ending}"),
            }
        }
        None => {
            let ending = if text.contains("\r\n") { "\r\n" } else { "\n" };
            Splice {
                at: text.len()..text.len(),
                text: format!("{ending}{indent}{line}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pause(text: &str, names: &[&str]) -> String {
        with_paused(text, names, true).expect("writable")
    }

    fn resume(text: &str, names: &[&str]) -> String {
        with_paused(text, names, false).expect("writable")
    }

    #[test]
    fn a_table_without_the_key_gets_it_after_its_last_key() {
        let text = "# jobs\n[jobs.a]\ncron = \"* * * * *\"\ncommand = [\"x\"]  # run x\n\n# next\n[jobs.b]\nevery = \"1h\"\ncommand = [\"y\"]\n";
        assert_eq!(
            pause(text, &["a"]),
            "# jobs\n[jobs.a]\ncron = \"* * * * *\"\ncommand = [\"x\"]  # run x\npaused = true\n\n# next\n[jobs.b]\nevery = \"1h\"\ncommand = [\"y\"]\n"
        );
    }

    #[test]
    fn the_new_line_follows_a_multi_line_value_and_takes_the_key_lines_indentation() {
        let text = "[jobs.a]\n  every = \"1h\"\n  command = [\n\"x\",\n]\n";
        assert_eq!(
            pause(text, &["a"]),
            "[jobs.a]\n  every = \"1h\"\n  command = [\n\"x\",\n]\n  paused = true\n"
        );
    }

    #[test]
    fn sub_tables_stay_below_the_new_key() {
        let text = "[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\nenv.A = \"1\"\n\n[jobs.a.more]\nB = 2\n\n[[jobs.a.list]]\nC = 3\n";
        assert_eq!(
            pause(text, &["a"]),
            "[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\nenv.A = \"1\"\npaused = true\n\n[jobs.a.more]\nB = 2\n\n[[jobs.a.list]]\nC = 3\n"
        );
    }

    #[test]
    fn an_existing_value_is_rewritten_in_place_keeping_its_comment() {
        let text = "[jobs.a]\nevery = \"1h\"\npaused   =   false # for now\ncommand = [\"x\"]\n";
        let paused = pause(text, &["a"]);
        assert_eq!(
            paused,
            "[jobs.a]\nevery = \"1h\"\npaused   =   true # for now\ncommand = [\"x\"]\n"
        );
        assert_eq!(resume(&paused, &["a"]), text);
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_kept() {
        let text = "[jobs.a]\r\nevery = \"1h\"\r\ncommand = [\"x\"]\r\n\r\n[jobs.b]\r\nevery = \"2h\"\r\ncommand = [\"y\"]";
        assert_eq!(
            pause(text, &["a", "b"]),
            "[jobs.a]\r\nevery = \"1h\"\r\ncommand = [\"x\"]\r\npaused = true\r\n\r\n[jobs.b]\r\nevery = \"2h\"\r\ncommand = [\"y\"]\r\npaused = true"
        );
        assert_eq!(
            pause("[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]", &["a"]),
            "[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\npaused = true"
        );
    }

    #[test]
    fn inline_tables_get_the_key_after_their_last_value() {
        let text = "[jobs]\na = { every = \"1h\", command = [\"x\"] }  # a\nb = { every = \"2h\", env.A = \"1\", command = [\"y\"], paused = false }\n";
        assert_eq!(
            pause(text, &["a", "b"]),
            "[jobs]\na = { every = \"1h\", command = [\"x\"], paused = true }  # a\nb = { every = \"2h\", env.A = \"1\", command = [\"y\"], paused = true }\n"
        );
        assert_eq!(
            pause(
                "jobs = { a = { every = \"1h\", command = [\"x\"] } }",
                &["a"]
            ),
            "jobs = { a = { every = \"1h\", command = [\"x\"], paused = true } }"
        );
    }

    #[test]
    fn dotted_jobs_get_a_dotted_key_after_their_last_line() {
        let text = "[jobs]\na.every = \"1h\"\nb.every = \"2h\"\na.command = [\"x\"] # a\nb.command = [\"y\"]\n";
        assert_eq!(
            pause(text, &["a"]),
            "[jobs]\na.every = \"1h\"\nb.every = \"2h\"\na.command = [\"x\"] # a\na.paused = true\nb.command = [\"y\"]\n"
        );
        assert_eq!(
            pause("jobs.a.every = \"1h\"\njobs.a.command = [\"x\"]\n", &["a"]),
            "jobs.a.every = \"1h\"\njobs.a.command = [\"x\"]\njobs.a.paused = true\n"
        );
        assert_eq!(
            resume(
                "[jobs]\na.every = \"1h\"\na.paused = true\na.command = [\"x\"]\n",
                &["a"]
            ),
            "[jobs]\na.every = \"1h\"\na.paused = false\na.command = [\"x\"]\n"
        );
    }

    #[test]
    fn a_job_that_is_not_there_has_no_place_for_the_key() {
        assert_eq!(
            with_paused("[jobs.a]\nevery = \"1h\"\n", &["b"], true),
            Err("b")
        );
    }

    fn jobfile(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
        let path = dir.path().join("jobrun.toml");
        std::fs::write(&path, text).expect("write");
        path
    }

    fn changes(list: &[(&str, bool)]) -> Vec<PauseChange> {
        list.iter()
            .map(|(name, changed)| PauseChange {
                name: (*name).to_owned(),
                changed: *changed,
            })
            .collect()
    }

    const TWO: &str = "[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\n\n[jobs.b]\nevery = \"2h\"\ncommand = [\"y\"]\npaused = true\n";

    #[test]
    fn set_paused_reports_each_name_once_and_changes_only_what_differs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = jobfile(&dir, TWO);
        let names = ["b", "a", "b"].map(String::from);
        assert_eq!(
            set_paused(&path, &names, true, Tz::UTC).expect("paused"),
            changes(&[("b", false), ("a", true)])
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            TWO.replace("[\"x\"]\n", "[\"x\"]\npaused = true\n")
        );
    }

    #[test]
    fn nothing_to_change_leaves_the_file_untouched() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = jobfile(&dir, TWO);
        let before = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let names = ["a".to_owned()];
        assert_eq!(
            set_paused(&path, &names, false, Tz::UTC).expect("resumed"),
            changes(&[("a", false)])
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), TWO);
        assert_eq!(
            std::fs::metadata(&path).and_then(|m| m.modified()).ok(),
            before
        );
    }

    #[test]
    fn an_unknown_name_changes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = jobfile(&dir, TWO);
        let names = ["a", "bb", "zzz"].map(String::from);
        let err = set_paused(&path, &names, true, Tz::UTC).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            format!(
                "no jobs named \"bb\", \"zzz\" in {} (did you mean \"b\" for \"bb\"?)",
                path.display()
            )
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), TWO);
    }
}
