//! The trigger of a job: exactly one of `cron`, `every`, `at`, `all`, `any`, `after`, where
//! `all`/`any` hold parts that are triggers themselves (and nest). Every part reads wall-clock
//! times in the job's zone, and every `every` is anchored at the job's `start`. The event
//! triggers, `cron = "@reboot"` and `after` (read in `chain.rs`), are a job's whole trigger,
//! never a part: a part must have times for `all` to align and `any` to merge.

use std::fmt;
use std::ops::Range;

use chrono::{DateTime, TimeDelta, Utc};

use super::value::{Checker, Entry, Field, entries};
use crate::trigger::{At, CronTrigger, Every, SEARCH_STEPS, Search, Trigger};
use crate::zone::Tz;

pub(super) const TRIGGER_KEYS: [&str; 6] = ["cron", "every", "at", "all", "any", "after"];

/// What a job's trigger needs from the rest of the job.
pub(super) struct TriggerContext {
    pub(super) tz: Tz,
    pub(super) start: Option<DateTime<Utc>>,
}

/// The table a trigger key sits in: a job, or a part of `all`/`any`.
pub(super) struct Owner<'a> {
    pub(super) name: OwnerName<'a>,
    pub(super) span: Range<usize>,
    pub(super) field: &'a Field<'a>,
}

/// How messages name an [`Owner`]: `job "report"`, `this part`.
#[derive(Clone, Copy)]
pub(super) enum OwnerName<'a> {
    Job(&'a str),
    Part,
}

impl fmt::Display for OwnerName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerName::Job(name) => write!(f, "job {name:?}"),
            OwnerName::Part => f.write_str("this part"),
        }
    }
}

