//! The runs in flight: their processes, pipes, deadlines, and the process groups left behind
//! by runs that ended. Bookkeeping only; the loop decides when to call what.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use chrono::{DateTime, Utc};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::ticket::{Output, Ticket};
use crate::duration::Duration;
use crate::executor::{LineSplitter, OutputTail, RunningChild, Stream};
use crate::plan::RunId;

struct Pipe {
    fd: OwnedFd,
    lines: LineSplitter,
}

pub(super) struct Run {
    /// What the run is, from its claim on.
    pub(super) ticket: Ticket,
    /// The id the log shows: the store's when there is one.
    pub(super) shown: u64,
    /// The end of its output, for the store.
    pub(super) tail: OutputTail,
    pub(super) pid: Pid,
    pub(super) started: DateTime<Utc>,
    pub(super) timed_out: bool,
    /// It wrote at least one line to stderr (for `fail_on_stderr`).
    pub(super) wrote_stderr: bool,
    stdout: Option<Pipe>,
    stderr: Option<Pipe>,
    /// When SIGTERM goes to the group (the timeout), then when SIGKILL does.
    term_at: Option<DateTime<Utc>>,
    kill_at: Option<DateTime<Utc>>,
    kill_after: Duration,
    /// SIGTERM was sent because the scheduler is stopping (not a timeout).
    stopping: bool,
}

impl Run {
    pub(super) fn new(ticket: Ticket, now: DateTime<Utc>, child: RunningChild) -> Run {
        let limits = ticket.limits;
        Run {
            shown: ticket.shown(),
            ticket,
            tail: OutputTail::new(crate::store::MAX_TAIL),
            pid: child.pid,
            started: now,
            timed_out: false,
            wrote_stderr: false,
            stdout: Some(Pipe {
                fd: child.stdout,
                lines: LineSplitter::new(),
            }),
            stderr: Some(Pipe {
                fd: child.stderr,
                lines: LineSplitter::new(),
            }),
            term_at: limits.timeout.map(|t| now + t.as_chrono()),
            kill_at: None,
            kill_after: limits.kill_after,
            stopping: false,
        }
    }
}

/// A run being ended early: what the log, the signal and the store need of it.
pub(super) struct Ending {
    pub(super) shown: u64,
    /// Its process group.
    pub(super) pid: Pid,
    pub(super) record: Option<i64>,
}

#[derive(Default)]
pub(super) struct Runs {
    runs: BTreeMap<RunId, Run>,
    /// Finds a reaped child's run without scanning every run.
    by_pid: HashMap<Pid, RunId>,
    /// Process groups of ended runs that still had members.
    lingering: Vec<Pid>,
    /// Ended runs whose pipes something they started still holds open: read to their end.
    draining: BTreeMap<RunId, Run>,
    /// What every pipe is read through (allocated at the first read).
    chunk: Box<[u8]>,
}

impl Runs {
    pub(super) fn insert(&mut self, id: RunId, run: Run) {
        self.by_pid.insert(run.pid, id);
        self.runs.insert(id, run);
    }

    pub(super) fn remove(&mut self, id: RunId) -> Option<Run> {
        let run = self.runs.remove(&id)?;
        self.by_pid.remove(&run.pid);
        Some(run)
    }

