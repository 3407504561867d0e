//! The executor: named pools of worker slots, and the child processes that runs become.
//!
//! - `child.rs` spawns a run (argv directly, or `/bin/sh -c` when the job asks), each in its own
//!   process group with non-blocking output pipes, and signals that group;
//! - `identity.rs` resolves a job's `user` and `group` and switches the child to them;
//! - `spawner.rs` starts prepared runs on threads of their own, handing the results back in
//!   order, so that the scheduler's thread does not wait for each `exec`;
//! - `stdin.rs` gives a run its job's `stdin` text;
//! - `exit.rs` reaps exited children and says how they ended (real-time signals included);
//! - `environment.rs` is what a run's environment starts from: a clean one, as under cron;
//! - `output.rs` splits a child's pipes into lines and keeps the bounded tail that history stores;
//! - this file holds the pools, which only count slots: no I/O, no clock.
//!
//! Nothing here waits or loops on its own: the scheduler's single `poll(2)` loop decides when
//! to spawn, read, signal and reap, so every call returns at once (the spawner's threads
//! sleep until they are handed a run).

mod child;
mod environment;
mod exit;
mod identity;
mod output;
mod spawner;
mod stdin;

use std::collections::BTreeMap;

pub use child::{Launch, Prepared, RunningChild, SpawnError, prepare, signal_group, spawn};
pub use environment::{BaseEnv, DEFAULT_PATH, identity};
pub use exit::{ExitStatus, reap_any, signal_name};
pub use identity::{IdentityError, Running, check_group, check_user};
pub use output::{LineSplitter, OutputTail, Stream};
pub use spawner::{Spawned, Spawner};

/// For tests that spawn children or reap them, in any module: `reap_any` takes any child of
/// the test process, so a test calling it holds `all_children()`, and one waiting for its own
/// child's pid holds `own_children()`.
#[cfg(test)]
#[allow(
    unused_imports,
    reason = "for the scheduler's tests; the executor's own use them from child.rs"
)]
pub(crate) use child::tests::{all_children, own_children};

use crate::job::{Executor, defaults};

/// The worker slots of every pool: how many there are and how many are taken.
///
/// Each run takes one slot of its job's pool for as long as its process lives; a run that
/// finds no free slot waits for one (the scheduler's queue, not ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pools {
    pools: BTreeMap<String, Pool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pool {
    workers: u32,
    in_use: u32,
}

impl Pools {
    /// Pools with these limits, all free. `default` exists even when `executors` does not list
    /// it, with [`defaults::UNDECLARED_POOL_WORKERS`] slots. A pool listed twice takes the last
    /// limit.
    pub fn new(executors: &[Executor]) -> Pools {
        Pools {
            pools: limits(executors)
                .map(|(name, workers)| (name, Pool { workers, in_use: 0 }))
                .collect(),
        }
    }

    /// Takes a free slot of `pool`, if there is one. A pool the jobfile does not declare
    /// admits nothing (the jobfile loader rejects jobs that name one).
    pub fn try_acquire(&mut self, pool: &str) -> bool {
        match self.pools.get_mut(pool) {
            Some(p) if p.in_use < p.workers => {
                p.in_use += 1;
                true
            }
            _ => false,
        }
    }

    /// Gives back a slot taken with [`Pools::try_acquire`]. Releasing more than was taken is a
    /// no-op rather than a panic: a miscount must not stop the scheduler.
    pub fn release(&mut self, pool: &str) {
        if let Some(p) = self.pools.get_mut(pool) {
            p.in_use = p.in_use.saturating_sub(1);
        }
    }

    /// Slots of `pool` taken now (0 for an unknown pool).
    pub fn in_use(&self, pool: &str) -> u32 {
        self.pools.get(pool).map_or(0, |p| p.in_use)
    }

    /// The limit of `pool` (0 for an unknown pool, or one removed from the jobfile).
    pub fn workers(&self, pool: &str) -> u32 {
        self.pools.get(pool).map_or(0, |p| p.workers)
    }

    /// Applies the limits of a reloaded jobfile. Slots in use stay taken: a shrunk pool admits
    /// nothing until its runs drain below the new limit, and a pool the jobfile no longer
    /// declares is kept with no workers until its last run releases its slot.
    pub fn resize(&mut self, executors: &[Executor]) {
        let mut old = std::mem::take(&mut self.pools);
        self.pools = limits(executors)
            .map(|(name, workers)| {
                let in_use = old.remove(&name).map_or(0, |p| p.in_use);
                (name, Pool { workers, in_use })
            })
            .collect();
        for (name, pool) in old {
            if pool.in_use > 0 {
                self.pools.insert(name, Pool { workers: 0, ..pool });
            }
        }
    }
}

