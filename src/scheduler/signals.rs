//! Signals as file-descriptor events, by the self-pipe pattern: a handler for SIGCHLD, SIGTERM,
//! SIGINT and SIGHUP (installed through `signal-hook`) sets a flag and writes a byte to a
//! socket pair whose other end sits in the loop's `poll(2)`. Nothing else runs in the handler,
//! and a signal that arrives between two polls leaves its byte waiting, so none is lost.
//!
//! Why not a signalfd: it needs the signals blocked in every thread, and a blocked mask is
//! inherited by children. `std::process::Command` passes the parent's mask on (since Rust
//! 1.66), and a job that blocks SIGTERM ignores its timeout. With handlers instead, nothing is
//! blocked, and `exec` resets handled signals to their defaults in the child, so jobs can be
//! spawned with std's `posix_spawn` path — which, unlike nix's, can give each child its own
//! working directory, so several threads can spawn at once.

use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::SigId;
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM};
use signal_hook::low_level::{pipe, unregister};

/// What the loop learns from the signals that arrived since it last looked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrived {
    pub(crate) child: bool,
    pub(crate) stop: bool,
    pub(crate) reload: bool,
}

pub(crate) struct Signals {
    wake: UnixStream,
    child: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    reload: Arc<AtomicBool>,
    registered: Vec<SigId>,
}

impl Signals {
    /// Installs the handlers and unblocks every signal. Until [`drain`](Signals::drain) reads
    /// them, arrivals are kept.
    ///
    /// A blocked mask survives `exec`: a supervisor that started jobrun with signals blocked
    /// would otherwise keep SIGTERM from jobrun and, through it, from every job (call this
    /// before starting any other thread, which inherits the mask).
    pub(crate) fn install() -> std::io::Result<Signals> {
        nix::sys::signal::SigSet::all().thread_unblock()?;
        let (wake, notify) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        let mut signals = Signals {
            wake,
            child: Arc::default(),
            stop: Arc::default(),
            reload: Arc::default(),
            registered: Vec::new(),
        };
        for (signal, flag) in [
            (SIGCHLD, &signals.child),
            (SIGTERM, &signals.stop),
            (SIGINT, &signals.stop),
            (SIGHUP, &signals.reload),
        ] {
            // The flag first, then the byte: whoever sees the byte also sees the flag.
            let id = signal_hook::flag::register(signal, Arc::clone(flag))?;
            signals.registered.push(id);
            let id = pipe::register(signal, notify.try_clone()?)?;
            signals.registered.push(id);
        }
        Ok(signals)
    }

    /// Readable when a signal has arrived.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// Empties the pipe, then reads the flags (in that order, so a signal arriving meanwhile is
    /// either seen now or wakes the next poll).
    pub(crate) fn drain(&self) -> std::io::Result<Arrived> {
        let mut buffer = [0u8; 64];
        loop {
            match (&self.wake).read(&mut buffer) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Arrived {
            child: self.child.swap(false, Ordering::SeqCst),
            stop: self.stop.swap(false, Ordering::SeqCst),
            reload: self.reload.swap(false, Ordering::SeqCst),
        })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.registered.drain(..) {
            unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use nix::sys::signal::{Signal, raise};

    use super::*;

    #[test]
    fn a_raised_signal_wakes_the_pipe_and_sets_its_flag_once() {
        // SIGHUP only: no other unit test uses it, and with the handler installed it is not fatal.
        let signals = Signals::install().unwrap();
        assert_eq!(signals.drain().unwrap(), Arrived::default());
        raise(Signal::SIGHUP).unwrap();
        let mut fds = [nix::poll::PollFd::new(
            signals.fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        let ready = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(5000u16)).unwrap();
        assert_eq!(ready, 1);
        let arrived = signals.drain().unwrap();
        assert!(arrived.reload);
        assert_eq!(signals.drain().unwrap(), Arrived::default());
    }
}
