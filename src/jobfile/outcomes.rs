//! The keys of a job (or `[defaults]`) that say what counts as failure and what follows a
//! run's end (issue 10): read here into [`OutcomeOptions`], then resolved, a job's own keys
//! over the defaults', into the job's [`Outcomes`].

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use super::value::{Checker, Entry};
use crate::duration::Duration;
use crate::job::Command;
use crate::outcomes::Outcomes;

/// The keys read here, allowed in a job and in `[defaults]`.
pub(super) const KEYS: [&str; 9] = [
    "success_exit_codes",
    "fail_on_stderr",
    "on_failure",
    "on_success",
    "hook_timeout",
    "retries",
    "retry_delay",
    "retry_delay_max",
    "ping_url",
];

/// What one table (a job or `[defaults]`) sets; `None` when not set (or invalid).
#[derive(Debug, Default, Clone)]
pub(super) struct OutcomeOptions {
    success_exit_codes: Option<Vec<i32>>,
    fail_on_stderr: Option<bool>,
    on_failure: Option<Hook>,
    on_success: Option<Hook>,
    hook_timeout: Option<Duration>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    retry_delay_max: Option<Duration>,
    ping_url: Option<String>,
}

/// A hook as written: an array runs directly; a string needs the job's `shell`, which is only
/// known once the whole table is read.
#[derive(Debug, Clone)]
enum Hook {
    Argv(Vec<String>),
    Script {
        text: String,
        span: Range<usize>,
        field: String,
    },
}

impl OutcomeOptions {
    /// A job's rules: its own keys, else the defaults', else jobrun's. `shell` is the job's
    /// (a hook string runs with `/bin/sh -c` only when it is true). Jobs that set none of
    /// these share one value: ten thousand of them cost a pointer each.
    pub(super) fn resolve(
        &self,
        defaults: &OutcomeOptions,
        shell: Option<bool>,
        c: &mut Checker<'_>,
    ) -> Arc<Outcomes> {
        static JOBRUNS: LazyLock<Arc<Outcomes>> = LazyLock::new(Arc::default);
        let resolved = self.resolve_each(defaults, shell, c);
        if resolved == **JOBRUNS {
            Arc::clone(&JOBRUNS)
        } else {
            Arc::new(resolved)
        }
    }

    fn resolve_each(
        &self,
        defaults: &OutcomeOptions,
        shell: Option<bool>,
        c: &mut Checker<'_>,
    ) -> Outcomes {
        let jobrun = Outcomes::default();
        let mut hook = |own: &Option<Hook>, inherited: &Option<Hook>| {
            own.as_ref()
                .or(inherited.as_ref())
                .and_then(|h| h.command(shell, c))
        };
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
            on_failure: hook(&self.on_failure, &defaults.on_failure),
            on_success: hook(&self.on_success, &defaults.on_success),
            hook_timeout: self
                .hook_timeout
                .or(defaults.hook_timeout)
                .unwrap_or(jobrun.hook_timeout),
            retries: self.retries.or(defaults.retries).unwrap_or(jobrun.retries),
            retry_delay: self
                .retry_delay
                .or(defaults.retry_delay)
                .unwrap_or(jobrun.retry_delay),
            retry_delay_max: self
                .retry_delay_max
                .or(defaults.retry_delay_max)
                .unwrap_or(jobrun.retry_delay_max),
            ping_url: self.ping_url.clone().or_else(|| defaults.ping_url.clone()),
        }
    }
}

impl Hook {
    fn command(&self, shell: Option<bool>, c: &mut Checker<'_>) -> Option<Command> {
        match self {
            Hook::Argv(words) => Some(Command::Argv(words.clone())),
            Hook::Script { text, .. } if shell == Some(true) => Some(Command::Shell(text.clone())),
            Hook::Script { span, field, .. } => {
                c.errors.push(
                    c.source.diagnostic(
                        span.clone(),
                        field,
                        "a hook string needs shell = true".to_owned(),
                        Some(
                            "add shell = true to run it with /bin/sh -c, or write an array like \
                         [\"./notify\", \"--failed\"]"
                                .to_owned(),
                        ),
                    ),
                );
                None
            }
        }
    }
}

