//! A run's standard input: `/dev/null`, or its job's `stdin` text (crontab's `%`) in an
//! anonymous memory file (`memfd_create`) written in full before the spawn.
//!
//! Why a memory file and not a pipe: a pipe holds 64 KiB, so a larger text needs a writer that
//! waits for the job to read, which would be the scheduler's one `poll(2)` loop (a job that
//! never reads its input would then hold a pipe and a buffer open for its whole life), or a
//! thread per run (cron forks a process per run for it). A memory file holds any size, never
//! blocks its writer, costs no thread, and reads like a file (end of input after the text).
//! It is private to the run: each run gets its own, freed when the run's process and jobrun
//! have both closed it. A job can tell it from a pipe only by `fstat` or `lseek`.

use std::fs::File;
use std::io::{self, Seek, Write};
use std::process::Stdio;

use nix::sys::memfd::{MFdFlags, memfd_create};

/// What the run reads on its standard input: nothing (`/dev/null`) without a text or with an
/// empty one, else the text, then end of input.
pub(super) fn stdin_for(text: Option<&str>) -> io::Result<Stdio> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(Stdio::null());
    };
    // Close-on-exec: only the run's own copy (its descriptor 0) survives exec.
    let fd = memfd_create(c"jobrun-stdin", MFdFlags::MFD_CLOEXEC)?;
    let mut file = File::from(fd);
    file.write_all(text.as_bytes())?;
    // The run shares this open file, offset included: it must start reading at the start.
    file.rewind()?;
    Ok(Stdio::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::own_children;

    /// What `sh -c script` prints with this stdin.
    fn output_of(script: &str, text: Option<&str>) -> String {
        let _children = own_children();
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", script])
            .stdin(stdin_for(text).unwrap())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn the_text_is_read_whole_then_end_of_input() {
        assert_eq!(output_of("cat; echo end", Some("a\nb\n")), "a\nb\nend\n");
        assert_eq!(output_of("cat; echo end", Some("")), "end\n");
        assert_eq!(output_of("cat; echo end", None), "end\n");
    }

    #[test]
    fn a_text_larger_than_a_pipe_needs_no_reader_to_keep_up() {
        // 1 MiB, sixteen pipe buffers: written in full before the run starts, and a job that
        // reads none of it still ends.
        let text = "x".repeat(1 << 20);
        assert_eq!(output_of("wc -c", Some(&text)).trim(), "1048576");
        assert_eq!(output_of("echo ignored", Some(&text)), "ignored\n");
    }
}
