//! Writes checked as Salesforce checks them, and a little more (issue 15): through rmcp's
//! client, the built `sfmcp serve` over stdio, and the emulator's demo org. Each finding of
//! the "Writes" list is a test here; each refusal costs no PATCH or POST (request
//! log). The property test at the end holds the preflight to the emulator's own validation:
//! a value the preflight accepts is one the emulator stores.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::common::{
    Client, call, demo_emulator, is_error, org_env, requests, spawn_server, structured, text,
};
use crate::emulator_common;
use sfmcp_emulator::EmulatorHandle;
use sfmcp_mcp::write_check::{self, WriteContext, WriteKind};
use sfmcp_soql::schema::ObjectSchema;

async fn writes_sent(emulator: &EmulatorHandle) -> usize {
    requests(emulator)
        .await
        .iter()
        .filter(|r| r["method"] == json!("PATCH") || r["method"] == json!("POST"))
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/sobjects/")))
        .count()
}

/// The first id a query returns, read straight from the emulator's REST API.
async fn first_id(emulator: &EmulatorHandle, query: &str) -> String {
    emulator_common::Client::for_org(emulator, 0)
        .first_id(query)
        .await
}

async fn record(client: &Client, id: &str, fields: &[&str]) -> Value {
    let got = call(client, "get_record", json!({ "id": id, "fields": fields })).await;
    assert!(!is_error(&got), "{}", text(&got));
    structured(&got)
}

/// "update_record set StageName to 'Closed-Won', and to 'closed won', with no warning. The
/// emulator stored both and left IsClosed and IsWon false."
#[tokio::test]
async fn a_stage_outside_the_list_comes_back_with_the_closest_and_case_is_fixed() {
    let emulator = demo_emulator().await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let id = first_id(
        &emulator,
        "SELECT Id FROM Opportunity WHERE IsClosed = false LIMIT 1",
    )
    .await;
    let before = writes_sent(&emulator).await;

    let refused = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"StageName": "Closed-Won"}}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    let message = text(&refused);
    assert!(
        message.contains("UNLISTED_PICKLIST_VALUE")
            && message.contains("did you mean 'Closed Won'")
            && message.contains("neither closed nor won")
            && message.contains("allow_unlisted: true"),
        "{message}"
    );
    assert_eq!(writes_sent(&emulator).await, before, "nothing was sent");

    let won = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"StageName": "closed won"}}),
    )
    .await;
    assert!(!is_error(&won), "{}", text(&won));
    assert!(
        text(&won).contains("StageName: ") && text(&won).contains("→ \"Closed Won\""),
        "{}",
        text(&won)
    );
    assert!(
        text(&won).contains("'closed won' is sent as 'Closed Won'"),
        "{}",
        text(&won)
    );
    let stored = record(&client, &id, &["StageName", "IsClosed", "IsWon"]).await;
    assert_eq!(stored["StageName"], json!("Closed Won"));
    assert_eq!(stored["IsClosed"], json!(true));
    assert_eq!(stored["IsWon"], json!(true));
}

/// "Lead Status 'Working' was stored with no warning, though the value list has no such
/// value." It is sent only when the caller says it means it.
#[tokio::test]
async fn a_value_outside_an_unrestricted_picklist_is_sent_only_when_meant() {
    let emulator = demo_emulator().await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let id = first_id(&emulator, "SELECT Id FROM Lead LIMIT 1").await;
    let before = writes_sent(&emulator).await;

    let refused = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Status": "Working"}}),
    )
    .await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("did you mean 'Working - Contacted'"),
        "{}",
        text(&refused)
    );
    let preview = call(
        &client,
        "create_record",
        json!({"object": "Lead", "fields": {"LastName": "Ng", "Company": "Acme", "Status": "Working"}, "dry_run": true}),
    )
    .await;
    assert!(is_error(&preview), "a dry run is checked too");
    assert_eq!(writes_sent(&emulator).await, before, "nothing was sent");

    let meant = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Status": "Working"}, "allow_unlisted": true}),
    )
    .await;
    assert!(!is_error(&meant), "{}", text(&meant));
    assert!(
        text(&meant).contains("'Working' is NOT one of the picklist's values"),
        "{}",
        text(&meant)
    );
    assert_eq!(
        record(&client, &id, &["Status"]).await["Status"],
        json!("Working")
    );
}

