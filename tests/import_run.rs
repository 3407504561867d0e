//! What imported jobs do, not only how they read: `jobrun run` of an imported line prints what
//! `sh -c` prints for the command cron would have run, with the same environment and input;
//! `user` switches identity when jobrun is root and is refused by `check` otherwise; `--write`
//! appends through the locked, validated edit and leaves the jobfile as it was on any error;
//! malformed crontabs report every error at once, at file:line:column.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use crate::harness::{Test, assert_file, unindent};
use crate::import::{data, own_home};

/// The jobfile `jobrun import` makes of a crontab file in the test's directory.
fn import_into(test: &Test, args: &[&str]) -> String {
    let output = test.command_with(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Runs `command` with `input` on its stdin; its stdout and stderr are captured.
fn output_with_input(mut command: Command, input: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// What `shell -c script` prints, run in `dir` with `input` on stdin and only PATH and `env`
/// in its environment.
fn shell_prints(shell: &str, script: &str, input: &str, env: &[(&str, &str)], dir: &str) -> String {
    let mut command = Command::new(shell);
    command
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(dir);
    let output = output_with_input(command, input);
    assert!(output.status.success(), "{script}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The variables rules.crontab sets before its jobs (MAILTO and MAILFROM configure cron's
/// mail and are not passed on).
const CRONTAB_ENV: &[(&str, &str)] = &[
    ("GREETING", "hello,  world"),
    ("QUOTED", "single quotes: # not a comment"),
    ("INNER", "say \"hi\""),
    ("EMPTY", ""),
];

/// How cron runs one line: `shell -c script` in `dir`, `input` on stdin, `env` set.
struct ByCron {
    job: &'static str,
    shell: &'static str,
    script: &'static str,
    input: &'static str,
    env: &'static [(&'static str, &'static str)],
    dir: String,
}

#[test]
fn imported_commands_print_what_sh_c_prints_for_the_command_cron_runs() {
    let setup = Test::new().file("rules.crontab", &data("user/rules.crontab"));
    let jobfile = import_into(&setup, &["import", "rules.crontab"]);
    let test = Test::new().file("jobrun.toml", &jobfile);
    let home = own_home();
    // Each line of rules.crontab as cron runs it, read by hand from crontab(5): the shell,
    // the command before the first unescaped %, the input after it, the variables set above
    // it, the directory (HOME).
    let sh = |job, script, input, env: &'static [(&'static str, &'static str)], dir: &str| ByCron {
        job,
        shell: "/bin/sh",
        script,
        input,
        env,
        dir: dir.to_owned(),
    };
    let mut cases = vec![
        sh(
            "echo-sure",
            "/bin/echo plain words 100% sure",
            "",
            &[],
            &home,
        ),
        sh(
            "printf",
            r#"printf '[%s] [%s] [%s]\n' "$GREETING" "$QUOTED" "$INNER" | tr a-z A-Z"#,
            "",
            CRONTAB_ENV,
            &home,
        ),
        sh(
            "cat",
            "cat -n",
            "Dear team,\n\nthe report is ready.\n",
            &[],
            &home,
        ),
        sh("sed", "sed 's/^/> /'", "50% done\n100% done\n", &[], &home),
        sh("wc", "wc -c", "", &[], &home),
        sh("printf-2", r"printf 'a\tb\n'", "", &[], &home),
        sh("echo-either", "echo either", "", &[], &home),
        sh("pwd", "pwd", "", &[], "/tmp"),
        sh(
            "echo",
            r#"echo "TZ is $TZ""#,
            "",
            &[("TZ", "Asia/Tokyo")],
            "/tmp",
        ),
    ];
    cases.push(ByCron {
        shell: "/bin/bash",
        ..sh("echo-5", r#"echo "${GREETING^^}""#, "", CRONTAB_ENV, "/tmp")
    });
    for ByCron {
        job,
        shell,
        script,
        input,
        env,
        dir,
    } in &cases
    {
        let expected = shell_prints(shell, script, input, env, dir);
        assert!(
            !expected.is_empty() && !expected.contains("not found"),
            "{job}: {expected}"
        );
        let output = test.command_with(&["run", job]).output().unwrap();
        let (out, err) = crate::harness::texts(&output);
        assert_eq!(output.status.code(), Some(0), "{job}: {err}");
        assert_eq!(out, expected, "{job}: {script:?} with input {input:?}");
    }
}

#[test]
fn a_job_run_as_nobody_has_nobodys_uid_gid_groups_and_home() {
    use nix::unistd::{User, geteuid, getgrouplist};
    if !geteuid().is_root() {
        // Switching needs root; the non-root rule is checked by the next test.
        return;
    }
    let nobody = User::from_name("nobody").unwrap().unwrap();
    let name = std::ffi::CString::new("nobody").unwrap();
    let groups: Vec<String> = getgrouplist(&name, nobody.gid)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let test = Test::new()
        .jobfile(
            r#"
            [jobs.whoami]
            every = "1h"
            command = 'id -u; id -g; id -G; echo "$HOME $USER $LOGNAME $SHELL"; pwd; cat'
            shell = true
            user = "nobody"
            stdin = "read as nobody\n"
            "#,
        )
        .args(["run", "whoami"]);
    // nobody's home (/nonexistent) does not exist: the run starts in /, as under Debian's cron.
    let cwd = if nobody.dir.is_dir() {
        nobody.dir.display().to_string()
    } else {
        "/".into()
    };
    let (out, _) = test.status(0);
    assert_eq!(
        out,
        format!(
            "{}\n{}\n{}\n{} nobody nobody {}\n{cwd}\nread as nobody\n",
            nobody.uid,
            nobody.gid,
            groups.join(" "),
            nobody.dir.display(),
            nobody.shell.display()
        )
    );
}

#[test]
fn a_job_run_as_nobody_does_not_start_in_a_directory_nobody_may_not_enter() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let test = Test::new().jobfile(
        r#"
        [jobs.peek]
        every = "1h"
        command = ["pwd"]
        user = "nobody"
        workdir = "private"

        [jobs.open]
        every = "1h"
        command = ["pwd"]
        user = "nobody"
        workdir = "private/open"
        "#,
    );
    // The test's directory is root's and 0700: open it to others so that only `private`
    // (root's, 0700) is what nobody cannot pass.
    std::fs::set_permissions(test.dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::create_dir_all(test.path("private/open")).unwrap();
    std::fs::set_permissions(test.path("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        test.path("private/open"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    for job in ["peek", "open"] {
        let output = test.command_with(&["run", job]).output().unwrap();
        let (out, err) = crate::harness::texts(&output);
        assert_ne!(output.status.code(), Some(0), "{job}: {out}");
        assert!(out.is_empty(), "{job} started: {out}");
        assert!(
            err.contains("private") && err.contains("may not enter"),
            "{job}: {err}"
        );
    }
    // Once nobody may pass, the run starts there as nobody.
    std::fs::set_permissions(test.path("private"), std::fs::Permissions::from_mode(0o711)).unwrap();
    let output = test.command_with(&["run", "open"]).output().unwrap();
    let (out, err) = crate::harness::texts(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(out, format!("{}\n", test.path("private/open").display()));
}

#[test]
fn check_refuses_another_user_when_jobrun_is_not_root() {
    use nix::unistd::{User, geteuid};
    let test = Test::new().jobfile(
        r#"
        [jobs.backup]
        every = "1h"
        command = ["true"]
        user = "root"
        "#,
    );
    // As root, drop to nobody for the check (the jobfile must then be readable by nobody);
    // as anyone else, the check already runs as a user that is not root.
    let mut command = test.command_with(&["check"]);
    if geteuid().is_root() {
        std::fs::set_permissions(test.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut dropped = Command::new("setpriv");
        dropped
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(command.get_program())
            .args(command.get_args())
            .current_dir(test.dir.path())
            .env_clear()
            .envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
        command = dropped;
    }
    let output = command.output().unwrap();
    let running = User::from_uid(if geteuid().is_root() {
        nix::unistd::Uid::from_raw(65534)
    } else {
        geteuid()
    })
    .unwrap()
    .unwrap();
    let expected = unindent(&format!(
        r#"
        jobrun: error: jobs.backup.user: jobrun runs as {} (uid {}), not as root, so it cannot run jobs as user "root"
          --> jobrun.toml:4:8
           |
         4 | user = "root"
           |        ^^^^^^
        "#,
        running.name, running.uid
    ));
    crate::harness::check(&output, 2, "", &expected);
}

const EXISTING: &str = "# my jobs\n[defaults]\nshell = true   # commands are scripts here\n\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = \"./report.sh | mail me\"\n";

#[test]
fn write_appends_the_jobs_after_the_existing_text() {
    let test = Test::new()
        .file("jobrun.toml", EXISTING)
        .file("system.crontab", &data("system.crontab"))
        .args(["import", "--write", "--system", "system.crontab"]);
    test.expect(0, "added 2 jobs to jobrun.toml: id, echo\n", "");
    // The file's [defaults] are for its own jobs: a command to run directly says so, and the
    // shared SHELL stays on each job.
    assert_file(
        &test.path("jobrun.toml"),
        Some(&format!(
            "{EXISTING}{}",
            unindent(
                r#"

                # From system.crontab

                [jobs.id]
                cron = "*/30 * * * *"
                command = ["id", "-un"]
                shell = false
                user = "nobody"
                env = { SHELL = "/bin/sh" }

                [jobs.echo]
                cron = "0 4 * * *"
                command = "/bin/echo as root in $HOME"
                shell = true
                user = "root"
                workdir = "/tmp"
                env = { SHELL = "/bin/sh", HOME = "/tmp" }
                "#
            )
        )),
    );
}

#[test]
fn write_refuses_names_the_jobfile_has_and_writes_nothing() {
    let existing = format!(
        "{EXISTING}\n[jobs.id]\nevery = \"1h\"\ncommand = \"id\"\n\n[jobs.echo]\nevery = \"1h\"\ncommand = \"echo\"\n"
    );
    let test = Test::new()
        .file("jobrun.toml", &existing)
        .file("system.crontab", &data("system.crontab"))
        .args(["import", "--write", "--system", "system.crontab"]);
    test.expect(
        2,
        "",
        "jobrun: error: jobs \"id\" (line 9), \"echo\" (line 13) already exist in jobrun.toml; nothing was written (remove them first, or import into another jobfile)\n",
    );
    assert_file(&test.path("jobrun.toml"), Some(&existing));
}

const BROKEN: &str = "\
MAILTO=root
CRON_TZ=Europe/Pariss
61 * * * * echo late
* * * * 1#2 echo second monday
5/10 * * * * echo step
@Daily echo shouting
my-var=1
0 0 * *
0 12 * * *
*/5 * * * * * echo seconds
";

const BROKEN_ERRORS: &str = r#"
jobrun: error: unknown time zone "Europe/Pariss"
  --> broken.crontab:2:9
   |
 2 | CRON_TZ=Europe/Pariss
   |         ^^^^^^^^^^^^^
   = help: did you mean "Europe/Paris"?

jobrun: error: minute value 61 is out of range (expected 0-59)
  --> broken.crontab:3:1
   |
 3 | 61 * * * * echo late
   | ^^

jobrun: error: unexpected '#' in the day-of-week field "1#2"
  --> broken.crontab:4:10
   |
 4 | * * * * 1#2 echo second monday
   |          ^
   = help: crontab(5) has no ? or #: they are jobrun (and Quartz) extensions, which cron refuses

jobrun: error: a step needs a range before it: "5/10" is not crontab(5)
  --> broken.crontab:5:1
   |
 5 | 5/10 * * * * echo step
   | ^^^^
   = help: write 5-59/10 for every minute from 5 on (cron refuses "5/10")

jobrun: error: unknown schedule "@Daily"
  --> broken.crontab:6:1
   |
 6 | @Daily echo shouting
   | ^^^^^^
   = help: cron knows @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, written in lower case

jobrun: error: invalid environment variable name "my-var"
  --> broken.crontab:7:1
   |
 7 | my-var=1
   | ^^^^^^
   = help: jobrun passes names of letters, digits and "_", not starting with a digit

jobrun: error: the line ends after 4 of the 5 time fields: the day-of-week and the command are missing
  --> broken.crontab:8:8
   |
 8 | 0 0 * *
   |        ^
   = help: a crontab line is minute hour day-of-month month day-of-week, then the command

jobrun: error: the line ends after the schedule: the command is missing
  --> broken.crontab:9:11
   |
 9 | 0 12 * * *
   |           ^

jobrun: error: "*" after the schedule looks like a sixth time field
   --> broken.crontab:10:13
    |
 10 | */5 * * * * * echo seconds
    |             ^
    = help: crontab has 5 time fields (no seconds); cron refuses this line

jobrun: 9 errors in broken.crontab
"#;

#[test]
fn a_malformed_crontab_is_every_error_at_once_and_write_changes_nothing() {
    for write in [false, true] {
        let mut args = vec!["import", "broken.crontab"];
        if write {
            args.push("--write");
        }
        let test = Test::new()
            .file("jobrun.toml", EXISTING)
            .file("broken.crontab", BROKEN)
            .args(args);
        test.expect(2, "", BROKEN_ERRORS);
        assert_file(&test.path("jobrun.toml"), Some(EXISTING));
    }
}

#[test]
fn standard_input_is_a_user_crontab_and_a_directory_skips_what_cron_skips() {
    let test = Test::new();
    let output = output_with_input(
        test.command_with(&["import", "-"]),
        "0 5 * * * /usr/bin/backup %go\n@reboot /usr/bin/hello\n",
    );
    crate::harness::check(
        &output,
        0,
        &unindent(&format!(
            r#"
            [defaults]
            workdir = "{}"

            # From standard input

            [jobs.backup]
            cron = "0 5 * * *"
            command = ["/usr/bin/backup"]
            stdin = """
            go
            """

            [jobs.hello]
            cron = "@reboot"
            command = ["/usr/bin/hello"]
            "#,
            own_home()
        )),
        "",
    );

    let test = Test::new()
        .file("etc/cron.d/.placeholder", "# DO NOT EDIT OR REMOVE\n")
        .file("etc/cron.d/php.dpkg-old", "* * * * * root old\n")
        .file("etc/cron.d/php", &data("cron.d/php"))
        .args(["import", "etc/cron.d"]);
    let (out, err) = test.status(0);
    assert!(
        out.contains("[jobs.sessionclean]") && !out.contains("[\"old\"]"),
        "{out}"
    );
    assert_eq!(
        err,
        "jobrun: note: etc/cron.d/php.dpkg-old: skipped, as cron skips it: a cron.d file name is made of letters, digits, \"_\" and \"-\" only\n"
    );
}
