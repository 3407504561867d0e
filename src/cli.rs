//! The command line as clap sees it: syntax only. Resolving paths, zones and defaults happens
//! once in `context.rs`; validating values happens in the commands.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A cron replacement: scheduled commands in a TOML jobfile, with seconds, a time zone per
/// job, DST handled on purpose, and a preview of every fire time.
#[derive(Debug, Parser)]
#[command(
    name = "jobrun",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The jobfile to use [default: $JOBRUN_JOBFILE, else ./jobrun.toml, else the user's
    /// config dir, e.g. ~/.config/jobrun/jobrun.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub jobfile: Option<PathBuf>,

    /// Where state stores (run history, last fires) live, one file per jobfile [default:
    /// $JOBRUN_STATE_DIR, else the user's state dir, e.g. ~/.local/state/jobrun]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// The state store: a URL like postgres://USER@HOST:PORT/DB for one shared by several
    /// schedulers [default: $JOBRUN_STORE, else the jobfile's store url, else an SQLite file in
    /// the state dir]
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<String>,

    /// When to use colour [auto: on a terminal, unless NO_COLOR is set]
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t)]
    pub color: crate::output::ColorWhen,

    /// Run as root a jobfile that others than root can change (owned by another user, writable
    /// by group or others, or in such a directory), which is refused otherwise [env:
    /// JOBRUN_TRUST_JOBFILE]
    #[arg(long, global = true)]
    pub trust_jobfile: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scheduler in the foreground
    ///
    /// Runs every job of the jobfile when it fires, until SIGTERM or SIGINT (Ctrl-C). Logs one
    /// line per event to stderr. Reloads the jobfile when it changes or on SIGHUP; a broken
    /// edit is reported and the last good jobfile keeps running. On SIGTERM/SIGINT it stops
    /// launching, lets running jobs finish for --stop-grace, then ends their process groups.
    ///
    /// Examples:
    ///   jobrun start
    ///   jobrun --jobfile /etc/jobrun.toml start --log-format json
    #[command(verbatim_doc_comment)]
    Start(StartArgs),

    /// Run one job now, as the scheduler would, and exit with its status
    ///
    /// The job's output is passed through; the exit code is the job's (128+n if signal n
    /// ended it). Its timeout applies; Ctrl-C ends its process group.
    Run(RunArgs),

    /// Preview when jobs fire
    ///
    /// Shows the next N nominal fire times of each job (jitter not applied), merged in time
    /// order, each in its job's time zone. Paused jobs are left out unless named.
    ///
    /// Examples:
    ///   jobrun next                          the next 5 fires of every job
    ///   jobrun next backup -n 10             the next 10 fires of one job
    ///   jobrun next --from 2026-03-08T00:00:00-05:00
    ///   jobrun next --cron '30 2 * * *' --tz America/New_York --from 2026-03-07T12:00:00Z -n 3
    #[command(verbatim_doc_comment)]
    Next(NextArgs),

    /// List the jobs of the jobfile: trigger, zone, next fire, state
    List(ListArgs),

    /// Validate the jobfile without running anything; reports every error at once
    Check,

    /// Add a job to the jobfile, keeping its comments and layout
    ///
    /// Examples:
    ///   jobrun add --cron '36 19 * * *' -- ./report.sh --daily
    ///   jobrun add --name poll --every 90s -- curl -fsS localhost:8080/ping
    ///   jobrun add --at 2026-12-24T18:00:00 --tz Europe/Paris -- ./launch.sh
    ///   jobrun add --cron @daily --shell -- 'pg_dump app | gzip > /backups/app.sql.gz'
    #[command(verbatim_doc_comment)]
    Add(Box<AddArgs>),

    /// Remove jobs from the jobfile, keeping the rest of it as it was
    Remove(RemoveArgs),

    /// Show past runs: scheduled time, start, duration, result, output tail
    ///
    /// Reads the state store that `jobrun start` and `jobrun run` write (also while a
    /// scheduler is running). Oldest first, so the newest run is at the bottom. Missed,
    /// coalesced and skipped fires are listed too.
    ///
    /// Examples:
    ///   jobrun history                 the last 20 runs of every job
    ///   jobrun history backup -n 50
    ///   jobrun history --json
    #[command(verbatim_doc_comment)]
    History(HistoryArgs),

    /// Pause jobs: they stay in the jobfile but do not fire until resumed
    ///
    /// Writes paused = true into each job, keeping the rest of the jobfile as it was. A running
    /// `jobrun start` reloads the edited jobfile and stops firing the jobs at once; runs already
    /// going are left to finish. A job that is already paused is left as it is.
    ///
    /// Examples:
    ///   jobrun pause backup
    ///   jobrun pause report poll
    #[command(verbatim_doc_comment)]
    Pause(PauseArgs),

    /// Turn a crontab into jobfile entries that run what cron ran
    ///
    /// Reads a user crontab (as `crontab -l` prints it), the system crontab or a cron.d
    /// directory, and prints the equivalent jobfile on stdout for review. The schedules are kept
    /// as written; commands run through the crontab's SHELL unless they have no shell syntax;
    /// the text after % becomes the job's stdin; NAME=value lines become env (CRON_TZ the zone);
    /// the user column becomes user; @reboot stays @reboot (once per boot). MAILTO and other
    /// things jobrun does otherwise are reported on stderr. Errors name the file, line and
    /// column, all at once.
    ///
    /// Examples:
    ///   crontab -l | jobrun import                  print the jobfile for your crontab
    ///   crontab -l | jobrun import --write          append its jobs to your jobfile
    ///   jobrun import /etc/crontab > jobrun.toml
    ///   jobrun --jobfile /etc/jobrun.toml import /etc/cron.d --write
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),

    /// Resume paused jobs
    ///
    /// Writes paused = false into each job, keeping the rest of the jobfile as it was. A job
    /// fires again from its first fire time after the resume; the fires that passed while it
    /// was paused are not run. A job that is not paused is left as it is.
    ///
    /// Examples:
    ///   jobrun resume backup
    ///   jobrun resume report poll
    #[command(verbatim_doc_comment)]
    Resume(ResumeArgs),

    /// Watch the scheduler: running jobs, next fires with countdowns, recent failures
    ///
    /// On a terminal, a live view that redraws every second and on resize (q, Esc or Ctrl-C
    /// quits); otherwise, or with --json, one snapshot. It reads the jobfile and its state
    /// store, also while a `jobrun start` runs, and says whether one does.
    ///
    /// Examples:
    ///   jobrun status
    ///   jobrun status --json
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),

    /// Read a trigger back in plain English, with its next fires and what DST does to it
    ///
    /// EXPR is a cron expression, an interval (90s, every 1h), a date-time (at
    /// 2026-12-24T18:00:00), or the name of a job of the jobfile (whose trigger may combine
    /// others with all/any). Clock changes are looked at for the year from --from (or now).
    ///
    /// Examples:
    ///   jobrun explain '30 2 * * *' --tz America/New_York
    ///   jobrun explain '*/10 8-11 * * MON-FRI'
    ///   jobrun explain 90s
    ///   jobrun explain backup
    #[command(verbatim_doc_comment)]
    Explain(ExplainArgs),

    /// Write the man pages and shell completion scripts (for packagers and jobrun's own repo)
    ///
    /// Writes man/*.1, man/jobrun.toml.5 and completions/* under DIR, as checked in.
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// How a listing is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people
    Human,
    /// For scripts: `next` prints one RFC 3339 timestamp per line; `list` one job name per line
    Plain,
    /// JSON (stable, documented fields)
    Json,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        if self.json { Format::Json } else { self.format }
    }
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// Jobs to preview [default: every job that is not paused]
    #[arg(value_name = "NAME", conflicts_with_all = ["cron", "every", "at"])]
    pub names: Vec<String>,

    /// How many fires to show per job
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 5)]
    pub count: usize,

    /// Start the preview here instead of now (RFC 3339, e.g. 2026-03-08T00:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,

    /// Preview a cron expression instead of the jobfile
    #[arg(long, value_name = "EXPR", group = "adhoc")]
    pub cron: Option<String>,

    /// Preview an interval (e.g. 90s, 1h30m) instead of the jobfile
    #[arg(long, value_name = "DURATION", group = "adhoc")]
    pub every: Option<String>,

    /// Preview a one-off date-time instead of the jobfile
    #[arg(long, value_name = "TIME", group = "adhoc")]
    pub at: Option<String>,

    /// Time zone of an ad-hoc --cron or --at [default: the system's zone]
    #[arg(long, value_name = "ZONE", requires = "adhoc")]
    pub tz: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Log format on stderr
    #[arg(long, value_enum, default_value_t = crate::log::LogFormat::Human)]
    pub log_format: crate::log::LogFormat,

    /// On SIGTERM/SIGINT, how long running jobs may take to finish before they are ended
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub stop_grace: String,

    /// History kept per job: at most this many runs (0: no limit by count)
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub keep_runs: u32,

    /// History kept: runs younger than this (e.g. 90d; 0s: no limit by age)
    #[arg(long, value_name = "DURATION", default_value = "90d")]
    pub keep_for: String,

    /// Serve Prometheus metrics at /metrics on PORT or ADDR:PORT (a port alone: loopback only)
    #[arg(long, value_name = "[ADDR:]PORT", value_parser = crate::metrics::parse_address)]
    pub metrics: Option<std::net::SocketAddr>,

    /// Benchmarks only: claim each fire and record it as a success without starting a process
    /// (see bench/store_throughput.sh)
    #[arg(long, hide = true)]
    pub no_spawn: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The job to run
    pub name: String,

    /// Format of jobrun's own log lines (the job's output is passed through as it is)
    #[arg(long, value_enum, default_value_t = crate::log::LogFormat::Human)]
    pub log_format: crate::log::LogFormat,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Add a column reading each trigger in plain English (as `jobrun explain` does)
    #[arg(short, long)]
    pub verbose: bool,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("trigger").required(true).args(["cron", "every", "at"]))]
