//! A pool's queue of runs waiting for a slot, first come, first served, indexed by job: how
//! many runs of a job wait is asked at every admission (`max_instances` counts them), so it is
//! kept with the queue rather than counted by a scan of it. A thousand runs queued at one
//! instant behind a pool of ten are each admitted twice (into the queue, then out of it): with
//! a scan per admission that was a million comparisons of job names (issue 11).
//!
//! Every change to a queue goes through the methods below, which keep the count with it.

use std::collections::{HashMap, VecDeque};

use super::Pending;

#[derive(Debug, Default)]
pub(super) struct Queue {
    runs: VecDeque<Pending>,
    /// Runs waiting per job; a job with none has no entry.
    per_job: HashMap<String, u32>,
}

impl Queue {
    pub(super) fn len(&self) -> usize {
        self.runs.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub(super) fn front(&self) -> Option<&Pending> {
        self.runs.front()
    }

    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &Pending> {
        self.runs.iter()
    }

    /// How many runs of `job` wait here.
    pub(super) fn waiting_of(&self, job: &str) -> u32 {
        self.per_job.get(job).copied().unwrap_or(0)
    }

    /// Puts a run at the back of the line.
    pub(super) fn push_back(&mut self, pending: Pending) {
        self.count(&pending.job);
        self.runs.push_back(pending);
    }

    /// Puts a run where its `queued` number places it (a waiter that began waiting before runs
    /// now in the line).
    pub(super) fn insert_in_order(&mut self, pending: Pending) {
        let at = self.runs.partition_point(|p| p.queued < pending.queued);
        self.count(&pending.job);
        self.runs.insert(at, pending);
    }

    /// Takes the run at the front of the line.
    pub(super) fn pop_front(&mut self) -> Option<Pending> {
        let pending = self.runs.pop_front()?;
        self.uncount(&pending.job);
        Some(pending)
    }

    /// Takes out every run `leave` says must go, keeping the others in their order; does not
    /// move or reallocate anything when none must go.
    pub(super) fn take_where(&mut self, mut leave: impl FnMut(&Pending) -> bool) -> Vec<Pending> {
        if !self.runs.iter().any(&mut leave) {
            return Vec::new();
        }
        let (gone, kept): (VecDeque<Pending>, VecDeque<Pending>) =
            std::mem::take(&mut self.runs).into_iter().partition(leave);
        self.runs = kept;
        for pending in &gone {
            self.uncount(&pending.job);
        }
        gone.into()
    }

    /// Empties the queue, in line order.
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Pending> + use<> {
        self.per_job.clear();
        std::mem::take(&mut self.runs).into_iter()
    }

    fn count(&mut self, job: &str) {
        match self.per_job.get_mut(job) {
            Some(n) => *n += 1,
            None => {
                self.per_job.insert(job.to_owned(), 1);
            }
        }
    }

    fn uncount(&mut self, job: &str) {
        if let Some(n) = self.per_job.get_mut(job) {
            *n -= 1;
            if *n == 0 {
                self.per_job.remove(job);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn run(job: &str, queued: u64) -> Pending {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        Pending {
            job: job.to_owned(),
            scheduled: t,
            due: t,
            queued,
            attempt: 1,
            after: None,
            replaces: None,
        }
    }

    fn line(queue: &Queue) -> Vec<(String, u64)> {
        queue.iter().map(|p| (p.job.clone(), p.queued)).collect()
    }

    /// The index agrees with a count over the line, for every job named in `jobs`.
    fn assert_counts_match(queue: &Queue, jobs: &[&str]) {
        for job in jobs {
            let counted = queue.iter().filter(|p| p.job == *job).count();
            assert_eq!(queue.waiting_of(job) as usize, counted, "runs of {job}");
        }
        assert!(queue.per_job.values().all(|&n| n > 0), "no empty entries");
        let total: u32 = queue.per_job.values().sum();
        assert_eq!(total as usize, queue.len());
    }

    #[test]
    fn the_count_of_each_job_follows_pushes_and_pops() {
        let mut queue = Queue::default();
        for (i, job) in ["a", "b", "a", "c", "a"].into_iter().enumerate() {
            queue.push_back(run(job, i as u64));
        }
        assert_eq!(
            (
                queue.waiting_of("a"),
                queue.waiting_of("b"),
                queue.waiting_of("z")
            ),
            (3, 1, 0)
        );
        assert_counts_match(&queue, &["a", "b", "c", "z"]);
        assert_eq!(queue.pop_front().map(|p| p.job), Some("a".to_owned()));
        assert_eq!(queue.pop_front().map(|p| p.job), Some("b".to_owned()));
        assert_eq!((queue.waiting_of("a"), queue.waiting_of("b")), (2, 0));
        assert_counts_match(&queue, &["a", "b", "c"]);
        while queue.pop_front().is_some() {}
        assert!(queue.is_empty());
        assert!(queue.per_job.is_empty());
    }

    #[test]
    fn a_run_inserted_in_order_takes_its_place_and_is_counted() {
        let mut queue = Queue::default();
        queue.push_back(run("a", 2));
        queue.push_back(run("b", 5));
        queue.insert_in_order(run("w", 3));
        queue.insert_in_order(run("w", 1));
        queue.insert_in_order(run("a", 9));
        assert_eq!(
            line(&queue),
            [
                ("w".to_owned(), 1),
                ("a".to_owned(), 2),
                ("w".to_owned(), 3),
                ("b".to_owned(), 5),
                ("a".to_owned(), 9),
            ]
        );
        assert_counts_match(&queue, &["a", "b", "w"]);
    }

    #[test]
    fn taking_runs_out_keeps_the_rest_in_line_and_counted() {
        let mut queue = Queue::default();
        for (i, job) in ["a", "b", "a", "c", "b"].into_iter().enumerate() {
            queue.push_back(run(job, i as u64));
        }
        assert!(queue.take_where(|p| p.job == "z").is_empty());
        assert_eq!(queue.len(), 5);
        let gone = queue.take_where(|p| p.job == "b" || p.queued == 0);
        let gone: Vec<u64> = gone.iter().map(|p| p.queued).collect();
        assert_eq!(gone, [0, 1, 4]);
        assert_eq!(line(&queue), [("a".to_owned(), 2), ("c".to_owned(), 3)]);
        assert_counts_match(&queue, &["a", "b", "c"]);
    }

    #[test]
    fn draining_empties_the_line_and_the_counts() {
        let mut queue = Queue::default();
        queue.push_back(run("a", 0));
        queue.push_back(run("b", 1));
        let drained: Vec<u64> = queue.drain().map(|p| p.queued).collect();
        assert_eq!(drained, [0, 1]);
        assert!(queue.is_empty());
        assert_eq!(queue.waiting_of("a"), 0);
        assert_counts_match(&queue, &["a", "b"]);
    }
}
