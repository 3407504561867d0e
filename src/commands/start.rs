//! `jobrun start`: the blocking scheduler in the foreground.

use crate::cli::StartArgs;
use crate::clock::SystemClock;
use crate::context::Context;
use crate::duration::{Duration, DurationError};
use crate::error::Error;
use crate::log::Log;
use crate::scheduler::{self, Settings};

pub(super) fn run(ctx: &Context, args: &StartArgs) -> Result<(), Error> {
    let stop_grace: Duration =
        args.stop_grace
            .parse()
            .map_err(|e: DurationError| Error::Argument {
                flag: "--stop-grace",
                message: e.to_string(),
            })?;
    let settings = Settings {
        jobfile: ctx.jobfile.clone(),
        local_tz: ctx.local_tz,
        stop_grace,
    };
    let mut log = Log::stderr(args.log_format);
    scheduler::serve(&settings, &SystemClock, &mut log)
}
