//! The demo org's identity data, read the way the audit reads it: Salesforce through REST and
//! Tooling queries, the five IdPs through their directory APIs (the audit's own collectors
//! and raw Okta calls). Checks the admin grants on every path, OAuth grants, 90 days of audit
//! trail with exports, session settings, each IdP's users and statuses, and that the audit
//! engine over this data finds exactly the manifest `planted_gaps(idp)` for every IdP.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::emulator_common;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use emulator_common::{Client, start_demo};
use reqwest::StatusCode;
use serde_json::Value as Json;
use sfmcp_audit::collect::{CollectOptions, collect_with};
use sfmcp_audit::finding::SubjectKind;
use sfmcp_audit::model::{
    AppAccess, AuditTrailRow, ConnectedApp, GrantPath, IpRange, LoginEvent, LoginIpRange, MfaGrant,
    MfaMethods, OauthGrant, ObjectAccess, PermissionGrant, ProfileAccess, SessionSettings, SfUser,
    sf_datetime,
};
use sfmcp_audit::{
    AuditConfig, AuditReport, IdpDirectory, IdpKind, IdpStatus, RuleId, SalesforceSnapshot,
    evaluate,
};
use sfmcp_emulator::EmulatorHandle;
use sfmcp_emulator::demo::identity::{
    EXPECTED_ADMINS, PlantedGap, planted_extended_gaps, planted_gaps,
};
use sfmcp_emulator::idp::{IdpServer, Vendor};

