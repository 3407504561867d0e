//! `jobrun history [NAME…]`: past runs from the state store, oldest first (the newest at the
//! bottom, next to the prompt), with the tail of each run's output.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::cli::{Format, HistoryArgs};
use crate::context::Context;
use crate::error::Error;
use crate::executor::ExitStatus;
use crate::jobfile::Jobfile;
use crate::output::{self, Cell, Column, Table};
use crate::store::{FailedBy, Outcome, RunRecord, Store};
use crate::zone::Tz;

pub(super) fn run(ctx: &Context, args: &HistoryArgs) -> Result<(), Error> {
    // The jobfile gives each job's zone; a missing or broken one does not hide the history.
    let jobfile = crate::jobfile::load(&ctx.jobfile, ctx.local_tz, &ctx.trust).ok();
    let location = ctx.store_location(jobfile.as_ref().map(|j| &j.store))?;
    let store = Store::open_reader(&location)?;
    check_names(ctx, &args.names, jobfile.as_ref(), store.as_ref())?;
    let mut records = match store {
        Some(store) => {
            if args.names.is_empty() {
                store.history(None, args.count)?
            } else {
                let mut all = Vec::new();
                for name in &args.names {
                    all.extend(store.history(Some(name), args.count)?);
                }
                all.sort_by_key(|r| std::cmp::Reverse(r.id));
                all.truncate(args.count);
                all
            }
        }
        None => Vec::new(),
    };
    records.reverse();
    let zone = |job: &str| {
        jobfile
            .as_ref()
            .and_then(|f: &Jobfile| f.job(job))
            .map_or(ctx.local_tz, |j| j.timezone)
    };
    let text = match args.output.format() {
        Format::Json => json(&records, zone)?,
        Format::Plain => plain(&records).into_bytes(),
        Format::Human if records.is_empty() => format!(
            "no runs recorded for {} (state store {})\n",
            ctx.jobfile.display(),
            location.display()
        )
        .into_bytes(),
        Format::Human => human(ctx, &records, zone).into_bytes(),
    };
    output::print(&text).map_err(Error::Output)
}

