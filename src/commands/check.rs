//! `jobrun check`: validate the jobfile; every error at once, each with file:line:column.
//! Beyond loading, it asks the system whether each `user` and `group` exists and whether
//! jobrun, as the user running `check`, may run jobs as them. It ends by saying which time
//! zone rules the jobs' zones were read from.

use super::load_jobfile;
use crate::context::Context;
use crate::error::Error;
use crate::executor::{Running, check_group, check_user};
use crate::jobfile::{AccountKey, check_accounts};
use crate::output;

pub(super) fn run(ctx: &Context) -> Result<(), Error> {
    let jobfile = load_jobfile(ctx)?;
    let running = Running::current();
    check_accounts(&ctx.jobfile, |key, name| {
        match key {
            AccountKey::User => check_user(name, running),
            AccountKey::Group => check_group(name, running),
        }
        .map_err(|e| e.to_string())
    })?;
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
    let zones = jobfile.jobs.iter().map(|j| j.timezone);
    let rules = crate::zone::rules_in_use(zones.chain([ctx.local_tz]));
    let text = format!(
        "{}: ok ({jobs} {}, {paused} paused, {executors} {})\ntime zone rules: {rules}\n",
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
