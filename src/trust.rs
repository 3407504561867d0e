//! Whose files jobrun believes: the rules that keep another user from choosing what root's
//! jobrun runs (the jobfile) or where it writes (the state directory).
//!
//! A file is only as safe as every directory on the way to it and every symlink followed: whoever
//! can write a directory can replace what is in it. So a path is walked as the kernel resolves it
//! (symlinks followed, `..` taken after them), and each step is checked:
//!
//! - every directory passed through is owned by root or by jobrun's user, and nobody else can
//!   write to it, unless it has the sticky bit (`/tmp`: others may add files there, but not
//!   replace or rename ours);
//! - every symlink followed is owned by root or by jobrun's user (in a sticky directory its owner
//!   may still replace it);
//! - the file at the end is owned by root or jobrun's user and nobody else can write to it.
//!
//! "Nobody else can write" means no write bit for others, and as root none for the group either:
//! cron refuses a group-writable crontab, while an ordinary user's group is usually a group of
//! one (the user private groups of Debian, Fedora and others, with umask 002).
//!
//! Which paths are checked when is the caller's choice: the jobfile as root (`jobfile::load`),
//! the state directory always (`store::path`). This file only walks and judges.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// The flag that turns the jobfile checks off, named in their error.
pub const TRUST_JOBFILE_FLAG: &str = "--trust-jobfile";
/// Its environment variable (any value but empty or `0`).
pub const TRUST_JOBFILE_ENV: &str = "JOBRUN_TRUST_JOBFILE";

/// Symlinks followed before giving up, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// The sticky bit: in such a directory only a file's owner may rename or remove it.
const STICKY: u32 = 0o1000;

/// Who jobrun is, and whether the user asked it to trust the jobfile whoever can change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trust {
    /// The effective user id jobrun runs as, and its jobs with it.
    pub uid: u32,
    /// `--trust-jobfile` or `JOBRUN_TRUST_JOBFILE`: for containers whose jobfile is mounted
    /// from a host user's files.
    pub trust_jobfile: bool,
}

impl Trust {
    /// This process's user.
    pub fn of_process(trust_jobfile: bool) -> Trust {
        Trust {
            uid: nix::unistd::geteuid().as_raw(),
            trust_jobfile,
        }
    }

    /// As root, unless told otherwise, the jobfile must be root's alone: its jobs run as root.
    /// An ordinary user's jobs run as that user, who could run the same commands anyway.
    pub fn checks_jobfile(&self) -> bool {
        self.uid == 0 && !self.trust_jobfile
    }

    /// The mode bits through which someone else than the owner could write.
    fn others_write(&self) -> u32 {
        if self.uid == 0 { 0o022 } else { 0o002 }
    }

    fn trusts_owner(&self, uid: u32) -> bool {
        uid == 0 || uid == self.uid
    }
}

/// Why a path is not trusted: the step at fault and what is wrong with it.
#[derive(Debug)]
pub struct Refusal {
    /// The directory, symlink or file at fault.
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug)]
pub enum Problem {
    /// Owned by `uid`, where it should be `wanted` (or root too, with `or_root`).
    Owner {
        uid: u32,
        wanted: u32,
        or_root: bool,
    },
    /// Writable by others than its owner (a directory: without the sticky bit).
    Writable { mode: u32, directory: bool },
    /// A symlink that another user owns, and so can point elsewhere.
    Symlink { uid: u32 },
    /// More than `MAX_SYMLINKS` symlinks.
    Loop,
    /// A step could not be examined.
    Io(io::Error),
}

impl std::error::Error for Refusal {}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Owner {
                uid,
                wanted,
                or_root,
            } => {
                let wanted = match (*wanted, *or_root) {
                    (0, _) => "root".to_owned(),
                    (wanted, true) => format!("root or {}", user_name(wanted)),
                    (wanted, false) => user_name(wanted),
                };
                write!(f, "{path} is owned by {}, not {wanted}", user_name(*uid))
            }
            Problem::Writable { mode, directory } => {
                let by = match (mode & 0o020 != 0, mode & 0o002 != 0) {
                    (true, true) => "its group and others",
                    (true, false) => "its group",
                    _ => "others",
                };
                let sticky = if *directory {
                    " without the sticky bit"
                } else {
                    ""
                };
                write!(
                    f,
                    "{path} is writable by {by} (mode {:04o}){sticky}",
                    mode & 0o7777
                )
            }
            Problem::Symlink { uid } => write!(
                f,
                "{path} is a symlink owned by {}, who can point it anywhere",
                user_name(*uid)
            ),
            Problem::Loop => write!(f, "{path}: too many levels of symbolic links"),
            Problem::Io(e) => write!(f, "cannot examine {path}: {e}"),
        }
    }
}

impl Refusal {
    /// A command that fixes the problem, for the help line.
    pub fn fix(&self) -> Option<String> {
        let path = self.path.display();
        match &self.problem {
            Problem::Owner { wanted, .. } => Some(format!("chown {} {path}", short_name(*wanted))),
            Problem::Symlink { .. } => Some(format!("chown -h root {path}")),
            Problem::Writable { .. } => Some(format!("chmod go-w {path}")),
            Problem::Loop | Problem::Io(_) => None,
        }
    }
}

/// `nobody (uid 65534)`, or `uid 1234` for a user not in the password database.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// The user's name alone, or the uid, for a command line.
fn short_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}

