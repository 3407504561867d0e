//! The scheduler's memory between runs: which fires were handled, what each run did, and which
//! schedule each job had, in one SQLite file per jobfile (see [`default_path`]).
//!
//! Why SQLite (bundled, through rusqlite): a real transactional database in a library, with no
//! server to run and no system library to install. Claiming a batch of fires and advancing
//! each job's `last_fire` happen in one transaction, so a crash leaves either both or neither.
//!
//! Why `journal_mode=WAL` with `synchronous=NORMAL`:
//! - WAL lets `jobrun history` and `jobrun list` read while a scheduler writes, without
//!   blocking it or being blocked;
//! - with NORMAL, a commit is a write to the WAL without an fsync (fsyncs happen at
//!   checkpoints), so a run costs tens of microseconds instead of milliseconds. A committed
//!   transaction is in the OS's page cache, so it survives any crash of jobrun, `kill -9`
//!   included. A power cut or kernel crash may lose the last transactions (never corrupt the
//!   file): the next start may then see a fire as not yet handled and treat it as missed.
//!
//! # Starts and ends
//! A fire is claimed ([`Store::claim`], or [`Store::hold`] shortly before its instant) in a
//! transaction committed before its process starts; the claim moves the job's `last_fire`, so
//! no later scheduler claims that fire again. The run's start and end are then written
//! in batches ([`Store::record_runs`]): the scheduler gathers those of one turn of its loop and
//! commits them before it sleeps, or before any other write (group commit). A crash can
//! therefore leave a run whose process started still `claimed`, or one that ended still
//! `running`. The rule at the next start is the same for both: its processes, if any are left,
//! are found by their environment (`JOBRUN_RUN_ID`, not a recorded pid) and ended, and the run
//! is recorded as interrupted. It never runs again: a fire is run at most once, and a crash in
//! that window (milliseconds) costs the record of how the run went, never a second run. The
//! log may then show a start or an end the store does not have.
//!
//! Checkpoints (copying the WAL into the database, with fsyncs) run on a thread of their own,
//! so that they do not land in the middle of a run (`checkpoint.rs`).
//!
//! The page cache is kept small (512 KiB) because the scheduler has a memory budget of 10 MiB
//! with 10,000 jobs; every query here is an index lookup that needs few pages.
//!
//! One process writes: [`Store::open_exclusive`] takes a `flock` on the file for the Store's
//! whole life (why, in `lock.rs`). Readers use [`Store::open_read`], which never locks,
//! creates or migrates.
//!
//! Layout: `schema` (tables, recognition, migrations), `lock`, `checkpoint`, `codec`
//! (rows ⇄ records), `writes`, `batch` (several starts and ends at once), `reads`, `policies`
//! (boots, chains, replaced runs), `upkeep` (prune and check), `path`.

mod batch;
mod checkpoint;
mod codec;
mod error;
mod facade;
mod holder;
mod lock;
mod path;
mod policies;
pub mod postgres;
mod reads;
mod schema;
mod upkeep;
mod writes;

#[cfg(test)]
mod tests;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OpenFlags, params};

pub use batch::RunStep;
#[cfg(fuzzing)]
pub(crate) use codec::decode_run_row;
pub use error::{Cause, StoreError};
pub use facade::{LiveScheduler, Location, Store};
pub use holder::scheduler_pid;
pub use path::{STATE_DIR_ENV, default_path, path_for};
pub use policies::Boot;

use checkpoint::Checkpointer;
use lock::HolderLock;
use schema::Found;

/// Bytes of a run's output kept: enough for the error at the end of a failing job's output.
pub const MAX_TAIL: usize = 4096;

/// How long a statement waits for another connection's lock (a reader's checkpoint, a
/// scheduler's write) before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Negative `cache_size` is in KiB: 512 KiB of page cache per connection.
const CACHE_SIZE: i64 = -512;

/// Prepared statements kept per connection; the hot paths use fewer than ten.
const STATEMENT_CACHE: usize = 32;

/// When the WAL restarts, a WAL file larger than this (bytes) is truncated back, so that one
/// huge transaction (a claim of thousands of fires) does not leave a large file behind for good.
/// It is twice what the checkpoint backstop lets the WAL reach, because truncating at every
/// restart makes every later write extend the file again: +25 µs per run, measured.
const WAL_SIZE_LIMIT: i64 = 16 * 1024 * 1024;

