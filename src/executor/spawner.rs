//! Spawning runs off the scheduler's thread: a few worker threads take prepared runs in the
//! order they were handed over, start them, and hand the results back in that same order,
//! waking the scheduler's `poll(2)` through a socket it watches.
//!
//! Why: a spawn holds its thread until the child has called `exec` (vfork), and a pool whose
//! runs are short turns over only as fast as its freed slots are filled. When the loop itself
//! spawned, reaping, reading pipes, logging and claiming all waited for each spawn in turn; a
//! pool of ten working through a thousand runs of `true` took 1.4-1.6 times as long as a bare
//! loop that only spawns (issue 11). With the spawns here, the loop does that work while
//! processes start, and two spawns overlap on two cores.
//!
//! Nothing here waits for a child or reads its pipes: the scheduler still does both. Workers
//! sleep on a condition variable while there is nothing to spawn; none polls.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use super::child::{Prepared, RunningChild, SpawnError};

/// At most this many threads spawn at once.
const MAX_THREADS: usize = 4;

/// How a handed-over run's spawn went.
pub type Spawned = Result<RunningChild, SpawnError>;

/// The spawning threads and what they have been handed. Dropping it stops the threads once
/// they are done with the spawn each may be in; runs handed over and not yet started are then
/// not started.
pub struct Spawner {
    shared: Arc<Shared>,
    /// The loop's end of the wake-up socket: readable when results are waiting.
    wake: UnixStream,
    threads: usize,
    workers: Vec<JoinHandle<()>>,
    /// Runs handed over so far; the next one's number.
    handed: u64,
    /// Results handed back so far; the next one's number.
    returned: u64,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    /// The workers' end of the wake-up socket.
    notify: UnixStream,
}

#[derive(Default)]
struct State {
    orders: VecDeque<(u64, Result<Prepared, SpawnError>)>,
    done: BTreeMap<u64, Spawned>,
    closing: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Spawner {
    /// A spawner with one thread per core (at most `MAX_THREADS`), started at the first run
    /// handed over. A spawn's `exec` runs while its thread waits (vfork), so spawns from two
    /// threads overlap on two cores: with 1,000 runs due at once on 2 busy cores, the last
    /// started after 0.54-0.73 s from two threads, 1.03-1.16 s from one (issue 11).
    pub fn new() -> io::Result<Spawner> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Spawner::with_threads(cores.min(MAX_THREADS))
    }

    /// A spawner with `threads` threads (at least one).
    pub fn with_threads(threads: usize) -> io::Result<Spawner> {
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        // A full socket already has the loop's attention: a worker never waits on it.
        notify.set_nonblocking(true)?;
        Ok(Spawner {
            shared: Arc::new(Shared {
                state: Mutex::default(),
                work: Condvar::new(),
                notify,
            }),
            wake,
            threads: threads.max(1),
            workers: Vec::new(),
            handed: 0,
            returned: 0,
        })
    }

    /// Hands a prepared run over to be started; a run that could not be prepared comes back
    /// with its error, in its turn. Returns the run's number (0 for the first handed over).
    pub fn hand_over(&mut self, prepared: Result<Prepared, SpawnError>) -> io::Result<u64> {
        // Fewer threads than asked for still spawn; none at all cannot.
        if self.workers.len() < self.threads
            && let Err(e) = self.start_workers()
            && self.workers.is_empty()
        {
            return Err(e);
        }
        let number = self.handed;
        self.shared.lock().orders.push_back((number, prepared));
        self.shared.work.notify_one();
        self.handed += 1;
        Ok(number)
    }

    fn start_workers(&mut self) -> io::Result<()> {
        while self.workers.len() < self.threads {
            let shared = Arc::clone(&self.shared);
            let worker = std::thread::Builder::new()
                .name("jobrun-spawn".into())
                .spawn(move || work(&shared))?;
            self.workers.push(worker);
        }
        Ok(())
    }

    /// Runs handed over so far (the number the next one gets).
    pub fn handed(&self) -> u64 {
        self.handed
    }

    /// Runs handed over whose result has not been handed back yet.
    pub fn in_flight(&self) -> u64 {
        self.handed - self.returned
    }

    /// Readable when results may be waiting: for the caller's `poll(2)`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The results ready to be handed back, in the order their runs were handed over, each
    /// with its run's number. A result that is ready waits for every earlier one.
    pub fn take_ready(&mut self) -> Vec<(u64, Spawned)> {
        let mut drain = [0u8; 64];
        while matches!((&self.wake).read(&mut drain), Ok(n) if n > 0) {}
        let mut state = self.shared.lock();
        let mut ready = Vec::new();
        while let Some(result) = state.done.remove(&self.returned) {
            ready.push((self.returned, result));
            self.returned += 1;
        }
        ready
    }
}

