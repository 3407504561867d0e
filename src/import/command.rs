//! A crontab command as cron runs it: `%` cuts it into the command and its standard input
//! (`do_command.c`), and the command goes to `$SHELL -c`. jobrun runs it directly instead when
//! it has no shell syntax at all, which is the same thing without the shell.
//!
//! The command part: the first `%` not preceded by a backslash ends it, `\%` becomes `%`, and
//! `\\` becomes `\` (Debian's cron; cronie keeps both backslashes, see [`Split::cronie_differs`]).
//! The input part: `%` becomes a newline, `\%` a `%`, other backslashes stay, and a newline is
//! added when the text does not end in one (both crons).

/// A command cut at its `%`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Split {
    pub(super) command: String,
    /// `None` without a `%` or with nothing after it: the run reads an empty input either way.
    pub(super) stdin: Option<String>,
    /// The command had a `\\`, which Debian's cron reads as `\` and cronie as `\\`.
    pub(super) cronie_differs: bool,
}

pub(super) fn split(raw: &str) -> Split {
    let mut command = String::with_capacity(raw.len());
    let mut escaped = false;
    let mut cronie_differs = false;
    let mut input = None;
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
            if c == '%' || c == '\\' {
                cronie_differs |= c == '\\';
                // The backslash before it goes.
                command.pop();
            }
            command.push(c);
            continue;
        }
        if c == '%' {
            input = Some(&raw[i + 1..]);
            break;
        }
        escaped = c == '\\';
        command.push(c);
    }
    Split {
        command,
        stdin: input.filter(|s| !s.is_empty()).map(stdin_text),
        cronie_differs,
    }
}

/// The text cron writes to the run's input for what follows the first `%`.
fn stdin_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 1);
    let mut escaped = false;
    let mut need_newline = false;
    for mut c in input.chars() {
        if escaped {
            if c != '%' {
                out.push('\\');
            }
        } else if c == '%' {
            c = '\n';
        }
        escaped = c == '\\';
        if !escaped {
            out.push(c);
            need_newline = c != '\n';
        }
    }
    if escaped {
        out.push('\\');
    }
    if need_newline {
        out.push('\n');
    }
    out
}

/// The command without the blanks at its end that the shell would ignore (a blank after a
/// backslash is an argument, so it stays).
pub(super) fn trim_end(command: &str) -> &str {
    let trimmed = command.trim_end_matches([' ', '\t']);
    if trimmed.ends_with('\\') && trimmed.len() < command.len() {
        let keep = trimmed.len() + 1;
        return &command[..keep];
    }
    trimmed
}

/// Words that `sh -c` treats differently from running a program of that name: reserved words,
/// and builtins (some have no program at all, and `echo`, `printf`, `test` and `kill` behave
/// differently in dash and in coreutils).
const SHELL_WORDS: &[&str] = &[
    "!", "{", "}", "[", "[[", "]]", ".", ":", "alias", "bg", "break", "builtin", "case", "cd",
    "command", "continue", "declare", "do", "done", "echo", "elif", "else", "esac", "eval", "exec",
    "exit", "export", "false", "fc", "fg", "fi", "for", "function", "getopts", "hash", "if", "in",
    "jobs", "kill", "let", "local", "printf", "pwd", "read", "readonly", "return", "select", "set",
    "shift", "source", "test", "then", "time", "times", "trap", "true", "type", "typeset",
    "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
];

/// The words of `command` when the shell would do nothing but split it at blanks and run the
/// program: every character is a letter, digit or one of `_-./,:=+@%`, the first word is
/// neither a variable assignment nor a shell word, and the environment gives the shell no
/// start-up file to read (`BASH_ENV`, `ENV`).
pub(super) fn as_argv(command: &str, env: &[(String, String)]) -> Option<Vec<String>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./,:=+@%".contains(c);
    if !command.chars().all(|c| plain(c) || c == ' ' || c == '\t') {
        return None;
    }
    if env
        .iter()
        .any(|(name, _)| name == "BASH_ENV" || name == "ENV")
    {
        return None;
    }
    let words: Vec<String> = command
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let first = words.first()?;
    if first.contains('=') || SHELL_WORDS.contains(&first.as_str()) {
        return None;
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(raw: &str) -> (String, Option<String>) {
        let s = split(raw);
        (s.command, s.stdin)
    }

    fn owned(command: &str, stdin: Option<&str>) -> (String, Option<String>) {
        (command.to_owned(), stdin.map(str::to_owned))
    }

    #[test]
    fn the_first_unescaped_percent_starts_the_input() {
        assert_eq!(
            cut("mail -s hi root%Dear root,%%bye"),
            owned("mail -s hi root", Some("Dear root,\n\nbye\n"))
        );
        assert_eq!(
            cut("date +\\%d%"),
            owned("date +%d", None),
            "nothing after %: no input"
        );
        assert_eq!(
            cut("cat%a\\%b%"),
            owned("cat", Some("a%b\n")),
            "a % ends no line twice"
        );
        assert_eq!(
            cut("cat %x\\y\\"),
            owned("cat ", Some("x\\y\\\n")),
            "a final backslash stays"
        );
        assert_eq!(cut("cat %line\n"), owned("cat ", Some("line\n")));
        assert_eq!(cut("no percent"), owned("no percent", None));
    }

    #[test]
    fn backslashes_in_the_command_as_debian_reads_them() {
        let s = split(r"printf 'a\\nb' \x");
        assert_eq!(s.command, r"printf 'a\nb' \x");
        assert!(s.cronie_differs);
        let s = split(r"echo \\%rest");
        assert_eq!(
            (s.command.as_str(), s.stdin.as_deref()),
            (r"echo \", Some("rest\n"))
        );
        assert!(!split(r"date +\%s").cronie_differs);
    }

    #[test]
    fn trailing_blanks_go_unless_escaped() {
        assert_eq!(trim_end("mail -s hi root  \t"), "mail -s hi root");
        assert_eq!(trim_end("echo a\\  "), "echo a\\ ");
        assert_eq!(trim_end("x"), "x");
    }

    #[test]
    fn only_commands_without_shell_syntax_run_directly() {
        let argv = |c: &str| as_argv(c, &[]);
        assert_eq!(
            argv("run-parts --report /etc/cron.hourly"),
            Some(vec![
                "run-parts".into(),
                "--report".into(),
                "/etc/cron.hourly".into()
            ])
        );
        assert_eq!(
            argv("/usr/bin/x  a=b\tc,d:e@f+g%"),
            Some(vec!["/usr/bin/x".into(), "a=b".into(), "c,d:e@f+g%".into()])
        );
        for shell in [
            "cd / && run-parts x",
            "a | b",
            "echo hi",
            "FOO=1 prog",
            "prog > /dev/null",
            "prog $HOME",
            "prog 'quoted'",
            "prog *.log",
            "prog ~/x",
            "prog # comment",
            "test -x /bin/sh",
            "café",
            "",
        ] {
            assert_eq!(argv(shell), None, "{shell}");
        }
        let bash_env = [("BASH_ENV".to_owned(), "/etc/profile".to_owned())];
        assert_eq!(as_argv("prog", &bash_env), None);
    }
}
