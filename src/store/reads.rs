//! What the commands and the scheduler read back: job states, unfinished runs, history and
//! each job's last outcome. Every query is answered from an index.

use std::collections::HashMap;

use rusqlite::{Connection, Params};

use super::codec::RawRun;
use super::error::Failure;
use super::{JobState, PlannedRetry, RunRecord, Sqlite, StoreError};

/// The distinct job names in `runs`, found by hopping through the `runs_by_job` index (one
/// lookup per job) instead of reading every row: `list` with 10,000 jobs and millions of runs
/// stays fast. SQLite does not do this by itself without statistics.
pub(super) const JOB_NAMES: &str = "
    WITH RECURSIVE names(name) AS (
        SELECT min(job) FROM runs
        UNION ALL
        SELECT (SELECT min(job) FROM runs WHERE job > names.name)
        FROM names WHERE names.name IS NOT NULL
    )";

impl Sqlite {
    /// Every job's scheduler state, by name.
    pub fn job_states(&self) -> Result<HashMap<String, JobState>, StoreError> {
        self.read("read the jobs' states", |conn| {
            let mut stmt = conn.prepare_cached("SELECT name, schedule, last_fire FROM jobs")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                ))
            })?;
            let mut states = HashMap::new();
            for row in rows {
                let (name, schedule, last_fire) = row?;
                let last_fire = match last_fire {
                    None => None,
                    Some(us) => {
                        Some(chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| {
                            Failure::Corrupt(format!("job {name:?} has a last fire out of range"))
                        })?)
                    }
                };
                states.insert(
                    name,
                    JobState {
                        last_fire,
                        schedule,
                    },
                );
            }
            Ok(states)
        })
    }

    /// Runs left claimed or running by an earlier session (a scheduler that died), oldest
    /// first. On an exclusive Store, this Store's own runs are not included; on a read-only
    /// one, every claimed or running run is (some may belong to the live scheduler).
    pub fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError> {
        let before = self.own_runs_from.unwrap_or(i64::MAX);
        let columns = super::codec::run_columns(self.version);
        self.read("find unfinished runs", |conn| {
            runs(
                conn,
                &format!(
                    "SELECT {columns} FROM runs
                     WHERE state IN ('claimed', 'running') AND id < ?1 ORDER BY id"
                ),
                [before],
            )
        })
    }

    /// Newest first (in the order recorded), at most `limit`, optionally one job's; rows of
    /// all outcomes.
    pub fn history(&self, job: Option<&str>, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let columns = super::codec::run_columns(self.version);
        self.read("read the history", |conn| match job {
            Some(job) => runs(
                conn,
                &format!("SELECT {columns} FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT ?2"),
                rusqlite::params![job, limit],
            ),
            None => runs(
                conn,
                &format!("SELECT {columns} FROM runs ORDER BY id DESC LIMIT ?1"),
                [limit],
            ),
        })
    }

    /// For `jobrun list`: each job's newest row that is not Claimed (its last outcome, which
    /// may be Running).
    pub fn last_outcomes(&self) -> Result<HashMap<String, RunRecord>, StoreError> {
        let columns = super::codec::run_columns(self.version);
        self.read("read the last outcomes", |conn| {
            let records = runs(
                conn,
                &format!(
                    "{JOB_NAMES}
                     SELECT {columns} FROM names JOIN runs ON runs.id = (
                         SELECT id FROM runs AS newest
                         WHERE newest.job = names.name AND newest.state <> 'claimed'
                         ORDER BY newest.id DESC LIMIT 1)"
                ),
                [],
            )?;
            Ok(records.into_iter().map(|r| (r.job.clone(), r)).collect())
        })
    }

    /// The retries planned and not yet started, for the scheduler to put back at its start
    /// (none in a store from before retries).
    pub fn pending_retries(&self) -> Result<Vec<PlannedRetry>, StoreError> {
        if self.version < 3 {
            return Ok(Vec::new());
        }
        self.read("read the planned retries", |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT job, scheduled, attempt, attempts, due FROM retries ORDER BY due, job",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            let mut retries = Vec::new();
            for row in rows {
                let (job, scheduled, attempt, attempts, due) = row?;
                let time = |us: i64| {
                    chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| {
                        Failure::Corrupt(format!("job {job:?} has a retry out of range"))
                    })
                };
                retries.push(PlannedRetry {
                    scheduled: time(scheduled)?,
                    due: time(due)?,
                    job,
                    attempt,
                    attempts,
                });
            }
            Ok(retries)
        })
    }

    /// Runs `body` and attaches the store's path and `action` to any failure.
    pub(super) fn read<T>(
        &self,
        action: &'static str,
        body: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        body(&self.conn).map_err(|f| f.into_store_error(&self.path, action))
    }
}

/// The runs a query selecting a store's run columns (`codec::run_columns`) returns, each checked by `codec`.
pub(super) fn runs(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<RunRecord>, Failure> {
    let mut stmt = conn.prepare_cached(sql)?;
    let raw = stmt
        .query_map(params, RawRun::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raw.into_iter()
        .map(|r| r.decode().map_err(Failure::Corrupt))
        .collect()
}
