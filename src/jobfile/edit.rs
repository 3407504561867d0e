//! `jobrun add` and `jobrun remove`: read-modify-write of the jobfile that keeps every byte it
//! does not mean to change.
//!
//! Each edit runs under the jobfile directory's lock (see `atomic_file`), validates the file it
//! read, changes the text, validates the whole result again, and only then replaces the file
//! atomically. Any failure leaves the file as it was (and a missing file missing). `Existing` is
//! that cycle for a file that must already exist; `jobrun pause` and `resume` (`pause.rs`) use it
//! too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use toml_edit::Document;

use super::new_job::{NewJob, attribute};
use super::{Jobfile, JobfileError, parse, parse_document, read_text, removal};
use crate::atomic_file::{DirLock, lock_dir, parent_dir, write_atomic};
use crate::error::did_you_mean;
use crate::zone::Tz;

/// Why an edit of the jobfile did not happen. Messages are whole sentences without the
/// `jobrun: error:` prefix, except `Jobfile(Invalid)`, which renders its own diagnostics.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// A value given on the command line is not valid; `flag` is `--cron`, `--tz`, …, or `CMD`
    /// for the command itself.
    #[error("{flag}: {message}")]
    Argument { flag: &'static str, message: String },

    #[error("job {name:?} already exists in {} (line {line})", .path.display())]
    Duplicate {
        name: String,
        path: PathBuf,
        line: usize,
    },

    /// `jobrun import --write`: jobs the jobfile already has, each with the line of its table.
    #[error("{}", duplicates_message(.names, .path))]
    Duplicates {
        names: Vec<(String, usize)>,
        path: PathBuf,
    },

    /// Names to remove that the jobfile does not have, each with a close existing name if any.
    #[error("{}", unknown_jobs_message(.names, .path))]
    UnknownJobs {
        names: Vec<(String, Option<String>)>,
        path: PathBuf,
    },

    /// The jobs are written inside an inline `jobs = { … }`, which cannot be edited in place.
    #[error(
        "cannot edit the jobs of {}: they are written as an inline table (jobs = {{ ... }}); write each as a [jobs.NAME] table first",
        .path.display()
    )]
    InlineJobs { path: PathBuf },

    /// `pause`/`resume` found no place for the `paused` key in the job as it is written.
    #[error(
        "cannot set paused in job {name:?} of {} as it is written; set paused = true or false in it by hand",
        .path.display()
    )]
    PausedUnwritable { name: String, path: PathBuf },

    /// The existing jobfile: missing (for `remove`), unreadable, or invalid.
    #[error(transparent)]
    Jobfile(#[from] JobfileError),

    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl EditError {
    /// 1 for I/O failures, 2 for bad input (flags, names, the jobfile's contents).
    pub fn exit_code(&self) -> i32 {
        match self {
            EditError::Jobfile(e) => e.exit_code(),
            EditError::Io { .. } => 1,
            _ => 2,
        }
    }
}

fn unknown_jobs_message(names: &[(String, Option<String>)], path: &Path) -> String {
    let quoted: Vec<String> = names.iter().map(|(n, _)| format!("{n:?}")).collect();
    let noun = if names.len() == 1 { "job" } else { "jobs" };
    let mut text = format!(
        "no {noun} named {} in {}",
        quoted.join(", "),
        path.display()
    );
    let hints: Vec<String> = names
        .iter()
        .filter_map(|(name, close)| {
            let close = close.as_ref()?;
            Some(if names.len() == 1 {
                format!("{close:?}")
            } else {
                format!("{close:?} for {name:?}")
            })
        })
        .collect();
    if !hints.is_empty() {
        text.push_str(&format!(" (did you mean {}?)", hints.join(", ")));
    }
    text
}

fn duplicates_message(names: &[(String, usize)], path: &Path) -> String {
    let listed: Vec<String> = names
        .iter()
        .map(|(name, line)| format!("{name:?} (line {line})"))
        .collect();
    let (noun, verb) = if names.len() == 1 {
        ("job", "exists")
    } else {
        ("jobs", "exist")
    };
    format!(
        "{noun} {} already {verb} in {}; nothing was written (remove {} first, or import into another jobfile)",
        listed.join(", "),
        path.display(),
        if names.len() == 1 { "it" } else { "them" }
    )
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> EditError {
    let path = path.to_path_buf();
    move |source| EditError::Io {
        action,
        path,
        source,
    }
}

/// Locks the jobfile's directory (created if needed) and reads the file, empty when it does
/// not exist yet: the start of an edit that appends jobs.
fn lock_for_append(path: &Path) -> Result<(DirLock, String), EditError> {
    let dir = parent_dir(path);
    fs::create_dir_all(dir).map_err(io_error("create the directory", dir))?;
    let lock = lock_dir(dir).map_err(io_error("lock the directory", dir))?;
    let text = read_text(path, None)?.unwrap_or_default();
    Ok((lock, text))
}

/// The jobfile about to get jobs appended, validated, with its spanned document; jobs written
/// as an inline table cannot get more.
fn parse_for_append<'t>(
    path: &Path,
    text: &'t str,
    local_tz: Tz,
) -> Result<(Jobfile, Document<&'t str>), EditError> {
    let (existing, doc) = parse_document(path, text, local_tz).map_err(JobfileError::Invalid)?;
    if doc.get("jobs").is_some_and(|jobs| jobs.is_value()) {
        return Err(EditError::InlineJobs { path: path.into() });
    }
    Ok((existing, doc))
}

/// Appends `job` as a `[jobs.NAME]` table at the end of the jobfile at `path`, creating the file
/// (and its directories) if needed; returns the name used.
pub fn add_job(path: &Path, job: &NewJob, local_tz: Tz) -> Result<String, EditError> {
    job.check()?;
    let (_lock, text) = lock_for_append(path)?;
    let (existing, doc) = parse_for_append(path, &text, local_tz)?;
    let name = match &job.name {
        Some(name) => {
            if existing.job(name).is_some() {
                let line = job_line(&doc, &text, name);
                return Err(EditError::Duplicate {
                    name: name.clone(),
                    path: path.into(),
                    line,
                });
            }
            name.clone()
        }
        None => job.derived_name(
            &existing
                .jobs
                .iter()
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>(),
        ),
    };
    let new_text = append_table(&text, &job.render(&name, shell_by_default(&doc)));
    if let Err(diagnostics) = parse(path, &new_text, local_tz) {
        let attributed = diagnostics.errors.iter().find_map(|d| attribute(d, &name));
        return Err(attributed.unwrap_or(EditError::Jobfile(JobfileError::Invalid(diagnostics))));
    }
    write_atomic(path, new_text.as_bytes()).map_err(io_error("write", path))?;
    Ok(name)
}

/// Whether the file's `[defaults]` run commands through a shell (`shell = true` or a path), so
/// that a new job to run directly must say `shell = false`.
fn shell_by_default(doc: &Document<&str>) -> bool {
    doc.get("defaults")
        .and_then(|d| d.get("shell"))
        .is_some_and(|s| s.as_bool() == Some(true) || s.is_str())
}

/// Appends whole `[jobs.NAME]` tables for the jobs `names` at the end of the jobfile at `path`
/// (created if needed), under the same lock, validation and atomic write as [`add_job`].
/// `tables` renders them once the file is read: its argument says whether the file's
/// `[defaults]` set a shell. When any of the names is taken, all of those are reported and
/// nothing is written.
pub fn append_jobs(
    path: &Path,
    names: &[String],
    tables: impl FnOnce(bool) -> String,
    local_tz: Tz,
) -> Result<(), EditError> {
    let (_lock, text) = lock_for_append(path)?;
    let (existing, doc) = parse_for_append(path, &text, local_tz)?;
    let taken: Vec<(String, usize)> = names
        .iter()
        .filter(|name| existing.job(name).is_some())
        .map(|name| (name.clone(), job_line(&doc, &text, name)))
        .collect();
    if !taken.is_empty() {
        return Err(EditError::Duplicates {
            names: taken,
            path: path.into(),
        });
    }
    let new_text = append_table(&text, &tables(shell_by_default(&doc)));
    parse(path, &new_text, local_tz).map_err(JobfileError::Invalid)?;
    write_atomic(path, new_text.as_bytes()).map_err(io_error("write", path))
}

/// The line of the job's key (its `[jobs.NAME]` header).
fn job_line(doc: &Document<&str>, text: &str, name: &str) -> usize {
    let start = doc
        .get("jobs")
        .and_then(|jobs| jobs.as_table_like())
        .and_then(|jobs| jobs.get_key_value(name))
        .and_then(|(key, _)| key.span())
        .map_or(0, |span| span.start);
    text[..start].matches('\n').count() + 1
}

/// `text` with `table` after it, a blank line between them, in the file's own line ending.
pub(super) fn append_table(text: &str, table: &str) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(newline);
    }
    let body = out.strip_suffix('\n').unwrap_or(&out);
    let ends_with_blank_line = out.is_empty()
        || body
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.trim().is_empty());
    if !ends_with_blank_line {
        out.push_str(newline);
    }
    out.push_str(&table.replace('\n', newline));
    out
}

