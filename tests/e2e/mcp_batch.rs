//! Issue 17 item 4, "writes at scale", end to end: rmcp's client -> `sfmcp serve` (stdio,
//! and one session over Streamable HTTP) -> our client -> the emulator. `upsert_record` by
//! the demo org's external id (`Account.ERP_Id__c`); `create_record` and `update_record`
//! with `records`, sent as one sObject Collections call, all or none. Each answer is compared
//! with what the emulator's own REST API reads back; the request log shows what was sent
//! (nothing, for refusals and dry runs; never a DELETE).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use reqwest::StatusCode;
use rmcp::ClientLifecycleMode;
use rmcp::model::ElicitationAction;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

use crate::common::{
    call, demo_emulator, is_error, org_env, requests, spawn_server, spawn_server_as, stop,
    structured, text,
};
use crate::emulator_common::Client;
use crate::mcp_confirm::Person;

/// A valid Account Id no record has: the emulator refuses a lookup to it with
/// `INVALID_CROSS_REFERENCE_KEY`, past every check sfmcp can make without reading.
pub(crate) const NO_SUCH_ACCOUNT: &str = "001000000000000AAA";

/// Every request that could change data: POST and PATCH under `/services/data`, and any
/// DELETE at all.
pub(crate) async fn writes(emulator: &EmulatorHandle) -> Vec<Value> {
    requests(emulator)
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == json!("DELETE")
                || ((r["method"] == json!("POST") || r["method"] == json!("PATCH"))
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.starts_with("/services/data/")))
        })
        .collect()
}

