//! `jobrun list`: every job with its trigger, zone, state and next fire.
//! Next fires depend on the real clock, so the jobs here are chosen to have a fixed answer
//! (a one-off in 2099, a window in the past), and relative times are masked.

use crate::harness::{Test, texts, unindent};

const JOBS: &str = r#"
    [defaults]
    timezone = "Europe/Paris"

    [jobs.launch]
    at = "2099-12-24T18:00:00"
    command = ["./launch.sh", "--loud", "two words"]

    [jobs.old]
    every = "90s"
    end = 2020-01-01T00:00:00Z
    command = "echo done | wc -c"
    shell = true
    paused = true

    [jobs.combo]
    any = [{ cron = "0 9 * * MON" }, { all = [{ every = "1h" }, { at = "2099-01-01T00:00:00Z" }] }]
    timezone = "Asia/Kathmandu"
    command = ["true"]
"#;

/// Replaces each "(in …)" with "(in _)" so relative times don't depend on today, and folds
/// column padding (whose width follows those times) to two spaces.
fn mask_relative(text: &str) -> String {
    let masked = mask(text);
    masked
        .lines()
        .map(|line| {
            line.split("  ")
                .filter(|cell| !cell.is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn mask(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("(in ") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find(')')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str("(in _)");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn human_listing_shows_trigger_zone_state_next_and_command() {
    let output = Test::new().jobfile(JOBS).args(["list"]).output();
    let (out, err) = texts(&output);
    assert_eq!(err, "");
    assert_eq!(output.status.code(), Some(0));
    let combo_next = mask_relative(&out)
        .lines()
        .nth(3)
        .map(|l| l.to_owned())
        .unwrap_or_default();
    assert!(combo_next.starts_with("combo "), "{out}");
    // The combination's next fire is next Monday 09:00 in Kathmandu, whatever today is.
    assert!(combo_next.contains(" 09:00:00+05:45 (in _)"), "{out}");
    let masked: String = mask_relative(&out)
        .lines()
        .map(|l| {
            if l.starts_with("combo ") {
                "combo (checked above)".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        masked + "\n",
        unindent(
            r#"
            NAME  TRIGGER  ZONE  STATE  NEXT  LAST  COMMAND
            launch  at 2099-12-24T17:00:00+00:00  Europe/Paris  active  2099-12-24 18:00:00+01:00 (in _)  -  ./launch.sh --loud 'two words'
            old  every 1m30s  Europe/Paris  paused  never  -  echo done | wc -c
            combo (checked above)
            "#
        )
    );
}

#[test]
fn json_listing_has_stable_fields() {
    let (out, _) = Test::new().jobfile(JOBS).args(["list", "--json"]).status(0);
    let jobs: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let launch = &jobs[0];
    assert_eq!(launch["name"], "launch");
    assert_eq!(launch["trigger"], "at 2099-12-24T17:00:00+00:00");
    assert_eq!(launch["timezone"], "Europe/Paris");
    assert_eq!(launch["next"], "2099-12-24T18:00:00+01:00");
    assert_eq!(launch["paused"], false);
    assert_eq!(
        launch["command"],
        serde_json::json!(["./launch.sh", "--loud", "two words"])
    );
    assert_eq!(launch["shell"], false);
    assert_eq!(launch["executor"], "default");
    let old = &jobs[1];
    assert_eq!(old["next"], serde_json::Value::Null);
    assert_eq!(old["paused"], true);
    assert_eq!(old["command"], "echo done | wc -c");
    assert_eq!(old["shell"], true);
    assert_eq!(
        jobs[2]["trigger"],
        "any(cron \"0 9 * * MON\", all(every 1h, at 2099-01-01T00:00:00+00:00))"
    );
    assert_eq!(jobs.as_array().map(Vec::len), Some(3));
}

#[test]
fn plain_listing_is_one_name_per_line() {
    Test::new()
        .jobfile(JOBS)
        .args(["list", "--format", "plain"])
        .expect(0, "launch\nold\ncombo\n", "");
}

#[test]
fn an_empty_jobfile_says_how_to_add_a_job() {
    Test::new()
        .file("jobrun.toml", "# nothing yet\n")
        .args(["list"])
        .expect(
            0,
            "no jobs in jobrun.toml (add one with `jobrun add`)\n",
            "",
        );
}
