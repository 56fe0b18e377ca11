//! Issue 17, item 2, end to end: rmcp's client -> `sfmcp serve` (stdio) -> our client -> the
//! emulator's Analytics REST API, over the demo org. `list_reports` finds reports by name
//! (SOQL on `Report`) and lists dashboards; `run_report` describes a report, runs it with
//! filter overrides and shows a dashboard's components. Each answer is compared with the
//! emulator's own REST answer, and the summary report's figures with an equivalent SOQL
//! aggregate, which shows the emulator computes them right. The operator's allow-list and
//! deny-list hold for report columns: a report reading a denied field or a disallowed object
//! is refused, naming the column, and never run. Matrix reports render as a cross table
//! equal to the REST fact map (`<down>!<across>`) and to a SOQL GROUP BY of both fields;
//! filter logic (saved, and sent as one more item of `filters`) runs as REST runs it and as
//! SOQL counts the same condition; a run slower than the request timeout runs
//! asynchronously (instances) with the same figures; Lead and Contact report types and
//! every format are held to the policy.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{call, is_error, org_env, requests, spawn_server, stop, structured, text};
use crate::emulator_common::{Client, start_demo};

/// The id of a demo report, by name, through the emulator's own SOQL.
async fn report_id(rest: &Client, name: &str) -> String {
    rest.first_id(&format!("SELECT Id FROM Report WHERE Name = '{name}'"))
        .await
}

/// Each leaf group of a REST summary run: its label and its aggregates' values.
fn rest_groups(run: &Value) -> BTreeMap<String, Vec<Value>> {
    run["groupingsDown"]["groupings"]
        .as_array()
        .expect("groupings")
        .iter()
        .map(|g| {
            let key = g["key"].as_str().expect("key");
            let values = run["factMap"][format!("{key}!T")]["aggregates"]
                .as_array()
                .expect("aggregates")
                .iter()
                .map(|a| a["value"].clone())
                .collect();
            (g["label"].as_str().unwrap_or("-").to_string(), values)
        })
        .collect()
}

/// The tool's summary rows: the grouping label and the named aggregates.
fn tool_groups(answer: &Value, group: &str, aggregates: &[&str]) -> BTreeMap<String, Vec<Value>> {
    answer["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            let label = r[group].as_str().unwrap_or("-").to_string();
            (label, aggregates.iter().map(|a| r[*a].clone()).collect())
        })
        .collect()
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

