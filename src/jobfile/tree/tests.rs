//! The tree against toml_edit, its oracle: for every document, both accept or both refuse it;
//! what they accept reads the same (keys in the same order, kinds, values, spans, and values
//! printed the same in help text), and what they refuse is refused with the same message at the
//! same place, whichever line ends the tokens are cut at. One place differs on purpose: a dotted
//! key nested past the limit, which toml_edit reports at no place (so at 1:1) and the tree at
//! the first key past the limit.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;
use toml_edit::Document;

use super::build::{CHUNK_TOKENS, build, message};
use super::compare::compare;
use super::{Node, Tree};

fn assert_same(text: &str) {
    for chunk in [1, 3, CHUNK_TOKENS] {
        if let Err(e) = compare(text, chunk) {
            panic!("{e}");
        }
    }
}

const VALID: &[&str] = &[
    "",
    "\u{feff}a = 1\n",
    "a = 1",
    "a = 1\r\nb = 'x'\r\n",
    "# only a comment\n\n",
    "[jobs.report]\ncron = \"0 3 * * *\"\ncommand = [\"./report.sh\", \"--daily\"]\n",
    "[jobs.a.env]\nX = '1'\n[jobs.b]\ncron = '* * * * *'\n[jobs.a]\ncron = '0 * * * *'\n",
    "[a.b.c]\n[a]\nk = 1\n[a.b]\nj = 2\n",
    "[ jobs . \"my job\" ]\nk = 1\n['jobs'.x]\nk = 2\n",
    "a.b.c = 1\na.b.d = 2\na.e = 3\n",
    "[t]\na.b = 1\na.c = 2\n[t.x]\ny = 1\n",
    "[[jobs.x.all]]\ncron = '0 9 * * *'\n[[jobs.x.all]]\nevery = '1h'\n[jobs.x.all.sub]\nk = 1\n[[jobs.x.all]]\n",
    "[[a]]\n[a.b]\nc = 1\n[[a]]\n[a.b]\nc = 2\n",
    "x = { a = 1, b.c = 2, b.d = 'x' }\n",
    "x = { a = 1, b = [1, { c = 2 }], }\n",
    "x = {\n  a = 1, # one\n  b = 2,\n}\n",
    "x = {}\ny = []\nz = [ ]\n",
    "arr = [1, 2,\n  3, # three\n]\nnested = [[1, 2], ['a'], [], [[]]]\n",
    "mixed = [1, 'a', 1.5, true, 1979-05-27, { k = 'v' }, [2]]\n",
    "s = \"tab\\there \\u00e9 \\\"q\\\"\"\nl = 'C:\\path'\n",
    "m = \"\"\"\nline one\nline \\\n  two\"\"\"\nml = '''\n[not a table]\nk = 1\n'''\n",
    "\"quoted key\" = 1\n'lit key' = 2\n\"esc\\u0061ped\" = 3\n\"\" = 4\n",
    "a.\"b.c\".d = 1\n",
    "i = [0, -17, +99, 1_000, 0xDEAD_beef, 0o755, 0b1101, 9223372036854775807]\n",
    "f = [1.5, -0.01, 5e+22, 1e06, -2E-2, 6.626e-34, 224_617.445_991, inf, -inf, nan, +nan, 0.0]\n",
    "d = [1979-05-27T07:32:00Z, 1979-05-27T00:32:00-07:00, 1979-05-27T00:32:00.999999, 1979-05-27 07:32:00, 1979-05-27, 07:32:00, 00:32:00.5]\n",
    "b = [true, false]\n",
    "k=1#c\n[t]#c\n[[u]]#c\n",
    "a = 1\n\n\n[b]\n\n\nc = 2\n",
    "[a]\n[b]\n[c]\n[d]\n[e]\n[f]\n[g]\n[h]\n[i]\n[j]\n[k]\n[a.x]\n[j.x]\n",
    "[jobs]\na = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8\ni = 9\nj = 10\n[jobs.k]\n",
    "[x.y.z]\n[x.y]\n[x]\n",
    "[x.a.b]\n[x]\na.k = 1\n[x.a.c]\n",
    "a = [\n  [\n    1,\n  ],\n]\n",
    "x = { a.b.c = 1, a.b.d = 2 }\n",
];

