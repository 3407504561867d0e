//! The jobfile as a whole: every malformed file in `tests/data/errors` renders exactly as its
//! `.stderr` twin, the design document's example loads with the values it promises, and edits
//! keep every byte they do not mean to change.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::*;
use crate::job::Command;
use crate::trigger::Trigger;
use crate::zone::Tz;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn parse_ok(text: &str) -> Jobfile {
    parse(Path::new("/etc/jobrun/jobrun.toml"), text, Tz::UTC).unwrap_or_else(|d| panic!("{d}"))
}

fn rendered_errors(text: &str) -> String {
    parse(Path::new("jobrun.toml"), text, Tz::UTC)
        .expect_err("should be invalid")
        .to_string()
}

#[test]
fn every_malformed_jobfile_renders_exactly_as_its_stderr_file() {
    let dir = repo_file("tests/data/errors");
    let mut cases: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let text = fs::read_to_string(case).unwrap();
        let expected = fs::read_to_string(case.with_extension("stderr"))
            .expect("every case has a .stderr file");
        match parse(Path::new("jobrun.toml"), &text, Tz::UTC) {
            Ok(_) => failures.push(format!("{}: loaded without error", case.display())),
            Err(d) if d.to_string() != expected => {
                failures.push(format!(
                    "{}:\n--- expected\n{expected}--- actual\n{d}---",
                    case.display()
                ));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_design_documents_example_loads_with_its_values() {
    let text = fs::read_to_string(repo_file("tests/data/design-example.toml")).unwrap();
    let file = parse(Path::new("jobrun.toml"), &text, Tz::UTC).unwrap_or_else(|d| panic!("{d}"));
    let taipei: Tz = "Asia/Taipei".parse().unwrap();
    assert_eq!(
        file.executors,
        [
            Executor {
                name: "default".into(),
                workers: 8
            },
            Executor {
                name: "heavy".into(),
                workers: 1
            }
        ]
    );
    let names: Vec<&str> = file.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(
        names,
        ["report", "backup", "poll", "launch", "weekday_mornings"]
    );

    let report = file.job("report").unwrap();
    assert_eq!(report.timezone, taipei);
    assert_eq!(report.trigger.describe(), "cron \"36 19 * * *\"");
    assert_eq!(
        report.command,
        Command::Argv(vec!["./report.sh".into(), "--daily".into()])
    );
    assert_eq!(report.workdir.as_deref(), Some(Path::new("/srv/reports")));
    assert_eq!(
        report.env.get("REPORT_DIR").map(String::as_str),
        Some("/srv/out")
    );
    assert_eq!(report.executor, "default");
    assert_eq!(report.misfire_grace.as_secs(), 300);
    assert!(report.coalesce);
    assert_eq!(report.max_instances, 1);
    assert_eq!(report.timeout.map(|d| d.as_secs()), Some(3600));
    assert_eq!(report.kill_after, crate::job::defaults::KILL_AFTER);
    assert_eq!(report.jitter, None);
    assert!(!report.paused);
    // 19:36 in Taipei (UTC+8) is 11:36 UTC.
    assert_eq!(
        report.next_after(utc("2026-12-01T00:00:00Z")),
        Some(utc("2026-12-01T11:36:00Z"))
    );

    let backup = file.job("backup").unwrap();
    assert_eq!(backup.timezone, "Europe/Paris".parse::<Tz>().unwrap());
    assert_eq!(
        backup.command,
        Command::Shell("pg_dump app | gzip > /backups/app.sql.gz".into())
    );
    assert_eq!(backup.executor, "heavy");
    assert_eq!(backup.timeout.map(|d| d.as_secs()), Some(7200));
    assert_eq!(backup.jitter.map(|d| d.as_secs()), Some(120));
    assert_eq!(
        backup.next_after(utc("2026-12-01T00:00:00Z")),
        Some(utc("2026-12-01T02:00:00Z"))
    );

    let poll = file.job("poll").unwrap();
    assert_eq!(poll.start, Some(utc("2026-12-01T00:00:00Z")));
    assert_eq!(poll.end, Some(utc("2027-01-01T00:00:00Z")));
    match &poll.trigger {
        Trigger::Every(every) => {
            assert_eq!(every.interval().as_secs(), 90);
            assert_eq!(every.anchor(), utc("2026-12-01T00:00:00Z"));
        }
        other => panic!("poll should be an every trigger, not {other:?}"),
    }

    let launch = file.job("launch").unwrap();
    assert_eq!(
        launch.trigger.describe(),
        "at 2026-12-24T10:00:00+00:00",
        "18:00 in Taipei"
    );

    let mornings = file.job("weekday_mornings").unwrap();
    assert!(mornings.paused);
    assert_eq!(
        mornings.trigger.describe(),
        "all(cron \"*/10 * * * *\", cron \"* 8-11 * * MON-FRI\")"
    );
}

#[test]
fn the_shipped_example_jobfile_loads() {
    let text = fs::read_to_string(repo_file("examples/jobrun.toml")).unwrap();
    assert_eq!(parse_ok(&text).jobs.len(), 7);
}

#[test]
fn jobs_without_a_zone_use_the_defaults_zone_then_the_callers() {
    let text = "[jobs.a]\nat = \"2026-12-24T18:00:00\"\ncommand = [\"x\"]\n";
    let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
    let file = parse(Path::new("j.toml"), text, tokyo).unwrap();
    assert_eq!(file.jobs[0].timezone, tokyo);
    assert_eq!(
        file.jobs[0].trigger.describe(),
        "at 2026-12-24T09:00:00+00:00"
    );
    let file = parse(
        Path::new("j.toml"),
        &format!("[defaults]\ntimezone = \"UTC\"\n{text}"),
        tokyo,
    )
    .unwrap();
    assert_eq!(file.jobs[0].timezone, Tz::UTC);
}

#[test]
fn relative_workdirs_are_resolved_against_the_jobfiles_directory() {
    let file = parse_ok(
        "[defaults]\nworkdir = \"out\"\n[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\n[jobs.b]\nevery = \"1h\"\ncommand = [\"x\"]\nworkdir = \"/abs\"\n",
    );
    assert_eq!(
        file.jobs[0].workdir.as_deref(),
        Some(Path::new("/etc/jobrun/out"))
    );
    assert_eq!(file.jobs[1].workdir.as_deref(), Some(Path::new("/abs")));
}

#[test]
fn the_jobs_env_is_merged_over_the_defaults_env() {
    let file = parse_ok(
        "[defaults.env]\nA = \"1\"\nB = \"1\"\n[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\nenv = { B = \"2\" }\n",
    );
    let env: Vec<(&str, &str)> = file.jobs[0]
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("A", "1"), ("B", "2")]);
}

#[test]
fn shell_may_name_a_path_and_a_jobs_own_shell_replaces_the_defaults() {
    let file = parse_ok(
        "[defaults]\nshell = \"/bin/bash\"\nuser = \"www-data\"\n\
         [jobs.a]\nevery = \"1h\"\ncommand = \"echo $0\"\nstdin = \"x\\ny\\n\"\n\
         [jobs.b]\nevery = \"1h\"\ncommand = \"echo $0\"\nshell = true\ngroup = \"adm\"\n\
         [jobs.c]\nevery = \"1h\"\ncommand = [\"x\"]\nshell = false\nuser = \"root\"\n",
    );
    let got: Vec<_> = file
        .jobs
        .iter()
        .map(|j| {
            (
                matches!(j.command, Command::Shell(_)),
                j.shell.as_deref(),
                j.stdin.as_deref(),
                j.user.as_deref(),
                j.group.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                true,
                Some("/bin/bash"),
                Some("x\ny\n"),
                Some("www-data"),
                None
            ),
            (true, None, None, Some("www-data"), Some("adm")),
            (false, None, None, Some("root"), None),
        ]
    );
}

#[test]
fn a_shell_that_is_not_an_absolute_path_is_an_error_and_the_command_stays_a_shell_one() {
    let errors = rendered_errors(
        "[jobs.a]\nevery = \"1h\"\ncommand = \"a | b\"\nshell = \"bash\"\nstdin = 1\nuser = \"\"\n",
    );
    assert_eq!(
        errors,
        "jobrun: error: jobs.a.shell: shell \"bash\" is not an absolute path\n  --> jobrun.toml:4:9\n   |\n 4 | shell = \"bash\"\n   |         ^^^^^^\n   \
         = help: write the full path, like \"/bin/bash\" (the shell is not looked up in PATH)\n\n\
         jobrun: error: jobs.a.stdin: expected text like \"line 1\\nline 2\\n\", found an integer\n  --> jobrun.toml:5:9\n   |\n 5 | stdin = 1\n   |         ^\n\n\
         jobrun: error: jobs.a.user: invalid user name \"\"\n  --> jobrun.toml:6:8\n   |\n 6 | user = \"\"\n   |        ^^\n\n\
         jobrun: 3 errors in jobrun.toml\n"
    );
}

#[test]
fn zero_timeout_and_jitter_switch_off_the_defaults() {
    let file = parse_ok(
        "[defaults]\ntimeout = \"1h\"\njitter = \"1m\"\n[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\ntimeout = \"0s\"\njitter = \"0s\"\n",
    );
    assert_eq!((file.jobs[0].timeout, file.jobs[0].jitter), (None, None));
}

#[test]
fn the_default_pool_exists_undeclared_and_comes_first() {
    let file = parse_ok(
        "[executors.heavy]\nworkers = 2\n[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\nexecutor = \"default\"\n",
    );
    let pools: Vec<(&str, u32)> = file
        .executors
        .iter()
        .map(|e| (e.name.as_str(), e.workers))
        .collect();
    assert_eq!(
        pools,
        [
            ("default", crate::job::defaults::UNDECLARED_POOL_WORKERS),
            ("heavy", 2)
        ]
    );
}

#[test]
fn parts_may_be_arrays_of_tables_and_nest_and_every_is_anchored_at_start() {
    let text = "[jobs.a]\ncommand = [\"x\"]\nstart = \"2026-12-01T00:00:07Z\"\n[[jobs.a.any]]\nevery = \"1h\"\n[[jobs.a.any]]\nall = [{ cron = \"0 12 * * *\" }, { at = 2026-12-02T12:00:00Z }]\n";
    let file = parse_ok(text);
    let job = &file.jobs[0];
    assert_eq!(
        job.trigger.describe(),
        "any(every 1h, all(cron \"0 12 * * *\", at 2026-12-02T12:00:00+00:00))"
    );
    assert_eq!(
        job.next_after(utc("2026-12-01T00:30:00Z")),
        Some(utc("2026-12-01T01:00:07Z"))
    );
}

#[test]
fn start_and_end_without_an_offset_are_wall_time_in_the_jobs_zone() {
    let text = "[jobs.a]\nevery = \"1h\"\ncommand = [\"x\"]\ntimezone = \"Europe/Paris\"\nstart = 2026-12-01T00:00:00\nend = \"2026-12-31 00:00\"\n";
    let job = &parse_ok(text).jobs[0];
    assert_eq!(job.start, Some(utc("2026-11-30T23:00:00Z")));
    assert_eq!(job.end, Some(utc("2026-12-30T23:00:00Z")));
}

#[test]
fn a_cron_token_with_escapes_in_its_string_marks_the_whole_value() {
    let out = rendered_errors("[jobs.a]\ncron = \"0 0 3\\u0032 * *\"\ncommand = [\"x\"]\n");
    assert!(
        out.contains(" 2 | cron = \"0 0 3\\u0032 * *\"\n   |        ^^^^^^^^^^^^^^^^^\n"),
        "{out}"
    );
}

#[test]
fn an_unknown_zone_does_not_cause_spurious_dst_errors() {
    let out = rendered_errors(
        "[jobs.a]\nat = \"2026-03-08T02:30:00\"\ntimezone = \"America/New_Yrok\"\ncommand = [\"x\"]\n",
    );
    assert!(
        out.starts_with("jobrun: error: jobs.a.timezone: unknown time zone"),
        "{out}"
    );
    assert!(!out.contains("does not exist"), "{out}");
}

#[test]
fn bytes_that_are_not_utf8_are_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobrun.toml");
    fs::write(&path, b"# caf\xe9\n").unwrap();
    let err = load(&path, Tz::UTC, &crate::trust::Trust::of_process(false)).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("the jobfile is not valid UTF-8\n"),
        "{err}"
    );
    assert!(err.to_string().contains(":1:6\n"), "{err}");
}

