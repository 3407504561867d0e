//! From the spanned TOML tree to typed executors and jobs: `[defaults]` applied, zones, durations
//! and triggers parsed, references checked. Every problem becomes a diagnostic; the result is
//! only built when there are none.
//!
//! Choices made here: `timeout = "0s"` and `jitter = "0s"` mean "none", so a job can switch off
//! a default; `shell` in `[defaults]` is inherited like any other option, and a job's own
//! `shell` (`true`, `false` or a path) replaces it whole: `true` is `/bin/sh` even when the
//! defaults name another shell.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::chain;
use super::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use super::outcomes::{self, OutcomeOptions};
use super::store_section::{self, StoreSettings};
use super::tree::Tree;
use super::trigger::{Owner, OwnerName, TRIGGER_KEYS, TriggerContext};
use super::value::{Checker, Entry, Field, entries};
use super::{MAX_JOB_NAME, is_job_name, suggested_job_name};
use crate::duration::Duration;
use crate::error::did_you_mean;
use crate::job::{Executor, InheritEnv, Job, Overlap, defaults};
use crate::zone::Tz;

const TOP_KEYS: [&str; 4] = ["defaults", "executors", "jobs", "store"];
pub(crate) const OPTION_KEYS: [&str; 25] = [
    "timezone",
    "misfire_grace",
    "queue_grace",
    "coalesce",
    "max_instances",
    "overlap",
    "timeout",
    "kill_after",
    "jitter",
    "executor",
    "workdir",
    "env",
    "inherit_env",
    "shell",
    "user",
    "group",
    outcomes::KEYS[0],
    outcomes::KEYS[1],
    outcomes::KEYS[2],
    outcomes::KEYS[3],
    outcomes::KEYS[4],
    outcomes::KEYS[5],
    outcomes::KEYS[6],
    outcomes::KEYS[7],
    outcomes::KEYS[8],
];
pub(crate) const JOB_KEYS: [&str; 36] = [
    "cron",
    "every",
    "at",
    "all",
    "any",
    "after",
    "command",
    "shell",
    "workdir",
    "env",
    "inherit_env",
    "executor",
    "timezone",
    "start",
    "end",
    "jitter",
    "misfire_grace",
    "queue_grace",
    "coalesce",
    "max_instances",
    "overlap",
    "timeout",
    "kill_after",
    "paused",
    "stdin",
    "user",
    "group",
    outcomes::KEYS[0],
    outcomes::KEYS[1],
    outcomes::KEYS[2],
    outcomes::KEYS[3],
    outcomes::KEYS[4],
    outcomes::KEYS[5],
    outcomes::KEYS[6],
    outcomes::KEYS[7],
    outcomes::KEYS[8],
];

/// No path, argument or environment value can hold a NUL byte: the kernel reads each as a C
/// string. A run of such a job could only fail at its spawn (issue 12), so `check` refuses it.
pub(super) const NUL: &str = "it contains a NUL byte (\\u0000), which no path, argument or \
                              environment value can hold";

/// The options a job may set and `[defaults]` may give it; `None` when not set (or invalid).
#[derive(Default)]
struct Options {
    timezone: Option<Tz>,
    /// The zone was set but is unknown: checks that depend on it use UTC, which has no gaps,
    /// so that they report nothing spurious.
    zone_failed: bool,
    misfire_grace: Option<Duration>,
    queue_grace: Option<Duration>,
    coalesce: Option<bool>,
    max_instances: Option<u32>,
    overlap: Option<Overlap>,
    timeout: Option<Duration>,
    kill_after: Option<Duration>,
    jitter: Option<Duration>,
    executor: Option<String>,
    workdir: Option<PathBuf>,
    env: BTreeMap<String, String>,
    inherit_env: Option<InheritEnv>,
    shell: Option<bool>,
    /// `shell = "/bin/bash"`: the shell's path (with `shell` then `Some(true)`).
    shell_path: Option<String>,
    user: Option<String>,
    group: Option<String>,
    /// What counts as failure, and what follows a run's end (`outcomes.rs`).
    outcomes: OutcomeOptions,
}