/// Sum and count per owner from a SOQL aggregate, by owner name.
async fn soql_pipeline(rest: &Client, filter: &str) -> BTreeMap<String, (f64, u64)> {
    let reply = rest
        .query(&format!(
            "SELECT OwnerId, SUM(Amount) total, COUNT(Id) n FROM Opportunity WHERE {filter} GROUP BY OwnerId"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut out = BTreeMap::new();
    for row in reply.body["records"].as_array().expect("records") {
        let owner = row["OwnerId"].as_str().expect("OwnerId");
        let name = rest
            .get(&format!("/sobjects/User/{owner}?fields=Name"))
            .await
            .body["Name"]
            .as_str()
            .expect("owner name")
            .to_string();
        let total = row["total"].as_f64().unwrap_or(0.0);
        let count = row["n"].as_u64().expect("count");
        out.insert(name, (total, count));
    }
    out
}

fn assert_pipeline_matches(
    tool: &BTreeMap<String, Vec<Value>>,
    soql: &BTreeMap<String, (f64, u64)>,
) {
    assert_eq!(
        tool.keys().collect::<Vec<_>>(),
        soql.keys().collect::<Vec<_>>(),
        "owners differ"
    );
    for (owner, values) in tool {
        let (total, count) = soql[owner];
        assert!(
            (number(&values[0]) - total).abs() < 0.005,
            "{owner}: report sum {} vs SOQL {total}",
            values[0]
        );
        assert_eq!(number(&values[1]) as u64, count, "{owner}: record count");
    }
}

#[tokio::test]
async fn reports_are_found_described_run_and_filtered_as_the_emulator_answers() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;

    // Search by name: SOQL on Report, compared with the emulator's own answer.
    let listed = call(&client, "list_reports", json!({"search": "by rep"})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    let pipeline_id = report_id(&rest, "Pipeline by Rep").await;
    let found = structured(&listed);
    let names: Vec<&str> = found["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .collect();
    assert_eq!(names, vec!["Pipeline by Rep"], "{}", text(&listed));
    assert_eq!(found["records"][0]["Id"], json!(pipeline_id));
    let dashboards = rest.get("/analytics/dashboards").await;
    assert_eq!(dashboards.status, StatusCode::OK, "{}", dashboards.body);
    assert_eq!(
        found["dashboards"][0]["id"], dashboards.body[0]["id"],
        "dashboards listed"
    );
    // Search text is literal: `%` is no wildcard.
    let by = call(&client, "list_reports", json!({"search": " by "})).await;
    assert_eq!(structured(&by)["totalSize"], json!(3), "{}", text(&by));
    let percent = call(&client, "list_reports", json!({"search": "%"})).await;
    assert_eq!(
        structured(&percent)["totalSize"],
        json!(0),
        "{}",
        text(&percent)
    );
    let all = call(&client, "list_reports", json!({})).await;
    assert_eq!(structured(&all)["totalSize"], json!(6), "{}", text(&all));

    // Describe: columns, grouping, summaries and the saved filter, without running.
    let described = call(
        &client,
        "run_report",
        json!({"report": "Pipeline_by_Rep", "describe": true}),
    )
    .await;
    assert!(!is_error(&described), "{}", text(&described));
    let describe = rest
        .get(&format!("/analytics/reports/{pipeline_id}/describe"))
        .await;
    assert_eq!(describe.status, StatusCode::OK, "{}", describe.body);
    let d = structured(&described);
    assert_eq!(
        d["detailColumns"],
        describe.body["reportMetadata"]["detailColumns"]
    );
    assert_eq!(
        d["aggregates"],
        describe.body["reportMetadata"]["aggregates"]
    );
    assert_eq!(d["groupings"], json!(["FULL_NAME"]));
    assert_eq!(
        d["filters"],
        json!([{"column": "CLOSED", "operator": "equals", "value": "False"}])
    );

    // Run by name: the same groups and figures as the emulator's REST run, and as SOQL.
    let ran = call(&client, "run_report", json!({"report": "Pipeline by Rep"})).await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let ran_text = text(&ran);
    assert!(ran_text.contains("<data untrusted>\n"), "{ran_text}");
    assert!(ran_text.contains("grand total: "), "{ran_text}");
    let answer = structured(&ran);
    let tool = tool_groups(
        &answer,
        "Opportunity Owner",
        &["Sum of Amount", "Record Count"],
    );
    let run = rest
        .get(&format!(
            "/analytics/reports/{pipeline_id}?includeDetails=false"
        ))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(tool, rest_groups(&run.body), "tool and REST run differ");
    assert!(
        tool.len() > 1,
        "the demo pipeline has several owners: {ran_text}"
    );
    assert_pipeline_matches(&tool, &soql_pipeline(&rest, "IsClosed = false").await);
    assert_eq!(
        number(&answer["grandTotal"]["Record Count"]) as u64,
        run.body["factMap"]["T!T"]["aggregates"][1]["value"]
            .as_u64()
            .expect("grand total")
    );

    // Filter overrides: one replaces the saved filter on its column, one is added.
    let filtered = call(
        &client,
        "run_report",
        json!({"report": pipeline_id, "filters": [
            "CLOSED equals True",
            "STAGE_NAME equals Closed Won",
            "AMOUNT greaterThan 20000",
        ]}),
    )
    .await;
    assert!(!is_error(&filtered), "{}", text(&filtered));
    let f = structured(&filtered);
    assert_eq!(
        f["filters"],
        json!([
            {"column": "CLOSED", "operator": "equals", "value": "True"},
            {"column": "STAGE_NAME", "operator": "equals", "value": "Closed Won"},
            {"column": "AMOUNT", "operator": "greaterThan", "value": "20000"},
        ])
    );
    let tool = tool_groups(&f, "Opportunity Owner", &["Sum of Amount", "Record Count"]);
    assert_pipeline_matches(
        &tool,
        &soql_pipeline(
            &rest,
            "IsClosed = true AND StageName = 'Closed Won' AND Amount > 20000",
        )
        .await,
    );
    let posted = rest
        .post(
            &format!("/analytics/reports/{pipeline_id}"),
            &json!({"reportMetadata": {"reportFilters": [
                {"column": "CLOSED", "operator": "equals", "value": "True"},
                {"column": "STAGE_NAME", "operator": "equals", "value": "Closed Won"},
                {"column": "AMOUNT", "operator": "greaterThan", "value": "20000"},
            ]}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert_eq!(tool, rest_groups(&posted.body));
    let log = requests(&emulator).await;
    assert!(
        log.iter().any(|r| r["method"] == json!("POST")
            && r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/analytics/reports/{pipeline_id}")))),
        "the filtered run was not a POST of the report"
    );

    // A bad filter is refused before any run, saying what to send.
    let bad = call(
        &client,
        "run_report",
        json!({"report": pipeline_id, "filters": ["AMOUNT is big"]}),
    )
    .await;
    assert!(is_error(&bad));
    assert!(
        text(&bad).contains("COLUMN operator value"),
        "{}",
        text(&bad)
    );

    // A name with a slash is a name (reports such as "Win/Loss"), not "<report>/<run>".
    let slashed = call(&client, "run_report", json!({"report": "Win/Loss"})).await;
    assert!(is_error(&slashed), "{}", text(&slashed));
    assert!(
        text(&slashed).contains("no report is named \"Win/Loss\""),
        "{}",
        text(&slashed)
    );

    // A tabular report: its detail rows, as the REST run has them, within max_rows.
    let cases = call(&client, "run_report", json!({"report": "Open Cases"})).await;
    assert!(!is_error(&cases), "{}", text(&cases));
    let cases_id = report_id(&rest, "Open Cases").await;
    let run = rest
        .get(&format!(
            "/analytics/reports/{cases_id}?includeDetails=true"
        ))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let rest_rows = run.body["factMap"]["T!T"]["rows"].as_array().expect("rows");
    let open = rest
        .query("SELECT COUNT() FROM Case WHERE IsClosed = false")
        .await
        .body["totalSize"]
        .as_u64()
        .expect("count");
    assert_eq!(rest_rows.len() as u64, open, "REST rows vs SOQL count");
    let c = structured(&cases);
    assert_eq!(c["total"], json!(open));
    let rows = c["records"].as_array().expect("records");
    // Within the default row budget (200), the rest said, not lost silently.
    assert_eq!(rows.len() as u64, open.min(200));
    for (got, want) in rows.iter().zip(rest_rows) {
        assert_eq!(got["Case Number"], want["dataCells"][0]["label"]);
        assert_eq!(got["Subject"], want["dataCells"][1]["label"]);
    }
    if open > 200 {
        assert!(
            text(&cases).contains(&format!("{} more rows not shown", open - 200)),
            "{}",
            text(&cases)
        );
    }

    // A dashboard: each component's report result, as the REST dashboard answers.
    let dashboard_id = dashboards.body[0]["id"].as_str().expect("dashboard id");
    let shown = call(&client, "run_report", json!({"report": dashboard_id})).await;
    assert!(!is_error(&shown), "{}", text(&shown));
    let board = rest
        .get(&format!("/analytics/dashboards/{dashboard_id}"))
        .await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    let components = structured(&shown)["components"].clone();
    assert_eq!(components.as_array().map(Vec::len), Some(2));
    let first = &board.body["componentData"][0]["reportResult"];
    let tool_rows = components[0]["rows"].as_array().expect("rows");
    assert_eq!(tool_rows.len(), rest_groups(first).len());

    stop(client, stderr).await;
}

#[tokio::test]
async fn report_columns_are_held_to_the_operators_policy() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let industry_id = report_id(&rest, "Accounts by Industry").await;

    // A denied field in a column refuses the report, naming the column and the field, and
    // the report is never run; a report without it still runs.
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--deny-fields", "Account.Phone"],
    )
    .await;
    let refused = call(&client, "run_report", json!({"report": industry_id})).await;
    assert!(is_error(&refused), "{}", text(&refused));
    let message = text(&refused);
    assert!(message.contains("PHONE1"), "{message}");
    assert!(message.contains("Account.Phone"), "{message}");
    let described = call(
        &client,
        "run_report",
        json!({"report": industry_id, "describe": true}),
    )
    .await;
    assert!(
        is_error(&described),
        "describe shows a refused report's columns"
    );
    // A filter on a denied field leaks it as surely as a column: refused too.
    let by_filter = call(
        &client,
        "run_report",
        json!({"report": "Pipeline by Rep", "filters": ["Account.Phone equals 555"]}),
    )
    .await;
    assert!(is_error(&by_filter), "{}", text(&by_filter));
    let ran = call(&client, "run_report", json!({"report": "Pipeline by Rep"})).await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let log = requests(&emulator).await;
    assert!(
        !log.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(&format!("/analytics/reports/{industry_id}")))),
        "a refused report was run"
    );
    stop(client, stderr).await;

    // An object outside the allow-list: the report type's object, or one a column reaches
    // through a parent path (the owner's name reads User).
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--allow-objects", "Account,Opportunity,Report"],
    )
    .await;
    let cases = call(&client, "run_report", json!({"report": "Open Cases"})).await;
    assert!(is_error(&cases), "{}", text(&cases));
    assert!(text(&cases).contains("Case"), "{}", text(&cases));
    let pipeline = call(&client, "run_report", json!({"report": "Pipeline by Rep"})).await;
    assert!(is_error(&pipeline), "{}", text(&pipeline));
    assert!(text(&pipeline).contains("FULL_NAME"), "{}", text(&pipeline));
    assert!(text(&pipeline).contains("User"), "{}", text(&pipeline));
    stop(client, stderr).await;

    // The operator's row budget holds for reports too.
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &[
            "--allow-objects",
            "Account,Opportunity,User",
            "--max-rows",
            "2",
        ],
    )
    .await;
    // Finding reports reads Report: outside this allow-list.
    let listed = call(&client, "list_reports", json!({})).await;
    assert!(is_error(&listed), "{}", text(&listed));
    assert!(text(&listed).contains("Report"), "{}", text(&listed));
    let pipeline_id = report_id(&rest, "Pipeline by Rep").await;
    let ran = call(&client, "run_report", json!({"report": pipeline_id})).await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let answer = structured(&ran);
    assert_eq!(answer["records"].as_array().map(Vec::len), Some(2));
    let groups = answer["total"].as_u64().expect("total");
    assert!(groups > 2, "{}", text(&ran));
    assert!(
        text(&ran).contains(&format!("groups: 2 of {groups}")),
        "{}",
        text(&ran)
    );
    assert!(
        text(&ran).contains("more groups not shown"),
        "{}",
        text(&ran)
    );
    stop(client, stderr).await;
}

/// "Run the Pipeline by Rep report for this quarter" over Streamable HTTP: the same groups
/// and figures as the emulator's REST run with the same filters.
#[tokio::test]
async fn over_http_a_report_runs_with_filter_overrides_as_rest_answers() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let (mut child, url) = crate::common::spawn_http(org_env(&emulator.orgs[0]), &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    let ran = call(
        &client,
        "run_report",
        json!({"report": "Pipeline by Rep", "filters": ["CLOSE_DATE equals THIS_QUARTER"]}),
    )
    .await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let tool = tool_groups(
        &structured(&ran),
        "Opportunity Owner",
        &["Sum of Amount", "Record Count"],
    );
    let pipeline_id = report_id(&rest, "Pipeline by Rep").await;
    let posted = rest
        .post(
            &format!("/analytics/reports/{pipeline_id}"),
            &json!({"reportMetadata": {"reportFilters": [
                {"column": "CLOSED", "operator": "equals", "value": "False"},
                {"column": "CLOSE_DATE", "operator": "equals", "value": "THIS_QUARTER"},
            ]}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert!(!tool.is_empty(), "the demo has deals closing this quarter");
    assert_eq!(tool, rest_groups(&posted.body));
    assert_pipeline_matches(
        &tool,
        &soql_pipeline(&rest, "IsClosed = false AND CloseDate = THIS_QUARTER").await,
    );
    let _ = client.cancel().await;
    let _ = child.kill().await;
}

/// The label of each group of a REST run's `groupingsDown` or `groupingsAcross`, by key.
fn rest_labels(groupings: &Value) -> Vec<(String, String)> {
    groupings["groupings"]
        .as_array()
        .expect("groupings")
        .iter()
        .map(|g| {
            (
                g["key"].as_str().expect("key").to_string(),
                g["label"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

/// Sum of Amount and Record Count per (stage, type) from SOQL, the emulator's own engine.
async fn soql_stage_by_type(rest: &Client) -> BTreeMap<(String, String), (f64, u64)> {
    let reply = rest
        .query("SELECT StageName, Type, SUM(Amount) total, COUNT(Id) n FROM Opportunity GROUP BY StageName, Type")
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|row| {
            let label = |v: &Value| v.as_str().unwrap_or("-").to_string();
            (
                (label(&row["StageName"]), label(&row["Type"])),
                (
                    row["total"].as_f64().unwrap_or(0.0),
                    row["n"].as_u64().expect("count"),
                ),
            )
        })
        .collect()
}

/// A matrix report through the tool: one row per stage, a Sum and a Count cell per type and
/// the row's totals, each equal to the emulator's REST fact map (`<down>!<across>`) and to a
/// SOQL GROUP BY of the same two fields; the column totals equal `T!<across>`.
async fn assert_matrix_matches_rest<S: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
    rest: &Client,
) {
    let ran = call(
        client,
        "run_report",
        json!({"report": "Pipeline by Stage and Type"}),
    )
    .await;
    assert!(!is_error(&ran), "{}", text(&ran));
    let shown = text(&ran);
    assert!(shown.contains("MATRIX"), "{shown}");
    assert!(
        shown.contains("column totals:\n<data untrusted>\n"),
        "{shown}"
    );
    let answer = structured(&ran);
    let id = report_id(rest, "Pipeline by Stage and Type").await;
    let run = rest
        .get(&format!("/analytics/reports/{id}?includeDetails=false"))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let fact = &run.body["factMap"];
    let downs = rest_labels(&run.body["groupingsDown"]);
    let acrosses = rest_labels(&run.body["groupingsAcross"]);
    assert!(downs.len() > 1 && acrosses.len() > 1, "{}", run.body);
    let records = answer["records"].as_array().expect("records");
    assert_eq!(records.len(), downs.len(), "{shown}");
    let soql = soql_stage_by_type(rest).await;
    let mut cells = 0;
    for (record, (down_key, stage)) in records.iter().zip(&downs) {
        assert_eq!(record["Stage"], json!(stage), "{shown}");
        for (across_key, kind) in acrosses
            .iter()
            .map(|(k, l)| (k.as_str(), l.as_str()))
            .chain([("T", "Total")])
        {
            let aggregates = &fact[format!("{down_key}!{across_key}")]["aggregates"];
            let sum = &record[format!("{kind}: Sum of Amount")];
            let count = &record[format!("{kind}: Record Count")];
            assert_eq!(sum, &aggregates[0]["value"], "{stage} x {kind}: {shown}");
            assert_eq!(count, &aggregates[1]["value"], "{stage} x {kind}: {shown}");
            if across_key != "T" {
                let (total, n) = soql
                    .get(&(stage.clone(), kind.to_string()))
                    .copied()
                    .unwrap_or((0.0, 0));
                assert!((number(sum) - total).abs() < 0.005, "{stage} x {kind}");
                assert_eq!(number(count) as u64, n, "{stage} x {kind}");
                cells += 1;
            }
        }
    }
    assert_eq!(cells, downs.len() * acrosses.len());
    for (across_key, kind) in &acrosses {
        let aggregates = &fact[format!("T!{across_key}")]["aggregates"];
        assert_eq!(
            answer["columnTotals"][format!("{kind}: Sum of Amount")],
            aggregates[0]["value"],
            "column total of {kind}"
        );
    }
    assert_eq!(
        answer["grandTotal"]["Record Count"],
        fact["T!T"]["aggregates"][1]["value"]
    );
    // Its describe names both groupings, as the REST describe does.
    let described = call(
        client,
        "run_report",
        json!({"report": "Pipeline by Stage and Type", "describe": true}),
    )
    .await;
    assert!(!is_error(&described), "{}", text(&described));
    assert!(
        text(&described).contains("columns grouped by: TYPE"),
        "{}",
        text(&described)
    );
    let rest_describe = rest.get(&format!("/analytics/reports/{id}/describe")).await;
    let d = structured(&described);
    assert_eq!(d["groupings"], json!(["STAGE_NAME"]));
    assert_eq!(d["groupingsAcross"], json!(["TYPE"]));
    assert_eq!(
        rest_describe.body["reportMetadata"]["groupingsAcross"][0]["name"],
        json!("TYPE")
    );
}

/// Leads grouped by status, each group's count, from a REST run's fact map.
fn rest_counts(run: &Value) -> BTreeMap<String, u64> {
    rest_groups(run)
        .into_iter()
        .map(|(label, values)| (label, values[0].as_u64().expect("count")))
        .collect()
}

async fn soql_counts(rest: &Client, filter: &str) -> BTreeMap<String, u64> {
    let reply = rest
        .query(&format!(
            "SELECT Status, COUNT(Id) n FROM Lead WHERE {filter} GROUP BY Status"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                r["Status"].as_str().unwrap_or("-").to_string(),
                r["n"].as_u64().expect("n"),
            )
        })
        .collect()
}

fn tool_counts(result: &rmcp::model::CallToolResult) -> BTreeMap<String, u64> {
    tool_groups(&structured(result), "Lead Status", &["Record Count"])
        .into_iter()
        .map(|(label, values)| (label, number(&values[0]) as u64))
        .collect()
}

/// The saved logic `(1 OR 2) AND 3`, and logic sent with the filters, each run as REST runs
/// it and counted as SOQL counts the same condition; a bad logic is refused before any run.
async fn assert_filter_logic_holds<S: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
    rest: &Client,
    emulator: &sfmcp_emulator::EmulatorHandle,
) {
    let id = report_id(rest, "Open or Web Leads").await;
    let saved = call(client, "run_report", json!({"report": "Open or Web Leads"})).await;
    assert!(!is_error(&saved), "{}", text(&saved));
    assert!(
        text(&saved).contains("logic \"(1 OR 2) AND 3\""),
        "{}",
        text(&saved)
    );
    let run = rest
        .get(&format!("/analytics/reports/{id}?includeDetails=false"))
        .await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let expected = soql_counts(
        rest,
        "(Status = 'Open - Not Contacted' OR LeadSource = 'Web') AND IsConverted = false",
    )
    .await;
    assert_eq!(tool_counts(&saved), rest_counts(&run.body));
    assert_eq!(tool_counts(&saved), expected);
    // Plain AND would give fewer groups: the logic is what ran.
    let and_only = soql_counts(
        rest,
        "Status = 'Open - Not Contacted' AND LeadSource = 'Web' AND IsConverted = false",
    )
    .await;
    assert_ne!(expected, and_only, "the demo must tell OR from AND");

    // Logic sent with the filters: filter 2 replaced in place, a fourth added.
    let overridden = call(
        client,
        "run_report",
        json!({"report": id, "filters": [
            "LEAD_SOURCE equals Phone Inquiry",
            "INDUSTRY equals Technology,Banking",
            "(1 OR NOT 2) AND 3 AND 4",
        ]}),
    )
    .await;
    assert!(!is_error(&overridden), "{}", text(&overridden));
    assert_eq!(
        structured(&overridden)["filterLogic"],
        json!("(1 OR NOT 2) AND 3 AND 4")
    );
    let posted = rest
        .post(
            &format!("/analytics/reports/{id}"),
            &json!({"reportMetadata": {
                "reportBooleanFilter": "(1 OR NOT 2) AND 3 AND 4",
                "reportFilters": [
                    {"column": "STATUS", "operator": "equals", "value": "Open - Not Contacted"},
                    {"column": "LEAD_SOURCE", "operator": "equals", "value": "Phone Inquiry"},
                    {"column": "CONVERTED", "operator": "equals", "value": "False"},
                    {"column": "INDUSTRY", "operator": "equals", "value": "Technology,Banking"},
                ],
            }}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert_eq!(tool_counts(&overridden), rest_counts(&posted.body));
    assert_eq!(
        tool_counts(&overridden),
        soql_counts(
            rest,
            "(Status = 'Open - Not Contacted' OR (NOT LeadSource = 'Phone Inquiry')) AND IsConverted = false AND (Industry = 'Technology' OR Industry = 'Banking')",
        )
        .await
    );

    // Bad logic: refused with the numbering, and nothing run.
    let before = requests(emulator).await.len();
    for (logic, why) in [
        ("1 AND 2 OR 3", "parentheses"),
        ("(1 OR 4) AND 2 AND 3", "filter 4 does not exist"),
        ("1 AND 2", "filter 3 is not used"),
    ] {
        let refused = call(
            client,
            "run_report",
            json!({"report": id, "filters": [logic]}),
        )
        .await;
        let shown = text(&refused);
        assert!(is_error(&refused), "{logic}: {shown}");
        assert!(shown.contains(why), "{logic}: {shown}");
        assert!(
            shown.contains("1 = STATUS, 2 = LEAD_SOURCE, 3 = CONVERTED"),
            "{shown}"
        );
    }
    let runs = requests(emulator).await[before..]
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/analytics/reports/{id}")))
        })
        .count();
    assert_eq!(runs, 0, "a report with bad logic was run");
    // The emulator refuses the same logic, in Salesforce's place.
    let posted = rest
        .post(
            &format!("/analytics/reports/{id}"),
            &json!({"reportMetadata": {"reportBooleanFilter": "1 AND 2 OR 3"}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{}", posted.body);
}

#[tokio::test]
async fn matrix_reports_and_filter_logic_answer_as_rest_over_stdio() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let (client, stderr) = spawn_server(&org_env(&emulator.orgs[0]), &[]).await;
    assert_matrix_matches_rest(&client, &rest).await;
    assert_filter_logic_holds(&client, &rest, &emulator).await;
    // The Contact report type: its rows are the contacts with an email, as REST has them.
    let contacts = call(
        &client,
        "run_report",
        json!({"report": "Contacts with Email"}),
    )
    .await;
    assert!(!is_error(&contacts), "{}", text(&contacts));
    let id = report_id(&rest, "Contacts with Email").await;
    let run = rest
        .get(&format!("/analytics/reports/{id}?includeDetails=true"))
        .await;
    let with_email = rest
        .query("SELECT COUNT() FROM Contact WHERE Email != null")
        .await
        .body["totalSize"]
        .as_u64()
        .expect("count");
    // A synchronous run stops at 2,000 detail rows (allData false), and the tool says so.
    let rest_rows = run.body["factMap"]["T!T"]["rows"].as_array().expect("rows");
    assert_eq!(rest_rows.len() as u64, with_email.min(2000));
    assert_eq!(structured(&contacts)["total"], json!(rest_rows.len()));
    assert_eq!(run.body["allData"], json!(with_email <= 2000));
    if with_email > 2000 {
        assert!(
            text(&contacts).contains("only the first 2,000 detail rows"),
            "{}",
            text(&contacts)
        );
    }
    for (got, want) in structured(&contacts)["records"]
        .as_array()
        .expect("records")
        .iter()
        .zip(rest_rows)
    {
        assert_eq!(got["Email"], want["dataCells"][3]["label"]);
        assert_eq!(got["Account Name"], want["dataCells"][4]["label"]);
    }
    stop(client, stderr).await;
}

#[tokio::test]
async fn matrix_reports_filter_logic_and_slow_runs_answer_as_rest_over_http() {
    use rmcp::ServiceExt;
    use rmcp::transport::StreamableHttpClientTransport;
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_REQUEST_TIMEOUT_SECS", TIMEOUT_SECS.to_string()));
    let (mut child, url) = crate::common::spawn_http(env, &[]).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(url))
            .await
            .expect("MCP session over HTTP");
    assert_matrix_matches_rest(&client, &rest).await;
    assert_filter_logic_holds(&client, &rest, &emulator).await;
    assert_slow_report_runs_async(&client, &rest, &emulator).await;
    let _ = client.cancel().await;
    let _ = child.kill().await;
}

async fn emulator_control(emulator: &sfmcp_emulator::EmulatorHandle, what: &str, body: Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/__emulator/{what}", emulator.base_url))
        .json(&body)
        .send()
        .await
        .expect("control plane");
    assert!(
        response.status().is_success(),
        "{what}: {}",
        response.status()
    );
}

/// "Run the pipeline report" when the synchronous run does not answer in time (Salesforce's
/// guide: long reports should run asynchronously): run_report starts an instance with the
/// same filters, polls its results and answers with the same figures as a synchronous REST
/// run; a run can be read again by "<report>/<run>"; another user cannot read it.
/// The server's request timeout in the tests of slow runs; the synchronous run is made
/// slower than it, and nothing else.
const TIMEOUT_SECS: u64 = 2;

async fn assert_slow_report_runs_async<S: rmcp::ClientHandler>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
    rest: &Client,
    emulator: &sfmcp_emulator::EmulatorHandle,
) {
    let id = report_id(rest, "Pipeline by Rep").await;
    emulator_control(
        emulator,
        "faults",
        json!({"path_regex": format!("/analytics/reports/{id}$"), "latency_ms": TIMEOUT_SECS * 1000 + 2000}),
    )
    .await;
    let ran = call(
        client,
        "run_report",
        json!({"report": "Pipeline by Rep", "filters": ["AMOUNT greaterThan 20000"]}),
    )
    .await;
    emulator_control(emulator, "faults/clear", json!({})).await;
    let shown = text(&ran);
    assert!(!is_error(&ran), "{shown}");
    assert!(shown.contains("ran asynchronously (run 0LG"), "{shown}");
    let run_id: String = shown
        .split("(run ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("run id")
        .to_string();
    let tool = tool_groups(
        &structured(&ran),
        "Opportunity Owner",
        &["Sum of Amount", "Record Count"],
    );
    let posted = rest
        .post(
            &format!("/analytics/reports/{id}"),
            &json!({"reportMetadata": {"reportFilters": [
                {"column": "CLOSED", "operator": "equals", "value": "False"},
                {"column": "AMOUNT", "operator": "greaterThan", "value": "20000"},
            ]}}),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert!(!tool.is_empty());
    assert_eq!(
        tool,
        rest_groups(&posted.body),
        "async run vs synchronous REST run"
    );
    assert_pipeline_matches(
        &tool,
        &soql_pipeline(rest, "IsClosed = false AND Amount > 20000").await,
    );
    // The instance was started with the filters and its results were polled (Running, then
    // Success).
    let log = requests(emulator).await;
    let instances = format!("/analytics/reports/{id}/instances");
    assert!(
        log.iter().any(|r| r["method"] == json!("POST")
            && r["path"].as_str().is_some_and(|p| p.ends_with(&instances))),
        "no asynchronous run was started"
    );
    let polls = log
        .iter()
        .filter(|r| {
            r["method"] == json!("GET")
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&format!("{instances}/{run_id}")))
        })
        .count();
    assert!(polls >= 2, "results read {polls} times");
    let listed = rest.get(&instances).await;
    assert_eq!(listed.body[0]["id"], json!(run_id), "{}", listed.body);
    assert_eq!(listed.body[0]["status"], json!("Success"));

    // Read again later by "<report>/<run>": the same figures.
    let again = call(
        client,
        "run_report",
        json!({"report": format!("{id}/{run_id}")}),
    )
    .await;
    assert!(!is_error(&again), "{}", text(&again));
    let again = tool_groups(
        &structured(&again),
        "Opportunity Owner",
        &["Sum of Amount", "Record Count"],
    );
    assert_eq!(again, tool);
    // Another user of the org cannot read this user's run.
    let rep = rest
        .first_id(&format!(
            "SELECT Id FROM User WHERE IsActive = true AND Id != '{}' LIMIT 1",
            emulator.orgs[0].user_id
        ))
        .await;
    let other = Client::new(
        emulator,
        &crate::emulator_common::token_for(emulator, 0, &rep),
    );
    let stranger = other.get(&format!("{instances}/{run_id}")).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND, "{}", stranger.body);

    // A run Salesforce could not finish (status Error) is an error saying so, not a table.
    emulator_control(
        emulator,
        "faults",
        json!({"path_regex": format!("/analytics/reports/{id}$"), "latency_ms": TIMEOUT_SECS * 1000 + 2000}),
    )
    .await;
    emulator_control(
        emulator,
        "faults",
        json!({"path_regex": format!("{instances}/0LG[A-Za-z0-9]+$"), "status": 200,
            "body": {"attributes": {"status": "Error", "type": "ReportInstance"}}}),
    )
    .await;
    let failed = call(client, "run_report", json!({"report": "Pipeline by Rep"})).await;
    emulator_control(emulator, "faults/clear", json!({})).await;
    assert!(is_error(&failed), "{}", text(&failed));
    assert!(
        text(&failed).contains("ended with status Error"),
        "{}",
        text(&failed)
    );
}

#[tokio::test]
async fn a_report_too_slow_for_a_synchronous_run_runs_asynchronously() {
    let emulator = start_demo().await;
    let rest = Client::for_org(&emulator, 0);
    let mut env = org_env(&emulator.orgs[0]);
    env.push(("SFMCP_REQUEST_TIMEOUT_SECS", TIMEOUT_SECS.to_string()));
    let (client, stderr) = spawn_server(&env, &[]).await;
    assert_slow_report_runs_async(&client, &rest, &emulator).await;
    stop(client, stderr).await;
}

/// The new report types and formats are held to the policy like the others: a denied field
/// in a matrix's column grouping, in a saved filter combined by logic, in a Contact column;
/// and the owner column of Lead and Case reports reads User.
#[tokio::test]
async fn every_report_type_and_format_is_held_to_the_operators_policy() {
    let emulator = start_demo().await;
    for (deny, report, column) in [
        ("Opportunity.Type", "Pipeline by Stage and Type", "TYPE"),
        ("Lead.LeadSource", "Open or Web Leads", "LEAD_SOURCE"),
        ("Contact.Email", "Contacts with Email", "EMAIL"),
    ] {
        let (client, stderr) =
            spawn_server(&org_env(&emulator.orgs[0]), &["--deny-fields", deny]).await;
        let refused = call(&client, "run_report", json!({"report": report})).await;
        let shown = text(&refused);
        assert!(is_error(&refused), "{deny}: {shown}");
        assert!(shown.contains(column), "{deny}: {shown}");
        assert!(shown.contains(deny), "{deny}: {shown}");
        stop(client, stderr).await;
    }
    let (client, stderr) = spawn_server(
        &org_env(&emulator.orgs[0]),
        &["--allow-objects", "Lead,Contact,Account,Report"],
    )
    .await;
    let leads = call(
        &client,
        "run_report",
        json!({"report": "Open or Web Leads"}),
    )
    .await;
    assert!(is_error(&leads), "{}", text(&leads));
    assert!(text(&leads).contains("OWNER"), "{}", text(&leads));
    // A filter the model adds is checked too, whatever logic combines it.
    let contacts = call(
        &client,
        "run_report",
        json!({"report": "Contacts with Email", "filters": ["Contact.Owner.Email equals x", "1 OR 2"]}),
    )
    .await;
    assert!(is_error(&contacts), "{}", text(&contacts));
    assert!(text(&contacts).contains("User"), "{}", text(&contacts));
    let contacts = call(
        &client,
        "run_report",
        json!({"report": "Contacts with Email"}),
    )
    .await;
    assert!(!is_error(&contacts), "{}", text(&contacts));
    stop(client, stderr).await;
    let log = requests(&emulator).await;
    let rest = Client::for_org(&emulator, 0);
    for name in ["Pipeline by Stage and Type", "Open or Web Leads"] {
        let id = report_id(&rest, name).await;
        assert!(
            !log.iter().any(|r| r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(&format!("/analytics/reports/{id}")))),
            "the refused report {name} was run"
        );
    }
}