/// Outcome of one scheduled fire or manual run, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded, process not (known to be) started yet.
    Claimed,
    /// Process started.
    Running { pid: i32 },
    /// Ended; code 0 = success.
    Exited { code: i32 },
    /// Ended by a signal.
    Signaled { signal: i32 },
    /// Could not start.
    SpawnFailed { error: String },
    /// Was claimed or running when a previous scheduler died; found at the next start.
    Interrupted { note: String },
    /// Fires that were due while jobrun was down (or too late to run). One row can stand for a
    /// range: `fires` fires from `first` to the row's `scheduled`, so that a week of downtime
    /// with a per-second job is one row, not 604,800. `fires` is 0 when there were more than
    /// the scheduler counts (a million; see `plan`).
    Missed {
        late_by_ms: i64,
        fires: u64,
        first: DateTime<Utc>,
    },
    /// Merged into the run of the fire at `into`.
    Coalesced { into: DateTime<Utc> },
    /// Not run, for `reason` (e.g. "max_instances").
    Skipped { reason: String },
}

/// Why an ended run counts as failed, by its job's rules (`crate::outcomes`). A run that
/// exited or was signaled and has none of these succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedBy {
    /// Its exit status: a code outside the job's `success_exit_codes`, or a signal.
    Status,
    /// It hit its timeout.
    Timeout,
    /// It wrote to stderr, and the job has `fail_on_stderr`.
    Stderr,
}

impl FailedBy {
    /// As the store and `history --json` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailedBy::Status => "status",
            FailedBy::Timeout => "timeout",
            FailedBy::Stderr => "stderr",
        }
    }

    pub(super) fn parse(text: &str) -> Option<FailedBy> {
        [FailedBy::Status, FailedBy::Timeout, FailedBy::Stderr]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// One row of the history: a run, or a decision about a fire that got no process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Store row id, also the run's `JOBRUN_RUN_ID`; never reused.
    pub id: i64,
    /// The job's name in the jobfile.
    pub job: String,
    /// The fire time (for a missed range: the newest fire).
    pub scheduled: DateTime<Utc>,
    /// `jobrun run NAME`, not a scheduled fire.
    pub manual: bool,
    /// When the row was written (claim time or decision time).
    pub recorded_at: DateTime<Utc>,
    /// When the process started: set for runs that got one (running, ended, and interrupted
    /// ones that had started).
    pub started: Option<DateTime<Utc>>,
    /// When it ended, failed to start, or was found interrupted.
    pub ended: Option<DateTime<Utc>>,
    /// The run hit its timeout and jobrun stopped it (its outcome says how it then ended).
    pub timed_out: bool,
    /// What happened; also says which of the times above are set.
    pub outcome: Outcome,
    /// For a run that exited or was signaled: why it counts as failed; `None` if it succeeded
    /// (and for every other outcome).
    pub failed_by: Option<FailedBy>,
    /// Which attempt of its fire the run was (1 for the first), of how many its job allowed.
    pub attempt: u32,
    pub attempts: u32,
    /// The end of stdout+stderr, at most [`MAX_TAIL`] bytes.
    pub output_tail: String,
    /// The run that replaced this one (`overlap = "replace"` ended it for a newer fire).
    pub replaced_by: Option<i64>,
}

impl RunRecord {
    /// Whether the run succeeded by its job's rules: it ended on its own (exited or was
    /// signaled) and was judged no failure (`failed_by`, see `crate::outcomes`). A run that
    /// could not start, was interrupted, or never ran did not.
    pub fn succeeded(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Exited { .. } | Outcome::Signaled { .. }
        ) && self.failed_by.is_none()
    }
}

/// Per-job scheduler state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// The newest scheduled fire of this job that was handled (claimed, missed, coalesced or
    /// skipped).
    pub last_fire: Option<DateTime<Utc>>,
    /// Fingerprint of the job's schedule (opaque; the scheduler computes it from trigger,
    /// timezone, start and end), so a trigger changed while jobrun was down is noticed. Empty
    /// for a job that had fires handled before any schedule was recorded for it.
    pub schedule: String,
}

