//! Located jobfile errors and their rustc-like rendering, which `jobrun check` prints verbatim:
//!
//! ```text
//! jobrun: error: jobs.report.cron: day-of-month value 32 is out of range (expected 1-31)
//!   --> jobrun.toml:3:13
//!    |
//!  3 | cron = "0 0 32 * *"
//!    |             ^^
//!    = help: ...
//! ```
//!
//! This file owns the layout only; the messages are written where the problems are found.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem of the jobfile, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The jobfile, as the user named it.
    pub path: PathBuf,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, in characters.
    pub column: usize,
    /// Byte range in the file.
    pub span: Range<usize>,
    /// Dotted path of the value, like `jobs.report.all[1].every`; empty for TOML syntax errors.
    pub field: String,
    pub message: String,
    pub help: Option<String>,
    /// The text of line `line` shown under the location, without its line ending: around the
    /// span only when the line is longer than `SHOWN_CHARS` (`…` marks a cut), and with
    /// control characters other than tab shown as `�` (U+FFFD), so that neither a 4 MiB line
    /// nor an escape sequence in the file reaches the terminal.
    pub source_line: String,
    /// 1-based column of `span.start` in `source_line`, in characters.
    pub source_column: usize,
}

/// The most characters of a source line a diagnostic shows.
pub(super) const SHOWN_CHARS: usize = 160;

/// How many characters before the span a clipped line keeps.
const SHOWN_BEFORE: usize = 60;

/// Every problem of one jobfile, in file order, up to [`MAX_DIAGNOSTICS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    pub path: PathBuf,
    pub errors: Vec<Diagnostic>,
    /// Problems found beyond [`MAX_DIAGNOSTICS`], counted but not shown.
    pub omitted: usize,
}

/// The most problems of one file reported one by one: a file that is not a jobfile at all can
/// have a problem every few bytes, and nobody reads past the first screens.
pub const MAX_DIAGNOSTICS: usize = 100;

impl std::error::Error for Diagnostics {}

/// Maps byte offsets of one file to lines and columns.
#[derive(Debug)]
pub(super) struct SourceFile<'a> {
    path: &'a Path,
    text: &'a str,
    /// Byte offset at which each line starts; worked out at the first diagnostic, so that a
    /// valid file (the usual case) never pays for it.
    line_starts: OnceCell<Vec<usize>>,
}

impl<'a> SourceFile<'a> {
    pub(super) fn new(path: &'a Path, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            path,
            text,
            line_starts: OnceCell::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    pub(super) fn text(&self) -> &'a str {
        self.text
    }

    /// A diagnostic at `span` (clamped to the file, and to character boundaries).
    pub(super) fn diagnostic(
        &self,
        span: Range<usize>,
        field: &str,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let start = floor_char_boundary(self.text, span.start.min(self.text.len()));
        let end = floor_char_boundary(self.text, span.end.clamp(start, self.text.len()));
        let line_starts = self.line_starts();
        let index = line_starts.partition_point(|&s| s <= start) - 1;
        let line_start = line_starts[index];
        let line_end = line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        let line = self.text[line_start..line_end].trim_end_matches('\r');
        let column = self.text[line_start..start].chars().count() + 1;
        let (source_line, source_column) = excerpt(line, column);
        Diagnostic {
            path: self.path.to_path_buf(),
            line: index + 1,
            column,
            span: start..end,
            field: field.to_owned(),
            message,
            help,
            source_line,
            source_column,
        }
    }
}

