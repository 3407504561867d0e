//! `jobrun list`: the jobs of the jobfile with their trigger, zone, next fire and state.

use serde::Serialize;

use super::load_jobfile;
use crate::cli::{Format, ListArgs};
use crate::context::Context;
use crate::error::Error;
use crate::job::{Command, Job};
use crate::output::{self, push_rfc3339, push_rfc3339_offset};

pub(super) fn run(ctx: &Context, args: &ListArgs) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    let text = match args.output.format() {
        Format::Plain => jobfile
            .jobs
            .iter()
            .map(|j| format!("{}\n", j.name))
            .collect::<String>()
            .into_bytes(),
        Format::Json => json(ctx, &jobfile.jobs)?,
        Format::Human => human(ctx, &jobfile.jobs).into_bytes(),
    };
    output::print(&text).map_err(Error::Output)
}

/// `list --json`: one object per job, in jobfile order. Field names are part of jobrun's
/// stable interface (see README, "JSON output").
#[derive(Serialize)]
struct JsonJob<'a> {
    name: &'a str,
    trigger: String,
    timezone: &'a str,
    /// Next nominal fire, RFC 3339 in the job's zone; null when it will not fire again.
    next: Option<String>,
    paused: bool,
    /// An array for commands run directly, a string for `shell = true`.
    command: serde_json::Value,
    shell: bool,
    executor: &'a str,
}

fn next_fire(ctx: &Context, job: &Job, separator: u8) -> Option<String> {
    let next = job.next_after(ctx.now)?;
    let mut out = Vec::with_capacity(32);
    if separator == b'T' {
        push_rfc3339(&mut out, next, job.timezone);
    } else {
        let offset = chrono::Offset::fix(&chrono::TimeZone::offset_from_utc_datetime(
            &job.timezone,
            &next.naive_utc(),
        ))
        .local_minus_utc();
        push_rfc3339_offset(&mut out, next.timestamp(), offset, separator);
        out.extend_from_slice(format!(" ({})", output::relative(ctx.now, next)).as_bytes());
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn json(ctx: &Context, jobs: &[Job]) -> Result<Vec<u8>, Error> {
    let rows: Vec<JsonJob<'_>> = jobs
        .iter()
        .map(|job| JsonJob {
            name: &job.name,
            trigger: job.trigger.describe(),
            timezone: job.timezone.name(),
            next: next_fire(ctx, job, b'T'),
            paused: job.paused,
            command: match &job.command {
                Command::Argv(words) => serde_json::Value::from(words.clone()),
                Command::Shell(script) => serde_json::Value::from(script.clone()),
            },
            shell: matches!(job.command, Command::Shell(_)),
            executor: &job.executor,
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&rows).map_err(|e| Error::Output(e.into()))?;
    out.push(b'\n');
    Ok(out)
}

fn human(ctx: &Context, jobs: &[Job]) -> String {
    if jobs.is_empty() {
        return format!(
            "no jobs in {} (add one with `jobrun add`)\n",
            ctx.jobfile.display()
        );
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            vec![
                job.name.clone(),
                job.trigger.describe(),
                job.timezone.name().to_owned(),
                if job.paused {
                    "paused".to_owned()
                } else {
                    "active".to_owned()
                },
                next_fire(ctx, job, b' ').unwrap_or_else(|| "never".to_owned()),
                job.command.display(),
            ]
        })
        .collect();
    output::table(
        &["NAME", "TRIGGER", "ZONE", "STATE", "NEXT", "COMMAND"],
        &rows,
    )
}