pub(crate) async fn rows(rest: &Client, soql: &str) -> Vec<Value> {
    let reply = rest.query(soql).await;
    assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
    reply.body["records"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ids(records: &[Value], key: &str) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|r| r[key].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn upsert_by_an_external_id_creates_then_updates_as_salesforce_does() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    // Not there yet: created, with the key set.
    let created = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": "ERP-77001"},
               "fields": {"Name": "Upsert Works", "Industry": "banking"}}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let answer = structured(&created);
    assert_eq!(answer["created"], json!(true), "{answer}");
    let stored = rows(
        &rest,
        "SELECT Id, Name, Industry, ERP_Id__c FROM Account WHERE ERP_Id__c = 'ERP-77001'",
    )
    .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["Id"], answer["id"]);
    assert_eq!(stored[0]["Name"], json!("Upsert Works"));
    // Checked like any write: the picklist value is sent as the list spells it.
    assert_eq!(stored[0]["Industry"], json!("Banking"));

    // There now: updated, before and after as REST reads them.
    let updated = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"erp_id__c": "erp-77001"},
               "fields": {"Industry": "Energy"}}),
    )
    .await;
    assert!(!is_error(&updated), "{}", text(&updated));
    let answer = structured(&updated);
    assert_eq!(answer["created"], json!(false));
    assert_eq!(answer["id"], stored[0]["Id"]);
    assert_eq!(
        answer["changes"],
        json!([{"field": "Industry", "before": "Banking", "after": "Energy"}])
    );
    assert!(
        text(&updated).contains("Industry: \"Banking\" → \"Energy\""),
        "{}",
        text(&updated)
    );
    let stored = rows(
        &rest,
        "SELECT Id, Industry FROM Account WHERE ERP_Id__c = 'ERP-77001'",
    )
    .await;
    assert_eq!(stored.len(), 1, "an update, not a second record");
    assert_eq!(stored[0]["Industry"], json!("Energy"));

    // A demo account the ERP already knows.
    let known = rows(
        &rest,
        "SELECT Id FROM Account WHERE ERP_Id__c = 'ERP-00042'",
    )
    .await;
    let result = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": "ERP-00042"},
               "fields": {"Rating": "Hot"}}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(structured(&result)["id"], known[0]["Id"]);

    // A key with characters a URL path would misread stays one value.
    let odd = "ERP 7?x#1&y=%";
    let result = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": odd},
               "fields": {"Name": "Odd Key"}}),
    )
    .await;
    assert!(!is_error(&result), "{}", text(&result));
    let stored = rows(
        &rest,
        "SELECT Id, ERP_Id__c FROM Account WHERE Name = 'Odd Key'",
    )
    .await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["ERP_Id__c"], json!(odd));
    assert_eq!(stored[0]["Id"], structured(&result)["id"]);

    // A dry run says which it would be and sends nothing.
    let before = writes(&emulator).await.len();
    let dry = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": "ERP-DRY"},
               "fields": {"Name": "Dry"}, "dry_run": true}),
    )
    .await;
    assert!(!is_error(&dry), "{}", text(&dry));
    assert!(
        text(&dry).contains("PATCH /sobjects/Account/ERP_Id__c/ERP-DRY"),
        "{}",
        text(&dry)
    );
    assert!(
        text(&dry).contains("It would create a Account"),
        "{}",
        text(&dry)
    );
    assert_eq!(structured(&dry)["creates"], json!(true));
    assert!(
        rows(&rest, "SELECT Id FROM Account WHERE ERP_Id__c = 'ERP-DRY'")
            .await
            .is_empty()
    );

    // Keys Salesforce cannot upsert on, with the ones it can.
    for (key_field, expected) in [
        ("Name", "Account.Name is not an external id field"),
        ("ERP_Id", "did you mean ERP_Id__c?"),
    ] {
        let refused = call(
            &client,
            "upsert_record",
            json!({"object": "Account", "match": {key_field: "x"},
                   "fields": {"Rating": "Hot"}}),
        )
        .await;
        assert!(is_error(&refused), "{key_field}: {}", text(&refused));
        assert!(text(&refused).contains(expected), "{}", text(&refused));
        assert!(
            text(&refused).contains("Account's external id fields: ERP_Id__c (or Id)"),
            "{}",
            text(&refused)
        );
    }
    for (key, expected) in [
        ("../limits", "cannot be empty, '.', '..' or contain '/'"),
        ("", "the key's value is empty"),
    ] {
        let refused = call(
            &client,
            "upsert_record",
            json!({"object": "Account", "match": {"ERP_Id__c": key},
                   "fields": {"Rating": "Hot"}}),
        )
        .await;
        assert!(is_error(&refused), "{key}: {}", text(&refused));
        assert!(text(&refused).contains(expected), "{}", text(&refused));
    }

    // Two records share a key: Salesforce would answer 300 and change none; sfmcp says so
    // before sending, naming both.
    let mut twins = BTreeSet::new();
    for name in ["Twin A", "Twin B"] {
        let reply = rest
            .post(
                "/sobjects/Account",
                &json!({"Name": name, "ERP_Id__c": "ERP-TWIN"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        twins.insert(reply.body["id"].as_str().expect("id").to_string());
    }
    let direct = rest
        .patch(
            "/sobjects/Account/ERP_Id__c/ERP-TWIN",
            &json!({"Rating": "Hot"}),
        )
        .await;
    assert_eq!(
        direct.status,
        StatusCode::MULTIPLE_CHOICES,
        "{}",
        direct.body
    );
    let refused = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": "ERP-TWIN"},
               "fields": {"Rating": "Hot"}}),
    )
    .await;
    assert!(is_error(&refused));
    for id in &twins {
        assert!(text(&refused).contains(id.as_str()), "{}", text(&refused));
    }
    assert!(text(&refused).contains("300 Multiple Choices"));
    assert_eq!(
        writes(&emulator).await.len(),
        before + 3,
        "refusals and the dry run sent nothing: only the test's own two creates and one PATCH"
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn batches_are_one_call_all_or_none_and_answer_as_rest_reads_back() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let account = rest
        .first_id("SELECT Id FROM Account ORDER BY Name LIMIT 1")
        .await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    // Create three at once.
    let before = writes(&emulator).await.len();
    let records: Vec<Value> = ["Alpha", "Bravo", "Charlie"]
        .iter()
        .map(|n| json!({"LastName": format!("Batch {n}"), "AccountId": account, "Title": "Buyer"}))
        .collect();
    let created = call(
        &client,
        "create_records",
        json!({"object": "Contact", "records": records}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let sent = writes(&emulator).await;
    assert_eq!(sent.len(), before + 1, "one call for the batch");
    assert_eq!(
        sent[before]["path"],
        json!("/services/data/v62.0/composite/sobjects")
    );
    let answer = structured(&created);
    let created_ids: Vec<String> = answer["created"]
        .as_array()
        .expect("created")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect();
    let stored = rows(
        &rest,
        "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Batch %' ORDER BY LastName",
    )
    .await;
    assert_eq!(
        stored
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>(),
        created_ids,
        "the ids, in input order, are the records REST reads back"
    );

    // Update them at once: before and after, as read back.
    let updates: Vec<Value> = created_ids
        .iter()
        .enumerate()
        .map(|(n, id)| json!({"Id": id, "Title": format!("Buyer {n}")}))
        .collect();
    let updated = call(&client, "update_records", json!({"records": updates})).await;
    assert!(!is_error(&updated), "{}", text(&updated));
    let answer = structured(&updated);
    for (n, record) in answer["updated"]
        .as_array()
        .expect("updated")
        .iter()
        .enumerate()
    {
        assert_eq!(record["id"], json!(created_ids[n]));
        assert_eq!(
            record["changes"],
            json!([{"field": "Title", "before": "Buyer", "after": format!("Buyer {n}")}])
        );
    }
    let stored = rows(
        &rest,
        "SELECT Id, Title FROM Contact WHERE LastName LIKE 'Batch %' ORDER BY LastName",
    )
    .await;
    let titles: Vec<&Value> = stored.iter().map(|r| &r["Title"]).collect();
    assert_eq!(
        titles,
        [&json!("Buyer 0"), &json!("Buyer 1"), &json!("Buyer 2")]
    );

    // One record Salesforce refuses: nothing of the batch is written, and the failure is
    // reported by index as the emulator's REST answer to the same body reports it.
    let doomed = json!([
        {"LastName": "Doomed 0"},
        {"LastName": "Doomed 1", "AccountId": NO_SUCH_ACCOUNT},
        {"LastName": "Doomed 2"},
    ]);
    let refused = call(
        &client,
        "create_records",
        json!({"object": "Contact", "records": doomed}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(
        text(&refused).contains("#1: INVALID_CROSS_REFERENCE_KEY"),
        "{}",
        text(&refused)
    );
    assert!(
        text(&refused).contains("nothing was written"),
        "{}",
        text(&refused)
    );
    assert!(
        rows(
            &rest,
            "SELECT Id FROM Contact WHERE LastName LIKE 'Doomed %'"
        )
        .await
        .is_empty()
    );
    let records: Vec<Value> = doomed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["attributes"] = json!({"type": "Contact"});
            r
        })
        .collect();
    let direct = rest
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(direct.status, StatusCode::OK);
    let failed = &structured(&refused)["failed"];
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!(failed[0]["index"], json!(1));
    assert_eq!(
        failed[0]["errors"][0]["statusCode"],
        direct.body[1]["errors"][0]["statusCode"]
    );
    assert_eq!(
        direct.body[0]["errors"][0]["statusCode"],
        json!("ALL_OR_NONE_OPERATION_ROLLED_BACK")
    );
    assert!(
        rows(
            &rest,
            "SELECT Id FROM Contact WHERE LastName LIKE 'Doomed %'"
        )
        .await
        .is_empty()
    );

    // The same for an update: the first record's change is rolled back with the second's.
    let refused = call(
        &client,
        "update_records",
        json!({"records": [
            {"Id": created_ids[0], "Title": "Never"},
            {"Id": created_ids[1], "AccountId": NO_SUCH_ACCOUNT},
        ]}),
    )
    .await;
    assert!(is_error(&refused), "{}", text(&refused));
    assert!(
        text(&refused).contains("#1: INVALID_CROSS_REFERENCE_KEY"),
        "{}",
        text(&refused)
    );
    let stored = rows(
        &rest,
        &format!(
            "SELECT Title, AccountId FROM Contact WHERE Id IN ('{}', '{}') ORDER BY LastName",
            created_ids[0], created_ids[1]
        ),
    )
    .await;
    assert_eq!(stored[0]["Title"], json!("Buyer 0"));
    assert_eq!(stored[1]["AccountId"], json!(account));

    // Problems sfmcp finds itself: every one, by index, and nothing sent.
    let before = writes(&emulator).await.len();
    let checked = call(
        &client,
        "create_records",
        json!({"object": "Contact", "records": [
            {"LastName": "Fine"},
            {"LastName": "Bad mail", "Email": "not an address"},
            {"FirstName": "No last name"},
        ]}),
    )
    .await;
    assert!(is_error(&checked));
    let shown = text(&checked);
    assert!(shown.contains("INVALID_EMAIL_ADDRESS: #1:"), "{shown}");
    assert!(shown.contains("REQUIRED_FIELD_MISSING: #2:"), "{shown}");
    assert!(!shown.contains("#0"), "{shown}");

    // Over the limit, or both shapes at once: a clear refusal.
    let too_many: Vec<Value> = (0..201)
        .map(|i| json!({"LastName": format!("N{i}")}))
        .collect();
    let refused = call(
        &client,
        "create_records",
        json!({"object": "Contact", "records": too_many}),
    )
    .await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("records holds 201 records; one call writes 1 to 200"),
        "{}",
        text(&refused)
    );
    let refused = call(
        &client,
        "update_records",
        json!({"records": [{"Id": created_ids[0], "Title": "x"}, {"Id": account, "Name": "y"}]}),
    )
    .await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("records #1: "),
        "{}",
        text(&refused)
    );
    assert!(
        text(&refused).contains("is not a Contact Id"),
        "{}",
        text(&refused)
    );

    // A dry run shows every record and sends nothing.
    let dry = call(
        &client,
        "update_records",
        json!({"records": [{"Id": created_ids[0], "Title": "Dry 0"}, {"Id": created_ids[1], "Title": "Dry 1"}], "dry_run": true}),
    )
    .await;
    assert!(!is_error(&dry), "{}", text(&dry));
    let shown = text(&dry);
    assert!(shown.contains("PATCH /composite/sobjects"), "{shown}");
    assert!(
        shown.contains(&format!(
            "#0 {}:\n  Title: \"Buyer 0\" → \"Dry 0\"",
            created_ids[0]
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "#1 {}:\n  Title: \"Buyer 1\" → \"Dry 1\"",
            created_ids[1]
        )),
        "{shown}"
    );
    assert_eq!(writes(&emulator).await.len(), before, "nothing was sent");
    let stored = rows(&rest, "SELECT Title FROM Contact WHERE Title LIKE 'Dry%'").await;
    assert!(stored.is_empty());
    assert!(
        writes(&emulator)
            .await
            .iter()
            .all(|r| r["method"] != json!("DELETE"))
    );
    stop(client, stderr).await;
}

