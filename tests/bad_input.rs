//! The bad-input corpus (`crates/engine/tests/corpus`, described by its `expected.txt`) run
//! through the real `roster apply`: a file-level problem exits 2 with a located message and sends
//! nothing; row problems fail only their rows (exit 1) with located reasons in the failed-rows
//! CSV; nothing panics; and formula-like cells never come out unescaped.
//!
//! The corpus stays beside the roster reader, whose unit test reads the same files in-process.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use roster_e2e::rig as hardening;

use std::fs;
use std::path::{Path, PathBuf};

use hardening::{Rig, Run, tenant};
use sim::{Group, SimConfig, Space, SpaceType, User};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/engine/tests/corpus")
}

/// The manifest: (file, `file` or `rows`, expected text).
fn manifest() -> Vec<(String, String, String)> {
    let text = fs::read_to_string(corpus_dir().join("expected.txt")).expect("read the manifest");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            let [name, kind, expect] = fields.as_slice() else {
                panic!("bad manifest line {l:?}")
            };
            ((*name).to_owned(), (*kind).to_owned(), (*expect).to_owned())
        })
        .collect()
}

/// A tenant holding what the corpus's valid rows name: space `Sales`, group `Team`, users
/// `a`, `b`, `c`, `ok` and `u0`..`u9` at example.com.
fn rig() -> Rig {
    let mut t = tenant(0, 0, 0);
    t.spaces.push(Space {
        id: "sales".to_owned(),
        name: "Sales".to_owned(),
        space_type: SpaceType::Shared,
        owner_id: hardening::OWNER_ID.to_owned(),
        description: String::new(),
        assignable_roles: None,
    });
    t.groups.push(Group {
        id: "team".to_owned(),
        name: "Team".to_owned(),
        status: "active".to_owned(),
        provider_type: "custom".to_owned(),
        description: String::new(),
        roles: Vec::new(),
    });
    let names = ["a", "b", "c", "ok"]
        .into_iter()
        .map(str::to_owned)
        .chain((0..10).map(|i| format!("u{i}")));
    for name in names {
        t.users.push(User {
            id: format!("id-{name}"),
            subject: format!("auth0|{name}"),
            name: name.clone(),
            email: Some(format!("{name}@example.com")),
            status: "active".to_owned(),
            roles: None,
        });
    }
    let mut config = SimConfig::new(t);
    config.tier1_per_min = None;
    config.tier2_per_min = None;
    Rig::start(config, &["tier1_per_min = 0", "tier2_per_min = 0"])
}

/// A file-level problem: exit 2, a message located at `name:`, no panic, no request.
fn assert_refused(rig: &Rig, name: &str, run: &Run, expect: &str) {
    run.assert_no_panic();
    assert_eq!(run.code, Some(2), "{name}: {}", run.stderr);
    assert!(run.stderr.contains("error"), "{name}: {}", run.stderr);
    assert!(
        run.stderr.contains(expect),
        "{name}: expected {expect:?} in\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{name}:")),
        "{name}: the message is located in the file:\n{}",
        run.stderr
    );
    assert!(
        rig.sim.request_log().is_empty(),
        "{name}: a request was sent for a file the tool refused: {:?}",
        rig.sim.request_log()
    );
    assert!(
        !rig.path(&format!("{}.failed.csv", name.trim_end_matches(".csv")))
            .exists(),
        "{name}: no failed-rows CSV for a refused file"
    );
}

/// The failed-rows CSV as records (header first).
fn read_failed(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

/// No cell a spreadsheet would run as a formula.
fn assert_no_formula_cells(name: &str, records: &[Vec<String>]) {
    for record in records {
        for cell in record {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{name}: unescaped formula-like cell {cell:?} in the failed-rows CSV"
            );
        }
    }
}

