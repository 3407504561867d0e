//! Signals as file-descriptor events: SIGCHLD, SIGTERM, SIGINT and SIGHUP are blocked for the
//! whole process and read from a signalfd inside the event loop, so no handler runs at an
//! arbitrary point and no signal is lost between two polls. Children get an empty signal
//! mask back (std resets it in the child before exec).

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

/// What the loop learns from the signals that arrived since it last looked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived {
    pub(crate) child: bool,
    pub(crate) stop: bool,
    pub(crate) reload: bool,
}

pub(crate) struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the four signals for this thread (call it before starting any other thread, so
    /// they inherit the mask) and opens the signalfd that reports them.
    pub(crate) fn block() -> nix::Result<Signals> {
        let mut mask = SigSet::empty();
        for signal in [
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
        ] {
            mask.add(signal);
        }
        mask.thread_block()?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Signals { fd })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads every pending signal.
    pub(crate) fn drain(&self) -> nix::Result<Arrived> {
        let mut arrived = Arrived::default();
        while let Some(info) = self.fd.read_signal()? {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => arrived.child = true,
                Ok(Signal::SIGTERM | Signal::SIGINT) => arrived.stop = true,
                Ok(Signal::SIGHUP) => arrived.reload = true,
                _ => {}
            }
        }
        Ok(arrived)
    }
}
