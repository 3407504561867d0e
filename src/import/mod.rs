//! `jobrun import`: crontabs into jobfile entries that run what cron ran.
//!
//! - `lexer.rs` reads a crontab line by line as cron does (comments, `NAME=value`, entries);
//! - `schedule.rs` checks the five time fields against crontab(5);
//! - `command.rs` cuts a command at `%` into command and input, and decides whether it needs
//!   the shell at all;
//! - `naming.rs` derives job names from commands;
//! - `reader.rs` walks the lines of a crontab, keeping the environment, zone and shell in
//!   force as cron does, and gathers its jobs, notes and errors;
//! - this file imports several crontabs at once, names the jobs, and locates errors;
//! - `render.rs` writes the jobs as jobfile text.
//!
//! Nothing here reads files, the environment or the clock: the command (`commands/import.rs`)
//! reads the crontabs and passes them in.

mod command;
mod lexer;
mod naming;
mod reader;
mod render;
mod schedule;

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use crate::jobfile::{Diagnostic, Diagnostics};
use crate::zone::Tz;

/// One crontab to import.
#[derive(Debug, Clone)]
pub struct Crontab {
    /// As messages name it: the path as given, or `standard input`.
    pub name: PathBuf,
    pub text: String,
    /// The system format: a user column between the schedule and the command.
    pub system: bool,
}

/// What the import needs from outside the crontabs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--tz`: the zone of lines without `CRON_TZ`; `None` leaves them in jobrun's default.
    pub timezone: Option<Tz>,
    /// The home directory of the user importing, where cron ran the commands of a user
    /// crontab (unless it sets `HOME`).
    pub home: Option<String>,
}

/// A problem at a place in a crontab, before it is located by line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    /// Byte range in the crontab.
    span: Range<usize>,
    message: String,
    help: Option<String>,
}

/// What the importer tells the user besides the jobfile: lines left out, settings jobrun
/// handles otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.warning { "warning" } else { "note" };
        write!(
            f,
            "jobrun: {level}: {}:{}: {}",
            self.file.display(),
            self.line,
            self.message
        )
    }
}

/// How a job's command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Argv(Vec<String>),
    /// Through a shell: `None` is `/bin/sh` (`shell = true`), else the crontab's `SHELL`.
    Shell {
        script: String,
        shell: Option<String>,
    },
}

/// One imported job.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    name: String,
    /// The comment lines right above the cron line, `#` included.
    comments: Vec<String>,
    cron: String,
    run: Run,
    stdin: Option<String>,
    user: Option<String>,
    timezone: Option<String>,
    workdir: Option<String>,
    /// In the order the crontab set them.
    env: Vec<(String, String)>,
    jitter: Option<String>,
}

/// The jobs of one crontab.
#[derive(Debug, Clone)]
struct Imported {
    name: PathBuf,
    jobs: Vec<Job>,
}

/// The result of an import: the jobs of every crontab, and the notes for stderr.
#[derive(Debug, Clone)]
pub struct Conversion {
    files: Vec<Imported>,
    timezone: Option<Tz>,
    pub notes: Vec<Note>,
}

impl Conversion {
    /// The job names, in order.
    pub fn names(&self) -> Vec<String> {
        self.jobs().map(|j| j.name.clone()).collect()
    }

    fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.files.iter().flat_map(|f| f.jobs.iter())
    }

    /// A jobfile of its own: what every job shares goes to `[defaults]`.
    pub fn jobfile(&self) -> String {
        render::jobfile(self)
    }

    /// The `[jobs.NAME]` tables to append to an existing jobfile, every setting on each job.
    /// `shell_by_default`: that jobfile's `[defaults]` sets a shell, so commands to run
    /// directly say `shell = false`.
    pub fn tables(&self, shell_by_default: bool) -> String {
        render::tables(self, shell_by_default)
    }
}

/// Imports every crontab; all their errors at once, located, or the conversion.
pub fn import(crontabs: &[Crontab], options: &Options) -> Result<Conversion, Vec<Diagnostics>> {
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut failed = Vec::new();
    for crontab in crontabs {
        let mut reader = reader::Reader::new(crontab, options);
        reader.read();
        notes.append(&mut reader.notes);
        if reader.errors.is_empty() {
            files.push(Imported {
                name: crontab.name.clone(),
                jobs: reader.jobs,
            });
        } else {
            failed.push(diagnostics(crontab, &reader.errors));
        }
    }
    if !failed.is_empty() {
        return Err(failed);
    }
    let bases: Vec<(String, Option<String>)> = files
        .iter()
        .flat_map(|f| f.jobs.iter())
        .map(|j| match &j.run {
            Run::Argv(words) => naming::base_name(&words.join(" ")),
            Run::Shell { script, .. } => naming::base_name(script),
        })
        .collect();
    let mut names = naming::unique_names(&bases).into_iter();
    for job in files.iter_mut().flat_map(|f| f.jobs.iter_mut()) {
        job.name = names.next().unwrap_or_default();
    }
    Ok(Conversion {
        files,
        timezone: options.timezone,
        notes,
    })
}

/// Locates problems by line and column, as jobfile errors are.
fn diagnostics(crontab: &Crontab, problems: &[Problem]) -> Diagnostics {
    let text = &crontab.text;
    let shown = problems.len().min(crate::jobfile::MAX_DIAGNOSTICS);
    let errors = problems[..shown]
        .iter()
        .map(|p| {
            let start = p.span.start.min(text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
            let column = text[line_start..start].chars().count() + 1;
            let (source_line, source_column) =
                crate::jobfile::excerpt(text[line_start..line_end].trim_end_matches('\r'), column);
            Diagnostic {
                path: crontab.name.clone(),
                line: text[..start].matches('\n').count() + 1,
                column,
                span: start..p.span.end.clamp(start, text.len()),
                field: String::new(),
                message: p.message.clone(),
                help: p.help.clone(),
                source_line,
                source_column,
            }
        })
        .collect();
    Diagnostics {
        path: crontab.name.clone(),
        errors,
        omitted: problems.len() - shown,
    }
}

#[cfg(test)]
mod tests;
