//! Scale-out without shared state: three `sfmcp serve --http --stateless` replicas sharing
//! SFMCP_CURSOR_KEY behind a real nginx (round-robin upstream on loopback). Calls spread
//! over the replicas, a query started on one continues on the others, and a tampered or
//! expired cursor is refused with a clear error.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::http_common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use http_common::*;
use serde_json::json;
use sfmcp_mcp::cursor::{CursorKey, CursorState};

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port()
}

pub(crate) struct Nginx {
    pub(crate) url: String,
    pub(crate) child: tokio::process::Child,
    /// Holds `access.log`: one line per request, the replica that served it first.
    pub(crate) dir: tempfile::TempDir,
}

fn nginx_conf(dir: &Path, port: u16, upstreams: &[u16]) -> String {
    let servers: String = upstreams
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p};\n"))
        .collect();
    let d = dir.display();
    format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $request';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream sfmcp {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://sfmcp;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Connection \"\";
            proxy_buffering off;
        }}
    }}
}}
"
    )
}

/// nginx on a loopback port, round-robin over `upstreams`, everything in a temp dir.
async fn start_nginx(upstreams: &[u16]) -> Nginx {
    start_nginx_on(free_port(), upstreams).await
}

/// [`start_nginx`] on `port`, for replicas that must know their public URL before nginx runs.
pub(crate) async fn start_nginx_on(port: u16, upstreams: &[u16]) -> Nginx {
    let binary = common::system_binary("nginx");
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, nginx_conf(dir.path(), port, upstreams)).expect("nginx.conf");
    let child = tokio::process::Command::new(binary)
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx starts");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{url}/healthz")).send().await
            && r.status() == 200
        {
            return Nginx { url, child, dir };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
    panic!("nginx did not answer on {url} within 5 s; its error log:\n{log}");
}

