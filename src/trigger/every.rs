//! `every`: a fixed interval in real (UTC) time, immune to DST and zone changes.
//!
//! Fires are `anchor + k × interval` for whole k. The anchor is the job's `start` when it has
//! one; otherwise the Unix epoch, so that `every = "15m"` fires at :00, :15, :30 and :45 UTC and
//! `jobrun next` shows the same times the scheduler will use, whenever it was started.

use chrono::{DateTime, TimeZone, Utc};

use crate::duration::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Every {
    interval: Duration,
    anchor: DateTime<Utc>,
}

impl Every {
    /// `interval` must be at least one second (the jobfile loader refuses `0s`).
    pub fn new(interval: Duration, anchor: Option<DateTime<Utc>>) -> Every {
        assert!(interval.as_secs() > 0, "an interval of zero never advances");
        let anchor = anchor.unwrap_or_else(|| Utc.timestamp_opt(0, 0).single().unwrap_or_default());
        Every { interval, anchor }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn anchor(&self) -> DateTime<Utc> {
        self.anchor
    }

    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if t < self.anchor {
            return Some(self.anchor);
        }
        let step = i64::try_from(self.interval.as_secs()).ok()?;
        let elapsed = t.timestamp() - self.anchor.timestamp();
        // `t` may carry sub-seconds; the fire must be strictly later than it, so only whole
        // seconds at or before t count as "already passed".
        let k = elapsed.div_euclid(step) + 1;
        let secs = self.anchor.timestamp().checked_add(k.checked_mul(step)?)?;
        Utc.timestamp_opt(secs, 0).single()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn every(s: &str, anchor: Option<&str>) -> Every {
        Every::new(s.parse().unwrap(), anchor.map(utc))
    }

    #[test]
    fn without_start_intervals_align_to_the_epoch() {
        let e = every("15m", None);
        assert_eq!(
            e.next_after(utc("2026-03-08T06:59:59Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        assert_eq!(
            e.next_after(utc("2026-03-08T07:00:00Z")),
            Some(utc("2026-03-08T07:15:00Z"))
        );
    }

    #[test]
    fn start_anchors_the_interval_and_is_the_first_fire() {
        let e = every("90s", Some("2026-12-01T00:00:00Z"));
        assert_eq!(
            e.next_after(utc("2026-11-01T00:00:00Z")),
            Some(utc("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            e.next_after(utc("2026-12-01T00:00:00Z")),
            Some(utc("2026-12-01T00:01:30Z"))
        );
        assert_eq!(
            e.next_after(utc("2026-12-01T00:01:29Z")),
            Some(utc("2026-12-01T00:01:30Z"))
        );
    }

    #[test]
    fn sub_second_instants_still_get_the_next_whole_fire() {
        let e = every("1s", None);
        let t = utc("2026-03-08T07:00:00.250Z");
        assert_eq!(e.next_after(t), Some(utc("2026-03-08T07:00:01Z")));
    }

    #[test]
    fn counts_real_time_across_a_dst_change() {
        // New York springs forward at 07:00Z on 2026-03-08; real time does not jump.
        let e = every("1h", None);
        assert_eq!(
            e.next_after(utc("2026-03-08T06:30:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        assert_eq!(
            e.next_after(utc("2026-03-08T07:00:00Z")),
            Some(utc("2026-03-08T08:00:00Z"))
        );
    }
}
