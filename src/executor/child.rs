//! A run's process: spawning it (argv directly, `/bin/sh -c` only for shell jobs) in its own
//! process group with `JOBRUN_*` in its environment, signalling that group, and reaping.
//!
//! It never waits: `spawn` hands back the pid and the pipes, and the scheduler's `poll(2)` loop
//! learns of exits from SIGCHLD and collects them with [`reap_any`], whose `waitpid(-1)` also
//! collects orphans when jobrun runs as PID 1.
//!
//! Spawning uses `posix_spawn(3)` rather than `std::process::Command`: since Rust 1.66 std
//! passes the parent's signal mask on to the child (rust-lang/rust#101077), and the scheduler
//! blocks SIGTERM, SIGINT, SIGHUP and SIGCHLD to read them from a signalfd. A job inheriting
//! that mask would ignore its timeout's SIGTERM. `posix_spawn` clears the mask and resets
//! every signal to its default in the child (as systemd does for its services), without
//! `unsafe` and without a `pre_exec` hook.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl, open};
use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawn};
use nix::sys::signal::{SigSet, Signal, killpg};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{AccessFlags, Pid, access, chdir, fchdir, pipe2};

use crate::job::{Command, Job};

/// The shell for `shell = true` jobs, as cron uses it.
const SHELL: &str = "/bin/sh";

/// Where a program name without a slash is looked for when no `PATH` is set (glibc's
/// `execvp` default).
const DEFAULT_PATH: &str = "/bin:/usr/bin";

/// One run to start.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub job: &'a Job,
    /// The nominal fire time (before jitter), given to the run as `JOBRUN_SCHEDULED_AT`.
    pub scheduled_at: DateTime<Utc>,
    pub run_id: &'a str,
    /// The jobfile's directory: the working directory when `job.workdir` is `None`, and what a
    /// relative `workdir` is relative to.
    pub base_dir: &'a Path,
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

/// Spawning changes the process's working directory for a moment (see [`spawn`]), so two
/// spawns must not overlap.
static SPAWN: Mutex<()> = Mutex::new(());

/// Starts a run without waiting for anything.
///
/// - argv jobs are executed directly (a name without a slash is searched in the run's `PATH`);
///   shell jobs as `/bin/sh -c SCRIPT`;
/// - the working directory is `job.workdir` (joined to `base_dir` when relative), else
///   `base_dir`; a program named by a relative path (`./report.sh`) is found there too;
/// - the environment is jobrun's own, then `PWD` set to the working directory, the job's
///   `env`, and last `JOBRUN_JOB`, `JOBRUN_SCHEDULED_AT` (RFC 3339 in the job's zone) and
///   `JOBRUN_RUN_ID`, which a job's `env` cannot override;
/// - stdin is `/dev/null`; stdout and stderr are pipes;
/// - the child leads a new process group, with no signal blocked and every signal at its
///   default action, whatever jobrun blocks or ignores.
///
/// `posix_spawn` has no portable way to give the child a working directory of its own, so
/// jobrun moves into the run's directory for the spawn and straight back, holding a lock:
/// during a spawn, other threads must not resolve relative paths. The scheduler spawns from
/// its only thread.
pub fn spawn(launch: &Launch<'_>) -> Result<RunningChild, SpawnError> {
    let job = launch.job;
    let workdir = match &job.workdir {
        Some(dir) => launch.base_dir.join(dir),
        None => launch.base_dir.to_path_buf(),
    };
    let (program, args): (&str, Vec<&str>) = match &job.command {
        Command::Argv(words) => {
            let program = words.first().ok_or(SpawnError::EmptyCommand)?;
            (program, words.iter().map(String::as_str).collect())
        }
        Command::Shell(script) => (SHELL, vec![SHELL, "-c", script]),
    };
    let program_error = |source: io::Error| SpawnError::Program {
        program: program.to_owned(),
        source,
    };
    let argv = args
        .into_iter()
        .map(CString::new)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            program_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an argument contains a NUL byte",
            ))
        })?;
    let env = environment(launch, &workdir);
    let envp = env_strings(&env)?;
    let stdio = Stdio::new().map_err(setup_error)?;
    let attributes = attributes().map_err(setup_error)?;
    let actions = stdio.file_actions().map_err(setup_error)?;

    let pid = {
        let _one_at_a_time = SPAWN.lock().unwrap_or_else(PoisonError::into_inner);
        // O_PATH: coming back needs no read permission on jobrun's own directory.
        let home = open(
            ".",
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(setup_error)?;
        chdir(&workdir).map_err(|errno| workdir_error(&workdir, errno))?;
        // In the run's directory: relative paths, in the command or in PATH, resolve there.
        let spawned = find_program(program, env.get(OsStr::new("PATH")))
            .and_then(|path| Ok(posix_spawn(&path, &actions, &attributes, &argv, &envp)?));
        // Only a directory losing its search permission this very moment could refuse this;
        // the run has started either way.
        let _ = fchdir(&home);
        spawned.map_err(program_error)?
    };
    // The child's ends of the pipes and /dev/null close here, when `stdio` goes: the read
    // ends see end of file once the child and everything it started are done with them.
    Ok(RunningChild {
        pid,
        stdout: stdio.stdout,
        stderr: stdio.stderr,
    })
}

