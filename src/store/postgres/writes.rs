//! What a scheduler records in the PostgreSQL store: the same writes, with the same rules, as
//! the SQLite store's (`store/writes.rs`, which documents each), and claims that another host
//! may win.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::super::codec::{OutcomeColumns, micros, missed_problem, tail};
use super::super::{Claim, Decision, FailedBy, Hold, Outcome, PlannedRetry, RunStep, StoreError};
use super::outage::Kept;
use super::{PgFailure, Postgres, Tx};

/// Moves a job's `last_fire` forward to `$2`, never back (see the SQLite store's).
const ADVANCE_LAST_FIRE: &str = "
    INSERT INTO jobrun.jobs (name, schedule, last_fire) VALUES ($1, '', $2)
    ON CONFLICT (name) DO UPDATE SET last_fire = excluded.last_fire
    WHERE jobs.last_fire IS NULL OR jobs.last_fire < excluded.last_fire";

/// A row per scheduled fire of the batch (arrays of job, instant, attempt and attempts, in
/// that order), except for fires that have one already (claimed or decided elsewhere).
const CLAIM_FIRES: &str = "
    INSERT INTO jobrun.runs (job, scheduled, manual, recorded_at, state, attempt, attempts,
                             scheduler, host)
    SELECT job, scheduled, false, $5, 'claimed', attempt, attempts, $6, $7
    FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
         AS fire(job, scheduled, attempt, attempts)
    ORDER BY job, scheduled, attempt
    ON CONFLICT (job, scheduled, attempt) WHERE NOT manual DO NOTHING
    RETURNING id, job, scheduled, attempt";

/// [`ADVANCE_LAST_FIRE`] for a batch: arrays of job names and instants.
const ADVANCE_LAST_FIRES: &str = "
    INSERT INTO jobrun.jobs (name, schedule, last_fire)
    SELECT name, '', max(fire) FROM unnest($1::text[], $2::bigint[]) AS claimed(name, fire)
    GROUP BY name ORDER BY name
    ON CONFLICT (name) DO UPDATE SET last_fire = excluded.last_fire
    WHERE jobs.last_fire IS NULL OR jobs.last_fire < excluded.last_fire";

const INSERT_MANUAL: &str = "
    INSERT INTO jobrun.runs (job, scheduled, manual, recorded_at, state, attempt, attempts,
                             scheduler, host)
    VALUES ($1, $2, true, $3, 'claimed', $4, $5, $6, $7)
    RETURNING id";

const STARTED: &str = "
    UPDATE jobrun.runs SET state = 'running', pid = $2, started = $3
    WHERE id = $1 AND state = 'claimed'";

const SPAWN_FAILED: &str = "
    UPDATE jobrun.runs SET state = 'spawn_failed', message = $2, ended = $3
    WHERE id = $1 AND state = 'claimed'";

const FINISH: &str = "
    UPDATE jobrun.runs SET state = $2, exit_code = $3, signal = $4, ended = $5, timed_out = $6,
                           output_tail = $7, pid = NULL, failed_by = $8
    WHERE id = $1 AND state = 'running'";

/// What to do with a scheduled fire that is already in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Lost {
    /// Refuse the whole batch, as the SQLite store does: on one host, a second claim of a
    /// fire means the scheduler lost track of it.
    Refuse,
    /// Skip it: another scheduler sharing the store claimed it first.
    Skip,
}

impl Postgres {
    pub(in crate::store) fn set_schedules(&self, jobs: &[(&str, &str)]) -> Result<(), StoreError> {
        // One statement for all (10,000 jobs at a first start are one round trip), in name
        // order like every batch that locks job rows.
        let mut sorted: Vec<&(&str, &str)> = jobs.iter().collect();
        sorted.sort_unstable();
        let names: Vec<&str> = sorted.iter().map(|(job, _)| *job).collect();
        let schedules: Vec<&str> = sorted.iter().map(|(_, schedule)| *schedule).collect();
        self.write("record the jobs' schedules", |tx| {
            tx.execute(
                "INSERT INTO jobrun.jobs (name, schedule, last_fire)
                 SELECT name, schedule, NULL
                 FROM unnest($1::text[], $2::text[]) AS job(name, schedule) ORDER BY name
                 ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule,
                     last_fire = NULL
                 WHERE jobs.schedule <> excluded.schedule",
                &[&names, &schedules],
            )?;
            Ok(())
        })
    }