    pub(super) fn len(&self) -> usize {
        self.runs.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub(super) fn by_pid(&self, pid: Pid) -> Option<RunId> {
        self.by_pid.get(&pid).copied()
    }

    /// Keeps an ended run's pipes that are still open, to be read until their writers are
    /// done; a run whose pipes are both closed is dropped.
    pub(super) fn drain_output(&mut self, id: RunId, run: Run) {
        if run.stdout.is_some() || run.stderr.is_some() {
            self.draining.insert(id, run);
        }
    }

    /// Every open pipe, of running runs and of ended ones still draining, as (run, stream,
    /// descriptor).
    pub(super) fn pipes(&self) -> impl Iterator<Item = (RunId, Stream, BorrowedFd<'_>)> {
        self.runs
            .iter()
            .chain(&self.draining)
            .flat_map(|(id, run)| {
                [(Stream::Stdout, &run.stdout), (Stream::Stderr, &run.stderr)]
                    .into_iter()
                    .filter_map(move |(stream, pipe)| {
                        pipe.as_ref().map(|p| (*id, stream, p.fd.as_fd()))
                    })
            })
    }

    /// Reads what the pipe has, keeps each complete line in the run's tail and hands it to
    /// `line(job, shown id, is_stderr, output, text)`; closes the pipe at end of file or on a
    /// read error.
    pub(super) fn read(
        &mut self,
        id: RunId,
        stream: Stream,
        mut line: impl FnMut(&str, u64, bool, Output, &str),
    ) {
        if self.chunk.is_empty() {
            self.chunk = LineSplitter::buffer();
        }
        let Some(run) = self
            .runs
            .get_mut(&id)
            .or_else(|| self.draining.get_mut(&id))
        else {
            return;
        };
        let (job, shown, output) = (run.ticket.job.clone(), run.shown, run.ticket.output);
        let tail = &mut run.tail;
        let wrote_stderr = &mut run.wrote_stderr;
        let pipe = match stream {
            Stream::Stdout => &mut run.stdout,
            Stream::Stderr => &mut run.stderr,
        };
        let Some(open) = pipe.as_mut() else { return };
        let result = open
            .lines
            .read_with(open.fd.as_fd(), &mut self.chunk, |text| {
                tail.push(stream, text);
                *wrote_stderr |= stream == Stream::Stderr;
                line(&job, shown, stream == Stream::Stderr, output, text)
            });
        if !matches!(result, Ok(false)) {
            *pipe = None;
            if run.stdout.is_none() && run.stderr.is_none() {
                self.draining.remove(&id);
            }
        }
    }

    /// The earliest timeout or kill deadline of a run.
    pub(super) fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.runs
            .values()
            .flat_map(|r| [r.term_at, r.kill_at])
            .flatten()
            .min()
    }

    /// The signals whose time has come: SIGTERM at a run's timeout (or for every run when the
    /// stop grace has expired), SIGKILL `kill_after` later. Each is returned once.
    pub(super) fn due_signals(
        &mut self,
        now: DateTime<Utc>,
        stop_expired: bool,
    ) -> Vec<(u64, String, Pid, Signal)> {
        let mut due = Vec::new();
        for run in self.runs.values_mut() {
            let timeout_due = run.term_at.is_some_and(|t| t <= now);
            if timeout_due || (stop_expired && !run.stopping && run.kill_at.is_none()) {
                if timeout_due {
                    run.timed_out = true;
                } else {
                    run.stopping = true;
                }
                run.term_at = None;
                run.kill_at = Some(now + run.kill_after.as_chrono());
                due.push((run.shown, run.ticket.job.clone(), run.pid, Signal::SIGTERM));
            } else if run.kill_at.is_some_and(|t| t <= now) {
                run.kill_at = None;
                due.push((run.shown, run.ticket.job.clone(), run.pid, Signal::SIGKILL));
            }
        }
        due
    }

    /// Ends a run before its time (`overlap = "replace"`): its SIGKILL is due `kill_after`
    /// from now, and its timeout no longer matters. The caller sends the SIGTERM. `None` for a
    /// run not going (any more).
    pub(super) fn end_early(&mut self, id: RunId, now: DateTime<Utc>) -> Option<Ending> {
        let run = self.runs.get_mut(&id)?;
        run.term_at = None;
        run.kill_at = Some(now + run.kill_after.as_chrono());
        Some(Ending {
            shown: run.shown,
            pid: run.pid,
            record: run.ticket.record,
        })
    }

    /// The run recorded as store row `record`, if it is going.
    pub(super) fn by_record(&self, record: i64) -> Option<RunId> {
        let mut runs = self.runs.iter();
        runs.find(|(_, run)| run.ticket.record == Some(record))
            .map(|(id, _)| *id)
    }

    pub(super) fn linger(&mut self, pgid: Pid) {
        self.lingering.push(pgid);
    }

    pub(super) fn take_lingering(&mut self) -> Vec<Pid> {
        std::mem::take(&mut self.lingering)
    }
}
