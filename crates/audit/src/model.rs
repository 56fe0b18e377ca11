//! The audit's input model: what the Salesforce and IdP collectors produce and what the rules
//! read. Plain data, serde-friendly, so a run can also be fed from a JSON snapshot file.
//!
//! Field names are ours (snake_case), not Salesforce's: collectors map API records onto them.
//! Secrets never enter this model: there is deliberately no field for `OauthToken.AccessToken`,
//! `DeleteToken` or `RequestToken`, nor for personal / recovery e-mail addresses.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything the rules need from one Salesforce org.
///
/// `Option` inputs are capability-detected: `None` means "could not be read" (missing
/// permission or paid feature), and the rules that need it report themselves as not evaluated
/// instead of passing silently. An empty `Vec` means "read, and there were none".
///
/// As a snapshot file (`sfmcp audit --salesforce-snapshot PATH`); datetimes may be RFC 3339
/// or Salesforce's `2026-02-25T10:00:00.000+0000`:
///
/// ```
/// let json = r#"{
///   "org_id": "00D000000000001AAA",
///   "users": [{"id": "005000000000001AAA", "username": "ann@corp.com.prod",
///              "email": "ann@corp.com", "is_active": true, "user_type": "Standard",
///              "profile_id": "00e000000000001AAA", "profile_name": "System Administrator",
///              "license_name": "Salesforce", "federation_identifier": "ann@corp.com"}],
///   "permission_grants": [{"assignee_id": "005000000000001AAA",
///              "permission_set_id": "0PS000000000001AAA", "source_name": "System Administrator",
///              "path": "profile", "modify_all_data": true, "view_all_data": true}],
///   "oauth_grants": [{"app_name": "Data Loader", "user_id": "005000000000001AAA",
///              "use_count": 3, "last_used_date": "2026-02-20T10:00:00.000+0000"}],
///   "audit_trail": [{"id": "0Ym000000000001AAA", "action": "export",
///              "section": "Data Export", "display": "Requested an export",
///              "created_date": "2026-02-25T10:00:00Z", "created_by_id": "005000000000001AAA",
///              "delegate_user": null}],
///   "event_log_exports": null,
///   "session_settings": {"lock_sessions_to_ip": false, "enforce_ip_ranges_every_request": true},
///   "login_ip_ranges": [{"profile_id": "00e000000000001AAA",
///              "start": "10.0.0.0", "end": "10.0.255.255"}]
/// }"#;
/// let snapshot: sfmcp_audit::SalesforceSnapshot = serde_json::from_str(json).unwrap();
/// assert_eq!(snapshot.users.len(), 1);
/// assert!(snapshot.event_log_exports.is_none()); // no Event Monitoring
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SalesforceSnapshot {
    /// 18-character org id; part of every finding fingerprint.
    pub org_id: String,
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Users (the collector may send every user; rules themselves keep active `Standard` ones).
    #[serde(default)]
    pub users: Vec<SfUser>,
    /// Privileged `PermissionSetAssignment` rows (any of the four admin permissions).
    #[serde(default)]
    pub permission_grants: Vec<PermissionGrant>,
    /// `OauthToken` rows (secrets never selected).
    #[serde(default)]
    pub oauth_grants: Option<Vec<OauthGrant>>,
    /// `ConnectedApplication` rows with their `AppMenuItem` ids; read only when a rule that
    /// needs them (SF-HYG-003, SF-HYG-007) runs, `None` otherwise or when unreadable.
    #[serde(default)]
    pub connected_apps: Option<Vec<ConnectedApp>>,
    /// `LoginHistory` rows of UI logins with a Salesforce password (`LoginType =
    /// 'Application'`) in the window; read only when a rule that needs them (SF-HYG-004,
    /// SF-HYG-005) runs.
    #[serde(default)]
    pub password_logins: Option<Vec<LoginEvent>>,
    /// Assignments of the two permissions that decide whether a direct UI login needs MFA
    /// (`PermissionsForceTwoFactor`, `PermissionsBypassMFAForUiLogins`); read only when a
    /// rule that needs them (SF-HYG-005) runs.
    #[serde(default)]
    pub mfa_grants: Option<Vec<MfaGrant>>,
    /// `TwoFactorMethodsInfo` rows: the verification methods users registered; read only when
    /// SF-HYG-005 runs, and `None` without "Manage Multi-Factor Authentication in API".
    #[serde(default)]
    pub mfa_methods: Option<Vec<MfaMethods>>,
    /// Guest and API-only profiles with their permissions, object access and active users;
    /// read only when a rule that needs them (SF-HYG-006) runs.
    #[serde(default)]
    pub exposed_profiles: Option<Vec<ProfileAccess>>,
    /// Which profiles and permission sets pre-authorize each connected app
    /// (`SetupEntityAccess`), and who holds them; read only when SF-HYG-007 runs.
    #[serde(default)]
    pub app_access: Option<Vec<AppAccess>>,
    /// `SetupAuditTrail` rows; the collector should already filter on `Action = 'export'`,
    /// but the rules filter again so a full dump is also accepted.
    #[serde(default)]
    pub audit_trail: Option<Vec<AuditTrailRow>>,
    /// Event Monitoring rows (`BulkApi`, `BulkApi2`, `ReportExport`), `None` when the org has no
    /// Event Monitoring licence or the user lacks "View Event Log Files".
    #[serde(default)]
    pub event_log_exports: Option<Vec<ExportEvent>>,
    /// Tooling `SecuritySettings.Metadata.sessionSettings`.
    #[serde(default)]
    pub session_settings: Option<SessionSettings>,
    /// `LoginIpRange` rows (profile login IP ranges).
    #[serde(default)]
    pub login_ip_ranges: Option<Vec<LoginIpRange>>,
    /// Org trusted ranges (`networkAccess.ipRanges`): kept only to say in the evidence that
    /// they were seen and deliberately not counted as enforcement.
    #[serde(default)]
    pub trusted_ip_ranges: Vec<IpRange>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SfUser {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub is_active: bool,
    /// `Standard`, `PowerPartner`, `CspLitePortal`, `CustomerSuccess`, `PowerCustomerSuccess`,
    /// `CsnOnly`, `Guest`.
    pub user_type: String,
    #[serde(default)]
    pub profile_id: Option<String>,
    #[serde(default)]
    pub profile_name: Option<String>,
    /// `Profile.UserLicense.Name`, e.g. `Salesforce`, `Salesforce Platform`,
    /// `Salesforce Integration`.
    #[serde(default)]
    pub license_name: Option<String>,
    /// `PermissionsApiUserOnly` from the profile or a permission set: another non-human marker.
    #[serde(default)]
    pub api_only: bool,
    #[serde(default, with = "sf_datetime::option")]
    pub last_login_date: Option<DateTime<Utc>>,
    /// When the account was created: a never-used account is dormant only once it is old.
    #[serde(default, with = "sf_datetime::option")]
    pub created_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub federation_identifier: Option<String>,
    /// From `UserLogin.IsFrozen`, when readable.
    #[serde(default)]
    pub is_frozen: Option<bool>,
}

impl SfUser {
    pub fn is_standard_active(&self) -> bool {
        self.is_active && self.user_type == "Standard"
    }

    /// Integration-licence and API-only users are service identities: a workforce IdP is not
    /// expected to know them, so they are inventoried instead of reported as "not in IdP".
    pub fn is_non_human(&self) -> bool {
        self.api_only
            || self
                .license_name
                .as_deref()
                .is_some_and(|l| l.trim().eq_ignore_ascii_case("Salesforce Integration"))
    }
}

/// How a permission set reached the user.
#[derive(
    Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum GrantPath {
    /// The profile's owned permission set (`IsOwnedByProfile = true`).
    Profile,
    /// A standalone permission set.
    #[default]
    PermissionSet,
    /// A permission set group's aggregate set (`PermissionSet.Type = 'Group'`).
    PermissionSetGroup,
}

impl fmt::Display for GrantPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GrantPath::Profile => "profile",
            GrantPath::PermissionSet => "permission set",
            GrantPath::PermissionSetGroup => "permission set group",
        })
    }
}

