//! `jobrun run NAME`: one job, now, through the scheduler's executor path.

use super::{check_names, load_jobfile};
use crate::cli::RunArgs;
use crate::clock::SystemClock;
use crate::context::Context;
use crate::error::Error;
use crate::log::Log;
use crate::scheduler::{self, Settings};
use crate::store::Store;

pub(super) fn run(ctx: &Context, args: &RunArgs) -> Result<(), Error> {
    // Check the name first, so a typo gets the usual "did you mean" and exit code 2.
    let jobfile = load_jobfile(ctx)?;
    check_names(&jobfile, std::slice::from_ref(&args.name))?;
    let settings = Settings {
        jobfile: ctx.jobfile.clone(),
        local_tz: ctx.local_tz,
        stop_grace: crate::duration::Duration::ZERO,
        retention: crate::store::Retention::default(),
        trust: ctx.trust,
        metrics: None,
        boot_id: None,
        state_dir: ctx
            .state_dir
            .as_deref()
            .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf())),
        no_spawn: false,
    };
    // The run goes into the history as a manual one, also while a scheduler holds the store.
    let location = ctx.store_location(Some(&jobfile.store))?;
    let store = Store::open_writer(&location, ctx.now)?;
    let mut log = Log::stderr(args.log_format, ctx.log_target());
    match scheduler::run_once(
        &settings,
        &SystemClock,
        &mut log,
        jobfile,
        &args.name,
        Some(store),
    )? {
        0 => Ok(()),
        code => Err(Error::JobExit(code)),
    }
}
