//! Chained jobs (`after`): what each has seen of its upstreams' runs since it last fired, and
//! the fires that follow, each due at the instant of the end that completed it.
//!
//! A chained job fires once every upstream it names has had a run end its way (`on`) since the
//! job's last fire; then it starts counting afresh. Ends at or before the last fire are its
//! past, which is what lets the loop replay, at start, the ends a killed scheduler never acted
//! on: the same ends give the same fires, and the state store refuses a fire handled twice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::due::MissedFires;
use super::{Planner, Scheduled};
use crate::duration::Duration;
use crate::job::Job;
use crate::trigger::Trigger;

/// Fires that may still run, oldest first, each with the upstream run that completed it when
/// it is a chained fire.
pub(super) type Runnable = Vec<(DateTime<Utc>, Option<u64>)>;

#[derive(Debug)]
pub(super) struct Chain {
    /// The job's last fire (or where its chain began): ends at or before it do not count.
    since: DateTime<Utc>,
    /// Per upstream, in the trigger's order: the run that ended its way since `since`.
    ended: Vec<Option<u64>>,
    /// Fires not yet advanced: when, and the upstream run that completed each.
    fires: Vec<(DateTime<Utc>, u64)>,
}

impl Chain {
    /// The chain of an `after` job, counting from `since`; `None` for any other job.
    pub(super) fn of(job: &Job, since: DateTime<Utc>) -> Option<Chain> {
        let Trigger::After(upstreams) = &job.trigger else {
            return None;
        };
        Some(Chain {
            since,
            ended: vec![None; upstreams.len()],
            fires: Vec::new(),
        })
    }

    /// Starts over from `since` (the job's last fire, from the state store).
    pub(super) fn resume(&mut self, since: DateTime<Utc>) {
        self.since = since;
        self.ended.fill(None);
        self.fires.clear();
    }

    pub(super) fn has_fires(&self) -> bool {
        !self.fires.is_empty()
    }

    /// The oldest fire not yet advanced.
    pub(super) fn first_fire(&self) -> Option<DateTime<Utc>> {
        self.fires.iter().map(|&(at, _)| at).min()
    }

    /// A paused job's fires do not exist.
    pub(super) fn drop_fires(&mut self) {
        self.fires.clear();
    }

    /// Takes every fire: those more than `grace` before `now` as one missed range, the rest to
    /// run, oldest first, each with its upstream run.
    pub(super) fn take_due(
        &mut self,
        grace: Duration,
        now: DateTime<Utc>,
    ) -> (Option<MissedFires>, Runnable) {
        let mut fires = std::mem::take(&mut self.fires);
        fires.sort_by_key(|&(at, _)| at);
        let late = fires.partition_point(|&(at, _)| now - at > grace.as_chrono());
        let missed = match (fires.first(), late.checked_sub(1).map(|i| fires[i])) {
            (Some(&(oldest, _)), Some((newest, _))) => Some(MissedFires {
                newest,
                oldest,
                count: u64::try_from(late).ok(),
            }),
            _ => None,
        };
        let runnable = fires[late..]
            .iter()
            .map(|&(at, run)| (at, Some(run)))
            .collect();
        (missed, runnable)
    }
}

/// For each job an `after` trigger names, the positions of the jobs naming it.
pub(super) fn downstream_of(jobs: &[Scheduled]) -> HashMap<String, Vec<usize>> {
    let mut downstream: HashMap<String, Vec<usize>> = HashMap::new();
    for (order, scheduled) in jobs.iter().enumerate() {
        for upstream in scheduled.job.trigger.upstreams() {
            let positions = downstream.entry(upstream.job.clone()).or_default();
            if positions.last() != Some(&order) {
                positions.push(order);
            }
        }
    }
    downstream
}

impl Planner {
    /// A run of `job` (store id `run`) ended at `at`, a success or not: each job chained after
    /// it notes it, and fires at `at` once all its upstreams have ended their way since its
    /// last fire (if `at` is inside its window; paused jobs note nothing). Call it before
    /// [`finished`](Planner::finished) for the same run, whose `advance` then starts what
    /// follows; at start, call it for the ends the store has after each chained job's
    /// resume point, oldest first.
    pub fn upstream_ended(&mut self, job: &str, succeeded: bool, at: DateTime<Utc>, run: u64) {
        let Some(positions) = self.downstream.get(job) else {
            return;
        };
        for &order in positions {
            let scheduled = &mut self.jobs[order];
            let Some(chain) = scheduled.chain.as_mut() else {
                continue;
            };
            if scheduled.job.paused || at <= chain.since {
                continue;
            }
            let upstreams = scheduled.job.trigger.upstreams();
            for (seen, upstream) in chain.ended.iter_mut().zip(upstreams) {
                if upstream.job == job && upstream.on.matches(succeeded) {
                    *seen = Some(run);
                }
            }
            if chain.ended.iter().all(Option::is_some) {
                chain.ended.fill(None);
                chain.since = at;
                if scheduled.job.in_window(at) {
                    chain.fires.push((at, run));
                    if let Some(horizon) = self.horizon.as_mut() {
                        horizon.add(at);
                    }
                }
            }
        }
    }

    /// The oldest fire of each chained job with fires waiting, for `next_wake`.
    pub(super) fn chained_fires(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.downstream
            .values()
            .flatten()
            .filter_map(|&order| self.jobs[order].chain.as_ref())
            .filter_map(Chain::first_fire)
    }
}
