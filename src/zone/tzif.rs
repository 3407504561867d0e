//! The one fact jobrun reads from TZif bytes itself (RFC 8536): the last transition the file
//! lists, after which its footer rule governs. jiff parses and checks everything else.

/// The header: magic, version, 15 reserved bytes, then six big-endian counts.
const HEADER: usize = 44;

struct Counts {
    isut: usize,
    isstd: usize,
    leap: usize,
    time: usize,
    types: usize,
    chars: usize,
}

fn counts(header: &[u8]) -> Option<Counts> {
    let count = |i: usize| -> Option<usize> {
        let bytes = header.get(20 + 4 * i..24 + 4 * i)?;
        usize::try_from(u32::from_be_bytes(bytes.try_into().ok()?)).ok()
    };
    Some(Counts {
        isut: count(0)?,
        isstd: count(1)?,
        leap: count(2)?,
        time: count(3)?,
        types: count(4)?,
        chars: count(5)?,
    })
}

/// The instant (seconds since the epoch) of the last transition `data` lists, from the
/// 64-bit block of a version 2+ file, else from the 32-bit one; `None` when it lists none.
pub(super) fn last_listed_transition(data: &[u8]) -> Option<i64> {
    let v1 = counts(data)?;
    let version = *data.get(4)?;
    if version == 0 {
        let last = v1.time.checked_sub(1)?;
        let bytes = data.get(HEADER + 4 * last..HEADER + 4 * last + 4)?;
        return Some(i64::from(i32::from_be_bytes(bytes.try_into().ok()?)));
    }
    // Skip the 32-bit block to the second header.
    let v1_len = v1.time * 5 + v1.types * 6 + v1.chars + v1.leap * 8 + v1.isstd + v1.isut;
    let second = data.get(HEADER + v1_len..)?;
    let v2 = counts(second)?;
    let last = v2.time.checked_sub(1)?;
    let bytes = second.get(HEADER + 8 * last..HEADER + 8 * last + 8)?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}