pub struct AddArgs {
    /// Job name [default: derived from the command, e.g. "report" for ./report.sh]
    #[arg(long)]
    pub name: Option<String>,

    /// Crontab(5) expression: 5 fields, or 6 with seconds first, or @daily and the like
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,

    /// Fixed interval in real time, e.g. 90s, 15m, 1h30m
    #[arg(long, value_name = "DURATION")]
    pub every: Option<String>,

    /// Run once at this date-time (local in the job's zone, or RFC 3339 with an offset)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// IANA time zone of the job, e.g. Europe/Paris [default: the jobfile's default]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Run the command with /bin/sh -c (the words after -- are joined with spaces)
    #[arg(long)]
    pub shell: bool,

    /// Executor pool to run in
    #[arg(long, value_name = "POOL")]
    pub executor: Option<String>,

    /// Working directory of the job
    #[arg(long, value_name = "DIR")]
    pub workdir: Option<String>,

    /// Environment variable for the job (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env_pair)]
    pub env: Vec<(String, String)>,

    /// No fire before this date-time
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,

    /// No fire after this date-time
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,

    /// Random delay in [0, DURATION) added to each fire
    #[arg(long, value_name = "DURATION")]
    pub jitter: Option<String>,

    /// How late a run may still start
    #[arg(long, value_name = "DURATION")]
    pub misfire_grace: Option<String>,

