//! `jobrun add`: append a job to the jobfile, keeping the rest of it byte for byte.

use crate::cli::AddArgs;
use crate::context::Context;
use crate::error::Error;
use crate::jobfile::{self, NewJob, NewTrigger};
use crate::output;

pub(super) fn run(ctx: &Context, args: AddArgs) -> Result<(), Error> {
    let trigger = match (args.cron, args.every, args.at) {
        (Some(expr), _, _) => NewTrigger::Cron(expr),
        (_, Some(interval), _) => NewTrigger::Every(interval),
        (_, _, Some(at)) => NewTrigger::At(at),
        // clap's required "trigger" group guarantees one of them.
        (None, None, None) => unreachable!("clap requires one of --cron, --every, --at"),
    };
    if !args.shell {
        let path = std::path::absolute(&ctx.jobfile).unwrap_or_else(|_| ctx.jobfile.clone());
        let base_dir = path.parent().unwrap_or(std::path::Path::new("/"));
        if let Some(why) = super::advice::lone_shell_word(&args.command, base_dir) {
            return Err(Error::Argument {
                flag: "CMD",
                message: format!(
                    "{why}; add --shell to run it with /bin/sh -c, or give the program and its arguments as separate words after --"
                ),
            });
        }
    }
    let new = NewJob {
        name: args.name,
        trigger,
        command: args.command,
        shell: args.shell,
        timezone: args.tz,
        executor: args.executor,
        workdir: args.workdir,
        env: args.env,
        start: args.start,
        end: args.end,
        jitter: args.jitter,
        misfire_grace: args.misfire_grace,
        coalesce: args.coalesce,
        max_instances: args.max_instances,
        timeout: args.timeout,
        kill_after: args.kill_after,
        paused: args.paused,
    };
    let name = jobfile::add_job(&ctx.jobfile, &new, ctx.local_tz)?;
    let loaded = jobfile::load(&ctx.jobfile, ctx.local_tz, &ctx.trust)?;
    let at_boot = loaded
        .job(&name)
        .is_some_and(|job| matches!(job.trigger, crate::trigger::Trigger::Reboot));
    let next = loaded
        .job(&name)
        .and_then(|job| {
            job.next_after(ctx.now)
                .map(|t| t.with_timezone(&job.timezone).to_rfc3339())
        })
        .map_or_else(
            || {
                if at_boot {
                    "it fires at the next boot".to_owned()
                } else {
                    "it will not fire again".to_owned()
                }
            },
            |t| format!("next fire {t}"),
        );
    let text = format!("added job {name:?} to {} ({next})\n", ctx.jobfile.display());
    output::print(text.as_bytes()).map_err(Error::Output)
}
