//! Job names for imported lines, derived from their commands: short, readable, valid on the
//! command line (`[a-z0-9_-]`), and unique in the import.
//!
//! A cron command is often a guard and then the real work (`test -x /usr/sbin/anacron ||
//! run-parts …`, `[ -x /usr/lib/php/sessionclean ] && … /usr/lib/php/sessionclean`), so the
//! name is the program of the last simple command that is not a guard (`test`, `[`, `cd`,
//! `command -v`…) and does not read a pipe (`pg_dump app | gzip` is named after `pg_dump`),
//! without its directory and script extension. Lines whose names clash get
//! the last word of that command that names something (`run-parts-cron-daily`,
//! `run-parts-cron-weekly`), and when that does not tell them apart, `-2`, `-3`….
//!
//! This only reads commands to name them; it is a rough shell tokenizer, not a shell parser,
//! and a name it cannot find is `job`.

use crate::jobfile::suggested_job_name;

/// Programs that guard or set up the work rather than do it.
const GUARDS: &[&str] = &[
    "test", "[", "[[", "cd", "true", "false", ":", "exit", "sleep", "command", "type", "which",
    "hash", "set", "export", "umask", "ulimit", "echo", "printf", "date",
];

/// Words that run the command after them (options and, for `env`, assignments skipped), and
/// `invoke-rc.d` and `service`, whose first argument names the service they start.
const WRAPPERS: &[&str] = &[
    "exec",
    "nohup",
    "nice",
    "ionice",
    "setsid",
    "time",
    "chronic",
    "cronic",
    "stdbuf",
    "env",
    "invoke-rc.d",
    "service",
];

/// Reserved words that start or join compound commands.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "(", ")",
];

/// Compound commands whose words name no program.
const SKIPPED: &[&str] = &["for", "case", "esac", "select", "in"];

const SCRIPT_EXTENSIONS: &[&str] = &["sh", "bash", "zsh", "ksh", "py", "pl", "rb", "php"];

/// A token of the command: a word (quotes removed) or an operator between commands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `&&`, `||`, `;`, `&`, `(`, `)` or a newline.
    Separator,
    /// `|`: the command after it reads what the one before writes.
    Pipe,
    /// `>`, `>>`, `<`, `2>&1`…: the word after it (if any) is a file, not an argument.
    Redirect {
        takes_target: bool,
    },
}

