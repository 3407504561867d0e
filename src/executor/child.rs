//! A run's process: spawning it (argv directly, `/bin/sh -c` only for shell jobs) in its own
//! process group with `JOBRUN_*` in its environment, signalling that group, and reaping.
//!
//! It never waits: `spawn` hands back the pid and the pipes, and the scheduler's `poll(2)` loop
//! learns of exits from SIGCHLD and collects them with `exit.rs`'s `reap_any`.
//!
//! Spawning goes through `std::process::Command`, which on Linux takes glibc's `posix_spawn`
//! path (vfork-like, no copy of jobrun's memory) with `posix_spawn_file_actions_addchdir_np`
//! for the working directory and `POSIX_SPAWN_SETPGROUP` for the process group, as long as the
//! program is given as a path (jobrun searches `PATH` itself) and no `pre_exec` hook is set.
//! Nothing in the parent changes during a spawn, so runs are started from several threads at
//! once (`spawner.rs`). The child starts with an empty signal mask and SIGPIPE at its
//! default (std does both); jobrun blocks no signal (see `scheduler/signals.rs`), and the
//! signals it handles are reset to their defaults by `exec`. A signal jobrun itself was started
//! with ignored (other than SIGPIPE and the four it handles) stays ignored in its jobs, as it
//! would under cron.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{AccessFlags, Pid, access};

use super::environment::{BaseEnv, DEFAULT_PATH, SHELL};
use super::identity::{self, Identity, IdentityError, Running};
use crate::job::{Command, Job};

/// One run to start.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub job: &'a Job,
    /// The nominal fire time (before jitter), given to the run as `JOBRUN_SCHEDULED_AT`.
    pub scheduled_at: DateTime<Utc>,
    pub run_id: &'a str,
    /// The jobfile, absolute: given to the run as `JOBRUN_JOBFILE`, which with `JOBRUN_RUN_ID`
    /// lets a later scheduler recognise a run an earlier one left behind.
    pub jobfile: &'a Path,
    /// The jobfile's directory: the working directory when `job.workdir` is `None`, and what a
    /// relative `workdir` is relative to.
    pub base_dir: &'a Path,
    /// For a run an `after` trigger fired: the upstream run's id, given as
    /// `JOBRUN_AFTER_RUN_ID`.
    pub after_run_id: Option<&'a str>,
}