/// Removes the named jobs (all of them, or none when one is unknown), with their sub-tables and
/// the comment lines directly above them.
pub fn remove_jobs(path: &Path, names: &[String], local_tz: Tz) -> Result<(), EditError> {
    let existing = Existing::read(path, local_tz)?;
    existing.check_names(names)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let new_text = removal::without_jobs(&existing.text, &names)
        .ok_or_else(|| EditError::InlineJobs { path: path.into() })?;
    existing.validate(&new_text, local_tz)?;
    existing.write(&new_text)
}

/// An existing jobfile read for an edit, with the directory lock held until it is dropped, so
/// that no other jobrun edit comes between the read and the write.
pub(super) struct Existing<'p> {
    _lock: DirLock,
    pub(super) path: &'p Path,
    pub(super) text: String,
    pub(super) jobfile: Jobfile,
}

impl<'p> Existing<'p> {
    /// Locks the directory, then reads and validates the file; a missing file is an error.
    pub(super) fn read(path: &'p Path, local_tz: Tz) -> Result<Existing<'p>, EditError> {
        let dir = parent_dir(path);
        let missing = || EditError::Jobfile(JobfileError::Missing { path: path.into() });
        let lock = match lock_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
            lock => lock.map_err(io_error("lock the directory", dir))?,
        };
        let text = read_text(path, None)?.ok_or_else(missing)?;
        let jobfile = parse(path, &text, local_tz).map_err(JobfileError::Invalid)?;
        Ok(Existing {
            _lock: lock,
            path,
            text,
            jobfile,
        })
    }

