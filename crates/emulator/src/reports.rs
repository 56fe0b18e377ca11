//! Reports and dashboards (Analytics REST API): the `Report` object SOQL reads, the recent
//! reports list, a report's `describe`, a synchronous run (GET, or POST with `reportMetadata`
//! whose `reportFilters` and `reportBooleanFilter` replace the saved ones) of tabular,
//! summary and matrix reports, asynchronous runs (instances), and dashboards whose
//! components show reports' results.
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
//! - "Decode the Fact Map", matrix part: keys `<down>!<across>` for every row group (at every
//!   level) crossed with every column group, `T` standing for a total on either side (`0!0`,
//!   `0_0!0_1`, `T!0` a column's total, `0!T` a row's, `T!T` the grand total);
//!   `groupingsAcross` has the same shape as `groupingsDown`;
//! - "Filter Reports on Demand" (`reportBooleanFilter`, e.g. `(1OR4)AND2AND3`, over the
//!   numbered `reportFilters`);
//! - "Execute Async", "Instances List" and "Instance Results" (`POST
//!   /analytics/reports/{id}/instances` answers 202 with `id`, `status` `New`, `url`,
//!   `ownerId`, `requestDate`, `completionDate`, `hasDetailRows`; the results carry
//!   `attributes` of `type` `ReportInstance` with `status` `New`/`Running`/`Success`/`Error`),
//!   checked against jsforce's `ReportInstanceInfo` and `ReportRetrieveResult` types.
//!
//! Standard report types name their columns the legacy way (`OPPORTUNITY_NAME`, `AMOUNT`,
//! `FULL_NAME` for the owner, `ACCOUNT.NAME`), as the documented examples show; each column
//! here says which field path it reads. `CaseList`'s owner is `OWNER` (an org accepts it and
//! refuses `USERS.NAME` there), `AccountList`'s is `USERS.NAME` (the Metadata API guide's
//! report sample); the `LeadList` and `ContactList` names come from report metadata
//! deployed to real orgs, the less common ones by the same pattern. A run is a SOQL query of
//! those paths through [`super::engine::run`], as the caller (sharing and field-level
//! security apply), with the filters combined by the report's logic, grouped and summed
//! here. Synchronous runs return at most 2,000 detail rows (`allData` false past that). Not
//! served: overriding anything but `reportFilters` and `reportBooleanFilter`, date
//! granularity in groupings, joined reports, deleting instances.

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
        col("ORIGIN", "Case Origin", "picklist", "Origin"),
        named("ACCOUNT.NAME", "Account Name", "Account.Name", "Account.Id"),
        named("OWNER", "Case Owner", "Owner.Name", "OwnerId"),
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

const LEADS: ReportType = ReportType {
    type_name: "LeadList",
    label: "Leads",
    object: "Lead",
    columns: &[
        col("FIRST_NAME", "First Name", "string", "FirstName"),
        col("LAST_NAME", "Last Name", "string", "LastName"),
        col("COMPANY", "Company / Account", "string", "Company"),
        col("TITLE", "Title", "string", "Title"),
        col("EMAIL", "Email", "email", "Email"),
        col("STATUS", "Lead Status", "picklist", "Status"),
        col("LEAD_SOURCE", "Lead Source", "picklist", "LeadSource"),
        col("INDUSTRY", "Industry", "picklist", "Industry"),
        named("OWNER", "Lead Owner", "Owner.Name", "OwnerId"),
        col("CONVERTED", "Converted", "boolean", "IsConverted"),
        col("CREATED_DATE", "Create Date", "datetime", "CreatedDate"),
    ],
};

