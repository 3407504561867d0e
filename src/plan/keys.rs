//! The text a state store keeps per job to notice, at the next start, that the job's schedule
//! changed while jobrun was down.

use chrono::{DateTime, Utc};

use crate::job::Job;

/// What decides a job's fire times, as text: its trigger, zone and window. A state store keeps
/// it beside the job's last fire, so that a trigger edited while jobrun was down is noticed
/// (its old fires are not caught up). Built from the jobfile's own spelling (a cron
/// expression's source), so it does not change between jobrun versions.
pub fn schedule_key(job: &Job) -> String {
    let instant = |t: Option<DateTime<Utc>>| t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339());
    format!(
        "{} tz={} start={} end={}",
        job.trigger.describe(),
        job.timezone.name(),
        instant(job.start),
        instant(job.end)
    )
}

/// The text the state store keeps per job to notice, at the next start, that its schedule
/// changed while jobrun was down: [`schedule_key`], and whether the job is paused. A pause
/// counts as a change: fires that pass while a job is paused do not exist, so a job resumed
/// while jobrun was down starts afresh rather than catching up.
pub fn store_key(job: &Job) -> String {
    let key = schedule_key(job);
    if job.paused {
        format!("{key} paused")
    } else {
        key
    }
}
