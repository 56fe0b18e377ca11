//! The composite family (`/composite`, `/composite/batch`, `/composite/sobjects`) and upsert
//! by external id: Salesforce's wire formats, references between subrequests, rollback, and
//! the same validation, sharing and field-level security as single calls.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{Client, assert_shape, fixture, start_seed, token_for};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

/// Two reps in peer roles, private Opportunities, a support profile that cannot see
/// `Account.AnnualRevenue`, and a custom object keyed by an external id.
fn seed() -> Json {
    json!({
        "org": {"sharing": {"Opportunity": "Private"}},
        "objects": [{"name": "Part__c", "fields": [
            {"name": "Sku__c", "type": "string", "length": 20, "external_id": true},
            {"name": "Color__c", "type": "string"},
            {"name": "Stock__c", "type": "int"},
        ]}],
        "profiles": [
            {"name": "Sales", "permissions": ["ApiEnabled"]},
            {"name": "Support", "permissions": ["ApiEnabled"], "hidden_fields": ["Account.AnnualRevenue"]},
        ],
        "roles": [{"name": "Boss"}, {"name": "Rep", "parent": "Boss"}],
        "users": [
            {"username": "admin@acme.test", "profile": "System Administrator", "default": true},
            {"username": "rep1@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "rep2@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "support@acme.test", "profile": "Support"},
        ],
        "records": {
            "Account": [{"_ref": "acme", "Name": "Acme", "OwnerId": "@rep1@acme.test"}],
            "Opportunity": [
                {"Name": "Rep2 deal", "StageName": "Prospecting", "CloseDate": "2026-12-01", "OwnerId": "@rep2@acme.test"},
            ],
            "Part__c": [
                {"Name": "Bolt", "Sku__c": "B-1", "Stock__c": 10},
                {"Name": "Nut A", "Sku__c": "N-1"},
                {"Name": "Nut B", "Sku__c": "n-1"},
            ],
        }
    })
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

async fn count(client: &Client, soql: &str) -> u64 {
    let reply = client.query(soql).await;
    assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
    reply.body["totalSize"].as_u64().unwrap()
}

fn api_used(reply: &emulator_common::Reply) -> u64 {
    let info = reply.headers["Sforce-Limit-Info"].to_str().unwrap();
    let used = info
        .strip_prefix("api-usage=")
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    used.parse().unwrap()
}

fn subresponses(reply: &emulator_common::Reply) -> &Vec<Json> {
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "composite answers 200: {}",
        reply.body
    );
    reply.body["compositeResponse"]
        .as_array()
        .expect("compositeResponse")
}