const INVALID: &[&str] = &[
    "a = 1\na = 2\n",
    "[a]\n[a]\n",
    "[a]\nb = 1\n[a.b]\n",
    "a.b = 1\n[a]\n",
    "a.b = 1\n[a.b]\n",
    "[a]\nb.c = 1\n[a.b]\n",
    "a = 1\na.b = 2\n",
    "a = {}\na.b = 2\n",
    "a = { b = 1 }\n[a]\n",
    "[[a]]\n[a]\n",
    "[a]\n[[a]]\n",
    "a = []\n[[a]]\n",
    "x = { a = 1, a = 2 }\n",
    "x = { a = { b = 1 }, a.c = 2 }\n",
    "x = { a = 1, a.b = 2 }\n",
    "[t]\na = 1\n[t]\nb = 2\n",
    "[a.b]\n[a]\nb = 1\n",
    "a = \n",
    "a = 1 2\n",
    "= 1\n",
    "[]\n",
    "[a\n",
    "a = [1\nb = 2\n",
    "a = { b = 1\n",
    "a = \"unclosed\n",
    "a = \"bad \\q escape\"\n",
    "a = 0777\n",
    "a = 9223372036854775808\n",
    "a = 1e999\n",
    "a = 1979-13-27\n",
    "a = 1979-05-27T25:00:00\n",
    "a = tru\n",
    "a = bare\n",
    "# control \u{7} in a comment\n",
    "a = 1 # control \u{1} in a comment\n",
    "'''key''' = 1\n",
    "a.'''k''' = 1\n",
    "k = 1\r x = 2\n",
    "x = [1, 2]]\n",
    "]\n",
    "a = 1\n[[b]]\nc = 1\n[b]\n",
    "[[t.arr]]\n[t]\narr.k = 1\n",
    "[x.a.b]\n[x]\na.k = 1\n[x.a]\n",
    "a = 1\na = 2\nb = \n",
    "a = 1\na = 2\n# bell \u{7}\n",
    "a = 1\na = 2\nc = [1\nd = 2\n",
    "a = 0777\nb = 1\nb = 2\n",
    "[t]\n[t]\n[u\n",
    // Found by the `jobfile` fuzz target (issue 12): unpaired brackets let a chunk end inside an
    // inline table, and the chunked parse reported another error than toml_edit's.
    "[,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,e\"],6h\" }]\ncgmmand = [\0\0\0\0\0\0\0\0s]\nany = [{ cron = \"0 9 &* * *\" }, { cron = \"\ncomma]\n[jobs.ticks]\nanyep\"ort].Xsh\n\"ureport.sh\"\"\"\"]\n]\n",
    "x = ]\ny = { a = 1\nb]\n[t]\n",
];

#[test]
fn a_node_stays_small() {
    // A 10,000-job jobfile has some 40,000 nodes, all in memory at the peak of a load.
    assert_eq!(size_of::<Node>(), 52);
}

#[test]
fn valid_documents_read_the_same() {
    for text in VALID {
        assert!(
            Document::parse(*text).is_ok(),
            "{text:?} should be valid TOML"
        );
        assert_same(text);
    }
}

#[test]
fn invalid_documents_are_refused_by_both() {
    for text in INVALID {
        assert!(
            Document::parse(*text).is_err(),
            "{text:?} should be invalid TOML"
        );
        assert_same(text);
    }
}

