//! A job as `jobrun add` describes it with flags: its values checked against the flag that gave
//! them, its name derived from the command when none is given, and its `[jobs.NAME]` table
//! rendered by toml_edit (so quoting and escaping are TOML's own).

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::diagnostic::Diagnostic;
use super::value::is_env_name;
use super::{EditError, is_job_name, suggested_job_name};
use crate::duration::Duration;
use crate::error::did_you_mean;
use crate::trigger::{At, CronExpr};
use crate::zone::Tz;

/// The trigger of a new job, as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTrigger {
    Cron(String),
    Every(String),
    At(String),
}

/// A job to append to the jobfile. Values are written as given (`timeout = "90m"` stays so);
/// `workdir`, like every `workdir` in the file, is relative to the jobfile's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The table key; derived from the command when `None`: the program's file name without
    /// its extension, lower-case, with `-2`, `-3`… when taken.
    pub name: Option<String>,
    pub trigger: NewTrigger,
    /// The program and its arguments; with `shell`, the words are joined with spaces into one
    /// script, so `jobrun add --shell -- 'pg_dump app | gzip > app.gz'` is the intended use.
    pub command: Vec<String>,
    pub shell: bool,
    pub timezone: Option<String>,
    pub executor: Option<String>,
    pub workdir: Option<String>,
    pub env: Vec<(String, String)>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub jitter: Option<String>,
    pub misfire_grace: Option<String>,
    pub coalesce: Option<bool>,
    pub max_instances: Option<u32>,
    pub timeout: Option<String>,
    pub kill_after: Option<String>,
    pub paused: bool,
}

fn argument(flag: &'static str, message: impl Into<String>) -> EditError {
    EditError::Argument {
        flag,
        message: message.into(),
    }
}

impl NewJob {
    /// The shell script (`shell`) or the argv joined, as stored.
    fn script(&self) -> String {
        self.command.join(" ")
    }

    /// Checks every value that can be checked without the jobfile, naming the flag at fault.
    /// What needs the file (an executor it declares, a local time in its default zone) is
    /// checked when the edited file is validated; see [`attribute`].
    pub(super) fn check(&self) -> Result<(), EditError> {
        if let Some(name) = &self.name
            && !is_job_name(name)
        {
            return Err(argument(
                "--name",
                format!("invalid job name {name:?} (use letters, digits, \"_\" and \"-\")"),
            ));
        }
        let tz = match &self.timezone {
            Some(name) => Some(name.parse::<Tz>().map_err(|e| {
                if !matches!(e, crate::zone::ZoneError::Unknown(_)) {
                    return argument("--tz", e.to_string());
                }
                let hint = match did_you_mean(name, crate::zone::names().iter().map(String::as_str))
                {
                    Some(close) => format!("did you mean {close:?}?"),
                    None => "expected an IANA name like \"Europe/Paris\"".to_owned(),
                };
                argument("--tz", format!("unknown time zone {name:?} ({hint})"))
            })?),
            None => None,
        };
        // Without --tz the zone comes from the file; UTC checks the syntax meanwhile.
        let zone = tz.unwrap_or(Tz::UTC);
        match &self.trigger {
            // `@reboot` is a cron line's schedule too: once per boot.
            NewTrigger::Cron(expr) if expr.trim().eq_ignore_ascii_case("@reboot") => {}
            NewTrigger::Cron(expr) => {
                CronExpr::parse(expr).map_err(|e| argument("--cron", e.message))?;
            }
            NewTrigger::Every(interval) => {
                if duration("--every", interval)?.as_secs() == 0 {
                    return Err(argument("--every", "an interval must be at least 1s"));
                }
            }
            NewTrigger::At(at) => {
                At::parse(at, zone).map_err(|e| argument("--at", e.to_string()))?;
            }
        }
        if self.command.is_empty() || self.script().trim().is_empty() {
            return Err(argument("CMD", "the command is empty"));
        }
        if !self.shell && self.command[0].is_empty() {
            return Err(argument("CMD", "the program name is empty"));
        }
        if self.executor.as_deref() == Some("") {
            return Err(argument("--executor", "the executor name is empty"));
        }
        match self.workdir.as_deref() {
            Some("") => return Err(argument("--workdir", "the directory is empty")),
            Some(dir) if dir.starts_with('~') => {
                return Err(argument(
                    "--workdir",
                    format!("\"~\" is not expanded in {dir:?}; write the full path"),
                ));
            }
            _ => {}
        }
        if let Some((key, _)) = self.env.iter().find(|(key, _)| !is_env_name(key)) {
            return Err(argument(
                "--env",
                format!(
                    "invalid environment variable name {key:?} (letters, digits and \"_\", not starting with a digit)"
                ),
            ));
        }
        for (flag, text) in [("--start", &self.start), ("--end", &self.end)] {
            if let Some(text) = text {
                At::parse(text, zone).map_err(|e| argument(flag, e.to_string()))?;
            }
        }
        for (flag, text) in [
            ("--jitter", &self.jitter),
            ("--misfire-grace", &self.misfire_grace),
            ("--timeout", &self.timeout),
            ("--kill-after", &self.kill_after),
        ] {
            if let Some(text) = text {
                duration(flag, text)?;
            }
        }
        if self.max_instances == Some(0) {
            return Err(argument("--max-instances", "must be at least 1"));
        }
        Ok(())
    }

