//! Query paging: locators, `Sforce-Query-Options: batchSize`, queryAll, paged child rows,
//! and the describe 304 revalidation.
// Test helpers panic on failure by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use emulator_common::{Client, start_seed};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};

fn accounts(n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| json!({"Name": format!("Account {i:04}")}))
        .collect()
}

/// Follows `nextRecordsUrl` to the end; returns every page.
async fn all_pages(client: &Client, first: Json) -> Vec<Json> {
    let mut pages = vec![first];
    while let Some(next) = pages
        .last()
        .and_then(|p| p["nextRecordsUrl"].as_str())
        .map(str::to_string)
    {
        let reply = client
            .send(client.http.get(format!("{}{next}", client.base)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{next}: {}", reply.body);
        pages.push(reply.body);
        assert!(pages.len() < 100, "paging does not end");
    }
    pages
}

#[tokio::test]
async fn default_batch_is_2000_and_locators_walk_every_row_once() {
    let handle = start_seed(json!({"records": {"Account": accounts(4500)}})).await;
    let client = Client::for_org(&handle, 0);
    let first = client.query("SELECT Name FROM Account ORDER BY Name").await;
    assert_eq!(first.status, StatusCode::OK);
    let pages = all_pages(&client, first.body).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["records"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, vec![2000, 2000, 500]);
    for page in &pages {
        assert_eq!(page["totalSize"], json!(4500));
    }
    assert_eq!(pages[0]["done"], json!(false));
    assert_eq!(pages[2]["done"], json!(true));
    assert!(
        pages[2].get("nextRecordsUrl").is_none(),
        "the last page has no nextRecordsUrl"
    );
    let next = pages[0]["nextRecordsUrl"].as_str().unwrap_or("");
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-2000"),
        "{next}"
    );
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["records"].as_array().into_iter().flatten())
        .filter_map(|r| r["Name"].as_str())
        .collect();
    let expected: Vec<String> = (0..4500).map(|i| format!("Account {i:04}")).collect();
    assert_eq!(
        names,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn batch_size_header_sets_the_page_size_within_200_to_2000() {
    let handle = start_seed(json!({"records": {"Account": accounts(1000)}})).await;
    let client = Client::for_org(&handle, 0);
    for (asked, page) in [
        ("batchSize=300", 300),
        ("batchSize=50", 200),
        ("batchSize=5000", 1000),
    ] {
        let reply = client
            .send(
                client
                    .http
                    .get(client.data_url("/query"))
                    .query(&[("q", "SELECT Id FROM Account")])
                    .header("Sforce-Query-Options", asked),
            )
            .await;
        assert_eq!(
            reply.body["records"].as_array().map(Vec::len),
            Some(page),
            "{asked}"
        );
        let pages = all_pages(&client, reply.body).await;
        let total: usize = pages
            .iter()
            .map(|p| p["records"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(total, 1000, "{asked}");
    }
}

#[tokio::test]
async fn a_bad_locator_is_refused() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    for locator in ["01g5g0000000999AAA-2000", "nonsense", "01g-x"] {
        let reply = client.get(&format!("/query/{locator}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{locator}");
        assert_eq!(reply.body[0]["errorCode"], json!("INVALID_QUERY_LOCATOR"));
    }
}

#[tokio::test]
async fn query_all_includes_deleted_rows_and_query_does_not() {
    let handle = start_seed(json!({"records": {"Account": accounts(3)}})).await;
    let client = Client::for_org(&handle, 0);
    let id = client
        .first_id("SELECT Id FROM Account WHERE Name = 'Account 0001'")
        .await;
    let deleted = client
        .send(
            client
                .http
                .delete(client.data_url(&format!("/sobjects/Account/{id}"))),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let live = client.query("SELECT Id FROM Account").await;
    assert_eq!(live.body["totalSize"], json!(2));
    let all = client
        .send(client.http.get(client.data_url("/queryAll")).query(&[(
            "q",
            "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true",
        )]))
        .await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["totalSize"], json!(1));
    assert_eq!(all.body["records"][0]["Id"], json!(id));
    let again = client.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body[0]["errorCode"], json!("ENTITY_IS_DELETED"));
}

#[tokio::test]
async fn large_child_subqueries_are_paged_by_their_own_locator() {
    let contacts: Vec<Json> = (0..450)
        .map(|i| json!({"LastName": format!("C{i:03}"), "AccountId": "@big"}))
        .collect();
    let handle = start_seed(json!({"records": {
        "Account": [{"_ref": "big", "Name": "Big"}, {"Name": "Empty"}],
        "Contact": contacts,
    }}))
    .await;
    let client = Client::for_org(&handle, 0);
    let reply = client
        .send(
            client
                .http
                .get(client.data_url("/query"))
                .query(&[("q", "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name")])
                .header("Sforce-Query-Options", "batchSize=200"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let big = &reply.body["records"][0]["Contacts"];
    assert_eq!(big["totalSize"], json!(450));
    assert_eq!(big["done"], json!(false));
    assert_eq!(big["records"].as_array().map(Vec::len), Some(200));
    assert_eq!(
        reply.body["records"][1]["Contacts"],
        Json::Null,
        "no children is null"
    );
    let pages = all_pages(&client, big.clone()).await;
    let names: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["records"].as_array().into_iter().flatten())
        .filter_map(|r| r["LastName"].as_str())
        .collect();
    assert_eq!(names.len(), 450);
    assert_eq!(names[449], "C449");
}

#[tokio::test]
async fn describe_revalidates_with_if_modified_since() {
    let handle = start_seed(json!({})).await;
    let client = Client::for_org(&handle, 0);
    let first = client.get("/sobjects/Account/describe").await;
    assert_eq!(first.status, StatusCode::OK);
    let last_modified = first.headers["last-modified"]
        .to_str()
        .expect("header")
        .to_string();
    let again = client
        .send(
            client
                .http
                .get(client.data_url("/sobjects/Account/describe"))
                .header("If-Modified-Since", &last_modified),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.body, Json::Null, "304 has no body");
    let stale = client
        .send(
            client
                .http
                .get(client.data_url("/sobjects/Account/describe"))
                .header("If-Modified-Since", "Wed, 3 Jul 2013 19:43:31 GMT"),
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body["name"], json!("Account"));
}

#[tokio::test]
async fn attributes_url_carries_the_request_version() {
    let handle = start_seed(json!({"records": {"Account": accounts(1)}})).await;
    let mut client = Client::for_org(&handle, 0);
    client.version = "48.0".into();
    let reply = client.query("SELECT Id FROM Account").await;
    let url = reply.body["records"][0]["attributes"]["url"]
        .as_str()
        .unwrap_or("");
    assert!(
        url.starts_with("/services/data/v48.0/sobjects/Account/001"),
        "{url}"
    );
    client.version = "63.0".into();
    let reply = client.query("SELECT Id FROM Account").await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "versions above --api-version are not served"
    );
}
