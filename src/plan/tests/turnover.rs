//! Many runs through a small pool, and what the planner remembers between wakeups: the count
//! of each job's queued runs (`queue.rs`) and the earliest fire (`horizon.rs`) must give the
//! decisions a fresh look at every job and every queued run would (issue 11).

use super::*;

/// `n` jobs due at 10:00:05, in a pool of `workers`.
fn due_at_once(n: usize, workers: u32, per_job: &str) -> String {
    let mut text = format!("[executors.default]\nworkers = {workers}\n");
    for i in 0..n {
        text.push_str(&format!(
            "[jobs.j{i}]\ncommand = [\"true\"]\nat = \"2026-05-01T10:00:05Z\"\n{per_job}\n"
        ));
    }
    text
}

#[test]
fn a_thousand_runs_due_at_once_go_through_a_pool_of_ten_in_jobfile_order() {
    let mut sim = Sim::new(&due_at_once(1000, 10, ""), at("10:00:00"));
    for i in 0..1000 {
        let name: &'static str = Box::leak(format!("j{i}").into_boxed_str());
        sim = sim.runs_take(name, TimeDelta::milliseconds(10 + (i % 7) as i64));
    }
    sim.run_until(at("10:00:10"));
    let started: Vec<String> = sim
        .log
        .iter()
        .filter_map(|(_, e, _)| match e {
            Event::Start { job, .. } => Some(job.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..1000).map(|i| format!("j{i}")).collect();
    assert_eq!(started, expected, "each once, first come first served");
    assert_eq!(sim.log.len(), 1000, "nothing missed or skipped");
    // Ten at a time: the 11th starts only when one of the first ten has ended.
    let (eleventh, _) = sim.starts()[10];
    assert!(eleventh >= at("10:00:05.010"), "{eleventh}");
    assert_eq!((sim.planner.running(), sim.planner.queued()), (0, 0));
}

#[test]
fn queued_runs_still_count_against_max_instances_and_expire_by_queue_grace() {
    // Two fires of `w` queue behind `hog`; the second is beyond max_instances = 1 counting the
    // first one queued, so it is skipped. `late` gives up after its queue_grace.
    let text = r#"
        [executors.one]
        workers = 1
        [jobs.hog]
        command = ["true"]
        at = "2026-05-01T10:00:01Z"
        executor = "one"
        [jobs.w]
        command = ["true"]
        every = "2s"
        executor = "one"
        [jobs.late]
        command = ["true"]
        at = "2026-05-01T10:00:02Z"
        executor = "one"
        queue_grace = "3s"
    "#;
    let mut sim = Sim::new(text, at("10:00:00")).runs_take("hog", TimeDelta::milliseconds(7500));
    sim.run_until(at("10:00:09"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:01 start hog@10:00:01 #1",
            "10:00:04 skip w@10:00:04 running=1",
            // Expiry is found at the next wakeup, before that wakeup's fires.
            "10:00:06 miss late@10:00:02 late=4s",
            "10:00:06 skip w@10:00:06 running=1",
            "10:00:08 skip w@10:00:08 running=1",
            // hog ends at 10:00:08.5: the queued w@10:00:02 takes its slot.
            "10:00:08 start w@10:00:02 #2",
        ]
    );
}

#[test]
fn a_resume_after_a_walk_brings_its_due_fires_back() {
    let text =
        "[jobs.hourly]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\nmisfire_grace = \"1h\"\n";
    let mut p = planner(text, at("10:30:00"));
    assert!(p.advance(at("10:30:01")).is_empty());
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
    // A resume point from the store, given late: 10:00 is due now.
    p.resume("hourly", at("09:00:00"));
    assert_eq!(p.next_wake(), Some(at("10:00:00")));
    assert_eq!(
        rendered(&p.advance(at("10:30:02"))),
        ["start hourly@10:00:00 #1"]
    );
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
}

#[test]
fn a_boot_fire_given_after_a_walk_is_due_at_once() {
    let text = "[jobs.hello]\ncommand = [\"true\"]\ncron = \"@reboot\"\n\
                [jobs.tick]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n";
    let mut p = planner(text, at("10:00:00"));
    assert!(p.advance(at("10:00:01")).is_empty());
    p.boot("hello", at("10:00:01"));
    assert_eq!(p.next_wake(), Some(at("10:00:01")));
    assert_eq!(
        rendered(&p.advance(at("10:00:01"))),
        ["start hello@10:00:01 #1"]
    );
}

#[test]
fn a_chained_fire_added_between_walks_wakes_the_loop_and_starts() {
    let text = "[jobs.a]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n\
                [jobs.d]\ncommand = [\"true\"]\nafter = \"a\"\n";
    let mut p = planner(text, at("10:00:00"));
    assert!(p.advance(at("10:00:01")).is_empty());
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
    p.upstream_ended("a", true, at("10:00:02"), 41);
    assert_eq!(p.next_wake(), Some(at("10:00:02")));
    assert_eq!(
        rendered(&p.advance(at("10:00:02"))),
        ["start d@10:00:02 #1"]
    );
    assert_eq!(p.after_run(1), Some(41));
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
}

#[test]
fn a_reload_after_a_walk_is_seen_by_the_next_wake_and_advance() {
    let text = "[jobs.hourly]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n";
    let mut p = planner(text, at("10:00:00"));
    assert!(p.advance(at("10:00:01")).is_empty());
    reload(
        &mut p,
        "[jobs.hourly]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n\
         [jobs.often]\ncommand = [\"true\"]\nevery = \"2s\"\n",
        at("10:00:01"),
    );
    // `every` counts from the epoch: 10:00:02 is its first fire after 10:00:01.
    assert_eq!(p.next_wake(), Some(at("10:00:02")));
    assert_eq!(
        rendered(&p.advance(at("10:00:02"))),
        ["start often@10:00:02 #1"]
    );
    // Paused by a reload: its fires stop counting at once.
    reload(
        &mut p,
        "[jobs.hourly]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n\
         [jobs.often]\ncommand = [\"true\"]\nevery = \"2s\"\npaused = true\n",
        at("10:00:04"),
    );
    assert_eq!(p.next_wake(), Some(at("11:00:00")));
}

#[test]
fn advances_between_fires_change_nothing_and_agree_with_a_walk() {
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!(
            "[jobs.j{i}]\ncommand = [\"true\"]\nevery = \"{}s\"\n",
            10 + i
        ));
    }
    let mut p = planner(&text, at("10:00:00"));
    let mut now = at("10:00:00");
    let mut starts = 0;
    while now < at("10:05:00") {
        now += TimeDelta::milliseconds(250);
        for event in p.advance(now) {
            if let Event::Start { run, .. } = event {
                starts += 1;
                assert!(p.finished(run, now).is_empty());
            }
        }
        assert_eq!(p.earliest_fire(), p.walked_fire(), "at {now}");
    }
    // Every job fired every time its interval came round in the five minutes (`every`
    // counts from the epoch).
    let base = at("10:00:00").timestamp();
    let expected = (0..50)
        .map(|i| (1..=300).filter(|s| (base + s) % (10 + i) == 0).count())
        .sum::<usize>();
    assert_eq!(starts, expected);
}
