//! `jobrun next`: preview fire times, of the jobfile's jobs or of an ad-hoc trigger.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

use chrono::{DateTime, TimeZone, Utc};

use super::{check_names, load_jobfile, parse_instant, parse_zone};
use crate::cli::{Format, NextArgs};
use crate::context::Context;
use crate::error::Error;
use crate::jobfile::ChainPreview;
use crate::output::{self, Cell, Column, Layout, Paint, Style, push_rfc3339, push_rfc3339_offset};
use crate::trigger::{At, CronExpr, CronTrigger, Every, Trigger};
use crate::zone::Tz;

/// One fire time of the preview: when, and which source (job or ad-hoc trigger) it is of.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Fire(u64);

/// Bits of a `Fire` that hold the source index; the time sits above them.
const SOURCE_BITS: u32 = 22;
/// The most sources one preview can hold (four million jobs: far beyond any real jobfile).
const MAX_SOURCES: usize = 1 << SOURCE_BITS;
/// Times are stored biased so that 42 bits cover ±69,000 years around 1970, beyond every
/// instant jobrun can produce (TOML years have four digits, searches look 401 years ahead).
const TIME_BIAS: i64 = 1 << 41;

impl Fire {
    /// Packs (time, source) so that sorting the integers sorts by time, then source: several
    /// times faster than sorting pairs, which shows with a hundred thousand fire times.
    fn new(unix: i64, source: usize) -> Fire {
        debug_assert!(source < MAX_SOURCES && (-TIME_BIAS..TIME_BIAS).contains(&unix));
        Fire(((unix + TIME_BIAS) as u64) << SOURCE_BITS | source as u64)
    }

    fn unix(self) -> i64 {
        (self.0 >> SOURCE_BITS) as i64 - TIME_BIAS
    }

    fn source(self) -> usize {
        (self.0 & (MAX_SOURCES as u64 - 1)) as usize
    }
}

/// What a preview is computed from: a label and zone per source, and its trigger.
struct Source<'a> {
    name: Option<&'a str>,
    /// What the human table shows in the JOB column when it is more than the name: a chained
    /// job's `report (after backup)`, whose times are its upstreams' fires.
    label: Option<String>,
    tz: Tz,
    next_after: Box<dyn Fn(DateTime<Utc>) -> Option<DateTime<Utc>> + Sync + 'a>,
}

impl Source<'_> {
    /// The JOB column's text.
    fn shown_name(&self) -> &str {
        self.label.as_deref().or(self.name).unwrap_or_default()
    }
}

pub(super) fn run(ctx: &Context, args: &NextArgs) -> Result<(), Error> {
    let adhoc = adhoc_trigger(ctx, args)?;
    let from_tz = adhoc.as_ref().map_or(ctx.local_tz, |(_, tz)| *tz);
    let from = match &args.from {
        Some(text) => parse_instant("--from", text, from_tz)?,
        None => ctx.now,
    };
    let jobfile;
    let preview;
    let mut hidden_paused = Vec::new();
    let mut at_boot = Vec::new();
    let sources: Vec<Source<'_>> = match &adhoc {
        Some((trigger, tz)) => {
            vec![Source {
                name: None,
                label: None,
                tz: *tz,
                next_after: Box::new(move |t| trigger.next_after(t)),
            }]
        }
        None => {
            jobfile = load_jobfile(ctx)?;
            check_names(&jobfile, &args.names)?;
            preview = ChainPreview::new(&jobfile.jobs);
            let preview = &preview;
            let mut sources = Vec::new();
            for job in &jobfile.jobs {
                let named = args.names.contains(&job.name);
                if !args.names.is_empty() && !named {
                    continue;
                }
                if job.paused && !named {
                    hidden_paused.push(job.name.as_str());
                    continue;
                }
                if preview.at_boot(job) {
                    at_boot.push(job.name.as_str());
                    continue;
                }
                let chained = !job.trigger.upstreams().is_empty();
                sources.push(Source {
                    name: Some(job.name.as_str()),
                    label: chained.then(|| format!("{} ({})", job.name, job.trigger.describe())),
                    tz: job.timezone,
                    next_after: Box::new(move |t| preview.next_after(job, t)),
                });
            }
            sources
        }
    };

    if sources.len() >= MAX_SOURCES {
        return Err(Error::Argument {
            flag: "NAME",
            message: format!(
                "cannot preview more than {} jobs at once; name the ones to show",
                MAX_SOURCES - 1
            ),
        });
    }
    let format = args.output.format();
    let human = (format == Format::Human).then(|| Human::new(ctx, &sources, adhoc.is_some()));
    let stdout = std::io::stdout();
    let mut out = Out::new(stdout.lock());
    let fires = Fires::new(&sources, from, args.count);
    let mut line = Vec::with_capacity(128);
    let mut shown = 0u64;
    if let Some(human) = &human {
        out.write(human.header.as_bytes())?;
    } else if format == Format::Json {
        out.write(b"[")?;
    }
    let several = sources.len() > 1;
    for fire in fires {
        line.clear();
        let source = &sources[fire.source()];
        match &human {
            Some(human) => human.line(&mut line, fire, source.tz, from),
            None if format == Format::Json => json_fire(&mut line, fire, source, shown == 0),
            None => {
                push_rfc3339(&mut line, instant(fire.unix()), source.tz);
                if several {
                    line.push(b'\t');
                    line.extend_from_slice(source.name.unwrap_or_default().as_bytes());
                }
                line.push(b'\n');
            }
        }
        shown += 1;
        if !out.write(&line)? {
            return Ok(());
        }
    }
    let end = match format {
        Format::Json if shown == 0 => "]\n".to_owned(),
        Format::Json => "\n]\n".to_owned(),
        Format::Plain => String::new(),
        Format::Human => human_footer(shown, adhoc.is_some(), &sources, &hidden_paused, &at_boot),
    };
    out.write(end.as_bytes())?;
    out.flush()
}

