//! The keys of a job (or `[defaults]`) that say what counts as failure and what follows a
//! run's end (issue 10): read here into [`OutcomeOptions`], then resolved, a job's own keys
//! over the defaults', into the job's [`Outcomes`].

use super::value::{Checker, Entry};
use crate::outcomes::Outcomes;

/// The keys read here, allowed in a job and in `[defaults]`.
pub(super) const KEYS: [&str; 2] = ["success_exit_codes", "fail_on_stderr"];

/// What one table (a job or `[defaults]`) sets; `None` when not set (or invalid).
#[derive(Debug, Default, Clone)]
pub(super) struct OutcomeOptions {
    success_exit_codes: Option<Vec<i32>>,
    fail_on_stderr: Option<bool>,
}

impl OutcomeOptions {
    /// A job's rules: its own keys, else the defaults', else jobrun's.
    pub(super) fn resolve(&self, defaults: &OutcomeOptions) -> Outcomes {
        let jobrun = Outcomes::default();
        Outcomes {
            success_exit_codes: self
                .success_exit_codes
                .clone()
                .or_else(|| defaults.success_exit_codes.clone())
                .unwrap_or(jobrun.success_exit_codes),
            fail_on_stderr: self
                .fail_on_stderr
                .or(defaults.fail_on_stderr)
                .unwrap_or(jobrun.fail_on_stderr),
        }
    }
}

impl Checker<'_> {
    /// Reads `e` into `options` if it is one of [`KEYS`].
    pub(super) fn outcome_option(&mut self, e: &Entry<'_>, options: &mut OutcomeOptions) -> bool {
        match e.key {
            "success_exit_codes" => options.success_exit_codes = self.exit_codes(e),
            "fail_on_stderr" => options.fail_on_stderr = self.boolean(e),
            _ => return false,
        }
        true
    }

    /// A non-empty array of exit codes, each 0 to 255.
    fn exit_codes(&mut self, e: &Entry<'_>) -> Option<Vec<i32>> {
        const EXPECTED: &str = "an array of exit codes like [0, 3]";
        if !e.item.is_array() {
            let help = e
                .item
                .as_integer()
                .map(|n| format!("write success_exit_codes = [{n}]"));
            self.wrong_type(e, EXPECTED, help);
            return None;
        }
        let mut codes = Vec::new();
        for element in e.item.elements() {
            match element.as_integer().map(u8::try_from) {
                Some(Ok(code)) => codes.push(i32::from(code)),
                Some(Err(_)) => {
                    let n = element.as_integer().unwrap_or_default();
                    self.error(
                        element.span(),
                        &e.field,
                        format!("exit code {n} is out of range (expected 0-255)"),
                        None,
                    );
                    return None;
                }
                None => {
                    self.error(
                        element.span(),
                        &e.field,
                        format!("expected an exit code, found {}", element.kind()),
                        None,
                    );
                    return None;
                }
            }
        }
        if codes.is_empty() {
            let help = Some("list at least one code, like [0]".to_owned());
            self.error(
                e.span.clone(),
                &e.field,
                "no exit code counts as success".into(),
                help,
            );
            return None;
        }
        Some(codes)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono_tz::Tz;

    use crate::outcomes::Outcomes;

    fn parse(text: &str) -> Result<Vec<crate::job::Job>, String> {
        crate::jobfile::parse(Path::new("jobrun.toml"), text, Tz::UTC)
            .map(|f| f.jobs)
            .map_err(|d| d.to_string())
    }

    const JOB: &str = "[jobs.j]\nevery = \"1m\"\ncommand = [\"true\"]\n";

    #[test]
    fn a_jobs_own_keys_override_the_defaults_which_override_jobruns() {
        let text = format!(
            "[defaults]\nsuccess_exit_codes = [0, 3]\nfail_on_stderr = true\n{JOB}\
             [jobs.k]\nevery = \"1m\"\ncommand = [\"true\"]\nsuccess_exit_codes = [1]\n"
        );
        let jobs = parse(&text).unwrap();
        let expected = |codes: Vec<i32>| Outcomes {
            success_exit_codes: codes,
            fail_on_stderr: true,
        };
        assert_eq!(jobs[0].outcomes, expected(vec![0, 3]));
        assert_eq!(jobs[1].outcomes, expected(vec![1]));
        assert_eq!(parse(JOB).unwrap()[0].outcomes, Outcomes::default());
    }

    #[test]
    fn bad_exit_codes_are_located_errors() {
        let cases = [
            (
                "success_exit_codes = 3",
                "expected an array of exit codes like [0, 3]",
            ),
            (
                "success_exit_codes = [0, 300]",
                "exit code 300 is out of range (expected 0-255)",
            ),
            (
                "success_exit_codes = [\"0\"]",
                "expected an exit code, found a string",
            ),
            ("success_exit_codes = []", "no exit code counts as success"),
            ("fail_on_stderr = \"yes\"", "expected true or false"),
            ("fail_on_stder = true", "did you mean \"fail_on_stderr\"?"),
        ];
        for (line, message) in cases {
            let error = parse(&format!("{JOB}{line}\n")).unwrap_err();
            assert!(error.contains(message), "{line}: {error}");
            assert!(error.contains("jobrun.toml:4:"), "{line}: {error}");
        }
    }
}
