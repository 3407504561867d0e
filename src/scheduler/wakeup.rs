//! The one timer of the event loop: a timerfd on the real-time clock, armed at an absolute
//! instant. `TFD_TIMER_CANCEL_ON_SET` makes it fire early when the system clock is set (NTP
//! step, manual change), and real-time timers count across suspend, so the loop re-plans
//! whenever wall-clock time jumps instead of oversleeping. Disarmed when nothing is due: an
//! idle scheduler does not wake at all.

use std::os::fd::{AsFd, BorrowedFd};

use chrono::{DateTime, Utc};
use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

pub(crate) struct Wakeup {
    timer: TimerFd,
}

impl Wakeup {
    pub(crate) fn new() -> nix::Result<Wakeup> {
        let timer = TimerFd::new(
            ClockId::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        Ok(Wakeup { timer })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.timer.as_fd()
    }

    /// Wakes the loop at `at` (at once if it has passed), or never when `None`.
    pub(crate) fn arm(&self, at: Option<DateTime<Utc>>) -> nix::Result<()> {
        let Some(at) = at else {
            return self.timer.unset();
        };
        // A zero timespec would disarm the timer; anything in the past fires at once.
        let secs = at.timestamp().max(0);
        let nanos = if secs == 0 {
            1
        } else {
            i64::from(at.timestamp_subsec_nanos())
        };
        self.timer.set(
            Expiration::OneShot(TimeSpec::new(secs, nanos)),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET,
        )
    }

    /// Consumes the expiry (or the clock-was-set cancellation) so poll stops reporting it.
    pub(crate) fn acknowledge(&self) {
        let mut buf = [0u8; 8];
        match nix::unistd::read(self.timer.as_fd(), &mut buf) {
            Ok(_) | Err(Errno::EAGAIN | Errno::ECANCELED) => {}
            Err(_) => {}
        }
    }
}
