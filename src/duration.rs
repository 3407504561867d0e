//! Durations as users write them in the jobfile and on the command line: `90s`, `1h30m`, `2d`.
//!
//! Units are `w`, `d`, `h`, `m`, `s`, largest first, each at most once; resolution is one second
//! because every trigger fires on whole seconds. A bare number is refused on purpose: `timeout = 30`
//! could mean seconds or minutes, and a scheduler should not guess.

use std::fmt;
use std::str::FromStr;

/// A non-negative span of whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Why a duration did not parse; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

impl Duration {
    pub const ZERO: Duration = Duration(0);

    pub const fn from_secs(secs: u64) -> Duration {
        Duration(secs)
    }

    pub const fn as_secs(self) -> u64 {
        self.0
    }

    pub fn as_chrono(self) -> chrono::TimeDelta {
        // Parsing caps durations far below i64::MAX seconds, so this cannot overflow.
        chrono::TimeDelta::seconds(i64::try_from(self.0).unwrap_or(i64::MAX / 1000))
    }

    pub fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

/// The longest duration accepted: 100 years, so arithmetic on instants never overflows.
const MAX_SECS: u64 = 100 * 366 * 86_400;

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Duration, DurationError> {
        let expected = || {
            DurationError(format!(
                "invalid duration {text:?} (expected a number and a unit, largest first, like \"90s\", \"15m\", \"1h30m\", \"2d\"; units: w d h m s)"
            ))
        };
        let s = text.trim();
        if s.is_empty() {
            return Err(expected());
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DurationError(format!(
                "duration {text:?} has no unit (write \"{s}s\" for seconds or \"{s}m\" for minutes)"
            )));
        }
        let mut total: u64 = 0;
        let mut rest = s;
        let mut last_unit = usize::MAX;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(expected());
            }
            let value: u64 = rest[..digits].parse().map_err(|_| expected())?;
            let unit = rest[digits..].chars().next().ok_or_else(expected)?;
            let index = UNITS
                .iter()
                .position(|(c, _)| *c == unit)
                .ok_or_else(expected)?;
            if last_unit != usize::MAX && index <= last_unit {
                return Err(expected());
            }
            last_unit = index;
            total = value
                .checked_mul(UNITS[index].1)
                .and_then(|v| total.checked_add(v))
                .filter(|v| *v <= MAX_SECS)
                .ok_or_else(|| {
                    DurationError(format!("duration {text:?} is too long (at most 100 years)"))
                })?;
            rest = &rest[digits + unit.len_utf8()..];
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The canonical spelling, which parses back to the same value: `1h30m`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, size) in UNITS {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> u64 {
        s.parse::<Duration>().unwrap().as_secs()
    }

    #[test]
    fn units_combine_largest_first() {
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("15m"), 900);
        assert_eq!(secs("1h30m"), 5_400);
        assert_eq!(secs("2d"), 172_800);
        assert_eq!(secs("1w2d3h4m5s"), 604_800 + 172_800 + 10_800 + 240 + 5);
        assert_eq!(secs("0s"), 0);
    }

    #[test]
    fn display_round_trips() {
        for s in ["0s", "90s", "1h30m", "2d", "1w1s", "1d23h59m59s"] {
            let d: Duration = s.parse().unwrap();
            assert_eq!(d.to_string().parse::<Duration>().unwrap(), d, "{s}");
        }
        assert_eq!(Duration::from_secs(90).to_string(), "1m30s");
        assert_eq!(Duration::from_secs(5_400).to_string(), "1h30m");
    }

    #[test]
    fn malformed_durations_say_what_was_expected() {
        let err = |s: &str| s.parse::<Duration>().unwrap_err().to_string();
        assert_eq!(
            err("30"),
            "duration \"30\" has no unit (write \"30s\" for seconds or \"30m\" for minutes)"
        );
        for bad in ["", "s", "1x", "1m1h", "1m1m", "1.5h", "-1s", "1h 30m", "h1"] {
            assert!(
                err(bad).starts_with("invalid duration"),
                "{bad:?}: {}",
                err(bad)
            );
        }
        assert_eq!(
            err("200000w"),
            "duration \"200000w\" is too long (at most 100 years)"
        );
    }
}