/// Every record of a query, following `nextRecordsUrl`.
async fn query_all(client: &Client, soql: &str) -> Vec<Json> {
    let mut reply = client.query(soql).await;
    let mut records = Vec::new();
    loop {
        assert_eq!(reply.status, StatusCode::OK, "{soql}: {}", reply.body);
        records.extend(
            reply.body["records"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match reply.body["nextRecordsUrl"].as_str() {
            Some(next) => {
                let url = format!("{}{next}", client.base);
                reply = client.send(client.http.get(url)).await;
            }
            None => return records,
        }
    }
}

fn text(record: &Json, pointer: &str) -> Option<String> {
    record
        .pointer(pointer)
        .and_then(Json::as_str)
        .map(str::to_owned)
}

fn time(record: &Json, pointer: &str) -> Option<DateTime<Utc>> {
    text(record, pointer).and_then(|t| sf_datetime::parse(&t))
}

fn flag(record: &Json, pointer: &str) -> bool {
    record
        .pointer(pointer)
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

const ADMIN_GRANTS: &str = "SELECT Id, AssigneeId, Assignee.Username, PermissionSetId, \
     PermissionSet.Name, PermissionSet.Label, PermissionSet.Type, PermissionSet.IsOwnedByProfile, \
     PermissionSet.Profile.Name, PermissionSetGroupId, ExpirationDate, \
     PermissionSet.PermissionsModifyAllData, PermissionSet.PermissionsViewAllData, \
     PermissionSet.PermissionsManageUsers, PermissionSet.PermissionsCustomizeApplication, \
     PermissionSet.PermissionsDataExport \
     FROM PermissionSetAssignment WHERE Assignee.IsActive = true AND \
     (PermissionSet.PermissionsModifyAllData = true OR PermissionSet.PermissionsViewAllData = true \
     OR PermissionSet.PermissionsManageUsers = true \
     OR PermissionSet.PermissionsCustomizeApplication = true)";

/// The Salesforce half of the audit input, read over REST the way the queries read it.
async fn salesforce_snapshot(handle: &EmulatorHandle) -> SalesforceSnapshot {
    let client = Client::for_org(handle, 0);
    let users = query_all(
        &client,
        "SELECT Id, Username, Email, Name, IsActive, UserType, ProfileId, Profile.Name, \
         Profile.UserLicense.Name, Profile.PermissionsApiUserOnly, LastLoginDate, \
         CreatedDate, FederationIdentifier FROM User",
    )
    .await;
    let frozen: BTreeSet<String> = query_all(
        &client,
        "SELECT UserId FROM UserLogin WHERE IsFrozen = true",
    )
    .await
    .iter()
    .filter_map(|r| text(r, "/UserId"))
    .collect();
    let users: Vec<SfUser> = users
        .iter()
        .map(|u| {
            let id = text(u, "/Id").unwrap();
            SfUser {
                is_frozen: Some(frozen.contains(&id)),
                created_date: time(u, "/CreatedDate"),
                id,
                username: text(u, "/Username").unwrap(),
                email: text(u, "/Email").unwrap_or_default(),
                name: text(u, "/Name"),
                is_active: flag(u, "/IsActive"),
                user_type: text(u, "/UserType").unwrap(),
                profile_id: text(u, "/ProfileId"),
                profile_name: text(u, "/Profile/Name"),
                license_name: text(u, "/Profile/UserLicense/Name"),
                api_only: flag(u, "/Profile/PermissionsApiUserOnly"),
                last_login_date: time(u, "/LastLoginDate"),
                federation_identifier: text(u, "/FederationIdentifier"),
            }
        })
        .collect();
    let permission_grants = query_all(&client, ADMIN_GRANTS)
        .await
        .iter()
        .map(|g| {
            let path = match text(g, "/PermissionSet/Type").as_deref() {
                Some("Profile") => GrantPath::Profile,
                Some("Group") => GrantPath::PermissionSetGroup,
                _ => GrantPath::PermissionSet,
            };
            PermissionGrant {
                assignment_id: text(g, "/Id"),
                assignee_id: text(g, "/AssigneeId").unwrap(),
                permission_set_id: text(g, "/PermissionSetId").unwrap(),
                source_name: match path {
                    GrantPath::Profile => text(g, "/PermissionSet/Profile/Name"),
                    _ => text(g, "/PermissionSet/Label"),
                }
                .unwrap(),
                path,
                permission_set_group_id: text(g, "/PermissionSetGroupId"),
                modify_all_data: flag(g, "/PermissionSet/PermissionsModifyAllData"),
                view_all_data: flag(g, "/PermissionSet/PermissionsViewAllData"),
                manage_users: flag(g, "/PermissionSet/PermissionsManageUsers"),
                customize_application: flag(g, "/PermissionSet/PermissionsCustomizeApplication"),
                data_export: flag(g, "/PermissionSet/PermissionsDataExport"),
                expiration_date: time(g, "/ExpirationDate"),
            }
        })
        .collect();
    let oauth_grants = query_all(
        &client,
        "SELECT AppName, AppMenuItemId, UserId, UseCount, LastUsedDate, CreatedDate \
         FROM OauthToken",
    )
    .await
    .iter()
    .map(|t| OauthGrant {
        app_name: text(t, "/AppName").unwrap(),
        user_id: text(t, "/UserId").unwrap(),
        app_menu_item_id: text(t, "/AppMenuItemId"),
        use_count: t["UseCount"].as_u64().unwrap_or(0),
        last_used_date: time(t, "/LastUsedDate"),
        created_date: time(t, "/CreatedDate"),
    })
    .collect();
    let password_logins = query_all(
        &client,
        &format!(
            "SELECT UserId, LoginTime, LoginType, Status, SourceIp FROM LoginHistory \
             WHERE LoginType = 'Application' AND LoginTime >= {}",
            (Utc::now() - chrono::Duration::days(30)).format("%Y-%m-%dT%H:%M:%SZ")
        ),
    )
    .await
    .iter()
    .map(|r| LoginEvent {
        user_id: text(r, "/UserId").unwrap(),
        login_time: time(r, "/LoginTime").unwrap(),
        login_type: text(r, "/LoginType").unwrap(),
        status: text(r, "/Status"),
        source_ip: text(r, "/SourceIp"),
    })
    .collect();
    let menu_items = query_all(
        &client,
        "SELECT Id, ApplicationId FROM AppMenuItem WHERE Type = 'ConnectedApplication'",
    )
    .await;
    let connected_apps = query_all(
        &client,
        "SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly, \
         OptionsRefreshTokenValidityMetric, RefreshTokenValidityPeriod FROM ConnectedApplication",
    )
    .await
    .iter()
    .map(|a| {
        let id = text(a, "/Id").unwrap();
        ConnectedApp {
            name: text(a, "/Name").unwrap(),
            admin_approved_users_only: flag(a, "/OptionsAllowAdminApprovedUsersOnly"),
            refresh_token_validity_period: a["RefreshTokenValidityPeriod"].as_i64(),
            refresh_token_expires_when_idle: flag(a, "/OptionsRefreshTokenValidityMetric"),
            app_menu_item_ids: menu_items
                .iter()
                .filter(|m| text(m, "/ApplicationId").as_deref() == Some(id.as_str()))
                .filter_map(|m| text(m, "/Id"))
                .collect(),
            id,
        }
    })
    .collect();
    let audit_trail = query_all(
        &client,
        "SELECT Id, Action, Section, Display, CreatedDate, CreatedById, DelegateUser \
         FROM SetupAuditTrail WHERE Action = 'export' ORDER BY CreatedDate",
    )
    .await
    .iter()
    .map(|r| AuditTrailRow {
        id: text(r, "/Id").unwrap(),
        action: text(r, "/Action").unwrap(),
        section: text(r, "/Section"),
        display: text(r, "/Display"),
        created_date: time(r, "/CreatedDate").unwrap(),
        created_by_id: text(r, "/CreatedById").unwrap(),
        delegate_user: text(r, "/DelegateUser"),
    })
    .collect();
    let login_ip_ranges = query_all(
        &client,
        "SELECT Id, ProfileId, StartAddress, EndAddress, Description FROM LoginIpRange",
    )
    .await
    .iter()
    .map(|r| LoginIpRange {
        id: text(r, "/Id"),
        profile_id: text(r, "/ProfileId").unwrap(),
        range: IpRange {
            start: text(r, "/StartAddress").unwrap(),
            end: text(r, "/EndAddress").unwrap(),
            description: text(r, "/Description"),
        },
    })
    .collect();
    let metadata = security_metadata(&client).await;
    let session = &metadata["sessionSettings"];
    let trusted_ip_ranges = metadata["networkAccess"]["ipRanges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| IpRange {
            start: text(r, "/start").unwrap(),
            end: text(r, "/end").unwrap(),
            description: text(r, "/description"),
        })
        .collect();
    let (mfa_grants, mfa_methods) = mfa_inputs(&client).await;
    let exposed_profiles = exposed_profiles(&client, &users).await;
    let app_access = app_access(&client).await;
    SalesforceSnapshot {
        org_id: handle.orgs[0].org_id.clone(),
        mfa_grants: Some(mfa_grants),
        mfa_methods: Some(mfa_methods),
        exposed_profiles: Some(exposed_profiles),
        app_access: Some(app_access),
        instance_url: Some(handle.base_url.clone()),
        users,
        permission_grants,
        oauth_grants: Some(oauth_grants),
        connected_apps: Some(connected_apps),
        password_logins: Some(password_logins),
        audit_trail: Some(audit_trail),
        event_log_exports: None,
        session_settings: Some(SessionSettings {
            lock_sessions_to_ip: session["lockSessionsToIp"].as_bool().unwrap(),
            enforce_ip_ranges_every_request: session["enforceIpRangesEveryRequest"]
                .as_bool()
                .unwrap(),
            mfa_for_direct_ui_logins: session["enableMFADirectUILoginOptIn"].as_bool(),
        }),
        login_ip_ranges: Some(login_ip_ranges),
        trusted_ip_ranges,
    }
}

/// SF-HYG-005's inputs: who holds the MFA permissions, and everyone's registered methods.
async fn mfa_inputs(client: &Client) -> (Vec<MfaGrant>, Vec<MfaMethods>) {
    let grants = query_all(
        client,
        "SELECT AssigneeId, PermissionSetId, PermissionSet.Label, PermissionSet.Type, \
         PermissionSet.Profile.Name, PermissionSet.PermissionsForceTwoFactor, \
         PermissionSet.PermissionsBypassMFAForUiLogins FROM PermissionSetAssignment \
         WHERE Assignee.IsActive = true AND (PermissionSet.PermissionsForceTwoFactor = true \
         OR PermissionSet.PermissionsBypassMFAForUiLogins = true)",
    )
    .await
    .iter()
    .map(|g| {
        let profile = text(g, "/PermissionSet/Type").as_deref() == Some("Profile");
        MfaGrant {
            assignee_id: text(g, "/AssigneeId").unwrap(),
            permission_set_id: text(g, "/PermissionSetId").unwrap(),
            source_name: if profile {
                text(g, "/PermissionSet/Profile/Name")
            } else {
                text(g, "/PermissionSet/Label")
            }
            .unwrap(),
            path: if profile {
                GrantPath::Profile
            } else {
                GrantPath::PermissionSet
            },
            force_mfa: flag(g, "/PermissionSet/PermissionsForceTwoFactor"),
            waive_mfa: flag(g, "/PermissionSet/PermissionsBypassMFAForUiLogins"),
        }
    })
    .collect();
    const METHODS: [&str; 4] = [
        "HasSalesforceAuthenticator",
        "HasTotp",
        "HasSecurityKey",
        "HasUserVerifiedMobileNumber",
    ];
    let methods = query_all(
        client,
        &format!(
            "SELECT UserId, {} FROM TwoFactorMethodsInfo",
            METHODS.join(", ")
        ),
    )
    .await
    .iter()
    .map(|r| MfaMethods {
        user_id: text(r, "/UserId").unwrap(),
        methods: METHODS
            .iter()
            .filter(|m| flag(r, &format!("/{m}")))
            .map(|m| (*m).to_owned())
            .collect(),
    })
    .collect();
    (grants, methods)
}

/// SF-HYG-006's input: guest and API-only profiles, the guest ones' object permissions, and
/// their active users (from the users read above, whatever their type).
async fn exposed_profiles(client: &Client, users: &[SfUser]) -> Vec<ProfileAccess> {
    let objects = query_all(
        client,
        "SELECT Parent.ProfileId, SobjectType, PermissionsCreate, PermissionsRead, \
         PermissionsEdit, PermissionsDelete, PermissionsViewAllRecords, \
         PermissionsModifyAllRecords FROM ObjectPermissions WHERE Parent.IsOwnedByProfile = true",
    )
    .await;
    query_all(
        client,
        "SELECT Id, Name, UserType, UserLicense.Name, PermissionsApiEnabled, \
         PermissionsApiUserOnly, PermissionsModifyAllData, PermissionsViewAllData, \
         PermissionsManageUsers FROM Profile WHERE UserType = 'Guest' \
         OR PermissionsApiUserOnly = true",
    )
    .await
    .iter()
    .map(|p| {
        let id = text(p, "/Id").unwrap();
        ProfileAccess {
            name: text(p, "/Name").unwrap(),
            user_type: text(p, "/UserType").unwrap(),
            license_name: text(p, "/UserLicense/Name"),
            api_enabled: flag(p, "/PermissionsApiEnabled"),
            api_only: flag(p, "/PermissionsApiUserOnly"),
            modify_all_data: flag(p, "/PermissionsModifyAllData"),
            view_all_data: flag(p, "/PermissionsViewAllData"),
            manage_users: flag(p, "/PermissionsManageUsers"),
            object_permissions: objects
                .iter()
                .filter(|o| text(o, "/Parent/ProfileId").as_deref() == Some(id.as_str()))
                .map(|o| ObjectAccess {
                    object: text(o, "/SobjectType").unwrap(),
                    create: flag(o, "/PermissionsCreate"),
                    read: flag(o, "/PermissionsRead"),
                    edit: flag(o, "/PermissionsEdit"),
                    delete: flag(o, "/PermissionsDelete"),
                    view_all: flag(o, "/PermissionsViewAllRecords"),
                    modify_all: flag(o, "/PermissionsModifyAllRecords"),
                })
                .collect(),
            active_users: users
                .iter()
                .filter(|u| u.is_active && u.profile_id.as_deref() == Some(id.as_str()))
                .map(|u| u.username.clone())
                .collect(),
            id,
        }
    })
    .collect()
}

/// SF-HYG-007's input: who each connected app is given to.
async fn app_access(client: &Client) -> Vec<AppAccess> {
    let assignments = query_all(
        client,
        "SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment \
         WHERE Assignee.IsActive = true",
    )
    .await;
    query_all(
        client,
        "SELECT ParentId, SetupEntityId, Parent.IsOwnedByProfile, Parent.ProfileId, \
         Parent.Label, Parent.Profile.Name FROM SetupEntityAccess \
         WHERE SetupEntityType = 'ConnectedApplication'",
    )
    .await
    .iter()
    .map(|r| {
        let owned = flag(r, "/Parent/IsOwnedByProfile");
        let set = text(r, "/ParentId").unwrap();
        AppAccess {
            app_id: text(r, "/SetupEntityId").unwrap(),
            source_name: if owned {
                text(r, "/Parent/Profile/Name")
            } else {
                text(r, "/Parent/Label")
            }
            .unwrap(),
            path: if owned {
                GrantPath::Profile
            } else {
                GrantPath::PermissionSet
            },
            profile_id: text(r, "/Parent/ProfileId").filter(|_| owned),
            assignee_ids: if owned {
                Vec::new()
            } else {
                assignments
                    .iter()
                    .filter(|a| text(a, "/PermissionSetId").as_deref() == Some(set.as_str()))
                    .filter_map(|a| text(a, "/AssigneeId"))
                    .collect()
            },
            permission_set_id: set,
        }
    })
    .collect()
}

async fn security_metadata(client: &Client) -> Json {
    let reply = client
        .send(
            client
                .http
                .get(client.data_url("/tooling/query"))
                .query(&[("q", "SELECT Id, Metadata FROM SecuritySettings LIMIT 1")]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["records"][0]["Metadata"].clone()
}

fn kind_of(vendor: Vendor) -> IdpKind {
    match vendor {
        Vendor::Okta => IdpKind::Okta,
        Vendor::Entra => IdpKind::Entra,
        Vendor::Google => IdpKind::Google,
        Vendor::JumpCloud => IdpKind::JumpCloud,
        Vendor::OneLogin => IdpKind::OneLogin,
    }
}

/// One IdP's directory, collected over HTTP by the audit's collector with the credentials the
/// emulator announces.
async fn collect(
    handle: &EmulatorHandle,
    vendor: Vendor,
    key_dir: &std::path::Path,
) -> IdpDirectory {
    let server = IdpServer::shared();
    let announcement = server.announcement(&handle.base_url);
    let mut env: HashMap<String, String> = HashMap::new();
    if let Some(vars) = announcement[vendor.as_str()]["env"].as_object() {
        for (k, v) in vars {
            env.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
        }
    }
    let key_path = key_dir.join("sa.json");
    std::fs::write(
        &key_path,
        server.google_key_file(&handle.base_url).to_string(),
    )
    .unwrap();
    env.insert(
        "GOOGLE_SERVICE_ACCOUNT_KEY_FILE".into(),
        key_path.display().to_string(),
    );
    let options = CollectOptions {
        page_size: None,
        max_retries: 2,
        max_retry_wait: Duration::from_secs(2),
        request_timeout: Duration::from_secs(20),
    };
    collect_with(kind_of(vendor), &|name| env.get(name).cloned(), &options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", vendor.as_str()))
}

fn status_of(directory: &IdpDirectory, address: &str) -> IdpStatus {
    let wanted = address.to_lowercase();
    directory
        .users
        .iter()
        .filter(|u| {
            u.email.to_lowercase() == wanted
                || u.login
                    .as_deref()
                    .is_some_and(|l| l.to_lowercase() == wanted)
        })
        .map(|u| u.status)
        .min_by_key(|s| *s as u8)
        .unwrap_or(IdpStatus::Absent)
}

#[tokio::test]
async fn admin_grants_are_visible_on_every_path() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let grants = query_all(&client, ADMIN_GRANTS).await;
    let by_user = |username: &str| -> Vec<&Json> {
        grants
            .iter()
            .filter(|g| text(g, "/Assignee/Username").as_deref() == Some(username))
            .collect()
    };
    // Profile path: the profile's owned permission set.
    let victor = by_user("victor.stone@demo.emulator");
    assert_eq!(victor.len(), 1, "{victor:?}");
    assert_eq!(
        text(victor[0], "/PermissionSet/Type").as_deref(),
        Some("Profile")
    );
    assert!(flag(victor[0], "/PermissionSet/IsOwnedByProfile"));
    assert_eq!(
        text(victor[0], "/PermissionSet/Profile/Name").as_deref(),
        Some("System Administrator")
    );
    assert!(flag(victor[0], "/PermissionSet/PermissionsModifyAllData"));
    // Permission set group path: the group's aggregate set carries the components' rights.
    let olivia = by_user("olivia.chen@demo.emulator");
    assert_eq!(olivia.len(), 1, "{olivia:?}");
    assert_eq!(
        text(olivia[0], "/PermissionSet/Type").as_deref(),
        Some("Group")
    );
    assert!(text(olivia[0], "/PermissionSetGroupId").is_some_and(|id| id.starts_with("0PG")));
    for p in [
        "ModifyAllData",
        "ViewAllData",
        "ManageUsers",
        "CustomizeApplication",
    ] {
        assert!(
            flag(olivia[0], &format!("/PermissionSet/Permissions{p}")),
            "{p}"
        );
    }
    // Permission set path.
    let marcus = by_user("marcus.reed@demo.emulator");
    assert_eq!(marcus.len(), 1);
    assert_eq!(
        text(marcus[0], "/PermissionSet/Name").as_deref(),
        Some("Data_Auditor")
    );
    assert!(!flag(marcus[0], "/PermissionSet/PermissionsModifyAllData"));
    // A sales rep holds no admin permission at all.
    assert!(by_user("jordan.blake@demo.emulator").is_empty());
    // Inactive users are filtered out through the relationship.
    let inactive = query_all(
        &client,
        "SELECT Id FROM PermissionSetAssignment WHERE Assignee.IsActive = false",
    )
    .await;
    assert!(
        !inactive.is_empty(),
        "the demo has inactive users with profile grants"
    );

    // The integration user is non-human by licence and by API-only profile.
    let svc = query_all(
        &client,
        "SELECT Profile.UserLicense.Name, Profile.PermissionsApiUserOnly, UserType FROM User \
         WHERE Username = 'svc.datasync@demo.emulator'",
    )
    .await;
    assert_eq!(
        text(&svc[0], "/Profile/UserLicense/Name").as_deref(),
        Some("Salesforce Integration")
    );
    assert!(flag(&svc[0], "/Profile/PermissionsApiUserOnly"));
    // Every user, whatever the profile, has exactly one profile assignment.
    let users = query_all(&client, "SELECT Id FROM User").await;
    let profile_rows = query_all(
        &client,
        "SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.IsOwnedByProfile = true",
    )
    .await;
    assert_eq!(profile_rows.len(), users.len());
    handle.shutdown().await;
}

#[tokio::test]
async fn oauth_grants_audit_trail_and_session_settings() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let now = Utc::now();

    let jordan = query_all(
        &client,
        "SELECT AppName, UseCount, LastUsedDate FROM OauthToken \
         WHERE User.Username = 'jordan.blake@demo.emulator' ORDER BY AppName",
    )
    .await;
    let apps: Vec<String> = jordan.iter().filter_map(|t| text(t, "/AppName")).collect();
    assert_eq!(apps, ["Salesforce for Outlook", "Slack", "Slack"]);
    let all_tokens = query_all(&client, "SELECT Id, AppName, UserId FROM OauthToken").await;
    assert!(all_tokens.len() > 60, "{} grants", all_tokens.len());

    // 90 days of setup changes, exports among them.
    let oldest = query_all(
        &client,
        "SELECT CreatedDate FROM SetupAuditTrail ORDER BY CreatedDate ASC LIMIT 1",
    )
    .await;
    let age = now - time(&oldest[0], "/CreatedDate").unwrap();
    assert!(
        (88..=90).contains(&age.num_days()),
        "oldest row {} days old",
        age.num_days()
    );
    let exports = query_all(
        &client,
        "SELECT CreatedDate, CreatedBy.Username, DelegateUser, Section, Display \
         FROM SetupAuditTrail WHERE Action = 'export' ORDER BY CreatedDate DESC",
    )
    .await;
    let summary: Vec<(i64, String, Option<String>)> = exports
        .iter()
        .map(|e| {
            (
                (now - time(e, "/CreatedDate").unwrap()).num_days(),
                text(e, "/CreatedBy/Username").unwrap(),
                text(e, "/DelegateUser"),
            )
        })
        .collect();
    let d = |s: &str| s.to_string();
    assert_eq!(
        summary,
        [
            (3, d("ethan.brooks@demo.emulator"), None),
            (10, d("admin@demo.emulator"), None),
            (
                17,
                d("harper.lane@demo.emulator"),
                Some(d("admin@demo.emulator"))
            ),
            (45, d("admin@demo.emulator"), None),
            (60, d("ethan.brooks@demo.emulator"), None),
            (80, d("it.admin1@demo.emulator"), None),
        ]
    );
    assert!(
        exports
            .iter()
            .all(|e| text(e, "/Section").as_deref() == Some("Data Export"))
    );
    let queue = query_all(
        &client,
        "SELECT Id FROM SetupAuditTrail WHERE Action = 'queueMembership'",
    )
    .await;
    assert!(!queue.is_empty(), "non-export Data Management rows exist");

    let logins = query_all(
        &client,
        "SELECT UserId, LoginTime, Status FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:30",
    )
    .await;
    assert!(logins.len() >= 60, "{} logins", logins.len());

    // Session settings: not locked to IP, org trusted ranges present, profile ranges on two
    // profiles (one of them the whole address space), none on System Administrator.
    let metadata = security_metadata(&client).await;
    assert_eq!(
        metadata["sessionSettings"]["lockSessionsToIp"],
        Json::Bool(false)
    );
    assert_eq!(
        metadata["sessionSettings"]["enforceIpRangesEveryRequest"],
        Json::Bool(false)
    );
    assert_eq!(
        metadata["networkAccess"]["ipRanges"][0]["start"],
        Json::String("203.0.113.0".into())
    );
    let ranges = query_all(
        &client,
        "SELECT Profile.Name, StartAddress, EndAddress FROM LoginIpRange ORDER BY Profile.Name",
    )
    .await;
    let ranges: Vec<(String, String, String)> = ranges
        .iter()
        .map(|r| {
            (
                text(r, "/Profile/Name").unwrap(),
                text(r, "/StartAddress").unwrap(),
                text(r, "/EndAddress").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        [
            (d("Sales User"), d("10.0.0.0"), d("10.255.255.255")),
            (d("Support User"), d("0.0.0.0"), d("255.255.255.255")),
        ]
    );
    let frozen = query_all(
        &client,
        "SELECT User.Username FROM UserLogin WHERE IsFrozen = true",
    )
    .await;
    assert_eq!(frozen.len(), 1);
    assert_eq!(
        text(&frozen[0], "/User/Username").as_deref(),
        Some("lucas.meyer@demo.emulator")
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn okta_lists_deprovisioned_users_only_through_search() {
    let handle = start_demo().await;
    let token = IdpServer::shared().credentials().okta_api_token.clone();
    let http = reqwest::Client::new();
    let logins = |query: Vec<(&'static str, &'static str)>| {
        let (http, token, base) = (http.clone(), token.clone(), handle.base_url.clone());
        async move {
            let mut url = format!("{base}/api/v1/users");
            let mut first = true;
            let mut out = Vec::new();
            loop {
                let mut request = http
                    .get(&url)
                    .header("Authorization", format!("SSWS {token}"));
                if first {
                    request = request.query(&query);
                    first = false;
                }
                let reply = request.send().await.unwrap();
                assert_eq!(reply.status(), 200);
                let next = reply
                    .headers()
                    .get_all("link")
                    .iter()
                    .filter_map(|l| l.to_str().ok())
                    .find(|l| l.contains("rel=\"next\""))
                    .and_then(|l| l.split(['<', '>']).nth(1))
                    .map(str::to_owned);
                let users: Vec<Json> = reply.json().await.unwrap();
                out.extend(users.iter().map(|u| {
                    (
                        text(u, "/profile/login").unwrap(),
                        text(u, "/status").unwrap(),
                    )
                }));
                match next {
                    Some(n) => url = n,
                    None => return out,
                }
            }
        }
    };
    let plain = logins(vec![("limit", "50")]).await;
    assert!(plain.len() > 60);
    assert!(plain.iter().all(|(_, s)| s != "DEPROVISIONED"));
    assert!(!plain.iter().any(|(l, _)| l == "nina.petrova@demo.emulator"));
    let gone = logins(vec![("search", "status eq \"DEPROVISIONED\"")]).await;
    let gone: BTreeSet<String> = gone.into_iter().map(|(l, _)| l).collect();
    assert!(gone.contains("nina.petrova@demo.emulator"));
    assert!(gone.contains("lucas.meyer@demo.emulator"));
    // The renamed person signs in with her old address.
    assert!(
        plain
            .iter()
            .any(|(l, s)| l == "gkim@demo.emulator" && s == "ACTIVE")
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn each_idp_lists_the_planted_people_in_its_own_states() {
    let handle = start_demo().await;
    let key_dir = tempfile::tempdir().unwrap();
    use IdpStatus::*;
    let expected: [(&str, [IdpStatus; 5]); 9] = [
        // okta, entra, google, jumpcloud, onelogin
        ("victor.stone@demo.emulator", [Absent; 5]),
        ("jordan.blake@demo.emulator", [Absent; 5]),
        (
            "nina.petrova@demo.emulator",
            [Deprovisioned, Deprovisioned, Deprovisioned, Absent, Absent],
        ),
        ("sam.okafor@demo.emulator", [Suspended; 5]),
        (
            "lucas.meyer@demo.emulator",
            [
                Deprovisioned,
                Deprovisioned,
                Deprovisioned,
                Suspended,
                Suspended,
            ],
        ),
        (
            "liam.walsh@demo.emulator",
            [Locked, Active, Active, Locked, Locked],
        ),
        (
            "mia.santos@demo.emulator",
            [Pending, Active, Active, Pending, Pending],
        ),
        ("marcus.reed@demo.emulator", [Active; 5]),
        ("dana.admin@demo.emulator", [Active; 5]),
    ];
    let mut sizes = Vec::new();
    for (i, vendor) in Vendor::ALL.into_iter().enumerate() {
        let directory = collect(&handle, vendor, key_dir.path()).await;
        for (address, statuses) in &expected {
            assert_eq!(
                status_of(&directory, address),
                statuses[i],
                "{address} in {}",
                vendor.as_str()
            );
        }
        // Integration users are in no directory.
        assert_eq!(status_of(&directory, "svc.datasync@demo.emulator"), Absent);
        sizes.push(directory.users.len());
    }
    // JumpCloud and OneLogin lose the deleted and the never-activated-elsewhere alike: fewer
    // accounts than Okta, Entra and Google, which keep deprovisioned ones.
    assert!(sizes[3] < sizes[0] && sizes[4] < sizes[0], "{sizes:?}");
    assert!(sizes.iter().all(|n| *n > 70), "{sizes:?}");
    handle.shutdown().await;
}

/// (rule, subject, connected app) of each finding, sorted.
fn found_gaps(report: &AuditReport) -> Vec<(String, String, Option<String>)> {
    let mut found: Vec<(String, String, Option<String>)> = report
        .findings
        .iter()
        .map(|f| {
            let connected_app = f.subject.kind == SubjectKind::ConnectedApp;
            let subject = f.subject.username.clone().unwrap_or_else(|| {
                if connected_app || f.subject.kind == SubjectKind::Profile {
                    f.subject.display.clone()
                } else {
                    f.subject.id.clone()
                }
            });
            let app = if connected_app {
                Some(f.subject.display.clone())
            } else {
                matches!(f.rule_id.as_str(), "SF-IDP-004" | "SF-HYG-002").then(|| {
                    f.subject
                        .id
                        .split('|')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
            };
            (f.rule_id.as_str().to_owned(), subject, app)
        })
        .collect();
    found.sort();
    found
}

fn manifest(gaps: impl IntoIterator<Item = PlantedGap>) -> Vec<(String, String, Option<String>)> {
    gaps.into_iter()
        .map(
            |PlantedGap {
                 rule, subject, app, ..
             }| (rule.to_owned(), subject, app.map(str::to_owned)),
        )
        .collect()
}

/// The manifest, checked against the audit engine over what the emulator serves.
#[tokio::test]
async fn the_audit_finds_exactly_the_planted_gaps_for_every_idp() {
    let handle = start_demo().await;
    let snapshot = salesforce_snapshot(&handle).await;
    let key_dir = tempfile::tempdir().unwrap();
    for vendor in Vendor::ALL {
        let directory = collect(&handle, vendor, key_dir.path()).await;
        let mut config = AuditConfig::new(Utc::now());
        config.allow_admins = EXPECTED_ADMINS.iter().map(|s| s.to_string()).collect();
        let found = found_gaps(&evaluate(&snapshot, &directory, &config));
        let planted = manifest(planted_gaps(vendor));
        assert_eq!(found, planted, "{}: findings vs manifest", vendor.as_str());
        // The extended rules, when selected, add exactly their own planted cases.
        config.rules = Some(RuleId::parse_selection(&["core", "extended"]).unwrap());
        let found = found_gaps(&evaluate(&snapshot, &directory, &config));
        let mut planted = manifest(
            planted_gaps(vendor)
                .into_iter()
                .chain(planted_extended_gaps()),
        );
        planted.sort();
        assert_eq!(found, planted, "{}: extended vs manifest", vendor.as_str());
        // Every rule fires at least once for every IdP.
        let rules: BTreeSet<&str> = planted_gaps(vendor).iter().map(|g| g.rule).collect();
        assert_eq!(rules.len(), 9, "{}: {rules:?}", vendor.as_str());
    }
    handle.shutdown().await;
}

/// `examples/seed-identity.json`, the documented seed format for identity data, loads and
/// serves what it declares.
#[tokio::test]
async fn the_identity_example_seed_serves_its_grants_settings_and_directories() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/seed-identity.json");
    let seed: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let handle = emulator_common::start_seed(seed).await;
    let client = Client::for_org(&handle, 0);

    let grants = query_all(&client, ADMIN_GRANTS).await;
    let mut admins: Vec<(String, String)> = grants
        .iter()
        .map(|g| {
            (
                text(g, "/Assignee/Username").unwrap(),
                text(g, "/PermissionSet/Type").unwrap(),
            )
        })
        .collect();
    admins.sort();
    let d = |s: &str| s.to_string();
    assert_eq!(
        admins,
        [
            (d("ada@acme.example"), d("Profile")),
            (d("olga@acme.example"), d("Group")),
        ]
    );
    let etl = query_all(
        &client,
        "SELECT Profile.UserLicense.Name FROM User WHERE Username = 'etl@acme.example'",
    )
    .await;
    assert_eq!(
        text(&etl[0], "/Profile/UserLicense/Name").as_deref(),
        Some("Salesforce Integration")
    );
    let exports = query_all(
        &client,
        "SELECT CreatedBy.Username, DelegateUser FROM SetupAuditTrail WHERE Action = 'export' \
         ORDER BY CreatedDate",
    )
    .await;
    assert_eq!(exports.len(), 2);
    assert_eq!(
        text(&exports[0], "/DelegateUser").as_deref(),
        Some("ada@acme.example")
    );
    let metadata = security_metadata(&client).await;
    assert_eq!(
        metadata["networkAccess"]["ipRanges"][0]["end"],
        Json::String("203.0.113.255".into())
    );
    let frozen = query_all(
        &client,
        "SELECT UserId FROM UserLogin WHERE IsFrozen = true",
    )
    .await;
    assert_eq!(frozen.len(), 1);

    let key_dir = tempfile::tempdir().unwrap();
    let okta = collect(&handle, Vendor::Okta, key_dir.path()).await;
    assert_eq!(okta.users.len(), 5);
    assert_eq!(
        status_of(&okta, "leo@acme.example"),
        IdpStatus::Deprovisioned
    );
    assert_eq!(status_of(&okta, "olga@acme.example"), IdpStatus::Active);
    assert_eq!(
        status_of(&okta, "new.hire@acme.example"),
        IdpStatus::Pending
    );
    let entra = collect(&handle, Vendor::Entra, key_dir.path()).await;
    assert_eq!(entra.users.len(), 4, "no Entra account for the new hire");
    handle.shutdown().await;
}

/// A typo in a seed's IdP people is refused with the field named, not silently dropped.
#[tokio::test]
async fn a_misspelt_idp_field_is_refused() {
    let seed = serde_json::json!({"idp_people": [{"email": "a@b.example", "okt": "ACTIVE"}]});
    let source = emulator_common::seed_source(&seed);
    let error = sfmcp_emulator::seed::build(0, &source)
        .map(|_| ())
        .expect_err("unknown field refused");
    assert!(error.contains("okt"), "{error}");
}

/// `OauthToken WHERE UserId IN (...)` (the audit's partitioned read) is answered from the
/// lookup index; the answer must be the full scan's: the same rows, in the same order, for
/// 18- and 15-character ids, with other conditions, and under OR (which is not narrowed).
#[tokio::test]
async fn oauth_tokens_by_user_match_a_full_scan() {
    let handle = start_demo().await;
    let client = Client::for_org(&handle, 0);
    let all = query_all(&client, "SELECT Id, UserId, UseCount FROM OauthToken").await;
    assert!(all.len() > 10, "the demo has OAuth grants");
    let mut users: Vec<String> = Vec::new();
    for record in &all {
        let user = text(record, "/UserId").unwrap();
        if !users.contains(&user) {
            users.push(user);
        }
    }
    let chosen: Vec<String> = users.iter().step_by(3).take(40).cloned().collect();
    let expect = |keep: &dyn Fn(&Json) -> bool| -> Vec<String> {
        all.iter()
            .filter(|r| keep(r))
            .map(|r| text(r, "/Id").unwrap())
            .collect()
    };
    let ids_of = |records: Vec<Json>| -> Vec<String> {
        records.iter().map(|r| text(r, "/Id").unwrap()).collect()
    };
    let in_chosen = |r: &Json| chosen.contains(&text(r, "/UserId").unwrap());
    // 15-character spellings of half the ids, and a user id with no grants.
    let listed: Vec<String> = chosen
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i % 2 == 0 {
                id[..15].to_string()
            } else {
                id.clone()
            }
        })
        .chain(std::iter::once("005000000000000AAA".to_string()))
        .map(|id| format!("'{id}'"))
        .collect();
    let list = listed.join(", ");

    let got = query_all(
        &client,
        &format!("SELECT Id, UserId FROM OauthToken WHERE UserId IN ({list})"),
    )
    .await;
    assert_eq!(ids_of(got), expect(&in_chosen));

    let got = query_all(
        &client,
        &format!("SELECT Id FROM OauthToken WHERE UseCount > 3 AND UserId IN ({list})"),
    )
    .await;
    let busy = |r: &Json| r["UseCount"].as_i64().unwrap_or(0) > 3;
    assert_eq!(ids_of(got), expect(&|r| in_chosen(r) && busy(r)));

    let got = query_all(
        &client,
        &format!("SELECT Id FROM OauthToken WHERE UserId IN ({list}) OR UseCount > 3"),
    )
    .await;
    assert_eq!(ids_of(got), expect(&|r| in_chosen(r) || busy(r)));

    let one = text(&all[0], "/Id").unwrap();
    let got = query_all(
        &client,
        &format!("SELECT Id FROM OauthToken WHERE Id = '{}'", &one[..15]),
    )
    .await;
    assert_eq!(ids_of(got), vec![one]);
}