#[tokio::test]
async fn composite_chains_references_and_counts_as_one_call() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let v = "/services/data/v62.0";
    let before = admin.get("/limits").await;
    let reply = admin
        .post(
            "/composite",
            &json!({"compositeRequest": [
                {"method": "POST", "url": format!("{v}/sobjects/Account"), "referenceId": "newAccount",
                 "body": {"Name": "Initech"}},
                {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "newContact",
                 "body": {"LastName": "Lumbergh", "AccountId": "@{newAccount.id}"}},
                {"method": "GET", "url": format!("{v}/query?q=SELECT+Id,Name+FROM+Contact+WHERE+AccountId='@{{newAccount.id}}'"),
                 "referenceId": "contacts"},
                {"method": "PATCH", "url": format!("{v}/sobjects/Contact/@{{contacts.records[0].Id}}"),
                 "referenceId": "rename", "body": {"FirstName": "Bill"}},
                {"method": "GET", "url": format!("{v}/sobjects/Contact/@{{newContact.id}}?fields=Name,AccountId"),
                 "referenceId": "check"},
            ]}),
        )
        .await;
    let after_used = api_used(&reply);
    let answers = subresponses(&reply);
    let statuses: Vec<u64> = answers
        .iter()
        .map(|a| a["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 201, 200, 204, 200], "{}", reply.body);
    let account_id = answers[0]["body"]["id"].as_str().unwrap();
    assert_eq!(
        answers[0]["httpHeaders"]["Location"],
        json!(format!("{v}/sobjects/Account/{account_id}"))
    );
    assert_eq!(answers[2]["body"]["totalSize"], json!(1));
    assert_eq!(answers[3]["body"], Json::Null);
    assert_eq!(
        answers[4]["body"]["Name"],
        json!("Bill Lumbergh"),
        "the PATCH is visible to the next subrequest"
    );
    assert_eq!(answers[4]["body"]["AccountId"], json!(account_id));
    assert_eq!(answers[1]["referenceId"], json!("newContact"));
    // One call for the whole composite (the /limits call before it was one too).
    assert_eq!(after_used, api_used(&before) + 1);
    assert_eq!(
        count(&admin, "SELECT Id FROM Contact WHERE FirstName = 'Bill'").await,
        1
    );
}

#[tokio::test]
async fn composite_all_or_none_rolls_back_and_halts_the_others() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let v = "/services/data/v62.0";
    let body = |all_or_none: bool| {
        json!({"allOrNone": all_or_none, "compositeRequest": [
            {"method": "POST", "url": format!("{v}/sobjects/Account"), "referenceId": "ok1", "body": {"Name": "Rolled"}},
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "bad", "body": {"FirstName": "No last name"}},
            {"method": "POST", "url": format!("{v}/sobjects/Contact"), "referenceId": "dependent",
             "body": {"LastName": "X", "Description": "@{bad.id}"}},
            {"method": "GET", "url": format!("{v}/sobjects/Account/@{{ok1.id}}"), "referenceId": "read"},
        ]})
    };
    let reply = admin.post("/composite", &body(true)).await;
    let answers = subresponses(&reply);
    assert_eq!(answers[1]["httpStatusCode"], json!(400));
    assert_eq!(
        answers[1]["body"][0]["errorCode"],
        json!("REQUIRED_FIELD_MISSING")
    );
    for i in [0, 2, 3] {
        assert_eq!(answers[i]["httpStatusCode"], json!(400), "{}", reply.body);
        assert_eq!(
            answers[i]["body"][0]["errorCode"],
            json!("PROCESSING_HALTED")
        );
        assert_eq!(
            answers[i]["body"][0]["message"],
            json!(
                "The transaction was rolled back since another operation in the same transaction failed."
            )
        );
    }
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name = 'Rolled'").await,
        0,
        "rolled back"
    );

    // Without allOrNone what succeeded stays; a reference to the failed one cannot resolve.
    let reply = admin.post("/composite", &body(false)).await;
    let answers = subresponses(&reply);
    let statuses: Vec<u64> = answers
        .iter()
        .map(|a| a["httpStatusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 400, 400, 200], "{}", reply.body);
    assert_eq!(
        answers[2]["body"][0]["errorCode"],
        json!("PROCESSING_HALTED")
    );
    assert!(
        answers[2]["body"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bad.id")
    );
    assert_eq!(answers[3]["body"]["Name"], json!("Rolled"));
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name = 'Rolled'").await,
        1
    );
}

#[tokio::test]
async fn composite_matches_the_recordings_and_refuses_bad_requests() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let reply = admin
        .post(
            "/composite",
            &json!({"compositeRequest": [{"referenceId": "CCI__RefId__0__", "method": "GET", "url": "/services/data/v62.0/sobjects/Foo"}]}),
        )
        .await;
    assert_shape(
        &reply.body,
        &fixture("cumulusci/composite-subrequest-not-found.json"),
    );
    assert_eq!(
        reply.body["compositeResponse"][0]["httpStatusCode"],
        json!(404)
    );

    let reply = admin
        .post(
            "/composite",
            &json!({"compositeRequest": [
                {"referenceId": "refAccount", "method": "GET", "url": "/services/data/v62.0/query/?q=select count() from Account"},
                {"referenceId": "refXYZZY", "method": "GET", "url": "/services/data/v62.0/query/?q=select count() from XYZZY"},
            ]}),
        )
        .await;
    assert_shape(
        &reply.body,
        &fixture("cumulusci/composite-count-invalid-type.json"),
    );
    let answers = subresponses(&reply);
    assert_eq!(answers[0]["body"]["totalSize"], json!(1));
    assert_eq!(answers[1]["body"][0]["errorCode"], json!("INVALID_TYPE"));

    let too_many: Vec<Json> = (0..26)
        .map(|i| json!({"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": format!("r{i}")}))
        .collect();
    let reply = admin
        .post("/composite", &json!({"compositeRequest": too_many}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body[0]["message"].as_str().unwrap().contains("25"));

    let reply = admin
        .post(
            "/composite",
            &json!({"compositeRequest": [
                {"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": "same"},
                {"method": "GET", "url": "/services/data/v62.0/limits", "referenceId": "same"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);

    let reply = admin.post("/composite", &json!({"nothing": []})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = admin.get("/composite").await;
    assert_eq!(
        reply.body["sobjects"],
        json!("/services/data/v62.0/composite/sobjects")
    );
    let reply = admin.patch("/composite", &json!({})).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn composite_writes_keep_sharing_and_field_level_security() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let rep1 = as_user(&handle, &admin, "rep1@acme.test").await;
    let support = as_user(&handle, &admin, "support@acme.test").await;
    let deal = admin
        .first_id("SELECT Id FROM Opportunity WHERE Name = 'Rep2 deal'")
        .await;
    let reply = rep1
        .post(
            "/composite",
            &json!({"compositeRequest": [
                {"method": "PATCH", "url": format!("/services/data/v62.0/sobjects/Opportunity/{deal}"),
                 "referenceId": "steal", "body": {"Name": "Mine now"}},
            ]}),
        )
        .await;
    assert_eq!(
        subresponses(&reply)[0]["httpStatusCode"],
        json!(404),
        "a peer's private record is not found"
    );

    let reply = support
        .post(
            "/composite/sobjects",
            &json!({"records": [{"attributes": {"type": "Account"}, "Name": "Hidden", "AnnualRevenue": 5}]}),
        )
        .await;
    assert_eq!(reply.body[0]["success"], json!(false));
    assert_eq!(
        reply.body[0]["errors"][0]["statusCode"],
        json!("INVALID_FIELD")
    );
    assert_eq!(
        count(&admin, "SELECT Id FROM Opportunity WHERE Name = 'Mine now'").await,
        0
    );
}

#[tokio::test]
async fn batch_runs_independently_and_halts_on_request() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let requests = json!([
        {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Batch one"}},
        {"method": "GET", "url": "v62.0/sobjects/Account/001000000000000AAA"},
        {"method": "POST", "url": "v62.0/sobjects/Account", "richInput": {"Name": "Batch two"}},
    ]);
    let reply = admin
        .post("/composite/batch", &json!({"batchRequests": requests}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["hasErrors"], json!(true));
    let codes: Vec<u64> = reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, vec![201, 404, 201]);
    assert_eq!(
        reply.body["results"][1]["result"][0]["errorCode"],
        json!("NOT_FOUND")
    );
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name LIKE 'Batch%'").await,
        2
    );

    let reply = admin
        .post(
            "/composite/batch",
            &json!({"haltOnError": true, "batchRequests": requests}),
        )
        .await;
    let results = reply.body["results"].as_array().unwrap();
    assert_eq!(
        results[0]["statusCode"],
        json!(201),
        "no rollback in a batch"
    );
    assert_eq!(results[2]["statusCode"], json!(412));
    assert_eq!(
        results[2]["result"][0]["errorCode"],
        json!("BATCH_PROCESSING_HALTED")
    );
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name LIKE 'Batch%'").await,
        3
    );

    let too_many: Vec<Json> = (0..26)
        .map(|_| json!({"method": "GET", "url": "v62.0/limits"}))
        .collect();
    let reply = admin
        .post("/composite/batch", &json!({"batchRequests": too_many}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn collections_create_update_retrieve_and_delete() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let acme = admin
        .first_id("SELECT Id FROM Account WHERE Name = 'Acme'")
        .await;
    let reply = admin
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "LastName": "One", "AccountId": acme},
                {"attributes": {"type": "Contact"}, "LastName": "Two"},
                {"attributes": {"type": "Account"}, "Name": "Third"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_shape(
        &reply.body,
        &fixture("cumulusci/composite-sobjects-create.json"),
    );
    let ids: Vec<String> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids[0].starts_with("003") && ids[2].starts_with("001"));

    let reply = admin
        .patch(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "Id": ids[0], "FirstName": "Uno"},
                {"attributes": {"type": "Contact"}, "FirstName": "No id"},
            ]}),
        )
        .await;
    assert_eq!(
        reply.body[0],
        json!({"id": ids[0], "success": true, "errors": []})
    );
    assert_shape(
        &reply.body[0],
        &fixture("cumulusci/composite-sobjects-update.json")[0],
    );
    assert_eq!(
        reply.body[1]["errors"][0]["statusCode"],
        json!("MISSING_ARGUMENT")
    );

    let reply = admin
        .get(&format!(
            "/composite/sobjects/Contact?ids={},{},003000000000000AAA&fields=Id,Name",
            ids[0], ids[1]
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body[0]["Name"], json!("Uno One"));
    assert_eq!(reply.body[1]["Name"], json!("Two"));
    assert_eq!(reply.body[2], Json::Null);
    assert_eq!(reply.body[0]["attributes"]["type"], json!("Contact"));

    let reply = admin
        .send(
            admin
                .http
                .delete(admin.data_url(&format!("/composite/sobjects?ids={},{}", ids[1], ids[2]))),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body[0],
        json!({"id": ids[1], "success": true, "errors": []})
    );
    assert_eq!(count(&admin, "SELECT Id FROM Contact").await, 1);
    let reply = admin
        .send(
            admin
                .http
                .delete(admin.data_url(&format!("/composite/sobjects?ids={}", ids[1]))),
        )
        .await;
    assert_eq!(reply.body[0]["success"], json!(false));
    assert_eq!(
        reply.body[0]["errors"][0]["statusCode"],
        json!("ENTITY_IS_DELETED")
    );
}

#[tokio::test]
async fn collections_all_or_none_rolls_back_and_caps_at_200() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let reply = admin
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Account"}, "Name": "Kept?"},
                {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
                {"Name": "No type"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let results = reply.body.as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]})
    );
    assert_eq!(
        results[1]["errors"][0],
        json!({"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]", "fields": ["LastName"]})
    );
    assert_eq!(results[2]["success"], json!(false));
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name = 'Kept?'").await,
        0
    );

    let records: Vec<Json> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("A{i}")}))
        .collect();
    let reply = admin
        .post("/composite/sobjects", &json!({"records": records}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body[0]["errorCode"], json!("EXCEEDED_ID_LIMIT"));
    let records: Vec<Json> = (0..200)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("Bulk{i}")}))
        .collect();
    let reply = admin
        .post("/composite/sobjects", &json!({"records": records}))
        .await;
    assert_eq!(reply.body.as_array().unwrap().len(), 200);
    assert_eq!(
        count(&admin, "SELECT Id FROM Account WHERE Name LIKE 'Bulk%'").await,
        200
    );
}

