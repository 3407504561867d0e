//! A cron expression in plain English: "at 02:30 every day", "every 10 minutes from 08:00
//! through 11:50 on weekdays", "at 00:00 on the last day of the month". Read from the sets
//! the parser built, so names, ranges, steps, `?` and `7` for Sunday all read the same.

use crate::trigger::{CronExpr, CronFields};

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const NTH: [&str; 6] = ["", "first", "second", "third", "fourth", "fifth"];

/// The expression in English, without its zone.
pub(super) fn describe(expr: &CronExpr) -> String {
    let f = expr.fields();
    let time = time_phrase(&f, expr.has_seconds());
    let months = values(u64::from(f.months), 1, 12);
    let dom_all = f.days == all_bits(1, 31) as u32
        && !f.last_day
        && !f.last_weekday
        && f.nearest_weekday == 0;
    let dow_all = f.weekdays == 0x7f && f.nth_weekday == [0; 7] && f.last_of_weekday == 0;
    // "on January 1": one day of one month reads best as a date.
    if let ([month], true, [day], false, false, 0) = (
        months.as_slice(),
        dow_all,
        values(u64::from(f.days), 1, 31).as_slice(),
        f.last_day,
        f.last_weekday,
        f.nearest_weekday,
    ) {
        return format!("{time} on {} {day} every year", MONTHS[*month as usize - 1]);
    }
    let days = match (dom_all, dow_all) {
        (true, true) => "every day".to_owned(),
        (true, false) => format!("on {}", weekday_phrase(&f)),
        (false, true) => format!("on {}", month_day_phrase(&f)),
        (false, false) if f.either_day => {
            format!("on {} and on {}", month_day_phrase(&f), weekday_phrase(&f))
        }
        (false, false) => format!(
            "on {}, when that is one of {}",
            month_day_phrase(&f),
            weekday_phrase(&f)
        ),
    };
    let month = if months.len() == 12 {
        String::new()
    } else if let Some((a, b)) = range(&months) {
        format!(
            " from {} through {}",
            MONTHS[a as usize - 1],
            MONTHS[b as usize - 1]
        )
    } else {
        let names: Vec<String> = months
            .iter()
            .map(|m| MONTHS[*m as usize - 1].to_owned())
            .collect();
        format!(" in {}", join(&names))
    };
    format!("{time} {days}{month}")
}

/// The values whose bits are set, from `lo` to `hi`.
fn values(set: u64, lo: u32, hi: u32) -> Vec<u32> {
    (lo..=hi).filter(|v| set & (1 << v) != 0).collect()
}

fn all_bits(lo: u32, hi: u32) -> u64 {
    (lo..=hi).fold(0, |bits, v| bits | 1 << v)
}

/// `a..=b` when the values are at least three consecutive numbers.
fn range(values: &[u32]) -> Option<(u32, u32)> {
    let (&first, &last) = (values.first()?, values.last()?);
    (values.len() >= 3 && last - first + 1 == values.len() as u32).then_some((first, last))
}

/// `(start, step)` when the values are every `step`-th one from `start` to the field's end,
/// with `start < step` (as `*/step` or `start/step` give).
fn progression(values: &[u32], hi: u32) -> Option<(u32, u32)> {
    let [first, second, ..] = values else {
        return None;
    };
    let step = second - first;
    let expected: Vec<u32> = (*first..=hi).step_by(step as usize).collect();
    (step > 1 && *first < step && values == expected.as_slice()).then_some((*first, step))
}

/// "a", "a and b", "a, b and c".
fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn clock(h: u32, m: u32, s: Option<u32>) -> String {
    match s {
        Some(s) if s > 0 => format!("{h:02}:{m:02}:{s:02}"),
        _ => format!("{h:02}:{m:02}"),
    }
}

