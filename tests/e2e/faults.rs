//! The fault matrix: every tool, through the real `sfmcp serve` over stdio, against an
//! emulator told to misbehave on exactly the request that tool makes. Each fault must give a
//! tool error (`isError`) that says what happened and what to do, leave the server up, let
//! the next call succeed, and never duplicate a create (the emulator's request log counts the
//! POSTs, and a query counts the records).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

/// Small, so the latency fault costs half a second per tool rather than a minute.
const REQUEST_TIMEOUT_SECS: &str = "0.5";
/// Longer than [`REQUEST_TIMEOUT_SECS`].
const SLOW_MS: u64 = 1_500;

/// One tool call and the one Salesforce request it is judged on.
#[derive(Clone)]
struct Probe {
    tool: &'static str,
    args: Value,
    method: &'static str,
    /// Regex for the request's path, as the emulator's fault control matches it.
    path: &'static str,
}

struct Fixture {
    emulator: EmulatorHandle,
    client: Client,
    stderr: Stderr,
    lead_id: String,
    cursor: String,
    env: Vec<(&'static str, String)>,
}

impl Fixture {
    /// A demo org, a server with a short request timeout, and what the probes need (a Lead
    /// id, a cursor), fetched before any fault so only the probed request can fail.
    async fn start() -> Fixture {
        let emulator = demo_emulator().await;
        let mut env = org_env(&emulator.orgs[0]);
        env.push(("SFMCP_REQUEST_TIMEOUT_SECS", REQUEST_TIMEOUT_SECS.into()));
        let (client, stderr) = spawn_server(&env, &[]).await;
        let leads = call(
            &client,
            "soql_query",
            json!({"query": "SELECT Id, LastName FROM Lead ORDER BY Id LIMIT 1"}),
        )
        .await;
        assert!(!is_error(&leads), "{}", text(&leads));
        let lead_id = structured(&leads)["records"][0]["Id"]
            .as_str()
            .expect("a lead")
            .to_string();
        let contacts = call(
            &client,
            "soql_query",
            json!({"query": "SELECT Id, LastName FROM Contact ORDER BY Id", "max_rows": 2}),
        )
        .await;
        let cursor = structured(&contacts)["cursor"]
            .as_str()
            .expect("a cursor")
            .to_string();
        Fixture {
            emulator,
            client,
            stderr,
            lead_id,
            cursor,
            env,
        }
    }

    /// Every tool that talks to Salesforce, each with the request it is judged on.
    fn probes(&self) -> Vec<Probe> {
        vec![
            Probe {
                tool: "soql_query",
                args: json!({"query": "SELECT Id, LastName FROM Lead ORDER BY Id LIMIT 3"}),
                method: "GET",
                path: "/query$",
            },
            Probe {
                tool: "query_more",
                args: json!({"cursor": self.cursor}),
                method: "GET",
                path: "/query/.+",
            },
            Probe {
                tool: "sosl_search",
                args: json!({"text": "Acme", "objects": ["Lead"]}),
                method: "GET",
                path: "/(parameterizedSearch|search)$",
            },
            Probe {
                tool: "list_objects",
                args: json!({"match": "acc"}),
                method: "GET",
                path: "/sobjects$",
            },
            Probe {
                tool: "describe_object",
                args: json!({"object": "Opportunity"}),
                method: "GET",
                path: "/sobjects/Opportunity/describe$",
            },
            Probe {
                tool: "get_record",
                args: json!({"id": self.lead_id}),
                method: "GET",
                path: "/sobjects/Lead/00Q",
            },
            Probe {
                tool: "create_record",
                args: Value::Null, // a fresh, unique record each call: see `arguments`
                method: "POST",
                path: "/sobjects/Lead$",
            },
            Probe {
                tool: "update_record",
                args: Value::Null,
                method: "PATCH",
                path: "/sobjects/Lead/00Q",
            },
            Probe {
                tool: "org_limits",
                args: json!({}),
                method: "GET",
                path: "/limits/?$",
            },
            Probe {
                tool: "tooling_query",
                args: json!({"query": "SELECT Name, Status FROM ApexClass ORDER BY Name"}),
                method: "GET",
                path: "/tooling/query$",
            },
        ]
    }

