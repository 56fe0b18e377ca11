//! The standard objects the emulator serves, declared compactly. Field names, types, lengths
//! and flags follow the recorded describes in `../shared/fixtures/cumulusci/describe-*.json`
//! (API v48) for the objects recorded there, and Salesforce's object reference for the rest.
//! Key prefixes are the real ones; those not seen in a recording (`0PS`, `0Pa`, `0PG`, `0CQ`,
//! `0Ym`, `0Ya`, `00E`, `00e`, `060`, `0FO`) are from memory of real orgs.

use serde_json::json;

use super::schema::{
    ObjectDef, Sharing, address_fields, boolean, currency, date, datetime, double, email, int,
    percent, phone, picklist, reference, text, textarea, url,
};

/// One value of the Opportunity stage picklist with what Salesforce keeps for it in its
/// `OpportunityStage` row: the default probability, whether it is closed and won, and the
/// default forecast category. Salesforce: "The OpportunityStage object represents a value in
/// the opportunity stage picklist ... such as its probability or forecast category"
/// (Object Reference, OpportunityStage,
/// <https://developer.salesforce.com/docs/platform/object-reference/references/standard-objects/object-opportunitystage.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpportunityStage {
    pub name: &'static str,
    /// `DefaultProbability`, in percent.
    pub probability: u32,
    pub closed: bool,
    pub won: bool,
    /// `ForecastCategoryName` (the label-like value; `ForecastCategory` is its API name).
    pub forecast_category_name: &'static str,
}

const fn stage(
    name: &'static str,
    probability: u32,
    closed: bool,
    won: bool,
    forecast_category_name: &'static str,
) -> OpportunityStage {
    OpportunityStage {
        name,
        probability,
        closed,
        won,
        forecast_category_name,
    }
}

/// The stages of a new org, with the probabilities Salesforce ships. The forecast categories
/// of the open stages are the emulator's (from memory of real orgs, not a recording): by
/// probability, 90 and up Commit, 60 and up Best Case, else Pipeline.
pub const OPPORTUNITY_STAGES: [OpportunityStage; 10] = [
    stage("Prospecting", 10, false, false, "Pipeline"),
    stage("Qualification", 10, false, false, "Pipeline"),
    stage("Needs Analysis", 20, false, false, "Pipeline"),
    stage("Value Proposition", 50, false, false, "Pipeline"),
    stage("Id. Decision Makers", 60, false, false, "Best Case"),
    stage("Perception Analysis", 70, false, false, "Best Case"),
    stage("Proposal/Price Quote", 75, false, false, "Best Case"),
    stage("Negotiation/Review", 90, false, false, "Commit"),
    stage("Closed Won", 100, true, true, "Closed"),
    stage("Closed Lost", 0, true, false, "Omitted"),
];

/// The stage row for a stored `StageName` (stored values are canonical: writes match the
/// picklist without regard to case, see [`crate::write`]).
pub fn opportunity_stage(name: &str) -> Option<&'static OpportunityStage> {
    OPPORTUNITY_STAGES.iter().find(|s| s.name == name)
}

/// `ForecastCategory` (API value) for a `ForecastCategoryName`, as the two picklists pair up
/// in the recorded Opportunity describe.
pub fn forecast_category(name: &str) -> Option<&'static str> {
    Some(match name {
        "Omitted" => "Omitted",
        "Pipeline" => "Pipeline",
        "Best Case" => "BestCase",
        "Commit" => "Forecast",
        "Closed" => "Closed",
        _ => return None,
    })
}

const INDUSTRIES: [&str; 12] = [
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Communications",
    "Construction",
    "Education",
    "Energy",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
    "Transportation",
];
const LEAD_SOURCES: [&str; 5] = [
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
];
const SALUTATIONS: [&str; 6] = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof.", "Mx."];
const CLEAN_STATUS: [&str; 8] = [
    "Matched",
    "Different",
    "Acknowledged",
    "NotFound",
    "Inactive",
    "Pending",
    "SelectMatch",
    "Skipped",
];

/// Every standard object, in describe-global order.
pub fn standard_objects() -> Vec<ObjectDef> {
    let mut objects = vec![
        account(),
        contact(),
        lead(),
        opportunity(),
        opportunity_contact_role(),
        case(),
        task(),
        event(),
        user(),
        profile(),
        user_license(),
        user_role(),
        permission_set(),
        permission_set_assignment(),
        permission_set_group(),
        connected_application(),
        app_menu_item(),
        object_permissions(),
        setup_entity_access(),
        two_factor_methods_info(),
        oauth_token(),
        setup_audit_trail(),
        login_history(),
        login_ip_range(),
        user_login(),
        organization(),
        record_type(),
        super::reports::report_object(),
    ]
    .into_iter()
    .chain(super::history::objects())
    .chain(super::files::objects())
    .collect::<Vec<_>>();
    let recent = super::recent::object(&objects);
    objects.push(recent);
    objects
}