const CONTACTS: ReportType = ReportType {
    type_name: "ContactList",
    label: "Contacts & Accounts",
    object: "Contact",
    columns: &[
        col("FIRST_NAME", "First Name", "string", "FirstName"),
        col("LAST_NAME", "Last Name", "string", "LastName"),
        col("TITLE", "Title", "string", "Title"),
        col("EMAIL", "Email", "email", "Email"),
        col("PHONE1", "Phone", "phone", "Phone"),
        col("LEAD_SOURCE", "Lead Source", "picklist", "LeadSource"),
        named("ACCOUNT.NAME", "Account Name", "Account.Name", "Account.Id"),
        named("OWNER", "Contact Owner", "Owner.Name", "OwnerId"),
        col("CREATED_DATE", "Created Date", "datetime", "CreatedDate"),
    ],
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Tabular,
    Summary,
    Matrix,
}

impl Format {
    /// As `reportMetadata.reportFormat` writes it.
    fn api_name(self) -> &'static str {
        match self {
            Format::Tabular => "TABULAR",
            Format::Summary => "SUMMARY",
            Format::Matrix => "MATRIX",
        }
    }

    /// As the `Report` object's `Format` picklist writes it.
    fn label(self) -> &'static str {
        match self {
            Format::Tabular => "Tabular",
            Format::Summary => "Summary",
            Format::Matrix => "Matrix",
        }
    }
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
    /// A matrix report's column groupings.
    groupings_across: &'static [&'static str],
    aggregates: &'static [&'static str],
    filters: &'static [(&'static str, &'static str, &'static str)],
    /// How the filters combine (`(1 OR 2) AND 3`); all ANDed without it.
    boolean_filter: Option<&'static str>,
}

/// The reports every org has: what a sales admin builds first.
const REPORTS: [Definition; 6] = [
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
        groupings_across: &[],
        aggregates: &["s!AMOUNT", "RowCount"],
        filters: &[("CLOSED", "equals", "False")],
        boolean_filter: None,
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
        groupings_across: &[],
        aggregates: &["RowCount"],
        filters: &[("CLOSED", "equals", "False")],
        boolean_filter: None,
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
        groupings_across: &[],
        aggregates: &["RowCount"],
        filters: &[],
        boolean_filter: None,
    },
    Definition {
        developer_name: "Pipeline_by_Stage_and_Type",
        name: "Pipeline by Stage and Type",
        folder: "Sales Reports",
        description: "Amount by stage (rows) and opportunity type (columns)",
        format: Format::Matrix,
        report_type: &OPPORTUNITIES,
        detail_columns: &["OPPORTUNITY_NAME", "AMOUNT"],
        groupings: &["STAGE_NAME"],
        groupings_across: &["TYPE"],
        aggregates: &["s!AMOUNT", "RowCount"],
        filters: &[],
        boolean_filter: None,
    },
    Definition {
        developer_name: "Open_or_Web_Leads",
        name: "Open or Web Leads",
        folder: "Marketing Reports",
        description: "Unconverted leads not contacted yet or from the web, by status",
        format: Format::Summary,
        report_type: &LEADS,
        detail_columns: &["FIRST_NAME", "LAST_NAME", "COMPANY", "LEAD_SOURCE", "OWNER"],
        groupings: &["STATUS"],
        groupings_across: &[],
        aggregates: &["RowCount"],
        filters: &[
            ("STATUS", "equals", "Open - Not Contacted"),
            ("LEAD_SOURCE", "equals", "Web"),
            ("CONVERTED", "equals", "False"),
        ],
        boolean_filter: Some("(1 OR 2) AND 3"),
    },
    Definition {
        developer_name: "Contacts_with_Email",
        name: "Contacts with Email",
        folder: "Sales Reports",
        description: "Contacts who have an email address",
        format: Format::Tabular,
        report_type: &CONTACTS,
        detail_columns: &["FIRST_NAME", "LAST_NAME", "TITLE", "EMAIL", "ACCOUNT.NAME"],
        groupings: &[],
        groupings_across: &[],
        aggregates: &["RowCount"],
        filters: &[("EMAIL", "notEqual", "")],
        boolean_filter: None,
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
        fields.insert("Format".into(), json!(report.format.label()));
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

/// The filters one run applies: the saved ones, or those a POST sent, and how they combine.
struct Criteria {
    filters: Vec<Json>,
    logic: Option<String>,
}

fn grouping_specs(names: &[&str]) -> Vec<Json> {
    names
        .iter()
        .map(|g| {
            json!({
                "dateGranularity": "None",
                "name": g,
                "sortAggregate": null,
                "sortOrder": "Asc",
            })
        })
        .collect()
}

fn metadata(ctx: &Ctx, id: &str, report: &Definition, criteria: &Criteria) -> Json {
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
        "groupingsAcross": grouping_specs(report.groupings_across),
        "groupingsDown": grouping_specs(report.groupings),
        "hasDetailRows": true,
        "hasRecordCount": true,
        "historicalSnapshotDates": [],
        "id": id,
        "name": report.name,
        "reportBooleanFilter": criteria.logic,
        "reportFilters": criteria.filters,
        "reportFormat": report.format.api_name(),
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
    for names in [report.groupings, report.groupings_across] {
        for (level, name) in names.iter().enumerate() {
            if let Some(c) = column(report_type, name) {
                groupings.insert(
                    c.name.into(),
                    json!({"dataType": c.data_type, "groupingLevel": level, "label": c.label}),
                );
            }
        }
    }
    json!({
        "aggregateColumnInfo": aggregates,
        "detailColumnInfo": details,
        "groupingColumnInfo": groupings,
    })
}

fn saved_criteria(report: &Definition) -> Criteria {
    Criteria {
        filters: report
            .filters
            .iter()
            .map(|(column, operator, value)| {
                json!({"column": column, "isRunPageEditable": true, "operator": operator, "value": value})
            })
            .collect(),
        logic: report.boolean_filter.map(str::to_string),
    }
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
            "reportMetadata": metadata(ctx, &id, report, &saved_criteria(report)),
            "reportTypeMetadata": {
                "categories": [{"label": format!("{} Information", report_type.label), "columns": columns}],
            },
        }),
    ))
}