fn setup_error(source: impl Into<io::Error>) -> SpawnError {
    SpawnError::Setup {
        source: source.into(),
    }
}

fn workdir_error(path: &Path, errno: Errno) -> SpawnError {
    let path = path.to_path_buf();
    match errno {
        Errno::ENOENT => SpawnError::WorkdirMissing { path },
        Errno::ENOTDIR => SpawnError::WorkdirNotDirectory { path },
        _ => SpawnError::Workdir {
            path,
            source: errno.into(),
        },
    }
}

/// The run's environment: jobrun's, then `PWD`, the job's `env`, and the `JOBRUN_*` variables.
fn environment(launch: &Launch<'_>, workdir: &Path) -> BTreeMap<OsString, OsString> {
    let job = launch.job;
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    // Inherited, PWD would name jobrun's directory, not the run's.
    if workdir.is_absolute() {
        env.insert("PWD".into(), workdir.into());
    } else {
        env.remove(OsStr::new("PWD"));
    }
    env.extend(job.env.iter().map(|(k, v)| (k.into(), v.into())));
    let scheduled_at = launch.scheduled_at.with_timezone(&job.timezone);
    env.insert("JOBRUN_JOB".into(), job.name.clone().into());
    env.insert(
        "JOBRUN_SCHEDULED_AT".into(),
        scheduled_at.to_rfc3339().into(),
    );
    env.insert("JOBRUN_RUN_ID".into(), launch.run_id.into());
    env
}

/// `NAME=value` strings for `execve`.
fn env_strings(env: &BTreeMap<OsString, OsString>) -> Result<Vec<CString>, SpawnError> {
    env.iter()
        .map(|(name, value)| {
            let error = |reason| SpawnError::Environment {
                name: name.to_string_lossy().into_owned(),
                reason,
            };
            if name.is_empty() {
                return Err(error("the name is empty"));
            }
            if name.as_bytes().contains(&b'=') {
                return Err(error("the name contains \"=\""));
            }
            let entry = [name.as_bytes(), b"=", value.as_bytes()].concat();
            CString::new(entry).map_err(|_| error("it contains a NUL byte"))
        })
        .collect()
}

/// The file to execute, as `execvp` would find it: a name with a slash as it is (relative to
/// the current directory), any other name in the first directory of `path` holding an
/// executable file of that name. Not found is `ENOENT`, or `EACCES` when only files that may
/// not be executed were found.
fn find_program(program: &str, path: Option<&OsString>) -> io::Result<PathBuf> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    let path = path.map_or(OsStr::new(DEFAULT_PATH), OsString::as_os_str);
    let mut denied = false;
    for dir in std::env::split_paths(path) {
        // An empty entry is the current directory.
        let candidate = if dir.as_os_str().is_empty() {
            Path::new(".").join(program)
        } else {
            dir.join(program)
        };
        if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file()) {
            if access(&candidate, AccessFlags::X_OK).is_ok() {
                return Ok(candidate);
            }
            denied = true;
        }
    }
    Err(if denied { Errno::EACCES } else { Errno::ENOENT }.into())
}