#[test]
fn nesting_limits_are_toml_edits() {
    for depth in [78, 79, 80, 81, 82] {
        let arrays = format!("a = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        assert_same(&arrays);
        let tables = format!("a = {}{}\n", "{ b = ".repeat(depth), "}".repeat(depth));
        assert_same(&tables);
    }
    for len in [78, 79, 80, 81] {
        let keys = vec!["k"; len].join(".");
        assert_same(&format!("{keys} = 1\n"));
        assert_same(&format!("[{keys}]\n"));
    }
}

/// Issue 12: a 100,000-deep dotted key on line 2 was reported at 1:1.
#[test]
fn a_key_nested_too_deep_is_reported_at_the_first_key_past_the_limit() {
    let keys = vec!["k"; 100_000].join(".");
    let text = format!("a = 1\n{keys} = 1\n");
    let Err(error) = build(&text, CHUNK_TOKENS) else {
        panic!("accepted");
    };
    assert_eq!(message(&error), "recursion limit");
    let span = error.unexpected().map(|s| s.start()..s.end());
    // The 80th key: six bytes of line 1, then 79 keys of "k." before it.
    assert_eq!(span, Some(6 + 79 * 2..6 + 79 * 2 + 1));
}

#[test]
fn the_projects_jobfiles_read_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("tests/data/design-example.toml"),
        root.join("examples/jobrun.toml"),
    ];
    let errors = root.join("tests/data/errors");
    files.extend(
        std::fs::read_dir(&errors)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml")),
    );
    assert!(files.len() > 40);
    for file in files {
        // Files that are not UTF-8 never reach a TOML parser.
        if let Ok(text) = String::from_utf8(std::fs::read(&file).unwrap()) {
            assert_same(&text);
        }
    }
}

#[test]
fn a_large_jobfile_reads_the_same_across_many_chunks() {
    let mut text = String::from("[executors.default]\nworkers = 3000\n\n");
    for i in 0..3000 {
        let _ = write!(
            text,
            "[jobs.j{i}]\ncron = \"{} {} * * *\"\ncommand = [\"/bin/true\",\n  \"{i}\"]\n\n",
            i % 60,
            i % 24
        );
    }
    assert!(compare(&text, CHUNK_TOKENS).is_ok());
    let tree = Tree::parse(&text).unwrap();
    let jobs = tree.root().entries().find(|e| e.key == "jobs").unwrap();
    assert_eq!(jobs.item.entries().count(), 3000);
    assert_eq!(jobs.item.entries().nth(1234).unwrap().key, "j1234");
}

/// Lines that, shuffled together, redefine, extend and nest tables in every way TOML allows or
/// forbids.
const FRAGMENTS: &[&str] = &[
    "[a]\n",
    "[a.b]\n",
    "[a.b.c]\n",
    "[[a.l]]\n",
    "[[a]]\n",
    "[b]\n",
    "[\"a\".b]\n",
    "[[x]]\n",
    "[x.y]\n",
    "[[x.y]]\n",
    "k = 1\n",
    "k2 = 'two'\n",
    "a.k = 2\n",
    "l.k = 3\n",
    "b.x = 4\n",
    "b.c = \"s\"\n",
    "b.c.d = 1\n",
    "y.z = true\n",
    "c = { p = 1, q.r = 2 }\n",
    "l = [1, [2,\n3], { t = 4 }]\n",
    "e = { }\n",
    "\"k\" = 'quoted'\n",
    "k.\"s p\" = 1\n",
    "d = 1979-05-27T07:32:00Z\n",
    "f = 1e3\n",
    "# comment [a]\n",
    "\n",
    "m = \"\"\"\n[a]\nk = 1\n\"\"\"\n",
    "bad = \n",
    "a = { b = 1 }\n",
    "x = [{ y = 1 }]\n",
    // Brackets that do not pair up move where chunks end (issue 12).
    "u = ]\n",
    "v = { w = 1\n",
    "q = [\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn shuffled_fragments_read_the_same(lines in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12)) {
        let text = lines.concat();
        for chunk in [1, CHUNK_TOKENS] {
            if let Err(e) = compare(&text, chunk) {
                prop_assert!(false, "{}", e);
            }
        }
    }
}
