//! Reports and dashboards (Analytics REST API): the `Report` object SOQL reads, the recent
//! reports list, a report's `describe`, a synchronous run (GET, or POST with `reportMetadata`
//! whose `reportFilters` replace the saved ones), and dashboards whose components show
//! reports' results.
//!
//! Shapes follow the Salesforce Reports and Dashboards REST API Developer Guide:
//! - "Get Report Metadata" (`/analytics/reports/{id}/describe`: `reportMetadata`,
//!   `reportExtendedMetadata`, `reportTypeMetadata`),
//!   <https://developer.salesforce.com/docs/atlas.en-us.api_analytics.meta/api_analytics/sforce_analytics_rest_api_get_reportmetadata.htm>
//! - "Decode the Fact Map" (keys `T!T` for a tabular report's rows and grand total, `0!T`,
//!   `0_1!T` for summary groupings),
//!   <https://developer.salesforce.com/docs/atlas.en-us.api_analytics.meta/api_analytics/sforce_analytics_rest_api_factmap_example.htm>
//! - "Get Report Data without Saving Changes" (its example answer: cell `label`/`value`, a
//!   currency cell's value `{amount, currency}`, a lookup's value its Id and label its name,
//!   `-` and `null` for empty, aggregates `RowCount` and `s!AMOUNT`);
//! - "Filter Report Data" (POST `reportMetadata.reportFilters` with `column`, `operator`,
//!   `value`; operators `equals`, `notEqual`, `lessThan`, `greaterThan`, `lessOrEqual`,
//!   `greaterOrEqual`, `contains`, `notContain`, `startsWith`; a comma-separated value is any
//!   of them);
//! - "Get Dashboard Results" (`/analytics/dashboards/{id}`: `componentData` with each
//!   component's `reportResult`, and `dashboardMetadata.components`).
//!
//! Standard report types name their columns the legacy way (`OPPORTUNITY_NAME`, `AMOUNT`,
//! `FULL_NAME` for the owner, `ACCOUNT.NAME`), as the documented examples show; each column
//! here says which field path it reads. A run is a SOQL query of those paths through
//! [`super::engine::run`], as the caller (sharing and field-level security apply), grouped
//! and summed here. Synchronous runs return at most 2,000 detail rows (`allData` false past
//! that). Not served: matrix reports, `reportBooleanFilter`, overriding anything but
//! `reportFilters`, asynchronous instances.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};

use super::errors::ApiError;
use super::rest::json_response;
use super::schema::{ObjectDef, Sharing, datetime, picklist, text, textarea};
use super::seed::OrgBuilder;
use super::state::{AppState, Ctx};

type Outcome = Result<Response, Vec<ApiError>>;

/// The `Report` object, as SOQL reads it (Object Reference, "Report").
pub fn report_object() -> ObjectDef {
    ObjectDef::new("Report", "00O", "Report", "Reports")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            text("Name", 40).read_only().name_field(),
            text("DeveloperName", 80).read_only(),
            text("NamespacePrefix", 15).read_only(),
            text("FolderName", 80).read_only(),
            picklist("Format", &["Tabular", "Summary", "Matrix", "MultiBlock"]).read_only(),
            textarea("Description", 255).read_only(),
            datetime("LastRunDate").read_only(),
        ])
        .finish(false)
}

/// One column of a report type: its API name, the field path it reads from the type's base
/// object, and, for a name shown in place of a record, the path of that record's Id (the
/// cell's `value`).
struct Column {
    name: &'static str,
    label: &'static str,
    data_type: &'static str,
    path: &'static str,
    id_path: Option<&'static str>,
}

const fn col(
    name: &'static str,
    label: &'static str,
    data_type: &'static str,
    path: &'static str,
) -> Column {
    Column {
        name,
        label,
        data_type,
        path,
        id_path: None,
    }
}

const fn named(
    name: &'static str,
    label: &'static str,
    path: &'static str,
    id_path: &'static str,
) -> Column {
    Column {
        name,
        label,
        data_type: "string",
        path,
        id_path: Some(id_path),
    }
}

struct ReportType {
    type_name: &'static str,
    label: &'static str,
    object: &'static str,
    columns: &'static [Column],
}