/// The operator's policy holds for every record of a batch, before any request.
#[tokio::test]
async fn policy_refuses_a_whole_batch_before_any_request_and_read_only_removes_the_tools() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let contacts: Vec<String> = rows(&rest, "SELECT Id FROM Contact ORDER BY Id LIMIT 2")
        .await
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let contact = &contacts[0];
    let env = org_env(&emulator.orgs[0]);
    let (client, stderr) = spawn_server(
        &env,
        &[
            "--deny-fields",
            "Contact.Title",
            "--allow-objects",
            "Contact,Account",
        ],
    )
    .await;
    let before = requests(&emulator).await.len();
    let cases = [
        (
            "create_records",
            json!({"object": "Contact", "records": [{"LastName": "A"}, {"LastName": "B"}, {"LastName": "C", "Title": "CEO"}]}),
            "records #2: Contact.Title is hidden by this server's settings (--deny-fields)",
        ),
        (
            "update_records",
            json!({"object": "Contact", "records": [{"Id": contacts[0], "LastName": "A"}, {"Id": contacts[1], "Title": "CEO"}]}),
            "records #1: Contact.Title is hidden",
        ),
        (
            "create_records",
            json!({"object": "Lead", "records": [{"LastName": "A", "Company": "B"}]}),
            "Lead",
        ),
        (
            "upsert_record",
            json!({"object": "Opportunity", "match": {"Id": "006000000000000AAA"}, "fields": {"Name": "x"}}),
            "Opportunity",
        ),
        (
            "upsert_record",
            json!({"object": "Contact", "match": {"Id": contact}, "fields": {"Title": "x"}}),
            "Contact.Title is hidden",
        ),
    ];
    for (tool, args, expected) in cases {
        let refused = call(&client, tool, args.clone()).await;
        assert!(is_error(&refused), "{tool} {args}: {}", text(&refused));
        assert!(
            text(&refused).contains(expected),
            "{tool}: {}",
            text(&refused)
        );
    }
    // Refused on the policy alone: no describe, no read, no write.
    let after = requests(&emulator).await;
    let touched: Vec<&Value> = after[before..]
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains("/sobjects") || p.contains("/query"))
        })
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
    stop(client, stderr).await;

    let (client, stderr) = spawn_server(&env, &["--read-only"]).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    for write in sfmcp_mcp::WRITE_TOOLS {
        assert!(tools.iter().all(|t| t.name != write), "{write} listed");
    }
    let refused = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("upsert_record").with_arguments(
                json!({"object": "Account", "match": {"ERP_Id__c": "ERP-1"}, "fields": {"Name": "x"}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            ),
        )
        .await;
    assert!(refused.is_err() || refused.as_ref().is_ok_and(|r| r.is_error == Some(true)));
    stop(client, stderr).await;
    assert!(
        writes(&emulator).await.is_empty(),
        "no write reached the org"
    );
}

