//! The loop's waiting: the deadlines the timer is armed at, the one `poll(2)` over the signal
//! pipe, the timer, the spawner, the jobfile watch and the children's pipes, and reading those
//! pipes.

use std::io::Write;

use chrono::{DateTime, Utc};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::ticket::Output;
use super::watch::JobfileWatch;
use super::{Loop, io_error, system};
use crate::error::Error;
use crate::executor::Stream;
use crate::plan::{Planner, RunId};

impl Loop<'_> {
    #[cfg(test)]
    pub(super) fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.deadlines().min()
    }

    fn deadlines(&self) -> impl Iterator<Item = DateTime<Utc>> {
        let planned = if self.stop_deadline.is_some() {
            None
        } else {
            self.planner.as_ref().and_then(Planner::next_wake)
        };
        [
            planned,
            self.prepare_at.map(|(_, from)| from),
            self.runs.next_deadline(),
            self.stop_deadline.filter(|_| !self.grace_over),
        ]
        .into_iter()
        .flatten()
    }

    /// When the timer is to wake the loop next: the earliest deadline, except one that had
    /// already passed when the timer was last armed. Every deadline is consumed when it is
    /// handled, so that one is a deadline nothing consumed, and arming it again would wake the
    /// loop at once, for ever (issue 10: a stop grace that had run out did this).
    pub(super) fn wake_at(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let spent = self.spent;
        let next = self
            .deadlines()
            .filter(|&d| d > now || Some(d) != spent)
            .min();
        if let Some(past) = next.filter(|&d| d <= now) {
            self.spent = Some(past);
        }
        next
    }

    /// Blocks until something happens, then handles it.
    pub(super) fn wait(&mut self) -> Result<(), Error> {
        let (ready, pipes, noticed) = {
            let mut fds = vec![
                PollFd::new(self.signals.fd(), PollFlags::POLLIN),
                PollFd::new(self.wakeup.fd(), PollFlags::POLLIN),
                PollFd::new(self.spawning.fd(), PollFlags::POLLIN),
            ];
            if let Some(watch) = &self.watch {
                fds.push(PollFd::new(watch.fd(), PollFlags::POLLIN));
            }
            // Schedulers sharing the store: news from the heartbeat thread (`shared.rs`).
            let notices = self.store.as_ref().and_then(|s| s.notice_fd());
            let notice_index = fds.len();
            if let Some(fd) = notices {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            let fixed = fds.len();
            let mut pipes = Vec::new();
            for (run, stream, fd) in self.runs.pipes() {
                pipes.push((run, stream));
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(system("wait for events")(e)),
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            let pipes: Vec<_> = pipes
                .into_iter()
                .zip(ready[fixed..].iter().copied())
                .filter(|(_, r)| *r)
                .map(|(k, _)| k)
                .collect();
            let noticed = notices.is_some() && ready[notice_index];
            (ready[..fixed].to_vec(), pipes, noticed)
        };
        let now = self.clock.now();
        for (run, stream) in pipes {
            self.read_pipe(run, stream, now);
        }
        if ready[1] {
            self.wakeup.acknowledge();
        }
        if noticed {
            self.shared_notices(now);
        }
        // Started runs first: a child reaped below may be one of theirs.
        if ready[2] {
            self.spawned(now);
            self.settle(now);
        }
        if ready.get(3).copied().unwrap_or(false)
            && self.watch.as_ref().is_some_and(JobfileWatch::changed)
        {
            self.reload(now, "jobfile changed");
        }
        if ready[0] {
            let arrived = self.signals.drain().map_err(io_error("read signals"))?;
            if arrived.child {
                self.reap(now);
                // What the ended runs free is settled at once, at the instant they were
                // reaped: the next `advance` must not count them as running.
                self.settle(now);
            }
            if arrived.reload && self.planner.is_some() {
                self.reload(now, "SIGHUP");
            }
            if arrived.stop {
                self.stop(now);
            }
        }
        Ok(())
    }

    pub(super) fn read_pipe(&mut self, run: RunId, stream: Stream, now: DateTime<Utc>) {
        let log = &mut *self.log;
        self.runs.read(
            run,
            stream,
            |job, run, is_stderr, output, line| match output {
                Output::Log => log.output(now, job, run, is_stderr, line),
                Output::PassThrough => pass_through(is_stderr, line),
            },
        );
    }
}

fn pass_through(is_stderr: bool, line: &str) {
    if is_stderr {
        let _ = writeln!(std::io::stderr(), "{line}");
    } else {
        let _ = writeln!(std::io::stdout(), "{line}");
    }
}
