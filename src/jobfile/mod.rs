//! The jobfile, jobrun's job store as the user writes it: a TOML file of `[defaults]`,
//! `[executors.NAME]` and `[jobs.NAME]` tables.
//!
//! - loading reads it into a lean spanned tree (`tree.rs`) and turns that into typed [`Job`]s
//!   and [`Executor`]s, or into [`Diagnostics`]: every problem of the file at once, each at its
//!   line and column (`validate.rs`, `trigger.rs`, `chain.rs`, `command.rs`, `value.rs`;
//!   rendered by `diagnostic.rs`);
//! - `jobrun check` also asks the system about `user` and `group` (`accounts.rs`);
//! - editing (`jobrun add` / `remove` / `pause` / `resume`) changes only the bytes it must
//!   (`edit.rs`, `new_job.rs`, `removal.rs`, `pause.rs`).
//!
//! Nothing here reads the environment or the clock: the caller passes the zone that stands for
//! "local" when neither a job nor `[defaults]` names one.

mod accounts;
mod chain;
mod command;
mod diagnostic;
mod edit;
mod inherit;
mod new_job;
mod outcomes;
mod pause;
mod read;
mod removal;
mod store_section;
mod tree;
mod trigger;
mod validate;
mod value;

#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};

use toml_edit::Document;

use tree::Tree;

pub use accounts::{AccountKey, check_accounts};
pub use chain::ChainPreview;
pub use diagnostic::{Diagnostic, Diagnostics, MAX_DIAGNOSTICS};
pub use edit::{EditError, add_job, append_jobs, remove_jobs};
pub use new_job::{NewJob, NewTrigger};
pub use pause::{PauseChange, set_paused};
// The keys a jobfile may hold, for the reference that documents them (src/manual/).
pub use read::MAX_JOBFILE_BYTES;
#[cfg(test)]
pub(crate) use store_section::STORE_KEYS;
pub use store_section::StoreSettings;
#[cfg(test)]
pub(crate) use validate::{JOB_KEYS, OPTION_KEYS};
pub use value::is_env_name;
// Crontab diagnostics (src/import/) show their lines the way jobfile ones do.
pub(crate) use diagnostic::excerpt;

use read::read_text;

use crate::job::{Executor, Job};
use crate::trust::{Refusal, Trust};
use crate::zone::Tz;

/// A valid jobfile.
#[derive(Debug, Clone)]
pub struct Jobfile {
    /// The file, as the user named it.
    pub path: PathBuf,
    /// The declared pools in file order; `default` comes first when it is not declared.
    pub executors: Vec<Executor>,
    /// In file order.
    pub jobs: Vec<Job>,
    /// `[store]`: the state store its schedulers share, if it names one.
    pub store: StoreSettings,
}

impl Jobfile {
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobfileError {
    #[error("jobfile {} does not exist (create it with `jobrun add`, or pass --jobfile PATH)", .path.display())]
    Missing { path: PathBuf },

    #[error("cannot read jobfile {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },

    /// A device, FIFO, socket or directory (through a symlink or not): reading `/dev/zero`
    /// would never end, and opening a FIFO would wait for a writer.
    #[error("jobfile {} is {kind}, not a regular file", .path.display())]
    NotAFile { path: PathBuf, kind: &'static str },

    #[error(
        "jobfile {} is {size} bytes, more than the {} MiB a jobfile may have",
        .path.display(),
        MAX_JOBFILE_BYTES / 1024 / 1024
    )]
    TooLarge { path: PathBuf, size: u64 },

