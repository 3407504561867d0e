//! What `jobrun status` shows, read at one instant: the scheduler (or its absence), runs going
//! on, the next fire of each job, recent failures and misses, and paused jobs. Rendered as
//! text (the live screen and the plain snapshot) or as JSON.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::commands::list::{State, absolute, last_result, next_of, outcome_paint};
use crate::context::Context;
use crate::error::Error;
use crate::jobfile::ChainPreview;
use crate::jobfile::Jobfile;
use crate::output::{self, Cell, Column, Paint, Style, Table};
use crate::store::{Outcome, RunRecord, Store};

/// How many recent failures and misses are shown.
const PROBLEMS: usize = 5;
/// How many rows of history are searched for them.
const HISTORY_SEARCHED: usize = 500;

#[derive(Debug, Serialize)]
pub(super) struct Snapshot {
    /// The jobfile, absolute.
    pub(super) jobfile: String,
    /// The pid of the `jobrun start` holding the store, or null.
    pub(super) scheduler_pid: Option<u32>,
    /// On a shared store only: who shares it, and who runs another jobfile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) sharing: Option<String>,
    /// When the snapshot was taken, RFC 3339 in UTC.
    pub(super) now: String,
    pub(super) running: Vec<Running>,
    /// The next fire of every job that is not paused, soonest first.
    pub(super) next: Vec<NextFire>,
    /// The newest failures, misses, skips and interruptions, newest first.
    pub(super) recent_problems: Vec<Problem>,
    pub(super) paused: Vec<String>,
    #[serde(skip)]
    at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
pub(super) struct Running {
    job: String,
    run: i64,
    /// Null while the run is claimed but not started yet.
    pid: Option<i32>,
    started: Option<String>,
    elapsed_ms: Option<i64>,
    /// The executor pool it runs in (null for a job no longer in the jobfile).
    pool: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct NextFire {
    job: String,
    /// A chained job's trigger (`after backup`): its time is its upstream's next fire, as
    /// `next` and `list` show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// RFC 3339 in the job's zone.
    time: String,
    timezone: String,
    unix: i64,
    in_seconds: i64,
}

#[derive(Debug, Serialize)]
pub(super) struct Problem {
    job: String,
    run: i64,
    /// RFC 3339 in the job's zone.
    scheduled: String,
    /// As `list` words it: `exit 3`, `killed by SIGKILL`, `missed`…
    result: String,
}

impl Snapshot {
    /// Reads the jobfile and the state store as they are at `ctx.now`.
    pub(super) fn read(ctx: &Context, jobfile: &Jobfile) -> Result<Snapshot, Error> {
        let state = State::read(ctx, jobfile)?;
        let store = Store::open_reader(&ctx.store_location(Some(&jobfile.store))?)?;
        let zone = |job: &str| jobfile.job(job).map_or(ctx.local_tz, |j| j.timezone);

        let mut running = Vec::new();
        let mut recent_problems = Vec::new();
        if let Some(store) = &store {
            // Unfinished rows are only runs while a scheduler holds the store; without one
            // they are left over from a scheduler that died, for the next start to settle.
            if state.scheduler.is_some() {
                for r in store.unfinished()? {
                    let pid = match r.outcome {
                        Outcome::Running { pid } => Some(pid),
                        _ => None,
                    };
                    running.push(Running {
                        pool: jobfile.job(&r.job).map(|j| j.executor.clone()),
                        started: r.started.map(|t| output::rfc3339(t, zone(&r.job))),
                        elapsed_ms: r.started.map(|t| (ctx.now - t).num_milliseconds().max(0)),
                        job: r.job,
                        run: r.id,
                        pid,
                    });
                }
            }
            recent_problems = store
                .history(None, HISTORY_SEARCHED)?
                .into_iter()
                .filter(is_problem)
                .take(PROBLEMS)
                .map(|r: RunRecord| Problem {
                    scheduled: output::rfc3339(r.scheduled, zone(&r.job)),
                    result: last_result(&r),
                    job: r.job,
                    run: r.id,
                })
                .collect();
        }

        let preview = ChainPreview::new(&jobfile.jobs);
        let mut next: Vec<NextFire> = jobfile
            .jobs
            .iter()
            .filter(|job| !job.paused)
            .filter_map(|job| {
                let at = next_of(ctx, &state, &preview, job)?;
                let chained = !job.trigger.upstreams().is_empty();
                Some(NextFire {
                    job: job.name.clone(),
                    after: chained.then(|| job.trigger.describe()),
                    time: output::rfc3339(at, job.timezone),
                    timezone: job.timezone.name().to_owned(),
                    unix: at.timestamp(),
                    // Rounded up: a fire 0.4 s away is "in 1s", not "due".
                    in_seconds: ((at - ctx.now).num_milliseconds() + 999).div_euclid(1000),
                })
            })
            .collect();
        next.sort_by_key(|n| n.unix);
        Ok(Snapshot {
            jobfile: absolute(&ctx.jobfile),
            scheduler_pid: state.scheduler,
            sharing: state.sharing.clone(),
            now: output::rfc3339(ctx.now, crate::zone::Tz::UTC),
            running,
            next,
            recent_problems,
            paused: jobfile
                .jobs
                .iter()
                .filter(|j| j.paused)
                .map(|j| j.name.clone())
                .collect(),
            at: ctx.now,
        })
    }

