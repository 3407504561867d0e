//! A crontab read line by line as cron reads it (cronie's and Debian's `load_user`,
//! `load_env` and `load_entry`): blank lines, comments, environment settings, and entries split
//! into schedule, user and command, every piece with its place in the file.
//!
//! What counts as an environment setting is cron's own state machine (`load_env`): a name
//! (quoted or not), `=` with blanks allowed around it, and a value whose one pair of enclosing
//! quotes is stripped; anything else is read as an entry. Where cronie and Debian's cron differ
//! the reading is cronie's, which accepts more: `NAME=` with nothing after it is an empty
//! value (Debian reads such a line as a broken entry), and a value's quotes are stripped once
//! (Debian strips a second pair, `"'x'"` giving `x`). The fields themselves are checked in
//! `schedule.rs`; here they are only cut out.

use std::ops::Range;

use super::Problem;

/// A piece of a line and where it starts in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Piece<'a> {
    pub(super) text: &'a str,
    /// Byte offset in the file.
    pub(super) start: usize,
}

impl<'a> Piece<'a> {
    pub(super) fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    fn slice(&self, range: Range<usize>) -> Piece<'a> {
        Piece {
            text: &self.text[range.clone()],
            start: self.start + range.start,
        }
    }
}

/// One line of the crontab.
#[derive(Debug)]
pub(super) struct Line<'a> {
    /// 1-based.
    pub(super) number: usize,
    pub(super) kind: Kind<'a>,
}

#[derive(Debug)]
pub(super) enum Kind<'a> {
    Blank,
    /// The comment from its `#` on.
    Comment(&'a str),
    Env {
        name: String,
        value: String,
        /// The setting from its first character to the end of the line.
        piece: Piece<'a>,
    },
    Entry(Entry<'a>),
    Invalid(Problem),
}

/// A line that runs a command.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) schedule: Schedule<'a>,
    /// The user column of the system format.
    pub(super) user: Option<Piece<'a>>,
    /// Everything after the schedule (and user) and the blanks after them, as written.
    pub(super) command: Piece<'a>,
    /// cronie's `-` before the schedule: do not syslog the run.
    pub(super) no_log: bool,
    /// cronie's `-n` before the command: mail the output only when the run fails.
    pub(super) mail_on_error: bool,
}

#[derive(Debug)]
pub(super) enum Schedule<'a> {
    /// `@daily` and the like, `@reboot` included.
    Macro(Piece<'a>),
    /// Minute, hour, day of month, month, day of week.
    Fields([Piece<'a>; 5]),
}

/// The `@` schedules cron knows, spelled as it requires (lower case).
pub(super) const MACROS: [&str; 8] = [
    "@reboot",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

const FIELD_NAMES: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];

/// A whole crontab.
#[derive(Debug)]
pub(super) struct Lexed<'a> {
    pub(super) lines: Vec<Line<'a>>,
    /// The last line has no newline (cron ignores such a line).
    pub(super) missing_final_newline: bool,
    /// Lines ended in CRLF; the carriage returns were dropped.
    pub(super) crlf: bool,
}

/// Cron's blanks between fields.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// C's `isspace` in the C locale, which `load_env` uses.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Reads every line; `system` says whether entries have a user column.
pub(super) fn lex(text: &str, system: bool) -> Lexed<'_> {
    let mut lines = Vec::new();
    let mut crlf = false;
    let mut start = 0;
    let mut missing_final_newline = false;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line_start = start;
        start += raw.len();
        let without_newline = match raw.strip_suffix('\n') {
            Some(line) => line,
            None => {
                missing_final_newline = true;
                raw
            }
        };
        let content = match without_newline.strip_suffix('\r') {
            Some(line) => {
                crlf = true;
                line
            }
            None => without_newline,
        };
        let line = Piece {
            text: content,
            start: line_start,
        };
        lines.push(Line {
            number: index + 1,
            kind: classify(line, system),
        });
    }
    Lexed {
        lines,
        missing_final_newline,
        crlf,
    }
}