/// One `PermissionSetAssignment` row with its permission set's admin flags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PermissionGrant {
    /// `PermissionSetAssignment.Id`.
    #[serde(default)]
    pub assignment_id: Option<String>,
    pub assignee_id: String,
    pub permission_set_id: String,
    /// Profile name, permission set label or group name, whichever the path is.
    pub source_name: String,
    pub path: GrantPath,
    #[serde(default)]
    pub permission_set_group_id: Option<String>,
    #[serde(default)]
    pub modify_all_data: bool,
    #[serde(default)]
    pub view_all_data: bool,
    #[serde(default)]
    pub manage_users: bool,
    #[serde(default)]
    pub customize_application: bool,
    /// `PermissionsDataExport` ("Weekly Data Export"): evidence for SF-EXP-002.
    #[serde(default)]
    pub data_export: bool,
    #[serde(default, with = "sf_datetime::option")]
    pub expiration_date: Option<DateTime<Utc>>,
}

/// One `OauthToken` row. Salesforce returns `Id = null` for this object, so the key is
/// `(app_name, user_id)`; several tokens of one user for one app are folded together.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OauthGrant {
    pub app_name: String,
    pub user_id: String,
    /// `OauthToken.AppMenuItemId`: joins the grant to its connected app more surely than
    /// the name does.
    #[serde(default)]
    pub app_menu_item_id: Option<String>,
    #[serde(default)]
    pub use_count: u64,
    #[serde(default, with = "sf_datetime::option")]
    pub last_used_date: Option<DateTime<Utc>>,
    #[serde(default, with = "sf_datetime::option")]
    pub created_date: Option<DateTime<Utc>>,
}

