//! Triggers read back in plain English, for `jobrun explain` and `list --verbose`: what a
//! trigger means ("at 02:30 every day in America/New_York") and what the zone's clock changes
//! in the coming year do to it.

mod cron;
mod dst;

use chrono::{DateTime, TimeDelta, Utc};

use crate::output;
use crate::trigger::{On, Trigger, Upstream};
use crate::zone::Tz;

/// One sentence saying when `trigger` fires; wall-clock times are read in `tz`.
pub fn describe(trigger: &Trigger, tz: Tz) -> String {
    match trigger {
        Trigger::Every(_) | Trigger::At(_) | Trigger::Reboot | Trigger::After(_) => {
            phrase(trigger, tz)
        }
        _ => format!("{} in {}", phrase(trigger, tz), tz.name()),
    }
}

/// The sentence without the zone the wall-clock parts are read in.
fn phrase(trigger: &Trigger, tz: Tz) -> String {
    match trigger {
        Trigger::Cron(cron) => cron::describe(cron.expr()),
        Trigger::Every(every) => {
            let epoch = every.anchor().timestamp() == 0;
            let anchor = if epoch {
                "the Unix epoch (1970-01-01 00:00:00 UTC)".to_owned()
            } else {
                output::human_time(every.anchor(), Tz::UTC)
            };
            format!(
                "every {} of real time, counted from {anchor}",
                every.interval()
            )
        }
        Trigger::At(at) => format!(
            "once, at {} ({})",
            output::human_time(at.instant(), tz),
            tz.name()
        ),
        Trigger::All(parts) => format!(
            "whenever all of these fire at the same moment: {}",
            numbered(parts, tz)
        ),
        Trigger::Any(parts) => format!("whenever any of these fires: {}", numbered(parts, tz)),
        Trigger::Reboot => {
            "at boot: once per boot, at the first jobrun start after the system started".to_owned()
        }
        Trigger::After(upstreams) => after(upstreams),
    }
}

/// `after each run of backup that succeeds`; with several jobs, what each must have done since
/// the job last fired.
fn after(upstreams: &[Upstream]) -> String {
    if let [one] = upstreams {
        return match one.on {
            On::Success => format!("after each run of {} that succeeds", one.job),
            On::Failure => format!("after each run of {} that fails", one.job),
            On::Always => format!("after each run of {}, however it ends", one.job),
        };
    }
    let each: Vec<String> = upstreams
        .iter()
        .map(|u| {
            let how = match u.on {
                On::Success => "succeeded",
                On::Failure => "failed",
                On::Always => "ended",
            };
            format!("{} has {how}", u.job)
        })
        .collect();
    format!("once {} since this job last fired", and_list(&each))
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn numbered(parts: &[Trigger], tz: Tz) -> String {
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| format!("({}) {}", i + 1, phrase(part, tz)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What clock changes in `[from, to)` do to the trigger, one line each (also when they do
/// nothing to it, so the reader knows they were looked at).
pub fn daylight_saving(
    trigger: &Trigger,
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<String> {
    let changes = matches!(
        trigger,
        Trigger::Cron(_) | Trigger::All(_) | Trigger::Any(_)
    );
    if changes && dst::transitions(tz, from, to).is_empty() {
        return vec![format!(
            "{} does not change its clocks in this time",
            tz.name()
        )];
    }
    match trigger {
        Trigger::Cron(cron) => dst::notes(cron, from, to),
        Trigger::Every(_) => {
            vec!["every counts real time: clock changes do not move its fires".to_owned()]
        }
        Trigger::At(_) => vec!["at names one instant: clock changes do not move it".to_owned()],
        Trigger::Reboot => {
            vec!["@reboot has no clock time: clock changes do not move it".to_owned()]
        }
        Trigger::After(_) => vec![
            "after follows other jobs' runs: clock changes move it only as they move those"
                .to_owned(),
        ],
        Trigger::All(parts) | Trigger::Any(parts) => parts
            .iter()
            .enumerate()
            .flat_map(|(i, part)| {
                daylight_saving(part, tz, from, to)
                    .into_iter()
                    .map(move |line| format!("({}) {line}", i + 1))
            })
            .collect(),
    }
}

/// The coming year from `from`: what `explain` looks at for clock changes.
pub fn year_after(from: DateTime<Utc>) -> DateTime<Utc> {
    from + TimeDelta::days(365)
}
