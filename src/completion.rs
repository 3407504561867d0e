//! Shell completion: the candidates jobrun offers when a shell asks, through clap's dynamic
//! engine (`clap_complete`'s `CompleteEnv`).
//!
//! The scripts in `completions/` only register a function that calls `jobrun` back with
//! `COMPLETE=<shell>` and the words typed so far; this module answers. The choice of the
//! dynamic engine over clap's static scripts: job names depend on the jobfile the command
//! line names (or the usual lookup finds), so every shell needs code that runs at Tab time.
//! Static scripts would need that hook written three times in three shell languages (bash,
//! zsh, fish), each parsing `--jobfile` itself; the dynamic engine runs this one Rust
//! function for all five shells clap knows, and it is tested in-process and from a real bash
//! (tests/completion.rs). The price is a feature clap calls unstable, so Cargo.toml pins the
//! exact version of clap_complete.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

use crate::cli::Cli;
use crate::context::{Context, Environment};

/// The environment variable that puts jobrun in completion mode (clap's convention).
pub const COMPLETE_ENV: &str = "COMPLETE";

/// The shells a registration script is generated for, with their file names in `completions/`.
pub const SHELLS: [(&str, &dyn EnvCompleter); 5] = [
    ("jobrun.bash", &Bash),
    ("_jobrun", &Zsh),
    ("jobrun.fish", &Fish),
    ("jobrun.elv", &Elvish),
    ("_jobrun.ps1", &Powershell),
];

/// If the shell is asking for completions (`COMPLETE` is set), answers on stdout and returns
/// the exit code; `None` for a normal run. `args` are jobrun's own, program name first.
pub fn complete_if_asked(args: &[OsString]) -> Option<i32> {
    let current_dir = std::env::current_dir().ok();
    // The words after `--` are the command line being completed.
    let line: Vec<OsString> = args
        .iter()
        .skip_while(|a| a.as_os_str() != "--")
        .skip(1)
        .cloned()
        .collect();
    let completing = clap_complete::CompleteEnv::with_factory(move || command(line.clone()))
        .var(COMPLETE_ENV)
        .completer("jobrun")
        .try_complete(args.iter().cloned(), current_dir.as_deref());
    match completing {
        Ok(true) => Some(0),
        Ok(false) => None,
        Err(e) => {
            let _ = e.print();
            Some(e.exit_code())
        }
    }
}

/// The registration script of one shell, as `completions/` holds it.
pub fn registration(shell: &dyn EnvCompleter) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = shell.write_registration(COMPLETE_ENV, "jobrun", "jobrun", "jobrun", &mut out);
    out
}

/// jobrun's command with value candidates attached: job names for every positional `NAME`
/// (and `explain`'s `EXPR`), IANA zones for every `ZONE`. `line` is the command line being completed, which may name
/// the jobfile.
pub fn command(line: Vec<OsString>) -> clap::Command {
    let jobfile_flag = jobfile_flag(&line);
    let mut cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        let flag = jobfile_flag.clone();
        cmd = cmd.mut_subcommand(name, move |sub| attach(sub, flag.clone()));
    }
    cmd
}

fn attach(mut sub: clap::Command, jobfile_flag: Option<PathBuf>) -> clap::Command {
    let ids: Vec<(String, bool, bool)> = sub
        .get_arguments()
        .map(|a| {
            let value_name = a.get_value_names().and_then(|v| v.first().cloned());
            let is = |want: &str| value_name.as_ref().is_some_and(|n| n.as_str() == want);
            (
                a.get_id().to_string(),
                // `explain EXPR` takes a job's name too.
                a.is_positional() && (is("NAME") || is("EXPR")),
                is("ZONE"),
            )
        })
        .collect();
    for (id, job_name, zone) in ids {
        if job_name {
            let flag = jobfile_flag.clone();
            sub = sub.mut_arg(id, move |a| {
                a.add(ArgValueCandidates::new(move || job_names(flag.clone())))
            });
        } else if zone {
            sub = sub.mut_arg(id, |a| a.add(ArgValueCandidates::new(zone_names)));
        }
    }
    sub
}

/// The value of `--jobfile` on the command line being completed, if it has one before a
/// lone `--` (after which words are a job's command).
fn jobfile_flag(line: &[OsString]) -> Option<PathBuf> {
    let mut words = line.iter().map(OsString::as_os_str);
    let mut found = None;
    while let Some(word) = words.next() {
        if word == "--" {
            break;
        }
        if word == "--jobfile" {
            found = words.next().map(PathBuf::from);
        } else if let Some(value) = word.to_str().and_then(|w| w.strip_prefix("--jobfile=")) {
            found = Some(PathBuf::from(value));
        }
    }
    // An empty value is the word being typed, not a choice yet.
    found.filter(|p| !p.as_os_str().is_empty())
}

/// The jobs of the jobfile the command line names, else the one jobrun would find; each with
/// its trigger as the help a shell may show beside it. None when the jobfile does not load.
fn job_names(jobfile_flag: Option<PathBuf>) -> Vec<CompletionCandidate> {
    let env = Environment::from_process(jobfile_flag, None, false);
    let ctx = Context::resolve(&env, chrono::Utc::now());
    let Ok(jobfile) = crate::jobfile::load(&ctx.jobfile, ctx.local_tz, &ctx.trust) else {
        return Vec::new();
    };
    jobfile
        .jobs
        .iter()
        .map(|job| {
            CompletionCandidate::new(OsStr::new(&job.name))
                .help(Some(job.trigger.describe().into()))
        })
        .collect()
}

fn zone_names() -> Vec<CompletionCandidate> {
    crate::zone::names()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<OsString> {
        line.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_jobfile_flag_is_read_from_the_line_being_completed() {
        let flag = |line: &[&str]| jobfile_flag(&words(line));
        assert_eq!(
            flag(&["jobrun", "--jobfile", "a.toml", "run", ""]),
            Some("a.toml".into())
        );
        assert_eq!(
            flag(&["jobrun", "run", "--jobfile=b.toml", ""]),
            Some("b.toml".into())
        );
        assert_eq!(flag(&["jobrun", "run", "--jobfile", ""]), None);
        assert_eq!(
            flag(&["jobrun", "add", "--", "prog", "--jobfile", "c"]),
            None
        );
    }

    #[test]
    fn zones_complete_from_a_prefix() {
        let mut cmd = command(Vec::new());
        let got = clap_complete::engine::complete(
            &mut cmd,
            words(&["jobrun", "next", "--cron", "@daily", "--tz", "Europe/Par"]),
            5,
            None,
        )
        .unwrap();
        let values: Vec<String> = got
            .iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect();
        assert_eq!(values, ["Europe/Paris"]);
    }
}
