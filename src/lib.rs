//! jobrun: a cron replacement with a TOML jobfile.
//!
//! The code follows APScheduler's four components:
//! - **triggers** (`trigger/`): when a job fires — `cron`, `every`, `at`, `all`/`any`;
//! - **the job store**: the jobfile (`jobfile/`: load with located errors, comment-keeping edits);
//! - **executors** (`executor/`): child processes in their own process groups, pools;
//! - **the scheduler**: `plan.rs` decides (pure, clock injected), `scheduler/` carries it out
//!   in one poll(2) loop (`jobrun start`, `jobrun run`); `outcomes.rs` judges how runs ended;
//! - `import/` reads crontabs as cron reads them and writes the jobfile text that runs the
//!   same commands at the same times (`jobrun import`).
//!
//! `main.rs` only calls [`run`]; every command lives in `commands/`, one file each.

pub mod atomic_file;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod completion;
pub mod context;
pub mod duration;
pub mod error;
pub mod escape;
pub mod executor;
pub mod explain;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod import;
pub mod job;
pub mod jobfile;
pub mod log;
pub mod manual;
pub mod metrics;
pub mod outcomes;
pub mod output;
pub mod ping;
pub mod plan;
pub mod scheduler;
pub mod store;
pub mod trigger;
pub mod trust;
pub mod zone;

use std::ffi::OsString;

use chrono::Utc;

/// Runs jobrun with these arguments (the first is the program name) and returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    // A shell asking for completions (`COMPLETE=bash jobrun -- jobrun run ...`).
    if let Some(code) = completion::complete_if_asked(&args) {
        return code;
    }
    let cli = match cli::Cli::parse_from_args(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version land here too, with exit code 0.
            let _ = e.print();
            return e.exit_code();
        }
    };
    let env = context::Environment::from_process(
        cli.jobfile.clone(),
        cli.state_dir.clone(),
        cli.trust_jobfile,
    )
    .with_color(cli.color)
    .with_store(cli.store.clone());
    let ctx = context::Context::resolve(&env, Utc::now());
    match commands::dispatch(&ctx, cli.command) {
        Ok(()) => 0,
        Err(e) => {
            eprint!("{}", ctx.err_style.diagnostic(&e.render()));
            e.exit_code()
        }
    }
}
