//! Everything the scheduler records: schedules, claims and decisions (which advance a job's
//! `last_fire`), and a run's life from claimed to ended, one step at a time (`batch.rs`
//! writes several in one transaction).
//!
//! A run moves claimed → running → exited/signaled, or claimed → spawn_failed, or (found by the
//! next scheduler) claimed/running → interrupted. A write that does not fit, such as finishing a
//! run that never started, is refused rather than applied: it would mean the scheduler lost
//! track of a run. The pid is kept only while the run is running (the outcome of an ended run
//! has none), so every row carries exactly its outcome's columns.

use chrono::{DateTime, Utc};
use rusqlite::{
    Connection, OptionalExtension, Params, Transaction, TransactionBehavior, ffi, params,
};

#[cfg(doc)]
use super::Store;
use super::codec::{OutcomeColumns, micros, missed_problem, tail};
use super::error::Failure;
use super::{Claim, Decision, FailedBy, Hold, Outcome, PlannedRetry, Sqlite, StoreError};

/// Moves a job's `last_fire` forward to `?2`, never back. A job that has no row yet gets one
/// with an empty schedule fingerprint (no schedule recorded).
const ADVANCE_LAST_FIRE: &str = "
    INSERT INTO jobs (name, schedule, last_fire) VALUES (?1, '', ?2)
    ON CONFLICT (name) DO UPDATE SET last_fire = excluded.last_fire
    WHERE jobs.last_fire IS NULL OR jobs.last_fire < excluded.last_fire";

/// Ends a running run: `?1` id, then state, exit code, signal, end, timed out, tail, failure.
const FINISH: &str = "
    UPDATE runs SET state = ?2, exit_code = ?3, signal = ?4, ended = ?5, timed_out = ?6,
                    output_tail = ?7, pid = NULL, failed_by = ?8
    WHERE id = ?1 AND state = 'running'";

/// Starts a claimed run: `?1` id, `?2` pid, `?3` start.
pub(super) const START: &str = "UPDATE runs SET state = 'running', pid = ?2, started = ?3
                     WHERE id = ?1 AND state = 'claimed'";

impl Sqlite {
    /// Upserts the fingerprint of each job (one transaction); leaves `last_fire` as it is
    /// unless the fingerprint changed, in which case `last_fire` is cleared (the new schedule
    /// starts from now). Jobs not listed are left alone, history included.
    pub fn set_schedules(&mut self, jobs: &[(&str, &str)]) -> Result<(), StoreError> {
        self.write("record the jobs' schedules", jobs.len(), |tx| {
            // Unchanged rows are not rewritten, so a restart with 10,000 jobs writes nothing.
            let mut upsert = tx.prepare_cached(
                "INSERT INTO jobs (name, schedule, last_fire) VALUES (?1, ?2, NULL)
                 ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule, last_fire = NULL
                 WHERE jobs.schedule <> excluded.schedule",
            )?;
            for (job, schedule) in jobs {
                upsert.execute(params![job, schedule])?;
            }
            Ok(())
        })
    }

    /// Forgets the schedule and last fire of jobs the jobfile no longer has (one transaction),
    /// so that a job added again later under the same name starts afresh rather than catching
    /// up from where the old one stopped. Their history stays.
    pub fn forget_jobs(&mut self, names: &[&str]) -> Result<(), StoreError> {
        if names.is_empty() {
            return Ok(());
        }
        self.write("forget removed jobs", names.len(), |tx| {
            let mut delete = tx.prepare_cached("DELETE FROM jobs WHERE name = ?1")?;
            let mut retries = tx.prepare_cached("DELETE FROM retries WHERE job = ?1")?;
            for name in names {
                delete.execute([name])?;
                retries.execute([name])?;
            }
            Ok(())
        })
    }