#[test]
fn every_corpus_file_is_refused_or_fails_its_rows_through_apply() {
    let cases = manifest();
    assert!(cases.len() >= 25, "the corpus has {} cases", cases.len());
    let files = rig();
    let rows = rig();
    for (name, kind, expect) in &cases {
        match kind.as_str() {
            "file" => {
                fs::copy(corpus_dir().join(name), files.path(name)).expect("copy a corpus file");
                let run = files.apply(name, &[]);
                assert_refused(&files, name, &run, expect);
                // `roster plan` refuses it the same way.
                let run = files.run(&["plan", name, "--to", "sim"]);
                assert_refused(&files, name, &run, expect);
            }
            "rows" => {
                fs::copy(corpus_dir().join(name), rows.path(name)).expect("copy a corpus file");
                let run = rows.apply(name, &[]);
                run.assert_no_panic();
                assert_eq!(run.code, Some(1), "{name}: some rows fail:\n{}", run.stderr);
                let failed = rows.path(&format!("{}.failed.csv", name.trim_end_matches(".csv")));
                let records = read_failed(&failed);
                let header = &records[0];
                let column = |c: &str| {
                    header
                        .iter()
                        .position(|h| h == c)
                        .unwrap_or_else(|| panic!("{name}: no {c} column in {header:?}"))
                };
                let (message, line) = (column("message"), column("line"));
                assert!(
                    records[1..].iter().any(|r| r[message].contains(expect.as_str())),
                    "{name}: expected {expect:?} among the failure messages: {records:?}"
                );
                for record in &records[1..] {
                    let at: u64 = record[line].parse().unwrap_or(0);
                    assert!(at > 1, "{name}: every failed row names its line: {record:?}");
                }
                assert_no_formula_cells(name, &records);
            }
            other => panic!("{name}: unknown kind {other:?}"),
        }
    }
}

#[test]
fn a_ten_megabyte_field_and_a_hundred_thousand_columns_are_refused_before_any_request() {
    let rig = rig();
    let mut text = b"space,type,assignee,roles\nSales,user,a@example.com,consumer\nSales,user,".to_vec();
    text.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    text.extend_from_slice(b"@example.com,consumer\n");
    rig.write("ten-mb-field.csv", &text);
    let run = rig.apply("ten-mb-field.csv", &[]);
    assert_refused(&rig, "ten-mb-field.csv", &run, "the limit is");
    assert!(run.stderr.contains("ten-mb-field.csv:3"), "{}", run.stderr);
    assert!(run.stderr.len() < 10_000, "the huge field is not echoed back");

    let mut text = String::from("space,type,assignee,roles");
    for i in 0..100_000 {
        text.push_str(&format!(",extra{i}"));
    }
    text.push_str("\nSales,user,a@example.com,consumer\n");
    rig.write("wide.csv", &text);
    let run = rig.apply("wide.csv", &[]);
    assert_refused(&rig, "wide.csv", &run, "the limit is");
    assert!(run.stderr.contains("wide.csv:1"), "{}", run.stderr);
    assert!(run.stderr.len() < 10_000, "the header is not echoed back");
}

#[test]
fn formula_cells_come_out_escaped_and_the_failed_csv_reruns_to_the_same_cells() {
    let rig = rig();
    fs::copy(
        corpus_dir().join("formula-injection.csv"),
        rig.path("formulas.csv"),
    )
    .expect("copy");
    let run = rig.apply("formulas.csv", &[]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let first = read_failed(&rig.path("formulas.failed.csv"));
    assert_no_formula_cells("formulas.failed.csv", &first);
    let text = fs::read_to_string(rig.path("formulas.failed.csv")).expect("failed CSV");
    for guarded in ["'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'=1+1", "'-2", "'+1"] {
        assert!(text.contains(guarded), "{guarded:?} is not guarded in\n{text}");
    }
    // The one valid row was done; the three hostile rows failed.
    assert_eq!(first.len(), 4, "{first:?}");

    // The failed CSV is a roster: rerun, the same rows fail again with the same cells.
    let run = rig.apply("formulas.failed.csv", &[]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let second = read_failed(&rig.path("formulas.failed.failed.csv"));
    assert_no_formula_cells("formulas.failed.failed.csv", &second);
    let original_columns = first[0]
        .iter()
        .position(|h| h == "error_code")
        .expect("error_code");
    let cells = |records: &[Vec<String>]| -> Vec<Vec<String>> {
        records.iter().map(|r| r[..original_columns].to_vec()).collect()
    };
    assert_eq!(cells(&first), cells(&second));
}