/// Detail rows a synchronous run returns at most.
const MAX_DETAIL_ROWS: usize = 2000;

/// `GET /analytics/reports/{id}` (and `POST`, whose `reportMetadata.reportFilters` and
/// `reportBooleanFilter` replace the saved ones for this run only): the report run now, as
/// the caller.
pub fn run(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    include_details: bool,
    body: Option<&Bytes>,
) -> Outcome {
    let (id, report) = find(id)?;
    let criteria = criteria_of(report, body)?;
    let url = report_url(ctx, &id);
    let attributes = json!({
        "describeUrl": format!("{url}/describe"),
        "instancesUrl": format!("{url}/instances"),
        "reportId": id,
        "reportName": report.name,
        "type": "Report",
    });
    let answer = results(
        state,
        ctx,
        &id,
        report,
        &criteria,
        include_details,
        attributes,
    )?;
    Ok(json_response(StatusCode::OK, &answer))
}

/// Asynchronous runs ("Execute Async", "Instances List", "Instance Results" in the Reports
/// and Dashboards REST API guide): each is run as its caller when requested and shown to
/// that user only; its results stay for the emulator's lifetime (Salesforce keeps them 24
/// hours). An instance answers `Running` to the first read of its results and `Success`
/// after, so clients are seen to poll.
#[derive(Default)]
pub struct Instances {
    next: u64,
    runs: Vec<Instance>,
}

struct Instance {
    id: String,
    report_id: String,
    org: usize,
    owner_id: String,
    request_date: String,
    has_detail_rows: bool,
    reads: u32,
    result: Json,
}

