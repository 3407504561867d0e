//! The typed job, as the jobfile loader builds it: every option resolved (defaults applied,
//! zones and durations parsed, the trigger built), so nothing downstream re-reads TOML.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::duration::Duration;
use crate::outcomes::Outcomes;
use crate::trigger::Trigger;
use crate::zone::Tz;

/// What a run executes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `command = ["prog", "arg", ...]`: executed directly, no shell involved.
    Argv(Vec<String>),
    /// `command = "..."` with `shell = true`: run as `/bin/sh -c "..."`.
    Shell(String),
}

impl Command {
    /// A one-line rendering for listings; argv words with spaces or quotes are quoted.
    pub fn display(&self) -> String {
        match self {
            Command::Shell(script) => script.clone(),
            Command::Argv(words) => words
                .iter()
                .map(|w| {
                    if !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
                    {
                        w.clone()
                    } else {
                        format!("'{}'", w.replace('\'', r"'\''"))
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Which of jobrun's own environment variables a run gets, on top of the clean environment every
/// run starts from (see `executor/child.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InheritEnv {
    /// `inherit_env = false`, the default: none.
    #[default]
    Nothing,
    /// `inherit_env = true`: every one.
    All,
    /// `inherit_env = ["AWS_*", "http_proxy"]`: those whose name matches one of the patterns,
    /// where `*` stands for any run of characters and `?` for one.
    Matching(Vec<String>),
}

impl InheritEnv {
    /// Whether jobrun's variable `name` reaches the run.
    pub fn passes(&self, name: &str) -> bool {
        match self {
            InheritEnv::Nothing => false,
            InheritEnv::All => true,
            InheritEnv::Matching(patterns) => patterns.iter().any(|p| glob_matches(p, name)),
        }
    }
}

/// `*` and `?` wildcards, the rest literal; linear in the name (greedy, with one point to
/// return to, as `fnmatch` without brackets).
fn glob_matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// What a fire does when its job already has `max_instances` runs started or waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    /// Not run: recorded and logged as skipped.
    #[default]
    Skip,
    /// Waits until a run of the job ends; at most one waits, later fires coalesce into it.
    Queue,
    /// Ends the oldest running run (SIGTERM to its process group, SIGKILL `kill_after` later)
    /// and starts once that run is reaped; later fires coalesce into it meanwhile.
    Replace,
}

impl Overlap {
    /// The jobfile's words for it, in order.
    pub const NAMES: [&'static str; 3] = ["skip", "queue", "replace"];

    pub fn parse(text: &str) -> Option<Overlap> {
        match text {
            "skip" => Some(Overlap::Skip),
            "queue" => Some(Overlap::Queue),
            "replace" => Some(Overlap::Replace),
            _ => None,
        }
    }
}

/// The defaults a job inherits when it does not set an option itself.
pub mod defaults {
    use crate::duration::Duration;

    /// How late a run may still start before it counts as missed.
    pub const MISFIRE_GRACE: Duration = Duration::from_secs(60);
    /// Several missed runs of one job run once.
    pub const COALESCE: bool = true;
    /// Overlapping runs of one job beyond this are skipped.
    pub const MAX_INSTANCES: u32 = 1;
    /// Time between SIGTERM and SIGKILL when a run times out.
    pub const KILL_AFTER: Duration = Duration::from_secs(10);
    /// The pool a job runs in when it names none.
    pub const EXECUTOR: &str = "default";
    /// Worker slots of a pool the jobfile does not declare (`default`, unless declared): no
    /// limit, as under cron, where every due job starts.
    pub const UNDECLARED_POOL_WORKERS: u32 = u32::MAX;
}

/// One job of the jobfile, fully resolved.
#[derive(Debug, Clone)]
pub struct Job {
    /// The table key under `[jobs]`.
    pub name: String,
    pub trigger: Trigger,
    /// The zone the job's wall-clock times are read in.
    pub timezone: Tz,
    pub command: Command,
    pub workdir: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    /// Which of jobrun's own environment variables the run gets.
    pub inherit_env: InheritEnv,
    pub executor: String,
    /// No fire before this instant.
    pub start: Option<DateTime<Utc>>,
    /// No fire after this instant.
    pub end: Option<DateTime<Utc>>,
    /// A random delay in `[0, jitter)` added to each fire when it runs; previews show nominal times.
    pub jitter: Option<Duration>,
    pub misfire_grace: Duration,
    /// How long a run may wait for a slot in a full pool before it counts as missed; `None`:
    /// as long as it takes.
    pub queue_grace: Option<Duration>,
    pub coalesce: bool,
    pub max_instances: u32,
    /// What a fire beyond `max_instances` does.
    pub overlap: Overlap,
    pub timeout: Option<Duration>,
    pub kill_after: Duration,
    pub paused: bool,
    /// The shell that runs a [`Command::Shell`] job; `None` is `/bin/sh` (`shell = true`).
    pub shell: Option<String>,
    /// Text fed to the run's standard input (crontab's `%`); `None` is `/dev/null`.
    pub stdin: Option<String>,
    /// Run as this user, from the password database (jobrun as root only).
    pub user: Option<String>,
    /// Run with this group as the primary one (jobrun as root only).
    pub group: Option<String>,
    /// What counts as failure, and what follows a run's end; shared with each run (a
    /// reference count, not a copy per run).
    pub outcomes: Arc<Outcomes>,
}

impl Job {
    /// A job with every option at its default: no workdir, no env, the `default` pool, no
    /// window, jitter or timeout, not paused, `/bin/sh`, no stdin, jobrun's own identity.
    pub fn new(name: &str, trigger: Trigger, timezone: Tz, command: Command) -> Job {
        Job {
            name: name.to_owned(),
            trigger,
            timezone,
            command,
            workdir: None,
            env: BTreeMap::new(),
            inherit_env: InheritEnv::Nothing,
            executor: defaults::EXECUTOR.to_owned(),
            start: None,
            end: None,
            jitter: None,
            misfire_grace: defaults::MISFIRE_GRACE,
            queue_grace: None,
            coalesce: defaults::COALESCE,
            max_instances: defaults::MAX_INSTANCES,
            overlap: Overlap::Skip,
            timeout: None,
            kill_after: defaults::KILL_AFTER,
            paused: false,
            shell: None,
            stdin: None,
            user: None,
            group: None,
            outcomes: Arc::default(),
        }
    }

    /// The first nominal fire strictly after `t` inside the job's `start`/`end` window.
    /// Pausing does not change the answer: a preview of a paused job is still useful, and the
    /// scheduler checks `paused` itself.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from = match self.start {
            Some(start) if start > t => start - TimeDelta::nanoseconds(1),
            _ => t,
        };
        let fire = self.trigger.next_after(from)?;
        match self.end {
            Some(end) if fire > end => None,
            _ => Some(fire),
        }
    }

    /// Whether `t` lies inside the job's `start`/`end` window: what an event trigger
    /// (`@reboot`, `after`) checks before it fires, as a time trigger's fires do.
    pub fn in_window(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|start| t >= start) && self.end.is_none_or(|end| t <= end)
    }
}

/// A named pool of worker slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executor {
    pub name: String,
    pub workers: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{CronExpr, CronTrigger};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn hourly_job(start: Option<&str>, end: Option<&str>) -> Job {
        let trigger = Trigger::Cron(CronTrigger::new(
            CronExpr::parse("0 * * * *").unwrap(),
            Tz::UTC,
        ));
        Job {
            start: start.map(utc),
            end: end.map(utc),
            ..Job::new("tick", trigger, Tz::UTC, Command::Argv(vec!["true".into()]))
        }
    }

    #[test]
    fn the_window_bounds_fires_inclusively() {
        let job = hourly_job(Some("2026-12-01T00:00:00Z"), Some("2026-12-01T02:00:00Z"));
        assert_eq!(
            job.next_after(utc("2026-11-01T00:00:00Z")),
            Some(utc("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            job.next_after(utc("2026-12-01T01:00:00Z")),
            Some(utc("2026-12-01T02:00:00Z"))
        );
        assert_eq!(job.next_after(utc("2026-12-01T02:00:00Z")), None);
    }

    #[test]
    fn inherit_env_patterns_match_whole_names() {
        let only = |p: &[&str]| InheritEnv::Matching(p.iter().map(|s| (*s).to_owned()).collect());
        let aws = only(&["AWS_*", "http_proxy", "LC_?"]);
        for name in ["AWS_REGION", "AWS_", "http_proxy", "LC_X"] {
            assert!(aws.passes(name), "{name}");
        }
        for name in [
            "AWS",
            "XAWS_REGION",
            "http_proxy2",
            "HTTP_PROXY",
            "LC_ALL",
            "",
        ] {
            assert!(!aws.passes(name), "{name}");
        }
        assert!(only(&["*_KEY*"]).passes("AWS_SECRET_KEY_ID"));
        assert!(only(&["A*B*C"]).passes("AxxBxxBxxC"));
        assert!(!only(&["A*B*C"]).passes("AxxBxxCxxB"));
        assert!(only(&["*"]).passes("ANY"));
        assert!(InheritEnv::All.passes("ANY"));
        assert!(!InheritEnv::Nothing.passes("PATH"));
    }

    #[test]
    fn commands_display_with_shell_quoting() {
        let argv = Command::Argv(vec![
            "./report.sh".into(),
            "--out".into(),
            "my file".into(),
            "it's".into(),
        ]);
        assert_eq!(argv.display(), r"./report.sh --out 'my file' 'it'\''s'");
        assert_eq!(Command::Shell("a | b".into()).display(), "a | b");
    }
}
