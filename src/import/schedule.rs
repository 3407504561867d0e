//! The five time fields of a crontab line, checked against crontab(5) as cronie and Debian's
//! cron read them, which is narrower than what jobrun's own `cron` key accepts: no `L`, `W`,
//! `#` or `?`, no seconds field, no `5/10` (both crons refuse a step without a range or `*`),
//! names only as the three-letter abbreviations, and nothing out of range (Debian refuses
//! `5-64/30`). A line that cron would refuse is an error here rather than a job that fires
//! when cron would not have.
//!
//! Where the two crons differ, the line is refused with a help that says how to write it for
//! both: a backwards range (`50-10`: no value at all for either cron, except cronie's `5-0`
//! in any field, which means `5-7`) and cronie's random `~`.

use super::Problem;
use super::lexer::Piece;

/// A field's name, bounds, and the names it accepts (index = value - `names_from`).
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    names_from: u32,
}

const SPECS: [FieldSpec; 5] = [
    FieldSpec {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        names_from: 0,
    },
    FieldSpec {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ],
        names_from: 1,
    },
    FieldSpec {
        name: "day-of-week",
        min: 0,
        max: 7,
        names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        names_from: 0,
    },
];

/// Checks the five fields; the first problem of each field is reported.
pub(super) fn check_fields(fields: &[Piece<'_>; 5]) -> Vec<Problem> {
    fields
        .iter()
        .zip(&SPECS)
        .filter_map(|(field, spec)| check_field(*field, spec).err())
        .collect()
}

fn at(piece: Piece<'_>, from: usize, to: usize, message: String, help: Option<&str>) -> Problem {
    Problem {
        span: piece.start + from..piece.start + to,
        message,
        help: help.map(str::to_owned),
    }
}

fn check_field(field: Piece<'_>, spec: &FieldSpec) -> Result<(), Problem> {
    let text = field.text;
    if let Some(bad) = text.find(|c: char| !(c.is_ascii_alphanumeric() || "*-/,".contains(c))) {
        let c = text[bad..].chars().next().unwrap_or(' ');
        let help = match c {
            '~' => Some(
                "cronie picks a random value for ~ once, when it loads the crontab; write the value you want",
            ),
            '?' | '#' => Some(
                "crontab(5) has no ? or #: they are jobrun (and Quartz) extensions, which cron refuses",
            ),
            _ => None,
        };
        return Err(at(
            field,
            bad,
            bad + c.len_utf8(),
            format!("unexpected {c:?} in the {} field {text:?}", spec.name),
            help,
        ));
    }
    let mut from = 0;
    for item in text.split(',') {
        check_item(field, from, item, spec)?;
        from += item.len() + 1;
    }
    Ok(())
}

/// One comma-separated item, `offset` bytes into the field.
fn check_item(
    field: Piece<'_>,
    offset: usize,
    item: &str,
    spec: &FieldSpec,
) -> Result<(), Problem> {
    let end = offset + item.len();
    if item.is_empty() {
        let at_comma = offset.min(field.text.len().saturating_sub(1));
        return Err(at(
            field,
            at_comma,
            at_comma + 1,
            format!("empty item in the {} field {:?}", spec.name, field.text),
            None,
        ));
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        let step_at = offset + base.len() + 1;
        if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
            return Err(at(
                field,
                step_at,
                end,
                format!(
                    "invalid step {step:?} in the {} field (expected a number)",
                    spec.name
                ),
                None,
            ));
        }
        if step.parse::<u32>().map_or(true, |n| n == 0) {
            return Err(at(
                field,
                step_at,
                end,
                format!("step {step} in the {} field must be at least 1", spec.name),
                None,
            ));
        }
    }
    if base == "*" {
        return Ok(());
    }
    let Some((low, high)) = base.split_once('-') else {
        value(field, offset, base, spec)?;
        if step.is_some() {
            return Err(at(
                field,
                offset,
                end,
                format!("a step needs a range before it: {item:?} is not crontab(5)"),
                Some(&format!(
                    "write {base}-{}/{} for every {} from {base} on (cron refuses {item:?})",
                    spec.max,
                    step.unwrap_or_default(),
                    spec.name
                )),
            ));
        }
        return Ok(());
    };
    let a = value(field, offset, low, spec)?;
    let b = value(field, offset + low.len() + 1, high, spec)?;
    // "SAT-SUN": cronie reads a range ending on Sunday as ending on 7, and so does jobrun.
    let ends_on_sunday_by_name = spec.name == "day-of-week" && high.eq_ignore_ascii_case("sun");
    if a > b && !ends_on_sunday_by_name {
        let range_end = offset + base.len();
        let help = if b == 0 && spec.name == "day-of-week" {
            format!("write {low}-7: Sunday is 7 at the end of a range")
        } else {
            format!(
                "cron reads {base} as no {} at all; a range that wraps around is two, like {low}-{},{}-{high}",
                spec.name, spec.max, spec.min
            )
        };
        return Err(at(
            field,
            offset,
            range_end,
            format!("range {base} in the {} field is backwards", spec.name),
            Some(&help),
        ));
    }
    Ok(())
}

