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
use crate::jobfile::ChainPreview;
use crate::jobfile::Jobfile;
use crate::output::{self, Cell, Column, Paint, Table, push_rfc3339};
use crate::plan::store_key;
use crate::store::{JobState, LiveScheduler, Location, Outcome, RunRecord, Store};

pub(super) fn run(ctx: &Context, args: &ListArgs) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    let format = args.output.format();
    let state = if format == Format::Plain {
        State::default()
    } else {
        match State::read(ctx, &jobfile) {
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
        Format::Human => human(ctx, &jobfile.jobs, &state, args.verbose).into_bytes(),
    };
    output::print(&text).map_err(Error::Output)
}

/// What the state store knows of the jobs: where each one's schedule stands, and its last
/// outcome. Empty when no scheduler has run this jobfile yet.
#[derive(Default)]
pub(super) struct State {
    jobs: HashMap<String, JobState>,
    last: HashMap<String, RunRecord>,
    /// The pid of the `jobrun start` holding the store, if one runs.
    pub(super) scheduler: Option<u32>,
    /// On a shared (PostgreSQL) store: the line saying who shares it and who runs another
    /// jobfile.
    pub(super) sharing: Option<String>,
}

impl State {
    pub(super) fn read(ctx: &Context, jobfile: &Jobfile) -> Result<State, Error> {
        let location = ctx.store_location(Some(&jobfile.store))?;
        let scheduler = match &location {
            Location::File(path) => crate::store::scheduler_pid(path),
            Location::Postgres { .. } => None,
        };
        let Some(store) = Store::open_reader(&location)? else {
            return Ok(State {
                scheduler,
                ..State::default()
            });
        };
        let schedulers = store.schedulers()?;
        let sharing = store
            .is_shared()
            .then(|| sharing(&schedulers, &crate::scheduler::jobfile_hash(&ctx.jobfile)));
        Ok(State {
            jobs: store.job_states()?,
            last: store.last_outcomes()?,
            scheduler: scheduler.or(schedulers.first().map(|s| s.pid)),
            sharing,
        })
    }

