//! Toolset "history". `record_history`: who changed which fields of a record, and when,
//! from the object's field history (`OpportunityFieldHistory`, `AccountHistory`,
//! `Foo__History`, …). `recent_items`: the records the user recently viewed (`/recent`),
//! those of objects outside the allow-list left out and counted, names of denied fields
//! withheld.
//!
//! Policy: the record's object and its history object must both be allowed. Changes to a
//! field the operator denies (`--deny-fields`) are left out by the query itself (`Field NOT
//! IN (…)`), so their old and new values never leave Salesforce; when `OldValue`/`NewValue`
//! themselves are denied on the history object, only who changed which field and when is
//! shown. Values are record content: fenced like every other. A `soql_query` that reads
//! `OldValue` or `NewValue` of a history whose parent has denied fields is refused
//! ([`refuse_hidden_values`]): those columns would carry the denied fields' values.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::args::Parameters;
use crate::error::ToolError;
use crate::render;
use crate::server::{Policy, SfServer};
use crate::tools::objects::is_api_name;
use crate::tools::records::{object_for, parse_id};
use sfmcp_salesforce::QueryOptions;
use sfmcp_soql::access::Footprint;

/// Changes one call returns at most, whatever `max_rows` asks.
const MAX_CHANGES: u32 = 500;
/// Changes returned when `max_rows` is not given.
const DEFAULT_CHANGES: u32 = 50;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecordHistoryArgs {
    pub id: String,
    /// default 50, up to 500
    pub max_rows: Option<u32>,
}

/// The history object of `object` and its lookup to the record, as Salesforce names them:
/// `OpportunityFieldHistory.OpportunityId`, `Foo__History.ParentId`, else
/// `{Object}History.{Object}Id`.
pub(crate) fn history_object(object: &str) -> (String, String) {
    if object.eq_ignore_ascii_case("Opportunity") {
        ("OpportunityFieldHistory".into(), "OpportunityId".into())
    } else if let Some(stem) = object.strip_suffix("__c") {
        (format!("{stem}__History"), "ParentId".into())
    } else {
        (format!("{object}History"), format!("{object}Id"))
    }
}

/// The object whose history `history` holds, when it is a field history object.
pub(crate) fn history_parent(history: &str) -> Option<String> {
    if history.eq_ignore_ascii_case("OpportunityFieldHistory") {
        return Some("Opportunity".into());
    }
    if let Some(stem) = history.strip_suffix("__History") {
        return Some(format!("{stem}__c"));
    }
    // OpportunityHistory is the stage snapshot object, not a field history: its columns are
    // ordinary Opportunity fields the access check already sees.
    history
        .strip_suffix("History")
        .filter(|stem| !stem.is_empty() && !history.eq_ignore_ascii_case("OpportunityHistory"))
        .filter(|stem| !matches!(*stem, "Login" | "Activity" | "ProcessInstance"))
        .map(str::to_string)
}

/// The fields of `object` the operator denies by name (`Object.Field` entries for it and
/// bare `Field` entries), when each is an API name that can go into a query.
fn denied_fields_of(policy: &Policy, object: &str) -> Vec<String> {
    policy
        .deny_fields
        .iter()
        .filter_map(|denied| match denied.split_once('.') {
            Some((o, f)) if o.eq_ignore_ascii_case(object) => Some(f),
            Some(_) => None,
            None => Some(denied.as_str()),
        })
        .filter(|f| is_api_name(f))
        .map(str::to_string)
        .collect()
}