fn account() -> ObjectDef {
    ObjectDef::new("Account", "001", "Account", "Accounts")
        .fields([
            reference("MasterRecordId", &["Account"], "MasterRecord").read_only(),
            text("Name", 255)
                .required()
                .name_field()
                .label("Account Name"),
            picklist(
                "Type",
                &[
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ],
            )
            .label("Account Type"),
            reference("RecordTypeId", &["RecordType"], "RecordType"),
            reference("ParentId", &["Account"], "Parent"),
        ])
        .fields(address_fields("Billing"))
        .fields(address_fields("Shipping"))
        .fields([
            phone("Phone"),
            phone("Fax"),
            text("AccountNumber", 40),
            url("Website"),
            url("PhotoUrl").read_only(),
            text("Sic", 20),
            picklist("Industry", &INDUSTRIES),
            currency("AnnualRevenue", 18, 0),
            int("NumberOfEmployees").label("Employees"),
            picklist("Ownership", &["Public", "Private", "Subsidiary", "Other"]),
            text("TickerSymbol", 20),
            textarea("Description", 32000),
            picklist("Rating", &["Hot", "Warm", "Cold"]),
            text("Site", 80),
            date("LastActivityDate").read_only(),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
            text("Jigsaw", 20),
            picklist("CleanStatus", &CLEAN_STATUS).restricted(),
            picklist("AccountSource", &LEAD_SOURCES),
            text("DunsNumber", 9),
            text("Tradestyle", 255),
            text("NaicsCode", 8),
            text("NaicsDesc", 120),
            text("YearStarted", 4),
            text("SicDesc", 80),
        ])
        .finish(true)
}

fn contact() -> ObjectDef {
    ObjectDef::new("Contact", "003", "Contact", "Contacts")
        .fields([
            reference("MasterRecordId", &["Contact"], "MasterRecord").read_only(),
            reference("AccountId", &["Account"], "Account"),
            text("LastName", 80).required(),
            text("FirstName", 40),
            picklist("Salutation", &SALUTATIONS),
            text("Name", 121)
                .read_only()
                .defaulted()
                .name_field()
                .label("Full Name"),
        ])
        .fields(address_fields("Other"))
        .fields(address_fields("Mailing"))
        .fields([
            phone("Phone"),
            phone("Fax"),
            phone("MobilePhone"),
            phone("HomePhone"),
            phone("OtherPhone"),
            phone("AssistantPhone"),
            reference("ReportsToId", &["Contact"], "ReportsTo"),
            email("Email"),
            text("Title", 128),
            text("Department", 80),
            text("AssistantName", 40),
            picklist("LeadSource", &LEAD_SOURCES),
            date("Birthdate"),
            textarea("Description", 32000),
            date("LastActivityDate").read_only(),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
            text("EmailBouncedReason", 255),
            datetime("EmailBouncedDate"),
            boolean("IsEmailBounced").read_only(),
            url("PhotoUrl").read_only(),
            text("Jigsaw", 20),
            picklist("CleanStatus", &CLEAN_STATUS).restricted(),
        ])
        .finish(true)
}

fn lead() -> ObjectDef {
    ObjectDef::new("Lead", "00Q", "Lead", "Leads")
        .fields([
            text("LastName", 80).required(),
            text("FirstName", 40),
            picklist("Salutation", &SALUTATIONS),
            text("Name", 121)
                .read_only()
                .defaulted()
                .name_field()
                .label("Full Name"),
            text("Title", 128),
            text("Company", 255).required(),
        ])
        .fields(address_fields(""))
        .fields([
            phone("Phone"),
            phone("MobilePhone"),
            phone("Fax"),
            email("Email"),
            url("Website"),
            textarea("Description", 32000),
            picklist("LeadSource", &LEAD_SOURCES),
            picklist(
                "Status",
                &[
                    "Open - Not Contacted",
                    "Working - Contacted",
                    "Closed - Converted",
                    "Closed - Not Converted",
                ],
            )
            .default_picklist("Open - Not Contacted")
            .required(),
            picklist("Industry", &INDUSTRIES),
            picklist("Rating", &["Hot", "Warm", "Cold"]),
            currency("AnnualRevenue", 18, 0),
            int("NumberOfEmployees"),
            boolean("IsConverted").create_only(),
            date("ConvertedDate").read_only(),
            reference("ConvertedAccountId", &["Account"], "ConvertedAccount").read_only(),
            reference("ConvertedContactId", &["Contact"], "ConvertedContact").read_only(),
            reference(
                "ConvertedOpportunityId",
                &["Opportunity"],
                "ConvertedOpportunity",
            )
            .read_only(),
            boolean("IsUnreadByOwner"),
            date("LastActivityDate").read_only(),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
            picklist("CleanStatus", &CLEAN_STATUS).restricted(),
        ])
        .finish(true)
        .owner_to(&["Group", "User"])
}

