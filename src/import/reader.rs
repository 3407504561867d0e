//! One crontab walked line by line as cron walks it: the environment settings in force
//! (a later one replaces an earlier value), `CRON_TZ`, `SHELL`, `HOME` and cronie's
//! `RANDOM_DELAY` apply to the lines after them; each entry becomes a job with the comment
//! lines right above it. Mail settings and schedules that never fire become notes; `@reboot`
//! is carried over as it is (jobrun runs such a job once per boot).

use std::ops::Range;

/// The one macro that is no time; a job keeps it as its trigger.
const REBOOT: &str = "@reboot";

use super::lexer::{self, Entry, Kind, Piece, Schedule};
use super::{Crontab, Job, Note, Options, Problem, Run, command, schedule};
use crate::jobfile::is_env_name;
use crate::trigger::CronExpr;
use crate::zone::Tz;

/// Variables that configure cron's mail, not the job.
const MAIL_SETTINGS: [&str; 4] = [
    "MAILTO",
    "MAILFROM",
    "CONTENT_TYPE",
    "CONTENT_TRANSFER_ENCODING",
];

/// Walks one crontab, keeping what cron keeps between its lines.
pub(super) struct Reader<'a> {
    crontab: &'a Crontab,
    options: &'a Options,
    /// The environment in force, in the order it was set (a later setting replaces the value
    /// in place, as cron's `env_set` does).
    env: Vec<(String, String)>,
    /// `CRON_TZ` in force.
    zone: Option<String>,
    /// `RANDOM_DELAY` in force, in minutes.
    random_delay: u32,
    /// The comment lines right above the current line.
    comments: Vec<String>,
    /// Mail settings already reported.
    reported: Vec<String>,
    pub(super) jobs: Vec<Job>,
    pub(super) notes: Vec<Note>,
    pub(super) errors: Vec<Problem>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(crontab: &'a Crontab, options: &'a Options) -> Reader<'a> {
        Reader {
            crontab,
            options,
            env: Vec::new(),
            zone: None,
            random_delay: 0,
            comments: Vec::new(),
            reported: Vec::new(),
            jobs: Vec::new(),
            notes: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn note(&mut self, line: usize, warning: bool, message: String) {
        self.notes.push(Note {
            warning,
            file: self.crontab.name.clone(),
            line,
            message,
        });
    }

    fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        self.errors.push(Problem {
            span,
            message,
            help,
        });
    }

    pub(super) fn read(&mut self) {
        self.refuse_nul_bytes();
        let lexed = lexer::lex(&self.crontab.text, self.crontab.system);
        let last = lexed.lines.len();
        if lexed.crlf {
            self.note(
                1,
                true,
                "the lines end in CRLF: cron would have passed a carriage return at the end of each command; jobrun drops them".into(),
            );
        }
        for line in lexed.lines {
            let comments = std::mem::take(&mut self.comments);
            match line.kind {
                Kind::Blank => {}
                Kind::Comment(text) => {
                    self.comments = comments;
                    self.comments.push(text.to_owned());
                }
                Kind::Env { name, value, piece } => self.env_line(line.number, name, value, piece),
                Kind::Entry(entry) => {
                    if line.number == last && lexed.missing_final_newline {
                        self.note(
                            line.number,
                            true,
                            "the last line has no newline: cron ignores such a line; jobrun imported it".into(),
                        );
                    }
                    self.entry(line.number, &entry, comments);
                }
                Kind::Invalid(problem) => self.errors.push(problem),
            }
        }
    }

    /// A NUL byte outside a comment: cron, reading the line as a C string, would have cut it
    /// there, and no command, argument or environment value can hold one (found by fuzzing:
    /// the import was a jobfile that `check` refuses).
    fn refuse_nul_bytes(&mut self) {
        let mut start = 0;
        for line in self.crontab.text.split_inclusive('\n') {
            let comment = line.trim_start_matches([' ', '\t']).starts_with('#');
            if let Some(at) = line.find('\0').filter(|_| !comment) {
                self.error(
                    start + at..start + at + 1,
                    "a NUL byte (\\0), which no command, argument or environment value can hold"
                        .into(),
                    Some("remove it: cron would have read the line only up to it".into()),
                );
            }
            start += line.len();
        }
    }

    fn env_line(&mut self, line: usize, name: String, value: String, piece: Piece<'_>) {
        let value_span = {
            let at = piece
                .text
                .rfind(value.as_str())
                .filter(|_| !value.is_empty());
            at.map_or(piece.span(), |i| {
                piece.start + i..piece.start + i + value.len()
            })
        };
        if !is_env_name(&name) {
            let name_end = piece.text.find('=').unwrap_or(piece.text.len());
            self.error(
                piece.start..piece.start + name_end,
                format!("invalid environment variable name {name:?}"),
                Some(
                    "jobrun passes names of letters, digits and \"_\", not starting with a digit"
                        .into(),
                ),
            );
            return;
        }
        match name.as_str() {
            "CRON_TZ" => {
                let zone = value.trim_start_matches(':');
                if zone.is_empty() {
                    self.zone = None;
                } else if zone.parse::<Tz>().is_ok() {
                    self.zone = Some(zone.to_owned());
                } else {
                    let help = crate::error::did_you_mean(
                        zone,
                        crate::zone::names().iter().map(String::as_str),
                    )
                    .map_or("expected an IANA name like \"Europe/Paris\"".to_owned(), |close| {
                        format!("did you mean {close:?}?")
                    });
                    self.error(value_span, format!("unknown time zone {zone:?}"), Some(help));
                }
            }
            "RANDOM_DELAY" => match value.trim().parse::<u32>() {
                Ok(minutes) if minutes <= 24 * 60 => {
                    self.random_delay = minutes;
                    if minutes > 0 {
                        self.note(
                            line,
                            false,
                            format!("RANDOM_DELAY={minutes} becomes jitter = \"{minutes}m\": a random delay chosen for each run, where cronie chooses one when it starts"),
                        );
                    }
                }
                _ => self.error(
                    value_span,
                    format!("invalid RANDOM_DELAY {value:?}"),
                    Some("expected minutes, 0 to 1440".into()),
                ),
            },
            "LOGNAME" | "USER" => self.note(
                line,
                false,
                format!("{name}={value:?} is left out: cron sets {name} to the crontab's user itself, and so does jobrun"),
            ),
            mail if MAIL_SETTINGS.contains(&mail) => {
                if !self.reported.contains(&name) {
                    self.reported.push(name.clone());
                    let shown = if value.is_empty() { "\"\"".to_owned() } else { format!("{value:?}") };
                    self.note(
                        line,
                        false,
                        format!("{name}={shown} is left out: jobrun sends no mail; it logs every line a job prints and keeps the tail of each run's output in `jobrun history`"),
                    );
                }
            }
            _ => {
                if name == "HOME" && !value.is_empty() && !value.starts_with('/') {
                    self.error(
                        value_span,
                        format!("HOME={value:?} is not an absolute path"),
                        Some("cron starts the commands below in HOME: write the full path, like /srv/app".into()),
                    );
                    return;
                }
                if name == "SHELL" && !value.starts_with('/') {
                    self.error(
                        value_span,
                        format!("SHELL={value:?} is not an absolute path"),
                        Some("cron runs commands with execle, which does not search PATH: write the full path, like /bin/bash".into()),
                    );
                    return;
                }
                match self.env.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => self.env.push((name, value)),
                }
            }
        }
    }

    fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn entry(&mut self, line: usize, entry: &Entry<'_>, comments: Vec<String>) {
        // No account name holds a ':' (the password database's separator), so the jobfile
        // refuses one in `user`; cron would find no such user (found by fuzzing).
        if let Some(user) = entry.user.as_ref().filter(|u| u.text.contains(':')) {
            self.error(
                user.span(),
                format!("invalid user name {:?}", user.text),
                Some("a user name cannot hold \":\"".into()),
            );
            return;
        }
        if entry.no_log {
            self.note(
                line,
                false,
                "the \"-\" before the schedule (cronie: do not syslog the run) is dropped: jobrun logs every run".into(),
            );
        }
        if entry.mail_on_error {
            self.note(
                line,
                false,
                "the \"-n\" option (cronie: mail only on failure) is dropped: jobrun sends no mail"
                    .into(),
            );
        }
        let cron = match &entry.schedule {
            // `@reboot` among them: the jobfile's cron = "@reboot", once per boot.
            Schedule::Macro(word) => word.text.to_owned(),
            Schedule::Fields(fields) => {
                let problems = schedule::check_fields(fields);
                if !problems.is_empty() {
                    self.errors.extend(problems);
                    return;
                }
                let texts: Vec<&str> = fields.iter().map(|f| f.text).collect();
                texts.join(" ")
            }
        };
        if let Some(e) = (cron != REBOOT)
            .then(|| CronExpr::parse(&cron).err())
            .flatten()
        {
            // The fields are crontab(5), which jobrun reads the same; what is left is a
            // schedule on no date at all (`0 0 30 2 *`), which cron accepts and never runs.
            if e.message.starts_with("expression ") {
                self.note(
                    line,
                    true,
                    format!(
                        "line left out: its schedule {cron:?} never fires ({})",
                        e.message
                    ),
                );
            } else {
                let span = match &entry.schedule {
                    Schedule::Macro(word) => word.span(),
                    Schedule::Fields(fields) => fields[0].start..fields[4].span().end,
                };
                self.error(span, e.message, None);
            }
            return;
        }
        let split = command::split(entry.command.text);
        if split.cronie_differs {
            self.note(
                line,
                false,
                "\"\\\\\" in the command is read as \"\\\" as Debian's cron reads it (cronie keeps both backslashes)".into(),
            );
        }
        let script = command::trim_end(&split.command);
        if script.trim().is_empty() {
            self.error(entry.command.span(), "the command is empty".into(), None);
            return;
        }
        let run = match command::as_argv(script, &self.env) {
            Some(words) => Run::Argv(words),
            None => Run::Shell {
                script: script.to_owned(),
                shell: self
                    .env_value("SHELL")
                    .filter(|s| *s != "/bin/sh")
                    .map(str::to_owned),
            },
        };
        let workdir = match self.env_value("HOME") {
            Some(home) if !home.is_empty() => Some(home.to_owned()),
            _ if !self.crontab.system => self.options.home.clone(),
            _ => None,
        };
        self.jobs.push(Job {
            name: String::new(),
            comments,
            cron,
            run,
            stdin: split.stdin,
            user: entry.user.map(|u| u.text.to_owned()),
            timezone: self.zone.clone(),
            workdir,
            env: self.env.clone(),
            jitter: (self.random_delay > 0).then(|| format!("{}m", self.random_delay)),
        });
    }
}