    /// Run several missed fires once (true) or each (false)
    #[arg(long, value_name = "BOOL")]
    pub coalesce: Option<bool>,

    /// Most runs of this job at once; more are skipped
    #[arg(long, value_name = "N")]
    pub max_instances: Option<u32>,

    /// End a run after this long (SIGTERM, then SIGKILL after --kill-after)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,

    /// Time between SIGTERM and SIGKILL on timeout
    #[arg(long, value_name = "DURATION")]
    pub kill_after: Option<String>,

    /// Add the job paused
    #[arg(long)]
    pub paused: bool,

    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A crontab, a cron.d directory (every file cron would read, in name order), or - for
    /// standard input [default: -]
    #[arg(value_name = "FILE|DIR")]
    pub source: Option<PathBuf>,

    /// Read the system format, with a user column between the schedule and the command
    /// [default: for /etc/crontab and files in a directory named cron.d]
    #[arg(long)]
    pub system: bool,

    /// Append the jobs to the jobfile (checked and written atomically, as `jobrun add` does)
    /// instead of printing them; a job name the jobfile already has is an error
    #[arg(long)]
    pub write: bool,

    /// Time zone of the lines without CRON_TZ, e.g. Europe/Paris [default: the jobfile's
    /// default zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Jobs to remove
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Jobs to show [default: every job, including ones no longer in the jobfile]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// How many runs to show (the newest)
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 20)]
    pub count: usize,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Jobs to pause
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Jobs to resume
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One snapshot as JSON (stable, documented fields)
    #[arg(long)]
    pub json: bool,

    /// One snapshot as of this instant instead of now (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A cron expression, an interval, a date-time, or a job's name
    #[arg(value_name = "EXPR")]
    pub expr: String,

    /// Time zone the expression is read in [default: the job's, else the system's zone]
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,

    /// Explain from this instant instead of now (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,

    /// How many next fires to show
    #[arg(short = 'n', long = "count", value_name = "N", default_value_t = 5)]
    pub count: usize,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The directory to write man/ and completions/ into
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

fn parse_env_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, found {s:?}")),
    }
}

impl Cli {
    pub fn parse_from_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn env_pairs_need_a_key() {
        assert_eq!(parse_env_pair("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert!(parse_env_pair("=x").is_err());
        assert!(parse_env_pair("novalue").is_err());
    }
}
