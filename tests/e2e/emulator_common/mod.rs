//! Helpers shared by the emulator's end-to-end tests: start an emulator in-process, call it
//! over loopback HTTP, build seeds from recordings, and compare JSON shapes.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Map, Value as Json, json};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource, SeedFileText};

/// A recording from `../shared/fixtures` (next to the checkout), or from
/// `$SFMCP_SHARED_FIXTURES` when set: a git worktree elsewhere has no `../shared` beside it.
pub fn fixture(path: &str) -> Json {
    let root = std::env::var("SFMCP_SHARED_FIXTURES")
        .unwrap_or_else(|_| format!("{}/../shared/fixtures", env!("CARGO_MANIFEST_DIR")));
    let full = format!("{root}/{path}");
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn seed_source(seed: &Json) -> OrgSource {
    OrgSource::Seed(Arc::new(SeedFileText {
        path: "test seed".into(),
        text: seed.to_string(),
    }))
}

pub async fn start_with(
    orgs: Vec<OrgSource>,
    tweak: impl FnOnce(&mut EmulatorConfig),
) -> EmulatorHandle {
    let mut config = EmulatorConfig {
        orgs,
        ..EmulatorConfig::default()
    };
    tweak(&mut config);
    Emulator::start(config).await.expect("emulator starts")
}

pub async fn start_seed(seed: Json) -> EmulatorHandle {
    start_with(vec![seed_source(&seed)], |_| {}).await
}

pub async fn start_demo() -> EmulatorHandle {
    start_with(vec![OrgSource::Demo { scale: 1 }], |_| {}).await
}

/// A REST caller bound to one token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub version: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Json,
}

