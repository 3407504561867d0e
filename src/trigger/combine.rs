//! `all` and `any` combinations, and the budget that bounds every search through them.
//!
//! `any` is the earliest of its parts; `all` searches for the first instant at which every
//! part fires, moving each part up to the latest candidate until they agree. Parts that never
//! agree (`every = "2s"` twice, anchored one second apart) would search forever, and a search
//! nested in another multiplies: issue 12's `all` of an `any` of an `all` ran for minutes when
//! each level had its own limit of rounds. So the limit is on work, shared by the whole tree:
//! one question to a trigger may ask the basic triggers (`cron`, `every`, `at`) at most
//! [`SEARCH_STEPS`] questions, whatever the nesting.

use chrono::{DateTime, TimeDelta, Utc};

use super::Trigger;

/// How many answers of basic triggers one search may use. Parts that agree at all agree
/// within a few rounds (a Monday that is the 29th of February: a dozen); a search that uses
/// them all costs about 30 ms in a release build.
pub const SEARCH_STEPS: u32 = 100_000;

/// What a search for the next fire found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    Fire(DateTime<Utc>),
    /// The trigger never fires again: an `at` in the past, a part of an `all` that ended.
    Ended,
    /// The search used up its [`SEARCH_STEPS`]: parts of an `all` that did not agree.
    GaveUp,
}

impl Search {
    pub fn fire(self) -> Option<DateTime<Utc>> {
        match self {
            Search::Fire(t) => Some(t),
            Search::Ended | Search::GaveUp => None,
        }
    }
}

/// The first fire of `trigger` strictly after `t`, taking its steps from `steps`.
pub(super) fn search(trigger: &Trigger, t: DateTime<Utc>, steps: &mut u32) -> Search {
    let basic = |fire: Option<DateTime<Utc>>| fire.map_or(Search::Ended, Search::Fire);
    match trigger {
        Trigger::Cron(_) | Trigger::Every(_) | Trigger::At(_) => {
            let Some(left) = steps.checked_sub(1) else {
                return Search::GaveUp;
            };
            *steps = left;
            match trigger {
                Trigger::Cron(cron) => basic(cron.next_after(t)),
                Trigger::Every(every) => basic(every.next_after(t)),
                Trigger::At(at) => basic(at.next_after(t)),
                _ => Search::Ended,
            }
        }
        // No times: they fire on events (the planner's business).
        Trigger::Reboot | Trigger::After(_) => Search::Ended,
        Trigger::Any(parts) => any(parts, t, steps),
        Trigger::All(parts) => all(parts, t, steps),
    }
}

/// The earliest fire of the parts. A part that gave up is left out when another part fires
/// (the scheduler keeps firing what it can find); with no fire at all, giving up wins over
/// having ended, since it is the less certain answer.
fn any(parts: &[Trigger], t: DateTime<Utc>, steps: &mut u32) -> Search {
    let mut earliest = None;
    let mut gave_up = false;
    for part in parts {
        match search(part, t, steps) {
            Search::Fire(fire) => {
                earliest = Some(earliest.map_or(fire, |e: DateTime<Utc>| e.min(fire)))
            }
            Search::GaveUp => gave_up = true,
            Search::Ended => {}
        }
    }
    match earliest {
        Some(fire) => Search::Fire(fire),
        None if gave_up => Search::GaveUp,
        None => Search::Ended,
    }
}

