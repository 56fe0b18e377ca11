//! The OAuth scopes each tool needs, checked before the tool runs.
//!
//! A grant without the scope a tool needs makes Salesforce refuse the call (REST answers 401
//! `INVALID_SESSION_ID` "This session is not valid for use with the REST API"); refusing it
//! here costs no request and says which scope to add. Where the granted scopes are unknown
//! (the Paragon plane; a fixed token nothing introspected) nothing is refused here, and
//! Salesforce's own answer is mapped to the same missing-scope error by the client.
//!
//! | tool | needs | why |
//! |---|---|---|
//! | `whoami` | nothing | works with any grant: the token response, userinfo (`id`/`openid`), SOQL (`api`) as granted |
//! | `audit_rules` | nothing | a fixed list, no request |
//! | every other tool | `api` | REST calls (query, search, describe, records, limits); `audit_run` queries the org, `audit_findings` shows what `audit_run` fetched, `record_url` checks the object against the org's describe |
//!
//! A tool not in [`NEEDS`] needs `api`: the safe default for a new tool until its row says
//! otherwise.

use sfmcp_salesforce::SalesforceClient;

use crate::error::ToolError;

/// What the REST API's scope is called on the connected app's page.
const API_SCOPE_LABEL: &str = "Manage user data via APIs (api)";

/// Every tool and the scopes it needs (all of them).
pub const NEEDS: &[(&str, &[&str])] = &[
    ("whoami", &[]),
    ("audit_rules", &[]),
    ("audit_run", &["api"]),
    ("audit_findings", &["api"]),
    ("soql_query", &["api"]),
    ("query_more", &["api"]),
    ("sosl_search", &["api"]),
    ("list_objects", &["api"]),
    ("describe_object", &["api"]),
    ("get_record", &["api"]),
    ("create_record", &["api"]),
    ("update_record", &["api"]),
    ("create_records", &["api"]),
    ("update_records", &["api"]),
    ("upsert_record", &["api"]),
    ("upsert_records", &["api"]),
    ("record_url", &["api"]),
    ("org_limits", &["api"]),
    ("list_views", &["api"]),
    ("list_reports", &["api"]),
    ("run_report", &["api"]),
    ("record_history", &["api"]),
    ("recent_items", &["api"]),
    ("record_files", &["api"]),
    ("tooling_query", &["api"]),
];

/// The scopes `tool` needs.
pub fn needed_by(tool: &str) -> &'static [&'static str] {
    NEEDS
        .iter()
        .find(|(name, _)| *name == tool)
        .map_or(&["api"], |(_, needs)| needs)
}

/// The first scope `tool` needs that the grant is known to lack.
pub fn missing_for(tool: &str, granted: impl Fn(&str) -> Option<bool>) -> Option<&'static str> {
    needed_by(tool)
        .iter()
        .copied()
        .find(|scope| granted(scope) == Some(false))
}

/// The refusal for a call to `tool` on `client` when its grant is known to lack a scope the
/// tool needs; `None` when the call may go. `signed_in`: the grant is the caller's own
/// sign-in through this server (`--oauth`), so the way to a new grant is signing in again,
/// not `sfmcp login`.
pub fn refusal(tool: &str, client: &SalesforceClient, signed_in: bool) -> Option<ToolError> {
    let scope = missing_for(tool, |s| client.scope_granted(s))?;
    let label = if scope == "api" {
        API_SCOPE_LABEL.to_string()
    } else {
        format!("`{scope}`")
    };
    let how = if signed_in {
        format!(
            "the operator adds {label} to the connected app's Selected OAuth Scopes, then you sign in again \
             (disconnect and reconnect this server in your MCP client)"
        )
    } else {
        format!(
            "add {label} to the connected app's Selected OAuth Scopes, then authorize again with it, \
             e.g. `sfmcp login --scopes \"api refresh_token\"` (or get a new SF_REFRESH_TOKEN / SF_ACCESS_TOKEN that carries it)"
        )
    };
    Some(ToolError::Denied(format!(
        "{tool} needs the OAuth scope `{scope}`, which this connection's grant lacks; nothing was sent to Salesforce. \
         To grant it: {how}. whoami shows the granted scopes."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scopes: &'static [&'static str]) -> impl Fn(&str) -> Option<bool> {
        move |s| Some(scopes.contains(&s) || (scopes.contains(&"full") && s != "refresh_token"))
    }

    #[test]
    fn rest_tools_need_api_and_whoami_needs_nothing() {
        let web_only = grant(&["refresh_token", "web"]);
        for (tool, needs) in NEEDS {
            let missing = missing_for(tool, &web_only);
            if needs.is_empty() {
                assert_eq!(missing, None, "{tool}");
            } else {
                assert_eq!(missing, Some("api"), "{tool}");
            }
        }
        assert_eq!(missing_for("whoami", grant(&[])), None);
        assert_eq!(missing_for("soql_query", grant(&["api"])), None);
        assert_eq!(missing_for("soql_query", grant(&["full"])), None);
    }

    #[test]
    fn unknown_scopes_refuse_nothing_and_unlisted_tools_need_api() {
        for (tool, _) in NEEDS {
            assert_eq!(missing_for(tool, |_| None), None, "{tool}");
        }
        assert_eq!(needed_by("a_tool_added_later"), &["api"]);
        assert_eq!(
            missing_for("a_tool_added_later", grant(&["web"])),
            Some("api")
        );
    }

    #[test]
    fn every_routed_tool_has_a_row() {
        let router = crate::server::SfServer::router(&crate::server::Policy::default());
        for tool in router.list_all() {
            assert!(
                NEEDS.iter().any(|(name, _)| *name == tool.name),
                "{} has no row in scopes::NEEDS: decide which scopes it needs",
                tool.name
            );
        }
    }
}
