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
    /// A matrix report's column groups (fact map keys `<down>!<across>`).
    #[serde(default)]
    pub groupings_across: Option<Groupings>,
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

/// An asynchronous run of a report ("Execute Async": `POST .../instances`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportInstance {
    pub id: String,
    /// `New`, `Running`, `Success` or `Error`.
    pub status: String,
}

/// An instance's results: `None` while it is still `New` or `Running`.
#[derive(Debug, Clone, PartialEq)]
pub enum InstanceResult {
    Pending { status: String },
    Done(Box<ReportRun>),
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

    /// Starts an asynchronous run ("Execute Async"), with `metadata` as [`Self::run_report`]
    /// takes it; the run's results are read with [`Self::report_instance`].
    pub async fn start_report_instance(
        &self,
        id: &str,
        metadata: Option<&ReportMetadata>,
        include_details: bool,
    ) -> Result<ReportInstance, SfError> {
        let id = checked_id(id, "report", "00O")?;
        let what = format!("starting an asynchronous run of report {id}");
        let target = Target::Versioned(format!("/analytics/reports/{id}/instances"));
        let mut request = ApiRequest::get(target, &what).query(
            "includeDetails",
            if include_details { "true" } else { "false" },
        );
        request.method = HttpMethod::Post;
        // Without changed filters the POST has no body: the saved report runs.
        if let Some(metadata) = metadata {
            let metadata = serde_json::to_value(metadata).map_err(|e| SfError::InvalidRequest {
                message: format!("the report's filters could not be encoded ({e})"),
                next_step: "Run the report without filters.".into(),
            })?;
            let mut body = Map::new();
            body.insert("reportMetadata".into(), metadata);
            request.body = Some(Value::Object(body));
        }
        self.execute(request).await?.json(&what)
    }

    /// `GET /analytics/reports/{id}/instances/{instance}` ("Instance Results").
    pub async fn report_instance(
        &self,
        id: &str,
        instance: &str,
    ) -> Result<InstanceResult, SfError> {
        let id = checked_id(id, "report", "00O")?;
        let instance = checked_id(instance, "report instance", "0LG")?;
        let what = format!("the results of run {instance} of report {id}");
        let request = ApiRequest::get(
            Target::Versioned(format!("/analytics/reports/{id}/instances/{instance}")),
            &what,
        );
        let answer: Value = self.execute(request).await?.json(&what)?;
        let status = answer["attributes"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match status.as_str() {
            "Success" => serde_json::from_value(answer)
                .map(|run| InstanceResult::Done(Box::new(run)))
                .map_err(|e| SfError::InvalidRequest {
                    message: format!("{what} could not be read ({e})"),
                    next_step: "Run the report again.".into(),
                }),
            "New" | "Running" => Ok(InstanceResult::Pending { status }),
            _ => Err(SfError::InvalidRequest {
                message: format!(
                    "Salesforce could not run report {id} (run {instance} ended with status {})",
                    if status.is_empty() { "unknown" } else { &status }
                ),
                next_step: "Narrow the report with filters, or ask an administrator whether you can still run it.".into(),
            }),
        }
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

/// Checks report filter logic (`reportBooleanFilter`, such as `(1 OR 4) AND 2 AND 3`, also
/// written without spaces) against `filters` filters, as Salesforce's report builder does:
/// filter numbers joined by AND and OR, NOT before an operand, parentheses wherever AND and
/// OR meet, each filter used and none beyond the last. `Err` says what is wrong.
pub fn check_boolean_filter(logic: &str, filters: usize) -> Result<(), String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut chars = logic.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' | ')' => tokens.push(c.to_string()),
            c if c.is_ascii_alphanumeric() => {
                let mut token = c.to_ascii_uppercase().to_string();
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_digit() == c.is_ascii_digit() && next.is_ascii_alphanumeric() {
                        token.push(next.to_ascii_uppercase());
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push(token);
            }
            other => {
                return Err(format!(
                    "'{}' has no place in filter logic",
                    other.escape_default()
                ));
            }
        }
    }
    let mut used = vec![false; filters];
    let mut at = 0;
    logic_expression(&tokens, &mut at, &mut used, 0)?;
    if let Some(extra) = tokens.get(at) {
        return Err(format!("{extra} follows a complete expression"));
    }
    match used.iter().position(|u| !u) {
        Some(unused) => Err(format!(
            "filter {} is not used (every filter must appear in the logic)",
            unused + 1
        )),
        None => Ok(()),
    }
}

fn logic_expression(
    tokens: &[String],
    at: &mut usize,
    used: &mut [bool],
    depth: usize,
) -> Result<(), String> {
    if depth > 32 {
        return Err("the logic nests too deeply".into());
    }
    logic_operand(tokens, at, used, depth)?;
    let mut joiner: Option<&str> = None;
    while let Some(word) = tokens.get(*at).map(String::as_str) {
        if word != "AND" && word != "OR" {
            break;
        }
        if joiner.is_some_and(|j| j != word) {
            return Err(
                "AND and OR are mixed without parentheses; write e.g. (1 OR 2) AND 3".into(),
            );
        }
        joiner = Some(word);
        *at += 1;
        logic_operand(tokens, at, used, depth)?;
    }
    Ok(())
}

fn logic_operand(
    tokens: &[String],
    at: &mut usize,
    used: &mut [bool],
    depth: usize,
) -> Result<(), String> {
    let Some(token) = tokens.get(*at) else {
        return Err("the logic ends where a filter number belongs".into());
    };
    *at += 1;
    match token.as_str() {
        "NOT" => logic_operand(tokens, at, used, depth + 1),
        "(" => {
            logic_expression(tokens, at, used, depth + 1)?;
            if tokens.get(*at).map(String::as_str) == Some(")") {
                *at += 1;
                Ok(())
            } else {
                Err("a parenthesis is not closed".into())
            }
        }
        number if number.chars().all(|c| c.is_ascii_digit()) => {
            let slot = number
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| used.get_mut(i));
            match slot {
                Some(slot) => {
                    *slot = true;
                    Ok(())
                }
                None => Err(format!(
                    "filter {number} does not exist (the filters are numbered 1 to {})",
                    used.len()
                )),
            }
        }
        other => Err(format!("{other} stands where a filter number belongs")),
    }
}

#[cfg(test)]
mod tests {
    use super::check_boolean_filter;

    #[test]
    fn filter_logic_is_checked_as_the_report_builder_checks_it() {
        assert_eq!(check_boolean_filter("(1OR4)AND2AND3", 4), Ok(()));
        assert_eq!(check_boolean_filter("NOT 1 and (2 or 3)", 3), Ok(()));
        for (logic, why) in [
            ("1 AND 2 OR 3", "parentheses"),
            ("(1 OR 2", "not closed"),
            ("1 AND 4", "filter 4 does not exist"),
            ("1 AND 2", "filter 3 is not used"),
            ("1 XOR 2 AND 3", "XOR"),
            ("1 AND", "ends"),
            ("1 2 3", "follows"),
            ("1; 2", "';'"),
        ] {
            let error = check_boolean_filter(logic, 3).expect_err(logic);
            assert!(error.contains(why), "{logic}: {error}");
        }
    }
}
