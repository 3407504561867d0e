//! `after` in the jobfile: reading the trigger (a job's name, a `{ job, on }` table, or a list
//! of them), and checking across the file that every named job exists and that no chain of
//! `after` triggers leads back to where it started: such jobs would wait for each other
//! forever, so the file is refused rather than left to never run them. Also the preview of a
//! chained job's fire times, which follows its chain back to jobs with times.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use chrono::{DateTime, Utc};

use super::tree::Item;
use super::value::{Checker, Entry, Field, entries};
use crate::error::did_you_mean;
use crate::job::Job;
use crate::trigger::{On, Trigger, Upstream};

/// One job named by an `after` trigger, and where.
pub(super) struct ChainRef {
    /// The job whose trigger names it.
    job: String,
    upstream: String,
    span: Range<usize>,
    field: String,
}

/// The most jobs of a cycle its message names one by one.
const LONGEST_NAMED: usize = 6;

const SHAPES: &str = "a job's name like \"backup\", a table like { job = \"backup\", on = \"failure\" }, or a list of them";

impl Checker<'_> {
    /// The `after` trigger of `job`.
    pub(super) fn after(&mut self, entry: &Entry<'_>, job: &str) -> Option<Trigger> {
        let item = entry.item;
        let mut upstreams = Vec::new();
        let mut ok = true;
        if item.as_str().is_some() || item.is_table() {
            ok = self.upstream(item, &entry.field, job, &mut upstreams);
        } else if item.is_array() || item.is_array_of_tables() {
            if item.len() == 0 {
                self.error(
                    entry.span.clone(),
                    &entry.field,
                    "after needs at least one job".to_owned(),
                    Some("for example after = [\"backup\", \"vacuum\"]".to_owned()),
                );
                return None;
            }
            for (i, element) in item.elements().enumerate() {
                let field = Field::Index(&entry.field, i);
                ok &= self.upstream(element, &field, job, &mut upstreams);
            }
        } else {
            self.wrong_type(entry, SHAPES, None);
            return None;
        }
        ok.then_some(Trigger::After(upstreams))
    }

    /// One element of `after`; records it and returns whether it is valid.
    fn upstream(
        &mut self,
        item: Item<'_>,
        field: &Field<'_>,
        job: &str,
        upstreams: &mut Vec<Upstream>,
    ) -> bool {
        let span = item.span();
        let (name, name_span, on) = if let Some(name) = item.as_str() {
            (name, span.clone(), Some(On::Success))
        } else if item.is_table() {
            let (mut name, mut on, mut ok) = (None, Some(On::Success), true);
            for e in entries(item, field) {
                match e.key {
                    "job" => {
                        name = self
                            .string(&e, "a job's name like \"backup\"")
                            .map(|n| (n, e.span))
                    }
                    "on" => on = self.word(&e, &On::NAMES, On::parse),
                    _ => {
                        self.unknown_key(&e, "key", &["job", "on"], None);
                        ok = false;
                    }
                }
            }
            let Some((name, name_span)) = name else {
                self.error(
                    span,
                    field,
                    "this table names no job".to_owned(),
                    Some("write { job = \"backup\" }".to_owned()),
                );
                return false;
            };
            (name, name_span, on.filter(|_| ok))
        } else {
            let message = format!("expected {SHAPES}, found {}", item.kind());
            self.error(span, field, message, None);
            return false;
        };
        if upstreams.iter().any(|u| u.job == name) {
            let message = format!("{name:?} is named twice");
            self.error(name_span, field, message, None);
            return false;
        }
        self.chains.push(ChainRef {
            job: job.to_owned(),
            upstream: name.to_owned(),
            span: name_span,
            field: field.to_string(),
        });
        let Some(on) = on else { return false };
        upstreams.push(Upstream {
            job: name.to_owned(),
            on,
        });
        true
    }
}

