//! What sfmcp's MCP layer costs, measured on a release build against the local emulator
//! (issue 4's speed targets). Run with `tools/bench-mcp/run.sh`; it prints a Markdown table
//! for tools/README.md.
//!
//! - added latency: `soql_query` for 200 rows through `sfmcp serve` over stdio, against the
//!   same query sent straight to the emulator with reqwest (decoded as JSON), interleaved;
//!   and the part of it the client spends decoding the larger answer;
//! - cold start: process spawn to the `tools/list` answer, and to the first tool result;
//! - resident memory after `tools/list`;
//! - bytes of `tools/list` per tool.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource, SeedFileText};

const QUERY: &str =
    "SELECT Id, LastName, Company, Status, Email FROM Lead ORDER BY LastName LIMIT 200";
const LATENCY_ROUNDS: usize = 300;
const COLD_ROUNDS: usize = 15;

fn sfmcp_binary() -> String {
    std::env::var("SFMCP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sfmcp").to_string())
}

async fn emulator() -> EmulatorHandle {
    let leads: Vec<Value> = (0..400)
        .map(|i| {
            json!({"LastName": format!("Lead {i:05}"), "Company": format!("Company {}", i % 97),
                   "Email": format!("lead{i}@example.test")})
        })
        .collect();
    let config = EmulatorConfig {
        orgs: vec![OrgSource::Seed(Arc::new(SeedFileText {
            path: "bench seed".into(),
            text: json!({"records": {"Lead": leads}}).to_string(),
        }))],
        daily_api_limit: 10_000_000,
        ..EmulatorConfig::default()
    };
    Emulator::start(config).await.expect("emulator starts")
}

fn command(emulator: &EmulatorHandle) -> tokio::process::Command {
    let org = emulator.orgs[0].clone();
    tokio::process::Command::new(sfmcp_binary()).configure(move |cmd| {
        cmd.env_clear()
            .env("SF_INSTANCE_URL", &org.instance_url)
            .env("SF_ACCESS_TOKEN", &org.access_token)
            .env("SF_API_VERSION", "62.0")
            .arg("serve");
    })
}

async fn spawn(emulator: &EmulatorHandle) -> (RunningService<RoleClient, ()>, Option<u32>) {
    let (transport, _stderr) = TokioChildProcess::builder(command(emulator))
        .stderr(Stdio::null())
        .spawn()
        .expect("sfmcp spawns");
    let pid = transport.id();
    let client = ().serve(transport).await.expect("MCP session");
    (client, pid)
}

async fn soql(client: &RunningService<RoleClient, ()>) -> usize {
    let arguments = json!({"query": QUERY, "max_rows": 200});
    let result = client
        .call_tool(
            CallToolRequestParams::new("soql_query")
                .with_arguments(arguments.as_object().cloned().unwrap_or_default()),
        )
        .await
        .expect("soql_query");
    assert_ne!(result.is_error, Some(true), "{:?}", result.content);
    result
        .structured_content
        .as_ref()
        .map_or(0, |s| s["returned"].as_u64().unwrap_or(0) as usize)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn p90(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() * 9 / 10]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// Resident memory in KiB: (all, anonymous). The rest is the binary's and libraries' pages
/// mapped from the page cache, shared with every other process running the same file.
fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        rollup
            .lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    Some((field("Rss:")?, field("Anonymous:")?))
}

