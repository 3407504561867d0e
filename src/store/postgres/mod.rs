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
//!   held across the network. A batch is inserted in (job, instant) order, so two hosts
//!   claiming the same batch take the index's locks in the same order and cannot deadlock.
//! - **Statements are prepared once per connection** and kept: a claim is then one round trip
//!   per row plus the transaction's begin and commit.
//! - **Times are the schedulers' clocks for fires, the database's for leases**: a fire's
//!   instant is what the jobfile says, whoever computes it; a lease must be judged by one
//!   clock, or a host whose clock runs ahead would bury the living.
//!
//! Layout: `target` (URL, password, TLS mode), `pgpass`, `tls`, `schema`, `writes`, `reads`,
//! `lease` (registration, heartbeats, settling the runs of the dead).

mod lease;
mod pgpass;
mod reads;
mod schema;
mod target;
pub mod testing;
mod tls;
mod writes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

pub use lease::{DEFAULT_LEASE, HEARTBEAT_EVERY};
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

/// A connection and the statements prepared on it.
pub(super) struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
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
            PgFailure::Pg(e) => StoreError::io(path, action, e),
            PgFailure::Refused(why) => StoreError::refused(path, action, why),
            PgFailure::Corrupt(detail) => StoreError::corrupt(path, detail),
        }
    }
}

/// Opens a connection to `target`, TLS as its mode asks.
pub(super) fn connect(target: &Target, path: &Path) -> Result<Client, StoreError> {
    let action = "connect to the state store";
    let connector = tls::connector(target).map_err(|why| StoreError::refused(path, action, why))?;
    let client = match connector {
        Some(tls) => target.config.connect(tls),
        None => target.config.connect(NoTls),
    };
    client.map_err(|e| StoreError::io(path, action, e))
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
            conn: Mutex::new(Conn {
                client,
                statements: HashMap::new(),
            }),
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
                conn: Mutex::new(Conn {
                    client,
                    statements: HashMap::new(),
                }),
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

    /// This process's id among the schedulers sharing the store, if it registered.
    pub fn scheduler_id(&self) -> Option<i64> {
        self.scheduler
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        // A panic while the connection was in use leaves it as usable as the database allows.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `body` in one transaction and commits it; any failure rolls back.
    pub(super) fn write<T>(
        &self,
        action: &'static str,
        body: impl FnOnce(&mut Tx<'_>) -> Result<T, PgFailure>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let Conn { client, statements } = &mut *conn;
        let result = (|| {
            let tx = client.transaction()?;
            let mut tx = Tx { tx, statements };
            let value = body(&mut tx)?;
            tx.tx.commit()?;
            Ok(value)
        })();
        result.map_err(|f: PgFailure| f.into_store_error(&self.path, action))
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

impl Drop for Postgres {
    fn drop(&mut self) {
        // Stop heartbeating first, then leave: a clean stop frees the lease at once, so that
        // nobody waits for it to expire.
        if let Some(heartbeat) = self.heartbeat.take() {
            heartbeat.stop();
        }
        if let Some(id) = self.scheduler {
            let mut conn = self.conn();
            let _ = conn
                .client
                .execute("DELETE FROM jobrun.schedulers WHERE id = $1", &[&id]);
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
