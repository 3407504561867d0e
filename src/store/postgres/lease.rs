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

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;

use super::target::Target;
use crate::store::StoreError;

/// How often a scheduler renews its lease (at most; a third of a shorter lease).
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
        .map_err(|e| StoreError::io(path, "register with the state store", super::describe(&e)))?;
    Ok(row.get(0))
}

/// The note on a run whose scheduler's lease ran out.
const DEAD_NOTE: &str = "its scheduler (host %h, pid %p) stopped heartbeating; a surviving \
                         scheduler recorded it interrupted after the lease ran out";

/// What a survivor learns about the schedulers sharing the store, for the scheduler's loop to
/// log and act on (see [`crate::store::Store::take_notices`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A scheduler's lease ran out; its running runs (`interrupted`: their ids and jobs) are
    /// recorded interrupted, and the fires it had claimed but not started (`handed_over`) are
    /// this scheduler's to run, if still within grace, or to record as missed.
    Settled {
        host: String,
        pid: u32,
        interrupted: Vec<(i64, String)>,
        handed_over: Vec<Handover>,
    },
    /// The live schedulers whose jobfile differs from this one's, now (empty: all agree
    /// again). Told once per change.
    Jobfiles {
        differing: Vec<super::super::LiveScheduler>,
    },
    /// The database stopped answering this scheduler's requests (`outage.rs`): told once per
    /// outage.
    Unreachable { error: String },
    /// It answers again, after `after`; `kept` starts and ends of runs kept meanwhile were
    /// written.
    Back { after: Duration, kept: usize },
    /// An admitted run ended somewhere (or this scheduler was cut off and may have missed
    /// that): fires waiting for a slot may be admitted now. Told only while some wait.
    SlotsFreed,
    /// Other schedulers' fires wait for these runs of this one to end (`overlap = "replace"`):
    /// each run's id and job, and the fire (its instant, in microseconds) waiting for it.
    ReplaceAsked { runs: Vec<(i64, String, i64)> },
}

/// A fire a dead scheduler claimed and did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub job: String,
    pub scheduled: chrono::DateTime<chrono::Utc>,
    pub attempt: u32,
}

/// Settles every scheduler whose lease ran out (other than `me`), in one statement: deletes
/// its row, marks its running runs (and manual claims) interrupted, and deletes its scheduled
/// claims that did not start, which are handed over to this scheduler.
pub(super) fn settle_expired(
    client: &mut Client,
    me: i64,
    lease: Duration,
) -> Result<Vec<Notice>, postgres::Error> {
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
    let rows = client.query(
        "WITH dead AS (
             DELETE FROM jobrun.schedulers
             WHERE id <> $1 AND heartbeat < clock_timestamp() - $2::bigint * interval '1 microsecond'
             RETURNING id, host, pid),
         interrupted AS (
             UPDATE jobrun.runs SET state = 'interrupted', pid = NULL,
                 ended = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
                 message = replace(replace($3, '%h', dead.host), '%p', dead.pid::text)
             FROM dead
             WHERE runs.scheduler = dead.id
               AND (runs.state = 'running' OR (runs.state = 'claimed' AND runs.manual))
             RETURNING dead.id AS owner, runs.id, runs.job, NULL::bigint AS scheduled,
                       NULL::bigint AS attempt),
         handed AS (
             DELETE FROM jobrun.runs USING dead
             WHERE runs.scheduler = dead.id AND runs.state = 'claimed' AND NOT runs.manual
             RETURNING dead.id AS owner, runs.id, runs.job, runs.scheduled, runs.attempt)
         SELECT dead.id, dead.host, dead.pid, r.id, r.job, r.scheduled, r.attempt
         FROM dead LEFT JOIN (SELECT * FROM interrupted UNION ALL SELECT * FROM handed) AS r
             ON r.owner = dead.id
         ORDER BY dead.id, r.id",
        &[&me, &lease_us, &DEAD_NOTE],
    )?;
    let mut notices: Vec<(i64, Notice)> = Vec::new();
    for row in rows {
        let owner: i64 = row.get(0);
        if notices.last().is_none_or(|(id, _)| *id != owner) {
            notices.push((
                owner,
                Notice::Settled {
                    host: row.get(1),
                    pid: u32::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                    interrupted: Vec::new(),
                    handed_over: Vec::new(),
                },
            ));
        }
        let Some((
            _,
            Notice::Settled {
                interrupted,
                handed_over,
                ..
            },
        )) = notices.last_mut()
        else {
            continue;
        };
        let (run, job): (Option<i64>, Option<String>) = (row.get(3), row.get(4));
        let (Some(run), Some(job)) = (run, job) else {
            continue;
        };
        let scheduled = row
            .get::<_, Option<i64>>(5)
            .and_then(chrono::DateTime::from_timestamp_micros);
        match scheduled {
            Some(scheduled) => handed_over.push(Handover {
                job,
                scheduled,
                attempt: u32::try_from(row.get::<_, Option<i64>>(6).unwrap_or(1)).unwrap_or(1),
            }),
            None => interrupted.push((run, job)),
        }
    }
    Ok(notices.into_iter().map(|(_, n)| n).collect())
}

