//! `jobrun import` over real crontabs (tests/data/crontab: Debian's /etc/crontab, cron.d files
//! of Debian packages, hand-written user and system crontabs): the jobfile it prints and its
//! notes (snapshots in tests/data/crontab/expected), `jobrun check` passing on each, and every
//! imported line's fire times equal to an independent reading of the line
//! (`import_reading.rs`) across DST changes in the zones the lines use.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use jobrun::zone::Tz;

use crate::harness::Test;
use crate::import_reading::{Cron, entries};

pub(crate) fn data(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/crontab")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The home directory of the user running the tests, where cron ran a user crontab's
/// commands: the snapshots write it as `@HOME@`.
pub(crate) fn own_home() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .unwrap()
        .dir
        .display()
        .to_string()
}

/// One import of the fixtures: the crontab files (relative to tests/data/crontab, copied into
/// the test's directory under the same names), the arguments, the snapshot's name, and the
/// zone of lines without CRON_TZ.
struct Case {
    files: &'static [&'static str],
    args: &'static [&'static str],
    expected: &'static str,
    zone: &'static str,
}

const CRON_D: &[&str] = &[
    "cron.d/anacron",
    "cron.d/certbot",
    "cron.d/e2scrub_all",
    "cron.d/mdadm",
    "cron.d/php",
    "cron.d/popularity-contest",
    "cron.d/sysstat",
    "cron.d/zfsutils-linux",
];

const CASES: &[Case] = &[
    Case {
        files: &["debian-crontab"],
        args: &["import", "--system", "debian-crontab"],
        expected: "debian-crontab",
        zone: "UTC",
    },
    Case {
        files: CRON_D,
        args: &["import", "cron.d"],
        expected: "cron.d",
        zone: "UTC",
    },
    Case {
        files: &["user/rules.crontab"],
        args: &["import", "--tz", "Europe/Berlin", "user/rules.crontab"],
        expected: "rules",
        zone: "Europe/Berlin",
    },
    Case {
        files: &["user/cronie.crontab"],
        args: &["import", "--tz", "Europe/Berlin", "user/cronie.crontab"],
        expected: "cronie",
        zone: "Europe/Berlin",
    },
    Case {
        files: &["system.crontab"],
        args: &["import", "--system", "system.crontab"],
        expected: "system",
        zone: "UTC",
    },
];

fn setup(case: &Case) -> Test {
    case.files
        .iter()
        .fold(Test::new(), |test, file| test.file(file, &data(file)))
        .args(case.args.iter().copied())
}

fn expected(case: &Case) -> (String, String) {
    let toml = data(&format!("expected/{}.toml", case.expected)).replace("@HOME@", &own_home());
    let stderr = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/crontab/expected")
            .join(format!("{}.stderr", case.expected)),
    )
    .unwrap_or_default();
    (toml, stderr)
}

/// The imported jobfile of a case, from its snapshot (checked by the snapshot test).
fn imported(case: &Case) -> String {
    expected(case).0
}

#[test]
fn each_crontab_imports_as_its_snapshot() {
    for case in CASES {
        let (toml, stderr) = expected(case);
        setup(case).expect(0, &toml, &stderr);
    }
}

#[test]
fn each_imported_jobfile_passes_check() {
    let root = nix::unistd::geteuid().is_root();
    for case in CASES {
        let text = imported(case);
        let jobs = text.matches("\n[jobs.").count();
        let check = Test::new().file("jobrun.toml", &text).args(["check"]);
        let names_root = text.contains("user = \"root\"");
        if root || !names_root {
            let (out, err) = check.status(0);
            assert!(
                out.starts_with(&format!("jobrun.toml: ok ({jobs} job")),
                "{out}{err}"
            );
        } else {
            // Not root: a job run as root is refused, at its line.
            let (_, err) = check.status(2);
            assert!(
                err.contains("not as root, so it cannot run jobs as user \"root\""),
                "{err}"
            );
        }
    }
}

/// The `[jobs.NAME]` headers of a jobfile, in order, of the jobs that fire at times: all but
/// `@reboot` ones (import writes `cron` first).
fn timed_job_names(jobfile: &str) -> Vec<String> {
    let lines: Vec<&str> = jobfile.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[1] != "cron = \"@reboot\"")
        .filter_map(|pair| pair[0].strip_prefix("[jobs.")?.strip_suffix(']'))
        .map(str::to_owned)
        .collect()
}

/// Instants around the DST changes of the zones the fixtures use: New York and Europe in
/// March, Lord Howe (half an hour) in October, Europe and New York falling back.
const FROM: [&str; 5] = [
    "2026-03-05T00:00:00Z",
    "2026-03-27T12:00:00Z",
    "2026-10-02T00:00:00Z",
    "2026-10-24T12:00:00Z",
    "2026-10-31T12:00:00Z",
];

/// How many fires are compared per job and instant.
const FIRES: usize = 6;

#[test]
fn every_imported_line_fires_when_an_independent_reading_of_it_says() {
    let mut compared = 0;
    for case in CASES {
        let zone: Tz = case.zone.parse().unwrap();
        let lines: Vec<_> = case
            .files
            .iter()
            .flat_map(|file| entries(&data(file), zone))
            .collect();
        let jobfile = imported(case);
        let names = timed_job_names(&jobfile);
        assert_eq!(
            names.len(),
            lines.len(),
            "{}: one job per line that fires at times",
            case.expected
        );
        for from in FROM {
            let after: DateTime<Utc> = from.parse().unwrap();
            let json = Test::new()
                .file("jobrun.toml", &jobfile)
                .args(["next", "--from", from, "-n", &FIRES.to_string(), "--json"])
                .status(0)
                .0;
            let mut by_job: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for fire in serde_json::from_str::<Vec<serde_json::Value>>(&json).unwrap() {
                by_job
                    .entry(fire["job"].as_str().unwrap().to_owned())
                    .or_default()
                    .push(fire["unix"].as_i64().unwrap());
            }
            for (name, line) in names.iter().zip(&lines) {
                let want: Vec<i64> = Cron::parse(&line.schedule)
                    .fires(line.zone, after, FIRES)
                    .iter()
                    .map(DateTime::timestamp)
                    .collect();
                let got = by_job.get(name).cloned().unwrap_or_default();
                assert_eq!(
                    got, want,
                    "{} job {name} ({:?} in {}) from {from}",
                    case.expected, line.schedule, line.zone
                );
                compared += want.len();
            }
        }
    }
    // 41 imported lines: 4 of /etc/crontab, 10 of cron.d, 21 + 4 + 2 hand-written.
    assert_eq!(compared, FROM.len() * 41 * FIRES);
}
