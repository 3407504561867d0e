//! The state store on PostgreSQL, shared by several `jobrun start` on several hosts: the same
//! records and rules as the SQLite store (the conformance tests in `store/tests/conformance.rs`
//! run on both), plus what sharing needs (who claimed what, heartbeats; `lease.rs`).
//!
//! Why these choices:
//! - **The sync client (`postgres`, rust-postgres).** The scheduler is one blocking thread by
//!   design; the `postgres` crate wraps tokio-postgres in a private current-thread runtime, so
//!   jobrun gets the well-kept driver without making its loop async.
//! - **The claim is `INSERT … ON CONFLICT (job, scheduled, attempt) WHERE NOT manual DO
//!   NOTHING RETURNING id`** on a unique index: the database decides, atomically, which host
//!   gets a fire; the others get no row back and skip it, without an error, a retry or a lock
//!   held across the network. The fires due together are one statement (arrays unnested),
//!   sorted by (job, instant), so two hosts claiming the same batch take the index's locks in
//!   the same order and cannot deadlock; a batch costs a handful of round trips, not some per
//!   fire.
//! - **Only claims wait for the disk** (`synchronous_commit` on for them, off for the rest): a
//!   claim lost in a crash of PostgreSQL could be claimed again by another host and run twice;
//!   a run's start or end lost that way is what SQLite's `synchronous=NORMAL` also risks, and
//!   an fsync per write would cost milliseconds per run.
//! - **Statements are prepared once per connection** and kept; a run's start and end are one
//!   statement each, outside a transaction (one round trip instead of three).
//! - **Times are the schedulers' clocks for fires, the database's for leases**: a fire's
//!   instant is what the jobfile says, whoever computes it; a lease must be judged by one
//!   clock, or a host whose clock runs ahead would bury the living.
//!
//! Layout: `target` (URL, password, TLS mode), `pgpass`, `tls`, `schema`, `writes`, `reads`,
//! `lease` (registration, heartbeats, settling the runs of the dead).

mod admit;
mod lease;
mod outage;
mod pgpass;
mod reads;
mod schema;
mod target;
pub mod testing;
mod tls;
mod writes;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

pub use lease::{DEFAULT_LEASE, HEARTBEAT_EVERY, Handover, Notice};
pub use outage::Unreachable;
pub use target::{PgEnvironment, Target, is_postgres_url};
pub(super) use writes::Lost;

use super::StoreError;
use lease::Heartbeat;
use schema::Found;

/// An open PostgreSQL store.
pub struct Postgres {
    conn: Mutex<Conn>,
    target: Target,
    /// The redacted URL: what messages name as the store.
    path: PathBuf,
    /// This process's row in `schedulers`, for a store that writes runs; `None` read-only.
    scheduler: Option<i64>,
    /// The host name recorded with runs and boots.
    host: String,
    heartbeat: Option<Heartbeat>,
    /// How long a scheduler may go without a heartbeat before it is taken for dead.
    lease: std::time::Duration,
}

/// A connection and the statements prepared on it, or the outage that took it.
pub(super) struct Conn {
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
    outage: Option<outage::Outage>,
    /// Starts and ends of runs kept during an outage, oldest first.
    kept: Vec<outage::Kept>,
    /// Outages begun and ended, for the scheduler.
    notices: Vec<Notice>,
}

