//! What the commands and the scheduler read back from the PostgreSQL store, and the writes
//! of the scheduling policies and upkeep (boots, chains, pruning, checking): the same answers
//! as the SQLite store's (`store/reads.rs`, `policies.rs`, `upkeep.rs`).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use super::super::codec::{RUN_COLUMNS, RawRun, micros};
use super::super::{Boot, JobState, LiveScheduler, PlannedRetry, Retention, RunRecord, StoreError};
use super::{PgFailure, Postgres, Tx, schema};

/// A statement selecting runs, built once from the shared column list.
fn runs_sql(rest: &str) -> String {
    format!("SELECT {RUN_COLUMNS} FROM jobrun.runs {rest}")
}

static UNFINISHED: LazyLock<String> = LazyLock::new(|| {
    // For a scheduler ($1): runs in flight whose scheduler is gone without settling them (a
    // live one's are its own; a dead one's are settled with its row, by `lease.rs`). Read-only
    // ($1 NULL): every run in flight.
    runs_sql(
        "WHERE state IN ('claimed', 'running') AND ($1::bigint IS NULL OR (
             scheduler IS DISTINCT FROM $1 AND NOT EXISTS (
                 SELECT 1 FROM jobrun.schedulers WHERE schedulers.id = runs.scheduler)))
         ORDER BY id",
    )
});
static HISTORY_ALL: LazyLock<String> = LazyLock::new(|| runs_sql("ORDER BY id DESC LIMIT $1"));
static HISTORY_JOB: LazyLock<String> =
    LazyLock::new(|| runs_sql("WHERE job = $1 ORDER BY id DESC LIMIT $2"));
static LAST_OUTCOMES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT DISTINCT ON (job) {RUN_COLUMNS} FROM jobrun.runs WHERE state <> 'claimed'
         ORDER BY job, id DESC"
    )
});
static ENDED_AFTER: LazyLock<String> = LazyLock::new(|| {
    runs_sql(
        "WHERE job = $1 AND NOT manual AND state IN ('exited', 'signaled', 'spawn_failed')
         AND ended > $2
         AND NOT EXISTS (SELECT 1 FROM jobrun.runs AS later
             WHERE later.job = runs.job AND later.scheduled = runs.scheduled
             AND NOT later.manual AND later.attempt > runs.attempt)
         AND NOT EXISTS (SELECT 1 FROM jobrun.retries
             WHERE retries.job = runs.job AND retries.scheduled = runs.scheduled)",
    )
});
static ALL_RUNS: LazyLock<String> = LazyLock::new(|| runs_sql("ORDER BY id"));

fn decode(rows: Vec<postgres::Row>) -> Result<Vec<RunRecord>, PgFailure> {
    rows.iter()
        .map(|row| {
            RawRun::from_pg_row(row)
                .map_err(|e| PgFailure::Corrupt(format!("a row cannot be read: {e}")))?
                .decode()
                .map_err(PgFailure::Corrupt)
        })
        .collect()
}

fn time(us: i64, what: &str) -> Result<DateTime<Utc>, PgFailure> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| PgFailure::Corrupt(format!("{what} is out of range")))
}