    /// As root, a jobfile that someone else than root can change (see `trust.rs`).
    #[error(
        "refusing jobfile {}: {refusal}; as root, jobrun runs only a jobfile that nobody else \
         can change, as cron does\n  = help: {}pass {} (or set {}=1) to run it anyway",
        .path.display(),
        .refusal.fix().map(|fix| format!("fix it with `{fix}`, or ")).unwrap_or_default(),
        crate::trust::TRUST_JOBFILE_FLAG,
        crate::trust::TRUST_JOBFILE_ENV
    )]
    Untrusted { path: PathBuf, refusal: Refusal },

    /// Renders as the diagnostics themselves, `jobrun: error:` lines included.
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl JobfileError {
    /// 1 when the file could not be read, 2 when it is missing or invalid (bad input).
    pub fn exit_code(&self) -> i32 {
        match self {
            JobfileError::Io { .. } => 1,
            JobfileError::Missing { .. }
            | JobfileError::Invalid(_)
            | JobfileError::NotAFile { .. }
            | JobfileError::TooLarge { .. }
            | JobfileError::Untrusted { .. } => 2,
        }
    }
}

/// Reads and validates the jobfile at `path`: a regular file of at most [`MAX_JOBFILE_BYTES`],
/// which as root (unless `trust` says otherwise) nobody but root can change.
pub fn load(path: &Path, local_tz: Tz, trust: &Trust) -> Result<Jobfile, JobfileError> {
    let trust = trust.checks_jobfile().then_some(trust);
    let text =
        read_text(path, trust)?.ok_or_else(|| JobfileError::Missing { path: path.into() })?;
    // The local zone is read again too, so that a reload picks up updated tz data for jobs
    // that name no zone; if its file became unusable, the rules read before still serve.
    let local_tz = local_tz.name().parse().unwrap_or(local_tz);
    parse(path, &text, local_tz).map_err(JobfileError::Invalid)
}

/// Validates jobfile text; `path` is only used in messages and to resolve relative `workdir`s.
pub fn parse(path: &Path, text: &str, local_tz: Tz) -> Result<Jobfile, Diagnostics> {
    let source = diagnostic::SourceFile::new(path, text);
    let invalid = |errors| Diagnostics {
        path: path.into(),
        errors,
        omitted: 0,
    };
    if u32::try_from(text.len()).is_err() {
        let message = "the jobfile is larger than 4 GiB".to_owned();
        return Err(invalid(vec![source.diagnostic(0..0, "", message, None)]));
    }
    let tree = Tree::parse(text).map_err(|(span, message)| {
        invalid(vec![validate::syntax_error(&source, span, &message)])
    })?;
    let (executors, jobs, store) = validate::validate(&source, &tree, path, local_tz)?;
    Ok(Jobfile {
        path: path.into(),
        executors,
        jobs,
        store,
    })
}

/// See `crate::fuzzing`.
#[cfg(fuzzing)]
pub(crate) fn tree_against_toml_edit(text: &str, chunk: usize) -> Result<(), String> {
    tree::compare::compare(text, chunk)
}

/// [`parse`], also returning toml_edit's spanned document for edits.
fn parse_document<'t>(
    path: &Path,
    text: &'t str,
    local_tz: Tz,
) -> Result<(Jobfile, Document<&'t str>), Diagnostics> {
    let jobfile = parse(path, text, local_tz)?;
    let doc = Document::parse(text).map_err(|e| Diagnostics {
        path: path.into(),
        errors: vec![validate::syntax_error(
            &diagnostic::SourceFile::new(path, text),
            e.span(),
            e.message(),
        )],
        omitted: 0,
    })?;
    Ok((jobfile, doc))
}

/// The longest job name: names are typed on the command line, printed in every log line and
/// passed to every run in `JOBRUN_JOB`, where a 1M-character name made each spawn fail with
/// E2BIG (issue 12). 128 leaves room for names made from commands or crontab lines.
pub const MAX_JOB_NAME: usize = 128;

/// Job names are used on the command line, so they are kept to `[A-Za-z0-9_-]+`, at most
/// [`MAX_JOB_NAME`] characters.
pub fn is_job_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_JOB_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A valid job name close to `raw`: other characters become `-` (one for a run), `-` is
/// trimmed from the ends, and `job` stands in for nothing.
pub fn suggested_job_name(raw: &str) -> String {
    let mut name = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    // Room for the "-2", "-3"… that `jobrun add` appends to a name that is taken.
    name.truncate(MAX_JOB_NAME - 8);
    let name = name.trim_matches('-');
    if name.is_empty() {
        "job".to_owned()
    } else {
        name.to_owned()
    }
}
