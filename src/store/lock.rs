//! One scheduler per store: an exclusive `flock(2)` on the database file itself.
//!
//! Why a `flock` on the database file, rather than a lock file or SQLite's own locking:
//! - SQLite's locks last a transaction; the scheduler must own the store for its whole life, or
//!   two `jobrun start` on one jobfile would both fire every job;
//! - the kernel drops a `flock` when its holder dies, `kill -9` included, so there is never a
//!   stale lock to clean up, and no `.lock` file to litter the state directory;
//! - `flock` and SQLite's POSIX (`fcntl`) locks are independent on a local file system, so the
//!   two do not interfere. (On NFS, Linux emulates `flock` with `fcntl` locks and they would; WAL
//!   mode needs a local file system anyway, for its shared memory.)
//!
//! POSIX locks have one trap, which shapes this file: closing *any* descriptor of a file drops
//! every POSIX lock the process holds on it, including SQLite's. So this module never opens and
//! closes a second descriptor of a store that this process already holds: a registry of held
//! files (device, inode) answers "locked" for those without touching the file, and the lock's
//! descriptor is closed only after the store's SQLite connection (see the field order of
//! `Store`). A reader (`open_read`) in the same process as a failed `open_exclusive` could still
//! lose its read lock; jobrun's commands never do both.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// The stores this process holds, by (device, inode).
static HELD: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The exclusive lock on one store file, held until dropped.
#[derive(Debug)]
pub(super) struct HolderLock {
    /// `Some` until dropped; `Drop` closes it while holding the registry, so that no other
    /// thread of this process sees the store free while the descriptor is still open.
    file: Option<File>,
    key: (u64, u64),
}

/// Takes the store's lock, creating the file (empty, mode 0600: job output can be private) if
/// it does not exist. `Locked` if another process, or another `Store` of this one, holds it.
pub(super) fn acquire(path: &Path) -> Result<HolderLock, StoreError> {
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    if let Ok(meta) = std::fs::metadata(path)
        && held.contains(&(meta.dev(), meta.ino()))
    {
        drop(held);
        return Err(locked(path));
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        // Never through a symlink, even one planted after `path::check_store_path` looked.
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| StoreError::io(path, "open the state store", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            // Another process holds it, so this process has no connection whose POSIX locks
            // closing this descriptor could drop (see the module doc).
            drop(file);
            drop(held);
            return Err(locked(path));
        }
        Err(TryLockError::Error(e)) => {
            return Err(StoreError::io(path, "lock the state store", e));
        }
    }
    let meta = file
        .metadata()
        .map_err(|e| StoreError::io(path, "open the state store", e))?;
    let key = (meta.dev(), meta.ino());
    held.push(key);
    Ok(HolderLock {
        file: Some(file),
        key,
    })
}

impl HolderLock {
    /// Refuses a non-empty file that does not start as an SQLite database does, before SQLite
    /// sees it: SQLite would refuse it too, but this way nothing but a read ever touches it.
    pub(super) fn check_header(&self, path: &Path) -> Result<(), StoreError> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut header = [0u8; 16];
        let mut filled = 0;
        while filled < header.len() {
            match file.read_at(&mut header[filled..], filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(StoreError::io(path, "read the state store", e)),
            }
        }
        if filled == 0 || header == *SQLITE_MAGIC {
            return Ok(());
        }
        Err(StoreError::corrupt(
            path,
            "it is not an SQLite database (its first bytes are not SQLite's header)",
        ))
    }
}

impl Drop for HolderLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        held.retain(|k| *k != self.key);
        // Closing the descriptor releases the flock.
        drop(self.file.take());
    }
}

fn locked(path: &Path) -> StoreError {
    StoreError::Locked {
        path: path.to_path_buf(),
        pid: holder_pid(path),
    }
}

/// The pid the holder recorded, through a read-only SQLite connection (SQLite closes its own
/// descriptors safely). None while the holder is still creating the store, or if unreadable.
fn holder_pid(path: &Path) -> Option<u32> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .ok()?;
    conn.busy_timeout(super::BUSY_TIMEOUT).ok()?;
    let pid: i64 = conn
        .query_row("SELECT pid FROM holder WHERE id = 1", [], |r| r.get(0))
        .ok()?;
    u32::try_from(pid).ok()
}
