//! The soql-parser-js corpus (../shared/fixtures/soql-parser-js): every query parses with
//! its options and round-trips through the printer; every is-valid case is accepted or
//! rejected as the corpus says.

#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions.

use serde_json::Value as Json;
use sfmcp_soql::{ErrorCode, ParseOptions, parse_with};

const QUERIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/soql-parser-js/queries.json"
);
const IS_VALID: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/soql-parser-js/is-valid.json"
);

fn load(path: &str) -> Vec<Json> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str::<Vec<Json>>(&text).unwrap()
}

/// The corpus's parser options, in ours: `allowApexBindVariables` and `ignoreParseErrors`.
fn options(case: &Json) -> ParseOptions {
    let flag = |name: &str| case["options"][name].as_bool().unwrap_or(false);
    ParseOptions {
        allow_apex_binds: flag("allowApexBindVariables"),
        ignore_parse_errors: flag("ignoreParseErrors"),
    }
}

fn label(case: &Json) -> String {
    format!(
        "case {} `{}`",
        case["testCase"],
        case["soql"].as_str().unwrap_or("")
    )
}

#[test]
fn every_corpus_query_parses_and_round_trips() {
    let cases = load(QUERIES);
    assert_eq!(cases.len(), 130, "the corpus has 130 queries");
    let mut failures = Vec::new();
    for case in &cases {
        let soql = case["soql"].as_str().unwrap();
        let options = options(case);
        let parsed = match parse_with(soql, &options) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("{}: {}", label(case), e.render(soql)));
                continue;
            }
        };
        let printed = parsed.to_string();
        match parse_with(&printed, &options) {
            Ok(reparsed) if reparsed == parsed => {
                let reprinted = reparsed.to_string();
                if reprinted != printed {
                    failures.push(format!(
                        "{}: printing is not idempotent:\n  {printed}\n  {reprinted}",
                        label(case)
                    ));
                }
            }
            Ok(reparsed) => failures.push(format!(
                "{}: reparsed tree differs\n printed: {printed}\n {parsed:?}\n {reparsed:?}",
                label(case)
            )),
            Err(e) => failures.push(format!(
                "{}: printed form does not parse: {}",
                label(case),
                e.render(&printed)
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Where the corpus gives a composed form, it must mean the same query as the original.
#[test]
fn composed_forms_parse_to_the_same_tree() {
    let mut compared = 0;
    for case in load(QUERIES) {
        let Some(composed) = case["soqlComposed"].as_str() else {
            continue;
        };
        let options = options(&case);
        let original = parse_with(case["soql"].as_str().unwrap(), &options).unwrap();
        let composed = parse_with(composed, &options).unwrap();
        assert_eq!(original, composed, "{}", label(&case));
        compared += 1;
    }
    assert_eq!(compared, 5, "the corpus has five composed forms");
}

/// Case 113 with `ignoreParseErrors`: its WHERE clause is broken and is dropped, as the
/// corpus's composed output shows; without the option the query is rejected at the junk.
#[test]
fn ignore_parse_errors_drops_the_broken_clause() {
    let case = load(QUERIES)
        .into_iter()
        .find(|c| c["testCase"] == 113)
        .unwrap();
    let soql = case["soql"].as_str().unwrap();
    let lenient = parse_with(soql, &options(&case)).unwrap();
    assert!(lenient.where_clause.is_none());
    assert!(matches!(
        lenient.select[1],
        sfmcp_soql::ast::SelectItem::Subquery(_)
    ));
    let strict = ParseOptions {
        allow_apex_binds: true,
        ..ParseOptions::default()
    };
    let error = parse_with(soql, &strict).unwrap_err();
    assert_eq!(error.message, "unexpected token: 'INVALID'");
    assert_eq!(&soql[error.span.start..error.span.end], "INVALID");
}

#[test]
fn is_valid_cases_are_accepted_or_rejected_as_the_corpus_says() {
    let cases = load(IS_VALID);
    assert_eq!(cases.len(), 157);
    let mut failures = Vec::new();
    for case in &cases {
        let soql = case["soql"].as_str().unwrap();
        let valid = case["isValid"].as_bool().unwrap();
        match (parse_with(soql, &options(case)), valid) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                assert_eq!(e.code, ErrorCode::MalformedQuery, "{}", label(case));
                assert!(e.span.start <= soql.len() && e.span.end <= soql.len());
            }
            (Ok(q), false) => failures.push(format!("{}: accepted as {q}", label(case))),
            (Err(e), true) => failures.push(format!("{}: {}", label(case), e.render(soql))),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