/// A number in range, or a three-letter name of the field; returns its value.
fn value(field: Piece<'_>, offset: usize, text: &str, spec: &FieldSpec) -> Result<u32, Problem> {
    let span = (offset, offset + text.len());
    if text.is_empty() {
        return Err(at(
            field,
            offset,
            offset + 1,
            format!("missing value in the {} field {:?}", spec.name, field.text),
            None,
        ));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(n) if (spec.min..=spec.max).contains(&n) => Ok(n),
            _ => Err(at(
                field,
                span.0,
                span.1,
                format!(
                    "{} value {text} is out of range (expected {}-{})",
                    spec.name, spec.min, spec.max
                ),
                None,
            )),
        };
    }
    let lower = text.to_ascii_lowercase();
    if let Some(i) = spec.names.iter().position(|n| *n == lower) {
        return Ok(spec.names_from + i as u32);
    }
    let expected = match spec.names {
        [] => format!("a number {}-{}", spec.min, spec.max),
        names => format!(
            "a number {}-{} or a name {}-{}",
            spec.min,
            spec.max,
            names[0].to_ascii_uppercase(),
            names[names.len() - 1].to_ascii_uppercase()
        ),
    };
    Err(at(
        field,
        span.0,
        span.1,
        format!("invalid {} value {text:?} (expected {expected})", spec.name),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str) -> Vec<(String, String)> {
        let words: Vec<&str> = line.split(' ').collect();
        let mut start = 0;
        let pieces: Vec<Piece<'_>> = words
            .iter()
            .map(|w| {
                let p = Piece { text: w, start };
                start += w.len() + 1;
                p
            })
            .collect();
        let fields: [Piece<'_>; 5] = pieces.try_into().unwrap();
        check_fields(&fields)
            .into_iter()
            .map(|p| (line[p.span].to_owned(), p.message))
            .collect()
    }

    #[test]
    fn what_both_crons_accept_passes() {
        for line in [
            "* * * * *",
            "5-55/10 */2 1,15 JAN-mar mon-FRI",
            "0 0 * * 7",
            "00 07 01 01 0",
            "*/100 * * * sat-sun",
            "0-59/59 0-23 1-31 1-12 0-7",
        ] {
            assert_eq!(check(line), [], "{line}");
        }
    }

    #[test]
    fn what_cron_refuses_is_an_error_at_its_place() {
        let one = |line: &str| check(line).remove(0);
        assert_eq!(
            one("60 * * * *"),
            (
                "60".into(),
                "minute value 60 is out of range (expected 0-59)".into()
            )
        );
        assert_eq!(
            one("5/10 * * * *"),
            (
                "5/10".into(),
                "a step needs a range before it: \"5/10\" is not crontab(5)".into()
            )
        );
        assert_eq!(
            one("* * L * *"),
            (
                "L".into(),
                "invalid day-of-month value \"L\" (expected a number 1-31)".into()
            )
        );
        assert_eq!(one("* * * * 1#2").0, "#");
        assert_eq!(one("* * ? * *").0, "?");
        assert_eq!(one("0~30 * * * *").0, "~");
        assert_eq!(
            one("* * * * Monday"),
            (
                "Monday".into(),
                "invalid day-of-week value \"Monday\" (expected a number 0-7 or a name SUN-SAT)"
                    .into()
            )
        );
        assert_eq!(
            one("*/0 * * * *"),
            (
                "0".into(),
                "step 0 in the minute field must be at least 1".into()
            )
        );
        assert_eq!(one("1,,2 * * * *").0, ",");
        assert_eq!(
            one("50-10 * * * *"),
            (
                "50-10".into(),
                "range 50-10 in the minute field is backwards".into()
            )
        );
        assert_eq!(one("* * * * 5-0").0, "5-0");
        assert_eq!(one("5-64/30 * * * *").0, "64");
        assert_eq!(
            check("61 25 * 13 *").len(),
            3,
            "every field's first problem"
        );
    }
}