/// Checks the whole file; every problem is returned (up to `MAX_DIAGNOSTICS`, with the count
/// of the others), in file order.
pub(super) fn validate(
    source: &SourceFile<'_>,
    tree: &Tree<'_>,
    path: &Path,
    local_tz: Tz,
) -> Result<(Vec<Executor>, Vec<Job>, StoreSettings), Diagnostics> {
    // Absolute, so a relative `workdir` means the same directory wherever it is used from
    // (the scheduler joins it to the jobfile's absolute directory once more).
    let dir = crate::atomic_file::parent_dir(path);
    let base_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut v = Validator {
        c: Checker::new(source),
        base_dir: &base_dir,
        local_tz,
    };
    let (mut defaults_entry, mut executors_entry, mut jobs_entry) = (None, None, None);
    let mut store = StoreSettings::default();
    for entry in entries(tree.root(), &Field::Root) {
        match entry.key {
            "defaults" => defaults_entry = Some(entry),
            "executors" => executors_entry = Some(entry),
            "jobs" => jobs_entry = Some(entry),
            "store" => store = store_section::read(&mut v.c, &entry),
            _ => v.unknown_top_level(&entry),
        }
    }
    let defaults = defaults_entry
        .as_ref()
        .map(|e| v.defaults(e))
        .unwrap_or_default();
    let (executors, declared) = v.executors(executors_entry.as_ref());
    let pools: Vec<&str> = declared.iter().map(String::as_str).collect();
    if let (Some(entry), Some(name)) = (&defaults_entry, &defaults.executor) {
        v.check_executor_reference(entry, name, &pools);
    }
    // Every job of the file, invalid ones too: an `after` naming one is not unknown.
    let names: Vec<&str> = jobs_entry
        .as_ref()
        .map(|e| e.item.entries().map(|kv| kv.key).collect())
        .unwrap_or_default();
    let jobs = jobs_entry
        .map(|e| v.jobs(&e, &defaults, &pools))
        .unwrap_or_default();
    chain::check_chains(&mut v.c, &names);
    let mut errors = v.c.errors;
    if errors.is_empty() {
        return Ok((executors, jobs, store));
    }
    errors.sort_by_key(|d| d.span.start);
    Err(Diagnostics {
        path: path.into(),
        errors,
        omitted: v.c.omitted,
    })
}

/// A TOML syntax error: toml_edit's message at toml_edit's span.
pub(super) fn syntax_error(
    source: &SourceFile<'_>,
    span: Option<Range<usize>>,
    message: &str,
) -> Diagnostic {
    source.diagnostic(
        span.unwrap_or(0..0),
        "",
        format!("invalid TOML: {message}"),
        None,
    )
}

struct Validator<'a> {
    c: Checker<'a>,
    /// Relative `workdir`s are relative to the jobfile's directory.
    base_dir: &'a Path,
    local_tz: Tz,
}

