//! List views: `/sobjects/{object}/listviews`, one view's basic information, its `describe`
//! (columns and the SOQL it runs) and its `results`.
//!
//! Shapes follow the REST API Developer Guide's "List Views for an Object", "List View
//! Describe" and "List View Results" resources (API 32.0+), and the SOAP API's
//! `DescribeSoqlListView` / `ListViewColumn` / `ListViewOrderBy` reference for the fields
//! the examples elide:
//! - <https://developer.salesforce.com/docs/platform/api-rest/guide/resources-listviews.md>
//! - <https://developer.salesforce.com/docs/platform/api-rest/guide/resources-listviewdescribe.md>
//! - <https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_describesoqllistview.htm>
//!
//! Every org has the standard views a new org has for its core objects (All Accounts, My
//! Accounts, New This Week, Recently Viewed ...), and the Opportunity view "My Team's
//! Deals" a sales admin typically adds (open deals by close date). Columns are as the
//! documented example shows them (`selectListItem` `toLabel(Type)` for a picklist, the sort
//! labels per type, no `searchable` in REST), followed by hidden `Id`, `CreatedDate`,
//! `LastModifiedDate` and `SystemModstamp` columns; the `query` selects the items in that
//! order, with `USING SCOPE mine` for "My" views and `ORDER BY ... NULLS FIRST, Id`. The
//! `results` resource takes `limit` (1..2000, default 25) and does not page (`offset` is
//! not served).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::errors::ApiError;
use super::rest::json_response;
use super::schema::{FieldDef, ObjectDef};
use super::state::{AppState, Ctx};
use sfmcp_soql::schema::FieldType;

type Outcome = Result<Response, Vec<ApiError>>;

/// One list view as an admin defines it: visible columns, a filter, a scope, a sort.
struct Definition {
    developer_name: &'static str,
    label: &'static str,
    columns: &'static [&'static str],
    /// `(field, SOQL operator, value as SOQL, whereCondition operator)`.
    filter: Option<(&'static str, &'static str, &'static str, &'static str)>,
    mine: bool,
    /// The sort column and whether it descends.
    order: (&'static str, bool),
}

const fn view(
    developer_name: &'static str,
    label: &'static str,
    columns: &'static [&'static str],
) -> Definition {
    Definition {
        developer_name,
        label,
        columns,
        filter: None,
        mine: false,
        order: ("Name", false),
    }
}

const ACCOUNT: &[&str] = &[
    "Name",
    "Site",
    "BillingState",
    "Phone",
    "Type",
    "Owner.Alias",
];
const CONTACT: &[&str] = &[
    "Name",
    "Account.Name",
    "Title",
    "Phone",
    "Email",
    "Owner.Alias",
];
const LEAD: &[&str] = &[
    "Name",
    "Company",
    "State",
    "Email",
    "Status",
    "CreatedDate",
    "Owner.Alias",
];
const OPPORTUNITY: &[&str] = &[
    "Name",
    "Account.Name",
    "Amount",
    "CloseDate",
    "StageName",
    "Owner.Alias",
];
const CASE: &[&str] = &[
    "CaseNumber",
    "Contact.Name",
    "Subject",
    "Status",
    "Priority",
    "CreatedDate",
    "Owner.Alias",
];

