//! Runs a previous scheduler left behind. When `jobrun start` is killed (SIGKILL, a crash, an
//! OOM kill), its runs live on in their own process groups, and the state store still shows
//! them as running. The next start finds them and ends them on purpose before it schedules
//! anything, so a job never overlaps with a run nobody watches: its output has nowhere to go,
//! its exit status cannot be collected by anyone but init, and `max_instances` could not be
//! honoured for it.
//!
//! Runs are found by their environment rather than by a recorded pid: every run carries
//! `JOBRUN_JOBFILE` and `JOBRUN_RUN_ID`, which identify it even if it was killed between its
//! spawn and the store's note of its pid, and which a recycled pid cannot fake.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::executor::signal_group;

/// A process group found running for a recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Leftover {
    pub(super) run_id: String,
    pub(super) pgid: Pid,
}

/// Every process group holding a process whose environment has `JOBRUN_JOBFILE=jobfile` and
/// `JOBRUN_RUN_ID` one of `run_ids`, one entry per (run, group). Processes jobrun may not
/// inspect (another user's) are skipped: they cannot be its runs.
pub(super) fn find(jobfile: &str, run_ids: &HashSet<String>) -> Vec<Leftover> {
    let mut found = HashMap::new();
    if run_ids.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let Some(run_id) = run_of(&environ, jobfile).filter(|id| run_ids.contains(id)) else {
            continue;
        };
        if let Some(pgid) = process_group(pid) {
            found.insert((run_id.clone(), pgid), Leftover { run_id, pgid });
        }
    }
    let mut leftovers: Vec<Leftover> = found.into_values().collect();
    leftovers.sort_by_key(|l| (l.pgid.as_raw(), l.run_id.clone()));
    leftovers
}

/// The run id in a process environment (NUL-separated `NAME=value`), if it belongs to
/// `jobfile`.
fn run_of(environ: &[u8], jobfile: &str) -> Option<String> {
    let mut ours = false;
    let mut run_id = None;
    for entry in environ.split(|&b| b == 0) {
        if let Some(value) = entry.strip_prefix(b"JOBRUN_JOBFILE=") {
            ours = value == jobfile.as_bytes();
        } else if let Some(value) = entry.strip_prefix(b"JOBRUN_RUN_ID=") {
            run_id = std::str::from_utf8(value).ok().map(str::to_owned);
        }
    }
    run_id.filter(|_| ours)
}

/// The process group of `pid`, from `/proc/PID/stat` (the fifth field; the second, the
/// command name in parentheses, may itself hold spaces and parentheses).
fn process_group(pid: u32) -> Option<Pid> {
    stat_of(pid).map(|(_, pgid)| pgid)
}

/// The state letter (`R`, `S`, `Z`…) and process group of `pid`.
fn stat_of(pid: u32) -> Option<(char, Pid)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgid: i32 = fields.nth(1)?.parse().ok()?;
    Some((state, Pid::from_raw(pgid)))
}

/// Whether a process of the group is still alive. Zombies do not count: `kill(2)` reaches them,
/// but they are already dead and wait only for init (not jobrun) to collect them, which some
/// container inits are slow to do.
fn group_alive(pgid: Pid) -> bool {
    if killpg(pgid, None).is_err() {
        return false;
    }
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.flatten().any(|entry| {
        entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
            .and_then(stat_of)
            .is_some_and(|(state, group)| group == pgid && state != 'Z')
    })
}

/// Sends SIGTERM to every group, waits until they are gone or `grace` has passed, then sends
/// SIGKILL to what is left. Returns the groups that needed SIGKILL.
///
/// The groups are not jobrun's children (their parent died), so no SIGCHLD announces their end:
/// this checks every 20 ms, during start-up only and for at most `grace`.
pub(super) fn end(groups: &[Pid], grace: Duration) -> Vec<Pid> {
    for &pgid in groups {
        let _ = signal_group(pgid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    let alive = |pgid: &&Pid| group_alive(**pgid);
    while groups.iter().any(|g| alive(&g)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stubborn: Vec<Pid> = groups.iter().filter(alive).copied().collect();
    for &pgid in &stubborn {
        let _ = signal_group(pgid, Signal::SIGKILL);
    }
    stubborn
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    use super::*;
    use crate::executor::own_children;

    #[test]
    fn the_run_id_counts_only_with_the_same_jobfile() {
        let environ = b"PATH=/bin\0JOBRUN_JOBFILE=/srv/a.toml\0JOBRUN_RUN_ID=42\0";
        assert_eq!(run_of(environ, "/srv/a.toml"), Some("42".into()));
        assert_eq!(run_of(environ, "/srv/b.toml"), None);
        assert_eq!(run_of(b"JOBRUN_RUN_ID=42\0", "/srv/a.toml"), None);
    }

    #[test]
    fn a_leftover_group_is_found_by_its_environment_and_ended() {
        let _children = own_children();
        let jobfile = format!("/nonexistent/leftovers-{}.toml", std::process::id());
        // One process: its end is this test's to collect (a zombie still counts as alive),
        // which a thread does, as init would for a real leftover.
        let child = Command::new("sleep")
            .arg("30")
            .env("JOBRUN_JOBFILE", &jobfile)
            .env("JOBRUN_RUN_ID", "7")
            .process_group(0)
            .spawn()
            .unwrap();
        let pgid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let reaper = std::thread::spawn(move || {
            let mut child = child;
            child.wait()
        });
        let wanted: HashSet<String> = ["7".to_owned(), "8".to_owned()].into();
        // A spawn returns once the child has let go of this process's memory, a moment before
        // the kernel has laid out its environment: /proc shows it empty until then.
        let start = Instant::now();
        let mut found = find(&jobfile, &wanted);
        while found.is_empty() && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
            found = find(&jobfile, &wanted);
        }
        assert_eq!(
            found,
            [Leftover {
                run_id: "7".into(),
                pgid
            }]
        );
        assert!(find(&jobfile, &["9".to_owned()].into()).is_empty());
        assert!(find("/other.toml", &wanted).is_empty());

        let needed_kill = end(&[pgid], Duration::from_secs(10));
        assert!(needed_kill.is_empty());
        let status = reaper.join().unwrap().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15)
        );
        assert!(killpg(pgid, None).is_err(), "the whole group is gone");
    }
}