/// The first instant strictly after `t` at which every part fires. Each round asks every part
/// at least one step, so the loop ends when the steps do.
fn all(parts: &[Trigger], t: DateTime<Utc>, steps: &mut u32) -> Search {
    let Some((first, rest)) = parts.split_first() else {
        return Search::Ended;
    };
    let at_or_after = |part: &Trigger, t: DateTime<Utc>, steps: &mut u32| {
        search(part, t - TimeDelta::nanoseconds(1), steps)
    };
    let mut candidate = match search(first, t, steps) {
        Search::Fire(fire) => fire,
        other => return other,
    };
    loop {
        let mut latest = candidate;
        for part in rest {
            match at_or_after(part, candidate, steps) {
                Search::Fire(fire) => latest = latest.max(fire),
                other => return other,
            }
        }
        if latest == candidate {
            // Every other part fires at `candidate`; the first part does too, by construction.
            return Search::Fire(candidate);
        }
        candidate = match at_or_after(first, latest, steps) {
            Search::Fire(fire) => fire,
            other => return other,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{CronExpr, CronTrigger, Every};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cron(expr: &str, tz: &str) -> Trigger {
        Trigger::Cron(CronTrigger::new(
            CronExpr::parse(expr).unwrap(),
            tz.parse().unwrap(),
        ))
    }

    fn every(d: &str) -> Trigger {
        Trigger::Every(Every::new(d.parse().unwrap(), None))
    }

    fn fires(trigger: &Trigger, from: &str, n: usize) -> Vec<String> {
        let mut t = utc(from);
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(next) = trigger.next_after(t) else {
                break;
            };
            out.push(next.to_rfc3339());
            t = next;
        }
        out
    }

    #[test]
    fn all_fires_when_every_part_agrees() {
        // Every ten minutes, but only during 08:00-11:59 on weekdays (2026-11-27 is a Friday).
        let t = Trigger::All(vec![
            cron("*/10 * * * *", "UTC"),
            cron("* 8-11 * * MON-FRI", "UTC"),
        ]);
        assert_eq!(
            fires(&t, "2026-11-27T11:45:00Z", 3),
            [
                "2026-11-27T11:50:00+00:00",
                "2026-11-30T08:00:00+00:00",
                "2026-11-30T08:10:00+00:00"
            ]
        );
    }

    #[test]
    fn any_fires_at_the_earliest_part() {
        let t = Trigger::Any(vec![cron("0 12 * * *", "UTC"), every("5h")]);
        // Five-hour steps from the epoch fall on 01:00, 06:00, 11:00, 16:00 and 21:00 that day.
        assert_eq!(
            fires(&t, "2026-11-24T09:00:00Z", 4),
            [
                "2026-11-24T11:00:00+00:00",
                "2026-11-24T12:00:00+00:00",
                "2026-11-24T16:00:00+00:00",
                "2026-11-24T21:00:00+00:00"
            ]
        );
    }

    #[test]
    fn combinations_nest() {
        // (noon or midnight) and a Monday.
        let t = Trigger::All(vec![
            Trigger::Any(vec![cron("0 12 * * *", "UTC"), cron("0 0 * * *", "UTC")]),
            cron("* * * * MON", "UTC"),
        ]);
        assert_eq!(
            fires(&t, "2026-11-24T00:00:00Z", 3),
            [
                "2026-11-30T00:00:00+00:00",
                "2026-11-30T12:00:00+00:00",
                "2026-12-07T00:00:00+00:00"
            ]
        );
    }

    #[test]
    fn parts_in_different_zones_agree_in_real_time() {
        // 09:00 in Tokyo is 00:00 UTC; 09:00 Tokyo on the 1st of the month that is midnight UTC.
        let t = Trigger::All(vec![
            cron("0 9 * * *", "Asia/Tokyo"),
            cron("0 0 1 * *", "UTC"),
        ]);
        assert_eq!(
            fires(&t, "2026-11-24T00:00:00Z", 2),
            ["2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]
        );
    }

    #[test]
    fn all_of_parts_that_never_agree_gives_up() {
        let odd = Trigger::Every(Every::new(
            "2s".parse().unwrap(),
            Some(utc("2026-01-01T00:00:01Z")),
        ));
        let t = Trigger::All(vec![every("2s"), odd]);
        assert_eq!(t.search_after(utc("2026-01-01T00:00:00Z")), Search::GaveUp);
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None);
    }

    /// Issue 12: each level of `all` had its own 100,000 rounds, so this took 100,000 × 100,000
    /// rounds (minutes of `jobrun next`, a reloading scheduler stuck at 84 % CPU).
    #[test]
    fn nested_searches_share_one_budget() {
        let inner = Trigger::All(vec![
            cron("*/2 * * * * *", "UTC"),
            cron("1-59/2 * * * * *", "UTC"),
        ]);
        let t = Trigger::All(vec![
            Trigger::Any(vec![inner, cron("0 0 1 1 *", "UTC")]),
            cron("0 0 2 1 *", "UTC"),
        ]);
        let mut steps = SEARCH_STEPS;
        let found = search(&t, utc("2026-01-01T00:00:00Z"), &mut steps);
        assert_eq!(found, Search::GaveUp);
        assert_eq!(steps, 0, "the whole budget, and no more, was spent");
    }

    #[test]
    fn an_any_fires_when_one_part_gave_up_and_another_fires() {
        let never = Trigger::All(vec![cron("0 0 1 1 *", "UTC"), cron("0 0 2 1 *", "UTC")]);
        let t = Trigger::Any(vec![cron("0 12 * * *", "UTC"), never.clone()]);
        assert_eq!(
            fires(&t, "2026-11-24T00:00:00Z", 1),
            ["2026-11-24T12:00:00+00:00"]
        );
        assert_eq!(
            Trigger::Any(vec![never]).search_after(utc("2026-11-24T00:00:00Z")),
            Search::GaveUp
        );
    }

    #[test]
    fn an_ended_trigger_is_told_apart_from_a_search_that_gave_up() {
        let at = Trigger::At(crate::trigger::At::new(utc("2026-11-24T10:00:00Z")));
        let t = Trigger::All(vec![every("1h"), at]);
        assert_eq!(t.search_after(utc("2026-11-24T10:00:00Z")), Search::Ended);
    }

    #[test]
    fn an_ended_part_ends_all_and_not_any() {
        let at = Trigger::At(crate::trigger::At::new(utc("2026-11-24T10:00:00Z")));
        let all = Trigger::All(vec![every("1h"), at.clone()]);
        let any = Trigger::Any(vec![every("1h"), at]);
        assert_eq!(
            fires(&all, "2026-11-24T00:00:00Z", 3),
            ["2026-11-24T10:00:00+00:00"]
        );
        assert_eq!(
            fires(&any, "2026-11-24T10:00:00Z", 1),
            ["2026-11-24T11:00:00+00:00"]
        );
    }
}