/// A person who declines every confirmation and remembers what they were asked.
#[derive(Clone, Default)]
struct DecliningPerson {
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for DecliningPerson {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::builder()
                .enable_elicitation()
                .build(),
            rmcp::model::Implementation::new("person", "1.0.0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::model::ErrorData> {
        if let rmcp::model::ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(rmcp::model::ElicitResult::new(
            rmcp::model::ElicitationAction::Decline,
        ))
    }
}

/// With `--confirm-writes`, an unlisted value goes to the person instead of back to the
/// model, and the question leads with it.
#[tokio::test]
async fn a_confirming_person_sees_an_unlisted_value_first() {
    let emulator = demo_emulator().await;
    let id = first_id(&emulator, "SELECT Id FROM Lead LIMIT 1").await;
    let person = DecliningPerson::default();
    let (client, _stderr) = crate::common::spawn_server_as(
        &org_env(&emulator.orgs[0]),
        &["--confirm-writes"],
        person.clone(),
        rmcp::ClientLifecycleMode::Initialize,
    )
    .await;
    let before = writes_sent(&emulator).await;
    let declined = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Status": "Working"}}),
    )
    .await;
    assert!(
        text(&declined).starts_with("Not sent."),
        "{}",
        text(&declined)
    );
    let asked = person.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("⚠ Status: 'Working' is NOT one of the picklist's values"),
        "{}",
        asked[0]
    );
    assert_eq!(writes_sent(&emulator).await, before, "nothing was sent");
}