impl Client {
    pub fn new(handle: &EmulatorHandle, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: handle.base_url.clone(),
            token: token.to_string(),
            version: "62.0".into(),
        }
    }

    pub fn for_org(handle: &EmulatorHandle, org: usize) -> Self {
        Self::new(handle, &handle.orgs[org].access_token)
    }

    pub fn data_url(&self, path: &str) -> String {
        format!("{}/services/data/v{}{path}", self.base, self.version)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request reaches the emulator");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.data_url(path))).await
    }

    pub async fn query(&self, soql: &str) -> Reply {
        self.send(self.http.get(self.data_url("/query")).query(&[("q", soql)]))
            .await
    }

    pub async fn post(&self, path: &str, body: &Json) -> Reply {
        self.send(self.http.post(self.data_url(path)).json(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: &Json) -> Reply {
        self.send(self.http.patch(self.data_url(path)).json(body))
            .await
    }

    /// The id of the first record a query returns.
    pub async fn first_id(&self, soql: &str) -> String {
        let reply = self.query(soql).await;
        assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
        reply.body["records"][0]["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("{soql} returned no Id: {}", reply.body))
            .to_string()
    }
}

/// An access token for any user of an org, minted through the server state (tests only).
pub fn token_for(handle: &EmulatorHandle, org: usize, user_id: &str) -> String {
    let state = handle.state();
    let client = state.orgs[org].app.client_id.clone();
    let scopes = vec!["api".to_string(), "refresh_token".to_string()];
    state.issue_access_token(org, user_id, &client, &scopes).0
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "integer",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Compares two JSON documents' shapes: the same keys in every object, the same JSON types
/// (integer and float apart, null apart), arrays compared element by element up to the
/// shorter length (lengths follow the data, shapes must not).
pub fn shape_diff(actual: &Json, expected: &Json, path: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Json::Object(a), Json::Object(e)) => {
            let missing: Vec<&String> = e.keys().filter(|k| !a.contains_key(*k)).collect();
            let extra: Vec<&String> = a.keys().filter(|k| !e.contains_key(*k)).collect();
            if !missing.is_empty() {
                out.push(format!("{path}: missing keys {missing:?}"));
            }
            if !extra.is_empty() {
                out.push(format!("{path}: extra keys {extra:?}"));
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    shape_diff(av, ev, &format!("{path}.{k}"), out);
                }
            }
        }
        (Json::Array(a), Json::Array(e)) => {
            if a.is_empty() != e.is_empty() {
                out.push(format!(
                    "{path}: {} elements, recorded {}",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (av, ev)) in a.iter().zip(e.iter()).enumerate() {
                shape_diff(av, ev, &format!("{path}[{i}]"), out);
            }
        }
        _ if kind(actual) != kind(expected) => {
            out.push(format!(
                "{path}: {} ({actual}), recorded {} ({expected})",
                kind(actual),
                kind(expected)
            ));
        }
        _ => {}
    }
}

#[track_caller]
pub fn assert_shape(actual: &Json, expected: &Json) {
    let mut diffs = Vec::new();
    shape_diff(actual, expected, "$", &mut diffs);
    assert!(
        diffs.is_empty(),
        "shape differs from the recording:\n{}\nactual: {}",
        diffs.join("\n"),
        truncate(actual)
    );
}

fn truncate(value: &Json) -> String {
    let text = value.to_string();
    text.chars().take(1500).collect()
}

/// The field a parent relationship is stored in: `Account` → `AccountId`, `Foo__r` → `Foo__c`.
fn reference_field(relationship: &str) -> String {
    match relationship.strip_suffix("__r") {
        Some(stem) => format!("{stem}__c"),
        None => format!("{relationship}Id"),
    }
}

fn id_of(record: &Json) -> String {
    record["attributes"]["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .map(str::to_string)
        .unwrap_or_default()
}

/// Seed records that reproduce a recorded query result: every record with its scalar
/// fields, its parents (deduplicated by recorded id) before it, and its child subquery rows
/// after it, linked through `child_fields` (relationship name → the child's reference field).
pub fn records_from_recording(
    records: &[Json],
    child_fields: &[(&str, &str)],
) -> Map<String, Json> {
    let mut out: Vec<(String, Json)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in records {
        add_record(record, child_fields, None, &mut out, &mut seen);
    }
    // Group by object, parents' objects before their children's: an object's level is one
    // more than the deepest object it references (self-references aside).
    let mut references: std::collections::HashMap<String, std::collections::HashSet<String>> =
        Default::default();
    let kinds: std::collections::HashMap<String, String> = out
        .iter()
        .filter_map(|(o, r)| Some((r["_ref"].as_str()?.to_string(), o.clone())))
        .collect();
    for (object, record) in &out {
        let entry = references.entry(object.clone()).or_default();
        for value in record.as_object().into_iter().flatten().map(|(_, v)| v) {
            if let Some(target) = value
                .as_str()
                .and_then(|s| s.strip_prefix('@'))
                .and_then(|t| kinds.get(t))
                && target != object
            {
                entry.insert(target.clone());
            }
        }
    }
    fn level(
        object: &str,
        references: &std::collections::HashMap<String, std::collections::HashSet<String>>,
        depth: usize,
    ) -> usize {
        if depth > 8 {
            return depth;
        }
        references
            .get(object)
            .into_iter()
            .flatten()
            .map(|r| 1 + level(r, references, depth + 1))
            .max()
            .unwrap_or(0)
    }
    let mut out = out;
    out.sort_by_key(|(object, _)| level(object, &references, 0));
    let mut map = Map::new();
    for (object, record) in out {
        map.entry(object)
            .or_insert_with(|| Json::Array(Vec::new()))
            .as_array_mut()
            .expect("array")
            .push(record);
    }
    map
}

fn add_record(
    record: &Json,
    child_fields: &[(&str, &str)],
    parent_link: Option<(String, String)>,
    out: &mut Vec<(String, Json)>,
    seen: &mut std::collections::HashSet<String>,
) -> String {
    let object = record["attributes"]["type"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let recorded_id = id_of(record);
    let reference = format!("rec_{recorded_id}");
    if !recorded_id.is_empty() && !seen.insert(reference.clone()) {
        return reference;
    }
    let mut fields = Map::new();
    fields.insert("_ref".into(), json!(reference));
    let mut children = Vec::new();
    for (key, value) in record.as_object().into_iter().flatten() {
        // Absent fields are null anyway; a null may also be an empty lookup or child list.
        if key == "attributes" || key == "Id" || value.is_null() {
            continue;
        }
        match value {
            Json::Object(inner) if inner.contains_key("attributes") => {
                let parent = add_record(value, child_fields, None, out, seen);
                fields.insert(reference_field(key), json!(format!("@{parent}")));
            }
            Json::Object(inner) if inner.contains_key("records") => {
                children.push((key.clone(), inner["records"].clone()));
            }
            _ if key == "Name" && matches!(object.as_str(), "Contact" | "Lead" | "User") => {
                let name = value.as_str().unwrap_or("");
                let (first, last) = name.rsplit_once(' ').unwrap_or(("", name));
                if !first.is_empty() {
                    fields.insert("FirstName".into(), json!(first));
                }
                fields.insert("LastName".into(), json!(last));
            }
            _ => {
                fields.insert(key.clone(), value.clone());
            }
        }
    }
    if object == "User" {
        let n = out.len();
        fields
            .entry("Username")
            .or_insert(json!(format!("user{n}@recorded.test")));
        fields
            .entry("LastName")
            .or_insert(json!(format!("User {n}")));
    }
    if let Some((field, parent)) = parent_link {
        fields.insert(field, json!(format!("@{parent}")));
    }
    out.push((object, Json::Object(fields)));
    for (relationship, rows) in children {
        let field = child_fields
            .iter()
            .find(|(r, _)| *r == relationship)
            .map(|(_, f)| f.to_string())
            .unwrap_or_else(|| panic!("no child field given for {relationship}"));
        for row in rows.as_array().into_iter().flatten() {
            add_record(
                row,
                child_fields,
                Some((field.clone(), reference.clone())),
                out,
                seen,
            );
        }
    }
    reference
}
