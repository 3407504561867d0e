//! Printing: timestamps, relative times, aligned tables, colour, and stdout that tolerates a
//! closed pipe (`jobrun next | head` is a normal way to use it, not an error).
//!
//! Colour is decided in one place, `style.rs`; tables are laid out to the terminal's width in
//! `table.rs`.

use std::io::{self, Write};

mod style;
mod table;

pub use style::{ColorWhen, Paint, Style};
pub use table::{Cell, Column, Layout, Table, clip, width};

use crate::zone::Tz;
use chrono::{DateTime, Offset, TimeZone, Utc};

/// `instant` as RFC 3339 in `tz`, as a `String` (see [`push_rfc3339`]).
pub fn rfc3339(instant: DateTime<Utc>, tz: Tz) -> String {
    let mut out = Vec::with_capacity(32);
    push_rfc3339(&mut out, instant, tz);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `instant` as RFC 3339 in `tz` with its offset (`2026-03-08T03:00:00-04:00`).
///
/// Hand-written because `jobrun next` may print a hundred thousand of them and chrono's
/// formatter costs several times more; the output is checked against chrono's in the tests.
pub fn push_rfc3339(out: &mut Vec<u8>, instant: DateTime<Utc>, tz: Tz) {
    let offset = tz
        .offset_from_utc_datetime(&instant.naive_utc())
        .fix()
        .local_minus_utc();
    push_rfc3339_offset(out, instant.timestamp(), offset, b'T');
}

/// The same with an explicit separator between date and time (`b' '` for people).
pub fn push_rfc3339_offset(out: &mut Vec<u8>, unix: i64, offset_secs: i32, separator: u8) {
    let local = unix + i64::from(offset_secs);
    let days = local.div_euclid(86_400);
    let secs_of_day = local.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        // Out of RFC 3339's four-digit years; chrono's rendering is the reference there.
        let dt = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
        let fixed = chrono::FixedOffset::east_opt(offset_secs).unwrap_or_else(|| Utc.fix());
        out.extend_from_slice(dt.with_timezone(&fixed).to_rfc3339().as_bytes());
        return;
    }
    let abs = offset_secs.unsigned_abs();
    let mut buf = *b"0000-00-00T00:00:00+00:00";
    put_digits(&mut buf[0..4], year as u32);
    put_digits(&mut buf[5..7], month);
    put_digits(&mut buf[8..10], day);
    buf[10] = separator;
    put_digits(&mut buf[11..13], secs_of_day / 3600);
    put_digits(&mut buf[14..16], secs_of_day / 60 % 60);
    put_digits(&mut buf[17..19], secs_of_day % 60);
    if offset_secs < 0 {
        buf[19] = b'-';
    }
    put_digits(&mut buf[20..22], abs / 3600);
    put_digits(&mut buf[23..25], abs / 60 % 60);
    out.extend_from_slice(&buf);
}

/// `instant` for people: RFC 3339 in `tz` with a space for the `T`
/// (`2026-03-08 03:00:00-04:00`), as every human listing words times.
pub fn human_time(instant: DateTime<Utc>, tz: Tz) -> String {
    let offset = tz
        .offset_from_utc_datetime(&instant.naive_utc())
        .fix()
        .local_minus_utc();
    let mut out = Vec::with_capacity(32);
    push_rfc3339_offset(&mut out, instant.timestamp(), offset, b' ');
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes `value` as decimal digits filling `slot`, zero-padded on the left.
fn put_digits(slot: &mut [u8], mut value: u32) {
    for byte in slot.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A short "in 3h 12m" style distance from `from` to `to` (two largest units); "3h 12m ago"
/// when `to` is more than a second in the past.
pub fn relative(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let mut out = Vec::with_capacity(16);
    push_relative(&mut out, (to - from).num_seconds());
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends [`relative`]'s text for a distance of `secs` seconds; allocation-free, since
/// `jobrun next` writes one per line.
pub fn push_relative(out: &mut Vec<u8>, secs: i64) {
    if secs == 0 {
        out.extend_from_slice(b"now");
        return;
    }
    let ago = secs < 0;
    let secs = secs.unsigned_abs();
    if !ago {
        out.extend_from_slice(b"in ");
    }
    const UNITS: [(u8, u64); 4] = [(b'd', 86_400), (b'h', 3_600), (b'm', 60), (b's', 1)];
    let first = UNITS
        .iter()
        .position(|(_, size)| secs >= *size)
        .unwrap_or(UNITS.len() - 1);
    let (name, size) = UNITS[first];
    push_number(out, secs / size);
    out.push(name);
    if let Some((next_name, next_size)) = UNITS.get(first + 1) {
        let next = secs % size / next_size;
        if next > 0 {
            out.push(b' ');
            push_number(out, next);
            out.push(*next_name);
        }
    }
    if ago {
        out.extend_from_slice(b" ago");
    }
}

fn push_number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Writes everything to stdout at once. A closed pipe is a quiet success: the reader has all
/// it wanted.
pub fn print(bytes: &[u8]) -> io::Result<()> {
    print_chunks(&[bytes])
}

/// Writes the chunks to stdout one after the other, as `print` does one buffer.
pub fn print_chunks(chunks: &[impl AsRef<[u8]>]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    let written = chunks.iter().try_for_each(|c| lock.write_all(c.as_ref()));
    match written.and_then(|()| lock.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(unix: i64, tz: &str) -> String {
        let mut out = Vec::new();
        push_rfc3339(
            &mut out,
            Utc.timestamp_opt(unix, 0).unwrap(),
            tz.parse().unwrap(),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps_match_chrono_in_every_kind_of_zone() {
        for tz in [
            "UTC",
            "America/New_York",
            "Asia/Kathmandu",
            "Pacific/Chatham",
            "America/Sao_Paulo",
        ] {
            let zone: Tz = tz.parse().unwrap();
            let mut unix = -2_208_988_800_i64; // 1900-01-01
            while unix < 7_258_118_400 {
                // ~2200-01-01, in uneven steps so every day of the month and hour shows up
                let expected = Utc
                    .timestamp_opt(unix, 0)
                    .unwrap()
                    .with_timezone(&zone)
                    .to_rfc3339();
                assert_eq!(rfc(unix, tz), expected);
                unix += 86_400 * 17 + 3_607;
            }
        }
    }

    #[test]
    fn relative_times_show_two_units() {
        let t0 = Utc.timestamp_opt(0, 0).unwrap();
        let at = |s: i64| relative(t0, Utc.timestamp_opt(s, 0).unwrap());
        assert_eq!(at(0), "now");
        assert_eq!(at(42), "in 42s");
        assert_eq!(at(3_600), "in 1h");
        assert_eq!(at(3_600 * 3 + 60 * 12 + 5), "in 3h 12m");
        assert_eq!(at(86_400 * 2 + 5), "in 2d");
        assert_eq!(at(86_400 + 3_600), "in 1d 1h");
        assert_eq!(at(-(3_600 * 3 + 60 * 12)), "3h 12m ago");
        assert_eq!(at(-1), "1s ago");
    }
}
