//! Everything a command needs from the outside world, resolved once at the top: which jobfile,
//! which zone is "local", and what time it is. Nothing below this reads the environment or the
//! clock, so every command can be driven exactly by tests.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::output::{ColorWhen, Style};
use crate::store::Location;
use crate::store::postgres::{PgEnvironment, Target};
use crate::trust::{TRUST_JOBFILE_ENV, Trust};
use crate::zone::Tz;

/// The environment variable naming the jobfile when `--jobfile` is not given.
pub const JOBFILE_ENV: &str = "JOBRUN_JOBFILE";
/// The environment variable naming the state store when `--store` is not given.
pub const STORE_ENV: &str = "JOBRUN_STORE";
/// The jobfile name looked for in the current directory and in the config directory.
pub const JOBFILE_NAME: &str = "jobrun.toml";

#[derive(Debug, Clone)]
pub struct Context {
    /// The jobfile commands read and edit.
    pub jobfile: PathBuf,
    /// The zone of jobs that set none, and of ad-hoc previews without `--tz`.
    pub local_tz: Tz,
    /// The moment the command started.
    pub now: DateTime<Utc>,
    /// `--state-dir`, else `$JOBRUN_STATE_DIR`: where state stores live (else the user's
    /// state directory).
    pub state_dir: Option<PathBuf>,
    /// Colour on stdout, and on stderr (jobrun's diagnostics and log).
    pub style: Style,
    pub err_style: Style,
    /// stdout is a terminal (`jobrun status` then runs its live view).
    pub terminal: bool,
    /// The width tables fit in: `$COLUMNS`, else the terminal's when stdout is one; `None`
    /// (no limit) when stdout goes to a file or a pipe.
    pub width: Option<usize>,
    /// Whether stderr is connected to journald (`$JOURNAL_STREAM` names it): log lines then
    /// carry sd-daemon priority prefixes instead of their own timestamps.
    pub journald: bool,
    /// Who jobrun runs as, and whether to trust a jobfile others can change.
    pub trust: Trust,
    /// `--store`, else `$JOBRUN_STORE`: the state store's URL, before the jobfile's `[store]`.
    pub store_url: Option<String>,
    /// What a PostgreSQL connection reads from the environment (password, password file).
    pub pg_env: PgEnvironment,
}

/// The process environment that `Context` is resolved from, gathered in one place so tests can
/// build it by hand.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub jobfile_flag: Option<PathBuf>,
    pub jobfile_env: Option<PathBuf>,
    pub current_dir: Option<PathBuf>,
    pub config_dir: Option<PathBuf>,
    pub tz_env: Option<String>,
    pub system_zone: Option<String>,
    pub state_dir_flag: Option<PathBuf>,
    pub state_dir_env: Option<PathBuf>,
    pub color_flag: ColorWhen,
    /// `NO_COLOR` is set to something other than the empty string.
    pub no_color: bool,
    pub stdout_terminal: bool,
    pub stderr_terminal: bool,
    /// `$COLUMNS`, else the terminal's width when stdout is a terminal.
    pub columns: Option<usize>,
    pub journald: bool,
    /// `--trust-jobfile`, or `$JOBRUN_TRUST_JOBFILE` set to anything but empty or `0`.
    pub trust_jobfile: bool,
    /// The effective user id.
    pub uid: u32,
    /// `--store URL`.
    pub store_flag: Option<String>,
    /// `$JOBRUN_STORE`.
    pub store_env: Option<String>,
    pub pg_env: PgEnvironment,
}