fn opportunity() -> ObjectDef {
    let stages: Vec<&str> = OPPORTUNITY_STAGES.iter().map(|s| s.name).collect();
    ObjectDef::new("Opportunity", "006", "Opportunity", "Opportunities")
        .fields([
            reference("AccountId", &["Account"], "Account"),
            boolean("IsPrivate").label("Private"),
            text("Name", 120).required().name_field(),
            textarea("Description", 32000),
            picklist("StageName", &stages).required().label("Stage"),
            currency("Amount", 18, 2),
            percent("Probability", 3, 0).label("Probability (%)"),
            currency("ExpectedRevenue", 18, 2).read_only(),
            double("TotalOpportunityQuantity", 18, 2).label("Quantity"),
            date("CloseDate").required(),
            picklist(
                "Type",
                &[
                    "Existing Customer - Upgrade",
                    "Existing Customer - Replacement",
                    "Existing Customer - Downgrade",
                    "New Customer",
                ],
            ),
            text("NextStep", 255),
            picklist("LeadSource", &LEAD_SOURCES),
            boolean("IsClosed").read_only(),
            boolean("IsWon").read_only(),
            picklist(
                "ForecastCategory",
                &["Omitted", "Pipeline", "BestCase", "Forecast", "Closed"],
            )
            .restricted()
            .read_only()
            .defaulted(),
            picklist(
                "ForecastCategoryName",
                &["Omitted", "Pipeline", "Best Case", "Commit", "Closed"],
            )
            .restricted()
            .default_picklist("Pipeline"),
            boolean("HasOpportunityLineItem").read_only(),
            date("LastActivityDate").read_only(),
            datetime("LastStageChangeDate").read_only(),
            int("FiscalQuarter").read_only(),
            int("FiscalYear").read_only(),
            text("Fiscal", 6).read_only(),
            reference("ContactId", &["Contact"], "Contact")
                .create_only()
                .without_relationship(),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
            boolean("HasOpenActivity").read_only(),
            boolean("HasOverdueTask").read_only(),
        ])
        .sharing(Sharing::ReadWrite)
        .finish(true)
}

fn opportunity_contact_role() -> ObjectDef {
    ObjectDef::new(
        "OpportunityContactRole",
        "00K",
        "Opportunity Contact Role",
        "Opportunity Contact Role",
    )
    .fields([
        reference("OpportunityId", &["Opportunity"], "Opportunity")
            .required()
            .create_only(),
        reference("ContactId", &["Contact"], "Contact").required(),
        picklist(
            "Role",
            &[
                "Business User",
                "Decision Maker",
                "Economic Buyer",
                "Economic Decision Maker",
                "Evaluator",
                "Executive Sponsor",
                "Influencer",
                "Technical Buyer",
                "Other",
            ],
        ),
        boolean("IsPrimary").label("Primary"),
    ])
    .finish(false)
}

fn case() -> ObjectDef {
    let mut case_number = text("CaseNumber", 30).read_only().defaulted().name_field();
    case_number.auto_number = true;
    ObjectDef::new("Case", "500", "Case", "Cases")
        .fields([
            reference("MasterRecordId", &["Case"], "MasterRecord").read_only(),
            case_number,
            reference("ContactId", &["Contact"], "Contact"),
            reference("AccountId", &["Account"], "Account"),
            reference("ParentId", &["Case"], "Parent"),
            text("SuppliedName", 80),
            email("SuppliedEmail"),
            text("SuppliedPhone", 40),
            text("SuppliedCompany", 80),
            picklist(
                "Type",
                &[
                    "Mechanical",
                    "Electrical",
                    "Electronic",
                    "Structural",
                    "Other",
                ],
            ),
            picklist("Status", &["New", "Working", "Escalated", "Closed"]).default_picklist("New"),
            picklist(
                "Reason",
                &[
                    "Installation",
                    "Equipment Complexity",
                    "Performance",
                    "Breakdown",
                    "Equipment Design",
                    "Feedback",
                    "Other",
                ],
            ),
            picklist("Origin", &["Phone", "Email", "Web"]),
            text("Subject", 255),
            picklist("Priority", &["High", "Medium", "Low"]).default_picklist("Medium"),
            textarea("Description", 32000),
            boolean("IsClosed").read_only(),
            datetime("ClosedDate").read_only(),
            boolean("IsEscalated"),
            phone("ContactPhone").read_only(),
            phone("ContactMobile").read_only(),
            email("ContactEmail").read_only(),
            textarea("Comments", 4000),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
        ])
        .finish(true)
        .owner_to(&["Group", "User"])
}

