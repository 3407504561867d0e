//! Who is alive among the schedulers sharing a PostgreSQL store, and what happens to the runs
//! of one that died.
//!
//! Each writer registers a row in `schedulers` and renews its `heartbeat` every
//! [`HEARTBEAT_EVERY`] (or a third of its lease, if shorter) from a thread of its own, with a
//! connection of its own, so that a slow statement of the scheduler's loop never delays a
//! heartbeat and a heartbeat never waits on the loop. A scheduler whose heartbeat is older than
//! the lease ([`DEFAULT_LEASE`], `[store] lease` in the jobfile) is dead: the first survivor to
//! notice deletes its row and marks its claimed and running runs `interrupted` in one
//! statement, so each is settled exactly once however many survivors notice together (the
//! second one's DELETE finds no row).
//!
//! Why 2 s and 10 s: five missed heartbeats before a host is declared dead rides out a
//! database failover or a stalled network of several seconds, and a fire of a dead host's
//! `every = "10s"` job is then late by at most one period. A shorter lease declares slow hosts
//! dead while they still run jobs (their runs would be recorded interrupted while running).
//!
//! The lease is judged by the database's clock (`clock_timestamp()`): hosts' clocks may
//! disagree, the database's is one.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;

use super::target::Target;
use crate::store::StoreError;

/// How often a scheduler renews its lease (at most; see [`interval`]).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);

/// How long a scheduler may go without a heartbeat before it is taken for dead.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// How often to heartbeat with `lease`: [`HEARTBEAT_EVERY`], or a third of a shorter lease, so
/// that two heartbeats may be lost before the lease runs out.
pub(super) fn interval(lease: Duration) -> Duration {
    HEARTBEAT_EVERY.min(lease / 3)
}

/// Registers this process as a scheduler; returns its id.
pub(super) fn register(client: &mut Client, path: &Path, host: &str) -> Result<i64, StoreError> {
    let pid = i64::from(std::process::id());
    let row = client
        .query_one(
            "INSERT INTO jobrun.schedulers (host, pid) VALUES ($1, $2) RETURNING id",
            &[&host, &pid],
        )
        .map_err(|e| StoreError::io(path, "register with the state store", e))?;
    Ok(row.get(0))
}

/// The note on a run whose scheduler's lease ran out.
const DEAD_NOTE: &str = "its scheduler (host %h, pid %p) stopped heartbeating; a surviving \
                         scheduler recorded it interrupted after the lease ran out";

/// Settles every scheduler whose lease ran out (other than `me`): deletes its row and marks
/// its claimed and running runs interrupted, in one statement. Returns how many runs.
pub(super) fn settle_expired(
    client: &mut Client,
    me: i64,
    lease: Duration,
) -> Result<u64, postgres::Error> {
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
    client.execute(
        "WITH dead AS (
             DELETE FROM jobrun.schedulers
             WHERE id <> $1 AND heartbeat < clock_timestamp() - $2::bigint * interval '1 microsecond'
             RETURNING id, host, pid)
         UPDATE jobrun.runs SET state = 'interrupted', pid = NULL,
             ended = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
             message = replace(replace($3, '%h', dead.host), '%p', dead.pid::text)
         FROM dead
         WHERE runs.scheduler = dead.id AND runs.state IN ('claimed', 'running')",
        &[&me, &lease_us, &DEAD_NOTE],
    )
}

/// The heartbeat thread of one registered scheduler.
pub(super) struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Heartbeat {
    /// Starts heartbeating as scheduler `id` on a connection of its own.
    pub(super) fn start(
        target: &Target,
        path: &Path,
        id: i64,
        lease: Duration,
    ) -> Result<Heartbeat, StoreError> {
        let client = super::connect(target, path)?;
        let (stop, stopped) = mpsc::channel();
        let target = target.clone();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("jobrun-heartbeat".into())
            .spawn(move || beat(client, &target, &path, id, lease, &stopped))
            .map_err(|e| StoreError::io(&PathBuf::new(), "start the heartbeat thread", e))?;
        Ok(Heartbeat { stop, thread })
    }

    /// Stops the thread and waits for it.
    pub(super) fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The thread's loop: renew, settle the dead, wait for the next beat or the stop. A lost
/// connection is opened again at the next beat; meanwhile the lease may run out, as it should
/// for a host cut off from the database.
fn beat(
    client: Client,
    target: &Target,
    path: &Path,
    id: i64,
    lease: Duration,
    stopped: &mpsc::Receiver<()>,
) {
    let mut client = Some(client);
    loop {
        if client.as_ref().is_none_or(Client::is_closed) {
            client = super::connect(target, path).ok();
        }
        if let Some(c) = client.as_mut()
            && renew(c, id)
                .and_then(|()| settle_expired(c, id, lease))
                .is_err()
        {
            client = None;
        }
        match stopped.recv_timeout(interval(lease)) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Renews the lease; puts the row back (same id) if a survivor took this scheduler for dead
/// while it was cut off: its runs were settled, but it lives on and claims again.
fn renew(client: &mut Client, id: i64) -> Result<(), postgres::Error> {
    let renewed = client.execute(
        "UPDATE jobrun.schedulers SET heartbeat = clock_timestamp() WHERE id = $1",
        &[&id],
    )?;
    if renewed == 0 {
        let pid = i64::from(std::process::id());
        client.execute(
            "INSERT INTO jobrun.schedulers (id, host, pid) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &super::host_name(), &pid],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_heartbeats_fit_in_a_short_lease() {
        assert_eq!(interval(DEFAULT_LEASE), HEARTBEAT_EVERY);
        assert_eq!(interval(Duration::from_secs(3)), Duration::from_secs(1));
    }
}
