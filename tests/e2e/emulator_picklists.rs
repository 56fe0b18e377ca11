//! Picklist writes as Salesforce takes them: values match the list without regard to case and
//! are stored as listed; unlisted values are stored as sent on unrestricted picklists and
//! refused on restricted ones (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`) on every write path
//! (create, update, composite, sObject Collections, upsert); and the Opportunity fields its
//! stage decides (`IsClosed`, `IsWon`, `Probability`, `ForecastCategory(Name)`).
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{Client, fixture, start_seed};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

/// A custom object with a restricted picklist, an unrestricted multi-select and an external
/// id to upsert by.
fn seed() -> Json {
    json!({
        "objects": [{"name": "Part__c", "fields": [
            {"name": "Sku__c", "type": "string", "length": 20, "external_id": true},
            {"name": "Finish__c", "type": "picklist", "values": ["Matte", "Gloss"], "restricted": true},
            {"name": "Tags__c", "type": "multipicklist", "values": ["Metal", "Small"]},
        ]}],
        "users": [{"username": "admin@acme.test", "profile": "System Administrator", "default": true}],
        "records": {"Part__c": [{"Name": "Bolt", "Sku__c": "B-1", "Finish__c": "Matte"}]},
    })
}

fn restricted_error(label: &str, field: &str, value: &str) -> Json {
    json!([{
        "message": format!("{label}: bad value for restricted picklist field: {value}"),
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": [field],
    }])
}

async fn opportunity(client: &Client, id: &str) -> Json {
    client
        .get(&format!(
            "/sobjects/Opportunity/{id}?fields=StageName,IsClosed,IsWon,Probability,ForecastCategory,ForecastCategoryName"
        ))
        .await
        .body
}

#[test]
fn the_recorded_describe_leaves_stage_and_lead_status_unrestricted() {
    // The emulator's choice of which picklists refuse unlisted values follows a real org.
    let describe = |name: &str| fixture(&format!("cumulusci/describe-{name}.json"));
    let field = |describe: &Json, name: &str| -> Json {
        describe["fields"]
            .as_array()
            .expect("a recorded describe lists fields")
            .iter()
            .find(|f| f["name"] == json!(name))
            .cloned()
            .expect("the recorded field")
    };
    let opportunity = describe("opportunity");
    let lead = describe("lead");
    let stage = field(&opportunity, "StageName");
    let status = field(&lead, "Status");
    assert_eq!(stage["restrictedPicklist"], json!(false));
    assert_eq!(status["restrictedPicklist"], json!(false));
    assert_eq!(
        field(&opportunity, "ForecastCategoryName")["restrictedPicklist"],
        json!(true)
    );
}

