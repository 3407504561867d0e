//! Limits that hold across hosts: a claimed fire starts only once the database agrees that its
//! job's `max_instances` and its pool's `workers` leave room for it, counted over every
//! scheduler sharing the store.
//!
//! Why a second step after the claim: the claim decides *who* runs a fire, and is made ahead of
//! the instant for large batches (`scheduler/ahead.rs`); whether the fire may start depends on
//! what is running *at* the instant, on every host. So at the instant the claimed fires are
//! admitted in one transaction:
//! - the job and pool names of the batch are locked (transaction-scoped advisory locks, names
//!   spread over 64 stripes, taken in one sorted order so that concurrent batches cannot
//!   deadlock), which makes "count, then take" atomic across hosts without locking any table;
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

/// Where a batch stands, as rows (kind, name, value): `mine` for each of the batch's claims
/// still this scheduler's to admit (value: its id), `job` and `pool` for the runs counted
/// against each name of the batch (value: how many), `waiting` for each job of the batch with
/// a fire waiting outside the batch (value: the oldest such fire's instant). Parameters: the
/// claims' ids, this scheduler, the jobs, the limited pools.
const STANDING: &str = "
    SELECT 'mine', NULL::text, id FROM jobrun.runs
    WHERE id = ANY($1) AND scheduler = $2 AND state = 'claimed' AND NOT admitted
    UNION ALL
    SELECT 'job', job, count(*) FROM jobrun.runs
    WHERE admitted AND state IN ('claimed', 'running') AND job = ANY($3) GROUP BY job
    UNION ALL
    SELECT 'pool', pool, count(*) FROM jobrun.runs
    WHERE admitted AND state IN ('claimed', 'running') AND pool = ANY($4) GROUP BY pool
    UNION ALL
    SELECT 'waiting', job, min(scheduled) FROM jobrun.runs
    WHERE waiting AND job = ANY($3) AND NOT (id = ANY($1)) GROUP BY job";

/// Turns claimed fires into ones that get no process (arrays: id, state, message, late_by_ms,
/// fires, first_fire, into_fire).
const DECIDE: &str = "
    UPDATE jobrun.runs SET state = d.state, message = d.message, late_by_ms = d.late,
                           fires = d.fires, first_fire = d.first, into_fire = d.into_at,
                           waiting = false
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
                $6::bigint[], $7::bigint[]) AS d(id, state, message, late, fires, first, into_at)
    WHERE runs.id = d.id";

/// Lets claimed fires start (arrays: id, pool): they count against their job's and pool's
/// limits from now on.
const ADMIT: &str = "
    UPDATE jobrun.runs SET admitted = true, waiting = false, pool = a.pool
    FROM unnest($1::bigint[], $2::text[]) AS a(id, pool)
    WHERE runs.id = a.id";

/// A run ended for a fire now admitted (`replaced_for`, on any host) records it as the run
/// that replaced it (arrays: the admitted run's id, job, instant).
const REPLACED_BY: &str = "
    UPDATE jobrun.runs SET replaced_by = a.id
    FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS a(id, job, fire)
    WHERE runs.job = a.job AND runs.replaced_for = a.fire AND runs.replaced_by IS NULL
      AND runs.id <> a.id AND runs.state NOT IN ('claimed', 'running')";

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
    let mut stripes: Vec<i64> = jobs.iter().map(|j| stripe(b'j', j)).collect();
    stripes.extend(pools.iter().map(|p| stripe(b'p', p)));
    stripes.sort_unstable();
    stripes.dedup();
    tx.query(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k",
        &[&stripes],
    )?;
    let jobs: Vec<&str> = jobs.into_iter().collect();
    let pools: Vec<&str> = pools.into_iter().collect();
    let ids: Vec<i64> = asking.iter().map(|a| a.id).collect();
    // What the batch is judged by, read in one round trip, after the locks (a statement reads
    // what was committed when it began).
    let mut mine = BTreeSet::new();
    let (mut by_job, mut by_pool) = (HashMap::new(), HashMap::new());
    // The fire of each job already waiting elsewhere (or earlier here) that later fires of a
    // job at its limit coalesce into.
    let mut waiting: HashMap<String, i64> = HashMap::new();
    for row in tx.query(STANDING, &[&ids, &me, &jobs, &pools])? {
        let (kind, name, value): (&str, Option<String>, i64) = (row.get(0), row.get(1), row.get(2));
        match (kind, name) {
            ("mine", _) => {
                mine.insert(value);
            }
            ("job", Some(job)) => {
                by_job.insert(job, value);
            }
            ("pool", Some(pool)) => {
                by_pool.insert(pool, value);
            }
            ("waiting", Some(job)) => {
                waiting.insert(job, value);
            }
            _ => {}
        }
    }
    let mut writes = Writes::default();
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
            writes.admit(a);
            *by_job.entry(a.job.to_owned()).or_default() += 1;
            *by_pool.entry(a.pool.to_owned()).or_default() += 1;
            verdicts.push(Verdict::Admitted);
            continue;
        }
        let decided = if a.expires.is_some_and(|e| now > e) {
            Some(Outcome::Missed {
                late_by_ms: (now - a.scheduled).num_milliseconds(),
                fires: 1,
                first: a.scheduled,
            })
        } else {
            match (job_full, a.overlap, waiting.get(a.job)) {
                (true, Overlap::Skip, _) => Some(Outcome::Skipped {
                    reason: "max_instances".to_owned(),
                }),
                (true, _, Some(&into)) if into != micros(a.scheduled) => Some(Outcome::Coalesced {
                    into: DateTime::from_timestamp_micros(into).ok_or_else(|| {
                        PgFailure::Corrupt(format!("a waiting fire of {:?} has no time", a.job))
                    })?,
                }),
                _ => None,
            }
        };
        if let Some(outcome) = decided {
            writes.decided.push((a.id, outcome.clone()));
            verdicts.push(Verdict::Decided(outcome));
            continue;
        }
        writes.waiting.push(a.id);
        waiting
            .entry(a.job.to_owned())
            .or_insert(micros(a.scheduled));
        let reason = if job_full {
            if a.overlap == Overlap::Replace {
                writes.ask_replace.push((a.job, micros(a.scheduled)));
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
        verdicts.push(Verdict::Waiting { reason });
    }
    writes.apply(tx)?;
    Ok(verdicts)
}

