//! Limits that hold across hosts: a claimed fire starts only once the database agrees that its
//! job's `max_instances` and its pool's `workers` leave room for it, counted over every
//! scheduler sharing the store.
//!
//! Why a second step after the claim: the claim decides *who* runs a fire, and is made ahead of
//! the instant for large batches (`scheduler/ahead.rs`); whether the fire may start depends on
//! what is running *at* the instant, on every host. So at the instant the claimed fires are
//! admitted in one transaction:
//! - the job and pool names of the batch are locked (transaction-scoped advisory locks, taken in
//!   one sorted order so that concurrent batches cannot deadlock), which makes "count, then
//!   take" atomic across hosts without locking any table;
//! - the runs that count are those `admitted` and claimed or running (a partial index each,
//!   by job and by pool), whoever holds them; a manual `jobrun run` is not counted, as on one
//!   host;
//! - each fire, oldest first, is admitted while there is room; else its job's `overlap`
//!   decides, as on one host: `skip` records it skipped, `queue` and `replace` keep at most one
//!   fire of the job waiting (later ones are recorded coalesced into it) and `replace` asks the
//!   holder of the job's oldest run to end it (`NOTIFY jobrun_replace`; its row's
//!   `replaced_for`); a fire refused for want of a pool slot waits in any case.
//!
//! A waiting fire stays claimed by its scheduler, which asks again when told that a slot freed
//! (`NOTIFY jobrun_slots`, sent by a trigger when an admitted run stops counting, see
//! `schema.rs`). Across hosts, a freed slot goes to whichever waiting scheduler asks first;
//! on one host, its longest-waiting fire.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::super::codec::{OutcomeColumns, micros};
use super::super::{Admission, Outcome, StoreError, Verdict};
use super::{PgFailure, Postgres, Tx};
use crate::job::Overlap;

/// Turns a claimed fire into one that gets no process.
const DECIDE: &str = "
    UPDATE jobrun.runs SET state = $2, message = $3, late_by_ms = $4, fires = $5,
                           first_fire = $6, into_fire = $7, waiting = false
    WHERE id = $1";

/// Lets a claimed fire start: it counts against its job's and pool's limits from now on; a
/// run ended for it (`replaced_for`, on any host) records it as the run that replaced it.
const ADMIT: &str = "
    WITH admitted AS (
        UPDATE jobrun.runs SET admitted = true, waiting = false, pool = $2 WHERE id = $1)
    UPDATE jobrun.runs SET replaced_by = $1
    WHERE job = $3 AND replaced_for = $4 AND replaced_by IS NULL AND id <> $1
      AND state NOT IN ('claimed', 'running')";

/// Asks the holder of the job's oldest counted run to end it for the waiting fire at `$2`,
/// unless one of its runs is asked already.
const ASK_REPLACE: &str = "
    UPDATE jobrun.runs SET replaced_for = $2
    WHERE id = (SELECT id FROM jobrun.runs
                WHERE job = $1 AND admitted AND state IN ('claimed', 'running')
                ORDER BY id LIMIT 1)
      AND NOT EXISTS (SELECT 1 FROM jobrun.runs
                      WHERE job = $1 AND admitted AND state IN ('claimed', 'running')
                        AND replaced_for IS NOT NULL)";