/// A name is known if the jobfile has it or the store has runs of it (a job removed since);
/// any other is a typo, reported like every unknown job name (exit 2, "did you mean").
fn check_names(
    ctx: &Context,
    names: &[String],
    jobfile: Option<&Jobfile>,
    store: Option<&Store>,
) -> Result<(), Error> {
    let mut known: Vec<String> = jobfile
        .map(|f| f.jobs.iter().map(|j| j.name.clone()).collect())
        .unwrap_or_default();
    let mut unknown = Vec::new();
    for name in names {
        if known.contains(name) {
            continue;
        }
        let has_runs = match store {
            Some(store) => !store.history(Some(name), 1)?.is_empty(),
            None => false,
        };
        if has_runs {
            known.push(name.clone());
        } else {
            unknown.push(name.clone());
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let suggestion = match unknown.as_slice() {
        [one] => crate::error::did_you_mean(one, known.iter().map(String::as_str)),
        _ => None,
    };
    Err(Error::UnknownJobs {
        names: unknown,
        path: crate::context::display_path(&ctx.jobfile),
        suggestion,
    })
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!("{:.3}s", (to - from).num_milliseconds() as f64 / 1000.0)
}

/// What happened, in a few words: `ok`, `exit 3`, `killed by SIGTERM (timed out)`, `missed`,
/// `killed by SIGTERM, replaced by run 12`…
fn result(record: &RunRecord, tz: Tz) -> String {
    let text = outcome_text(record, tz);
    match record.replaced_by {
        Some(by) => format!("{text}, replaced by run {by}"),
        None => text,
    }
}

fn outcome_text(record: &RunRecord, tz: Tz) -> String {
    let ended = |status| crate::outcomes::words(status, record.timed_out, record.failed_by);
    match &record.outcome {
        Outcome::Exited { code } => ended(ExitStatus::Code(*code)),
        Outcome::Signaled { signal } => ended(ExitStatus::Signal(*signal)),
        Outcome::Claimed => "starting".to_owned(),
        Outcome::Running { pid } => format!("running (pid {pid})"),
        Outcome::SpawnFailed { error } => format!("failed to start: {error}"),
        Outcome::Interrupted { note } => format!("interrupted: {note}"),
        Outcome::Missed {
            late_by_ms,
            fires,
            first,
        } => {
            let late = late_by_ms / 1000;
            if *fires == 1 {
                format!("missed ({late}s late)")
            } else if *fires == 0 {
                format!(
                    "missed over a million fires since {}",
                    output::rfc3339(*first, tz)
                )
            } else {
                format!("missed {fires} fires since {}", output::rfc3339(*first, tz))
            }
        }
        Outcome::Coalesced { into } => format!("coalesced into {}", output::rfc3339(*into, tz)),
        Outcome::Skipped { reason } => format!("skipped ({reason})"),
    }
}

/// A run's result, with `(attempt 2/3)` when its job retries failed fires.
fn with_attempt(mut text: String, record: &RunRecord) -> String {
    if record.attempts > 1 {
        text.push_str(&format!(
            " (attempt {}/{})",
            record.attempt, record.attempts
        ));
    }
    text
}

/// `SIGTERM` for 15, `SIGRTMIN+2`; a number that is no signal stays a number.
pub(super) fn signal_name(signal: i32) -> String {
    crate::executor::signal_name(signal)
}

fn human(ctx: &Context, records: &[RunRecord], zone: impl Fn(&str) -> Tz) -> String {
    let mut table = Table::new(vec![
        Column::new("RUN"),
        Column::new("JOB").shrink(8),
        Column::new("SCHEDULED"),
        Column::new("DELAY").drop(0),
        Column::new("DURATION").drop(1),
        Column::new("RESULT").shrink(10),
    ]);
    for r in records {
        let tz = zone(&r.job);
        let job = if r.manual {
            format!("{} (manual)", r.job)
        } else {
            r.job.clone()
        };
        let duration = match (r.started, r.ended) {
            // When jobrun noticed, not when the run ended: no duration is known.
            _ if matches!(r.outcome, Outcome::Interrupted { .. }) => "-".to_owned(),
            (Some(s), Some(e)) => seconds(s, e),
            (Some(s), None) if matches!(r.outcome, Outcome::Running { .. }) => {
                format!("{} so far", seconds(s, ctx.now))
            }
            _ => "-".to_owned(),
        };
        table.row(vec![
            Cell::from(r.id.to_string()),
            Cell::from(job),
            Cell::from(output::human_time(r.scheduled, tz)),
            // How long after its scheduled time the run started.
            Cell::from(r.started.map_or_else(
                || "-".to_owned(),
                |s| format!("+{}", seconds(r.scheduled, s)),
            )),
            Cell::from(duration),
            Cell::painted(
                // A spawn error or a note can hold what a job wrote: shown, not obeyed.
                crate::escape::visible(&with_attempt(result(r, tz), r)).into_owned(),
                super::list::outcome_paint(&r.outcome),
            ),
        ]);
    }
    // The table, with each run's output tail under its row, cut to the width.
    let layout = table.layout(ctx.width);
    let mut out = String::new();
    table.header(&layout, ctx.style, &mut out);
    for (row, record) in table.rows().iter().zip(records) {
        layout.line(row, ctx.style, &mut out);
        for text in record.output_tail.lines() {
            let line = format!("    | {}", crate::escape::visible(text));
            match ctx.width {
                Some(w) => out.push_str(&output::clip(&line, w)),
                None => out.push_str(&line),
            }
            out.push('\n');
        }
    }
    out
}

/// One line per run: id, job, scheduled (UTC), state, detail; tab-separated.
fn plain(records: &[RunRecord]) -> String {
    records
        .iter()
        .map(|r| {
            let (state, detail) = state_and_detail(&r.outcome);
            format!(
                "{}\t{}\t{}\t{state}\t{detail}\n",
                r.id,
                r.job,
                output::rfc3339(r.scheduled, Tz::UTC)
            )
        })
        .collect()
}

/// The outcome's name in JSON and plain output, and its main value.
fn state_and_detail(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Claimed => ("claimed", String::new()),
        Outcome::Running { pid } => ("running", pid.to_string()),
        Outcome::Exited { code } => ("exited", code.to_string()),
        Outcome::Signaled { signal } => ("signaled", signal_name(*signal)),
        Outcome::SpawnFailed { error } => ("spawn_failed", error.clone()),
        Outcome::Interrupted { note } => ("interrupted", note.clone()),
        Outcome::Missed { fires, .. } => ("missed", fires.to_string()),
        Outcome::Coalesced { into } => ("coalesced", output::rfc3339(*into, Tz::UTC)),
        Outcome::Skipped { reason } => ("skipped", reason.clone()),
    }
}

/// `history --json`: field names are part of jobrun's stable interface (README, "JSON
/// output"). Times are RFC 3339 in the job's zone.
#[derive(Serialize)]
struct JsonRun<'a> {
    id: i64,
    job: &'a str,
    manual: bool,
    scheduled: String,
    started: Option<String>,
    ended: Option<String>,
    duration_ms: Option<i64>,
    /// claimed, running, exited, signaled, spawn_failed, interrupted, missed, coalesced, skipped
    state: &'static str,
    exit_code: Option<i32>,
    signal: Option<String>,
    timed_out: bool,
    /// exited and signaled runs: whether they failed by the job's rules, and why (status,
    /// timeout, stderr).
    failed: Option<bool>,
    failed_by: Option<&'static str>,
    /// Which attempt of its fire the run was, of how many its job allowed (1 and 1 without
    /// retries).
    attempt: u32,
    attempts: u32,
    pid: Option<i32>,
    /// spawn_failed: the error; interrupted: what happened; skipped: the reason.
    message: Option<&'a str>,
    /// missed: how many fires the record stands for, the oldest of them, and how late.
    fires: Option<u64>,
    first: Option<String>,
    late_by_ms: Option<i64>,
    /// coalesced: the fire whose run it was folded into.
    into: Option<String>,
    /// The run that replaced it (`overlap = "replace"` ended it for a newer fire).
    replaced_by: Option<i64>,
    output: &'a str,
}

