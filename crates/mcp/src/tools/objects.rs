//! `list_objects` and `describe_object`: the schema, compact enough to keep in context.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::args::Parameters;
use crate::describe_view;
use crate::error::ToolError;
use crate::render;
use crate::server::{Policy, SfServer};
use sfmcp_salesforce::{GlobalDescribe, SalesforceClient};
use sfmcp_soql::schema::{ObjectSchema, Schema, StaticSchema};
use sfmcp_soql::validate::{similar_fields, similar_objects};

/// Without a filter, an org's thousand objects would flood the context.
const MAX_LISTED: usize = 150;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListObjectsArgs {
    /// part of an API name or label
    #[serde(rename = "match")]
    pub matching: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DescribeObjectArgs {
    pub object: String,
    /// part of a field name or label
    pub fields_matching: Option<String>,
}

#[tool_router(router = objects_router, vis = "pub(crate)")]
impl SfServer {
    /// Objects matching an API name or label, with access flags.
    #[tool(annotations(read_only_hint = true))]
    async fn list_objects(
        &self,
        Parameters(args): Parameters<ListObjectsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let client = self.client(&context)?;
        let global = client.objects().await?;
        let needle = args
            .matching
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_ascii_lowercase);
        let policy = self.policy();
        let matching: Vec<_> = global
            .sobjects
            .iter()
            .filter(|o| policy.check_object(&o.name).is_ok())
            .filter(|o| {
                needle.as_ref().is_none_or(|n| {
                    o.name.to_ascii_lowercase().contains(n)
                        || o.label.to_ascii_lowercase().contains(n)
                })
            })
            .collect();
        let mut text = format!(
            "{} objects (q: queryable, c: createable, u: updateable, custom)\n",
            matching.len()
        );
        let mut listed = Vec::new();
        for object in matching.iter().take(MAX_LISTED) {
            let mut flags = String::new();
            for (yes, flag) in [
                (object.queryable, " q"),
                (object.createable, " c"),
                (object.updateable, " u"),
                (object.custom, " custom"),
            ] {
                if yes {
                    flags.push_str(flag);
                }
            }
            text.push_str(&format!("{} [{}]{flags}\n", object.name, object.label));
            listed.push(json!({
                "name": object.name,
                "label": object.label,
                "queryable": object.queryable,
                "createable": object.createable,
                "updateable": object.updateable,
                "custom": object.custom,
            }));
        }
        if matching.len() > MAX_LISTED {
            text.push_str(&format!(
                "…{} more: narrow with match\n",
                matching.len() - MAX_LISTED
            ));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([("objects", Value::Array(listed))]));
        Ok(result)
    }

    /// Compact schema: fields (type, length, required, picklists, references), child relationships, record types.
    #[tool(annotations(read_only_hint = true))]
    async fn describe_object(
        &self,
        Parameters(args): Parameters<DescribeObjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let client = self.client(&context)?;
        let object = self.known_object(&client, &args.object).await?;
        let schema = client.describe(&object).await?;
        let visible = self.without_denied_fields(&schema);
        let text = describe_view::render(&visible, args.fields_matching.as_deref());
        let fields: Vec<_> = visible
            .fields
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "label": f.label,
                    "type": f.field_type,
                    "required": f.required_on_create(),
                    "createable": f.createable,
                    "updateable": f.updateable,
                })
            })
            .collect();
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("name", visible.name.clone().into()),
            ("fields", Value::Array(fields)),
        ]));
        Ok(result)
    }
}

/// Object API names are letters, digits and underscores, at most 80 of them (custom ones
/// with a namespace and `__c`).
pub(crate) fn is_api_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" Did you mean {}?", suggestions.join(", "))
    }
}

/// Refuses, without any request, a name that is not an API name or that the operator's
/// allow-list leaves out; the refusal suggests close names from the allow-list.
pub(crate) fn allowed_object(policy: &Policy, typed: &str) -> Result<(), ToolError> {
    if !is_api_name(typed) {
        // Not quoted back: it could forge lines or links in the answer.
        return Err(ToolError::Input(
            "object is not an object's API name: send letters, digits and underscores, like Contact or Invoice__c; list_objects shows the names".into(),
        ));
    }
    if policy.check_object(typed).is_ok() {
        return Ok(());
    }
    let mut allowed = StaticSchema::new();
    for name in &policy.allow_objects {
        allowed.add_known(name);
    }
    let suggestions = similar_objects(&allowed, typed, |_| true);
    Err(ToolError::Denied(format!(
        "{typed} is not among the objects this server allows ({}); the operator decides this with --allow-objects.{}",
        policy.allow_objects.join(", "),
        did_you_mean(&suggestions)
    )))
}

/// `typed` as `global` spells it, when the policy allows it and the org has it; otherwise a
/// refusal or a "did you mean" among the allowed objects `names` knows.
pub(crate) fn resolve_object(
    policy: &Policy,
    global: &GlobalDescribe,
    names: &dyn Schema,
    typed: &str,
) -> Result<String, ToolError> {
    let typed = typed.trim();
    allowed_object(policy, typed)?;
    if let Some(found) = global
        .sobjects
        .iter()
        .find(|o| o.name.eq_ignore_ascii_case(typed))
    {
        return Ok(found.name.clone());
    }
    let suggestions = similar_objects(names, typed, |name| policy.check_object(name).is_ok());
    Err(ToolError::Input(format!(
        "NOT_FOUND: no object has the API name {typed}, or the connected user cannot see it; nothing was sent to Salesforce.{}\nNext step: list_objects shows the objects this user can see.",
        did_you_mean(&suggestions)
    )))
}