fn tokens(command: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars().peekable();
    let finish = |out: &mut Vec<Token>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            out.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => finish(&mut out, &mut word, &mut in_word),
            '\n' | ';' | '|' | '&' | '(' | ')' if !(c == '(' && word.ends_with('$')) => {
                if c == '&' && chars.peek() == Some(&'>') {
                    // `&>file`
                    chars.next();
                    finish(&mut out, &mut word, &mut in_word);
                    out.push(Token::Redirect { takes_target: true });
                    continue;
                }
                finish(&mut out, &mut word, &mut in_word);
                let doubled = matches!(chars.peek(), Some(&n) if n == c && c != '(' && c != ')');
                if doubled {
                    chars.next();
                }
                out.push(if c == '|' && !doubled {
                    Token::Pipe
                } else {
                    Token::Separator
                });
            }
            '<' | '>' => {
                // A word of digits just before is the descriptor (`2>`).
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                finish(&mut out, &mut word, &mut in_word);
                let mut takes_target = true;
                while let Some(&n) = chars.peek() {
                    if n == '>' || n == '<' || n == '|' {
                        chars.next();
                    } else if n == '&' {
                        chars.next();
                        // `>&2`: a descriptor, which is a word of its own here.
                        let digits: String =
                            std::iter::from_fn(|| chars.next_if(char::is_ascii_digit)).collect();
                        takes_target = digits.is_empty() && chars.peek() != Some(&'-');
                        if chars.peek() == Some(&'-') {
                            chars.next();
                        }
                    } else {
                        break;
                    }
                }
                out.push(Token::Redirect { takes_target });
            }
            '\'' => {
                in_word = true;
                word.extend(chars.by_ref().take_while(|&q| q != '\''));
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            '$' | '`' => {
                // A substitution belongs to the word it is in, whatever it contains.
                in_word = true;
                word.push(c);
                let (open, close) = match (c, chars.peek()) {
                    ('`', _) => ('`', '`'),
                    ('$', Some('(')) => ('(', ')'),
                    ('$', Some('{')) => ('{', '}'),
                    _ => continue,
                };
                if c == '$' {
                    chars.next();
                }
                let mut depth = 1;
                for q in chars.by_ref() {
                    word.push(q);
                    if q == close {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    } else if q == open && open != close {
                        depth += 1;
                    }
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    finish(&mut out, &mut word, &mut in_word);
    out
}

/// A simple command's program and its argument words.
#[derive(Debug, PartialEq, Eq)]
struct Simple {
    program: String,
    args: Vec<String>,
    /// It reads a pipe: a filter (`gzip`, `logger`, `mail`) of the command that does the work.
    piped: bool,
}

fn simple_commands(command: &str) -> Vec<Simple> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut skip_next = false;
    let mut piped = false;
    let mut flush = |words: &mut Vec<String>, piped: bool| {
        if let Some(mut simple) = simple(std::mem::take(words)) {
            simple.piped = piped;
            commands.push(simple);
        }
    };
    for token in tokens(command) {
        match token {
            Token::Separator => {
                flush(&mut words, piped);
                piped = false;
            }
            Token::Pipe => {
                flush(&mut words, piped);
                piped = true;
            }
            Token::Redirect { takes_target } => skip_next = takes_target,
            Token::Word(word) if skip_next => {
                skip_next = false;
                drop(word);
            }
            Token::Word(word) if words.is_empty() && RESERVED.contains(&word.as_str()) => {}
            Token::Word(word) => words.push(word),
        }
    }
    flush(&mut words, piped);
    commands
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| crate::jobfile::is_env_name(name))
}

/// The program of a command's words: assignments and wrappers skipped.
fn simple(words: Vec<String>) -> Option<Simple> {
    let mut rest = words
        .into_iter()
        .skip_while(|w| is_assignment(w))
        .peekable();
    let first = rest.next()?;
    if SKIPPED.contains(&first.as_str()) {
        return None;
    }
    let mut program = first;
    while WRAPPERS.contains(&stem(&program)) {
        let skipped_options = rest.by_ref().find(|w| {
            !(w.starts_with('-') || is_assignment(w) || w.bytes().all(|b| b.is_ascii_digit()))
        });
        program = skipped_options?;
    }
    Some(Simple {
        program,
        args: rest.collect(),
        piped: false,
    })
}

/// The last path component, without a script extension.
fn stem(word: &str) -> &str {
    let file = word
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(word);
    match file.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && SCRIPT_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) =>
        {
            stem
        }
        _ => file,
    }
}

/// A name made of `[a-z0-9_-]`, or `None` when nothing of `text` is left.
fn clean(text: &str) -> Option<String> {
    let name = suggested_job_name(&text.to_lowercase());
    (name != "job" || text.eq_ignore_ascii_case("job")).then_some(name)
}

/// The base name of a command and the word that tells it apart from others of that base.
pub(super) fn base_name(command: &str) -> (String, Option<String>) {
    let commands = simple_commands(command);
    let worker = commands
        .iter()
        .rev()
        .find(|c| {
            !c.piped && !GUARDS.contains(&stem(&c.program)) && clean(stem(&c.program)).is_some()
        })
        .or_else(|| commands.iter().find(|c| clean(stem(&c.program)).is_some()));
    let Some(worker) = worker else {
        return ("job".to_owned(), None);
    };
    let base = clean(stem(&worker.program)).unwrap_or_else(|| "job".to_owned());
    // The last argument that names something (a word or a path, not an option, a number or
    // a format string).
    let distinct = worker
        .args
        .iter()
        .rev()
        .filter(|a| !a.starts_with('-'))
        .filter(|a| {
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        })
        .filter(|a| stem(a).chars().any(|c| c.is_ascii_alphabetic()))
        .find_map(|a| clean(stem(a)));
    (base, distinct)
}

