//! Commands that are valid but will not do what they look like: a lone argv word holding
//! shell syntax (`['tar czf x.tgz ~/docs > /dev/null']`, which runs as a program of that
//! whole name and fails with 127 every time), and a program the run will not find. `add`
//! refuses the first; `check` warns about both.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::executor::{self, BaseEnv, Launch, SpawnError};
use crate::job::{Command, Job};

/// Characters that mean something to a shell and nothing to `execve`.
const SHELL_SYNTAX: [char; 14] = [
    '|', '&', ';', '<', '>', '$', '`', '*', '?', '~', '(', ')', '"', '\'',
];

/// Why a one-word argv command is most likely a shell command written as one word: `None`
/// when it looks like a real program name (a path without spaces, or a file that exists).
pub(super) fn lone_shell_word(words: &[String], base_dir: &Path) -> Option<String> {
    let [word] = words else { return None };
    if !word.contains(char::is_whitespace) || base_dir.join(word).exists() {
        return None;
    }
    let found: Vec<String> = SHELL_SYNTAX
        .iter()
        .filter(|c| word.contains(**c))
        .map(|c| format!("{c:?}"))
        .collect();
    Some(if found.is_empty() {
        format!(
            "the command is one word with spaces in it ({word:?}), run as a program of that whole name"
        )
    } else {
        format!(
            "the command is one word holding shell syntax ({}), run as a program of that whole name, not by a shell",
            found.join(", ")
        )
    })
}

/// What `check` has to say about a job that loads fine but will not run as written, or
/// `None`. Uses the executor's own preparation (working directory, program lookup in the
/// run's `PATH`), so the answer is the one a run would get.
pub(super) fn job_warning(
    job: &Job,
    jobfile: &Path,
    base_dir: &Path,
    base_env: &BaseEnv,
    now: DateTime<Utc>,
) -> Option<String> {
    if let Command::Argv(words) = &job.command
        && let Some(why) = lone_shell_word(words, base_dir)
    {
        return Some(format!(
            "jobs.{}.command: {why}; write it as a string with shell = true, or as separate words",
            job.name
        ));
    }
    let launch = Launch {
        job,
        scheduled_at: now,
        run_id: "check",
        jobfile,
        base_dir,
        after_run_id: None,
    };
    match executor::prepare(&launch, base_env) {
        Err(SpawnError::Program { program, source }) => {
            let why = match source.kind() {
                std::io::ErrorKind::NotFound => "is not on the run's PATH".to_owned(),
                std::io::ErrorKind::PermissionDenied => {
                    "is on the run's PATH but may not be executed".to_owned()
                }
                _ => format!("cannot be run: {source}"),
            };
            Some(format!("jobs.{}.command: {program:?} {why}", job.name))
        }
        Err(e @ (SpawnError::WorkdirMissing { .. } | SpawnError::WorkdirNotDirectory { .. })) => {
            Some(format!("jobs.{}.workdir: {e}", job.name))
        }
        Ok(_) => {
            // A program given as a path is executed as it is; say so now if it is not there.
            let program = match &job.command {
                Command::Argv(words) => words.first().filter(|p| p.contains('/')),
                Command::Shell(_) => None,
            }?;
            let workdir = job
                .workdir
                .as_ref()
                .map_or_else(|| base_dir.to_path_buf(), |w| base_dir.join(w));
            (!workdir.join(program).exists()).then(|| {
                format!(
                    "jobs.{}.command: {program:?} does not exist (seen from {})",
                    job.name,
                    workdir.display()
                )
            })
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn one_word_with_shell_syntax_is_caught_and_real_programs_are_not() {
        let here = Path::new("/");
        let why = lone_shell_word(
            &words(&["tar czf /tmp/x.tgz ~/docs > /dev/null 2>&1"]),
            here,
        )
        .unwrap();
        assert!(why.contains(r#"('&', '>', '~')"#), "{why}");
        assert!(lone_shell_word(&words(&["ls -la"]), here).is_some());
        assert_eq!(lone_shell_word(&words(&["./report.sh"]), here), None);
        assert_eq!(lone_shell_word(&words(&["ls", "-la > x"]), here), None);
    }
}
