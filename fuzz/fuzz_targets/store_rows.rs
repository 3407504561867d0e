//! The store's row decoding: any row of the `runs` table (any SQLite type in any column, as a
//! damaged or hand-edited store may hold) is decoded or refused without a panic, and a run that
//! decodes survives the way back through its row unchanged.
//!
//! Input: 18 values, each a tag byte (null, integer, real, text, blob) and its bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rusqlite::types::Value;

/// Values that states and booleans often hold, so that the fuzzer reaches past the first
/// checks quickly.
const WORDS: [&str; 10] = [
    "claimed",
    "running",
    "exited",
    "signaled",
    "spawn_failed",
    "interrupted",
    "missed",
    "coalesced",
    "skipped",
    "job",
];

fn value(data: &mut &[u8]) -> Value {
    let Some((&tag, rest)) = data.split_first() else {
        return Value::Null;
    };
    *data = rest;
    let mut take = |n: usize| {
        let n = n.min(data.len());
        let (taken, rest) = data.split_at(n);
        *data = rest;
        taken
    };
    match tag % 8 {
        0 => Value::Null,
        1 => {
            let mut bytes = [0u8; 8];
            let taken = take(8);
            bytes[..taken.len()].copy_from_slice(taken);
            Value::Integer(i64::from_le_bytes(bytes))
        }
        2 => Value::Integer(i64::from(take(1).first().copied().unwrap_or(0) % 4)),
        3 => {
            let mut bytes = [0u8; 8];
            let taken = take(8);
            bytes[..taken.len()].copy_from_slice(taken);
            Value::Real(f64::from_le_bytes(bytes))
        }
        4 => {
            let len = usize::from(take(1).first().copied().unwrap_or(0));
            Value::Text(String::from_utf8_lossy(take(len)).into_owned())
        }
        5 => Value::Text(WORDS[usize::from(tag / 8) % WORDS.len()].to_owned()),
        6 => {
            let len = usize::from(take(1).first().copied().unwrap_or(0));
            Value::Blob(take(len).to_vec())
        }
        // Microseconds near 2026, so that times are in range and ordered by small steps.
        _ => {
            let step = i64::from(take(1).first().copied().unwrap_or(0));
            Value::Integer(1_767_225_600_000_000 + step * 1_000_000)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let values: Vec<Value> = (0..18).map(|_| value(&mut rest)).collect();
    let _ = jobrun::fuzzing::decode_run_row(values);
});