impl Checker<'_> {
    /// Reads `e` into `options` if it is one of [`KEYS`].
    pub(super) fn outcome_option(&mut self, e: &Entry<'_>, options: &mut OutcomeOptions) -> bool {
        match e.key {
            "success_exit_codes" => options.success_exit_codes = self.exit_codes(e),
            "fail_on_stderr" => options.fail_on_stderr = self.boolean(e),
            "on_failure" => options.on_failure = self.hook(e),
            "on_success" => options.on_success = self.hook(e),
            "hook_timeout" => options.hook_timeout = self.duration(e, "1m"),
            "retries" => options.retries = self.retries(e),
            "retry_delay" => options.retry_delay = self.duration(e, "30s"),
            "retry_delay_max" => options.retry_delay_max = self.duration(e, "10m"),
            "ping_url" => options.ping_url = self.ping_url(e),
            _ => return false,
        }
        true
    }

    /// A hook: a non-empty array of strings, or a string (checked against `shell` later).
    fn hook(&mut self, e: &Entry<'_>) -> Option<Hook> {
        const EXPECTED: &str = "a command like [\"./notify\", \"--failed\"]";
        if let Some(text) = e.item.as_str() {
            if text.trim().is_empty() {
                self.error(e.span.clone(), &e.field, "the hook is empty".into(), None);
                return None;
            }
            return Some(Hook::Script {
                text: text.to_owned(),
                span: e.span.clone(),
                field: e.field.to_string(),
            });
        }
        if !e.item.is_array() {
            self.wrong_type(e, EXPECTED, None);
            return None;
        }
        let words: Option<Vec<String>> = e
            .item
            .elements()
            .map(|w| w.as_str().map(str::to_owned))
            .collect();
        match words {
            Some(words) if !words.is_empty() => Some(Hook::Argv(words)),
            Some(_) => {
                self.error(e.span.clone(), &e.field, "the hook is empty".into(), None);
                None
            }
            None => {
                self.wrong_type(e, EXPECTED, Some("every word is a string".to_owned()));
                None
            }
        }
    }

    /// An http:// or https:// URL.
    fn ping_url(&mut self, e: &Entry<'_>) -> Option<String> {
        let url = self.string(e, "a URL like \"https://hc-ping.com/<uuid>\"")?;
        let host = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
        if host.is_none_or(str::is_empty) || url.contains(char::is_whitespace) {
            let help =
                Some("write the check's ping URL, like \"https://hc-ping.com/<uuid>\"".into());
            let message = "ping_url is not an http:// or https:// URL".to_owned();
            self.error(e.span.clone(), &e.field, message, help);
            return None;
        }
        Some(url.to_owned())
    }

    /// How many retries: 0 (none) up to 100.
    fn retries(&mut self, e: &Entry<'_>) -> Option<u32> {
        let Some(n) = e.item.as_integer() else {
            self.wrong_type(e, "a whole number like 3", None);
            return None;
        };
        match u32::try_from(n) {
            Ok(n) if n <= 100 => Some(n),
            _ => {
                let message = format!("retries must be between 0 and 100, found {n}");
                self.error(e.span.clone(), &e.field, message, None);
                None
            }
        }
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

    use crate::outcomes::Outcomes;
    use crate::zone::Tz;

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
            ..Outcomes::default()
        };
        assert_eq!(*jobs[0].outcomes, expected(vec![0, 3]));
        assert_eq!(*jobs[1].outcomes, expected(vec![1]));
        assert_eq!(*parse(JOB).unwrap()[0].outcomes, Outcomes::default());
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
            (
                "on_failure = \"mail root\"",
                "a hook string needs shell = true",
            ),
            ("on_failure = []", "the hook is empty"),
            (
                "on_success = [1]",
                "expected a command like [\"./notify\", \"--failed\"]",
            ),
            ("hook_timeout = 5", "durations need a unit"),
            (
                "retries = -1",
                "retries must be between 0 and 100, found -1",
            ),
            ("retries = \"3\"", "expected a whole number like 3"),
            ("retry_delay = 30", "durations need a unit"),
            (
                "ping_url = \"hc-ping.com/x\"",
                "ping_url is not an http:// or https:// URL",
            ),
            (
                "ping_url = \"https://\"",
                "ping_url is not an http:// or https:// URL",
            ),
        ];
        for (line, message) in cases {
            let error = parse(&format!("{JOB}{line}\n")).unwrap_err();
            assert!(error.contains(message), "{line}: {error}");
            assert!(error.contains("jobrun.toml:4:"), "{line}: {error}");
        }
    }

    #[test]
    fn hooks_are_arrays_or_strings_run_by_the_jobs_shell() {
        let text = format!(
            "[defaults]\non_failure = [\"notify\", \"--failed\"]\nhook_timeout = \"5s\"\n{JOB}\
             [jobs.k]\nevery = \"1m\"\ncommand = \"true\"\nshell = true\non_success = \"echo ok\"\n"
        );
        let jobs = parse(&text).unwrap();
        let argv = crate::job::Command::Argv(vec!["notify".into(), "--failed".into()]);
        assert_eq!(jobs[0].outcomes.on_failure.as_ref(), Some(&argv));
        assert_eq!(jobs[0].outcomes.on_success, None);
        assert_eq!(jobs[1].outcomes.on_failure.as_ref(), Some(&argv));
        assert_eq!(
            jobs[1].outcomes.on_success,
            Some(crate::job::Command::Shell("echo ok".into()))
        );
        assert_eq!(jobs[1].outcomes.hook_timeout.as_secs(), 5);
        assert_eq!(parse(JOB).unwrap()[0].outcomes.hook_timeout.as_secs(), 60);
    }
}
