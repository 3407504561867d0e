//! Every malformed jobfile in tests/data/errors is rejected by `jobrun check` with exactly the
//! message in its `.stderr` twin, exit code 2, and the file left as it was.

use std::fs;
use std::path::Path;

use crate::harness::{Test, assert_file, check};

fn cases() -> Vec<(String, String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/errors");
    let mut cases: Vec<_> = fs::read_dir(&dir)
        .expect("tests/data/errors exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let toml = fs::read_to_string(&p).expect("read case");
            let stderr = fs::read_to_string(p.with_extension("stderr"))
                .expect("every case has a .stderr file");
            (name, toml, stderr)
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn there_are_at_least_thirty_cases() {
    assert!(cases().len() >= 30, "only {} cases", cases().len());
}

#[test]
fn check_reports_each_case_verbatim_with_exit_code_2_and_leaves_the_file() {
    let mut failures = Vec::new();
    for (name, toml, stderr) in cases() {
        let test = Test::new().file("jobrun.toml", &toml).args(["check"]);
        let output = test.output();
        if let Err(panic) = std::panic::catch_unwind(|| check(&output, 2, "", &stderr)) {
            let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
            failures.push(format!("case {name}:\n{message}"));
        }
        assert_file(&test.path("jobrun.toml"), Some(&toml));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_command_that_reads_the_jobfile_refuses_a_broken_one_the_same_way() {
    let (_, toml, stderr) = cases()
        .into_iter()
        .find(|(n, _, _)| n.contains("several"))
        .expect("a several-errors case");
    for args in [
        vec!["next"],
        vec!["list"],
        vec!["add", "--every", "1h", "--", "true"],
        vec!["remove", "x"],
    ] {
        let test = Test::new().file("jobrun.toml", &toml).args(args.clone());
        let output = test.output();
        check(&output, 2, "", &stderr);
        assert_file(&test.path("jobrun.toml"), Some(&toml));
    }
}

#[test]
fn a_missing_jobfile_is_named() {
    Test::new().args(["--jobfile", "nope.toml", "next"]).expect(
        2,
        "",
        "jobrun: error: jobfile nope.toml does not exist (create it with `jobrun add`, or pass --jobfile PATH)\n",
    );
}
