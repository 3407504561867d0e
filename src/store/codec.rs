//! How a run is laid out in its row, both ways, and the rules a row must follow.
//!
//! Each [`Outcome`] variant has a `state` name and its own columns; every other outcome column
//! is NULL. Reading re-encodes the decoded outcome and compares, so a row with stray values
//! (written by something other than jobrun, or damaged) is reported, not half-read. `check()`
//! runs the same rules over every row.

use chrono::{DateTime, Utc};
use rusqlite::Row;

use super::{FailedBy, MAX_TAIL, Outcome, RunRecord};

/// The columns of `runs` that every schema version has, in the order [`RawRun::from_row`]
/// reads them.
macro_rules! base_columns {
    () => {
        "id, job, scheduled, manual, recorded_at, started, ended, timed_out, state, pid, \
         exit_code, signal, message, late_by_ms, fires, first_fire, into_fire, output_tail"
    };
}

/// The columns of a run in a store of the current version.
pub(super) const RUN_COLUMNS: &str = concat!(
    base_columns!(),
    ", failed_by, attempt, attempts, replaced_by"
);

/// The columns of a run in a store of `version`: a version 1 store has no `failed_by` (it is
/// worked out as that version judged runs), stores before version 3 had one attempt per fire,
/// and before version 4 no run was replaced.
pub(super) fn run_columns(version: i64) -> &'static str {
    match version {
        4.. => RUN_COLUMNS,
        3 => concat!(base_columns!(), ", failed_by, attempt, attempts, NULL"),
        2 => concat!(base_columns!(), ", failed_by, 1, 1, NULL"),
        _ => concat!(
            base_columns!(),
            ", ",
            super::schema::failed_by_v1!(),
            ", 1, 1, NULL"
        ),
    }
}

/// Microseconds since the Unix epoch: the store's time format (sub-microsecond digits dropped).
pub(super) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_micros(us).ok_or_else(|| format!("time {us} is out of range"))
}

/// The last `MAX_TAIL` bytes of `text`, starting at a character boundary.
pub(super) fn tail(text: &str) -> &str {
    let mut start = text.len().saturating_sub(MAX_TAIL);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The outcome-specific columns of a row.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct OutcomeColumns<'a> {
    pub(super) state: &'static str,
    pub(super) pid: Option<i64>,
    pub(super) exit_code: Option<i64>,
    pub(super) signal: Option<i64>,
    pub(super) message: Option<&'a str>,
    pub(super) late_by_ms: Option<i64>,
    pub(super) fires: Option<i64>,
    pub(super) first_fire: Option<i64>,
    pub(super) into_fire: Option<i64>,
}

impl<'a> OutcomeColumns<'a> {
    pub(super) fn of(outcome: &'a Outcome) -> Result<Self, String> {
        let none = OutcomeColumns::default();
        Ok(match outcome {
            Outcome::Claimed => OutcomeColumns {
                state: "claimed",
                ..none
            },
            Outcome::Running { pid } => OutcomeColumns {
                state: "running",
                pid: Some(i64::from(*pid)),
                ..none
            },
            Outcome::Exited { code } => OutcomeColumns {
                state: "exited",
                exit_code: Some(i64::from(*code)),
                ..none
            },
            Outcome::Signaled { signal } => OutcomeColumns {
                state: "signaled",
                signal: Some(i64::from(*signal)),
                ..none
            },
            Outcome::SpawnFailed { error } => OutcomeColumns {
                state: "spawn_failed",
                message: Some(error),
                ..none
            },
            Outcome::Interrupted { note } => OutcomeColumns {
                state: "interrupted",
                message: Some(note),
                ..none
            },
            Outcome::Missed {
                late_by_ms,
                fires,
                first,
            } => OutcomeColumns {
                state: "missed",
                late_by_ms: Some(*late_by_ms),
                fires: Some(
                    i64::try_from(*fires).map_err(|_| format!("{fires} fires is too many"))?,
                ),
                first_fire: Some(micros(*first)),
                ..none
            },
            Outcome::Coalesced { into } => OutcomeColumns {
                state: "coalesced",
                into_fire: Some(micros(*into)),
                ..none
            },
            Outcome::Skipped { reason } => OutcomeColumns {
                state: "skipped",
                message: Some(reason),
                ..none
            },
        })
    }
}