impl Conn {
    fn new(client: Client) -> Conn {
        Conn {
            client: Some(client),
            statements: HashMap::new(),
            outage: None,
            kept: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// The connection broke: an outage begins (told once).
    fn lose(&mut self, error: &str) {
        self.client = None;
        if self.outage.is_none() {
            self.outage = Some(outage::Outage::begin(Instant::now()));
            self.notices.push(outage::began(error));
        }
    }
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("target", &self.target)
            .field("scheduler", &self.scheduler)
            .finish_non_exhaustive()
    }
}

/// Why a request did not happen, before the store and the action are attached.
#[derive(Debug)]
pub(super) enum PgFailure {
    Pg(postgres::Error),
    /// The store's rules forbid it; the text says what.
    Refused(String),
    /// A row read back does not make sense.
    Corrupt(String),
}

impl From<postgres::Error> for PgFailure {
    fn from(e: postgres::Error) -> Self {
        PgFailure::Pg(e)
    }
}

impl PgFailure {
    fn into_store_error(self, path: &Path, action: &'static str) -> StoreError {
        match self {
            PgFailure::Pg(e) => StoreError::io(path, action, describe(&e)),
            PgFailure::Refused(why) => StoreError::refused(path, action, why),
            PgFailure::Corrupt(detail) => StoreError::corrupt(path, detail),
        }
    }
}

/// The driver's error in full: its `Display` says only "db error" for what the server
/// answered, and the server's message (and SQLSTATE) is what the user needs.
pub(super) fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Opens a connection to `target`, TLS as its mode asks.
pub(super) fn connect(target: &Target, path: &Path) -> Result<Client, StoreError> {
    let action = "connect to the state store";
    let connector = tls::connector(target).map_err(|why| StoreError::refused(path, action, why))?;
    let client = match connector {
        Some(tls) => target.config.connect(tls),
        None => target.config.connect(NoTls),
    };
    let mut client = client.map_err(|e| StoreError::io(path, action, describe(&e)))?;
    // Commits wait for the WAL to reach the disk only where it matters: claims (see
    // `writes.rs`). A start or an end of a run lost with the last moments before a crash of
    // PostgreSQL itself is what SQLite's synchronous=NORMAL also risks; waiting for an fsync
    // on each would cost milliseconds per run.
    client
        .batch_execute("SET synchronous_commit = off")
        .map_err(|e| StoreError::io(path, action, describe(&e)))?;
    Ok(client)
}

impl Postgres {
    /// For `jobrun start` and `jobrun run`: connects, creates or migrates the schema, and
    /// registers this process in `schedulers` (heartbeats start, on a thread with its own
    /// connection, every [`HEARTBEAT_EVERY`]; see `lease.rs`). Several processes may hold one
    /// database at once: that is the point.
    pub fn open_scheduler(
        target: &Target,
        lease: std::time::Duration,
        _now: DateTime<Utc>,
    ) -> Result<Postgres, StoreError> {
        let path = PathBuf::from(target.redacted());
        let mut client = connect(target, &path)?;
        schema::inspect(&mut client, &path)?;
        schema::migrate(&mut client, &path)?;
        let host = host_name();
        let scheduler = lease::register(&mut client, &path, &host)?;
        let heartbeat = Heartbeat::start(target, &path, scheduler, lease)?;
        Ok(Postgres {
            conn: Mutex::new(Conn::new(client)),
            target: target.clone(),
            path,
            scheduler: Some(scheduler),
            host,
            heartbeat: Some(heartbeat),
            lease,
        })
    }

    /// For read-only commands: `Ok(None)` when the database has no jobrun schema yet; never
    /// creates or migrates.
    pub fn open_read(target: &Target) -> Result<Option<Postgres>, StoreError> {
        let path = PathBuf::from(target.redacted());
        let mut client = connect(target, &path)?;
        match schema::inspect(&mut client, &path)? {
            Found::Empty => Ok(None),
            Found::Version(v) if v < schema::CURRENT => Err(StoreError::refused(
                &path,
                "read the state store",
                format!(
                    "its schema is at version {v}; a `jobrun start` of this version upgrades it"
                ),
            )),
            Found::Version(_) => Ok(Some(Postgres {
                conn: Mutex::new(Conn::new(client)),
                target: target.clone(),
                path,
                scheduler: None,
                host: host_name(),
                heartbeat: None,
                lease: DEFAULT_LEASE,
            })),
        }
    }

    /// The redacted URL, as messages name the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the hash of the jobfile this scheduler runs, for the others to compare with.
    pub fn set_jobfile_hash(&self, hash: &str) -> Result<(), StoreError> {
        let Some(heartbeat) = &self.heartbeat else {
            return Ok(());
        };
        heartbeat
            .shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .jobfile_hash = hash.to_owned();
        let id = self.scheduler;
        self.write("record the jobfile's hash", |tx| {
            tx.execute(
                "UPDATE jobrun.schedulers SET jobfile_hash = $2 WHERE id = $1",
                &[&id, &hash],
            )?;
            Ok(())
        })
    }

