//! The one integration-test crate: each module drives the real `jobrun` binary.

/// The `Test` builder: temp dir, jobfile, isolated environment, exact expectations.
mod harness;

/// `jobrun add`: appends keep the file's layout; bad input leaves it unchanged; concurrency.
mod add;
/// README.md and examples/: what we show users works.
mod docs;
/// `jobrun check` and every malformed jobfile in tests/data/errors, verbatim.
mod errors;
/// Issue 12: a job's output and command cannot forge or restyle jobrun's lines.
mod forgery;
/// `jobrun history`, `list`'s LAST column and manual runs, as the state store records them.
mod history;
/// Issue 12: FIFOs, devices, huge and pathological jobfiles, at load and at reload.
mod hostile_files;
/// `jobrun list` in its three formats.
mod list;
/// `jobrun next`: jobfile and ad-hoc previews, formats, DST, paused jobs.
mod next;
/// `jobrun pause` and `jobrun resume`: the jobfile edit, and a running scheduler honouring it.
mod pause;
/// `jobrun remove`.
mod remove;
/// Issue 12: the clean environment a run starts from, and `inherit_env`.
mod run_env;
/// `jobrun start` and `jobrun run`: real processes, real clock, a few seconds each.
mod start;
/// Issue 12: the state directory is the user's own; the store is never reached by a symlink.
mod state_dir;
/// The state store end to end: one scheduler per store, recovery after `kill -9`, catch-up
/// after downtime, a corrupt store.
mod store;
/// Issue 12: whose jobfile root runs.
mod trust;
/// Exit codes and command-line errors.
mod usage;