/// Refuses a query that reads `OldValue` or `NewValue` of a field history whose parent has
/// denied fields: those columns hold every tracked field's values, the denied ones included.
pub(crate) fn refuse_hidden_values(policy: &Policy, used: &Footprint) -> Result<(), ToolError> {
    for field in &used.fields {
        if !["OldValue", "NewValue"]
            .iter()
            .any(|v| v.eq_ignore_ascii_case(&field.field))
        {
            continue;
        }
        let Some(parent) = history_parent(&field.object) else {
            continue;
        };
        let denied = denied_fields_of(policy, &parent);
        if !denied.is_empty() {
            return Err(ToolError::Denied(format!(
                "{}.{} holds the values of {parent}'s fields, including ones this server hides (--deny-fields: {}); use record_history, which leaves those changes out",
                field.object,
                field.field,
                denied.join(", ")
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecentItemsArgs {
    /// default 20, up to 200
    pub max_rows: Option<u32>,
}

#[tool_router(router = history_router, vis = "pub(crate)")]
impl SfServer {
    /// Records the user recently viewed, most recent first
    #[tool(annotations(read_only_hint = true))]
    async fn recent_items(
        &self,
        Parameters(args): Parameters<RecentItemsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let limit = match args.max_rows {
            None => 20,
            Some(0) => {
                return Err(ToolError::Input("max_rows must be at least 1".into()));
            }
            Some(n) => n.min(200),
        };
        let client = self.client(&context)?;
        let items = client.recent_items(limit).await?;
        let policy = self.policy();
        let mut hidden = 0;
        let mut rows = Vec::new();
        for item in items {
            let object = render::record_type(&item).unwrap_or_default().to_string();
            if policy.check_object(&object).is_err() {
                hidden += 1;
                continue;
            }
            let name = item
                .as_object()
                .and_then(|fields| {
                    fields
                        .iter()
                        .find(|(k, _)| *k != "attributes" && *k != "Id")
                        .filter(|(k, _)| !policy.is_field_denied(&object, k))
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or(Value::Null);
            rows.push(render::object([
                ("type", object.into()),
                ("Id", item.get("Id").cloned().unwrap_or(Value::Null)),
                ("Name", name),
            ]));
        }
        let mut text = format!("{} recently viewed records, most recent first", rows.len());
        if hidden > 0 {
            text.push_str(&format!(
                "; {hidden} of objects this server does not allow (--allow-objects) left out"
            ));
        }
        text.push('\n');
        text.push_str(&render::table(&rows, &[], render::MAX_TEXT_BYTES).text);
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("items", Value::Array(rows)),
            ("hidden", hidden.into()),
        ]));
        Ok(result)
    }

    /// Who changed which fields of a record and when (field history), newest first
    #[tool(annotations(read_only_hint = true))]
    async fn record_history(
        &self,
        Parameters(args): Parameters<RecordHistoryArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let limit = match args.max_rows {
            None => DEFAULT_CHANGES,
            Some(0) => {
                return Err(ToolError::Input(
                    "max_rows must be at least 1 (it counts changes)".into(),
                ));
            }
            Some(n) => n.min(MAX_CHANGES).min(self.policy().max_rows.max(1)),
        };
        let id = parse_id(&args.id)?;
        let client = self.client(&context)?;
        let object = object_for(&client, &id, None).await?;
        self.policy().check_object(&object)?;
        let (history, parent_field) = history_object(&object);
        self.policy().check_object(&history)?;
        let global = client.objects().await?;
        let Some(history) = global
            .sobjects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(&history))
            .map(|o| o.name.clone())
        else {
            return Err(ToolError::Input(format!(
                "{object} has no field history this user can read ({history} is not in the org): \
                 history is tracked per object and field in Setup. get_record shows the record's \
                 CreatedBy and LastModifiedBy instead."
            )));
        };
        let policy = self.policy();
        let denied = denied_fields_of(policy, &object);
        let values_shown = !policy.is_field_denied(&history, "OldValue")
            && !policy.is_field_denied(&history, "NewValue");
        let names_shown =
            policy.check_object("User").is_ok() && !policy.is_field_denied("User", "Name");
        let soql = HistoryQuery {
            history: &history,
            parent_field: &parent_field,
            id: id.as_str(),
            denied: &denied,
            names_shown,
            values_shown,
            limit,
        }
        .soql();
        let page = client
            .query(
                &soql,
                QueryOptions {
                    include_deleted: false,
                    batch_size: Some(2_000),
                },
            )
            .await?;
        let labels = client
            .describe(&object)
            .await
            .map(|schema| {
                policy
                    .without_denied_fields(&schema)
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), f.label.clone()))
                    .collect::<std::collections::HashMap<_, _>>()
            })
            .unwrap_or_default();
        let more = page.records.len() > limit as usize;
        let changes: Vec<Value> = page
            .records
            .iter()
            .take(limit as usize)
            .map(|record| change(record, &labels, names_shown, values_shown))
            .collect();
        let mut text = format!(
            "{object} {id}: {} change{} from {history}, newest first{}\n",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" },
            if more {
                format!("; older ones remain (max_rows up to {MAX_CHANGES})")
            } else {
                String::new()
            }
        );
        if !denied.is_empty() {
            text.push_str("Changes to fields this server hides (--deny-fields) are left out.\n");
        }
        if !values_shown {
            text.push_str("Old and new values are hidden by this server (--deny-fields).\n");
        }
        let rows: Vec<Value> = changes.iter().map(row_of).collect();
        let table = render::table(&rows, &[], render::MAX_TEXT_BYTES);
        text.push_str(&table.text);
        if table.rows_shown < rows.len() {
            text.push_str(&format!(
                "…{} more changes not shown as text (the structured content has them); ask for fewer with max_rows\n",
                rows.len() - table.rows_shown
            ));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("object", object.into()),
            ("id", id.as_str().into()),
            ("history", history.into()),
            ("changes", Value::Array(changes)),
            ("more", more.into()),
        ]));
        Ok(result)
    }
}

/// What `record_history` asks Salesforce.
struct HistoryQuery<'a> {
    history: &'a str,
    parent_field: &'a str,
    id: &'a str,
    /// Fields whose changes stay in the org (API names, checked).
    denied: &'a [String],
    names_shown: bool,
    values_shown: bool,
    limit: u32,
}