    /// Refuses the edit unless every name is a job of the file; all unknown ones are listed.
    pub(super) fn check_names(&self, names: &[String]) -> Result<(), EditError> {
        let mut unknown: Vec<(String, Option<String>)> = Vec::new();
        for name in names {
            if self.jobfile.job(name).is_none() && !unknown.iter().any(|(n, _)| n == name) {
                let close = did_you_mean(name, self.jobfile.jobs.iter().map(|j| j.name.as_str()));
                unknown.push((name.clone(), close));
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        Err(EditError::UnknownJobs {
            names: unknown,
            path: self.path.into(),
        })
    }

    /// Validates `new_text` as a whole, as the file it is about to become.
    pub(super) fn validate(&self, new_text: &str, local_tz: Tz) -> Result<Jobfile, EditError> {
        Ok(parse(self.path, new_text, local_tz).map_err(JobfileError::Invalid)?)
    }

    /// Replaces the file with `new_text` atomically, unless it is the text read: an edit that
    /// changes nothing leaves the file (and its modification time) alone.
    pub(super) fn write(&self, new_text: &str) -> Result<(), EditError> {
        if new_text == self.text {
            return Ok(());
        }
        write_atomic(self.path, new_text.as_bytes()).map_err(io_error("write", self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_table_follows_one_blank_line() {
        let table = "[jobs.x]\nevery = \"1h\"\n";
        assert_eq!(append_table("", table), table);
        assert_eq!(append_table("a = 1", table), format!("a = 1\n\n{table}"));
        assert_eq!(append_table("a = 1\n", table), format!("a = 1\n\n{table}"));
        assert_eq!(
            append_table("a = 1\n\n", table),
            format!("a = 1\n\n{table}")
        );
        assert_eq!(
            append_table("a = 1\r\n", table),
            "a = 1\r\n\r\n[jobs.x]\r\nevery = \"1h\"\r\n"
        );
    }

    #[test]
    fn unknown_names_are_listed_with_suggestions() {
        let path = Path::new("jobrun.toml");
        let one = vec![("bakup".to_owned(), Some("backup".to_owned()))];
        assert_eq!(
            unknown_jobs_message(&one, path),
            "no job named \"bakup\" in jobrun.toml (did you mean \"backup\"?)"
        );
        let two = vec![
            ("bakup".to_owned(), Some("backup".to_owned())),
            ("zzz".to_owned(), None),
        ];
        assert_eq!(
            unknown_jobs_message(&two, path),
            "no jobs named \"bakup\", \"zzz\" in jobrun.toml (did you mean \"backup\" for \"bakup\"?)"
        );
    }
}