fn activity_what() -> [&'static str; 3] {
    ["Account", "Case", "Opportunity"]
}

fn task() -> ObjectDef {
    let mut subject = text("Subject", 255);
    subject.field_type = sfmcp_soql::schema::FieldType::Combobox;
    subject.picklist = ["Call", "Send Letter", "Send Quote", "Other"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    ObjectDef::new("Task", "00T", "Task", "Tasks")
        .fields([
            reference("WhoId", &["Contact", "Lead"], "Who").label("Name ID"),
            reference("WhatId", &activity_what(), "What").label("Related To ID"),
            subject,
            date("ActivityDate").label("Due Date Only"),
            picklist(
                "Status",
                &[
                    "Not Started",
                    "In Progress",
                    "Completed",
                    "Waiting on someone else",
                    "Deferred",
                ],
            )
            .default_picklist("Not Started")
            .required(),
            picklist("Priority", &["High", "Normal", "Low"])
                .default_picklist("Normal")
                .required(),
            boolean("IsHighPriority").read_only(),
            textarea("Description", 32000),
            reference("AccountId", &["Account"], "Account").read_only(),
            boolean("IsClosed").read_only(),
            picklist("Type", &["Call", "Email", "Meeting", "Other"]),
            picklist(
                "TaskSubtype",
                &["Task", "Email", "ListEmail", "Cadence", "Call"],
            )
            .restricted()
            .create_only(),
            int("CallDurationInSeconds"),
            datetime("CompletedDateTime").read_only(),
        ])
        .finish(true)
        .owner_to(&["Group", "User"])
}

fn event() -> ObjectDef {
    let mut subject = text("Subject", 255);
    subject.field_type = sfmcp_soql::schema::FieldType::Combobox;
    subject.picklist = ["Call", "Email", "Meeting", "Send Letter/Quote", "Other"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    ObjectDef::new("Event", "00U", "Event", "Events")
        .fields([
            reference("WhoId", &["Contact", "Lead"], "Who").label("Name ID"),
            reference("WhatId", &activity_what(), "What").label("Related To ID"),
            subject,
            text("Location", 255),
            boolean("IsAllDayEvent").label("All-Day Event"),
            datetime("ActivityDateTime").label("Due Date Time"),
            date("ActivityDate").label("Due Date Only"),
            int("DurationInMinutes").label("Duration"),
            datetime("StartDateTime"),
            datetime("EndDateTime"),
            date("EndDate").read_only(),
            textarea("Description", 32000),
            reference("AccountId", &["Account"], "Account").read_only(),
            boolean("IsPrivate"),
            picklist("ShowAs", &["Busy", "OutOfOffice", "Free"])
                .restricted()
                .default_picklist("Busy"),
            boolean("IsChild").read_only(),
            boolean("IsGroupEvent").read_only(),
            boolean("IsArchived").read_only(),
            boolean("IsReminderSet"),
            datetime("ReminderDateTime"),
        ])
        .finish(true)
        .owner_to(&["Calendar", "User"])
}

const PERMISSIONS: [&str; 14] = [
    "PermissionsApiEnabled",
    "PermissionsApiUserOnly",
    "PermissionsViewAllData",
    "PermissionsModifyAllData",
    "PermissionsManageUsers",
    "PermissionsViewSetup",
    "PermissionsCustomizeApplication",
    "PermissionsAuthorApex",
    "PermissionsExportReport",
    "PermissionsResetPasswords",
    "PermissionsManageInternalUsers",
    "PermissionsDataExport",
    // "Multi-Factor Authentication for User Interface Logins" and "Waive Multi-Factor
    // Authentication for Exempt Users" (which overrides the org-wide MFA requirement).
    "PermissionsForceTwoFactor",
    "PermissionsBypassMFAForUiLogins",
];

fn permission_fields() -> Vec<super::schema::FieldDef> {
    PERMISSIONS.iter().map(|p| boolean(p)).collect()
}

fn user() -> ObjectDef {
    ObjectDef::new("User", "005", "User", "Users")
        .sharing(Sharing::Read)
        .fields([
            text("Username", 80).required().unique().id_lookup(),
            text("LastName", 80).required(),
            text("FirstName", 40),
            text("Name", 121)
                .read_only()
                .defaulted()
                .name_field()
                .label("Full Name"),
            text("CompanyName", 80),
            text("Division", 80),
            text("Department", 80),
            text("Title", 80),
        ])
        .fields(address_fields(""))
        .fields([
            email("Email").required(),
            phone("Phone"),
            phone("MobilePhone"),
            text("Alias", 8).required(),
            text("CommunityNickname", 40).defaulted(),
            boolean("IsActive")
                .default_value(json!(true))
                .label("Active"),
            picklist(
                "TimeZoneSidKey",
                &[
                    "America/Los_Angeles",
                    "America/New_York",
                    "Europe/London",
                    "Europe/Paris",
                    "Asia/Tokyo",
                    "GMT",
                ],
            )
            .restricted()
            .required(),
            reference("UserRoleId", &["UserRole"], "UserRole").label("Role ID"),
            picklist(
                "LocaleSidKey",
                &["en_US", "en_GB", "fr_FR", "de_DE", "ja_JP"],
            )
            .restricted()
            .required(),
            picklist("EmailEncodingKey", &["UTF-8", "ISO-8859-1"])
                .restricted()
                .required(),
            reference("ProfileId", &["Profile"], "Profile").required(),
            picklist(
                "UserType",
                &[
                    "Standard",
                    "PowerPartner",
                    "CspLitePortal",
                    "CsnOnly",
                    "Guest",
                ],
            )
            .restricted()
            .read_only()
            .defaulted(),
            picklist("LanguageLocaleKey", &["en_US", "fr", "de", "ja"])
                .restricted()
                .required(),
            text("EmployeeNumber", 20),
            reference("ManagerId", &["User"], "Manager"),
            datetime("LastLoginDate").read_only(),
            datetime("LastPasswordChangeDate").read_only(),
            text("FederationIdentifier", 512).label("SAML Federation ID"),
            datetime("LastViewedDate").read_only(),
            datetime("LastReferencedDate").read_only(),
        ])
        .finish(false)
}

fn profile() -> ObjectDef {
    ObjectDef::new("Profile", "00e", "Profile", "Profile")
        .sharing(Sharing::Read)
        .fields([
            text("Name", 255).required().name_field(),
            picklist(
                "UserType",
                &["Standard", "PowerPartner", "CspLitePortal", "Guest"],
            )
            .restricted()
            .read_only()
            .defaulted(),
            text("Description", 255),
            reference("UserLicenseId", &["UserLicense"], "UserLicense")
                .create_only()
                .label("User License ID"),
        ])
        .fields(permission_fields())
        .finish(false)
}

/// The licences profiles are built on; `Profile.UserLicense.Name` tells people from
/// integration (API-only, non-human) users.
fn user_license() -> ObjectDef {
    ObjectDef::new("UserLicense", "100", "User License", "User Licenses")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            text("Name", 40).read_only().name_field(),
            text("MasterLabel", 80).read_only(),
            text("LicenseDefinitionKey", 40).read_only(),
            picklist("Status", &["Active", "Disabled"]).read_only(),
            int("TotalLicenses").read_only(),
            int("UsedLicenses").read_only(),
        ])
        .finish(false)
}

