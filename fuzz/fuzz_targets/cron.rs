//! The cron parser and fire-time search: any text either parses or is refused with a span inside
//! it; a parsed expression's fires come in strictly increasing whole seconds; and `all`/`any` of
//! several expressions (written `a|b|c`) answer within their budget with a time every part (for
//! `all`) or the earliest part (for `any`) agrees with.
//!
//! Input: byte 0 picks a zone, bytes 1-4 the instant searched from (2000 to 2136), the rest is
//! the text.

#![no_main]

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use jobrun::trigger::{CronExpr, CronTrigger, Search, Trigger};
use jobrun::zone::Tz;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static ZONES: LazyLock<Vec<Tz>> = LazyLock::new(|| {
    [
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Sao_Paulo",
        "Pacific/Chatham",
        "America/Santiago",
    ]
    .iter()
    .map(|name| name.parse().expect("a zone"))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((head, text)) = data.split_first_chunk::<5>() else {
        return;
    };
    let tz = ZONES[usize::from(head[0]) % ZONES.len()];
    let offset = u32::from_le_bytes([head[1], head[2], head[3], head[4]]);
    let Some(from) = DateTime::<Utc>::from_timestamp(946_684_800 + i64::from(offset), 0) else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let mut parts = Vec::new();
    for part in text.split('|').take(4) {
        match CronExpr::parse(part) {
            Ok(expr) => parts.push(Trigger::Cron(CronTrigger::new(expr, tz))),
            Err(e) => {
                assert!(
                    e.span.start <= e.span.end && e.span.end <= part.len(),
                    "span {:?} outside {part:?}",
                    e.span
                );
                return;
            }
        }
    }
    if let [single] = parts.as_slice() {
        let mut t = from;
        for _ in 0..4 {
            let Some(next) = single.next_after(t) else {
                break;
            };
            assert!(next > t, "{text:?}: {next} is not after {t}");
            assert_eq!(
                next.nanosecond(),
                0,
                "{text:?}: {next} is not a whole second"
            );
            t = next;
        }
        return;
    }
    let all = Trigger::All(parts.clone());
    if let Search::Fire(fire) = all.search_after(from) {
        assert!(fire > from);
        for part in &parts {
            let at = part.next_after(fire - TimeDelta::nanoseconds(1));
            assert_eq!(
                at,
                Some(fire),
                "{text:?}: all says {fire}, a part says {at:?}"
            );
        }
    }
    let any = Trigger::Any(parts.clone());
    let earliest = parts.iter().filter_map(|p| p.next_after(from)).min();
    assert_eq!(any.next_after(from), earliest, "{text:?}");
});
