//! `jobrun next`: preview fire times, of the jobfile's jobs or of an ad-hoc trigger.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{check_names, load_jobfile, parse_instant, parse_zone};
use crate::cli::{Format, NextArgs};
use crate::context::Context;
use crate::error::Error;
use crate::output::{self, push_rfc3339, push_rfc3339_offset};
use crate::trigger::{At, CronExpr, CronTrigger, Every, Trigger};

/// One row of the preview: which job (None for an ad-hoc trigger), when, in which zone.
struct Fire {
    unix: i64,
    source: usize,
}

/// What a preview is computed from: a label and zone per source, and its trigger.
struct Source<'a> {
    name: Option<&'a str>,
    tz: Tz,
    next_after: Box<dyn Fn(DateTime<Utc>) -> Option<DateTime<Utc>> + 'a>,
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

    let fires = compute(&sources, from, args.count);
    let text = match args.output.format() {
        Format::Plain => plain(&sources, &fires),
        Format::Json => json(&sources, &fires)?,
        Format::Human => human(&sources, &fires, from, adhoc.is_some(), &hidden_paused),
    };
    output::print(&text).map_err(Error::Output)
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
/// order, which is the jobfile's order).
fn compute(sources: &[Source<'_>], from: DateTime<Utc>, count: usize) -> Vec<Fire> {
    let mut fires = Vec::with_capacity(sources.len().saturating_mul(count).min(1 << 24));
    for (index, source) in sources.iter().enumerate() {
        let mut t = from;
        for _ in 0..count {
            let Some(next) = (source.next_after)(t) else {
                break;
            };
            fires.push(Fire {
                unix: next.timestamp(),
                source: index,
            });
            t = next;
        }
    }
    fires.sort_unstable_by_key(|f| (f.unix, f.source));
    fires
}

fn instant(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

fn plain(sources: &[Source<'_>], fires: &[Fire]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fires.len() * 26);
    for fire in fires {
        push_rfc3339(&mut out, instant(fire.unix), sources[fire.source].tz);
        out.push(b'\n');
    }
    out
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
            let source = &sources[fire.source];
            stamp.clear();
            push_rfc3339(&mut stamp, instant(fire.unix), source.tz);
            JsonFire {
                job: source.name,
                time: String::from_utf8_lossy(&stamp).into_owned(),
                timezone: source.tz.name(),
                unix: fire.unix,
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
        let source = &sources[fire.source];
        let at = instant(fire.unix);
        stamp.clear();
        let offset = chrono::Offset::fix(&source.tz.offset_from_utc_datetime(&at.naive_utc()))
            .local_minus_utc();
        push_rfc3339_offset(&mut stamp, fire.unix, offset, b' ');
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
