//! `jobrun start`: the blocking scheduler in the foreground.

use crate::cli::StartArgs;
use crate::clock::SystemClock;
use crate::context::Context;
use crate::duration::{Duration, DurationError};
use crate::error::Error;
use crate::log::Log;
use crate::scheduler::{self, Settings};
use crate::store::{Retention, Store};

pub(super) fn run(ctx: &Context, args: &StartArgs) -> Result<(), Error> {
    let duration = |flag: &'static str, text: &str| {
        text.parse::<Duration>()
            .map_err(|e: DurationError| Error::Argument {
                flag,
                message: e.to_string(),
            })
    };
    let stop_grace = duration("--stop-grace", &args.stop_grace)?;
    let keep_for = duration("--keep-for", &args.keep_for)?;
    let settings = Settings {
        jobfile: ctx.jobfile.clone(),
        local_tz: ctx.local_tz,
        stop_grace,
        retention: Retention {
            max_runs_per_job: (args.keep_runs > 0).then_some(args.keep_runs),
            max_age: (keep_for != Duration::ZERO).then(|| keep_for.as_chrono()),
        },
        trust: ctx.trust,
        metrics: args.metrics,
        boot_id: boot_id(),
        state_dir: ctx
            .state_dir
            .as_deref()
            .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf())),
        no_spawn: args.no_spawn,
    };
    // The jobfile first: a typo must not create state files.
    let jobfile = crate::jobfile::load(&ctx.jobfile, ctx.local_tz, &ctx.trust)?;
    let location = ctx.store_location(Some(&jobfile.store))?;
    let store = Store::open_scheduler(&location, ctx.now)?;
    let mut log = Log::stderr(args.log_format, ctx.log_target());
    scheduler::serve(&settings, &SystemClock, &mut log, jobfile, store)
}

/// Overrides the kernel's boot id for `@reboot`: for tests, and for containers, whose
/// `/proc` shows the host's boot (set it to something new at each container start).
const BOOT_ID_ENV: &str = "JOBRUN_BOOT_ID";

/// The boot jobrun runs in: `$JOBRUN_BOOT_ID` when set, else the kernel's random boot id,
/// which changes at every boot; `None` when neither can be read.
fn boot_id() -> Option<String> {
    let from_env = std::env::var(BOOT_ID_ENV).ok().filter(|id| !id.is_empty());
    from_env.or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .ok()
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
    })
}