/// One fire being claimed before its process starts.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub job: &'a str,
    /// The fire time; for a manual run, when it was asked for.
    pub scheduled: DateTime<Utc>,
    /// `jobrun run NAME`: may repeat an instant, and does not move `last_fire`.
    pub manual: bool,
    /// Which attempt of the fire (1 for the first; a retry's claim also takes its planned
    /// retry off the store), of how many the job allows.
    pub attempt: u32,
    pub attempts: u32,
}

/// A claimed scheduled fire about to start where several schedulers share the store: the
/// limits it is held to across all of them (`postgres/admit.rs`). On one host the planner's
/// own counts are the limits, and every fire is admitted.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// The claim's row.
    pub id: i64,
    pub job: &'a str,
    pub scheduled: DateTime<Utc>,
    pub max_instances: u32,
    pub overlap: crate::job::Overlap,
    /// The job's pool, and its `workers` (`u32::MAX`: no limit).
    pub pool: &'a str,
    pub workers: u32,
    /// Still waiting for a slot past this instant, it is missed (`queue_grace`).
    pub expires: Option<DateTime<Utc>>,
}

/// What became of an [`Admission`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It counts against its limits now: start it.
    Admitted,
    /// Its claim is no longer this scheduler's (taken for dead meanwhile): forget it.
    Lost,
    /// No slot for now, for `reason`: kept claimed, asked again when a slot frees anywhere.
    Waiting { reason: String },
    /// It gets no process, recorded so (skipped, coalesced into the fire already waiting, or
    /// missed after waiting past its `queue_grace`).
    Decided(Outcome),
}

/// A retry planned and not yet started: attempt `attempt` of `attempts` of the fire
/// `scheduled` of `job`, due at `due`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRetry {
    pub job: String,
    pub scheduled: DateTime<Utc>,
    pub attempt: u32,
    pub attempts: u32,
    pub due: DateTime<Utc>,
}

/// A fire claimed ahead of its instant with [`Store::hold`]: the run's id, and the job's
/// `last_fire` from before the claim (in the store's encoding), which [`Store::release`]
/// restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub id: i64,
    prior: Option<i64>,
}

/// A decision recorded without a process: missed, coalesced or skipped.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub job: &'a str,
    /// The fire decided about (for a missed range: the newest fire).
    pub scheduled: DateTime<Utc>,
    /// `Missed`, `Coalesced` or `Skipped`; anything else is refused.
    pub outcome: Outcome,
}

/// How much history [`Store::prune`] keeps. `None` = no limit of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many of each job's newest rows.
    pub max_runs_per_job: Option<u32>,
    /// Delete rows recorded longer ago than this (zero or negative: every ended row).
    pub max_age: Option<TimeDelta>,
}

impl Default for Retention {
    /// 1000 runs per job and 90 days: a per-minute job keeps its last 16 hours, a daily job
    /// its last three months.
    fn default() -> Self {
        Retention {
            max_runs_per_job: Some(1000),
            max_age: Some(TimeDelta::days(90)),
        }
    }
}

/// An open SQLite state store: exclusive (the scheduler's, which writes) or read-only.
pub struct Sqlite {
    /// `conn` and `checkpointer` are declared before `lock` so that both connections are
    /// closed first: closing the lock's descriptor while SQLite still had the file open would
    /// drop SQLite's POSIX locks (see `lock.rs`).
    conn: Connection,
    checkpointer: Option<Checkpointer>,
    path: PathBuf,
    /// Runs with an id from here on were written by this Store (exclusive only): those before
    /// it that are still claimed or running were left by an earlier scheduler.
    own_runs_from: Option<i64>,
    lock: Option<HolderLock>,
    /// The store's schema version: what its rows hold (see `codec::run_columns`).
    version: i64,
}

impl fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("exclusive", &self.lock.is_some())
            .finish_non_exhaustive()
    }
}