#[test]
fn a_missing_jobfile_is_named_with_what_to_do() {
    let err = load(
        Path::new("nope.toml"),
        Tz::UTC,
        &crate::trust::Trust::of_process(false),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "jobfile nope.toml does not exist (create it with `jobrun add`, or pass --jobfile PATH)"
    );
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn an_empty_jobfile_is_valid() {
    let file = parse_ok("# nothing yet\n");
    assert!(file.jobs.is_empty());
    assert_eq!(file.executors.len(), 1);
}

mod edits {
    use super::*;
    use crate::jobfile::new_job::tests::new_job;

    const COMMENTED: &str = "# my jobs\n[defaults]\ntimezone = \"UTC\"   # keep this comment\n\n[executors.heavy]\nworkers = 1\n\n# the report\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = [\"./report.sh\"]\n";

    fn jobfile_with(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobrun.toml");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn every(command: &[&str]) -> NewJob {
        new_job(NewTrigger::Every("1h".into()), command)
    }

    #[test]
    fn add_appends_a_table_and_keeps_every_other_byte() {
        let (_dir, path) = jobfile_with(COMMENTED);
        let mut job = new_job(NewTrigger::Cron("0 3 * * *".into()), &["pg_dump", "app"]);
        job.name = Some("backup".into());
        job.timezone = Some("Europe/Paris".into());
        job.executor = Some("heavy".into());
        job.env = vec![("PGHOST".into(), "db".into())];
        job.timeout = Some("2h".into());
        assert_eq!(add_job(&path, &job, Tz::UTC).unwrap(), "backup");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!(
                "{COMMENTED}\n[jobs.backup]\ncron = \"0 3 * * *\"\ncommand = [\"pg_dump\", \"app\"]\ntimezone = \"Europe/Paris\"\n\
                 executor = \"heavy\"\nenv = {{ PGHOST = \"db\" }}\ntimeout = \"2h\"\n"
            )
        );
    }

    #[test]
    fn add_then_remove_gives_back_the_original_bytes() {
        let (_dir, path) = jobfile_with(COMMENTED);
        let name = add_job(&path, &every(&["./report.sh", "--weekly"]), Tz::UTC).unwrap();
        assert_eq!(name, "report-2");
        remove_jobs(&path, &[name], Tz::UTC).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), COMMENTED);
    }

    #[test]
    fn add_creates_a_missing_file_and_its_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/jobrun/jobrun.toml");
        let mut job = new_job(
            NewTrigger::At("2099-01-01T00:00:00Z".into()),
            &["echo", "hi"],
        );
        job.shell = true;
        job.paused = true;
        assert_eq!(add_job(&path, &job, Tz::UTC).unwrap(), "echo");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[jobs.echo]\nat = \"2099-01-01T00:00:00Z\"\ncommand = \"echo hi\"\nshell = true\npaused = true\n"
        );
    }

    #[test]
    fn add_refuses_a_duplicate_name_with_its_line() {
        let (_dir, path) = jobfile_with(COMMENTED);
        let mut job = every(&["true"]);
        job.name = Some("report".into());
        let err = add_job(&path, &job, Tz::UTC).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "job \"report\" already exists in {} (line 9)",
                path.display()
            )
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), COMMENTED);
    }

    #[test]
    fn add_reports_bad_flags_and_leaves_a_missing_file_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/jobrun.toml");
        let mut job = every(&["true"]);
        job.timeout = Some("5x".into());
        let err = add_job(&path, &job, Tz::UTC).unwrap_err();
        assert!(
            matches!(
                err,
                EditError::Argument {
                    flag: "--timeout",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.exit_code(), 2);
        assert!(!path.exists() && !dir.path().join("sub").exists());
    }

    #[test]
    fn values_that_depend_on_the_file_are_reported_against_their_flag() {
        let (_dir, path) = jobfile_with(
            "[defaults]\ntimezone = \"America/New_York\"\n[executors.heavy]\nworkers = 1\n",
        );
        let mut job = every(&["true"]);
        job.executor = Some("hevy".into());
        let err = add_job(&path, &job, Tz::UTC).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--executor: unknown executor \"hevy\" (did you mean \"heavy\"?)"
        );
        let mut job = new_job(NewTrigger::At("2026-03-08T02:30:00".into()), &["true"]);
        job.end = Some("2020-01-01T00:00:00Z".into());
        let err = add_job(&path, &job, Tz::UTC).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--at: 2026-03-08T02:30:00 does not exist in America/New_York"),
            "{err}"
        );
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[defaults]\ntimezone = \"America/New_York\"\n[executors.heavy]\nworkers = 1\n"
        );
    }

    #[test]
    fn add_to_an_invalid_file_returns_its_diagnostics_and_changes_nothing() {
        let broken = "[jobs.a]\ncron = \"0 0 32 * *\"\ncommand = [\"x\"]\n";
        let (_dir, path) = jobfile_with(broken);
        let err = add_job(&path, &every(&["true"]), Tz::UTC).unwrap_err();
        assert!(matches!(err, EditError::Jobfile(JobfileError::Invalid(_))));
        assert!(
            err.to_string()
                .starts_with("jobrun: error: jobs.a.cron: day-of-month value 32"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
    }

    #[test]
    fn an_argv_job_added_under_a_shell_default_says_shell_false() {
        let (_dir, path) = jobfile_with("[defaults]\nshell = true\n");
        add_job(&path, &every(&["./poll.sh", "-q"]), Tz::UTC).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\n\n[jobs.poll]\nevery = \"1h\"\ncommand = [\"./poll.sh\", \"-q\"]\nshell = false\n"), "{text}");
        assert_eq!(
            parse_ok(&text).jobs[0].command,
            Command::Argv(vec!["./poll.sh".into(), "-q".into()])
        );
    }

    #[test]
    fn twenty_concurrent_adds_all_land() {
        let (_dir, path) = jobfile_with(COMMENTED);
        std::thread::scope(|scope| {
            for i in 0..20 {
                let path = &path;
                scope.spawn(move || {
                    let mut job = every(&["echo"]);
                    job.name = Some(format!("job{i:02}"));
                    add_job(path, &job, Tz::UTC).unwrap();
                });
            }
        });
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(COMMENTED));
        assert_eq!(parse_ok(&text).jobs.len(), 21);
    }

    const WITH_SUBTABLES: &str = "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n# the report\n# runs daily\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = [\"./report.sh\"]\n\n[jobs.report.env]\nDIR = \"/out\"\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n\n# a combination\n[jobs.ticks]\ncommand = [\"./tick\"]\n\n[[jobs.ticks.all]]\ncron = \"*/10 * * * *\"\n\n[[jobs.ticks.all]]\ncron = \"* 8-11 * * *\"\n\n# trailing notes\n";

    #[test]
    fn remove_takes_tables_sub_tables_and_attached_comments_and_nothing_else() {
        let (_dir, path) = jobfile_with(WITH_SUBTABLES);
        remove_jobs(&path, &["report".into(), "ticks".into()], Tz::UTC).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n\n# trailing notes\n"
        );
    }

    #[test]
    fn remove_with_an_unknown_name_changes_nothing() {
        let (_dir, path) = jobfile_with(WITH_SUBTABLES);
        let err = remove_jobs(&path, &["report".into(), "bakup".into()], Tz::UTC).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "no job named \"bakup\" in {} (did you mean \"backup\"?)",
                path.display()
            )
        );
        assert_eq!(err.exit_code(), 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), WITH_SUBTABLES);
    }

    #[test]
    fn remove_from_a_missing_file_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            dir.path().join("jobrun.toml"),
            dir.path().join("no/such/dir/jobrun.toml"),
        ] {
            let err = remove_jobs(&path, &["x".into()], Tz::UTC).unwrap_err();
            assert!(
                matches!(err, EditError::Jobfile(JobfileError::Missing { .. })),
                "{err}"
            );
            assert!(!path.exists());
        }
    }

    #[test]
    fn edits_of_jobs_inside_an_inline_jobs_table_are_refused() {
        let text = "jobs = { a = { every = \"1h\", command = [\"x\"] } }\n";
        let (_dir, path) = jobfile_with(text);
        assert!(matches!(
            remove_jobs(&path, &["a".into()], Tz::UTC),
            Err(EditError::InlineJobs { .. })
        ));
        assert!(matches!(
            add_job(&path, &every(&["y"]), Tz::UTC),
            Err(EditError::InlineJobs { .. })
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
}

mod properties {
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    use super::*;
    use crate::jobfile::edit::append_table;
    use crate::jobfile::new_job::tests::new_job;

    const BASE: &str = "# jobs\n[defaults]\ntimezone = \"UTC\"  # zone\n\n[jobs.first]\nevery = \"1h\"\ncommand = [\"true\"]\n";

    proptest! {
        #![proptest_config(Config { cases: 200, failure_persistence: None, ..Config::default() })]

        /// Whatever the words (quotes, backslashes, control characters, any script), the added
        /// table stores them exactly, and removing it gives back the file byte for byte. (Not
        /// NUL, which no argument or value can hold: validation refuses it, see issue 12.)
        #[test]
        fn an_added_job_keeps_its_words_and_removing_it_restores_the_file(
            words in prop::collection::vec("(?s)[^\\x00]*", 1..4).prop_filter("a program", |w| !w[0].is_empty()),
            env_value in "(?s)[^\\x00]*",
            shell in any::<bool>(),
        ) {
            let mut job = new_job(NewTrigger::Every("1h".into()), &[]);
            job.command = words.clone();
            job.shell = shell;
            job.env = vec![("VALUE".into(), env_value.clone())];
            prop_assume!(!job.command.join(" ").trim().is_empty());
            let text = append_table(BASE, &job.render("added", false));
            let file = parse(Path::new("jobrun.toml"), &text, Tz::UTC).map_err(|d| TestCaseError::fail(d.to_string()))?;
            let added = file.job("added").expect("the added job");
            let expected = if shell { Command::Shell(words.join(" ")) } else { Command::Argv(words) };
            prop_assert_eq!(&added.command, &expected);
            prop_assert_eq!(added.env.get("VALUE"), Some(&env_value));
            let removed = removal::without_jobs(&text, &["added"]);
            prop_assert_eq!(removed.as_deref(), Some(BASE));
        }
    }
}

#[test]
fn overlap_is_read_on_jobs_and_inherited_from_the_defaults() {
    use crate::job::Overlap;
    let file = parse_ok(
        "[defaults]\noverlap = \"queue\"\n\
         [jobs.a]\nevery = \"1m\"\ncommand = [\"a\"]\n\
         [jobs.b]\nevery = \"1m\"\ncommand = [\"b\"]\noverlap = \"replace\"\n",
    );
    assert_eq!(file.job("a").unwrap().overlap, Overlap::Queue);
    assert_eq!(file.job("b").unwrap().overlap, Overlap::Replace);
    let plain = parse_ok("[jobs.a]\nevery = \"1m\"\ncommand = [\"a\"]\n");
    assert_eq!(plain.job("a").unwrap().overlap, Overlap::Skip);
}

#[test]
fn reboot_is_a_trigger_of_its_own_in_any_case() {
    for spelling in ["@reboot", "@REBOOT", " @Reboot "] {
        let file = parse_ok(&format!(
            "[jobs.a]\ncron = \"{spelling}\"\ncommand = [\"a\"]\n"
        ));
        let job = file.job("a").unwrap();
        assert!(matches!(job.trigger, Trigger::Reboot), "{spelling}");
        assert_eq!(job.trigger.describe(), "at boot");
        assert_eq!(job.next_after(utc("2026-01-01T00:00:00Z")), None);
    }
}
