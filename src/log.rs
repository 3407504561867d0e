//! The scheduler's log: one line per event on stderr, `key=value` fields for people or one
//! JSON object per line for log shippers (`--log-format json`). A job's output lines go
//! through here too, prefixed with the job's name and run id.
//!
//! Every event has a level (error, warning, notice, info), decided here from the event and
//! its fields so that failures stand out: JSON lines carry it as `level`; under journald
//! (stderr is the stream `$JOURNAL_STREAM` names) each line starts with sd-daemon(3)'s `<N>`
//! priority prefix, which journald strips and stores (`journalctl -p err` finds failures),
//! and human lines drop their own timestamp, since the journal keeps one.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::output::{Paint, Style};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event: time, event, key=value fields
    Human,
    /// One JSON object per line: ts, level, event and the same fields
    Json,
}

/// A field value: text or a number (kept apart so JSON gets real numbers).
#[derive(Debug, Clone)]
pub enum Field {
    Text(String),
    Int(i64),
    Bool(bool),
    /// A duration in milliseconds: `key=1.234s` for people, `key_ms: 1234` in JSON (the unit
    /// `history --json` uses for `duration_ms`).
    Millis(i64),
    /// How a process ended: `key="exit 3"` or `key="killed by SIGTERM"` for people; in JSON,
    /// `exit_code` and `signal` (one of them null), as in `history --json`.
    Exit {
        code: Option<i32>,
        signal: Option<String>,
    },
}

impl Field {
    /// Whether this is an `Exit` of anything but code 0.
    fn is_failure(&self) -> bool {
        matches!(self, Field::Exit { code, .. } if *code != Some(0))
    }
}

impl From<bool> for Field {
    fn from(b: bool) -> Field {
        Field::Bool(b)
    }
}

impl From<crate::executor::ExitStatus> for Field {
    fn from(status: crate::executor::ExitStatus) -> Field {
        match status {
            crate::executor::ExitStatus::Code(code) => Field::Exit {
                code: Some(code),
                signal: None,
            },
            crate::executor::ExitStatus::Signal(signal) => Field::Exit {
                code: None,
                signal: Some(crate::executor::signal_name(signal)),
            },
        }
    }
}

/// How much an event matters: syslog's levels, which sd-daemon's prefixes carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
    Info,
}

impl Level {
    /// The event's level: failures are errors, runs that did not happen as planned are
    /// warnings, the scheduler's own comings and goings notices, the rest info.
    pub fn of(event: &str, fields: &[(&str, Field)]) -> Level {
        match event {
            "failed" | "reload_failed" | "store_error" | "timed_out" => Level::Error,
            "finished" if fields.iter().any(|(_, v)| v.is_failure()) => Level::Error,
            "missed" | "skipped" | "interrupted" | "killed" | "lingering" | "ended_leftovers"
            | "lease_expired" | "jobfiles_differ" | "store_unreachable" => Level::Warning,
            "scheduler_started" | "scheduler_stopped" | "stopping" | "reloaded" => Level::Notice,
            _ => Level::Info,
        }
    }

    /// syslog's number, for `<N>` prefixes.
    pub fn priority(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warning => 4,
            Level::Notice => 5,
            Level::Info => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
            Level::Info => "info",
        }
    }
}

impl From<&str> for Field {
    fn from(s: &str) -> Field {
        Field::Text(s.to_owned())
    }
}

impl From<String> for Field {
    fn from(s: String) -> Field {
        Field::Text(s)
    }
}

impl From<i64> for Field {
    fn from(n: i64) -> Field {
        Field::Int(n)
    }
}

impl From<u64> for Field {
    fn from(n: u64) -> Field {
        Field::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Field {
    fn from(n: u32) -> Field {
        Field::Int(i64::from(n))
    }
}

impl From<i32> for Field {
    fn from(n: i32) -> Field {
        Field::Int(i64::from(n))
    }
}

/// Where log lines go, besides their format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target {
    /// stderr is journald's stream: `<N>` prefixes, no own timestamps on human lines.
    pub journald: bool,
    /// Colour for people on a terminal: errors and warnings stand out.
    pub style: Style,
}

/// Writes log lines; a write error (stderr closed) is ignored, since there is nowhere left
/// to report it and the jobs must keep running.
pub struct Log {
    format: LogFormat,
    target: Target,
    out: Box<dyn Write + Send>,
}

impl Log {
    pub fn stderr(format: LogFormat, target: Target) -> Log {
        Log {
            format,
            target,
            out: Box::new(io::stderr()),
        }
    }

    pub fn to_writer(format: LogFormat, out: Box<dyn Write + Send>) -> Log {
        Log::to_target(format, Target::default(), out)
    }