/// One `ConnectedApplication` row (all its fields are read-only in Salesforce) with the ids
/// of its App Launcher entries (`AppMenuItem` with `ApplicationId` = the app).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConnectedApp {
    pub id: String,
    pub name: String,
    /// `OptionsAllowAdminApprovedUsersOnly`: false is "All users may self-authorize".
    #[serde(default)]
    pub admin_approved_users_only: bool,
    /// `RefreshTokenValidityPeriod`; `None` is "Refresh token is valid until revoked".
    #[serde(default)]
    pub refresh_token_validity_period: Option<i64>,
    /// `OptionsRefreshTokenValidityMetric`: the period counts from the token's last use.
    #[serde(default)]
    pub refresh_token_expires_when_idle: bool,
    #[serde(default)]
    pub app_menu_item_ids: Vec<String>,
}

impl ConnectedApp {
    /// Refresh tokens issued for the app work until someone revokes them.
    pub fn refresh_tokens_never_expire(&self) -> bool {
        self.refresh_token_validity_period.is_none()
    }
}

/// One `PermissionSetAssignment` of a permission set (a profile's owned one included) that
/// requires or waives MFA for UI logins.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MfaGrant {
    pub assignee_id: String,
    pub permission_set_id: String,
    /// Profile name or permission set label.
    pub source_name: String,
    pub path: GrantPath,
    /// `PermissionsForceTwoFactor`, "Multi-Factor Authentication for User Interface Logins".
    #[serde(default)]
    pub force_mfa: bool,
    /// `PermissionsBypassMFAForUiLogins`, "Waive Multi-Factor Authentication for Exempt
    /// Users": overrides the org-wide requirement.
    #[serde(default)]
    pub waive_mfa: bool,
}

/// One `TwoFactorMethodsInfo` row: the `Has*` fields that are true, by field name
/// (`HasTotp`, `HasUserVerifiedMobileNumber`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MfaMethods {
    pub user_id: String,
    #[serde(default)]
    pub methods: Vec<String>,
}

impl MfaMethods {
    /// Methods that satisfy Salesforce's MFA requirement; text message, e-mail and phone
    /// verification do not.
    pub const STRONG: [&'static str; 5] = [
        "HasSalesforceAuthenticator",
        "HasTotp",
        "HasSecurityKey",
        "HasU2F",
        "HasBuiltInAuthenticator",
    ];

    pub fn strong(&self) -> impl Iterator<Item = &str> {
        self.methods
            .iter()
            .map(String::as_str)
            .filter(|m| Self::STRONG.contains(m))
    }
}

/// One object's permissions on a profile (`ObjectPermissions` of its owned permission set).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ObjectAccess {
    /// `SobjectType`.
    pub object: String,
    #[serde(default)]
    pub create: bool,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub edit: bool,
    #[serde(default)]
    pub delete: bool,
    /// `PermissionsViewAllRecords`.
    #[serde(default)]
    pub view_all: bool,
    /// `PermissionsModifyAllRecords`.
    #[serde(default)]
    pub modify_all: bool,
}