impl Checker<'_> {
    /// The trigger of a table whose trigger keys are `first` and then `rest` (in file order):
    /// the first one, with an error at each further one and at the table when there is none.
    /// (`rest` is apart so that the usual single trigger costs no allocation.)
    pub(super) fn one_trigger(
        &mut self,
        first: Option<&Entry<'_>>,
        rest: &[Entry<'_>],
        owner: &Owner<'_>,
        ctx: &TriggerContext,
    ) -> Option<Trigger> {
        let Some(first) = first else {
            self.error(
                owner.span.clone(),
                owner.field,
                format!(
                    "{} has no trigger (expected one of cron, every, at, all, any, after)",
                    owner.name
                ),
                None,
            );
            return None;
        };
        for extra in rest {
            self.error(
                extra.key_span.clone(),
                &extra.field,
                format!("{} has two triggers ({} and {})", owner.name, first.key, extra.key),
                Some("keep one, or combine them: any = [...] fires at each part's times, all = [...] when every part agrees".to_owned()),
            );
        }
        let trigger = self.trigger(first, owner, ctx);
        if rest.is_empty() { trigger } else { None }
    }

    fn trigger(
        &mut self,
        entry: &Entry<'_>,
        owner: &Owner<'_>,
        ctx: &TriggerContext,
    ) -> Option<Trigger> {
        match entry.key {
            "cron" if entry.item.as_str().is_some_and(is_reboot) => self.reboot(entry, owner),
            "cron" => self.cron(entry, ctx.tz),
            "after" => match owner.name {
                OwnerName::Job(job) => self.after(entry, job),
                OwnerName::Part => {
                    self.not_a_part(entry, "after fires when other jobs end, not at times");
                    None
                }
            },
            "every" => {
                let interval = self.duration(entry, "90s")?;
                if interval.as_secs() == 0 {
                    self.error(
                        entry.span.clone(),
                        &entry.field,
                        "an interval must be at least 1s".to_owned(),
                        None,
                    );
                    return None;
                }
                Some(Trigger::Every(Every::new(interval, ctx.start)))
            }
            "at" => self.instant(entry, ctx.tz).map(|t| Trigger::At(At::new(t))),
            "all" => {
                let all = Trigger::All(self.parts(entry, ctx)?);
                self.agrees_somewhere(&all, entry, ctx)?;
                Some(all)
            }
            _ => self.parts(entry, ctx).map(Trigger::Any),
        }
    }

    /// `cron = "@reboot"`: a job's own trigger, never a part.
    fn reboot(&mut self, entry: &Entry<'_>, owner: &Owner<'_>) -> Option<Trigger> {
        match owner.name {
            OwnerName::Job(_) => Some(Trigger::Reboot),
            OwnerName::Part => {
                self.not_a_part(entry, "@reboot fires once per boot, not at times");
                None
            }
        }
    }

    /// An event trigger written as a part of `all`/`any`.
    fn not_a_part(&mut self, entry: &Entry<'_>, why: &str) {
        self.error(
            entry.span.clone(),
            &entry.field,
            format!("{why}: it cannot be a part of all or any"),
            Some("make it the job's own trigger, in a job of its own".to_owned()),
        );
    }

    /// An `all` whose parts never agree is an error, as a cron expression that matches no date
    /// is: it would pass `check` and then never fire. Searched from the job's `start`, else from
    /// the Unix epoch (not the clock: loading reads none), within the search budget every fire
    /// time computation has, so the answer is "no common fire within that much work".
    fn agrees_somewhere(
        &mut self,
        all: &Trigger,
        entry: &Entry<'_>,
        ctx: &TriggerContext,
    ) -> Option<()> {
        let from = ctx.start.unwrap_or(DateTime::UNIX_EPOCH) - TimeDelta::nanoseconds(1);
        if all.search_after(from) != Search::GaveUp {
            return Some(());
        }
        self.error(
            entry.key_span.clone(),
            &entry.field,
            format!(
                "this trigger never fires: its parts never agree (no instant at which every part \
                 fires was found within {SEARCH_STEPS} steps)"
            ),
            Some(
                "all fires only when every part fires at the same second; any = [...] fires at \
                 each part's times"
                    .to_owned(),
            ),
        );
        None
    }

    fn cron(&mut self, entry: &Entry<'_>, tz: Tz) -> Option<Trigger> {
        let text = self.string(entry, "a string like \"0 3 * * *\"")?;
        match self.cron_expr(text) {
            Ok(expr) => Some(Trigger::Cron(CronTrigger::shared(expr, tz))),
            Err(e) => {
                let span = token_span(self.source.text(), &entry.span, text, &e.span);
                self.error(span, &entry.field, e.message, None);
                None
            }
        }
    }

    /// The parts of `all`/`any`: an array of inline tables, or `[[jobs.x.all]]` tables.
    fn parts(&mut self, entry: &Entry<'_>, ctx: &TriggerContext) -> Option<Vec<Trigger>> {
        if !entry.item.is_array() && !entry.item.is_array_of_tables() {
            self.wrong_type(
                entry,
                "an array of triggers like [{ cron = \"0 9 * * *\" }, { every = \"1h\" }]",
                None,
            );
            return None;
        }
        if entry.item.len() == 0 {
            let example = format!(
                "{} = [{{ cron = \"*/10 * * * *\" }}, {{ cron = \"* 8-11 * * MON-FRI\" }}]",
                entry.key
            );
            self.error(
                entry.span.clone(),
                &entry.field,
                format!("{} needs at least one trigger", entry.key),
                Some(format!("for example {example}")),
            );
            return None;
        }
        let mut parts = Vec::with_capacity(entry.item.len());
        let mut ok = true;
        for (i, element) in entry.item.elements().enumerate() {
            let field = Field::Index(&entry.field, i);
            let span = element.span();
            if !element.is_table() {
                let kind = element.kind();
                let raw = self
                    .source
                    .text()
                    .get(span.clone())
                    .unwrap_or_default()
                    .to_owned();
                let help = (kind == "a string")
                    .then(|| format!("write {{ cron = {raw} }} for a cron expression"));
                self.error(
                    span,
                    &field,
                    format!("expected a trigger like {{ cron = \"0 9 * * *\" }}, found {kind}"),
                    help,
                );
                ok = false;
                continue;
            }
            let mut keys = Vec::new();
            for key in entries(element, &field) {
                if TRIGGER_KEYS.contains(&key.key) {
                    keys.push(key);
                } else {
                    let help = format!(
                        "each part of {} holds one trigger: cron, every, at, all or any",
                        entry.key
                    );
                    let help = if key.key == "timezone" {
                        format!("{help}; every part uses the job's timezone")
                    } else {
                        help
                    };
                    self.unknown_key(&key, "key", &TRIGGER_KEYS, Some(help));
                    ok = false;
                }
            }
            let owner = Owner {
                name: OwnerName::Part,
                span,
                field: &field,
            };
            let (first, rest) = match keys.split_first() {
                Some((first, rest)) => (Some(first), rest),
                None => (None, &[][..]),
            };
            match self.one_trigger(first, rest, &owner, ctx) {
                Some(part) => parts.push(part),
                None => ok = false,
            }
        }
        ok.then_some(parts)
    }
}

/// Whether a cron value is `@reboot` (macros are read in any case, as the cron parser does).
fn is_reboot(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("@reboot")
}

/// Where a problem at `token` (a byte range inside the string `value`) is in the file: exactly
/// under the token when the string is written without escapes, else the whole value.
pub(super) fn token_span(
    text: &str,
    value_span: &Range<usize>,
    value: &str,
    token: &Range<usize>,
) -> Range<usize> {
    let raw = text.get(value_span.clone()).unwrap_or_default();
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if raw.len() >= 2 * quote.len() && raw.starts_with(quote) && raw.ends_with(quote) {
            let inner = &raw[quote.len()..raw.len() - quote.len()];
            if inner == value && token.start <= token.end && token.end <= value.len() {
                let start = value_span.start + quote.len();
                return start + token.start..start + token.end;
            }
            break;
        }
    }
    value_span.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_inside_plain_quotes() {
        let text = "cron = \"0 0 32 * *\"\n";
        let span = 7..19;
        assert_eq!(&text[token_span(text, &span, "0 0 32 * *", &(4..6))], "32");
        let text = "cron = '0 0 32 * *'\n";
        assert_eq!(&text[token_span(text, &span, "0 0 32 * *", &(4..6))], "32");
    }

    #[test]
    fn with_escapes_the_whole_value_is_marked() {
        let text = "cron = \"0 0 \\u0033 * *\"\n";
        let span = 7..text.len() - 1;
        assert_eq!(token_span(text, &span, "0 0 3 * *", &(4..5)), span);
    }
}
