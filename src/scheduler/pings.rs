//! The loop's side of health pings (`crate::ping`): a run of a job with `ping_url` gets a ping
//! id at its start, and its start and end are queued for the ping thread, which is started
//! with the first ping. A hook-less, ping-less run never comes here.

use chrono::{DateTime, Utc};

use super::Loop;
use super::ticket::Ticket;
use crate::ping::{Kind, Ping, Pinger};

/// How long jobrun, about to exit, waits for pings still queued.
const FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

impl Loop<'_> {
    /// Queues a ping for this run, if its job has a `ping_url`; `body` is its output tail.
    pub(super) fn ping(&mut self, ticket: &Ticket, kind: Kind, body: &str, now: DateTime<Utc>) {
        let (Some(url), Some(rid)) = (&ticket.outcomes.ping_url, &ticket.rid) else {
            return;
        };
        if self.pinger.is_none() {
            match Pinger::start(self.log.stderr_alike()) {
                Ok(pinger) => self.pinger = Some(pinger),
                Err(e) => {
                    let error = format!("cannot start the ping thread: {e}");
                    self.log
                        .event(now, "ping_failed", &[("error", error.into())]);
                    return;
                }
            }
        }
        let ping = Ping {
            url: url.clone(),
            kind,
            rid: rid.clone(),
            job: ticket.job.clone(),
            run: ticket.shown(),
            body: body.to_owned(),
        };
        if !self.pinger.as_ref().is_some_and(|p| p.send(ping)) {
            self.log.event(
                now,
                "ping_dropped",
                &[
                    ("job", ticket.job.as_str().into()),
                    ("run", ticket.shown().into()),
                    ("reason", "the ping queue is full".into()),
                ],
            );
        }
    }

    /// Before jobrun exits: the pings still queued get a few seconds to go out.
    pub(super) fn flush_pings(&mut self) {
        if let Some(pinger) = self.pinger.take()
            && !pinger.finish(FLUSH)
        {
            let now = self.clock.now();
            self.log.event(
                now,
                "ping_failed",
                &[("error", "pings still queued at exit were not sent".into())],
            );
        }
    }
}
