//! The scheduler's log: one line per event on stderr, `key=value` fields for people or one
//! JSON object per line for log shippers (`--log-format json`). A job's output lines go
//! through here too, prefixed with the job's name and run id.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-11-24T10:00:00.004Z started job=report run=12 ...`
    Human,
    /// `{"ts":"2026-11-24T10:00:00.004Z","event":"started","job":"report","run":12,...}`
    Json,
}

/// A field value: text or a number (kept apart so JSON gets real numbers).
#[derive(Debug, Clone)]
pub enum Field {
    Text(String),
    Int(i64),
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

/// Writes log lines; a write error (stderr closed) is ignored, since there is nowhere left
/// to report it and the jobs must keep running.
pub struct Log {
    format: LogFormat,
    out: Box<dyn Write + Send>,
}

impl Log {
    pub fn stderr(format: LogFormat) -> Log {
        Log {
            format,
            out: Box::new(io::stderr()),
        }
    }

    pub fn to_writer(format: LogFormat, out: Box<dyn Write + Send>) -> Log {
        Log { format, out }
    }

    /// One event: `name` and its fields, in the order given.
    pub fn event(&mut self, at: DateTime<Utc>, name: &str, fields: &[(&str, Field)]) {
        let line = match self.format {
            LogFormat::Human => {
                let mut line = format!("{} {name}", stamp(at));
                for (key, value) in fields {
                    line.push(' ');
                    line.push_str(key);
                    line.push('=');
                    match value {
                        Field::Int(n) => line.push_str(&n.to_string()),
                        Field::Text(t) => push_human_text(&mut line, t),
                    }
                }
                line
            }
            LogFormat::Json => {
                let mut map = Map::new();
                map.insert("ts".into(), Value::from(stamp(at)));
                map.insert("event".into(), Value::from(name));
                for (key, value) in fields {
                    let value = match value {
                        Field::Int(n) => Value::from(*n),
                        Field::Text(t) => Value::from(t.as_str()),
                    };
                    map.insert((*key).to_owned(), value);
                }
                Value::Object(map).to_string()
            }
        };
        let _ = writeln!(self.out, "{line}");
    }

    /// A line of a job's output: `job[run] | text` (stdout) or `job[run] ! text` (stderr) for
    /// people; an `output` event in JSON.
    pub fn output(&mut self, at: DateTime<Utc>, job: &str, run: u64, stderr: bool, text: &str) {
        match self.format {
            LogFormat::Human => {
                let mark = if stderr { '!' } else { '|' };
                // A job's bytes must not draw over jobrun's own lines on a terminal.
                let text = crate::escape::visible(text);
                let _ = writeln!(self.out, "{} {job}[{run}] {mark} {text}", stamp(at));
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
            serde_json::json!({"ts": "2026-11-24T10:00:00.004Z", "event": "started", "job": "report", "run": 12})
        );
        assert_eq!(lines[1]["stream"], "stderr");
        assert_eq!(lines[1]["line"], "a \"quoted\" line");
    }
}