#[tokio::test]
async fn a_batch_is_confirmed_once_with_every_change_shown() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let opportunities = rows(
        &rest,
        "SELECT Id, CloseDate FROM Opportunity WHERE IsClosed = false ORDER BY Id LIMIT 3",
    )
    .await;
    let env = org_env(&emulator.orgs[0]);
    let updates: Vec<Value> = opportunities
        .iter()
        .enumerate()
        .map(|(n, o)| json!({"Id": o["Id"], "CloseDate": format!("2031-0{}-15", n + 1)}))
        .collect();
    for (answer, lifecycle) in [
        (ElicitationAction::Decline, ClientLifecycleMode::Initialize),
        (
            ElicitationAction::Accept,
            ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        ),
    ] {
        let person = Person::answering(answer.clone());
        let (client, stderr) =
            spawn_server_as(&env, &["--confirm-writes"], person.clone(), lifecycle).await;
        let result = call(&client, "update_records", json!({"records": updates})).await;
        let asked = person.questions();
        assert_eq!(asked.len(), 1, "one question for the batch");
        assert!(
            asked[0].starts_with("Update 3 Opportunity records in Salesforce, all or none:\n"),
            "{}",
            asked[0]
        );
        for (n, o) in opportunities.iter().enumerate() {
            let line = format!(
                "#{n} {}:\n  CloseDate: {} → \"2031-0{}-15\"\n",
                o["Id"].as_str().unwrap(),
                o["CloseDate"],
                n + 1
            );
            assert!(asked[0].contains(&line), "{line} not in {}", asked[0]);
        }
        let stored = rows(
            &rest,
            "SELECT Id, CloseDate FROM Opportunity WHERE IsClosed = false ORDER BY Id LIMIT 3",
        )
        .await;
        if answer == ElicitationAction::Accept {
            assert!(!is_error(&result), "{}", text(&result));
            for (n, o) in stored.iter().enumerate() {
                assert_eq!(o["CloseDate"], json!(format!("2031-0{}-15", n + 1)));
            }
        } else {
            assert!(text(&result).starts_with("Not sent. "), "{}", text(&result));
            assert_eq!(stored, opportunities, "declined: nothing changed");
            assert!(writes(&emulator).await.is_empty());
        }
        stop(client, stderr).await;
    }
}