/// A guest or API-only profile, as SF-HYG-006 judges it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProfileAccess {
    pub id: String,
    pub name: String,
    /// `Profile.UserType`: `Guest` for a site's unauthenticated visitors.
    pub user_type: String,
    /// `Profile.UserLicense.Name`.
    #[serde(default)]
    pub license_name: Option<String>,
    #[serde(default)]
    pub api_enabled: bool,
    #[serde(default)]
    pub api_only: bool,
    #[serde(default)]
    pub modify_all_data: bool,
    #[serde(default)]
    pub view_all_data: bool,
    #[serde(default)]
    pub manage_users: bool,
    /// Object permissions (read only for guest profiles, where they matter).
    #[serde(default)]
    pub object_permissions: Vec<ObjectAccess>,
    /// Usernames of the profile's active users.
    #[serde(default)]
    pub active_users: Vec<String>,
}

impl ProfileAccess {
    pub fn is_guest(&self) -> bool {
        self.user_type.trim().eq_ignore_ascii_case("Guest")
    }

    /// API-only by permission or by the Salesforce Integration licence.
    pub fn is_api_only(&self) -> bool {
        self.api_only
            || self
                .license_name
                .as_deref()
                .is_some_and(|l| l.trim().eq_ignore_ascii_case("Salesforce Integration"))
    }
}

/// One `SetupEntityAccess` row giving a profile or permission set access to a connected app
/// (for an admin-approved app, pre-authorizing its holders), with the set's active holders.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AppAccess {
    /// `SetupEntityId`: the `ConnectedApplication`.
    pub app_id: String,
    /// `ParentId`: the permission set (a profile's owned one for a profile).
    pub permission_set_id: String,
    /// Profile name or permission set label.
    pub source_name: String,
    pub path: GrantPath,
    /// The profile, when the set is a profile's: its holders are the profile's users.
    #[serde(default)]
    pub profile_id: Option<String>,
    /// Active assignees of a permission set (empty for a profile: see `profile_id`).
    #[serde(default)]
    pub assignee_ids: Vec<String>,
}

/// One `LoginHistory` row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginEvent {
    pub user_id: String,
    #[serde(with = "sf_datetime")]
    pub login_time: DateTime<Utc>,
    /// `Application` (UI, username and password), `SAML Sfdc Initiated SSO`,
    /// `Remote Access 2.0`, ...
    pub login_type: String,
    /// `Success` or the failure's reason; not filterable in SOQL, so judged here.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub source_ip: Option<String>,
}

/// One `SetupAuditTrail` row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuditTrailRow {
    pub id: String,
    pub action: String,
    #[serde(default)]
    pub section: Option<String>,
    #[serde(default)]
    pub display: Option<String>,
    #[serde(with = "sf_datetime")]
    pub created_date: DateTime<Utc>,
    pub created_by_id: String,
    /// Username of the admin who acted through Login-As; blank when nobody did.
    #[serde(default)]
    pub delegate_user: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExportEventType {
    BulkApi,
    BulkApi2,
    ReportExport,
}

impl fmt::Display for ExportEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExportEventType::BulkApi => "BulkApi",
            ExportEventType::BulkApi2 => "BulkApi2",
            ExportEventType::ReportExport => "ReportExport",
        })
    }
}

/// One event row from an `EventLogFile` CSV of a bulk or report export type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExportEvent {
    pub event_type: ExportEventType,
    /// `EventLogFile.Id` the row came from.
    pub log_file_id: String,
    /// `REQUEST_ID` (or the job id for Bulk API): unique within the log file.
    pub request_id: String,
    /// `USER_ID` (15 or 18 characters).
    pub user_id: String,
    #[serde(with = "sf_datetime")]
    pub timestamp: DateTime<Utc>,
    /// Bulk `OPERATION_TYPE` (`query`, `queryAll`, `insert`, …); only queries read data out.
    #[serde(default)]
    pub operation: Option<String>,
    /// `ENTITY_TYPE` / report id, for the evidence.
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub rows_processed: Option<u64>,
    #[serde(default)]
    pub client_ip: Option<String>,
}

impl ExportEvent {
    /// Bulk ingest jobs write data in; only query jobs (and every report export) take it out.
    pub fn is_export(&self) -> bool {
        match self.event_type {
            ExportEventType::ReportExport => true,
            ExportEventType::BulkApi | ExportEventType::BulkApi2 => self
                .operation
                .as_deref()
                .is_none_or(|op| op.trim().to_ascii_lowercase().starts_with("query")),
        }
    }
}