/// When in the day: "at 02:30", "every 15 minutes", "every hour from 09:00 through 17:00".
fn time_phrase(f: &CronFields, has_seconds: bool) -> String {
    let seconds = values(f.seconds, 0, 59);
    let minutes = values(f.minutes, 0, 59);
    let hours = values(u64::from(f.hours), 0, 23);
    let second = match seconds.as_slice() {
        [s] => Some(*s),
        _ => None,
    };
    let (first_m, last_m) = (minutes[0], minutes[minutes.len() - 1]);
    let window = |from_h: u32, to_h: u32| {
        format!(
            "from {} through {}",
            clock(from_h, first_m, second),
            clock(to_h, last_m, second)
        )
    };
    if has_seconds && second.is_none() {
        let per_second = if seconds.len() == 60 {
            "every second".to_owned()
        } else if let Some((start, step)) = progression(&seconds, 59) {
            if start == 0 {
                format!("every {step} seconds")
            } else {
                format!("every {step} seconds from second {start}")
            }
        } else {
            let list: Vec<String> = seconds.iter().map(u32::to_string).collect();
            format!("at second {} of each minute", join(&list))
        };
        return match (minutes.len(), hours.len()) {
            (60, 24) => per_second,
            _ => format!("{per_second}, {}", time_phrase_minutes(f, None)),
        };
    }
    // A few exact times of day.
    if minutes.len() * hours.len() <= 4 {
        let times: Vec<String> = hours
            .iter()
            .flat_map(|h| minutes.iter().map(move |m| clock(*h, *m, second)))
            .collect();
        return format!("at {}", join(&times));
    }
    if let [m] = minutes.as_slice() {
        let at = format!(":{m:02}");
        return if hours.len() == 24 {
            format!("every hour at {at}")
        } else if let Some((start, step)) = progression(&hours, 23) {
            if start == 0 {
                format!("every {step} hours at {at}")
            } else {
                format!("every {step} hours from {}", clock(start, *m, second))
            }
        } else if let Some((a, b)) = range(&hours) {
            format!("every hour {}", window(a, b))
        } else {
            let list: Vec<String> = hours.iter().map(|h| clock(*h, *m, second)).collect();
            format!("at {}", join(&list))
        };
    }
    time_phrase_minutes(f, second)
}

/// Several minutes an hour: the minutes, then the hours they apply in.
fn time_phrase_minutes(f: &CronFields, second: Option<u32>) -> String {
    let minutes = values(f.minutes, 0, 59);
    let hours = values(u64::from(f.hours), 0, 23);
    let per_minute = if minutes.len() == 60 {
        "every minute".to_owned()
    } else if let Some((start, step)) = progression(&minutes, 59) {
        if start == 0 {
            format!("every {step} minutes")
        } else {
            format!("every {step} minutes from minute {start}")
        }
    } else if let Some((a, b)) = range(&minutes) {
        format!("every minute from :{a:02} through :{b:02}")
    } else {
        let list: Vec<String> = minutes.iter().map(|m| format!(":{m:02}")).collect();
        format!("at {} past the hour", join(&list))
    };
    let (first_m, last_m) = (minutes[0], minutes[minutes.len() - 1]);
    if hours.len() == 24 {
        return per_minute;
    }
    // One hour, or consecutive ones.
    let contiguous = (hours[hours.len() - 1] - hours[0] + 1 == hours.len() as u32)
        .then(|| (hours[0], hours[hours.len() - 1]));
    if let Some((a, b)) = contiguous {
        // Only a phrase like "every 15 minutes" reads well with "from … through …".
        if minutes.len() == 60 || progression(&minutes, 59).is_some() {
            return format!(
                "{per_minute} from {} through {}",
                clock(a, first_m, second),
                clock(b, last_m, second)
            );
        }
        let hour_text = if a == b {
            format!("in the {:02}:00 hour", a)
        } else {
            format!("in the hours from {a:02}:00 through {b:02}:00")
        };
        return format!("{per_minute} {hour_text}");
    }
    let list: Vec<String> = hours.iter().map(|h| format!("{h:02}:00")).collect();
    format!("{per_minute} in the hours starting {}", join(&list))
}

/// The day-of-month field: "the 1st and 15th of the month", "the last day of the month".
fn month_day_phrase(f: &CronFields) -> String {
    let mut parts = Vec::new();
    let days = values(u64::from(f.days), 1, 31);
    if !days.is_empty() {
        parts.push(if let Some((a, b)) = range(&days) {
            format!("the {} through the {}", ordinal(a), ordinal(b))
        } else if let Some((start, step)) = progression(&days, 31).filter(|(s, _)| *s == 1) {
            if step == 2 {
                "every other day (the 1st, 3rd, 5th …)".to_owned()
            } else {
                format!("every {step} days from the {}", ordinal(start))
            }
        } else {
            let list: Vec<String> = days.iter().map(|d| ordinal(*d)).collect();
            format!("the {}", join(&list))
        });
    }
    if f.last_day {
        parts.push("the last day".to_owned());
    }
    if f.last_weekday {
        parts.push("the last weekday".to_owned());
    }
    for n in values(u64::from(f.nearest_weekday), 1, 31) {
        parts.push(format!("the weekday nearest the {}", ordinal(n)));
    }
    format!("{} of the month", join(&parts))
}

