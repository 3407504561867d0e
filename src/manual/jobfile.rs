//! The jobfile reference: every key, trigger, duration form and rule a jobfile obeys, kept as
//! data beside the code so that `jobrun.toml(5)` is generated from it and a test can hold it
//! against the keys the loader accepts.

/// One key of the jobfile.
pub struct Key {
    pub name: &'static str,
    /// Where it may appear.
    pub place: &'static str,
    pub meaning: &'static str,
}

/// Every key, in the order a reader meets them.
pub const KEYS: &[Key] = &[
    Key {
        name: "cron",
        place: "job, one trigger",
        meaning: "a crontab(5) expression; see TRIGGERS",
    },
    Key {
        name: "every",
        place: "job, one trigger",
        meaning: "a fixed interval of real time, e.g. \"90s\"; see TRIGGERS",
    },
    Key {
        name: "at",
        place: "job, one trigger",
        meaning: "one date-time; see TRIGGERS",
    },
    Key {
        name: "all",
        place: "job, one trigger",
        meaning: "an array of triggers; fires when every part fires",
    },
    Key {
        name: "any",
        place: "job, one trigger",
        meaning: "an array of triggers; fires when any part fires",
    },
    Key {
        name: "after",
        place: "job, one trigger",
        meaning: "fires when other jobs' runs end: \"backup\", { job = \"backup\", on = \
                  \"failure\" } or a list of them; see TRIGGERS",
    },
    Key {
        name: "command",
        place: "job, required",
        meaning: "an array is run directly, without a shell; a string needs shell = true and \
                  runs as /bin/sh -c",
    },
    Key {
        name: "shell",
        place: "job, defaults",
        meaning: "true to run a string command through /bin/sh -c, or a shell's path \
                  (\"/bin/bash\") to run it through that shell's -c",
    },
    Key {
        name: "stdin",
        place: "job",
        meaning: "text fed to the run's standard input (crontab's %); default: /dev/null",
    },
    Key {
        name: "user",
        place: "job, defaults",
        meaning: "run as this user, with its groups and HOME, USER, LOGNAME and SHELL from \
                  the password database; only root can switch to another user",
    },
    Key {
        name: "group",
        place: "job, defaults",
        meaning: "run with this primary group (default: the user's); root only, like user",
    },
    Key {
        name: "timezone",
        place: "job, defaults",
        meaning: "IANA zone that wall-clock times are read in; default: $TZ if it names a zone, \
                  else the system zone, else UTC",
    },
    Key {
        name: "workdir",
        place: "job, defaults",
        meaning: "working directory; a relative path is relative to the jobfile's directory, \
                  which is also the default",
    },
    Key {
        name: "env",
        place: "job, defaults",
        meaning: "table of environment variables; a job's table is merged over the defaults'",
    },
    Key {
        name: "inherit_env",
        place: "job, defaults",
        meaning: "true to pass jobrun's whole environment to the run, or a list of names and \
                  glob patterns (\"AWS_*\") to pass; default: a clean environment as cron gives",
    },
    Key {
        name: "executor",
        place: "job, defaults",
        meaning: "the pool to run in; default \"default\"",
    },
    Key {
        name: "start",
        place: "job",
        meaning: "no fire before this date-time (inclusive); without an offset it is local to \
                  the job's zone",
    },
    Key {
        name: "end",
        place: "job",
        meaning: "no fire after this date-time (inclusive)",
    },
    Key {
        name: "jitter",
        place: "job, defaults",
        meaning: "a random delay in [0, jitter) added to each run; previews show nominal times",
    },
    Key {
        name: "misfire_grace",
        place: "job, defaults",
        meaning: "how late the scheduler may reach a fire (downtime, suspend) and still \
                  run it; later ones are recorded as missed (default 1m)",
    },
    Key {
        name: "queue_grace",
        place: "job, defaults",
        meaning: "how long a run may wait for a slot in a full pool before it is recorded \
                  as missed (default: no limit)",
    },
    Key {
        name: "coalesce",
        place: "job, defaults",
        meaning: "several missed runs of a job run once (default true)",
    },
    Key {
        name: "max_instances",
        place: "job, defaults",
        meaning: "runs of one job started or waiting for a slot; what happens to more is \
                  overlap's choice (default 1)",
    },
    Key {
        name: "overlap",
        place: "job, defaults",
        meaning: "a fire beyond max_instances: \"skip\" it (the default), \"queue\" it until \
                  a run ends (one waits; later fires coalesce into it), or \"replace\" the \
                  oldest run (SIGTERM to its process group, SIGKILL kill_after later)",
    },
    Key {
        name: "timeout",
        place: "job, defaults",
        meaning: "then SIGTERM to the run's process group, and SIGKILL kill_after later",
    },
    Key {
        name: "kill_after",
        place: "job, defaults",
        meaning: "time between SIGTERM and SIGKILL (default 10s)",
    },
    Key {
        name: "success_exit_codes",
        place: "job, defaults",
        meaning: "exit codes that count as success (default [0])",
    },
    Key {
        name: "fail_on_stderr",
        place: "job, defaults",
        meaning: "true: a run that writes anything to stderr has failed (default false)",
    },
    Key {
        name: "on_failure",
        place: "job, defaults",
        meaning: "a command run after a run fails (after its last attempt), with the run's \
                  facts in JOBRUN_* variables; an array runs directly, a string needs shell",
    },
    Key {
        name: "on_success",
        place: "job, defaults",
        meaning: "a command run after a run succeeds, like on_failure",
    },
    Key {
        name: "hook_timeout",
        place: "job, defaults",
        meaning: "then SIGTERM to a hook's process group, SIGKILL kill_after later (default 1m)",
    },
    Key {
        name: "retries",
        place: "job, defaults",
        meaning: "further attempts of a failed fire, 0 to 100 (default 0)",
    },
    Key {
        name: "retry_delay",
        place: "job, defaults",
        meaning: "the wait before the first retry (default 30s), doubling each attempt",
    },
    Key {
        name: "retry_delay_max",
        place: "job, defaults",
        meaning: "the longest wait between attempts (default 10m)",
    },
    Key {
        name: "ping_url",
        place: "job, defaults",
        meaning: "a healthchecks.io-style URL: URL/start when a run starts, URL on success, \
                  URL/fail on failure, with the output tail as the body",
    },
    Key {
        name: "paused",
        place: "job",
        meaning: "a paused job never fires; jobrun pause and jobrun resume set it",
    },
    Key {
        name: "workers",
        place: "[executors.NAME], required",
        meaning: "at most this many runs of the pool at once; \"default\" has no limit unless \
                  declared",
    },
    Key {
        name: "url",
        place: "[store]",
        meaning: "the state store the jobfile's schedulers share: postgres://USER@HOST:PORT/DB \
                  (password from ~/.pgpass or $PGPASSWORD; sslmode=disable|prefer|require|\
                  verify-full); --store and $JOBRUN_STORE come first; default: a local SQLite \
                  file",
    },
    Key {
        name: "lease",
        place: "[store]",
        meaning: "how long a scheduler sharing a PostgreSQL store may go without a heartbeat \
                  before the others record its runs interrupted; default 10s, at least 1s",
    },
];

