//! Running as the user: field-level security, org-wide defaults with ownership and the role
//! hierarchy, View/Modify All Data, API access, and write validation with Salesforce's codes.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{Client, start_seed, token_for};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

/// An org with a CEO above a manager above two peer reps, Opportunities private, and a
/// support profile that cannot see `Account.AnnualRevenue`.
fn sharing_seed() -> Json {
    json!({
        "org": {"sharing": {"Opportunity": "Private", "Account": "Read"}},
        "profiles": [
            {"name": "Sales", "permissions": ["ApiEnabled"]},
            {"name": "Support", "permissions": ["ApiEnabled"], "hidden_fields": ["Account.AnnualRevenue"]},
            {"name": "No API", "permissions": []},
        ],
        "roles": [
            {"name": "CEO"},
            {"name": "Manager", "parent": "CEO"},
            {"name": "Rep", "parent": "Manager"},
        ],
        "permission_sets": [{"name": "SeeAll", "permissions": ["ViewAllData"]}],
        "users": [
            {"username": "admin@acme.test", "profile": "System Administrator", "default": true},
            {"username": "ceo@acme.test", "profile": "Sales", "role": "CEO"},
            {"username": "manager@acme.test", "profile": "Sales", "role": "Manager"},
            {"username": "rep1@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "rep2@acme.test", "profile": "Sales", "role": "Rep"},
            {"username": "auditor@acme.test", "profile": "Sales", "permission_sets": ["SeeAll"]},
            {"username": "support@acme.test", "profile": "Support"},
            {"username": "robot@acme.test", "profile": "No API"},
        ],
        "records": {
            "Account": [
                {"_ref": "acme", "Name": "Acme", "AnnualRevenue": 5000000, "OwnerId": "@rep1@acme.test"},
            ],
            "Opportunity": [
                {"Name": "Rep1 deal", "StageName": "Prospecting", "CloseDate": "2026-12-01", "AccountId": "@acme", "OwnerId": "@rep1@acme.test"},
                {"Name": "Rep2 deal", "StageName": "Closed Won", "CloseDate": "2026-01-01", "AccountId": "@acme", "OwnerId": "@rep2@acme.test"},
                {"Name": "Manager deal", "StageName": "Qualification", "CloseDate": "2026-12-01", "OwnerId": "@manager@acme.test"},
            ],
        }
    })
}

async fn user_id(admin: &Client, username: &str) -> String {
    admin
        .first_id(&format!(
            "SELECT Id FROM User WHERE Username = '{username}'"
        ))
        .await
}

async fn as_user(
    handle: &sfmcp_emulator::EmulatorHandle,
    admin: &Client,
    username: &str,
) -> Client {
    let id = user_id(admin, username).await;
    Client::new(handle, &token_for(handle, 0, &id))
}

async fn visible_deals(client: &Client) -> Vec<String> {
    let reply = client
        .query("SELECT Name FROM Opportunity ORDER BY Name")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["Name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn private_records_follow_ownership_and_the_role_hierarchy() {
    let handle = start_seed(sharing_seed()).await;
    let admin = Client::for_org(&handle, 0);
    let all = vec!["Manager deal", "Rep1 deal", "Rep2 deal"];
    assert_eq!(
        visible_deals(&admin).await,
        all,
        "Modify All Data sees everything"
    );
    let rep1 = as_user(&handle, &admin, "rep1@acme.test").await;
    assert_eq!(
        visible_deals(&rep1).await,
        vec!["Rep1 deal"],
        "a rep sees only their own, not a peer's"
    );
    let manager = as_user(&handle, &admin, "manager@acme.test").await;
    assert_eq!(
        visible_deals(&manager).await,
        all,
        "a manager sees their own and their reps'"
    );
    let ceo = as_user(&handle, &admin, "ceo@acme.test").await;
    assert_eq!(
        visible_deals(&ceo).await,
        all,
        "the hierarchy is transitive"
    );
    let auditor = as_user(&handle, &admin, "auditor@acme.test").await;
    assert_eq!(
        visible_deals(&auditor).await,
        all,
        "View All Data from a permission set"
    );

    // Counting and child subqueries see only visible rows too.
    let reply = rep1.query("SELECT COUNT() FROM Opportunity").await;
    assert_eq!(reply.body["totalSize"], json!(1));
    let reply = rep1
        .query("SELECT Name, (SELECT Name FROM Opportunities) FROM Account")
        .await;
    assert_eq!(
        reply.body["records"][0]["Opportunities"]["totalSize"],
        json!(1)
    );

    // A record one cannot see is not found, even by id.
    let rep2_deal = admin
        .first_id("SELECT Id FROM Opportunity WHERE Name = 'Rep2 deal'")
        .await;
    let reply = rep1
        .get(&format!("/sobjects/Opportunity/{rep2_deal}"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn writes_need_edit_access() {
    let handle = start_seed(sharing_seed()).await;
    let admin = Client::for_org(&handle, 0);
    let rep2 = as_user(&handle, &admin, "rep2@acme.test").await;
    let account = admin.first_id("SELECT Id FROM Account").await;
    // Accounts are Read: everyone sees rep1's account, only rep1 and those above edit it.
    assert_eq!(
        rep2.get(&format!("/sobjects/Account/{account}"))
            .await
            .status,
        StatusCode::OK
    );
    let reply = rep2
        .patch(
            &format!("/sobjects/Account/{account}"),
            &json!({"Name": "Mine now"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!([{"message": "insufficient access rights on object id", "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY"}])
    );
    let manager = as_user(&handle, &admin, "manager@acme.test").await;
    let reply = manager
        .patch(
            &format!("/sobjects/Account/{account}"),
            &json!({"Name": "Renamed"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = admin
        .get(&format!(
            "/sobjects/Account/{account}?fields=Name,LastModifiedById"
        ))
        .await;
    assert_eq!(reply.body["Name"], json!("Renamed"));
    assert_eq!(
        reply.body["LastModifiedById"],
        json!(user_id(&admin, "manager@acme.test").await)
    );

    // Setup objects need Manage Users or Modify All Data.
    let reply = rep2
        .post("/sobjects/PermissionSetAssignment", &json!({"AssigneeId": user_id(&admin, "rep2@acme.test").await, "PermissionSetId": admin.first_id("SELECT Id FROM PermissionSet").await}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body[0]["errorCode"],
        json!("INSUFFICIENT_ACCESS_OR_READONLY")
    );
    // Read-only objects refuse writes whoever asks.
    let reply = admin
        .post("/sobjects/SetupAuditTrail", &json!({"Action": "x"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn field_level_security_hides_fields_everywhere() {
    let handle = start_seed(sharing_seed()).await;
    let admin = Client::for_org(&handle, 0);
    let support = as_user(&handle, &admin, "support@acme.test").await;

    let reply = support.query("SELECT Id, AnnualRevenue FROM Account").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_FIELD"));
    let message = reply.body[0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("No such column 'AnnualRevenue' on entity 'Account'"),
        "{message}"
    );
    assert!(message.contains("ERROR at Row:1:Column:12"), "{message}");

    let describe = support.get("/sobjects/Account/describe").await;
    let names: Vec<&str> = describe.body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(!names.contains(&"AnnualRevenue") && names.contains(&"Name"));

    let account = admin.first_id("SELECT Id FROM Account").await;
    let record = support.get(&format!("/sobjects/Account/{account}")).await;
    assert!(record.body.get("AnnualRevenue").is_none() && record.body.get("Name").is_some());
    let reply = support
        .get(&format!("/sobjects/Account/{account}?fields=AnnualRevenue"))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body[0]["errorCode"], json!("INVALID_FIELD"));

    let reply = support
        .post(
            "/sobjects/Account",
            &json!({"Name": "X", "AnnualRevenue": 1}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body[0]["message"],
        json!("No such column 'AnnualRevenue' on sobject of type Account")
    );

    // FIELDS(ALL) expands to what the profile sees.
    let reply = support
        .query("SELECT FIELDS(ALL) FROM Account LIMIT 1")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body["records"][0].get("AnnualRevenue").is_none());
    let reply = admin.query("SELECT FIELDS(ALL) FROM Account LIMIT 1").await;
    assert_eq!(reply.body["records"][0]["AnnualRevenue"], json!(5000000.0));
}

#[tokio::test]
async fn users_without_api_access_are_refused() {
    let handle = start_seed(sharing_seed()).await;
    let admin = Client::for_org(&handle, 0);
    let robot = as_user(&handle, &admin, "robot@acme.test").await;
    let reply = robot.get("/sobjects").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.body,
        json!([{"message": "API is disabled for this User", "errorCode": "API_CURRENTLY_DISABLED"}])
    );
}

#[tokio::test]
async fn write_validation_uses_salesforce_codes() {
    let handle = start_seed(json!({
        "objects": [{"name": "Invoice__c", "fields": [
            {"name": "Status__c", "type": "picklist", "values": ["Draft", "Sent"], "restricted": true},
            {"name": "Account__c", "type": "reference", "reference_to": ["Account"], "required": true},
            {"name": "Total__c", "type": "currency"},
            {"name": "Due__c", "type": "date"},
        ]}],
        "records": {"Account": [{"_ref": "a", "Name": "A"}], "Contact": [{"LastName": "C"}]},
    }))
    .await;
    let client = Client::for_org(&handle, 0);
    let account = client.first_id("SELECT Id FROM Account").await;
    let contact = client.first_id("SELECT Id FROM Contact").await;
    let cases: Vec<(Json, &str, Option<Json>)> = vec![
        (
            json!({"Name": "x"}),
            "REQUIRED_FIELD_MISSING",
            Some(json!(["Account__c"])),
        ),
        (
            json!({"Account__c": account, "Nope__c": 1}),
            "INVALID_FIELD",
            None,
        ),
        (
            json!({"Account__c": account, "CreatedDate": "2020-01-01T00:00:00Z"}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            Some(json!(["CreatedDate"])),
        ),
        (
            json!({"Account__c": account, "Status__c": "Paid"}),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            Some(json!(["Status__c"])),
        ),
        (
            json!({"Account__c": account, "Name": "x".repeat(81)}),
            "STRING_TOO_LONG",
            Some(json!(["Name"])),
        ),
        (
            json!({"Account__c": "not-an-id"}),
            "MALFORMED_ID",
            Some(json!(["Account__c"])),
        ),
        (
            json!({"Account__c": contact}),
            "FIELD_INTEGRITY_EXCEPTION",
            Some(json!(["Account__c"])),
        ),
        (
            json!({"Account__c": "001000000000000AAA"}),
            "INVALID_CROSS_REFERENCE_KEY",
            Some(json!(["Account__c"])),
        ),
        (
            json!({"Account__c": account, "Total__c": "lots"}),
            "JSON_PARSER_ERROR",
            None,
        ),
        (
            json!({"Account__c": account, "Due__c": "2024-13-45"}),
            "JSON_PARSER_ERROR",
            None,
        ),
    ];
    for (body, code, fields) in cases {
        let reply = client.post("/sobjects/Invoice__c", &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert_eq!(
            reply.body[0]["errorCode"],
            json!(code),
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.body[0].get("fields").cloned(), fields, "{body}");
    }
    let reply = client
        .post(
            "/sobjects/Invoice__c",
            &json!({"Account__c": account, "Status__c": "Draft", "Total__c": "12.50"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().expect("id").to_string();
    let record = client.get(&format!("/sobjects/Invoice__c/{id}")).await;
    assert_eq!(record.body["Total__c"], json!(12.5));
    assert_eq!(record.body["OwnerId"], json!(handle.orgs[0].user_id));
    assert_eq!(record.body["CreatedById"], json!(handle.orgs[0].user_id));
    assert_eq!(record.body["IsDeleted"], json!(false));
    assert!(
        record.body["CreatedDate"]
            .as_str()
            .is_some_and(|d| d.ends_with(".000+0000") || d.len() == 28),
        "{}",
        record.body["CreatedDate"]
    );

    // Updates: blanking a required field, a bad id, and the id in the body tolerated.
    let reply = client
        .patch(
            &format!("/sobjects/Invoice__c/{id}"),
            &json!({"Account__c": null}),
        )
        .await;
    assert_eq!(reply.body[0]["errorCode"], json!("REQUIRED_FIELD_MISSING"));
    let reply = client
        .patch(
            &format!("/sobjects/Invoice__c/{id}"),
            &json!({"Id": id, "Status__c": "Sent"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let reply = client
        .patch(
            "/sobjects/Invoice__c/a00000000000000AAA",
            &json!({"Status__c": "Sent"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = client
        .send(
            client
                .http
                .patch(client.data_url(&format!("/sobjects/Invoice__c/{id}")))
                .header("Content-Type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(reply.body[0]["errorCode"], json!("JSON_PARSER_ERROR"));
}

#[tokio::test]
async fn derived_fields_are_maintained() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post(
            "/sobjects/Contact",
            &json!({"FirstName": "Ada", "LastName": "Lovelace"}),
        )
        .await;
    let id = reply.body["id"].as_str().expect("id").to_string();
    let record = client
        .get(&format!("/sobjects/Contact/{id}?fields=Name"))
        .await;
    assert_eq!(record.body["Name"], json!("Ada Lovelace"));
    client
        .patch(
            &format!("/sobjects/Contact/{id}"),
            &json!({"FirstName": "Augusta"}),
        )
        .await;
    let record = client
        .get(&format!("/sobjects/Contact/{id}?fields=Name"))
        .await;
    assert_eq!(record.body["Name"], json!("Augusta Lovelace"));

    let reply = client.post("/sobjects/Opportunity", &json!({"Name": "D", "StageName": "Closed Won", "CloseDate": "2026-01-01", "Amount": 1000})).await;
    let id = reply.body["id"].as_str().expect("id").to_string();
    let record = client.get(&format!("/sobjects/Opportunity/{id}?fields=IsClosed,IsWon,Probability,ForecastCategoryName,ExpectedRevenue")).await;
    assert_eq!(record.body["IsClosed"], json!(true));
    assert_eq!(record.body["IsWon"], json!(true));
    assert_eq!(record.body["Probability"], json!(100.0));
    assert_eq!(record.body["ForecastCategoryName"], json!("Closed"));
    assert_eq!(record.body["ExpectedRevenue"], json!(1000.0));
}

/// Salesforce enables View All Data with Modify All Data and refuses an API write that would
/// leave Modify All Data without it (FIELD_INTEGRITY_EXCEPTION); a seed, written as an admin
/// edits Setup, gets the dependency enabled.
#[tokio::test]
async fn modify_all_data_needs_view_all_data() {
    let handle = start_seed(json!({
        "permission_sets": [{"name": "Everything", "permissions": ["ModifyAllData"]}],
        "users": [{"username": "admin@acme.test", "profile": "System Administrator", "default": true}],
    }))
    .await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .query("SELECT PermissionsModifyAllData, PermissionsViewAllData FROM PermissionSet WHERE Name = 'Everything'")
        .await;
    assert_eq!(
        reply.body["records"][0]["PermissionsModifyAllData"],
        json!(true)
    );
    assert_eq!(
        reply.body["records"][0]["PermissionsViewAllData"],
        json!(true)
    );

    let refused = json!([{
        "message": "Permission Modify All Data depends on permission(s): View All Data",
        "errorCode": "FIELD_INTEGRITY_EXCEPTION",
    }]);
    let reply = client
        .post(
            "/sobjects/PermissionSet",
            &json!({"Name": "Sneaky", "Label": "Sneaky", "PermissionsModifyAllData": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body, refused);

    let reply = client
        .post(
            "/sobjects/PermissionSet",
            &json!({"Name": "Both", "Label": "Both", "PermissionsModifyAllData": true, "PermissionsViewAllData": true}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    // Turning View All Data off under Modify All Data is the same state.
    let reply = client
        .patch(
            &format!("/sobjects/PermissionSet/{id}"),
            &json!({"PermissionsViewAllData": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.body, refused);
    let reply = client
        .patch(
            &format!("/sobjects/PermissionSet/{id}"),
            &json!({"PermissionsViewAllData": false, "PermissionsModifyAllData": false}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
}

/// Ids written in their 15-character form are stored and answered in the 18-character one,
/// as Salesforce does, so lookups and child relationships find them.
#[tokio::test]
async fn references_are_stored_as_eighteen_character_ids() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post("/sobjects/Account", &json!({"Name": "Parent"}))
        .await;
    let account = reply.body["id"].as_str().unwrap().to_string();
    let reply = client
        .post(
            "/sobjects/Contact",
            &json!({"LastName": "Child", "AccountId": &account[..15]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let contact = reply.body["id"].as_str().unwrap().to_string();
    let record = client
        .get(&format!("/sobjects/Contact/{contact}?fields=AccountId"))
        .await;
    assert_eq!(record.body["AccountId"], json!(account));
    let reply = client
        .query(&format!(
            "SELECT (SELECT LastName FROM Contacts) FROM Account WHERE Id = '{account}'"
        ))
        .await;
    assert_eq!(
        reply.body["records"][0]["Contacts"]["records"][0]["LastName"],
        json!("Child")
    );
}
