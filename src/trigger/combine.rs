//! `all` and `any` combinations. `any` is a plain minimum (in `Trigger::next_after`); `all`
//! needs a search for the first instant at which every part fires, done here.

use chrono::{DateTime, Utc};

use super::Trigger;

/// How many rounds of "move every part up to the latest candidate" `all` makes before it
/// gives up. Each round moves the candidate forward by at least one second, and parts that
/// agree at all usually agree within a few rounds; parts that never agree (`every = "2s"` with
/// `every = "2s"` anchored one second apart) would otherwise search forever.
pub const ALL_MAX_ROUNDS: usize = 100_000;

/// The first instant strictly after `t` at which every part fires.
pub fn all_next_after(parts: &[Trigger], t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (first, rest) = parts.split_first()?;
    let mut candidate = first.next_after(t)?;
    for _ in 0..ALL_MAX_ROUNDS {
        let mut latest = candidate;
        for part in rest {
            let fire = part.next_at_or_after(candidate)?;
            latest = latest.max(fire);
        }
        if latest == candidate {
            // Every other part fires at `candidate`; the first part does too, by construction.
            return Some(candidate);
        }
        candidate = first.next_at_or_after(latest)?;
    }
    None
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
    fn all_of_parts_that_never_agree_is_none() {
        let odd = Trigger::Every(Every::new(
            "2s".parse().unwrap(),
            Some(utc("2026-01-01T00:00:01Z")),
        ));
        let t = Trigger::All(vec![every("2s"), odd]);
        assert_eq!(t.next_after(utc("2026-01-01T00:00:00Z")), None);
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
