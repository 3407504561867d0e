//! What we show users must work: every TOML block of README.md validates, and the shipped
//! example jobfile previews without error.

use std::path::Path;

use crate::harness::Test;

fn repo(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .expect("read repo file")
}

/// The ```toml blocks of a Markdown text.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```toml") => current = Some(String::new()),
            (Some(block), l) if l.starts_with("```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_toml_block_in_the_readme_is_a_valid_jobfile() {
    let blocks = toml_blocks(&repo("README.md"));
    assert!(!blocks.is_empty(), "README should show a jobfile");
    for block in blocks {
        let (out, err) = Test::new()
            .file("jobrun.toml", &block)
            .args(["check"])
            .status(0);
        assert!(out.starts_with("jobrun.toml: ok"), "{block}\n{out}{err}");
    }
}

#[test]
fn the_example_jobfile_previews() {
    let example = repo("examples/jobrun.toml");
    let (out, err) = Test::new()
        .file("jobrun.toml", &example)
        .args(["next", "--from", "2026-12-01T00:00:00Z"])
        .status(0);
    assert_eq!(err, "");
    for job in [
        "heartbeat",
        "report",
        "backup",
        "poll",
        "launch",
        "office_ticks",
    ] {
        assert!(
            out.contains(&format!(" {job} ")),
            "{job} missing from\n{out}"
        );
    }
    assert!(out.contains("(1 paused job not shown: month_end;"), "{out}");
}

#[test]
fn the_design_documents_example_jobfile_is_valid() {
    // A copy of the jobfile in the product's design document (shared/DESIGN.md).
    let example = repo("tests/data/design-example.toml");
    let (out, err) = Test::new()
        .file("jobrun.toml", &example)
        .args(["check"])
        .status(0);
    assert!(
        out.starts_with("jobrun.toml: ok (5 jobs, 1 paused, 2 executors)\ntime zone rules: "),
        "{out}"
    );
    // Its scripts and directories are not on this machine: warnings, not errors.
    assert!(
        err.lines().all(|l| l.starts_with("jobrun: warning: ")),
        "{err}"
    );
}

/// The directory the repository's generated files are in.
fn repo_dir(dir: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
}

/// The files of a directory, by name, with their contents.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("dir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(entry.path()).expect("read file"))
        })
        .collect()
}

#[test]
fn the_checked_in_man_pages_and_completions_are_what_the_code_generates() {
    let test = Test::new().args(["generate", "out"]);
    test.expect(0, "", "");
    let mut stale = Vec::new();
    for dir in ["man", "completions"] {
        let generated = files(&test.path("out").join(dir));
        let checked_in = files(&repo_dir(dir));
        let names: std::collections::BTreeSet<&String> =
            generated.keys().chain(checked_in.keys()).collect();
        for name in names {
            match (generated.get(name), checked_in.get(name)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(_), Some(_)) => stale.push(format!("{dir}/{name} differs")),
                (Some(_), None) => stale.push(format!("{dir}/{name} is missing")),
                (None, _) => stale.push(format!("{dir}/{name} is no longer generated")),
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{}\nregenerate them with `cargo run -q -- generate`",
        stale.join("\n")
    );
}

#[test]
fn every_man_page_renders_without_warnings() {
    let pages = files(&repo_dir("man"));
    assert!(pages.len() > 10, "{:?}", pages.keys());
    for name in pages.keys() {
        let output = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(repo_dir("man").join(name))
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("LANG", "C.UTF-8")
            .output()
            .expect("man(1) runs (install man-db and groff; .ci/run does)");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        assert_eq!(stderr, "", "{name} renders with warnings");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("NAME"), "{name} rendered empty:\n{text}");
    }
}

#[test]
fn the_jobfile_pages_example_is_a_valid_jobfile() {
    let (out, err) = Test::new()
        .file("jobrun.toml", jobrun::manual::jobfile::EXAMPLE)
        .args(["check"])
        .status(0);
    assert!(
        out.starts_with("jobrun.toml: ok (3 jobs, 0 paused, 2 executors)\ntime zone rules: "),
        "{out}"
    );
    assert!(
        err.lines().all(|l| l.starts_with("jobrun: warning: ")),
        "{err}"
    );
}

#[test]
fn the_container_examples_jobfile_is_valid_and_the_unit_reloads_with_sighup() {
    let (out, _) = Test::new()
        .file("jobrun.toml", &repo("examples/container/jobrun.toml"))
        .args(["check"])
        .status(0);
    assert!(
        out.starts_with("jobrun.toml: ok (2 jobs, 0 paused, 1 executor)\ntime zone rules: "),
        "{out}"
    );
    let unit = repo("examples/jobrun.service");
    assert!(
        unit.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"),
        "{unit}"
    );
    // The unit's command line is one jobrun accepts.
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/jobrun "))
        .expect("ExecStart");
    let mut args: Vec<&str> = exec.split_whitespace().collect();
    args.push("--help");
    Test::new().args(args).status(0);
}
