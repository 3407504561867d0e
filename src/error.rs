//! The errors a command can end with, each with the message the user sees and its exit code:
//! 0 ok, 1 a runtime failure (I/O), 2 bad input (usage, jobfile, expressions).

use std::io;

use crate::jobfile::{EditError, JobfileError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Jobfile(#[from] JobfileError),

    #[error(transparent)]
    Edit(#[from] EditError),

    /// `jobrun import`: the crontabs' errors, each located (one `Diagnostics` per file).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Crontab(Vec<crate::jobfile::Diagnostics>),

    /// The state store cannot be opened, read or written (or another scheduler holds it).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),

    /// A command-line value that does not parse: `--from`, `--cron`, `--tz`…
    #[error("{flag}: {message}")]
    Argument { flag: &'static str, message: String },

    /// Names on the command line that the jobfile does not have.
    #[error("{}", unknown_jobs_message(names, path, suggestion.as_deref()))]
    UnknownJobs {
        names: Vec<String>,
        path: String,
        suggestion: Option<String>,
    },

    /// The scheduler could not do its own work (signals, timers, watching the jobfile).
    #[error("{0}")]
    Runtime(String),

    /// `jobrun run`: the job ran and ended with this code; nothing more to say.
    #[error("")]
    JobExit(i32),

    #[error("cannot write to standard output: {0}")]
    Output(#[source] io::Error),
}

fn unknown_jobs_message(names: &[String], path: &str, suggestion: Option<&str>) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let noun = if names.len() == 1 { "job" } else { "jobs" };
    let mut text = format!("no {noun} named {} in {path}", quoted.join(", "));
    if let Some(s) = suggestion {
        text.push_str(&format!(" (did you mean {s:?}?)"));
    }
    text
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Jobfile(e) => e.exit_code(),
            Error::Edit(e) => e.exit_code(),
            Error::Argument { .. } | Error::UnknownJobs { .. } | Error::Crontab(_) => 2,
            Error::Output(_) | Error::Runtime(_) | Error::Store(_) => 1,
            Error::JobExit(code) => *code,
        }
    }

    /// The complete text for stderr, ending in a newline. Jobfile diagnostics carry their own
    /// `jobrun: error:` lines (one per problem); everything else is one such line.
    pub fn render(&self) -> String {
        if matches!(self, Error::JobExit(_)) {
            return String::new();
        }
        let text = self.to_string();
        let text = text.trim_end_matches('\n');
        if text.starts_with("jobrun: ") {
            format!("{text}\n")
        } else {
            format!("jobrun: error: {text}\n")
        }
    }
}

/// The closest of `candidates` to `name`, if it is close enough to be a plausible typo.
///
/// Jaro-Winkler finds most typos, but on short names it only matches letters in the same
/// place, so it misses a swap (`cdm` for `cmd`): then one edit (a letter added, dropped,
/// changed, or two neighbours swapped) still counts.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .or_else(|| {
            candidates
                .iter()
                .map(|c| (strsim::osa_distance(name, c), *c))
                .filter(|(edits, c)| *edits == 1 && c.chars().count() > 1)
                .min_by_key(|(edits, _)| *edits)
                .map(|(_, c)| (0.0, c))
        })
        .map(|(_, c)| c.to_owned())
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn short_names_with_one_edit_are_suggested() {
        let jobs = ["cmd", "backup", "db"];
        assert_eq!(did_you_mean("cdm", jobs).as_deref(), Some("cmd"));
        assert_eq!(did_you_mean("bd", jobs).as_deref(), Some("db"));
        assert_eq!(did_you_mean("bakcup", jobs).as_deref(), Some("backup"));
        assert_eq!(did_you_mean("xyz", jobs), None);
    }
}
