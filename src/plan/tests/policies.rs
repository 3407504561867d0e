//! Overlap policies, `@reboot` fires and chains, on the injected clock (issue 11).

use super::*;

fn slow_every_10s(overlap: &str) -> String {
    format!("[jobs.w]\ncommand = [\"true\"]\nevery = \"10s\"\noverlap = \"{overlap}\"\n")
}

#[test]
fn queue_keeps_one_fire_waiting_for_the_running_run_and_coalesces_later_ones_into_it() {
    let mut sim =
        Sim::new(&slow_every_10s("queue"), at("10:00:00")).runs_take("w", TimeDelta::seconds(25));
    sim.run_until(at("10:01:00"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            "10:00:30 coalesce w@10:00:30 into 10:00:20",
            "10:00:35 start w@10:00:20 #2",
            "10:00:50 coalesce w@10:00:50 into 10:00:40",
            // The run ending at the fire's instant ends first: its waiter starts, and the
            // fire of 10:01:00 becomes the next waiter.
            "10:01:00 start w@10:00:40 #3",
        ]
    );
    assert_eq!((sim.planner.running(), sim.planner.queued()), (1, 1));
}

#[test]
fn a_waiter_takes_its_pool_slot_in_the_order_it_began_waiting() {
    let text = r#"
        [executors.one]
        workers = 1
        [jobs.w]
        command = ["true"]
        every = "10s"
        overlap = "queue"
        executor = "one"
        [jobs.b]
        command = ["true"]
        at = "2026-05-01T10:00:25Z"
        executor = "one"
    "#;
    let mut sim = Sim::new(text, at("10:00:00")).runs_take("w", TimeDelta::seconds(15));
    sim.run_until(at("10:00:45"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            // w's first run ends as b fires: w's waiter (waiting since 10:00:20) goes first.
            "10:00:25 start w@10:00:20 #2",
            // b waits in the pool from 10:00:25, w's next waiter from 10:00:30: b goes first.
            "10:00:40 start b@10:00:25 #3",
            "10:00:40 coalesce w@10:00:40 into 10:00:30",
            "10:00:41 start w@10:00:30 #4",
        ]
    );
}

#[test]
fn queue_grace_bounds_a_waiter_too() {
    let text = format!("{}queue_grace = \"5s\"\n", slow_every_10s("queue"));
    let mut sim = Sim::new(&text, at("10:00:00")).runs_take("w", TimeDelta::seconds(60));
    sim.run_until(at("10:00:40"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            "10:00:30 miss w@10:00:20 late=10s",
            "10:00:40 miss w@10:00:30 late=10s",
        ]
    );
}

#[test]
fn a_reload_raising_max_instances_lets_the_waiter_start_at_once() {
    let text = slow_every_10s("queue");
    let mut sim = Sim::new(&text, at("10:00:00")).runs_take("w", TimeDelta::seconds(60));
    sim.run_until(at("10:00:25"));
    assert_eq!(sim.planner.queued(), 1);
    reload(
        &mut sim.planner,
        &format!("{text}max_instances = 2\n"),
        at("10:00:25"),
    );
    sim.now = at("10:00:25");
    assert_eq!(sim.planner.next_wake(), Some(at("10:00:20")), "already due");
    sim.run_until(at("10:00:30"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            "10:00:25 start w@10:00:20 #2",
            "10:00:30 coalesce w@10:00:30 into 10:00:20",
        ][..2]
    );
    // Two runs go; the fire of 10:00:30 waits for one of them.
    assert_eq!((sim.planner.running(), sim.planner.queued()), (2, 1));
}

#[test]
fn replace_ends_the_running_run_and_starts_the_new_fire_once_it_is_reaped() {
    let mut sim =
        Sim::new(&slow_every_10s("replace"), at("10:00:00")).runs_take("w", TimeDelta::seconds(25));
    sim.run_until(at("10:00:21"));
    assert_eq!(sim.planner.replaces(2), Some(1));
    assert_eq!(sim.planner.replaces(1), None);
    sim.run_until(at("10:00:40"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            "10:00:20 replace #1 by w@10:00:20",
            "10:00:20 start w@10:00:20 #2",
            "10:00:30 replace #2 by w@10:00:30",
            "10:00:30 start w@10:00:30 #3",
            "10:00:40 replace #3 by w@10:00:40",
        ]
    );
    let started: Vec<String> = sim
        .starts()
        .iter()
        .map(|(t, _)| t.format("%H:%M:%S%.3f").to_string())
        .collect();
    assert_eq!(started, ["10:00:10.000", "10:00:20.500", "10:00:30.500"]);
}

