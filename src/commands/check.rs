//! `jobrun check`: validate the jobfile; every error at once, each with file:line:column.

use super::load_jobfile;
use crate::context::Context;
use crate::error::Error;
use crate::output;

pub(super) fn run(ctx: &Context) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    // Valid, but will it run? What a run would find out at its first fire, said now.
    let path = std::path::absolute(&ctx.jobfile).unwrap_or_else(|_| ctx.jobfile.clone());
    let base_dir = path.parent().unwrap_or(std::path::Path::new("/"));
    let base_env = crate::executor::BaseEnv::capture();
    for job in &jobfile.jobs {
        if let Some(warning) = super::advice::job_warning(job, &path, base_dir, &base_env, ctx.now)
        {
            eprint!(
                "{}",
                ctx.err_style
                    .diagnostic(&format!("jobrun: warning: {warning}\n"))
            );
        }
    }
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