impl Environment {
    /// Reads the real process environment.
    pub fn from_process(
        jobfile_flag: Option<PathBuf>,
        state_dir_flag: Option<PathBuf>,
        trust_jobfile_flag: bool,
    ) -> Environment {
        let trust_jobfile_env =
            std::env::var_os(TRUST_JOBFILE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
        Environment {
            jobfile_flag,
            state_dir_flag,
            trust_jobfile: trust_jobfile_flag || trust_jobfile_env,
            uid: Trust::of_process(false).uid,
            store_flag: None,
            store_env: std::env::var(STORE_ENV).ok().filter(|v| !v.is_empty()),
            pg_env: PgEnvironment::from_process(),
            state_dir_env: std::env::var_os(crate::store::STATE_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            jobfile_env: std::env::var_os(JOBFILE_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            current_dir: std::env::current_dir().ok(),
            config_dir: directories::ProjectDirs::from("", "", "jobrun")
                .map(|d| d.config_dir().to_path_buf()),
            tz_env: std::env::var("TZ").ok(),
            system_zone: iana_time_zone::get_timezone().ok(),
            color_flag: ColorWhen::Auto,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            stdout_terminal: std::io::stdout().is_terminal(),
            stderr_terminal: std::io::stderr().is_terminal(),
            columns: columns(std::io::stdout().is_terminal()),
            journald: stderr_is_journal(),
        }
    }

    /// The same with `--color` as given.
    pub fn with_color(self, color_flag: ColorWhen) -> Environment {
        Environment { color_flag, ..self }
    }

    /// The same with `--store` as given.
    pub fn with_store(self, store_flag: Option<String>) -> Environment {
        Environment { store_flag, ..self }
    }
}

/// `$COLUMNS` when it is a number, else the terminal's width if stdout is a terminal.
fn columns(stdout_terminal: bool) -> Option<usize> {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    from_env.or_else(|| {
        stdout_terminal
            .then(|| crossterm::terminal::size().ok())
            .flatten()
            .map(|(cols, _)| usize::from(cols))
            .filter(|&c| c > 0)
    })
}

/// systemd sets `JOURNAL_STREAM=DEV:INODE` for a service whose stderr (or stdout) is a stream
/// to journald; it is ours when stderr is that very file (a child whose stderr was redirected
/// elsewhere inherits the variable, and must not believe it).
fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(stat) = nix::sys::stat::fstat(std::io::stderr()) else {
        return false;
    };
    value.to_str() == Some(&format!("{}:{}", stat.st_dev, stat.st_ino))
}

impl Context {
    pub fn resolve(env: &Environment, now: DateTime<Utc>) -> Context {
        Context {
            jobfile: jobfile_path(env),
            local_tz: local_zone(env),
            now,
            state_dir: env.state_dir_flag.clone().or(env.state_dir_env.clone()),
            style: Style::resolve(env.color_flag, env.no_color, env.stdout_terminal),
            err_style: Style::resolve(env.color_flag, env.no_color, env.stderr_terminal),
            terminal: env.stdout_terminal,
            width: env.columns,
            journald: env.journald,
            trust: Trust {
                uid: env.uid,
                trust_jobfile: env.trust_jobfile,
            },
            store_url: env.store_flag.clone().or(env.store_env.clone()),
            pg_env: env.pg_env.clone(),
        }
    }

    /// Where the log goes: journald or not, colour or not.
    pub fn log_target(&self) -> crate::log::Target {
        crate::log::Target {
            journald: self.journald,
            style: self.err_style,
        }
    }

    /// Where the state store is: `--store`, else `$JOBRUN_STORE`, else the jobfile's `[store]
    /// url` (`store` is the jobfile's `[store]`, when it was read), else the jobfile's SQLite
    /// file ([`Context::store_path`]).
    pub fn store_location(
        &self,
        store: Option<&crate::jobfile::StoreSettings>,
    ) -> Result<Location, crate::error::Error> {
        let from_jobfile = store.and_then(|s| s.url.clone());
        let lease = store
            .and_then(|s| s.lease)
            .map_or(crate::store::postgres::DEFAULT_LEASE, |l| l.as_std());
        match self.store_url.clone().or(from_jobfile) {
            Some(url) => {
                let target = Target::parse(&url, &self.pg_env).map_err(|message| {
                    crate::error::Error::Argument {
                        flag: "--store",
                        message,
                    }
                })?;
                Ok(Location::Postgres {
                    target: Box::new(target),
                    lease,
                })
            }
            None => Ok(Location::File(self.store_path()?)),
        }
    }

    /// The state store of the jobfile (which need not exist yet).
    pub fn store_path(&self) -> Result<PathBuf, crate::store::StoreError> {
        crate::store::path_for(
            &self.jobfile,
            self.state_dir.as_deref().map(Path::as_os_str),
        )
    }
}

/// `--jobfile`, else `$JOBRUN_JOBFILE`, else `./jobrun.toml` if it exists, else the config
/// directory's `jobrun.toml` (where `jobrun add` creates it when none exists yet: a per-user
/// file, like a crontab, rather than one in whatever directory the user happens to be in).
fn jobfile_path(env: &Environment) -> PathBuf {
    if let Some(path) = env.jobfile_flag.as_ref().or(env.jobfile_env.as_ref()) {
        return path.clone();
    }
    if let Some(local) = env.current_dir.as_ref().map(|d| d.join(JOBFILE_NAME))
        && local.exists()
    {
        return PathBuf::from(JOBFILE_NAME);
    }
    match &env.config_dir {
        Some(dir) => dir.join(JOBFILE_NAME),
        None => PathBuf::from(JOBFILE_NAME),
    }
}

/// `$TZ` when it names an IANA zone (`TZ=Europe/Paris` or `TZ=:Europe/Paris`), else the
/// system's zone (the /etc/localtime link), else UTC.
fn local_zone(env: &Environment) -> Tz {
    let parse = |name: &str| name.trim_start_matches(':').parse::<Tz>().ok();
    if let Some(tz) = env.tz_env.as_deref().and_then(parse) {
        return tz;
    }
    env.system_zone
        .as_deref()
        .and_then(parse)
        .unwrap_or(Tz::UTC)
}

/// Shows a path the way the user is likely to recognise it: relative paths as given.
pub fn display_path(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_cwd_beats_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(JOBFILE_NAME), "").unwrap();
        let mut env = Environment {
            jobfile_flag: Some("flag.toml".into()),
            jobfile_env: Some("env.toml".into()),
            current_dir: Some(dir.path().to_path_buf()),
            config_dir: Some("/home/u/.config/jobrun".into()),
            ..Environment::default()
        };
        assert_eq!(jobfile_path(&env), PathBuf::from("flag.toml"));
        env.jobfile_flag = None;
        assert_eq!(jobfile_path(&env), PathBuf::from("env.toml"));
        env.jobfile_env = None;
        assert_eq!(jobfile_path(&env), PathBuf::from("jobrun.toml"));
        env.current_dir = Some(dir.path().join("elsewhere"));
        assert_eq!(
            jobfile_path(&env),
            PathBuf::from("/home/u/.config/jobrun/jobrun.toml")
        );
    }

    #[test]
    fn tz_env_beats_the_system_zone_and_utc_is_the_fallback() {
        let mut env = Environment {
            tz_env: Some(":Asia/Kathmandu".into()),
            system_zone: Some("Europe/Paris".into()),
            ..Environment::default()
        };
        assert_eq!(local_zone(&env).name(), "Asia/Kathmandu");
        env.tz_env = Some("EST5EDT,M3.2.0,M11.1.0".into());
        assert_eq!(local_zone(&env).name(), "Europe/Paris");
        env.system_zone = None;
        assert_eq!(local_zone(&env), Tz::UTC);
    }
}