/// Tool calls of `tool` each replica has counted.
async fn calls_per_replica(replicas: &[Server], tool: &str) -> Vec<f64> {
    let mut counts = Vec::new();
    for replica in replicas {
        let metrics = replica.metrics().await;
        counts.push(sample(
            &metrics,
            &format!("sfmcp_tool_calls_total{{tool=\"{tool}\"}}"),
        ));
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stateless_replicas_behind_nginx_share_the_load_and_each_others_cursors() {
    let emulator = two_orgs().await;
    let env = [("SFMCP_CURSOR_KEY", SHARED_CURSOR_KEY.to_string())];
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(start_server(&emulator, &env, &["--stateless"]).await);
    }
    let ports: Vec<u16> = replicas.iter().map(Server::port).collect();
    let nginx = start_nginx(&ports).await;
    let mcp = format!("{}/mcp", nginx.url);
    let alpha = connect_to(&mcp, tenant(&emulator, 0)).await;
    let bravo = connect_to(&mcp, tenant(&emulator, 1)).await;

    // 30 calls through the balancer: every replica serves some, none is lost.
    for i in 0..30 {
        let result = call(
            &alpha,
            "soql_query",
            json!({"query": format!("SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET {i}")}),
        )
        .await;
        assert_eq!(
            names(&result),
            [format!("Alpha {i:03}")],
            "{}",
            text(&result)
        );
    }
    let spread = calls_per_replica(&replicas, "soql_query").await;
    assert_eq!(spread.iter().sum::<f64>(), 30.0, "{spread:?}");
    assert!(
        spread.iter().all(|&n| n >= 5.0),
        "round-robin spreads the calls: {spread:?}"
    );

    // A query started on one replica (directly) continues on the two others (directly),
    // then through the balancer, page after page.
    let on = |i: usize| replicas[i].url.clone();
    let direct = [
        connect_to(&on(0), tenant(&emulator, 0)).await,
        connect_to(&on(1), tenant(&emulator, 0)).await,
        connect_to(&on(2), tenant(&emulator, 0)).await,
    ];
    let first = call(
        &direct[0],
        "soql_query",
        json!({"query": "SELECT Name FROM Account ORDER BY Name", "max_rows": 5}),
    )
    .await;
    assert_eq!(names(&first)[0], "Alpha 000", "{}", text(&first));
    let mut cursor = structured(&first)["cursor"]
        .as_str()
        .expect("cursor")
        .to_string();
    for (page, client) in [(1, &direct[1]), (2, &direct[2])] {
        let next = call(client, "query_more", json!({"cursor": cursor})).await;
        assert!(!is_error(&next), "{}", text(&next));
        assert_eq!(names(&next)[0], format!("Alpha {:03}", page * 5));
        cursor = structured(&next)["cursor"]
            .as_str()
            .expect("cursor")
            .to_string();
    }
    let before = calls_per_replica(&replicas, "query_more").await;
    for page in 3..9 {
        let next = call(&alpha, "query_more", json!({"cursor": cursor})).await;
        assert!(!is_error(&next), "{}", text(&next));
        assert_eq!(
            names(&next),
            (page * 5..page * 5 + 5)
                .map(|n| format!("Alpha {n:03}"))
                .collect::<Vec<_>>()
        );
        cursor = structured(&next)["cursor"]
            .as_str()
            .expect("cursor")
            .to_string();
    }
    let after = calls_per_replica(&replicas, "query_more").await;
    let served: Vec<f64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(served.iter().sum::<f64>(), 6.0, "{served:?}");
    assert!(
        served.iter().all(|&n| n >= 1.0),
        "each replica continued the query: {served:?}"
    );

    // Another tenant cannot continue it, on any replica.
    let stolen = call(&bravo, "query_more", json!({"cursor": cursor})).await;
    assert!(is_error(&stolen));
    assert!(
        text(&stolen).contains("belongs to another connection"),
        "{}",
        text(&stolen)
    );
    assert!(!text(&stolen).contains("Alpha"), "{}", text(&stolen));

    // One character changed: refused as altered, whichever replica answers.
    let mut tampered: Vec<char> = cursor.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for _ in 0..3 {
        let refused = call(&alpha, "query_more", json!({"cursor": tampered})).await;
        assert!(is_error(&refused));
        assert!(
            text(&refused).contains("not one this server issued, or it was altered"),
            "{}",
            text(&refused)
        );
        assert!(!text(&refused).contains("Alpha 0"), "{}", text(&refused));
    }

    // Sealed with the shared key for the right tenant, but past its expiry.
    let key = CursorKey::from_base64(SHARED_CURSOR_KEY).expect("key");
    let expired = key.seal(&CursorState {
        tenant: minted_tenant_key(&emulator, 0),
        locator: "/services/data/v62.0/query/01gEXPIRED-5".into(),
        served: 5,
        total_size: 250,
        max_rows: 5,
        object: Some("Account".into()),
        child_relationships: Vec::new(),
        expires_at: chrono::Utc::now().timestamp() - 1,
    });
    for _ in 0..3 {
        let refused = call(&alpha, "query_more", json!({"cursor": expired})).await;
        assert!(is_error(&refused));
        assert!(
            text(&refused).contains("cursor expired"),
            "{}",
            text(&refused)
        );
    }
    // The same cursor, still valid: proves the expiry alone refused it above.
    let fresh = key.seal(&CursorState {
        tenant: minted_tenant_key(&emulator, 0),
        locator: "/services/data/v62.0/query/01gEXPIRED-5".into(),
        served: 5,
        total_size: 250,
        max_rows: 5,
        object: Some("Account".into()),
        child_relationships: Vec::new(),
        expires_at: chrono::Utc::now().timestamp() + 60,
    });
    let opened = call(&alpha, "query_more", json!({"cursor": fresh})).await;
    assert!(
        !text(&opened).contains("cursor expired"),
        "{}",
        text(&opened)
    );

    for client in [alpha, bravo] {
        let _ = client.cancel().await;
    }
    for client in direct {
        let _ = client.cancel().await;
    }
}
