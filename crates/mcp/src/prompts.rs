//! Prompts people ask for again and again, written so the model uses the tools well: exact
//! SOQL to start from, and what to report.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{GetPromptResult, PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use rmcp::handler::server::router::prompt::PromptRouter;

use super::server::{Policy, SfServer};
use sfmcp_soql::like_literal;

/// Objects, each with the fields used on it.
type Reads = &'static [(&'static str, &'static [&'static str])];

/// What each prompt's queries read: objects, and the fields used on each (selected, filtered,
/// followed or grouped). A prompt is offered only when the operator's policy allows all of
/// it: a prompt would otherwise steer the model to queries the server refuses, and name
/// objects and fields the operator keeps out of view.
const PROMPT_READS: [(&str, Reads); 3] = [
    (
        "pipeline_review",
        &[
            (
                "Opportunity",
                &[
                    "Id",
                    "Name",
                    "StageName",
                    "Amount",
                    "IsClosed",
                    "CloseDate",
                    "LastActivityDate",
                    "AccountId",
                    "OwnerId",
                ],
            ),
            ("Account", &["Id", "Name"]),
            ("User", &["Id", "Name"]),
        ],
    ),
    (
        "account_brief",
        &[
            (
                "Account",
                &[
                    "Id",
                    "Name",
                    "Industry",
                    "Type",
                    "AnnualRevenue",
                    "NumberOfEmployees",
                    "OwnerId",
                ],
            ),
            ("User", &["Id", "Name"]),
            ("Contact", &["Id", "Name", "Title", "Email", "AccountId"]),
            (
                "Opportunity",
                &[
                    "Id",
                    "Name",
                    "StageName",
                    "Amount",
                    "CloseDate",
                    "IsClosed",
                    "AccountId",
                ],
            ),
            (
                "Case",
                &[
                    "Id",
                    "CaseNumber",
                    "Subject",
                    "Status",
                    "Priority",
                    "IsClosed",
                    "AccountId",
                ],
            ),
        ],
    ),
    (
        "access_review",
        &[
            (
                "PermissionSetAssignment",
                &["Id", "AssigneeId", "PermissionSetId"],
            ),
            (
                "User",
                &[
                    "Id",
                    "Name",
                    "Username",
                    "IsActive",
                    "LastLoginDate",
                    "UserType",
                    "ProfileId",
                ],
            ),
            (
                "PermissionSet",
                &[
                    "Id",
                    "Label",
                    "IsOwnedByProfile",
                    "ProfileId",
                    "PermissionsModifyAllData",
                    "PermissionsViewAllData",
                ],
            ),
            ("Profile", &["Id", "Name"]),
        ],
    ),
];

/// Whether `policy` allows everything the prompt `name` reads.
fn prompt_allowed(policy: &Policy, name: &str) -> bool {
    PROMPT_READS
        .iter()
        .find(|(prompt, _)| *prompt == name)
        .is_some_and(|(_, reads)| {
            reads.iter().all(|(object, fields)| {
                policy.check_object(object).is_ok()
                    && fields.iter().all(|f| !policy.is_field_denied(object, f))
            })
        })
}