/// A started run: its pid, which is also its process group id, and the read ends of its
/// stdout and stderr pipes (non-blocking, close-on-exec).
#[derive(Debug)]
pub struct RunningChild {
    pub pid: Pid,
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Why a run could not start. The scheduler reports it and records the run as failed.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("working directory {} does not exist", path.display())]
    WorkdirMissing { path: PathBuf },

    #[error("working directory {} is not a directory", path.display())]
    WorkdirNotDirectory { path: PathBuf },

    #[error("cannot use working directory {}: {source}", path.display())]
    Workdir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// An argv job with no words (the jobfile loader rejects those).
    #[error("the command is empty")]
    EmptyCommand,

    /// The program is missing or not executable, an argument holds a NUL byte, or the system
    /// is out of processes. `program` is written as the jobfile has it.
    #[error("cannot run {program:?}: {source}")]
    Program {
        program: String,
        #[source]
        source: io::Error,
    },

    /// The job's `user` or `group` cannot be had (see `identity.rs`).
    #[error("cannot run as the job's user: {0}")]
    Identity(#[from] IdentityError),

    /// A variable of the job's `env` that no environment can hold.
    #[error("cannot pass environment variable {name:?}: {reason}")]
    Environment { name: String, reason: &'static str },

    /// Pipes, `/dev/null` or spawn attributes could not be set up: out of file descriptors,
    /// mostly.
    #[error("cannot prepare the run: {source}")]
    Setup {
        #[source]
        source: io::Error,
    },
}

/// Starts a run without waiting for anything.
///
/// - argv jobs are executed directly (a name without a slash is searched in the run's `PATH`,
///   relative entries from the working directory); shell jobs as `/bin/sh -c SCRIPT`;
/// - the working directory is `job.workdir` (joined to `base_dir` when relative), else
///   `base_dir`; a program named by a relative path (`./report.sh`) is found there too;
/// - the environment is the clean one of `environment.rs` (with what the job's `inherit_env`
///   lets through), then `PWD` set to the working directory, the job's `env`, and last
///   `JOBRUN_JOB`, `JOBRUN_SCHEDULED_AT` (RFC 3339 in the job's zone), `JOBRUN_RUN_ID`,
///   `JOBRUN_JOBFILE` and, for a chained run, `JOBRUN_AFTER_RUN_ID`, which a job's `env`
///   cannot override;
/// - stdin is `/dev/null`; stdout and stderr are pipes;
/// - the child leads a new process group, with no signal blocked.
pub fn spawn(launch: &Launch<'_>) -> Result<RunningChild, SpawnError> {
    prepare(launch, &BaseEnv::capture())?.spawn()
}

/// A run checked and built, ready to start: its working directory checked, its program found
/// and its environment and arguments in place. The scheduler prepares the runs of an instant
/// shortly before it, so that at the instant only the processes remain to be started.
#[derive(Debug)]
pub struct Prepared {
    command: std::process::Command,
    /// As the jobfile has it, for errors.
    program: String,
}

/// Everything [`spawn`] does but start the process: `base` is what the environment is built
/// from.
pub fn prepare(launch: &Launch<'_>, base: &BaseEnv) -> Result<Prepared, SpawnError> {
    let job = launch.job;
    let identity = match (&job.user, &job.group) {
        (None, None) => None,
        (user, group) => Some(identity::resolve(
            user.as_deref(),
            group.as_deref(),
            Running::current(),
        )?),
    };
    let workdir = match (
        &job.workdir,
        identity.as_ref().and_then(|i| i.home.as_ref()),
    ) {
        (Some(dir), _) => launch.base_dir.join(dir),
        // As under cron, a job run as a user starts in that user's home; in `/` when the
        // home does not exist (nobody's /nonexistent), as Debian's cron does.
        (None, Some(home)) if home.is_dir() => home.clone(),
        (None, Some(_)) => PathBuf::from("/"),
        (None, None) => launch.base_dir.to_path_buf(),
    };
    let (program, args): (&str, &[String]) = match &job.command {
        Command::Argv(words) => {
            let (program, args) = words.split_first().ok_or(SpawnError::EmptyCommand)?;
            (program, args)
        }
        Command::Shell(script) => (
            job.shell.as_deref().unwrap_or(SHELL),
            std::slice::from_ref(script),
        ),
    };
    let program_error = |source: io::Error| SpawnError::Program {
        program: program.to_owned(),
        source,
    };
    if program.contains('\0') || args.iter().any(|a| a.contains('\0')) {
        return Err(program_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an argument contains a NUL byte",
        )));
    }
    let env = environment(launch, &workdir, base, identity.as_ref())?;
    check_workdir(&workdir)?;
    if let Some(identity) = &identity
        && !identity.may_enter(&workdir)
    {
        return Err(SpawnError::Workdir {
            path: workdir,
            source: io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the job's user may not enter it",
            ),
        });
    }
    let path =
        find_program(program, env.get(OsStr::new("PATH")), &workdir).map_err(program_error)?;

    let mut command = std::process::Command::new(&path);
    command
        .arg0(program)
        .env_clear()
        .envs(&env)
        .process_group(0)
        .stdin(super::stdin::stdin_for(job.stdin.as_deref()).map_err(setup_error)?)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Command::Shell(_) = job.command {
        command.arg("-c");
    }
    command.args(args);
    match &identity {
        Some(identity) => identity.apply(&mut command, &workdir).map_err(|_| {
            program_error(io::Error::other(
                "the working directory contains a NUL byte",
            ))
        })?,
        None => {
            command.current_dir(&workdir);
        }
    }
    Ok(Prepared {
        command,
        program: program.to_owned(),
    })
}