const OPPORTUNITIES: ReportType = ReportType {
    type_name: "Opportunity",
    label: "Opportunities",
    object: "Opportunity",
    columns: &[
        named("OPPORTUNITY_NAME", "Opportunity Name", "Name", "Id"),
        named("ACCOUNT_NAME", "Account Name", "Account.Name", "Account.Id"),
        named("FULL_NAME", "Opportunity Owner", "Owner.Name", "Owner.Id"),
        col("AMOUNT", "Amount", "currency", "Amount"),
        col("STAGE_NAME", "Stage", "picklist", "StageName"),
        col("CLOSE_DATE", "Close Date", "date", "CloseDate"),
        col("TYPE", "Type", "picklist", "Type"),
        col("LEAD_SOURCE", "Lead Source", "picklist", "LeadSource"),
        col("PROBABILITY", "Probability (%)", "percent", "Probability"),
        col("CLOSED", "Closed", "boolean", "IsClosed"),
        col("WON", "Won", "boolean", "IsWon"),
    ],
};

const CASES: ReportType = ReportType {
    type_name: "CaseList",
    label: "Cases",
    object: "Case",
    columns: &[
        named("CASE_NUMBER", "Case Number", "CaseNumber", "Id"),
        col("SUBJECT", "Subject", "string", "Subject"),
        col("STATUS", "Status", "picklist", "Status"),
        col("PRIORITY", "Priority", "picklist", "Priority"),
        named("ACCOUNT.NAME", "Account Name", "Account.Name", "Account.Id"),
        col(
            "CREATED_DATE",
            "Date/Time Opened",
            "datetime",
            "CreatedDate",
        ),
        col("CLOSED", "Closed", "boolean", "IsClosed"),
    ],
};

const ACCOUNTS: ReportType = ReportType {
    type_name: "AccountList",
    label: "Accounts",
    object: "Account",
    columns: &[
        named("ACCOUNT.NAME", "Account Name", "Name", "Id"),
        col("INDUSTRY", "Industry", "picklist", "Industry"),
        col("TYPE", "Type", "picklist", "Type"),
        col(
            "ADDRESS1_STATE",
            "Billing State/Province",
            "string",
            "BillingState",
        ),
        col("PHONE1", "Phone", "phone", "Phone"),
        named("USERS.NAME", "Account Owner", "Owner.Name", "Owner.Id"),
    ],
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Tabular,
    Summary,
}

struct Definition {
    developer_name: &'static str,
    name: &'static str,
    folder: &'static str,
    description: &'static str,
    format: Format,
    report_type: &'static ReportType,
    detail_columns: &'static [&'static str],
    groupings: &'static [&'static str],
    aggregates: &'static [&'static str],
    filters: &'static [(&'static str, &'static str, &'static str)],
}

/// The reports every org has: what a sales admin builds first.
const REPORTS: [Definition; 3] = [
    Definition {
        developer_name: "Pipeline_by_Rep",
        name: "Pipeline by Rep",
        folder: "Sales Reports",
        description: "Open opportunities by owner, with total amount",
        format: Format::Summary,
        report_type: &OPPORTUNITIES,
        detail_columns: &[
            "OPPORTUNITY_NAME",
            "ACCOUNT_NAME",
            "STAGE_NAME",
            "CLOSE_DATE",
            "AMOUNT",
        ],
        groupings: &["FULL_NAME"],
        aggregates: &["s!AMOUNT", "RowCount"],
        filters: &[("CLOSED", "equals", "False")],
    },
    Definition {
        developer_name: "Open_Cases",
        name: "Open Cases",
        folder: "Service Reports",
        description: "Cases not closed yet",
        format: Format::Tabular,
        report_type: &CASES,
        detail_columns: &[
            "CASE_NUMBER",
            "SUBJECT",
            "STATUS",
            "PRIORITY",
            "ACCOUNT.NAME",
            "CREATED_DATE",
        ],
        groupings: &[],
        aggregates: &["RowCount"],
        filters: &[("CLOSED", "equals", "False")],
    },
    Definition {
        developer_name: "Accounts_by_Industry",
        name: "Accounts by Industry",
        folder: "Sales Reports",
        description: "Accounts grouped by industry",
        format: Format::Summary,
        report_type: &ACCOUNTS,
        detail_columns: &["ACCOUNT.NAME", "TYPE", "ADDRESS1_STATE", "PHONE1"],
        groupings: &["INDUSTRY"],
        aggregates: &["RowCount"],
        filters: &[],
    },
];

/// A report's id: stable per position, so clients and dashboards can keep it.
fn report_id(position: usize) -> String {
    super::ids::mint("00O", position as u64 + 1)
}

