//! One file per subcommand; each takes the resolved `Context` and its own arguments.

mod add;
mod advice;
mod check;
mod explain;
mod generate;
mod history;
mod import;
pub(crate) mod list;
mod next;
mod pause;
mod remove;
mod run;
mod start;
mod status;

use crate::cli::Command;
use crate::context::Context;
use crate::error::Error;

pub fn dispatch(ctx: &Context, command: Command) -> Result<(), Error> {
    match command {
        Command::Next(args) => next::run(ctx, &args),
        Command::List(args) => list::run(ctx, &args),
        Command::Check => check::run(ctx),
        Command::Add(args) => add::run(ctx, *args),
        Command::Remove(args) => remove::run(ctx, &args),
        Command::History(args) => history::run(ctx, &args),
        Command::Import(args) => import::run(ctx, &args),
        Command::Pause(args) => pause::run(ctx, &args.names, true),
        Command::Resume(args) => pause::run(ctx, &args.names, false),
        Command::Start(args) => start::run(ctx, &args),
        Command::Run(args) => run::run(ctx, &args),
        Command::Generate(args) => generate::run(ctx, &args),
        Command::Explain(args) => explain::run(ctx, &args),
        Command::Status(args) => status::run(ctx, &args),
    }
}

use chrono::{DateTime, Utc};

use crate::context::display_path;
use crate::error::did_you_mean;
use crate::jobfile::{self, Jobfile};
use crate::trigger::At;
use crate::zone::Tz;

/// Loads the context's jobfile.
fn load_jobfile(ctx: &Context) -> Result<Jobfile, Error> {
    Ok(jobfile::load(&ctx.jobfile, ctx.local_tz, &ctx.trust)?)
}

/// Checks that every name is a job of `jobfile`; all unknown ones are reported together.
fn check_names(jobfile: &Jobfile, names: &[String]) -> Result<(), Error> {
    let unknown: Vec<String> = names
        .iter()
        .filter(|n| jobfile.job(n).is_none())
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let suggestion = match unknown.as_slice() {
        [one] => did_you_mean(one, jobfile.jobs.iter().map(|j| j.name.as_str())),
        _ => None,
    };
    Err(Error::UnknownJobs {
        names: unknown,
        path: display_path(&jobfile.path),
        suggestion,
    })
}

/// An IANA zone given on the command line.
fn parse_zone(flag: &'static str, name: &str) -> Result<Tz, Error> {
    name.parse::<Tz>().map_err(|e| {
        if !matches!(e, crate::zone::ZoneError::Unknown(_)) {
            return Error::Argument {
                flag,
                message: e.to_string(),
            };
        }
        let suggestion = did_you_mean(name, crate::zone::names().iter().map(String::as_str));
        let help = suggestion
            .map(|s| format!(" (did you mean {s:?}?)"))
            .unwrap_or_default();
        Error::Argument {
            flag,
            message: format!(
                "unknown time zone {name:?}{help}; expected an IANA name like \"Europe/Paris\""
            ),
        }
    })
}

/// A date-time given on the command line: RFC 3339, or wall time in `tz`.
fn parse_instant(flag: &'static str, text: &str, tz: Tz) -> Result<DateTime<Utc>, Error> {
    At::parse(text, tz)
        .map(|at| at.instant())
        .map_err(|e| Error::Argument {
            flag,
            message: e.to_string(),
        })
}