/// What the heartbeat thread shares with the store's owner.
#[derive(Default)]
pub(super) struct Shared {
    /// Notices not yet taken.
    pub(super) notices: Vec<Notice>,
    /// The hash of this scheduler's jobfile (empty until told).
    pub(super) jobfile_hash: String,
    /// The scheduler has fires waiting for a slot: freed slots are worth telling it.
    pub(super) waiting: bool,
}

/// The channel an admitted run's end is told on (see `schema.rs`).
const SLOTS: &str = "jobrun_slots";
/// The channel asking schedulers to end a run for a newer fire (see `admit.rs`).
const REPLACE: &str = "jobrun_replace";

/// The channel that wakes scheduler `id`'s heartbeat thread to stop.
pub(super) fn stop_channel(id: i64) -> String {
    format!("jobrun_stop_{id}")
}

/// The heartbeat thread of one registered scheduler.
pub(super) struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
    pub(super) shared: Arc<Mutex<Shared>>,
    /// Readable when notices wait (the thread writes a byte): the loop polls it.
    pub(super) bell: UnixStream,
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
        let (bell, ringer) = UnixStream::pair()
            .map_err(|e| StoreError::io(path, "start the heartbeat thread", e))?;
        bell.set_nonblocking(true)
            .and_then(|()| ringer.set_nonblocking(true))
            .map_err(|e| StoreError::io(path, "start the heartbeat thread", e))?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let beat = Beat {
            target: target.clone(),
            path: path.to_path_buf(),
            id,
            lease,
            shared: Arc::clone(&shared),
            ringer,
            differing: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("jobrun-heartbeat".into())
            .spawn(move || beat.run(client, &stopped))
            .map_err(|e| StoreError::io(&PathBuf::new(), "start the heartbeat thread", e))?;
        Ok(Heartbeat {
            stop,
            thread,
            shared,
            bell,
        })
    }

    /// Tells the thread to stop at its next wakeup.
    pub(super) fn ask_to_stop(&self) {
        let _ = self.stop.send(());
    }

    /// Stops the thread and waits for it.
    pub(super) fn stop(self) {
        self.ask_to_stop();
        let _ = self.thread.join();
    }
}

/// The heartbeat thread's state.
struct Beat {
    target: Target,
    path: PathBuf,
    id: i64,
    lease: Duration,
    shared: Arc<Mutex<Shared>>,
    ringer: UnixStream,
    /// The differing schedulers told last.
    differing: Vec<super::super::LiveScheduler>,
}

