//! Whether a scheduler holds a store right now, and its pid, without touching the lock: for
//! `list` and `status`, which say whether a scheduler runs on the jobfile.
//!
//! The kernel lists every `flock` in `/proc/locks` (`1: FLOCK ADVISORY WRITE 4242
//! fe:00:10010641 0 EOF`: pid, then device as hex major:minor, then inode). Reading it takes
//! no lock, so a `jobrun start` starting at that moment is never refused because of a probe,
//! as it could be by a probe that tried the lock itself.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The pid of the process holding the store's exclusive lock (a running `jobrun start`), or
/// `None` when nobody holds it, the store does not exist, or the kernel does not say.
pub fn scheduler_pid(path: &Path) -> Option<u32> {
    let meta = std::fs::metadata(path).ok()?;
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in(&locks, meta.dev(), meta.ino())
}

fn holder_in(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    // Linux's dev_t: major in bits 8-19 and 32-63, minor in bits 0-7 and 20-31.
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let wanted = format!("{major:02x}:{minor:02x}:{ino}");
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Waiters are listed as `1: -> FLOCK ...`; only the holder counts.
        match fields.as_slice() {
            [_, "FLOCK", _, "WRITE", pid, file, ..] if *file == wanted => pid.parse().ok(),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_writer_of_that_file_only() {
        let locks = "1: FLOCK  ADVISORY  WRITE 26867 fe:00:10010641 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 31 fe:00:10010641 0 EOF\n\
                     2: POSIX  ADVISORY  READ 12984 fe:00:10117130 128 128\n\
                     4: FLOCK  ADVISORY  WRITE 12984 fe:00:10117128 0 EOF\n";
        let dev = 254 << 8;
        assert_eq!(holder_in(locks, dev, 10_010_641), Some(26_867));
        assert_eq!(holder_in(locks, dev, 10_117_128), Some(12_984));
        assert_eq!(holder_in(locks, dev, 10_117_130), None);
        assert_eq!(holder_in(locks, dev + 1, 10_010_641), None);
    }

    #[test]
    fn sees_a_lock_this_process_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let file = std::fs::File::create(&path).unwrap();
        assert_eq!(scheduler_pid(&path), None);
        file.lock().unwrap();
        assert_eq!(scheduler_pid(&path), Some(std::process::id()));
    }
}
