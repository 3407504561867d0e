//! What can go wrong with the state store, in words for the user: every variant names the file.
//!
//! SQLite's own errors are sorted here, once: "not a database" and "corrupt" become
//! [`StoreError::Corrupt`] (the user must act on the file), everything else is
//! [`StoreError::Io`] with the action that failed.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// The source of an [`StoreError::Io`]: an OS error, SQLite's, or a refused request. Boxed so that
/// another store back end can report its own errors through the same variant.
pub type Cause = Box<dyn Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another scheduler holds the store. `pid` is the one recorded by the holder (None if
    /// unreadable, e.g. while the holder is still creating the file).
    #[error(
        "state store {} is in use by another jobrun start (pid {})",
        path.display(),
        Pid(*pid)
    )]
    Locked { path: PathBuf, pid: Option<u32> },

    /// Not a jobrun store, not an SQLite database at all, or damaged. jobrun never repairs or
    /// replaces such a file: it may be the only copy of something the user wants.
    #[error(
        "state store {} is unusable: {detail}; it was left untouched: move it aside (jobrun \
         starts a new store, without the old history) or restore it from a backup",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    /// Written by a newer jobrun (schema version above ours). Older jobruns refuse rather than
    /// guess, so a downgrade cannot silently drop what the newer version recorded.
    #[error(
        "state store {} was written by a newer jobrun (schema version {found}; this jobrun \
         knows versions up to {supported}): upgrade jobrun",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// A state directory that someone else than the user could change (see `trust.rs`).
    #[error(
        "refusing state directory {}: {refusal}; jobrun keeps its state only where nobody else \
         can change it{}",
        dir.display(),
        refusal.fix().map(|fix| format!(" (fix it with `{fix}`, or choose another with --state-dir)")).unwrap_or_default()
    )]
    Untrusted {
        dir: PathBuf,
        refusal: crate::trust::Refusal,
    },

    /// Anything else (permissions, disk full, a directory that cannot be created, a request the
    /// store refuses such as a second claim of one fire), with the file and the failed action.
    #[error("cannot {action}: {}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: Cause,
    },
}

/// Renders an optional pid as the number or "unknown".
struct Pid(Option<u32>);

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(pid) => write!(f, "{pid}"),
            None => f.write_str("unknown"),
        }
    }
}

impl StoreError {
    /// The store file (or, for a path that could not be worked out, the jobfile) concerned.
    pub fn path(&self) -> &Path {
        match self {
            StoreError::Locked { path, .. }
            | StoreError::Corrupt { path, .. }
            | StoreError::TooNew { path, .. }
            | StoreError::Io { path, .. }
            | StoreError::Untrusted { dir: path, .. } => path,
        }
    }

    /// A PostgreSQL store's database cannot be reached right now (an outage: the store keeps
    /// trying, with a backoff).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Io { source, .. }
            if source.downcast_ref::<super::postgres::Unreachable>().is_some())
    }

    pub(super) fn io(path: &Path, action: &'static str, source: impl Into<Cause>) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            action,
            source: source.into(),
        }
    }

    pub(super) fn corrupt(path: &Path, detail: impl Into<String>) -> Self {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }

    /// Sorts an SQLite error: damage to the file is `Corrupt`, the rest is `Io`.
    pub(super) fn sql(path: &Path, action: &'static str, error: rusqlite::Error) -> Self {
        let damaged = match &error {
            rusqlite::Error::SqliteFailure(e, _) => {
                matches!(e.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
            }
            // A column holding a value of the wrong type: something other than jobrun wrote it.
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => true,
            _ => false,
        };
        if damaged {
            StoreError::corrupt(path, error.to_string())
        } else {
            StoreError::io(path, action, error)
        }
    }

    /// A request the store refuses (a bad argument from the caller, a run in the wrong state).
    pub(super) fn refused(path: &Path, action: &'static str, why: String) -> Self {
        StoreError::io(
            path,
            action,
            io::Error::new(io::ErrorKind::InvalidInput, why),
        )
    }
}

/// Why a write did not happen, before the store's path and the action are attached.
#[derive(Debug)]
pub(super) enum Failure {
    Sql(rusqlite::Error),
    /// The caller asked for something the store's rules forbid; the text says what.
    Refused(String),
    /// A row read back does not make sense (see `codec`).
    Corrupt(String),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Sql(e)
    }
}

impl Failure {
    pub(super) fn into_store_error(self, path: &Path, action: &'static str) -> StoreError {
        match self {
            Failure::Sql(e) => StoreError::sql(path, action, e),
            Failure::Refused(why) => StoreError::refused(path, action, why),
            Failure::Corrupt(detail) => StoreError::corrupt(path, detail),
        }
    }
}