impl Validator<'_> {
    fn unknown_top_level(&mut self, entry: &Entry<'_>) {
        let help = if OPTION_KEYS.contains(&entry.key) {
            Some(format!(
                "options for every job go under [defaults]: [defaults] {} = ...",
                entry.key
            ))
        } else if entry
            .item
            .entries()
            .any(|kv| TRIGGER_KEYS.contains(&kv.key) || kv.key == "command")
        {
            Some(format!(
                "jobs are tables under jobs: write [jobs.{}]",
                entry.key
            ))
        } else {
            None
        };
        self.c.unknown_key(entry, "top-level key", &TOP_KEYS, help);
    }

    fn defaults(&mut self, entry: &Entry<'_>) -> Options {
        let mut options = Options::default();
        if !entry.item.is_table() {
            self.c.wrong_type(entry, "a table like [defaults]", None);
            return options;
        }
        for e in entries(entry.item, &entry.field) {
            if !self.option(&e, &mut options) {
                let help = JOB_KEYS
                    .contains(&e.key)
                    .then(|| format!("{} is set on each job, under [jobs.NAME]", e.key));
                self.c.unknown_key(&e, "key", &OPTION_KEYS, help);
            }
        }
        options
    }

    /// Reads `e` into `options` if it is one of the shared options.
    fn option(&mut self, e: &Entry<'_>, options: &mut Options) -> bool {
        match e.key {
            "timezone" => {
                options.timezone = self.c.zone(e);
                options.zone_failed = options.timezone.is_none();
            }
            "misfire_grace" => options.misfire_grace = self.c.duration(e, "5m"),
            "queue_grace" => options.queue_grace = self.c.duration(e, "10m"),
            "coalesce" => options.coalesce = self.c.boolean(e),
            "max_instances" => options.max_instances = self.c.count(e, 1),
            "overlap" => options.overlap = self.c.word(e, &Overlap::NAMES, Overlap::parse),
            "timeout" => options.timeout = self.c.duration(e, "1h"),
            "kill_after" => options.kill_after = self.c.duration(e, "10s"),
            "jitter" => options.jitter = self.c.duration(e, "2m"),
            "executor" => {
                options.executor = self
                    .c
                    .string(e, "an executor name like \"heavy\"")
                    .map(str::to_owned)
            }
            "workdir" => options.workdir = self.workdir(e),
            "env" => options.env = self.c.env(e).unwrap_or_default(),
            "inherit_env" => options.inherit_env = self.c.inherit_env(e),
            "shell" => (options.shell, options.shell_path) = self.shell(e),
            "user" => options.user = self.account(e, "a user name like \"www-data\""),
            "group" => options.group = self.account(e, "a group name like \"adm\""),
            _ => return self.c.outcome_option(e, &mut options.outcomes),
        }
        true
    }

    /// `shell`: `true` (`/bin/sh`), `false`, or the absolute path of a shell.
    fn shell(&mut self, e: &Entry<'_>) -> (Option<bool>, Option<String>) {
        let Some(path) = e.item.as_str() else {
            if e.item.as_bool().is_none() {
                let expected = "true, false or the path of a shell like \"/bin/bash\"";
                self.c.wrong_type(e, expected, None);
            }
            return (e.item.as_bool(), None);
        };
        if path.starts_with('/') {
            return (Some(true), Some(path.to_owned()));
        }
        let help = match path {
            "true" | "false" => format!("write {path} without quotes"),
            "" => "write shell = true for /bin/sh".to_owned(),
            _ => format!(
                "write the full path, like \"/bin/{}\" (the shell is not looked up in PATH)",
                path.rsplit('/').next().unwrap_or(path)
            ),
        };
        let message = format!("shell {path:?} is not an absolute path");
        self.c.error(e.span.clone(), &e.field, message, Some(help));
        // Still a shell job, so that its string command draws no second error.
        (Some(true), None)
    }

    /// `user` or `group`: a name of the password or group database, checked against the system
    /// only by `jobrun check` and at spawn time (the loader reads no system state).
    fn account(&mut self, e: &Entry<'_>, expected: &str) -> Option<String> {
        let name = self.c.string(e, expected)?;
        if name.is_empty() || name.contains(['\0', ':', '\n']) {
            let message = format!("invalid {} name {name:?}", e.key);
            self.c.error(e.span.clone(), &e.field, message, None);
            return None;
        }
        Some(name.to_owned())
    }

    fn workdir(&mut self, e: &Entry<'_>) -> Option<PathBuf> {
        let dir = self.c.string(e, "a directory like \"/srv/reports\"")?;
        let problem = if dir.is_empty() {
            Some(("workdir is empty".to_owned(), None))
        } else if dir.contains('\0') {
            Some((NUL.to_owned(), None))
        } else if dir.starts_with('~') {
            Some((
                "\"~\" is not expanded in workdir".to_owned(),
                Some("write the full path, like \"/home/me/reports\"".to_owned()),
            ))
        } else {
            None
        };
        if let Some((message, help)) = problem {
            self.c.error(e.span.clone(), &e.field, message, help);
            return None;
        }
        Some(self.base_dir.join(dir))
    }

    /// The declared pools in file order, with `default` first when it is not declared; and the
    /// names jobs may refer to, which include pools declared with errors (those errors are
    /// reported once, at the pool, not again at every job that uses it).
    fn executors(&mut self, entry: Option<&Entry<'_>>) -> (Vec<Executor>, Vec<String>) {
        let mut pools = Vec::new();
        let mut names = Vec::new();
        if let Some(entry) = entry {
            if !entry.item.is_table() {
                self.c
                    .wrong_type(entry, "a table like [executors.heavy]", None);
            }
            for e in entries(entry.item, &entry.field) {
                names.push(e.key.to_owned());
                if let Some(workers) = self.executor(&e) {
                    pools.push(Executor {
                        name: e.key.to_owned(),
                        workers,
                    });
                }
            }
        }
        if !names.iter().any(|name| name == defaults::EXECUTOR) {
            names.insert(0, defaults::EXECUTOR.to_owned());
            pools.insert(
                0,
                Executor {
                    name: defaults::EXECUTOR.to_owned(),
                    workers: defaults::UNDECLARED_POOL_WORKERS,
                },
            );
        }
        (pools, names)
    }

    fn executor(&mut self, entry: &Entry<'_>) -> Option<u32> {
        if !entry.item.is_table() {
            let expected = format!("a table like [executors.{}] with workers = 4", entry.key);
            self.c.wrong_type(entry, &expected, None);
            return None;
        }
        let mut workers = None;
        let mut seen = false;
        for e in entries(entry.item, &entry.field) {
            if e.key == "workers" {
                seen = true;
                workers = self.c.count(&e, 4);
            } else {
                self.c.unknown_key(&e, "key", &["workers"], None);
            }
        }
        if !seen {
            self.c.error(
                entry.span.clone(),
                &entry.field,
                format!("executor {:?} has no workers", entry.key),
                Some("add workers = N: at most N of its jobs run at once".to_owned()),
            );
        }
        workers
    }

    fn check_executor_reference(&mut self, owner: &Entry<'_>, name: &str, pools: &[&str]) {
        if pools.contains(&name) {
            return;
        }
        let Some(e) = entries(owner.item, &owner.field).find(|e| e.key == "executor") else {
            return;
        };
        let help = match did_you_mean(name, pools.iter().copied()) {
            Some(close) => format!("did you mean {close:?}?"),
            None => format!(
                "declare it with [executors.{name}] and workers = N, or use one of: {}",
                pools.join(", ")
            ),
        };
        self.c.error(
            e.span.clone(),
            &e.field,
            format!("unknown executor {name:?}"),
            Some(help),
        );
    }

    fn jobs(&mut self, entry: &Entry<'_>, defaults: &Options, pools: &[&str]) -> Vec<Job> {
        if !entry.item.is_table() {
            self.c
                .wrong_type(entry, "a table of jobs like [jobs.report]", None);
            return Vec::new();
        }
        // Exactly as many as the file has: the planner keeps these for good.
        let mut jobs = Vec::with_capacity(entry.item.len());
        for e in entries(entry.item, &entry.field) {
            jobs.extend(self.job(&e, defaults, pools));
        }
        jobs
    }

    fn job(&mut self, entry: &Entry<'_>, defaults: &Options, pools: &[&str]) -> Option<Job> {
        let name = entry.key;
        let name_ok = is_job_name(name);
        if name.chars().count() > MAX_JOB_NAME {
            self.c.error(
                entry.key_span.clone(),
                &Field::Key(&Field::Root, "jobs"),
                format!(
                    "a job name of {} characters is too long (at most {MAX_JOB_NAME})",
                    name.chars().count()
                ),
                Some(format!(
                    "job names are typed on the command line and given to every run: use a short \
                     one, like {:?}",
                    suggested_job_name(name)
                )),
            );
            // Every other message about this job would spell the name out: one is enough.
            return None;
        } else if !name_ok {
            self.c.error(
                entry.key_span.clone(),
                &entry.field,
                format!("invalid job name {name:?}"),
                Some(format!(
                    "job names are used on the command line: use letters, digits, \"_\" and \"-\", like {:?}",
                    suggested_job_name(name)
                )),
            );
        }
        if !entry.item.is_table() {
            let expected = format!(
                "a table like [jobs.{}] with a trigger and a command",
                suggested_job_name(name)
            );
            self.c.wrong_type(entry, &expected, None);
            return None;
        }
        let mut options = Options::default();
        let (mut trigger, mut more_triggers, mut command, mut start, mut end, mut paused) =
            (None, Vec::new(), None, None, None, Some(false));
        let mut stdin = None;
        for e in entries(entry.item, &entry.field) {
            if self.option(&e, &mut options) {
                continue;
            }
            match e.key {
                key if TRIGGER_KEYS.contains(&key) && trigger.is_none() => trigger = Some(e),
                key if TRIGGER_KEYS.contains(&key) => more_triggers.push(e),
                "command" => command = Some(e),
                "start" => start = Some(e),
                "end" => end = Some(e),
                "paused" => paused = self.c.boolean(&e),
                "stdin" => {
                    stdin = self
                        .c
                        .string(&e, "text like \"line 1\\nline 2\\n\"")
                        .map(str::to_owned)
                }
                _ => self.c.unknown_key(&e, "key", &JOB_KEYS, None),
            }
        }
        let zone_failed =
            options.zone_failed || (options.timezone.is_none() && defaults.zone_failed);
        let tz = if zone_failed {
            Tz::UTC
        } else {
            options
                .timezone
                .or(defaults.timezone)
                .unwrap_or(self.local_tz)
        };
        let start_at = start.as_ref().and_then(|e| self.c.instant(e, tz));
        let end_at = end.as_ref().and_then(|e| self.c.instant(e, tz));
        if let (Some(s), Some(e), Some(end)) = (start_at, end_at, &end)
            && e <= s
        {
            let message = format!(
                "end ({}) is not after start ({})",
                e.with_timezone(&tz).to_rfc3339(),
                s.with_timezone(&tz).to_rfc3339()
            );
            self.c.error(end.span.clone(), &end.field, message, None);
        }
        let owner = Owner {
            name: OwnerName::Job(name),
            span: entry.span.clone(),
            field: &entry.field,
        };
        let trigger = self.c.one_trigger(
            trigger.as_ref(),
            &more_triggers,
            &owner,
            &TriggerContext {
                tz,
                start: start_at,
            },
        );
        // A job's own `shell` replaces the defaults' whole: `true` means /bin/sh.
        let (shell, shell_path) = if options.shell.is_some() {
            (options.shell, options.shell_path)
        } else {
            (defaults.shell, defaults.shell_path.clone())
        };
        let command = self.c.command(
            command.as_ref(),
            shell,
            options.shell.is_none() && shell.is_some(),
            &owner,
        );
        if let Some(executor) = &options.executor {
            self.check_executor_reference(entry, executor, pools);
        }
        let outcomes = options
            .outcomes
            .resolve(&defaults.outcomes, shell, &mut self.c);
        let mut env = defaults.env.clone();
        env.extend(options.env);
        let nonzero = |d: Option<Duration>| d.filter(|d| d.as_secs() > 0);
        Some(Job {
            name: name.to_owned(),
            trigger: trigger?,
            timezone: tz,
            command: command?,
            workdir: options.workdir.or_else(|| defaults.workdir.clone()),
            env,
            // A job's own setting replaces the defaults' (lists are not merged), like workdir.
            inherit_env: options
                .inherit_env
                .or_else(|| defaults.inherit_env.clone())
                .unwrap_or_default(),
            executor: options
                .executor
                .or_else(|| defaults.executor.clone())
                .unwrap_or_else(|| defaults::EXECUTOR.to_owned()),
            start: start_at,
            end: end_at,
            jitter: nonzero(options.jitter.or(defaults.jitter)),
            misfire_grace: options
                .misfire_grace
                .or(defaults.misfire_grace)
                .unwrap_or(defaults::MISFIRE_GRACE),
            queue_grace: options.queue_grace.or(defaults.queue_grace),
            coalesce: options
                .coalesce
                .or(defaults.coalesce)
                .unwrap_or(defaults::COALESCE),
            max_instances: options
                .max_instances
                .or(defaults.max_instances)
                .unwrap_or(defaults::MAX_INSTANCES),
            overlap: options.overlap.or(defaults.overlap).unwrap_or_default(),
            timeout: nonzero(options.timeout.or(defaults.timeout)),
            kill_after: options
                .kill_after
                .or(defaults.kill_after)
                .unwrap_or(defaults::KILL_AFTER),
            paused: paused?,
            shell: shell_path,
            stdin,
            user: options.user.or_else(|| defaults.user.clone()),
            group: options.group.or_else(|| defaults.group.clone()),
            outcomes,
        })
        .filter(|_| name_ok)
    }
}