impl HistoryQuery<'_> {
    fn soql(&self) -> String {
        let mut select = vec!["CreatedDate", "CreatedById"];
        if self.names_shown {
            select.push("CreatedBy.Name");
        }
        select.push("Field");
        if self.values_shown {
            select.extend(["OldValue", "NewValue"]);
        }
        let mut soql = format!(
            "SELECT {} FROM {} WHERE {} = '{}'",
            select.join(", "),
            self.history,
            self.parent_field,
            self.id
        );
        if !self.denied.is_empty() {
            let quoted: Vec<String> = self.denied.iter().map(|f| format!("'{f}'")).collect();
            soql.push_str(&format!(" AND Field NOT IN ({})", quoted.join(", ")));
        }
        // One more than asked: tells whether older changes remain.
        soql.push_str(&format!(
            " ORDER BY CreatedDate DESC, Id DESC LIMIT {}",
            self.limit + 1
        ));
        soql
    }
}

/// One change as structured content: when, who (name and id), which field (API name and
/// label), and the values.
fn change(
    record: &Value,
    labels: &std::collections::HashMap<String, String>,
    names_shown: bool,
    values_shown: bool,
) -> Value {
    let get = |key: &str| record.get(key).cloned().unwrap_or(Value::Null);
    let field = get("Field");
    let label = match field.as_str() {
        Some("created") => Value::String("(record created)".into()),
        Some(name) => labels
            .get(name)
            .map_or_else(|| field.clone(), |l| Value::String(l.clone())),
        None => Value::Null,
    };
    let mut out = Map::new();
    out.insert("when".into(), get("CreatedDate"));
    let by_name = if names_shown {
        record
            .get("CreatedBy")
            .and_then(|by| by.get("Name"))
            .cloned()
            .unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    out.insert("by".into(), by_name);
    out.insert("byId".into(), get("CreatedById"));
    out.insert("field".into(), field);
    out.insert("label".into(), label);
    if values_shown {
        out.insert("old".into(), get("OldValue"));
        out.insert("new".into(), get("NewValue"));
    }
    Value::Object(out)
}

/// A change as one line of the text table: who by name (their id when the name is not
/// shown), the field by label.
fn row_of(change: &Value) -> Value {
    let get = |key: &str| change.get(key).cloned().unwrap_or(Value::Null);
    let who = match get("by") {
        Value::Null => get("byId"),
        name => name,
    };
    let mut row = Map::new();
    row.insert("when".into(), get("when"));
    row.insert("who".into(), who);
    row.insert("field".into(), get("label"));
    if change.get("old").is_some() {
        row.insert("old".into(), get("old"));
        row.insert("new".into(), get("new"));
    }
    Value::Object(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_objects_are_named_as_salesforce_names_them() {
        assert_eq!(
            history_object("Opportunity"),
            ("OpportunityFieldHistory".into(), "OpportunityId".into())
        );
        assert_eq!(
            history_object("Account"),
            ("AccountHistory".into(), "AccountId".into())
        );
        assert_eq!(
            history_object("Invoice__c"),
            ("Invoice__History".into(), "ParentId".into())
        );
        for object in ["Opportunity", "Case", "Invoice__c"] {
            assert_eq!(
                history_parent(&history_object(object).0).as_deref(),
                Some(object)
            );
        }
        assert_eq!(history_parent("OpportunityHistory"), None);
        assert_eq!(history_parent("LoginHistory"), None);
    }

    #[test]
    fn denied_fields_stay_in_the_org_and_hidden_columns_are_not_asked_for() {
        let denied = vec!["Amount".to_string(), "SSN__c".to_string()];
        let query = HistoryQuery {
            history: "OpportunityFieldHistory",
            parent_field: "OpportunityId",
            id: "006000000000001AAA",
            denied: &denied,
            names_shown: false,
            values_shown: false,
            limit: 50,
        };
        assert_eq!(
            query.soql(),
            "SELECT CreatedDate, CreatedById, Field FROM OpportunityFieldHistory \
             WHERE OpportunityId = '006000000000001AAA' AND Field NOT IN ('Amount', 'SSN__c') \
             ORDER BY CreatedDate DESC, Id DESC LIMIT 51"
        );
        let open = HistoryQuery {
            denied: &[],
            names_shown: true,
            values_shown: true,
            ..query
        };
        assert!(open.soql().starts_with(
            "SELECT CreatedDate, CreatedById, CreatedBy.Name, Field, OldValue, NewValue FROM"
        ));
    }

    #[test]
    fn denied_fields_of_an_object_include_bare_entries_and_skip_non_names() {
        let policy = Policy {
            deny_fields: vec![
                "Opportunity.Amount".into(),
                "Account.AnnualRevenue".into(),
                "SSN__c".into(),
                "Opportunity.Bad'Name".into(),
            ],
            ..Policy::default()
        };
        assert_eq!(
            denied_fields_of(&policy, "opportunity"),
            vec!["Amount".to_string(), "SSN__c".to_string()]
        );
    }
}