    /// What the heartbeat thread found since the last call (dead schedulers settled, jobfiles
    /// that differ).
    pub fn take_notices(&self) -> Vec<Notice> {
        let Some(heartbeat) = &self.heartbeat else {
            return std::mem::take(&mut self.conn().notices);
        };
        let mut buf = [0u8; 64];
        while matches!((&heartbeat.bell).read(&mut buf), Ok(n) if n > 0) {}
        let mut notices = std::mem::take(&mut self.conn().notices);
        notices.extend(std::mem::take(
            &mut heartbeat
                .shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .notices,
        ));
        notices
    }

    /// Readable when notices wait, for the scheduler's `poll(2)`.
    pub fn notice_fd(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        use std::os::fd::AsFd;
        self.heartbeat.as_ref().map(|h| h.bell.as_fd())
    }

    /// As if killed: heartbeats stop and the row stays, for the others to find past its lease.
    #[cfg(test)]
    pub(super) fn die(mut self) {
        self.stop_heartbeat();
        self.scheduler = None;
    }

    /// Stops the heartbeat thread, woken at once by a notification on its stop channel (at
    /// the latest at its next beat when the database cannot be told).
    fn stop_heartbeat(&mut self) {
        let Some(heartbeat) = self.heartbeat.take() else {
            return;
        };
        heartbeat.ask_to_stop();
        if let Some(id) = self.scheduler
            && let Some(client) = self.conn().client.as_mut()
        {
            let channel = lease::stop_channel(id);
            let _ = client.execute("SELECT pg_notify($1, '')", &[&channel]);
        }
        heartbeat.stop();
    }

    /// Whether the scheduler has fires waiting for a slot (see [`Notice::SlotsFreed`]).
    pub fn set_waiting(&self, waiting: bool) {
        if let Some(heartbeat) = &self.heartbeat {
            let mut shared = heartbeat.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.waiting = waiting;
        }
    }

