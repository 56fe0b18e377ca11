//! The injection corpus planted in the demo org: every value `injection_corpus()` lists is
//! stored byte for byte where it says, within its field's length, findable by its marker, and
//! the demo's record counts did not change.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use std::collections::{BTreeSet, HashSet};

use emulator_common::{Client, start_demo};
use reqwest::StatusCode;
use serde_json::json;
use sfmcp_emulator::demo::{MARKER_PREFIX, injection_corpus};

#[test]
fn the_corpus_covers_every_kind_on_every_object() {
    let corpus = injection_corpus();
    let kinds: BTreeSet<&str> = corpus.iter().map(|p| p.kind).collect();
    for kind in [
        "html",
        "ignore-previous",
        "fake-tool-call",
        "fake-server-line",
        "fake-result-header",
        "markdown-table",
        "pipes",
        "line-breaks",
        "zero-width",
        "bidi",
        "terminal-escape",
        "very-long",
        "exfiltration",
    ] {
        assert!(kinds.contains(kind), "no {kind} payload");
    }
    let objects: BTreeSet<&str> = corpus.iter().map(|p| p.object).collect();
    assert_eq!(
        objects,
        BTreeSet::from(["Account", "Case", "Contact", "Lead"])
    );
    // Markers are unique per record and never carry a payload.
    let markers: HashSet<(&str, &str)> = corpus.iter().map(|p| (p.object, p.marker)).collect();
    let by_marker: HashSet<&str> = corpus.iter().map(|p| p.marker).collect();
    assert_eq!(markers.len(), by_marker.len());
    assert!(corpus.iter().all(|p| p.marker.starts_with(MARKER_PREFIX)));
    assert!(corpus.iter().all(|p| p.field != p.marker_field));
    // The characters the corpus is about are really there.
    let all: String = corpus.iter().map(|p| p.value.as_str()).collect();
    for needle in [
        "\u{1b}[", "\u{200B}", "\u{202E}", "\r\n", "\u{2028}", "|", "sfmcp:",
    ] {
        assert!(all.contains(needle), "no {needle:?} in the corpus");
    }
    assert!(corpus.iter().any(|p| p.value.chars().count() == 32_000));
}

#[tokio::test]
async fn every_planted_value_is_stored_as_listed_and_counts_stay() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    for planted in injection_corpus() {
        // Within the field's length, as a form or API write would have had to be.
        let describe = client
            .get(&format!("/sobjects/{}/describe", planted.object))
            .await
            .body;
        let length = describe["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == json!(planted.field))
            .and_then(|f| f["length"].as_u64())
            .unwrap_or_else(|| panic!("{}.{} is not a text field", planted.object, planted.field));
        assert!(
            planted.value.chars().count() as u64 <= length,
            "{} {}.{} is longer than {length}",
            planted.marker,
            planted.object,
            planted.field
        );
        let soql = format!(
            "SELECT Id, {} FROM {} WHERE {} = '{}'",
            planted.field, planted.object, planted.marker_field, planted.marker
        );
        let reply = client.query(&soql).await;
        assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
        assert_eq!(reply.body["totalSize"], json!(1), "{soql}");
        let stored = &reply.body["records"][0][planted.field];
        assert_eq!(
            stored.as_str(),
            Some(planted.value.as_str()),
            "{} {}.{} ({})",
            planted.marker,
            planted.object,
            planted.field,
            planted.kind
        );
    }
    // The corpus replaced the last generated records: the documented counts hold.
    for (object, count) in [
        ("Account", 300),
        ("Contact", 3000),
        ("Lead", 500),
        ("Case", 400),
    ] {
        let reply = client.query(&format!("SELECT COUNT() FROM {object}")).await;
        assert_eq!(reply.body["totalSize"], json!(count), "{object}");
    }
    let reply = client
        .query(&format!(
            "SELECT Id FROM Lead WHERE FirstName LIKE '{MARKER_PREFIX}%'"
        ))
        .await;
    let leads = injection_corpus()
        .iter()
        .filter(|p| p.object == "Lead")
        .map(|p| p.marker)
        .collect::<HashSet<_>>()
        .len();
    assert_eq!(reply.body["totalSize"], json!(leads));
}
