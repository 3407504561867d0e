//! Runs between their claim and their start: handed to the spawner's threads
//! (`executor::Spawner`), so that the loop goes on reaping, reading pipes, logging and claiming
//! while processes start, and started (`dispatch.rs`'s `start`) as their processes come back,
//! in the order they were handed over.
//!
//! A run's process may end before the loop hears that it started: `waitpid(-1)` then reaps a
//! pid the loop does not know yet. Its exit is kept here, and the run ends as soon as its start
//! comes back. An exit can only belong to a run handed over before it was reaped, which keeps
//! an orphan's exit (jobrun as PID 1 or subreaper) from being taken for a later run's; kept
//! exits are forgotten once no spawn is in flight, when none of them can be a run's any more.
//!
//! The crash rule of the group commit holds as before: a run is handed over only once its
//! claim is committed (`dispatch.rs`).

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use nix::unistd::Pid;

use super::Loop;
use super::ticket::Ticket;
use crate::executor::{ExitStatus, Spawner};
use crate::plan::RunId;

/// At most this many runs are handed to the spawner at a time; the rest wait in line here.
/// Every spawn copies jobrun's table of open descriptors into the child, whose `exec` then
/// closes each of them again: with a thousand runs started at once and their two pipes each
/// still open, that was 2,000 descriptors per spawn, and 14% of the batch's time went to
/// closing them (perf, 1,000 runs due at once). Handing runs over as earlier ones come back
/// lets the loop reap the runs that have ended in between, which keeps the table as small as
/// the runs still going allow.
const IN_FLIGHT: usize = 32;

pub(super) struct Spawning {
    spawner: Spawner,
    /// Handed over, oldest first, waiting for their process.
    handed: VecDeque<Ticket>,
    /// Claimed and waiting for room among the runs handed over.
    waiting: VecDeque<Ticket>,
    /// Exits reaped of pids the loop did not know while spawns were in flight: the status,
    /// and how many runs had been handed over when it was reaped.
    early: HashMap<Pid, (ExitStatus, u64)>,
    /// Runs to be ended for a newer fire (`overlap = "replace"`) as soon as they have started,
    /// with that fire's time.
    replace_on_start: HashMap<RunId, DateTime<Utc>>,
}

impl Spawning {
    pub(super) fn new() -> std::io::Result<Spawning> {
        Ok(Spawning {
            spawner: Spawner::new()?,
            handed: VecDeque::new(),
            waiting: VecDeque::new(),
            early: HashMap::new(),
            replace_on_start: HashMap::new(),
        })
    }

    /// Whether `run` is being started.
    fn holds(&self, run: RunId) -> bool {
        self.handed
            .iter()
            .chain(&self.waiting)
            .any(|t| t.run == run)
    }

    /// The run being started that is recorded as store row `record`.
    pub(super) fn by_record(&self, record: i64) -> Option<RunId> {
        let mut tickets = self.handed.iter().chain(&self.waiting);
        tickets.find(|t| t.record == Some(record)).map(|t| t.run)
    }

    /// How many runs are still to be started.
    pub(super) fn len(&self) -> usize {
        self.handed.len() + self.waiting.len()
    }

    /// Whether runs are still to be started: the loop is not done until they are.
    pub(super) fn busy(&self) -> bool {
        !self.handed.is_empty() || !self.waiting.is_empty()
    }

    /// Exits kept for runs whose start has not come back.
    #[cfg(test)]
    pub(super) fn early_exits(&self) -> usize {
        self.early.len()
    }

    /// What the loop's `poll(2)` watches for started runs.
    pub(super) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.spawner.fd()
    }
}

impl Loop<'_> {
    /// Starts a claimed run: its process is spawned off the loop's thread (see the module
    /// documentation). A run with nothing to spawn (no command, or `--no-spawn`) is started at
    /// once.
    pub(super) fn launch(&mut self, ticket: Ticket, now: DateTime<Utc>) {
        if self.settings.no_spawn || ticket.command.is_none() {
            return self.start(ticket, None, now);
        }
        self.spawning.waiting.push_back(ticket);
        self.hand_over(now);
    }

    /// Hands waiting runs to the spawner while there is room.
    fn hand_over(&mut self, now: DateTime<Utc>) {
        while self.spawning.handed.len() < IN_FLIGHT {
            let Some(mut ticket) = self.spawning.waiting.pop_front() else {
                return;
            };
            let Some(command) = ticket.command.take() else {
                self.start(ticket, None, now);
                continue;
            };
            match self.spawning.spawner.hand_over(command) {
                Ok(_) => self.spawning.handed.push_back(ticket),
                // No spawning thread could be started: the run fails to start, as it would
                // had its own spawn failed for want of resources.
                Err(source) => {
                    let error = crate::executor::SpawnError::Setup { source };
                    self.start(ticket, Some(Err(error)), now);
                }
            }
        }
    }

    /// Starts the runs whose processes have come back, in the order they were handed over;
    /// one whose process has already been reaped ends at once.
    pub(super) fn spawned(&mut self, now: DateTime<Utc>) {
        for (number, result) in self.spawning.spawner.take_ready() {
            let Some(ticket) = self.spawning.handed.pop_front() else {
                break;
            };
            let pid = result.as_ref().ok().map(|child| child.pid);
            let (run, job) = (ticket.run, ticket.job.clone());
            self.start(ticket, Some(result), now);
            let early = pid.and_then(|pid| self.spawning.early.remove(&pid).map(|e| (pid, e)));
            let replaced_by = self.spawning.replace_on_start.remove(&run);
            if let Some((pid, (status, handed))) = early
                && number < handed
            {
                self.ended(pid, status, now);
            } else if let Some(scheduled) = replaced_by {
                self.replace(&job, run, scheduled, now);
            }
        }
        self.hand_over(now);
        if self.spawning.handed.is_empty() {
            self.spawning.early.clear();
        }
    }

    /// `overlap = "replace"` for a run still being started: it is ended once it has (a fire
    /// due just after its predecessor's, as when several missed fires are caught up at once).
    pub(super) fn replace_on_start(&mut self, run: RunId, scheduled: DateTime<Utc>) {
        if self.spawning.holds(run) {
            self.spawning.replace_on_start.insert(run, scheduled);
        }
    }

    /// A child the loop does not know has ended: kept when it may be a run whose start has not
    /// come back yet, otherwise (an orphan) only collected.
    pub(super) fn unknown_exit(&mut self, pid: Pid, status: ExitStatus) {
        if !self.spawning.handed.is_empty() {
            let handed = self.spawning.spawner.handed();
            self.spawning.early.insert(pid, (status, handed));
        }
    }
}