/// Buffered stdout that treats a closed pipe as the reader being done: `write` says whether
/// to go on.
struct Out<W: Write> {
    inner: std::io::BufWriter<W>,
    closed: bool,
}

impl<W: Write> Out<W> {
    fn new(inner: W) -> Out<W> {
        Out {
            inner: std::io::BufWriter::with_capacity(64 * 1024, inner),
            closed: false,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<bool, Error> {
        if self.closed {
            return Ok(false);
        }
        match self.inner.write_all(bytes) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(false)
            }
            Err(e) => Err(Error::Output(e)),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        match self.inner.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output(e)),
            _ => Ok(()),
        }
    }
}

/// The fires of every source after `from`, in time order (ties in source order, the
/// jobfile's), at most `count` per source, computed as they are taken: memory holds one
/// pending fire per source, whatever `count` is, so `-n 18446744073709551615 | head -2`
/// prints at once.
struct Fires<'s, 'a> {
    sources: &'s [Source<'a>],
    pending: BinaryHeap<Reverse<Fire>>,
    /// How many more fires each source may give.
    left: Vec<usize>,
}

impl<'s, 'a> Fires<'s, 'a> {
    fn new(sources: &'s [Source<'a>], from: DateTime<Utc>, count: usize) -> Fires<'s, 'a> {
        let mut fires = Fires {
            sources,
            pending: BinaryHeap::with_capacity(sources.len()),
            left: vec![count; sources.len()],
        };
        for index in 0..sources.len() {
            fires.advance(index, from);
        }
        fires
    }

    /// Queues the source's first fire after `after`, if it has one left.
    fn advance(&mut self, index: usize, after: DateTime<Utc>) {
        if self.left[index] == 0 {
            return;
        }
        if let Some(next) = (self.sources[index].next_after)(after) {
            self.left[index] -= 1;
            self.pending
                .push(Reverse(Fire::new(next.timestamp(), index)));
        }
    }
}

impl Iterator for Fires<'_, '_> {
    type Item = Fire;

    fn next(&mut self) -> Option<Fire> {
        let Reverse(fire) = self.pending.pop()?;
        self.advance(fire.source(), instant(fire.unix()));
        Some(fire)
    }
}

