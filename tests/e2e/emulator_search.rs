//! SOSL `GET /search`: the response shapes, search scopes, RETURNING clauses, Salesforce's
//! error codes, and sharing and field-level security through the SOQL engine.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{Client, Reply, assert_shape, fixture, start_seed, token_for};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

fn seed() -> Json {
    json!({
        "org": {"sharing": {"Opportunity": "Private"}},
        "profiles": [
            {"name": "Sales", "permissions": ["ApiEnabled"]},
            {"name": "Support", "permissions": ["ApiEnabled"], "hidden_fields": ["Contact.Email"]},
        ],
        "roles": [{"name": "Boss"}, {"name": "Rep", "parent": "Boss"}],
        "users": [
            {"username": "admin@acme.test", "profile": "System Administrator", "default": true},
            {"username": "rep1@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "rep2@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "support@acme.test", "profile": "Support"},
        ],
        "records": {
            "Account": [
                {"_ref": "acme", "Name": "Acme Corporation", "Industry": "Energy", "Phone": "(415) 555-0100"},
                {"Name": "Acme Labs", "Industry": "Technology"},
                {"Name": "Globex", "Description": "Rival of Acme"},
                {"Name": "Acmeville Inc"},
            ],
            "Contact": [
                {"FirstName": "Wile", "LastName": "Coyote", "Email": "wile@acme.example", "AccountId": "@acme"},
                {"FirstName": "Road", "LastName": "Runner", "Email": "beep@desert.example"},
            ],
            "Opportunity": [
                {"Name": "Acme renewal rep1", "StageName": "Prospecting", "CloseDate": "2026-12-01", "OwnerId": "@rep1@acme.test"},
                {"Name": "Acme renewal rep2", "StageName": "Prospecting", "CloseDate": "2026-12-01", "OwnerId": "@rep2@acme.test"},
            ],
        }
    })
}

async fn search(client: &Client, sosl: &str) -> Reply {
    client
        .send(
            client
                .http
                .get(client.data_url("/search"))
                .query(&[("q", sosl)]),
        )
        .await
}

fn names(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["searchRecords"]
        .as_array()
        .expect("searchRecords")
        .iter()
        .map(|r| {
            r["Name"]
                .as_str()
                .or_else(|| r["Id"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn as_user(
    handle: &sfmcp_emulator::EmulatorHandle,
    admin: &Client,
    username: &str,
) -> Client {
    let id = admin
        .first_id(&format!(
            "SELECT Id FROM User WHERE Username = '{username}'"
        ))
        .await;
    Client::new(handle, &token_for(handle, 0, &id))
}

#[tokio::test]
async fn find_matches_whole_words_in_the_scope_and_returns_the_named_fields() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);

    let reply = search(
        &admin,
        "FIND {Acme} IN ALL FIELDS RETURNING Account(Id, Name ORDER BY Name)",
    )
    .await;
    // Whole words: "Acmeville" does not match; "Rival of Acme" matches in Description.
    assert_eq!(
        names(&reply),
        vec!["Acme Corporation", "Acme Labs", "Globex"]
    );
    let first = &reply.body["searchRecords"][0];
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["attributes", "Id", "Name"]);
    assert_eq!(first["attributes"]["type"], json!("Account"));

    let reply = search(
        &admin,
        "FIND {Acme} IN NAME FIELDS RETURNING Account(Name ORDER BY Name DESC)",
    )
    .await;
    assert_eq!(names(&reply), vec!["Acme Labs", "Acme Corporation"]);

    let reply = search(
        &admin,
        "FIND {acme*} IN NAME FIELDS RETURNING Account(Name WHERE Industry = 'Energy')",
    )
    .await;
    assert_eq!(names(&reply), vec!["Acme Corporation"]);

    let reply = search(
        &admin,
        "find {\"Acme Labs\" OR Globex} returning Account(Name order by Name) limit 1",
    )
    .await;
    assert_eq!(names(&reply), vec!["Acme Labs"]);

    let reply = search(
        &admin,
        "FIND {wile@acme.example} IN EMAIL FIELDS RETURNING Contact(Name), Account",
    )
    .await;
    assert_eq!(names(&reply), vec!["Wile Coyote"]);

    let reply = search(
        &admin,
        "FIND {555\\-0100} IN PHONE FIELDS RETURNING Account(Name), Contact(Name)",
    )
    .await;
    assert_eq!(names(&reply), vec!["Acme Corporation"]);

    // Without RETURNING: the standard searchable objects, each record with only its Id.
    let reply = search(&admin, "FIND {Coyote}").await;
    let records = reply.body["searchRecords"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["attributes"]["type"], json!("Contact"));
    assert_eq!(records[0].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn search_follows_sharing_and_field_level_security() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let rep1 = as_user(&handle, &admin, "rep1@acme.test").await;
    let reply = search(&rep1, "FIND {renewal} RETURNING Opportunity(Name)").await;
    assert_eq!(
        names(&reply),
        vec!["Acme renewal rep1"],
        "a peer's private deal is not found"
    );
    let reply = search(
        &admin,
        "FIND {renewal} RETURNING Opportunity(Name ORDER BY Name)",
    )
    .await;
    assert_eq!(names(&reply).len(), 2);

    let support = as_user(&handle, &admin, "support@acme.test").await;
    let reply = search(
        &support,
        "FIND {wile} IN EMAIL FIELDS RETURNING Contact(Name)",
    )
    .await;
    assert_eq!(
        names(&reply),
        Vec::<String>::new(),
        "a hidden field is not searched"
    );
    let reply = search(&support, "FIND {Wile} RETURNING Contact(Name, Email)").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_FIELD"));
}

#[tokio::test]
async fn bad_searches_get_salesforce_errors() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let reply = search(&admin, "FIND Acme").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_shape(
        &reply.body,
        &fixture("restforce/search-error-malformed.json"),
    );
    assert_eq!(reply.body, fixture("restforce/search-error-malformed.json"));

    let reply = search(&admin, "FIND {a}").await;
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_SEARCH"));
    let reply = search(&admin, "FIND {Acme-Corp}").await;
    assert_eq!(reply.body[0]["errorCode"], json!("MALFORMED_SEARCH"));
    let reply = search(&admin, "FIND {Acme} RETURNING Nope__c(Name)").await;
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_TYPE"));
    let reply = search(&admin, "FIND {Acme} RETURNING Account(Bogus)").await;
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_FIELD"));
}

#[tokio::test]
async fn old_versions_answer_a_bare_array_as_recorded() {
    let handle = start_seed(seed()).await;
    let mut old = Client::for_org(&handle, 0);
    old.version = "35.0".into();
    let reply = search(&old, "FIND {Globex} RETURNING Account").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_shape(&reply.body, &fixture("restforce/search-legacy-array.json"));
    assert_eq!(
        reply.body[0]["attributes"]["url"]
            .as_str()
            .unwrap()
            .split('/')
            .nth(3),
        Some("v35.0")
    );
}