impl Postgres {
    /// Admits what fits of `asking` (this scheduler's claims, in the order they should get a
    /// slot), in one transaction: see the module documentation.
    pub(in crate::store) fn admit(
        &self,
        asking: &[Admission<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Verdict>, StoreError> {
        if asking.is_empty() {
            return Ok(Vec::new());
        }
        let me = self.scheduler;
        self.write("admit runs", |tx| admit(tx, asking, me, now))
    }

    /// Notes that run `id` is being ended for the fire of its job at `fire` (its own
    /// scheduler's planner decided so): whoever runs that fire records it as the replacement.
    pub(in crate::store) fn mark_replacing(
        &self,
        id: i64,
        fire: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.single(
            "record a run being replaced",
            "UPDATE jobrun.runs SET replaced_for = $2 WHERE id = $1 AND replaced_for IS NULL",
            &[&id, &micros(fire)],
        )
        .map(drop)
    }
}

fn admit(
    tx: &mut Tx<'_>,
    asking: &[Admission<'_>],
    me: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<Verdict>, PgFailure> {
    let jobs: BTreeSet<&str> = asking.iter().map(|a| a.job).collect();
    let pools: BTreeSet<&str> = asking
        .iter()
        .filter(|a| a.workers != u32::MAX)
        .map(|a| a.pool)
        .collect();
    let mut keys: Vec<i64> = jobs.iter().map(|j| lock_key(b'j', j)).collect();
    keys.extend(pools.iter().map(|p| lock_key(b'p', p)));
    keys.sort_unstable();
    keys.dedup();
    tx.query(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k",
        &[&keys],
    )?;
    let jobs: Vec<&str> = jobs.into_iter().collect();
    let pools: Vec<&str> = pools.into_iter().collect();
    let ids: Vec<i64> = asking.iter().map(|a| a.id).collect();
    let mine: BTreeSet<i64> = tx
        .query(
            "SELECT id FROM jobrun.runs
             WHERE id = ANY($1) AND scheduler = $2 AND state = 'claimed' AND NOT admitted",
            &[&ids, &me],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut by_job = counts(
        tx,
        "SELECT job, count(*) FROM jobrun.runs
         WHERE admitted AND state IN ('claimed', 'running') AND job = ANY($1) GROUP BY job",
        &jobs,
    )?;
    let mut by_pool = counts(
        tx,
        "SELECT pool, count(*) FROM jobrun.runs
         WHERE admitted AND state IN ('claimed', 'running') AND pool = ANY($1) GROUP BY pool",
        &pools,
    )?;
    // The fire of each job already waiting elsewhere (or earlier here) that later fires of a
    // job at its limit coalesce into.
    let mut waiting: HashMap<String, i64> = tx
        .query(
            "SELECT job, min(scheduled) FROM jobrun.runs
             WHERE waiting AND job = ANY($1) AND NOT (id = ANY($2)) GROUP BY job",
            &[&jobs, &ids],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut verdicts = Vec::with_capacity(asking.len());
    for a in asking {
        if !mine.contains(&a.id) {
            verdicts.push(Verdict::Lost);
            continue;
        }
        let running = by_job.get(a.job).copied().unwrap_or(0);
        let in_pool = by_pool.get(a.pool).copied().unwrap_or(0);
        let job_full = running >= i64::from(a.max_instances);
        let pool_full = a.workers != u32::MAX && in_pool >= i64::from(a.workers);
        if !job_full && !pool_full {
            tx.execute(ADMIT, &[&a.id, &a.pool, &a.job, &micros(a.scheduled)])?;
            *by_job.entry(a.job.to_owned()).or_default() += 1;
            *by_pool.entry(a.pool.to_owned()).or_default() += 1;
            verdicts.push(Verdict::Admitted);
            continue;
        }
        if a.expires.is_some_and(|e| now > e) {
            let late_by_ms = (now - a.scheduled).num_milliseconds();
            let missed = Outcome::Missed {
                late_by_ms,
                fires: 1,
                first: a.scheduled,
            };
            verdicts.push(decide(tx, a.id, missed)?);
            continue;
        }
        let into = waiting.get(a.job).copied();
        let verdict = match (job_full, a.overlap, into) {
            (true, Overlap::Skip, _) => {
                let reason = "max_instances".to_owned();
                decide(tx, a.id, Outcome::Skipped { reason })?
            }
            (true, _, Some(into)) if into != micros(a.scheduled) => {
                let into = DateTime::from_timestamp_micros(into).ok_or_else(|| {
                    PgFailure::Corrupt(format!("a waiting fire of {:?} has no time", a.job))
                })?;
                decide(tx, a.id, Outcome::Coalesced { into })?
            }
            _ => {
                tx.execute(
                    "UPDATE jobrun.runs SET waiting = true WHERE id = $1",
                    &[&a.id],
                )?;
                waiting
                    .entry(a.job.to_owned())
                    .or_insert(micros(a.scheduled));
                let reason = if job_full {
                    if a.overlap == Overlap::Replace
                        && tx.execute(ASK_REPLACE, &[&a.job, &micros(a.scheduled)])? > 0
                    {
                        tx.execute("SELECT pg_notify('jobrun_replace', '')", &[])?;
                    }
                    format!(
                        "max_instances ({}) reached across the schedulers",
                        a.max_instances
                    )
                } else {
                    format!(
                        "pool {} full across the schedulers (workers = {})",
                        a.pool, a.workers
                    )
                };
                Verdict::Waiting { reason }
            }
        };
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Records a claimed fire as getting no process.
fn decide(tx: &mut Tx<'_>, id: i64, outcome: Outcome) -> Result<Verdict, PgFailure> {
    let c = OutcomeColumns::of(&outcome).map_err(PgFailure::Refused)?;
    tx.execute(
        DECIDE,
        &[
            &id,
            &c.state,
            &c.message,
            &c.late_by_ms,
            &c.fires,
            &c.first_fire,
            &c.into_fire,
        ],
    )?;
    Ok(Verdict::Decided(outcome))
}

/// Counts by name, from a query grouping by its first column.
fn counts(
    tx: &mut Tx<'_>,
    sql: &'static str,
    names: &[&str],
) -> Result<HashMap<String, i64>, PgFailure> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(tx
        .query(sql, &[&names])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The advisory lock standing for a job (`kind` b'j') or a pool (b'p'): FNV-1a of the kind and
/// the name. Two names sharing a key only wait for each other.
fn lock_key(kind: u8, name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [kind].iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn jobs_and_pools_of_one_name_lock_apart() {
        assert_ne!(lock_key(b'j', "backup"), lock_key(b'p', "backup"));
        assert_eq!(lock_key(b'j', "backup"), lock_key(b'j', "backup"));
    }
}
