//! Keeping the store small and checking that it is sound.
//!
//! Pruning never deletes a claimed or running row: those are runs in flight (or left by a dead
//! scheduler, for the next start to mark as interrupted). Deleted rows' pages are reused by
//! later inserts; the file does not shrink, which is fine for a store that is bounded anyway.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::codec::{RawRun, micros};
use super::error::Failure;
use super::reads::JOB_NAMES;
use super::schema::{INDEXES, has_object};
use super::{Retention, Sqlite, StoreError};

/// Problems of SQLite's own check quoted in the error: enough to tell what is damaged.
const QUOTED_PROBLEMS: usize = 3;

/// SQLite's `PRAGMA quick_check` on the store, for `jobrun start` and `jobrun run` before they
/// write: a damaged file is refused as `history` refuses it, rather than written into, or
/// logged about every second for ever (issue 12). The quick check reads every page and checks
/// each b-tree's structure, records and free pages, but not that indexes agree with their
/// tables, which costs a lookup per row and index. Measured at 100,000 runs (the default
/// retention of 1000 a job, for 100 jobs; 143 MB with 1 KiB output tails), release build, two
/// busy cores: quick_check 0.27-0.45 s, integrity_check 0.61-0.65 s, so the quick one, at
/// every start; `check()` runs the full one (`cargo test --release --lib
/// store::tests::integrity -- --ignored --nocapture`).
pub(super) fn check_sound(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
) -> Result<(), StoreError> {
    let fail = |e| StoreError::sql(path, "check the state store", e);
    let mut statement = conn.prepare("PRAGMA quick_check").map_err(fail)?;
    let problems: Vec<String> = statement
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(fail)?
        .collect::<Result<_, _>>()
        .map_err(fail)?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    let mut detail = format!(
        "SQLite's quick_check found it damaged: {}",
        problems[..problems.len().min(QUOTED_PROBLEMS)].join("; ")
    );
    if problems.len() > QUOTED_PROBLEMS {
        detail.push_str(&format!(
            " (and {} more problems)",
            problems.len() - QUOTED_PROBLEMS
        ));
    }
    Err(StoreError::corrupt(path, detail))
}

/// More inconsistent rows than this are summarised: the user needs to know the store is
/// damaged, not to read a million lines.
const MAX_ROW_PROBLEMS: usize = 100;

impl Sqlite {
    /// Deletes runs beyond the retention (older than `max_age` by their `recorded_at`, or
    /// beyond the newest `max_runs_per_job` of their job), never claimed or running ones, in
    /// one transaction. Returns how many were deleted.
    pub fn prune(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<u64, StoreError> {
        // Rows deleted are not known in advance; the thread is woken as for one large write.
        self.write("prune the history", usize::MAX, |tx| {
            let mut deleted = 0;
            if let Some(cutoff) = retention
                .max_age
                .and_then(|age| now.checked_sub_signed(age))
            {
                deleted += tx
                    .prepare_cached(
                        "DELETE FROM runs WHERE recorded_at < ?1
                         AND state NOT IN ('claimed', 'running')",
                    )?
                    .execute([micros(cutoff)])?;
            }
            if let Some(keep) = retention.max_runs_per_job {
                let jobs = tx
                    .prepare_cached(&format!(
                        "{JOB_NAMES} SELECT name FROM names WHERE name IS NOT NULL"
                    ))?
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                // The (keep + 1)-th newest row of the job and all older ones go.
                let mut trim = tx.prepare_cached(
                    "DELETE FROM runs WHERE job = ?1 AND state NOT IN ('claimed', 'running')
                     AND id <= (SELECT id FROM runs WHERE job = ?1 ORDER BY id DESC
                                LIMIT 1 OFFSET ?2)",
                )?;
                for job in &jobs {
                    deleted += trim.execute(params![job, keep])?;
                }
            }
            Ok(deleted as u64)
        })
    }

    /// `PRAGMA integrity_check` plus jobrun's own rules: its indexes exist, no two scheduled
    /// rows for one (job, fire), every row consistent with its outcome. Returns the problems
    /// found, one line each; empty = healthy. Reads every row: for `jobrun check`, not for the
    /// scheduler's loop.
    pub fn check(&self) -> Result<Vec<String>, StoreError> {
        let columns = super::codec::run_columns(self.version);
        let version = self.version;
        self.read("check the state store", |conn| {
            let mut problems = Vec::new();

            let mut integrity = conn.prepare("PRAGMA integrity_check")?;
            for line in integrity.query_map([], |r| r.get::<_, String>(0))? {
                let line = line?;
                if line != "ok" {
                    problems.push(format!("SQLite integrity check: {line}"));
                }
            }

            for index in INDEXES {
                if !has_object(conn, "index", index)? {
                    problems.push(format!("the index {index} is missing"));
                }
            }

            // Before version 3 a fire had one attempt.
            let fire = if version >= 3 {
                "job, scheduled, attempt"
            } else {
                "job, scheduled"
            };
            let mut duplicates = conn.prepare(&format!(
                "SELECT job, scheduled, count(*) FROM runs WHERE manual = 0
                 GROUP BY {fire} HAVING count(*) > 1 ORDER BY job, scheduled"
            ))?;
            for row in duplicates.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })? {
                let (job, scheduled, count) = row?;
                let when = DateTime::from_timestamp_micros(scheduled)
                    .map_or_else(|| format!("{scheduled} µs"), |t| t.to_rfc3339());
                problems.push(format!(
                    "job {job:?} has {count} rows for its scheduled fire at {when} (at most one \
                     is allowed)"
                ));
            }

            let mut rows = conn.prepare(&format!("SELECT {columns} FROM runs ORDER BY id"))?;
            let mut bad_rows = 0;
            for raw in rows.query_map([], RawRun::from_row)? {
                let problem = match raw {
                    Ok(raw) => raw.decode().err(),
                    Err(e) => Some(format!("a row cannot be read: {e}")),
                };
                if let Some(problem) = problem {
                    bad_rows += 1;
                    if bad_rows <= MAX_ROW_PROBLEMS {
                        problems.push(problem);
                    }
                }
            }
            if bad_rows > MAX_ROW_PROBLEMS {
                problems.push(format!(
                    "... and {} more inconsistent rows",
                    bad_rows - MAX_ROW_PROBLEMS
                ));
            }
            Ok::<_, Failure>(problems)
        })
    }
}