#[test]
fn replace_asks_once_and_coalesces_fires_while_the_old_run_takes_its_time_to_end() {
    let text = "[jobs.w]\ncommand = [\"true\"]\nevery = \"1s\"\noverlap = \"replace\"\n";
    let mut sim = Sim::new(text, at("10:00:00")).runs_take("w", TimeDelta::seconds(60));
    sim.kill_takes = TimeDelta::milliseconds(2500);
    sim.run_until(at("10:00:05"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:01 start w@10:00:01 #1",
            "10:00:02 replace #1 by w@10:00:02",
            "10:00:03 coalesce w@10:00:03 into 10:00:02",
            "10:00:04 coalesce w@10:00:04 into 10:00:02",
            "10:00:04 start w@10:00:02 #2",
            "10:00:05 replace #2 by w@10:00:05",
        ]
    );
}

#[test]
fn replace_with_two_instances_ends_the_oldest() {
    let text = format!("{}max_instances = 2\n", slow_every_10s("replace"));
    let mut sim = Sim::new(&text, at("10:00:00")).runs_take("w", TimeDelta::seconds(60));
    sim.run_until(at("10:00:41"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start w@10:00:10 #1",
            "10:00:20 start w@10:00:20 #2",
            "10:00:30 replace #1 by w@10:00:30",
            "10:00:30 start w@10:00:30 #3",
            "10:00:40 replace #2 by w@10:00:40",
            "10:00:40 start w@10:00:40 #4",
        ]
    );
}

const CHAIN_OF_THREE: &str = r#"
    [jobs.a]
    command = ["true"]
    every = "10s"
    [jobs.b]
    command = ["true"]
    after = "a"
    [jobs.c]
    command = ["true"]
    after = "b"
"#;

#[test]
fn a_chain_of_three_runs_each_job_after_the_one_before_with_its_run_id() {
    let mut sim = Sim::new(CHAIN_OF_THREE, at("10:00:00"));
    sim.run_until(at("10:00:25"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start a@10:00:10 #1",
            "10:00:11 start b@10:00:11 #2 after #1",
            "10:00:12 start c@10:00:12 #3 after #2",
            "10:00:20 start a@10:00:20 #4",
            "10:00:21 start b@10:00:21 #5 after #4",
            "10:00:22 start c@10:00:22 #6 after #5",
        ]
    );
}

#[test]
fn a_failed_run_breaks_a_chain_on_success_and_fires_on_failure_and_always() {
    let text = r#"
        [jobs.a]
        command = ["false"]
        every = "10s"
        [jobs.next]
        command = ["true"]
        after = "a"
        [jobs.alert]
        command = ["true"]
        after = { job = "a", on = "failure" }
        [jobs.log]
        command = ["true"]
        after = { job = "a", on = "always" }
    "#;
    let mut sim = Sim::new(text, at("10:00:00")).runs_fail("a");
    sim.run_until(at("10:00:12"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start a@10:00:10 #1",
            "10:00:11 start alert@10:00:11 #2 after #1",
            "10:00:11 start log@10:00:11 #3 after #1",
        ]
    );
}

#[test]
fn a_list_fires_once_all_its_jobs_have_ended_since_its_last_fire() {
    let text = r#"
        [jobs.often]
        command = ["true"]
        every = "10s"
        [jobs.rarely]
        command = ["true"]
        every = "30s"
        [jobs.both]
        command = ["true"]
        after = ["often", "rarely"]
    "#;
    let mut sim = Sim::new(text, at("10:00:05"));
    sim.run_until(at("10:01:05"));
    let both: Vec<String> = sim
        .lines()
        .into_iter()
        .filter(|l| l.contains("start both"))
        .collect();
    // At :30 both fire and end a second later, `often` first (file order): `rarely`'s end
    // completes the list. `often`'s ends at :11 and :21 alone fire nothing.
    assert_eq!(
        both,
        [
            "10:00:31 start both@10:00:31 #5 after #4",
            "10:01:01 start both@10:01:01 #10 after #9",
        ]
    );
}

#[test]
fn a_chained_fire_goes_through_max_instances_like_any_fire() {
    let text = CHAIN_OF_THREE.replace("after = \"a\"", "after = \"a\"\nmax_instances = 1");
    let mut sim = Sim::new(&text, at("10:00:00")).runs_take("b", TimeDelta::seconds(15));
    sim.run_until(at("10:00:22"));
    assert_eq!(
        sim.lines(),
        [
            "10:00:10 start a@10:00:10 #1",
            "10:00:11 start b@10:00:11 #2 after #1",
            "10:00:20 start a@10:00:20 #3",
            "10:00:21 skip b@10:00:21 running=1",
        ]
    );
}