/// The trigger and zone of `--cron`, `--every` or `--at`, if one was given.
fn adhoc_trigger(ctx: &Context, args: &NextArgs) -> Result<Option<(Trigger, Tz)>, Error> {
    let tz = match &args.tz {
        Some(name) => parse_zone("--tz", name)?,
        None => ctx.local_tz,
    };
    let trigger = if let Some(expr) = &args.cron {
        let expr = CronExpr::parse(expr).map_err(|e| Error::Argument {
            flag: "--cron",
            message: e.message,
        })?;
        Trigger::Cron(CronTrigger::new(expr, tz))
    } else if let Some(interval) = &args.every {
        let interval: crate::duration::Duration =
            interval
                .parse()
                .map_err(|e: crate::duration::DurationError| Error::Argument {
                    flag: "--every",
                    message: e.to_string(),
                })?;
        if interval.as_secs() == 0 {
            return Err(Error::Argument {
                flag: "--every",
                message: "an interval must be at least 1s".into(),
            });
        }
        Trigger::Every(Every::new(interval, None))
    } else if let Some(at) = &args.at {
        Trigger::At(At::parse(at, tz).map_err(|e| Error::Argument {
            flag: "--at",
            message: e.to_string(),
        })?)
    } else {
        return Ok(None);
    };
    Ok(Some((trigger, tz)))
}