/// The part of `line` a diagnostic at `column` shows, and the column in it (see
/// [`Diagnostic::source_line`]).
pub(crate) fn excerpt(line: &str, column: usize) -> (String, usize) {
    let shown = |c: char| {
        if c.is_control() && c != '\t' {
            '\u{fffd}'
        } else {
            c
        }
    };
    if line.chars().nth(SHOWN_CHARS).is_none() {
        return (line.chars().map(shown).collect(), column);
    }
    let skip = (column - 1).saturating_sub(SHOWN_BEFORE);
    let mut text = String::new();
    let mut source_column = column - skip;
    if skip > 0 {
        text.push('…');
        source_column += 1;
    }
    let mut rest = line.chars().skip(skip);
    text.extend(rest.by_ref().take(SHOWN_CHARS).map(shown));
    if rest.next().is_some() {
        text.push('…');
    }
    (text, source_column)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl Diagnostic {
    /// How many carets mark the span: one per character on the span's first line, at least one.
    fn caret_count(&self) -> usize {
        // The span is in bytes of the file; count the characters it covers on this line.
        let mut bytes = 0;
        let covered = self
            .source_line
            .chars()
            .skip(self.source_column - 1)
            .take_while(|c| {
                let inside = bytes < self.span.len();
                bytes += c.len_utf8();
                inside
            })
            .count();
        covered.max(1)
    }
}

impl fmt::Display for Diagnostic {
    /// One diagnostic, without a trailing newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.line.to_string().len();
        let gutter = " ".repeat(width + 1);
        if self.field.is_empty() {
            writeln!(f, "jobrun: error: {}", self.message)?;
        } else {
            writeln!(f, "jobrun: error: {}: {}", self.field, self.message)?;
        }
        writeln!(
            f,
            "{gutter}--> {}:{}:{}",
            self.path.display(),
            self.line,
            self.column
        )?;
        writeln!(f, "{gutter} |")?;
        if self.source_line.is_empty() {
            writeln!(f, " {:>width$} |", self.line)?;
        } else {
            writeln!(f, " {:>width$} | {}", self.line, self.source_line)?;
        }
        // Tabs before the span stay tabs, so the carets line up however the terminal shows them.
        let pad: String = self
            .source_line
            .chars()
            .take(self.source_column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{gutter} | {pad}{}", "^".repeat(self.caret_count()))?;
        if let Some(help) = &self.help {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Diagnostics {
    /// Every diagnostic, a blank line between them, then a count when there are several; ends
    /// with exactly one newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        let total = self.errors.len() + self.omitted;
        if total >= 2 {
            write!(f, "\n\njobrun: {total} errors in {}", self.path.display())?;
        }
        if self.omitted > 0 {
            write!(f, " (the first {} shown)", self.errors.len())?;
        }
        f.write_str("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, span: Range<usize>, help: Option<&str>) -> String {
        let source = SourceFile::new(Path::new("jobrun.toml"), text);
        let d = source.diagnostic(span, "jobs.x.cron", "bad".into(), help.map(str::to_owned));
        Diagnostics {
            path: "jobrun.toml".into(),
            errors: vec![d],
            omitted: 0,
        }
        .to_string()
    }

    #[test]
    fn a_single_diagnostic_has_no_count_line() {
        let text = "[jobs.x]\ncron = \"0 0 32 * *\"\n";
        let start = text.find("32").unwrap();
        assert_eq!(
            render(text, start..start + 2, Some("days run 1-31")),
            "jobrun: error: jobs.x.cron: bad\n  --> jobrun.toml:2:13\n   |\n 2 | cron = \"0 0 32 * *\"\n   |             ^^\n   = help: days run 1-31\n"
        );
    }

    #[test]
    fn the_gutter_widens_with_the_line_number() {
        let text = format!("{}cron = 1\n", "\n".repeat(11));
        let start = text.find('1').unwrap();
        assert_eq!(
            render(&text, start..start + 1, None),
            "jobrun: error: jobs.x.cron: bad\n   --> jobrun.toml:12:8\n    |\n 12 | cron = 1\n    |        ^\n"
        );
    }

    #[test]
    fn columns_count_characters_and_carets_cover_characters() {
        let text = "name = \"café\" x\n";
        let start = text.find('x').unwrap();
        let d = SourceFile::new(Path::new("j"), text).diagnostic(
            start..start + 1,
            "",
            "m".into(),
            None,
        );
        assert_eq!((d.line, d.column), (1, 15));
        let start = text.find('"').unwrap();
        let d = SourceFile::new(Path::new("j"), text).diagnostic(
            start..start + 7,
            "",
            "m".into(),
            None,
        );
        assert_eq!(d.caret_count(), 6, "\"café\" is 6 characters in 7 bytes");
    }

    #[test]
    fn a_multi_line_span_is_marked_to_the_end_of_its_first_line() {
        let out = render("cmd = [\n  1,\n]\n", 6..14, None);
        assert!(out.contains("\n 1 | cmd = [\n   |       ^\n"), "{out}");
    }

    #[test]
    fn an_empty_span_at_the_end_of_the_file_gets_one_caret_on_an_empty_line() {
        let out = render("a = 1\n", 6..6, None);
        assert!(
            out.ends_with("--> jobrun.toml:2:1\n   |\n 2 |\n   | ^\n"),
            "{out}"
        );
    }

    #[test]
    fn tabs_before_the_span_are_kept_in_the_padding_and_crlf_is_not_shown() {
        let out = render("\tcron = 5\r\n", 8..9, None);
        assert!(
            out.contains(" 1 | \tcron = 5\n   | \t       ^\n"),
            "{out:?}"
        );
    }

    #[test]
    fn several_diagnostics_are_separated_by_a_blank_line_and_counted() {
        let text = "a = 1\nb = 2\n";
        let source = SourceFile::new(Path::new("dir/jobrun.toml"), text);
        let errors = vec![
            source.diagnostic(0..1, "a", "first".into(), None),
            source.diagnostic(6..7, "b", "second".into(), None),
        ];
        assert_eq!(
            Diagnostics {
                path: "dir/jobrun.toml".into(),
                errors,
                omitted: 0,
            }
            .to_string(),
            "jobrun: error: a: first\n  --> dir/jobrun.toml:1:1\n   |\n 1 | a = 1\n   | ^\n\n\
             jobrun: error: b: second\n  --> dir/jobrun.toml:2:1\n   |\n 2 | b = 2\n   | ^\n\n\
             jobrun: 2 errors in dir/jobrun.toml\n"
        );
    }

    /// Issue 12: a 22 MB one-line table printed its line whole, twice (62 MB of stderr).
    #[test]
    fn a_long_line_is_shown_around_the_span_only() {
        let text = format!("x = {{ {}bad }}\n", "k = 1, ".repeat(100_000));
        let start = text.find("bad").unwrap();
        let out = render(&text, start..start + 3, None);
        assert!(out.len() < 600, "{} bytes:\n{out}", out.len());
        assert!(out.contains("  --> jobrun.toml:1:700007\n"), "{out}");
        let shown: Vec<&str> = out.lines().collect();
        let line = shown[3];
        let carets = shown[4];
        assert!(line.starts_with(" 1 | … 1, k = 1"), "{line}");
        // The carets stand under "bad" (everything before them is one byte a character).
        let at = carets.find('^').unwrap();
        let under: String = line.chars().skip(at).take(3).collect();
        assert_eq!(under, "bad", "{line}\n{carets}");
        assert!(carets.ends_with("^^^"), "{carets}");
    }

    #[test]
    fn a_short_line_is_shown_whole_and_a_span_near_the_start_is_not_cut_before() {
        let text = format!("cron = 5 {}\n", "y".repeat(300));
        let out = render(&text, 7..8, None);
        assert!(out.contains("\n 1 | cron = 5 yyy"), "{out}");
        assert!(out.contains("\n   |        ^\n"), "{out}");
        let source = SourceFile::new(Path::new("j"), "a = 1 # short\n");
        assert_eq!(
            source.diagnostic(0..1, "", "m".into(), None).source_line,
            "a = 1 # short"
        );
    }

    #[test]
    fn control_characters_in_the_shown_line_do_not_reach_the_terminal() {
        let out = render("# \u{1b}[2J\u{7}\r\u{9b}31m\tok\nx\n", 0..1, None);
        assert!(
            out.contains("\n 1 | # \u{fffd}[2J\u{fffd}\u{fffd}\u{fffd}31m\tok\n"),
            "{out:?}"
        );
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{9b}'),
            "{out:?}"
        );
    }

    #[test]
    fn beyond_the_cap_problems_are_counted_not_shown() {
        let source = SourceFile::new(Path::new("j.toml"), "a = 1\n");
        let diagnostics = Diagnostics {
            path: "j.toml".into(),
            errors: vec![source.diagnostic(0..1, "a", "bad".into(), None)],
            omitted: 41,
        };
        assert!(
            diagnostics
                .to_string()
                .ends_with("\n\njobrun: 42 errors in j.toml (the first 1 shown)\n"),
            "{diagnostics}"
        );
    }
}
