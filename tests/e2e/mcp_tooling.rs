//! Issue 17 item 8, the Tooling API read-only query, end to end: rmcp's client ->
//! `sfmcp serve` (stdio, and one session over Streamable HTTP) -> our client -> the
//! emulator's `/tooling/query`. "Which validation rules are on Opportunity?", "which flows are
//! active?", "list the Apex classes" are each compared with the emulator's own Tooling REST
//! answer; bodies come only when asked for, and then whole and fenced; objects outside the
//! tool's Tooling allow-list, and (with `--allow-objects`) metadata about objects outside the
//! operator's, are refused before any request; nothing but GET is ever sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use sfmcp_emulator::EmulatorHandle;

use crate::common::{
    call, demo_emulator, is_error, org_env, requests, spawn_server, stop, structured, text,
};
use crate::emulator_common::{Client, Reply, token_for};

/// The emulator's own Tooling answer, every page followed.
async fn tooling_rest(rest: &Client, soql: &str) -> Reply {
    rest.send(
        rest.http
            .get(rest.data_url("/tooling/query/"))
            .query(&[("q", soql)]),
    )
    .await
}

/// Records as the tool's structured rows decode them: no `attributes`, parents as objects.
fn plain(records: &Value) -> Vec<Value> {
    records
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            strip_attributes(&mut r);
            r
        })
        .collect()
}

fn strip_attributes(value: &mut Value) {
    if let Value::Object(map) = value {
        map.remove("attributes");
        for inner in map.values_mut() {
            strip_attributes(inner);
        }
    }
}

/// The Tooling requests the emulator served, with their query text.
async fn tooling_requests(emulator: &EmulatorHandle) -> Vec<Value> {
    requests(emulator)
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.contains("/tooling/")))
        .collect()
}

fn no_writes(log: &[Value]) {
    for request in log {
        let method = request["method"].as_str().unwrap_or_default();
        let path = request["path"].as_str().unwrap_or_default();
        assert!(
            method == "GET" || !path.starts_with("/services/data/"),
            "{method} {path}"
        );
        assert_ne!(method, "DELETE", "{path}");
    }
}