/// Adds the `Report` rows SOQL reads.
pub fn seed(builder: &mut OrgBuilder) -> Result<(), String> {
    for (position, report) in REPORTS.iter().enumerate() {
        let mut fields = Map::new();
        fields.insert("Name".into(), json!(report.name));
        fields.insert("DeveloperName".into(), json!(report.developer_name));
        fields.insert("FolderName".into(), json!(report.folder));
        fields.insert(
            "Format".into(),
            json!(match report.format {
                Format::Tabular => "Tabular",
                Format::Summary => "Summary",
            }),
        );
        fields.insert("Description".into(), json!(report.description));
        builder.insert("Report", &fields, Some(report_id(position)))?;
    }
    Ok(())
}

fn find(id: &str) -> Result<(String, &'static Definition), Vec<ApiError>> {
    let id = super::ids::normalize(id).ok_or_else(|| vec![ApiError::not_found()])?;
    REPORTS
        .iter()
        .enumerate()
        .find(|(position, _)| report_id(*position) == id)
        .map(|(_, report)| (id, report))
        .ok_or_else(|| vec![ApiError::not_found()])
}

fn report_url(ctx: &Ctx, id: &str) -> String {
    format!("/services/data/v{}/analytics/reports/{id}", ctx.version)
}

/// `GET /analytics/reports`: the reports the caller viewed recently (here: all of them).
pub fn recent(ctx: &Ctx) -> Outcome {
    let list: Vec<Json> = REPORTS
        .iter()
        .enumerate()
        .map(|(position, report)| {
            let id = report_id(position);
            let url = report_url(ctx, &id);
            json!({
                "describeUrl": format!("{url}/describe"),
                "id": id,
                "instancesUrl": format!("{url}/instances"),
                "name": report.name,
                "url": url,
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(list)))
}

fn column(report_type: &ReportType, name: &str) -> Option<&'static Column> {
    report_type.columns.iter().find(|c| c.name == name)
}

/// An aggregate (`s!AMOUNT`, `RowCount`): its function and column.
fn aggregate_parts(name: &str) -> Option<(&str, &str)> {
    if name == "RowCount" {
        return Some(("RowCount", ""));
    }
    let (function, column) = name.split_once('!')?;
    matches!(function, "s" | "a" | "m" | "mx").then_some((function, column))
}

fn aggregate_label(report_type: &ReportType, name: &str) -> String {
    match aggregate_parts(name) {
        Some(("RowCount", _)) => "Record Count".into(),
        Some((function, c)) => {
            let label = column(report_type, c).map_or(c, |c| c.label);
            let word = match function {
                "s" => "Sum",
                "a" => "Average",
                "m" => "Smallest",
                _ => "Largest",
            };
            format!("{word} of {label}")
        }
        None => name.into(),
    }
}

fn metadata(ctx: &Ctx, id: &str, report: &Definition, filters: &[Json]) -> Json {
    json!({
        "aggregates": report.aggregates,
        "chart": null,
        "crossFilters": [],
        "currency": null,
        "description": report.description,
        "detailColumns": report.detail_columns,
        "developerName": report.developer_name,
        "division": null,
        "folderId": ctx.org.id,
        "groupingsAcross": [],
        "groupingsDown": report.groupings.iter().map(|g| json!({
            "dateGranularity": "None",
            "name": g,
            "sortAggregate": null,
            "sortOrder": "Asc",
        })).collect::<Vec<_>>(),
        "hasDetailRows": true,
        "hasRecordCount": true,
        "historicalSnapshotDates": [],
        "id": id,
        "name": report.name,
        "reportBooleanFilter": null,
        "reportFilters": filters,
        "reportFormat": match report.format {
            Format::Tabular => "TABULAR",
            Format::Summary => "SUMMARY",
        },
        "reportType": {"label": report.report_type.label, "type": report.report_type.type_name},
        "scope": "organization",
        "showGrandTotal": true,
        "showSubtotals": true,
        "sortBy": [],
        "standardDateFilter": {
            "column": "CREATED_DATE",
            "durationValue": "CUSTOM",
            "endDate": null,
            "startDate": null,
        },
        "standardFilters": [],
    })
}

fn extended_metadata(report: &Definition) -> Json {
    let report_type = report.report_type;
    let mut aggregates = Map::new();
    for name in report.aggregates {
        let label = aggregate_label(report_type, name);
        let info = match aggregate_parts(name) {
            Some(("RowCount", _)) => json!({"dataType": "int", "label": label}),
            Some((function, c)) => {
                let data_type = match (function, column(report_type, c)) {
                    ("a", _) => "double",
                    (_, Some(c)) => c.data_type,
                    (_, None) => "double",
                };
                json!({
                    "acrossGroupingContext": null,
                    "dataType": data_type,
                    "downGroupingContext": null,
                    "label": label,
                })
            }
            None => continue,
        };
        aggregates.insert((*name).into(), info);
    }
    let mut details = Map::new();
    for name in report.detail_columns {
        if let Some(c) = column(report_type, name) {
            details.insert(
                c.name.into(),
                json!({"dataType": c.data_type, "label": c.label}),
            );
        }
    }
    let mut groupings = Map::new();
    for (level, name) in report.groupings.iter().enumerate() {
        if let Some(c) = column(report_type, name) {
            groupings.insert(
                c.name.into(),
                json!({"dataType": c.data_type, "groupingLevel": level, "label": c.label}),
            );
        }
    }
    json!({
        "aggregateColumnInfo": aggregates,
        "detailColumnInfo": details,
        "groupingColumnInfo": groupings,
    })
}

fn saved_filters(report: &Definition) -> Vec<Json> {
    report
        .filters
        .iter()
        .map(|(column, operator, value)| {
            json!({"column": column, "isRunPageEditable": true, "operator": operator, "value": value})
        })
        .collect()
}

/// `GET /analytics/reports/{id}/describe`.
pub fn describe(ctx: &Ctx, id: &str) -> Outcome {
    let (id, report) = find(id)?;
    let report_type = report.report_type;
    let columns: Map<String, Json> = report_type
        .columns
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                json!({
                    "dataType": c.data_type,
                    "filterValues": [],
                    "filterable": true,
                    "label": c.label,
                }),
            )
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "reportExtendedMetadata": extended_metadata(report),
            "reportMetadata": metadata(ctx, &id, report, &saved_filters(report)),
            "reportTypeMetadata": {
                "categories": [{"label": format!("{} Information", report_type.label), "columns": columns}],
            },
        }),
    ))
}

