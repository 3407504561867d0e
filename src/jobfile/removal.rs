//! Which bytes of the jobfile a job occupies, so that removing it cuts exactly those and leaves
//! every other byte as it was.
//!
//! The cut is made in the text, at spans from toml_edit's spanned `Document`, rather than by
//! printing an edited `DocumentMut`: printing normalises what it did not touch (CRLF line ends,
//! a missing final newline, spacing inside sibling headers like `[ jobs . a ]`).
//!
//! A job written as `[jobs.NAME]` occupies its header, the comment lines directly above it (the
//! table's decor prefix, up to a blank line), its body up to the next header's prefix, and the
//! same for each of its sub-tables (`[jobs.NAME.env]`, `[[jobs.NAME.all]]`). A job written as a
//! key inside `[jobs]` (`NAME = { … }` or dotted `NAME.cron = …`) occupies those lines.

use std::ops::Range;

use toml_edit::{Document, Item, Table};

/// A table with a `[header]` (or `[[header]]`), in the file.
struct Header {
    path: Vec<String>,
    /// Where its decor prefix (blank and comment lines before the header) starts.
    prefix_start: usize,
    header_start: usize,
}

/// The text without the named jobs. The caller has checked that they all exist; `None` when a
/// job cannot be cut out of the text (jobs written inside an inline `jobs = { … }`).
pub(super) fn without_jobs(text: &str, names: &[&str]) -> Option<String> {
    let doc = Document::parse(text).ok()?;
    let jobs = doc.get("jobs")?;
    if jobs.is_value() {
        return None;
    }
    let mut headers = Vec::new();
    collect_headers(doc.as_table(), &mut Vec::new(), &mut headers);
    headers.sort_by_key(|h| h.header_start);
    let trailing_start = doc.trailing().span().map_or(text.len(), |s| s.start);
    let job_of = |h: &Header| -> Option<&str> {
        match h.path.as_slice() {
            [jobs, name, ..] if jobs == "jobs" => names.iter().copied().find(|n| n == name),
            _ => None,
        }
    };

    let mut cuts: Vec<Range<usize>> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let Some(job) = job_of(header) else { continue };
        let end = headers
            .get(i + 1)
            .map_or(trailing_start, |next| next.prefix_start);
        let continues_same_job =
            header.path.len() > 2 && i > 0 && job_of(&headers[i - 1]) == Some(job);
        let start = if continues_same_job {
            header.prefix_start
        } else {
            header.prefix_start + kept_prefix_len(&text[header.prefix_start..header.header_start])
        };
        cuts.push(start..end);
    }
    for name in names {
        let mut values = Vec::new();
        if let Some(item) = jobs.get(name) {
            collect_headerless_values(item, &mut values);
        }
        cuts.extend(values.into_iter().map(|span| value_lines(text, span)));
    }
    Some(apply_cuts(text, cuts))
}

pub(super) fn is_headed(table: &Table) -> bool {
    !table.is_dotted() && !table.is_implicit() && table.span().is_some()
}

fn collect_headers(table: &Table, path: &mut Vec<String>, out: &mut Vec<Header>) {
    if is_headed(table) {
        let header_start = table.span().map_or(0, |s| s.start);
        let prefix_start = table
            .decor()
            .prefix()
            .and_then(|p| p.span())
            .map_or(header_start, |s| s.start);
        out.push(Header {
            path: path.clone(),
            prefix_start,
            header_start,
        });
    }
    for (key, item) in table.iter() {
        path.push(key.to_owned());
        match item {
            Item::Table(t) => collect_headers(t, path, out),
            Item::ArrayOfTables(tables) => {
                tables.iter().for_each(|t| collect_headers(t, path, out))
            }
            _ => {}
        }
        path.pop();
    }
}

/// Spans of the values of `item` that sit outside any headed table's body: the key-value forms
/// of a job.
pub(super) fn collect_headerless_values(item: &Item, out: &mut Vec<Range<usize>>) {
    match item {
        Item::Value(value) => out.extend(value.span()),
        Item::Table(table) if !is_headed(table) => {
            for (_, child) in table.iter() {
                collect_headerless_values(child, out);
            }
        }
        _ => {}
    }
}

/// How much of a header's decor prefix stays: everything before the blank lines that separate
/// it from the comment lines attached to the header.
fn kept_prefix_len(prefix: &str) -> usize {
    let lines: Vec<&str> = prefix.split_inclusive('\n').collect();
    let mut i = lines.len();
    // Indentation before `[` is part of the header's line.
    if i > 0 && !lines[i - 1].ends_with('\n') {
        i -= 1;
    }
    while i > 0 && lines[i - 1].trim_start().starts_with('#') {
        i -= 1;
    }
    while i > 0 && lines[i - 1].trim().is_empty() {
        i -= 1;
    }
    lines[..i].iter().map(|l| l.len()).sum()
}

