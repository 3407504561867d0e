//! The importer end to end on small crontabs: the jobfile text it writes, its notes and its
//! errors. The real crontabs of tests/data/crontab are checked by the integration tests.

use std::path::PathBuf;

use super::*;

fn crontab(text: &str, system: bool) -> Crontab {
    Crontab {
        name: PathBuf::from(if system { "/etc/cron.d/x" } else { "crontab" }),
        text: text.to_owned(),
        system,
    }
}

fn jobfile(text: &str, system: bool) -> String {
    let options = Options {
        timezone: None,
        home: Some("/home/me".into()),
    };
    match import(&[crontab(text, system)], &options) {
        Ok(c) => c.jobfile(),
        Err(e) => panic!("{}", e.iter().map(ToString::to_string).collect::<String>()),
    }
}

#[test]
fn a_user_crontab_becomes_a_jobfile() {
    let out = jobfile(
        "MAILTO=me\nPATH=/usr/bin:/bin\n# nightly\n# backup\n0 3 * * * pg_dump app | gzip > /b.gz\n\n@hourly /usr/bin/true\n",
        false,
    );
    assert_eq!(
        out,
        "[defaults]\nworkdir = \"/home/me\"\nenv = { PATH = \"/usr/bin:/bin\" }\n\n\
         # From crontab\n\n\
         # nightly\n# backup\n[jobs.pg_dump]\ncron = \"0 3 * * *\"\ncommand = \"pg_dump app | gzip > /b.gz\"\nshell = true\n\n\
         [jobs.true]\ncron = \"@hourly\"\ncommand = [\"/usr/bin/true\"]\n"
    );
}

fn errors(text: &str, system: bool) -> Vec<(usize, usize, String)> {
    let Err(files) = import(&[crontab(text, system)], &Options::default()) else {
        panic!("expected errors");
    };
    files[0]
        .errors
        .iter()
        .map(|d| (d.line, d.column, d.message.clone()))
        .collect()
}

#[test]
fn environment_settings_jobrun_cannot_keep_are_errors_at_their_value() {
    assert_eq!(
        errors(
            "SHELL=bash\nHOME=srv\nCRON_TZ=Mars/Olympus\nRANDOM_DELAY=soon\n",
            false
        ),
        [
            (1, 7, "SHELL=\"bash\" is not an absolute path".to_owned()),
            (2, 6, "HOME=\"srv\" is not an absolute path".to_owned()),
            (3, 9, "unknown time zone \"Mars/Olympus\"".to_owned()),
            (4, 14, "invalid RANDOM_DELAY \"soon\"".to_owned()),
        ]
    );
    assert_eq!(
        errors("* * * * * %input only\n", false),
        [(1, 11, "the command is empty".to_owned())]
    );
}

/// Found by the `crontab` fuzz target: the NUL went into the jobfile, which `check` refused.
#[test]
fn a_nul_byte_outside_a_comment_is_an_error_at_it() {
    let nul = "a NUL byte (\\0), which no command, argument or environment value can hold";
    assert_eq!(
        errors("# a\0 comment\n0 4 * * * echo a\0b\nX=y\0\n", false),
        [(2, 17, nul.to_owned()), (3, 4, nul.to_owned())]
    );
    assert_eq!(
        errors("0 4 * * * ro\0ot true\n", true),
        [(1, 13, nul.to_owned())]
    );
}

/// Found by the `crontab` fuzz target: a user column holding ':' went into `user`, which the
/// jobfile refuses.
#[test]
fn a_user_name_with_a_colon_is_an_error_at_it() {
    assert_eq!(
        errors("0 4 * * * root:x true\n", true),
        [(1, 11, "invalid user name \"root:x\"".to_owned())]
    );
}

#[test]
fn lines_cron_never_runs_are_left_out_with_a_warning_and_reboot_lines_kept() {
    let c = import(
        &[crontab(
            "0 0 30 2 * root echo never\n@reboot root echo boot\n",
            true,
        )],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(c.names(), ["echo"]);
    let notes: Vec<String> = c.notes.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        [
            "jobrun: warning: /etc/cron.d/x:1: line left out: its schedule \"0 0 30 2 *\" never fires (expression never fires: no February 30)",
        ]
    );
    assert_eq!(
        c.jobfile(),
        "# From /etc/cron.d/x\n\n[jobs.echo]\ncron = \"@reboot\"\ncommand = \"echo boot\"\nshell = true\nuser = \"root\"\n"
    );
}

#[test]
fn shared_settings_go_to_defaults_alone_and_to_each_job_when_appended() {
    let text =
        "CRON_TZ=Asia/Tokyo\nA=1\n0 1 * * * root /bin/true\nB=2\n0 2 * * * root /bin/false x\n";
    let options = Options {
        timezone: Some("Europe/Paris".parse().unwrap()),
        home: None,
    };
    let c = import(&[crontab(text, true)], &options).unwrap();
    assert_eq!(
        c.jobfile(),
        "[defaults]\ntimezone = \"Asia/Tokyo\"\nenv = { A = \"1\" }\n\n# From /etc/cron.d/x\n\n\
         [jobs.true]\ncron = \"0 1 * * *\"\ncommand = [\"/bin/true\"]\nuser = \"root\"\n\n\
         [jobs.false]\ncron = \"0 2 * * *\"\ncommand = [\"/bin/false\", \"x\"]\nuser = \"root\"\nenv = { B = \"2\" }\n"
    );
    assert_eq!(
        c.tables(true),
        "# From /etc/cron.d/x\n\n\
         [jobs.true]\ncron = \"0 1 * * *\"\ncommand = [\"/bin/true\"]\nshell = false\nuser = \"root\"\ntimezone = \"Asia/Tokyo\"\nenv = { A = \"1\" }\n\n\
         [jobs.false]\ncron = \"0 2 * * *\"\ncommand = [\"/bin/false\", \"x\"]\nshell = false\nuser = \"root\"\ntimezone = \"Asia/Tokyo\"\nenv = { A = \"1\", B = \"2\" }\n"
    );
}