/// What is wrong with a missed range, if anything: it stands for one fire, whose oldest fire is
/// its newest (`scheduled`), or for several (or, with `fires` 0, more than were counted), whose
/// oldest fire is earlier.
pub(super) fn missed_problem(
    scheduled: DateTime<Utc>,
    fires: u64,
    first: DateTime<Utc>,
) -> Option<String> {
    match fires {
        0 if first >= scheduled => Some(format!(
            "a missed range of uncounted fires must have its first fire ({first}) before its \
             newest ({scheduled})"
        )),
        1 if first != scheduled => Some(format!(
            "a missed row for one fire must have its first fire ({first}) at its scheduled \
             time ({scheduled})"
        )),
        2.. if first >= scheduled => Some(format!(
            "a missed range's first fire ({first}) must come before its newest ({scheduled})"
        )),
        _ => None,
    }
}

/// A row as read, before its rules are checked.
#[derive(Debug)]
pub(super) struct RawRun {
    id: i64,
    job: String,
    scheduled: i64,
    manual: bool,
    recorded_at: i64,
    started: Option<i64>,
    ended: Option<i64>,
    timed_out: bool,
    state: String,
    pid: Option<i64>,
    exit_code: Option<i64>,
    signal: Option<i64>,
    message: Option<String>,
    late_by_ms: Option<i64>,
    fires: Option<i64>,
    first_fire: Option<i64>,
    into_fire: Option<i64>,
    output_tail: String,
    failed_by: Option<String>,
    attempt: i64,
    attempts: i64,
    replaced_by: Option<i64>,
}