impl SfServer {
    /// The prompts this server offers under `policy`: those whose queries it would run.
    pub fn prompts_for(policy: &Policy) -> PromptRouter<SfServer> {
        let mut router = Self::prompt_router();
        let names: Vec<String> = router
            .list_all()
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        for name in names {
            if !prompt_allowed(policy, &name) {
                router.remove_route(&name);
            }
        }
        router
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PipelineArgs {
    /// Owner's name, to review one rep's pipeline (default: everyone's)
    pub owner: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AccountArgs {
    /// Account name, or part of it
    pub account: String,
}

#[prompt_router(vis = "pub(crate)")]
impl SfServer {
    /// Review the open pipeline: stages, close dates this quarter, slipped and stale deals.
    #[prompt(name = "pipeline_review")]
    fn pipeline_review(&self, Parameters(args): Parameters<PipelineArgs>) -> GetPromptResult {
        let owner = args
            .owner
            .map(|o| format!(" AND Owner.Name LIKE '%{}%'", like_literal(&o)))
            .unwrap_or_default();
        let text = format!(
            "Review the open sales pipeline.\n\
             1. With soql_query, run: SELECT StageName, COUNT(Id) deals, SUM(Amount) amount FROM Opportunity WHERE IsClosed = false{owner} GROUP BY StageName\n\
             2. Then: SELECT Name, Account.Name, Owner.Name, StageName, Amount, CloseDate, LastActivityDate FROM Opportunity WHERE IsClosed = false{owner} AND CloseDate <= THIS_QUARTER ORDER BY CloseDate\n\
             3. Report: totals by stage; deals closing this quarter; deals whose CloseDate has passed (slipped); deals with no activity in 30 days. Link each deal with its record URL. Do not change any record."
        );
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description("Open pipeline review")
    }

    /// Brief on one account: key facts, contacts, open opportunities and cases.
    #[prompt(name = "account_brief")]
    fn account_brief(&self, Parameters(args): Parameters<AccountArgs>) -> GetPromptResult {
        let name = like_literal(&args.account);
        let text = format!(
            "Prepare a brief on the account matching '{account}'.\n\
             1. With soql_query: SELECT Id, Name, Industry, Type, AnnualRevenue, NumberOfEmployees, Owner.Name, (SELECT Name, Title, Email FROM Contacts LIMIT 10), (SELECT Name, StageName, Amount, CloseDate FROM Opportunities WHERE IsClosed = false), (SELECT CaseNumber, Subject, Status, Priority FROM Cases WHERE IsClosed = false) FROM Account WHERE Name LIKE '%{name}%' LIMIT 3\n\
             2. If several accounts match, say so and brief the closest match.\n\
             3. Report: who they are, who we know there, what is open (deals and cases), and risks. Link records with their URLs. Do not change any record.",
            account = args.account.replace('\'', "")
        );
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description("Account brief")
    }

    /// Access review: who can see and change everything, and who has not logged in lately.
    #[prompt(name = "access_review")]
    fn access_review(&self) -> GetPromptResult {
        let text = "Review who has broad access to this Salesforce org.\n\
             1. With soql_query: SELECT Assignee.Name, Assignee.Username, Assignee.IsActive, PermissionSet.Label, PermissionSet.IsOwnedByProfile, PermissionSet.Profile.Name FROM PermissionSetAssignment WHERE PermissionSet.PermissionsModifyAllData = true OR PermissionSet.PermissionsViewAllData = true\n\
             2. Then: SELECT Name, Username, LastLoginDate, Profile.Name FROM User WHERE IsActive = true AND UserType = 'Standard' AND (LastLoginDate < LAST_N_DAYS:90 OR LastLoginDate = null)\n\
             3. Report: each user with Modify All Data or View All Data and through which profile, permission set or group; active users who have not logged in for 90 days. Suggest what to remove, but change nothing.";
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description("Access review")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_says_what_it_reads() {
        let names: Vec<String> = SfServer::prompt_router()
            .list_all()
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        for name in &names {
            assert!(
                PROMPT_READS.iter().any(|(p, _)| p == name),
                "{name} is missing from PROMPT_READS, so no policy would offer it"
            );
        }
    }

    #[test]
    fn prompts_reading_refused_objects_or_denied_fields_are_not_offered() {
        let offered = |allow: &[&str], deny: &[&str]| -> Vec<String> {
            let policy = Policy {
                allow_objects: allow.iter().map(|s| s.to_string()).collect(),
                deny_fields: deny.iter().map(|s| s.to_string()).collect(),
                ..Policy::default()
            };
            let mut names: Vec<String> = SfServer::prompts_for(&policy)
                .list_all()
                .into_iter()
                .map(|p| p.name.to_string())
                .collect();
            names.sort();
            names
        };
        assert_eq!(
            offered(&[], &[]),
            ["access_review", "account_brief", "pipeline_review"]
        );
        assert!(offered(&["Account", "Contact"], &[]).is_empty());
        assert_eq!(
            offered(&["Opportunity", "Account", "User"], &[]),
            ["pipeline_review"]
        );
        assert_eq!(
            offered(&[], &["Email"]),
            ["access_review", "pipeline_review"]
        );
        assert_eq!(
            offered(&[], &["Account.AnnualRevenue"]),
            ["access_review", "pipeline_review"]
        );
    }
}