/// The run's standard streams: `/dev/null` for stdin, and a pipe each for stdout and stderr
/// whose read ends stay with jobrun.
struct Stdio {
    null: OwnedFd,
    stdout: OwnedFd,
    stdout_child: OwnedFd,
    stderr: OwnedFd,
    stderr_child: OwnedFd,
}

impl Stdio {
    fn new() -> io::Result<Stdio> {
        let null = open(
            "/dev/null",
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        let (stdout, stdout_child) = pipe2(OFlag::O_CLOEXEC)?;
        let (stderr, stderr_child) = pipe2(OFlag::O_CLOEXEC)?;
        // Only jobrun's ends: a job may well not expect EAGAIN on its stdout.
        set_nonblocking(&stdout)?;
        set_nonblocking(&stderr)?;
        Ok(Stdio {
            null: above_stdio(null)?,
            stdout,
            stdout_child: above_stdio(stdout_child)?,
            stderr,
            stderr_child: above_stdio(stderr_child)?,
        })
    }

    /// Puts the child's ends on 0, 1 and 2. `dup2` clears close-on-exec on the copy; every
    /// other descriptor jobrun opened is close-on-exec and stays out of the child.
    fn file_actions(&self) -> nix::Result<PosixSpawnFileActions> {
        let mut actions = PosixSpawnFileActions::init()?;
        actions.add_dup2(self.null.as_raw_fd(), 0)?;
        actions.add_dup2(self.stdout_child.as_raw_fd(), 1)?;
        actions.add_dup2(self.stderr_child.as_raw_fd(), 2)?;
        Ok(actions)
    }
}

/// A descriptor numbered 3 or more. If jobrun was started with stdin, stdout or stderr closed,
/// a new descriptor may get one of those numbers, and `dup2` onto its own number would leave
/// it close-on-exec: the child would start with it closed.
fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // std duplicates with F_DUPFD_CLOEXEC from 3 up.
    fd.try_clone()
}

/// A new process group, an empty signal mask, every signal at its default action.
fn attributes() -> nix::Result<PosixSpawnAttr> {
    let mut attributes = PosixSpawnAttr::init()?;
    attributes.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    attributes.set_pgroup(Pid::from_raw(0))?;
    attributes.set_sigmask(&SigSet::empty())?;
    attributes.set_sigdefault(&SigSet::all())?;
    Ok(attributes)
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

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(Signal),
}

impl ExitStatus {
    pub fn success(&self) -> bool {
        *self == ExitStatus::Code(0)
    }

    /// The code a shell reports for it: the exit code, or 128 + n after signal n.
    pub fn as_shell_code(&self) -> i32 {
        match *self {
            ExitStatus::Code(code) => code,
            ExitStatus::Signal(signal) => 128 + signal as i32,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitStatus::Code(code) => write!(f, "exit {code}"),
            ExitStatus::Signal(signal) => write!(f, "killed by {}", signal.as_str()),
        }
    }
}

