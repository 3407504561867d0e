//! What a run's environment starts from, as cron starts a job's (issue 12): not jobrun's whole
//! environment, in which a secret of the shell that started jobrun (`AWS_SECRET_ACCESS_KEY`)
//! reached every job, and under which a job behaved differently from a terminal than from
//! systemd, but a documented one:
//!
//! - `PATH`: jobrun's, else [`DEFAULT_PATH`];
//! - `HOME`, `USER`, `LOGNAME` from the password database for the user jobrun runs as, and
//!   `SHELL=/bin/sh`, as cron sets them ([`identity`]);
//! - `LANG`, `LANGUAGE`, `LC_*` and `TZ` where jobrun has them, so a job reads and prints text
//!   and local times as the system does;
//! - jobrun's own `JOBRUN_*` variables (`JOBRUN_STATE_DIR`…), so a job that calls jobrun reaches
//!   the same store;
//! - whatever the job's `inherit_env` lets through.
//!
//! `child.rs` then adds `PWD`, the job's `env` and the run's `JOBRUN_*` facts on top.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::sync::OnceLock;

use crate::job::InheritEnv;

/// `PATH` when jobrun has none: systemd's default for services, so that a root job finds
/// `/usr/sbin` tools as it does in a unit (cron's `/usr/bin:/bin` does not).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The shell a run is told about in `SHELL`: the one `shell = true` runs, as cron says.
pub(super) const SHELL: &str = "/bin/sh";

/// jobrun's own environment and the identity of its user, read for a batch of spawns.
#[derive(Debug, Clone)]
pub struct BaseEnv {
    vars: Vec<(OsString, OsString)>,
    identity: &'static [(OsString, OsString)],
    /// What every run gets whatever its `inherit_env`: worked out once, not for every run (a
    /// pool turning over a thousand runs spent 3% of its instructions checking jobrun's
    /// variables' names again and again).
    passed: BTreeMap<OsString, OsString>,
}

impl BaseEnv {
    /// jobrun's environment now, and its user's identity (looked up once per process: a
    /// password database lookup may go over the network, and a run's start must not wait).
    pub fn capture() -> BaseEnv {
        static IDENTITY: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();
        let vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        let identity = IDENTITY.get_or_init(|| {
            let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
                .ok()
                .flatten();
            identity(user.as_ref(), &vars)
        });
        BaseEnv::new(vars, identity)
    }

    fn new(vars: Vec<(OsString, OsString)>, identity: &'static [(OsString, OsString)]) -> BaseEnv {
        let mut base = BaseEnv {
            vars,
            identity,
            passed: BTreeMap::new(),
        };
        base.passed = base.work_out_passed();
        base
    }

    /// The variables jobrun always passes on, `PATH` (a default one if need be), and the
    /// identity on top, so `HOME` and the rest always name the run's user.
    fn work_out_passed(&self) -> BTreeMap<OsString, OsString> {
        let mut env: BTreeMap<OsString, OsString> = self
            .vars
            .iter()
            .filter(|(name, _)| always_passed(name))
            .cloned()
            .collect();
        env.entry("PATH".into())
            .or_insert_with(|| DEFAULT_PATH.into());
        env.extend(self.identity.iter().cloned());
        env
    }

    /// Sets one of jobrun's own variables for every run, as if jobrun had been started with
    /// it: `--state-dir` becomes `JOBRUN_STATE_DIR`, so that a job calling jobrun reaches the
    /// same store.
    pub fn set(&mut self, name: &str, value: &std::ffi::OsStr) {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.into(), value.into()));
        self.passed = self.work_out_passed();
    }

    /// For tests: this environment, and this identity.
    #[cfg(test)]
    pub(crate) fn from_parts(
        vars: &[(&str, &str)],
        identity: &'static [(OsString, OsString)],
    ) -> BaseEnv {
        BaseEnv::new(
            vars.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            identity,
        )
    }

    /// The variables every run starts from, with those `inherit` lets through from jobrun's
    /// environment; the identity goes on top, so `HOME` and the rest always name the run's user.
    pub fn clean(&self, inherit: &InheritEnv) -> BTreeMap<OsString, OsString> {
        let mut env = self.passed.clone();
        if *inherit != InheritEnv::Nothing {
            for (name, value) in &self.vars {
                // Under what is there already: the identity stays on top.
                if name.to_str().is_some_and(|n| inherit.passes(n)) {
                    env.entry(name.clone()).or_insert_with(|| value.clone());
                }
            }
        }
        env
    }

    /// `HOME`, `USER`, `LOGNAME` and `SHELL` of the user jobrun runs as.
    pub fn identity(&self) -> &[(OsString, OsString)] {
        self.identity
    }
}

