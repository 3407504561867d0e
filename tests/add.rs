//! `jobrun add`: the new job is appended, everything else stays byte for byte; bad input
//! changes nothing; concurrent adds all land.

use crate::harness::{Test, assert_file, texts, unindent};

const EXISTING: &str = "# my jobs\n[defaults]\ntimezone = \"UTC\"   # keep this comment\n\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = [\"./report.sh\"]\n";

#[test]
fn appends_a_job_and_keeps_the_rest_of_the_file() {
    let test = Test::new().file("jobrun.toml", EXISTING).args([
        "add",
        "--name",
        "backup",
        "--cron",
        "0 3 * * *",
        "--tz",
        "Europe/Paris",
        "--timeout",
        "2h",
        "--",
        "pg_dump",
        "app",
    ]);
    let (out, err) = test.status(0);
    assert_eq!(err, "");
    assert!(
        out.starts_with("added job \"backup\" to jobrun.toml (next fire "),
        "{out}"
    );
    let text = test.read("jobrun.toml");
    assert!(
        text.starts_with(EXISTING),
        "the existing text must be untouched:\n{text}"
    );
    assert_eq!(
        &text[EXISTING.len()..],
        "\n[jobs.backup]\ncron = \"0 3 * * *\"\ncommand = [\"pg_dump\", \"app\"]\ntimezone = \"Europe/Paris\"\ntimeout = \"2h\"\n"
    );
    Test::new()
        .file("jobrun.toml", &text)
        .args(["check"])
        .status(0);
}

#[test]
fn without_a_name_the_command_names_the_job_and_a_clash_gets_a_suffix() {
    let test = Test::new().file("jobrun.toml", EXISTING).args([
        "add",
        "--every",
        "1h",
        "--",
        "./report.sh",
        "--weekly",
    ]);
    let (out, _) = test.status(0);
    assert!(out.starts_with("added job \"report-2\""), "{out}");
    assert!(
        test.read("jobrun.toml").ends_with(
            "[jobs.report-2]\nevery = \"1h\"\ncommand = [\"./report.sh\", \"--weekly\"]\n"
        )
    );
}

#[test]
fn with_no_jobfile_anywhere_it_creates_one_in_the_config_dir() {
    let test = Test::new().args([
        "add",
        "--name",
        "hello",
        "--at",
        "2099-01-01T00:00:00Z",
        "--",
        "echo",
        "hi",
    ]);
    let (out, _) = test.status(0);
    let created = test.path("home/.config/jobrun/jobrun.toml");
    assert!(
        out.starts_with(&format!("added job \"hello\" to {}", created.display())),
        "{out}"
    );
    assert_file(
        &created,
        Some("[jobs.hello]\nat = \"2099-01-01T00:00:00Z\"\ncommand = [\"echo\", \"hi\"]\n"),
    );
}

#[test]
fn shell_commands_are_stored_as_one_string() {
    let test = Test::new().args([
        "--jobfile",
        "j.toml",
        "add",
        "--name",
        "dump",
        "--cron",
        "@daily",
        "--shell",
        "--",
        "pg_dump app | gzip > /tmp/app.gz",
    ]);
    test.status(0);
    assert_file(
        &test.path("j.toml"),
        Some(
            "[jobs.dump]\ncron = \"@daily\"\ncommand = \"pg_dump app | gzip > /tmp/app.gz\"\nshell = true\n",
        ),
    );
}

#[test]
fn bad_input_is_refused_and_the_file_is_unchanged() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--name", "report", "--every", "1h"],
            "jobrun: error: job \"report\" already exists in jobrun.toml (line 5)\n",
        ),
        (
            &["--cron", "0 0 32 * *"],
            "jobrun: error: --cron: day-of-month value 32 is out of range (expected 1-31)\n",
        ),
        (
            &["--every", "5x"],
            "jobrun: error: --every: invalid duration \"5x\" (expected a number and a unit, largest first, like \"90s\", \"15m\", \"1h30m\", \"2d\"; units: w d h m s)\n",
        ),
        (
            &["--cron", "@daily", "--tz", "Europe/Pari"],
            "jobrun: error: --tz: unknown time zone \"Europe/Pari\" (did you mean \"Europe/Paris\"?)\n",
        ),
        (
            &["--at", "2026-03-08T02:30:00", "--tz", "America/New_York"],
            "jobrun: error: --at: 2026-03-08T02:30:00 does not exist in America/New_York (the clocks skip it for daylight saving time); pick a time outside the gap or give an offset\n",
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["add"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "true"]);
        let test = Test::new().file("jobrun.toml", EXISTING).args(args);
        let output = test.output();
        let (out, err) = texts(&output);
        assert_eq!(
            (output.status.code(), out.as_str(), err.as_str()),
            (Some(2), "", *expected),
            "{flags:?}"
        );
        assert_file(&test.path("jobrun.toml"), Some(EXISTING));
    }
}

#[test]
fn twenty_concurrent_adds_all_land_in_a_valid_file() {
    let test = Test::new().file("jobrun.toml", EXISTING);
    let runs: Vec<Vec<String>> = (0..20)
        .map(|i| {
            vec![
                "add".to_owned(),
                "--name".to_owned(),
                format!("job{i:02}"),
                "--every".to_owned(),
                format!("{}m", i + 1),
                "--".to_owned(),
                "echo".to_owned(),
                i.to_string(),
            ]
        })
        .collect();
    test.all_succeed_at_once(&runs);
    let text = test.read("jobrun.toml");
    assert!(text.starts_with(EXISTING));
    let (names, _) = Test::new()
        .file("jobrun.toml", &text)
        .args(["list", "--format", "plain"])
        .status(0);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort_unstable();
    let mut expected = vec!["report".to_owned()];
    expected.extend((0..20).map(|i| format!("job{i:02}")));
    expected.sort_unstable();
    assert_eq!(names, expected);
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(test.dir.path())
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "jobrun.toml")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn help_shows_examples() {
    let (out, _) = Test::new().args(["add", "--help"]).status(0);
    assert!(
        out.contains(
            &unindent("\n  jobrun add --cron '36 19 * * *' -- ./report.sh --daily\n")
                .trim_end()
                .to_owned()
        ),
        "{out}"
    );
}