/// What an admission writes, gathered so that a batch of a thousand fires is a handful of
/// statements (arrays unnested), not a thousand round trips.
#[derive(Default)]
struct Writes<'a> {
    /// Admitted: ids and their pools.
    admitted: (Vec<i64>, Vec<&'a str>),
    /// Admitted fires of `replace` jobs: id, job, instant (runs ended for them record them).
    replacing: (Vec<i64>, Vec<&'a str>, Vec<i64>),
    waiting: Vec<i64>,
    decided: Vec<(i64, Outcome)>,
    /// Waiting fires of `replace` jobs: their job and instant.
    ask_replace: Vec<(&'a str, i64)>,
}

impl<'a> Writes<'a> {
    fn admit(&mut self, a: &Admission<'a>) {
        self.admitted.0.push(a.id);
        self.admitted.1.push(a.pool);
        if a.overlap == Overlap::Replace {
            self.replacing.0.push(a.id);
            self.replacing.1.push(a.job);
            self.replacing.2.push(micros(a.scheduled));
        }
    }

    fn apply(self, tx: &mut Tx<'_>) -> Result<(), PgFailure> {
        if !self.admitted.0.is_empty() {
            tx.execute(ADMIT, &[&self.admitted.0, &self.admitted.1])?;
        }
        if !self.replacing.0.is_empty() {
            let (ids, jobs, fires) = &self.replacing;
            tx.execute(REPLACED_BY, &[ids, jobs, fires])?;
        }
        if !self.waiting.is_empty() {
            tx.execute(
                "UPDATE jobrun.runs SET waiting = true WHERE id = ANY($1)",
                &[&self.waiting],
            )?;
        }
        if !self.decided.is_empty() {
            let mut c = Decided::default();
            for (id, outcome) in &self.decided {
                let columns = OutcomeColumns::of(outcome).map_err(PgFailure::Refused)?;
                c.ids.push(*id);
                c.states.push(columns.state);
                c.messages.push(columns.message);
                c.late.push(columns.late_by_ms);
                c.fires.push(columns.fires);
                c.first.push(columns.first_fire);
                c.into.push(columns.into_fire);
            }
            tx.execute(
                DECIDE,
                &[
                    &c.ids,
                    &c.states,
                    &c.messages,
                    &c.late,
                    &c.fires,
                    &c.first,
                    &c.into,
                ],
            )?;
        }
        let mut asked = false;
        for (job, fire) in &self.ask_replace {
            asked |= tx.execute(ASK_REPLACE, &[job, fire])? > 0;
        }
        if asked {
            tx.execute("SELECT pg_notify('jobrun_replace', '')", &[])?;
        }
        Ok(())
    }
}

/// The columns of the decided fires, one array each.
#[derive(Default)]
struct Decided<'a> {
    ids: Vec<i64>,
    states: Vec<&'static str>,
    messages: Vec<Option<&'a str>>,
    late: Vec<Option<i64>>,
    fires: Vec<Option<i64>>,
    first: Vec<Option<i64>>,
    into: Vec<Option<i64>>,
}

/// How many advisory locks the admissions of all schedulers share. One lock per job name
/// would take a lock-table entry per job for each batch (PostgreSQL's table holds
/// `max_locks_per_transaction` × `max_connections`, 6,400 by default: three schedulers
/// admitting 5,000 jobs at once would exhaust it); names are spread over this many stripes
/// instead, so two batches wait for each other only when their names share a stripe.
const STRIPES: u64 = 64;

/// The advisory lock (one of [`STRIPES`]) standing for a job (`kind` b'j') or a pool (b'p'):
/// FNV-1a of the kind and the name, in a range of keys of jobrun's own.
fn stripe(kind: u8, name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [kind].iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // 0x6a6f62... ("job"): apart from the migration lock and from other applications' keys.
    0x6a6f_6200_0000_0000 + i64::try_from(hash % STRIPES).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{STRIPES, stripe};

    #[test]
    fn names_spread_over_a_bounded_number_of_locks() {
        let keys: std::collections::BTreeSet<i64> = (0..10_000)
            .map(|i| stripe(b'j', &format!("job{i}")))
            .collect();
        assert_eq!(keys.len() as u64, STRIPES);
        assert_eq!(stripe(b'p', "x"), stripe(b'p', "x"));
    }
}