impl Sqlite {
    /// For `jobrun start` and `jobrun run`: creates parent directories and the file if missing,
    /// migrates, and takes an exclusive, non-blocking `flock` on the database file, held for
    /// the Store's whole life. Another holder (process, or Store in this process) → `Locked`
    /// with the pid it recorded. Records our pid and `now` as the holder. A crash releases the
    /// lock (the kernel does), so there is never a stale lock.
    ///
    /// Nothing is written to a file until it is known to be a jobrun store of a version this
    /// jobrun knows (or empty): anything else is left byte for byte as it was.
    pub fn open_exclusive(path: &Path, now: DateTime<Utc>) -> Result<Sqlite, StoreError> {
        path::check_store_path(path, true)?;
        let lock = lock::acquire(path)?;
        lock.check_header(path)?;
        // Recognise the file through a read-only connection: even closing a read-write one
        // can write (a WAL checkpoint), and a foreign or newer file must stay untouched.
        let reader = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let found = schema::inspect(&reader, path)?;
        if found != Found::Empty {
            // A damaged store is refused before the scheduler writes into it (issue 12).
            upkeep::check_sound(&reader, path)?;
        }
        drop(reader);

        let mut conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        let fail = |e| StoreError::sql(path, "set up the state store", e);
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::refused(
                path,
                "set up the state store",
                format!("SQLite kept journal mode {mode:?} instead of WAL"),
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail)?;
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)
            .map_err(fail)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(fail)?;
        let version = match found {
            Found::Empty => 0,
            Found::Version(v) => v,
        };
        schema::migrate(&mut conn, path, version)?;

        let fail = |e| StoreError::sql(path, "record this process as the store's holder", e);
        conn.execute(
            "INSERT INTO holder (id, pid, since) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, since = excluded.since",
            params![i64::from(std::process::id()), codec::micros(now)],
        )
        .map_err(fail)?;
        let own_runs_from: i64 = conn
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })
            .map_err(fail)?;
        let checkpointer = Checkpointer::start(path)?;
        Ok(Sqlite {
            conn,
            checkpointer: Some(checkpointer),
            path: path.to_path_buf(),
            own_runs_from: Some(own_runs_from),
            lock: Some(lock),
            version: schema::CURRENT,
        })
    }

    /// For read-only commands (`history`, `list`): `Ok(None)` if there is no store yet (no
    /// file, or a file a scheduler is creating right now); never creates, locks or migrates,
    /// and works while a scheduler holds the store (WAL readers do not block the writer).
    ///
    /// Every schema version from 1 to the current one must stay readable here, since only
    /// `open_exclusive` migrates: `codec::run_columns` reads each version's runs (a version 1
    /// store's `failed_by` is worked out from the columns it has). A future step that changes
    /// what the queries read must keep this true, or refuse here with a clear error.
    pub fn open_read(path: &Path) -> Result<Option<Sqlite>, StoreError> {
        if !path::check_store_path(path, false)? {
            return Ok(None);
        }
        match fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(path, "open the state store", e)),
        }
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        match schema::inspect(&conn, path)? {
            Found::Empty => Ok(None),
            Found::Version(version) => Ok(Some(Sqlite {
                conn,
                checkpointer: None,
                path: path.to_path_buf(),
                own_runs_from: None,
                lock: None,
                version,
            })),
        }
    }

    /// For `jobrun run` while a scheduler holds the store: a connection that writes (its
    /// manual run) without the holder's lock. SQLite serialises the two writers; the holder
    /// has already created and migrated the file, so anything but a store of the current
    /// version is refused, untouched.
    pub fn open_shared(path: &Path) -> Result<Sqlite, StoreError> {
        let action = "open the state store beside the scheduler holding it";
        path::check_store_path(path, false)?;
        let found = schema::inspect(&connect(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?, path)?;
        if found != Found::Version(schema::CURRENT) {
            return Err(StoreError::refused(
                path,
                action,
                "it is not a jobrun store of this version".to_owned(),
            ));
        }
        let conn = connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| StoreError::sql(path, action, e))?;
        Ok(Sqlite {
            conn,
            checkpointer: None,
            path: path.to_path_buf(),
            own_runs_from: None,
            lock: None,
            version: schema::CURRENT,
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens a connection with the settings every connection gets: no SQLite mutex (a Store is
/// used by one thread at a time; Rust's `&mut self` already guarantees it), the busy timeout,
/// the small page cache and room for the hot statements.
fn connect(path: &Path, mode: OpenFlags) -> Result<Connection, StoreError> {
    let fail = |e| StoreError::sql(path, "open the state store", e);
    // NOFOLLOW: a symlink planted at the store's name after the checks is refused, not followed.
    let flags = mode | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    conn.pragma_update(None, "cache_size", CACHE_SIZE)
        .map_err(fail)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}