    pub(in crate::store) fn forget_jobs(&self, names: &[&str]) -> Result<(), StoreError> {
        if names.is_empty() {
            return Ok(());
        }
        // Another live scheduler may run a jobfile that still has the job (hosts that
        // disagree): then its place in its schedule is kept, and forgotten by whoever removes
        // it last.
        let me = self.scheduler;
        let lease = i64::try_from(self.lease.as_micros()).unwrap_or(i64::MAX);
        self.write("forget removed jobs", |tx| {
            let others = tx
                .query(
                    "SELECT 1 FROM jobrun.schedulers WHERE id IS DISTINCT FROM $1
                     AND heartbeat >= clock_timestamp() - $2::bigint * interval '1 microsecond'
                     LIMIT 1",
                    &[&me, &lease],
                )?
                .len();
            if others > 0 {
                return Ok(());
            }
            for name in names {
                tx.execute("DELETE FROM jobrun.jobs WHERE name = $1", &[name])?;
                tx.execute("DELETE FROM jobrun.retries WHERE job = $1", &[name])?;
            }
            Ok(())
        })
    }

    /// Claims a batch in one transaction; `None` for each fire another scheduler had (with
    /// [`Lost::Skip`]). The scheduled fires are inserted by one statement (arrays unnested,
    /// sorted by job, instant and attempt, so that concurrent batches lock index entries in
    /// one order and cannot deadlock), and each job's `last_fire` advanced by another: a batch
    /// costs a handful of round trips, not three per fire.
    pub(in crate::store) fn claim_rows(
        &self,
        action: &'static str,
        claims: &[Claim<'_>],
        now: DateTime<Utc>,
        lost: Lost,
    ) -> Result<Vec<Option<Hold>>, StoreError> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        let mut fires: Vec<usize> = (0..claims.len()).filter(|&i| !claims[i].manual).collect();
        fires.sort_by_key(|&i| (claims[i].job, claims[i].scheduled, claims[i].attempt));
        let (scheduler, host) = (self.scheduler, self.host.as_str());
        self.write(action, |tx| {
            // A claim is durable before its process starts: lost in a crash of PostgreSQL,
            // the fire could be claimed again, by another host, and run twice.
            tx.execute("SET LOCAL synchronous_commit = on", &[])?;
            let mut held = vec![None; claims.len()];
            let jobs: Vec<&str> = fires.iter().map(|&i| claims[i].job).collect();
            let times: Vec<i64> = fires.iter().map(|&i| micros(claims[i].scheduled)).collect();
            let attempt: Vec<i64> = fires
                .iter()
                .map(|&i| i64::from(claims[i].attempt))
                .collect();
            let attempts: Vec<i64> = fires
                .iter()
                .map(|&i| i64::from(claims[i].attempts))
                .collect();
            let rows = tx.query(
                CLAIM_FIRES,
                &[
                    &jobs,
                    &times,
                    &attempt,
                    &attempts,
                    &micros(now),
                    &scheduler,
                    &host,
                ],
            )?;
            let mut won: HashMap<(String, i64, i64), i64> = rows
                .iter()
                .map(|r| ((r.get(1), r.get(2), r.get(3)), r.get(0)))
                .collect();
            let (mut retried, mut first) = (Vec::new(), Vec::new());
            for (k, &i) in fires.iter().enumerate() {
                let key = (jobs[k].to_owned(), times[k], attempt[k]);
                let Some(id) = won.remove(&key) else {
                    match lost {
                        Lost::Refuse => {
                            return Err(already_handled(claims[i].job, claims[i].scheduled));
                        }
                        Lost::Skip => continue,
                    }
                };
                held[i] = Some(Hold { id, prior: None });
                if claims[i].attempt > 1 {
                    retried.push(k);
                } else {
                    first.push(k);
                }
            }
            if !retried.is_empty() {
                let jobs: Vec<&str> = retried.iter().map(|&k| jobs[k]).collect();
                let times: Vec<i64> = retried.iter().map(|&k| times[k]).collect();
                tx.execute(
                    "DELETE FROM jobrun.retries WHERE (job, scheduled) IN (
                         SELECT * FROM unnest($1::text[], $2::bigint[]))",
                    &[&jobs, &times],
                )?;
            }
            if !first.is_empty() {
                let jobs: Vec<&str> = first.iter().map(|&k| jobs[k]).collect();
                let times: Vec<i64> = first.iter().map(|&k| times[k]).collect();
                let prior: HashMap<String, Option<i64>> = tx
                    .query(
                        "SELECT name, last_fire FROM jobrun.jobs WHERE name = ANY($1)",
                        &[&jobs],
                    )?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                for (position, &k) in first.iter().enumerate() {
                    if let Some(hold) = held[fires[k]].as_mut() {
                        hold.prior = prior.get(jobs[position]).copied().flatten();
                    }
                }
                tx.execute(ADVANCE_LAST_FIRES, &[&jobs, &times])?;
            }
            for (i, claim) in claims.iter().enumerate().filter(|(_, c)| c.manual) {
                let row = tx.query_opt(
                    INSERT_MANUAL,
                    &[
                        &claim.job,
                        &micros(claim.scheduled),
                        &micros(now),
                        &i64::from(claim.attempt),
                        &i64::from(claim.attempts),
                        &scheduler,
                        &host,
                    ],
                )?;
                held[i] = row.map(|r| Hold {
                    id: r.get(0),
                    prior: None,
                });
            }
            Ok(held)
        })
    }

    pub(in crate::store) fn release(&self, holds: &[Hold]) -> Result<(), StoreError> {
        if holds.is_empty() {
            return Ok(());
        }
        self.write("release a run claimed ahead", |tx| {
            for hold in holds {
                let row = tx.query_opt(
                    "DELETE FROM jobrun.runs WHERE id = $1 AND state = 'claimed'
                     RETURNING job, scheduled",
                    &[&hold.id],
                )?;
                let Some(row) = row else {
                    expect_one(tx, 0, hold.id, "claimed")?;
                    continue;
                };
                let (job, scheduled): (String, i64) = (row.get(0), row.get(1));
                tx.execute(
                    "UPDATE jobrun.jobs SET last_fire = $2 WHERE name = $1 AND last_fire = $3",
                    &[&job, &hold.prior, &scheduled],
                )?;
            }
            Ok(())
        })
    }

    pub(in crate::store) fn decide(
        &self,
        decisions: &[Decision<'_>],
        now: DateTime<Utc>,
        lost: Lost,
    ) -> Result<(), StoreError> {
        if decisions.is_empty() {
            return Ok(());
        }
        // In (job, instant) order, as claims insert theirs: a decision inserted out of that
        // order could wait for a concurrent claim of another host that waits for it
        // (deadlock).
        let mut sorted: Vec<&Decision<'_>> = decisions.iter().collect();
        sorted.sort_by_key(|d| (d.job, d.scheduled));
        self.write("record a decision", |tx| {
            for decision in sorted {
                match &decision.outcome {
                    Outcome::Missed { fires, first, .. } => {
                        if let Some(problem) = missed_problem(decision.scheduled, *fires, *first) {
                            return Err(PgFailure::Refused(problem));
                        }
                    }
                    Outcome::Coalesced { .. } | Outcome::Skipped { .. } => {}
                    other => {
                        return Err(PgFailure::Refused(format!(
                            "a decision is missed, coalesced or skipped, not {other:?}"
                        )));
                    }
                }
                let c = OutcomeColumns::of(&decision.outcome).map_err(PgFailure::Refused)?;
                let scheduled = micros(decision.scheduled);
                let inserted = tx.execute(
                    "INSERT INTO jobrun.runs (job, scheduled, manual, recorded_at, state,
                         message, late_by_ms, fires, first_fire, into_fire)
                     VALUES ($1, $2, false, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (job, scheduled, attempt) WHERE NOT manual DO NOTHING",
                    &[
                        &decision.job,
                        &scheduled,
                        &micros(now),
                        &c.state,
                        &c.message,
                        &c.late_by_ms,
                        &c.fires,
                        &c.first_fire,
                        &c.into_fire,
                    ],
                )?;
                if inserted == 0 {
                    match lost {
                        Lost::Refuse => {
                            return Err(already_handled(decision.job, decision.scheduled));
                        }
                        Lost::Skip => continue,
                    }
                }
                tx.execute(ADVANCE_LAST_FIRE, &[&decision.job, &scheduled])?;
            }
            Ok(())
        })
    }

    /// The claimed run `id` has started; during an outage, kept for when the database is
    /// back (`outage.rs`).
    pub(in crate::store) fn started(
        &self,
        id: i64,
        pid: i32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let write = Kept::Started { id, pid, at };
        self.write_or_keep("record a run's start", write)
    }

    pub(in crate::store) fn spawn_failed(
        &self,
        id: i64,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), StoreError> {
        let write = Kept::SpawnFailed {
            id,
            at,
            error: error.to_owned(),
        };
        self.write_or_keep("record a failed start", write)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one run's end; each argument is a different fact of it"
    )]
    pub(in crate::store) fn finished_as(
        &self,
        id: i64,
        at: DateTime<Utc>,
        outcome: &Outcome,
        timed_out: bool,
        output_tail: &str,
        failed_by: Option<FailedBy>,
        retry: Option<&PlannedRetry>,
    ) -> Result<(), StoreError> {
        let action = "record a run's end";
        if !matches!(outcome, Outcome::Exited { .. } | Outcome::Signaled { .. }) {
            let why = format!("a run ends exited or signaled, not {outcome:?}");
            return Err(StoreError::refused(&self.path, action, why));
        }
        let write = Kept::Finished {
            id,
            at,
            outcome: outcome.clone(),
            timed_out,
            output_tail: tail(output_tail).to_owned(),
            failed_by,
            retry: retry.cloned(),
        };
        self.write_or_keep(action, write)
    }

    /// Starts and ends of runs in one transaction; when the database is unreachable, all are
    /// kept instead (in order), or none if they do not all fit.
    pub(in crate::store) fn record_runs(&self, steps: &[RunStep]) -> Result<(), StoreError> {
        if steps.is_empty() {
            return Ok(());
        }
        let writes: Vec<Kept> = steps.iter().map(Kept::from).collect();
        let result = self.write("record runs' starts and ends", |tx| {
            apply_batch(tx, &writes)
        });
        match result {
            Err(e) if e.is_unreachable() && self.keep_all(writes) => Ok(()),
            other => other,
        }
    }

    /// Writes a start or an end of a run; when the database is unreachable, keeps it instead.
    /// A start, a failed start or an end without a retry is one statement, run on its own;
    /// why it changed no row is asked only then.
    fn write_or_keep(&self, action: &'static str, write: Kept) -> Result<(), StoreError> {
        let alone = match &write {
            Kept::Started { id, pid, at } => Some((
                self.single(action, STARTED, &[id, &i64::from(*pid), &micros(*at)]),
                *id,
                "claimed",
            )),
            Kept::SpawnFailed { id, at, error } => Some((
                self.single(action, SPAWN_FAILED, &[id, error, &micros(*at)]),
                *id,
                "claimed",
            )),
            Kept::Finished {
                id,
                at,
                outcome,
                timed_out,
                output_tail,
                failed_by,
                retry: None,
            } => {
                let c = OutcomeColumns::of(outcome)
                    .map_err(|why| StoreError::refused(&self.path, action, why))?;
                let failed = failed_by.map(FailedBy::as_str);
                let params: [&(dyn postgres::types::ToSql + Sync); 8] = [
                    id,
                    &c.state,
                    &c.exit_code,
                    &c.signal,
                    &micros(*at),
                    timed_out,
                    output_tail,
                    &failed,
                ];
                Some((self.single(action, FINISH, &params), *id, "running"))
            }
            Kept::Finished { .. } => None,
        };
        let result = match alone {
            Some((Ok(1), _, _)) => Ok(()),
            Some((Ok(changed), id, from)) => {
                self.write(action, |tx| expect_one(tx, changed, id, from))
            }
            Some((Err(e), _, _)) => Err(e),
            None => self.write(action, |tx| apply(tx, &write)),
        };
        match result {
            Err(e) if e.is_unreachable() && self.keep(write) => Ok(()),
            other => other,
        }
    }

    pub(in crate::store) fn mark_interrupted(
        &self,
        id: i64,
        at: DateTime<Utc>,
        note: &str,
    ) -> Result<(), StoreError> {
        self.move_run(
            "mark a run as interrupted",
            id,
            "claimed or running",
            "UPDATE jobrun.runs SET state = 'interrupted', message = $2, ended = $3, pid = NULL
             WHERE id = $1 AND state IN ('claimed', 'running')",
            &[&id, &note, &micros(at)],
        )
    }

    pub(in crate::store) fn mark_replaced(&self, id: i64, by: i64) -> Result<(), StoreError> {
        self.move_run(
            "record a replaced run",
            id,
            "exited or signaled",
            "UPDATE jobrun.runs SET replaced_by = $2
             WHERE id = $1 AND state IN ('exited', 'signaled')",
            &[&id, &by],
        )
    }

    /// One step of a run's life, refused when run `id` is not in the state(s) `from`.
    fn move_run(
        &self,
        action: &'static str,
        id: i64,
        from: &str,
        update: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        self.write(action, |tx| {
            let changed = tx.execute(update, params)?;
            expect_one(tx, changed, id, from)
        })
    }
}