/// Detail rows a synchronous run returns at most.
const MAX_DETAIL_ROWS: usize = 2000;

/// `GET /analytics/reports/{id}` (and `POST`, whose `reportMetadata.reportFilters` replace
/// the saved filters for this run only): the report run now, as the caller.
pub fn run(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    include_details: bool,
    body: Option<&Bytes>,
) -> Outcome {
    let (id, report) = find(id)?;
    let filters = match body {
        Some(body) if !body.is_empty() => overridden_filters(report, body)?,
        _ => saved_filters(report),
    };
    let result = execute(state, ctx, report, &filters, include_details)?;
    let url = report_url(ctx, &id);
    let answer = json!({
        "attributes": {
            "describeUrl": format!("{url}/describe"),
            "instancesUrl": format!("{url}/instances"),
            "reportId": id,
            "reportName": report.name,
            "type": "Report",
        },
        "allData": result.all_data,
        "factMap": result.fact_map,
        "groupingsAcross": match report.format {
            Format::Tabular => json!({"groupings": []}),
            Format::Summary => Json::Null,
        },
        "groupingsDown": {"groupings": result.groupings},
        "hasDetailRows": include_details,
        "reportExtendedMetadata": extended_metadata(report),
        "reportMetadata": metadata(ctx, &id, report, &filters),
    });
    Ok(json_response(StatusCode::OK, &answer))
}

fn bad_request(message: impl Into<String>) -> Vec<ApiError> {
    vec![ApiError::bad_request("BAD_REQUEST", message)]
}