    /// This process's id among the schedulers sharing the store, if it registered.
    pub fn scheduler_id(&self) -> Option<i64> {
        self.scheduler
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        // A panic while the connection was in use leaves it as usable as the database allows.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `body` in one transaction and commits it; any failure rolls back. A broken
    /// connection begins an outage (`outage.rs`): the request fails as [`Unreachable`], and
    /// so do the next ones until a try at reconnecting succeeds.
    pub(super) fn write<T>(
        &self,
        action: &'static str,
        body: impl FnOnce(&mut Tx<'_>) -> Result<T, PgFailure>,
    ) -> Result<T, StoreError> {
        self.on_connection(action, |conn| transaction(conn, body))
    }

    /// One statement on its own (atomic without a transaction of jobrun's: one round trip
    /// instead of three), on the hot path of every run; returns the rows it changed.
    pub(super) fn single(
        &self,
        action: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        self.on_connection(action, |conn| single(conn, sql, params))
    }

    /// Runs `body` on the connection (made again first during an outage, when the backoff
    /// allows); a broken connection begins an outage.
    fn on_connection<T>(
        &self,
        action: &'static str,
        body: impl FnOnce(&mut Conn) -> Result<T, PgFailure>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        self.connected(&mut conn)
            .map_err(|u| StoreError::io(&self.path, action, u))?;
        let result = body(&mut conn);
        match result {
            Err(PgFailure::Pg(e))
                if outage::is_lost(&e, conn.client.as_ref().is_none_or(Client::is_closed)) =>
            {
                conn.lose(&describe(&e));
                Err(StoreError::io(
                    &self.path,
                    action,
                    Unreachable(describe(&e)),
                ))
            }
            other => other.map_err(|f| f.into_store_error(&self.path, action)),
        }
    }

    /// Makes sure there is a connection: the one there is, or (during an outage, when the
    /// backoff allows) a new one, on which the writes kept meanwhile are written first.
    fn connected(&self, conn: &mut Conn) -> Result<(), Unreachable> {
        if conn.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        if conn.client.take().is_some() {
            // Found closed (the server ended it while idle): reconnect at once.
            conn.lose("the server closed the connection");
            conn.outage = Some(outage::Outage::begin(
                Instant::now() - outage::FIRST_BACKOFF,
            ));
        }
        let now = Instant::now();
        let Some(current) = conn.outage.as_mut() else {
            return Err(Unreachable("no connection".to_owned()));
        };
        if !current.due(now) {
            return Err(Unreachable("waiting to try again".to_owned()));
        }
        match connect(&self.target, &self.path) {
            Ok(client) => {
                conn.client = Some(client);
                conn.statements.clear();
                let kept = std::mem::take(&mut conn.kept);
                let count = kept.len();
                for (i, write) in kept.iter().enumerate() {
                    match transaction(conn, |tx| writes::apply(tx, write)) {
                        // Refused: the run was settled meanwhile (its scheduler taken for
                        // dead); the store's word stands.
                        Ok(()) | Err(PgFailure::Refused(_) | PgFailure::Corrupt(_)) => {}
                        Err(PgFailure::Pg(e)) => {
                            conn.kept = kept[i..].to_vec();
                            conn.client = None;
                            if let Some(o) = conn.outage.as_mut() {
                                o.failed(now);
                            }
                            return Err(Unreachable(describe(&e)));
                        }
                    }
                }
                if let Some(ended) = conn.outage.take() {
                    conn.notices.push(outage::ended(&ended, now, count));
                }
                Ok(())
            }
            Err(e) => {
                current.failed(now);
                Err(Unreachable(e.to_string()))
            }
        }
    }

    /// Keeps a start or end of a run for when the database is back; false when too many are
    /// kept already (the write then fails like any other).
    fn keep(&self, write: outage::Kept) -> bool {
        self.keep_all(vec![write])
    }

    /// [`Postgres::keep`] for several, all or none.
    fn keep_all(&self, writes: Vec<outage::Kept>) -> bool {
        let mut conn = self.conn();
        if conn.kept.len() + writes.len() > outage::MAX_KEPT {
            return false;
        }
        conn.kept.extend(writes);
        true
    }

    /// Runs `body` on the connection, outside a transaction of jobrun's (a single statement
    /// is atomic on its own).
    pub(super) fn read<T>(
        &self,
        action: &'static str,
        body: impl FnOnce(&mut Tx<'_>) -> Result<T, PgFailure>,
    ) -> Result<T, StoreError> {
        // A read-only transaction: every read sees one snapshot, and costs the same round
        // trips as autocommit statements for the one-statement reads.
        self.write(action, body)
    }
}

/// One statement, prepared once per connection, outside a transaction.
fn single(
    conn: &mut Conn,
    sql: &'static str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, PgFailure> {
    let Conn {
        client, statements, ..
    } = conn;
    let Some(client) = client.as_mut() else {
        return Err(PgFailure::Refused("no connection".to_owned()));
    };
    let statement = match statements.get(sql) {
        Some(statement) => statement.clone(),
        None => {
            let statement = client.prepare(sql)?;
            statements.insert(sql, statement.clone());
            statement
        }
    };
    Ok(client.execute(&statement, params)?)
}

/// Runs `body` in one transaction on the connection and commits it.
fn transaction<T>(
    conn: &mut Conn,
    body: impl FnOnce(&mut Tx<'_>) -> Result<T, PgFailure>,
) -> Result<T, PgFailure> {
    let Conn {
        client, statements, ..
    } = conn;
    let Some(client) = client.as_mut() else {
        return Err(PgFailure::Refused("no connection".to_owned()));
    };
    let tx = client.transaction()?;
    let mut tx = Tx { tx, statements };
    let value = body(&mut tx)?;
    tx.tx.commit()?;
    Ok(value)
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Stop heartbeating first, then leave: a clean stop frees the lease at once, so that
        // nobody waits for it to expire.
        self.stop_heartbeat();
        if let Some(id) = self.scheduler {
            let mut conn = self.conn();
            if let Some(client) = conn.client.as_mut() {
                let _ = client.execute("DELETE FROM jobrun.schedulers WHERE id = $1", &[&id]);
            }
        }
    }
}

/// A transaction and the connection's prepared statements.
pub(super) struct Tx<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut HashMap<&'static str, Statement>,
}

impl Tx<'_> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.tx.execute(&statement, params)
    }

    pub(super) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.tx.query(&statement, params)
    }

    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.tx.query_opt(&statement, params)
    }

    /// A statement built at run time (not cached).
    pub(super) fn query_text(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        self.tx.query(sql, params)
    }
}

/// This host's name, as runs and boots record it: `$JOBRUN_HOST` is not read here (nothing
/// below the context reads the environment); the kernel's host name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}