impl Prepared {
    /// Sets one more variable of the run's environment, over what [`prepare`] put there (the
    /// scheduler's `JOBRUN_ATTEMPT`).
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.command.env(name, value);
    }

    /// Starts the process.
    pub fn spawn(mut self) -> Result<RunningChild, SpawnError> {
        let program = self.program;
        let child = self
            .command
            .spawn()
            .map_err(|source| SpawnError::Program { program, source })?;
        running(child)
    }
}

/// The pid and jobrun's non-blocking ends of the pipes of a child just spawned.
fn running(child: std::process::Child) -> Result<RunningChild, SpawnError> {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    // Dropping a `Child` neither waits for nor signals it: the scheduler reaps it.
    let (Some(stdout), Some(stderr)) = (child.stdout, child.stderr) else {
        return Err(setup_error(io::Error::other("the run's pipes are missing")));
    };
    let (stdout, stderr) = (OwnedFd::from(stdout), OwnedFd::from(stderr));
    // Only jobrun's ends: a job may well not expect EAGAIN on its stdout.
    set_nonblocking(&stdout).map_err(setup_error)?;
    set_nonblocking(&stderr).map_err(setup_error)?;
    Ok(RunningChild {
        pid,
        stdout,
        stderr,
    })
}

fn setup_error(source: impl Into<io::Error>) -> SpawnError {
    SpawnError::Setup {
        source: source.into(),
    }
}

/// The working directory must be a directory jobrun may enter; checked before the spawn so
/// that the error names the directory rather than the program.
fn check_workdir(path: &Path) -> Result<(), SpawnError> {
    let error = |errno: Errno| {
        let path = path.to_path_buf();
        match errno {
            Errno::ENOENT => SpawnError::WorkdirMissing { path },
            Errno::ENOTDIR => SpawnError::WorkdirNotDirectory { path },
            _ => SpawnError::Workdir {
                path,
                source: errno.into(),
            },
        }
    };
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_dir() => Err(error(Errno::ENOTDIR)),
        Ok(_) => access(path, AccessFlags::X_OK).map_err(error),
        Err(e) => Err(error(Errno::from_raw(e.raw_os_error().unwrap_or(0)))),
    }
}

/// The run's environment: the clean base with what the job inherits (`environment.rs`), then
/// `PWD`, the variables of the job's `user` (`HOME`, `USER`, `LOGNAME`, `SHELL`), the job's
/// `env`, and the `JOBRUN_*` variables.
fn environment(
    launch: &Launch<'_>,
    workdir: &Path,
    base: &BaseEnv,
    identity: Option<&Identity>,
) -> Result<BTreeMap<OsString, OsString>, SpawnError> {
    let job = launch.job;
    let mut env = base.clean(&job.inherit_env);
    // Inherited, PWD would name jobrun's directory, not the run's.
    if workdir.is_absolute() {
        env.insert("PWD".into(), workdir.into());
    } else {
        env.remove(OsStr::new("PWD"));
    }
    // Before the job's `env`, which may override them, as a crontab's lines may under cron.
    for (name, value) in identity.map_or(&[][..], |i| &i.env) {
        env.insert(name.into(), value.clone());
    }
    for (name, value) in &job.env {
        let error = |reason| SpawnError::Environment {
            name: name.clone(),
            reason,
        };
        if name.is_empty() {
            return Err(error("the name is empty"));
        }
        if name.contains('=') {
            return Err(error("the name contains \"=\""));
        }
        if name.contains('\0') || value.contains('\0') {
            return Err(error("it contains a NUL byte"));
        }
        env.insert(name.into(), value.into());
    }
    let scheduled_at = launch.scheduled_at.with_timezone(&job.timezone);
    env.insert("JOBRUN_JOB".into(), job.name.clone().into());
    env.insert(
        "JOBRUN_SCHEDULED_AT".into(),
        scheduled_at.to_rfc3339().into(),
    );
    env.insert("JOBRUN_RUN_ID".into(), launch.run_id.into());
    env.insert("JOBRUN_JOBFILE".into(), launch.jobfile.into());
    match launch.after_run_id {
        Some(id) => env.insert("JOBRUN_AFTER_RUN_ID".into(), id.into()),
        // Not inherited from jobrun's own environment (a job that calls `jobrun start`).
        None => env.remove(OsStr::new("JOBRUN_AFTER_RUN_ID")),
    };
    Ok(env)
}

