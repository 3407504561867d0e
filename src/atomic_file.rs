//! Replacing a file so that readers see either the old contents or the new, never a mix, even
//! after a crash; and the lock that serialises read-modify-write cycles on a jobfile.
//!
//! The lock is taken on the file's **directory**, not on the file or on a `.lock` file beside it:
//! - the file is replaced by `rename`, so a lock on the old inode would guard nothing;
//! - a lock file would litter the user's config directory and outlive crashes as a stray file;
//! - a directory exists before the file does, so `jobrun add` creating a new jobfile is covered.
//!
//! Locks are advisory (`flock(2)`): they order jobrun's own writers, not an editor saving the file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes temp names unique within the process; the pid makes them unique across processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically: temp file in the same directory, write, fsync,
/// rename over `path`, fsync the directory.
///
/// The new file keeps the old one's permissions (0644, less the umask, for a new file). A symlink
/// at `path` is followed, so a jobfile linked from a dotfiles repository stays a link. On any
/// error the temp file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let target = resolve_symlink(path)?;
    let dir = parent_dir(&target);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp.{}.{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_then_rename(&temp, &target, contents);
    if result.is_err() {
        // The rename is the last fallible step but one, so the temp file is still there (or
        // was never created); either way nothing else may be left behind.
        let _ = fs::remove_file(&temp);
        return result;
    }
    sync_dir(dir)
}

fn write_then_rename(temp: &Path, target: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644);
    let mut file = options.open(temp)?;
    if let Ok(existing) = fs::metadata(target) {
        file.set_permissions(existing.permissions())?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, target)
}

/// The path the data lives at: `path` itself, or the file a symlink there points to.
fn resolve_symlink(path: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// The directory holding `path` (the one to lock for it); `.` for a bare file name.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes the rename itself durable: without it, a crash can bring back the old directory entry.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// An exclusive advisory lock on a directory, held until dropped.
#[derive(Debug)]
pub struct DirLock {
    /// Closing the descriptor releases the lock; the field only keeps it open.
    _dir: File,
}

/// Blocks until this process holds the exclusive lock on `dir` (see the module doc for why the
/// directory). Other `DirLock`s on the same directory, in this process or another, wait for it.
pub fn lock_dir(dir: &Path) -> io::Result<DirLock> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let file = File::open(dir)?;
    file.lock()?;
    Ok(DirLock { _dir: file })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_the_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        fs::write(&path, "old contents that are longer than the new ones\n").unwrap();
        write_atomic(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(entries(dir.path()), ["jobrun.toml"]);
    }

    #[test]
    fn creates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        write_atomic(&path, b"[jobs]\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[jobs]\n");
        assert_eq!(entries(dir.path()), ["jobrun.toml"]);
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_existing_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        fs::write(&path, "a").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"b").unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[cfg(unix)]
    #[test]
    fn follows_a_symlink_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        let link = dir.path().join("jobrun.toml");
        fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails after the temp file was written.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), "x").unwrap();
        assert!(write_atomic(&target, b"data").is_err());
        assert_eq!(entries(dir.path()), ["occupied"]);
        assert_eq!(entries(&target), ["inside"]);
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(&dir.path().join("no/such/dir/jobrun.toml"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn twenty_threads_doing_read_modify_write_under_the_lock_lose_no_change() {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let path = dir.path().join("counter.txt");
        fs::write(&path, "").unwrap();
        let threads: Vec<_> = (0..20)
            .map(|i| {
                let dir = Arc::clone(&dir);
                std::thread::spawn(move || {
                    let path = dir.path().join("counter.txt");
                    let _lock = lock_dir(dir.path()).unwrap();
                    let mut text = fs::read_to_string(&path).unwrap();
                    // Give the other threads every chance to interleave if the lock failed.
                    std::thread::yield_now();
                    text.push_str(&format!("{i}\n"));
                    write_atomic(&path, text.as_bytes()).unwrap();
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let text = fs::read_to_string(&path).unwrap();
        let mut lines: Vec<u32> = text.lines().map(|l| l.parse().unwrap()).collect();
        lines.sort_unstable();
        assert_eq!(lines, (0..20).collect::<Vec<_>>());
        assert_eq!(entries(dir.path()), ["counter.txt"]);
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_dir(dir.path()).unwrap();
        let probe = File::open(dir.path()).unwrap();
        assert!(matches!(
            probe.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        drop(first);
        probe.try_lock().unwrap();
    }
}