fn definitions(object: &str) -> Vec<Definition> {
    let recently_viewed = |developer_name, label, columns| Definition {
        filter: Some(("LastViewedDate", "!=", "NULL", "notEqual")),
        order: ("LastViewedDate", true),
        ..view(developer_name, label, columns)
    };
    let mine = |developer_name, label, columns| Definition {
        mine: true,
        ..view(developer_name, label, columns)
    };
    match object {
        "Account" => vec![
            view("AllAccounts", "All Accounts", ACCOUNT),
            mine("MyAccounts", "My Accounts", ACCOUNT),
            Definition {
                filter: Some(("CreatedDate", "=", "THIS_WEEK", "equals")),
                ..view("NewThisWeek", "New This Week", ACCOUNT)
            },
            recently_viewed(
                "RecentlyViewedAccounts",
                "Recently Viewed Accounts",
                ACCOUNT,
            ),
        ],
        "Contact" => vec![
            view("AllContacts", "All Contacts", CONTACT),
            mine("MyContacts", "My Contacts", CONTACT),
            recently_viewed(
                "RecentlyViewedContacts",
                "Recently Viewed Contacts",
                CONTACT,
            ),
        ],
        "Lead" => vec![
            Definition {
                filter: Some(("IsConverted", "=", "false", "equals")),
                ..view("AllOpenLeads", "All Open Leads", LEAD)
            },
            mine("MyUnreadLeads", "My Leads", LEAD),
            recently_viewed("RecentlyViewedLeads", "Recently Viewed Leads", LEAD),
        ],
        "Opportunity" => vec![
            view("AllOpportunities", "All Opportunities", OPPORTUNITY),
            mine("MyOpportunities", "My Opportunities", OPPORTUNITY),
            Definition {
                filter: Some(("CloseDate", "=", "THIS_MONTH", "equals")),
                order: ("CloseDate", false),
                ..view("ClosingThisMonth", "Closing This Month", OPPORTUNITY)
            },
            Definition {
                filter: Some(("IsClosed", "=", "false", "equals")),
                order: ("CloseDate", false),
                ..view("My_Team_s_Deals", "My Team's Deals", OPPORTUNITY)
            },
            recently_viewed(
                "RecentlyViewedOpportunities",
                "Recently Viewed Opportunities",
                OPPORTUNITY,
            ),
        ],
        "Case" => vec![
            Definition {
                filter: Some(("IsClosed", "=", "false", "equals")),
                order: ("CaseNumber", true),
                ..view("AllOpenCases", "All Open Cases", CASE)
            },
            Definition {
                order: ("CaseNumber", true),
                ..mine("MyCases", "My Cases", CASE)
            },
            Definition {
                order: ("LastViewedDate", true),
                ..recently_viewed("RecentlyViewedCases", "Recently Viewed Cases", CASE)
            },
        ],
        _ => Vec::new(),
    }
}

/// Key prefix of `ListView` ids.
const LIST_VIEW_PREFIX: &str = "00B";

/// A view's id: stable per object and position, so a client can keep it.
fn view_id(object_index: usize, position: usize) -> String {
    super::ids::mint(
        LIST_VIEW_PREFIX,
        (object_index as u64) * 64 + position as u64 + 1,
    )
}

/// A field path as the object's schema resolves it: the field at its end, when every hop is
/// a visible reference.
fn resolve<'a>(ctx: &'a Ctx, def: &'a ObjectDef, path: &str) -> Option<&'a FieldDef> {
    let mut def = def;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        if segments.peek().is_none() {
            let field = def.fields.get(def.field_index(segment)?)?;
            return ctx.access.schema.is_visible(def, field).then_some(field);
        }
        let reference = def.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(segment))
        })?;
        if !ctx.access.schema.is_visible(def, reference) {
            return None;
        }
        let target = reference.reference_to.first()?;
        let index = ctx.org.schema.index_of(target)?;
        ctx.access.schema.object_schema(index)?;
        def = ctx.org.schema.objects.get(index)?;
    }
    None
}

/// The object, when the caller's profile can see it.
fn visible_object(ctx: &Ctx, name: &str) -> Result<usize, Vec<ApiError>> {
    ctx.org
        .schema
        .index_of(name)
        .filter(|&i| ctx.access.schema.object_schema(i).is_some())
        .ok_or_else(|| vec![ApiError::not_found()])
}

fn basic_info(ctx: &Ctx, object: &str, id: &str, view: &Definition) -> Json {
    let base = format!(
        "/services/data/v{}/sobjects/{object}/listviews/{id}",
        ctx.version
    );
    json!({
        "describeUrl": format!("{base}/describe"),
        "developerName": view.developer_name,
        "id": id,
        "label": view.label,
        "resultsUrl": format!("{base}/results"),
        "soqlCompatible": true,
        "url": base,
    })
}