/// Unique names for commands, in order: each base name; where bases clash, each command whose
/// distinct word is its own in the group gets it appended; then `-2`, `-3`… for what is left.
pub(super) fn unique_names(bases: &[(String, Option<String>)]) -> Vec<String> {
    let wanted: Vec<String> = bases
        .iter()
        .map(|(base, distinct)| {
            let group = bases.iter().filter(|(b, _)| b == base);
            let clashes = group.clone().count() > 1;
            let own = distinct
                .as_ref()
                .filter(|d| group.filter(|(_, other)| other.as_ref() == Some(d)).count() == 1);
            match own {
                Some(d) if clashes => format!("{base}-{d}"),
                _ => base.clone(),
            }
        })
        .collect();
    let mut names: Vec<String> = Vec::with_capacity(wanted.len());
    for want in &wanted {
        let mut name = want.clone();
        let mut n = 2;
        while names.contains(&name) || (name != *want && wanted.contains(&name)) {
            name = format!("{want}-{n}");
            n += 1;
        }
        names.push(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(command: &str) -> (String, Option<String>) {
        base_name(command)
    }

    fn named(base: &str, distinct: Option<&str>) -> (String, Option<String>) {
        (base.to_owned(), distinct.map(str::to_owned))
    }

    #[test]
    fn the_worker_after_the_guards_names_the_job() {
        assert_eq!(
            base("test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"),
            named("run-parts", Some("cron-daily"))
        );
        assert_eq!(
            base(
                "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"
            ),
            named("sessionclean", None)
        );
        assert_eq!(
            base(
                "test -x /usr/bin/certbot -a \\! -d /run/systemd/system && perl -e 'sleep int(rand(43200))' && certbot -q renew --no-random-sleep-on-renew"
            ),
            named("certbot", Some("renew"))
        );
        assert_eq!(
            base("command -v debian-sa1 > /dev/null && debian-sa1 1 1"),
            named("debian-sa1", None)
        );
        assert_eq!(
            base("test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r"),
            named("e2scrub_all", None)
        );
        assert_eq!(
            base(
                "if [ $(date +%w) -eq 0 ] && [ -x /usr/lib/zfs-linux/trim ]; then /usr/lib/zfs-linux/trim; fi"
            ),
            named("trim", None)
        );
        assert_eq!(
            base("nice -n 10 ionice -c3 ./Backup.SH >> /var/log/b.log 2>&1"),
            named("backup", None)
        );
        assert_eq!(base("echo hello"), named("echo", Some("hello")));
        assert_eq!(
            base("test -x /etc/init.d/anacron && /usr/sbin/invoke-rc.d anacron start >/dev/null"),
            named("anacron", Some("start"))
        );
        assert_eq!(
            base("pg_dump app | gzip > /b/app.gz"),
            named("pg_dump", Some("app"))
        );
        assert_eq!(base("cd /srv && ls"), named("ls", None));
        assert_eq!(base("for f in a b; do :; done"), named("job", None));
        assert_eq!(base(""), named("job", None));
    }

    #[test]
    fn clashing_names_get_their_distinct_word_or_a_number() {
        let names = unique_names(&[
            named("run-parts", Some("cron-hourly")),
            named("run-parts", Some("cron-daily")),
            named("debian-sa1", None),
            named("debian-sa1", None),
            named("backup", Some("db")),
            named("backup", Some("db")),
            named("backup-2", None),
        ]);
        assert_eq!(
            names,
            [
                "run-parts-cron-hourly",
                "run-parts-cron-daily",
                "debian-sa1",
                "debian-sa1-2",
                "backup",
                "backup-3",
                "backup-2",
            ]
        );
        let names = unique_names(&[
            named("echo", Some("either")),
            named("echo", None),
            named("echo", Some("both")),
            named("echo", Some("both")),
        ]);
        assert_eq!(names, ["echo-either", "echo", "echo-2", "echo-3"]);
        assert_eq!(
            unique_names(&[named("x", Some("a"))]),
            ["x"],
            "no clash, no suffix"
        );
        assert_eq!(
            unique_names(&[named("x", None), named("x", None)]).as_slice(),
            ["x", "x-2",]
        );
    }
}
