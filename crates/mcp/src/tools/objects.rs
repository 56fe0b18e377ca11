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
use crate::server::SfServer;

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
        let object = args.object.trim();
        self.policy().check_object(object)?;
        let client = self.client(&context)?;
        let schema = client.describe(object).await?;
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
