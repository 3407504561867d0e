//! What the scheduling policies keep (issue 11): the boot whose `@reboot` fires belong to it,
//! where a chained job's chain starts, the ends of the runs chained jobs follow, and which run
//! replaced which.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::codec::micros;
use super::error::Failure;
use super::reads::runs;
use super::writes::expect_one;
use super::{RunRecord, Sqlite, StoreError};

/// The boot jobrun runs in, as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boot {
    /// When the store first saw this boot: the instant of its `@reboot` fires.
    pub at: DateTime<Utc>,
    /// The store had not seen this boot before (or no boot at all): its `@reboot` jobs fire.
    pub new: bool,
}

impl Sqlite {
    /// Records that jobrun starts in the boot `boot_id` (one transaction): a boot the store has
    /// seen keeps the instant it was first seen; another one replaces it, from `now`.
    pub fn note_boot(&mut self, boot_id: &str, now: DateTime<Utc>) -> Result<Boot, StoreError> {
        self.write("record the boot", 1, |tx| {
            let known: Option<(String, i64)> = tx
                .query_row("SELECT boot_id, since FROM boot WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((id, since)) = known.filter(|(id, _)| id == boot_id) {
                let at = DateTime::from_timestamp_micros(since).ok_or_else(|| {
                    Failure::Corrupt(format!("boot {id:?} has a time out of range"))
                })?;
                return Ok(Boot { at, new: false });
            }
            tx.execute(
                "INSERT INTO boot (id, boot_id, since) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET boot_id = excluded.boot_id, since = excluded.since",
                params![boot_id, micros(now)],
            )?;
            Ok(Boot { at: now, new: true })
        })
    }

    /// Starts the chains of jobs that have no last fire (new to the store, or with a schedule
    /// just changed) at `now`, one transaction: the upstream ends the next start replays for
    /// them are those after it.
    pub fn start_chains(&mut self, jobs: &[&str], now: DateTime<Utc>) -> Result<(), StoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.write("record where chains start", jobs.len(), |tx| {
            let mut start = tx.prepare_cached(
                "UPDATE jobs SET last_fire = ?2 WHERE name = ?1 AND last_fire IS NULL",
            )?;
            for job in jobs {
                start.execute(params![job, micros(now)])?;
            }
            Ok(())
        })
    }

    /// The scheduled runs of `jobs` that ended on their own (exited, signaled, or could not
    /// start) after `after`, in the order they ended, each the last attempt of its fire (a
    /// failed attempt that a retry follows, or will, is not an end): what chained jobs follow.
    pub fn ended_after(
        &self,
        jobs: &[&str],
        after: DateTime<Utc>,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let columns = super::codec::run_columns(self.version);
        self.read("read the runs chained jobs follow", |conn| {
            let mut ended = Vec::new();
            for job in jobs {
                ended.extend(runs(
                    conn,
                    &format!(
                        "SELECT {columns} FROM runs WHERE job = ?1 AND manual = 0
                         AND state IN ('exited', 'signaled', 'spawn_failed') AND ended > ?2
                         AND NOT EXISTS (SELECT 1 FROM runs AS later
                             WHERE later.job = runs.job AND later.scheduled = runs.scheduled
                             AND later.manual = 0 AND later.attempt > runs.attempt)
                         AND NOT EXISTS (SELECT 1 FROM retries
                             WHERE retries.job = runs.job AND retries.scheduled = runs.scheduled)"
                    ),
                    params![job, micros(after)],
                )?);
            }
            ended.sort_by_key(|r| (r.ended, r.id));
            Ok(ended)
        })
    }

    /// Notes on the ended run `id` that run `by` replaced it.
    pub fn mark_replaced(&mut self, id: i64, by: i64) -> Result<(), StoreError> {
        self.write("record a replaced run", 1, |tx| {
            let changed = tx.execute(
                "UPDATE runs SET replaced_by = ?2 WHERE id = ?1 AND state IN ('exited', 'signaled')",
                params![id, by],
            )?;
            expect_one(tx, changed, id, "exited or signaled")
        })
    }
}
