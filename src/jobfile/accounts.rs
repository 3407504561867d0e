//! The `user` and `group` keys against the running system: whether each name exists, and
//! whether jobrun, as the user it runs as, may run jobs as it. Loading never asks (the loader
//! reads no system state, so `next` and `list` work on any machine); `jobrun check` does,
//! through a verdict it passes in, and reports each refusal at its key like any other error.

use std::path::Path;

use super::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use super::tree::Tree;
use super::value::{Field, entries};
use super::{JobfileError, read_text};

/// Which key a name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKey {
    User,
    Group,
}

/// Asks `verdict` about every `user` and `group` in `[defaults]` and in the jobs of the
/// (already valid) jobfile at `path`; every refusal is a diagnostic at the value.
pub fn check_accounts(
    path: &Path,
    verdict: impl Fn(AccountKey, &str) -> Result<(), String>,
) -> Result<(), JobfileError> {
    let text = read_text(path, None)?.ok_or_else(|| JobfileError::Missing { path: path.into() })?;
    let source = SourceFile::new(path, &text);
    let errors = match Tree::parse(&text) {
        Ok(tree) => refusals(&source, &tree, &verdict),
        // `load` has already reported the file's own errors.
        Err(_) => Vec::new(),
    };
    if errors.is_empty() {
        return Ok(());
    }
    Err(JobfileError::Invalid(Diagnostics {
        path: path.into(),
        errors,
        // One refusal per user or group key: as many as the jobfile has, all shown.
        omitted: 0,
    }))
}

fn refusals(
    source: &SourceFile<'_>,
    tree: &Tree<'_>,
    verdict: &impl Fn(AccountKey, &str) -> Result<(), String>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut check_table = |table: &super::value::Entry<'_>| {
        for e in entries(table.item, &table.field) {
            let key = match e.key {
                "user" => AccountKey::User,
                "group" => AccountKey::Group,
                _ => continue,
            };
            let Some(name) = e.item.as_str() else {
                continue;
            };
            if let Err(message) = verdict(key, name) {
                let field = e.field.to_string();
                errors.push(source.diagnostic(e.span.clone(), &field, message, None));
            }
        }
    };
    for top in entries(tree.root(), &Field::Root) {
        match top.key {
            "defaults" => check_table(&top),
            "jobs" => {
                for job in entries(top.item, &top.field) {
                    check_table(&job);
                }
            }
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOBFILE: &str = r#"
[defaults]
group = "staff"

[jobs.a]
every = "1h"
command = ["true"]
user = "alice"

[jobs.b]
every = "1h"
command = ["true"]
user = "root"
group = "wheel"
"#;

    /// A system where jobrun runs as alice in group staff, and wheel does not exist.
    fn as_alice(key: AccountKey, name: &str) -> Result<(), String> {
        match (key, name) {
            (AccountKey::User, "alice") | (AccountKey::Group, "staff") => Ok(()),
            (AccountKey::Group, "wheel") => Err("no group named \"wheel\"".into()),
            (_, other) => Err(format!("not root, cannot run jobs as {other:?}")),
        }
    }

    #[test]
    fn every_refused_name_is_reported_at_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        std::fs::write(&path, JOBFILE).unwrap();
        let Err(JobfileError::Invalid(d)) = check_accounts(&path, as_alice) else {
            panic!("expected diagnostics");
        };
        let found: Vec<(usize, usize, &str, &str)> = d
            .errors
            .iter()
            .map(|e| (e.line, e.column, e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    13,
                    8,
                    "jobs.b.user",
                    "not root, cannot run jobs as \"root\""
                ),
                (14, 9, "jobs.b.group", "no group named \"wheel\""),
            ]
        );
        assert!(check_accounts(&path, |_, _| Ok(())).is_ok());
    }
}