/// The variables that say who a run is: `HOME`, `USER` and `LOGNAME` from `user`'s password
/// entry, as cron sets them, and `SHELL=/bin/sh`. Without an entry (a container's arbitrary
/// uid), jobrun's own `HOME`, `USER` and `LOGNAME` stand in (from `fallback`), where set.
pub fn identity(
    user: Option<&nix::unistd::User>,
    fallback: &[(OsString, OsString)],
) -> Vec<(OsString, OsString)> {
    let mut vars: Vec<(OsString, OsString)> = match user {
        Some(user) => vec![
            ("HOME".into(), user.dir.clone().into_os_string()),
            ("USER".into(), user.name.clone().into()),
            ("LOGNAME".into(), user.name.clone().into()),
        ],
        None => fallback
            .iter()
            .filter(|(name, _)| ["HOME", "USER", "LOGNAME"].iter().any(|n| name == n))
            .cloned()
            .collect(),
    };
    vars.push(("SHELL".into(), SHELL.into()));
    vars
}

/// `PATH`, the locale, `TZ` and jobrun's own `JOBRUN_*`.
fn always_passed(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    matches!(name, "PATH" | "LANG" | "LANGUAGE" | "TZ")
        || name.starts_with("LC_")
        || name.starts_with("JOBRUN_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    fn names(env: &BTreeMap<OsString, OsString>) -> Vec<String> {
        env.iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect()
    }

    static ANN: OnceLock<Vec<(OsString, OsString)>> = OnceLock::new();

    fn ann() -> &'static [(OsString, OsString)] {
        ANN.get_or_init(|| {
            os(&[
                ("HOME", "/home/ann"),
                ("USER", "ann"),
                ("LOGNAME", "ann"),
                ("SHELL", "/bin/sh"),
            ])
        })
    }

    const JOBRUNS: &[(&str, &str)] = &[
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
        ("AWS_REGION", "eu-west-3"),
        ("HOME", "/root"),
        ("LANG", "fr_FR.UTF-8"),
        ("LC_TIME", "C"),
        ("PATH", "/opt/bin:/usr/bin"),
        ("JOBRUN_STATE_DIR", "/var/lib/jobrun"),
        ("TERM", "xterm-256color"),
        ("TZ", "Europe/Paris"),
        ("SSH_AUTH_SOCK", "/tmp/agent"),
    ];

    #[test]
    fn a_run_gets_the_documented_variables_and_no_secret() {
        let base = BaseEnv::from_parts(JOBRUNS, ann());
        assert_eq!(
            names(&base.clean(&InheritEnv::Nothing)),
            [
                "HOME=/home/ann",
                "JOBRUN_STATE_DIR=/var/lib/jobrun",
                "LANG=fr_FR.UTF-8",
                "LC_TIME=C",
                "LOGNAME=ann",
                "PATH=/opt/bin:/usr/bin",
                "SHELL=/bin/sh",
                "TZ=Europe/Paris",
                "USER=ann",
            ]
        );
    }

    #[test]
    fn inherit_env_lets_through_all_or_the_names_that_match() {
        let base = BaseEnv::from_parts(JOBRUNS, ann());
        let all = base.clean(&InheritEnv::All);
        assert_eq!(all.len(), JOBRUNS.len() + 3, "{:?}", names(&all));
        assert_eq!(all[OsStr::new("HOME")], "/home/ann", "the identity wins");
        let aws = base.clean(&InheritEnv::Matching(vec!["AWS_R*".into(), "TERM".into()]));
        assert!(aws.contains_key(OsStr::new("AWS_REGION")));
        assert!(aws.contains_key(OsStr::new("TERM")));
        assert!(!aws.contains_key(OsStr::new("AWS_SECRET_ACCESS_KEY")));
    }

    #[test]
    fn a_variable_set_for_every_run_replaces_jobruns_own_whatever_the_run_inherits() {
        let mut base = BaseEnv::from_parts(JOBRUNS, ann());
        base.set("JOBRUN_STATE_DIR", OsStr::new("/srv/state"));
        for inherit in [InheritEnv::Nothing, InheritEnv::All] {
            let env = base.clean(&inherit);
            assert_eq!(env[OsStr::new("JOBRUN_STATE_DIR")], "/srv/state");
        }
    }

    #[test]
    fn without_a_path_the_default_one_is_given() {
        let base = BaseEnv::from_parts(&[("LANG", "C")], ann());
        let env = base.clean(&InheritEnv::Nothing);
        assert_eq!(env[OsStr::new("PATH")], DEFAULT_PATH);
    }

    #[test]
    fn the_identity_comes_from_the_password_entry_or_else_jobruns_own() {
        let root = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(0))
            .unwrap()
            .expect("root has an entry");
        let fallback = os(&[
            ("HOME", "/elsewhere"),
            ("USER", "someone"),
            ("PATH", "/bin"),
        ]);
        assert_eq!(
            identity(Some(&root), &fallback),
            os(&[
                ("HOME", &root.dir.display().to_string()),
                ("USER", "root"),
                ("LOGNAME", "root"),
                ("SHELL", "/bin/sh"),
            ])
        );
        assert_eq!(
            identity(None, &fallback),
            os(&[
                ("HOME", "/elsewhere"),
                ("USER", "someone"),
                ("SHELL", "/bin/sh")
            ])
        );
    }
}