impl Drop for Spawner {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.work.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker: takes the oldest run handed over, starts it, hands the result back, and wakes
/// the loop; sleeps while there is nothing to start.
fn work(shared: &Shared) {
    loop {
        let (number, prepared) = {
            let mut state = shared.lock();
            loop {
                if state.closing {
                    return;
                }
                if let Some(order) = state.orders.pop_front() {
                    break order;
                }
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        // A spawn panics only on a bug; the run is then reported as failed rather than lost,
        // which would keep its slot taken and the loop waiting for it for ever.
        let result = catch_unwind(AssertUnwindSafe(|| prepared.and_then(Prepared::spawn)))
            .unwrap_or_else(|_| {
                Err(SpawnError::Setup {
                    source: io::Error::other("the spawning thread failed"),
                })
            });
        shared.lock().done.insert(number, result);
        // Full (`WouldBlock`): the loop has bytes to read already, and takes every result
        // that is ready when it reads them.
        let _ = (&shared.notify).write(&[1]);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use chrono::{DateTime, Utc};
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};

    use super::*;
    use crate::executor::{BaseEnv, Launch, LineSplitter, own_children, prepare};
    use crate::job::{Command, Job};
    use crate::trigger::{CronExpr, CronTrigger, Trigger};
    use crate::zone::Tz;

    const BOUND: Duration = Duration::from_secs(10);

    fn job(words: &[&str]) -> Job {
        let trigger = Trigger::Cron(CronTrigger::new(
            CronExpr::parse("0 3 * * *").unwrap(),
            Tz::UTC,
        ));
        let command = Command::Argv(words.iter().map(|w| (*w).to_owned()).collect());
        Job::new("report", trigger, Tz::UTC, command)
    }

    fn prepared(job: &Job, run_id: &str) -> Result<Prepared, SpawnError> {
        let scheduled: DateTime<Utc> = "2026-03-08T07:00:00Z".parse().unwrap();
        let launch = Launch {
            job,
            scheduled_at: scheduled,
            run_id,
            jobfile: Path::new("/srv/jobrun.toml"),
            base_dir: Path::new("/"),
            after_run_id: None,
        };
        prepare(&launch, &BaseEnv::capture())
    }

    /// Waits on the spawner's descriptor (as the loop's `poll` does) until `count` results
    /// have come back.
    fn collect(spawner: &mut Spawner, count: usize) -> Vec<(u64, Spawned)> {
        let start = Instant::now();
        let mut results = Vec::new();
        while results.len() < count {
            assert!(start.elapsed() < BOUND, "only {} results", results.len());
            let mut fds = [PollFd::new(spawner.fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(50u16)).unwrap();
            results.extend(spawner.take_ready());
        }
        results
    }

    /// The child's stdout, to its end, and its exit code.
    fn finish(child: RunningChild) -> (String, i32) {
        let mut splitter = LineSplitter::new();
        let mut lines = Vec::new();
        let start = Instant::now();
        loop {
            assert!(start.elapsed() < BOUND, "the child's stdout stays open");
            let mut fds = [PollFd::new(child.stdout.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(50u16)).unwrap();
            let eof = splitter
                .read_from(child.stdout.as_fd(), |l| lines.push(l.to_owned()))
                .unwrap();
            if eof {
                break;
            }
        }
        let code = loop {
            assert!(start.elapsed() < BOUND, "the child does not end");
            match waitpid(child.pid, Some(WaitPidFlag::WNOHANG)).unwrap() {
                WaitStatus::Exited(_, code) => break code,
                WaitStatus::StillAlive => std::thread::sleep(Duration::from_millis(5)),
                other => panic!("{other:?}"),
            }
        };
        (lines.join("\n"), code)
    }

    #[test]
    fn results_come_back_in_the_order_runs_were_handed_over() {
        let _children = own_children();
        let mut spawner = Spawner::with_threads(3).unwrap();
        // Some runs fail to prepare or to start: their errors keep their places too.
        let jobs: Vec<Job> = (0..24)
            .map(|i| match i {
                5 => job(&["no-such-program-jobrun"]),
                11 => job(&["/nonexistent/jobrun-program"]),
                _ => job(&["sh", "-c", "echo $JOBRUN_RUN_ID"]),
            })
            .collect();
        for (i, job) in jobs.iter().enumerate() {
            assert_eq!(
                spawner.hand_over(prepared(job, &format!("r{i}"))).unwrap(),
                i as u64
            );
        }
        assert_eq!(spawner.handed(), 24);
        let results = collect(&mut spawner, 24);
        assert_eq!(spawner.in_flight(), 0);
        for (i, (number, result)) in results.into_iter().enumerate() {
            assert_eq!(number, i as u64);
            match (i, result) {
                (5, Err(e)) => assert!(e.to_string().contains("no-such-program-jobrun"), "{e}"),
                (11, Err(e)) => {
                    assert!(e.to_string().contains("/nonexistent/jobrun-program"), "{e}");
                }
                (_, Ok(child)) => assert_eq!(finish(child), (format!("r{i}"), 0)),
                (_, Err(e)) => panic!("run {i}: {e}"),
            }
        }
    }

    #[test]
    fn nothing_is_ready_before_a_run_is_handed_over_and_a_spawner_can_be_dropped_unused() {
        let mut spawner = Spawner::with_threads(2).unwrap();
        assert!(spawner.take_ready().is_empty());
        assert_eq!(spawner.in_flight(), 0);
        let mut fds = [PollFd::new(spawner.fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 0);
        drop(spawner);
    }

    #[test]
    fn the_loops_descriptor_is_readable_once_a_result_is_ready() {
        let _children = own_children();
        let mut spawner = Spawner::with_threads(1).unwrap();
        let true_job = job(&["true"]);
        spawner.hand_over(prepared(&true_job, "r0")).unwrap();
        assert_eq!(spawner.in_flight(), 1);
        let mut fds = [PollFd::new(spawner.fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::from(10_000u16)).unwrap(), 1);
        let mut results = collect(&mut spawner, 1);
        let (number, result) = results.pop().unwrap();
        assert_eq!(number, 0);
        assert_eq!(finish(result.unwrap()).1, 0);
        // Read: not readable again until the next result.
        let mut fds = [PollFd::new(spawner.fd(), PollFlags::POLLIN)];
        assert_eq!(poll(&mut fds, PollTimeout::ZERO).unwrap(), 0);
    }
}