/// The `reportFilters` of a POSTed `reportMetadata`, checked against the report type.
fn overridden_filters(report: &Definition, body: &Bytes) -> Result<Vec<Json>, Vec<ApiError>> {
    let body = super::rest::parse_body(body)?;
    let Some(metadata) = body.get("reportMetadata").and_then(Json::as_object) else {
        return Err(bad_request("The request body must contain reportMetadata."));
    };
    if metadata
        .get("reportBooleanFilter")
        .is_some_and(|f| !f.is_null())
    {
        return Err(bad_request(
            "reportBooleanFilter is not supported by this emulator; filters combine with AND.",
        ));
    }
    let Some(filters) = metadata.get("reportFilters") else {
        return Ok(saved_filters(report));
    };
    let Some(filters) = filters.as_array() else {
        return Err(bad_request("reportFilters must be an array."));
    };
    filters
        .iter()
        .map(|filter| {
            let text = |key: &str| filter.get(key).and_then(Json::as_str);
            let (Some(column_name), Some(operator)) = (text("column"), text("operator")) else {
                return Err(bad_request(
                    "Each report filter needs a column and an operator.",
                ));
            };
            let value = match filter.get("value") {
                Some(Json::String(s)) => s.clone(),
                Some(Json::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            if column(report.report_type, column_name).is_none() {
                return Err(bad_request(format!(
                    "The column {column_name} is not valid for the report type {}.",
                    report.report_type.type_name
                )));
            }
            if !OPERATORS.contains(&operator) {
                return Err(bad_request(format!(
                    "The filter operator {operator} is not valid."
                )));
            }
            Ok(json!({"column": column_name, "isRunPageEditable": true, "operator": operator, "value": value}))
        })
        .collect()
}

const OPERATORS: [&str; 9] = [
    "equals",
    "notEqual",
    "lessThan",
    "greaterThan",
    "lessOrEqual",
    "greaterOrEqual",
    "contains",
    "notContain",
    "startsWith",
];

fn soql_string(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        if matches!(c, '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A LIKE literal: `prefix`, `text` with its own `%` and `_` taken literally, `suffix`.
fn like_pattern(text: &str, prefix: &str, suffix: &str) -> String {
    let mut out = format!("'{prefix}");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\'' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(suffix);
    out.push('\'');
    out
}

/// One filter value as a SOQL literal of the column's type.
fn literal(column: &Column, value: &str) -> Result<String, Vec<ApiError>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok("null".into());
    }
    let invalid = || {
        bad_request(format!(
            "The filter value {value} is not valid for the column {}.",
            column.name
        ))
    };
    match column.data_type {
        "currency" | "percent" | "int" | "double" => value
            .parse::<f64>()
            .map(|_| value.to_string())
            .map_err(|_| invalid()),
        "boolean" => match value.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok("true".into()),
            "false" | "0" => Ok("false".into()),
            _ => Err(invalid()),
        },
        "date" | "datetime" => {
            let relative = value
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == ':');
            let absolute = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok();
            match (relative, absolute, column.data_type) {
                (true, _, _) => Ok(value.to_string()),
                (_, true, "date") => Ok(value.to_string()),
                (_, true, _) => Ok(format!("{value}T00:00:00Z")),
                _ => Err(invalid()),
            }
        }
        _ => Ok(soql_string(value)),
    }
}

