//! Issue 17, item 5 (field history), end to end: rmcp's client -> `sfmcp serve` (stdio) ->
//! our client -> the emulator. `record_history` answers who changed what and when, as the
//! emulator's own SOQL over the history object does; an update through `update_record`
//! shows up in it; the operator's allow-list covers the record's object and its history
//! object, and a denied field's changes never leave the org (nor through `soql_query`).
//! The emulator side: history rows follow their parent's sharing and field-level security.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{call, is_error, org_env, spawn_server, stop, structured, text};
use crate::emulator_common::{Client, start_demo, token_for};

const HISTORY_SOQL: &str = "SELECT CreatedDate, CreatedById, CreatedBy.Name, Field, OldValue, NewValue FROM OpportunityFieldHistory";

/// The emulator's own answer: an opportunity's history, newest first, as the tool shows it.
async fn expected_history(rest: &Client, opportunity: &str) -> Vec<Value> {
    let reply = rest
        .query(&format!(
            "{HISTORY_SOQL} WHERE OpportunityId = '{opportunity}' ORDER BY CreatedDate DESC, Id DESC"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            json!({
                "when": r["CreatedDate"], "by": r["CreatedBy"]["Name"], "byId": r["CreatedById"],
                "field": r["Field"], "old": r["OldValue"], "new": r["NewValue"],
            })
        })
        .collect()
}

/// The tool's changes without the labels (the emulator's rows have none).
fn without_labels(changes: &Value) -> Vec<Value> {
    changes
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.as_object_mut().expect("object").remove("label");
            c
        })
        .collect()
}

#[tokio::test]
async fn record_history_shows_who_changed_what_as_the_org_records_it() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    // An opportunity whose history holds a stage change and an amount revision.
    let reply = rest
        .query("SELECT OpportunityId FROM OpportunityFieldHistory WHERE Field = 'Amount' LIMIT 1")
        .await;
    let opportunity = reply.body["records"][0]["OpportunityId"]
        .as_str()
        .expect("the demo has amount revisions")
        .to_string();
    let expected = expected_history(&rest, &opportunity).await;
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(expected.last().expect("rows")["field"], json!("created"));

    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let answer = call(&client, "record_history", json!({"id": opportunity})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    assert_eq!(shown["object"], json!("Opportunity"));
    assert_eq!(shown["history"], json!("OpportunityFieldHistory"));
    assert_eq!(without_labels(&shown["changes"]), expected);
    assert_eq!(shown["more"], json!(false));
    // Readable: labels and people's names, values inside the untrusted-data fence.
    let words = text(&answer);
    let labels: Vec<&str> = shown["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    assert!(labels.contains(&"Stage"), "{labels:?}");
    assert!(labels.contains(&"(record created)"), "{labels:?}");
    let owner = expected[0]["by"].as_str().expect("a name");
    let open = words.find("<data untrusted>").expect("fenced");
    let close = words.find("</data>").expect("closed");
    let inside = &words[open..close];
    assert!(inside.contains(owner), "{words}");
    assert!(inside.contains("\"Amount\""), "{words}");
    assert!(!words[..open].contains(owner), "{words}");

    // A budget: one change, and the answer says older ones remain.
    let one = call(
        &client,
        "record_history",
        json!({"id": opportunity, "max_rows": 1}),
    )
    .await;
    assert!(!is_error(&one), "{}", text(&one));
    let one_shown = structured(&one);
    assert_eq!(
        without_labels(&one_shown["changes"]),
        expected[..1].to_vec()
    );
    assert_eq!(one_shown["more"], json!(true));
    assert!(text(&one).contains("older ones remain"), "{}", text(&one));

    // An object with no history object in the org: a clear error, nothing invented.
    let task = rest.first_id("SELECT Id FROM Task LIMIT 1").await;
    let refused = call(&client, "record_history", json!({"id": task})).await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("no field history"),
        "{}",
        text(&refused)
    );
    stop(client, stderr).await;
}