/// Collects every child that has ended, without blocking: `waitpid(-1, WNOHANG)` until none
/// is left (`ECHILD`) or the rest still run. Besides runs, that includes orphans the kernel
/// hands to jobrun when it is PID 1 (or a subreaper); the caller ignores pids it does not know.
///
/// Stops and continues are not ends and are not reported. A child killed by a signal that
/// nix cannot name (a real-time one, `SIGRTMIN+n`) is reaped but cannot be reported: nix
/// fails the `waitpid` that collected it with `EINVAL` and drops the pid.
pub fn reap_any() -> Vec<(Pid, ExitStatus)> {
    let mut reaped = Vec::new();
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => reaped.push((pid, ExitStatus::Code(code))),
            Ok(WaitStatus::Signaled(pid, signal, _core_dumped)) => {
                reaped.push((pid, ExitStatus::Signal(signal)));
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
            // A stop or continue (ptrace only, without WUNTRACED), an interrupted call, or a
            // child already reaped whose signal nix could not name: go on with the rest.
            Ok(_) | Err(Errno::EINTR | Errno::EINVAL) => {}
            Err(_) => break,
        }
    }
    reaped
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::os::fd::{AsFd, AsRawFd};
    use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
    use std::time::{Duration, Instant};

    use chrono_tz::Tz;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::{SigSet, SigmaskHow, kill, pthread_sigmask};
    use nix::unistd::getpgid;

    use super::*;
    use crate::executor::LineSplitter;
    use crate::trigger::{CronExpr, CronTrigger, Trigger};

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
            base_dir,
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
                WaitStatus::Signaled(_, signal, _) => Some(ExitStatus::Signal(signal)),
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
            "echo $JOBRUN_JOB $JOBRUN_SCHEDULED_AT $JOBRUN_RUN_ID; \
             echo \"$REPORT_DIR|$SPACED|${PATH:+inherited}\"",
        ]));
        job.timezone = Tz::America__New_York;
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
                "report 2026-03-08T03:00:00-04:00 s1-7",
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
    fn reap_any_reports_exit_codes_and_signals() {
        let _all = all_children();
        let exit3 = start(&job(Command::Shell("exit 3".into()))).pid;
        let killed = start(&job(Command::Shell("kill -KILL $$".into()))).pid;
        let ok = start(&job(argv(&["true"]))).pid;
        let statuses = reap_all(&[exit3, killed, ok]);
        assert_eq!(statuses[&exit3], ExitStatus::Code(3));
        assert_eq!(statuses[&killed], ExitStatus::Signal(Signal::SIGKILL));
        assert_eq!(statuses[&ok], ExitStatus::Code(0));
        // Nothing left: it returns at once, empty.
        assert_eq!(reap_any(), []);
    }

    #[test]
    fn a_run_leads_its_own_process_group() {
        let _children = own_children();
        let child = start(&job(argv(&["sleep", "30"])));
        assert_eq!(getpgid(Some(child.pid)), Ok(child.pid));
        assert_ne!(getpgid(None), Ok(child.pid));
        signal_group(child.pid, Signal::SIGKILL).unwrap();
        assert_eq!(wait_for(child.pid), ExitStatus::Signal(Signal::SIGKILL));
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
        assert_eq!(statuses[&child.pid], ExitStatus::Signal(Signal::SIGTERM));
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
        assert_eq!(statuses[&orphan], ExitStatus::Signal(Signal::SIGKILL));
        assert_eq!(killpg(child.pid, None), Err(Errno::ESRCH));
    }

    #[test]
    fn a_child_does_not_inherit_jobruns_blocked_signals() {
        let _children = own_children();
        // The scheduler blocks these to read them from a signalfd; the mask is per thread, so
        // blocking here affects this test's thread only.
        let mut blocked = SigSet::empty();
        blocked.add(Signal::SIGTERM);
        blocked.add(Signal::SIGCHLD);
        let mut before = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&blocked), Some(&mut before)).unwrap();
        let child = start(&job(argv(&["sleep", "30"])));
        pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None).unwrap();

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
        assert_eq!(wait_for(child.pid), ExitStatus::Signal(Signal::SIGTERM));
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

    #[test]
    fn exit_statuses_read_like_a_shell_reports_them() {
        let cases = [
            (ExitStatus::Code(0), "exit 0", true, 0),
            (ExitStatus::Code(3), "exit 3", false, 3),
            (
                ExitStatus::Signal(Signal::SIGKILL),
                "killed by SIGKILL",
                false,
                137,
            ),
            (
                ExitStatus::Signal(Signal::SIGTERM),
                "killed by SIGTERM",
                false,
                143,
            ),
        ];
        for (status, text, success, code) in cases {
            assert_eq!(status.to_string(), text);
            assert_eq!(status.success(), success, "{text}");
            assert_eq!(status.as_shell_code(), code, "{text}");
        }
    }
}
