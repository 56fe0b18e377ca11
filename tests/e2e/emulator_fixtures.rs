//! Each recording in ../shared/fixtures that names a request the emulator serves: the same
//! request against a seed built from the recording's records answers with the same shape
//! (key sets, JSON types, nesting, null versus absent). tests/README.md lists the recordings
//! not matched here, and why.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{
    Client, assert_shape, fixture, records_from_recording, start_demo, start_seed,
};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

async fn query_against_recording(
    recording: &str,
    soql: &str,
    child_fields: &[(&str, &str)],
    objects: Json,
) {
    let recorded = fixture(recording);
    let records = recorded["records"].as_array().cloned().unwrap_or_default();
    let seed = json!({
        "objects": objects,
        "records": records_from_recording(&records, child_fields),
    });
    let handle = start_seed(seed).await;
    let client = Client::for_org(&handle, 0);
    let reply = client.query(soql).await;
    assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
    assert_shape(&reply.body, &recorded);
    assert_eq!(reply.body["totalSize"], recorded["totalSize"], "{soql}");
}

#[tokio::test]
async fn simple_contact_query() {
    query_against_recording(
        "cumulusci/query-simple-contact.json",
        "select FirstName from Contact",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn child_subquery_is_null_when_empty_and_a_result_otherwise() {
    query_against_recording(
        "cumulusci/query-child-subquery.json",
        "select FirstName,(select Name from Opportunities) from Contact",
        &[("Opportunities", "ContactId")],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn many_typed_account_fields() {
    query_against_recording(
        "cumulusci/query-account-many-fields.json",
        "SELECT Id, AccountNumber, AccountSource, AnnualRevenue, BillingCity, BillingCountry, BillingGeocodeAccuracy, BillingLatitude, BillingLongitude, BillingPostalCode, BillingState, BillingStreet, CleanStatus, Description, DunsNumber, Fax, Industry, Jigsaw, NaicsCode, NaicsDesc, Name, NumberOfEmployees, Ownership, Phone, Rating, RecordTypeId, ShippingCity, ShippingCountry, ShippingGeocodeAccuracy, ShippingLatitude, ShippingLongitude, ShippingPostalCode, ShippingState, ShippingStreet, Sic, SicDesc, Site, TickerSymbol, Tradestyle, Type, Website, YearStarted, ParentId FROM Account WHERE Name != 'Sample Account for Entitlements'",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn typeof_on_polymorphic_event_lookups() {
    query_against_recording(
        "cumulusci/query-typeof-event.json",
        "SELECT Id, TYPEOF Who WHEN Contact THEN LastName, Email WHEN Lead THEN LastName, Company ELSE Id END, TYPEOF What WHEN Account THEN Name, Description, Phone, AccountNumber ELSE Id END, Subject, DurationInMinutes, ActivityDateTime FROM Event",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn record_types_by_sobject_type() {
    let recorded = fixture("cumulusci/query-recordtype.json");
    let seed = json!({"records": {"RecordType": [
        {"Name": "Pytest", "DeveloperName": "PytestAccountRecordType", "SobjectType": "Account"},
        {"Name": "Other", "DeveloperName": "ContactType", "SobjectType": "Contact"},
    ]}});
    let handle = start_seed(seed).await;
    let reply = Client::for_org(&handle, 0)
        .query("SELECT Id, DeveloperName FROM RecordType WHERE SObjectType='Account'")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_shape(&reply.body, &recorded);
    assert_eq!(
        reply.body["records"][0]["DeveloperName"],
        json!("PytestAccountRecordType")
    );
}

#[tokio::test]
async fn empty_result() {
    query_against_recording(
        "cumulusci/query-empty.json",
        "SELECT Id, Amount, CloseDate, Description, ForecastCategoryName, IsPrivate, LeadSource, Name, NextStep, Probability, StageName, TotalOpportunityQuantity, Type, AccountId, ContactId FROM Opportunity",
        &[],
        json!([]),
    )
    .await;
    query_against_recording(
        "restforce/query-empty.json",
        "SELECT Id FROM Account",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn limit_five() {
    query_against_recording(
        "cumulusci/query-v62-account-limit5.json",
        "SELECT Id FROM Account LIMIT 5",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn three_level_parent_paths() {
    query_against_recording(
        "soqe/query-nested-parents-v48.json",
        "SELECT Id, Name, Account.Name, Account.CreatedBy.Name, Account.CreatedBy.CreatedBy.Name FROM Contact",
        &[],
        json!([]),
    )
    .await;
}

#[tokio::test]
async fn aggregate_count_has_no_url() {
    let recorded = fixture("cumulusci/query-aggregate-count-id.json");
    let accounts: Vec<Json> = (0..6).map(|i| json!({"Name": format!("A{i}")})).collect();
    let handle = start_seed(json!({"records": {"Account": accounts}})).await;
    let reply = Client::for_org(&handle, 0)
        .query("select count(Id) from Account")
        .await;
    assert_shape(&reply.body, &recorded);
    assert_eq!(reply.body["records"][0]["expr0"], json!(6));
}

#[tokio::test]
async fn parent_and_child_in_one_query_on_a_custom_object() {
    // The recording is a v20 custom object (`Whizbang`, fields without __c); the same query
    // on an equivalent modern custom object must have the same nesting and value types.
    let handle = start_seed(json!({
        "objects": [{"name": "Whizbang__c", "fields": [
            {"name": "Checkbox_Label__c", "type": "boolean"},
            {"name": "Text_Label__c", "type": "string"},
            {"name": "Date_Label__c", "type": "date"},
            {"name": "DateTime_Label__c", "type": "datetime"},
            {"name": "Picklist_Multiselect_Label__c", "type": "multipicklist", "values": ["four", "six"]},
            {"name": "ParentWhizbang__c", "type": "reference", "reference_to": ["Whizbang__c"], "relationship_name": "ParentWhizbang__r"}
        ]}],
        "records": {"Whizbang__c": [
            {"_ref": "parent", "Name": "Parent Whizbang", "Text_Label__c": "Hello"},
            {"Name": "Me", "Checkbox_Label__c": false, "Text_Label__c": "Hi there!", "Date_Label__c": "2010-01-01",
             "DateTime_Label__c": "2011-07-07T00:37:00.000+0000", "Picklist_Multiselect_Label__c": "four;six",
             "ParentWhizbang__c": "@parent"},
        ]}
    }))
    .await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .query("SELECT Checkbox_Label__c, Text_Label__c, Date_Label__c, DateTime_Label__c, Picklist_Multiselect_Label__c, ParentWhizbang__r.Name, ParentWhizbang__r.Text_Label__c, (SELECT Name FROM Whizbangs__r) FROM Whizbang__c WHERE Name = 'Parent Whizbang'")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let record = &reply.body["records"][0];
    assert_eq!(
        record["ParentWhizbang__r"],
        Json::Null,
        "the parent has no parent"
    );
    assert_eq!(record["Whizbangs__r"]["records"][0]["Name"], json!("Me"));
    let reply = client
        .query("SELECT Checkbox_Label__c, Text_Label__c, Date_Label__c, DateTime_Label__c, Picklist_Multiselect_Label__c, ParentWhizbang__r.Name, ParentWhizbang__r.Text_Label__c FROM Whizbang__c WHERE Name = 'Me'")
        .await;
    let recorded = fixture("restforce/query-parent-and-child.json");
    let rename = |v: &Json| -> Json {
        let text = v.to_string().replace("_Label\"", "_Label__c\"");
        serde_json::from_str(&text).expect("json")
    };
    let mut expected = rename(&recorded);
    // Only the child rows differ in object name between the two API versions recorded.
    if let Some(record) = expected["records"][0].as_object_mut() {
        record.remove("Whizbangs__r");
    }
    assert_shape(&reply.body, &expected);
    assert_eq!(
        reply.body["records"][0]["Picklist_Multiselect_Label__c"],
        json!("four;six")
    );
    assert_eq!(
        reply.body["records"][0]["DateTime_Label__c"],
        json!("2011-07-07T00:37:00.000+0000")
    );
}

#[tokio::test]
async fn versions_list_needs_no_token() {
    let handle = start_demo().await;
    let reply = reqwest::get(format!("{}/services/data/", handle.base_url))
        .await
        .expect("get");
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(reply.headers().get("Sforce-Limit-Info").is_none());
    let body: Json = reply.json().await.expect("json");
    assert_shape(&body, &fixture("restforce/versions.json"));
    let last = body
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last,
        json!({"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"})
    );
}

#[tokio::test]
async fn describe_global_matches_the_recorded_keys() {
    let handle = start_demo().await;
    let reply = Client::for_org(&handle, 0).get("/sobjects").await;
    assert_eq!(reply.status, StatusCode::OK);
    let recorded = fixture("cumulusci/describe-global.json");
    let mut expected = recorded.clone();
    // Compare one entry's shape with one recorded entry (Account is first in both).
    expected["sobjects"] = json!([recorded["sobjects"][0]]);
    let mut actual = reply.body.clone();
    actual["sobjects"] = json!([reply.body["sobjects"][0]]);
    assert_shape(&actual, &expected);
    assert_eq!(
        actual["sobjects"][0]["urls"]["sobject"],
        json!("/services/data/v62.0/sobjects/Account")
    );
}

async fn describe_matches(object: &str, recording: &str, version: &str) {
    // The Account recording's org had an Account record type (and so `defaultValues`).
    let handle = start_seed(json!({
        "objects": [{"name": "Custom__c", "fields": [{"name": "CustomField__c", "type": "string", "length": 80}]}],
        "records": {"RecordType": [{"Name": "Household", "DeveloperName": "Household", "SobjectType": "Account"}]},
    }))
    .await;
    let mut client = Client::for_org(&handle, 0);
    client.version = version.to_string();
    let reply = client.get(&format!("/sobjects/{object}/describe")).await;
    assert_eq!(reply.status, StatusCode::OK, "{object}");
    let recorded = fixture(recording);
    let keys = |v: &Json| -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut expected_top = keys(&recorded);
    let mut actual_top = keys(&reply.body);
    expected_top.sort();
    actual_top.sort();
    assert_eq!(actual_top, expected_top, "{object}: top-level keys");
    // Every field entry has exactly the recorded field key set.
    let field_keys = keys(&recorded["fields"][0]);
    for field in reply.body["fields"].as_array().into_iter().flatten() {
        let mut actual = keys(field);
        let mut expected = field_keys.clone();
        actual.sort();
        expected.sort();
        assert_eq!(actual, expected, "{object}.{}", field["name"]);
    }
    // Entries of these lists: the same keys (which child comes first is data, so its values
    // may be null in one and not the other).
    for list in ["childRelationships", "recordTypeInfos", "supportedScopes"] {
        if let (Some(a), Some(e)) = (reply.body[list].get(0), recorded[list].get(0)) {
            let (mut a, mut e) = (keys(a), keys(e));
            a.sort();
            e.sort();
            assert_eq!(a, e, "{object}: {list} entry keys");
        }
    }
    let mut a_urls = keys(&reply.body["urls"]);
    let mut e_urls = keys(&recorded["urls"]);
    a_urls.sort();
    e_urls.sort();
    // The custom-object recording was trimmed to an empty `urls`.
    if !e_urls.is_empty() {
        assert_eq!(a_urls, e_urls, "{object}: urls");
    }
    let global = client.get("/sobjects").await;
    let served: Vec<String> = global.body["sobjects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str().map(str::to_string))
        .collect();
    // Field by field, the recorded fields we model have the recorded type and flags.
    let mut mismatches = Vec::new();
    for recorded_field in recorded["fields"].as_array().into_iter().flatten() {
        let name = recorded_field["name"].as_str().unwrap_or("");
        let Some(ours) = reply.body["fields"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == json!(name)))
        else {
            continue;
        };
        for key in [
            "type",
            "nillable",
            "createable",
            "updateable",
            "referenceTo",
            "relationshipName",
        ] {
            let mut expected = recorded_field[key].clone();
            let mut actual = ours[key].clone();
            // Polymorphic lookups: compare the targets this org serves (WhatId has 80 in the
            // recorded org; Group and Calendar owners are not served here).
            if key == "referenceTo" {
                let keep = |list: &Json| -> Json {
                    Json::Array(
                        list.as_array()
                            .into_iter()
                            .flatten()
                            .filter(|t| served.contains(&t.as_str().unwrap_or("").to_string()))
                            .cloned()
                            .collect(),
                    )
                };
                expected = keep(&expected);
                actual = keep(&actual);
            }
            if actual != expected {
                mismatches.push(format!(
                    "{object}.{name}.{key}: {actual} != recorded {expected}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[tokio::test]
async fn describes_have_the_recorded_key_sets_and_flags() {
    for (object, recording, version) in [
        // (object, recording, the API version it was recorded at: v48, or v59 for "vxx")
        ("Account", "cumulusci/describe-account.json", "48.0"),
        ("Contact", "cumulusci/describe-contact.json", "59.0"),
        ("Opportunity", "cumulusci/describe-opportunity.json", "59.0"),
        ("Lead", "cumulusci/describe-lead.json", "59.0"),
        ("Case", "cumulusci/describe-case.json", "48.0"),
        ("Event", "cumulusci/describe-event.json", "59.0"),
        (
            "OpportunityContactRole",
            "cumulusci/describe-opportunitycontactrole.json",
            "48.0",
        ),
        ("Custom__c", "cumulusci/describe-custom-object.json", "59.0"),
    ] {
        describe_matches(object, recording, version).await;
    }
}

#[tokio::test]
async fn organization_record_read() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .get(&format!("/sobjects/Organization/{}", handle.orgs[0].org_id))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut recorded = fixture("cumulusci/sobject-get-organization.json");
    // Values the recorded org had that ours differ in (null versus set) are data, not shape.
    for key in [
        "TrialExpirationDate",
        "PrimaryContact",
        "NumKnowledgeService",
    ] {
        recorded[key] = reply.body[key].clone();
    }
    assert_shape(&reply.body, &recorded);
}

#[tokio::test]
async fn record_read_with_fields() {
    let handle = start_seed(
        json!({"records": {"Account": [{"Name": "Acme", "AccountNumber": "CD656092"}]}}),
    )
    .await;
    let client = Client::for_org(&handle, 0);
    let id = client.first_id("SELECT Id FROM Account").await;
    let reply = client
        .get(&format!("/sobjects/Account/{id}?fields=AccountNumber,Id"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let recorded = fixture("restforce/sobject-get-fields.json");
    let expected = json!({"attributes": recorded["attributes"], "AccountNumber": "x", "Id": "x"});
    assert_shape(&reply.body, &expected);
    assert_eq!(reply.body["AccountNumber"], json!("CD656092"));
}

#[tokio::test]
async fn create_answers_201_with_id_success_errors() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post(
            "/sobjects/Account",
            &json!({"Name": "xyzzy", "AccountNumber": "420"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_shape(&reply.body, &fixture("cumulusci/create-account-201.json"));
    assert_shape(&reply.body, &fixture("restforce/create-success.json"));
    let id = reply.body["id"].as_str().expect("id");
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("001"));
}

#[tokio::test]
async fn error_bodies_match_the_recordings() {
    let handle = start_seed(json!({"objects": [{"name": "Bar__c"}]})).await;
    let client = Client::for_org(&handle, 0);

    let reply = client.post("/sobjects/Bar__c", &json!({"foo": 1})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_shape(
        &reply.body,
        &fixture("restforce/write-error-invalid-field.json"),
    );
    assert_eq!(
        reply.body[0]["message"],
        json!("No such column 'foo' on sobject of type Bar__c")
    );

    let reply = client.get("/sobjects/Foo/describe").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        fixture("restforce/error-not-found-describe.json")
    );

    let reply = client.get("/sobjects/Account/23foo").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        fixture("restforce/error-not-found-external-id.json")
    );

    let reply = client.query("SELECT Id, FullName FROM Account").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_shape(
        &reply.body,
        &fixture("restforce/query-error-invalid-field.json"),
    );

    let bad = Client::new(&handle, "00Dxx!nope");
    let reply = bad.get("/sobjects").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, fixture("restforce/error-expired-session.json"));
}

#[tokio::test]
async fn updated_and_deleted() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let created = client
        .post("/sobjects/Contact", &json!({"LastName": "Gone"}))
        .await;
    let id = created.body["id"].as_str().expect("id").to_string();
    let reply = client
        .send(
            client
                .http
                .delete(client.data_url(&format!("/sobjects/Contact/{id}"))),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let now = chrono::Utc::now();
    let start = (now - chrono::Duration::seconds(5)).to_rfc3339();
    let end = (now + chrono::Duration::minutes(1)).to_rfc3339();
    let range = [("start", start.as_str()), ("end", end.as_str())];
    let reply = client
        .send(
            client
                .http
                .get(client.data_url("/sobjects/Contact/deleted/"))
                .query(&range),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_shape(&reply.body, &fixture("restforce/get-deleted.json"));
    assert_eq!(reply.body["deletedRecords"][0]["id"], json!(id));

    client
        .post("/sobjects/Contact", &json!({"LastName": "Fresh"}))
        .await;
    let reply = client
        .send(
            client
                .http
                .get(client.data_url("/sobjects/Contact/updated/"))
                .query(&range),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_shape(&reply.body, &fixture("restforce/get-updated.json"));
    // The demo's contacts were written at start-up, inside the window too; the deleted one
    // is not listed, the new one is.
    let ids: Vec<&str> = reply.body["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    assert!(
        !ids.contains(&id.as_str()),
        "a deleted record is not 'updated'"
    );
    let fresh = client
        .first_id("SELECT Id FROM Contact WHERE LastName = 'Fresh'")
        .await;
    assert!(ids.contains(&fresh.as_str()), "the new contact is listed");
}

#[tokio::test]
async fn limits_and_record_count() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let reply = client.get("/limits").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_shape(&reply.body, &fixture("simple-salesforce/limits.json"));
    assert_eq!(
        reply.body["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    let reply = client.get("/limits/recordCount?sObjects=Account").await;
    assert_shape(&reply.body, &fixture("cumulusci/limits-recordcount.json"));
    assert_eq!(
        reply.body["sObjects"][0],
        json!({"count": 300, "name": "Account"})
    );
}

#[tokio::test]
async fn tooling_query_has_tooling_result_keys() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .send(
            client
                .http
                .get(client.data_url("/tooling/query/"))
                .query(&[("q", "SELECT Id, Metadata FROM SecuritySettings")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let recorded = fixture("cumulusci/tooling-query-nested-children.json");
    let keys = |v: &Json| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(&reply.body), keys(&recorded));
    let session = &reply.body["records"][0]["Metadata"]["sessionSettings"];
    assert_eq!(session["lockSessionsToIp"], json!(false));
    assert_eq!(session["enforceIpRangesEveryRequest"], json!(false));
}
