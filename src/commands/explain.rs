//! `jobrun explain EXPR [--tz Z]`: a trigger in plain English, its next fires, and what the
//! zone's clock changes in the coming year do to it.

use super::{load_jobfile, parse_instant, parse_zone};
use crate::cli::ExplainArgs;
use crate::context::Context;
use crate::error::Error;
use crate::explain;
use crate::job::Job;
use crate::jobfile::ChainPreview;
use crate::output::{self, Cell, Column, Paint, Table};
use crate::trigger::{At, CronExpr, CronTrigger, Every, Trigger};
use crate::zone::Tz;

pub(super) fn run(ctx: &Context, args: &ExplainArgs) -> Result<(), Error> {
    let zone = match &args.tz {
        Some(name) => Some(parse_zone("--tz", name)?),
        None => None,
    };
    let tz = zone.unwrap_or(ctx.local_tz);
    let from = match &args.from {
        Some(text) => parse_instant("--from", text, tz)?,
        None => ctx.now,
    };
    let jobfile;
    let mut preview = None;
    let (title, trigger, tz, job): (String, Trigger, Tz, Option<&Job>) =
        match adhoc(&args.expr, tz)? {
            Some(trigger) => (trigger.describe(), trigger, tz, None),
            None => {
                jobfile = load_jobfile(ctx).map_err(|_| not_a_trigger(&args.expr))?;
                let job = jobfile
                    .job(&args.expr)
                    .ok_or_else(|| not_a_trigger(&args.expr))?;
                preview = Some(ChainPreview::new(&jobfile.jobs));
                let tz = zone.unwrap_or(job.timezone);
                let trigger = rezone(&job.trigger, tz);
                let title = format!("job {}: {}", job.name, trigger.describe());
                (title, trigger, tz, Some(job))
            }
        };
    let style = ctx.style;
    let mut out = format!(
        "{}\n  {}\n",
        style.paint(Paint::Header, &title),
        explain::describe(&trigger, tz)
    );
    if let Some(job) = job.filter(|j| j.paused) {
        out.push_str(&format!(
            "  ({} is paused: it does not fire until resumed)\n",
            job.name
        ));
    }

    out.push('\n');
    out.push_str(&style.paint(Paint::Header, "next fires:"));
    out.push('\n');
    let mut table = Table::new(vec![Column::new("TIME"), Column::new("IN")]);
    let mut t = from;
    for _ in 0..args.count {
        let next = match (job, &preview) {
            (Some(job), Some(preview)) => preview.next_after(job, t).filter(|_| args.tz.is_none()),
            _ => None,
        }
        .or_else(|| trigger.next_after(t));
        let Some(next) = next else { break };
        table.row(vec![
            Cell::from(output::human_time(next, tz)),
            Cell::from(output::relative(from, next)),
        ]);
        t = next;
    }
    let at_boot = match (job, &preview) {
        (Some(job), Some(preview)) => preview.at_boot(job),
        _ => matches!(trigger, Trigger::Reboot),
    };
    if at_boot {
        out.push_str("  at the next boot: the first jobrun start after the system starts\n");
    } else if table.is_empty() {
        out.push_str("  none\n");
    } else {
        let layout = table.layout(ctx.width.map(|w| w.saturating_sub(2)));
        for row in table.rows() {
            out.push_str("  ");
            layout.line(row, style, &mut out);
        }
        if job.is_some_and(|j| !j.trigger.upstreams().is_empty()) {
            out.push_str(
                "  (when the jobs its chain starts from fire: it starts as their runs end)\n",
            );
        }
    }

    let until = explain::year_after(from);
    out.push('\n');
    let date = output::human_time(until, tz);
    out.push_str(&style.paint(
        Paint::Header,
        &format!("clock changes in the coming year (to {}):", &date[..10]),
    ));
    out.push('\n');
    for line in explain::daylight_saving(&trigger, tz, from, until) {
        out.push_str("  ");
        out.push_str(&line);
        out.push('\n');
    }
    output::print(out.as_bytes()).map_err(Error::Output)
}

/// The trigger `text` stands for by itself: `every 90s` or `90s`, `at TIME` or a date-time,
/// or a cron expression; `None` when it is none of these (it may be a job's name).
fn adhoc(text: &str, tz: Tz) -> Result<Option<Trigger>, Error> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("@reboot") {
        return Ok(Some(Trigger::Reboot));
    }
    if let Some(interval) = text.strip_prefix("every ") {
        return every(interval.trim()).map(Some);
    }
    if let Some(when) = text.strip_prefix("at ") {
        return At::parse(when.trim(), tz)
            .map(|at| Some(Trigger::At(at)))
            .map_err(|e| Error::Argument {
                flag: "EXPR",
                message: e.to_string(),
            });
    }
    if text.parse::<crate::duration::Duration>().is_ok() {
        return every(text).map(Some);
    }
    if let Ok(at) = At::parse(text, tz) {
        return Ok(Some(Trigger::At(at)));
    }
    Ok(CronExpr::parse(text)
        .ok()
        .map(|expr| Trigger::Cron(CronTrigger::new(expr, tz))))
}

fn every(text: &str) -> Result<Trigger, Error> {
    let interval: crate::duration::Duration =
        text.parse()
            .map_err(|e: crate::duration::DurationError| Error::Argument {
                flag: "EXPR",
                message: e.to_string(),
            })?;
    if interval.as_secs() == 0 {
        return Err(Error::Argument {
            flag: "EXPR",
            message: "an interval must be at least 1s".into(),
        });
    }
    Ok(Trigger::Every(Every::new(interval, None)))
}

/// The error for text that is no trigger and no job: the cron parser's complaint, which is
/// the likeliest intent when there are spaces, with the other forms named.
fn not_a_trigger(text: &str) -> Error {
    let cron = CronExpr::parse(text)
        .err()
        .map(|e| format!("{e}; "))
        .unwrap_or_default();
    Error::Argument {
        flag: "EXPR",
        message: format!(
            "{cron}expected a cron expression (\"30 2 * * *\"), an interval (\"90s\"), a date-time (\"2026-12-24T18:00:00\") or a job's name, found {text:?}"
        ),
    }
}

/// The trigger with its cron parts read in `tz` (a job's trigger carries its own zone; `--tz`
/// asks how it would read in another).
fn rezone(trigger: &Trigger, tz: Tz) -> Trigger {
    match trigger {
        Trigger::Cron(cron) => Trigger::Cron(CronTrigger::new(cron.expr().clone(), tz)),
        Trigger::All(parts) => Trigger::All(parts.iter().map(|p| rezone(p, tz)).collect()),
        Trigger::Any(parts) => Trigger::Any(parts.iter().map(|p| rezone(p, tz)).collect()),
        other => other.clone(),
    }
}
