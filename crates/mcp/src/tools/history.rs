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
//!
//! A lookup change is two history rows in Salesforce, one with the ids (`DataType`
//! `EntityId`) and one with the names the UI shows (Object Reference, EntityHistory: "Two
//! rows are added to this object when foreign key fields change"), both naming the field as
//! history does (`Owner` for `OwnerId`). `record_history` shows them as one change, the
//! names as old and new and the ids beside them; when the lookup can point at an object
//! outside the allow-list, the names are withheld and the ids shown instead.

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
use sfmcp_soql::access::{AccessPolicy, Footprint};
use sfmcp_soql::ast;

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

/// The object a SOQL query reads the user's recent items from.
const RECENTLY_VIEWED: &str = "RecentlyViewed";

/// A query of RecentlyViewed, when the operator allows only some objects, as it is sent:
/// with `Type IN (the allowed objects)` added to its WHERE, so rows about other objects
/// (their names, emails, phones) never leave Salesforce, counts and aggregates included.
/// `None` for any other query, or when every object is allowed.
pub(crate) fn confine_recently_viewed(policy: &Policy, query: &ast::Query) -> Option<String> {
    let from = query.from.object.segments.last()?;
    if !from.name.eq_ignore_ascii_case(RECENTLY_VIEWED) || policy.allow_objects.is_empty() {
        return None;
    }
    let span = ast::Span::default();
    let allowed = policy
        .allow_objects
        .iter()
        .map(|o| ast::Value::Literal(ast::Literal::String(o.clone()), span))
        .collect();
    let only_allowed = ast::Condition::In {
        left: ast::Expr::Field(ast::FieldPath {
            segments: vec![ast::Ident::new("Type", span)],
        }),
        negated: false,
        values: ast::InValues::List(allowed),
    };
    let mut confined = query.clone();
    confined.where_clause = Some(match confined.where_clause.take() {
        None => only_allowed,
        Some(ast::Condition::And(mut parts)) => {
            parts.push(only_allowed);
            ast::Condition::And(parts)
        }
        Some(other) => ast::Condition::And(vec![other, only_allowed]),
    });
    Some(confined.to_string())
}