    /// The job's next fire. While a scheduler runs, the first after the last fire it handled
    /// (what it will do next, overdue only for the moment it takes to get there); without
    /// one, the first after now, as `jobrun next` shows: a store's old position would show a
    /// time long past. None for a paused job, which does not fire.
    pub(super) fn next(&self, ctx: &Context, job: &Job) -> Option<DateTime<Utc>> {
        if job.paused {
            return None;
        }
        let resumed = self
            .jobs
            .get(&job.name)
            .filter(|s| self.scheduler.is_some() && s.schedule == store_key(job))
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

pub(super) fn last_result(record: &RunRecord) -> String {
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

/// The job's next fire as `list` shows it: the state store's view, except for a chained job,
/// whose preview follows its chain back to jobs with times (see [`ChainPreview`]).
pub(super) fn next_of(
    ctx: &Context,
    state: &State,
    preview: &ChainPreview<'_>,
    job: &Job,
) -> Option<DateTime<Utc>> {
    if job.trigger.upstreams().is_empty() || job.paused {
        state.next(ctx, job)
    } else {
        preview.next_after(job, ctx.now)
    }
}

fn next_fire(
    ctx: &Context,
    state: &State,
    preview: &ChainPreview<'_>,
    job: &Job,
) -> Option<String> {
    let next = next_of(ctx, state, preview, job)?;
    let mut out = Vec::with_capacity(32);
    push_rfc3339(&mut out, next, job.timezone);
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn json(ctx: &Context, jobs: &[Job], state: &State) -> Result<Vec<u8>, Error> {
    let preview = ChainPreview::new(jobs);
    let rows: Vec<JsonJob<'_>> = jobs
        .iter()
        .map(|job| JsonJob {
            name: &job.name,
            trigger: job.trigger.describe(),
            timezone: job.timezone.name(),
            next: next_fire(ctx, state, &preview, job),
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

/// Who runs this jobfile's jobs, and from which file: the lines above `list`'s table (and
/// `status`'s screen), since the answer depends on the current directory and on whether a
/// `jobrun start` holds the store.
pub(super) fn whereabouts(ctx: &Context, scheduler: Option<u32>) -> String {
    let running = match scheduler {
        Some(pid) => format!("scheduler: running (pid {pid})"),
        None => "scheduler: not running (start one with `jobrun start`)".to_owned(),
    };
    format!(
        "{} {}\n{}\n",
        ctx.style.paint(Paint::Dim, "jobfile:"),
        absolute(&ctx.jobfile),
        running
    )
}

/// `schedulers: 3 share the store (a pid 1, b pid 2, c pid 3)`, and which of them run a
/// jobfile other than this one (`mine`, its hash): hosts that disagree run different jobs.
fn sharing(schedulers: &[LiveScheduler], mine: &str) -> String {
    let all: Vec<String> = schedulers
        .iter()
        .map(|s| format!("{} pid {}", s.host, s.pid))
        .collect();
    let mut line = format!(
        "schedulers: {} share the store ({})",
        schedulers.len(),
        all.join(", ")
    );
    let other: Vec<String> = schedulers
        .iter()
        .filter(|s| !s.jobfile_hash.is_empty() && s.jobfile_hash != mine)
        .map(|s| format!("{} pid {}", s.host, s.pid))
        .collect();
    if !other.is_empty() {
        line.push_str(&format!(
            "; jobfiles differ: {} run another jobfile than this one",
            other.join(", ")
        ));
    }
    line
}

/// The jobfile's path as the user can find it from anywhere.
pub(super) fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn human(ctx: &Context, jobs: &[Job], state: &State, verbose: bool) -> String {
    let mut out = whereabouts(ctx, state.scheduler);
    if let Some(line) = &state.sharing {
        out.push_str(line);
        out.push('\n');
    }
    if jobs.is_empty() {
        out.push_str(&format!(
            "no jobs in {} (add one with `jobrun add`)\n",
            ctx.jobfile.display()
        ));
        return out;
    }
    let mut columns = vec![
        Column::new("NAME").shrink(8),
        Column::new("TRIGGER").shrink(12).drop(3),
        Column::new("ZONE").drop(1),
        Column::new("NEXT"),
        Column::new("IN").drop(5),
        Column::new("LAST").shrink(8).drop(4),
        Column::new("COMMAND").shrink(10).drop(0),
    ];
    if verbose {
        columns.insert(2, Column::new("EXPLANATION").shrink(20).drop(1));
    }
    let mut table = Table::new(columns);
    let preview = ChainPreview::new(jobs);
    for job in jobs {
        let (next, next_in) = if job.paused {
            (Cell::painted("paused", Paint::Warn), Cell::default())
        } else if preview.at_boot(job) {
            (Cell::from("at boot"), Cell::default())
        } else {
            match next_of(ctx, state, &preview, job) {
                Some(at) => (
                    Cell::from(output::human_time(at, job.timezone)),
                    Cell::painted(output::relative(ctx.now, at), Paint::Dim),
                ),
                None => (Cell::from("never"), Cell::default()),
            }
        };
        let last = state.last(job).map_or_else(
            || Cell::painted("-", Paint::Dim),
            |r| {
                let when = r.ended.unwrap_or(r.recorded_at);
                Cell::painted(
                    format!("{} ({})", last_result(r), output::relative(ctx.now, when)),
                    outcome_paint(&r.outcome),
                )
            },
        );
        let mut row = vec![
            Cell::from(job.name.as_str()),
            Cell::from(job.trigger.describe()),
            Cell::from(job.timezone.name()),
            // A paused job's NEXT says so: it has no next fire.
            next,
            next_in,
            last,
            // A command holding a newline or ESC must not draw over the table (issue 12).
            Cell::from(crate::escape::visible(&job.command.display()).into_owned()),
        ];
        if verbose {
            row.insert(
                2,
                Cell::from(crate::explain::describe(&job.trigger, job.timezone)),
            );
        }
        table.row(row);
    }
    out.push_str(&table.render(ctx.width, ctx.style));
    out
}

/// How an outcome looks: success, failure, or worth a look.
pub(super) fn outcome_paint(outcome: &Outcome) -> Paint {
    match outcome {
        Outcome::Exited { code: 0 } => Paint::Good,
        Outcome::Exited { .. } | Outcome::Signaled { .. } | Outcome::SpawnFailed { .. } => {
            Paint::Bad
        }
        Outcome::Claimed | Outcome::Running { .. } => Paint::Header,
        Outcome::Interrupted { .. }
        | Outcome::Missed { .. }
        | Outcome::Coalesced { .. }
        | Outcome::Skipped { .. } => Paint::Warn,
    }
}