/// Starts first, then ends (a run's end needs its start), each kind in one statement over
/// unnested arrays, so that a turn of the loop that started and ended a thousand runs costs
/// two round trips, not two thousand; an end with a retry to keep is written alone. A step that
/// does not fit its run's state refuses the batch (the scheduler then writes each alone, to
/// report the one at fault).
fn apply_batch(tx: &mut Tx<'_>, writes: &[Kept]) -> Result<(), PgFailure> {
    let (mut ids, mut pids, mut times) = (Vec::new(), Vec::new(), Vec::new());
    let mut alone = Vec::new();
    let mut ended = Ended::default();
    for write in writes {
        match write {
            Kept::Started { id, pid, at } => {
                ids.push(*id);
                pids.push(i64::from(*pid));
                times.push(micros(*at));
            }
            Kept::Finished {
                id,
                at,
                outcome,
                timed_out,
                output_tail,
                failed_by,
                retry: None,
            } => {
                let c = OutcomeColumns::of(outcome).map_err(PgFailure::Refused)?;
                ended.ids.push(*id);
                ended.states.push(c.state);
                ended.codes.push(c.exit_code);
                ended.signals.push(c.signal);
                ended.times.push(micros(*at));
                ended.timed_out.push(*timed_out);
                ended.tails.push(output_tail.as_str());
                ended.failed.push(failed_by.map(FailedBy::as_str));
            }
            other => alone.push(other),
        }
    }
    if !ids.is_empty() {
        let changed = tx.execute(
            "UPDATE jobrun.runs SET state = 'running', pid = s.pid, started = s.at
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS s(id, pid, at)
             WHERE runs.id = s.id AND runs.state = 'claimed'",
            &[&ids, &pids, &times],
        )?;
        if changed != ids.len() as u64 {
            return Err(PgFailure::Refused(format!(
                "{} of {} runs were not claimed when they started",
                ids.len() as u64 - changed,
                ids.len()
            )));
        }
    }
    if !ended.ids.is_empty() {
        let changed = tx.execute(
            "UPDATE jobrun.runs SET state = e.state, exit_code = e.code, signal = e.signal,
                 ended = e.at, timed_out = e.timed_out, output_tail = e.tail, pid = NULL,
                 failed_by = e.failed
             FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                         $6::boolean[], $7::text[], $8::text[])
                  AS e(id, state, code, signal, at, timed_out, tail, failed)
             WHERE runs.id = e.id AND runs.state = 'running'",
            &[
                &ended.ids,
                &ended.states,
                &ended.codes,
                &ended.signals,
                &ended.times,
                &ended.timed_out,
                &ended.tails,
                &ended.failed,
            ],
        )?;
        if changed != ended.ids.len() as u64 {
            return Err(PgFailure::Refused(format!(
                "{} of {} runs were not running when they ended",
                ended.ids.len() as u64 - changed,
                ended.ids.len()
            )));
        }
    }
    alone.into_iter().try_for_each(|write| apply(tx, write))
}

