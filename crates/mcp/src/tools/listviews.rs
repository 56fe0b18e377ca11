//! `list_views`: an object's list views, and one view's rows. A view's rows come from the
//! SOQL its describe gives, run through soql_query's own path, so the operator's allow-list
//! and deny-list apply to everything the view's query touches (its columns, filter and
//! sort), and its rows page with query_more like any query's.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::args::Parameters;
use crate::error::ToolError;
use crate::render;
use crate::server::SfServer;
use sfmcp_salesforce::{ListView, SalesforceId};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListViewsArgs {
    pub object: String,
    /// label, name or id
    pub view: Option<String>,
    /// up to 2000
    pub max_rows: Option<u32>,
}

#[tool_router(router = listviews_router, vis = "pub(crate)")]
impl SfServer {
    /// An object's list views, or a view's rows (its SOQL, checked as soql_query)
    #[tool(annotations(read_only_hint = true))]
    async fn list_views(
        &self,
        Parameters(args): Parameters<ListViewsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let max_rows = self.row_budget(args.max_rows)?;
        let client = self.client(&context)?;
        let object = self.known_object(&client, &args.object).await?;
        let views = client.list_views(&object).await?.listviews;
        let Some(wanted) = args.view.as_deref().map(str::trim) else {
            return Ok(render_views(&object, &views));
        };
        let view = pick(&views, wanted).ok_or_else(|| {
            let labels: Vec<String> = views
                .iter()
                .map(|v| render::inline(&v.label).into_owned())
                .collect();
            ToolError::Input(format!(
                "{object} has no list view named {}; its views: {}. Call list_views with only object to see their ids.",
                render::quoted(&Value::String(wanted.to_string())),
                labels.join(", ")
            ))
        })?;
        if !view.soql_compatible {
            return Err(ToolError::Input(format!(
                "the list view {} cannot be run through the API (Salesforce says its filter has no SOQL form); query {object} with soql_query instead",
                render::inline(&view.label)
            )));
        }
        let describe = client.list_view_describe(&object, &view.id).await?;
        let mut result = self
            .run_checked_query(&describe.query, max_rows, false, &context)
            .await?;
        let heading = format!(
            "list view {} ({}) runs: {}\n",
            render::inline(&view.label),
            render::inline(&view.developer_name),
            render::inline(&describe.query)
        );
        result.content.insert(0, ContentBlock::text(heading));
        if let Some(Value::Object(structured)) = result.structured_content.as_mut() {
            structured.insert(
                "listView".into(),
                render::object([
                    ("id", view.id.clone().into()),
                    ("label", view.label.clone().into()),
                    ("query", describe.query.into()),
                ]),
            );
        }
        Ok(result)
    }
}

/// The view `wanted` names: its id (15 or 18 characters), API name, or label, in that
/// order; names compare without case.
fn pick<'a>(views: &'a [ListView], wanted: &str) -> Option<&'a ListView> {
    let id = SalesforceId::parse(wanted).ok();
    views
        .iter()
        .find(|v| {
            id.as_ref()
                .is_some_and(|id| SalesforceId::parse(&v.id).is_ok_and(|own| own == *id))
        })
        .or_else(|| {
            views
                .iter()
                .find(|v| v.developer_name.eq_ignore_ascii_case(wanted))
        })
        .or_else(|| views.iter().find(|v| v.label.eq_ignore_ascii_case(wanted)))
}

fn render_views(object: &str, views: &[ListView]) -> CallToolResult {
    let rows: Vec<Value> = views
        .iter()
        .map(|v| {
            render::object([
                ("label", v.label.clone().into()),
                ("developerName", v.developer_name.clone().into()),
                ("id", v.id.clone().into()),
            ])
        })
        .collect();
    let mut text = format!(
        "{object}: {} list views; run one with list_views object {object} view <label>\n",
        views.len()
    );
    let table = render::table(
        &render::records(rows.iter().cloned()),
        &[],
        render::MAX_TEXT_BYTES,
    );
    text.push_str(&table.text);
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(render::object([
        ("object", object.into()),
        ("views", Value::Array(rows)),
    ]));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: &str, label: &str, developer_name: &str) -> ListView {
        ListView {
            id: id.into(),
            label: label.into(),
            developer_name: developer_name.into(),
            soql_compatible: true,
        }
    }

    #[test]
    fn a_view_is_named_by_id_api_name_or_label() {
        let views = [
            view("00B5g00000AbCdEEAV", "All Accounts", "AllAccounts"),
            view("00B5g00000AbCdFEAV", "My Accounts", "MyAccounts"),
        ];
        assert_eq!(
            pick(&views, "myaccounts").map(|v| v.label.as_str()),
            Some("My Accounts")
        );
        assert_eq!(
            pick(&views, "ALL ACCOUNTS").map(|v| v.developer_name.as_str()),
            Some("AllAccounts")
        );
        assert_eq!(
            pick(&views, "00B5g00000AbCdF").map(|v| v.label.as_str()),
            Some("My Accounts")
        );
        assert!(pick(&views, "Recently Viewed").is_none());
    }
}
