//! WAL checkpoints off the scheduler's path.
//!
//! In WAL mode a commit appends pages to the `-wal` file; a checkpoint later copies them into
//! the database and fsyncs both files. By default SQLite makes whichever connection commits past
//! 1000 WAL pages do that, inline: two fsyncs, milliseconds, in about one run in seventy, which
//! alone made the per-run p99 3-4 ms instead of ~0.3 ms (measured with `tests/latency.rs`).
//!
//! So a thread with its own connection runs a PASSIVE checkpoint (which never waits for, nor
//! blocks, the writer) after every `CHECKPOINT_EVERY` rows written, and the scheduler's
//! connection keeps an automatic checkpoint as a backstop at `BACKSTOP_PAGES`: for a long burst
//! of writes (see there), or should this thread fail. The thread sleeps on a channel in
//! between: no polling, no timer.
//!
//! Rows, not commits, pace it: a run is three one-row commits, but one claim of 1000 fires is
//! one commit of thousands of pages, which must wake the thread at once.

use std::path::Path;
use std::sync::mpsc::{self, SyncSender};
use std::thread::{self, JoinHandle};

use rusqlite::OpenFlags;

use super::StoreError;

/// Rows written between two checkpoints: a run writes its row three times (claim, started,
/// finished), some ten pages in all, so this keeps the WAL to a few hundred pages.
const CHECKPOINT_EVERY: usize = 64;

/// The writer's own automatic checkpoint, in pages (8 MiB of WAL).
///
/// While writes keep coming, this thread never quite catches up: frames arrive while it
/// copies, and SQLite restarts the WAL from its beginning only when a write finds every frame
/// copied. Between bursts it does catch up; within a long burst the writer's own checkpoint at
/// this size finishes the job, cheaply since most frames are already copied and synced: about
/// 2 ms once per ~150 runs back to back, against ~15 ms per ~700 runs at 10,000 pages.
pub(super) const BACKSTOP_PAGES: i64 = 2_000;

/// The checkpoint thread, stopped and joined when dropped.
#[derive(Debug)]
pub(super) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    rows: usize,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = super::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // A capacity of one: wake-ups that arrive while a checkpoint runs merge into one.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let thread = thread::Builder::new()
            .name("jobrun-store-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // A failure (disk full, a reader pinning the WAL) is left to the next
                    // wake-up or to the writer's backstop; there is no one to tell here.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
                // The connection closes here; if it is the store's last, SQLite checkpoints
                // and removes the WAL.
            })
            .map_err(|e| StoreError::io(path, "start the state store's checkpoint thread", e))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
            rows: 0,
        })
    }

    /// Counts the rows of a commit of the scheduler's connection and wakes the thread every
    /// `CHECKPOINT_EVERY` rows. Never blocks.
    pub(super) fn wrote(&mut self, rows: usize) {
        self.rows = self.rows.saturating_add(rows);
        if self.rows >= CHECKPOINT_EVERY {
            self.rows = 0;
            if let Some(wake) = &self.wake {
                let _ = wake.try_send(());
            }
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; joining makes sure its connection is
        // closed before the store's lock descriptor is (see `lock.rs`).
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
