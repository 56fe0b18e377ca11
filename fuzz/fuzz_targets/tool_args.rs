//! Fuzz tool-argument decoding end to end: whatever arguments a model sends to whichever tool,
//! the server answers (a tool result or a JSON-RPC error), never panics, never dies, never
//! echoes a credential, and the session keeps working. The server runs in process, in front of
//! the emulator's demo org on loopback, exactly as `sfmcp demo` wires it.
//!
//! The first byte picks the tool (or an unknown name); the rest is the arguments: a JSON
//! object as is, any other text as the tool's main string argument, so SOQL, ids and search
//! text all get fuzzed through the real decoding and validation.

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RunningService, ServiceError};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource};
use sfmcp_mcp::cursor::CursorKey;
use sfmcp_mcp::{Connections, Policy, ServerState, SfServer};
use sfmcp_salesforce::client::ClientContext;
use sfmcp_salesforce::{
    ClientOptions, Connection, DirectCredential, OAuthClient, SalesforceClient, Secret,
};

/// Each tool with the argument that free text goes to.
const TOOLS: [(&str, &str); 11] = [
    ("soql_query", "query"),
    ("query_more", "cursor"),
    ("sosl_search", "text"),
    ("list_objects", "matching"),
    ("describe_object", "object"),
    ("get_record", "id"),
    ("create_record", "object"),
    ("update_record", "id"),
    ("record_url", "ids"),
    ("org_limits", "names"),
    ("no_such_tool", "x"),
];

struct Harness {
    runtime: tokio::runtime::Runtime,
    client: RunningService<RoleClient, ()>,
    secrets: Vec<String>,
    _emulator: EmulatorHandle,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (client, secrets, emulator) = runtime.block_on(async {
            let emulator = Emulator::start(EmulatorConfig {
                orgs: vec![OrgSource::Demo { scale: 1 }],
                // Millions of calls: the daily allocation must not be what the fuzzer explores.
                daily_api_limit: u64::MAX / 4,
                ..EmulatorConfig::default()
            })
            .await
            .expect("emulator starts");
            let org = emulator.orgs[0].clone();
            let url = |text: &str| url::Url::parse(text).expect("emulator URL");
            let connection = Connection::direct(
                Some(url(&org.instance_url)),
                DirectCredential::RefreshToken {
                    login_url: url(&org.login_url),
                    client: OAuthClient {
                        client_id: org.client_id.clone(),
                        client_secret: Some(Secret::new(org.client_secret.clone())),
                    },
                    refresh_token: Secret::new(org.refresh_token.clone()),
                    access_token: Some(Secret::new(org.access_token.clone())),
                },
            );
            let context = ClientContext::new(ClientOptions::default()).expect("client context");
            let state = Arc::new(ServerState {
                connections: Connections::Single(
                    SalesforceClient::new(context, connection).expect("client"),
                ),
                policy: Policy::default(),
                cursor_key: CursorKey::random(),
                audit: Default::default(),
            });
            let (server_io, client_io) = tokio::io::duplex(1 << 20);
            tokio::spawn(async move {
                if let Ok(running) = SfServer::new(state).serve(server_io).await {
                    let _ = running.waiting().await;
                }
            });
            let client = ().serve(client_io).await.expect("MCP session starts");
            let secrets = vec![org.access_token, org.refresh_token, org.client_secret];
            (client, secrets, emulator)
        });
        Harness {
            runtime,
            client,
            secrets,
            _emulator: emulator,
        }
    })
}

fn arguments(text_arg: &str, rest: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(rest) {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => Some(Map::from_iter([(text_arg.to_string(), other)])),
        Err(_) => {
            let text = std::str::from_utf8(rest).ok()?;
            Some(Map::from_iter([(
                text_arg.to_string(),
                Value::String(text.to_string()),
            )]))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let (tool, text_arg) = TOOLS[usize::from(selector) % TOOLS.len()];
    let Some(arguments) = arguments(text_arg, rest) else {
        return;
    };
    let h = harness();
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
    let answer = h.runtime.block_on(h.client.call_tool(request));
    let shown = match answer {
        Ok(result) => {
            let shown = serde_json::to_string(&result).expect("result serializes");
            if result.is_error == Some(true) {
                let said: String = result
                    .content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.clone()))
                    .collect();
                assert!(
                    !said.trim().is_empty(),
                    "{tool}: an error that says nothing"
                );
            }
            shown
        }
        // Undecodable arguments and unknown tools are JSON-RPC errors: fine, if they explain.
        Err(ServiceError::McpError(error)) => {
            assert!(!error.message.trim().is_empty(), "{tool}: empty error");
            format!("{error:?}")
        }
        Err(other) => panic!("{tool}: the session broke: {other}"),
    };
    for secret in &h.secrets {
        assert!(
            !shown.contains(secret.as_str()),
            "{tool}: a credential in the answer"
        );
    }
});
