//! Reader tests: aliases, role names, encodings, quoting, comments, duplicates, located errors,
//! and property tests over arbitrary bytes and arbitrary valid rosters.

use core_api::target::{AssigneeKind, TargetKind};
use proptest::prelude::*;

use super::*;
use crate::model::{AssigneeRef, RosterRow, SpaceRef};

fn read(text: &str) -> Roster {
    read_bytes(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn read_bytes(bytes: &[u8]) -> Result<Roster, RosterFileError> {
    read_roster_from(bytes, "roster.csv", TargetKind::Qlik)
}

fn read_err(bytes: &[u8]) -> RosterFileError {
    match read_bytes(bytes) {
        Ok(roster) => panic!("expected an error, got {:?}", roster.rows),
        Err(e) => e,
    }
}

fn ok_rows(roster: &Roster) -> Vec<RosterRow> {
    roster.valid_rows().cloned().collect()
}

fn user(line: u64, space: &str, email: &str, roles: &[&str]) -> RosterRow {
    RosterRow {
        line,
        space: SpaceRef::Name(space.to_owned()),
        assignee_kind: AssigneeKind::User,
        assignee: AssigneeRef::Email(email.to_owned()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn group(line: u64, space: &str, name: &str, roles: &[&str]) -> RosterRow {
    RosterRow {
        line,
        space: SpaceRef::Name(space.to_owned()),
        assignee_kind: AssigneeKind::Group,
        assignee: AssigneeRef::Name(name.to_owned()),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

#[test]
fn canonical_roster() {
    let roster = read(
        "space,type,assignee,roles\n\
         Finance Prod,group,Finance Analysts,consumer\n\
         Finance Prod,user,Alice@Example.com,producer;consumer;consumer\n",
    );
    assert_eq!(
        ok_rows(&roster),
        vec![
            group(2, "Finance Prod", "Finance Analysts", &["consumer"]),
            user(3, "Finance Prod", "alice@example.com", &["consumer", "producer"]),
        ]
    );
    assert_eq!(roster.header, vec!["space", "type", "assignee", "roles"]);
    assert!(roster.extra_columns.is_empty());
    assert_eq!(roster.merged_duplicates, 0);
}

#[test]
fn header_aliases() {
    let roster = read("Space Name,Email,Role\nSales,bob@x.io,Can view\n");
    assert_eq!(
        ok_rows(&roster),
        vec![user(2, "Sales", "bob@x.io", &["consumer"])]
    );

    let roster = read("space_name,group_name,roles\nSales,Sales Team,Can edit|Can view\n");
    assert_eq!(
        ok_rows(&roster),
        vec![group(2, "Sales", "Sales Team", &["consumer", "producer"])]
    );

    let roster = read("space_id,user,roles\n604f1a,c@x.io,consumer\n");
    assert_eq!(
        roster.valid_rows().next().map(|r| r.space.clone()),
        Some(SpaceRef::Id("604f1a".into()))
    );

    let roster =
        read("space,type,assignee_id,roles\nSales,group,6050aa,consumer\nSales,user,6050ab,consumer\n");
    let rows = ok_rows(&roster);
    assert_eq!(rows[0].assignee, AssigneeRef::Id("6050aa".into()));
    assert_eq!(rows[0].assignee_kind, AssigneeKind::Group);
    assert_eq!(rows[1].assignee_kind, AssigneeKind::User);

    // Email and group columns side by side: each row fills one.
    let roster =
        read("space,email,group,roles\nA,a@x.io,,consumer\nA,,Team,consumer\nA,b@x.io,Team,consumer\n");
    let rows = ok_rows(&roster);
    assert_eq!(
        rows,
        vec![
            user(2, "A", "a@x.io", &["consumer"]),
            group(3, "A", "Team", &["consumer"])
        ]
    );
    let problem = roster.problems().next().unwrap();
    assert_eq!(problem.line, 4);
    assert!(problem.message.contains("not both"), "{}", problem.message);
}

#[test]
fn role_names_and_separators() {
    let roster = read(
        "space,type,assignee,roles\n\
         S,user,a@x.io,CAN VIEW | can  edit ;Consumer\n\
         S,user,b@x.io,Has restricted view\n\
         S,user,c@x.io,Can edit data in applications;can manage;Can operate;Can publish;Can contribute;Can consume data;Can view data\n",
    );
    let rows = ok_rows(&roster);
    assert_eq!(rows[0].roles, vec!["consumer", "producer"]);
    assert_eq!(rows[1].roles, vec!["basicconsumer"]);
    assert_eq!(
        rows[2].roles,
        vec![
            "codeveloper",
            "contributor",
            "dataconsumer",
            "datapreview",
            "facilitator",
            "operator",
            "publisher"
        ]
    );
}

#[test]
fn alumio_role_names() {
    let text = "space_id,email,roles\nmy-space,a@x.io,Viewer;ROLE_editor\nmy-space,b@x.io,administrator\nmy-space,c@x.io,consumer\n";
    let roster = read_roster_from(text.as_bytes(), "r.csv", TargetKind::Alumio).unwrap();
    let rows = ok_rows(&roster);
    assert_eq!(rows[0].roles, vec!["ROLE_EDITOR", "ROLE_USER"]);
    assert_eq!(rows[1].roles, vec!["ROLE_ADMINISTRATOR"]);
    let problem = roster.problems().next().unwrap();
    assert!(
        problem.message.contains("unknown role \"consumer\""),
        "{}",
        problem.message
    );
    assert!(problem.message.contains("ROLE_USER"), "{}", problem.message);
}

#[test]
fn bom_crlf_spaces_blank_lines_and_comments() {
    let text = "\u{feff}# exported from the HR system\r\n\
                \r\n\
                 space , type , assignee , roles \r\n\
                # finance\r\n\
                  Finance Prod , user ,  alice@example.com , consumer \r\n\
                \r\n\
                ,,,\r\n\
                Finance Prod,user,bob@example.com,consumer\r\n";
    let roster = read(text);
    assert_eq!(roster.header, vec!["space", "type", "assignee", "roles"]);
    assert_eq!(
        ok_rows(&roster),
        vec![
            user(5, "Finance Prod", "alice@example.com", &["consumer"]),
            user(8, "Finance Prod", "bob@example.com", &["consumer"]),
        ]
    );
}

#[test]
fn quoting() {
    let text = "space,type,assignee,roles,notes\n\
                \"Sales, EMEA\",group,\"The \"\"A\"\" Team\",\"consumer;producer\",\"note, with comma\"\n\
                \"#general\",user,a@x.io,consumer,\n";
    let roster = read(text);
    assert_eq!(
        ok_rows(&roster),
        vec![
            group(2, "Sales, EMEA", "The \"A\" Team", &["consumer", "producer"]),
            user(3, "#general", "a@x.io", &["consumer"]),
        ]
    );
    assert_eq!(roster.extra_columns, vec!["notes"]);
    assert_eq!(&*roster.extra_cells(0)[0], "note, with comma");
}

#[test]
fn unnamed_trailing_header_columns_may_be_left_out() {
    let roster = read("space,type,assignee,roles,,\nS,user,a@x.io,consumer\nS,user,b@x.io,consumer,,\n");
    assert_eq!(roster.valid_rows().count(), 2);
    assert_eq!(
        roster.output_cells(0),
        vec!["S", "user", "a@x.io", "consumer", "", ""]
    );
    let error = read_err(b"space,type,assignee,roles,note,\nS,user,a@x.io,consumer\n");
    assert!(
        error
            .to_string()
            .contains("expected 5 fields as in the header, found 4"),
        "{error}"
    );
}

#[test]
fn semicolon_files_and_excel_sep_line() {
    let roster = read("space;type;assignee;roles\nSales;user;a@x.io;consumer|producer\n");
    assert_eq!(
        ok_rows(&roster),
        vec![user(2, "Sales", "a@x.io", &["consumer", "producer"])]
    );
    let roster = read("sep=;\nspace;email;roles\nSales;a@x.io;\"consumer;producer\"\n");
    assert_eq!(
        ok_rows(&roster),
        vec![user(3, "Sales", "a@x.io", &["consumer", "producer"])]
    );
    let roster = read("space\temail\troles\nSales\ta@x.io\tconsumer\n");
    assert_eq!(ok_rows(&roster), vec![user(2, "Sales", "a@x.io", &["consumer"])]);
}

#[test]
fn row_problems_are_located() {
    let text = format!(
        "space,type,assignee,roles\n\
         Sales,user,a@x.io,Can fly\n\
         Sales,user,not-an-email,consumer\n\
         Sales/EMEA,user,b@x.io,consumer\n\
         {},user,c@x.io,consumer\n\
         Sales,user,d@x.io,\n\
         Sales,robot,e@x.io,consumer\n\
         Sales,user,f@x.io,consumer\n\
         ,user,,\n",
        "L".repeat(300)
    );
    let roster = read(&text);
    let problems: Vec<_> = roster.problems().cloned().collect();
    assert_eq!(problems.len(), 7, "{problems:#?}");
    assert_eq!(ok_rows(&roster), vec![user(8, "Sales", "f@x.io", &["consumer"])]);

    assert_eq!(roster.locate(&problems[0]), "roster.csv:2:4");
    assert_eq!(problems[0].column.as_deref(), Some("roles"));
    assert!(
        problems[0]
            .message
            .starts_with("unknown role \"Can fly\" (expected one of: "),
        "{}",
        problems[0].message
    );
    assert!(problems[0].message.contains("consumer"));

    assert_eq!(roster.locate(&problems[1]), "roster.csv:3:3");
    assert!(
        problems[1].message.contains("invalid email \"not-an-email\""),
        "{}",
        problems[1].message
    );

    assert_eq!(roster.locate(&problems[2]), "roster.csv:4:1");
    assert!(
        problems[2].message.contains("contains '/'"),
        "{}",
        problems[2].message
    );

    assert!(
        problems[3]
            .message
            .contains("300 characters long; the limit is 256"),
        "{}",
        problems[3].message
    );
    assert_eq!(problems[4].message, "no roles given");
    assert!(
        problems[5]
            .message
            .contains("unknown type \"robot\" (expected user or group)")
    );
    assert_eq!(roster.locate(&problems[5]), "roster.csv:7:2");
    // Several problems in one row are all named.
    assert_eq!(problems[6].line, 9);
    assert!(
        problems[6].message.contains("missing space"),
        "{}",
        problems[6].message
    );
    assert!(
        problems[6].message.contains("missing assignee"),
        "{}",
        problems[6].message
    );
    assert!(
        problems[6].message.contains("no roles given"),
        "{}",
        problems[6].message
    );
    assert!(problems.iter().all(|p| p.code() == "invalid_row"));
}

#[test]
fn every_forbidden_space_character_fails_its_row() {
    let mut text = String::from("space,email,roles\n");
    for c in QLIK_FORBIDDEN_SPACE_CHARS.chars() {
        let cell = if c == '"' {
            "\"a\"\"b\"".to_owned()
        } else {
            format!("a{c}b")
        };
        text.push_str(&format!("{cell},x@y.io,consumer\n"));
    }
    let roster = read(&text);
    assert_eq!(
        roster.problems().count(),
        QLIK_FORBIDDEN_SPACE_CHARS.chars().count()
    );
    assert_eq!(roster.valid_rows().count(), 0);
}

#[test]
fn exact_duplicates_merge_and_conflicts_name_both_lines() {
    let roster = read(
        "space,type,assignee,roles\n\
         S,user,a@x.io,consumer\n\
         S,user,A@X.IO,Can view\n\
         S,group,G,consumer\n\
         S,group,G,producer\n\
         T,user,a@x.io,consumer\n",
    );
    assert_eq!(roster.merged_duplicates, 1);
    assert_eq!(roster.rows.len(), 4);
    assert_eq!(
        ok_rows(&roster),
        vec![
            user(2, "S", "a@x.io", &["consumer"]),
            user(6, "T", "a@x.io", &["consumer"])
        ]
    );
    let problems: Vec<_> = roster.problems().cloned().collect();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].line, 4);
    assert!(
        problems[0].message.contains("line 5 gives producer"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[0].message.contains("this line gives roles consumer"),
        "{}",
        problems[0].message
    );
    assert_eq!(problems[1].line, 5);
    assert!(
        problems[1].message.contains("line 4 gives consumer"),
        "{}",
        problems[1].message
    );
    assert!(problems.iter().all(|p| p.code() == "duplicate_conflict"));
    // A conflicting row can still be written back to the failed-rows CSV.
    let index = roster.index_of_line(5).unwrap();
    assert_eq!(roster.output_cells(index), vec!["S", "group", "G", "producer"]);
}

#[test]
fn three_way_conflict_with_a_repeat() {
    let roster = read(
        "space,email,roles\nS,a@x.io,consumer\nS,a@x.io,producer\nS,a@x.io,consumer\nS,a@x.io,publisher\n",
    );
    assert_eq!(roster.merged_duplicates, 1);
    let problems: Vec<_> = roster.problems().cloned().collect();
    assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), vec![2, 3, 5]);
    assert!(
        problems[0]
            .message
            .contains("line 3 gives producer, line 5 gives publisher"),
        "{}",
        problems[0].message
    );
}

#[test]
fn failed_csv_columns_and_formula_escapes() {
    let text = "space,type,assignee,roles,team,error_code,http_status,message,attempts,line\n\
                S,group,'=Admins,consumer,'+ops,unknown_group,,\"unknown group \"\"=Admins\"\"\",0,7\n";
    let roster = read(text);
    assert_eq!(ok_rows(&roster), vec![group(2, "S", "=Admins", &["consumer"])]);
    assert_eq!(roster.extra_columns, vec!["team"]);
    assert_eq!(&*roster.extra_cells(0)[0], "+ops");
    assert_eq!(
        roster.output_header(),
        vec!["space", "type", "assignee", "roles", "team"]
    );
    assert_eq!(
        roster.output_cells(0),
        vec!["S", "group", "=Admins", "consumer", "+ops"]
    );
}

#[test]
fn output_cells_keep_the_original_layout() {
    let roster = read("notes,space,email,group,roles\nn1,S,A@x.io,,Can view\nn2,S,,G,Can fly\n");
    assert_eq!(
        roster.output_header(),
        vec!["notes", "space", "email", "group", "roles"]
    );
    assert_eq!(roster.output_cells(0), vec!["n1", "S", "a@x.io", "", "consumer"]);
    // Rows with a problem come back as written.
    assert_eq!(roster.output_cells(1), vec!["n2", "S", "", "G", "Can fly"]);
}

fn messages(error: &RosterFileError) -> Vec<String> {
    error.problems().iter().map(|p| p.located("roster.csv")).collect()
}

#[test]
fn empty_and_header_only() {
    for text in ["", "\n\n", "# only a comment\n", "\u{feff}"] {
        let error = read_err(text.as_bytes());
        assert!(
            messages(&error)[0].contains("the file is empty"),
            "{text:?}: {error}"
        );
    }
    let error = read_err(b"space,type,assignee,roles\n# nothing yet\n");
    assert_eq!(
        messages(&error),
        vec!["roster.csv: the file has a header but no rows"]
    );
}

#[test]
fn missing_columns() {
    let error = read_err(b"space,who,roles\nS,a@x.io,consumer\n");
    assert_eq!(error.problem_count(), 1);
    assert!(
        messages(&error)[0].starts_with("roster.csv:1: missing column \"assignee\""),
        "{error}"
    );
    let error = read_err(b"space,assignee,roles\nS,a@x.io,consumer\n");
    assert!(messages(&error)[0].contains("missing column \"type\""), "{error}");
}

#[test]
fn every_file_problem_is_listed_with_its_line_and_column() {
    let mut text = b"space,type,assignee,roles\n".to_vec();
    text.extend_from_slice(b"S,user,a@x.io,consumer\n"); // 2: fine
    text.extend_from_slice(b"S,user,a@x.io\n"); // 3: too few fields
    text.extend_from_slice(b"S,user,b@x.io,consumer,surprise\n"); // 4: too many
    text.extend_from_slice(b"Caf\xe9,user,c@x.io,consumer\n"); // 5: latin-1
    text.extend_from_slice(b"S,user,d\x00@x.io,consumer\n"); // 6: NUL
    text.extend_from_slice(b"S,user,e@x.io,consumer,\n"); // 7: an empty trailing field is fine
    let error = read_err(&text);
    assert_eq!(
        messages(&error),
        vec![
            "roster.csv:3: expected 4 fields as in the header, found 3",
            "roster.csv:4:5: found 5 fields, but the header has 4",
            "roster.csv:5:1: invalid utf-8 (byte 0xe9 at offset 3 of the field); save the file as utf-8",
            "roster.csv:6:3: contains a NUL byte (is the file utf-16 or binary? save it as utf-8)",
        ]
    );
    let shown = error.to_string();
    assert!(
        shown.starts_with("roster roster.csv is malformed (4 problems):"),
        "{shown}"
    );
}

#[test]
fn unbalanced_quotes() {
    // Opened and never closed: the parser would take the rest of the file as one field.
    let error = read_err(b"space,type,assignee,roles\nS,user,\"a@x.io,consumer\nS,user,b@x.io,consumer\n");
    let shown = messages(&error);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with("roster.csv:2:3: field runs over 3 lines"),
        "{shown:?}"
    );

    // Opened on the last line, with no newline after it.
    let error = read_err(b"space,type,assignee,roles\nS,user,b@x.io,\"consumer");
    assert!(
        messages(&error)[0].starts_with("roster.csv:2: unbalanced quote"),
        "{error}"
    );

    // A stray quote inside an unquoted field.
    let error = read_err(b"space,type,assignee,roles\nS,group,O\"Brien,consumer\nS,user,b@x.io,consumer\n");
    assert!(
        messages(&error)[0].starts_with("roster.csv:2: unbalanced quote"),
        "{error}"
    );

    // Quotes inside comment lines do not count.
    read(" space,type,assignee,roles\n# the \"odd one\n S,user,b@x.io,consumer\n");
}

#[test]
fn utf16_is_refused() {
    let text = "space,type,assignee,roles\nS,user,a@x.io,consumer\n";
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let error = read_err(&le);
    assert_eq!(
        messages(&error),
        vec!["roster.csv: the file is utf-16 encoded; save it as utf-8 (in excel: \"csv utf-8\")"]
    );

    let without_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let error = read_err(&without_bom);
    assert_eq!(error.problem_count(), 1, "{error}");
    assert!(messages(&error)[0].contains("looks like utf-16"), "{error}");
}

#[test]
fn absurd_sizes_are_refused() {
    let mut text = b"space,type,assignee,roles\nS,user,a@x.io,".to_vec();
    text.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    text.push(b'\n');
    let error = read_err(&text);
    assert_eq!(
        messages(&error),
        vec![format!(
            "roster.csv:2:4: field is 10485760 bytes long; the limit is {MAX_FIELD_BYTES}"
        )]
    );

    let mut wide = b"space,type,assignee,roles".to_vec();
    for i in 0..100_000 {
        wide.extend_from_slice(format!(",c{i}").as_bytes());
    }
    wide.extend_from_slice(b"\nS,user,a@x.io,consumer\n");
    let error = read_err(&wide);
    let shown = messages(&error);
    assert!(
        shown[0].starts_with("roster.csv:1: 100004 fields; the limit is 1024"),
        "{shown:?}"
    );
}

#[test]
fn problems_beyond_the_cap_are_counted() {
    let mut text = String::from("space,type,assignee,roles\n");
    for _ in 0..(MAX_REPORTED_PROBLEMS + 20) {
        text.push_str("S,user\n");
    }
    let error = read_err(text.as_bytes());
    assert_eq!(error.problems().len(), MAX_REPORTED_PROBLEMS);
    assert_eq!(error.problem_count(), MAX_REPORTED_PROBLEMS as u64 + 20);
    assert!(error.to_string().ends_with("... and 20 more"));
}

#[test]
fn open_errors_name_the_file() {
    let error = read_roster(std::path::Path::new("/nonexistent/roster.csv"), TargetKind::Qlik).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot open roster /nonexistent/roster.csv:"),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn csv_like_bytes_never_panic(
        text in proptest::string::string_regex("(space|email|group|type|roles|role|assignee|x|\"|,|;|\\||\n|\r|#|'|=| |user|a@b.c|consumer|Can view)*").unwrap()
    ) {
        let _ = read_bytes(text.as_bytes());
        let _ = read_roster_from(text.as_bytes(), "r.csv", TargetKind::Alumio);
    }

    #[test]
    fn valid_rosters_round_trip_through_the_failed_rows_csv(rows in valid_rows()) {
        let original = write_roster(&rows);
        let roster = read(&original);
        let expected: Vec<RosterRow> = dedup_expected(&rows);
        prop_assert_eq!(ok_rows(&roster), expected.clone());

        // Written back as a failed-rows CSV (escaped, with the result columns), then read again.
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut header = roster.output_header();
        header.extend(FAILED_CSV_COLUMNS.iter().map(|c| (*c).to_owned()));
        out.write_record(&header).unwrap();
        for index in 0..roster.rows.len() {
            let mut cells: Vec<String> =
                roster.output_cells(index).iter().map(|c| escape_cell(c).into_owned()).collect();
            cells.extend(["server".to_owned(), "500".to_owned(), "=boom, \"x\"".to_owned(), "3".to_owned(), "9".to_owned()]);
            out.write_record(&cells).unwrap();
        }
        let failed = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let again = read(&failed);
        let strip = |rows: Vec<RosterRow>| rows.into_iter().map(|mut r| { r.line = 0; r }).collect::<Vec<_>>();
        prop_assert_eq!(strip(ok_rows(&again)), strip(expected));
        prop_assert_eq!(again.extra_columns.clone(), roster.extra_columns.clone());
        for index in 0..roster.rows.len() {
            prop_assert_eq!(again.extra_cells(index), roster.extra_cells(index));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn lines_are_counted_through_comments_blank_lines_and_crlf(
        layout in proptest::collection::vec(0u8..5, 1..40),
        crlf in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from(if bom { "\u{feff}" } else { "" });
        text.push_str("# leading comment");
        text.push_str(eol);
        text.push_str("space,email,roles,note");
        text.push_str(eol);
        let mut line = 2;
        let mut expected = Vec::new();
        for (i, what) in layout.iter().enumerate() {
            line += 1;
            match what {
                0 => text.push_str("# a comment, with \"quotes\""),
                1 => {}
                2 => text.push_str(",,,"),
                3 => {
                    text.push_str(&format!("\"S {i}\",u{i}@x.io,\"consumer;producer\",\"n, {i}\""));
                    expected.push(line);
                }
                _ => {
                    text.push_str(&format!("S {i},u{i}@x.io,consumer,"));
                    expected.push(line);
                }
            }
            text.push_str(eol);
        }
        if expected.is_empty() {
            text.push_str("S,last@x.io,consumer,");
            expected.push(line + 1);
        }
        let roster = read(&text);
        prop_assert_eq!(roster.rows.iter().map(|r| r.line).collect::<Vec<_>>(), expected);
        prop_assert_eq!(roster.problems().count(), 0);
    }
}

/// A million rows in the time and memory the tool promises. Run in release:
/// `cargo test --release -p engine million_rows -- --ignored`.
#[test]
#[ignore = "slow in debug builds; run in release"]
fn million_rows() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "space,type,assignee,roles").unwrap();
    for i in 0..1_000_000u32 {
        writeln!(
            file,
            "Space {},user,user{i}@example.com,consumer;producer",
            i % 500
        )
        .unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let started = std::time::Instant::now();
    let roster = read_roster(&path, TargetKind::Qlik).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(roster.valid_rows().count(), 1_000_000);
    eprintln!("read 1,000,000 rows in {elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
}

/// Rows with every kind of awkward content a valid roster may hold.
fn valid_rows() -> impl Strategy<Value = Vec<(String, bool, String, Vec<&'static str>, String)>> {
    let name = || {
        proptest::string::string_regex("[=+@\\-'#]?[A-Za-z0-9é][A-Za-z0-9 ,;|\"'é=+-]{0,12}[A-Za-z0-9é]")
            .unwrap()
    };
    let local = proptest::string::string_regex("[A-Za-z0-9.+_-]{1,10}").unwrap();
    let roles = proptest::sample::subsequence(role_api_names(TargetKind::Qlik), 1..4);
    let note = proptest::string::string_regex("[=+@-]?[a-z ,\"]{0,8}").unwrap();
    proptest::collection::vec((name(), any::<bool>(), (local, name()), roles, note), 1..20).prop_map(|rows| {
        rows.into_iter()
            .map(|(space, is_user, (local, group_name), roles, note)| {
                let assignee = if is_user {
                    format!("{local}@example.com")
                } else {
                    group_name
                };
                (space, is_user, assignee, roles, note)
            })
            .collect()
    })
}

fn write_roster(rows: &[(String, bool, String, Vec<&'static str>, String)]) -> String {
    // Quoted only where needed, as the failed-rows CSV is: a first cell starting with `#` must
    // not read as a comment (escape_cell guards it).
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["space", "type", "assignee", "roles", "note"])
        .unwrap();
    for (space, is_user, assignee, roles, note) in rows {
        let kind = if *is_user { "user" } else { "group" };
        let cells = [
            space.as_str(),
            kind,
            assignee.as_str(),
            &roles.join("|"),
            note.as_str(),
        ];
        out.write_record(cells.iter().map(|c| escape_cell(c).into_owned()))
            .unwrap();
    }
    String::from_utf8(out.into_inner().unwrap()).unwrap()
}

/// What the reader should yield for generated rows: exact repeats merged, conflicts failed.
fn dedup_expected(rows: &[(String, bool, String, Vec<&'static str>, String)]) -> Vec<RosterRow> {
    let all: Vec<RosterRow> = rows
        .iter()
        .enumerate()
        .map(|(i, (space, is_user, assignee, roles, _))| {
            let mut roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
            roles.sort();
            let line = i as u64 + 2;
            if *is_user {
                RosterRow {
                    line,
                    space: SpaceRef::Name(space.clone()),
                    assignee_kind: AssigneeKind::User,
                    assignee: AssigneeRef::Email(assignee.to_lowercase()),
                    roles,
                }
            } else {
                RosterRow {
                    line,
                    space: SpaceRef::Name(space.clone()),
                    assignee_kind: AssigneeKind::Group,
                    assignee: AssigneeRef::Name(assignee.clone()),
                    roles,
                }
            }
        })
        .filter(|r| {
            !r.space
                .to_string_lossy()
                .contains(['"', '/', '\\', ':', '*', '?', '<', '>', '|'])
        })
        .collect();
    let same = |a: &RosterRow, b: &RosterRow| {
        a.space == b.space && a.assignee_kind == b.assignee_kind && a.assignee == b.assignee
    };
    let mut kept = Vec::new();
    for (i, row) in all.iter().enumerate() {
        let earlier_repeat = all[..i].iter().any(|o| same(o, row) && o.roles == row.roles);
        let conflict = all.iter().any(|o| same(o, row) && o.roles != row.roles);
        if !earlier_repeat && !conflict {
            kept.push(row.clone());
        }
    }
    kept
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for SpaceRef {
    fn to_string_lossy(&self) -> String {
        match self {
            SpaceRef::Name(v) | SpaceRef::Id(v) => v.clone(),
        }
    }
}

fn corpus_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every file of the bad-input corpus gives the outcome its manifest line says, with located
/// messages; none panics.
#[test]
fn bad_input_corpus() {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut cases = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, kind, expect] = fields.as_slice() else {
            panic!("bad manifest line {line:?}")
        };
        let path = dir.join(name);
        let shown = path.display().to_string();
        cases += 1;
        match (*kind, read_roster(&path, TargetKind::Qlik)) {
            ("file", Err(error)) => {
                assert!(error.problem_count() > 0, "{name}: {error}");
                let text = error.to_string();
                assert!(text.contains(expect), "{name}: expected {expect:?} in\n{text}");
                for problem in error.problems() {
                    assert!(
                        problem.located(&shown).starts_with(&format!("{shown}:")),
                        "{name}"
                    );
                }
            }
            ("rows", Ok(roster)) => {
                let problems: Vec<_> = roster.problems().collect();
                assert!(!problems.is_empty(), "{name}: no row problems");
                assert!(
                    problems.iter().any(|p| p.message.contains(expect)),
                    "{name}: expected {expect:?} in {problems:#?}"
                );
                for problem in &problems {
                    assert!(problem.line > 1, "{name}: {problem:?}");
                    assert!(
                        roster
                            .locate(problem)
                            .starts_with(&format!("{shown}:{}", problem.line))
                    );
                }
                assert!(roster.valid_rows().count() > 0, "{name}: every row failed");
                // Written back for a spreadsheet, no cell starts a formula.
                for index in 0..roster.rows.len() {
                    for cell in roster.output_cells(index) {
                        let escaped = escape_cell(&cell);
                        assert!(
                            !escaped.starts_with(['=', '+', '-', '@', '\t', '\r']),
                            "{name}: {escaped:?}"
                        );
                    }
                }
            }
            (_, Ok(roster)) => panic!("{name}: expected a file error, read {} rows", roster.rows.len()),
            (_, Err(error)) => panic!("{name}: expected row problems, got {error}"),
        }
    }
    assert!(cases >= 25, "the corpus has {cases} cases");
}

/// The two corpus cases too big to keep in the repository.
#[test]
fn bad_input_corpus_generated_cases() {
    let dir = tempfile::tempdir().unwrap();
    let field = dir.path().join("ten-mb-field.csv");
    let mut text = b"space,type,assignee,roles\nSales,user,a@example.com,consumer\nSales,user,".to_vec();
    text.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    text.extend_from_slice(b"@example.com,consumer\n");
    std::fs::write(&field, &text).unwrap();
    let error = read_roster(&field, TargetKind::Qlik).unwrap_err();
    assert_eq!(error.problems()[0].line, 3);
    assert_eq!(error.problems()[0].column, Some(3));
    assert!(
        error
            .to_string()
            .contains("field is 10485772 bytes long; the limit is 65536"),
        "{error}"
    );

    let wide = dir.path().join("hundred-thousand-columns.csv");
    let mut text = String::from("space,type,assignee,roles");
    for i in 0..100_000 {
        text.push_str(&format!(",extra{i}"));
    }
    text.push_str("\nSales,user,a@example.com,consumer\n");
    std::fs::write(&wide, &text).unwrap();
    let error = read_roster(&wide, TargetKind::Qlik).unwrap_err();
    assert!(
        error.to_string().contains(":1: 100004 fields; the limit is 1024"),
        "{error}"
    );
}

#[test]
fn an_export_reads_by_name_with_ids_as_references() {
    let text = "# owner of Sales: boss@x.io\nspace,type,assignee,roles,space_id,assignee_id\n\
                Sales,user,A@x.io,consumer,s1,u1\n\
                Sales,group,Team,producer,s1,g1\n\
                Sales,user,auth0|robot,consumer,s1,u9\n";
    let roster = read(text);
    let rows = ok_rows(&roster);
    assert_eq!(rows.len(), 3, "{:?}", roster.problems().collect::<Vec<_>>());
    assert_eq!(rows[0].space, SpaceRef::Name("Sales".into()));
    assert_eq!(rows[0].assignee, AssigneeRef::Email("a@x.io".into()));
    assert_eq!(rows[1].assignee, AssigneeRef::Name("Team".into()));
    // A user without an email is reached through its id.
    assert_eq!(rows[2].assignee, AssigneeRef::Id("u9".into()));
    assert_eq!(
        roster.extra_columns,
        vec!["space_id".to_owned(), "assignee_id".to_owned()]
    );
}