#[tokio::test]
async fn upsert_by_external_id_creates_updates_and_reports_several_matches() {
    let handle = start_seed(seed()).await;
    let admin = Client::for_org(&handle, 0);
    let reply = admin
        .patch(
            "/sobjects/Part__c/Sku__c/W-9",
            &json!({"Name": "Washer", "Stock__c": 3}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["created"], json!(true));
    assert_eq!(reply.body["success"], json!(true));
    let washer = reply.body["id"].as_str().unwrap().to_string();

    // Case-insensitive match; v46+ answers an update with 200 and created=false.
    let reply = admin
        .patch("/sobjects/Part__c/Sku__c/w-9", &json!({"Stock__c": 4}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"id": washer, "success": true, "errors": [], "created": false})
    );
    let reply = admin.get("/sobjects/Part__c/Sku__c/W-9").await;
    assert_eq!(reply.body["Stock__c"], json!(4));
    assert_eq!(reply.body["Id"], json!(washer));

    let mut old = Client::for_org(&handle, 0);
    old.version = "45.0".into();
    let reply = old
        .patch("/sobjects/Part__c/Sku__c/W-9", &json!({"Stock__c": 5}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    let reply = admin
        .patch("/sobjects/Part__c/Sku__c/N-1", &json!({"Stock__c": 1}))
        .await;
    assert_eq!(reply.status, StatusCode::MULTIPLE_CHOICES);
    let urls = reply.body.as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(
        urls[0]
            .as_str()
            .unwrap()
            .starts_with("/services/data/v62.0/sobjects/Part__c/")
    );

    let reply = admin
        .patch("/sobjects/Part__c/Color__c/red", &json!({"Stock__c": 1}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body[0]["message"],
        json!("Provided external ID field does not exist or is not accessible: Color__c")
    );

    // Validation applies to upserts as to any write.
    let reply = admin
        .patch("/sobjects/Part__c/Sku__c/Z-1", &json!({"Stock__c": "many"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body[0]["errorCode"], json!("JSON_PARSER_ERROR"));

    let reply = admin
        .patch(
            "/composite/sobjects/Part__c/Sku__c",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Part__c"}, "Sku__c": "B-1", "Stock__c": 11},
                {"attributes": {"type": "Part__c"}, "Sku__c": "S-7", "Name": "Screw"},
                {"attributes": {"type": "Part__c"}, "Sku__c": "N-1", "Stock__c": 2},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_shape(
        &reply.body[1],
        &fixture("cumulusci/composite-sobjects-upsert.json")[0],
    );
    assert_eq!(reply.body[0]["created"], json!(false));
    assert_eq!(reply.body[1]["created"], json!(true));
    assert_eq!(
        reply.body[2]["errors"][0]["statusCode"],
        json!("DUPLICATE_EXTERNAL_ID")
    );
    // As a real org words it: the field's label, then the ids (a third-party capture:
    // "Case SKU Number (US): more than one record found for external id field: [01tj…, 01tj…]").
    let message = reply.body[2]["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("Sku: more than one record found for external id field: [a0"),
        "{message}"
    );
    assert_eq!(
        count(&admin, "SELECT Id FROM Part__c WHERE Stock__c = 11").await,
        1
    );
}
