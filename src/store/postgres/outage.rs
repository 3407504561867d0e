//! Losing the database and getting it back: a connection that broke (PostgreSQL restarting,
//! the network gone) is opened again with a capped backoff, 0.5 s doubling to 30 s, so that a
//! scheduler firing every second does not hammer a database that is down; meanwhile every
//! request fails at once with [`Unreachable`], and nothing that could not be claimed runs.
//!
//! The starts and ends of runs already claimed are not lost for all that: they are kept, in
//! order (at most [`MAX_KEPT`]), and written first when the database answers again. The
//! scheduler hears of an outage once, when it begins, and once when it ends (`Notice`).

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::error::SqlState;

use super::lease::Notice;
use crate::store::{FailedBy, Outcome, PlannedRetry, RunStep};

/// The first wait before trying the database again, doubled at each failure.
pub(super) const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between tries.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Writes kept while the database is away; beyond, they fail like the rest.
pub(super) const MAX_KEPT: usize = 10_000;

/// The cause of a request refused because the database cannot be reached.
#[derive(Debug, thiserror::Error)]
#[error("the database is unreachable ({0})")]
pub struct Unreachable(pub String);

/// An outage in progress.
#[derive(Debug)]
pub(super) struct Outage {
    since: Instant,
    next_try: Instant,
    backoff: Duration,
}

impl Outage {
    pub(super) fn begin(now: Instant) -> Outage {
        Outage {
            since: now,
            next_try: now + FIRST_BACKOFF,
            backoff: FIRST_BACKOFF,
        }
    }

    /// Whether it is time to try again.
    pub(super) fn due(&self, now: Instant) -> bool {
        now >= self.next_try
    }

    /// A try failed: wait twice as long (at most [`MAX_BACKOFF`]) before the next.
    pub(super) fn failed(&mut self, now: Instant) {
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.next_try = now + self.backoff;
    }

    /// How long it lasted.
    pub(super) fn lasted(&self, now: Instant) -> Duration {
        now - self.since
    }
}

/// Whether `error` means the connection is gone (rather than a refused statement).
pub(super) fn is_lost(error: &postgres::Error, closed: bool) -> bool {
    if closed || error.is_closed() {
        return true;
    }
    match error.code() {
        // Class 08: connection exception; 57P01-57P03: the server is shutting down or starting.
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
        // No SQLSTATE: an I/O error on the socket.
        None => error.as_db_error().is_none(),
    }
}

/// A write kept for when the database is back.
#[derive(Debug, Clone)]
pub(super) enum Kept {
    Started {
        id: i64,
        pid: i32,
        at: DateTime<Utc>,
    },
    SpawnFailed {
        id: i64,
        at: DateTime<Utc>,
        error: String,
    },
    Finished {
        id: i64,
        at: DateTime<Utc>,
        outcome: Outcome,
        timed_out: bool,
        output_tail: String,
        failed_by: Option<FailedBy>,
        retry: Option<PlannedRetry>,
    },
}

impl From<&RunStep> for Kept {
    fn from(step: &RunStep) -> Kept {
        match step.clone() {
            RunStep::Started { id, pid, at } => Kept::Started { id, pid, at },
            RunStep::Finished {
                id,
                at,
                outcome,
                timed_out,
                output_tail,
                failed_by,
                retry,
            } => Kept::Finished {
                id,
                at,
                outcome,
                timed_out,
                output_tail,
                failed_by,
                retry,
            },
        }
    }
}

/// The notice that the outage began.
pub(super) fn began(error: &str) -> Notice {
    Notice::Unreachable {
        error: error.to_owned(),
    }
}

/// The notice that it ended.
pub(super) fn ended(outage: &Outage, now: Instant, kept: usize) -> Notice {
    Notice::Back {
        after: outage.lasted(now),
        kept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_half_a_second_to_thirty() {
        let start = Instant::now();
        let mut outage = Outage::begin(start);
        assert!(!outage.due(start));
        assert!(outage.due(start + FIRST_BACKOFF));
        let mut waits = Vec::new();
        for _ in 0..8 {
            outage.failed(start);
            waits.push(outage.backoff.as_millis());
        }
        assert_eq!(
            waits,
            [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]
        );
    }
}