/// One filter as a SOQL condition on the report type's base object.
fn condition(report: &Definition, filter: &Json) -> Result<String, Vec<ApiError>> {
    let name = filter["column"].as_str().unwrap_or_default();
    let operator = filter["operator"].as_str().unwrap_or_default();
    let value = filter["value"].as_str().unwrap_or_default();
    let column = column(report.report_type, name)
        .ok_or_else(|| bad_request(format!("The column {name} is not valid.")))?;
    let path = column.path;
    // A comma-separated value is any of its parts (Salesforce's report filter rule).
    let parts: Vec<&str> = if value.trim().is_empty() {
        vec![""]
    } else {
        value.split(',').collect()
    };
    let any = |each: &dyn Fn(&str) -> Result<String, Vec<ApiError>>, joiner: &str| {
        let conditions = parts
            .iter()
            .map(|p| each(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", conditions.join(joiner)))
    };
    let text_column = !matches!(
        column.data_type,
        "currency" | "percent" | "int" | "double" | "boolean" | "date" | "datetime"
    );
    match operator {
        "equals" => any(&|p| Ok(format!("{path} = {}", literal(column, p)?)), " OR "),
        "notEqual" => any(
            &|p| Ok(format!("{path} != {}", literal(column, p)?)),
            " AND ",
        ),
        "lessThan" | "greaterThan" | "lessOrEqual" | "greaterOrEqual" => {
            let symbol = match operator {
                "lessThan" => "<",
                "greaterThan" => ">",
                "lessOrEqual" => "<=",
                _ => ">=",
            };
            Ok(format!("{path} {symbol} {}", literal(column, value)?))
        }
        "contains" | "startsWith" | "notContain" if text_column => {
            let prefix = if operator == "startsWith" { "" } else { "%" };
            if operator == "notContain" {
                any(
                    &|p| {
                        Ok(format!(
                            "(NOT {path} LIKE {})",
                            like_pattern(p.trim(), "%", "%")
                        ))
                    },
                    " AND ",
                )
            } else {
                any(
                    &|p| {
                        Ok(format!(
                            "{path} LIKE {}",
                            like_pattern(p.trim(), prefix, "%")
                        ))
                    },
                    " OR ",
                )
            }
        }
        _ => Err(bad_request(format!(
            "The filter operator {operator} is not valid for the column {name}."
        ))),
    }
}

struct Executed {
    fact_map: Map<String, Json>,
    groupings: Vec<Json>,
    all_data: bool,
}

/// One report row: each column's cell, by column name.
type Row = BTreeMap<&'static str, (Json, Json)>;

fn execute(
    state: &AppState,
    ctx: &Ctx,
    report: &Definition,
    filters: &[Json],
    include_details: bool,
) -> Result<Executed, Vec<ApiError>> {
    let report_type = report.report_type;
    let mut used: Vec<&'static Column> = Vec::new();
    let aggregate_columns = report
        .aggregates
        .iter()
        .filter_map(|a| aggregate_parts(a))
        .map(|(_, c)| c)
        .filter(|c| !c.is_empty());
    for name in report
        .detail_columns
        .iter()
        .copied()
        .chain(report.groupings.iter().copied())
        .chain(aggregate_columns)
    {
        let c = column(report_type, name)
            .ok_or_else(|| bad_request(format!("The column {name} is not valid.")))?;
        if !used.iter().any(|u| u.name == c.name) {
            used.push(c);
        }
    }
    let mut select: Vec<&str> = vec!["Id"];
    for c in &used {
        for path in std::iter::once(c.path).chain(c.id_path) {
            if !select.iter().any(|s| s.eq_ignore_ascii_case(path)) {
                select.push(path);
            }
        }
    }
    let conditions = filters
        .iter()
        .map(|f| condition(report, f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut soql = format!("SELECT {} FROM {}", select.join(", "), report_type.object);
    if !conditions.is_empty() {
        soql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    soql.push_str(" ORDER BY Id");
    let evaluated = super::engine::run(state, ctx, &soql, false, usize::MAX)?;
    let rows: Vec<Row> = evaluated
        .records
        .iter()
        .filter_map(|bytes| serde_json::from_slice::<Json>(bytes).ok())
        .map(|record| {
            used.iter()
                .map(|c| (c.name, cell(c, &record)))
                .collect::<Row>()
        })
        .collect();
    let all_data = rows.len() <= MAX_DETAIL_ROWS;
    let rows = &rows[..rows.len().min(MAX_DETAIL_ROWS)];
    let mut fact_map = Map::new();
    let detail = |rows: &[&Row]| -> Json {
        Json::Array(
            rows.iter()
                .map(|row| {
                    let cells: Vec<Json> = report
                        .detail_columns
                        .iter()
                        .map(|name| {
                            let (label, value) =
                                row.get(name).cloned().unwrap_or((json!("-"), Json::Null));
                            json!({"label": label, "value": value})
                        })
                        .collect();
                    json!({"dataCells": cells})
                })
                .collect(),
        )
    };
    let all: Vec<&Row> = rows.iter().collect();
    let mut grand = Map::new();
    grand.insert(
        "aggregates".into(),
        aggregates(report_type, report.aggregates, &all),
    );
    let groupings = if report.format == Format::Tabular || report.groupings.is_empty() {
        if include_details {
            grand.insert("rows".into(), detail(&all));
        }
        Vec::new()
    } else {
        if include_details {
            grand.insert("rows".into(), json!([]));
        }
        group(report, &all, 0, "", include_details, &detail, &mut fact_map)
    };
    fact_map.insert("T!T".into(), Json::Object(grand));
    Ok(Executed {
        fact_map,
        groupings,
        all_data,
    })
}

/// The groupings at `level` of `rows`, each with its fact map entry, in ascending order of
/// label with the empty group (`-`) first.
fn group(
    report: &Definition,
    rows: &[&Row],
    level: usize,
    key_prefix: &str,
    include_details: bool,
    detail: &dyn Fn(&[&Row]) -> Json,
    fact_map: &mut Map<String, Json>,
) -> Vec<Json> {
    let Some(name) = report.groupings.get(level) else {
        return Vec::new();
    };
    let mut buckets: Vec<((Json, Json), Vec<&Row>)> = Vec::new();
    for row in rows {
        let key = row.get(name).cloned().unwrap_or((json!("-"), Json::Null));
        match buckets
            .iter_mut()
            .find(|(k, _)| k.1 == key.1 && k.0 == key.0)
        {
            Some((_, members)) => members.push(row),
            None => buckets.push((key, vec![row])),
        }
    }
    buckets.sort_by(|((a_label, a_value), _), ((b_label, b_value), _)| {
        (!a_value.is_null()).cmp(&!b_value.is_null()).then_with(|| {
            let a = a_label.as_str().unwrap_or_default().to_lowercase();
            let b = b_label.as_str().unwrap_or_default().to_lowercase();
            a.cmp(&b)
        })
    });
    buckets
        .into_iter()
        .enumerate()
        .map(|(index, ((label, value), members))| {
            let key = if key_prefix.is_empty() {
                index.to_string()
            } else {
                format!("{key_prefix}_{index}")
            };
            let inner = group(
                report,
                &members,
                level + 1,
                &key,
                include_details,
                detail,
                fact_map,
            );
            let mut fact = Map::new();
            fact.insert(
                "aggregates".into(),
                aggregates(report.report_type, report.aggregates, &members),
            );
            if include_details && level + 1 == report.groupings.len() {
                fact.insert("rows".into(), detail(&members));
            }
            fact_map.insert(format!("{key}!T"), Json::Object(fact));
            json!({"groupings": inner, "key": key, "label": label, "value": value})
        })
        .collect()
}

/// A cell of one record: `(label, value)` as the Analytics API writes it.
fn cell(column: &Column, record: &Json) -> (Json, Json) {
    let at = |path: &str| {
        path.split('.')
            .try_fold(record, |at, segment| at.get(segment))
            .cloned()
            .unwrap_or(Json::Null)
    };
    let raw = at(column.path);
    if raw.is_null() {
        return (json!("-"), Json::Null);
    }
    if let Some(id_path) = column.id_path {
        return (raw.clone(), at(id_path));
    }
    match column.data_type {
        "currency" => {
            let amount = raw.as_f64().unwrap_or_default();
            (
                json!(money(amount)),
                json!({"amount": raw, "currency": null}),
            )
        }
        "percent" => (json!(format!("{}%", number_text(&raw))), raw),
        "int" | "double" => (json!(number_text(&raw)), raw),
        "date" => (json!(date_label(raw.as_str().unwrap_or_default())), raw),
        "datetime" => {
            let text = raw.as_str().unwrap_or_default();
            let label = date_label(text.get(..10).unwrap_or(text));
            (json!(label), raw)
        }
        "boolean" => (
            json!(if raw == json!(true) { "true" } else { "false" }),
            raw,
        ),
        _ => (raw.clone(), raw),
    }
}

fn number_text(value: &Json) -> String {
    match value.as_f64() {
        Some(n) if n.fract() == 0.0 => format!("{}", n as i64),
        Some(n) => n.to_string(),
        None => value.to_string(),
    }
}

/// `$1,234.50`: en_US, the org's single currency.
fn money(amount: f64) -> String {
    let cents = (amount.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", cents % 100)
}

/// `9/19/2013` for `2013-09-19` (en_US).
fn date_label(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(date) => date.format("%-m/%-d/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

fn aggregates(report_type: &ReportType, names: &[&str], rows: &[&Row]) -> Json {
    Json::Array(
        names
            .iter()
            .filter_map(|name| {
                let (function, c) = aggregate_parts(name)?;
                if function == "RowCount" {
                    return Some(json!({"label": rows.len().to_string(), "value": rows.len()}));
                }
                let column = column(report_type, c)?;
                let values: Vec<f64> = rows
                    .iter()
                    .filter_map(|row| row.get(c))
                    .filter_map(|(_, value)| match value {
                        Json::Object(money) => money.get("amount").and_then(Json::as_f64),
                        other => other.as_f64(),
                    })
                    .collect();
                let value = match function {
                    "s" => Some(values.iter().sum::<f64>()),
                    "a" if !values.is_empty() => {
                        Some(values.iter().sum::<f64>() / values.len() as f64)
                    }
                    "m" => values.iter().copied().reduce(f64::min),
                    "mx" => values.iter().copied().reduce(f64::max),
                    _ => None,
                };
                Some(match value {
                    None => json!({"label": "-", "value": null}),
                    Some(v) => {
                        let label = if column.data_type == "currency" {
                            money(v)
                        } else {
                            number_text(&json!(v))
                        };
                        // Whole sums are integers in Salesforce's JSON (`520398`).
                        let value = if v.fract() == 0.0 && v.abs() < 1e15 {
                            json!(v as i64)
                        } else {
                            json!(v)
                        };
                        json!({"label": label, "value": value})
                    }
                })
            })
            .collect(),
    )
}

/// A dashboard and its components, each showing one report's result.
struct Dashboard {
    title: &'static str,
    developer_name: &'static str,
    components: &'static [(&'static str, &'static str)],
}

const DASHBOARDS: [Dashboard; 1] = [Dashboard {
    title: "Sales Overview",
    developer_name: "Sales_Overview",
    components: &[
        ("Pipeline by Rep", "Pipeline_by_Rep"),
        ("Accounts by Industry", "Accounts_by_Industry"),
    ],
}];

fn dashboard_id(position: usize) -> String {
    super::ids::mint("01Z", position as u64 + 1)
}

fn component_id(dashboard: usize, position: usize) -> String {
    super::ids::mint("01a", (dashboard as u64) * 32 + position as u64 + 1)
}

/// `GET /analytics/dashboards`: the dashboards the caller viewed recently (all of them).
pub fn dashboards(ctx: &Ctx) -> Outcome {
    let list: Vec<Json> = DASHBOARDS
        .iter()
        .enumerate()
        .map(|(position, dashboard)| {
            let id = dashboard_id(position);
            let url = format!("/services/data/v{}/analytics/dashboards/{id}", ctx.version);
            json!({
                "id": id,
                "name": dashboard.title,
                "statusUrl": format!("{url}/status"),
                "url": url,
            })
        })
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(list)))
}

/// `GET /analytics/dashboards/{id}`: each component's report run now, as the caller,
/// without detail rows (dashboards show summaries).
pub fn dashboard(state: &AppState, ctx: &Ctx, id: &str) -> Outcome {
    let id = super::ids::normalize(id).ok_or_else(|| vec![ApiError::not_found()])?;
    let (position, dashboard) = DASHBOARDS
        .iter()
        .enumerate()
        .find(|(position, _)| dashboard_id(*position) == id)
        .ok_or_else(|| vec![ApiError::not_found()])?;
    let mut data = Vec::new();
    let mut components = Vec::new();
    for (index, (header, developer_name)) in dashboard.components.iter().enumerate() {
        let Some((report_position, report)) = REPORTS
            .iter()
            .enumerate()
            .find(|(_, r)| r.developer_name == *developer_name)
        else {
            continue;
        };
        let report_id = report_id(report_position);
        let component = component_id(position, index);
        let filters = saved_filters(report);
        let result = execute(state, ctx, report, &filters, false)?;
        data.push(json!({
            "componentId": component,
            "reportResult": {
                "attributes": null,
                "allData": result.all_data,
                "factMap": result.fact_map,
                "groupingsAcross": null,
                "groupingsDown": {"groupings": result.groupings},
                "hasDetailRows": false,
                "reportExtendedMetadata": extended_metadata(report),
                "reportMetadata": metadata(ctx, &report_id, report, &filters),
            },
            "status": {"dataStatus": "DATA", "errorCode": null, "errorMessage": null, "errorSeverity": null, "refreshDate": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "refreshStatus": "IDLE"},
        }));
        components.push(json!({
            "componentData": 0,
            "footer": null,
            "header": header,
            "id": component,
            "reportId": report_id,
            "type": "Report",
        }));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "componentData": data,
            "dashboardMetadata": {
                "components": components,
                "developerName": dashboard.developer_name,
                "id": id,
                "name": dashboard.title,
            },
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_and_quotes_literally() {
        assert_eq!(like_pattern("50%_o'k", "%", "%"), r"'%50\%\_o\'k%'");
    }

    #[test]
    fn money_reads_as_en_us_dollars() {
        assert_eq!(money(500000.0), "$500,000.00");
        assert_eq!(money(1234.5), "$1,234.50");
        assert_eq!(money(-12.0), "-$12.00");
        assert_eq!(money(0.0), "$0.00");
    }
}