    /// `[jobs.NAME]` with the trigger first, then `command`, then the options that are set, in
    /// a fixed order. `shell_by_default` is `[defaults] shell` of the file: when it is true, a
    /// job without `--shell` says `shell = false` so that its argv stays an argv.
    pub(super) fn render(&self, name: &str, shell_by_default: bool) -> String {
        let mut table = Table::new();
        let (key, text) = match &self.trigger {
            NewTrigger::Cron(t) => ("cron", t),
            NewTrigger::Every(t) => ("every", t),
            NewTrigger::At(t) => ("at", t),
        };
        table.insert(key, value(text.as_str()));
        if self.shell {
            table.insert("command", value(self.script()));
            table.insert("shell", value(true));
        } else {
            table.insert(
                "command",
                value(Array::from_iter(self.command.iter().map(String::as_str))),
            );
            if shell_by_default {
                table.insert("shell", value(false));
            }
        }
        let strings = [
            ("timezone", &self.timezone),
            ("executor", &self.executor),
            ("workdir", &self.workdir),
        ];
        for (key, text) in strings {
            if let Some(text) = text {
                table.insert(key, value(text.as_str()));
            }
        }
        if !self.env.is_empty() {
            let mut env = InlineTable::new();
            for (key, val) in &self.env {
                env.insert(key, val.as_str().into());
            }
            table.insert("env", value(env));
        }
        let strings = [
            ("start", &self.start),
            ("end", &self.end),
            ("jitter", &self.jitter),
            ("misfire_grace", &self.misfire_grace),
        ];
        for (key, text) in strings {
            if let Some(text) = text {
                table.insert(key, value(text.as_str()));
            }
        }
        if let Some(coalesce) = self.coalesce {
            table.insert("coalesce", value(coalesce));
        }
        if let Some(n) = self.max_instances {
            table.insert("max_instances", value(i64::from(n)));
        }
        for (key, text) in [("timeout", &self.timeout), ("kill_after", &self.kill_after)] {
            if let Some(text) = text {
                table.insert(key, value(text.as_str()));
            }
        }
        if self.paused {
            table.insert("paused", value(true));
        }
        let mut jobs = Table::new();
        jobs.set_implicit(true);
        jobs.insert(name, Item::Table(table));
        let mut doc = DocumentMut::new();
        doc.insert("jobs", Item::Table(jobs));
        doc.to_string()
    }

