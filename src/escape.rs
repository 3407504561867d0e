//! Control characters made visible before text from jobs reaches a person's terminal (issue 12):
//! a job's output, its run's messages and the words of its command. A CR or an ANSI sequence
//! written raw would let a job draw over jobrun's own lines (a fake `finished job=other`),
//! retitle the terminal, or hide what it printed. JSON output needs none of this: its strings
//! escape control characters already.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character but tab written as an escape: `\r`, `\n`, `\x1b` (C0
/// and DEL), `\u{9b}` (C1). A backslash stays as it is: escapes only need to be harmless, not
/// reversible, and most backslashes in output are a path's or a regex's.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if needs_escape(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_tabs_are_untouched() {
        assert!(matches!(visible("a\tb c:\\path é"), Cow::Borrowed(_)));
    }

    #[test]
    fn c0_del_and_c1_controls_are_escaped() {
        assert_eq!(
            visible("ok\r2026-11-24T10:00:00.000Z finished job=other\n"),
            "ok\\r2026-11-24T10:00:00.000Z finished job=other\\n"
        );
        assert_eq!(
            visible("\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}\u{7f}\u{9b}31m"),
            "\\x1b]0;owned\\x07\\x1b[2J\\x00\\x7f\\u{9b}31m"
        );
    }
}
