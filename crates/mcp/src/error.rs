//! Tool failures as the model sees them: a tool result with `isError`, the Salesforce
//! errorCode when there is one, what went wrong, and the next step. Protocol errors are kept
//! for protocol faults.

use rmcp::model::{CallToolResult, ContentBlock, IntoContents};

use super::cursor::CursorError;
use super::write_check::WriteIssue;
use sfmcp_salesforce::SfError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The query was checked locally and Salesforce would reject it; `rendered` has the
    /// caret and any suggestions. No API call was spent.
    #[error("{rendered}")]
    Soql { rendered: String },
    #[error(transparent)]
    Salesforce(#[from] SfError),
    #[error(transparent)]
    Cursor(#[from] CursorError),
    /// An argument that cannot be used as given; the message says what to send instead.
    #[error("{0}")]
    Input(String),
    /// The server's settings do not allow this (read-only, allow-listed objects, denied
    /// fields).
    #[error("{0}")]
    Denied(String),
    /// Salesforce answered in a way that cannot be right (an empty page that is not the
    /// last): stopping beats looping or inventing rows.
    #[error("{0}")]
    Upstream(String),
    /// A create or update that would fail: every problem found, nothing sent.
    #[error("{}", render_issues(.0))]
    Write(Vec<WriteIssue>),
}

impl ToolError {
    /// The text the model reads.
    pub fn message(&self) -> String {
        match self {
            ToolError::Salesforce(error) => {
                let code = error
                    .error_code()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default();
                // Salesforce's messages can quote record values: kept on their line.
                let message = error.to_string();
                format!(
                    "{code}{}\nNext step: {}",
                    crate::render::inline(&message),
                    error.next_step()
                )
            }
            ToolError::Write(issues) => format!(
                "Nothing was sent; fix these and try again:\n{}",
                render_issues(issues)
            ),
            other => other.to_string(),
        }
    }

    pub fn into_result(self) -> CallToolResult {
        CallToolResult::error(self.into_contents())
    }
}

/// Lets a tool return `Result<_, ToolError>`: rmcp turns an `Err` into a result with
/// `isError: true` holding these contents, the same as [`ToolError::into_result`].
impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.message())]
    }
}

/// Write issues listed at most; a record with thousands of bad fields gets a count of the rest.
const MAX_ISSUES_SHOWN: usize = 20;

fn render_issues(issues: &[WriteIssue]) -> String {
    let mut lines: Vec<String> = issues
        .iter()
        .take(MAX_ISSUES_SHOWN)
        .map(|i| format!("- {}: {}", i.code, i.message))
        .collect();
    if issues.len() > MAX_ISSUES_SHOWN {
        lines.push(format!(
            "- …and {} more problems not listed; fix these and send again to see them",
            issues.len() - MAX_ISSUES_SHOWN
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use rmcp::handler::server::tool::IntoCallToolResult;
    use rmcp::model::CallToolResponse;

    use super::*;

    #[test]
    fn write_errors_quote_bounded_names_and_count_the_rest() {
        let schema: sfmcp_soql::schema::ObjectSchema = serde_json::from_value(
            serde_json::json!({"name": "Contact", "label": "Contact", "createable": true}),
        )
        .map(sfmcp_soql::schema::ObjectSchema::index)
        .unwrap_or_else(|e| panic!("{e}"));
        let check =
            |fields: serde_json::Map<String, serde_json::Value>| match crate::write_check::check(
                &schema,
                crate::write_check::WriteKind::Create,
                &fields,
                &crate::write_check::WriteContext::default(),
            ) {
                Ok(_) => panic!("unknown fields were accepted"),
                Err(issues) => ToolError::Write(issues).message(),
            };
        let huge = "X".repeat(3 * 1024 * 1024);
        let one = check(serde_json::Map::from_iter([(
            huge,
            serde_json::Value::Null,
        )]));
        assert!(one.len() < 1_000, "{} bytes", one.len());
        assert!(one.contains("chars]"), "{one}");
        let many = check(
            (0..60_000)
                .map(|i| (format!("Unknown{i}__c"), serde_json::Value::Null))
                .collect(),
        );
        assert!(many.len() < 8 * 1024, "{} bytes", many.len());
        assert!(many.contains("59980 more problems"), "{many}");
    }

    /// A tool's `Err` must read exactly as the result the tools built by hand before.
    #[test]
    fn an_err_from_a_tool_is_the_same_error_result() {
        let made = || ToolError::Input("max_rows must be at least 1".into());
        let returned = Err::<CallToolResult, ToolError>(made()).into_call_tool_result();
        let Ok(CallToolResponse::Complete(result)) = returned else {
            panic!("not a complete result: {returned:?}");
        };
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            serde_json::to_value(&result).ok(),
            serde_json::to_value(made().into_result()).ok()
        );
    }
}