    /// One transaction: inserts a Claimed row per claim and advances each job's `last_fire`
    /// (never backwards; manual claims do not touch it). Returns the row ids in order. A
    /// scheduled fire can be claimed or decided once per job: a second time is refused
    /// (`Io`, action "claim a run") and the whole batch is rolled back.
    pub fn claim(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let held = self.claim_rows("claim a run", claims, now)?;
        Ok(held.into_iter().map(|h| h.id).collect())
    }

    /// [`Store::claim`] for fires not due yet, which the scheduler claims shortly before their
    /// instant so that the write is not in the way of their start. Each [`Hold`] also keeps
    /// the job's `last_fire` from before, for [`Store::release`].
    pub fn hold(
        &mut self,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Hold>, StoreError> {
        self.claim_rows("claim a run ahead", claims, now)
    }

    /// Gives back fires held with [`Store::hold`] that did not start after all (the scheduler
    /// stopped first, the jobfile changed, the job was skipped at its instant): their rows are
    /// deleted and each job's `last_fire` goes back to what it was, unless something later has
    /// moved it since. One transaction; a run that is no longer merely claimed is refused and
    /// nothing is released.
    pub fn release(&mut self, holds: &[Hold]) -> Result<(), StoreError> {
        if holds.is_empty() {
            return Ok(());
        }
        self.write("release a run claimed ahead", holds.len(), |tx| {
            let mut find = tx.prepare_cached(
                "SELECT job, scheduled FROM runs WHERE id = ?1 AND state = 'claimed'",
            )?;
            let mut delete = tx.prepare_cached("DELETE FROM runs WHERE id = ?1")?;
            let mut restore = tx.prepare_cached(
                "UPDATE jobs SET last_fire = ?2 WHERE name = ?1 AND last_fire = ?3",
            )?;
            for hold in holds {
                let row: Option<(String, i64)> = find
                    .query_row([hold.id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((job, scheduled)) = row else {
                    expect_one(tx, 0, hold.id, "claimed")?;
                    continue;
                };
                delete.execute([hold.id])?;
                restore.execute(params![job, hold.prior, scheduled])?;
            }
            Ok(())
        })
    }

    fn claim_rows(
        &mut self,
        action: &'static str,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Hold>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        self.write(action, claims.len(), |tx| insert_claims(tx, claims, now))
    }

    /// A batch of decisions (missed, coalesced, skipped) in one transaction, advancing
    /// `last_fire` like [`Store::claim`] and refused like it for a fire already handled.
    pub fn decide(
        &mut self,
        decisions: &[Decision<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if decisions.is_empty() {
            return Ok(());
        }
        self.write("record a decision", decisions.len(), |tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO runs (job, scheduled, manual, recorded_at, state, message,
                                   late_by_ms, fires, first_fire, into_fire)
                 VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut advance = tx.prepare_cached(ADVANCE_LAST_FIRE)?;
            for decision in decisions {
                match &decision.outcome {
                    Outcome::Missed { fires, first, .. } => {
                        if let Some(problem) = missed_problem(decision.scheduled, *fires, *first) {
                            return Err(Failure::Refused(problem));
                        }
                    }
                    Outcome::Coalesced { .. } | Outcome::Skipped { .. } => {}
                    other => {
                        return Err(Failure::Refused(format!(
                            "a decision is missed, coalesced or skipped, not {other:?}"
                        )));
                    }
                }
                let c = OutcomeColumns::of(&decision.outcome).map_err(Failure::Refused)?;
                let scheduled = micros(decision.scheduled);
                insert
                    .execute(params![
                        decision.job,
                        scheduled,
                        micros(now),
                        c.state,
                        c.message,
                        c.late_by_ms,
                        c.fires,
                        c.first_fire,
                        c.into_fire
                    ])
                    .map_err(|e| once_per_fire(e, decision.job, decision.scheduled))?;
                advance.execute(params![decision.job, scheduled])?;
            }
            Ok(())
        })
    }

    /// The claimed run `id` has started as process `pid`.
    pub fn started(&mut self, id: i64, pid: i32, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.move_run(
            "record a run's start",
            id,
            "claimed",
            START,
            params![id, pid, micros(at)],
        )
    }

    /// The claimed run `id` could not be started.
    pub fn spawn_failed(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.move_run(
            "record a failed start",
            id,
            "claimed",
            "UPDATE runs SET state = 'spawn_failed', message = ?2, ended = ?3
             WHERE id = ?1 AND state = 'claimed'",
            params![id, error, micros(at)],
        )
    }

    /// A run's end ([`Store::finished`]), judged by the job's own rules: `failed_by` is why the run failed,
    /// `None` if it succeeded; and with the retry that follows it, if any, kept in the same
    /// transaction (so a crash cannot record the failure and lose the retry).
    #[allow(
        clippy::too_many_arguments,
        reason = "one run's end; each argument is a different fact of it"
    )]
    pub fn finished_as(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &Outcome,
        timed_out: bool,
        output_tail: &str,
        failed_by: Option<FailedBy>,
        retry: Option<&PlannedRetry>,
    ) -> Result<(), StoreError> {
        let action = "record a run's end";
        let c = end_columns(outcome).map_err(|why| StoreError::refused(&self.path, action, why))?;
        self.write(action, 1 + usize::from(retry.is_some()), |tx| {
            finish(tx, id, &c, at, timed_out, output_tail, failed_by, retry)
        })
    }

    /// Marks a run that an earlier scheduler left claimed or running (see
    /// [`Store::unfinished`]) as interrupted, ending at `at`.
    pub fn mark_interrupted(
        &mut self,
        id: i64,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), StoreError> {
        self.move_run(
            "mark a run as interrupted",
            id,
            "claimed or running",
            "UPDATE runs SET state = 'interrupted', message = ?2, ended = ?3, pid = NULL
             WHERE id = ?1 AND state IN ('claimed', 'running')",
            params![id, note, micros(at)],
        )
    }

    /// One step of a run's life: `update` changes run `id` if it is in the state(s) `from`
    /// names, and is refused otherwise. A single UPDATE is atomic on its own, so it runs
    /// without an explicit transaction: two statements fewer on the scheduler's hot path.
    fn move_run(
        &mut self,
        action: &'static str,
        id: i64,
        from: &str,
        update: &str,
        params: impl Params,
    ) -> Result<(), StoreError> {
        let result = self
            .conn
            .prepare_cached(update)
            .and_then(|mut statement| statement.execute(params))
            .map_err(Failure::from)
            .and_then(|changed| expect_one(&self.conn, changed, id, from));
        self.after_write(action, 1, result)
    }

    /// Runs `body` in one IMMEDIATE transaction (the write lock is taken up front, so the
    /// transaction cannot fail halfway for want of it) and commits it; any failure rolls back.
    /// `rows` is about how many rows it writes, which is how the checkpoint thread paces itself.
    pub(super) fn write<T>(
        &mut self,
        action: &'static str,
        rows: usize,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = body(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        self.after_write(action, rows, result)
    }

    /// Counts a committed write for the checkpoint thread, and names the store and the action
    /// in a failure.
    fn after_write<T>(
        &mut self,
        action: &'static str,
        rows: usize,
        result: Result<T, Failure>,
    ) -> Result<T, StoreError> {
        if result.is_ok()
            && let Some(checkpointer) = &mut self.checkpointer
        {
            checkpointer.wrote(rows);
        }
        result.map_err(|f| f.into_store_error(&self.path, action))
    }
}

/// Inserts each claim's row and moves its job's `last_fire` (see [`Store::claim`]).
pub(super) fn insert_claims(
    tx: &Connection,
    claims: &[Claim<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<Hold>, Failure> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO runs (job, scheduled, manual, recorded_at, state, attempt, attempts)
         VALUES (?1, ?2, ?3, ?4, 'claimed', ?5, ?6)",
    )?;
    let mut prior = tx.prepare_cached("SELECT last_fire FROM jobs WHERE name = ?1")?;
    let mut advance = tx.prepare_cached(ADVANCE_LAST_FIRE)?;
    let mut held = Vec::with_capacity(claims.len());
    for claim in claims {
        let scheduled = micros(claim.scheduled);
        insert
            .execute(params![
                claim.job,
                scheduled,
                claim.manual,
                micros(now),
                claim.attempt,
                claim.attempts
            ])
            .map_err(|e| once_per_fire(e, claim.job, claim.scheduled))?;
        let id = tx.last_insert_rowid();
        let mut last = None;
        if claim.attempt > 1 {
            // A retry: its fire's last_fire moved at the first attempt, and its plan
            // is now a claim.
            tx.prepare_cached("DELETE FROM retries WHERE job = ?1 AND scheduled = ?2")?
                .execute(params![claim.job, scheduled])?;
        } else if !claim.manual {
            last = prior
                .query_row([claim.job], |r| r.get::<_, Option<i64>>(0))
                .optional()?
                .flatten();
            advance.execute(params![claim.job, scheduled])?;
        }
        held.push(Hold { id, prior: last });
    }
    Ok(held)
}

/// The columns of a run's end, which is exited or signaled, nothing else.
pub(super) fn end_columns(outcome: &Outcome) -> Result<OutcomeColumns<'_>, String> {
    if !matches!(outcome, Outcome::Exited { .. } | Outcome::Signaled { .. }) {
        return Err(format!("a run ends exited or signaled, not {outcome:?}"));
    }
    OutcomeColumns::of(outcome)
}

/// Ends the running run `id`, and keeps the retry that follows it, if any, with it.
#[allow(
    clippy::too_many_arguments,
    reason = "one run's end; each argument is a different fact of it"
)]
pub(super) fn finish(
    tx: &Connection,
    id: i64,
    c: &OutcomeColumns<'_>,
    at: DateTime<Utc>,
    timed_out: bool,
    output_tail: &str,
    failed_by: Option<FailedBy>,
    retry: Option<&PlannedRetry>,
) -> Result<(), Failure> {
    let changed = tx.prepare_cached(FINISH)?.execute(params![
        id,
        c.state,
        c.exit_code,
        c.signal,
        micros(at),
        timed_out,
        tail(output_tail),
        failed_by.map(FailedBy::as_str)
    ])?;
    expect_one(tx, changed, id, "running")?;
    if let Some(retry) = retry {
        tx.prepare_cached(
            "INSERT INTO retries (job, scheduled, attempt, attempts, due)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (job, scheduled) DO UPDATE SET attempt = excluded.attempt,
                 attempts = excluded.attempts, due = excluded.due",
        )?
        .execute(params![
            retry.job,
            micros(retry.scheduled),
            retry.attempt,
            retry.attempts,
            micros(retry.due)
        ])?;
    }
    Ok(())
}

/// Names the fire when the one-row-per-fire index refuses an insert.
fn once_per_fire(error: rusqlite::Error, job: &str, scheduled: DateTime<Utc>) -> Failure {
    match &error {
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Failure::Refused(format!(
                "the fire of job {job:?} at {} was already handled: a scheduled fire is claimed \
                 or decided once",
                scheduled.to_rfc3339()
            ))
        }
        _ => Failure::Sql(error),
    }
}

/// Refuses an update that matched no row, saying why: no such run, or a run in another state.
pub(super) fn expect_one(
    conn: &Connection,
    changed: usize,
    id: i64,
    wanted: &str,
) -> Result<(), Failure> {
    if changed == 1 {
        return Ok(());
    }
    let state: Option<String> = conn
        .query_row("SELECT state FROM runs WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    Err(Failure::Refused(match state {
        None => format!("there is no run {id}"),
        Some(state) => format!("run {id} is {state}, not {wanted}"),
    }))
}