fn user_role() -> ObjectDef {
    ObjectDef::new("UserRole", "00E", "Role", "Role")
        .sharing(Sharing::Read)
        .fields([
            text("Name", 80).required().name_field(),
            text("DeveloperName", 80).defaulted(),
            reference("ParentRoleId", &["UserRole"], "ParentRole").label("Parent Role ID"),
            text("RollupDescription", 80),
            picklist(
                "OpportunityAccessForAccountOwner",
                &["None", "Read", "Edit"],
            )
            .restricted()
            .default_picklist("None"),
        ])
        .finish(false)
}

fn permission_set() -> ObjectDef {
    ObjectDef::new("PermissionSet", "0PS", "Permission Set", "Permission Sets")
        .sharing(Sharing::Read)
        .fields([
            text("Name", 80).required().label("Name"),
            text("Label", 80).required().name_field(),
            textarea("Description", 255),
            boolean("IsOwnedByProfile").create_only(),
            reference("ProfileId", &["Profile"], "Profile").create_only(),
            reference(
                "PermissionSetGroupId",
                &["PermissionSetGroup"],
                "PermissionSetGroup",
            )
            .read_only(),
            picklist(
                "Type",
                &["Regular", "Session", "Standard", "Group", "Profile"],
            )
            .restricted()
            .read_only()
            .defaulted(),
            text("NamespacePrefix", 15).read_only(),
        ])
        .fields(permission_fields())
        .finish(false)
}

fn permission_set_assignment() -> ObjectDef {
    ObjectDef::new(
        "PermissionSetAssignment",
        "0Pa",
        "Permission Set Assignment",
        "Permission Set Assignments",
    )
    .sharing(Sharing::Read)
    .fields([
        reference("PermissionSetId", &["PermissionSet"], "PermissionSet")
            .required()
            .create_only(),
        reference(
            "PermissionSetGroupId",
            &["PermissionSetGroup"],
            "PermissionSetGroup",
        )
        .create_only(),
        reference("AssigneeId", &["User"], "Assignee")
            .required()
            .create_only(),
        boolean("IsActive").read_only().default_value(json!(true)),
        datetime("ExpirationDate"),
    ])
    .finish(false)
}

