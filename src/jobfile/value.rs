//! Typed reads out of the spanned TOML tree. Every read that fails records a diagnostic at the
//! value and returns `None`, so validation goes on and `jobrun check` reports every error at once.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use super::diagnostic::{Diagnostic, MAX_DIAGNOSTICS, SourceFile};
use super::tree::Item;
use crate::duration::Duration;
use crate::error::did_you_mean;
use crate::trigger::{At, CronExpr};
use crate::zone::Tz;

/// Where a value is, as messages name it: `jobs.report.all[1].every`. Only a diagnostic spells
/// it out, so the 10,000 keys of a valid jobfile cost no string each.
#[derive(Clone, Copy)]
pub(super) enum Field<'a> {
    Root,
    Key(&'a Field<'a>, &'a str),
    Index(&'a Field<'a>, usize),
}

impl fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Root => Ok(()),
            Field::Key(Field::Root, key) => write_key(f, key),
            Field::Key(parent, key) => {
                write!(f, "{parent}.")?;
                write_key(f, key)
            }
            Field::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A key as written in a dotted path: bare when TOML allows it, else quoted.
fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        f.write_str(key)
    } else {
        write!(f, "{key:?}")
    }
}

/// A key of a table, with where it is and what it is called in messages.
pub(super) struct Entry<'a> {
    pub(super) key: &'a str,
    pub(super) key_span: Range<usize>,
    pub(super) item: Item<'a>,
    /// The value's span (for a `[table]`, its header).
    pub(super) span: Range<usize>,
    /// Dotted path like `jobs.report.cron`.
    pub(super) field: Field<'a>,
}

/// The entries of a table in file order (none when `table` is not a table).
pub(super) fn entries<'a>(
    table: Item<'a>,
    parent: &'a Field<'a>,
) -> impl Iterator<Item = Entry<'a>> + use<'a> {
    table.entries().map(move |kv| Entry {
        key: kv.key,
        key_span: kv.key_span,
        item: kv.item,
        span: kv.item.span(),
        field: Field::Key(parent, kv.key),
    })
}

