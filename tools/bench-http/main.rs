//! Streamable HTTP speed: tool calls per second with 64 concurrent MCP sessions, and the
//! server's memory per idle session. The release `sfmcp serve --http` runs as its own
//! process in front of the emulator (in this process), on loopback.
//!
//! `cargo bench --bench http` (see tools/bench-http/README.md). Bounded: fixed durations and
//! session counts. `SFMCP_BIN` measures another build (or a profiler wrapping one);
//! `BENCH_HTTP=memory` runs only the idle-session part: memory figures do not
//! depend on CPU load, throughput does, so this is the part worth running on a busy machine.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use sfmcp_emulator::{Emulator, EmulatorConfig};
use tokio::io::{AsyncBufReadExt, BufReader};

const SESSIONS: usize = 64;
const RUN: Duration = Duration::from_secs(8);
const IDLE_SESSIONS: usize = 1_000;
const TOKEN: &str = "bench-caller-token-0123456789";

type Client = RunningService<RoleClient, ()>;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn connect(url: &str) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(TOKEN);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("session")
}

async fn call(client: &Client, tool: &str, arguments: &Value) -> bool {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    match client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
    {
        Ok(result) => result.is_error != Some(true),
        Err(_) => false,
    }
}

/// Calls `tool` from every session in a loop for `RUN`; returns (calls/s, failures).
async fn throughput(clients: &[Arc<Client>], tool: &str, arguments: Value) -> (f64, u64) {
    for client in clients.iter().take(4) {
        assert!(
            call(client, tool, &arguments).await,
            "{tool} works before timing it"
        );
    }
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in clients {
        let (client, done, failed, stop) =
            (client.clone(), done.clone(), failed.clone(), stop.clone());
        let arguments = arguments.clone();
        let tool = tool.to_string();
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if call(&client, &tool, &arguments).await {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    (
        done.load(Ordering::Relaxed) as f64 / seconds,
        failed.load(Ordering::Relaxed),
    )
}

async fn start_server(env: &[(&str, String)], args: &[&str]) -> (tokio::process::Child, String) {
    let binary =
        std::env::var("SFMCP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sfmcp").to_string());
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "error")
        .env("SFMCP_HTTP_TOKENS", TOKEN)
        // Every bench session is one tenant: let all 64 run at once.
        .env("SFMCP_MAX_CALLS_PER_TENANT", SESSIONS.to_string())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["serve", "--http", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("sfmcp spawns");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut url = None;
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(rest) = line.strip_prefix("sfmcp: serving MCP on ") {
            url = rest.split_whitespace().next().map(str::to_string);
            break;
        }
        eprintln!("{line}");
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url.expect("the server prints its address"))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let emulator = Emulator::start(EmulatorConfig {
            daily_api_limit: u64::MAX / 4,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let org = emulator.orgs[0].clone();
        let env = [
            ("SF_INSTANCE_URL", org.instance_url.clone()),
            ("SF_LOGIN_URL", org.login_url.clone()),
            ("SF_ACCESS_TOKEN", org.access_token.clone()),
            ("SF_REFRESH_TOKEN", org.refresh_token.clone()),
            ("SF_CLIENT_ID", org.client_id.clone()),
            ("SF_CLIENT_SECRET", org.client_secret.clone()),
        ];
        println!(
            "machine: {} cores; emulator, bench client and server on one machine",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );

        let memory_only = std::env::var("BENCH_HTTP").is_ok_and(|v| v == "memory");
        let throughput_modes: &[(&str, &[&str])] = if memory_only {
            &[]
        } else {
            &[("stateful", &[]), ("stateless", &["--stateless"])]
        };
        for &(mode, args) in throughput_modes {
            let (server, url) = start_server(&env, args).await;
            let mut clients = Vec::new();
            for _ in 0..SESSIONS {
                clients.push(Arc::new(connect(&url).await));
            }
            let (local, failed_local) = throughput(
                &clients,
                "record_url",
                json!({"ids": ["001000000000001"]}),
            )
            .await;
            println!("{mode}: {SESSIONS} sessions, record_url (no upstream call): {local:.0} calls/s ({failed_local} failed)");
            let (upstream, failed_upstream) = throughput(
                &clients,
                "soql_query",
                json!({"query": "SELECT Id, Name FROM Account ORDER BY Name LIMIT 5"}),
            )
            .await;
            println!("{mode}: {SESSIONS} sessions, soql_query (one emulator round trip): {upstream:.0} calls/s ({failed_upstream} failed)");
            for client in clients {
                if let Ok(client) = Arc::try_unwrap(client) {
                    let _ = client.cancel().await;
                }
            }
            drop(server);
        }

        // Idle sessions: the server's resident memory with many open, none calling.
        let (server, url) = start_server(&env, &[]).await;
        let pid = server.id().expect("pid");
        let warm = connect(&url).await;
        call(&warm, "record_url", &json!({"ids": ["001000000000001"]})).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss_kib(pid);
        let mut idle = Vec::with_capacity(IDLE_SESSIONS);
        for _ in 0..IDLE_SESSIONS {
            idle.push(connect(&url).await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = rss_kib(pid);
        println!(
            "stateful: {IDLE_SESSIONS} idle sessions: server RSS {before} KiB -> {after} KiB, {:.1} KiB per idle session",
            (after.saturating_sub(before)) as f64 / IDLE_SESSIONS as f64
        );
        for client in idle {
            let _ = client.cancel().await;
        }
        let _ = warm.cancel().await;
        drop(server);
        emulator.shutdown().await;
    });
}