impl RawRun {
    /// Reads a row selected with [`RUN_COLUMNS`].
    pub(super) fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawRun {
            id: row.get(0)?,
            job: row.get(1)?,
            scheduled: row.get(2)?,
            manual: row.get(3)?,
            recorded_at: row.get(4)?,
            started: row.get(5)?,
            ended: row.get(6)?,
            timed_out: row.get(7)?,
            state: row.get(8)?,
            pid: row.get(9)?,
            exit_code: row.get(10)?,
            signal: row.get(11)?,
            message: row.get(12)?,
            late_by_ms: row.get(13)?,
            fires: row.get(14)?,
            first_fire: row.get(15)?,
            into_fire: row.get(16)?,
            output_tail: row.get(17)?,
            failed_by: row.get(18)?,
            attempt: row.get(19)?,
            attempts: row.get(20)?,
            replaced_by: row.get(21)?,
        })
    }

    /// Reads a PostgreSQL row selected with [`RUN_COLUMNS`] (the PostgreSQL store's columns
    /// have the same names, and bigint where SQLite has INTEGER).
    pub(super) fn from_pg_row(row: &postgres::Row) -> Result<Self, postgres::Error> {
        Ok(RawRun {
            id: row.try_get(0)?,
            job: row.try_get(1)?,
            scheduled: row.try_get(2)?,
            manual: row.try_get(3)?,
            recorded_at: row.try_get(4)?,
            started: row.try_get(5)?,
            ended: row.try_get(6)?,
            timed_out: row.try_get(7)?,
            state: row.try_get(8)?,
            pid: row.try_get(9)?,
            exit_code: row.try_get(10)?,
            signal: row.try_get(11)?,
            message: row.try_get(12)?,
            late_by_ms: row.try_get(13)?,
            fires: row.try_get(14)?,
            first_fire: row.try_get(15)?,
            into_fire: row.try_get(16)?,
            output_tail: row.try_get(17)?,
            failed_by: row.try_get(18)?,
            attempt: row.try_get(19)?,
            attempts: row.try_get(20)?,
            replaced_by: row.try_get(21)?,
        })
    }

    /// The run this row records, or what makes the row inconsistent.
    pub(super) fn decode(self) -> Result<RunRecord, String> {
        let id = self.id;
        let state = self.state.as_str();
        let need = |value: Option<i64>, column: &str| {
            value.ok_or_else(|| format!("run {id} ({state}) has no {column}"))
        };
        let int32 = |value: Option<i64>, column: &str| {
            i32::try_from(need(value, column)?)
                .map_err(|_| format!("run {id} ({state}) has {column} out of range"))
        };
        let text = |value: &Option<String>, column: &str| {
            value
                .clone()
                .ok_or_else(|| format!("run {id} ({state}) has no {column}"))
        };
        let outcome = match state {
            "claimed" => Outcome::Claimed,
            "running" => Outcome::Running {
                pid: int32(self.pid, "pid")?,
            },
            "exited" => Outcome::Exited {
                code: int32(self.exit_code, "exit code")?,
            },
            "signaled" => Outcome::Signaled {
                signal: int32(self.signal, "signal")?,
            },
            "spawn_failed" => Outcome::SpawnFailed {
                error: text(&self.message, "error message")?,
            },
            "interrupted" => Outcome::Interrupted {
                note: text(&self.message, "note")?,
            },
            "missed" => Outcome::Missed {
                late_by_ms: need(self.late_by_ms, "lateness")?,
                fires: u64::try_from(need(self.fires, "fire count")?)
                    .map_err(|_| format!("run {id} (missed) has a negative fire count"))?,
                first: time(need(self.first_fire, "first fire")?)?,
            },
            "coalesced" => Outcome::Coalesced {
                into: time(need(self.into_fire, "target fire")?)?,
            },
            "skipped" => Outcome::Skipped {
                reason: text(&self.message, "reason")?,
            },
            other => return Err(format!("run {id} has an unknown state {other:?}")),
        };

        let expected = OutcomeColumns::of(&outcome)?;
        let actual = OutcomeColumns {
            state: expected.state,
            pid: self.pid,
            exit_code: self.exit_code,
            signal: self.signal,
            message: self.message.as_deref(),
            late_by_ms: self.late_by_ms,
            fires: self.fires,
            first_fire: self.first_fire,
            into_fire: self.into_fire,
        };
        if actual != expected {
            return Err(format!(
                "run {id} ({state}) has values in columns of other outcomes"
            ));
        }

        let scheduled = time(self.scheduled)?;
        let optional = |value: Option<i64>| value.map(time).transpose();
        let (started, ended) = (optional(self.started)?, optional(self.ended)?);
        // Which times each outcome has: None = must be absent, Some(true) = must be present.
        let (want_started, want_ended) = match outcome {
            Outcome::Claimed => (Some(false), Some(false)),
            Outcome::Running { .. } => (Some(true), Some(false)),
            Outcome::Exited { .. } | Outcome::Signaled { .. } => (Some(true), Some(true)),
            Outcome::SpawnFailed { .. } => (Some(false), Some(true)),
            Outcome::Interrupted { .. } => (None, Some(true)),
            Outcome::Missed { .. } | Outcome::Coalesced { .. } | Outcome::Skipped { .. } => {
                (Some(false), Some(false))
            }
        };
        for (want, value, column) in [
            (want_started, started, "start time"),
            (want_ended, ended, "end time"),
        ] {
            match (want, value.is_some()) {
                (Some(true), false) => return Err(format!("run {id} ({state}) has no {column}")),
                (Some(false), true) => {
                    return Err(format!("run {id} ({state}) has a {column}"));
                }
                _ => {}
            }
        }
        let ended_by_process = matches!(outcome, Outcome::Exited { .. } | Outcome::Signaled { .. });
        let failed_by = match self.failed_by.as_deref() {
            None => None,
            Some(_) if !ended_by_process => {
                return Err(format!("run {id} ({state}) has a failure reason"));
            }
            Some(text) => Some(
                FailedBy::parse(text)
                    .ok_or_else(|| format!("run {id} has an unknown failure reason {text:?}"))?,
            ),
        };
        if self.timed_out && !ended_by_process {
            return Err(format!("run {id} ({state}) is marked as timed out"));
        }
        let decision = matches!(
            outcome,
            Outcome::Missed { .. } | Outcome::Coalesced { .. } | Outcome::Skipped { .. }
        );
        if decision && self.manual {
            return Err(format!("run {id} ({state}) is a manual run"));
        }
        if self.replaced_by.is_some() && !ended_by_process {
            return Err(format!("run {id} ({state}) is marked as replaced"));
        }
        if let Outcome::Missed { fires, first, .. } = &outcome
            && let Some(problem) = missed_problem(scheduled, *fires, *first)
        {
            return Err(format!("run {id}: {problem}"));
        }

        let count = |n: i64, column: &str| {
            u32::try_from(n)
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("run {id} has {column} {n}"))
        };
        let (attempt, attempts) = (
            count(self.attempt, "attempt")?,
            count(self.attempts, "attempts")?,
        );
        Ok(RunRecord {
            id,
            job: self.job,
            scheduled,
            manual: self.manual,
            recorded_at: time(self.recorded_at)?,
            started,
            ended,
            timed_out: self.timed_out,
            outcome,
            failed_by,
            attempt,
            attempts,
            output_tail: self.output_tail,
            replaced_by: self.replaced_by,
        })
    }
}