#[tokio::test]
async fn metadata_questions_answer_as_the_emulators_tooling_api_does() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    // "Which validation rules are on Opportunity?"
    let rules = "SELECT ValidationName, Active, ErrorMessage, EntityDefinition.QualifiedApiName FROM ValidationRule WHERE EntityDefinition.QualifiedApiName = 'Opportunity' ORDER BY ValidationName";
    let expected = tooling_rest(&rest, rules).await;
    assert_eq!(expected.status, StatusCode::OK, "{}", expected.body);
    assert_eq!(expected.body["entityTypeName"], json!("ValidationRule"));
    let answer = call(&client, "tooling_query", json!({"query": rules})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = structured(&answer);
    assert_eq!(plain(&shown["records"]), plain(&expected.body["records"]));
    assert_eq!(shown["records"].as_array().map(Vec::len), Some(3));
    let words = text(&answer);
    assert!(
        words.starts_with("ValidationRule: rows 1-3 of 3\n"),
        "{words}"
    );
    assert!(!words.contains("record URL"), "{words}");
    assert!(words.contains("\"Amount_Required_When_Won\""), "{words}");

    // "How many active rules are there?": an aggregate, counted by Salesforce.
    let count = "SELECT COUNT() FROM ValidationRule WHERE Active = true";
    let expected = tooling_rest(&rest, count).await;
    let answer = call(&client, "tooling_query", json!({"query": count})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(structured(&answer)["totalSize"], expected.body["totalSize"]);
    assert_eq!(expected.body["totalSize"], json!(5));
    assert!(
        text(&answer).starts_with("AggregateResult: totalSize 5"),
        "{}",
        text(&answer)
    );

    // "Which flows are active?"
    let flows = "SELECT MasterLabel, ProcessType, VersionNumber, Definition.DeveloperName FROM Flow WHERE Status = 'Active' ORDER BY MasterLabel";
    let expected = tooling_rest(&rest, flows).await;
    let answer = call(&client, "tooling_query", json!({"query": flows})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(
        plain(&structured(&answer)["records"]),
        plain(&expected.body["records"])
    );
    assert_eq!(expected.body["totalSize"], json!(2));

    // "List the Apex classes" (ours, not the installed package's), two at a time through
    // query_more.
    let classes = "SELECT Name, ApiVersion, Status, LengthWithoutComments FROM ApexClass WHERE NamespacePrefix = null ORDER BY Name";
    let expected = plain(&tooling_rest(&rest, classes).await.body["records"]);
    assert_eq!(expected.len(), 4);
    let mut seen = Vec::new();
    let mut page = call(
        &client,
        "tooling_query",
        json!({"query": classes, "max_rows": 2}),
    )
    .await;
    loop {
        assert!(!is_error(&page), "{}", text(&page));
        let shown = structured(&page);
        seen.extend(plain(&shown["records"]));
        let Some(cursor) = shown["cursor"].as_str() else {
            break;
        };
        assert!(text(&page).contains("call query_more"), "{}", text(&page));
        page = call(&client, "query_more", json!({"cursor": cursor})).await;
    }
    assert_eq!(seen, expected);

    // Every class, the installed package's too: more than a Tooling page, continued on
    // Salesforce's locators (`/tooling/query/01g...-N`) and equal to the emulator's pages.
    let all = "SELECT Name, NamespacePrefix FROM ApexClass ORDER BY Name";
    let mut expected = Vec::new();
    let mut reply = tooling_rest(&rest, all).await;
    loop {
        expected.extend(plain(&reply.body["records"]));
        let Some(next) = reply.body["nextRecordsUrl"].as_str() else {
            break;
        };
        assert_eq!(reply.body["done"], json!(false));
        assert!(next.contains("/tooling/query/"), "{next}");
        reply = rest
            .send(rest.http.get(format!("{}{next}", rest.base)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert!(expected.len() > 200, "{}", expected.len());
    let mut seen = Vec::new();
    let mut page = call(
        &client,
        "tooling_query",
        json!({"query": all, "max_rows": 150}),
    )
    .await;
    loop {
        assert!(!is_error(&page), "{}", text(&page));
        let shown = structured(&page);
        seen.extend(plain(&shown["records"]));
        let Some(cursor) = shown["cursor"].as_str() else {
            break;
        };
        page = call(&client, "query_more", json!({"cursor": cursor})).await;
    }
    assert_eq!(seen, expected);
    assert!(
        requests(&emulator).await.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.contains("/tooling/query/01g"))),
        "continued on a Tooling locator"
    );

    // Bodies: refused unless asked for, before any request; then whole, inside the fence.
    let before = tooling_requests(&emulator).await.len();
    let bodies = "SELECT Name, Body FROM ApexClass WHERE Name = 'AccountTriggerHandler'";
    let refused = call(&client, "tooling_query", json!({"query": bodies})).await;
    assert!(is_error(&refused));
    assert!(
        text(&refused).contains("ApexClass.Body is code or a metadata blob")
            && text(&refused).contains("include_bodies: true"),
        "{}",
        text(&refused)
    );
    for hidden in [
        "SELECT Id, Metadata FROM ValidationRule",
        "SELECT FIELDS(ALL) FROM ApexTrigger LIMIT 200",
        "SELECT Id, ActiveVersion.Metadata FROM FlowDefinition",
    ] {
        let refused = call(&client, "tooling_query", json!({"query": hidden})).await;
        assert!(is_error(&refused), "{hidden}: {}", text(&refused));
        assert!(
            text(&refused).contains("include_bodies"),
            "{}",
            text(&refused)
        );
    }
    assert_eq!(tooling_requests(&emulator).await.len(), before);
    let expected = tooling_rest(&rest, bodies).await;
    let body = expected.body["records"][0]["Body"]
        .as_str()
        .expect("a body")
        .to_string();
    assert!(body.len() > 160, "long enough to be cut as a record cell");
    let answer = call(
        &client,
        "tooling_query",
        json!({"query": bodies, "include_bodies": true}),
    )
    .await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(structured(&answer)["records"][0]["Body"], json!(body));
    let words = text(&answer);
    let row = words
        .lines()
        .find(|l| l.contains("AccountTriggerHandler"))
        .expect("the row");
    let cells: Vec<Value> = serde_json::from_str(row).expect("a row is a JSON array");
    assert_eq!(cells[1], json!(body), "the body whole in the text");

    // Metadata: Salesforce answers it for one row at a time, and says so otherwise.
    let many = call(
        &client,
        "tooling_query",
        json!({"query": "SELECT Id, Metadata FROM ValidationRule", "include_bodies": true}),
    )
    .await;
    assert!(is_error(&many));
    assert!(
        text(&many).contains("no more than one row for retrieval"),
        "{}",
        text(&many)
    );
    let id = tooling_rest(
        &rest,
        "SELECT Id FROM ValidationRule WHERE ValidationName = 'ERP_Id_Format'",
    )
    .await
    .body["records"][0]["Id"]
        .as_str()
        .expect("an id")
        .to_string();
    let one = format!("SELECT Id, Metadata FROM ValidationRule WHERE Id = '{id}'");
    let expected = tooling_rest(&rest, &one).await;
    let answer = call(
        &client,
        "tooling_query",
        json!({"query": one, "include_bodies": true}),
    )
    .await;
    assert!(!is_error(&answer), "{}", text(&answer));
    assert_eq!(
        structured(&answer)["records"][0]["Metadata"],
        expected.body["records"][0]["Metadata"]
    );
    assert!(
        expected.body["records"][0]["Metadata"]["errorConditionFormula"]
            .as_str()
            .is_some_and(|f| f.contains("REGEX(ERP_Id__c"))
    );

    // Objects outside the tool's allow-list, fields it does not know: refused, nothing sent.
    let before = tooling_requests(&emulator).await.len();
    for (query, says) in [
        (
            "SELECT QualifiedApiName FROM FieldDefinition WHERE EntityDefinition.QualifiedApiName = 'Account'",
            "describe_object",
        ),
        (
            "SELECT Id, Name FROM Account",
            "reads only these Tooling objects",
        ),
        (
            "SELECT Id, Metadata FROM SecuritySettings",
            "reads only these Tooling objects",
        ),
        ("SELECT Name, CreatedBy.Name FROM ApexClass", "CreatedBy"),
        ("DELETE FROM ApexClass", "unexpected token: 'DELETE'"),
    ] {
        let refused = call(&client, "tooling_query", json!({"query": query})).await;
        assert!(is_error(&refused), "{query}");
        assert!(text(&refused).contains(says), "{query}: {}", text(&refused));
    }
    assert_eq!(tooling_requests(&emulator).await.len(), before);

    // Metadata text is data: the planted description stays inside the fence, escaped.
    let planted = call(
        &client,
        "tooling_query",
        json!({"query": "SELECT ValidationName, Description FROM ValidationRule WHERE ValidationName = 'Amount_Required_When_Won'"}),
    )
    .await;
    let words = text(&planted);
    let open = words.find("<data untrusted>\n").expect("fenced");
    let close = words.rfind("</data>\n").expect("closed");
    assert!(words[..open].find("IGNORE").is_none(), "{words}");
    assert!(
        words[open..close].contains("IGNORE PREVIOUS INSTRUCTIONS"),
        "{words}"
    );
    assert_eq!(words.matches("</data>").count(), 1, "{words}");
    assert!(!words.lines().any(|l| l.starts_with("sfmcp:")), "{words}");

    no_writes(&requests(&emulator).await);
    stop(client, stderr).await;
}

#[tokio::test]
async fn the_object_allow_list_holds_for_metadata_about_objects() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--allow-objects", "Account,Opportunity"],
    )
    .await;
    let before = tooling_requests(&emulator).await.len();
    for (query, says) in [
        (
            "SELECT ValidationName FROM ValidationRule",
            "must say which",
        ),
        (
            "SELECT ValidationName FROM ValidationRule WHERE EntityDefinition.QualifiedApiName = 'Case'",
            "Case is not among",
        ),
        (
            "SELECT ValidationName FROM ValidationRule WHERE EntityDefinitionId = 'Account' OR Active = true",
            "must say which",
        ),
        (
            "SELECT Name, TableEnumOrId FROM ApexTrigger",
            "must say which",
        ),
        (
            "SELECT QualifiedApiName, Label FROM EntityDefinition",
            "must say which",
        ),
    ] {
        let refused = call(&client, "tooling_query", json!({"query": query})).await;
        assert!(is_error(&refused), "{query}: {}", text(&refused));
        assert!(text(&refused).contains(says), "{query}: {}", text(&refused));
    }
    assert_eq!(
        tooling_requests(&emulator).await.len(),
        before,
        "nothing sent"
    );

    for query in [
        "SELECT ValidationName, EntityDefinition.QualifiedApiName FROM ValidationRule WHERE EntityDefinition.QualifiedApiName IN ('Account', 'Opportunity') ORDER BY ValidationName",
        "SELECT Name, TableEnumOrId FROM ApexTrigger WHERE TableEnumOrId = 'Account'",
        "SELECT QualifiedApiName, Label FROM EntityDefinition WHERE QualifiedApiName = 'Opportunity'",
        "SELECT Name FROM ApexClass WHERE NamespacePrefix = null ORDER BY Name",
    ] {
        let expected = tooling_rest(&rest, query).await;
        assert_eq!(expected.status, StatusCode::OK, "{}", expected.body);
        let answer = call(&client, "tooling_query", json!({"query": query})).await;
        assert!(!is_error(&answer), "{query}: {}", text(&answer));
        let shown = plain(&structured(&answer)["records"]);
        assert_eq!(shown, plain(&expected.body["records"]), "{query}");
        assert!(!shown.is_empty(), "{query}");
        assert!(!text(&answer).contains("\"Case\""), "{}", text(&answer));
    }
    stop(client, stderr).await;
}

#[tokio::test]
async fn the_emulators_tooling_api_answers_as_salesforce_does() {
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let ok = tooling_rest(&rest, "SELECT Id, Name, TableEnumOrId FROM ApexTrigger").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let recorded = crate::emulator_common::fixture("cumulusci/tooling-query-nested-children.json");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&ok.body), keys(&recorded));
    assert_eq!(ok.body["size"], json!(3));
    let url = ok.body["records"][0]["attributes"]["url"]
        .as_str()
        .expect("url");
    assert!(url.contains("/tooling/sobjects/ApexTrigger/01q"), "{url}");

    for (query, code, says) in [
        (
            "SELECT Id FROM FlowDefinitionView",
            "INVALID_TYPE",
            "sObject type 'FlowDefinitionView' is not supported",
        ),
        (
            "SELECT Id, Nope FROM ApexClass",
            "INVALID_FIELD",
            "No such column 'Nope'",
        ),
        (
            "SELECT Id, Metadata FROM ApexClass",
            "MALFORMED_QUERY",
            "no more than one row",
        ),
        (
            "SELECT QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName = 'Account' OR QualifiedApiName = 'Case'",
            "MALFORMED_QUERY",
            "Disjunctions not supported",
        ),
        (
            "SELECT QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName != 'Account'",
            "MALFORMED_QUERY",
            "Only equals comparisons permitted",
        ),
    ] {
        let reply = tooling_rest(&rest, query).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        assert_eq!(
            reply.body[0]["errorCode"],
            json!(code),
            "{query}: {}",
            reply.body
        );
        assert!(
            reply.body[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{query}: {}",
            reply.body
        );
    }
    // A custom object's definition is keyed by its 01I id, which its rows name.
    let custom = tooling_rest(
        &rest,
        "SELECT DurableId, QualifiedApiName FROM EntityDefinition WHERE QualifiedApiName LIKE '%__c'",
    )
    .await;
    for record in custom.body["records"].as_array().expect("records") {
        assert!(
            record["DurableId"]
                .as_str()
                .is_some_and(|d| d.starts_with("01I")),
            "{record}"
        );
    }
    // A user without "View Setup and Configuration" (a sales rep) sees none of these objects.
    let rep = rest
        .first_id("SELECT Id FROM User WHERE Username = 'edsger.hopper7@demo.emulator'")
        .await;
    let as_rep = Client::new(&emulator, &token_for(&emulator, 0, &rep));
    let refused = tooling_rest(&as_rep, "SELECT Name FROM ApexClass").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.body[0]["errorCode"], json!("INVALID_TYPE"));
    // EntityDefinition ignores LIMIT, as Salesforce's does.
    let all = tooling_rest(&rest, "SELECT QualifiedApiName FROM EntityDefinition").await;
    let limited = tooling_rest(
        &rest,
        "SELECT QualifiedApiName FROM EntityDefinition LIMIT 2",
    )
    .await;
    assert_eq!(all.body["totalSize"], limited.body["totalSize"]);
    assert!(all.body["totalSize"].as_u64().unwrap_or(0) > 2);
}

/// Over Streamable HTTP: the same question answers as the emulator's Tooling API.
#[tokio::test]
async fn over_http_validation_rules_answer_as_the_tooling_api_does() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = demo_emulator().await;
    let rest = Client::for_org(&emulator, 0);
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    let query = "SELECT ValidationName, Active, ErrorDisplayField FROM ValidationRule WHERE EntityDefinitionId = 'Account' ORDER BY ValidationName";
    let expected = tooling_rest(&rest, query).await;
    let answer = call(&client, "tooling_query", json!({"query": query})).await;
    assert!(!is_error(&answer), "{}", text(&answer));
    let shown = plain(&structured(&answer)["records"]);
    assert_eq!(shown, plain(&expected.body["records"]));
    assert_eq!(shown.len(), 2);
    let refused = call(
        &client,
        "tooling_query",
        json!({"query": "SELECT Name, Body FROM ApexTrigger"}),
    )
    .await;
    assert!(is_error(&refused));
    no_writes(&requests(&emulator).await);
    let _ = client.cancel().await;
    let _ = child.kill().await;
}