/// A section of the page: a title and its paragraphs. A paragraph starting with two spaces is
/// an example, shown as it is.
pub struct Section {
    pub title: &'static str,
    pub paragraphs: &'static [&'static str],
}

pub const DESCRIPTION: &[&str] = &[
    "A jobfile is a TOML file of jobs for jobrun(1): a [defaults] table that every job \
     inherits from, [executors.NAME] tables declaring pools of worker slots, and one \
     [jobs.NAME] table per job. A job's name is its table key: letters, digits, '-' and '_'.",
    "jobrun finds it at --jobfile PATH, else $JOBRUN_JOBFILE, else ./jobrun.toml, else \
     jobrun.toml in the user's configuration directory (~/.config/jobrun/ on Linux), where \
     jobrun add creates it when none exists.",
    "Unknown keys are errors, with a suggestion when one is close. Every error of a file is \
     reported at once, as file:line:column.",
];

pub const EXAMPLE: &str = r#"[defaults]
timezone = "Europe/Paris"
misfire_grace = "5m"

[executors.heavy]
workers = 1

[jobs.report]
cron = "36 19 * * *"
command = ["./report.sh", "--daily"]

[jobs.backup]
cron = "0 3 * * *"
command = "pg_dump app | gzip > /backups/app.sql.gz"
shell = true
executor = "heavy"
timeout = "2h"

[jobs.poll]
every = "90s"
command = ["curl", "-fsS", "https://example.com/ping"]"#;