#[tokio::test]
async fn describe_says_which_picklists_are_restricted() {
    let handle = start_seed(seed()).await;
    let client = Client::for_org(&handle, 0);
    let describe = client.get("/sobjects/Opportunity/describe").await.body;
    let field = |name: &str| {
        describe["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == json!(name))
            .cloned()
            .unwrap()
    };
    assert_eq!(field("StageName")["restrictedPicklist"], json!(false));
    assert_eq!(
        field("ForecastCategoryName")["restrictedPicklist"],
        json!(true)
    );
    // No dependent picklists are modelled, and describe says so.
    assert_eq!(field("StageName")["dependentPicklist"], json!(false));
    assert_eq!(field("StageName")["controllerName"], Json::Null);
}

#[tokio::test]
async fn a_stage_written_in_another_case_is_stored_as_listed_and_decides_the_flags() {
    let handle = start_seed(seed()).await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post(
            "/sobjects/Opportunity",
            &json!({"Name": "D", "StageName": "prospecting", "CloseDate": "2026-01-01"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    let record = opportunity(&client, &id).await;
    assert_eq!(record["StageName"], json!("Prospecting"));
    assert_eq!(record["IsClosed"], json!(false));
    assert_eq!(record["Probability"], json!(10.0));
    assert_eq!(record["ForecastCategoryName"], json!("Pipeline"));

    // "mark it won", written loosely, marks it won.
    let reply = client
        .patch(
            &format!("/sobjects/Opportunity/{id}"),
            &json!({"StageName": "closed won"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let record = opportunity(&client, &id).await;
    assert_eq!(record["StageName"], json!("Closed Won"));
    assert_eq!(record["IsClosed"], json!(true));
    assert_eq!(record["IsWon"], json!(true));
    // The stage's defaults replace the earlier stage's: probability and forecast category
    // follow a stage change.
    assert_eq!(record["Probability"], json!(100.0));
    assert_eq!(record["ForecastCategory"], json!("Closed"));
    assert_eq!(record["ForecastCategoryName"], json!("Closed"));

    // Lost, then a probability set with the stage overrides the stage's default.
    client
        .patch(
            &format!("/sobjects/Opportunity/{id}"),
            &json!({"StageName": "CLOSED LOST"}),
        )
        .await;
    let record = opportunity(&client, &id).await;
    assert_eq!(record["StageName"], json!("Closed Lost"));
    assert_eq!(record["IsClosed"], json!(true));
    assert_eq!(record["IsWon"], json!(false));
    assert_eq!(record["Probability"], json!(0.0));
    assert_eq!(record["ForecastCategory"], json!("Omitted"));
    client
        .patch(
            &format!("/sobjects/Opportunity/{id}"),
            &json!({"StageName": "Negotiation/Review", "Probability": 55, "ForecastCategoryName": "Best Case"}),
        )
        .await;
    let record = opportunity(&client, &id).await;
    assert_eq!(record["IsClosed"], json!(false));
    assert_eq!(record["Probability"], json!(55.0));
    assert_eq!(record["ForecastCategoryName"], json!("Best Case"));
    assert_eq!(record["ForecastCategory"], json!("BestCase"));
}

#[tokio::test]
async fn an_unlisted_stage_is_stored_as_sent_and_is_neither_closed_nor_won() {
    let handle = start_seed(seed()).await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post(
            "/sobjects/Opportunity",
            &json!({"Name": "D", "StageName": "Negotiation/Review", "CloseDate": "2026-01-01"}),
        )
        .await;
    let id = reply.body["id"].as_str().unwrap().to_string();
    let reply = client
        .patch(
            &format!("/sobjects/Opportunity/{id}"),
            &json!({"StageName": "Closed-Won"}),
        )
        .await;
    // StageName is unrestricted (as in the recorded describe): Salesforce keeps the value.
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    let record = opportunity(&client, &id).await;
    assert_eq!(record["StageName"], json!("Closed-Won"));
    assert_eq!(record["IsClosed"], json!(false));
    assert_eq!(record["IsWon"], json!(false));
    // No stage row to take defaults from: what the last listed stage set stays.
    assert_eq!(record["Probability"], json!(90.0));
    assert_eq!(record["ForecastCategoryName"], json!("Commit"));

    // Lead Status is unrestricted too: "Working" is kept as sent, a case variant is listed.
    let reply = client
        .post(
            "/sobjects/Lead",
            &json!({"LastName": "L", "Company": "C", "Status": "Working"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let lead = reply.body["id"].as_str().unwrap().to_string();
    let record = client
        .get(&format!("/sobjects/Lead/{lead}?fields=Status"))
        .await;
    assert_eq!(record.body["Status"], json!("Working"));
    client
        .patch(
            &format!("/sobjects/Lead/{lead}"),
            &json!({"Status": "working - contacted"}),
        )
        .await;
    let record = client
        .get(&format!("/sobjects/Lead/{lead}?fields=Status"))
        .await;
    assert_eq!(record.body["Status"], json!("Working - Contacted"));
}

#[tokio::test]
async fn restricted_picklists_refuse_unlisted_values_on_create_and_update() {
    let handle = start_seed(seed()).await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .post(
            "/sobjects/Part__c",
            &json!({"Name": "Nut", "Finish__c": "Satin"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, restricted_error("Finish", "Finish__c", "Satin"));

    // A case variant is a listed value, stored as listed.
    let reply = client
        .post(
            "/sobjects/Part__c",
            &json!({"Name": "Nut", "Finish__c": "GLOSS", "Tags__c": "metal;Custom"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_string();
    let record = client
        .get(&format!("/sobjects/Part__c/{id}?fields=Finish__c,Tags__c"))
        .await;
    assert_eq!(record.body["Finish__c"], json!("Gloss"));
    // Unrestricted multi-select: each part matched on its own, unlisted parts kept.
    assert_eq!(record.body["Tags__c"], json!("Metal;Custom"));

    let reply = client
        .patch(
            &format!("/sobjects/Part__c/{id}"),
            &json!({"Finish__c": "Satin"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, restricted_error("Finish", "Finish__c", "Satin"));
    let record = client
        .get(&format!("/sobjects/Part__c/{id}?fields=Finish__c"))
        .await;
    assert_eq!(record.body["Finish__c"], json!("Gloss"), "nothing written");

    // A standard restricted picklist: Opportunity.ForecastCategoryName.
    let reply = client
        .post(
            "/sobjects/Opportunity",
            &json!({"Name": "D", "StageName": "Prospecting", "CloseDate": "2026-01-01", "ForecastCategoryName": "Maybe"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        restricted_error("Forecast Category Name", "ForecastCategoryName", "Maybe")
    );
}

#[tokio::test]
async fn restricted_picklists_refuse_unlisted_values_in_composite_collections_and_upsert() {
    let handle = start_seed(seed()).await;
    let client = Client::for_org(&handle, 0);

    let reply = client
        .post(
            "/composite",
            &json!({"allOrNone": false, "compositeRequest": [{
                "method": "POST",
                "url": "/services/data/v62.0/sobjects/Part__c",
                "referenceId": "part",
                "body": {"Name": "Nut", "Finish__c": "Satin"},
            }]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let sub = &reply.body["compositeResponse"][0];
    assert_eq!(sub["httpStatusCode"], json!(400));
    assert_eq!(
        sub["body"],
        restricted_error("Finish", "Finish__c", "Satin")
    );

    let reply = client
        .post(
            "/composite/sobjects",
            &json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Part__c"}, "Name": "Nut", "Finish__c": "Satin"},
                {"attributes": {"type": "Part__c"}, "Name": "Washer", "Finish__c": "matte"},
            ]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let results = reply.body.as_array().unwrap();
    assert_eq!(results[0]["success"], json!(false));
    // Inside sObject Collections results the code is keyed `statusCode`.
    assert_eq!(
        results[0]["errors"],
        json!([{
            "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "message": "Finish: bad value for restricted picklist field: Satin",
            "fields": ["Finish__c"],
        }])
    );
    assert_eq!(results[1]["success"], json!(true));
    let washer = results[1]["id"].as_str().unwrap();
    let record = client
        .get(&format!("/sobjects/Part__c/{washer}?fields=Finish__c"))
        .await;
    assert_eq!(record.body["Finish__c"], json!("Matte"));

    let reply = client
        .patch(
            "/sobjects/Part__c/Sku__c/B-1",
            &json!({"Finish__c": "Satin"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body, restricted_error("Finish", "Finish__c", "Satin"));
    let reply = client
        .patch(
            "/sobjects/Part__c/Sku__c/B-1",
            &json!({"Finish__c": "gloss"}),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.body);
    let reply = client.get("/sobjects/Part__c/Sku__c/B-1").await;
    assert_eq!(reply.body["Finish__c"], json!("Gloss"));
}
