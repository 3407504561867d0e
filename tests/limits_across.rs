//! Issue 15: `max_instances` and pool `workers` hold across three `jobrun start` sharing one
//! PostgreSQL store, with each overlap policy. The jobs time themselves (start and end, in
//! nanoseconds, appended to a marker file as they end), so concurrency is judged from what
//! ran, not from what the store says.
//!
//! Uses the server of `$JOBRUN_TEST_PG_URL` (a database of its own on it); skipped without
//! one unless `JOBRUN_TEST_PG_REQUIRED=1`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jobrun::store::postgres::testing::TestDatabase;

use crate::harness::{Background, Test, texts, wait_for};

/// A command that sleeps `secs` and then appends "START END" (ns since the epoch).
fn timed(secs: &str) -> String {
    format!(
        "[\"sh\", \"-c\", \"s=$(date +%s%N); sleep {secs}; \
         echo \\\"$s $(date +%s%N)\\\" >> marks/$JOBRUN_JOB\"]"
    )
}

fn jobfile() -> String {
    let mut text = String::from(
        "[store]\nlease = \"3s\"\n\n[executors.pair]\nworkers = 2\n\n\
         [defaults]\nmisfire_grace = \"1m\"\n",
    );
    // Longer than its period: at most one runs at a time, on whichever host.
    text.push_str(&format!(
        "\n[jobs.solo]\nevery = \"1s\"\ncommand = {}\n",
        timed("2.5")
    ));
    text.push_str(&format!(
        "\n[jobs.queued]\nevery = \"1s\"\noverlap = \"queue\"\ncommand = {}\n",
        timed("1.5")
    ));
    // Four jobs in a pool of two: never more than two at once, and each gets its turn.
    for i in 1..=4 {
        text.push_str(&format!(
            "\n[jobs.p{i}]\nevery = \"2s\"\nexecutor = \"pair\"\ncommand = {}\n",
            timed("1.5")
        ));
    }
    // Never ends on its own: each fire ends the one before, wherever it runs.
    text.push_str(
        "\n[jobs.long]\nevery = \"3s\"\noverlap = \"replace\"\nkill_after = \"1s\"\n\
         command = [\"sleep\", \"100\"]\n",
    );
    text
}

fn scheduler(test: &Test, url: &str, log: &str) -> Background {
    let s = test.spawn_named(log, &["--store", url, "start", "--stop-grace", "3s"]);
    s.expect_log(20.0, &["scheduler_started"]);
    s
}

/// The (start, end) of each run of `job` that ended on its own.
fn intervals(test: &Test, job: &str) -> Vec<(u128, u128)> {
    let path = format!("marks/{job}");
    if !test.path(&path).exists() {
        return Vec::new();
    }
    test.lines(&path)
        .iter()
        .map(|line| {
            let (start, end) = line.split_once(' ').expect("START END");
            (start.parse().expect("start"), end.parse().expect("end"))
        })
        .collect()
}

/// The most intervals that overlap at any one instant.
fn most_at_once(runs: &[(u128, u128)]) -> usize {
    let mut edges: Vec<(u128, i32)> = runs
        .iter()
        .flat_map(|&(start, end)| [(start, 1), (end, -1)])
        .collect();
    // At one instant, an end comes before a start.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

#[test]
fn three_schedulers_hold_max_instances_and_workers_together() {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let test = Test::new().jobfile(&jobfile()).file("marks/.keep", "");
    let url = db.url().to_owned();
    let mut hosts = [
        scheduler(&test, &url, "a.log"),
        scheduler(&test, &url, "b.log"),
        scheduler(&test, &url, "c.log"),
    ];
    let start = Instant::now();
    assert!(wait_for(30.0, || start.elapsed() >= Duration::from_secs(11)));
    for host in &hosts {
        host.signal("TERM");
    }
    for host in &mut hosts {
        assert_eq!(host.wait_exit(20.0), Some(0), "{}", host.log());
    }
    let logs: String = hosts.iter().map(Background::log).collect();

    // max_instances = 1 with skip: one at a time, the fires meanwhile skipped, some of them
    // by a scheduler other than the one running the job.
    let solo = intervals(&test, "solo");
    assert!(solo.len() >= 2, "solo ran {} times:\n{logs}", solo.len());
    assert_eq!(most_at_once(&solo), 1, "{solo:?}\n{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("skipped") && l.contains("solo") && l.contains("schedulers")),
        "no fire was skipped for a run on another scheduler:\n{logs}"
    );
    // queue: one at a time, one after another.
    let queued = intervals(&test, "queued");
    assert!(queued.len() >= 4, "queued ran {} times", queued.len());
    assert_eq!(most_at_once(&queued), 1, "{queued:?}");
    // A pool of two across the three schedulers, and every job of it ran.
    let mut pool = Vec::new();
    for i in 1..=4 {
        let runs = intervals(&test, &format!("p{i}"));
        assert!(!runs.is_empty(), "p{i} never ran:\n{logs}");
        pool.extend(runs);
    }
    assert!(most_at_once(&pool) <= 2, "{pool:?}");
    assert!(
        most_at_once(&pool) == 2,
        "the pool was never full: {pool:?}"
    );

    // replace: each fire ended the run before it, wherever that ran, and history says so.
    let output = test
        .command_with(&["--store", &url, "history", "long", "--json", "-n", "100"])
        .output()
        .expect("run history");
    let (out, err) = texts(&output);
    assert_eq!(output.status.code(), Some(0), "history failed: {err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("history --json");
    let replaced = rows.iter().filter(|r| r["replaced_by"].is_i64()).count();
    assert!(
        replaced >= 2,
        "runs of long replaced: {replaced}\n{out}\n{logs}"
    );
    let mut spans: BTreeMap<String, (String, String)> = BTreeMap::new();
    for row in rows.iter().filter(|r| r["started"].is_string()) {
        let ended = row["ended"].as_str().unwrap_or("9999").to_owned();
        let started = row["started"].as_str().expect("started").to_owned();
        spans.insert(started.clone(), (started, ended));
    }
    // Each run of long started after the one before it had ended (RFC 3339 times in one
    // zone sort as instants).
    let spans: Vec<_> = spans.into_values().collect();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "runs of long overlapped: {pair:?}");
    }
    assert!(
        logs.contains("replacing job=long"),
        "no run of long was ended for a newer fire:\n{logs}"
    );
}
