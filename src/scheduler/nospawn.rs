//! `jobrun start --no-spawn`, a hidden mode for benchmarks (bench/store_throughput.sh): every
//! fire goes through the planner, the claim and the store as usual, then is recorded as
//! started and ended with success at once, without a process. What it measures is what
//! jobrun adds to a fire (planning, claiming, recording), without the fork and exec that
//! `bench/spawn_floor.c` measures apart.

use chrono::{DateTime, Utc};

use super::Loop;
use super::ticket::Ticket;
use crate::store::Outcome;

impl Loop<'_> {
    /// A run claimed and recorded, its process left out; it is over at once.
    pub(super) fn record_without_process(&mut self, ticket: Ticket, now: DateTime<Utc>) {
        if let (Some(store), Some(id)) = (self.store.as_mut(), ticket.record) {
            let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
            let recorded = store
                .started(id, pid, now)
                .and_then(|()| store.finished(id, now, &Outcome::Exited { code: 0 }, false, ""));
            if let Err(e) = recorded {
                self.store_error(now, &e);
            }
        }
        self.freed.push_back(ticket.run);
    }
}