fn permission_set_group() -> ObjectDef {
    ObjectDef::new(
        "PermissionSetGroup",
        "0PG",
        "Permission Set Group",
        "Permission Set Groups",
    )
    .sharing(Sharing::Read)
    .fields([
        text("DeveloperName", 80).required(),
        text("MasterLabel", 80).required().name_field(),
        textarea("Description", 255),
        picklist("Status", &["Updated", "Outdated", "Updating", "Failed"])
            .restricted()
            .read_only()
            .defaulted(),
    ])
    .finish(false)
}

/// The org's connected apps, read-only as in Salesforce (`describeSObjects()`, `query()`,
/// `retrieve()` only). Fields and types follow the object reference (API 33.0+; the v62
/// field reference): `RefreshTokenValidityPeriod` is null when the refresh token policy is
/// "valid until revoked", `OptionsRefreshTokenValidityMetric` true when expiry counts from
/// the last use. OAuth scopes are not on this object (only the Metadata API's
/// `ConnectedApp.oauthConfig.scopes` has them).
fn connected_application() -> ObjectDef {
    ObjectDef::new(
        "ConnectedApplication",
        "0H4",
        "Connected App",
        "Connected Apps",
    )
    .read_only()
    .sharing(Sharing::Read)
    .fields([
        text("Name", 80)
            .read_only()
            .name_field()
            .label("Connected App Name"),
        boolean("OptionsAllowAdminApprovedUsersOnly")
            .read_only()
            .label("AllowAdminApprovedUsersOnly"),
        boolean("OptionsRefreshTokenValidityMetric")
            .read_only()
            .label("RefreshTokenValidityMetric"),
        boolean("OptionsHasSessionLevelPolicy")
            .read_only()
            .label("HasSessionLevelPolicy"),
        boolean("OptionsIsInternal").read_only().label("isInternal"),
        int("RefreshTokenValidityPeriod")
            .read_only()
            .label("Refresh Token Policy:"),
        picklist(
            "MobileSessionTimeout",
            &["MINUTES_1", "MINUTES_5", "MINUTES_10", "MINUTES_30"],
        )
        .restricted()
        .read_only()
        .label("Lock App After"),
        picklist("PinLength", &["4", "5", "6", "7", "8"])
            .restricted()
            .read_only()
            .label("PIN Length"),
        url("StartUrl").read_only().label("Start URL"),
        url("MobileStartUrl").read_only().label("Mobile Start URL"),
    ])
    .finish(false)
}

/// A permission set's (a profile's owned one included) access to one object. Fields and key
/// prefix follow the object reference; Salesforce lets admins write it through the API, the
/// emulator serves it read-only (the seed sets it), so the guest-user limits Salesforce
/// enforces on writes (no Edit, Delete, View All or Modify All since Summer '21) are not
/// re-implemented here.
fn object_permissions() -> ObjectDef {
    ObjectDef::new(
        "ObjectPermissions",
        "110",
        "Object Permissions",
        "Object Permissions",
    )
    .read_only()
    .sharing(Sharing::Read)
    .fields([
        reference("ParentId", &["PermissionSet"], "Parent")
            .read_only()
            .label("Parent ID"),
        text("SobjectType", 40)
            .read_only()
            .label("Sobject Type Name"),
        boolean("PermissionsCreate")
            .read_only()
            .label("Create Records"),
        boolean("PermissionsRead").read_only().label("Read Records"),
        boolean("PermissionsEdit").read_only().label("Edit Records"),
        boolean("PermissionsDelete")
            .read_only()
            .label("Delete Records"),
        boolean("PermissionsViewAllRecords")
            .read_only()
            .label("View All Records"),
        boolean("PermissionsModifyAllRecords")
            .read_only()
            .label("Modify All Records"),
    ])
    .finish(false)
}

/// A permission set's access to a setup entity; for a connected app (`SetupEntityType =
/// 'ConnectedApplication'`), the profiles and permission sets an admin-approved app is
/// pre-authorized for. Salesforce offers create and delete; the emulator serves it read-only
/// (the seed sets it).
fn setup_entity_access() -> ObjectDef {
    ObjectDef::new(
        "SetupEntityAccess",
        "0J0",
        "Setup Entity Access",
        "Setup Entity Access",
    )
    .read_only()
    .sharing(Sharing::Read)
    .fields([
        reference("ParentId", &["PermissionSet"], "Parent")
            .read_only()
            .label("Parent ID"),
        reference("SetupEntityId", &["ConnectedApplication"], "SetupEntity")
            .read_only()
            .label("Setup Entity ID"),
        picklist(
            "SetupEntityType",
            &[
                "ApexClass",
                "ApexPage",
                "ConnectedApplication",
                "CustomPermission",
                "ServiceProvider",
                "TabSet",
                "CustomEntityDefinition",
            ],
        )
        .restricted()
        .read_only(),
    ])
    .finish(false)
}

