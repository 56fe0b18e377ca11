//! `org_limits`: how much of the org's API allocation is spent, and the limits that matter.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use serde_json::json;

use crate::error::ToolError;
use crate::server::SfServer;

/// The limits people ask about; `/limits` lists dozens.
const MAIN_LIMITS: [&str; 8] = [
    "DailyApiRequests",
    "DailyBulkApiBatches",
    "DailyBulkV2QueryJobs",
    "DailyAsyncApexExecutions",
    "DataStorageMB",
    "FileStorageMB",
    "SingleEmail",
    "HourlyTimeBasedWorkflow",
];

#[tool_router(router = limits_router, vis = "pub(crate)")]
impl SfServer {
    /// Today's API usage and the org's main limits.
    #[tool(annotations(read_only_hint = true))]
    async fn org_limits(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let client = self.client(&context)?;
        let limits = client.limits().await?;
        let mut text = String::new();
        if let Some(usage) = client.usage().usage() {
            text.push_str(&format!(
                "API requests today: {} of {} ({:.1}%)\n",
                usage.used,
                usage.max,
                usage.share() * 100.0
            ));
        }
        if let Some(warning) = client.usage().warning() {
            text.push_str(&format!("warning: {warning}\n"));
        }
        let mut main = serde_json::Map::new();
        for name in MAIN_LIMITS {
            if let Some(limit) = limits.get(name) {
                let used = limit.max - limit.remaining;
                text.push_str(&format!(
                    "{name}: {used} used of {} ({} remaining)\n",
                    limit.max, limit.remaining
                ));
                main.insert(
                    name.to_string(),
                    json!({ "max": limit.max, "remaining": limit.remaining }),
                );
            }
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "limits": main }));
        Ok(result)
    }
}