    /// The name for a job added without `--name`: the program's file name without its
    /// extension (for a shell script, of its first word that is not a `VAR=value`), lower-case
    /// and made of allowed characters, with `-2`, `-3`… when it is taken.
    pub(super) fn derived_name(&self, taken: &[&str]) -> String {
        let first = if self.shell {
            self.script()
                .split_whitespace()
                .find(|w| !w.contains('='))
                .unwrap_or_default()
                .to_owned()
        } else {
            self.command.first().cloned().unwrap_or_default()
        };
        let file = first.rsplit('/').next().unwrap_or_default();
        let stem = match file.rfind('.') {
            Some(dot) if dot > 0 => &file[..dot],
            _ => file,
        };
        let base = suggested_job_name(&stem.to_lowercase());
        (1..)
            .map(|n| {
                if n == 1 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|candidate| !taken.contains(&candidate.as_str()))
            .unwrap_or(base)
    }
}

fn duration(flag: &'static str, text: &str) -> Result<Duration, EditError> {
    text.parse::<Duration>()
        .map_err(|e| argument(flag, e.to_string()))
}

/// Turns a problem that validation found in the new job's table into the error of the flag
/// that gave the value; `None` when it is about anything else.
pub(super) fn attribute(diagnostic: &Diagnostic, name: &str) -> Option<EditError> {
    let rest = diagnostic.field.strip_prefix(&format!("jobs.{name}."))?;
    let key = rest.split(['.', '[']).next().unwrap_or_default();
    let flag = match key {
        "cron" => "--cron",
        "every" => "--every",
        "at" => "--at",
        "timezone" => "--tz",
        "executor" => "--executor",
        "workdir" => "--workdir",
        "env" => "--env",
        "start" => "--start",
        "end" => "--end",
        "jitter" => "--jitter",
        "misfire_grace" => "--misfire-grace",
        "coalesce" => "--coalesce",
        "max_instances" => "--max-instances",
        "timeout" => "--timeout",
        "kill_after" => "--kill-after",
        "paused" => "--paused",
        "command" | "shell" => "CMD",
        _ => return None,
    };
    let message = match &diagnostic.help {
        Some(help) => format!("{} ({help})", diagnostic.message),
        None => diagnostic.message.clone(),
    };
    Some(argument(flag, message))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn new_job(trigger: NewTrigger, command: &[&str]) -> NewJob {
        NewJob {
            name: None,
            trigger,
            command: command.iter().map(|s| (*s).to_owned()).collect(),
            shell: false,
            timezone: None,
            executor: None,
            workdir: None,
            env: Vec::new(),
            start: None,
            end: None,
            jitter: None,
            misfire_grace: None,
            coalesce: None,
            max_instances: None,
            timeout: None,
            kill_after: None,
            paused: false,
        }
    }

    fn check_error(job: &NewJob) -> String {
        job.check().unwrap_err().to_string()
    }

    #[test]
    fn names_come_from_the_program_without_path_or_extension() {
        let job = new_job(NewTrigger::Every("1h".into()), &["./Report.sh", "--daily"]);
        assert_eq!(job.derived_name(&[]), "report");
        assert_eq!(job.derived_name(&["report", "report-2"]), "report-3");
        let job = new_job(NewTrigger::Every("1h".into()), &["/usr/bin/my tool.v2.py"]);
        assert_eq!(job.derived_name(&[]), "my-tool-v2");
        let job = new_job(NewTrigger::Every("1h".into()), &["..."]);
        assert_eq!(job.derived_name(&[]), "job");
    }

    #[test]
    fn a_shell_job_is_named_after_its_first_command_word() {
        let mut job = new_job(
            NewTrigger::Every("1h".into()),
            &["PGHOST=db /usr/bin/pg_dump app | gzip"],
        );
        job.shell = true;
        assert_eq!(job.derived_name(&[]), "pg_dump");
    }

    #[test]
    fn bad_values_name_their_flag() {
        let mut job = new_job(NewTrigger::Cron("0 0 32 * *".into()), &["true"]);
        assert_eq!(
            check_error(&job),
            "--cron: day-of-month value 32 is out of range (expected 1-31)"
        );
        job.trigger = NewTrigger::Every("0s".into());
        assert_eq!(
            check_error(&job),
            "--every: an interval must be at least 1s"
        );
        job.trigger = NewTrigger::Every("1h".into());
        job.timeout = Some("5x".into());
        assert!(check_error(&job).starts_with("--timeout: invalid duration \"5x\" (expected"));
        job.timeout = None;
        job.timezone = Some("Europe/Pari".into());
        assert_eq!(
            check_error(&job),
            "--tz: unknown time zone \"Europe/Pari\" (did you mean \"Europe/Paris\"?)"
        );
        job.timezone = Some("America/New_York".into());
        job.trigger = NewTrigger::At("2026-03-08T02:30:00".into());
        assert!(
            check_error(&job)
                .starts_with("--at: 2026-03-08T02:30:00 does not exist in America/New_York")
        );
        job.trigger = NewTrigger::Every("1h".into());
        job.name = Some("my job".into());
        assert!(check_error(&job).starts_with("--name: invalid job name \"my job\""));
        job.name = None;
        job.env = vec![("1X".into(), "v".into())];
        assert!(check_error(&job).starts_with("--env: invalid environment variable name \"1X\""));
        job.env.clear();
        job.max_instances = Some(0);
        assert_eq!(check_error(&job), "--max-instances: must be at least 1");
        job.max_instances = None;
        job.command = vec![String::new(), "x".into()];
        assert_eq!(check_error(&job), "CMD: the program name is empty");
    }

    #[test]
    fn renders_the_trigger_first_then_the_command_then_options_in_order() {
        let mut job = new_job(NewTrigger::Cron("0 3 * * *".into()), &["pg_dump", "my app"]);
        job.paused = true;
        job.max_instances = Some(2);
        job.timeout = Some("2h".into());
        job.env = vec![("B".into(), "2".into()), ("A".into(), "x \"y\"".into())];
        job.timezone = Some("Europe/Paris".into());
        assert_eq!(
            job.render("backup", false),
            "[jobs.backup]\ncron = \"0 3 * * *\"\ncommand = [\"pg_dump\", \"my app\"]\ntimezone = \"Europe/Paris\"\n\
             env = { B = \"2\", A = 'x \"y\"' }\nmax_instances = 2\ntimeout = \"2h\"\npaused = true\n"
        );
    }

    #[test]
    fn a_shell_command_is_one_string_and_shell_false_overrides_a_shell_default() {
        let mut job = new_job(NewTrigger::Every("1h".into()), &["a", "|", "b"]);
        job.shell = true;
        assert_eq!(
            job.render("a", false),
            "[jobs.a]\nevery = \"1h\"\ncommand = \"a | b\"\nshell = true\n"
        );
        job.shell = false;
        assert_eq!(
            job.render("a", true),
            "[jobs.a]\nevery = \"1h\"\ncommand = [\"a\", \"|\", \"b\"]\nshell = false\n"
        );
    }
}