impl Beat {
    /// Renew, settle the dead, compare jobfiles, then listen for the other schedulers' news
    /// (`NOTIFY`) until the next beat or the stop. A lost connection is opened again at the
    /// next beat; meanwhile the lease may run out, as it should for a host cut off from the
    /// database.
    fn run(mut self, client: Client, stopped: &mpsc::Receiver<()>) {
        let mut client = self.listening(client);
        let every = interval(self.lease);
        loop {
            if client.as_ref().is_none_or(Client::is_closed) {
                client = super::connect(&self.target, &self.path)
                    .ok()
                    .and_then(|c| self.listening(c));
            }
            if let Some(c) = client.as_mut()
                && self.once(c).is_err()
            {
                client = None;
            }
            let next_beat = Instant::now() + every;
            loop {
                match stopped.try_recv() {
                    Err(TryRecvError::Empty) => {}
                    Ok(()) | Err(TryRecvError::Disconnected) => return,
                }
                let left = next_beat.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let Some(c) = client.as_mut() else {
                    match stopped.recv_timeout(left) {
                        Err(RecvTimeoutError::Timeout) => break,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                };
                let heard = c.notifications().timeout_iter(left).next();
                match heard {
                    Ok(None) => break,
                    Ok(Some(n)) => {
                        if self.heard(c, n.channel()).is_err() {
                            client = None;
                        }
                    }
                    Err(_) => client = None,
                }
            }
        }
    }

    /// Listens on a new connection; whatever happened while not listening may have freed a
    /// slot or asked for a replacement, so both are checked once.
    fn listening(&mut self, mut client: Client) -> Option<Client> {
        let listen = format!(
            "LISTEN {SLOTS}; LISTEN {REPLACE}; LISTEN {}",
            stop_channel(self.id)
        );
        client.batch_execute(&listen).ok()?;
        self.heard(&mut client, SLOTS).ok()?;
        self.heard(&mut client, REPLACE).ok()?;
        Some(client)
    }

    /// Acts on a notification on `channel`.
    fn heard(&mut self, client: &mut Client, channel: &str) -> Result<(), postgres::Error> {
        let notice = match channel {
            SLOTS => {
                let shared = self.lock();
                if !shared.waiting || shared.notices.contains(&Notice::SlotsFreed) {
                    return Ok(());
                }
                Notice::SlotsFreed
            }
            REPLACE => {
                let runs: Vec<(i64, String, i64)> = client
                    .query(
                        "SELECT id, job, replaced_for FROM jobrun.runs
                         WHERE scheduler = $1 AND replaced_for IS NOT NULL
                           AND state IN ('claimed', 'running')
                         ORDER BY id",
                        &[&self.id],
                    )?
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect();
                if runs.is_empty() {
                    return Ok(());
                }
                Notice::ReplaceAsked { runs }
            }
            // The stop: `run` sees it.
            _ => return Ok(()),
        };
        self.tell(vec![notice]);
        Ok(())
    }

    fn once(&mut self, client: &mut Client) -> Result<(), postgres::Error> {
        let hash = self.lock().jobfile_hash.clone();
        renew(client, self.id, &hash)?;
        let mut notices = settle_expired(client, self.id, self.lease)?;
        if !hash.is_empty() {
            let differing = differing(client, self.id, &hash, self.lease)?;
            if differing != self.differing {
                self.differing.clone_from(&differing);
                notices.push(Notice::Jobfiles { differing });
            }
        }
        self.tell(notices);
        Ok(())
    }

    /// Hands `notices` to the scheduler's loop and rings its bell (nothing when none).
    fn tell(&self, notices: Vec<Notice>) {
        if notices.is_empty() {
            return;
        }
        self.lock().notices.extend(notices);
        // A full socket buffer already rings: the loop has not read it yet.
        let _ = (&self.ringer).write(&[1]);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The live schedulers, other than `me`, that run a jobfile other than `hash`.
fn differing(
    client: &mut Client,
    me: i64,
    hash: &str,
    lease: Duration,
) -> Result<Vec<super::super::LiveScheduler>, postgres::Error> {
    let lease_us = i64::try_from(lease.as_micros()).unwrap_or(i64::MAX);
    let rows = client.query(
        "SELECT host, pid, jobfile_hash FROM jobrun.schedulers
         WHERE id <> $1 AND jobfile_hash <> '' AND jobfile_hash <> $2
           AND heartbeat >= clock_timestamp() - $3::bigint * interval '1 microsecond'
         ORDER BY id",
        &[&me, &hash, &lease_us],
    )?;
    Ok(rows
        .iter()
        .map(|r| super::super::LiveScheduler {
            host: r.get(0),
            pid: u32::try_from(r.get::<_, i64>(1)).unwrap_or(0),
            jobfile_hash: r.get(2),
        })
        .collect())
}

/// Renews the lease; puts the row back (same id) if a survivor took this scheduler for dead
/// while it was cut off: its runs were settled, but it lives on and claims again.
fn renew(client: &mut Client, id: i64, hash: &str) -> Result<(), postgres::Error> {
    let renewed = client.execute(
        "UPDATE jobrun.schedulers SET heartbeat = clock_timestamp() WHERE id = $1",
        &[&id],
    )?;
    if renewed == 0 {
        let pid = i64::from(std::process::id());
        client.execute(
            "INSERT INTO jobrun.schedulers (id, host, pid, jobfile_hash) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
            &[&id, &super::host_name(), &pid, &hash],
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
