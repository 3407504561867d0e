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
use crate::plan::store_key;
use crate::store::{JobState, Outcome, Store, StoreError};

/// Records every job's schedule key (clearing the last fire of jobs whose schedule changed),
/// and forgets the jobs the jobfile no longer has.
pub(super) fn record_schedules(
    store: &mut Store,
    jobs: &[Job],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let known = store.job_states()?;
    write_changed_keys(store, jobs, &known, now)
}

/// Writes the keys that differ from what the store has, and forgets removed jobs: at a restart
/// of an unchanged jobfile, nothing, so ten thousand jobs cost one read instead of ten
/// thousand upserts. A chained job whose key is written starts its chain at `now`: the
/// upstream ends a later start replays for it are those after that.
fn write_changed_keys(
    store: &mut Store,
    jobs: &[Job],
    known: &HashMap<String, JobState>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let current: HashSet<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
    let removed: Vec<&str> = known
        .keys()
        .map(String::as_str)
        .filter(|name| !current.contains(name))
        .collect();
    store.forget_jobs(&removed)?;
    let changed: Vec<(&Job, String)> = jobs
        .iter()
        .map(|j| (j, store_key(j)))
        .filter(|(job, key)| known.get(&job.name).is_none_or(|s| &s.schedule != key))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(&str, &str)> = changed
        .iter()
        .map(|(job, key)| (job.name.as_str(), key.as_str()))
        .collect();
    store.set_schedules(&pairs)?;
    let chains: Vec<&str> = changed
        .iter()
        .filter(|(job, _)| !job.trigger.upstreams().is_empty())
        .map(|(job, _)| job.name.as_str())
        .collect();
    store.start_chains(&chains, now)
}

/// At start: records the jobs' schedule keys, and returns where each job whose schedule did
/// not change resumes: the last fire the store has for it (see [`crate::plan::Planner::resume`]).
pub(super) fn resume_points(
    store: &mut Store,
    jobs: &[Job],
    now: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    let known = store.job_states()?;
    write_changed_keys(store, jobs, &known, now)?;
    Ok(jobs
        .iter()
        .filter_map(|job| {
            let state = known.get(&job.name)?;
            let last = state
                .last_fire
                .filter(|_| state.schedule == store_key(job))?;
            Some((job.name.clone(), last))
        })
        .collect())
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
        ExitStatus::Signal(signal) => Outcome::Signaled { signal },
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::Planner;
    use crate::store::Claim;
    use crate::zone::Tz;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn jobs(text: &str) -> Vec<Job> {
        crate::jobfile::parse(Path::new("jobrun.toml"), text, Tz::UTC)
            .unwrap_or_else(|d| panic!("{d}"))
            .jobs
    }

    /// A store that ran `first` until it claimed each job's fire at `last`, then is restarted
    /// with `then` at `back`: the planner's events at `back`.
    fn restart(first: &str, then: &str, last: &str, back: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        {
            let mut store = Store::open_exclusive(&path, utc(last)).unwrap();
            let before = jobs(first);
            record_schedules(&mut store, &before, utc(last)).unwrap();
            let claims: Vec<Claim<'_>> = before
                .iter()
                .map(|j| Claim {
                    job: &j.name,
                    scheduled: utc(last),
                    manual: false,
                    attempt: 1,
                    attempts: 1,
                })
                .collect();
            store.claim(&claims, utc(last)).unwrap();
        }
        let mut store = Store::open_exclusive(&path, utc(back)).unwrap();
        let after = jobs(then);
        let points = resume_points(&mut store, &after, utc(back)).unwrap();
        let mut planner = Planner::new(after, &[], utc(back), 1);
        for (name, last) in points {
            planner.resume(&name, last);
        }
        planner
            .advance(utc(back))
            .iter()
            .map(|e| format!("{e:?}"))
            .collect()
    }

    /// A store at `path` whose scheduler ran `MINUTELY` and claimed job `j`'s fire at `t`.
    fn ran_minutely_until(path: &Path, t: DateTime<Utc>) -> Store {
        let mut store = Store::open_exclusive(path, t).unwrap();
        record_schedules(&mut store, &jobs(MINUTELY), t).unwrap();
        let claim = Claim {
            job: "j",
            scheduled: t,
            manual: false,
            attempt: 1,
            attempts: 1,
        };
        store.claim(&[claim], t).unwrap();
        store
    }

    const MINUTELY: &str =
        "[jobs.j]\ncommand = [\"true\"]\ncron = \"* * * * *\"\nmisfire_grace = \"10m\"\n";

    #[test]
    fn an_unchanged_job_catches_up_what_passed_while_jobrun_was_down() {
        let events = restart(
            MINUTELY,
            MINUTELY,
            "2026-05-01T10:00:00Z",
            "2026-05-01T10:02:30Z",
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(events[0].starts_with("Coalesced"), "{events:?}");
        assert!(events[1].contains("2026-05-01T10:02:00Z"), "{events:?}");
    }

    #[test]
    fn a_trigger_changed_while_jobrun_was_down_starts_afresh() {
        let changed = MINUTELY.replace("* * * * *", "*/2 * * * *");
        let events = restart(
            MINUTELY,
            &changed,
            "2026-05-01T10:00:00Z",
            "2026-05-01T10:02:30Z",
        );
        assert!(events.is_empty(), "old fires are not caught up: {events:?}");
    }

    #[test]
    fn a_job_removed_and_added_again_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let other = MINUTELY.replace("jobs.j]", "jobs.k]");
        let t = utc("2026-05-01T10:00:00Z");
        let mut store = ran_minutely_until(&path, t);
        // A reload (or restart) without `j`, then one with it back.
        record_schedules(&mut store, &jobs(&other), t).unwrap();
        let states = store.job_states().unwrap();
        assert!(
            !states.contains_key("j") && states.contains_key("k"),
            "{states:?}"
        );
        assert_eq!(
            store.history(Some("j"), 10).unwrap().len(),
            1,
            "history stays"
        );
        let back = utc("2026-05-01T10:02:30Z");
        let points = resume_points(&mut store, &jobs(MINUTELY), back).unwrap();
        assert!(points.is_empty(), "{points:?}");
        let mut planner = Planner::new(jobs(MINUTELY), &[], back, 1);
        for (name, last) in points {
            planner.resume(&name, last);
        }
        assert!(planner.advance(back).is_empty());
    }

    #[test]
    fn a_job_resumed_while_jobrun_was_down_does_not_catch_up_its_pause() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let paused = format!("{MINUTELY}paused = true\n");
        let t = utc("2026-05-01T10:00:00Z");
        {
            let mut store = ran_minutely_until(&path, t);
            // Paused, and jobrun restarted once while it was.
            record_schedules(&mut store, &jobs(&paused), t).unwrap();
        }
        let mut store = Store::open_exclusive(&path, t).unwrap();
        record_schedules(&mut store, &jobs(MINUTELY), t).unwrap();
        let states = store.job_states().unwrap();
        assert_eq!(states["j"].last_fire, None);
    }
}
