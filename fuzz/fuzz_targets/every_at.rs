//! Durations, `every` and `at`: a duration that parses prints back as text that parses to the
//! same duration; an `every` fires at strictly increasing instants a whole interval apart; an
//! `at` read as wall time in a zone (or with its own offset) fires once, at that instant.
//!
//! Input: byte 0 picks a zone, bytes 1-4 an instant (2000 to 2136), the rest is the text.

#![no_main]

use chrono::{DateTime, Utc};
use jobrun::duration::Duration;
use jobrun::trigger::{At, Every};
use jobrun::zone::Tz;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static ZONES: LazyLock<Vec<Tz>> = LazyLock::new(|| {
    [
        "UTC",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Sao_Paulo",
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

    if let Ok(duration) = text.parse::<Duration>() {
        let printed = duration.to_string();
        assert_eq!(
            printed.parse::<Duration>().ok(),
            Some(duration),
            "{text:?} printed as {printed:?}"
        );
        if duration.as_secs() > 0 {
            let every = Every::new(duration, Some(from));
            let mut t = from;
            for _ in 0..3 {
                let Some(next) = every.next_after(t) else {
                    break;
                };
                assert!(next > t);
                let since = (next - from).num_seconds();
                assert_eq!(
                    since.rem_euclid(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)),
                    0,
                    "every {duration}: {next} is not a whole interval after {from}"
                );
                t = next;
            }
        }
    }

    if let Ok(at) = At::parse(&text, tz) {
        let instant = at.instant();
        assert_eq!(at.next_after(instant), None);
        if let Some(before) = instant.checked_sub_signed(chrono::TimeDelta::seconds(1)) {
            assert_eq!(at.next_after(before), Some(instant));
        }
        let _ = at.next_after(from);
    }
});