/// Each pool's limit, `default` included.
fn limits(executors: &[Executor]) -> impl Iterator<Item = (String, u32)> {
    let mut limits: BTreeMap<String, u32> = BTreeMap::new();
    limits.insert(
        defaults::EXECUTOR.to_owned(),
        defaults::UNDECLARED_POOL_WORKERS,
    );
    for e in executors {
        limits.insert(e.name.clone(), e.workers);
    }
    limits.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(name: &str, workers: u32) -> Executor {
        Executor {
            name: name.to_owned(),
            workers,
        }
    }

    #[test]
    fn default_pool_exists_even_when_not_declared() {
        let pools = Pools::new(&[executor("heavy", 1)]);
        assert_eq!(pools.workers("default"), defaults::UNDECLARED_POOL_WORKERS);
        assert_eq!(pools.workers("heavy"), 1);
        assert_eq!(pools.in_use("default"), 0);
    }

    #[test]
    fn a_declared_default_pool_keeps_its_own_limit() {
        let pools = Pools::new(&[executor("default", 2)]);
        assert_eq!(pools.workers("default"), 2);
    }

    #[test]
    fn a_pool_admits_up_to_its_workers_then_again_after_a_release() {
        let mut pools = Pools::new(&[executor("heavy", 2)]);
        assert!(pools.try_acquire("heavy"));
        assert!(pools.try_acquire("heavy"));
        assert!(!pools.try_acquire("heavy"));
        assert_eq!(pools.in_use("heavy"), 2);
        pools.release("heavy");
        assert_eq!(pools.in_use("heavy"), 1);
        assert!(pools.try_acquire("heavy"));
        assert!(!pools.try_acquire("heavy"));
    }

    #[test]
    fn pools_count_their_slots_independently() {
        let mut pools = Pools::new(&[executor("heavy", 1)]);
        assert!(pools.try_acquire("heavy"));
        assert!(!pools.try_acquire("heavy"));
        assert!(pools.try_acquire("default"));
        assert_eq!(pools.in_use("default"), 1);
    }

    #[test]
    fn an_unknown_pool_admits_nothing() {
        let mut pools = Pools::new(&[]);
        assert!(!pools.try_acquire("nope"));
        assert_eq!(pools.workers("nope"), 0);
        pools.release("nope");
        assert_eq!(pools.in_use("nope"), 0);
    }

    #[test]
    fn releasing_more_than_was_taken_stays_at_zero() {
        let mut pools = Pools::new(&[]);
        pools.release("default");
        assert_eq!(pools.in_use("default"), 0);
        assert!(pools.try_acquire("default"));
        assert_eq!(pools.in_use("default"), 1);
    }

    #[test]
    fn a_shrunk_pool_keeps_its_runs_and_admits_nothing_until_it_drains() {
        let mut pools = Pools::new(&[executor("heavy", 3)]);
        for _ in 0..3 {
            assert!(pools.try_acquire("heavy"));
        }
        pools.resize(&[executor("heavy", 1)]);
        assert_eq!((pools.in_use("heavy"), pools.workers("heavy")), (3, 1));
        assert!(!pools.try_acquire("heavy"));
        pools.release("heavy");
        assert!(!pools.try_acquire("heavy"));
        pools.release("heavy");
        assert_eq!(pools.in_use("heavy"), 1);
        assert!(!pools.try_acquire("heavy"));
        pools.release("heavy");
        assert!(pools.try_acquire("heavy"));
    }

    #[test]
    fn a_grown_pool_admits_more_at_once() {
        let mut pools = Pools::new(&[executor("heavy", 1)]);
        assert!(pools.try_acquire("heavy"));
        pools.resize(&[executor("heavy", 2)]);
        assert!(pools.try_acquire("heavy"));
        assert!(!pools.try_acquire("heavy"));
    }

    #[test]
    fn a_removed_pool_lingers_with_no_workers_until_its_runs_end() {
        let mut pools = Pools::new(&[executor("heavy", 2), executor("idle", 1)]);
        assert!(pools.try_acquire("heavy"));
        pools.resize(&[]);
        assert_eq!((pools.in_use("heavy"), pools.workers("heavy")), (1, 0));
        assert!(!pools.try_acquire("heavy"));
        assert_eq!(pools.workers("idle"), 0);
        pools.release("heavy");
        assert_eq!(pools.in_use("heavy"), 0);
        // Declared again on a later reload, it starts from what is still in use.
        pools.resize(&[executor("heavy", 2)]);
        assert_eq!((pools.in_use("heavy"), pools.workers("heavy")), (0, 2));
        assert_eq!(pools.workers("default"), defaults::UNDECLARED_POOL_WORKERS);
    }
}