pub const SECTIONS: &[Section] = &[
    Section {
        title: "TRIGGERS",
        paragraphs: &[
            "Each job has exactly one trigger key.",
            "cron: crontab(5) as Vixie cron, cronie and Debian read it. Five fields (minute, \
             hour, day of month, month, day of week) or six with seconds first; names (JAN, \
             MON), ranges, steps (*/15, 10-50/7), lists; 0 and 7 are Sunday; @yearly, \
             @annually, @monthly, @weekly, @daily, @midnight, @hourly. In day of month, L is \
             the last day, LW the last weekday and 15W the weekday nearest the 15th; in day \
             of week, 5L is the last Friday and 1#2 the second Monday. When day of month and \
             day of week are both restricted a day matches if either matches; when either \
             starts with * both must. An expression that can never fire is an error.",
            "every: a fixed interval of real time. Fires are start + k \u{d7} interval; \
             without start the anchor is the Unix epoch, so every = \"15m\" fires at :00, \
             :15, :30 and :45 UTC.",
            "at: one date. With an offset (2026-12-24T18:00:00+01:00) it is that instant; \
             without one it is wall-clock time in the job's zone. A local time the zone skips \
             is an error; one that occurs twice means the first occurrence.",
            "all = [ ... ] fires at the earliest instant at which every part fires; any = [ \
             ... ] at the earliest of its parts. Parts are inline tables holding one trigger \
             each, and nest.",
            "cron = \"@reboot\": once per boot, at the first jobrun start after the system \
             started (the kernel's boot id, kept in the state store, tells a boot from a \
             restart of jobrun); a job added later in the same boot waits for the next one.",
            "after = \"backup\": fires when a run of backup succeeds by backup's rules \
             (success_exit_codes, fail_on_stderr, no timeout; with retries, its last attempt); \
             on = \"failure\" (a run that could not start included) or \"always\" in { job = \
             \"backup\", on = ... } chooses other ends. A list fires once every job of it has ended its way since \
             the job last fired. The run gets JOBRUN_AFTER_RUN_ID, the upstream run's \
             JOBRUN_RUN_ID. A job that names no job of the file, or a chain that leads back \
             to itself, is an error. @reboot and after are a job's whole trigger, never a \
             part of all or any.",
            "jobrun explain EXPR reads any trigger back in plain English.",
        ],
    },
    Section {
        title: "DURATIONS",
        paragraphs: &[
            "Durations are strings of numbers with units, largest first: 90s, 15m, 1h30m, 2d, \
             1w (s, m, h, d, w). A bare number is refused: timeout = 30 could mean seconds or \
             minutes.",
        ],
    },
    Section {
        title: "DAYLIGHT SAVING TIME",
        paragraphs: &[
            "In the job's zone, a cron job is fixed-time when neither its minute nor its hour \
             field starts with * (30 2 * * *, 0 9-17 * * *).",
            "When the clocks skip (spring forward), a fixed-time job whose time falls in the \
             gap runs once, at the first real instant after the jump; other jobs skip the \
             missing times.",
            "When the clocks repeat (fall back), a fixed-time job runs once, in the first \
             pass; other jobs run in both passes, in real-time order.",
            "every counts real time and never notices DST.",
        ],
    },
    Section {
        title: "EXIT STATUS",
        paragraphs: &[
            "0 success; 1 a runtime failure (an I/O error, a busy state store); 2 bad input \
             (usage, the jobfile, an expression). jobrun run exits with the job's own code, \
             or 128+n when signal n ended it.",
        ],
    },
    Section {
        title: "ENVIRONMENT",
        paragraphs: &[
            "JOBRUN_JOBFILE: the jobfile when --jobfile is not given.",
            "JOBRUN_STATE_DIR: where state stores live when --state-dir is not given.",
            "TZ: the local zone, when it names an IANA zone.",
            "JOBRUN_BOOT_ID: for tests and containers, the boot id jobrun start uses for \
             @reboot instead of /proc/sys/kernel/random/boot_id.",
            "NO_COLOR: when set and not empty, no colour (as --color never).",
            "Each run gets JOBRUN_JOB, JOBRUN_SCHEDULED_AT (the fire time it stands for, \
             RFC 3339 in the job's zone), JOBRUN_RUN_ID and JOBRUN_JOBFILE, besides the \
             job's env; a run fired by after also gets JOBRUN_AFTER_RUN_ID.",
        ],
    },
    Section {
        title: "FILES",
        paragraphs: &[
            "./jobrun.toml, ~/.config/jobrun/jobrun.toml: the jobfile.",
            "~/.local/state/jobrun/NAME-HASH.sqlite: the state store of a jobfile (last \
             fires, run history).",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_loader_accepts_is_documented_and_no_other() {
        let mut accepted: Vec<&str> = crate::jobfile::JOB_KEYS
            .iter()
            .chain(crate::jobfile::OPTION_KEYS.iter())
            .copied()
            .chain(["workers"])
            .chain(crate::jobfile::STORE_KEYS)
            .collect();
        accepted.sort_unstable();
        accepted.dedup();
        let mut documented: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        documented.sort_unstable();
        assert_eq!(documented, accepted);
    }
}
