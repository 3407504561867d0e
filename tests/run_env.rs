//! Issue 12, finding 5: a run's environment is a clean, documented one, as under cron, whatever
//! the environment jobrun was started from; `inherit_env` lets more through on purpose.

use crate::harness::Test;

/// Runs `jobrun run env` for a job printing its environment, with `AWS_SECRET_ACCESS_KEY` and a
/// terminal's variables in jobrun's own environment; returns the lines `env` printed.
fn run_env(options: &str) -> Vec<String> {
    let test = Test::new()
        .file(
            "jobrun.toml",
            &format!("[jobs.env]\ncron = \"@daily\"\ncommand = [\"env\"]\n{options}\n"),
        )
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t")
        .env("AWS_REGION", "eu-west-3")
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env("JOBRUN_STATE_DIR", "state")
        .args(["run", "env"]);
    let (out, _) = test.status(0);
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn names(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .collect()
}

#[test]
fn a_run_gets_a_clean_environment_without_jobruns_secrets() {
    let lines = run_env("");
    assert_eq!(
        names(&lines),
        [
            "HOME",
            "JOBRUN_ATTEMPT",
            "JOBRUN_JOB",
            "JOBRUN_JOBFILE",
            "JOBRUN_RUN_ID",
            "JOBRUN_SCHEDULED_AT",
            "JOBRUN_STATE_DIR",
            "LANG",
            "LOGNAME",
            "PATH",
            "PWD",
            "SHELL",
            "TZ",
            "USER",
        ],
        "{lines:#?}"
    );
    let user = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .expect("the test's user has a password entry");
    assert!(lines.contains(&format!("HOME={}", user.dir.display())));
    assert!(lines.contains(&format!("USER={}", user.name)));
    assert!(lines.contains(&"SHELL=/bin/sh".to_owned()));
}

#[test]
fn inherit_env_passes_the_named_variables_or_all_of_them() {
    let lines = run_env("inherit_env = [\"AWS_R*\", \"TERM\"]");
    assert!(
        lines.contains(&"AWS_REGION=eu-west-3".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"TERM=xterm-256color".to_owned()),
        "{lines:#?}"
    );
    assert!(
        !names(&lines).contains(&"AWS_SECRET_ACCESS_KEY"),
        "{lines:#?}"
    );
    let all = run_env("inherit_env = true");
    assert!(
        all.contains(&"AWS_SECRET_ACCESS_KEY=s3cr3t".to_owned()),
        "{all:#?}"
    );
}

#[test]
fn inherit_env_in_defaults_applies_unless_the_job_sets_its_own() {
    let test = Test::new()
        .jobfile(
            r#"
            [defaults]
            inherit_env = ["TERM"]

            [jobs.a]
            cron = "@daily"
            command = ["sh", "-c", "echo ${TERM:-none} ${AWS_REGION:-none}"]

            [jobs.b]
            cron = "@daily"
            command = ["sh", "-c", "echo ${TERM:-none} ${AWS_REGION:-none}"]
            inherit_env = ["AWS_REGION"]
            "#,
        )
        .env("TERM", "dumb")
        .env("AWS_REGION", "eu-west-3");
    for (job, expected) in [("a", "dumb none\n"), ("b", "none eu-west-3\n")] {
        let output = test.command_with(&["run", job]).output().expect("run");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            expected,
            "job {job}"
        );
    }
}

#[test]
fn a_bad_inherit_env_is_refused_at_its_place() {
    Test::new()
        .jobfile(
            r#"
            [jobs.a]
            cron = "@daily"
            command = ["true"]
            inherit_env = ["AWS_*", "http-proxy"]
            "#,
        )
        .args(["check"])
        .expect(
            2,
            "",
            r#"
            jobrun: error: jobs.a.inherit_env[1]: expected a variable name or pattern like "AWS_*", found a string that is neither
              --> jobrun.toml:4:25
               |
             4 | inherit_env = ["AWS_*", "http-proxy"]
               |                         ^^^^^^^^^^^^
               = help: names are letters, digits and "_"; * stands for any run of them, ? for one
            "#,
        );
}

#[test]
fn a_relative_workdir_is_the_jobfiles_directory_whatever_path_names_the_jobfile() {
    let test = Test::new().file(
        "etc/jobrun.toml",
        "[jobs.here]\ncron = \"@daily\"\ncommand = [\"pwd\"]\n\n\
         [jobs.sub]\ncron = \"@daily\"\ncommand = [\"pwd\"]\nworkdir = \"reports\"\n",
    );
    std::fs::create_dir_all(test.path("etc/reports")).unwrap();
    let etc = test.path("etc").canonicalize().unwrap();
    // The jobfile named relative to jobrun's directory, absolutely, and through `..`.
    let absolute = test.path("etc/jobrun.toml").display().to_string();
    for jobfile in [
        "etc/jobrun.toml",
        absolute.as_str(),
        "etc/../etc/jobrun.toml",
    ] {
        for (job, expected) in [("here", etc.clone()), ("sub", etc.join("reports"))] {
            let output = test
                .command_with(&["--jobfile", jobfile, "run", job])
                .output()
                .unwrap();
            let (out, err) = crate::harness::texts(&output);
            assert_eq!(output.status.code(), Some(0), "{jobfile} {job}: {err}");
            let got = std::path::Path::new(out.trim()).canonicalize().unwrap();
            assert_eq!(got, expected, "{jobfile} {job}");
        }
    }
}
