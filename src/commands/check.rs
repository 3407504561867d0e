//! `jobrun check`: validate the jobfile; every error at once, each with file:line:column.

use super::load_jobfile;
use crate::context::Context;
use crate::error::Error;
use crate::output;

pub(super) fn run(ctx: &Context) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    let jobs = jobfile.jobs.len();
    let paused = jobfile.jobs.iter().filter(|j| j.paused).count();
    let executors = jobfile.executors.len();
    let text = format!(
        "{}: ok ({jobs} {}, {paused} paused, {executors} {})\n",
        ctx.jobfile.display(),
        if jobs == 1 { "job" } else { "jobs" },
        if executors == 1 {
            "executor"
        } else {
            "executors"
        },
    );
    output::print(text.as_bytes()).map_err(Error::Output)
}