fn classify(line: Piece<'_>, system: bool) -> Kind<'_> {
    let indent = line.text.bytes().take_while(|&b| is_blank(b)).count();
    let rest = line.slice(indent..line.text.len());
    if rest.text.is_empty() {
        return Kind::Blank;
    }
    if rest.text.starts_with('#') {
        return Kind::Comment(rest.text);
    }
    if let Some((name, value)) = env_setting(rest.text) {
        return Kind::Env {
            name,
            value,
            piece: rest,
        };
    }
    match entry(rest, system) {
        Ok(entry) => Kind::Entry(entry),
        Err(problem) => Kind::Invalid(problem),
    }
}

/// `NAME=value` as cron's `load_env` reads it, or `None` when the line is not one.
pub(super) fn env_setting(line: &str) -> Option<(String, String)> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        NameStart,
        Name,
        BeforeEquals,
        AfterEquals,
        ValueStart,
        Value,
        Done,
        Error,
    }
    use State::*;
    let b = line.as_bytes();
    let (mut name, mut value) = (Vec::new(), Vec::new());
    let mut state = NameStart;
    let mut quote = None;
    let mut i = 0;
    while state != Error && i < b.len() {
        let c = b[i];
        match state {
            NameStart | ValueStart => {
                if c == b'\'' || c == b'"' {
                    quote = Some(c);
                    i += 1;
                }
                state = if state == NameStart { Name } else { Value };
            }
            Name | Value => {
                if let Some(q) = quote {
                    if c == q {
                        state = if state == Name { BeforeEquals } else { Done };
                        i += 1;
                        continue;
                    }
                    if state == Name && c == b'=' {
                        state = Error;
                        continue;
                    }
                } else if state == Name {
                    if is_space(c) {
                        i += 1;
                        state = BeforeEquals;
                        continue;
                    }
                    if c == b'=' {
                        state = BeforeEquals;
                        continue;
                    }
                }
                if state == Name {
                    name.push(c);
                } else {
                    value.push(c);
                }
                i += 1;
            }
            BeforeEquals => {
                if c == b'=' {
                    state = AfterEquals;
                    quote = None;
                } else if !is_space(c) {
                    state = Error;
                }
                i += 1;
            }
            AfterEquals | Done => {
                if is_space(c) {
                    i += 1;
                } else {
                    state = if state == AfterEquals {
                        ValueStart
                    } else {
                        Error
                    };
                }
            }
            Error => unreachable!("the loop stops at Error"),
        }
    }
    let unquoted_value = state == Value && quote.is_none();
    if !(state == Done || state == AfterEquals || unquoted_value) {
        return None;
    }
    if unquoted_value {
        while value.last().is_some_and(|&c| is_space(c)) {
            value.pop();
        }
    }
    // The state machine splits only at ASCII bytes, so both halves are still UTF-8.
    Some((
        String::from_utf8(name).ok()?,
        String::from_utf8(value).ok()?,
    ))
}

/// The end of the run of non-blanks starting at `from`.
fn word_end(text: &str, from: usize) -> usize {
    from + text[from..].bytes().take_while(|&b| !is_blank(b)).count()
}

fn skip_blanks(text: &str, from: usize) -> usize {
    from + text[from..].bytes().take_while(|&b| is_blank(b)).count()
}

fn problem(span: Range<usize>, message: impl Into<String>, help: Option<String>) -> Problem {
    Problem {
        span,
        message: message.into(),
        help,
    }
}

