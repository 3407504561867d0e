//! Hooks (issue 10): `on_failure` or `on_success` runs after a run ends that way, with the
//! run's facts in its environment, under the same rules as a run (its own process group,
//! `hook_timeout` then SIGTERM and SIGKILL `kill_after` later, reaped by the loop, output
//! logged). It is a run of the loop like any other, outside the planner: it takes no pool
//! slot, counts against no `max_instances`, and never holds up a fire.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

use super::Loop;
use super::runs::Run;
use super::ticket::{Limits, Output, Role, Ticket};
use crate::executor::{self, ExitStatus, Launch, signal_name};
use crate::log::Field;
use crate::plan::RunId;
use crate::store::FailedBy;

/// Hooks' keys in the loop's run table start here, far above any run the planner numbers.
pub(super) const FIRST_HOOK: RunId = 1 << 62;

/// How a job's run ended, for its hook.
pub(super) struct Ending<'a> {
    pub(super) status: ExitStatus,
    pub(super) timed_out: bool,
    pub(super) failed_by: Option<FailedBy>,
    pub(super) duration: TimeDelta,
    pub(super) output: &'a str,
}

impl Loop<'_> {
    /// Starts the hook that follows this ended run, if its job has one for how it ended.
    pub(super) fn start_hook(&mut self, ticket: &Ticket, ending: &Ending<'_>, now: DateTime<Utc>) {
        let Some(job) = ticket.hooked.as_deref() else {
            return;
        };
        let Some((hook, command)) = ticket.outcomes.hook(ending.failed_by.is_some()) else {
            return;
        };
        self.last_hook += 1;
        let id = FIRST_HOOK + self.last_hook;
        let of = ticket.shown();
        let name = format!("{}.{hook}", ticket.job);
        let fields = |extra: (&'static str, Field)| -> Vec<(&'static str, Field)> {
            vec![
                ("job", ticket.job.as_str().into()),
                ("run", of.into()),
                ("hook", hook.into()),
                extra,
            ]
        };
        let output_file = output_file(&self.session, id);
        if let Err(e) = write_private(&output_file, ending.output) {
            let error = format!("cannot write {}: {e}", output_file.display());
            self.log
                .event(now, "hook_failed", &fields(("error", error.into())));
            return;
        }
        let mut env = job.clone();
        env.command = command.clone();
        env.env.extend(facts(ending, ticket.attempt, &output_file));
        let run_id = self.run_id(ticket.run, ticket.record);
        let after = self.planner.as_ref().and_then(|p| p.after_run(ticket.run));
        let after = after.map(|id| id.to_string());
        let launch = Launch {
            job: &env,
            scheduled_at: ticket.scheduled,
            run_id: &run_id,
            jobfile: &self.jobfile_path,
            base_dir: &self.base_dir,
            // The run's own facts: its upstream too, for a chained run.
            after_run_id: after.as_deref(),
        };
        let spawned = executor::prepare(&launch, &self.base_env).and_then(|p| p.spawn());
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_file(&output_file);
                self.log
                    .event(now, "hook_failed", &fields(("error", e.to_string().into())));
                return;
            }
        };
        self.log.event(
            now,
            "hook_started",
            &fields(("pid", child.pid.as_raw().into())),
        );
        let hook_ticket = Ticket {
            run: id,
            job: name,
            scheduled: ticket.scheduled,
            record: None,
            output: Output::Log,
            attempt: ticket.attempt,
            attempts: ticket.attempts,
            limits: Limits {
                timeout: Some(ticket.outcomes.hook_timeout),
                kill_after: job.kill_after,
            },
            outcomes: std::sync::Arc::default(),
            command: None,
            role: Role::Hook {
                hook,
                of,
                output_file: Some(output_file),
            },
            rid: None,
            hooked: None,
        };
        self.runs.insert(id, Run::new(hook_ticket, now, child));
    }

    /// A hook has ended: logged, and its output file removed.
    pub(super) fn hook_ended(&mut self, run: Run, status: ExitStatus, now: DateTime<Utc>) {
        let Role::Hook {
            hook,
            of,
            output_file,
        } = &run.ticket.role
        else {
            return;
        };
        if let Some(path) = output_file {
            let _ = fs::remove_file(path);
        }
        let job = run
            .ticket
            .job
            .strip_suffix(&format!(".{hook}"))
            .unwrap_or(&run.ticket.job);
        let duration = now - run.started;
        let mut fields: Vec<(&str, Field)> = vec![
            ("job", job.into()),
            ("run", (*of).into()),
            ("hook", (*hook).into()),
            ("status", status.to_string().into()),
            (
                "duration",
                format!("{:.3}s", duration.num_milliseconds() as f64 / 1000.0).into(),
            ),
        ];
        if run.timed_out {
            fields.push(("timed_out", "true".into()));
        }
        self.log.event(now, "hook_finished", &fields);
    }
}

/// The run's facts, as the hook's environment gives them (`JOBRUN_JOB`, `JOBRUN_RUN_ID` and
/// `JOBRUN_SCHEDULED_AT` come with every launch, the run's own).
fn facts(ending: &Ending<'_>, attempt: u32, output_file: &Path) -> Vec<(String, String)> {
    let mut facts = vec![
        (
            "JOBRUN_STATUS".to_owned(),
            crate::outcomes::words(ending.status, ending.timed_out, ending.failed_by),
        ),
        (
            "JOBRUN_DURATION_MS".to_owned(),
            ending.duration.num_milliseconds().to_string(),
        ),
        ("JOBRUN_ATTEMPT".to_owned(), attempt.to_string()),
        (
            "JOBRUN_OUTPUT_FILE".to_owned(),
            output_file.display().to_string(),
        ),
    ];
    facts.push(match ending.status {
        ExitStatus::Code(code) => ("JOBRUN_EXIT_CODE".to_owned(), code.to_string()),
        ExitStatus::Signal(signal) => ("JOBRUN_SIGNAL".to_owned(), signal_name(signal)),
    });
    facts
}

/// Where a hook's `JOBRUN_OUTPUT_FILE` goes: the system's temporary directory, named after this
/// scheduler and the hook, so two schedulers never share one.
fn output_file(session: &str, id: RunId) -> PathBuf {
    std::env::temp_dir().join(format!(
        "jobrun-{}-{session}-{}.out",
        std::process::id(),
        id - FIRST_HOOK
    ))
}

/// Creates `path` (never over an existing file) readable by its owner only, holding `text`.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}
