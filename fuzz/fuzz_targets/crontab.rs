//! The crontab importer: any text either imports or is refused with located diagnostics,
//! without a panic; what it imports is a jobfile that loads (the importer's promise: entries
//! that run what cron ran), with the same jobs, each answering when it fires next; and the
//! tables it would append to an existing jobfile load as one too.
//!
//! Input: byte 0's bit 0 reads the text as a system crontab (a user column), bit 1 imports
//! with `--tz Europe/Paris`; the rest is the crontab.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::DateTime;
use jobrun::import::{Crontab, Options, import};
use jobrun::zone::Tz;
use libfuzzer_sys::fuzz_target;

static PARIS: LazyLock<Tz> = LazyLock::new(|| "Europe/Paris".parse().expect("a zone"));

fuzz_target!(|data: &[u8]| {
    let Some((&flags, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let crontab = Crontab {
        name: PathBuf::from("crontab"),
        text: text.to_owned(),
        system: flags & 1 == 1,
    };
    let options = Options {
        timezone: (flags & 2 == 2).then(|| *PARIS),
        home: Some("/home/fuzz".to_owned()),
    };
    let conversion = match import(&[crontab], &options) {
        Ok(conversion) => conversion,
        Err(refused) => {
            assert!(!refused.is_empty(), "refused without a diagnostic");
            for diagnostics in refused {
                assert!(!diagnostics.errors.is_empty(), "refused without an error");
                let _ = diagnostics.to_string();
            }
            return;
        }
    };
    let names = conversion.names();
    let from = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    for (what, text) in [
        ("jobfile", conversion.jobfile()),
        ("tables", conversion.tables(false)),
    ] {
        let jobfile = jobrun::jobfile::parse(Path::new("jobrun.toml"), &text, Tz::UTC)
            .unwrap_or_else(|e| panic!("the imported {what} does not load:\n{e}\n{text}"));
        let loaded: Vec<&str> = jobfile.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(loaded, names, "the imported {what} has other jobs:\n{text}");
        for job in &jobfile.jobs {
            let _ = job.next_after(from);
        }
    }
});