/// `SecuritySettings.sessionSettings` flags relevant to SF-CFG-001.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionSettings {
    pub lock_sessions_to_ip: bool,
    pub enforce_ip_ranges_every_request: bool,
    /// `enableMFADirectUILoginOptIn`: every direct UI login (username and password) needs a
    /// verification method, except for holders of the waiver permission; `None` when the
    /// metadata does not carry the field.
    #[serde(default)]
    pub mfa_for_direct_ui_logins: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IpRange {
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl IpRange {
    /// 0.0.0.0–255.255.255.255 (or the IPv6 equivalent) restricts nothing (SBS-AUTH-003).
    pub fn is_whole_address_space(&self) -> bool {
        use std::net::IpAddr;
        match (
            self.start.trim().parse::<IpAddr>(),
            self.end.trim().parse::<IpAddr>(),
        ) {
            (Ok(IpAddr::V4(s)), Ok(IpAddr::V4(e))) => u32::from(s) == 0 && u32::from(e) == u32::MAX,
            (Ok(IpAddr::V6(s)), Ok(IpAddr::V6(e))) => {
                u128::from(s) == 0 && u128::from(e) == u128::MAX
            }
            _ => false,
        }
    }
}

/// One `LoginIpRange` row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LoginIpRange {
    #[serde(default)]
    pub id: Option<String>,
    pub profile_id: String,
    #[serde(flatten)]
    pub range: IpRange,
}

/// The identity provider a directory came from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum IdpKind {
    Okta,
    Entra,
    Google,
    JumpCloud,
    OneLogin,
    File,
}

impl IdpKind {
    /// The directories collected over a vendor API (every kind but `File`).
    pub const VENDORS: [IdpKind; 5] = [
        IdpKind::Okta,
        IdpKind::Entra,
        IdpKind::Google,
        IdpKind::JumpCloud,
        IdpKind::OneLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdpKind::Okta => "okta",
            IdpKind::Entra => "entra",
            IdpKind::Google => "google",
            IdpKind::JumpCloud => "jumpcloud",
            IdpKind::OneLogin => "onelogin",
            IdpKind::File => "file",
        }
    }
}

impl IdpKind {
    /// How reports name the directory in sentences.
    pub fn display_name(self) -> &'static str {
        match self {
            IdpKind::Okta => "Okta",
            IdpKind::Entra => "Entra ID",
            IdpKind::Google => "Google Workspace",
            IdpKind::JumpCloud => "JumpCloud",
            IdpKind::OneLogin => "OneLogin",
            IdpKind::File => "the IdP file",
        }
    }
}

impl fmt::Display for IdpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Canonical IdP account status; see `audit::idp` for each vendor's mapping.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum IdpStatus {
    Active,
    Locked,
    Pending,
    Suspended,
    Deprovisioned,
    /// The IdP has the account, with a status this version has no mapping for (its vendor
    /// values are in `IdpUser::vendor_status`). Known to the IdP, so never "not in IdP"; not
    /// judged offboarded either, and the report says so in a note.
    Unknown,
    Absent,
}

impl IdpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IdpStatus::Active => "active",
            IdpStatus::Locked => "locked",
            IdpStatus::Pending => "pending",
            IdpStatus::Suspended => "suspended",
            IdpStatus::Deprovisioned => "deprovisioned",
            IdpStatus::Unknown => "unknown",
            IdpStatus::Absent => "absent",
        }
    }

    /// Whether the person has no business holding access any more (SF-IDP-003).
    pub fn is_offboarded(self) -> bool {
        matches!(self, IdpStatus::Suspended | IdpStatus::Deprovisioned)
    }

    /// Preference when one address leads to several IdP accounts (a rehire's old
    /// deprovisioned account next to the new one): the most alive account speaks for the person.
    pub(crate) fn liveness_rank(self) -> u8 {
        match self {
            IdpStatus::Active => 0,
            IdpStatus::Locked => 1,
            IdpStatus::Pending => 2,
            // Possibly alive: preferred to an account known to be gone.
            IdpStatus::Unknown => 3,
            IdpStatus::Suspended => 4,
            IdpStatus::Deprovisioned => 5,
            IdpStatus::Absent => 6,
        }
    }
}