/// How the last step of a walk is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Last {
    /// The jobfile: owned by root or jobrun's user, writable by nobody else.
    File,
    /// The state directory: owned by jobrun's user (jobrun writes there), writable by nobody
    /// else, sticky or not (a stranger could plant a symlink at the store's name).
    OwnDirectory,
}

/// Walks `path` as the kernel would resolve it and checks every step (see the module doc).
/// Returns the resolved path without symlinks, or `None` when a step does not exist (or is not
/// a directory where one is needed): every step up to it was checked, and the caller decides
/// what a missing file means.
pub fn check_path(path: &Path, trust: &Trust, last: Last) -> Result<Option<PathBuf>, Refusal> {
    let absolute = std::path::absolute(path).map_err(|e| Refusal {
        path: path.to_path_buf(),
        problem: Problem::Io(e),
    })?;
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_front(&mut pending, &absolute);
    let mut resolved = PathBuf::from("/");
    let root = fs::metadata(&resolved).map_err(|e| io_refusal(&resolved, e))?;
    check_directory(&resolved, &root, trust)?;
    let mut links = 0;
    // Whether the step `resolved` names was judged as the last one (not so after a final `..`).
    let mut judged_last = false;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            resolved.pop();
            judged_last = false;
            continue;
        }
        let next = resolved.join(&name);
        let meta = match fs::symlink_metadata(&next) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_refusal(&next, e)),
        };
        let is_last = pending.is_empty();
        if meta.file_type().is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(Refusal {
                    path: next,
                    problem: Problem::Loop,
                });
            }
            if !trust.trusts_owner(meta.uid()) {
                return Err(Refusal {
                    path: next,
                    problem: Problem::Symlink { uid: meta.uid() },
                });
            }
            let target = fs::read_link(&next).map_err(|e| io_refusal(&next, e))?;
            if target.is_absolute() {
                resolved = PathBuf::from("/");
            }
            push_front(&mut pending, &target);
            continue;
        }
        match last {
            Last::File if is_last && meta.is_file() => check_file(&next, &meta, trust)?,
            // A device or FIFO: the caller refuses it for what it is, a clearer reason.
            Last::File if is_last => {}
            Last::OwnDirectory if is_last && meta.is_dir() => {
                check_own_directory(&next, &meta, trust)?;
            }
            _ if meta.is_dir() => check_directory(&next, &meta, trust)?,
            // A file where a directory should be: as good as missing here; the caller's own
            // open or mkdir then fails with the kernel's words (ENOTDIR, EEXIST).
            _ => return Ok(None),
        }
        judged_last = is_last;
        resolved = next;
    }
    if !judged_last {
        let meta = fs::metadata(&resolved).map_err(|e| io_refusal(&resolved, e))?;
        match last {
            Last::File if meta.is_file() => check_file(&resolved, &meta, trust)?,
            Last::File => {}
            Last::OwnDirectory if meta.is_dir() => check_own_directory(&resolved, &meta, trust)?,
            Last::OwnDirectory => return Ok(None),
        }
    }
    Ok(Some(resolved))
}

/// Puts the components of `path` at the front of `pending`, in order.
fn push_front(pending: &mut VecDeque<OsString>, path: &Path) {
    let names: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    for name in names.into_iter().rev() {
        pending.push_front(name);
    }
}

fn io_refusal(path: &Path, e: io::Error) -> Refusal {
    Refusal {
        path: path.to_path_buf(),
        problem: Problem::Io(e),
    }
}

/// Owned by root or jobrun's user.
fn check_owner(path: &Path, meta: &Metadata, trust: &Trust) -> Result<(), Refusal> {
    if trust.trusts_owner(meta.uid()) {
        return Ok(());
    }
    Err(Refusal {
        path: path.to_path_buf(),
        problem: Problem::Owner {
            uid: meta.uid(),
            wanted: trust.uid,
            or_root: true,
        },
    })
}

fn check_directory(path: &Path, meta: &Metadata, trust: &Trust) -> Result<(), Refusal> {
    check_owner(path, meta, trust)?;
    let mode = meta.permissions().mode();
    if mode & trust.others_write() != 0 && mode & STICKY == 0 {
        return Err(Refusal {
            path: path.to_path_buf(),
            problem: Problem::Writable {
                mode,
                directory: true,
            },
        });
    }
    Ok(())
}

/// The checks of the file at the end of a path; also for a file already opened (its `fstat`).
pub fn check_file(path: &Path, meta: &Metadata, trust: &Trust) -> Result<(), Refusal> {
    check_owner(path, meta, trust)?;
    let mode = meta.permissions().mode();
    if mode & trust.others_write() != 0 {
        return Err(Refusal {
            path: path.to_path_buf(),
            problem: Problem::Writable {
                mode,
                directory: meta.is_dir(),
            },
        });
    }
    Ok(())
}

fn check_own_directory(path: &Path, meta: &Metadata, trust: &Trust) -> Result<(), Refusal> {
    if meta.uid() != trust.uid {
        return Err(Refusal {
            path: path.to_path_buf(),
            problem: Problem::Owner {
                uid: meta.uid(),
                wanted: trust.uid,
                or_root: false,
            },
        });
    }
    let mode = meta.permissions().mode();
    if mode & trust.others_write() != 0 {
        return Err(Refusal {
            path: path.to_path_buf(),
            problem: Problem::Writable {
                mode: mode & !STICKY,
                directory: false,
            },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
