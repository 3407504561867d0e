//! `jobrun list`: the jobs of the jobfile with their trigger, zone, next fire and state.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::load_jobfile;
use crate::cli::{Format, ListArgs};
use crate::context::Context;
use crate::error::Error;
use crate::job::{Command, Job};
use crate::output::{self, push_rfc3339, push_rfc3339_offset};
use crate::plan::store_key;
use crate::store::{JobState, Outcome, RunRecord, Store};

pub(super) fn run(ctx: &Context, args: &ListArgs) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    let format = args.output.format();
    let state = if format == Format::Plain {
        State::default()
    } else {
        match State::read(ctx) {
            Ok(state) => state,
            // The jobs are the jobfile's: they are listed all the same, and the warning says
            // why LAST is empty (`history` and `start` refuse such a store outright).
            Err(Error::Store(e)) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "jobrun: warning: {e}; listing the jobs without it (LAST empty, NEXT from now)"
                );
                State::default()
            }
            Err(e) => return Err(e),
        }
    };
    let text = match format {
        Format::Plain => jobfile
            .jobs
            .iter()
            .map(|j| format!("{}\n", j.name))
            .collect::<String>()
            .into_bytes(),
        Format::Json => json(ctx, &jobfile.jobs, &state)?,
        Format::Human => human(ctx, &jobfile.jobs, &state).into_bytes(),
    };
    output::print(&text).map_err(Error::Output)
}

/// What the state store knows of the jobs: where each one's schedule stands, and its last
/// outcome. Empty when no scheduler has run this jobfile yet.
#[derive(Default)]
struct State {
    jobs: HashMap<String, JobState>,
    last: HashMap<String, RunRecord>,
}

impl State {
    fn read(ctx: &Context) -> Result<State, Error> {
        let Some(store) = Store::open_read(&ctx.store_path()?)? else {
            return Ok(State::default());
        };
        Ok(State {
            jobs: store.job_states()?,
            last: store.last_outcomes()?,
        })
    }

    /// The job's next fire: the first after the last one handled, as the store says (in the
    /// past when jobrun is not running and fires are overdue), else the first after now.
    fn next(&self, ctx: &Context, job: &Job) -> Option<DateTime<Utc>> {
        let resumed = self
            .jobs
            .get(&job.name)
            .filter(|s| !job.paused && s.schedule == store_key(job))
            .and_then(|s| s.last_fire);
        match resumed {
            Some(last) => job.next_after(last),
            None => job.next_after(ctx.now),
        }
    }

    /// `ok`, `exit 3`, `missed`… with when it happened; the store's last word on the job.
    fn last(&self, job: &Job) -> Option<&RunRecord> {
        self.last.get(&job.name)
    }
}

fn last_result(record: &RunRecord) -> String {
    let timed_out = if record.timed_out { " (timed out)" } else { "" };
    match &record.outcome {
        Outcome::Exited { code: 0 } => format!("ok{timed_out}"),
        Outcome::Exited { code } => format!("exit {code}{timed_out}"),
        Outcome::Signaled { signal } => {
            format!(
                "killed by {}{timed_out}",
                super::history::signal_name(*signal)
            )
        }
        Outcome::Claimed | Outcome::Running { .. } => "running".to_owned(),
        Outcome::SpawnFailed { .. } => "failed to start".to_owned(),
        Outcome::Interrupted { .. } => "interrupted".to_owned(),
        Outcome::Missed { .. } => "missed".to_owned(),
        Outcome::Coalesced { .. } => "coalesced".to_owned(),
        Outcome::Skipped { .. } => "skipped".to_owned(),
    }
}

/// `list --json`: one object per job, in jobfile order. Field names are part of jobrun's
/// stable interface (see README, "JSON output").
#[derive(Serialize)]
struct JsonJob<'a> {
    name: &'a str,
    trigger: String,
    timezone: &'a str,
    /// Next nominal fire, RFC 3339 in the job's zone; null when it will not fire again.
    next: Option<String>,
    paused: bool,
    /// An array for commands run directly, a string for `shell = true`.
    command: serde_json::Value,
    shell: bool,
    executor: &'a str,
    /// The last outcome the state store has (`ok`, `exit 3`, `missed`…), and the fire it was
    /// for (RFC 3339 in the job's zone); null when nothing was recorded.
    last_result: Option<String>,
    last_scheduled: Option<String>,
}

fn next_fire(ctx: &Context, state: &State, job: &Job, separator: u8) -> Option<String> {
    let next = state.next(ctx, job)?;
    let mut out = Vec::with_capacity(32);
    if separator == b'T' {
        push_rfc3339(&mut out, next, job.timezone);
    } else {
        let offset = chrono::Offset::fix(&chrono::TimeZone::offset_from_utc_datetime(
            &job.timezone,
            &next.naive_utc(),
        ))
        .local_minus_utc();
        push_rfc3339_offset(&mut out, next.timestamp(), offset, separator);
        out.extend_from_slice(format!(" ({})", output::relative(ctx.now, next)).as_bytes());
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn json(ctx: &Context, jobs: &[Job], state: &State) -> Result<Vec<u8>, Error> {
    let rows: Vec<JsonJob<'_>> = jobs
        .iter()
        .map(|job| JsonJob {
            name: &job.name,
            trigger: job.trigger.describe(),
            timezone: job.timezone.name(),
            next: next_fire(ctx, state, job, b'T'),
            paused: job.paused,
            command: match &job.command {
                Command::Argv(words) => serde_json::Value::from(words.clone()),
                Command::Shell(script) => serde_json::Value::from(script.clone()),
            },
            shell: matches!(job.command, Command::Shell(_)),
            executor: &job.executor,
            last_result: state.last(job).map(last_result),
            last_scheduled: state
                .last(job)
                .map(|r| output::rfc3339(r.scheduled, job.timezone)),
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&rows).map_err(|e| Error::Output(e.into()))?;
    out.push(b'\n');
    Ok(out)
}

fn human(ctx: &Context, jobs: &[Job], state: &State) -> String {
    if jobs.is_empty() {
        return format!(
            "no jobs in {} (add one with `jobrun add`)\n",
            ctx.jobfile.display()
        );
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            vec![
                job.name.clone(),
                job.trigger.describe(),
                job.timezone.name().to_owned(),
                if job.paused {
                    "paused".to_owned()
                } else {
                    "active".to_owned()
                },
                next_fire(ctx, state, job, b' ').unwrap_or_else(|| "never".to_owned()),
                state.last(job).map_or_else(
                    || "-".to_owned(),
                    |r| {
                        let when = r.ended.unwrap_or(r.recorded_at);
                        format!("{} ({})", last_result(r), output::relative(ctx.now, when))
                    },
                ),
                crate::escape::visible(&job.command.display()).into_owned(),
            ]
        })
        .collect();
    output::table(
        &[
            "NAME", "TRIGGER", "ZONE", "STATE", "NEXT", "LAST", "COMMAND",
        ],
        &rows,
    )
}