#[tokio::main]
async fn main() {
    let emulator = emulator().await;
    let org = emulator.orgs[0].clone();
    let mut rows = Vec::new();

    // Cold start: spawn → tools/list answered, with the RSS then; spawn → first tool result.
    let mut to_list = Vec::new();
    let mut to_result = Vec::new();
    let mut rss = Vec::new();
    let mut list_bytes = 0;
    let mut tool_count = 0;
    let mut largest_tool = 0;
    for _ in 0..COLD_ROUNDS {
        let start = Instant::now();
        let (client, pid) = spawn(&emulator).await;
        let tools = client.list_all_tools().await.expect("tools/list");
        to_list.push(start.elapsed());
        if let Some(kib) = pid.and_then(rss_kib) {
            rss.push(kib);
        }
        let listed = serde_json::to_vec(&json!({"tools": tools})).unwrap_or_default();
        list_bytes = listed.len();
        tool_count = tools.len();
        largest_tool = tools
            .iter()
            .map(|t| serde_json::to_vec(t).map_or(0, |b| b.len()))
            .max()
            .unwrap_or(0);
        let _ = client.cancel().await;

        let start = Instant::now();
        let (client, _) = spawn(&emulator).await;
        soql(&client).await;
        to_result.push(start.elapsed());
        let _ = client.cancel().await;
    }
    rss.sort_unstable();

    // Added latency: the same 200-row query through sfmcp and straight to the org.
    let (client, _) = spawn(&emulator).await;
    let http = reqwest::Client::builder()
        .gzip(true)
        .build()
        .expect("reqwest");
    let url = format!("{}/services/data/v62.0/query", org.instance_url);
    let direct_request = || {
        http.get(&url)
            .query(&[("q", QUERY)])
            .bearer_auth(&org.access_token)
            .header("Sforce-Query-Options", "batchSize=200")
    };
    let direct = || async {
        let body: Value = direct_request()
            .send()
            .await
            .expect("direct query")
            .json()
            .await
            .expect("JSON");
        body["records"].as_array().map_or(0, Vec::len)
    };
    for _ in 0..30 {
        assert_eq!(soql(&client).await, 200);
        assert_eq!(direct().await, 200);
    }
    let mut through = Vec::with_capacity(LATENCY_ROUNDS);
    let mut straight = Vec::with_capacity(LATENCY_ROUNDS);
    for _ in 0..LATENCY_ROUNDS {
        let start = Instant::now();
        soql(&client).await;
        through.push(start.elapsed());
        let start = Instant::now();
        direct().await;
        straight.push(start.elapsed());
    }

    // Part of the added latency is the client's: it decodes the answer (text table, and the
    // records again as structured content, each with its link) where the straight path
    // decodes Salesforce's body. Both decodes, timed alone on the same bytes.
    let answer = client
        .call_tool(
            CallToolRequestParams::new("soql_query").with_arguments(
                json!({"query": QUERY, "max_rows": 200})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            ),
        )
        .await
        .expect("soql_query");
    let answer_line = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": answer}))
        .expect("answer serialises");
    let body = direct_request()
        .send()
        .await
        .expect("direct query")
        .bytes()
        .await
        .expect("body");
    let mut client_decode = Vec::with_capacity(LATENCY_ROUNDS);
    let mut body_decode = Vec::with_capacity(LATENCY_ROUNDS);
    for _ in 0..LATENCY_ROUNDS {
        let start = Instant::now();
        let message: rmcp::model::ServerJsonRpcMessage =
            serde_json::from_slice(&answer_line).expect("an MCP message");
        client_decode.push(start.elapsed());
        drop(message);
        let start = Instant::now();
        let parsed: Value = serde_json::from_slice(&body).expect("JSON");
        body_decode.push(start.elapsed());
        drop(parsed);
    }

    let _ = client.cancel().await;
    let (m_through, m_straight) = (median(&mut through), median(&mut straight));
    let added = m_through.saturating_sub(m_straight);

    rows.push(format!(
        "| soql_query, 200 rows, over stdio (median / p90) | {} / {} | |",
        ms(m_through),
        ms(p90(&mut through))
    ));
    rows.push(format!(
        "| same query straight to the org (median / p90) | {} / {} | |",
        ms(m_straight),
        ms(p90(&mut straight))
    ));
    rows.push(format!(
        "| **added latency** (difference of medians) | **{}** | < 0.5 ms |",
        ms(added)
    ));
    let (m_client, m_body) = (median(&mut client_decode), median(&mut body_decode));
    rows.push(format!(
        "| of which the client's extra decoding: rmcp decoding the answer ({} KB) less decoding Salesforce's body ({} KB) | {} − {} = {} | |",
        answer_line.len() / 1000,
        body.len() / 1000,
        ms(m_client),
        ms(m_body),
        ms(m_client.saturating_sub(m_body))
    ));
    rows.push(format!(
        "| cold start → tools/list answer (median of {COLD_ROUNDS}) | {} | <= 30 ms |",
        ms(median(&mut to_list))
    ));
    rows.push(format!(
        "| cold start → first tool result (median of {COLD_ROUNDS}) | {} | < 50 ms |",
        ms(median(&mut to_result))
    ));
    if let Some((all, anonymous)) = rss.get(rss.len() / 2) {
        let mib = |kib: u64| kib as f64 / 1024.0;
        rows.push(format!(
            "| RSS after tools/list (median) | {:.1} MiB ({:.1} anonymous, {:.1} file-backed) | <= 12 MiB |",
            mib(*all),
            mib(*anonymous),
            mib(all.saturating_sub(*anonymous))
        ));
    }
    rows.push(format!(
        "| tools/list bytes per tool ({tool_count} tools; largest) | {} ({largest_tool}) | <= 400 |",
        list_bytes / tool_count.max(1)
    ));
    println!("| measure | result | goal |\n|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    emulator.shutdown().await;
}
