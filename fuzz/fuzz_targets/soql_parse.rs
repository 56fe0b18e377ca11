//! Fuzz the SOQL parser: any text must give a query or an error, never a panic; an error must
//! point inside the text; and whatever parses must print to text that parses to the same tree.
//! Run with `cargo +nightly fuzz run soql_parse` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sfmcp_soql::{ParseOptions, parse_with};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for allow_apex_binds in [false, true] {
        let options = ParseOptions {
            allow_apex_binds,
            ..ParseOptions::default()
        };
        match parse_with(text, &options) {
            Ok(query) => {
                let printed = query.to_string();
                let reparsed = parse_with(&printed, &options)
                    .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}: {e}"));
                assert_eq!(reparsed, query, "{text:?} printed as {printed:?}");
            }
            Err(error) => {
                assert!(error.span.start <= error.span.end && error.span.end <= text.len());
                let _ = error.render(text);
            }
        }
    }
});