/// See `crate::fuzzing`: the row goes through SQLite (a `SELECT` of the values), so column
/// types are converted exactly as in a read.
#[cfg(fuzzing)]
pub(crate) fn decode_run_row(values: Vec<rusqlite::types::Value>) -> Result<(), String> {
    use rusqlite::types::Value;
    let conn = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
    let select = |values: &[Value]| -> Result<RawRun, String> {
        let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("?{i}")).collect();
        conn.query_row(
            &format!("SELECT {}", placeholders.join(", ")),
            rusqlite::params_from_iter(values),
            RawRun::from_row,
        )
        .map_err(|e| e.to_string())
    };
    let record = select(&values)?.decode()?;
    let columns = OutcomeColumns::of(&record.outcome)?;
    let int = |v: Option<i64>| v.map_or(Value::Null, Value::Integer);
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::Text(s.to_owned()));
    let encoded = vec![
        Value::Integer(record.id),
        Value::Text(record.job.clone()),
        Value::Integer(micros(record.scheduled)),
        Value::Integer(i64::from(record.manual)),
        Value::Integer(micros(record.recorded_at)),
        int(record.started.map(micros)),
        int(record.ended.map(micros)),
        Value::Integer(i64::from(record.timed_out)),
        Value::Text(columns.state.to_owned()),
        int(columns.pid),
        int(columns.exit_code),
        int(columns.signal),
        text(columns.message),
        int(columns.late_by_ms),
        int(columns.fires),
        int(columns.first_fire),
        int(columns.into_fire),
        Value::Text(record.output_tail.clone()),
    ];
    let again = select(&encoded)?
        .decode()
        .map_err(|e| format!("a decoded run does not decode again: {e}"))?;
    assert_eq!(
        again, record,
        "a run changed on its way back through its row"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_end_and_cuts_at_a_character() {
        assert_eq!(tail("short"), "short");
        let exact = "x".repeat(MAX_TAIL);
        assert_eq!(tail(&exact), exact);
        let long = format!("{}{}", "a".repeat(10), "b".repeat(MAX_TAIL));
        assert_eq!(tail(&long), "b".repeat(MAX_TAIL));
        // "é" is two bytes; a cut through it moves forward to the next character.
        let accents = format!("{}{}", "é".repeat(MAX_TAIL / 2), "z");
        let cut = tail(&accents);
        assert!(cut.len() <= MAX_TAIL && cut.len() >= MAX_TAIL - 1);
        assert!(cut.ends_with('z'));
        assert!(cut.starts_with('é'));
    }

    #[test]
    fn a_missed_range_must_be_ordered_and_count_its_fires() {
        let t = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(missed_problem(t(10), 1, t(10)), None);
        assert_eq!(missed_problem(t(10), 3, t(5)), None);
        assert!(missed_problem(t(10), 0, t(10)).is_some());
        assert_eq!(missed_problem(t(10), 0, t(2)), None);
        assert!(missed_problem(t(10), 1, t(5)).is_some());
        assert!(missed_problem(t(10), 2, t(11)).is_some());
        assert!(missed_problem(t(10), 2, t(10)).is_some());
    }
}