impl Instance {
    fn status(&self) -> &'static str {
        match self.reads {
            0 => "New",
            1 => "Running",
            _ => "Success",
        }
    }

    fn summary(&self, ctx: &Ctx) -> Json {
        let done = self.status() == "Success";
        json!({
            "completionDate": if done { json!(self.request_date) } else { Json::Null },
            "hasDetailRows": self.has_detail_rows,
            "id": self.id,
            "ownerId": self.owner_id,
            "queryable": false,
            "requestDate": self.request_date,
            "status": self.status(),
            "url": format!("{}/instances/{}", report_url(ctx, &self.report_id), self.id),
        })
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn instances_of(state: &AppState) -> std::sync::MutexGuard<'_, Instances> {
    state
        .report_instances
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `POST /analytics/reports/{id}/instances`: runs the report (with the body's filters, as a
/// synchronous POST takes them) and answers 202 with the new instance, status `New`.
pub fn start_instance(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    include_details: bool,
    body: Option<&Bytes>,
) -> Outcome {
    let (id, report) = find(id)?;
    let criteria = criteria_of(report, body)?;
    let result = results(
        state,
        ctx,
        &id,
        report,
        &criteria,
        include_details,
        Json::Null,
    )?;
    let mut instances = instances_of(state);
    instances.next += 1;
    let instance = Instance {
        id: super::ids::mint("0LG", instances.next),
        report_id: id,
        org: ctx.org.index,
        owner_id: ctx.access.user_id.clone(),
        request_date: now_text(),
        has_detail_rows: include_details,
        reads: 0,
        result,
    };
    let answer = instance.summary(ctx);
    instances.runs.push(instance);
    Ok(json_response(StatusCode::ACCEPTED, &answer))
}

/// `GET /analytics/reports/{id}/instances`: the caller's runs of the report, newest first.
pub fn instances(state: &AppState, ctx: &Ctx, id: &str) -> Outcome {
    let (id, _) = find(id)?;
    let instances = instances_of(state);
    let list: Vec<Json> = instances
        .runs
        .iter()
        .rev()
        .filter(|i| i.report_id == id && i.org == ctx.org.index)
        .filter(|i| i.owner_id == ctx.access.user_id)
        .map(|i| i.summary(ctx))
        .collect();
    Ok(json_response(StatusCode::OK, &Json::Array(list)))
}

/// `GET /analytics/reports/{id}/instances/{instance}`: the run's results once it has
/// succeeded; before, its attributes with an empty fact map.
pub fn instance(state: &AppState, ctx: &Ctx, id: &str, instance_id: &str) -> Outcome {
    let (id, report) = find(id)?;
    let instance_id =
        super::ids::normalize(instance_id).ok_or_else(|| vec![ApiError::not_found()])?;
    let mut instances = instances_of(state);
    let Some(instance) = instances.runs.iter_mut().find(|i| {
        i.id == instance_id
            && i.report_id == id
            && i.org == ctx.org.index
            && i.owner_id == ctx.access.user_id
    }) else {
        return Err(vec![ApiError::not_found()]);
    };
    instance.reads = instance.reads.saturating_add(1);
    let done = instance.status() == "Success";
    let attributes = json!({
        "completionDate": if done { json!(instance.request_date) } else { Json::Null },
        "id": instance.id,
        "ownerId": instance.owner_id,
        "reportId": instance.report_id,
        "reportName": report.name,
        "requestDate": instance.request_date,
        "status": instance.status(),
        "type": "ReportInstance",
    });
    let mut answer = instance.result.clone();
    answer["attributes"] = attributes;
    if !done {
        answer["factMap"] = json!({});
        answer["groupingsDown"] = Json::Null;
        answer["groupingsAcross"] = Json::Null;
        answer["allData"] = json!(false);
    }
    Ok(json_response(StatusCode::OK, &answer))
}

fn criteria_of(report: &Definition, body: Option<&Bytes>) -> Result<Criteria, Vec<ApiError>> {
    match body {
        Some(body) if !body.is_empty() => overridden_criteria(report, body),
        _ => Ok(saved_criteria(report)),
    }
}

/// A run's answer: `attributes` (a synchronous run's or an instance's), the fact map, the
/// groupings down and across, and the metadata it ran with.
fn results(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    report: &Definition,
    criteria: &Criteria,
    include_details: bool,
    attributes: Json,
) -> Result<Json, Vec<ApiError>> {
    let result = execute(state, ctx, report, criteria, include_details)?;
    Ok(json!({
        "attributes": attributes,
        "allData": result.all_data,
        "factMap": result.fact_map,
        "groupingsAcross": match report.format {
            Format::Summary => Json::Null,
            _ => json!({"groupings": result.groupings_across}),
        },
        "groupingsDown": {"groupings": result.groupings},
        "hasDetailRows": include_details,
        "reportExtendedMetadata": extended_metadata(report),
        "reportMetadata": metadata(ctx, id, report, criteria),
    }))
}

fn bad_request(message: impl Into<String>) -> Vec<ApiError> {
    vec![ApiError::bad_request("BAD_REQUEST", message)]
}

/// The `reportFilters` and `reportBooleanFilter` of a POSTed `reportMetadata`, checked
/// against the report type. Without `reportFilters` the saved filters stay, and so does
/// their logic unless the body sends its own.
fn overridden_criteria(report: &Definition, body: &Bytes) -> Result<Criteria, Vec<ApiError>> {
    let body = super::rest::parse_body(body)?;
    let Some(metadata) = body.get("reportMetadata").and_then(Json::as_object) else {
        return Err(bad_request("The request body must contain reportMetadata."));
    };
    let saved = saved_criteria(report);
    let logic = match metadata.get("reportBooleanFilter") {
        None => saved.logic,
        Some(Json::Null) => None,
        Some(Json::String(text)) if text.trim().is_empty() => None,
        Some(Json::String(text)) => Some(text.clone()),
        Some(_) => return Err(bad_request("reportBooleanFilter must be a string.")),
    };
    let filters = match metadata.get("reportFilters") {
        None => saved.filters,
        Some(filters) => {
            let Some(filters) = filters.as_array() else {
                return Err(bad_request("reportFilters must be an array."));
            };
            filters
                .iter()
                .map(|filter| checked_filter(report, filter))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    if let Some(logic) = &logic {
        BooleanFilter::parse(logic, filters.len()).map_err(bad_request)?;
    }
    Ok(Criteria { filters, logic })
}

fn checked_filter(report: &Definition, filter: &Json) -> Result<Json, Vec<ApiError>> {
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
    Ok(
        json!({"column": column_name, "isRunPageEditable": true, "operator": operator, "value": value}),
    )
}

/// Filter logic (`(1 OR 4) AND 2 AND 3`, also written `(1OR4)AND2AND3`): filter numbers
/// joined by AND, OR and NOT with parentheses. Mixing AND and OR needs parentheses, and
/// every filter must be used, as Salesforce's report builder requires. The product checks
/// logic with its own parser; this one is the emulator's, kept apart on purpose.
#[derive(Debug, Clone, PartialEq)]
enum BooleanFilter {
    Filter(usize),
    Not(Box<BooleanFilter>),
    And(Vec<BooleanFilter>),
    Or(Vec<BooleanFilter>),
}

#[derive(Debug, Clone, PartialEq)]
enum LogicToken {
    Number(usize),
    Word(String),
    Open,
    Close,
}

impl BooleanFilter {
    fn parse(text: &str, filters: usize) -> Result<BooleanFilter, String> {
        let invalid = |why: &str| format!("The filter logic {text} is invalid: {why}.");
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c == '(' || c == ')' {
                chars.next();
                tokens.push(if c == '(' {
                    LogicToken::Open
                } else {
                    LogicToken::Close
                });
            } else if c.is_ascii_digit() {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let number = digits
                    .parse()
                    .map_err(|_| invalid("a number is too large"))?;
                tokens.push(LogicToken::Number(number));
            } else if c.is_ascii_alphabetic() {
                let mut word = String::new();
                while let Some(w) = chars.peek().filter(|w| w.is_ascii_alphabetic()) {
                    word.push(w.to_ascii_uppercase());
                    chars.next();
                }
                if !matches!(word.as_str(), "AND" | "OR" | "NOT") {
                    return Err(invalid(&format!("{word} is not AND, OR or NOT")));
                }
                tokens.push(LogicToken::Word(word));
            } else {
                return Err(invalid(&format!("unexpected character {c}")));
            }
        }
        let mut at = 0;
        let tree = Self::expression(&tokens, &mut at, 0).map_err(|why| invalid(&why))?;
        if at != tokens.len() {
            return Err(invalid("it has more after a complete expression"));
        }
        let mut used = vec![false; filters];
        tree.mark(&mut used).map_err(|n| {
            invalid(&format!(
                "it names filter {n}, and there are {filters} filters"
            ))
        })?;
        if let Some(unused) = used.iter().position(|u| !u) {
            return Err(invalid(&format!("filter {} is not used", unused + 1)));
        }
        Ok(tree)
    }

    fn expression(tokens: &[LogicToken], at: &mut usize, depth: usize) -> Result<Self, String> {
        if depth > 50 {
            return Err("it nests too deeply".into());
        }
        let first = Self::operand(tokens, at, depth)?;
        let mut joiner: Option<String> = None;
        let mut parts = vec![first];
        while let Some(LogicToken::Word(word)) = tokens.get(*at) {
            if word == "NOT" {
                return Err("NOT must begin an operand".into());
            }
            if joiner.as_ref().is_some_and(|j| j != word) {
                return Err("AND and OR need parentheses to be mixed".into());
            }
            joiner = Some(word.clone());
            *at += 1;
            parts.push(Self::operand(tokens, at, depth)?);
        }
        Ok(match joiner.as_deref() {
            None => parts.remove(0),
            Some("AND") => BooleanFilter::And(parts),
            _ => BooleanFilter::Or(parts),
        })
    }

    fn operand(tokens: &[LogicToken], at: &mut usize, depth: usize) -> Result<Self, String> {
        let token = tokens
            .get(*at)
            .ok_or("it ends where a filter number belongs")?;
        *at += 1;
        match token {
            LogicToken::Number(n) => Ok(BooleanFilter::Filter(*n)),
            LogicToken::Word(w) if w == "NOT" => Ok(BooleanFilter::Not(Box::new(Self::operand(
                tokens,
                at,
                depth + 1,
            )?))),
            LogicToken::Open => {
                let inner = Self::expression(tokens, at, depth + 1)?;
                match tokens.get(*at) {
                    Some(LogicToken::Close) => {
                        *at += 1;
                        Ok(inner)
                    }
                    _ => Err("a parenthesis is not closed".into()),
                }
            }
            LogicToken::Close => Err("a parenthesis closes where a filter number belongs".into()),
            LogicToken::Word(w) => Err(format!("{w} stands where a filter number belongs")),
        }
    }

    /// Marks the filters used; `Err` names one that does not exist.
    fn mark(&self, used: &mut [bool]) -> Result<(), usize> {
        match self {
            BooleanFilter::Filter(n) => match n.checked_sub(1).and_then(|i| used.get_mut(i)) {
                Some(slot) => {
                    *slot = true;
                    Ok(())
                }
                None => Err(*n),
            },
            BooleanFilter::Not(inner) => inner.mark(used),
            BooleanFilter::And(parts) | BooleanFilter::Or(parts) => {
                parts.iter().try_for_each(|p| p.mark(used))
            }
        }
    }

    /// The logic as a SOQL condition, each filter number replaced by its condition.
    fn soql(&self, conditions: &[String]) -> String {
        match self {
            BooleanFilter::Filter(n) => conditions[n - 1].clone(),
            BooleanFilter::Not(inner) => format!("(NOT {})", inner.soql(conditions)),
            BooleanFilter::And(parts) | BooleanFilter::Or(parts) => {
                let joiner = if matches!(self, BooleanFilter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let inner: Vec<String> = parts.iter().map(|p| p.soql(conditions)).collect();
                format!("({})", inner.join(joiner))
            }
        }
    }
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
    groupings_across: Vec<Json>,
    all_data: bool,
}

/// One report row: each column's cell, by column name.
type Row = BTreeMap<&'static str, (Json, Json)>;

fn execute(
    state: &AppState,
    ctx: &Ctx,
    report: &Definition,
    criteria: &Criteria,
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
        .chain(report.groupings_across.iter().copied())
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
    let conditions = criteria
        .filters
        .iter()
        .map(|f| condition(report, f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut soql = format!("SELECT {} FROM {}", select.join(", "), report_type.object);
    let condition = match &criteria.logic {
        Some(logic) => Some(
            BooleanFilter::parse(logic, conditions.len())
                .map_err(bad_request)?
                .soql(&conditions),
        ),
        None if conditions.is_empty() => None,
        None => Some(conditions.join(" AND ")),
    };
    if let Some(condition) = condition {
        soql.push_str(&format!(" WHERE {condition}"));
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
    let detail = |members: &[usize]| -> Json {
        Json::Array(
            members
                .iter()
                .map(|&index| {
                    let cells: Vec<Json> = report
                        .detail_columns
                        .iter()
                        .map(|name| {
                            let (label, value) = rows[index]
                                .get(name)
                                .cloned()
                                .unwrap_or((json!("-"), Json::Null));
                            json!({"label": label, "value": value})
                        })
                        .collect();
                    json!({"dataCells": cells})
                })
                .collect(),
        )
    };
    let fact = |members: &[usize], with_rows: bool| -> Json {
        let selected: Vec<&Row> = members.iter().map(|&i| &rows[i]).collect();
        let mut fact = Map::new();
        fact.insert(
            "aggregates".into(),
            aggregates(report_type, report.aggregates, &selected),
        );
        if include_details && with_rows {
            fact.insert("rows".into(), detail(members));
        }
        Json::Object(fact)
    };
    let all: Vec<usize> = (0..rows.len()).collect();
    let grouped_down = report.format != Format::Tabular;
    let down = if grouped_down {
        group(rows, report.groupings, &all, 0, "")
    } else {
        Vec::new()
    };
    let across = if report.format == Format::Matrix {
        group(rows, report.groupings_across, &all, 0, "")
    } else {
        Vec::new()
    };
    let mut fact_map = Map::new();
    // Every down group (at every level) and the grand total "T", crossed with every
    // across group and "T"; a summary report has only "T" across, a tabular one only T!T.
    let mut down_keys: Vec<(String, Vec<usize>, bool)> = Vec::new();
    flatten(&down, &mut down_keys);
    down_keys.push((
        "T".into(),
        all.clone(),
        !grouped_down || report.groupings.is_empty(),
    ));
    let mut across_keys: Vec<(String, Vec<usize>, bool)> = Vec::new();
    flatten(&across, &mut across_keys);
    across_keys.push(("T".into(), all.clone(), report.format != Format::Matrix));
    for (down_key, down_members, down_leaf) in &down_keys {
        for (across_key, across_members, across_leaf) in &across_keys {
            let members: Vec<usize> = down_members
                .iter()
                .copied()
                .filter(|m| across_members.binary_search(m).is_ok())
                .collect();
            let with_rows = *down_leaf && *across_leaf;
            fact_map.insert(
                format!("{down_key}!{across_key}"),
                fact(&members, with_rows),
            );
        }
    }
    if include_details && grouped_down && !report.groupings.is_empty() {
        // The grand total of a grouped report carries no rows of its own.
        if let Some(Json::Object(total)) = fact_map.get_mut("T!T") {
            total.insert("rows".into(), json!([]));
        }
    }
    Ok(Executed {
        fact_map,
        groupings: down.iter().map(Group::to_json).collect(),
        groupings_across: across.iter().map(Group::to_json).collect(),
        all_data,
    })
}

/// One grouping value: its fact map key part (`0`, `0_1`), label, value, the rows in it (in
/// ascending order) and its groups at the next level.
struct Group {
    key: String,
    label: Json,
    value: Json,
    members: Vec<usize>,
    inner: Vec<Group>,
}

impl Group {
    fn to_json(&self) -> Json {
        json!({
            "groupings": self.inner.iter().map(Group::to_json).collect::<Vec<_>>(),
            "key": self.key,
            "label": self.label,
            "value": self.value,
        })
    }
}

/// Every group at every level as `(key, members, is a leaf)`, parents before children.
fn flatten(groups: &[Group], out: &mut Vec<(String, Vec<usize>, bool)>) {
    for g in groups {
        out.push((g.key.clone(), g.members.clone(), g.inner.is_empty()));
        flatten(&g.inner, out);
    }
}

/// The groups of `members` by `names[level]` and below, in ascending order of label with
/// the empty group (`-`) first.
fn group(
    rows: &[Row],
    names: &[&str],
    members: &[usize],
    level: usize,
    key_prefix: &str,
) -> Vec<Group> {
    let Some(name) = names.get(level) else {
        return Vec::new();
    };
    let mut buckets: Vec<((Json, Json), Vec<usize>)> = Vec::new();
    for &index in members {
        let key = rows[index]
            .get(name)
            .cloned()
            .unwrap_or((json!("-"), Json::Null));
        match buckets
            .iter_mut()
            .find(|(k, _)| k.1 == key.1 && k.0 == key.0)
        {
            Some((_, bucket)) => bucket.push(index),
            None => buckets.push((key, vec![index])),
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
        .map(|(index, ((label, value), bucket))| {
            let key = if key_prefix.is_empty() {
                index.to_string()
            } else {
                format!("{key_prefix}_{index}")
            };
            let inner = group(rows, names, &bucket, level + 1, &key);
            Group {
                key,
                label,
                value,
                members: bucket,
                inner,
            }
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
        let criteria = saved_criteria(report);
        let mut result = results(state, ctx, &report_id, report, &criteria, false, Json::Null)?;
        if report.format != Format::Matrix {
            result["groupingsAcross"] = Json::Null;
        }
        data.push(json!({
            "componentId": component,
            "reportResult": result,
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
    fn filter_logic_parses_as_the_report_builder_writes_it() {
        let conditions: Vec<String> = ["a", "b", "c", "d"].iter().map(|c| c.to_string()).collect();
        let tree = BooleanFilter::parse("(1OR4)AND2AND3", 4).expect("docs example");
        assert_eq!(tree.soql(&conditions), "((a OR d) AND b AND c)");
        let tree = BooleanFilter::parse("not (1 or 2) and 3 AND 4", 4).expect("NOT");
        assert_eq!(tree.soql(&conditions), "((NOT (a OR b)) AND c AND d)");
        for (bad, why) in [
            ("1 AND 2 OR 3", "parentheses"),
            ("(1 OR 2", "not closed"),
            ("1 AND 5", "filter 5"),
            ("1 AND 2 AND 3", "filter 4 is not used"),
            ("1 XOR 2", "XOR"),
            ("1 AND", "ends"),
            ("1 2", "more after"),
            ("", "ends"),
            ("0 OR 1 OR 2 OR 3 OR 4", "filter 0"),
        ] {
            let error = BooleanFilter::parse(bad, 4).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn money_reads_as_en_us_dollars() {
        assert_eq!(money(500000.0), "$500,000.00");
        assert_eq!(money(1234.5), "$1,234.50");
        assert_eq!(money(-12.0), "-$12.00");
        assert_eq!(money(0.0), "$0.00");
    }
}
