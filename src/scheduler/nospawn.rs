//! `jobrun start --no-spawn`, a hidden mode for benchmarks (bench/store_throughput.sh): every
//! fire goes through the planner, the claim and the store as usual, then is recorded as
//! started and ended with success at once, without a process. What it measures is what
//! jobrun adds to a fire (planning, claiming, recording), without the fork and exec that
//! `bench/spawn_floor.c` measures apart.

use chrono::{DateTime, Utc};

use super::Loop;
use super::ticket::Ticket;
use crate::store::{Outcome, RunStep};

impl Loop<'_> {
    /// A run claimed and recorded, its process left out; it is over at once.
    pub(super) fn record_without_process(&mut self, ticket: Ticket, now: DateTime<Utc>) {
        if let Some(id) = ticket.record {
            let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
            // Through the journal, as a real run's start and end go (group commit).
            self.journal(RunStep::Started { id, pid, at: now });
            self.journal(RunStep::Finished {
                id,
                at: now,
                outcome: Outcome::Exited { code: 0 },
                timed_out: false,
                output_tail: String::new(),
                failed_by: None,
                retry: None,
            });
        }
        self.freed.push_back(ticket.run);
    }
}
