//! Which of one job's fires are due at an instant, and which of those came too late, found with
//! a bounded number of trigger queries however long the scheduler was away.

use chrono::{DateTime, TimeDelta, Utc};

use crate::job::Job;

/// At most this many fires of one job are handled one by one in one `advance`; older fires of
/// the same catch-up are summarized by the `Missed` event. Only a job whose `misfire_grace`
/// holds more than this many fires (`every = "1s"` with `misfire_grace = "1h"`) can reach it,
/// and then only after a stall of about that long: it keeps the work and the log bounded.
pub(super) const CATCH_UP_LIMIT: usize = 1000;

/// The fires a `Missed` event stands for are counted up to this many (an every-second job
/// down for a day has 86,400; three weeks, 1.8 million). Past it the count is left unknown
/// rather than spending seconds on it.
pub(super) const MISSED_COUNT_LIMIT: u64 = 1_000_000;

/// The late fires of one catch-up: the newest, the oldest, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MissedFires {
    pub(super) newest: DateTime<Utc>,
    pub(super) oldest: DateTime<Utc>,
    /// `None` past [`MISSED_COUNT_LIMIT`].
    pub(super) count: Option<u64>,
}

/// One job's fires from its pending fire up to `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DueFires {
    /// The fires too late to run.
    pub(super) missed: Option<MissedFires>,
    /// The fires that may still run, oldest first; at most [`CATCH_UP_LIMIT`].
    pub(super) runnable: Vec<DateTime<Utc>>,
    /// The first fire after `now`.
    pub(super) next: Option<DateTime<Utc>>,
}

/// The fires of `job` from `pending` (a fire, at or before `now`) up to `now`.
///
/// A fire is too late when `now - fire > misfire_grace`. Those are never enumerated: the first
/// fire within grace is asked of the trigger directly and the newest late one is found by
/// bisection, so three weeks of an every-second job cost a few dozen trigger queries.
pub(super) fn due_fires(job: &Job, pending: DateTime<Utc>, now: DateTime<Utc>) -> DueFires {
    let grace = job.misfire_grace.as_chrono();
    // Fires strictly before `cutoff` are reported as missed.
    let mut cutoff = now
        .checked_sub_signed(grace)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    loop {
        let first = if pending >= cutoff {
            Some(pending)
        } else {
            at_or_after(job, cutoff)
        };
        match fires_until(job, first, now) {
            Ok((runnable, next)) => {
                let missed = (pending < cutoff).then(|| {
                    let newest = newest_before(job, pending, cutoff);
                    MissedFires {
                        newest,
                        oldest: pending,
                        count: count_fires(job, pending, newest),
                    }
                });
                return DueFires {
                    missed,
                    runnable,
                    next,
                };
            }
            // Too many fires within grace: keep the newer half of the window and try again.
            // The window halves each time and a one-second window holds one fire at most,
            // so this ends.
            Err(()) => cutoff += ((now - cutoff) / 2).max(TimeDelta::nanoseconds(1)),
        }
    }
}

/// The fires from `first` up to `now` and the first one after, or `Err` past the limit.
type Fires = (Vec<DateTime<Utc>>, Option<DateTime<Utc>>);