/// The file to execute, as `execvp` would find it: a name with a slash as it is (relative to
/// the working directory), any other name in the first directory of `path` holding an
/// executable file of that name (a relative directory counts from the working directory). Not
/// found is `ENOENT`, or `EACCES` when only files that may not be executed were found. The
/// result always holds a slash, so std executes it as it is rather than searching again.
fn find_program(program: &str, path: Option<&OsString>, workdir: &Path) -> io::Result<PathBuf> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = path.map_or(OsStr::new(DEFAULT_PATH), OsString::as_os_str);
    let mut denied = false;
    for dir in std::env::split_paths(path) {
        // An empty entry is the working directory.
        let candidate = if dir.as_os_str().is_empty() {
            Path::new(".").join(program)
        } else {
            dir.join(program)
        };
        let seen_from_here = workdir.join(&candidate);
        if std::fs::metadata(&seen_from_here).is_ok_and(|m| m.is_file()) {
            if access(&seen_from_here, AccessFlags::X_OK).is_ok() {
                return Ok(candidate);
            }
            denied = true;
        }
    }
    Err(if denied { Errno::EACCES } else { Errno::ENOENT }.into())
}

fn set_nonblocking(fd: &OwnedFd) -> nix::Result<()> {
    let flags = OFlag::from_bits_retain(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).map(drop)
}