/// Collects diagnostics for one file.
pub(super) struct Checker<'a> {
    pub(super) source: &'a SourceFile<'a>,
    pub(super) errors: Vec<Diagnostic>,
    /// Problems beyond `MAX_DIAGNOSTICS`: counted, not built.
    pub(super) omitted: usize,
    /// Parsed cron expressions by their text: jobfiles repeat a few schedules over many jobs,
    /// which then share one parse (and its memory).
    crons: HashMap<Box<str>, Arc<CronExpr>>,
    /// The jobs each `after` trigger names, checked once every job is known (`chain.rs`).
    pub(super) chains: Vec<super::chain::ChainRef>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(source: &'a SourceFile<'a>) -> Checker<'a> {
        Checker {
            source,
            errors: Vec::new(),
            omitted: 0,
            crons: HashMap::new(),
            chains: Vec::new(),
        }
    }

    pub(super) fn error(
        &mut self,
        span: Range<usize>,
        field: &Field<'_>,
        message: String,
        help: Option<String>,
    ) {
        if self.errors.len() >= MAX_DIAGNOSTICS {
            self.omitted += 1;
            return;
        }
        let field = field.to_string();
        self.errors
            .push(self.source.diagnostic(span, &field, message, help));
    }

    /// "expected {expected}, found {kind}".
    pub(super) fn wrong_type(&mut self, entry: &Entry<'_>, expected: &str, help: Option<String>) {
        self.error(
            entry.span.clone(),
            &entry.field,
            format!("expected {expected}, found {}", entry.item.kind()),
            help,
        );
    }

    /// An unknown key, with the closest known one (or the list of known ones) as help.
    pub(super) fn unknown_key(
        &mut self,
        entry: &Entry<'_>,
        what: &str,
        known: &[&str],
        help: Option<String>,
    ) {
        let help = help.or_else(|| {
            Some(
                match alias(entry.key, known)
                    .map(str::to_owned)
                    .or_else(|| did_you_mean(entry.key, known.iter().copied()))
                {
                    Some(close) => format!("did you mean {close:?}?"),
                    None => format!("expected one of {}", known.join(", ")),
                },
            )
        });
        self.error(
            entry.key_span.clone(),
            &entry.field,
            format!("unknown {what} {:?}", entry.key),
            help,
        );
    }

    pub(super) fn string<'t>(&mut self, entry: &Entry<'t>, expected: &str) -> Option<&'t str> {
        let found = entry.item.as_str();
        if found.is_none() {
            self.wrong_type(entry, expected, None);
        }
        found
    }

    pub(super) fn boolean(&mut self, entry: &Entry<'_>) -> Option<bool> {
        let found = entry.item.as_bool();
        if found.is_none() {
            let help = entry
                .item
                .as_str()
                .filter(|s| matches!(*s, "true" | "false"))
                .map(|s| format!("write {s} without quotes"));
            self.wrong_type(entry, "true or false", help);
        }
        found
    }

    /// A count that must be at least 1 (`workers`, `max_instances`).
    pub(super) fn count(&mut self, entry: &Entry<'_>, example: u32) -> Option<u32> {
        let Some(n) = entry.item.as_integer() else {
            self.wrong_type(entry, &format!("a whole number like {example}"), None);
            return None;
        };
        let message = if n < 1 {
            format!("{} must be at least 1, found {n}", entry.key)
        } else {
            match u32::try_from(n) {
                Ok(n) => return Some(n),
                Err(_) => format!("{} is too large: {n}", entry.key),
            }
        };
        self.error(entry.span.clone(), &entry.field, message, None);
        None
    }

    pub(super) fn duration(&mut self, entry: &Entry<'_>, example: &str) -> Option<Duration> {
        if let Some(n) = entry.item.as_integer() {
            let help = format!(
                "durations need a unit: write \"{n}s\" for seconds or \"{n}m\" for minutes"
            );
            self.wrong_type(entry, &format!("a duration like {example:?}"), Some(help));
            return None;
        }
        let text = self.string(entry, &format!("a duration like {example:?}"))?;
        match text.parse::<Duration>() {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(entry.span.clone(), &entry.field, e.to_string(), None);
                None
            }
        }
    }

    pub(super) fn zone(&mut self, entry: &Entry<'_>) -> Option<Tz> {
        let name = self.string(entry, "an IANA time zone name like \"Europe/Paris\"")?;
        match name.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(e @ crate::zone::ZoneError::Unusable { .. }) => {
                let help = "reinstall the system's tzdata, or point TZDIR at a good copy";
                self.error(
                    entry.span.clone(),
                    &entry.field,
                    e.to_string(),
                    Some(help.to_owned()),
                );
                None
            }
            Err(crate::zone::ZoneError::Unknown(_)) => {
                let help = match did_you_mean(name, crate::zone::names().iter().map(String::as_str))
                {
                    Some(close) => format!("did you mean {close:?}?"),
                    None => {
                        "use an IANA name like \"Europe/Paris\", \"America/New_York\" or \"UTC\""
                            .to_owned()
                    }
                };
                self.error(
                    entry.span.clone(),
                    &entry.field,
                    format!("unknown time zone {name:?}"),
                    Some(help),
                );
                None
            }
        }
    }

    /// `text` as a cron expression, parsed once however many jobs use it.
    pub(super) fn cron_expr(
        &mut self,
        text: &str,
    ) -> Result<Arc<CronExpr>, crate::trigger::cron::CronError> {
        if let Some(expr) = self.crons.get(text) {
            return Ok(Arc::clone(expr));
        }
        let expr = Arc::new(CronExpr::parse(text)?);
        self.crons.insert(text.into(), Arc::clone(&expr));
        Ok(expr)
    }

    /// One of a fixed set of words (`overlap = "queue"`), read with `parse`.
    pub(super) fn word<T>(
        &mut self,
        entry: &Entry<'_>,
        words: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
        let expected = match quoted.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => quoted.concat(),
        };
        let text = self.string(entry, &expected)?;
        if let Some(value) = parse(text) {
            return Some(value);
        }
        let help = did_you_mean(&text.to_ascii_lowercase(), words.iter().copied())
            .map(|close| format!("did you mean {close:?}?"));
        self.error(
            entry.span.clone(),
            &entry.field,
            format!("expected {expected}, found {text:?}"),
            help,
        );
        None
    }

    /// A TOML date-time or a string: with an offset it is that instant, without one it is wall
    /// time in `tz` (a time the zone skips is an error, as for `at`).
    pub(super) fn instant(&mut self, entry: &Entry<'_>, tz: Tz) -> Option<DateTime<Utc>> {
        let result = if let Some(s) = entry.item.as_str() {
            At::parse(s, tz)
                .map(|at| at.instant())
                .map_err(|e| e.to_string())
        } else if let Some(dt) = entry.item.as_datetime() {
            toml_instant(dt, tz)
        } else {
            self.wrong_type(
                entry,
                "a date-time like 2026-12-24T18:00:00 or 2026-12-24T18:00:00+01:00",
                None,
            );
            return None;
        };
        result
            .map_err(|message| self.error(entry.span.clone(), &entry.field, message, None))
            .ok()
    }

    /// `env`: a table of string values whose keys are valid variable names.
    pub(super) fn env(&mut self, entry: &Entry<'_>) -> Option<BTreeMap<String, String>> {
        if !entry.item.is_table() {
            self.wrong_type(entry, "a table like { NAME = \"value\" }", None);
            return None;
        }
        let mut env = BTreeMap::new();
        let mut ok = true;
        for var in entries(entry.item, &entry.field) {
            if !is_env_name(var.key) {
                ok = false;
                self.error(
                    var.key_span.clone(),
                    &var.field,
                    format!("invalid environment variable name {:?}", var.key),
                    Some(
                        "names are letters, digits and \"_\", not starting with a digit".to_owned(),
                    ),
                );
            }
            match var.item.as_str() {
                Some(value) if value.contains('\0') => {
                    ok = false;
                    self.error(
                        var.span.clone(),
                        &var.field,
                        super::validate::NUL.to_owned(),
                        None,
                    );
                }
                Some(value) => {
                    env.insert(var.key.to_owned(), value.to_owned());
                }
                None => {
                    ok = false;
                    let help = var
                        .item
                        .to_value()
                        .filter(|_| var.item.is_number_or_boolean())
                        .map(|v| format!("quote it: {} = \"{}\"", var.key, v.to_string().trim()));
                    self.wrong_type(&var, "a string", help);
                }
            }
        }
        ok.then_some(env)
    }
}

pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Names people bring from crontab, systemd timers and other schedulers, mapped to ours.
fn alias<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let ours = match key.to_ascii_lowercase().as_str() {
        "tz" | "zone" | "time_zone" | "cron_tz" => "timezone",
        "cmd" | "run" | "exec" | "script" | "program" => "command",
        "schedule" | "crontab" | "oncalendar" => "cron",
        "interval" | "period" | "repeat" => "every",
        "once" | "when" | "date" => "at",
        "dir" | "cwd" | "directory" | "working_directory" => "workdir",
        "environment" | "vars" | "variables" => "env",
        "disabled" | "enabled" | "suspended" => "paused",
        "pool" | "queue" => "executor",
        "concurrency" | "max_concurrency" | "instances" => "max_instances",
        "concurrency_policy" | "concurrencypolicy" | "overlap_policy" => "overlap",
        "depends_on" | "needs" | "requires" | "on_success_of" => "after",
        "grace" | "grace_time" | "misfire_grace_time" => "misfire_grace",
        "threads" | "slots" | "size" | "max_workers" => "workers",
        "job" => "jobs",
        "default" => "defaults",
        "executor" => "executors",
        _ => return None,
    };
    known.iter().copied().find(|k| *k == ours)
}

/// A TOML date-time as an instant (see [`Checker::instant`]).
fn toml_instant(dt: &toml_edit::Datetime, tz: Tz) -> Result<DateTime<Utc>, String> {
    let (Some(date), Some(time)) = (dt.date, dt.time) else {
        return Err(match dt.date {
            Some(_) => format!("{dt} is a date without a time; write {dt}T00:00:00 for midnight"),
            None => format!(
                "{dt} is a time without a date; write a full date-time like 2026-12-24T{dt}"
            ),
        });
    };
    let naive = NaiveDate::from_ymd_opt(
        i32::from(date.year),
        u32::from(date.month),
        u32::from(date.day),
    )
    .zip(NaiveTime::from_hms_nano_opt(
        u32::from(time.hour),
        u32::from(time.minute),
        u32::from(time.second.unwrap_or(0)),
        time.nanosecond.unwrap_or(0),
    ))
    .map(|(d, t)| NaiveDateTime::new(d, t))
    .ok_or_else(|| format!("{dt} is not a valid date-time"))?;
    let minutes = match dt.offset {
        None => {
            return At::local(naive, tz)
                .map(|at| at.instant())
                .map_err(|e| e.to_string());
        }
        Some(toml_edit::Offset::Z) => 0,
        Some(toml_edit::Offset::Custom { minutes }) => i64::from(minutes),
    };
    // UTC has no gaps, so this only applies At's whole-second rule.
    At::local(naive - TimeDelta::minutes(minutes), Tz::UTC)
        .map(|at| at.instant())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_quote_keys_that_are_not_bare() {
        let jobs = Field::Key(&Field::Root, "jobs");
        assert_eq!(jobs.to_string(), "jobs");
        assert_eq!(Field::Key(&jobs, "report-2").to_string(), "jobs.report-2");
        let job = Field::Key(&jobs, "my job");
        assert_eq!(job.to_string(), "jobs.\"my job\"");
        let part = Field::Index(&Field::Key(&job, "all"), 1);
        assert_eq!(
            Field::Key(&part, "every").to_string(),
            "jobs.\"my job\".all[1].every"
        );
    }

    #[test]
    fn env_names_are_shell_identifiers() {
        assert!(is_env_name("REPORT_DIR") && is_env_name("_x1"));
        assert!(!is_env_name("1X") && !is_env_name("A-B") && !is_env_name(""));
    }

    #[test]
    fn toml_date_times_with_an_offset_are_instants_and_without_are_wall_time() {
        let dt = |s: &str| s.parse::<toml_edit::Datetime>().unwrap();
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            toml_instant(&dt("2026-12-01T00:00:00Z"), paris)
                .unwrap()
                .to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            toml_instant(&dt("2026-12-01T00:00:00+05:30"), paris)
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T18:30:00+00:00"
        );
        assert_eq!(
            toml_instant(&dt("2026-12-01T00:00:00"), paris)
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T23:00:00+00:00"
        );
        assert!(
            toml_instant(&dt("2026-12-01"), paris)
                .unwrap_err()
                .contains("date without a time")
        );
        assert!(
            toml_instant(&dt("2026-12-01T00:00:00.5Z"), paris)
                .unwrap_err()
                .contains("fractions of a second")
        );
        let new_york: Tz = "America/New_York".parse().unwrap();
        assert!(
            toml_instant(&dt("2026-03-08T02:30:00"), new_york)
                .unwrap_err()
                .contains("does not exist")
        );
    }
}
