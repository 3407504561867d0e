//! The store's tables, how a file is recognised as a jobrun store, and the migration steps.
//!
//! A file is a jobrun store when SQLite's header carries jobrun's `application_id`; its schema
//! version is `PRAGMA user_version`. Migrations are steps: `MIGRATIONS[n]` takes a store from
//! version `n` to `n + 1`, all pending steps run in one transaction, and a released step is never
//! edited (stores in the field have already run it), so a change of schema is a new step.
//!
//! A row of `runs` is one fire or manual run as jobrun handled it: claimed before its process
//! starts, then running, then ended; or, for a fire that never got a process, a decision
//! (missed, coalesced, skipped). Its `state` says which, and only that state's columns are set
//! (`codec` checks this on every read). `jobs` holds what the scheduler needs to resume: the
//! newest fire handled and the schedule's fingerprint. `holder` names the process that holds
//! the store, for the "in use" message.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// "jobr": marks the file as a jobrun store in SQLite's header (offset 68), so jobrun can tell
/// its own file from any other SQLite database before reading a table.
pub(super) const APPLICATION_ID: i32 = 0x6a6f_6272;

/// Version 1: the first schema.
///
/// Decisions not made here, and why:
/// - `state` has no CHECK list, because SQLite cannot change a CHECK without rebuilding the
///   table; `codec` validates states and their columns on every read, `check()` on demand.
/// - `id` is AUTOINCREMENT so that an id is never reused after pruning: it is also the run's
///   `JOBRUN_RUN_ID`, which may appear in logs and job output.
/// - Times are INTEGER microseconds since the Unix epoch, UTC: exact, compact and ordered.
const V1: &str = "
CREATE TABLE holder (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    pid   INTEGER NOT NULL,
    since INTEGER NOT NULL
);
CREATE TABLE jobs (
    name      TEXT NOT NULL PRIMARY KEY,
    schedule  TEXT NOT NULL,
    last_fire INTEGER
) WITHOUT ROWID;
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job         TEXT NOT NULL,
    scheduled   INTEGER NOT NULL,
    manual      INTEGER NOT NULL CHECK (manual IN (0, 1)),
    recorded_at INTEGER NOT NULL,
    started     INTEGER,
    ended       INTEGER,
    timed_out   INTEGER NOT NULL DEFAULT 0 CHECK (timed_out IN (0, 1)),
    state       TEXT NOT NULL,
    pid         INTEGER,
    exit_code   INTEGER,
    signal      INTEGER,
    message     TEXT,
    late_by_ms  INTEGER,
    fires       INTEGER,
    first_fire  INTEGER,
    into_fire   INTEGER,
    output_tail TEXT NOT NULL DEFAULT ''
);
-- A scheduled fire is handled once: a second claim or decision for it is refused.
CREATE UNIQUE INDEX runs_one_per_fire ON runs (job, scheduled) WHERE manual = 0;
-- One job's history, newest first (the rowid orders entries within a job).
CREATE INDEX runs_by_job ON runs (job);
-- Pruning by age without reading every row.
CREATE INDEX runs_by_age ON runs (recorded_at);
-- Finding what a dead scheduler left behind: tiny, as few runs are ever in flight.
CREATE INDEX runs_unfinished ON runs (id) WHERE state IN ('claimed', 'running');
";

/// How version 1 judged a run, as an SQL expression over its row: a timeout, a signal or a
/// non-zero exit code is a failure.
macro_rules! failed_by_v1 {
    () => {
        "CASE WHEN state NOT IN ('exited', 'signaled') THEN NULL \
              WHEN timed_out = 1 THEN 'timeout' \
              WHEN state = 'signaled' OR exit_code <> 0 THEN 'status' END"
    };
}
pub(super) use failed_by_v1;

/// Version 2 (issue 10): why an ended run counts as failed, by its job's rules (`failed_by`:
/// NULL for a success and for every outcome but exited and signaled). Rows of version 1 were
/// judged by the only rule there was, which `failed_by_v1!` spells out.
const V2: &str = concat!(
    "ALTER TABLE runs ADD COLUMN failed_by TEXT;\n",
    "UPDATE runs SET failed_by = ",
    failed_by_v1!(),
    ";"
);