/// "E-mail, phone and URL formats are not checked." Nor were numbers' precision or the
/// object a lookup's id belongs to.
#[tokio::test]
async fn formats_are_checked_before_anything_is_sent() {
    let emulator = demo_emulator().await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let lead = first_id(&emulator, "SELECT Id FROM Lead LIMIT 1").await;
    let contact = first_id(&emulator, "SELECT Id FROM Contact LIMIT 1").await;
    let opportunity = first_id(&emulator, "SELECT Id FROM Opportunity LIMIT 1").await;
    let before = writes_sent(&emulator).await;

    for (id, fields, code) in [
        (
            &lead,
            json!({"Email": "ada(at)example"}),
            "INVALID_EMAIL_ADDRESS",
        ),
        (
            &lead,
            json!({"Email": "josé@example.com"}),
            "INVALID_EMAIL_ADDRESS",
        ),
        (&lead, json!({"Phone": "call me maybe"}), "INVALID_PHONE"),
        (
            &lead,
            json!({"Website": "javascript:alert(1)"}),
            "INVALID_URL",
        ),
        (&lead, json!({"Title": "T".repeat(129)}), "STRING_TOO_LONG"),
        (
            &lead,
            json!({"IsUnreadByOwner": "yes"}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
        (
            &opportunity,
            json!({"Amount": 1e17}),
            "NUMBER_OUTSIDE_VALID_RANGE",
        ),
        (
            &opportunity,
            json!({"Amount": 10.125}),
            "TOO_MANY_DECIMAL_PLACES",
        ),
        (
            &opportunity,
            json!({"CloseDate": "31/01/2027"}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
        (
            &contact,
            json!({"AccountId": opportunity}),
            "FIELD_INTEGRITY_EXCEPTION",
        ),
    ] {
        let refused = call(
            &client,
            "update_record",
            json!({"id": id, "fields": fields}),
        )
        .await;
        assert!(is_error(&refused), "{fields}: {}", text(&refused));
        assert!(
            text(&refused).contains(code) && text(&refused).contains("Nothing was sent"),
            "{fields}: {}",
            text(&refused)
        );
    }
    assert_eq!(writes_sent(&emulator).await, before, "nothing was sent");

    let good = call(
        &client,
        "update_record",
        json!({"id": lead, "fields": {"Email": "ada.lovelace+crm@example.co.uk", "Phone": "+44 20 7946 0958 ext. 12", "Website": "https://example.com/a?b=c"}}),
    )
    .await;
    assert!(!is_error(&good), "{}", text(&good));
}

/// "update_record needs object, although get_record infers it from the id."
#[tokio::test]
async fn update_record_infers_the_object_from_the_id() {
    let emulator = demo_emulator().await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let id = first_id(&emulator, "SELECT Id FROM Account LIMIT 1").await;
    let updated = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Site": "North"}}),
    )
    .await;
    assert!(!is_error(&updated), "{}", text(&updated));
    assert!(
        text(&updated).starts_with(&format!("Updated Account {id}")),
        "{}",
        text(&updated)
    );
    let wrong = call(
        &client,
        "update_record",
        json!({"object": "Contact", "id": id, "fields": {"Site": "x"}}),
    )
    .await;
    assert!(
        text(&wrong).contains("leave object out to infer it from the Id"),
        "{}",
        text(&wrong)
    );
}

/// The emulator refuses what Salesforce refuses, with Salesforce's codes and wording, and
/// keeps what Salesforce keeps (extra decimal places, knowledge article 000212661).
#[tokio::test]
async fn the_emulator_refuses_bad_formats_with_salesforces_codes() {
    let emulator = demo_emulator().await;
    let rest = emulator_common::Client::for_org(&emulator, 0);
    let lead = rest.first_id("SELECT Id FROM Lead LIMIT 1").await;
    let opportunity = rest.first_id("SELECT Id FROM Opportunity LIMIT 1").await;
    let account = rest.first_id("SELECT Id FROM Account LIMIT 1").await;
    for (path, body, code, message) in [
        (
            format!("/sobjects/Lead/{lead}"),
            json!({"Email": "josé@example.com"}),
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: josé@example.com",
        ),
        (
            format!("/sobjects/Lead/{lead}"),
            json!({"Email": "a..b@example.com"}),
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: a..b@example.com",
        ),
        (
            format!("/sobjects/Opportunity/{opportunity}"),
            json!({"Amount": 1e17}),
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Amount: value outside of valid range on numeric field: 100000000000000000",
        ),
        (
            format!("/sobjects/Account/{account}"),
            json!({"NumberOfEmployees": 1_000_000_000}),
            "NUMBER_OUTSIDE_VALID_RANGE",
            "Employees: value outside of valid range on numeric field: 1000000000",
        ),
    ] {
        let reply = rest.patch(&path, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.body[0]["errorCode"], json!(code), "{}", reply.body);
        assert_eq!(reply.body[0]["message"], json!(message), "{}", reply.body);
    }
    let kept = rest
        .patch(
            &format!("/sobjects/Opportunity/{opportunity}"),
            &json!({"Amount": 12.345}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::NO_CONTENT, "{}", kept.body);
    let stored = rest
        .get(&format!(
            "/sobjects/Opportunity/{opportunity}?fields=Amount"
        ))
        .await;
    assert_eq!(stored.body["Amount"], json!(12.345));
}

/// The recorded dependent picklist (`restforce/describe-custom-object-legacy.json`,
/// `Whizbang`) as a seeded custom object: describe carries the same `validFor` bits, the
/// preflight checks the dependency (reading the stored controlling value when the update
/// leaves it alone), and the emulator, like Salesforce's API, does not enforce it.
#[tokio::test]
async fn dependent_picklists_are_checked_where_describe_carries_them() {
    let controlling = [
        "one",
        "two",
        "three",
        "control_four",
        "control_five",
        "control_six",
        "control_seven",
        "control_eight",
        "control_nine",
        "control_ten",
    ];
    let seed = json!({
        "objects": [{"name": "Whizbang__c", "fields": [
            {"name": "Picklist_Field__c", "type": "picklist", "values": controlling},
            {"name": "Dependent_Picklist_Field__c", "type": "picklist",
             "values": ["seven", "eight", "nine", "ten"],
             "controlling_field": "Picklist_Field__c",
             "valid_for": {"seven": ["one"], "eight": ["one"], "nine": ["two"], "ten": ["control_ten"]}},
        ]}],
        "users": [{"username": "admin@acme.test", "profile": "System Administrator", "default": true}],
        "records": {"Whizbang__c": [
            {"Name": "W1", "Picklist_Field__c": "two", "Dependent_Picklist_Field__c": "nine"},
        ]},
    });
    let emulator = crate::common::seeded_emulator(seed).await;
    let rest = emulator_common::Client::for_org(&emulator, 0);

    let recorded = emulator_common::fixture("restforce/describe-custom-object-legacy.json");
    let valid_for = |describe: &Value, field: &str| -> Vec<(Value, Value)> {
        let field = describe["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == json!(field))
            .cloned()
            .expect("the dependent field");
        assert_eq!(field["dependentPicklist"], json!(true));
        field["picklistValues"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| (v["value"].clone(), v["validFor"].clone()))
            .collect()
    };
    let served = rest.get("/sobjects/Whizbang__c/describe").await.body;
    assert_eq!(
        valid_for(&served, "Dependent_Picklist_Field__c"),
        valid_for(&recorded, "Dependent_Picklist_Field"),
        "the same bits as the recording"
    );

    let id = rest.first_id("SELECT Id FROM Whizbang__c").await;
    let (client, _stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let before = writes_sent(&emulator).await;
    let refused = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Dependent_Picklist_Field__c": "seven"}}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(
        text(&refused).contains("INVALID_DEPENDENT_PICKLIST_VALUE")
            && text(&refused).contains("when Picklist_Field__c is 'two'")
            && text(&refused).contains("valid values are 'nine'"),
        "{}",
        text(&refused)
    );
    let created = call(
        &client,
        "create_record",
        json!({"object": "Whizbang__c", "fields": {"Picklist_Field__c": "two", "Dependent_Picklist_Field__c": "ten"}}),
    )
    .await;
    assert!(is_error(&created), "{}", text(&created));
    assert_eq!(writes_sent(&emulator).await, before, "nothing was sent");

    let both = call(
        &client,
        "update_record",
        json!({"id": id, "fields": {"Picklist_Field__c": "one", "Dependent_Picklist_Field__c": "seven"}}),
    )
    .await;
    assert!(!is_error(&both), "{}", text(&both));

    // Salesforce's API stores a value that breaks the dependency; so does the emulator.
    let stored = rest
        .patch(
            &format!("/sobjects/Whizbang__c/{id}"),
            &json!({"Dependent_Picklist_Field__c": "ten"}),
        )
        .await;
    assert_eq!(stored.status, StatusCode::NO_CONTENT, "{}", stored.body);
}

// ---- The preflight never accepts what the emulator refuses ----------------------------

async fn lead_describe(emulator: &EmulatorHandle) -> ObjectSchema {
    let rest = emulator_common::Client::for_org(emulator, 0);
    let body = rest.get("/sobjects/Lead/describe").await.body;
    serde_json::from_value::<ObjectSchema>(body)
        .expect("the emulator's describe")
        .index()
}

/// Text built from pieces that sit near the edges of each format.
fn edgy_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "a",
        "Z",
        "0",
        "9",
        ".",
        "..",
        "@",
        "-",
        "_",
        "+",
        "'",
        " ",
        "é",
        "x",
        "ext",
        "(",
        ")",
        "https://",
        "javascript:",
        "example",
        "com",
        "co.uk",
        ";",
        "Working",
        "working - contacted",
        "Hot",
        "WARM",
        "\t",
    ]);
    prop::collection::vec(pieces, 0..12).prop_map(|parts| parts.concat())
}

fn a_write() -> impl Strategy<Value = (String, Value)> {
    let numbers = prop_oneof![
        any::<i64>().prop_map(Value::from),
        (-1e20..1e20f64).prop_map(|f| json!(f)),
        (0u32..12, -1_000_000i64..1_000_000)
            .prop_map(|(shift, n)| json!(n as f64 / 10f64.powi(shift as i32))),
    ];
    prop_oneof![
        edgy_text().prop_map(|t| ("Email".to_string(), json!(t))),
        edgy_text().prop_map(|t| ("Phone".to_string(), json!(t))),
        edgy_text().prop_map(|t| ("Website".to_string(), json!(t))),
        edgy_text().prop_map(|t| ("Status".to_string(), json!(t))),
        edgy_text().prop_map(|t| ("Rating".to_string(), json!(t))),
        edgy_text().prop_map(|t| ("CleanStatus".to_string(), json!(t))),
        (edgy_text(), 0usize..40).prop_map(|(t, n)| ("Title".to_string(), json!(t.repeat(n)))),
        numbers
            .clone()
            .prop_map(|n| ("AnnualRevenue".to_string(), n)),
        numbers.prop_map(|n| ("NumberOfEmployees".to_string(), n)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preflight_never_accepts_what_the_emulator_refuses() {
    let emulator = demo_emulator().await;
    let describe = lead_describe(&emulator).await;
    let rest = emulator_common::Client::for_org(&emulator, 0);
    let lead = rest.first_id("SELECT Id FROM Lead LIMIT 1").await;
    let runtime = tokio::runtime::Handle::current();
    let mut runner = proptest::test_runner::TestRunner::new_with_rng(
        ProptestConfig {
            cases: 300,
            ..ProptestConfig::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let accepted = std::cell::Cell::new(0);
    let refused = std::cell::Cell::new(0);
    let outcome = runner.run(&a_write(), |(field, value)| {
        let fields: Map<String, Value> = Map::from_iter([(field.clone(), value.clone())]);
        // Values outside unrestricted picklists are the caller's to mean; the formats are
        // what this holds the preflight to.
        let context = WriteContext {
            allow_unlisted: true,
            ..WriteContext::default()
        };
        let Ok(checked) = write_check::check(&describe, WriteKind::Update, &fields, &context)
        else {
            refused.set(refused.get() + 1);
            return Ok(());
        };
        accepted.set(accepted.get() + 1);
        let body = Value::Object(checked.fields);
        let reply = tokio::task::block_in_place(|| {
            runtime.block_on(rest.patch(&format!("/sobjects/Lead/{lead}"), &body))
        });
        prop_assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "the preflight accepted {} = {} and the emulator answered {}",
            field,
            value,
            reply.body
        );
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // Both sides of the line were exercised.
    let (accepted, refused) = (accepted.get(), refused.get());
    assert!(
        accepted > 30 && refused > 30,
        "{accepted} accepted, {refused} refused"
    );
}
