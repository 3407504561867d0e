//! How runs end: reaping them (and recording their end), their timeouts, stopping the
//! scheduler, and telling the planner what an ended run frees, from the queue of follow-up
//! work.

use std::io::Write;

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::hooks::Ending;
use super::ticket::Role;
use super::{Loop, descendants, state};
use crate::executor::{self, ExitStatus, Stream};
use crate::log::Field;
use crate::ping::Kind;
use crate::store::{FailedBy, PlannedRetry, RunStep};

/// After this many ended runs, old history is pruned again (besides at every start).
const PRUNE_EVERY: u32 = 1000;

impl Loop<'_> {
    /// Reaps every child that has exited; ours finish their run, others (orphans inherited as
    /// PID 1, a job's reparented grandchildren) are just collected.
    pub(super) fn reap(&mut self, now: DateTime<Utc>) {
        for (pid, status) in executor::reap_any() {
            if self.runs.by_pid(pid).is_some() {
                self.ended(pid, status, now);
            } else {
                // Perhaps a run whose start has not come back from the spawner yet.
                self.unknown_exit(pid, status);
            }
        }
    }

    /// Finishes the run whose process `pid` ended with `status`.
    pub(super) fn ended(&mut self, pid: Pid, status: ExitStatus, now: DateTime<Utc>) {
        let Some(id) = self.runs.by_pid(pid) else {
            return;
        };
        // Whatever the child wrote before exiting is already in its pipes: read it all.
        for stream in [Stream::Stdout, Stream::Stderr] {
            self.read_pipe(id, stream, now);
        }
        let Some(run) = self.runs.remove(id) else {
            return;
        };
        if matches!(run.ticket.role, Role::Hook { .. }) {
            self.hook_ended(run, status, now);
            return;
        }
        let ticket = &run.ticket;
        let duration = now - run.started;
        let mut fields: Vec<(&str, Field)> = vec![
            ("job", ticket.job.as_str().into()),
            ("run", run.shown.into()),
            ("status", status.into()),
            ("duration", Field::Millis(duration.num_milliseconds())),
        ];
        if run.timed_out {
            fields.push(("timed_out", true.into()));
        }
        let failed_by = ticket
            .outcomes
            .judge(status, run.timed_out, run.wrote_stderr);
        fields.push((
            "result",
            if failed_by.is_some() { "failed" } else { "ok" }.into(),
        ));
        if failed_by == Some(FailedBy::Stderr) {
            fields.push(("reason", "wrote to stderr".into()));
        }
        if ticket.attempts > 1 {
            fields.push(("attempt", ticket.attempt_text().into()));
        }
        // A failed attempt with attempts left is retried (never while stopping).
        let retry = match (&mut self.planner, failed_by, self.stop_deadline) {
            (Some(planner), Some(_), None) => planner
                .retry_after_failure(&ticket.job, ticket.scheduled, ticket.attempt, now)
                .map(|(attempt, due)| PlannedRetry {
                    job: ticket.job.clone(),
                    scheduled: ticket.scheduled,
                    attempt,
                    attempts: ticket.attempts,
                    due,
                }),
            _ => None,
        };
        // Written with the rest of this turn's starts and ends (`journal.rs`).
        let tail = run.tail.text();
        if let Some(record) = ticket.record
            && self.store.is_some()
        {
            self.journal(RunStep::Finished {
                id: record,
                at: now,
                outcome: state::outcome(status),
                timed_out: run.timed_out,
                output_tail: tail.clone(),
                failed_by,
                retry: retry.clone(),
            });
            self.ended_since_prune += 1;
        }
        self.log.event(now, "finished", &fields);
        let kind = match (failed_by, &retry) {
            (None, _) => Kind::Success,
            (Some(_), None) => Kind::Fail,
            (Some(_), Some(_)) => Kind::Log,
        };
        self.ping(ticket, kind, &tail, now);
        if let Some(metrics) = &self.metrics {
            metrics.run_ended(&ticket.job, failed_by.is_some(), duration, now);
        }
        if let Some(retry) = &retry {
            self.log.event(
                now,
                "retry_planned",
                &[
                    ("job", ticket.job.as_str().into()),
                    ("run", run.shown.into()),
                    (
                        "attempt",
                        format!("{}/{}", retry.attempt, retry.attempts).into(),
                    ),
                    ("due", retry.due.to_rfc3339().into()),
                ],
            );
        }
        if nix::sys::signal::killpg(pid, None).is_ok() {
            // Something the job started is still running in its group; it is ended when
            // jobrun stops, so nothing outlives the scheduler.
            self.log.event(
                now,
                "lingering",
                &[
                    ("job", ticket.job.as_str().into()),
                    ("run", run.shown.into()),
                    ("pgid", pid.as_raw().into()),
                ],
            );
            self.runs.linger(pid);
        }
        self.last_status = Some(status);
        self.last_failed = failed_by.is_some();
        let ending = Ending {
            status,
            timed_out: run.timed_out,
            failed_by,
            duration,
            output: &tail,
        };
        // on_failure, and the jobs chained after this one, follow the last attempt only.
        if retry.is_none() {
            self.start_hook(&run.ticket, &ending, now);
            self.chain_ended(&run.ticket.job, failed_by.is_none(), run.shown, now);
        }
        // A process the job left running may still write to its pipes: they stay open and
        // read (closing them would kill it with SIGPIPE at its next line) until it is done.
        self.runs.drain_output(id, run);
        self.freed.push_back(id);
        if self.ended_since_prune >= PRUNE_EVERY {
            self.prune(now);
        }
    }

    /// Works through the queue of runs that are over: the planner frees their slots, and the
    /// runs that this lets through are carried out (and queue their own follow-up work).
    ///
    /// The slots of every run over so far are freed before any of what they let through is
    /// carried out, so that the runs taking them are claimed in one transaction and spawned
    /// as one batch: a pool of ten reaping ten ended runs at once claimed and spawned their
    /// successors one at a time, a store transaction each (issue 11).
    pub(super) fn settle(&mut self, now: DateTime<Utc>) {
        while !self.freed.is_empty() {
            let Some(planner) = self.planner.as_mut() else {
                self.freed.clear();
                return;
            };
            let mut events = Vec::new();
            for run in self.freed.drain(..) {
                events.extend(planner.finished(run, now));
            }
            if self.stop_deadline.is_none() {
                self.carry_out(events, now);
            }
        }
    }

    /// Timeouts (SIGTERM to the group, SIGKILL `kill_after` later) and the end of the grace
    /// period when stopping.
    pub(super) fn enforce_deadlines(&mut self, now: DateTime<Utc>) {
        let stop_expired = self.stop_deadline.is_some_and(|d| d <= now);
        self.grace_over |= stop_expired;
        for (id, job, pid, signal) in self.runs.due_signals(now, stop_expired) {
            if signal == Signal::SIGTERM {
                self.log.event(
                    now,
                    if stop_expired {
                        "stopping_run"
                    } else {
                        "timed_out"
                    },
                    &[("job", job.into()), ("run", id.into())],
                );
            } else {
                self.log
                    .event(now, "killed", &[("job", job.into()), ("run", id.into())]);
            }
            let _ = executor::signal_group(pid, signal);
        }
    }

    pub(super) fn stop(&mut self, now: DateTime<Utc>) {
        if self.stop_deadline.is_some() {
            // A second signal: do not wait out the grace period.
            self.stop_deadline = Some(now);
            self.grace_over = false;
            return;
        }
        let grace = self.settings.stop_grace.as_chrono();
        self.stop_deadline = Some(now + grace);
        self.release_ahead(now);
        self.drop_waiting(now);
        if self.planner.is_some() {
            self.log.event(
                now,
                "stopping",
                &[
                    // Runs still being spawned run too, as soon as they have started.
                    (
                        "running",
                        ((self.runs.len() + self.spawning.len()) as u64).into(),
                    ),
                    ("grace", self.settings.stop_grace.to_string().into()),
                ],
            );
        } else {
            // `jobrun run`: the user asked to interrupt this one job; pass it on at once.
            self.stop_deadline = Some(now);
        }
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        self.ended_since_prune = 0;
        let retention = self.settings.retention;
        if let Some(store) = self.store_to_write(now)
            && let Err(e) = store.prune(&retention, now)
        {
            self.store_error(now, &e);
        }
    }

    /// Ends the process groups that outlived their run and, as the jobs' subreaper, every
    /// process still jobrun's child (a job's daemonized leftover), so nothing is left behind.
    pub(super) fn end_lingering_groups(&mut self) {
        let groups = self.runs.take_lingering();
        for pgid in &groups {
            let _ = executor::signal_group(*pgid, Signal::SIGTERM);
        }
        if self.sweep_descendants {
            let grace = crate::job::defaults::KILL_AFTER;
            let ended = descendants::end_all(&self.signals, grace.as_std());
            if ended > 0 {
                self.log.event(
                    self.clock.now(),
                    "ended_leftovers",
                    &[("processes", (ended as u64).into())],
                );
            }
        }
        let _ = std::io::stderr().flush();
    }
}