/// The whole lines a key-value occupies (its value may span lines), with the comment lines
/// directly above it.
fn value_lines(text: &str, value: Range<usize>) -> Range<usize> {
    let mut start = text[..value.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[value.end..]
        .find('\n')
        .map_or(text.len(), |i| value.end + i + 1);
    while start > 0 {
        let previous = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        if !text[previous..start].trim_start().starts_with('#') {
            break;
        }
        start = previous;
    }
    start..end
}

/// Removes the cuts (merged where they touch). Where a cut leaves the text at its start or
/// after a blank line, the blank lines that follow go too, so no gap is doubled.
fn apply_cuts(text: &str, mut cuts: Vec<Range<usize>>) -> String {
    cuts.sort_by_key(|c| c.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for cut in cuts {
        if cut.end <= at {
            continue;
        }
        out.push_str(&text[at..cut.start.max(at)]);
        at = cut.end;
        if out.is_empty() || out.ends_with("\n\n") || out.ends_with("\n\r\n") {
            while let Some(len) = blank_line_len(&text[at..]) {
                at += len;
            }
        }
    }
    out.push_str(&text[at..]);
    out
}

/// The length of the first line of `text` if it is blank and ends with a newline.
fn blank_line_len(text: &str) -> Option<usize> {
    let newline = text.find('\n')?;
    text[..newline].trim().is_empty().then_some(newline + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remove(text: &str, names: &[&str]) -> String {
        without_jobs(text, names).expect("removable")
    }

    const THREE: &str = "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n# the report\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = [\"./report.sh\"]\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n\n# last one\n[jobs.poll]\nevery = \"90s\"\ncommand = [\"./poll.sh\"]\n";

    #[test]
    fn removes_tables_with_their_attached_comments() {
        assert_eq!(
            remove(THREE, &["report", "poll"]),
            "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n"
        );
    }

    #[test]
    fn a_comment_separated_by_a_blank_line_stays() {
        let text =
            "# my jobs\n\n# the first\n[jobs.a]\nevery = \"1h\"\n\n[jobs.b]\nevery = \"2h\"\n";
        assert_eq!(
            remove(text, &["a"]),
            "# my jobs\n\n[jobs.b]\nevery = \"2h\"\n"
        );
    }

    #[test]
    fn removing_the_first_table_leaves_no_leading_blank_line() {
        let text = "[jobs.a]\nevery = \"1h\"\n\n[jobs.b]\nevery = \"2h\"\n";
        assert_eq!(remove(text, &["a"]), "[jobs.b]\nevery = \"2h\"\n");
    }

    #[test]
    fn sub_tables_and_arrays_of_tables_go_with_their_job_even_when_apart() {
        let text = "[jobs.a]\ncommand = [\"x\"]\n\n[[jobs.a.all]]\ncron = \"1 * * * *\"\n\n# env of a\n[jobs.a.env]\nK = \"v\"\n\n[jobs.b]\nevery = \"2h\"\n\n[jobs.a.more]\nx = 1\n";
        assert_eq!(remove(text, &["a"]), "[jobs.b]\nevery = \"2h\"\n");
    }

    #[test]
    fn trailing_comments_and_crlf_are_kept_as_they_are() {
        let text = "[jobs.a]\r\nevery = \"1h\"\r\n\r\n[ jobs . b ]\r\nevery = \"2h\"\r\n# the end";
        assert_eq!(
            remove(text, &["b"]),
            "[jobs.a]\r\nevery = \"1h\"\r\n# the end"
        );
    }

    #[test]
    fn key_value_jobs_lose_their_lines() {
        let text = "[jobs]\n# a\na = { every = \"1h\", command = [\n  \"x\",\n] }\nb.every = \"2h\" # b\nb.command = [\"y\"]\nc = { every = \"3h\" }\n";
        assert_eq!(
            remove(text, &["a", "b"]),
            "[jobs]\nc = { every = \"3h\" }\n"
        );
    }

    #[test]
    fn jobs_inside_an_inline_jobs_table_cannot_be_cut() {
        assert_eq!(
            without_jobs("jobs = { a = { every = \"1h\" } }\n", &["a"]),
            None
        );
    }

    #[test]
    fn the_kept_part_of_a_prefix_ends_before_the_attached_comments() {
        assert_eq!(kept_prefix_len("\n# attached\n"), 0);
        assert_eq!(
            kept_prefix_len("# file\n\n# attached\n  "),
            "# file\n".len()
        );
        assert_eq!(kept_prefix_len("# file\n\n"), "# file\n".len());
    }
}
