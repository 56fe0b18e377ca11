//! `sfmcp serve --confirm-writes` over stdio against the emulator: the person is asked
//! through the protocol (input-required results on 2026-07-28, elicitation on 2025-11-25),
//! and nothing reaches Salesforce unless they accept. Clients that cannot ask get the preview
//! and a refusal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use common::*;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ErrorData, Implementation, InputRequest, InputResponses,
    ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ClientLifecycleMode, RoleClient};
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

/// A client whose person answers every confirmation the same way, and who remembers what
/// they were asked.
#[derive(Clone)]
pub(crate) struct Person {
    answer: ElicitationAction,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Person {
    pub(crate) fn answering(answer: ElicitationAction) -> Person {
        Person {
            answer,
            asked: Arc::default(),
        }
    }

    pub(crate) fn questions(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("person", "1.0.0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(match &self.answer {
            ElicitationAction::Accept => {
                ElicitResult::new(ElicitationAction::Accept).with_content(json!({"confirm": true}))
            }
            other => ElicitResult::new(other.clone()),
        })
    }
}

fn modern() -> ClientLifecycleMode {
    ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
    }
}

fn legacy() -> ClientLifecycleMode {
    ClientLifecycleMode::Initialize
}

async fn writes(emulator: &EmulatorHandle) -> Vec<Value> {
    requests(emulator)
        .await
        .into_iter()
        .filter(|r| r["method"] == json!("POST") || r["method"] == json!("PATCH"))
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/sobjects/")))
        .collect()
}

fn new_lead() -> Value {
    json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme"}})
}