    /// The probe's arguments; writes carry `marker`, so their effect can be counted.
    fn arguments(&self, probe: &Probe, marker: &str) -> Value {
        match probe.tool {
            "create_record" => {
                json!({"object": "Lead", "fields": {"LastName": marker, "Company": "Fault Matrix"}})
            }
            "update_record" => {
                json!({"object": "Lead", "id": self.lead_id, "fields": {"Title": marker}})
            }
            _ => probe.args.clone(),
        }
    }

    async fn fault(&self, spec: Value) {
        let url = format!("{}/__emulator/faults", self.emulator.base_url);
        let response = reqwest::Client::new()
            .post(url)
            .json(&spec)
            .send()
            .await
            .expect("fault control");
        assert_eq!(response.status().as_u16(), 201, "fault {spec} accepted");
    }

    async fn control(&self, what: &str) {
        let url = format!("{}/__emulator/{what}", self.emulator.base_url);
        let response = reqwest::Client::new()
            .post(url)
            .send()
            .await
            .expect("control plane");
        assert!(response.status().is_success(), "{what}");
    }

    async fn clear(&self) {
        self.control("faults/clear").await;
    }

    /// A tool call that must come back (an answer or a tool error) rather than hang.
    async fn call(&self, tool: &str, args: Value) -> rmcp::model::CallToolResult {
        if tool == "list_objects" {
            // list_objects reads the describe global, which the server caches per connection
            // once any tool needs it: only a fresh connection still sends the request.
            let (cold, stderr) = spawn_server(&self.env, &[]).await;
            let answer = tokio::time::timeout(Duration::from_secs(30), call(&cold, tool, args))
                .await
                .unwrap_or_else(|_| panic!("{tool} did not answer within 30 s"));
            stop(cold, stderr).await;
            return answer;
        }
        tokio::time::timeout(Duration::from_secs(30), call(&self.client, tool, args))
            .await
            .unwrap_or_else(|_| panic!("{tool} did not answer within 30 s"))
    }

    async fn posts(&self) -> usize {
        requests(&self.emulator)
            .await
            .iter()
            .filter(|r| r["method"] == json!("POST"))
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/sobjects/Lead"))
            })
            .count()
    }

    /// Leads whose LastName is `marker` (after the faults are cleared).
    async fn leads_named(&self, marker: &str) -> u64 {
        let count = self
            .call(
                "soql_query",
                json!({"query": format!("SELECT COUNT() FROM Lead WHERE LastName = '{marker}'")}),
            )
            .await;
        assert!(!is_error(&count), "{}", text(&count));
        structured(&count)["totalSize"].as_u64().expect("a count")
    }

    async fn stop(self) -> String {
        stop(self.client, self.stderr).await
    }
}

/// What a fault must leave in the created record count.
#[derive(Clone, Copy, Debug)]
enum Created {
    /// The handler never ran.
    None,
    /// The handler ran; the answer was lost.
    One,
    /// Either, depending on when the connection dropped.
    AtMostOne,
}

/// Runs every probe under `spec` (the probe's method and path added), checking the error
/// text with `says(tool, text)`, then clears the fault and checks the same call succeeds.
async fn matrix(kind: &str, spec: Value, created: Created, says: impl Fn(&str, &str)) {
    let f = Fixture::start().await;
    for probe in f.probes() {
        let mut fault = spec.clone();
        fault["method"] = json!(probe.method);
        fault["path_regex"] = json!(probe.path);
        let marker = format!("Fault {kind} {}", probe.tool);
        let posts_before = f.posts().await;
        f.fault(fault).await;
        let failed = f.call(probe.tool, f.arguments(&probe, &marker)).await;
        f.clear().await;
        let shown = text(&failed);
        assert!(
            is_error(&failed),
            "{kind}: {} should fail, got: {shown}",
            probe.tool
        );
        assert!(
            shown.contains("Next step: ") || shown.contains("Do not"),
            "{kind}: {}: the error says what to do: {shown}",
            probe.tool
        );
        says(probe.tool, &shown);
        // The matrix in docs/reliability.md is read from this (`--no-capture`).
        eprintln!(
            "matrix | {kind} | {} | {}",
            probe.tool,
            shown.lines().next().unwrap_or_default()
        );

        let posts_during = f.posts().await - posts_before;
        let again = f
            .call(probe.tool, f.arguments(&probe, &format!("{marker} again")))
            .await;
        assert!(
            !is_error(&again),
            "{kind}: {} after the fault: {}",
            probe.tool,
            text(&again)
        );
        if probe.tool == "create_record" {
            assert!(posts_during <= 1, "{kind}: the create was sent again");
            let landed = f.leads_named(&marker).await;
            match created {
                Created::None => assert_eq!(landed, 0, "{kind}"),
                Created::One => assert_eq!(landed, 1, "{kind}"),
                Created::AtMostOne => assert!(landed <= 1, "{kind}"),
            }
            assert_eq!(
                f.leads_named(&format!("{marker} again")).await,
                1,
                "{kind}: the next create made exactly one record"
            );
        }
    }
    // A tool that needs no Salesforce answers whatever Salesforce does.
    f.fault(json!({"path_prefix": "/services", "status": 503}))
        .await;
    let url = f
        .call("record_url", json!({"ids": [f.lead_id.clone()]}))
        .await;
    assert!(!is_error(&url), "{}", text(&url));
    f.clear().await;
    f.stop().await;
}