fn fires_until(job: &Job, first: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Fires, ()> {
    let mut fires = Vec::new();
    let mut fire = first;
    while let Some(f) = fire.filter(|&f| f <= now) {
        if fires.len() == CATCH_UP_LIMIT {
            return Err(());
        }
        fires.push(f);
        fire = job.next_after(f);
    }
    Ok((fires, fire))
}

/// How many fires lie in `[oldest, newest]` (both fires), or `None` past the limit.
fn count_fires(job: &Job, oldest: DateTime<Utc>, newest: DateTime<Utc>) -> Option<u64> {
    let mut count = 1;
    let mut fire = oldest;
    while fire < newest {
        if count == MISSED_COUNT_LIMIT {
            return None;
        }
        fire = job.next_after(fire)?;
        count += 1;
    }
    Some(count)
}

/// The first fire at or after `t`.
fn at_or_after(job: &Job, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    job.next_after(t - TimeDelta::nanoseconds(1))
}

/// The newest fire before `bound`, given `oldest`, a fire before `bound`.
fn newest_before(job: &Job, oldest: DateTime<Utc>, bound: DateTime<Utc>) -> DateTime<Utc> {
    // Invariants: `newest` is a fire before `bound`; no fire lies in [`none_from`, `bound`).
    // Fires fall on whole seconds, so once the two are a second apart nothing is between them.
    let (mut newest, mut none_from) = (oldest, bound);
    while none_from - newest > TimeDelta::seconds(1) {
        let mid = newest + (none_from - newest) / 2;
        match at_or_after(job, mid) {
            Some(fire) if fire < bound => newest = fire,
            _ => none_from = mid,
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::zone::Tz;

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn job(options: &str) -> Job {
        let text = format!("[jobs.j]\ncommand = [\"true\"]\n{options}\n");
        let file = crate::jobfile::parse(Path::new("jobrun.toml"), &text, Tz::UTC)
            .unwrap_or_else(|d| panic!("{d}"));
        file.jobs.into_iter().next().unwrap()
    }

    #[test]
    fn fires_split_into_one_newest_missed_and_the_runnable_ones() {
        struct Case {
            name: &'static str,
            options: &'static str,
            pending: &'static str,
            now: &'static str,
            /// Newest, oldest, count.
            missed: Option<(&'static str, &'static str, Option<u64>)>,
            runnable: &'static [&'static str],
            next: Option<&'static str>,
        }
        let cases = [
            Case {
                name: "on time",
                options: "cron = \"* * * * *\"",
                pending: "2026-05-01T10:00:00Z",
                now: "2026-05-01T10:00:00Z",
                missed: None,
                runnable: &["2026-05-01T10:00:00Z"],
                next: Some("2026-05-01T10:01:00Z"),
            },
            Case {
                name: "a ten-minute stall with five minutes of grace",
                options: "cron = \"* * * * *\"\nmisfire_grace = \"5m\"",
                pending: "2026-05-01T10:01:00Z",
                now: "2026-05-01T10:10:30Z",
                missed: Some(("2026-05-01T10:05:00Z", "2026-05-01T10:01:00Z", Some(5))),
                runnable: &[
                    "2026-05-01T10:06:00Z",
                    "2026-05-01T10:07:00Z",
                    "2026-05-01T10:08:00Z",
                    "2026-05-01T10:09:00Z",
                    "2026-05-01T10:10:00Z",
                ],
                next: Some("2026-05-01T10:11:00Z"),
            },
            Case {
                name: "exactly grace late still runs",
                options: "cron = \"* * * * *\"\nmisfire_grace = \"5m\"",
                pending: "2026-05-01T10:00:00Z",
                now: "2026-05-01T10:05:00Z",
                missed: None,
                runnable: &[
                    "2026-05-01T10:00:00Z",
                    "2026-05-01T10:01:00Z",
                    "2026-05-01T10:02:00Z",
                    "2026-05-01T10:03:00Z",
                    "2026-05-01T10:04:00Z",
                    "2026-05-01T10:05:00Z",
                ],
                next: Some("2026-05-01T10:06:00Z"),
            },
            Case {
                name: "the last fire of a window, missed",
                options: "at = \"2026-05-01T10:00:00Z\"",
                pending: "2026-05-01T10:00:00Z",
                now: "2026-05-01T10:01:01Z",
                missed: Some(("2026-05-01T10:00:00Z", "2026-05-01T10:00:00Z", Some(1))),
                runnable: &[],
                next: None,
            },
            Case {
                name: "three weeks of an every-second job",
                options: "every = \"1s\"\nmisfire_grace = \"2s\"",
                pending: "2026-05-01T00:00:01Z",
                now: "2026-05-22T00:00:00Z",
                // 1,814,397 late fires: more than are counted.
                missed: Some(("2026-05-21T23:59:57Z", "2026-05-01T00:00:01Z", None)),
                runnable: &[
                    "2026-05-21T23:59:58Z",
                    "2026-05-21T23:59:59Z",
                    "2026-05-22T00:00:00Z",
                ],
                next: Some("2026-05-22T00:00:01Z"),
            },
        ];
        for case in cases {
            let due = due_fires(&job(case.options), utc(case.pending), utc(case.now));
            let expected = DueFires {
                missed: case.missed.map(|(newest, oldest, count)| MissedFires {
                    newest: utc(newest),
                    oldest: utc(oldest),
                    count,
                }),
                runnable: case.runnable.iter().copied().map(utc).collect(),
                next: case.next.map(utc),
            };
            assert_eq!(due, expected, "{}", case.name);
        }
    }

    #[test]
    fn a_grace_holding_too_many_fires_keeps_the_newest_within_the_limit() {
        let job = job("every = \"1s\"\nmisfire_grace = \"1d\"");
        let now = utc("2026-05-02T00:00:00Z");
        let due = due_fires(&job, utc("2026-05-01T00:00:00Z"), now);
        let n = due.runnable.len();
        assert!((CATCH_UP_LIMIT / 2..=CATCH_UP_LIMIT).contains(&n), "{n}");
        assert_eq!(due.runnable.last(), Some(&now));
        let oldest_kept = due.runnable[0];
        let missed = due.missed.unwrap();
        assert_eq!(missed.newest, oldest_kept - TimeDelta::seconds(1));
        assert_eq!(missed.oldest, utc("2026-05-01T00:00:00Z"));
        let late = (missed.newest - missed.oldest).num_seconds() + 1;
        assert_eq!(missed.count, Some(u64::try_from(late).unwrap()));
    }

    #[test]
    fn the_newest_missed_fire_is_found_across_dst_with_a_cron_job() {
        // New York falls back on 2026-11-01: "*/30" fires at 01:00 and 01:30 in both passes
        // (05:00, 05:30, 06:00, 06:30 UTC).
        let job = job(
            "cron = \"*/30 * * * *\"\ntimezone = \"America/New_York\"\nmisfire_grace = \"10m\"",
        );
        let due = due_fires(
            &job,
            utc("2026-10-20T00:00:00Z"),
            utc("2026-11-01T06:35:00Z"),
        );
        let missed = due.missed.unwrap();
        assert_eq!(missed.newest, utc("2026-11-01T06:00:00Z"));
        // Every half hour of real time, both passes of 01:00-01:59 included: 12 days and 6
        // hours hold 588 half hours, and both ends are fires.
        assert_eq!(missed.count, Some(589));
        assert_eq!(due.runnable, [utc("2026-11-01T06:30:00Z")]);
    }
}
