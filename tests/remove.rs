//! `jobrun remove`: named jobs go, with their attached comments; the rest stays as it was.

use crate::harness::{Test, assert_file};

const THREE: &str = "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n# the report\n[jobs.report]\ncron = \"36 19 * * *\"\ncommand = [\"./report.sh\"]\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n\n# last one\n[jobs.poll]\nevery = \"90s\"\ncommand = [\"./poll.sh\"]\n";

#[test]
fn removes_the_named_jobs_and_nothing_else() {
    let test = Test::new()
        .file("jobrun.toml", THREE)
        .args(["remove", "report", "poll"]);
    test.expect(0, "removed jobs report, poll from jobrun.toml\n", "");
    assert_file(
        &test.path("jobrun.toml"),
        Some(
            "# header comment\n[defaults]\ntimezone = \"UTC\"\n\n[jobs.backup]  # nightly\ncron = \"0 3 * * *\"\ncommand = [\"./backup.sh\"]\n",
        ),
    );
}

#[test]
fn an_unknown_name_removes_nothing() {
    let test = Test::new()
        .file("jobrun.toml", THREE)
        .args(["remove", "report", "bakup"]);
    let (_, err) = test.status(2);
    assert!(
        err.starts_with("jobrun: error: no job named \"bakup\" in jobrun.toml"),
        "{err}"
    );
    assert!(err.contains("did you mean \"backup\"?"), "{err}");
    assert_file(&test.path("jobrun.toml"), Some(THREE));
}

#[test]
fn a_missing_jobfile_is_an_error_and_stays_missing() {
    let test = Test::new().args(["--jobfile", "none.toml", "remove", "x"]);
    test.status(2);
    assert_file(&test.path("none.toml"), None);
}