fn json(records: &[RunRecord], zone: impl Fn(&str) -> Tz) -> Result<Vec<u8>, Error> {
    let rows: Vec<JsonRun<'_>> = records
        .iter()
        .map(|r| {
            let tz = zone(&r.job);
            let (state, _) = state_and_detail(&r.outcome);
            let mut row = JsonRun {
                id: r.id,
                job: &r.job,
                manual: r.manual,
                scheduled: output::rfc3339(r.scheduled, tz),
                started: r.started.map(|t| output::rfc3339(t, tz)),
                ended: r.ended.map(|t| output::rfc3339(t, tz)),
                duration_ms: r
                    .started
                    .zip(r.ended)
                    .filter(|_| !matches!(r.outcome, Outcome::Interrupted { .. }))
                    .map(|(s, e)| (e - s).num_milliseconds()),
                state,
                exit_code: None,
                signal: None,
                timed_out: r.timed_out,
                failed: None,
                failed_by: r.failed_by.map(FailedBy::as_str),
                attempt: r.attempt,
                attempts: r.attempts,
                pid: None,
                message: None,
                fires: None,
                first: None,
                late_by_ms: None,
                into: None,
                replaced_by: r.replaced_by,
                output: &r.output_tail,
            };
            match &r.outcome {
                Outcome::Claimed => {}
                Outcome::Running { pid } => row.pid = Some(*pid),
                Outcome::Exited { code } => {
                    row.exit_code = Some(*code);
                    row.failed = Some(r.failed_by.is_some());
                }
                Outcome::Signaled { signal } => {
                    row.signal = Some(signal_name(*signal));
                    row.failed = Some(r.failed_by.is_some());
                }
                Outcome::SpawnFailed { error: m }
                | Outcome::Interrupted { note: m }
                | Outcome::Skipped { reason: m } => row.message = Some(m),
                Outcome::Missed {
                    late_by_ms,
                    fires,
                    first,
                } => {
                    row.fires = Some(*fires);
                    row.first = Some(output::rfc3339(*first, tz));
                    row.late_by_ms = Some(*late_by_ms);
                }
                Outcome::Coalesced { into } => row.into = Some(output::rfc3339(*into, tz)),
            }
            row
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&rows).map_err(|e| Error::Output(e.into()))?;
    out.push(b'\n');
    Ok(out)
}