/// Checks every `after` of the file against its jobs (`names`, those with errors included):
/// an unknown name, a job waiting for itself, and cycles, each reported once, at the name that
/// closes it.
pub(super) fn check_chains(c: &mut Checker<'_>, names: &[&str]) {
    let chains = std::mem::take(&mut c.chains);
    let known: HashSet<&str> = names.iter().copied().collect();
    let mut edges: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, link) in chains.iter().enumerate() {
        let problem = if !known.contains(link.upstream.as_str()) {
            let help = match did_you_mean(&link.upstream, names.iter().copied()) {
                Some(close) => format!("did you mean {close:?}?"),
                None => "after names another job of this jobfile".to_owned(),
            };
            Some((format!("no job named {:?}", link.upstream), help))
        } else if link.upstream == link.job {
            Some((
                format!("job {:?} waits for itself", link.job),
                "a chained job fires after another job's run".to_owned(),
            ))
        } else {
            edges.entry(link.job.as_str()).or_default().push(i);
            None
        };
        if let Some((message, help)) = problem {
            report(c, link, message, help);
        }
    }
    for cycle in cycles(names, &chains, &edges) {
        let close = &chains[cycle[cycle.len() - 1]];
        let mut words = format!("{:?} waits for {:?}", close.job, close.upstream);
        let between = &cycle[..cycle.len() - 1];
        // A long circle is named by its start and its size, not job by job.
        let shown = if between.len() > LONGEST_NAMED {
            &between[..LONGEST_NAMED - 1]
        } else {
            between
        };
        for &link in shown {
            words.push_str(&format!(", which waits for {:?}", chains[link].upstream));
        }
        if shown.len() < between.len() {
            words.push_str(&format!(
                ", and so on: {} jobs in all, back to {:?}",
                cycle.len(),
                close.job
            ));
        }
        report(
            c,
            close,
            format!("after triggers wait for each other in a circle: {words}"),
            "one job of a chain must fire on its own (cron, every, at or @reboot)".to_owned(),
        );
    }
}

fn report(c: &mut Checker<'_>, link: &ChainRef, message: String, help: String) {
    c.errors.push(
        c.source
            .diagnostic(link.span.clone(), &link.field, message, Some(help)),
    );
}

/// The cycles among the links, found by a depth-first walk in file order (with a stack of its
/// own: a chain of ten thousand jobs must not overflow the thread's). Each cycle is the links
/// from the job a back edge leads to around to that back edge, which comes last.
fn cycles(
    names: &[&str],
    chains: &[ChainRef],
    edges: &HashMap<&str, Vec<usize>>,
) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: HashMap<&str, Mark> = names.iter().map(|n| (*n, Mark::New)).collect();
    let mut found = Vec::new();
    for &root in names {
        if mark.get(root) != Some(&Mark::New) {
            continue;
        }
        // (job, index of its next link to follow, the link that led here)
        let mut stack: Vec<(&str, usize, Option<usize>)> = vec![(root, 0, None)];
        mark.insert(root, Mark::Open);
        while let Some(top) = stack.last_mut() {
            let (job, next) = (top.0, top.1);
            let Some(&link) = edges.get(job).and_then(|links| links.get(next)) else {
                mark.insert(job, Mark::Done);
                stack.pop();
                continue;
            };
            top.1 += 1;
            let upstream = chains[link].upstream.as_str();
            match mark.get(upstream).copied() {
                Some(Mark::New) => {
                    mark.insert(upstream, Mark::Open);
                    stack.push((upstream, 0, Some(link)));
                }
                Some(Mark::Open) => {
                    let from = stack
                        .iter()
                        .position(|(j, _, _)| *j == upstream)
                        .unwrap_or(0);
                    let mut cycle: Vec<usize> = stack[from + 1..]
                        .iter()
                        .filter_map(|(_, _, via)| *via)
                        .collect();
                    cycle.push(link);
                    found.push(cycle);
                }
                _ => {}
            }
        }
    }
    found
}

/// Fire times for previews (`next`, `list`, `explain`) of jobs whose triggers are events. A
/// chained job fires when its upstreams' runs end, so its preview is each instant at which
/// the last of the time-triggered jobs its chain goes back to (its *roots*) has fired, as if
/// runs took no time; a chain that goes back to a `@reboot` job fires at boot instead.
pub struct ChainPreview<'j> {
    /// Per chained job, its roots: the jobs with time triggers (or `@reboot`) its chain goes
    /// back to.
    roots: HashMap<&'j str, Vec<&'j Job>>,
}