/// The verification methods each user registered (API 37.0+; `describeSObjects()` and
/// `query()` only; "Manage Multi-Factor Authentication in API" to read). Fields follow the
/// current object reference. The key prefix is not documented; this one is the emulator's.
fn two_factor_methods_info() -> ObjectDef {
    ObjectDef::new(
        "TwoFactorMethodsInfo",
        "0tf",
        "Two Factor Methods Info",
        "Two Factor Methods Info",
    )
    .read_only()
    .sharing(Sharing::Read)
    .fields([
        reference("UserId", &["User"], "User").read_only(),
        text("ExternalId", 255).read_only(),
        boolean("HasBuiltInAuthenticator").read_only(),
        boolean("HasSalesforceAuthenticator").read_only(),
        boolean("HasSecurityKey").read_only(),
        boolean("HasTempCode").read_only(),
        boolean("HasTotp").read_only(),
        boolean("HasU2F").read_only(),
        boolean("HasUserVerifiedEmailAddress").read_only(),
        boolean("HasUserVerifiedMobileNumber").read_only(),
        boolean("HasVerifiedMobileNumber").read_only(),
    ])
    .finish(false)
}

/// The App Launcher's entries; a connected app's entry (`Type = 'ConnectedApplication'`)
/// carries `ApplicationId` and whether the app is admin-approved
/// (`IsUsingAdminAuthorization`), and `OauthToken.AppMenuItemId` points here.
fn app_menu_item() -> ObjectDef {
    ObjectDef::new("AppMenuItem", "0DS", "App Menu Item", "App Menu Items")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            text("Name", 80).read_only().label("Name"),
            text("Label", 80).read_only().name_field(),
            textarea("Description", 255).read_only(),
            picklist(
                "Type",
                &[
                    "ConnectedApplication",
                    "Network",
                    "TabSet",
                    "AppLauncherItem",
                ],
            )
            .read_only(),
            reference("ApplicationId", &["ConnectedApplication"], "Application")
                .read_only()
                .label("Application ID"),
            boolean("IsUsingAdminAuthorization").read_only(),
            boolean("IsVisible").read_only(),
            boolean("IsAccessible").read_only(),
            int("SortOrder").read_only(),
            url("StartUrl").read_only(),
            text("NamespacePrefix", 15).read_only(),
        ])
        .finish(false)
}

fn oauth_token() -> ObjectDef {
    ObjectDef::new("OauthToken", "0CQ", "Oauth Token", "Oauth Tokens")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            text("AppName", 255).read_only().name_field(),
            reference("AppMenuItemId", &["AppMenuItem"], "AppMenuItem").read_only(),
            reference("UserId", &["User"], "User").read_only(),
            datetime("LastUsedDate").read_only(),
            int("UseCount").read_only(),
            text("DeleteToken", 255).read_only(),
            text("RequestToken", 255).read_only(),
        ])
        .finish(false)
}

fn setup_audit_trail() -> ObjectDef {
    ObjectDef::new(
        "SetupAuditTrail",
        "0Ym",
        "Setup Audit Trail",
        "Setup Audit Trail",
    )
    .read_only()
    .sharing(Sharing::Read)
    .fields([
        text("Action", 240).read_only(),
        text("Section", 80).read_only(),
        text("Display", 1000).read_only(),
        text("DelegateUser", 80).read_only(),
        text("ResponsibleNamespacePrefix", 15).read_only(),
        text("CreatedByContext", 255).read_only(),
        text("CreatedByIssuer", 255).read_only(),
    ])
    .finish(false)
}

fn login_history() -> ObjectDef {
    ObjectDef::new("LoginHistory", "0Ya", "Login History", "Login History")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            reference("UserId", &["User"], "User").read_only(),
            datetime("LoginTime").read_only(),
            picklist(
                "LoginType",
                &[
                    "Application",
                    "Remote Access 2.0",
                    "SAML Idp Initiated SSO",
                    "SAML Sfdc Initiated SSO",
                    "Other Apex API",
                    "Partner Product",
                ],
            )
            .read_only(),
            text("SourceIp", 39).read_only(),
            text("LoginUrl", 256).read_only(),
            text("Browser", 64).read_only(),
            text("Platform", 64).read_only(),
            text("Status", 128).read_only(),
            text("Application", 64).read_only(),
            text("ClientVersion", 64).read_only(),
            text("ApiType", 64).read_only(),
            text("ApiVersion", 64).read_only(),
            text("CountryIso", 2).read_only(),
            reference(
                "AuthenticationServiceId",
                &["SamlSsoConfig"],
                "AuthenticationService",
            )
            .read_only(),
        ])
        .finish(false)
}