impl SfServer {
    /// `typed` as the org spells it, when it names an object this server lets tools use.
    /// The operator's allow-list is checked first, without a request; then the describe
    /// global, fetched once per connection and cached as the describes are. A misspelled or
    /// refused name costs no request of its own, and its "did you mean" offers only objects
    /// the allow-list lets through.
    pub(crate) async fn known_object(
        &self,
        client: &SalesforceClient,
        typed: &str,
    ) -> Result<String, ToolError> {
        allowed_object(self.policy(), typed.trim())?;
        let global = client.objects().await?;
        resolve_object(self.policy(), &global, &client.schema(), typed)
    }

    pub(crate) fn allowed_object(&self, typed: &str) -> Result<(), ToolError> {
        allowed_object(self.policy(), typed)
    }
}

/// `requested` as `schema` spells them, when each is a field of the object this server
/// lets tools read: the record's own fields only (related records' go through
/// soql_query, where the policy sees the whole path). Misspelled names get a "did you
/// mean" among the visible fields; nothing is sent.
pub(crate) fn known_fields(
    policy: &Policy,
    schema: &ObjectSchema,
    requested: &[String],
) -> Result<Vec<String>, ToolError> {
    let visible = policy.without_denied_fields(schema);
    let mut known = Vec::new();
    let mut problems = Vec::new();
    for typed in requested {
        let typed = typed.trim();
        let quoted = crate::write_check::quoted(typed);
        if typed.contains('.') {
            problems.push(format!(
                "{quoted} is a related record's field; get_record reads {}'s own fields, soql_query reads related ones",
                schema.name
            ));
        } else if policy.is_field_denied(&schema.name, typed) {
            problems.push(format!(
                "{}.{quoted} is denied by the operator (--deny-fields)",
                schema.name
            ));
        } else if let Some(field) = visible.field(typed) {
            known.push(field.name.clone());
        } else {
            problems.push(format!(
                "{} has no field {quoted} the connected user can see.{}",
                schema.name,
                did_you_mean(&similar_fields(&visible, typed))
            ));
        }
        if problems.len() == 5 {
            break;
        }
    }
    if problems.is_empty() {
        Ok(known)
    } else {
        Err(ToolError::Input(format!(
            "Nothing was sent to Salesforce: {}. describe_object {} lists the fields.",
            problems.join("; "),
            schema.name
        )))
    }
}

#[cfg(test)]
mod tests {
    //! Random `get_record` field lists under random deny-lists (issue 15, item 1): the fields
    //! sent are fields of the object, never denied, and the default set holds none denied.

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const FIELDS: [&str; 6] = ["Id", "Name", "Email", "AnnualRevenue", "Phone", "OwnerId"];
    const TYPED: [&str; 10] = [
        "Id",
        "name",
        "EMAIL",
        "AnnualRevenue",
        "Phone",
        "Nme",
        "Owner.Email",
        "Account.AnnualRevenue",
        "Secret__c",
        " Phone ",
    ];

    fn account() -> ObjectSchema {
        let fields: Vec<Value> = FIELDS
            .iter()
            .map(|f| json!({"name": f, "label": f, "type": "string"}))
            .collect();
        serde_json::from_value::<ObjectSchema>(
            json!({"name": "Account", "label": "Account", "fields": fields}),
        )
        .expect("describe")
        .index()
    }

    proptest! {
        #![proptest_config(sfmcp_soql::test_support::guarantee_config(256, 0x0b1e_c75e))]

        #[test]
        fn record_fields_sent_are_known_and_never_denied(
            deny in proptest::sample::subsequence(
                vec!["Email", "Account.AnnualRevenue", "Contact.Phone", "Account.OwnerId"], 0..=4),
            requested in proptest::sample::subsequence(TYPED.to_vec(), 1..=5),
        ) {
            let policy = Policy {
                deny_fields: deny.iter().map(|d| d.to_string()).collect(),
                ..Policy::default()
            };
            let schema = account();
            let requested: Vec<String> = requested.iter().map(|s| s.to_string()).collect();
            if let Ok(fields) = known_fields(&policy, &schema, &requested) {
                prop_assert_eq!(fields.len(), requested.len());
                for field in &fields {
                    prop_assert!(FIELDS.contains(&field.as_str()), "{} sent", field);
                    prop_assert!(!policy.is_field_denied("Account", field), "{} sent", field);
                }
            } else {
                // Refused only for a reason: a denied, related or unknown field.
                let explained = requested.iter().any(|r| {
                    let r = r.trim();
                    r.contains('.')
                        || policy.is_field_denied("Account", r)
                        || schema.field(r).is_none()
                });
                prop_assert!(explained, "refused without cause: {:?}", requested);
            }
            let default_set = policy.without_denied_fields(&schema);
            for field in &default_set.fields {
                prop_assert!(!policy.is_field_denied("Account", &field.name));
            }
        }
    }
}
