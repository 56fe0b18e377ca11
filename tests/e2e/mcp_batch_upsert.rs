//! Issue 17 item 4, the rest of "writes at scale", end to end: rmcp's client -> `sfmcp
//! serve` (stdio, and Streamable HTTP) -> our client -> the emulator. `upsert_records`
//! upserts up to 200 records by an external id in one sObject Collections call
//! (`PATCH /composite/sobjects/Account/ERP_Id__c`, all or none); `create_records` takes
//! records of several objects, each typed by `attributes.type`. Answers are compared with
//! what the emulator's own REST API answers and reads back; the request log shows what was
//! sent (nothing, for refusals and dry runs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{
    call, demo_emulator, is_error, org_env, requests, spawn_server, stop, structured, text,
};
use crate::emulator_common::Client;
use crate::mcp_batch::{NO_SUCH_ACCOUNT, rows, writes};

#[tokio::test]
async fn upsert_records_creates_and_updates_in_one_call_as_rest_answers() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let known = rows(
        &rest,
        "SELECT Id, Rating FROM Account WHERE ERP_Id__c = 'ERP-00042'",
    )
    .await;
    assert_eq!(known.len(), 1);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let records = json!([
        {"ERP_Id__c": "ERP-00042", "Rating": "Hot"},
        {"erp_id__c": "ERP-88001", "Name": "Batch Upsert Co", "Industry": "banking"},
    ]);

    // A dry run sends nothing and says which record it would create.
    let before = writes(&emulator).await.len();
    let preview = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": records, "dry_run": true}),
    )
    .await;
    assert!(!is_error(&preview), "{}", text(&preview));
    assert_eq!(structured(&preview)["creates"], json!([false, true]));
    assert_eq!(
        structured(&preview)["path"],
        json!("/composite/sobjects/Account/ERP_Id__c")
    );
    assert!(text(&preview).contains("It would create 1 and update 1 Account records"));
    assert_eq!(
        writes(&emulator).await.len(),
        before,
        "a dry run sends nothing"
    );

    let done = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": records}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    let answer = structured(&done);
    let upserted = answer["upserted"].as_array().expect("upserted");
    assert_eq!(upserted[0]["created"], json!(false));
    assert_eq!(upserted[0]["id"], known[0]["Id"]);
    assert_eq!(upserted[1]["created"], json!(true));
    // One collections upsert, nothing else written.
    let sent = writes(&emulator).await;
    let sent: Vec<&Value> = sent[before..].iter().collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["method"], json!("PATCH"));
    assert!(
        sent[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/composite/sobjects/Account/ERP_Id__c"),
        "{sent:?}"
    );
    // As REST reads back: the update's before and after, the created record and its key.
    let now = rows(
        &rest,
        "SELECT Id, Name, Rating, Industry, ERP_Id__c FROM Account WHERE ERP_Id__c IN ('ERP-00042', 'ERP-88001') ORDER BY ERP_Id__c",
    )
    .await;
    assert_eq!(now.len(), 2);
    assert_eq!(
        upserted[0]["changes"],
        json!([{"field": "Rating", "before": known[0]["Rating"], "after": now[0]["Rating"]}])
    );
    assert_eq!(now[0]["Rating"], json!("Hot"));
    assert_eq!(upserted[1]["id"], now[1]["Id"]);
    assert_eq!(
        now[1]["Industry"],
        json!("Banking"),
        "checked like any write"
    );

    // The emulator's own answer to the same body: both now updates, the same records.
    let own = rest
        .patch(
            "/composite/sobjects/Account/ERP_Id__c",
            &json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "ERP_Id__c": "ERP-00042", "Rating": "Hot"},
                {"attributes": {"type": "Account"}, "ERP_Id__c": "ERP-88001", "Name": "Batch Upsert Co"},
            ]}),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(own.body[0]["id"], upserted[0]["id"]);
    assert_eq!(own.body[1]["id"], upserted[1]["id"]);
    assert_eq!(own.body[1]["created"], json!(false));

    // All or none: a bad lookup in #1 leaves #0's new key uncreated, and the failure is
    // reported at the index and with the code the emulator's REST answer gives.
    let failing = json!([
        {"ERP_Id__c": "ERP-88002", "Name": "Never Stored"},
        {"ERP_Id__c": "ERP-88003", "Name": "Bad Parent", "ParentId": NO_SUCH_ACCOUNT},
    ]);
    let refused = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": failing}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    let failed = structured(&refused)["failed"].clone();
    let own = rest
        .patch(
            "/composite/sobjects/Account/ERP_Id__c",
            &json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "ERP_Id__c": "ERP-88002", "Name": "Never Stored"},
                {"attributes": {"type": "Account"}, "ERP_Id__c": "ERP-88003", "Name": "Bad Parent", "ParentId": NO_SUCH_ACCOUNT},
            ]}),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(
        own.body[0]["errors"][0]["statusCode"],
        json!("ALL_OR_NONE_OPERATION_ROLLED_BACK")
    );
    assert_eq!(failed[0]["index"], json!(1), "{failed}");
    assert_eq!(
        failed[0]["errors"][0]["statusCode"],
        own.body[1]["errors"][0]["statusCode"]
    );
    assert!(
        rows(
            &rest,
            "SELECT Id FROM Account WHERE ERP_Id__c IN ('ERP-88002', 'ERP-88003')"
        )
        .await
        .is_empty(),
        "nothing of a refused batch is stored"
    );

    // A key that would break out of a SOQL literal or a URL stays one value: it matches
    // nothing, so the record is created, holding the key exactly. One too long for the
    // field (20 characters) is refused before anything is sent.
    let hostile = "O'B\\' OR Id!='' %_/";
    let done = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": hostile, "Name": "Hostile Key"}]}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    assert_eq!(structured(&done)["upserted"][0]["created"], json!(true));
    let stored = rows(
        &rest,
        "SELECT ERP_Id__c FROM Account WHERE Name = 'Hostile Key'",
    )
    .await;
    assert_eq!(
        stored,
        vec![json!({"attributes": stored[0]["attributes"], "ERP_Id__c": hostile})]
    );

    let before = writes(&emulator).await.len();
    let refused = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": "ERP-TOO-LONG-0000000001", "Name": "Long Key"}]}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(text(&refused).contains("#0"), "{}", text(&refused));
    assert_eq!(writes(&emulator).await.len(), before);

    // The emulator, as Salesforce documents: a collections upsert takes no record ids.
    let own = rest
        .patch(
            "/composite/sobjects/Account/Id",
            &json!({"allOrNone": true, "records": [{"attributes": {"type": "Account"}, "Id": known[0]["Id"], "Rating": "Cold"}]}),
        )
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.body);

    // Refused before anything is sent.
    let before = requests(&emulator).await.len();
    let cases = [
        (
            json!({"object": "Account", "key": "Id", "records": [{"Id": known[0]["Id"], "Rating": "Cold"}]}),
            "not Id: update_records",
        ),
        (
            json!({"object": "Account", "key": "Name", "records": [{"Name": "x", "Rating": "Cold"}]}),
            "is not an external id field",
        ),
        (
            json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": "A-1", "Rating": "Cold"}, {"Rating": "Cold"}]}),
            "records #1: it has no ERP_Id__c",
        ),
        (
            json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": "A-1", "Rating": "Cold"}, {"ERP_Id__c": "a-1", "Rating": "Warm"}]}),
            "is also record #0",
        ),
    ];
    for (args, expected) in cases {
        let refused = call(&client, "upsert_records", args.clone()).await;
        assert!(is_error(&refused), "{args}: {}", text(&refused));
        assert!(text(&refused).contains(expected), "{}", text(&refused));
    }
    let after = requests(&emulator).await;
    let touched: Vec<&Value> = after[before..]
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains("/composite") || p.contains("/query"))
        })
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    stop(client, stderr).await;

    // The operator's policy, per record, before any request.
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &[
            "--deny-fields",
            "Account.Rating",
            "--allow-objects",
            "Account",
        ],
    )
    .await;
    let before = requests(&emulator).await.len();
    let refused = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": [{"ERP_Id__c": "A-1", "Name": "x"}, {"ERP_Id__c": "A-2", "Rating": "Hot"}]}),
    )
    .await;
    assert!(
        text(&refused).contains("records #1: Account.Rating is hidden"),
        "{}",
        text(&refused)
    );
    let refused = call(
        &client,
        "upsert_records",
        json!({"object": "Contact", "key": "Email", "records": [{"Email": "a@b.c", "LastName": "x"}]}),
    )
    .await;
    assert!(is_error(&refused) && text(&refused).contains("Contact"));
    let touched: Vec<Value> = requests(&emulator).await[before..]
        .iter()
        .filter(|r| {
            r["path"].as_str().is_some_and(|p| {
                p.contains("/sobjects") || p.contains("/composite") || p.contains("/query")
            })
        })
        .cloned()
        .collect();
    assert!(
        touched.is_empty(),
        "no describe, read or write: {touched:?}"
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn create_records_mixes_objects_each_checked_under_the_policy() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let before = writes(&emulator).await.len();
    let created = call(
        &client,
        "create_records",
        json!({"records": [
            {"attributes": {"type": "Account"}, "Name": "Mixed One"},
            {"attributes": {"type": "contact"}, "LastName": "Mixed", "LeadSource": "web"},
            {"attributes": {"type": "Account"}, "Name": "Mixed Two"},
        ]}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let answer = structured(&created);
    let entries = answer["created"].as_array().expect("created");
    let objects: Vec<&Value> = entries.iter().map(|e| &e["object"]).collect();
    assert_eq!(
        objects,
        [&json!("Account"), &json!("Contact"), &json!("Account")]
    );
    let sent = writes(&emulator).await;
    assert_eq!(sent.len() - before, 1, "one call: {sent:?}");
    assert!(
        sent.last().unwrap()["path"]
            .as_str()
            .unwrap()
            .ends_with("/composite/sobjects")
    );
    // As REST reads back, each under its own object; the picklist respelled as the org's.
    let accounts = rows(
        &rest,
        "SELECT Id FROM Account WHERE Name IN ('Mixed One', 'Mixed Two') ORDER BY Name",
    )
    .await;
    assert_eq!(accounts[0]["Id"], entries[0]["id"]);
    assert_eq!(accounts[1]["Id"], entries[2]["id"]);
    let contacts = rows(
        &rest,
        "SELECT Id, LeadSource FROM Contact WHERE LastName = 'Mixed'",
    )
    .await;
    assert_eq!(contacts[0]["Id"], entries[1]["id"]);
    assert_eq!(contacts[0]["LeadSource"], json!("Web"));

    // Eleven runs of one object are more than Salesforce processes: refused, as the
    // emulator's REST answer refuses the same body.
    let alternating: Vec<Value> = (0..11)
        .map(|i| {
            if i % 2 == 0 {
                json!({"attributes": {"type": "Account"}, "Name": format!("Chunk {i}")})
            } else {
                json!({"attributes": {"type": "Contact"}, "LastName": format!("Chunk {i}")})
            }
        })
        .collect();
    let before = writes(&emulator).await.len();
    let refused = call(&client, "create_records", json!({"records": alternating})).await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(
        text(&refused).contains("at most 10 runs"),
        "{}",
        text(&refused)
    );
    assert_eq!(writes(&emulator).await.len(), before);
    let own = rest
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": alternating}),
        )
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.body);
    assert_eq!(own.body[0]["errorCode"], json!("EXCEEDED_MAX_TYPES_LIMIT"));
    let refused = call(
        &client,
        "create_records",
        json!({"records": [{"Name": "No Type"}]}),
    )
    .await;
    assert!(
        text(&refused).contains("records #0: its object is unknown"),
        "{}",
        text(&refused)
    );
    stop(client, stderr).await;

    // The policy per record and per object: an object outside the allow-list, a denied
    // field of one object, read-only mode. Nothing is sent, not even a describe.
    let env = org_env(&emulator.orgs[0]);
    let (client, stderr) = spawn_server(
        &env,
        &[
            "--allow-objects",
            "Account,Contact",
            "--deny-fields",
            "Contact.Title",
        ],
    )
    .await;
    let before = requests(&emulator).await.len();
    for (records, expected) in [
        (
            json!([{"attributes": {"type": "Account"}, "Name": "A"}, {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"}]),
            "records #1: Lead is not among the objects",
        ),
        (
            json!([{"attributes": {"type": "Account"}, "Name": "A", "Title": "fine on Account"}, {"attributes": {"type": "Contact"}, "LastName": "C", "Title": "CEO"}]),
            "records #1: Contact.Title is hidden",
        ),
    ] {
        let refused = call(&client, "create_records", json!({"records": records})).await;
        assert!(is_error(&refused), "{}", text(&refused));
        assert!(text(&refused).contains(expected), "{}", text(&refused));
    }
    let touched: Vec<Value> = requests(&emulator).await[before..]
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/sobjects")))
        .cloned()
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    stop(client, stderr).await;
    let (client, stderr) = spawn_server(&env, &["--read-only"]).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(
        tools
            .iter()
            .all(|t| t.name != "upsert_records" && t.name != "create_records")
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn over_http_upsert_records_answers_as_rest_reads_back() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    let records: Vec<Value> = (0..200)
        .map(
            |i| json!({"ERP_Id__c": format!("HTTP-{i:03}"), "Name": format!("Http Upsert {i:03}")}),
        )
        .collect();
    let done = call(
        &client,
        "upsert_records",
        json!({"object": "Account", "key": "ERP_Id__c", "records": records}),
    )
    .await;
    assert!(!is_error(&done), "{}", text(&done));
    let upserted = structured(&done)["upserted"]
        .as_array()
        .cloned()
        .expect("upserted");
    assert_eq!(upserted.len(), 200);
    assert!(upserted.iter().all(|u| u["created"] == json!(true)));
    let stored = rows(
        &rest,
        "SELECT Id, ERP_Id__c FROM Account WHERE ERP_Id__c LIKE 'HTTP-%' ORDER BY ERP_Id__c",
    )
    .await;
    let stored_ids: Vec<&Value> = stored.iter().map(|r| &r["Id"]).collect();
    let got_ids: Vec<&Value> = upserted.iter().map(|u| &u["id"]).collect();
    assert_eq!(stored_ids, got_ids);
    let _ = client.cancel().await;
    let _ = child.kill().await;
}

/// With `--confirm-writes`: one question for the whole batch, each record shown as the
/// create or the update it will be (before and after); declined, nothing is written.
#[tokio::test]
async fn an_upsert_batch_and_a_mixed_batch_are_confirmed_once_with_every_record_shown() {
    use rmcp::ClientLifecycleMode;
    use rmcp::model::ElicitationAction;

    use crate::common::spawn_server_as;
    use crate::mcp_confirm::Person;

    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let known = rows(
        &rest,
        "SELECT Id, Rating FROM Account WHERE ERP_Id__c = 'ERP-00042'",
    )
    .await;
    let env = org_env(&emulator.orgs[0]);
    for answer in [ElicitationAction::Decline, ElicitationAction::Accept] {
        let person = Person::answering(answer.clone());
        let (client, stderr) = spawn_server_as(
            &env,
            &["--confirm-writes"],
            person.clone(),
            ClientLifecycleMode::Initialize,
        )
        .await;
        let result = call(
            &client,
            "upsert_records",
            json!({"object": "Account", "key": "ERP_Id__c", "records": [
                {"ERP_Id__c": "ERP-00042", "Rating": "Warm"},
                {"ERP_Id__c": "ERP-99001", "Name": "Confirmed Co"},
            ]}),
        )
        .await;
        let mixed = call(
            &client,
            "create_records",
            json!({"records": [
                {"attributes": {"type": "Account"}, "Name": "Confirmed Mixed"},
                {"attributes": {"type": "Contact"}, "LastName": "Confirmed Mixed"},
            ]}),
        )
        .await;
        let asked = person.questions();
        assert_eq!(asked.len(), 2, "one question per batch: {asked:?}");
        assert!(
            asked[0]
                .starts_with("Upsert 2 Account records in Salesforce by ERP_Id__c, all or none:\n"),
            "{}",
            asked[0]
        );
        let update = format!("#0 update {}:\n", known[0]["Id"].as_str().unwrap());
        assert!(asked[0].contains(&update), "{}", asked[0]);
        assert!(
            asked[0].contains(&format!("  Rating: {} → \"Warm\"\n", known[0]["Rating"])),
            "{}",
            asked[0]
        );
        assert!(asked[0].contains("#1 create:\n"), "{}", asked[0]);
        assert!(
            asked[1].starts_with(
                "Create 2 Account, Contact records in Salesforce, all or none:\n#0 Account:\n"
            ),
            "{}",
            asked[1]
        );
        assert!(asked[1].contains("#1 Contact:\n"), "{}", asked[1]);
        let created = rows(
            &rest,
            "SELECT Id FROM Account WHERE ERP_Id__c = 'ERP-99001' OR Name = 'Confirmed Mixed'",
        )
        .await;
        if answer == ElicitationAction::Accept {
            assert!(!is_error(&result), "{}", text(&result));
            assert!(!is_error(&mixed), "{}", text(&mixed));
            assert_eq!(created.len(), 2);
        } else {
            assert!(text(&result).starts_with("Not sent. "), "{}", text(&result));
            assert!(text(&mixed).starts_with("Not sent. "), "{}", text(&mixed));
            assert!(created.is_empty());
            assert!(writes(&emulator).await.is_empty());
        }
        stop(client, stderr).await;
    }
}
