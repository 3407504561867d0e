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
    Test::new()
        .file("jobrun.toml", &example)
        .args(["check"])
        .expect(0, "jobrun.toml: ok (5 jobs, 1 paused, 2 executors)\n", "");
}