/// Over Streamable HTTP: an upsert and a batch answer as the emulator's REST API reads back.
#[tokio::test]
async fn over_http_an_upsert_and_a_batch_answer_as_rest_reads_back() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    let upserted = call(
        &client,
        "upsert_record",
        json!({"object": "Account", "match": {"ERP_Id__c": "ERP-00007"},
               "fields": {"Description": "Synced from the ERP"}}),
    )
    .await;
    assert!(!is_error(&upserted), "{}", text(&upserted));
    let stored = rows(
        &rest,
        "SELECT Id, Description FROM Account WHERE ERP_Id__c = 'ERP-00007'",
    )
    .await;
    assert_eq!(structured(&upserted)["id"], stored[0]["Id"]);
    assert_eq!(stored[0]["Description"], json!("Synced from the ERP"));

    let leads: Vec<Value> = (0..200)
        .map(|i| json!({"LastName": format!("Http {i:03}"), "Company": "Batch Co"}))
        .collect();
    let created = call(
        &client,
        "create_records",
        json!({"object": "Lead", "records": leads}),
    )
    .await;
    assert!(!is_error(&created), "{}", text(&created));
    let got = ids(
        structured(&created)["created"].as_array().expect("created"),
        "id",
    );
    let stored = rows(&rest, "SELECT Id FROM Lead WHERE Company = 'Batch Co'").await;
    assert_eq!(got, ids(&stored, "Id"));
    assert_eq!(got.len(), 200);
    let _ = client.cancel().await;
    let _ = child.kill().await;
}
