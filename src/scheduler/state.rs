//! What the scheduler reads from and writes to its state store at start-up: runs an earlier
//! scheduler left unfinished, and where each job's schedule resumes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use nix::unistd::Pid;

use super::leftovers;
use crate::executor::ExitStatus;
use crate::job::{Job, defaults};
use crate::log::Log;
use crate::plan::{Planner, store_key};
use crate::store::{Outcome, Store, StoreError};

/// Records every job's schedule key (clearing the last fire of jobs whose schedule changed).
pub(super) fn record_schedules(store: &mut Store, jobs: &[Job]) -> Result<(), StoreError> {
    let keys: Vec<(&str, String)> = jobs
        .iter()
        .map(|j| (j.name.as_str(), store_key(j)))
        .collect();
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(n, k)| (*n, k.as_str())).collect();
    store.set_schedules(&pairs)
}

/// Resumes each job of the planner from the last fire the store has for it; returns how many
/// were resumed.
pub(super) fn resume(store: &Store, planner: &mut Planner) -> Result<usize, StoreError> {
    let mut resumed = 0;
    for (name, state) in store.job_states()? {
        if let Some(last) = state.last_fire {
            planner.resume(&name, last);
            resumed += 1;
        }
    }
    Ok(resumed)
}

/// Ends what an earlier scheduler left running and records its unfinished runs as interrupted
/// (see `leftovers.rs` for why they are ended rather than adopted).
pub(super) fn recover(
    store: &mut Store,
    jobs: &[Job],
    jobfile: &Path,
    log: &mut Log,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let unfinished = store.unfinished()?;
    if unfinished.is_empty() {
        return Ok(());
    }
    let ids: HashSet<String> = unfinished.iter().map(|r| r.id.to_string()).collect();
    let found = leftovers::find(&jobfile.to_string_lossy(), &ids);
    let mut groups_of: HashMap<String, BTreeSet<i32>> = HashMap::new();
    for leftover in &found {
        groups_of
            .entry(leftover.run_id.clone())
            .or_default()
            .insert(leftover.pgid.as_raw());
    }
    // Each group gets its job's kill_after to end after SIGTERM; all are ended together, so
    // the longest counts.
    let grace = unfinished
        .iter()
        .filter(|r| groups_of.contains_key(&r.id.to_string()))
        .map(|r| {
            jobs.iter()
                .find(|j| j.name == r.job)
                .map_or(defaults::KILL_AFTER, |j| j.kill_after)
        })
        .max()
        .unwrap_or(defaults::KILL_AFTER);
    let groups: Vec<Pid> = groups_of
        .values()
        .flatten()
        .copied()
        .collect::<BTreeSet<i32>>()
        .into_iter()
        .map(Pid::from_raw)
        .collect();
    let killed: HashSet<i32> = leftovers::end(&groups, grace.as_std())
        .into_iter()
        .map(Pid::as_raw)
        .collect();
    for run in unfinished {
        let note = match (groups_of.get(&run.id.to_string()), &run.outcome) {
            (Some(pgids), _) => {
                let list: Vec<String> = pgids.iter().map(i32::to_string).collect();
                let how = if pgids.iter().any(|p| killed.contains(p)) {
                    "SIGTERM, then SIGKILL"
                } else {
                    "SIGTERM"
                };
                format!(
                    "jobrun stopped while it ran; its process group {} was still running at \
                     the next start and was ended ({how})",
                    list.join(", ")
                )
            }
            (None, Outcome::Running { pid }) => format!(
                "jobrun stopped while it ran (pid {pid}); it had ended by the next start, \
                 how is unknown"
            ),
            _ => "jobrun stopped as the run was starting; nothing of it was running at the \
                  next start"
                .to_owned(),
        };
        store.mark_interrupted(run.id, now, &note)?;
        log.event(
            now,
            "interrupted",
            &[
                ("job", run.job.as_str().into()),
                ("run", run.id.into()),
                ("scheduled", run.scheduled.to_rfc3339().into()),
                ("note", note.into()),
            ],
        );
    }
    Ok(())
}

/// A run's end as the store records it.
pub(super) fn outcome(status: ExitStatus) -> Outcome {
    match status {
        ExitStatus::Code(code) => Outcome::Exited { code },
        ExitStatus::Signal(signal) => Outcome::Signaled {
            signal: signal as i32,
        },
    }
}