impl Postgres {
    pub(in crate::store) fn job_states(&self) -> Result<HashMap<String, JobState>, StoreError> {
        self.read("read the jobs' states", |tx| {
            let mut states = HashMap::new();
            for row in tx.query("SELECT name, schedule, last_fire FROM jobrun.jobs", &[])? {
                let (name, schedule, last): (String, String, Option<i64>) =
                    (row.get(0), row.get(1), row.get(2));
                let last_fire = match last {
                    Some(us) => Some(time(us, &format!("job {name:?}'s last fire"))?),
                    None => None,
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

    /// Runs in flight that no live scheduler owns (for a scheduler: those a dead one left);
    /// read-only, every run in flight.
    pub(in crate::store) fn unfinished(&self) -> Result<Vec<RunRecord>, StoreError> {
        let me = self.scheduler;
        self.read("find unfinished runs", |tx| {
            decode(tx.query(UNFINISHED.as_str(), &[&me])?)
        })
    }

    pub(in crate::store) fn history(
        &self,
        job: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read("read the history", |tx| {
            decode(match job {
                Some(job) => tx.query(HISTORY_JOB.as_str(), &[&job, &limit])?,
                None => tx.query(HISTORY_ALL.as_str(), &[&limit])?,
            })
        })
    }

    pub(in crate::store) fn last_outcomes(&self) -> Result<HashMap<String, RunRecord>, StoreError> {
        self.read("read the last outcomes", |tx| {
            let records = decode(tx.query(LAST_OUTCOMES.as_str(), &[])?)?;
            Ok(records.into_iter().map(|r| (r.job.clone(), r)).collect())
        })
    }

    pub(in crate::store) fn pending_retries(&self) -> Result<Vec<PlannedRetry>, StoreError> {
        self.read("read the planned retries", |tx| {
            let rows = tx.query(
                "SELECT job, scheduled, attempt, attempts, due FROM jobrun.retries
                 ORDER BY due, job",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let job: String = r.get(0);
                    let what = format!("job {job:?}'s retry");
                    let count = |i: usize| {
                        u32::try_from(r.get::<_, i64>(i))
                            .map_err(|_| PgFailure::Corrupt(format!("{what} is out of range")))
                    };
                    Ok(PlannedRetry {
                        scheduled: time(r.get(1), &what)?,
                        due: time(r.get(4), &what)?,
                        attempt: count(2)?,
                        attempts: count(3)?,
                        job,
                    })
                })
                .collect()
        })
    }

    /// The schedulers whose lease is current, oldest first.
    pub(in crate::store) fn schedulers(&self) -> Result<Vec<LiveScheduler>, StoreError> {
        let lease = i64::try_from(self.lease.as_micros()).unwrap_or(i64::MAX);
        self.read("read the live schedulers", |tx| {
            let rows = tx.query(
                "SELECT host, pid, jobfile_hash FROM jobrun.schedulers
                 WHERE heartbeat >= clock_timestamp() - $1::bigint * interval '1 microsecond'
                 ORDER BY id",
                &[&lease],
            )?;
            Ok(rows
                .iter()
                .map(|r| LiveScheduler {
                    host: r.get(0),
                    pid: u32::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                    jobfile_hash: r.get(2),
                })
                .collect())
        })
    }

    /// As the SQLite store's, per host: `@reboot` is once per boot of each host.
    pub(in crate::store) fn note_boot(
        &self,
        boot_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Boot, StoreError> {
        let host = self.host.clone();
        self.write("record the boot", |tx| {
            let known = tx.query_opt(
                "SELECT boot_id, since FROM jobrun.boots WHERE host = $1 FOR UPDATE",
                &[&host],
            )?;
            if let Some(row) = known {
                let (id, since): (String, i64) = (row.get(0), row.get(1));
                if id == boot_id {
                    let at = time(since, &format!("boot {id:?}"))?;
                    return Ok(Boot { at, new: false });
                }
            }
            tx.execute(
                "INSERT INTO jobrun.boots (host, boot_id, since) VALUES ($1, $2, $3)
                 ON CONFLICT (host) DO UPDATE SET boot_id = excluded.boot_id,
                     since = excluded.since",
                &[&host, &boot_id, &micros(now)],
            )?;
            Ok(Boot { at: now, new: true })
        })
    }

    pub(in crate::store) fn start_chains(
        &self,
        jobs: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.write("record where chains start", |tx| {
            for job in jobs {
                tx.execute(
                    "UPDATE jobrun.jobs SET last_fire = $2 WHERE name = $1 AND last_fire IS NULL",
                    &[job, &micros(now)],
                )?;
            }
            Ok(())
        })
    }

    pub(in crate::store) fn ended_after(
        &self,
        jobs: &[&str],
        after: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.read("read the runs chained jobs follow", |tx| {
            let mut ended = Vec::new();
            for job in jobs {
                ended.extend(decode(
                    tx.query(ENDED_AFTER.as_str(), &[job, &micros(after)])?,
                )?);
            }
            ended.sort_by_key(|r| (r.ended, r.id));
            Ok(ended)
        })
    }

    pub(in crate::store) fn prune(
        &self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.write("prune the history", |tx| {
            let mut deleted = 0;
            if let Some(cutoff) = retention
                .max_age
                .and_then(|age| now.checked_sub_signed(age))
            {
                deleted += tx.execute(
                    "DELETE FROM jobrun.runs WHERE recorded_at < $1
                     AND state NOT IN ('claimed', 'running')",
                    &[&micros(cutoff)],
                )?;
            }
            if let Some(keep) = retention.max_runs_per_job {
                let keep = i64::from(keep);
                deleted += tx.execute(
                    "DELETE FROM jobrun.runs WHERE id IN (
                         SELECT id FROM (
                             SELECT id, state, row_number() OVER (PARTITION BY job ORDER BY id DESC) AS n
                             FROM jobrun.runs) AS ranked
                         WHERE n > $1 AND state NOT IN ('claimed', 'running'))",
                    &[&keep],
                )?;
            }
            Ok(deleted)
        })
    }

    /// jobrun's own rules over the store: its indexes exist, no two scheduled rows for one
    /// (job, fire, attempt), every row consistent with its outcome.
    pub(in crate::store) fn check(&self) -> Result<Vec<String>, StoreError> {
        self.read("check the state store", check)
    }
}

/// More inconsistent rows than this are summarised.
const MAX_ROW_PROBLEMS: usize = 100;

fn check(tx: &mut Tx<'_>) -> Result<Vec<String>, PgFailure> {
    let mut problems = Vec::new();
    for index in schema::INDEXES {
        let name = format!("{}.{index}", schema::SCHEMA);
        let present: bool = tx
            .query_text("SELECT to_regclass($1) IS NOT NULL", &[&name])?
            .first()
            .is_some_and(|r| r.get(0));
        if !present {
            problems.push(format!("the index {index} is missing"));
        }
    }
    let duplicates = tx.query(
        "SELECT job, scheduled, count(*) FROM jobrun.runs WHERE NOT manual
         GROUP BY job, scheduled, attempt HAVING count(*) > 1 ORDER BY job, scheduled",
        &[],
    )?;
    for row in duplicates {
        let (job, scheduled, count): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
        let when = DateTime::from_timestamp_micros(scheduled)
            .map_or_else(|| format!("{scheduled} µs"), |t| t.to_rfc3339());
        problems.push(format!(
            "job {job:?} has {count} rows for its scheduled fire at {when} (at most one is \
             allowed)"
        ));
    }
    let mut bad_rows = 0;
    for row in tx.query(ALL_RUNS.as_str(), &[])? {
        let problem = match RawRun::from_pg_row(&row) {
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
    Ok(problems)
}