fn instant(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

/// One element of the JSON array, pretty-printed as serde_json prints an array of objects.
fn json_fire(out: &mut Vec<u8>, fire: Fire, source: &Source<'_>, first: bool) {
    out.extend_from_slice(if first { b"\n  {\n" } else { b",\n  {\n" });
    out.extend_from_slice(b"    \"job\": ");
    match source.name {
        // Serialising a string into a Vec cannot fail.
        Some(name) => {
            let _ = serde_json::to_writer(&mut *out, name);
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\n    \"time\": \"");
    push_rfc3339(out, instant(fire.unix()), source.tz);
    out.extend_from_slice(b"\",\n    \"timezone\": \"");
    out.extend_from_slice(source.tz.name().as_bytes());
    out.extend_from_slice(b"\",\n    \"unix\": ");
    out.extend_from_slice(fire.unix().to_string().as_bytes());
    out.extend_from_slice(b"\n  }");
}

/// The human table, laid out before the first fire is known: the TIME column has one width,
/// and the JOB and ZONE cells of each source are the same on all its lines, so each is
/// padded (or cut to the terminal) once.
struct Human {
    header: String,
    /// Per source: the cells between TIME and IN, with their separators.
    middle: Vec<String>,
    /// Whether the IN column is shown.
    relative: bool,
}

/// `2026-03-07 13:00:00-05:00`: every fire's TIME has this width.
const TIME_WIDTH: usize = 25;

impl Human {
    fn new(ctx: &Context, sources: &[Source<'_>], adhoc: bool) -> Human {
        let mut columns = vec![Column::new("TIME")];
        let mut natural = vec![TIME_WIDTH];
        if !adhoc {
            columns.push(Column::new("JOB").shrink(8));
            natural.push(
                sources
                    .iter()
                    .map(|s| output::width(s.shown_name()))
                    .max()
                    .unwrap_or(0)
                    .max(3),
            );
            columns.push(Column::new("ZONE").drop(0));
            natural.push(
                sources
                    .iter()
                    .map(|s| s.tz.name().len())
                    .max()
                    .unwrap_or(0)
                    .max(4),
            );
        }
        columns.push(Column::new("IN").drop(1));
        // "in 99999d 23h": relative times are at most this wide in practice (273 years).
        natural.push(13);
        let layout = Layout::fit(&columns, &natural, ctx.width);
        let mut header = String::new();
        let titles: Vec<Cell> = columns
            .iter()
            .map(|c| Cell::painted(c.title, Paint::Header))
            .collect();
        layout.line(&titles, ctx.style, &mut header);
        let relative = layout.shown(columns.len() - 1);
        let time = "x".repeat(TIME_WIDTH);
        let middle = sources
            .iter()
            .map(|source| {
                if adhoc {
                    return "  ".to_owned();
                }
                // The source's line with placeholders for TIME and IN: its middle part.
                let mut line = String::new();
                let cells = [
                    Cell::from(time.as_str()),
                    Cell::from(source.shown_name()),
                    Cell::from(source.tz.name()),
                    Cell::from("x"),
                ];
                layout.line(&cells, Style::default(), &mut line);
                let line = &line[TIME_WIDTH..line.len() - 1];
                line.strip_suffix('x').unwrap_or(line).to_owned()
            })
            .collect();
        Human {
            header,
            middle,
            relative,
        }
    }

    fn line(&self, out: &mut Vec<u8>, fire: Fire, tz: Tz, from: DateTime<Utc>) {
        let at = instant(fire.unix());
        let offset =
            chrono::Offset::fix(&tz.offset_from_utc_datetime(&at.naive_utc())).local_minus_utc();
        push_rfc3339_offset(out, fire.unix(), offset, b' ');
        let middle = &self.middle[fire.source()];
        if self.relative {
            out.extend_from_slice(middle.as_bytes());
            output::push_relative(out, fire.unix() - from.timestamp());
        } else {
            out.extend_from_slice(middle.trim_end().as_bytes());
        }
        out.push(b'\n');
    }
}

/// What follows the table: why it is empty, and which paused jobs and jobs that fire at boot
/// it leaves out.
fn human_footer(
    shown: u64,
    adhoc: bool,
    sources: &[Source<'_>],
    hidden_paused: &[&str],
    at_boot: &[&str],
) -> String {
    let mut text = String::new();
    if shown == 0 && (adhoc || !sources.is_empty()) {
        text.push_str("no fire times ahead\n");
    } else if shown == 0 && at_boot.is_empty() {
        text.push_str("no jobs to preview\n");
    }
    if !hidden_paused.is_empty() {
        let noun = if hidden_paused.len() == 1 {
            "job"
        } else {
            "jobs"
        };
        text.push_str(&format!(
            "({} paused {noun} not shown: {}; name a job to preview it anyway)\n",
            hidden_paused.len(),
            hidden_paused.join(", ")
        ));
    }
    if !at_boot.is_empty() {
        text.push_str(&format!(
            "(at boot, not at a time: {}; they run at the first jobrun start after the system \
             starts)\n",
            at_boot.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_sort_by_time_then_source_across_the_whole_range() {
        let mut fires = [
            Fire::new(5, 2),
            Fire::new(-TIME_BIAS, 7),
            Fire::new(5, 1),
            Fire::new(TIME_BIAS - 1, MAX_SOURCES - 1),
            Fire::new(-1, 0),
        ];
        fires.sort_unstable();
        let pairs: Vec<(i64, usize)> = fires.iter().map(|f| (f.unix(), f.source())).collect();
        assert_eq!(
            pairs,
            [
                (-TIME_BIAS, 7),
                (-1, 0),
                (5, 1),
                (5, 2),
                (TIME_BIAS - 1, MAX_SOURCES - 1)
            ]
        );
    }

    #[test]
    fn fires_stream_in_time_order_then_source_order_with_a_count_per_source() {
        let trigger = |expr: &str, tz: &str| {
            Trigger::Cron(CronTrigger::new(
                CronExpr::parse(expr).unwrap(),
                tz.parse().unwrap(),
            ))
        };
        let triggers: Vec<Trigger> = (0..300)
            .map(|i| match i % 3 {
                0 => trigger("*/7 * * * *", "America/New_York"),
                1 => trigger("0 3 * * *", "Europe/London"),
                _ => trigger("15 */2 * * MON-FRI", "UTC"),
            })
            .collect();
        let sources: Vec<Source<'_>> = triggers
            .iter()
            .map(|t| Source {
                name: None,
                label: None,
                tz: Tz::UTC,
                next_after: Box::new(move |at| t.next_after(at)),
            })
            .collect();
        let from = Utc.timestamp_opt(1_772_900_000, 0).unwrap();
        let streamed: Vec<Fire> = Fires::new(&sources, from, 100).collect();
        let mut expected = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let mut t = from;
            for _ in 0..100 {
                let next = (source.next_after)(t).unwrap();
                expected.push(Fire::new(next.timestamp(), index));
                t = next;
            }
        }
        expected.sort_unstable();
        assert_eq!(streamed.len(), 30_000);
        assert!(streamed == expected);
    }

    #[test]
    fn a_huge_count_costs_nothing_until_fires_are_taken() {
        let trigger = Trigger::Every(Every::new("1s".parse().unwrap(), None));
        let sources = [Source {
            name: None,
            label: None,
            tz: Tz::UTC,
            next_after: Box::new(|at| trigger.next_after(at)),
        }];
        let from = Utc.timestamp_opt(0, 0).unwrap();
        let first: Vec<i64> = Fires::new(&sources, from, usize::MAX)
            .take(3)
            .map(Fire::unix)
            .collect();
        assert_eq!(first, [1, 2, 3]);
    }
}
