//! Noticing edits of the jobfile: inotify on its directory (editors and `jobrun add` replace
//! the file by rename, which a watch on the file itself would lose), filtered to its name.

use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

pub(crate) struct JobfileWatch {
    inotify: Inotify,
    name: OsString,
}

impl JobfileWatch {
    pub(crate) fn new(jobfile: &Path) -> nix::Result<JobfileWatch> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)?;
        let dir = crate::atomic_file::parent_dir(jobfile);
        inotify.add_watch(
            dir,
            AddWatchFlags::IN_CLOSE_WRITE | AddWatchFlags::IN_MOVED_TO,
        )?;
        let name = jobfile.file_name().map(OsString::from).unwrap_or_default();
        Ok(JobfileWatch { inotify, name })
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }

    /// Reads the pending events; true when one of them is about the jobfile.
    pub(crate) fn changed(&self) -> bool {
        let mut changed = false;
        while let Ok(events) = self.inotify.read_events() {
            if events.is_empty() {
                break;
            }
            changed |= events.iter().any(|e| e.name.as_ref() == Some(&self.name));
        }
        changed
    }
}