async fn negotiated<H: ClientHandler>(client: &RunningService<RoleClient, H>) -> String {
    client
        .peer_info()
        .map(|info| info.protocol_version.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_accepted_confirmation_sends_the_write_on_both_protocols() {
    let emulator = demo_emulator().await;
    let env = org_env(&emulator.orgs[0]);
    for (lifecycle, version) in [(modern(), "2026-07-28"), (legacy(), "2025-11-25")] {
        let person = Person::answering(ElicitationAction::Accept);
        let (client, stderr) =
            spawn_server_as(&env, &["--confirm-writes"], person.clone(), lifecycle).await;
        assert_eq!(negotiated(&client).await, version);
        let before = writes(&emulator).await.len();

        let created = call(&client, "create_record", new_lead()).await;
        assert!(!is_error(&created), "{version}: {}", text(&created));
        let id = structured(&created)["id"].as_str().expect("id").to_string();
        let questions = person.questions();
        assert_eq!(questions.len(), 1, "{version}: asked once");
        assert!(
            questions[0].starts_with(
                "Create a Lead record in Salesforce:\n  LastName: \"Ng\"\n  Company: \"Acme\"\n"
            ),
            "{version}: {}",
            questions[0]
        );

        let updated = call(
            &client,
            "update_record",
            json!({"object": "Lead", "id": id, "fields": {"Company": "Acme Corp"}}),
        )
        .await;
        assert!(!is_error(&updated), "{version}: {}", text(&updated));
        assert!(text(&updated).contains("Company: \"Acme\" → \"Acme Corp\""));
        let questions = person.questions();
        assert!(
            questions[1].contains(&format!(
                "Update Lead {id} in Salesforce:\n  Company: \"Acme\" → \"Acme Corp\"\n"
            )),
            "{version}: the person sees the current value: {}",
            questions[1]
        );
        assert_eq!(
            writes(&emulator).await.len() - before,
            2,
            "{version}: one POST, one PATCH"
        );
        stop(client, stderr).await;
    }
}

#[tokio::test]
async fn declined_or_dismissed_writes_send_nothing() {
    let emulator = demo_emulator().await;
    let env = org_env(&emulator.orgs[0]);
    for (answer, lifecycle, said) in [
        (ElicitationAction::Decline, modern(), "declined"),
        (ElicitationAction::Cancel, modern(), "dismissed"),
        (ElicitationAction::Decline, legacy(), "declined"),
        (ElicitationAction::Cancel, legacy(), "dismissed"),
    ] {
        let person = Person::answering(answer);
        let (client, stderr) =
            spawn_server_as(&env, &["--confirm-writes"], person.clone(), lifecycle).await;
        let result = call(&client, "create_record", new_lead()).await;
        let shown = text(&result);
        assert!(shown.starts_with("Not sent. "), "{shown}");
        assert!(shown.contains(said), "{shown}");
        assert_eq!(structured(&result)["sent"], json!(false));
        assert_eq!(person.questions().len(), 1);
        stop(client, stderr).await;
    }
    assert!(
        writes(&emulator).await.is_empty(),
        "no POST or PATCH reached the org"
    );
}

#[tokio::test]
async fn clients_that_cannot_ask_get_the_preview_and_a_refusal() {
    let emulator = demo_emulator().await;
    let env = org_env(&emulator.orgs[0]);
    // rmcp's plain client declares no elicitation.
    let (client, stderr) = spawn_server(&env, &["--confirm-writes"]).await;
    let result = call(&client, "create_record", new_lead()).await;
    assert!(is_error(&result));
    let shown = text(&result);
    assert!(
        shown.contains("this MCP client offers no way to ask them"),
        "{shown}"
    );
    assert!(shown.contains("POST /sobjects/Lead\n"), "{shown}");
    assert!(shown.contains("\"LastName\": \"Ng\""), "{shown}");
    assert_eq!(structured(&result)["reason"], json!("cannot_confirm"));
    // A dry run still previews without asking anyone.
    let dry = call(
        &client,
        "create_record",
        json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme"}, "dry_run": true}),
    )
    .await;
    assert!(!is_error(&dry), "{}", text(&dry));
    stop(client, stderr).await;

    // The same setting from the environment and from the config file.
    let mut from_env = env.clone();
    from_env.push(("SF_CONFIRM_WRITES", "true".into()));
    let (client, stderr) = spawn_server(&from_env, &[]).await;
    assert!(is_error(&call(&client, "create_record", new_lead()).await));
    stop(client, stderr).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sfmcp.toml");
    std::fs::write(&file, "[policy]\nconfirm_writes = true\n").unwrap();
    let mut from_file = env.clone();
    from_file.push(("SFMCP_CONFIG", file.display().to_string()));
    let (client, stderr) = spawn_server(&from_file, &[]).await;
    assert!(is_error(&call(&client, "create_record", new_lead()).await));
    stop(client, stderr).await;

    assert!(writes(&emulator).await.is_empty());
}

/// The input-required round by hand: the answer is bound to the write it was asked about.
#[tokio::test]
async fn an_approval_cannot_be_moved_to_another_write_or_replayed() {
    let emulator = demo_emulator().await;
    let env = org_env(&emulator.orgs[0]);
    let person = Person::answering(ElicitationAction::Accept);
    let (client, stderr) = spawn_server_as(&env, &["--confirm-writes"], person, modern()).await;
    let params = |fields: Value| {
        CallToolRequestParams::new("create_record").with_arguments(
            json!({"object": "Lead", "fields": fields})
                .as_object()
                .cloned()
                .unwrap(),
        )
    };
    let asked = client
        .call_tool_once(params(json!({"LastName": "Ng", "Company": "Acme"})))
        .await
        .expect("tools/call");
    let CallToolResponse::InputRequired(question) = asked else {
        panic!("a 2026-07-28 client gets an input-required result");
    };
    let state = question.request_state.clone().expect("requestState");
    let requests = question.input_requests.clone().expect("inputRequests");
    assert!(matches!(
        requests.get("confirm_write"),
        Some(InputRequest::Elicitation(_))
    ));
    let mut yes = InputResponses::new();
    yes.insert(
        "confirm_write".into(),
        json!({"action": "accept", "content": {"confirm": true}}),
    );

    let moved = client
        .call_tool_once(
            params(json!({"LastName": "Ng", "Company": "Evil Corp"}))
                .with_request_state(state.clone())
                .with_input_responses(yes.clone()),
        )
        .await
        .expect("tools/call");
    let CallToolResponse::Complete(moved) = moved else {
        panic!("a refusal, not another question");
    };
    assert!(is_error(&moved));
    assert!(
        text(&moved).contains("confirmed a different change"),
        "{}",
        text(&moved)
    );
    assert!(writes(&emulator).await.is_empty());

    let approved = params(json!({"LastName": "Ng", "Company": "Acme"}))
        .with_request_state(state)
        .with_input_responses(yes);
    let sent = client
        .call_tool_once(approved.clone())
        .await
        .expect("tools/call");
    assert!(matches!(&sent, CallToolResponse::Complete(r) if !is_error(r)));
    let replayed = client.call_tool_once(approved).await.expect("tools/call");
    let CallToolResponse::Complete(replayed) = replayed else {
        panic!("a refusal");
    };
    assert!(
        text(&replayed).contains("already used"),
        "{}",
        text(&replayed)
    );
    assert_eq!(writes(&emulator).await.len(), 1, "exactly one record");
    stop(client, stderr).await;
}