    pub fn to_target(format: LogFormat, target: Target, out: Box<dyn Write + Send>) -> Log {
        Log {
            format,
            target,
            out,
        }
    }

    /// The start of a line: journald's priority prefix, or the time for people.
    fn lead(&self, at: DateTime<Utc>, level: Level) -> String {
        match (self.target.journald, self.format) {
            (true, _) => format!("<{}>", level.priority()),
            (false, LogFormat::Human) => format!("{} ", stamp(at)),
            (false, LogFormat::Json) => String::new(),
        }
    }

    /// How this log writes its lines (for a second log on stderr, a thread's own).
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// A second log to stderr, written alike (for a thread of its own, like the pinger's).
    pub fn stderr_alike(&self) -> Log {
        Log::stderr(self.format, self.target)
    }

    /// One event: `name` and its fields, in the order given.
    pub fn event(&mut self, at: DateTime<Utc>, name: &str, fields: &[(&str, Field)]) {
        let level = Level::of(name, fields);
        let line = match self.format {
            LogFormat::Human => {
                let mut line = match level {
                    Level::Error => self.target.style.paint(Paint::Bad, name),
                    Level::Warning => self.target.style.paint(Paint::Warn, name),
                    Level::Notice | Level::Info => name.to_owned(),
                };
                for (key, value) in fields {
                    line.push(' ');
                    line.push_str(key);
                    line.push('=');
                    match value {
                        Field::Int(n) => line.push_str(&n.to_string()),
                        Field::Bool(b) => line.push_str(if *b { "true" } else { "false" }),
                        Field::Millis(ms) => {
                            line.push_str(&format!("{:.3}s", *ms as f64 / 1000.0));
                        }
                        Field::Exit { code, signal } => {
                            let text = match (code, signal) {
                                (Some(code), _) => format!("exit {code}"),
                                (None, Some(signal)) => format!("killed by {signal}"),
                                (None, None) => "unknown".to_owned(),
                            };
                            push_human_text(&mut line, &text);
                        }
                        Field::Text(t) => push_human_text(&mut line, t),
                    }
                }
                line
            }
            LogFormat::Json => {
                let mut map = Map::new();
                map.insert("ts".into(), Value::from(stamp(at)));
                map.insert("level".into(), Value::from(level.name()));
                map.insert("event".into(), Value::from(name));
                for (key, value) in fields {
                    match value {
                        Field::Int(n) => {
                            map.insert((*key).to_owned(), Value::from(*n));
                        }
                        Field::Bool(b) => {
                            map.insert((*key).to_owned(), Value::from(*b));
                        }
                        Field::Text(t) => {
                            map.insert((*key).to_owned(), Value::from(t.as_str()));
                        }
                        Field::Millis(ms) => {
                            map.insert(format!("{key}_ms"), Value::from(*ms));
                        }
                        Field::Exit { code, signal } => {
                            map.insert("exit_code".into(), Value::from(*code));
                            map.insert("signal".into(), Value::from(signal.clone()));
                        }
                    }
                }
                Value::Object(map).to_string()
            }
        };
        let lead = self.lead(at, level);
        self.write_line(format!("{lead}{line}\n"));
    }

    /// Writes one whole line at once: stderr is unbuffered, and `writeln!` on it makes a
    /// system call per piece of the format (three or more per line), which a thousand runs
    /// starting at once pay several thousand times; one write also keeps a line whole beside
    /// another thread's (the pinger's).
    fn write_line(&mut self, line: String) {
        let _ = self.out.write_all(line.as_bytes());
    }