/// Refuses a query of RecentlyViewed that reads a field the operator denies on any object:
/// its person fields (`Email`, `Phone`, `Title`, ...) are the viewed records' own.
pub(crate) fn refuse_recent_person_fields(
    access: &AccessPolicy,
    used: &Footprint,
) -> Result<(), ToolError> {
    for field in &used.fields {
        if field.object.eq_ignore_ascii_case(RECENTLY_VIEWED) && access.hides_field(&field.field) {
            return Err(ToolError::Denied(format!(
                "RecentlyViewed.{} holds the viewed records' {} values, and this server hides {} on some objects (--deny-fields); leave it out of the query",
                field.field, field.field, field.field
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
        text.push_str(
            &render::table(
                &render::records(rows.iter().cloned()),
                &[],
                render::MAX_TEXT_BYTES,
            )
            .text,
        );
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
        let denied = history_names(&denied_fields_of(policy, &object));
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
        let mut labels = std::collections::HashMap::new();
        let mut lookups = Lookups::default();
        if let Ok(schema) = client.describe(&object).await {
            for field in &policy.without_denied_fields(&schema).fields {
                let lookup = field.field_type == sfmcp_soql::schema::FieldType::Reference;
                let name = if lookup {
                    lookup_history_name(&field.name).to_string()
                } else {
                    field.name.clone()
                };
                let label = if lookup {
                    field
                        .label
                        .strip_suffix(" ID")
                        .unwrap_or(&field.label)
                        .to_string()
                } else {
                    field.label.clone()
                };
                if lookup {
                    lookups.all.insert(name.clone());
                    if field
                        .reference_to
                        .iter()
                        .all(|o| policy.check_object(o).is_ok())
                    {
                        lookups.named.insert(name.clone());
                    }
                }
                labels.insert(name, label);
            }
        }
        let more = page.records.len() > limit as usize;
        let rows: Vec<&Value> = page.records.iter().take(limit as usize).collect();
        let changes: Vec<Value> = pair_lookups(&rows, &lookups)
            .into_iter()
            .map(|(record, ids)| {
                let mut one = change(record, &labels, names_shown, values_shown);
                if let (Some((old, new)), true, Some(out)) =
                    (ids, values_shown, one.as_object_mut())
                {
                    out.insert("oldId".into(), old);
                    out.insert("newId".into(), new);
                }
                one
            })
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
        let table = render::table(
            &render::records(rows.iter().cloned()),
            &[],
            render::MAX_TEXT_BYTES,
        );
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
        select.extend(["Field", "DataType"]);
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

/// How history names a field: a standard lookup without its `Id` (`OwnerId` is `Owner`),
/// a custom one and every other field by its API name.
fn lookup_history_name(field: &str) -> &str {
    if field.ends_with("__c") {
        return field;
    }
    field
        .strip_suffix("Id")
        .filter(|stem| !stem.is_empty())
        .unwrap_or(field)
}

/// The names history may give denied fields: each as it is, and a denied standard lookup
/// (`AccountId`) also as history names it (`Account`), so its rows stay in the org too.
fn history_names(denied: &[String]) -> Vec<String> {
    let mut names = denied.to_vec();
    for field in denied {
        let stem = lookup_history_name(field);
        if stem != field && !names.iter().any(|n| n.eq_ignore_ascii_case(stem)) {
            names.push(stem.to_string());
        }
    }
    names
}

/// The lookups of the record's object, by the name history gives them: all of them, and
/// those whose names may be shown (every object they can point at is allowed).
#[derive(Default)]
struct Lookups {
    all: std::collections::HashSet<String>,
    named: std::collections::HashSet<String>,
}

/// The rows as changes: a lookup's id row (`DataType` `EntityId`) and its names row, same
/// field, time and author, make one change, shown by the names row with the ids beside it.
/// When the lookup's names may not be shown the ids row stands for the change and the names
/// row is dropped, alone or not. A row whose partner is not among `rows` (the limit cut
/// between them) is otherwise shown as it is.
fn pair_lookups<'a>(
    rows: &[&'a Value],
    lookups: &Lookups,
) -> Vec<(&'a Value, Option<(Value, Value)>)> {
    let get = |row: &Value, key: &str| row.get(key).cloned().unwrap_or(Value::Null);
    let is_ids = |row: &Value| row.get("DataType").and_then(Value::as_str) == Some("EntityId");
    let partner = |row: &Value, other: &Value| {
        ["Field", "CreatedDate", "CreatedById"]
            .iter()
            .all(|k| get(row, k) == get(other, k))
            && is_ids(row) != is_ids(other)
    };
    let mut out = Vec::with_capacity(rows.len());
    let mut used = vec![false; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        if used[i] {
            continue;
        }
        let field = row.get("Field").and_then(Value::as_str).unwrap_or_default();
        let named = lookups.named.contains(field);
        let pair = rows
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(j, other)| !used[*j] && partner(row, other))
            .map(|(j, _)| j);
        let Some(j) = pair else {
            if is_ids(row) || named || !lookups.all.contains(field) {
                out.push((*row, None));
            }
            continue;
        };
        used[j] = true;
        let (ids, names) = if is_ids(row) {
            (*row, rows[j])
        } else {
            (rows[j], *row)
        };
        if named {
            out.push((names, Some((get(ids, "OldValue"), get(ids, "NewValue")))));
        } else {
            out.push((ids, None));
        }
    }
    out
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
            "SELECT CreatedDate, CreatedById, Field, DataType FROM OpportunityFieldHistory \
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
            "SELECT CreatedDate, CreatedById, CreatedBy.Name, Field, DataType, OldValue, NewValue FROM"
        ));
    }

    #[test]
    fn a_lookup_change_is_one_change_with_names_and_ids_unless_its_target_is_not_allowed() {
        let at = "2026-01-02T03:04:05.000+0000";
        let row = |field: &str, data_type: &str, old: &str, new: &str| {
            serde_json::json!({"CreatedDate": at, "CreatedById": "005000000000001AAA",
                "Field": field, "DataType": data_type, "OldValue": old, "NewValue": new})
        };
        let ids = row(
            "Account",
            "EntityId",
            "001000000000001AAA",
            "001000000000002AAA",
        );
        let names = row("Account", "Text", "Acme", "Globex");
        let stage = row("StageName", "Text", "Prospecting", "Closed Won");
        let rows = [&names, &stage, &ids];
        let mut lookups = Lookups::default();
        lookups.all.insert("Account".into());
        // The target is not allowed: the ids stand for the change, the names never show.
        let hidden = pair_lookups(&rows, &lookups);
        assert_eq!(hidden.len(), 2);
        assert_eq!(hidden[0].0, &ids);
        assert_eq!(hidden[1].0, &stage);
        assert!(hidden.iter().all(|(_, pair)| pair.is_none()));
        // A names row alone (its id row past the limit) is dropped as well.
        assert_eq!(pair_lookups(&[&names], &lookups).len(), 0);
        lookups.named.insert("Account".into());
        let shown = pair_lookups(&rows, &lookups);
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].0, &names);
        assert_eq!(
            shown[0].1,
            Some((
                Value::String("001000000000001AAA".into()),
                Value::String("001000000000002AAA".into())
            ))
        );
        assert_eq!(
            history_names(&["AccountId".into(), "Parent__c".into()]),
            vec![
                "AccountId".to_string(),
                "Parent__c".into(),
                "Account".into()
            ]
        );
    }

    #[test]
    fn recently_viewed_is_confined_to_the_allowed_objects() {
        let policy = Policy {
            allow_objects: vec!["Account".into(), "Contact".into()],
            ..Policy::default()
        };
        let confine = |text: &str| {
            let query = sfmcp_soql::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
            confine_recently_viewed(&policy, &query)
        };
        assert_eq!(
            confine("SELECT Id, Name FROM RecentlyViewed").as_deref(),
            Some("SELECT Id, Name FROM RecentlyViewed WHERE Type IN ('Account', 'Contact')")
        );
        assert_eq!(
            confine("SELECT COUNT() FROM recentlyviewed WHERE Type = 'Lead' OR Name LIKE 'A%'")
                .as_deref(),
            Some(
                "SELECT COUNT() FROM recentlyviewed WHERE (Type = 'Lead' OR Name LIKE 'A%') AND Type IN ('Account', 'Contact')"
            )
        );
        assert_eq!(confine("SELECT Id FROM Account"), None);
        let open = Policy::default();
        let query =
            sfmcp_soql::parse("SELECT Id FROM RecentlyViewed").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(confine_recently_viewed(&open, &query), None);
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
