//! `after` in the jobfile: reading the trigger (a job's name, a `{ job, on }` table, or a list
//! of them), and checking across the file that every named job exists and that no chain of
//! `after` triggers leads back to where it started: such jobs would wait for each other
//! forever, so the file is refused rather than left to never run them.

use std::collections::HashMap;
use std::ops::Range;

use super::tree::Item;
use super::value::{Checker, Entry, Field, entries};
use crate::error::did_you_mean;
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
    let mut edges: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, link) in chains.iter().enumerate() {
        let problem = if !names.contains(&link.upstream.as_str()) {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono_tz::Tz;

    use crate::jobfile::parse;
    use crate::trigger::{On, Trigger, Upstream};

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

    #[test]
    fn a_chain_of_ten_thousand_jobs_is_checked_without_deep_recursion() {
        let mut text = String::from("[jobs.j0]\nevery = \"1h\"\ncommand = [\"x\"]\n");
        for i in 1..10_000 {
            text.push_str(&format!(
                "[jobs.j{i}]\nafter = \"j{}\"\ncommand = [\"x\"]\n",
                i - 1
            ));
        }
        assert_eq!(
            parse(Path::new("jobrun.toml"), &text, Tz::UTC)
                .unwrap()
                .jobs
                .len(),
            10_000
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
