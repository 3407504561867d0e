//! Triggers decide when a job fires. They never read the clock: every question is
//! "what is the first fire strictly after this instant?", so the scheduler, `jobrun next`
//! and the tests can ask it about any moment they like.
//!
//! All fire times are whole seconds in UTC; zones matter only inside the triggers that
//! read wall-clock time (`cron`, and `at` when written without an offset).
//!
//! Two triggers fire on events instead of times, and have no fire times to give: `@reboot`
//! (once per boot, at the first `jobrun start` after it) and `after` (when other jobs' runs
//! end). The planner fires them; here they only say what they wait for.

pub mod after;
pub mod at;
pub mod combine;
pub mod cron;
pub mod every;

use chrono::{DateTime, TimeDelta, Utc};

pub use after::{On, Upstream};
pub use at::At;
pub use combine::{SEARCH_STEPS, Search};
pub use cron::{CronExpr, CronFields, CronTrigger};
pub use every::Every;

/// When a job fires: one of the basic triggers, or a combination of them that nests.
#[derive(Debug, Clone)]
pub enum Trigger {
    Cron(CronTrigger),
    Every(Every),
    At(At),
    /// Fires at the earliest instant at which every part fires.
    All(Vec<Trigger>),
    /// Fires whenever any part fires.
    Any(Vec<Trigger>),
    /// `cron = "@reboot"`: once per boot, at the first `jobrun start` after it.
    Reboot,
    /// `after = ...`: when every one of these jobs has ended its way since the job last fired.
    After(Vec<Upstream>),
}

impl Trigger {
    /// The first fire strictly after `t`, or `None` if the trigger never fires again, fires
    /// on events rather than at times (`@reboot`, `after`), or if finding its next fire takes
    /// more than [`SEARCH_STEPS`] (see [`Trigger::search_after`]).
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.search_after(t).fire()
    }

    /// The upstream jobs of an `after` trigger (none for any other).
    pub fn upstreams(&self) -> &[Upstream] {
        match self {
            Trigger::After(upstreams) => upstreams,
            _ => &[],
        }
    }

    /// The first fire at or after `t`.
    pub fn next_at_or_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after(t - TimeDelta::nanoseconds(1))
    }

    /// The first fire strictly after `t`, telling a trigger that has ended apart from a search
    /// that gave up: every answer costs at most [`SEARCH_STEPS`] answers of basic triggers,
    /// however `all` and `any` nest. Event triggers (`@reboot`, `after`) have ended: they have
    /// no times.
    pub fn search_after(&self, t: DateTime<Utc>) -> Search {
        let mut steps = SEARCH_STEPS;
        combine::search(self, t, &mut steps)
    }

    /// A short description for listings: `cron "0 3 * * *"`, `every 90s`, `all(...)`,
    /// `at boot`, `after backup`.
    pub fn describe(&self) -> String {
        match self {
            Trigger::Reboot => "at boot".to_owned(),
            Trigger::After(upstreams) => after::describe(upstreams),
            Trigger::Cron(cron) => format!("cron {:?}", cron.expr().source()),
            Trigger::Every(every) => format!("every {}", every.interval()),
            Trigger::At(at) => format!("at {}", at.instant().to_rfc3339()),
            Trigger::All(parts) | Trigger::Any(parts) => {
                let word = if matches!(self, Trigger::All(_)) {
                    "all"
                } else {
                    "any"
                };
                let inner: Vec<String> = parts.iter().map(Trigger::describe).collect();
                format!("{word}({})", inner.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::zone::Tz;
    use chrono::{NaiveDate, Offset, TimeZone};

    fn offset(tz: Tz, y: i32, m: u32) -> String {
        let noon = NaiveDate::from_ymd_opt(y, m, 15)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .unwrap();
        tz.offset_from_utc_datetime(&noon).fix().to_string()
    }

    /// The README documents this: past the last transition a zone's file lists, its footer
    /// rule goes on giving daylight saving time, whichever database the zone came from.
    #[test]
    fn after_2099_zones_keep_their_daylight_saving_rules() {
        let zone = |name: &str| name.parse::<Tz>().unwrap();
        let (new_york, london, lord_howe) = (
            zone("America/New_York"),
            zone("Europe/London"),
            zone("Australia/Lord_Howe"),
        );
        assert_eq!(
            (offset(new_york, 2100, 1), offset(new_york, 2100, 7)),
            ("-05:00".into(), "-04:00".into())
        );
        assert_eq!(
            (offset(new_york, 2300, 1), offset(new_york, 2300, 7)),
            ("-05:00".into(), "-04:00".into())
        );
        assert_eq!(
            (offset(london, 2200, 1), offset(london, 2200, 7)),
            ("+00:00".into(), "+01:00".into())
        );
        assert_eq!(
            (offset(lord_howe, 2100, 1), offset(lord_howe, 2100, 7)),
            ("+11:00".into(), "+10:30".into())
        );
    }
}