fn login_ip_range() -> ObjectDef {
    ObjectDef::new("LoginIpRange", "0FO", "Login IP Range", "Login IP Ranges")
        .sharing(Sharing::Read)
        .fields([
            reference("ProfileId", &["Profile"], "Profile")
                .required()
                .create_only(),
            text("StartAddress", 39).required(),
            text("EndAddress", 39).required(),
            text("Description", 255),
        ])
        .finish(false)
}

fn user_login() -> ObjectDef {
    ObjectDef::new("UserLogin", "060", "User Login", "User Logins")
        .sharing(Sharing::Read)
        .fields([
            reference("UserId", &["User"], "User").read_only(),
            boolean("IsFrozen"),
            boolean("IsPasswordLocked"),
        ])
        .finish(false)
}

fn organization() -> ObjectDef {
    let mut org = ObjectDef::new("Organization", "00D", "Organization", "Organizations")
        .read_only()
        .sharing(Sharing::Read)
        .fields([
            text("Name", 80).read_only().name_field(),
            text("Division", 80).read_only(),
        ])
        .fields(address_fields("").into_iter().map(|f| f.read_only()))
        .fields([
            phone("Phone").read_only(),
            phone("Fax").read_only(),
            text("PrimaryContact", 80).read_only(),
            text("DefaultLocaleSidKey", 40).read_only(),
            text("TimeZoneSidKey", 40).read_only(),
            text("LanguageLocaleKey", 40).read_only(),
            boolean("ReceivesInfoEmails").read_only(),
            boolean("ReceivesAdminInfoEmails").read_only(),
            boolean("PreferencesRequireOpportunityProducts").read_only(),
            boolean("PreferencesTransactionSecurityPolicy").read_only(),
            boolean("PreferencesTerminateOldestSession").read_only(),
            boolean("PreferencesConsentManagementEnabled").read_only(),
            boolean("PreferencesAutoSelectIndividualOnMerge").read_only(),
            boolean("PreferencesLightningLoginEnabled").read_only(),
            boolean("PreferencesOnlyLLPermUserAllowed").read_only(),
            int("FiscalYearStartMonth").read_only(),
            boolean("UsesStartDateAsFiscalYearName").read_only(),
            text("DefaultAccountAccess", 40).read_only(),
            text("DefaultContactAccess", 40).read_only(),
            text("DefaultOpportunityAccess", 40).read_only(),
            text("DefaultLeadAccess", 40).read_only(),
            text("DefaultCaseAccess", 40).read_only(),
            text("DefaultCalendarAccess", 40).read_only(),
            text("DefaultPricebookAccess", 40).read_only(),
            text("DefaultCampaignAccess", 40).read_only(),
            url("DelegatedAuthenticationServiceUrl").read_only(),
            email("ComplianceBccEmail").read_only(),
            text("UiSkin", 40).read_only(),
            text("SignupCountryIsoCode", 2).read_only(),
            datetime("TrialExpirationDate").read_only(),
            int("NumKnowledgeService").read_only(),
            text("OrganizationType", 40).read_only(),
            text("NamespacePrefix", 15).read_only(),
            text("InstanceName", 5).read_only(),
            boolean("IsSandbox").read_only(),
            text("WebToCaseDefaultOrigin", 40).read_only(),
            int("MonthlyPageViewsUsed").read_only(),
            int("MonthlyPageViewsEntitlement").read_only(),
            boolean("IsReadOnly").read_only(),
        ])
        .finish(false);
    // Organization has no IsDeleted (the recorded record shows none).
    org.fields.retain(|f| f.name != "IsDeleted");
    org.index()
}

fn record_type() -> ObjectDef {
    ObjectDef::new("RecordType", "012", "Record Type", "Record Types")
        .sharing(Sharing::Read)
        .fields([
            text("Name", 80).required().name_field(),
            text("DeveloperName", 80).required(),
            text("NamespacePrefix", 15).read_only(),
            textarea("Description", 255),
            reference("BusinessProcessId", &["BusinessProcess"], "BusinessProcess"),
            picklist(
                "SobjectType",
                &[
                    "Account",
                    "Contact",
                    "Lead",
                    "Opportunity",
                    "Case",
                    "Task",
                    "Event",
                ],
            )
            .required()
            .create_only(),
            boolean("IsActive").default_value(json!(true)),
        ])
        .finish(false)
}
