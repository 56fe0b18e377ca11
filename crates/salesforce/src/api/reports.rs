//! Reports and dashboards (Reports and Dashboards REST API, `/analytics`): a report's
//! describe, a synchronous run (GET, or POST with the describe's `reportMetadata` whose
//! `reportFilters` were changed: "Filter Report Data"), and a dashboard's components' results.
//! Reports are found by SOQL on the `Report` object, which the query API serves.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, HttpMethod, Target};

/// `GET /analytics/reports/{id}/describe`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDescribe {
    pub report_metadata: ReportMetadata,
    #[serde(default)]
    pub report_extended_metadata: ReportExtendedMetadata,
}

/// What a report shows and how: the part of a describe (and of a run) a client reads and,
/// for filter overrides, sends back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportMetadata {
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub developer_name: Option<String>,
    #[serde(default)]
    pub report_format: String,
    #[serde(default)]
    pub report_type: Option<ReportTypeRef>,
    #[serde(default)]
    pub detail_columns: Vec<String>,
    #[serde(default)]
    pub groupings_down: Vec<GroupingSpec>,
    #[serde(default)]
    pub groupings_across: Vec<GroupingSpec>,
    #[serde(default)]
    pub aggregates: Vec<String>,
    #[serde(default)]
    pub report_filters: Vec<ReportFilter>,
    #[serde(default)]
    pub report_boolean_filter: Option<String>,
    /// Everything else the describe said, sent back as it came on a filtered run.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportTypeRef {
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupingSpec {
    pub name: String,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// One report filter: `column operator value` (a comma-separated value is any of its parts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportFilter {
    pub column: String,
    pub operator: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportExtendedMetadata {
    #[serde(default)]
    pub detail_column_info: Map<String, Value>,
    #[serde(default)]
    pub aggregate_column_info: Map<String, Value>,
    #[serde(default)]
    pub grouping_column_info: Map<String, Value>,
}

/// A synchronous run's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRun {
    #[serde(default)]
    pub all_data: bool,
    #[serde(default)]
    pub fact_map: Map<String, Value>,
    #[serde(default)]
    pub groupings_down: Option<Groupings>,
    #[serde(default)]
    pub has_detail_rows: bool,
    pub report_metadata: ReportMetadata,
    #[serde(default)]
    pub report_extended_metadata: ReportExtendedMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Groupings {
    #[serde(default)]
    pub groupings: Vec<GroupingValue>,
}

/// One group of rows: its key in the fact map (`0`, `0_1`), what it shows and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupingValue {
    pub key: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub groupings: Vec<GroupingValue>,
}

/// `GET /analytics/dashboards/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardResult {
    #[serde(default)]
    pub component_data: Vec<DashboardComponentData>,
    pub dashboard_metadata: DashboardMetadata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardComponentData {
    pub component_id: String,
    #[serde(default)]
    pub report_result: Option<ReportRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardMetadata {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub components: Vec<DashboardComponent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardComponent {
    pub id: String,
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub report_id: Option<String>,
}

/// `GET /analytics/dashboards`: one recently viewed dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSummary {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

fn checked_id(id: &str, kind: &str, prefix: &str) -> Result<crate::SalesforceId, SfError> {
    crate::SalesforceId::parse(id).map_err(|_| SfError::InvalidRequest {
        message: format!(
            "'{}' is not a {kind} id",
            id.chars().take(40).collect::<String>()
        ),
        next_step: format!("Use a {kind} id ({prefix}...), as listed by list_reports."),
    })
}

impl SalesforceClient {
    /// `GET /analytics/reports/{id}/describe`.
    pub async fn report_describe(&self, id: &str) -> Result<ReportDescribe, SfError> {
        let id = checked_id(id, "report", "00O")?;
        let what = format!("the describe of report {id}");
        let request = ApiRequest::get(
            Target::Versioned(format!("/analytics/reports/{id}/describe")),
            &what,
        );
        self.execute(request).await?.json(&what)
    }

    /// Runs a report synchronously. With `metadata`, POSTs it (the describe's metadata with
    /// changed filters) so this run uses its filters; the saved report is unchanged.
    pub async fn run_report(
        &self,
        id: &str,
        metadata: Option<&ReportMetadata>,
        include_details: bool,
    ) -> Result<ReportRun, SfError> {
        let id = checked_id(id, "report", "00O")?;
        let what = format!("running report {id}");
        let target = Target::Versioned(format!("/analytics/reports/{id}"));
        let mut request = ApiRequest::get(target, &what).query(
            "includeDetails",
            if include_details { "true" } else { "false" },
        );
        if let Some(metadata) = metadata {
            let metadata = serde_json::to_value(metadata).map_err(|e| SfError::InvalidRequest {
                message: format!("the report's filters could not be encoded ({e})"),
                next_step: "Run the report without filters.".into(),
            })?;
            let mut body = Map::new();
            body.insert("reportMetadata".into(), metadata);
            request.method = HttpMethod::Post;
            request.body = Some(Value::Object(body));
        }
        self.execute(request).await?.json(&what)
    }

    /// `GET /analytics/dashboards`: the dashboards the user viewed recently.
    pub async fn recent_dashboards(&self) -> Result<Vec<DashboardSummary>, SfError> {
        let what = "the list of dashboards";
        let request = ApiRequest::get(Target::Versioned("/analytics/dashboards".into()), what);
        self.execute(request).await?.json(what)
    }

    /// `GET /analytics/dashboards/{id}`: each component's latest results.
    pub async fn dashboard(&self, id: &str) -> Result<DashboardResult, SfError> {
        let id = checked_id(id, "dashboard", "01Z")?;
        let what = format!("the results of dashboard {id}");
        let request = ApiRequest::get(
            Target::Versioned(format!("/analytics/dashboards/{id}")),
            &what,
        );
        self.execute(request).await?.json(&what)
    }
}