/// The day-of-week field: "weekdays", "Mondays and Thursdays", "the second Monday of the
/// month".
fn weekday_phrase(f: &CronFields) -> String {
    let mut parts = Vec::new();
    let days = values(u64::from(f.weekdays), 0, 6);
    if f.weekdays == 0b011_1110 {
        parts.push("weekdays".to_owned());
    } else if f.weekdays == 0b100_0001 {
        parts.push("weekends".to_owned());
    } else if let Some((a, b)) = range(&days) {
        parts.push(format!(
            "{} through {}",
            WEEKDAYS[a as usize], WEEKDAYS[b as usize]
        ));
    } else if !days.is_empty() {
        let names: Vec<String> = days
            .iter()
            .map(|d| format!("{}s", WEEKDAYS[*d as usize]))
            .collect();
        parts.push(join(&names));
    }
    let mut of_month = Vec::new();
    for (weekday, nth) in f.nth_weekday.iter().enumerate() {
        for n in values(u64::from(*nth), 1, 5) {
            of_month.push(format!("the {} {}", NTH[n as usize], WEEKDAYS[weekday]));
        }
    }
    for weekday in values(u64::from(f.last_of_weekday), 0, 6) {
        of_month.push(format!("the last {}", WEEKDAYS[weekday as usize]));
    }
    if !of_month.is_empty() {
        parts.push(format!("{} of the month", join(&of_month)));
    }
    join(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(expr: &str) -> String {
        describe(&CronExpr::parse(expr).unwrap())
    }

    #[test]
    fn times_of_day() {
        assert_eq!(english("30 2 * * *"), "at 02:30 every day");
        assert_eq!(english("0 9,17 * * *"), "at 09:00 and 17:00 every day");
        assert_eq!(english("30 0 3 * * *"), "at 03:00:30 every day");
        assert_eq!(english("* * * * *"), "every minute every day");
        assert_eq!(english("*/15 * * * *"), "every 15 minutes every day");
        assert_eq!(
            english("5/20 * * * *"),
            "every 20 minutes from minute 5 every day"
        );
        assert_eq!(english("0 * * * *"), "every hour at :00 every day");
        assert_eq!(english("15 */2 * * *"), "every 2 hours at :15 every day");
        assert_eq!(
            english("0 9-17 * * *"),
            "every hour from 09:00 through 17:00 every day"
        );
        assert_eq!(
            english("*/10 8-11 * * MON-FRI"),
            "every 10 minutes from 08:00 through 11:50 on weekdays"
        );
        assert_eq!(
            english("0,20,45 * * * *"),
            "at :00, :20 and :45 past the hour every day"
        );
        assert_eq!(english("* * * * * *"), "every second every day");
        assert_eq!(english("*/5 * * * * *"), "every 5 seconds every day");
        assert_eq!(
            english("*/5 * 9 * * *"),
            "every 5 seconds, every minute from 09:00 through 09:59 every day"
        );
    }

    #[test]
    fn days_weekdays_and_months() {
        assert_eq!(english("@monthly"), "at 00:00 on the 1st of the month");
        assert_eq!(english("@yearly"), "at 00:00 on January 1 every year");
        assert_eq!(english("@weekly"), "at 00:00 on Sundays");
        assert_eq!(
            english("0 0 L * *"),
            "at 00:00 on the last day of the month"
        );
        assert_eq!(
            english("0 8 LW,15W * *"),
            "at 08:00 on the last weekday and the weekday nearest the 15th of the month"
        );
        assert_eq!(
            english("0 9 * * 1#2"),
            "at 09:00 on the second Monday of the month"
        );
        assert_eq!(
            english("0 17 * * 5L"),
            "at 17:00 on the last Friday of the month"
        );
        assert_eq!(
            english("0 0 1,15 * MON"),
            "at 00:00 on the 1st and 15th of the month and on Mondays"
        );
        assert_eq!(
            english("0 0 */2 * MON"),
            "at 00:00 on every other day (the 1st, 3rd, 5th …) of the month, when that is one of Mondays"
        );
        assert_eq!(
            english("0 6 * 3-10 SAT,SUN"),
            "at 06:00 on weekends from March through October"
        );
        assert_eq!(
            english("0 6 1 1,7 *"),
            "at 06:00 on the 1st of the month in January and July"
        );
        assert_eq!(
            english("0 12 * * TUE,THU"),
            "at 12:00 on Tuesdays and Thursdays"
        );
        assert_eq!(
            english("0 12 11-13 * *"),
            "at 12:00 on the 11th through the 13th of the month"
        );
    }
}
