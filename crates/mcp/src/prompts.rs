//! Prompts people ask for again and again, written so the model uses the tools well: exact
//! SOQL to start from, and what to report.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{GetPromptResult, PromptMessage, Role};
use rmcp::{prompt, prompt_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::server::SfServer;
use sfmcp_soql::like_literal;

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