/// `GET /sobjects/{object}/listviews`.
pub fn list(ctx: &Ctx, object: &str) -> Outcome {
    let index = visible_object(ctx, object)?;
    let name = &ctx.org.schema.objects[index].name;
    let views: Vec<Json> = definitions(name)
        .iter()
        .enumerate()
        .map(|(i, view)| basic_info(ctx, name, &view_id(index, i), view))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "done": true,
            "listviews": views,
            "nextRecordsUrl": null,
            "size": views.len(),
            "sobjectType": name,
        }),
    ))
}

/// The view with this id on this object.
fn find(ctx: &Ctx, object: &str, id: &str) -> Result<(usize, Definition), Vec<ApiError>> {
    let index = visible_object(ctx, object)?;
    let name = &ctx.org.schema.objects[index].name;
    definitions(name)
        .into_iter()
        .enumerate()
        .find(|(i, _)| super::ids::normalize(id).is_some_and(|id| view_id(index, *i) == id))
        .map(|(_, view)| (index, view))
        .ok_or_else(|| vec![ApiError::not_found()])
}

/// `GET /sobjects/{object}/listviews/{id}`.
pub fn one(ctx: &Ctx, object: &str, id: &str) -> Outcome {
    let (index, view) = find(ctx, object, id)?;
    let name = &ctx.org.schema.objects[index].name;
    let position = definitions(name)
        .iter()
        .position(|d| d.developer_name == view.developer_name)
        .unwrap_or(0);
    Ok(json_response(
        StatusCode::OK,
        &basic_info(ctx, name, &view_id(index, position), &view),
    ))
}

/// What a view shows and runs, resolved against what the caller can see.
struct Composed {
    id: String,
    columns: Vec<Json>,
    order_by: Vec<Json>,
    query: String,
}

fn compose(ctx: &Ctx, index: usize, view: &Definition) -> Composed {
    let def = &ctx.org.schema.objects[index];
    let position = definitions(&def.name)
        .iter()
        .position(|d| d.developer_name == view.developer_name)
        .unwrap_or(0);
    let (sort_field, descending) = view.order;
    let mut columns = Vec::new();
    let mut select = Vec::new();
    // A column the caller cannot see is left out, as field-level security leaves it out of
    // the real describe.
    let shown = view
        .columns
        .iter()
        .filter_map(|path| resolve(ctx, def, path).map(|field| (*path, field, false)));
    let hidden = ["Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"]
        .into_iter()
        .filter(|name| !view.columns.contains(name))
        .filter_map(|path| resolve(ctx, def, path).map(|field| (path, field, true)));
    for (path, field, is_hidden) in shown.chain(hidden) {
        let item = if matches!(field.field_type, FieldType::Picklist) {
            format!("toLabel({path})")
        } else {
            path.to_string()
        };
        let (ascending_label, descending_label) = sort_labels(&field.field_type);
        let sorted = path.eq_ignore_ascii_case(sort_field);
        let direction = if descending {
            "descending"
        } else {
            "ascending"
        };
        columns.push(json!({
            "ascendingLabel": ascending_label,
            "descendingLabel": descending_label,
            "fieldNameOrPath": path,
            "hidden": is_hidden,
            "label": field.label,
            "selectListItem": item,
            "sortDirection": if sorted { Json::from(direction) } else { Json::Null },
            "sortIndex": if sorted { Json::from(0) } else { Json::Null },
            "sortable": !matches!(field.field_type, FieldType::Textarea | FieldType::Multipicklist),
            "type": serde_json::to_value(&field.field_type).unwrap_or(Json::Null),
        }));
        select.push(item);
    }
    let mut query = format!("SELECT {} FROM {}", select.join(", "), def.name);
    if view.mine {
        query.push_str(" USING SCOPE mine");
    }
    if let Some((field, operator, value, _)) = view.filter {
        query.push_str(&format!(" WHERE {field} {operator} {value}"));
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let nulls = if descending { "LAST" } else { "FIRST" };
    query.push_str(&format!(
        " ORDER BY {sort_field} {direction} NULLS {nulls}, Id {direction} NULLS {nulls}"
    ));
    let order = |field: &str| {
        json!({
            "fieldNameOrPath": field,
            "nullsPosition": nulls.to_ascii_lowercase(),
            "sortDirection": if descending { "descending" } else { "ascending" },
        })
    };
    Composed {
        id: view_id(index, position),
        columns,
        order_by: vec![order(sort_field), order("Id")],
        query,
    }
}

/// The sort labels per column type, as the documented example has them (its text columns
/// say ascending "Z-A", its phone column "9-0", its picklist "Low to High").
fn sort_labels(field_type: &FieldType) -> (&'static str, &'static str) {
    match field_type {
        FieldType::Int
        | FieldType::Long
        | FieldType::Double
        | FieldType::Currency
        | FieldType::Percent
        | FieldType::Phone => ("9-0", "0-9"),
        FieldType::Picklist => ("Low to High", "High to Low"),
        FieldType::Date | FieldType::Datetime | FieldType::Time => ("New to Old", "Old to New"),
        FieldType::Boolean => ("Checked to Unchecked", "Unchecked to Checked"),
        _ => ("Z-A", "A-Z"),
    }
}

/// `GET /sobjects/{object}/listviews/{id}/describe`.
pub fn describe(ctx: &Ctx, object: &str, id: &str) -> Outcome {
    let (index, view) = find(ctx, object, id)?;
    let composed = compose(ctx, index, &view);
    let where_condition = match view.filter {
        Some((field, _, value, operator)) => json!({
            "field": field,
            "operator": operator,
            "values": [value],
        }),
        None => json!({"conditions": [], "conjunction": "and"}),
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "columns": composed.columns,
            "id": composed.id,
            "orderBy": composed.order_by,
            "query": composed.query,
            "relatedEntityId": null,
            "scope": if view.mine { Json::from("mine") } else { Json::Null },
            "scopeEntityId": null,
            "sobjectType": ctx.org.schema.objects[index].name,
            "whereCondition": where_condition,
        }),
    ))
}