/// The columns of a batch of ends, one array each.
#[derive(Default)]
struct Ended<'a> {
    ids: Vec<i64>,
    states: Vec<&'static str>,
    codes: Vec<Option<i64>>,
    signals: Vec<Option<i64>>,
    times: Vec<i64>,
    timed_out: Vec<bool>,
    tails: Vec<&'a str>,
    failed: Vec<Option<&'static str>>,
}

/// Writes a start or an end of a run, now or after an outage.
pub(super) fn apply(tx: &mut Tx<'_>, write: &Kept) -> Result<(), PgFailure> {
    match write {
        Kept::Started { id, pid, at } => {
            let changed = tx.execute(STARTED, &[id, &i64::from(*pid), &micros(*at)])?;
            expect_one(tx, changed, *id, "claimed")
        }
        Kept::SpawnFailed { id, at, error } => {
            let changed = tx.execute(SPAWN_FAILED, &[id, error, &micros(*at)])?;
            expect_one(tx, changed, *id, "claimed")
        }
        Kept::Finished {
            id,
            at,
            outcome,
            timed_out,
            output_tail,
            failed_by,
            retry,
        } => {
            let c = OutcomeColumns::of(outcome).map_err(PgFailure::Refused)?;
            let failed = failed_by.map(FailedBy::as_str);
            let changed = tx.execute(
                FINISH,
                &[
                    id,
                    &c.state,
                    &c.exit_code,
                    &c.signal,
                    &micros(*at),
                    timed_out,
                    output_tail,
                    &failed,
                ],
            )?;
            expect_one(tx, changed, *id, "running")?;
            if let Some(retry) = retry {
                tx.execute(
                    "INSERT INTO jobrun.retries (job, scheduled, attempt, attempts, due)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (job, scheduled) DO UPDATE SET attempt = excluded.attempt,
                         attempts = excluded.attempts, due = excluded.due",
                    &[
                        &retry.job,
                        &micros(retry.scheduled),
                        &i64::from(retry.attempt),
                        &i64::from(retry.attempts),
                        &micros(retry.due),
                    ],
                )?;
            }
            Ok(())
        }
    }
}

fn already_handled(job: &str, scheduled: DateTime<Utc>) -> PgFailure {
    PgFailure::Refused(format!(
        "the fire of job {job:?} at {} was already handled: a scheduled fire is claimed or \
         decided once",
        scheduled.to_rfc3339()
    ))
}

/// Refuses an update that matched no row, saying why.
pub(super) fn expect_one(
    tx: &mut Tx<'_>,
    changed: u64,
    id: i64,
    wanted: &str,
) -> Result<(), PgFailure> {
    if changed == 1 {
        return Ok(());
    }
    let state: Option<String> = tx
        .query_opt("SELECT state FROM jobrun.runs WHERE id = $1", &[&id])?
        .map(|r| r.get(0));
    Err(PgFailure::Refused(match state {
        None => format!("there is no run {id}"),
        Some(state) => format!("run {id} is {state}, not {wanted}"),
    }))
}