/// An entry, from the line's first non-blank character.
fn entry(line: Piece<'_>, system: bool) -> Result<Entry<'_>, Problem> {
    let text = line.text;
    let end_of_line = line.start + text.len();
    let missing_command = |what: &str| {
        problem(
            end_of_line..end_of_line,
            format!("the line ends after the {what}: the command is missing"),
            None,
        )
    };
    let no_log = text.starts_with('-');
    let mut pos = usize::from(no_log);
    let schedule = if text[pos..].starts_with('@') {
        let end = word_end(text, pos);
        let word = line.slice(pos..end);
        if !MACROS.contains(&word.text) {
            let help = format!("cron knows {}, written in lower case", MACROS.join(", "));
            return Err(problem(
                word.span(),
                format!("unknown schedule {:?}", word.text),
                Some(help),
            ));
        }
        pos = end;
        Schedule::Macro(word)
    } else {
        let mut fields = Vec::with_capacity(5);
        for (i, field) in FIELD_NAMES.iter().enumerate() {
            pos = skip_blanks(text, pos);
            if pos == text.len() {
                let message = if i == 0 {
                    "the line ends before the schedule".to_owned()
                } else {
                    format!(
                        "the line ends after {i} of the 5 time fields: the {field} and the command are missing"
                    )
                };
                let help = "a crontab line is minute hour day-of-month month day-of-week, then the command";
                return Err(problem(
                    end_of_line..end_of_line,
                    message,
                    Some(help.to_owned()),
                ));
            }
            let end = word_end(text, pos);
            fields.push(line.slice(pos..end));
            pos = end;
        }
        let fields: [Piece<'_>; 5] = fields
            .try_into()
            .unwrap_or_else(|_| unreachable!("five fields were pushed"));
        Schedule::Fields(fields)
    };
    pos = skip_blanks(text, pos);
    if pos == text.len() {
        return Err(missing_command("schedule"));
    }
    let sixth_field = |at: Piece<'_>| {
        problem(
            at.span(),
            format!(
                "{:?} after the schedule looks like a sixth time field",
                at.text
            ),
            Some("crontab has 5 time fields (no seconds); cron refuses this line".to_owned()),
        )
    };
    let user = if system {
        let end = word_end(text, pos);
        let user = line.slice(pos..end);
        if user.text.starts_with('*') {
            return Err(sixth_field(user));
        }
        pos = skip_blanks(text, end);
        if pos == text.len() {
            return Err(missing_command("user"));
        }
        Some(user)
    } else {
        if text[pos..].starts_with('*') {
            return Err(sixth_field(line.slice(pos..word_end(text, pos))));
        }
        None
    };
    let rest = &text[pos..];
    let mail_on_error =
        rest.starts_with("-n") && rest.as_bytes().get(2).is_some_and(|&b| is_blank(b));
    if mail_on_error {
        pos = skip_blanks(text, pos + 2);
        if pos == text.len() {
            return Err(missing_command("-n option"));
        }
    }
    Ok(Entry {
        schedule,
        user,
        command: line.slice(pos..text.len()),
        no_log,
        mail_on_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(line: &str) -> Option<(String, String)> {
        env_setting(line)
    }

    fn pair(name: &str, value: &str) -> Option<(String, String)> {
        Some((name.to_owned(), value.to_owned()))
    }

    #[test]
    fn environment_settings_as_cron_reads_them() {
        assert_eq!(env("PATH=/usr/bin:/bin"), pair("PATH", "/usr/bin:/bin"));
        assert_eq!(env("NAME = \"a value\""), pair("NAME", "a value"));
        assert_eq!(env("NAME='it''s'"), None, "text after the closing quote");
        assert_eq!(env("NAME='say \"hi\"'   "), pair("NAME", "say \"hi\""));
        assert_eq!(
            env("NAME=a b  c   "),
            pair("NAME", "a b  c"),
            "unquoted: trailing blanks go"
        );
        assert_eq!(
            env("NAME=b\"c\""),
            pair("NAME", "b\"c\""),
            "quotes inside stay"
        );
        assert_eq!(env("MAILTO=\"\""), pair("MAILTO", ""));
        assert_eq!(env("MAILTO="), pair("MAILTO", ""), "cronie: empty value");
        assert_eq!(env("\"QUOTED NAME\"=x"), pair("QUOTED NAME", "x"));
        assert_eq!(env("A=\"x\" # comment"), None);
        assert_eq!(env("A=\"unclosed"), None);
        assert_eq!(env("A=\""), None);
        assert_eq!(env("A= = b"), pair("A", "= b"));
        assert_eq!(env("* * * * * FOO=bar cmd"), None);
        assert_eq!(env("0 5 * * * x=1"), None);
        assert_eq!(env("FOO BAR=1"), None);
    }

    fn only_kind(text: &str, system: bool) -> Kind<'_> {
        let mut lexed = lex(text, system);
        assert_eq!(lexed.lines.len(), 1);
        lexed.lines.remove(0).kind
    }

    fn entry_of(text: &str, system: bool) -> Entry<'_> {
        match only_kind(text, system) {
            Kind::Entry(entry) => entry,
            other => panic!("{other:?}"),
        }
    }

    fn problem_of(text: &str, system: bool) -> (Range<usize>, String) {
        match only_kind(text, system) {
            Kind::Invalid(p) => (p.span, p.message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entries_are_cut_into_fields_user_and_command() {
        let e = entry_of(
            "  5-55/10 *\t* * *   root   command -v x > /dev/null  \n",
            true,
        );
        let Schedule::Fields(fields) = &e.schedule else {
            panic!("{:?}", e.schedule)
        };
        let texts: Vec<&str> = fields.iter().map(|f| f.text).collect();
        assert_eq!(texts, ["5-55/10", "*", "*", "*", "*"]);
        assert_eq!(fields[0].start, 2);
        assert_eq!(e.user.map(|u| u.text), Some("root"));
        assert_eq!(e.command.text, "command -v x > /dev/null  ");
        let e = entry_of("@daily\techo hi\n", false);
        assert!(matches!(e.schedule, Schedule::Macro(m) if m.text == "@daily"));
        assert_eq!((e.user, e.command.text), (None, "echo hi"));
    }

    #[test]
    fn cronie_line_options_are_recognised() {
        let e = entry_of("-*/5 * * * * -n  backup\n", false);
        assert!(e.no_log && e.mail_on_error);
        assert_eq!(e.command.text, "backup");
        let e = entry_of("* * * * * -nope\n", false);
        assert!(!e.mail_on_error);
        assert_eq!(e.command.text, "-nope");
    }

    #[test]
    fn broken_entries_say_what_is_missing_and_where() {
        assert_eq!(
            problem_of("5 4 * *\n", false),
            (
                7..7,
                "the line ends after 4 of the 5 time fields: the day-of-week and the command are missing".into()
            )
        );
        assert_eq!(
            problem_of("5 4 * * *   \n", false),
            (
                12..12,
                "the line ends after the schedule: the command is missing".into()
            )
        );
        assert_eq!(
            problem_of("5 4 * * * root\n", true),
            (
                14..14,
                "the line ends after the user: the command is missing".into()
            )
        );
        assert_eq!(
            problem_of("0 5 4 * * * echo\n", false).0,
            10..11,
            "a sixth field"
        );
        assert_eq!(problem_of("@Daily x\n", false).0, 0..6);
    }

    #[test]
    fn comments_blanks_and_line_endings() {
        let lexed = lex("# a\n \t\n  # b\r\nx=1", false);
        assert!(lexed.crlf && lexed.missing_final_newline);
        let kinds: Vec<String> = lexed
            .lines
            .iter()
            .map(|l| format!("{:?}", l.kind))
            .collect();
        assert_eq!(kinds[0], "Comment(\"# a\")");
        assert_eq!(kinds[1], "Blank");
        assert_eq!(kinds[2], "Comment(\"# b\")");
        assert!(
            kinds[3].starts_with("Env { name: \"x\", value: \"1\""),
            "{}",
            kinds[3]
        );
        assert_eq!(lexed.lines[3].number, 4);
    }
}
