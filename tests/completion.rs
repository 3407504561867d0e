//! Shell completion through the real path: bash loads the checked-in script, asks for the
//! candidates of a partly typed command line, and the script calls the real binary back.

use std::path::Path;
use std::process::Command;

use crate::harness::{BIN, Test};

const JOBS: &str = r#"
    [jobs.backup]
    cron = "0 3 * * *"
    command = ["true"]

    [jobs.report]
    every = "1h"
    command = ["true"]
"#;

/// What bash's completion function for jobrun offers for `words`, the last one being the
/// word under the cursor, run in the test's directory; options (which clap offers beside
/// values when the word is empty) left out.
fn bash_candidates(test: &Test, words: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/jobrun.bash");
    let bin_dir = Path::new(BIN).parent().expect("binary's directory");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        r#"source "$1"
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_TYPE=9
_clap_complete_jobrun jobrun "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    let output = Command::new("bash")
        .args(["--norc", "-c", &program, "bash"])
        .arg(script)
        .current_dir(test.dir.path())
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", test.path("home"))
        .env("TZ", "UTC")
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_job_names_of_the_jobfile_found_in_the_current_directory() {
    let test = Test::new().jobfile(JOBS);
    for command in [
        "run", "next", "pause", "resume", "remove", "history", "explain",
    ] {
        assert_eq!(
            bash_candidates(&test, &["jobrun", command, ""]),
            ["backup", "report"],
            "jobrun {command} <TAB>"
        );
    }
    assert_eq!(bash_candidates(&test, &["jobrun", "run", "re"]), ["report"]);
}

#[test]
fn bash_completes_job_names_of_the_jobfile_the_command_line_names() {
    let test = Test::new().jobfile(JOBS).file(
        "other.toml",
        "[jobs.elsewhere]\nevery = \"1m\"\ncommand = [\"true\"]\n",
    );
    assert_eq!(
        bash_candidates(&test, &["jobrun", "--jobfile", "other.toml", "pause", ""]),
        ["elsewhere"]
    );
    assert_eq!(
        bash_candidates(&test, &["jobrun", "history", "--jobfile=other.toml", ""]),
        ["elsewhere"]
    );
}

#[test]
fn bash_completes_zone_names_and_subcommands() {
    let test = Test::new();
    assert_eq!(
        bash_candidates(
            &test,
            &["jobrun", "next", "--cron", "@daily", "--tz", "America/New_"]
        ),
        ["America/New_York"]
    );
    assert_eq!(bash_candidates(&test, &["jobrun", "pa"]), ["pause"]);
    // No jobfile here: no names, and no error either.
    assert_eq!(
        bash_candidates(&test, &["jobrun", "run", ""]),
        Vec::<String>::new()
    );
}
