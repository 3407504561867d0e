//! Where a jobfile's store lives: one file per jobfile, in the user's state directory, and
//! the checks that it is the user's own (issue 12).
//!
//! The name is `<jobfile stem>-<hash>.sqlite`: the stem lets a person find the right file by
//! eye, and the hash of the jobfile's absolute path keeps two `jobs.toml` in different projects
//! apart. The hash is FNV-1a (64 bits), written out here rather than taken from std's
//! `DefaultHasher`, whose output may change between Rust releases: a changed hash would orphan
//! every user's history without a word.

use std::ffi::OsStr;
use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Component, Path, PathBuf};

use super::StoreError;
use crate::trust::{self, Last, Trust};

/// Overrides the state directory (tests, containers, several users of one account).
pub const STATE_DIR_ENV: &str = "JOBRUN_STATE_DIR";

/// Where the store for a jobfile lives: `$JOBRUN_STATE_DIR` if set (non-empty), else the
/// platform's state directory for jobrun (`$XDG_STATE_HOME/jobrun`, `~/.local/state/jobrun`),
/// else its local data directory where the platform has no state directory (macOS, Windows).
/// The jobfile need not exist.
pub fn default_path(jobfile: &Path) -> Result<PathBuf, StoreError> {
    path_for(jobfile, std::env::var_os(STATE_DIR_ENV).as_deref())
}

/// [`default_path`] with the value of `$JOBRUN_STATE_DIR` passed in, so that the code that
/// resolves the environment once (and tests) need not set process-wide variables.
pub fn path_for(jobfile: &Path, state_dir_env: Option<&OsStr>) -> Result<PathBuf, StoreError> {
    let dir = match state_dir_env.filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => platform_state_dir().ok_or_else(|| {
            StoreError::io(
                jobfile,
                "find a state directory for the jobfile (set JOBRUN_STATE_DIR)",
                io::Error::new(io::ErrorKind::NotFound, "no home directory"),
            )
        })?,
    };
    Ok(dir.join(file_name(jobfile)?))
}

/// Checks the way to the store at `path` before anything opens it: its directory must be the
/// user's own and writable by nobody else, reached through directories and symlinks that only
/// root or the user control (`trust.rs`), and the store itself must not be a symlink. Otherwise
/// another user could point root's jobrun at a file of their choosing, or plant a symlink at the
/// store's name before it exists. With `create`, a missing directory is made, mode 0700 (and
/// so are its missing parents). Returns whether the directory exists.
pub(super) fn check_store_path(path: &Path, create: bool) -> Result<bool, StoreError> {
    let dir = crate::atomic_file::parent_dir(path);
    let trust = Trust::of_process(false);
    let refused = |refusal| StoreError::Untrusted {
        dir: dir.to_path_buf(),
        refusal,
    };
    if trust::check_path(dir, &trust, Last::OwnDirectory)
        .map_err(refused)?
        .is_none()
    {
        if !create {
            return Ok(false);
        }
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| StoreError::io(dir, "create the state directory", e))?;
        trust::check_path(dir, &trust, Last::OwnDirectory).map_err(refused)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(StoreError::io(
            path,
            "open the state store",
            io::Error::other(
                "it is a symlink, and jobrun opens its store only as a file of its own",
            ),
        )),
        Ok(meta) if !meta.is_file() => Err(StoreError::io(
            path,
            "open the state store",
            io::Error::other("it is not a regular file"),
        )),
        _ => Ok(true),
    }
}

fn platform_state_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "jobrun")?;
    Some(
        dirs.state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf(),
    )
}

/// `<stem>-<16 hex digits>.sqlite` for this jobfile.
fn file_name(jobfile: &Path) -> Result<String, StoreError> {
    let absolute = std::path::absolute(jobfile)
        .map_err(|e| StoreError::io(jobfile, "resolve the jobfile's absolute path", e))?;
    let normal = normalise(&absolute);
    let stem = normal
        .file_stem()
        .map_or_else(|| "jobfile".into(), |s| s.to_string_lossy());
    let hash = fnv1a(normal.as_os_str().as_encoded_bytes());
    Ok(format!("{stem}-{hash:016x}.sqlite"))
}

