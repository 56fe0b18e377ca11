//! Per-tenant limits over HTTP: a tenant over its cap of concurrent tool calls waits
//! briefly, then gets a clear tool error, while another tenant goes straight through; and
//! with many tenants, everything kept per tenant stays within SFMCP_MAX_TENANTS.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::http_common;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use http_common::*;
use serde_json::json;

async fn add_fault(emulator: &sfmcp_emulator::EmulatorHandle, spec: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/__emulator/faults", emulator.base_url))
        .json(&spec)
        .send()
        .await
        .expect("fault");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_over_its_cap_waits_then_gets_a_clear_error_and_others_are_not_starved() {
    let emulator = two_orgs().await;
    let server = start_server(
        &emulator,
        &[
            ("SFMCP_MAX_CALLS_PER_TENANT", "2".into()),
            ("SFMCP_TENANT_WAIT_MS", "300".into()),
        ],
        &[],
    )
    .await;
    let alpha: Vec<_> = join_all((0..4).map(|_| connect(&server, tenant(&emulator, 0)))).await;
    let bravo = connect(&server, tenant(&emulator, 1)).await;
    // Warm Account's describe for both, so only the queries below are slow.
    for client in [&alpha[0], &bravo] {
        let warm = call(
            client,
            "soql_query",
            json!({"query": "SELECT Name FROM Account LIMIT 1"}),
        )
        .await;
        assert!(!is_error(&warm), "{}", text(&warm));
    }
    // Every query now takes 1.5 s upstream (describes and limits do not).
    add_fault(
        &emulator,
        json!({"path_regex": "/query", "latency_ms": 1500}),
    )
    .await;

    let started = Instant::now();
    let slow: Vec<_> = alpha
        .iter()
        .map(|client| {
            call(
                client,
                "soql_query",
                json!({"query": "SELECT Name FROM Account ORDER BY Name LIMIT 1"}),
            )
        })
        .collect();
    let bravo_meanwhile = async {
        // Let Alpha's four calls arrive first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let at = Instant::now();
        let result = call(&bravo, "describe_object", json!({"object": "Account"})).await;
        (result, at.elapsed())
    };
    let (results, (bravo_result, bravo_took)) = tokio::join!(join_all(slow), bravo_meanwhile);

    let refused: Vec<_> = results.iter().filter(|r| is_error(r)).collect();
    let served: Vec<_> = results.iter().filter(|r| !is_error(r)).collect();
    assert_eq!(
        served.len(),
        2,
        "two slots: {:?}",
        results.iter().map(text).collect::<Vec<_>>()
    );
    assert_eq!(refused.len(), 2);
    for r in &served {
        assert_eq!(names(r), ["Alpha 000"], "{}", text(r));
    }
    for r in &refused {
        let message = text(r);
        assert!(message.contains("too many tool calls at once"), "{message}");
        assert!(message.contains("2 are already running"), "{message}");
        assert!(message.contains("SFMCP_MAX_CALLS_PER_TENANT"), "{message}");
    }
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // Bravo was served while Alpha's slots were full, without waiting for them.
    assert!(!is_error(&bravo_result), "{}", text(&bravo_result));
    assert!(
        bravo_took < Duration::from_millis(1000),
        "bravo waited {bravo_took:?}"
    );

    // Refusals are counted as tool errors.
    let metrics = server.metrics().await;
    assert!(
        sample(
            &metrics,
            "sfmcp_tool_errors_total{tool=\"soql_query\",kind=\"tool\"}"
        ) >= 2.0,
        "{metrics}"
    );
    for client in alpha {
        let _ = client.cancel().await;
    }
    let _ = bravo.cancel().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tenants_leave_no_more_state_than_the_cap() {
    let emulator = two_orgs().await;
    // Without a public key, each host-minted token is its own tenant (a hash of it): 24
    // tokens, 24 tenants, of which the server may keep 4.
    let server = start_server(
        &emulator,
        &[
            ("SFMCP_MAX_TENANTS", "4".into()),
            ("PARAGON_PUBLIC_KEY_FILE", String::new()),
        ],
        &[],
    )
    .await;
    let project = paragon(&emulator, 0);
    let pem = field(&project, "signing_key_pem");
    let user = field(&project, "user_id");
    for i in 0..24 {
        // Distinct lifetimes make distinct tokens for the same user.
        let token = sign(&pem, &user, 600 + i);
        let client = connect(
            &server,
            headers(&[
                ("x-paragon-user-token", token),
                ("x-paragon-credential", field(&project, "credential_id")),
            ]),
        )
        .await;
        let result = call(
            &client,
            "soql_query",
            json!({"query": "SELECT Name FROM Account ORDER BY Name LIMIT 1"}),
        )
        .await;
        assert_eq!(names(&result), ["Alpha 000"], "{}", text(&result));
        let _ = client.cancel().await;
        let metrics = server.metrics().await;
        for store in [
            "clients",
            "describes",
            "usage",
            "upstream_slots",
            "call_slots",
        ] {
            let held = sample(
                &metrics,
                &format!("sfmcp_tenants_held{{store=\"{store}\"}}"),
            );
            assert!(
                held <= 4.0,
                "after {} tenants, {store} holds {held}:\n{metrics}",
                i + 1
            );
            if i >= 4 {
                assert!(held >= 1.0, "{store} is counted: {metrics}");
            }
        }
        let usage_lines = metrics
            .lines()
            .filter(|l| l.starts_with("sfmcp_upstream_api_used{"))
            .count();
        assert!(usage_lines <= 4, "{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_per_request_org_names_the_header_to_fix() {
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let host = format!("127.0.0.1:{port}");
    let files = tempfile::tempdir().expect("temp dir");
    let server = spawn(
        vec![("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into())],
        &["--allow-direct-tenants", "--direct-tenant-host", &host],
        files,
    )
    .await;
    let client = connect(
        &server,
        headers(&[
            ("x-salesforce-instance-url", format!("http://{host}")),
            ("x-salesforce-access-token", "00Dx!unused".to_string()),
        ]),
    )
    .await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name FROM Account LIMIT 1"}),
    )
    .await;
    let message = text(&result);
    assert!(is_error(&result), "{message}");
    assert!(message.contains(&host), "{message}");
    assert!(message.contains("X-Salesforce-Instance-Url"), "{message}");
    assert!(!message.contains("SF_INSTANCE_URL"), "{message}");
    let _ = client.cancel().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_per_request_token_names_the_header_to_fix() {
    let emulator = crate::common::demo_emulator().await;
    let org = &emulator.orgs[0];
    let url = url::Url::parse(&org.instance_url).expect("url");
    let host = format!(
        "{}:{}",
        url.host_str().expect("host"),
        url.port().expect("port")
    );
    let files = tempfile::tempdir().expect("temp dir");
    let server = spawn(
        vec![("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into())],
        &["--allow-direct-tenants", "--direct-tenant-host", &host],
        files,
    )
    .await;
    let client = connect(
        &server,
        headers(&[
            ("x-salesforce-instance-url", org.instance_url.clone()),
            (
                "x-salesforce-access-token",
                "00Dx!revoked-long-ago".to_string(),
            ),
        ]),
    )
    .await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name FROM Account LIMIT 1"}),
    )
    .await;
    let message = text(&result);
    assert!(is_error(&result), "{message}");
    assert!(message.contains("X-Salesforce-Access-Token"), "{message}");
    assert!(!message.contains("SF_ACCESS_TOKEN"), "{message}");
    assert!(!message.contains("SF_REFRESH_TOKEN"), "{message}");
    let _ = client.cancel().await;
}

/// A web server that is not Salesforce (a portal's login page, a typo'd host that serves
/// something): answers every request with an HTML 404.
async fn not_salesforce() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
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
    host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_request_org_that_is_not_salesforce_names_the_header_to_fix() {
    let host = not_salesforce().await;
    let files = tempfile::tempdir().expect("temp dir");
    let server = spawn(
        vec![("SFMCP_HTTP_TOKENS".into(), CALLER_TOKEN.into())],
        &["--allow-direct-tenants", "--direct-tenant-host", &host],
        files,
    )
    .await;
    let client = connect(
        &server,
        headers(&[
            ("x-salesforce-instance-url", format!("http://{host}")),
            ("x-salesforce-access-token", "00Dx!unused".to_string()),
        ]),
    )
    .await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name FROM Account LIMIT 1"}),
    )
    .await;
    let message = text(&result);
    assert!(is_error(&result), "{message}");
    assert!(message.contains("HTTP 404"), "{message}");
    assert!(
        message.contains("Check that X-Salesforce-Instance-Url points at Salesforce"),
        "{message}"
    );
    assert!(!message.contains("SF_INSTANCE_URL"), "{message}");
    assert!(!message.contains("PARAGON_PROXY_URL"), "{message}");
    let _ = client.cancel().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paragon_credential_the_user_lacks_names_the_header_to_fix() {
    let emulator = two_orgs().await;
    let server = start_server(&emulator, &[], &[]).await;
    let project = paragon(&emulator, 0);
    let client = connect(
        &server,
        headers(&[
            ("x-paragon-user", field(&project, "user_id")),
            (
                "x-paragon-credential",
                "00000000-0000-4000-a000-000000000000".to_string(),
            ),
        ]),
    )
    .await;
    let result = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Name FROM Account LIMIT 1"}),
    )
    .await;
    let message = text(&result);
    assert!(is_error(&result), "{message}");
    assert!(message.contains("Integration not enabled"), "{message}");
    assert!(
        message.contains("X-Paragon-Credential names another account"),
        "{message}"
    );
    assert!(!message.contains("PARAGON_CREDENTIAL_ID"), "{message}");
    let _ = client.cancel().await;
}