impl<'j> ChainPreview<'j> {
    pub fn new(jobs: &'j [Job]) -> ChainPreview<'j> {
        let by_name: HashMap<&str, &Job> = jobs.iter().map(|j| (j.name.as_str(), j)).collect();
        let chained = |job: &Job| !job.trigger.upstreams().is_empty();
        let mut roots: HashMap<&'j str, Vec<&'j Job>> = HashMap::new();
        // Each job's roots are its upstreams' (or the upstreams themselves), found once, in
        // an order where upstreams come first: a stack of its own, so a chain of ten
        // thousand jobs costs ten thousand steps and no deep recursion. `open` guards against
        // a cycle, which the loader refuses anyway.
        let mut open: HashSet<&str> = HashSet::new();
        for job in jobs.iter().filter(|j| chained(j)) {
            let mut stack = vec![(job, false)];
            while let Some((job, expanded)) = stack.pop() {
                let name = job.name.as_str();
                if roots.contains_key(name) {
                    continue;
                }
                let upstreams = job.trigger.upstreams().iter();
                let upstreams = upstreams.filter_map(|u| by_name.get(u.job.as_str()).copied());
                if !expanded {
                    open.insert(name);
                    stack.push((job, true));
                    stack.extend(
                        upstreams
                            .filter(|u| chained(u) && !open.contains(u.name.as_str()))
                            .map(|u| (u, false)),
                    );
                    continue;
                }
                let mut found: Vec<&Job> = Vec::new();
                for upstream in upstreams {
                    let theirs = match roots.get(upstream.name.as_str()) {
                        Some(theirs) => theirs.as_slice(),
                        None if !chained(upstream) => std::slice::from_ref(&upstream),
                        None => &[],
                    };
                    for root in theirs {
                        if !found.iter().any(|f| f.name == root.name) {
                            found.push(root);
                        }
                    }
                }
                roots.insert(name, found);
            }
        }
        ChainPreview { roots }
    }

    /// The job's first fire after `t`: its own trigger's, or a chained job's as above.
    pub fn next_after(&self, job: &Job, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let Some(roots) = self.roots.get(job.name.as_str()) else {
            return job.next_after(t);
        };
        if self.at_boot(job) {
            return None;
        }
        let mut last = None;
        for root in roots {
            let fire = root.next_after(t)?;
            last = last.max(Some(fire));
        }
        last.filter(|&fire| job.in_window(fire))
    }

    /// Whether the job fires at boot: a `@reboot` job, or one chained after one.
    pub fn at_boot(&self, job: &Job) -> bool {
        let reboot = |j: &Job| matches!(j.trigger, Trigger::Reboot);
        reboot(job)
            || self
                .roots
                .get(job.name.as_str())
                .is_some_and(|roots| roots.iter().any(|r| reboot(r)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::jobfile::parse;
    use crate::trigger::{On, Trigger, Upstream};
    use crate::zone::Tz;

    fn upstreams(text: &str) -> Vec<Upstream> {
        let file = parse(Path::new("jobrun.toml"), text, Tz::UTC).unwrap_or_else(|d| panic!("{d}"));
        match &file.job("d").unwrap().trigger {
            Trigger::After(upstreams) => upstreams.clone(),
            other => panic!("not an after trigger: {other:?}"),
        }
    }

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("jobrun.toml"), text, Tz::UTC)
            .expect_err("invalid")
            .errors
            .iter()
            .map(|e| e.message.clone())
            .collect()
    }

    const UPSTREAMS: &str = "[jobs.a]\ncron = \"0 3 * * *\"\ncommand = [\"a\"]\n\
                             [jobs.b]\nevery = \"1h\"\ncommand = [\"b\"]\n";

    fn up(job: &str, on: On) -> Upstream {
        Upstream {
            job: job.to_owned(),
            on,
        }
    }

    #[test]
    fn after_takes_a_name_a_table_or_a_list_of_both() {
        let with = |after: &str| {
            upstreams(&format!(
                "{UPSTREAMS}[jobs.d]\nafter = {after}\ncommand = [\"d\"]\n"
            ))
        };
        assert_eq!(with("\"a\""), [up("a", On::Success)]);
        assert_eq!(
            with("{ job = \"a\", on = \"failure\" }"),
            [up("a", On::Failure)]
        );
        assert_eq!(
            with("[\"a\", { job = \"b\", on = \"always\" }]"),
            [up("a", On::Success), up("b", On::Always)]
        );
        let tables = format!(
            "{UPSTREAMS}[jobs.d]\ncommand = [\"d\"]\n[[jobs.d.after]]\njob = \"b\"\n[[jobs.d.after]]\njob = \"a\"\non = \"failure\"\n"
        );
        assert_eq!(
            upstreams(&tables),
            [up("b", On::Success), up("a", On::Failure)]
        );
    }

    #[test]
    fn malformed_after_values_are_refused_at_their_place() {
        let with = |after: &str| {
            errors(&format!(
                "{UPSTREAMS}[jobs.d]\nafter = {after}\ncommand = [\"d\"]\n"
            ))
        };
        assert_eq!(with("[]"), ["after needs at least one job"]);
        assert_eq!(with("[\"a\", \"a\"]"), ["\"a\" is named twice"]);
        assert_eq!(with("{ on = \"failure\" }"), ["this table names no job"]);
        assert_eq!(
            with("{ job = \"a\", when = \"failure\" }"),
            ["unknown key \"when\""]
        );
        assert_eq!(
            with("3"),
            [
                "expected a job's name like \"backup\", a table like { job = \"backup\", on = \"failure\" }, or a list of them, found an integer"
            ]
        );
        assert_eq!(
            errors("[jobs.d]\nall = [{ after = \"d\" }]\ncommand = [\"d\"]\n"),
            ["after fires when other jobs end, not at times: it cannot be a part of all or any"]
        );
    }

    #[test]
    fn a_name_of_a_job_with_errors_is_not_unknown() {
        let text = "[jobs.a]\ncron = \"0 0 32 * *\"\ncommand = [\"a\"]\n\
                    [jobs.d]\nafter = \"a\"\ncommand = [\"d\"]\n";
        assert_eq!(
            errors(text),
            ["day-of-month value 32 is out of range (expected 1-31)"]
        );
    }

    #[test]
    fn a_diamond_is_no_cycle_and_each_cycle_is_reported_once() {
        let diamond = "[jobs.top]\nevery = \"1h\"\ncommand = [\"x\"]\n\
                       [jobs.left]\nafter = \"top\"\ncommand = [\"x\"]\n\
                       [jobs.right]\nafter = \"top\"\ncommand = [\"x\"]\n\
                       [jobs.d]\nafter = [\"left\", \"right\"]\ncommand = [\"x\"]\n";
        assert_eq!(
            upstreams(diamond),
            [up("left", On::Success), up("right", On::Success)]
        );
        let two = "[jobs.a]\nafter = \"b\"\ncommand = [\"x\"]\n[jobs.b]\nafter = \"a\"\ncommand = [\"x\"]\n\
                   [jobs.c]\nafter = [\"a\", \"e\"]\ncommand = [\"x\"]\n\
                   [jobs.e]\nafter = \"c\"\ncommand = [\"x\"]\n";
        assert_eq!(
            errors(two),
            [
                "after triggers wait for each other in a circle: \"b\" waits for \"a\", which waits for \"b\"",
                "after triggers wait for each other in a circle: \"e\" waits for \"c\", which waits for \"e\"",
            ]
        );
    }

    fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn a_chained_job_previews_at_the_last_of_the_time_jobs_its_chain_goes_back_to() {
        let text = "[jobs.early]\ncron = \"0 1 * * *\"\ncommand = [\"x\"]\n\
                    [jobs.late]\ncron = \"0 5 * * *\"\ncommand = [\"x\"]\n\
                    [jobs.mid]\nafter = \"early\"\ncommand = [\"x\"]\n\
                    [jobs.d]\nafter = [\"mid\", \"late\"]\ncommand = [\"x\"]\n\
                    [jobs.boot]\ncron = \"@reboot\"\ncommand = [\"x\"]\n\
                    [jobs.b]\nafter = [\"boot\", \"early\"]\ncommand = [\"x\"]\n";
        let file = parse(Path::new("jobrun.toml"), text, Tz::UTC).unwrap();
        let preview = super::ChainPreview::new(&file.jobs);
        let job = |name| file.job(name).unwrap();
        let from = utc("2026-05-01T00:00:00Z");
        assert_eq!(
            preview.next_after(job("mid"), from),
            Some(utc("2026-05-01T01:00:00Z"))
        );
        assert_eq!(
            preview.next_after(job("d"), from),
            Some(utc("2026-05-01T05:00:00Z"))
        );
        assert_eq!(
            preview.next_after(job("early"), from),
            Some(utc("2026-05-01T01:00:00Z"))
        );
        assert_eq!(preview.next_after(job("b"), from), None);
        let at_boot: Vec<&str> = file
            .jobs
            .iter()
            .filter(|j| preview.at_boot(j))
            .map(|j| j.name.as_str())
            .collect();
        assert_eq!(at_boot, ["boot", "b"]);
    }

    #[test]
    fn a_chain_of_ten_thousand_jobs_is_checked_without_deep_recursion() {
        let mut text = String::from("[jobs.j0]\nevery = \"1h\"\ncommand = [\"x\"]\n");
        for i in 1..10_000 {
            text.push_str(&format!(
                "[jobs.j{i}]\nafter = \"j{}\"\ncommand = [\"x\"]\n",
                i - 1
            ));
        }
        let file = parse(Path::new("jobrun.toml"), &text, Tz::UTC).unwrap();
        assert_eq!(file.jobs.len(), 10_000);
        let preview = super::ChainPreview::new(&file.jobs);
        let from = utc("2026-05-01T00:00:00Z");
        assert_eq!(
            preview.next_after(file.job("j9999").unwrap(), from),
            Some(utc("2026-05-01T01:00:00Z"))
        );
        // Closing the loop makes one cycle of all of them.
        text = text.replacen("every = \"1h\"", "after = \"j9999\"", 1);
        let found = errors(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0],
            "after triggers wait for each other in a circle: \"j1\" waits for \"j0\", which \
             waits for \"j9999\", which waits for \"j9998\", which waits for \"j9997\", which \
             waits for \"j9996\", which waits for \"j9995\", and so on: 10000 jobs in all, \
             back to \"j1\""
        );
    }
}