#[test]
fn paused_chained_jobs_note_nothing_and_a_reload_keeps_unchanged_progress() {
    let text = r#"
        [jobs.a]
        command = ["true"]
        every = "10s"
        [jobs.b]
        command = ["true"]
        every = "15s"
        [jobs.d]
        command = ["true"]
        after = ["a", "b"]
    "#;
    let mut sim = Sim::new(text, at("10:00:00"));
    // a's run ends at 10:00:11; a reload keeps d's progress, and b's end at 10:00:16 fires it.
    sim.run_until(at("10:00:12"));
    reload(&mut sim.planner, text, at("10:00:12"));
    sim.run_until(at("10:00:17"));
    assert!(
        sim.lines()
            .contains(&"10:00:16 start d@10:00:16 #3 after #2".to_owned()),
        "{:?}",
        sim.lines()
    );
    // Paused while a and b end: nothing fires, and nothing is kept for after the resume.
    let paused = text.replace(
        "after = [\"a\", \"b\"]",
        "after = [\"a\", \"b\"]\npaused = true",
    );
    reload(&mut sim.planner, &paused, at("10:00:17"));
    sim.run_until(at("10:00:32"));
    reload(&mut sim.planner, text, at("10:00:32"));
    sim.run_until(at("10:00:40"));
    let d: Vec<String> = sim
        .lines()
        .into_iter()
        .filter(|l| l.contains(" d@"))
        .collect();
    assert_eq!(d, ["10:00:16 start d@10:00:16 #3 after #2"]);
    sim.run_until(at("10:00:47"));
    let d: Vec<String> = sim
        .lines()
        .into_iter()
        .filter(|l| l.contains(" d@"))
        .collect();
    assert_eq!(d.len(), 2, "after the resume, a at :40 and b at :45: {d:?}");
}

#[test]
fn ends_replayed_at_start_fire_what_came_after_the_resume_point_within_grace() {
    let text = "[jobs.a]\ncommand = [\"true\"]\nevery = \"1h\"\n\
                [jobs.d]\ncommand = [\"true\"]\nafter = \"a\"\nmisfire_grace = \"1m\"\n";
    let file = jobfile(text);
    let mut planner = Planner::new(file.jobs, &file.executors, at("10:05:00"), SEED);
    planner.resume("d", at("10:00:00"));
    // Before the resume point: d's past. Then one too late, then two within grace.
    planner.upstream_ended("a", true, at("09:59:00"), 1);
    planner.upstream_ended("a", true, at("10:02:00"), 2);
    planner.upstream_ended("a", true, at("10:04:30"), 3);
    planner.upstream_ended("a", true, at("10:04:40"), 4);
    assert_eq!(planner.next_wake(), Some(at("10:02:00")));
    let events = planner.advance(at("10:05:00"));
    assert_eq!(
        rendered(&events),
        [
            "miss d@10:02:00 late=180s",
            "coalesce d@10:04:30 into 10:04:40",
            "start d@10:04:40 #1",
        ]
    );
    assert_eq!(planner.after_run(1), Some(4));
    assert_eq!(planner.next_wake(), Some(at("11:00:00")));
}

#[test]
fn a_reboot_job_fires_once_when_its_boot_fire_is_given_and_never_by_itself() {
    let text = "[jobs.hello]\ncommand = [\"true\"]\ncron = \"@reboot\"\n\
                [jobs.tick]\ncommand = [\"true\"]\ncron = \"0 * * * *\"\n";
    let file = jobfile(text);
    let mut planner = Planner::new(file.jobs, &file.executors, at("10:00:00"), SEED);
    assert_eq!(planner.next_wake(), Some(at("11:00:00")));
    planner.boot("hello", at("10:00:00"));
    planner.boot("tick", at("10:00:00"));
    assert_eq!(planner.next_wake(), Some(at("10:00:00")));
    assert_eq!(
        rendered(&planner.advance(at("10:00:00.010"))),
        ["start hello@10:00:00 #1"]
    );
    assert_eq!(planner.next_wake(), Some(at("11:00:00")));
    // A boot fire the scheduler reaches too late is missed like any fire.
    let file = jobfile(text);
    let mut late = Planner::new(file.jobs, &file.executors, at("10:00:00"), SEED);
    late.boot("hello", at("09:00:00"));
    assert_eq!(
        rendered(&late.advance(at("10:00:00"))),
        ["miss hello@09:00:00 late=3600s"]
    );
}
