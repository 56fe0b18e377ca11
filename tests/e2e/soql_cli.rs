//! `sfmcp soql check`: canonical query and exit 0, or the caret diagram and exit 1.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::capture;

fn sfmcp(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .envs(capture::env())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    capture::record_output("soql", &output);
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn a_valid_query_prints_canonically() {
    let out = sfmcp(
        &[
            "soql",
            "check",
            "select id,name from account where name like 'a%' limit 5",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "SELECT id, name FROM account WHERE name LIKE 'a%' LIMIT 5\n"
    );
}

#[test]
fn a_broken_query_shows_the_caret_and_fails() {
    let out = sfmcp(&["soql", "check", "SELECT Id, FROM Account"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "MALFORMED_QUERY: unexpected token: 'FROM'\n  at row 1, column 12:\n    \
         SELECT Id, FROM Account\n               ^\n"
    );
}

#[test]
fn binds_need_the_flag_and_stdin_works() {
    let query = "SELECT Id FROM Account WHERE Id IN :ids";
    let out = sfmcp(&["soql", "check", "-"], Some(query));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Bind variables only allowed in Apex code"));
    let out = sfmcp(&["soql", "check", "--allow-apex-binds", "-"], Some(query));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("{query}\n"));
}

#[test]
fn demo_validates_against_the_demo_orgs_schema() {
    let good = sfmcp(
        &[
            "soql",
            "check",
            "--demo",
            "SELECT Name, Account.Name FROM Contact",
        ],
        None,
    );
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    assert_eq!(
        text(&good.stdout),
        "SELECT Name, Account.Name FROM Contact\n"
    );

    let bad = sfmcp(
        &["soql", "check", "--demo", "SELECT Industy FROM Account"],
        None,
    );
    assert_eq!(bad.status.code(), Some(1));
    let shown = text(&bad.stderr);
    assert!(
        shown.starts_with("INVALID_FIELD: No such column 'Industy'"),
        "{shown}"
    );
    assert!(shown.contains("did you mean: Industry"), "{shown}");

    // Without --demo only the syntax is checked.
    let unchecked = sfmcp(&["soql", "check", "SELECT Industy FROM Account"], None);
    assert_eq!(unchecked.status.code(), Some(0));
}