impl fmt::Display for IdpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One IdP account. `email`, `login`, `aliases` and `proxy_addresses` hold corporate
/// addresses only. A vendor's secondary slot that admins fill with personal and corporate
/// addresses alike goes in `secondary_emails`, which matching trusts only on the directory's
/// own domains; pure recovery addresses (JumpCloud `recoveryEmail`) are left out, since a
/// personal address could make an ex-employee look present.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdpUser {
    /// The IdP's own id, when it has one.
    #[serde(default)]
    pub id: Option<String>,
    /// Primary corporate address.
    pub email: String,
    /// Login / UPN, matched against Salesforce `FederationIdentifier` and e-mail.
    #[serde(default)]
    pub login: Option<String>,
    /// Secondary corporate addresses (Google aliases, Okta login aliases, …).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Entra `proxyAddresses` as the API returns them (`SMTP:`/`smtp:` prefixes, other types
    /// such as `sip:` are ignored).
    #[serde(default)]
    pub proxy_addresses: Vec<String>,
    /// Secondary addresses that may be personal (Okta `profile.secondEmail`, JumpCloud
    /// `alternateEmail`, members' Entra `otherMails`): matched as aliases only when their
    /// domain is one the directory's primary addresses or logins use (docs/audit.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secondary_emails: Vec<String>,
    pub status: IdpStatus,
    /// The status exactly as the vendor reported it, for the evidence.
    #[serde(default)]
    pub vendor_status: Option<String>,
}

impl IdpUser {
    pub fn new(email: impl Into<String>, status: IdpStatus) -> Self {
        IdpUser {
            id: None,
            email: email.into(),
            login: None,
            aliases: Vec::new(),
            proxy_addresses: Vec::new(),
            secondary_emails: Vec::new(),
            status,
            vendor_status: None,
        }
    }
}

/// A directory export from one IdP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdpDirectory {
    pub kind: IdpKind,
    /// Where it came from (file path or base URL), for the report.
    pub source: String,
    pub users: Vec<IdpUser>,
}

/// Salesforce datetimes come as `2024-05-01T10:00:00.000+0000`, which is not RFC 3339; accept
/// both that and RFC 3339, always write RFC 3339.
pub mod sf_datetime {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(text: &str) -> Option<DateTime<Utc>> {
        let text = text.trim();
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
            .map(|d| d.with_timezone(&Utc))
            .ok()
    }

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a datetime: use RFC 3339 (2024-05-01T10:00:00Z) or Salesforce's \
                 2024-05-01T10:00:00.000+0000"
            ))
        })
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            value: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(text) if text.trim().is_empty() => Ok(None),
                Some(text) => parse(&text).map(Some).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not a datetime: use RFC 3339 (2024-05-01T10:00:00Z) or \
                         Salesforce's 2024-05-01T10:00:00.000+0000"
                    ))
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_and_rfc3339_datetimes_parse_to_the_same_instant() {
        let a = sf_datetime::parse("2024-05-01T10:00:00.000+0000");
        let b = sf_datetime::parse("2024-05-01T10:00:00Z");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(sf_datetime::parse("yesterday"), None);
    }

    #[test]
    fn whole_address_space_ranges_are_recognised() {
        let whole = IpRange {
            start: "0.0.0.0".into(),
            end: "255.255.255.255".into(),
            description: None,
        };
        let office = IpRange {
            start: "10.0.0.0".into(),
            end: "10.0.255.255".into(),
            description: None,
        };
        assert!(whole.is_whole_address_space());
        assert!(!office.is_whole_address_space());
    }

    #[test]
    fn integration_licence_and_api_only_users_are_non_human() {
        let mut u = SfUser {
            license_name: Some("Salesforce Integration".into()),
            ..Default::default()
        };
        assert!(u.is_non_human());
        u.license_name = Some("Salesforce".into());
        assert!(!u.is_non_human());
        u.api_only = true;
        assert!(u.is_non_human());
    }

    #[test]
    fn bulk_ingest_is_not_an_export_but_bulk_query_is() {
        let mut e = ExportEvent {
            event_type: ExportEventType::BulkApi2,
            log_file_id: "0AT1".into(),
            request_id: "r1".into(),
            user_id: "005A".into(),
            timestamp: Utc::now(),
            operation: Some("insert".into()),
            entity: None,
            rows_processed: None,
            client_ip: None,
        };
        assert!(!e.is_export());
        e.operation = Some("queryAll".into());
        assert!(e.is_export());
        e.operation = None;
        assert!(e.is_export());
    }
}