fn write_outcome_unknown(tool: &str, shown: &str) -> bool {
    match tool {
        "create_record" => {
            shown.contains("may or may not have been applied")
                && shown.contains("Do not simply retry")
        }
        "update_record" => shown.contains("may or may not have been applied"),
        _ => false,
    }
}

#[tokio::test]
async fn latency_beyond_the_timeout() {
    matrix(
        "latency",
        json!({"latency_ms": SLOW_MS}),
        Created::AtMostOne,
        |tool, shown| {
            assert!(
                write_outcome_unknown(tool, shown)
                    || (shown.contains("SFMCP_REQUEST_TIMEOUT_SECS")
                        && shown.contains("did not answer in time")),
                "{tool}: {shown}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn http_500_from_salesforce() {
    matrix(
        "500",
        json!({"status": 500, "body": [{"errorCode": "UNKNOWN_EXCEPTION",
            "message": "An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678 (-1234)"}]}),
        Created::None,
        |tool, shown| {
            assert!(shown.starts_with("UNKNOWN_EXCEPTION: "), "{tool}: {shown}");
            assert!(shown.contains("HTTP 500"), "{tool}: {shown}");
        },
    )
    .await;
}

#[tokio::test]
async fn http_503_with_an_html_body() {
    matrix(
        "503",
        json!({"status": 503, "body": "<html><body><h1>Service Unavailable</h1>Down for maintenance</body></html>"}),
        Created::None,
        |tool, shown| {
            assert!(shown.contains("HTTP 503"), "{tool}: {shown}");
            // Not Salesforce's own error: something in between failed, and a write may or may
            // not have reached Salesforce, so a create must not be "try again".
            if tool == "create_record" || tool == "update_record" {
                assert!(write_outcome_unknown(tool, shown), "{tool}: {shown}");
                assert!(shown.contains("not from Salesforce"), "{tool}: {shown}");
            } else {
                assert!(shown.contains("Service Unavailable"), "{tool}: {shown}");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn connection_reset_before_the_request_is_handled() {
    matrix(
        "reset-before",
        json!({"reset": true}),
        Created::None,
        |tool, shown| {
            assert!(
                write_outcome_unknown(tool, shown)
                    || shown.contains("Check SF_INSTANCE_URL and the network"),
                "{tool}: {shown}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn connection_reset_after_the_request_is_handled() {
    matrix(
        "reset-after",
        json!({"reset_after": true}),
        Created::One,
        |tool, shown| {
            assert!(
                write_outcome_unknown(tool, shown)
                    || shown.contains("Check SF_INSTANCE_URL and the network"),
                "{tool}: {shown}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn truncated_body() {
    matrix(
        "truncated",
        json!({"truncate": true}),
        Created::One,
        |tool, shown| {
            assert!(
                write_outcome_unknown(tool, shown)
                    || (shown.contains("was cut off before its end")
                        && shown.contains(
                            "check the network or any proxy between sfmcp and SF_INSTANCE_URL"
                        )),
                "{tool}: {shown}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_success_status_with_a_body_that_is_not_json() {
    matrix(
        "not-json",
        json!({"status": 200, "body": "<html><body>Please sign in to the corporate proxy</body></html>"}),
        Created::None,
        |tool, shown| {
            assert!(
                shown.contains("unexpected answer from Salesforce"),
                "{tool}: {shown}"
            );
            assert!(shown.contains("SF_INSTANCE_URL"), "{tool}: {shown}");
        },
    )
    .await;
}

#[tokio::test]
async fn daily_request_limit_exceeded() {
    matrix(
        "daily-limit",
        json!({"status": 403, "body": [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]}),
        Created::None,
        |tool, shown| {
            assert!(
                shown.starts_with("REQUEST_LIMIT_EXCEEDED: "),
                "{tool}: {shown}"
            );
            assert!(shown.contains("rolling 24-hour window"), "{tool}: {shown}");
            assert!(shown.contains("Do not retry in a loop"), "{tool}: {shown}");
        },
    )
    .await;
}

#[tokio::test]
async fn concurrent_request_limit_exceeded() {
    matrix(
        "concurrent-limit",
        json!({"status": 403, "body": [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "ConcurrentPerOrgLongTxn Limit exceeded."}]}),
        Created::None,
        |tool, shown| {
            assert!(shown.contains("(ConcurrentPerOrgLongTxn)"), "{tool}: {shown}");
            assert!(shown.contains("Wait a few seconds"), "{tool}: {shown}");
        },
    )
    .await;
}

/// The access token expires and the refresh-token grant is refused: every tool says to
/// reauthorize, and once the token endpoint works again the next call refreshes and succeeds.
#[tokio::test]
async fn invalid_session_with_a_failing_refresh() {
    let f = Fixture::start().await;
    for probe in f.probes() {
        let marker = format!("Fault session {}", probe.tool);
        f.control("expire-tokens").await;
        f.fault(json!({"path_regex": "/services/oauth2/token$", "status": 400,
            "body": {"error": "invalid_grant", "error_description": "expired access/refresh token"}}))
            .await;
        let failed = f.call(probe.tool, f.arguments(&probe, &marker)).await;
        f.clear().await;
        let shown = text(&failed);
        assert!(is_error(&failed), "{}: {shown}", probe.tool);
        assert!(
            shown.starts_with("invalid_grant: "),
            "{}: {shown}",
            probe.tool
        );
        assert!(
            shown.contains("Reauthorize the connection: the refresh token is expired or revoked"),
            "{}: {shown}",
            probe.tool
        );
        let again = f
            .call(probe.tool, f.arguments(&probe, &format!("{marker} again")))
            .await;
        assert!(!is_error(&again), "{}: {}", probe.tool, text(&again));
        if probe.tool == "create_record" {
            assert_eq!(f.leads_named(&marker).await, 0);
        }
    }
    f.stop().await;
}

/// Salesforce forgets the query locator between two pages (expiry, or too many open):
/// query_more says to run the query again, and doing so pages normally.
#[tokio::test]
async fn a_query_locator_that_expires_mid_paging() {
    let f = Fixture::start().await;
    let first = f.call("query_more", json!({"cursor": f.cursor})).await;
    assert!(!is_error(&first), "{}", text(&first));
    // The emulator's reset drops every open locator, as an expiry does.
    f.control("reset").await;
    let expired = f.call("query_more", json!({"cursor": f.cursor})).await;
    let shown = text(&expired);
    assert!(is_error(&expired), "{shown}");
    assert!(shown.starts_with("INVALID_QUERY_LOCATOR: "), "{shown}");
    assert!(shown.contains("Run the soql_query again"), "{shown}");

    let rerun = f
        .call(
            "soql_query",
            json!({"query": "SELECT Id, LastName FROM Contact ORDER BY Id", "max_rows": 2}),
        )
        .await;
    let cursor = structured(&rerun)["cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    let next = f.call("query_more", json!({ "cursor": cursor })).await;
    assert!(!is_error(&next), "{}", text(&next));
    assert_eq!(
        structured(&next)["records"][0]["Id"],
        structured(&first)["records"][0]["Id"],
        "the re-run continues at the same row"
    );
    f.stop().await;
}

/// Every tool, with nothing listening at the configured instance: an error naming
/// SF_INSTANCE_URL, and the server still answers.
#[tokio::test]
async fn salesforce_unreachable_names_the_setting_for_every_tool() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let instance = format!("http://127.0.0.1:{closed_port}");
    let env = vec![
        ("SF_INSTANCE_URL", instance.clone()),
        ("SF_ACCESS_TOKEN", "00Dxx!unreachable-token".to_string()),
    ];
    let (client, stderr) = spawn_server(&env, &[]).await;
    let probes = [
        ("soql_query", json!({"query": "SELECT Id FROM Account"})),
        ("sosl_search", json!({"text": "Acme"})),
        ("list_objects", json!({})),
        ("describe_object", json!({"object": "Account"})),
        ("get_record", json!({"id": "001000000000001AAA"})),
        (
            "create_record",
            json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme"}}),
        ),
        (
            "update_record",
            json!({"object": "Lead", "id": "00Q000000000001AAA", "fields": {"Title": "x"}}),
        ),
        ("org_limits", json!({})),
        ("list_views", json!({"object": "Account"})),
        ("record_history", json!({"id": "006000000000001AAA"})),
        ("recent_items", json!({})),
        ("record_files", json!({"id": "500000000000001AAA"})),
        (
            "tooling_query",
            json!({"query": "SELECT Name FROM ApexClass"}),
        ),
        ("list_reports", json!({})),
        ("run_report", json!({"report": "Pipeline by Rep"})),
        (
            "create_records",
            json!({"object": "Lead", "records": [{"LastName": "Ng", "Company": "Acme"}]}),
        ),
        (
            "update_records",
            json!({"object": "Lead", "records": [{"Id": "00Q000000000001AAA", "Title": "x"}]}),
        ),
        (
            "upsert_record",
            json!({"object": "Account", "match": {"ERP_Id__c": "ERP-1"}, "fields": {"Name": "x"}}),
        ),
        (
            "upsert_records",
            json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": "ERP-1", "Name": "x"}]}),
        ),
    ];
    for (tool, args) in probes {
        let result = call(&client, tool, args).await;
        let shown = text(&result);
        assert!(is_error(&result), "{tool}: {shown}");
        assert!(
            shown.contains(&format!(
                "Nothing is listening at {instance}. Check SF_INSTANCE_URL"
            )),
            "{tool}: {shown}"
        );
    }
    let tools = client
        .list_all_tools()
        .await
        .expect("the server still answers");
    assert_eq!(tools.len(), sfmcp_mcp::toolsets::TOOLSET_OF.len());
    stop(client, stderr).await;
}

/// A web server that is not Salesforce (a proxy's login page, a typo'd host that serves
/// something): the error points at SF_INSTANCE_URL.
#[tokio::test]
async fn an_instance_url_that_is_not_salesforce_names_the_setting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buffer).await;
                let body = "<html><body>Not Found</body></html>";
                let answer = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let env = vec![
        ("SF_INSTANCE_URL", format!("http://{address}")),
        ("SF_ACCESS_TOKEN", "00Dxx!some-token".to_string()),
    ];
    let (client, stderr) = spawn_server(&env, &[]).await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Id FROM Account"}),
    )
    .await;
    let shown = text(&result);
    assert!(is_error(&result), "{shown}");
    assert!(shown.contains("HTTP 404"), "{shown}");
    assert!(
        shown.contains("Check that SF_INSTANCE_URL points at Salesforce"),
        "{shown}"
    );
    assert!(!shown.contains("PARAGON_PROXY_URL"), "{shown}");
    stop(client, stderr).await;
}

/// A loopback port that answers no connection attempt, as a host dropping packets does:
/// a listener with a backlog of one whose queue is already full, so the kernel drops every
/// further SYN. Returns the listener (to serve from later) and the connections filling it.
async fn black_hole() -> (tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let listener = socket.listen(0).expect("listen");
    let address = listener.local_addr().expect("addr");
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(address),
        )
        .await
        {
            Ok(Ok(stream)) => fillers.push(stream),
            // The queue is full: connection attempts now go unanswered.
            Err(_) => return (listener, fillers),
            Ok(Err(e)) => panic!("connect: {e}"),
        }
    }
    panic!("the listener's queue never filled");
}

/// An org that answers no connection attempt (a black hole): the first call waits out
/// SFMCP_CONNECT_TIMEOUT_SECS, not the request timeout; later calls fail at once naming the
/// cause and the setting while sfmcp checks in the background; once the address answers
/// again, calls go through to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_org_fails_fast_after_the_first_connect_timeout_and_recovers() {
    let (listener, _fillers) = black_hole().await;
    let address = listener.local_addr().expect("addr");
    let instance = format!("http://{address}");
    let env = vec![
        ("SF_INSTANCE_URL", instance.clone()),
        ("SF_ACCESS_TOKEN", "00Dxx!black-hole-token".to_string()),
        ("SFMCP_CONNECT_TIMEOUT_SECS", "1".to_string()),
        ("SFMCP_REQUEST_TIMEOUT_SECS", "30".to_string()),
    ];
    let (client, stderr) = spawn_server(&env, &[]).await;
    let query = json!({"query": "SELECT Id FROM Account"});

    let started = std::time::Instant::now();
    let first = call(&client, "soql_query", query.clone()).await;
    let first_text = text(&first);
    assert!(is_error(&first), "{first_text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(first_text.contains(&instance), "{first_text}");
    assert!(first_text.contains("SF_INSTANCE_URL"), "{first_text}");
    assert!(
        first_text.contains("SFMCP_CONNECT_TIMEOUT_SECS"),
        "{first_text}"
    );

    for _ in 0..3 {
        let started = std::time::Instant::now();
        let again = call(&client, "soql_query", query.clone()).await;
        let elapsed = started.elapsed();
        let again_text = text(&again);
        assert!(is_error(&again), "{again_text}");
        // Well under the one-second connect timeout: nothing waited for a connection.
        assert!(
            elapsed < Duration::from_millis(500),
            "{elapsed:?}: {again_text}"
        );
        assert!(
            again_text.contains("checking") && again_text.contains("in the background"),
            "{again_text}"
        );
        assert!(again_text.contains("SF_INSTANCE_URL"), "{again_text}");
    }

    // The address answers again (as a web server that is not Salesforce): the background
    // check sees it and calls reach it.
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buffer)).await;
                let body = "<html><body>Not Found</body></html>";
                let answer = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    let reached = loop {
        let result = call(&client, "soql_query", query.clone()).await;
        let shown = text(&result);
        if shown.contains("HTTP 404") {
            break shown;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never reached again: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(reached.contains("points at Salesforce"), "{reached}");
    stop(client, stderr).await;
}

/// Credentials Salesforce refuses: each error names the setting to fix.
#[tokio::test]
async fn bad_credentials_name_the_setting() {
    let emulator = demo_emulator().await;
    let org = emulator.orgs[0].clone();
    let query = json!({"query": "SELECT Id FROM Account LIMIT 1"});
    let with = |changes: &[(&'static str, &str)]| {
        let mut env: Vec<(&'static str, String)> = org_env(&org)
            .into_iter()
            .filter(|(k, _)| changes.iter().all(|(c, _)| c != k))
            .collect();
        for (k, v) in changes {
            if !v.is_empty() {
                env.push((k, v.to_string()));
            }
        }
        env
    };
    let cases: Vec<(Vec<(&'static str, String)>, &str)> = vec![
        (
            with(&[
                ("SF_ACCESS_TOKEN", "00Dxx!not-a-real-token"),
                ("SF_REFRESH_TOKEN", ""),
                ("SF_CLIENT_ID", ""),
                ("SF_CLIENT_SECRET", ""),
            ]),
            "SF_ACCESS_TOKEN",
        ),
        (
            with(&[
                ("SF_ACCESS_TOKEN", ""),
                ("SF_REFRESH_TOKEN", "5Aep-not-a-refresh-token"),
            ]),
            "SF_REFRESH_TOKEN",
        ),
        (
            with(&[
                ("SF_ACCESS_TOKEN", ""),
                ("SF_CLIENT_SECRET", "wrong-secret"),
            ]),
            "SF_CLIENT_SECRET",
        ),
    ];
    for (env, setting) in cases {
        let (client, stderr) = spawn_server(&env, &[]).await;
        let result = call(&client, "soql_query", query.clone()).await;
        let shown = text(&result);
        assert!(is_error(&result), "{setting}: {shown}");
        assert!(shown.contains(setting), "names {setting}: {shown}");
        assert!(shown.contains("Next step: "), "{shown}");
        stop(client, stderr).await;
    }
}

/// Settings that cannot work stop the server at start, naming the setting.
#[tokio::test]
async fn a_malformed_instance_url_stops_the_server_naming_the_setting() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .arg("serve")
        .env_clear()
        .env("SF_INSTANCE_URL", "acme.my.salesforce.com")
        .env("SF_ACCESS_TOKEN", "00Dxx!token")
        .envs(common::capture::env())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("sfmcp runs");
    common::capture::record_output("serve-misconfigured", &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SF_INSTANCE_URL"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing on stdout but protocol");
}
