//! The jobfile loader: its own TOML tree accepts and refuses exactly what toml_edit does, with
//! the same reading and the same error at the same place, whatever the chunking; and any text
//! either loads or is refused with diagnostics, without a panic, each job answering when it
//! fires next.
//!
//! Input: byte 0 chooses the chunk size of the tree's lexer (1 to 8 tokens, or its default);
//! the rest is the file.

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use chrono::DateTime;
use jobrun::zone::Tz;
use libfuzzer_sys::fuzz_target;

static PARIS: LazyLock<Tz> = LazyLock::new(|| "Europe/Paris".parse().expect("a zone"));

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let chunk = match chunk % 9 {
        0 => 4096,
        n => usize::from(n),
    };
    if let Err(difference) = jobrun::fuzzing::tree_against_toml_edit(text, chunk) {
        panic!("{difference}");
    }
    match jobrun::jobfile::parse(Path::new("jobrun.toml"), text, *PARIS) {
        Ok(jobfile) => {
            let from = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
            for job in &jobfile.jobs {
                let _ = job.next_after(from);
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.errors.is_empty());
            let _ = diagnostics.to_string();
        }
    }
});
