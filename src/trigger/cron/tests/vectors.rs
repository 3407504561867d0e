//! `tests/data/cron-vectors.jsonl`: 400 reference cases computed independently with the
//! rules of DESIGN.md, zones and start instants chosen near DST transitions.

use super::{fires, trigger};

#[test]
fn agrees_with_every_reference_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cron-vectors.jsonl");
    let text = std::fs::read_to_string(path).expect("the reference vectors are checked in");
    let mut failures = Vec::new();
    let mut count = 0;
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let field = |name: &str| case[name].as_str().expect("string field").to_owned();
        let (expr, tz, from) = (field("expr"), field("tz"), field("from"));
        let expected: Vec<String> = case["next"]
            .as_array()
            .expect("next is an array")
            .iter()
            .map(|v| v.as_str().expect("next holds strings").to_owned())
            .collect();
        let actual = fires(&trigger(&expr, &tz), &from, expected.len());
        if actual != expected {
            failures.push(format!(
                "line {}: {expr:?} in {tz} from {from}\n  expected {expected:?}\n  actual   {actual:?}",
                number + 1
            ));
        }
        count += 1;
    }
    assert_eq!(count, 400, "the file should hold 400 cases");
    assert!(
        failures.is_empty(),
        "{} of {count} disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
