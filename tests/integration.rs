//! The one integration-test crate: each module drives the real `jobrun` binary.

/// The `Test` builder: temp dir, jobfile, isolated environment, exact expectations.
mod harness;

/// `jobrun add`: appends keep the file's layout; bad input leaves it unchanged; concurrency.
mod add;
/// Shell completion through a real bash and the checked-in script.
mod completion;
/// README.md, examples/, man/ and completions/: what we ship is what the code generates.
mod docs;
/// `jobrun check` and every malformed jobfile in tests/data/errors, verbatim.
mod errors;
/// `jobrun explain` and `list --verbose`: triggers in plain English, DST in three zones.
mod explain;
/// Issue 12: a job's output and command cannot forge or restyle jobrun's lines.
mod forgery;
/// `jobrun history`, `list`'s LAST column and manual runs, as the state store records them.
mod history;
/// Issue 12: FIFOs, devices, huge and pathological jobfiles, at load and at reload.
mod hostile_files;
/// `jobrun import`: real crontabs into jobfiles, snapshots, `check`, fire times.
mod import;
/// An independent reading of crontab lines that `import` checks fire times against.
mod import_reading;
/// `jobrun import`: imported jobs run as cron ran them; `user`; `--write`; errors.
mod import_run;
/// What jobs leave running: subreaping, late output, nothing outlives jobrun.
mod leftovers;
/// Issue 15: `max_instances` and pool `workers` across three schedulers on one PostgreSQL.
mod limits_across;
/// `jobrun list` in its three formats.
mod list;
/// Issue 15: three schedulers on one PostgreSQL store, a SIGKILL and a cut database, every
/// fire run exactly once.
mod multihost;
/// What a new user tripped over (issue 14, item 6).
mod newcomer;
/// `jobrun next`: jobfile and ad-hoc previews, formats, DST, paused jobs.
mod next;
/// How runs end and what follows (issue 10): signals, failure rules, hooks, retries, pings,
/// metrics.
mod outcomes;
/// `jobrun pause` and `jobrun resume`: the jobfile edit, and a running scheduler honouring it.
mod pause;
/// A private PostgreSQL cluster for the tests that need their own server.
mod pg_cluster;
/// Issue 15: `sslmode` against a real server with TLS.
mod pg_tls;
/// Scheduling policies: cron-like defaults, limited pools, queue_grace.
mod policies;
/// `jobrun remove`.
mod remove;
/// Issue 12: the clean environment a run starts from, and `inherit_env`.
mod run_env;
/// `jobrun start` and `jobrun run`: real processes, real clock, a few seconds each.
mod start;
/// Issue 12: the state directory is the user's own; the store is never reached by a symlink.
mod state_dir;
/// `jobrun status`: the live view in a real terminal (tmux), the snapshot and its JSON.
mod status;
/// The state store end to end: one scheduler per store, recovery after `kill -9`, catch-up
/// after downtime, a corrupt store.
mod store;
/// Colour, `--version`, terminal widths and journald log lines.
mod terminal;
/// Issue 12: whose jobfile root runs.
mod trust;
/// Exit codes and command-line errors.
mod usage;
/// Issue 12: zone rules from the system's tz database (`TZDIR`), the compiled-in fallback.
mod zone;
