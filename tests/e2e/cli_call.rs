//! `sfmcp call`: what it prints to a terminal.
#![allow(clippy::unwrap_used)]

use crate::common;

use common::{capture, org_env, seeded_emulator};
use serde_json::json;

/// Record values are written by any Salesforce user; printed raw, an escape sequence in one
/// retitles the window, clears the screen or forges a hyperlink in the operator's terminal.
#[tokio::test]
async fn call_prints_record_text_without_terminal_escapes() {
    let seed = json!({"records": {"Account": [
        {"Name": "\u{1b}]0;pwned\u{7}Acme \u{1b}[31mRed\u{1b}[0m\u{1b}]8;;https://evil.example/\u{1b}\\ Co"},
    ]}});
    let emulator = seeded_emulator(seed).await;
    let env = org_env(&emulator.orgs[0]);
    capture::secrets_in_env(env.iter().map(|(k, v)| (k, v)));
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(capture::env())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args([
            "call",
            "soql_query",
            r#"{"query": "SELECT Name FROM Account"}"#,
        ])
        .output()
        .await
        .unwrap();
    capture::record_output("call", &output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let controls: Vec<char> = stdout
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(controls.is_empty(), "controls {controls:?} in\n{stdout}");
    // Shown escaped: the operator sees what the value holds, the terminal obeys none of it.
    assert!(stdout.contains("Acme \\u001b[31mRed"), "{stdout}");
}
