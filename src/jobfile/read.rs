//! Reading a jobfile's bytes, safely whatever the path names (issue 12): only a regular file
//! (a symlink is followed, and its target must be one), opened without blocking (a FIFO would
//! wait for a writer for ever), at most [`MAX_JOBFILE_BYTES`] (`/dev/zero` or a log would fill
//! memory), and, when asked, only one that nobody but jobrun's user and root can change
//! (`trust.rs`).

use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use super::diagnostic::SourceFile;
use super::{Diagnostics, JobfileError};
use crate::trust::{self, Trust};

/// The largest jobfile jobrun reads: 4 MiB is some 40,000 jobs, far beyond any real one, and
/// keeps a file that is not a jobfile (a log, a disk image) from taking memory and minutes.
pub const MAX_JOBFILE_BYTES: u64 = 4 * 1024 * 1024;

/// The file's text, `None` when it does not exist. Bytes that are not UTF-8 are a diagnostic
/// at the first of them, like any other problem of the file's contents. With `trust`, the file
/// and the way to it are checked (see `trust.rs`); edits (`add`, `remove`, `pause`) pass none:
/// they run nothing, and the file they write is the editor's own.
pub(super) fn read_text(
    path: &Path,
    trust: Option<&Trust>,
) -> Result<Option<String>, JobfileError> {
    let untrusted = |refusal| JobfileError::Untrusted {
        path: path.into(),
        refusal,
    };
    if let Some(trust) = trust {
        // The directories and symlinks on the way first: once nobody else can change them,
        // nobody can swap the file between this walk and the open below.
        trust::check_path(path, trust, trust::Last::File).map_err(untrusted)?;
    }
    let io_error = |source| JobfileError::Io {
        path: path.into(),
        source,
    };
    // Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer;
    // reads of a regular file do not block either way.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io_error(source)),
    };
    let meta = file.metadata().map_err(io_error)?;
    if !meta.is_file() {
        return Err(JobfileError::NotAFile {
            path: path.into(),
            kind: file_kind(&meta),
        });
    }
    if let Some(trust) = trust {
        trust::check_file(path, &meta, trust).map_err(untrusted)?;
    }
    if meta.len() > MAX_JOBFILE_BYTES {
        return Err(JobfileError::TooLarge {
            path: path.into(),
            size: meta.len(),
        });
    }
    // The file may grow after the fstat: read one byte past the limit to notice.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_JOBFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_JOBFILE_BYTES {
        return Err(JobfileError::TooLarge {
            path: path.into(),
            size: bytes.len() as u64,
        });
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Some(text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            let source = SourceFile::new(path, &text);
            let error = source.diagnostic(
                at..at + 1,
                "",
                "the jobfile is not valid UTF-8".to_owned(),
                None,
            );
            Err(JobfileError::Invalid(Diagnostics {
                path: path.into(),
                errors: vec![error],
                omitted: 0,
            }))
        }
    }
}

/// What a file that is not a regular file is, for the error.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn read(path: &Path) -> Result<Option<String>, JobfileError> {
        read_text(path, None)
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("jobrun.toml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = read(&fifo).unwrap_err();
        assert!(
            matches!(err, JobfileError::NotAFile { kind: "a FIFO", .. }),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn a_device_is_refused_also_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("jobrun.toml");
        symlink("/dev/zero", &link).unwrap();
        for path in [Path::new("/dev/zero"), &link] {
            let err = read(path).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "jobfile {} is a character device, not a regular file",
                    path.display()
                )
            );
        }
        let err = read(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                JobfileError::NotAFile {
                    kind: "a directory",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_file_over_the_cap_is_refused_and_one_at_the_cap_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        let cap = usize::try_from(MAX_JOBFILE_BYTES).unwrap();
        std::fs::write(&path, "#".repeat(cap)).unwrap();
        assert_eq!(read(&path).unwrap().map(|t| t.len()), Some(cap));
        std::fs::write(&path, "#".repeat(cap + 1)).unwrap();
        let err = read(&path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "jobfile {} is 4194305 bytes, more than the 4 MiB a jobfile may have",
                path.display()
            )
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn the_trust_rules_apply_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read(&path).unwrap().as_deref(), Some(""));
        // Every user refuses a world-writable file when asked (root also a group-writable one).
        let me = Trust::of_process(false);
        let err = read_text(&path, Some(&me)).unwrap_err();
        assert!(matches!(err, JobfileError::Untrusted { .. }), "{err}");
    }

    #[test]
    fn a_missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("nope.toml")).unwrap().is_none());
    }
}