/// Sends `signal` to every process of the group led by `pid` (a run's pid is its group id).
/// A group that no longer exists is not an error: the run ended in the meantime.
///
/// `pid` must be a real group id: 0 would signal jobrun's own group and 1 every process it
/// may signal, so both (and negatives) are refused with `EINVAL` and nothing is sent.
pub fn signal_group(pid: Pid, signal: Signal) -> nix::Result<()> {
    if pid.as_raw() <= 1 {
        return Err(Errno::EINVAL);
    }
    match killpg(pid, signal) {
        Err(Errno::ESRCH) => Ok(()),
        result => result,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::os::fd::{AsFd, AsRawFd};
    use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
    use std::time::{Duration, Instant};

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::{SigSet, SigmaskHow, kill, pthread_sigmask};
    use nix::unistd::getpgid;

    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};

    use super::*;
    use crate::executor::{ExitStatus, LineSplitter, reap_any};
    use crate::trigger::{CronExpr, CronTrigger, Trigger};
    use crate::zone::Tz;

    /// Tests run as threads of one process, and `reap_any` collects any child of it: a test
    /// that calls it holds this lock for writing; every other test that spawns a child holds it
    /// for reading and waits for its own pid only. For other modules' tests too.
    pub(crate) static CHILDREN: RwLock<()> = RwLock::new(());

    pub(crate) fn own_children() -> RwLockReadGuard<'static, ()> {
        CHILDREN.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn all_children() -> RwLockWriteGuard<'static, ()> {
        CHILDREN.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Far above what any of these tests needs; reached only when something is wrong.
    const BOUND: Duration = Duration::from_secs(10);

    /// Checks `condition` every millisecond until it holds, for at most `BOUND`.
    fn wait_until<T>(what: &str, mut condition: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(value) = condition() {
                return value;
            }
            assert!(start.elapsed() < BOUND, "still waiting for {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn job(command: Command) -> Job {
        let trigger = Trigger::Cron(CronTrigger::new(
            CronExpr::parse("0 3 * * *").unwrap(),
            Tz::UTC,
        ));
        Job::new("report", trigger, Tz::UTC, command)
    }

    fn argv(words: &[&str]) -> Command {
        Command::Argv(words.iter().map(|w| (*w).to_owned()).collect())
    }

    fn scheduled() -> DateTime<Utc> {
        "2026-03-08T07:00:00Z".parse().unwrap()
    }

    fn start_in(job: &Job, base_dir: &Path) -> Result<RunningChild, SpawnError> {
        spawn(&Launch {
            job,
            scheduled_at: scheduled(),
            run_id: "s1-7",
            jobfile: Path::new("/srv/jobrun.toml"),
            base_dir,
            after_run_id: None,
        })
    }

    fn start(job: &Job) -> RunningChild {
        start_in(job, Path::new("/")).expect("spawn")
    }

    struct Finished {
        stdout: Vec<String>,
        stderr: Vec<String>,
        status: ExitStatus,
    }

    /// Reads both pipes line by line until both reach end of file.
    fn read_all(child: &RunningChild) -> (Vec<String>, Vec<String>) {
        let pipes = [child.stdout.as_fd(), child.stderr.as_fd()];
        let mut splitters = [LineSplitter::new(), LineSplitter::new()];
        let mut lines = [Vec::new(), Vec::new()];
        let mut open = [true, true];
        let start = Instant::now();
        while open.contains(&true) {
            assert!(start.elapsed() < BOUND, "the child's pipes stay open");
            let mut fds: Vec<PollFd<'_>> = (0..2)
                .filter(|&i| open[i])
                .map(|i| PollFd::new(pipes[i], PollFlags::POLLIN))
                .collect();
            poll(&mut fds, PollTimeout::from(1000u16)).expect("poll");
            for i in 0..2 {
                if !open[i] {
                    continue;
                }
                let eof = splitters[i]
                    .read_from(pipes[i], |l| lines[i].push(l.to_owned()))
                    .expect("read");
                open[i] = !eof;
            }
        }
        let [stdout, stderr] = lines;
        (stdout, stderr)
    }

    /// Waits for this one child (never `-1`: other tests' children are not ours to take).
    fn wait_for(pid: Pid) -> ExitStatus {
        wait_until("the child to end", || {
            match waitpid(pid, Some(WaitPidFlag::WNOHANG)).expect("waitpid") {
                WaitStatus::Exited(_, code) => Some(ExitStatus::Code(code)),
                WaitStatus::Signaled(_, signal, _) => Some(ExitStatus::Signal(signal as i32)),
                _ => None,
            }
        })
    }

    fn finish(child: RunningChild) -> Finished {
        let (stdout, stderr) = read_all(&child);
        let status = wait_for(child.pid);
        Finished {
            stdout,
            stderr,
            status,
        }
    }

    fn run(job: &Job) -> Finished {
        finish(start(job))
    }

    /// Reaps with `reap_any` (the caller holds `all_children`) until every pid in `pids` is
    /// collected; returns their statuses.
    fn reap_all(pids: &[Pid]) -> HashMap<Pid, ExitStatus> {
        let mut statuses = HashMap::new();
        wait_until("reap_any to collect every child", || {
            statuses.extend(reap_any());
            pids.iter().all(|p| statuses.contains_key(p)).then_some(())
        });
        statuses
    }

    /// The pid a job printed on its first line of output.
    fn first_line_pid(child: &RunningChild) -> Pid {
        let mut splitter = LineSplitter::new();
        let mut first = None;
        let line = wait_until("the first line", || {
            let mut fds = [PollFd::new(child.stdout.as_fd(), PollFlags::POLLIN)];
            poll(&mut fds, PollTimeout::from(1000u16)).unwrap();
            splitter
                .read_from(child.stdout.as_fd(), |l| {
                    first.get_or_insert_with(|| l.to_owned());
                })
                .unwrap();
            first.clone()
        });
        Pid::from_raw(line.parse().unwrap())
    }

    #[test]
    fn argv_words_arrive_intact_without_a_shell() {
        let _children = own_children();
        let done = run(&job(argv(&[
            "printf", "%s\\n", "a b", "it's", "", "$HOME", "*", "\"q\"",
        ])));
        assert_eq!(done.stdout, ["a b", "it's", "", "$HOME", "*", "\"q\""]);
        assert!(done.stderr.is_empty());
        assert!(done.status.success());
    }

    #[test]
    fn a_shell_job_runs_its_pipeline() {
        let _children = own_children();
        let done = run(&job(Command::Shell(
            "printf 'b\\na\\n' | sort | tr a-z A-Z; exit 3".into(),
        )));
        assert_eq!(done.stdout, ["A", "B"]);
        assert_eq!(done.status, ExitStatus::Code(3));
    }

    #[test]
    fn the_run_sees_jobrun_variables_its_env_and_jobruns_environment() {
        let _children = own_children();
        let mut job = job(argv(&[
            "sh",
            "-c",
            "echo $JOBRUN_JOB $JOBRUN_SCHEDULED_AT $JOBRUN_RUN_ID $JOBRUN_JOBFILE; \
             echo \"$REPORT_DIR|$SPACED|${PATH:+inherited}\"",
        ]));
        job.timezone = "America/New_York".parse().unwrap();
        job.env = BTreeMap::from([
            ("REPORT_DIR".into(), "/srv/out".into()),
            ("SPACED".into(), "a  b".into()),
            ("JOBRUN_JOB".into(), "not the name".into()),
        ]);
        let done = run(&job);
        assert_eq!(
            done.stdout,
            [
                // 07:00 UTC is 03:00 in New York, the first hour of summer time.
                "report 2026-03-08T03:00:00-04:00 s1-7 /srv/jobrun.toml",
                "/srv/out|a  b|inherited",
            ]
        );
    }

    #[test]
    fn the_working_directory_is_the_workdir_or_else_the_jobfiles_directory() {
        let _children = own_children();
        let base = tempfile::tempdir().unwrap();
        let base_dir = base.path().canonicalize().unwrap();
        std::fs::create_dir(base_dir.join("sub")).unwrap();
        let other = tempfile::tempdir().unwrap();
        let other_dir = other.path().canonicalize().unwrap();
        let pwd = argv(&["sh", "-c", "pwd -P; echo \"$PWD\""]);
        for (workdir, expected) in [
            (None, base_dir.clone()),
            (Some(PathBuf::from("sub")), base_dir.join("sub")),
            (Some(other_dir.clone()), other_dir.clone()),
        ] {
            let mut job = job(pwd.clone());
            job.workdir = workdir;
            let done = finish(start_in(&job, &base_dir).unwrap());
            let expected = expected.display().to_string();
            assert_eq!(done.stdout, [expected.clone(), expected]);
        }
    }

    /// `base/bin/script.sh`, printing how it was called and where; returns `base/bin`.
    fn script_in(base: &Path) -> PathBuf {
        let dir = base.canonicalize().unwrap().join("bin");
        std::fs::create_dir(&dir).unwrap();
        let script = dir.join("script.sh");
        // Exclusive while the file is open for writing: a child spawned meanwhile by another
        // test would hold that descriptor and make exec fail with ETXTBSY.
        let _all = all_children();
        std::fs::write(&script, "#!/bin/sh\necho \"$0 in $(pwd -P): $1\"\n").unwrap();
        let mut perms = std::fs::metadata(&script).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&script, perms).unwrap();
        dir
    }

    #[test]
    fn a_relative_program_is_found_in_the_working_directory() {
        let base = tempfile::tempdir().unwrap();
        let bin = script_in(base.path());
        let _children = own_children();
        let mut job = job(argv(&["./script.sh", "arg"]));
        job.workdir = Some("bin".into());
        // The test's own directory (the package root) has no script.sh.
        let done = finish(start_in(&job, bin.parent().unwrap()).unwrap());
        assert_eq!(
            done.stdout,
            [format!("./script.sh in {}: arg", bin.display())]
        );
        assert!(done.status.success());
    }

    #[test]
    fn a_bare_name_is_looked_for_in_the_runs_path() {
        let base = tempfile::tempdir().unwrap();
        let bin = script_in(base.path());
        let root = bin.parent().unwrap();
        let _children = own_children();
        // The job's own PATH counts; a relative entry is relative to the working directory.
        for (path, called_as) in [
            (
                bin.display().to_string(),
                bin.join("script.sh").display().to_string(),
            ),
            ("/nowhere:bin".to_owned(), "bin/script.sh".to_owned()),
        ] {
            let mut job = job(argv(&["script.sh", "arg"]));
            job.env.insert("PATH".into(), path);
            let done = finish(start_in(&job, root).unwrap());
            assert_eq!(
                done.stdout,
                [format!("{called_as} in {}: arg", root.display())]
            );
        }
    }

    #[test]
    fn spawn_errors_say_what_is_wrong() {
        let _children = own_children();
        let base = tempfile::tempdir().unwrap();
        let dir = base.path();
        std::fs::write(dir.join("file"), "").unwrap();
        let message = |job: &Job| start_in(job, dir).unwrap_err().to_string();

        assert_eq!(
            message(&job(argv(&["./report.sh", "--daily"]))),
            r#"cannot run "./report.sh": No such file or directory (os error 2)"#
        );
        assert_eq!(
            message(&job(argv(&["no-such-program-jobrun"]))),
            r#"cannot run "no-such-program-jobrun": No such file or directory (os error 2)"#
        );
        assert_eq!(
            message(&job(argv(&["./file"]))),
            r#"cannot run "./file": Permission denied (os error 13)"#
        );
        assert_eq!(message(&job(argv(&[]))), "the command is empty");
        assert_eq!(
            message(&job(argv(&["echo", "a\0b"]))),
            r#"cannot run "echo": an argument contains a NUL byte"#
        );
        let mut bad_env = job(argv(&["true"]));
        bad_env.env.insert("A=B".into(), "c".into());
        assert_eq!(
            message(&bad_env),
            r#"cannot pass environment variable "A=B": the name contains "=""#
        );

        let mut missing = job(argv(&["true"]));
        missing.workdir = Some("gone".into());
        assert_eq!(
            message(&missing),
            format!(
                "working directory {} does not exist",
                dir.join("gone").display()
            )
        );
        let mut not_dir = job(argv(&["true"]));
        not_dir.workdir = Some(dir.join("file"));
        assert_eq!(
            message(&not_dir),
            format!(
                "working directory {} is not a directory",
                dir.join("file").display()
            )
        );
    }

    #[test]
    fn a_run_reads_an_empty_stdin_and_holds_none_of_jobruns_descriptors() {
        let _children = own_children();
        let child = start(&job(Command::Shell("cat; ls /proc/$$/fd".into())));
        let ours = [child.stdout.as_raw_fd(), child.stderr.as_raw_fd()];
        let done = finish(child);
        assert!(done.status.success());
        let fds: Vec<i32> = done.stdout.iter().map(|l| l.parse().unwrap()).collect();
        // Besides 0, 1 and 2 the shell has its own, and the test harness may pass some on.
        assert!([0, 1, 2].iter().all(|fd| fds.contains(fd)), "{fds:?}");
        assert!(
            !ours.iter().any(|fd| fds.contains(fd)),
            "{fds:?} holds {ours:?}"
        );
    }

    #[test]
    fn stdout_and_stderr_arrive_apart_and_line_by_line() {
        let _children = own_children();
        let done = run(&job(Command::Shell(
            "printf 'one\\r\\ntwo\\n\\377bad\\n'; printf 'warn\\n' >&2; \
             head -c 204800 /dev/zero | tr '\\0' x; printf '\\nlast'; printf 'tail' >&2"
                .into(),
        )));
        let kib64 = "x".repeat(64 * 1024);
        let expected_stdout = [
            "one",
            "two",
            "\u{fffd}bad",
            &kib64,
            &kib64,
            &kib64,
            &"x".repeat(8 * 1024),
            "last",
        ];
        assert_eq!(done.stdout, expected_stdout);
        assert_eq!(done.stderr, ["warn", "tail"]);
    }

    #[test]
    fn a_run_leads_its_own_process_group() {
        let _children = own_children();
        let child = start(&job(argv(&["sleep", "30"])));
        assert_eq!(getpgid(Some(child.pid)), Ok(child.pid));
        assert_ne!(getpgid(None), Ok(child.pid));
        signal_group(child.pid, Signal::SIGKILL).unwrap();
        assert_eq!(
            wait_for(child.pid),
            ExitStatus::Signal(Signal::SIGKILL as i32)
        );
    }

    #[test]
    fn sigterm_to_the_group_ends_the_job_and_what_it_started() {
        let _all = all_children();
        // Orphans come back to this process, as they would to jobrun as PID 1, instead of
        // to an init that may or may not reap them (a zombie still counts as in the group).
        nix::sys::prctl::set_child_subreaper(true).unwrap();
        let child = start(&job(Command::Shell("sleep 30 & echo $!; sleep 30".into())));
        let grandchild = first_line_pid(&child);
        assert_eq!(getpgid(Some(grandchild)), Ok(child.pid));

        signal_group(child.pid, Signal::SIGTERM).unwrap();
        let statuses = reap_all(&[child.pid]);
        assert_eq!(
            statuses[&child.pid],
            ExitStatus::Signal(Signal::SIGTERM as i32)
        );
        // The other members (the background sleep, and the foreground one dash forks too)
        // are reaped by the shell if they die first, else by this process once orphaned.
        wait_until("the group to be gone", || {
            reap_any();
            (killpg(child.pid, None) == Err(Errno::ESRCH)).then_some(())
        });
        assert_eq!(kill(grandchild, None), Err(Errno::ESRCH));
        // The group is gone: signalling it again is fine.
        assert_eq!(signal_group(child.pid, Signal::SIGTERM), Ok(()));
    }

    #[test]
    fn reap_any_collects_orphans_and_a_group_outlives_its_leader() {
        let _all = all_children();
        // As PID 1 does, this process inherits what its children leave behind.
        nix::sys::prctl::set_child_subreaper(true).unwrap();
        let child = start(&job(Command::Shell("sleep 30 & echo $!".into())));
        let orphan = first_line_pid(&child);
        assert_eq!(reap_all(&[child.pid])[&child.pid], ExitStatus::Code(0));

        // The leader is gone; its group, and so signal_group, still reaches the orphan.
        assert_eq!(getpgid(Some(orphan)), Ok(child.pid));
        signal_group(child.pid, Signal::SIGKILL).unwrap();
        let statuses = reap_all(&[orphan]);
        assert_eq!(
            statuses[&orphan],
            ExitStatus::Signal(Signal::SIGKILL as i32)
        );
        assert_eq!(killpg(child.pid, None), Err(Errno::ESRCH));
    }

    #[test]
    fn a_child_starts_with_no_signal_blocked_and_sigpipe_at_its_default() {
        let _children = own_children();
        // std passes the spawning thread's mask on, which is why jobrun blocks no signal
        // (scheduler/signals.rs); the spawning thread here blocks none either.
        let mut current = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, None, Some(&mut current)).unwrap();
        assert!(!current.contains(Signal::SIGTERM));
        let child = start(&job(argv(&["sleep", "30"])));

        // The test harness, like any Rust program, ignores SIGPIPE; a job must not.
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.pid)).unwrap();
        let mask = |field: &str| {
            let line = status.lines().find(|l| l.starts_with(field)).unwrap();
            u64::from_str_radix(line[field.len()..].trim(), 16).unwrap()
        };
        assert_eq!(mask("SigBlk:"), 0, "{status}");
        assert_eq!(
            mask("SigIgn:") & (1 << (Signal::SIGPIPE as u64 - 1)),
            0,
            "{status}"
        );
        signal_group(child.pid, Signal::SIGTERM).unwrap();
        assert_eq!(
            wait_for(child.pid),
            ExitStatus::Signal(Signal::SIGTERM as i32)
        );
    }

    #[test]
    fn signal_group_refuses_group_ids_that_mean_more_than_one_group() {
        for raw in [-5, 0, 1] {
            assert_eq!(
                signal_group(Pid::from_raw(raw), Signal::SIGTERM),
                Err(Errno::EINVAL)
            );
        }
    }
}