#[tokio::test]
async fn an_update_through_update_record_appears_in_the_history() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let opportunity = rest
        .first_id("SELECT Id FROM Opportunity WHERE StageName = 'Prospecting' LIMIT 1")
        .await;
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let updated = call(
        &client,
        "update_record",
        json!({"id": opportunity, "fields": {"StageName": "Negotiation/Review", "NextStep": "Send the order form"}}),
    )
    .await;
    assert!(!is_error(&updated), "{}", text(&updated));
    let answer = call(&client, "record_history", json!({"id": opportunity})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    let expected = expected_history(&rest, &opportunity).await;
    assert_eq!(without_labels(&shown["changes"]), expected);
    // The update wrote one row per tracked field it changed, stage-derived ones included,
    // by the connected user (the admin), newest first.
    let admin = &emulator.orgs[0].user_id;
    let latest: Vec<(&str, &Value, &Value)> = shown["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["byId"].as_str() == Some(admin.as_str()))
        .map(|c| (c["field"].as_str().unwrap_or(""), &c["old"], &c["new"]))
        .collect();
    for (field, old, new) in [
        (
            "StageName",
            json!("Prospecting"),
            json!("Negotiation/Review"),
        ),
        ("Probability", json!(10.0), json!(90.0)),
        ("ForecastCategoryName", json!("Pipeline"), json!("Commit")),
        ("NextStep", Value::Null, json!("Send the order form")),
    ] {
        assert!(
            latest
                .iter()
                .any(|(f, o, n)| *f == field && **o == old && **n == new),
            "{field}: {latest:?}"
        );
    }
    assert!(text(&answer).contains("Dana Admin"), "{}", text(&answer));
    stop(client, stderr).await;
}

#[tokio::test]
async fn history_obeys_the_allow_list_and_denied_fields_never_leave_the_org() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let reply = rest
        .query("SELECT OpportunityId FROM OpportunityFieldHistory WHERE Field = 'Amount' LIMIT 1")
        .await;
    let opportunity = reply.body["records"][0]["OpportunityId"]
        .as_str()
        .expect("an amount revision")
        .to_string();

    // Amount denied: its changes are left out by the query itself.
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_DENY_FIELDS", "Opportunity.Amount".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "record_history", json!({"id": opportunity})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let expected: Vec<Value> = expected_history(&rest, &opportunity)
        .await
        .into_iter()
        .filter(|c| c["field"] != json!("Amount"))
        .collect();
    assert_eq!(without_labels(&structured(&answer)["changes"]), expected);
    assert!(text(&answer).contains("left out"), "{}", text(&answer));
    // soql_query cannot read the values around it.
    for query in [
        "SELECT OldValue, NewValue FROM OpportunityFieldHistory",
        "SELECT Id, (SELECT NewValue FROM Histories) FROM Opportunity",
        "SELECT Id FROM OpportunityFieldHistory WHERE NewValue = null",
    ] {
        let refused = call(&client, "soql_query", json!({"query": query})).await;
        assert!(is_error(&refused), "{query}: {}", text(&refused));
        assert!(
            text(&refused).contains("record_history"),
            "{}",
            text(&refused)
        );
    }
    let fine = call(
        &client,
        "soql_query",
        json!({"query": "SELECT Field, CreatedDate FROM OpportunityFieldHistory LIMIT 3"}),
    )
    .await;
    assert!(!is_error(&fine), "{}", text(&fine));
    stop(client, stderr).await;

    // The record's object and its history object must both be allowed.
    for (allowed, named) in [
        ("Opportunity,User", "OpportunityFieldHistory"),
        ("OpportunityFieldHistory,User", "Opportunity"),
    ] {
        let mut env = org_env(&emulator.orgs[0]);
        env.push(("SFMCP_ALLOW_OBJECTS", allowed.into()));
        let (client, stderr) = spawn_server(&env, &[]).await;
        let refused = call(&client, "record_history", json!({"id": opportunity})).await;
        assert!(is_error(&refused), "{allowed}");
        assert!(
            text(&refused).contains(named) && text(&refused).contains("--allow-objects"),
            "{}",
            text(&refused)
        );
        stop(client, stderr).await;
    }
}

