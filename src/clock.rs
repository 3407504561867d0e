//! Where "now" comes from. Only the scheduler's loop reads a clock; everything below it (the
//! planner, the triggers) is handed instants, so tests can replay a year in milliseconds with a
//! [`ManualClock`] while `jobrun start` uses the [`SystemClock`].

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current instant.
pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock (UTC wall-clock time).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; shareable by reference (`&dyn Clock`), even across
/// threads, because the instant sits behind a mutex.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `t`, backwards too (as a wall clock may jump).
    pub fn set(&self, t: DateTime<Utc>) {
        *self.instant() = t;
    }

    /// Moves the clock by `by` (negative moves it back).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.instant();
        *now += by;
    }

    /// The clock's reading; the same as [`Clock::now`], callable without importing the trait.
    pub fn now(&self) -> DateTime<Utc> {
        *self.instant()
    }

    fn instant(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // The guarded value is a plain instant, always valid: a panic elsewhere while holding
        // the lock cannot leave it half-written, so a poisoned lock is safe to keep using.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        ManualClock::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(utc("2026-03-08T06:59:00Z"));
        let as_dyn: &dyn Clock = &clock;
        assert_eq!(as_dyn.now(), utc("2026-03-08T06:59:00Z"));
        assert_eq!(as_dyn.now(), utc("2026-03-08T06:59:00Z"));

        clock.advance(TimeDelta::seconds(90));
        assert_eq!(as_dyn.now(), utc("2026-03-08T07:00:30Z"));

        clock.set(utc("2026-01-01T00:00:00Z"));
        assert_eq!(clock.now(), utc("2026-01-01T00:00:00Z"));

        clock.advance(TimeDelta::seconds(-1));
        assert_eq!(clock.now(), utc("2025-12-31T23:59:59Z"));
    }

    #[test]
    fn the_system_clock_reads_the_current_time() {
        let before = Utc::now();
        let read = SystemClock.now();
        assert!(before <= read && read <= Utc::now());
    }
}