    /// The screen as lines: at most `height` of them when given (the next fires give way
    /// first), each fitting `width`.
    pub(super) fn render(
        &self,
        width: Option<usize>,
        height: Option<usize>,
        style: Style,
        live: bool,
    ) -> Vec<String> {
        let mut top = vec![
            format!(
                "{} {}",
                style.paint(Paint::Header, "jobrun status"),
                style.paint(
                    Paint::Dim,
                    &output::human_time(self.at, crate::zone::Tz::UTC)
                )
            ),
            format!("jobfile: {}", self.jobfile),
            match self.scheduler_pid {
                Some(pid) => format!(
                    "scheduler: {} (pid {pid})",
                    style.paint(Paint::Good, "running")
                ),
                None => format!(
                    "scheduler: {} (start one with `jobrun start`)",
                    style.paint(Paint::Warn, "not running")
                ),
            },
        ];
        top.extend(self.sharing.clone());
        top.push(String::new());

        let mut running = vec![section("RUNNING", style)];
        if self.running.is_empty() {
            running.push("  none".to_owned());
        } else {
            let mut table = Table::new(vec![
                Column::new("JOB").shrink(8),
                Column::new("RUN"),
                Column::new("PID"),
                Column::new("ELAPSED"),
                Column::new("POOL").drop(0),
            ]);
            for r in &self.running {
                table.row(vec![
                    Cell::from(r.job.as_str()),
                    Cell::from(r.run.to_string()),
                    r.pid.map_or_else(
                        || Cell::painted("starting", Paint::Dim),
                        |p| Cell::from(p.to_string()),
                    ),
                    Cell::from(
                        r.elapsed_ms
                            .map_or_else(String::new, |ms| duration(ms / 1000)),
                    ),
                    Cell::from(r.pool.clone().unwrap_or_default()),
                ]);
            }
            running.extend(indented(&table, width, style));
        }
        running.push(String::new());

        let mut problems = vec![section("RECENT FAILURES AND MISSES", style)];
        if self.recent_problems.is_empty() {
            problems.push("  none".to_owned());
        } else {
            let mut table = Table::new(vec![
                Column::new("JOB").shrink(8),
                Column::new("RUN").drop(0),
                Column::new("SCHEDULED"),
                Column::new("RESULT").shrink(10),
            ]);
            for p in &self.recent_problems {
                table.row(vec![
                    Cell::from(p.job.as_str()),
                    Cell::from(p.run.to_string()),
                    Cell::from(p.scheduled.replacen('T', " ", 1)),
                    Cell::painted(p.result.as_str(), problem_paint(&p.result)),
                ]);
            }
            problems.extend(indented(&table, width, style));
        }
        problems.push(String::new());

        let mut paused = vec![section("PAUSED", style)];
        paused.push(if self.paused.is_empty() {
            "  none".to_owned()
        } else {
            let list = format!("  {}", self.paused.join(", "));
            width.map_or(list.clone(), |w| output::clip(&list, w))
        });

        let footer = if live {
            vec![
                String::new(),
                style.paint(Paint::Dim, "q, Esc or Ctrl-C: quit"),
            ]
        } else {
            Vec::new()
        };

        // The next fires take the room the rest leaves (at least one row).
        let fixed = top.len() + running.len() + problems.len() + paused.len() + footer.len() + 3;
        let room = height.map_or(usize::MAX, |h| h.saturating_sub(fixed).max(1));
        let mut next = vec![section("NEXT FIRES", style)];
        if self.next.is_empty() {
            next.push("  none".to_owned());
        } else {
            let mut table = Table::new(vec![
                Column::new("JOB").shrink(8),
                Column::new("TIME"),
                Column::new("IN"),
                Column::new("ZONE").drop(0),
            ]);
            for n in self.next.iter().take(room) {
                let at = DateTime::from_timestamp(n.unix, 0).unwrap_or_default();
                let tz = n.timezone.parse().unwrap_or(crate::zone::Tz::UTC);
                let job = match &n.after {
                    Some(after) => format!("{} ({after})", n.job),
                    None => n.job.clone(),
                };
                table.row(vec![
                    Cell::from(job),
                    Cell::from(output::human_time(at, tz)),
                    Cell::from(countdown(n.in_seconds)),
                    Cell::from(n.timezone.as_str()),
                ]);
            }
            next.extend(indented(&table, width, style));
            if self.next.len() > room {
                next.push(format!("  … and {} more", self.next.len() - room));
            }
        }
        next.push(String::new());

        top.extend(running);
        top.extend(next);
        top.extend(problems);
        top.extend(paused);
        top.extend(footer);
        if let Some(h) = height {
            top.truncate(h);
        }
        top
    }
}

fn is_problem(r: &RunRecord) -> bool {
    match &r.outcome {
        Outcome::Exited { code } => *code != 0,
        Outcome::Claimed | Outcome::Running { .. } | Outcome::Coalesced { .. } => false,
        Outcome::Signaled { .. }
        | Outcome::SpawnFailed { .. }
        | Outcome::Interrupted { .. }
        | Outcome::Missed { .. }
        | Outcome::Skipped { .. } => true,
    }
}

fn problem_paint(result: &str) -> Paint {
    let missed = ["missed", "skipped", "interrupted"]
        .iter()
        .any(|w| result.starts_with(w));
    if missed {
        Paint::Warn
    } else {
        outcome_paint(&Outcome::Exited { code: 1 })
    }
}

fn section(title: &str, style: Style) -> String {
    style.paint(Paint::Header, title)
}

/// The table's lines, indented by two spaces, fitting `width`.
fn indented(table: &Table, width: Option<usize>, style: Style) -> Vec<String> {
    table
        .render(width.map(|w| w.saturating_sub(2)), style)
        .lines()
        .map(|l| format!("  {l}"))
        .collect()
}

/// A countdown: `in 6s`, `in 1m 05s`, `in 3h 12m`; `due` once the time has come.
pub(super) fn countdown(secs: i64) -> String {
    if secs <= 0 {
        return "due".to_owned();
    }
    if (60..3600).contains(&secs) {
        return format!("in {}m {:02}s", secs / 60, secs % 60);
    }
    let mut out = Vec::new();
    output::push_relative(&mut out, secs);
    String::from_utf8_lossy(&out).into_owned()
}

/// An elapsed time: `42s`, `3m 05s`, `1h 02m`.
fn duration(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdowns_tick_in_seconds_under_an_hour() {
        assert_eq!(countdown(0), "due");
        assert_eq!(countdown(6), "in 6s");
        assert_eq!(countdown(65), "in 1m 05s");
        assert_eq!(countdown(3 * 3600 + 12 * 60 + 5), "in 3h 12m");
        assert_eq!(duration(3), "3s");
        assert_eq!(duration(185), "3m 05s");
        assert_eq!(duration(3720), "1h 02m");
    }
}
