//! The control plane (faults, request log, reset), the wire details every response carries,
//! several orgs on one listener, and the `sfmcp emulator` command line.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common::capture;
use crate::emulator_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use emulator_common::{Client, seed_source, start_seed, start_with};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

async fn control(
    handle: &sfmcp_emulator::EmulatorHandle,
    path: &str,
    body: Option<Json>,
) -> (StatusCode, Json) {
    let http = reqwest::Client::new();
    let url = format!("{}/__emulator/{path}", handle.base_url);
    let request = match body {
        Some(body) => http.post(url).json(&body),
        None => http.get(url),
    };
    let reply = request.send().await.expect("control plane");
    let status = reply.status();
    let text = reply.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

#[tokio::test]
async fn every_response_has_the_content_type_and_usage_header() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    for path in [
        "/sobjects",
        "/query?q=SELECT+Id+FROM+Account",
        "/sobjects/Nope/describe",
        "/nothing/here",
    ] {
        let reply = client.send(client.http.get(client.data_url(path))).await;
        assert_eq!(
            reply.headers["content-type"], "application/json;charset=UTF-8",
            "{path}"
        );
        assert!(
            reply.headers["sforce-limit-info"]
                .to_str()
                .is_ok_and(|v| v.starts_with("api-usage=")),
            "{path}"
        );
    }
    let reply = client.get("/nothing/here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body[0]["errorCode"], json!("NOT_FOUND"));
}

#[tokio::test]
async fn faults_answer_instead_of_the_handler_for_their_count() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    let (status, body) = control(
        &handle,
        "faults",
        Some(json!({"path_prefix": "/services/data/v62.0/query", "status": 503, "count": 2,
                    "body": [{"message": "down for maintenance", "errorCode": "SERVER_UNAVAILABLE"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for _ in 0..2 {
        let reply = client.query("SELECT Id FROM Account").await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.body[0]["errorCode"], json!("SERVER_UNAVAILABLE"));
    }
    assert_eq!(
        client.query("SELECT Id FROM Account").await.status,
        StatusCode::OK,
        "the count is spent"
    );
    assert_eq!(
        client.get("/limits").await.status,
        StatusCode::OK,
        "other paths are untouched"
    );

    let (status, body) = control(
        &handle,
        "faults",
        Some(json!({"path_regex": "(", "status": 500})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("path_regex")),
        "{body}"
    );
    let (status, _) = control(&handle, "faults", Some(json!({"probability": 2.0}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn latency_reset_and_truncation_faults() {
    let handle = start_seed(json!({"records": {"Account": [{"Name": "A"}, {"Name": "B"}]}})).await;
    let client = Client::for_org(&handle, 0);

    control(
        &handle,
        "faults",
        Some(json!({"path_regex": "/limits$", "latency_ms": 300, "count": 1})),
    )
    .await;
    let started = Instant::now();
    assert_eq!(client.get("/limits").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    control(
        &handle,
        "faults",
        Some(json!({"path_prefix": "/services/data/v62.0/sobjects", "reset": true, "count": 1})),
    )
    .await;
    let failed = client
        .http
        .get(client.data_url("/sobjects"))
        .bearer_auth(&client.token)
        .send()
        .await;
    let broken = match failed {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(broken, "a reset fault breaks the exchange");

    control(
        &handle,
        "faults",
        Some(json!({"path_prefix": "/services/data/v62.0/query", "truncate": true, "count": 1})),
    )
    .await;
    let response = client
        .http
        .get(client.data_url("/query"))
        .query(&[("q", "SELECT Id, Name FROM Account")])
        .bearer_auth(&client.token)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.bytes().await.is_err(), "the body is cut short");
    assert_eq!(
        client.query("SELECT Id FROM Account").await.status,
        StatusCode::OK
    );

    let (_, listed) = control(&handle, "faults", None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    let (status, _) = control(&handle, "faults/clear", Some(json!({}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = control(&handle, "faults", None).await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn the_request_log_records_who_did_what_without_secrets() {
    let handle = start_seed(json!({"records": {"Account": [{"Name": "A"}]}})).await;
    let client = Client::for_org(&handle, 0);
    client.query("SELECT Id FROM Account").await;
    let id = client.first_id("SELECT Id FROM Account").await;
    client
        .patch(&format!("/sobjects/Account/{id}"), &json!({"Name": "B"}))
        .await;
    client
        .send(
            client
                .http
                .delete(client.data_url(&format!("/sobjects/Account/{id}"))),
        )
        .await;
    Client::new(&handle, "bogus").get("/sobjects").await;

    let (status, log) = control(&handle, "requests", None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = log["requests"].as_array().cloned().unwrap_or_default();
    let methods: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["method"].as_str())
        .collect();
    assert_eq!(methods, vec!["GET", "GET", "PATCH", "DELETE", "GET"]);
    assert_eq!(
        entries[0]["path"],
        json!("/services/data/v62.0/query"),
        "no query string is kept"
    );
    assert_eq!(entries[0]["org"], json!(handle.orgs[0].org_id));
    assert_eq!(entries[0]["user"], json!(handle.orgs[0].user_id));
    assert_eq!(entries[2]["status"], json!(204));
    assert_eq!(entries[4]["status"], json!(401));
    assert_eq!(entries[4]["user"], Json::Null);
    let text = log.to_string();
    assert!(!text.contains(&handle.orgs[0].access_token) && !text.contains("bogus"));

    // Reset restores the seeded records and clears the log.
    let (status, _) = control(&handle, "reset", Some(json!({}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let reply = client.query("SELECT Name FROM Account").await;
    assert_eq!(reply.body["records"][0]["Name"], json!("A"));
    let (_, log) = control(&handle, "requests", None).await;
    assert_eq!(log["requests"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn several_orgs_are_separate() {
    let one = json!({"org": {"name": "One"}, "records": {"Account": [{"Name": "In one"}]}});
    let two = json!({"org": {"name": "Two"}, "records": {"Account": [{"Name": "In two"}, {"Name": "Also two"}]}});
    let handle = start_with(vec![seed_source(&one), seed_source(&two)], |_| {}).await;
    assert_eq!(handle.orgs.len(), 2);
    assert_ne!(handle.orgs[0].org_id, handle.orgs[1].org_id);
    assert_ne!(handle.orgs[0].client_id, handle.orgs[1].client_id);
    let first = Client::for_org(&handle, 0)
        .query("SELECT Id, Name FROM Account")
        .await;
    let second = Client::for_org(&handle, 1)
        .query("SELECT Id, Name FROM Account")
        .await;
    assert_eq!(first.body["totalSize"], json!(1));
    assert_eq!(second.body["totalSize"], json!(2));
    assert_ne!(
        first.body["records"][0]["Id"], second.body["records"][0]["Id"],
        "ids are unique across orgs"
    );
    // One org's record is not found through the other's token.
    let id = first.body["records"][0]["Id"].as_str().unwrap_or("");
    assert_eq!(
        Client::for_org(&handle, 1)
            .get(&format!("/sobjects/Account/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_seeds_are_refused_with_a_clear_message() {
    for (seed, expected) in [
        (
            json!({"records": {"Account": [{"Nmae": "x"}]}}),
            "records.Account[0]: Account: no field 'Nmae'",
        ),
        (
            json!({"users": [{"username": "a@b.c", "profile": "Ghost"}]}),
            "unknown profile 'Ghost'",
        ),
        (
            json!({"objects": [{"name": "NoSuffix"}]}),
            "must end in __c",
        ),
        (json!({"surprise": 1}), "unknown field `surprise`"),
    ] {
        let error = sfmcp_emulator::Emulator::start(sfmcp_emulator::EmulatorConfig {
            orgs: vec![seed_source(&seed)],
            ..Default::default()
        })
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(error.contains(expected), "{seed}: {error}");
    }
}

#[tokio::test]
async fn the_cli_prints_one_json_line_and_serves() {
    let seed = format!("{}/examples/seed-small.json", env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args(["emulator", "--seed", &seed, "--daily-api-limit", "500"])
        // Its stdout is its credentials, by design: the journal records them as secrets.
        .envs(capture::env())
        .stdout(Stdio::piped())
        .stderr(capture::stdio(&capture::process_name("emulator"), "stderr"))
        .spawn()
        .expect("sfmcp runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let announced: Json = serde_json::from_str(&line).expect("one JSON line");
    let org = &announced["orgs"][0];
    let reply = reqwest::Client::new()
        .get(format!(
            "{}/services/data/v62.0/query",
            org["instance_url"].as_str().unwrap_or("")
        ))
        .query(&[("q", "SELECT Name FROM Account ORDER BY Name")])
        .bearer_auth(org["access_token"].as_str().unwrap_or(""))
        .send()
        .await;
    let body = match reply {
        Ok(reply) => {
            assert_eq!(reply.headers()["sforce-limit-info"], "api-usage=1/500");
            reply.json::<Json>().await.ok()
        }
        Err(_) => None,
    };
    let _ = child.kill();
    let _ = child.wait();
    let body = body.expect("the emulator answers with JSON");
    assert!(body["totalSize"].as_u64().is_some_and(|n| n >= 2), "{body}");
    for key in [
        "instance_url",
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
        "user_id",
        "org_id",
        "username",
    ] {
        assert!(org[key].is_string(), "{key} missing from {line}");
    }
}

#[tokio::test]
async fn post_with_http_method_patch_updates_and_the_resource_map_is_served() {
    let handle = start_seed(json!({"records": {"Account": [{"Name": "Before"}]}})).await;
    let client = Client::for_org(&handle, 0);
    let id = client.first_id("SELECT Id FROM Account").await;
    let reply = client
        .send(
            client
                .http
                .post(client.data_url(&format!("/sobjects/Account/{id}")))
                .query(&[("_HttpMethod", "PATCH")])
                .json(&json!({"Name": "After"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let record = client
        .get(&format!("/sobjects/Account/{id}?fields=Name"))
        .await;
    assert_eq!(record.body["Name"], json!("After"));

    let resources = client.get("/").await;
    assert_eq!(resources.body["query"], json!("/services/data/v62.0/query"));
    assert_eq!(
        resources.body["sobjects"],
        json!("/services/data/v62.0/sobjects")
    );
    let reply = client
        .send(
            client
                .http
                .put(client.data_url(&format!("/sobjects/Account/{id}"))),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}
