//! `jobrun next`: preview fire times, of the jobfile's jobs or of an ad-hoc trigger.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{check_names, load_jobfile, parse_instant, parse_zone};
use crate::cli::{Format, NextArgs};
use crate::context::Context;
use crate::error::Error;
use crate::output::{self, push_rfc3339, push_rfc3339_offset};
use crate::parallel::in_chunks;
use crate::trigger::{At, CronExpr, CronTrigger, Every, Trigger};

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
    tz: Tz,
    next_after: Box<dyn Fn(DateTime<Utc>) -> Option<DateTime<Utc>> + Sync + 'a>,
}

pub(super) fn run(ctx: &Context, args: &NextArgs) -> Result<(), Error> {
    let adhoc = adhoc_trigger(ctx, args)?;
    let from_tz = adhoc.as_ref().map_or(ctx.local_tz, |(_, tz)| *tz);
    let from = match &args.from {
        Some(text) => parse_instant("--from", text, from_tz)?,
        None => ctx.now,
    };
    let jobfile;
    let mut hidden_paused = Vec::new();
    let sources: Vec<Source<'_>> = match &adhoc {
        Some((trigger, tz)) => {
            vec![Source {
                name: None,
                tz: *tz,
                next_after: Box::new(move |t| trigger.next_after(t)),
            }]
        }
        None => {
            jobfile = load_jobfile(ctx)?;
            check_names(&jobfile, &args.names)?;
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
                sources.push(Source {
                    name: Some(job.name.as_str()),
                    tz: job.timezone,
                    next_after: Box::new(move |t| job.next_after(t)),
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
    let fires = compute(&sources, from, args.count);
    let chunks = match args.output.format() {
        Format::Plain => plain(&sources, &fires),
        Format::Json => vec![json(&sources, &fires)?],
        Format::Human => vec![human(
            &sources,
            &fires,
            from,
            adhoc.is_some(),
            &hidden_paused,
        )],
    };
    output::print_chunks(&chunks).map_err(Error::Output)
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

/// The next `count` fires of each source after `from`, merged in time order (ties in source
/// order, which is the jobfile's order). Large previews are split over the available cores:
/// for a thousand jobs this is most of the command's time.
fn compute(sources: &[Source<'_>], from: DateTime<Utc>, count: usize) -> Vec<Fire> {
    let indexed: Vec<(usize, &Source<'_>)> = sources.iter().enumerate().collect();
    let parts = in_chunks(&indexed, sources.len().saturating_mul(count), |chunk| {
        let mut fires = Vec::with_capacity(chunk.len().saturating_mul(count).min(1 << 24));
        for &(index, source) in chunk {
            let mut t = from;
            for _ in 0..count {
                let Some(next) = (source.next_after)(t) else {
                    break;
                };
                fires.push(Fire::new(next.timestamp(), index));
                t = next;
            }
        }
        fires.sort_unstable();
        fires
    });
    merge_sorted(parts)
}

/// Merges lists that are each sorted into one.
fn merge_sorted(mut parts: Vec<Vec<Fire>>) -> Vec<Fire> {
    let Some(mut merged) = parts.pop() else {
        return Vec::new();
    };
    while let Some(part) = parts.pop() {
        let mut out = Vec::with_capacity(merged.len() + part.len());
        let (mut a, mut b) = (part.iter().peekable(), merged.iter().peekable());
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            if x <= y {
                out.push(x);
                a.next();
            } else {
                out.push(y);
                b.next();
            }
        }
        out.extend(a);
        out.extend(b);
        merged = out;
    }
    merged
}

fn instant(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

/// The plain lines, formatted a chunk per core; printed in order without joining them.
fn plain(sources: &[Source<'_>], fires: &[Fire]) -> Vec<Vec<u8>> {
    in_chunks(fires, fires.len(), |chunk| {
        let mut out = Vec::with_capacity(chunk.len() * 26);
        for fire in chunk {
            push_rfc3339(&mut out, instant(fire.unix()), sources[fire.source()].tz);
            out.push(b'\n');
        }
        out
    })
}

#[derive(Serialize)]
struct JsonFire<'a> {
    job: Option<&'a str>,
    time: String,
    timezone: &'a str,
    unix: i64,
}

fn json(sources: &[Source<'_>], fires: &[Fire]) -> Result<Vec<u8>, Error> {
    let mut stamp = Vec::with_capacity(32);
    let rows: Vec<JsonFire<'_>> = fires
        .iter()
        .map(|fire| {
            let source = &sources[fire.source()];
            stamp.clear();
            push_rfc3339(&mut stamp, instant(fire.unix()), source.tz);
            JsonFire {
                job: source.name,
                time: String::from_utf8_lossy(&stamp).into_owned(),
                timezone: source.tz.name(),
                unix: fire.unix(),
            }
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&rows).map_err(|e| Error::Output(e.into()))?;
    out.push(b'\n');
    Ok(out)
}

fn human(
    sources: &[Source<'_>],
    fires: &[Fire],
    from: DateTime<Utc>,
    adhoc: bool,
    hidden_paused: &[&str],
) -> Vec<u8> {
    let mut rows = Vec::with_capacity(fires.len());
    let mut stamp = Vec::with_capacity(32);
    for fire in fires {
        let source = &sources[fire.source()];
        let at = instant(fire.unix());
        stamp.clear();
        let offset = chrono::Offset::fix(&source.tz.offset_from_utc_datetime(&at.naive_utc()))
            .local_minus_utc();
        push_rfc3339_offset(&mut stamp, fire.unix(), offset, b' ');
        let when = String::from_utf8_lossy(&stamp).into_owned();
        let mut row = vec![when];
        if !adhoc {
            row.push(source.name.unwrap_or_default().to_owned());
            row.push(source.tz.name().to_owned());
        }
        row.push(output::relative(from, at));
        rows.push(row);
    }
    let header: &[&str] = if adhoc {
        &["TIME", "IN"]
    } else {
        &["TIME", "JOB", "ZONE", "IN"]
    };
    let mut text = if rows.is_empty() {
        if adhoc || !sources.is_empty() {
            "no fire times ahead\n".to_owned()
        } else {
            "no jobs to preview\n".to_owned()
        }
    } else {
        output::table(header, &rows)
    };
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
    text.into_bytes()
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
    fn merging_sorted_parts_equals_sorting_everything() {
        let all: Vec<Fire> = (0..500)
            .map(|i| Fire::new((i * 7919) % 101, i as usize % 13))
            .collect();
        let mut expected = all.clone();
        expected.sort_unstable();
        let parts: Vec<Vec<Fire>> = all
            .chunks(170)
            .map(|c| {
                let mut part = c.to_vec();
                part.sort_unstable();
                part
            })
            .collect();
        assert!(merge_sorted(parts) == expected);
        assert!(merge_sorted(Vec::new()).is_empty());
    }

    #[test]
    fn a_large_preview_split_over_cores_equals_the_sequential_one() {
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
                tz: Tz::UTC,
                next_after: Box::new(move |at| t.next_after(at)),
            })
            .collect();
        let from = Utc.timestamp_opt(1_772_900_000, 0).unwrap();
        // 300 × 100 fire times is past the threshold, so this run is split.
        let split = compute(&sources, from, 100);
        let mut sequential = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            let mut t = from;
            for _ in 0..100 {
                let next = (source.next_after)(t).unwrap();
                sequential.push(Fire::new(next.timestamp(), index));
                t = next;
            }
        }
        sequential.sort_unstable();
        assert_eq!(split.len(), 30_000);
        assert!(split == sequential);
    }
}
