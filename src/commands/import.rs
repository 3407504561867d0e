//! `jobrun import`: reads crontabs (a file, a cron.d directory, or standard input), turns them
//! into jobfile entries (`import/`), and prints them, or appends them to the jobfile through
//! the same locked, validated, atomic edit as `jobrun add`.

use std::io::Read;
use std::path::{Path, PathBuf};

use nix::unistd::{User, geteuid};

use super::parse_zone;
use crate::cli::ImportArgs;
use crate::context::Context;
use crate::error::Error;
use crate::import::{self, Crontab, Options};
use crate::jobfile::{self, Diagnostic, Diagnostics};
use crate::output;

pub(super) fn run(ctx: &Context, args: &ImportArgs) -> Result<(), Error> {
    let timezone = args
        .tz
        .as_deref()
        .map(|zone| parse_zone("--tz", zone))
        .transpose()?;
    let (crontabs, skipped) = read_crontabs(args)?;
    let options = Options {
        timezone,
        // A user crontab's commands ran in its owner's home: presumably whoever imports it.
        home: User::from_uid(geteuid())
            .ok()
            .flatten()
            .map(|u| u.dir.display().to_string()),
    };
    let conversion = import::import(&crontabs, &options).map_err(Error::Crontab)?;
    for note in skipped {
        eprintln!("{note}");
    }
    for note in &conversion.notes {
        eprintln!("{note}");
    }
    if !args.write {
        let text = conversion.jobfile();
        // The importer's own output must load; if it does not, that is jobrun's bug.
        if let Err(d) = jobfile::parse(Path::new("(imported)"), &text, ctx.local_tz) {
            return Err(Error::Runtime(format!(
                "jobrun import wrote a jobfile that does not load, which is a bug:\n{d}{text}"
            )));
        }
        return output::print(text.as_bytes()).map_err(Error::Output);
    }
    let names = conversion.names();
    if names.is_empty() {
        eprintln!(
            "jobrun: note: no jobs to add; {} is unchanged",
            ctx.jobfile.display()
        );
        return Ok(());
    }
    jobfile::append_jobs(
        &ctx.jobfile,
        &names,
        |shell_by_default| conversion.tables(shell_by_default),
        ctx.local_tz,
    )?;
    let noun = if names.len() == 1 { "job" } else { "jobs" };
    let text = format!(
        "added {} {noun} to {}: {}\n",
        names.len(),
        ctx.jobfile.display(),
        names.join(", ")
    );
    output::print(text.as_bytes()).map_err(Error::Output)
}

/// The crontabs to import, and notes about files of a directory that cron would not read.
fn read_crontabs(args: &ImportArgs) -> Result<(Vec<Crontab>, Vec<String>), Error> {
    let source = args.source.as_deref().filter(|p| *p != Path::new("-"));
    let Some(path) = source else {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| cannot_read(Path::new("standard input"), &e))?;
        let crontab = decode(PathBuf::from("standard input"), bytes, args.system)
            .map_err(|d| Error::Crontab(vec![d]))?;
        return Ok((vec![crontab], Vec::new()));
    };
    let in_cron_d =
        |dir: Option<&Path>| dir.and_then(Path::file_name).is_some_and(|n| n == "cron.d");
    if !path.is_dir() {
        let system = args.system || path == Path::new("/etc/crontab") || in_cron_d(path.parent());
        let bytes = std::fs::read(path).map_err(|e| cannot_read(path, &e))?;
        let crontab =
            decode(path.to_path_buf(), bytes, system).map_err(|d| Error::Crontab(vec![d]))?;
        return Ok((vec![crontab], Vec::new()));
    }
    let system = args.system || in_cron_d(Some(path));
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(path)
        .map_err(|e| cannot_read(path, &e))?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| cannot_read(path, &e))?;
    // run-parts order: by the bytes of the name.
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    let (mut crontabs, mut skipped, mut invalid) = (Vec::new(), Vec::new(), Vec::new());
    for name in names {
        let file = path.join(&name);
        let name = name.to_string_lossy();
        if !is_run_parts_name(&name) {
            // Dot files (.placeholder) are not crontabs by anyone's reading; say nothing.
            if !name.starts_with('.') {
                skipped.push(format!(
                    "jobrun: note: {}: skipped, as cron skips it: a cron.d file name is made of letters, digits, \"_\" and \"-\" only",
                    file.display()
                ));
            }
            continue;
        }
        if !file.is_file() {
            skipped.push(format!(
                "jobrun: note: {}: skipped: not a regular file",
                file.display()
            ));
            continue;
        }
        let bytes = std::fs::read(&file).map_err(|e| cannot_read(&file, &e))?;
        match decode(file, bytes, system) {
            Ok(crontab) => crontabs.push(crontab),
            Err(d) => invalid.push(d),
        }
    }
    if !invalid.is_empty() {
        return Err(Error::Crontab(invalid));
    }
    Ok((crontabs, skipped))
}

/// The naming rule of Debian's cron for cron.d (run-parts' LSB names): no dots, so that
/// `foo.dpkg-old` and editor backups are never read.
fn is_run_parts_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn cannot_read(path: &Path, e: &std::io::Error) -> Error {
    Error::Argument {
        flag: "FILE",
        message: format!("cannot read {}: {e}", path.display()),
    }
}

/// The crontab's text, or an error at its first byte that is not UTF-8.
fn decode(name: PathBuf, bytes: Vec<u8>, system: bool) -> Result<Crontab, Diagnostics> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Crontab { name, text, system }),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let line_start = e.as_bytes()[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let before = String::from_utf8_lossy(&e.as_bytes()[line_start..at]).into_owned();
            let line = text
                .lines()
                .nth(e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count());
            let column = before.chars().count() + 1;
            let (source_line, source_column) =
                crate::jobfile::excerpt(line.unwrap_or_default(), column);
            Err(Diagnostics {
                path: name.clone(),
                errors: vec![Diagnostic {
                    path: name,
                    line: e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1,
                    column,
                    span: at..at + 1,
                    field: String::new(),
                    message: "the crontab is not valid UTF-8".to_owned(),
                    help: None,
                    source_line,
                    source_column,
                }],
                omitted: 0,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_d_names_follow_run_parts() {
        for good in ["php", "e2scrub_all", "zfsutils-linux", "0hourly"] {
            assert!(is_run_parts_name(good), "{good}");
        }
        for bad in ["php.dpkg-old", ".placeholder", "x~", "a b", ""] {
            assert!(!is_run_parts_name(bad), "{bad}");
        }
    }
}