/// Rows `results` returns at most (its `limit` parameter's maximum, REST API Developer
/// Guide, "List View Results").
const MAX_RESULTS: usize = 2000;
const DEFAULT_RESULTS: usize = 25;

/// `GET /sobjects/{object}/listviews/{id}/results`: the view's query run as the caller,
/// each row as the view's columns.
pub fn results(
    state: &AppState,
    ctx: &Ctx,
    object: &str,
    id: &str,
    limit: Option<&str>,
) -> Outcome {
    let (index, view) = find(ctx, object, id)?;
    let composed = compose(ctx, index, &view);
    // Out-of-range or unreadable limits fall back to the documented default and maximum.
    let limit = limit
        .and_then(|text| text.parse::<usize>().ok())
        .map_or(DEFAULT_RESULTS, |n| n.clamp(1, MAX_RESULTS));
    let evaluated = super::engine::run(state, ctx, &composed.query, false, MAX_RESULTS)?;
    let records: Vec<Json> = evaluated
        .records
        .iter()
        .take(limit)
        .filter_map(|bytes| serde_json::from_slice::<Json>(bytes).ok())
        .map(|record| {
            let cells: Vec<Json> = composed
                .columns
                .iter()
                .filter_map(|c| c["fieldNameOrPath"].as_str())
                .map(|path| {
                    let value = path
                        .split('.')
                        .try_fold(&record, |at, segment| at.get(segment))
                        .cloned()
                        .unwrap_or(Json::Null);
                    let value = match value {
                        Json::Null => Json::Null,
                        Json::String(s) => Json::String(s),
                        other => Json::String(other.to_string()),
                    };
                    json!({"fieldNameOrPath": path, "value": value})
                })
                .collect();
            json!({"columns": cells})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "columns": composed.columns,
            "developerName": view.developer_name,
            "done": evaluated.total_size <= limit,
            "id": composed.id,
            "label": view.label,
            "records": records,
            "size": evaluated.total_size,
        }),
    ))
}