    /// A line of a job's output: `job[run] | text` (stdout) or `job[run] ! text` (stderr) for
    /// people; an `output` event in JSON.
    pub fn output(&mut self, at: DateTime<Utc>, job: &str, run: u64, stderr: bool, text: &str) {
        match self.format {
            LogFormat::Human => {
                let mark = if stderr { '!' } else { '|' };
                let lead = self.lead(at, Level::Info);
                // A job's bytes must not draw over jobrun's own lines on a terminal.
                let text = crate::escape::visible(text);
                self.write_line(format!("{lead}{job}[{run}] {mark} {text}\n"));
            }
            LogFormat::Json => self.event(
                at,
                "output",
                &[
                    ("job", job.into()),
                    ("run", run.into()),
                    ("stream", if stderr { "stderr" } else { "stdout" }.into()),
                    ("line", text.into()),
                ],
            ),
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Text values are bare when they are one plain word, else quoted like Rust strings, so a
/// line always splits back into its fields.
fn push_human_text(line: &mut String, text: &str) {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '=');
    if plain {
        line.push_str(text);
    } else {
        line.push_str(&format!("{text:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn logged(format: LogFormat, f: impl FnOnce(&mut Log)) -> String {
        let sink = Sink::default();
        let mut log = Log::to_writer(format, Box::new(sink.clone()));
        f(&mut log);
        let bytes = sink.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T10:00:00.004Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn human_lines_are_key_value_with_quoting_only_when_needed() {
        let text = logged(LogFormat::Human, |log| {
            log.event(
                at(),
                "finished",
                &[
                    ("job", "report".into()),
                    ("status", "exit 3".into()),
                    ("run", 12u64.into()),
                ],
            );
            log.output(at(), "report", 12, false, "hello world");
            log.output(at(), "report", 12, true, "oops");
        });
        assert_eq!(
            text,
            "2026-11-24T10:00:00.004Z finished job=report status=\"exit 3\" run=12\n\
             2026-11-24T10:00:00.004Z report[12] | hello world\n\
             2026-11-24T10:00:00.004Z report[12] ! oops\n"
        );
    }

    /// Issue 12: a CR let a job overwrite the line and print a forged `finished` of another.
    #[test]
    fn control_characters_in_a_jobs_output_are_escaped_for_people_not_in_json() {
        let forged = "x\r2026-11-24T10:00:00.004Z finished job=other status=\"exit 0\"\u{1b}[K";
        let text = logged(LogFormat::Human, |log| {
            log.output(at(), "report", 12, false, forged)
        });
        assert_eq!(
            text,
            "2026-11-24T10:00:00.004Z report[12] | x\\r2026-11-24T10:00:00.004Z finished \
             job=other status=\"exit 0\"\\x1b[K\n"
        );
        let json = logged(LogFormat::Json, |log| {
            log.output(at(), "report", 12, false, forged)
        });
        let line: Value = serde_json::from_str(json.trim_end()).unwrap();
        assert_eq!(line["line"], forged);
    }

    #[test]
    fn json_lines_are_objects_with_numbers_as_numbers() {
        let text = logged(LogFormat::Json, |log| {
            log.event(
                at(),
                "started",
                &[("job", "report".into()), ("run", 12u64.into())],
            );
            log.output(at(), "report", 12, true, "a \"quoted\" line");
        });
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({"ts": "2026-11-24T10:00:00.004Z", "level": "info", "event": "started", "job": "report", "run": 12})
        );
        assert_eq!(lines[1]["stream"], "stderr");
        assert_eq!(lines[1]["line"], "a \"quoted\" line");
    }

    fn finished(log: &mut Log, status: crate::executor::ExitStatus) {
        log.event(
            at(),
            "finished",
            &[
                ("job", "report".into()),
                ("run", 12u64.into()),
                ("status", status.into()),
                ("duration", Field::Millis(1234)),
                ("timed_out", true.into()),
            ],
        );
    }

    #[test]
    fn json_durations_and_exits_use_historys_fields_and_failures_are_errors() {
        use crate::executor::ExitStatus;
        let text = logged(LogFormat::Json, |log| {
            finished(log, ExitStatus::Code(3));
            finished(
                log,
                ExitStatus::Signal(nix::sys::signal::Signal::SIGTERM as i32),
            );
            finished(log, ExitStatus::Code(0));
        });
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({
                "ts": "2026-11-24T10:00:00.004Z", "level": "error", "event": "finished",
                "job": "report", "run": 12, "exit_code": 3, "signal": null,
                "duration_ms": 1234, "timed_out": true
            })
        );
        assert_eq!(lines[1]["exit_code"], Value::Null);
        assert_eq!(lines[1]["signal"], "SIGTERM");
        assert_eq!(lines[1]["level"], "error");
        assert_eq!(lines[2]["level"], "info");
    }

    #[test]
    fn under_journald_lines_carry_priority_prefixes_instead_of_timestamps() {
        let sink = Sink::default();
        let target = Target {
            journald: true,
            style: Style::default(),
        };
        let mut log = Log::to_target(LogFormat::Human, target, Box::new(sink.clone()));
        finished(&mut log, crate::executor::ExitStatus::Code(3));
        log.event(at(), "missed", &[("job", "report".into())]);
        log.event(at(), "started", &[("job", "report".into())]);
        log.output(at(), "report", 12, true, "oops");
        let mut json = Log::to_target(LogFormat::Json, target, Box::new(sink.clone()));
        json.event(at(), "reload_failed", &[]);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "<3>finished job=report run=12 status=\"exit 3\" duration=1.234s timed_out=true\n\
             <4>missed job=report\n\
             <6>started job=report\n\
             <6>report[12] ! oops\n\
             <3>{\"event\":\"reload_failed\",\"level\":\"error\",\"ts\":\"2026-11-24T10:00:00.004Z\"}\n"
        );
    }
}
