//! `jobrun remove`: remove jobs from the jobfile, keeping the rest of it byte for byte.

use crate::cli::RemoveArgs;
use crate::context::Context;
use crate::error::Error;
use crate::jobfile;
use crate::output;

pub(super) fn run(ctx: &Context, args: &RemoveArgs) -> Result<(), Error> {
    jobfile::remove_jobs(&ctx.jobfile, &args.names, ctx.local_tz)?;
    let noun = if args.names.len() == 1 { "job" } else { "jobs" };
    let text = format!(
        "removed {noun} {} from {}\n",
        args.names.join(", "),
        ctx.jobfile.display()
    );
    output::print(text.as_bytes()).map_err(Error::Output)
}