/// Resolves `.` and `..` without touching the file system: `std::path::absolute` keeps `..`
/// on Unix (it cannot know about symlinks), so `/a/b/../c.toml` and `/a/c.toml` would
/// otherwise get two stores. A symlinked directory is not resolved, by design: the jobfile
/// need not exist, and lexical rules give the same answer on every run.
fn normalise(absolute: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            // At the root, `..` stays at the root, as the kernel does.
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// 64-bit FNV-1a: tiny, stable by definition, good enough to tell paths apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_name_of_a_given_path_never_changes() {
        // Pinned: a different name for the same jobfile would orphan the user's history.
        let path = path_for(Path::new("/home/ann/jobs.toml"), Some(OsStr::new("/state"))).unwrap();
        assert_eq!(
            path,
            Path::new("/state").join(format!(
                "jobs-{:016x}.sqlite",
                fnv1a(b"/home/ann/jobs.toml")
            ))
        );
        assert_eq!(path, Path::new("/state/jobs-4f97d3ef14f91a64.sqlite"));
    }

    #[test]
    fn dot_and_dot_dot_are_resolved_lexically() {
        let state = Some(OsStr::new("/state"));
        let plain = path_for(Path::new("/srv/app/jobrun.toml"), state).unwrap();
        for spelling in [
            "/srv/app/./jobrun.toml",
            "/srv/other/../app/jobrun.toml",
            "/srv//app/jobrun.toml",
            "/../srv/app/jobrun.toml",
        ] {
            assert_eq!(
                path_for(Path::new(spelling), state).unwrap(),
                plain,
                "{spelling}"
            );
        }
    }

    #[test]
    fn a_relative_jobfile_is_taken_from_the_working_directory() {
        let state = Some(OsStr::new("/state"));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            path_for(Path::new("sub/../jobrun.toml"), state).unwrap(),
            path_for(&cwd.join("jobrun.toml"), state).unwrap()
        );
    }

    #[test]
    fn jobfiles_with_one_name_in_two_directories_get_two_stores() {
        let state = Some(OsStr::new("/state"));
        let a = path_for(Path::new("/a/jobrun.toml"), state).unwrap();
        let b = path_for(Path::new("/b/jobrun.toml"), state).unwrap();
        assert_ne!(a, b);
        for p in [&a, &b] {
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(
                name.starts_with("jobrun-") && name.ends_with(".sqlite"),
                "{name}"
            );
            let hex = &name["jobrun-".len()..name.len() - ".sqlite".len()];
            assert_eq!(hex.len(), 16);
            assert!(
                hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
                "{hex}"
            );
        }
    }

    #[test]
    fn the_environment_variable_chooses_the_directory_unless_empty() {
        let jobfile = Path::new("/x/jobs.toml");
        let set = path_for(jobfile, Some(OsStr::new("/custom/state"))).unwrap();
        assert_eq!(set.parent(), Some(Path::new("/custom/state")));
        // Empty means unset (the platform's directory), as with most tools' variables.
        let empty = path_for(jobfile, Some(OsStr::new("")));
        let unset = path_for(jobfile, None);
        assert_eq!(empty.is_ok(), unset.is_ok());
        if let (Ok(empty), Ok(unset)) = (empty, unset) {
            assert_eq!(empty, unset);
            assert_ne!(empty.parent(), Some(Path::new("/custom/state")));
            assert_eq!(empty.file_name(), set.file_name());
        }
    }

    #[test]
    fn a_jobfile_without_a_stem_still_gets_a_name() {
        let path = path_for(Path::new("/"), Some(OsStr::new("/state"))).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("jobfile-"), "{name}");
    }
}
