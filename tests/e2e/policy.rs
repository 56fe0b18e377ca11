//! The operator's guardrails hold for everything a query can touch (issue 15): with
//! `--allow-objects Account,Contact --deny-fields Account.AnnualRevenue,Email`, every query
//! that would read a disallowed object's rows or a denied field's values, through a child
//! subquery, a parent path, a semi-join, an aggregate or a filter, is refused naming what and
//! why, and no query request reaches Salesforce. The allowed variants still answer.

use serde_json::{Value, json};

use crate::common::{
    self, call, is_error, org_env, requests, spawn_server, stop, structured, text,
};

/// Queries that leaked before, each with a word its refusal must name.
const REFUSED: [(&str, &str); 9] = [
    (
        "SELECT Name, (SELECT Name, Amount FROM Opportunities) FROM Account LIMIT 5",
        "Opportunity",
    ),
    ("SELECT Name, Owner.Username FROM Account LIMIT 5", "User"),
    (
        "SELECT LastName, Account.AnnualRevenue FROM Contact LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name, (SELECT Email FROM Contacts) FROM Account LIMIT 5",
        "Email",
    ),
    ("SELECT MAX(AnnualRevenue) FROM Account", "AnnualRevenue"),
    ("SELECT SUM(AnnualRevenue) FROM Account", "AnnualRevenue"),
    (
        "SELECT Name FROM Account WHERE AnnualRevenue > 1000000 LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name FROM Account ORDER BY AnnualRevenue DESC LIMIT 5",
        "AnnualRevenue",
    ),
    (
        "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity) LIMIT 5",
        "Opportunity",
    ),
];

const ALLOWED: [&str; 3] = [
    "SELECT Name, (SELECT LastName FROM Contacts) FROM Account LIMIT 5",
    "SELECT LastName, Account.Name FROM Contact LIMIT 5",
    "SELECT COUNT() FROM Account",
];

fn query_requests(log: &[Value]) -> usize {
    log.iter()
        .filter(|entry| {
            entry["path"]
                .as_str()
                .is_some_and(|path| path.ends_with("/query") || path.contains("/query/"))
        })
        .count()
}

#[tokio::test]
async fn allow_and_deny_lists_hold_through_relationships_subqueries_and_aggregates() {
    let emulator = common::demo_emulator().await;
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_ALLOW_OBJECTS", "Account,Contact".into()));
    env.push(("SFMCP_DENY_FIELDS", "Account.AnnualRevenue,Email".into()));
    let (client, stderr) = spawn_server(&env, &[]).await;

    for (query, named) in REFUSED {
        let result = call(&client, "soql_query", json!({ "query": query })).await;
        assert!(is_error(&result), "{query} was answered: {}", text(&result));
        let message = text(&result);
        assert!(message.contains(named), "{query}: {message}");
        assert!(
            message.contains("--allow-objects") || message.contains("--deny-fields"),
            "{query}: the refusal says which setting decides: {message}"
        );
    }
    assert_eq!(
        query_requests(&requests(&emulator).await),
        0,
        "no refused query reached Salesforce"
    );

    for query in ALLOWED {
        let result = call(&client, "soql_query", json!({ "query": query })).await;
        assert!(!is_error(&result), "{query}: {}", text(&result));
        assert!(structured(&result).is_object());
    }
    stop(client, stderr).await;
}