/// Version 3 (issue 10): retries. A fire may now have several attempts, each a row with its
/// number (`attempt`, 1 for the first) and how many the job allowed when it was claimed
/// (`attempts`), so a fire is handled once per attempt; and a retry planned but not yet
/// started is kept in `retries` (one per fire), so that it survives a restart.
const V3: &str = "
ALTER TABLE runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
DROP INDEX runs_one_per_fire;
CREATE UNIQUE INDEX runs_one_per_fire ON runs (job, scheduled, attempt) WHERE manual = 0;
CREATE TABLE retries (
    job       TEXT NOT NULL,
    scheduled INTEGER NOT NULL,
    attempt   INTEGER NOT NULL,
    attempts  INTEGER NOT NULL,
    due       INTEGER NOT NULL,
    PRIMARY KEY (job, scheduled)
) WITHOUT ROWID;
";

/// Version 4 (issue 11): the boot whose `@reboot` fires were handled, and which run replaced
/// a run that `overlap = "replace"` ended.
///
/// - `boot` holds one row: the kernel's boot id jobrun last started under, and when it first
///   saw that boot (the instant of the boot's `@reboot` fires, so that a restart within the
///   boot finds them already handled in `runs`).
/// - `runs.replaced_by` is set only on a run that ended (exited or signaled); a column added
///   to the table rather than a table of its own, since every history row may want it.
const V4: &str = "
CREATE TABLE boot (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    boot_id TEXT NOT NULL,
    since   INTEGER NOT NULL
);
ALTER TABLE runs ADD COLUMN replaced_by INTEGER;
";

/// Every step, oldest first; the store's current version is their number.
pub(super) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4];

/// The schema version this jobrun writes.
pub(super) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// The tables a current store must have; a store lacking one was damaged or hand-edited.
const TABLES: &[&str] = &["holder", "jobs", "runs", "retries", "boot"];

/// The indexes of a current store; `check()` reports a missing one (the store still works,
/// but without `runs_one_per_fire` a fire could be recorded twice).
pub(super) const INDEXES: &[&str] = &[
    "runs_one_per_fire",
    "runs_by_job",
    "runs_by_age",
    "runs_unfinished",
];

/// What an opened file turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// No tables and no marks: a new file, or one a scheduler is creating right now.
    Empty,
    /// A jobrun store at this version (1..=CURRENT).
    Version(i64),
}

/// Recognises the file without writing to it. A foreign database or a damaged header is
/// `Corrupt`; a store from a newer jobrun is `TooNew`.
pub(super) fn inspect(conn: &Connection, path: &std::path::Path) -> Result<Found, StoreError> {
    let read = |e| StoreError::sql(path, "read the state store", e);
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(read)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(read)?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(read)?;
    if app_id != APPLICATION_ID {
        if app_id == 0 && version == 0 && objects == 0 {
            return Ok(Found::Empty);
        }
        return Err(StoreError::corrupt(
            path,
            format!(
                "it is an SQLite database but not a jobrun state store (application id \
                 {app_id:#x}, user version {version}, {objects} schema objects)"
            ),
        ));
    }
    if version > CURRENT {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: CURRENT,
        });
    }
    if version < 1 {
        return Err(StoreError::corrupt(
            path,
            format!("it is marked as a jobrun store but has schema version {version}"),
        ));
    }
    if version == CURRENT {
        for table in TABLES {
            if !has_object(conn, "table", table).map_err(read)? {
                return Err(StoreError::corrupt(
                    path,
                    format!("its table {table:?} is missing"),
                ));
            }
        }
    }
    Ok(Found::Version(version))
}

/// Whether the schema has a table or index (`kind`) of this name.
pub(super) fn has_object(conn: &Connection, kind: &str, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2)",
        [kind, name],
        |r| r.get(0),
    )
}

/// Brings the store from `from` to `CURRENT` in one transaction, marking it as jobrun's on the
/// way. Only the holder of the store's lock calls this, so no other writer can interleave.
pub(super) fn migrate(
    conn: &mut Connection,
    path: &std::path::Path,
    from: i64,
) -> Result<(), StoreError> {
    let fail = |e| StoreError::sql(path, "create or upgrade the state store's tables", e);
    let first = usize::try_from(from).unwrap_or(0);
    let Some(steps) = MIGRATIONS.get(first..).filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    for step in steps {
        tx.execute_batch(step).map_err(fail)?;
    }
    // PRAGMAs take no parameters; both values are constants.
    tx.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {CURRENT};"
    ))
    .map_err(fail)?;
    tx.commit().map_err(fail)
}