#[tokio::test]
async fn history_rows_follow_their_parents_sharing_and_field_level_security() {
    let emulator = start_demo().await;
    let admin = Client::for_org(&emulator, 0);
    // A rep sees the history of the opportunities they can see, and no other.
    let rep = admin
        .first_id("SELECT Id FROM User WHERE Username = 'edsger.hopper7@demo.emulator'")
        .await;
    let as_rep = Client::new(&emulator, &token_for(&emulator, 0, &rep));
    let theirs = as_rep
        .query("SELECT Id FROM OpportunityFieldHistory WHERE Opportunity.OwnerId != null")
        .await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    let everyone = admin
        .query(&format!(
            "SELECT Id FROM OpportunityFieldHistory WHERE Opportunity.OwnerId = '{rep}'"
        ))
        .await;
    assert!(everyone.body["totalSize"].as_u64().unwrap_or(0) > 0);
    assert_eq!(theirs.body["totalSize"], everyone.body["totalSize"]);

    // Field-level security on the parent: the support user cannot see AnnualRevenue, so
    // its changes are not in their AccountHistory.
    let account = admin.first_id("SELECT Id FROM Account LIMIT 1").await;
    let patched = admin
        .patch(
            &format!("/sobjects/Account/{account}"),
            &json!({"AnnualRevenue": 1234567, "Rating": "Hot", "Industry": "Energy"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.body);
    let history = format!("SELECT Field FROM AccountHistory WHERE AccountId = '{account}'");
    let fields = |reply: &crate::emulator_common::Reply| -> Vec<String> {
        reply.body["records"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["Field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let all = fields(&admin.query(&history).await);
    assert!(all.contains(&"AnnualRevenue".to_string()), "{all:?}");
    let support = admin
        .first_id("SELECT Id FROM User WHERE Username = 'sam.okafor@demo.emulator'")
        .await;
    let as_support = Client::new(&emulator, &token_for(&emulator, 0, &support));
    let seen = fields(&as_support.query(&history).await);
    assert!(!seen.contains(&"AnnualRevenue".to_string()), "{seen:?}");
    assert_eq!(seen.len() + 1, all.len(), "{seen:?} vs {all:?}");
    // History objects are read-only, as in Salesforce.
    let refused = admin
        .post(
            "/sobjects/AccountHistory",
            &json!({"AccountId": account, "Field": "Rating"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}

#[tokio::test]
async fn recent_items_are_what_the_user_viewed_as_the_org_lists_them() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    // A plain query marks nothing; FOR VIEW and FOR REFERENCE do.
    let before = rest.get("/recent").await;
    assert_eq!(before.body, json!([]), "{}", before.body);
    for soql in [
        "SELECT Id FROM Account ORDER BY Name LIMIT 2 FOR VIEW",
        "SELECT Id FROM Opportunity ORDER BY Name LIMIT 1 FOR REFERENCE",
        "SELECT Id FROM Contact ORDER BY Name LIMIT 1",
    ] {
        let reply = rest.query(soql).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let listed = rest.get("/recent").await;
    let listed = listed.body.as_array().cloned().expect("an array");
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0]["attributes"]["type"], json!("Opportunity"));

    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    let answer = call(&client, "recent_items", json!({})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let items = structured(&answer)["items"].clone();
    let expected: Vec<Value> = listed
        .iter()
        .map(|r| json!({"type": r["attributes"]["type"], "Id": r["Id"], "Name": r["Name"]}))
        .collect();
    assert_eq!(items, json!(expected));
    let words = text(&answer);
    let name = expected[0]["Name"].as_str().expect("a name");
    let open = words.find("<data untrusted>").expect("fenced");
    assert!(
        words[open..].contains(name) && !words[..open].contains(name),
        "{words}"
    );
    stop(client, stderr).await;

    // Objects outside the allow-list are left out, and counted.
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;
    let answer = call(&client, "recent_items", json!({"max_rows": 10})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    assert_eq!(shown["items"], json!(expected[1..].to_vec()));
    assert_eq!(shown["hidden"], json!(1));
    stop(client, stderr).await;
}
