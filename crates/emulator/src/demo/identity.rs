//! The demo org's identity data and the gaps planted in it for the identity audit (`sfmcp
//! audit --demo`): profiles with their licences and Login IP Ranges, admin permission sets and
//! a permission set group, integration (non-human) users, OAuth grants, 90 days of
//! `SetupAuditTrail` with data exports, `LoginHistory`, session settings, and the same people
//! in the five IdP directories (Okta, Entra ID, Google Workspace, JumpCloud, OneLogin), each
//! in its vendor's own status vocabulary.
//!
//! # Expected admins (the allow-list to give the audit)
//!
//! [`EXPECTED_ADMINS`]; with it, SF-PRV-001/002 fire only for the admins planted below.
//!
//! | address | Salesforce username | grant |
//! |---|---|---|
//! | `dana.admin@demo.emulator` | `admin@demo.emulator` (the org's default user) | System Administrator profile |
//! | `it.admin1@demo.emulator` | `it.admin1@demo.emulator` | System Administrator profile |
//!
//! At `--scale N` the IT admins are `it.admin1` .. `it.adminN` ([`expected_admins`]).
//!
//! # Planted gaps ([`planted_gaps`])
//!
//! With the allow-list above and the default 30-day window, `sfmcp audit --demo --idp X` finds
//! exactly these (subjects are Salesforce usernames; `×` names the connected app):
//!
//! | rule | subject | IdPs | why |
//! |---|---|---|---|
//! | SF-IDP-001 | `victor.stone@demo.emulator` | all | System Administrator in no IdP |
//! | SF-IDP-002 | `jordan.blake@demo.emulator` | all | contractor in no IdP |
//! | SF-IDP-002 | `alex.rivera@demo.emulator` | all | Salesforce e-mail is a personal address the IdPs hold only as secondary / recovery |
//! | SF-IDP-002 | `nina.petrova@demo.emulator` | JumpCloud, OneLogin | deleted there, and deleted users vanish |
//! | SF-IDP-002 | `gkim@demo.emulator` | JumpCloud | JumpCloud keeps one address; Salesforce still has the old one |
//! | SF-IDP-003 | `nina.petrova@demo.emulator` | Okta, Entra, Google | DEPROVISIONED (Okta: only through search) / in deletedItems / archived |
//! | SF-IDP-003 | `sam.okafor@demo.emulator` | all | SUSPENDED / disabled / suspended / SUSPENDED / status 2 |
//! | SF-IDP-003 | `lucas.meyer@demo.emulator` | all | frozen in Salesforce; DEPROVISIONED / deleted / deleted / SUSPENDED / state 3 |
//! | SF-IDP-004 | `victor.stone@demo.emulator` × Data Loader | all | |
//! | SF-IDP-004 | `jordan.blake@demo.emulator` × Salesforce for Outlook, × Slack | all | two grants of Slack fold into one |
//! | SF-IDP-004 | `alex.rivera@demo.emulator` × Salesforce Mobile | all | |
//! | SF-IDP-004 | `nina.petrova@demo.emulator` × Data Loader | JumpCloud, OneLogin | |
//! | SF-IDP-004 | `gkim@demo.emulator` × Salesforce for Outlook | JumpCloud | |
//! | SF-PRV-001, SF-PRV-002 | `victor.stone@demo.emulator` | all | System Administrator profile |
//! | SF-PRV-001, SF-PRV-002 | `olivia.chen@demo.emulator` | all | permission set group `Sales_Ops_Admin` |
//! | SF-PRV-002 | `marcus.reed@demo.emulator` | all | permission set `Data_Auditor` |
//! | SF-PRV-001, SF-PRV-002 | `svc.datasync@demo.emulator` | all | integration user (non-human) with `Integration_Full_Access` |
//! | SF-CFG-001 | `SecuritySettings.sessionSettings` | all | sessions not locked to IP; System Administrator has no Login IP Range |
//! | SF-EXP-001 | `admin@demo.emulator` | all | Data Export 10 days ago |
//! | SF-EXP-001, SF-EXP-002 | `ethan.brooks@demo.emulator` | all | non-admin holding Weekly Data Export, 3 days ago |
//! | SF-EXP-001, SF-EXP-002 | `harper.lane@demo.emulator` | all | `admin@demo.emulator` logged in as this non-admin, 17 days ago |
//!
//! # Planted for the extended rules ([`planted_extended_gaps`])
//!
//! Off by default; `sfmcp audit --demo --extended` (or `--rule extended`, or `audit_run` with
//! `rules: ["core", "extended"]`) finds these besides the above, for every IdP, with the
//! default 90-day dormant period:
//!
//! | rule | subject | why |
//! |---|---|---|
//! | SF-HYG-001 | `owen.hart@demo.emulator` | active in Salesforce and every IdP; last login 200 days ago |
//! | SF-HYG-001 | `paula.grant@demo.emulator` | never logged in; account created 150 days ago |
//! | SF-HYG-002 | `svc.datasync@demo.emulator` × Informatica Cloud | integration user's grant last used 200 days ago |
//! | SF-HYG-003 | connected app `Workbench` | "All users may self-authorize", refresh tokens valid until revoked, people hold grants |
//! | SF-HYG-004 | `olivia.chen@demo.emulator` | Federation ID set, logged in with a Salesforce password 4 and 9 days ago |
//! | SF-HYG-004 | `ivy.tran@demo.emulator` | Federation ID set, logged in with a Salesforce password 5 days ago (MFA waived too) |
//! | SF-HYG-005 | `noah.fischer@demo.emulator` | org requires MFA for direct logins, but the `MFA_Waiver` permission set waives it; two password logins; only a text-message number registered |
//! | SF-HYG-006 | profile `Partner Site Profile` | guest profile: API Enabled, Read on Contact and Case |
//! | SF-HYG-006 | profile `Provisioning Integration` | API-only profile granting Manage Users; `svc.provisioning` uses it |
//! | SF-HYG-007 | connected app `Slack` | admin-approved, but given to the Sales User and Support User profiles (over 90 % of people) |
//!
//! Near misses: `quinn.ellis@demo.emulator` last logged in 75 days ago; the IT admins never
//! logged in but were just created; `svc.datasync` × MuleSoft Anypoint and every generated
//! integration user's grants are in daily use; people's idle grants are not integrations'.
//! Connected apps ([`CONNECTED_APPS`]): `Survey Monkey (retired)` is as open as Workbench but
//! nobody holds a grant; `Quick Quote` is open but its refresh tokens expire at once;
//! Salesforce Mobile, DocuSign and Data Loader are open with expiring refresh tokens; Slack,
//! Salesforce for Outlook and the integrations' apps keep tokens until revoked but are
//! admin-approved. SF-HYG-004: `kenji.nakamura` (Federation ID) logs in through SSO and
//! failed one password attempt; olivia's password login 45 days ago is outside the window;
//! generated people log in with passwords but have no Federation ID.
//! SF-HYG-005 ([`EXPOSURE_USERS`]): everyone else's direct logins need MFA (the org-wide
//! setting); `ivy.tran` is waived but set up for SSO and known to the IdPs (SF-HYG-004 reports
//! her), `leo.martin` is waived but logs in only through SSO, `zoe.adams` is waived but holds
//! the per-user MFA permission (`MFA_Required`); integrations log in through OAuth.
//! SF-HYG-006: `Careers Site Profile` (guest) only creates leads; `Integration User` and
//! `Legacy ETL` are API-only, the first without admin permissions, the second (Modify All
//! Data) with its only user deactivated; permission sets are SF-PRV-001/002's.
//! SF-HYG-007: Salesforce for Outlook is given to the support profile (about a quarter of
//! people), MuleSoft Anypoint and Informatica Cloud to integrations, Tableau to one
//! permission set, Gong to nobody.
//!
//! # Near misses (must not fire)
//!
//! - Every generated person is active in all five IdPs; every fifth one's IdP address differs
//!   only in case, every fourth has a personal secondary address.
//! - `gkim@demo.emulator` (Grace Kim) matches through Entra `proxyAddresses`, a Google alias,
//!   the Okta login and the OneLogin username.
//! - `kenji.nakamura@demo.emulator` has an outdated e-mail but a Federation ID equal to his IdP
//!   address; `marcus.reed@demo.emulator` is `Marcus.Reed@DEMO.EMULATOR` in the IdPs.
//! - `liam.walsh@demo.emulator` is locked and `mia.santos@demo.emulator` pending (staged) where
//!   the vendor has those states: neither is offboarding.
//! - Integration users (licence `Salesforce Integration`, API only) are in no IdP and hold OAuth
//!   grants: inventoried as non-human, never "not in IdP".
//! - Inactive Salesforce users are deprovisioned in the IdPs; `sam.okafor` holds a Slack grant
//!   but the IdP knows him (SF-IDP-003 covers him, not SF-IDP-004).
//! - Exports 45, 60 and 80 days ago (one by a non-admin) are outside the 30-day window;
//!   `queueMembership` rows in Data Management are not exports.
//! - The org has trusted IP ranges (`networkAccess`), which do not restrict logins; Support User
//!   has a range covering the whole address space.
//!
//! # Scale
//!
//! `--scale N` repeats the generated people (and their grants, logins and audit rows) N times;
//! copies after the first carry gaps at realistic rates (2 % absent from the IdPs, 0.7 %
//! suspended, 0.3 % deprovisioned). The manifest describes `--scale 1`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value as Json, json};

use super::super::idp::{
    EntraStatus, GoogleStatus, JumpCloudStatus, OktaStatus, OneLoginStatus, Person, Vendor,
};
use super::super::json::format_datetime;
use super::super::seed::{
    IpRangeSeed, OrgBuilder, PermissionSetGroupSeed, PermissionSetSeed, ProfileSeed, UserSeed,
};
use super::Rng;

/// The demo's mail domain.
pub const DOMAIN: &str = "demo.emulator";

/// The admins the demo org expects at `--scale 1` (e-mail addresses): the audit's allow-list.
pub const EXPECTED_ADMINS: [&str; 2] = ["dana.admin@demo.emulator", "it.admin1@demo.emulator"];

/// The allow-list at `--scale N`: the default admin and one IT admin per copy.
pub fn expected_admins(scale: u32) -> Vec<String> {
    let mut list = vec![EXPECTED_ADMINS[0].to_string()];
    list.extend((1..=scale.max(1)).map(|n| format!("it.admin{n}@{DOMAIN}")));
    list
}

/// One gap the demo plants: the audit must report it, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct PlantedGap {
    /// Rule id, e.g. `SF-IDP-001`.
    pub rule: &'static str,
    /// The Salesforce username the finding is about (for SF-EXP-* the acting user),
    /// `SecuritySettings.sessionSettings` for SF-CFG-001, or the connected app's name for
    /// SF-HYG-003.
    pub subject: String,
    /// The connected app, for SF-IDP-004, SF-HYG-002 and SF-HYG-003.
    pub app: Option<&'static str>,
    pub why: &'static str,
}

const SESSION_SUBJECT: &str = "SecuritySettings.sessionSettings";

fn user(local: &str) -> String {
    format!("{local}@{DOMAIN}")
}

/// What `sfmcp audit --demo --idp <vendor>` must find at `--scale 1` with
/// [`EXPECTED_ADMINS`] and a 30-day window: exactly these, sorted.
pub fn planted_gaps(idp: Vendor) -> Vec<PlantedGap> {
    let gap = |rule, subject: String, app, why| PlantedGap {
        rule,
        subject,
        app,
        why,
    };
    let mut gaps = vec![
        gap(
            "SF-IDP-001",
            user("victor.stone"),
            None,
            "System Administrator with no IdP account",
        ),
        gap(
            "SF-IDP-002",
            user("jordan.blake"),
            None,
            "contractor with no IdP account",
        ),
        gap(
            "SF-IDP-002",
            user("alex.rivera"),
            None,
            "Salesforce e-mail is a personal address, never matched",
        ),
        gap(
            "SF-IDP-003",
            user("sam.okafor"),
            None,
            "suspended in the IdP, active in Salesforce",
        ),
        gap(
            "SF-IDP-003",
            user("lucas.meyer"),
            None,
            "offboarded in the IdP; frozen but still active in Salesforce",
        ),
        gap(
            "SF-IDP-004",
            user("victor.stone"),
            Some("Data Loader"),
            "OAuth grant of an admin unknown to the IdP",
        ),
        gap(
            "SF-IDP-004",
            user("jordan.blake"),
            Some("Salesforce for Outlook"),
            "OAuth grant of a user unknown to the IdP",
        ),
        gap(
            "SF-IDP-004",
            user("jordan.blake"),
            Some("Slack"),
            "two Slack grants of a user unknown to the IdP",
        ),
        gap(
            "SF-IDP-004",
            user("alex.rivera"),
            Some("Salesforce Mobile"),
            "OAuth grant of a user unknown to the IdP",
        ),
        gap(
            "SF-PRV-001",
            user("victor.stone"),
            None,
            "Modify All Data via the System Administrator profile",
        ),
        gap(
            "SF-PRV-002",
            user("victor.stone"),
            None,
            "View All Data via the System Administrator profile",
        ),
        gap(
            "SF-PRV-001",
            user("olivia.chen"),
            None,
            "Modify All Data via permission set group Sales_Ops_Admin",
        ),
        gap(
            "SF-PRV-002",
            user("olivia.chen"),
            None,
            "View All Data via permission set group Sales_Ops_Admin",
        ),
        gap(
            "SF-PRV-002",
            user("marcus.reed"),
            None,
            "View All Data via permission set Data_Auditor",
        ),
        gap(
            "SF-PRV-001",
            user("svc.datasync"),
            None,
            "integration user with Modify All Data",
        ),
        gap(
            "SF-PRV-002",
            user("svc.datasync"),
            None,
            "integration user with View All Data",
        ),
        gap(
            "SF-CFG-001",
            SESSION_SUBJECT.to_string(),
            None,
            "sessions not locked to IP; System Administrator has no Login IP Range",
        ),
        gap(
            "SF-EXP-001",
            user("admin"),
            None,
            "Data Export requested 10 days ago",
        ),
        gap(
            "SF-EXP-001",
            user("ethan.brooks"),
            None,
            "Data Export requested 3 days ago",
        ),
        gap(
            "SF-EXP-002",
            user("ethan.brooks"),
            None,
            "export by a non-admin holding Weekly Data Export",
        ),
        gap(
            "SF-EXP-001",
            user("harper.lane"),
            None,
            "Data Export requested 17 days ago through Login-As",
        ),
        gap(
            "SF-EXP-002",
            user("harper.lane"),
            None,
            "an admin logged in as this non-admin and exported",
        ),
    ];
    match idp {
        Vendor::Okta | Vendor::Entra | Vendor::Google => gaps.push(gap(
            "SF-IDP-003",
            user("nina.petrova"),
            None,
            "deprovisioned in the IdP, active in Salesforce",
        )),
        Vendor::JumpCloud | Vendor::OneLogin => {
            gaps.push(gap(
                "SF-IDP-002",
                user("nina.petrova"),
                None,
                "deleted in the IdP, and deleted users vanish there",
            ));
            gaps.push(gap(
                "SF-IDP-004",
                user("nina.petrova"),
                Some("Data Loader"),
                "OAuth grant of a user the IdP deleted",
            ));
        }
    }
    if idp == Vendor::JumpCloud {
        gaps.push(gap(
            "SF-IDP-002",
            user("gkim"),
            None,
            "JumpCloud keeps one address; Salesforce still has the old one",
        ));
        gaps.push(gap(
            "SF-IDP-004",
            user("gkim"),
            Some("Salesforce for Outlook"),
            "OAuth grant of a user JumpCloud does not know by this address",
        ));
    }
    gaps.sort();
    gaps
}

/// What the extended rules (off by default) must find besides [`planted_gaps`] when selected
/// (`sfmcp audit --demo --extended`): exactly these, sorted, for every IdP.
pub fn planted_extended_gaps() -> Vec<PlantedGap> {
    let mut gaps = vec![
        PlantedGap {
            rule: "SF-HYG-001",
            subject: user("owen.hart"),
            app: None,
            why: "active, last login 200 days ago",
        },
        PlantedGap {
            rule: "SF-HYG-001",
            subject: user("paula.grant"),
            app: None,
            why: "active, never logged in, account created 150 days ago",
        },
        PlantedGap {
            rule: "SF-HYG-002",
            subject: user("svc.datasync"),
            app: Some(IDLE_INTEGRATION_APP),
            why: "integration user's grant last used 200 days ago",
        },
        PlantedGap {
            rule: "SF-HYG-004",
            subject: user("olivia.chen"),
            app: None,
            why: "Federation ID set (single sign-on), two password logins in the window",
        },
        PlantedGap {
            rule: "SF-HYG-004",
            subject: user("ivy.tran"),
            app: None,
            why: "Federation ID set (single sign-on), a password login in the window",
        },
        PlantedGap {
            rule: "SF-HYG-005",
            subject: user("noah.fischer"),
            app: None,
            why: "MFA waived (permission set MFA_Waiver), two password logins, only a \
                  text-message number registered",
        },
        PlantedGap {
            rule: "SF-HYG-006",
            subject: PARTNER_SITE_PROFILE.to_owned(),
            app: None,
            why: "guest profile with API Enabled and Read on Contact and Case",
        },
        PlantedGap {
            rule: "SF-HYG-006",
            subject: PROVISIONING_PROFILE.to_owned(),
            app: None,
            why: "API-only profile granting Manage Users to an active integration",
        },
        PlantedGap {
            rule: "SF-HYG-007",
            subject: EVERYONE_APP.to_owned(),
            app: Some(EVERYONE_APP),
            why: "admin-approved, but given to the sales and support profiles: nearly everyone",
        },
        PlantedGap {
            rule: "SF-HYG-003",
            subject: OPEN_FOREVER_APP.to_owned(),
            app: Some(OPEN_FOREVER_APP),
            why: "any user may authorize it, its refresh tokens are valid until revoked, and \
                  people hold grants",
        },
    ];
    gaps.sort();
    gaps
}

/// The demo's profiles: licences, permissions and Login IP Ranges.
pub(super) fn profiles() -> Vec<ProfileSeed> {
    let profile = |name: &str, permissions: &[&str], hidden: &[&str]| ProfileSeed {
        name: name.into(),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        hidden_fields: hidden.iter().map(|h| h.to_string()).collect(),
        license: None,
        login_ip_ranges: Vec::new(),
        user_type: None,
    };
    let range = |start: &str, end: &str, description: &str| IpRangeSeed {
        start: start.into(),
        end: end.into(),
        description: Some(description.into()),
    };
    let mut sales = profile("Sales User", &["ApiEnabled"], &[]);
    sales.login_ip_ranges = vec![range("10.0.0.0", "10.255.255.255", "Office VPN")];
    let mut support = profile(
        "Support User",
        &["ApiEnabled"],
        &["Opportunity.ExpectedRevenue", "Account.AnnualRevenue"],
    );
    // Restricts nothing: the whole address space (SBS-AUTH-003).
    support.login_ip_ranges = vec![range("0.0.0.0", "255.255.255.255", "Anywhere")];
    let read_only = profile("Read Only", &["ApiEnabled", "ViewSetup"], &[]);
    let mut integration = profile("Integration User", &["ApiEnabled", "ApiUserOnly"], &[]);
    integration.license = Some("Salesforce Integration".into());
    // SF-HYG-006: guest and API-only profiles; their object access and users are seeded in
    // `seed` ([`EXPOSURE_USERS`], [`GUEST_OBJECT_ACCESS`]).
    let guest = |name: &str, permissions: &[&str]| {
        let mut p = profile(name, permissions, &[]);
        p.license = Some("Guest User License".into());
        p.user_type = Some("Guest".into());
        p
    };
    let api_only = |name: &str, permissions: &[&str]| {
        let mut p = profile(name, permissions, &[]);
        p.license = Some("Salesforce Integration".into());
        p
    };
    vec![
        sales,
        support,
        read_only,
        integration,
        guest(PARTNER_SITE_PROFILE, &["ApiEnabled"]),
        guest("Careers Site Profile", &[]),
        api_only(
            PROVISIONING_PROFILE,
            &["ApiEnabled", "ApiUserOnly", "ManageUsers"],
        ),
        api_only(
            "Legacy ETL",
            &["ApiEnabled", "ApiUserOnly", "ModifyAllData"],
        ),
    ]
}

/// The guest profile that lets the public read contacts and call the API (SF-HYG-006).
const PARTNER_SITE_PROFILE: &str = "Partner Site Profile";
/// The API-only profile that makes its integration a user administrator (SF-HYG-006).
const PROVISIONING_PROFILE: &str = "Provisioning Integration";

/// (guest profile, object, create, read): the guest profiles' object permissions. The
/// careers site's web form only creates leads (a near miss).
const GUEST_OBJECT_ACCESS: [(&str, &str, bool, bool); 3] = [
    (PARTNER_SITE_PROFILE, "Contact", false, true),
    (PARTNER_SITE_PROFILE, "Case", true, true),
    ("Careers Site Profile", "Lead", true, false),
];

/// (local part, first, last, profile, permission sets, active, Federation ID, user type):
/// the users of the MFA and profile-exposure cases (SF-HYG-005/006), kept out of
/// [`planted_users`] so the seed's random draws for the others stay as they were.
type ExposureUser = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    bool,
    bool,
    &'static str,
);

const EXPOSURE_USERS: [ExposureUser; 8] = [
    // SF-HYG-005: MFA waived, logs in with a password, only a text-message number registered.
    (
        "noah.fischer",
        "Noah",
        "Fischer",
        "Sales User",
        &["MFA_Waiver"],
        true,
        false,
        "Standard",
    ),
    // Near miss (SF-HYG-004's instead): waived, but set up for SSO and known to every IdP.
    (
        "ivy.tran",
        "Ivy",
        "Tran",
        "Support User",
        &["MFA_Waiver"],
        true,
        true,
        "Standard",
    ),
    // Near miss: waived, but logs in only through SSO.
    (
        "leo.martin",
        "Leo",
        "Martin",
        "Sales User",
        &["MFA_Waiver"],
        true,
        true,
        "Standard",
    ),
    // Near miss: waived, but the per-user MFA permission requires it anyway.
    (
        "zoe.adams",
        "Zoe",
        "Adams",
        "Sales User",
        &["MFA_Waiver", "MFA_Required"],
        true,
        false,
        "Standard",
    ),
    // SF-HYG-006: an integration whose API-only profile grants Manage Users.
    (
        "svc.provisioning",
        "Provisioning",
        "Service",
        PROVISIONING_PROFILE,
        &[],
        true,
        false,
        "Standard",
    ),
    // Near miss: the Modify All Data API-only profile's only user is deactivated.
    (
        "svc.legacy",
        "Legacy",
        "ETL",
        "Legacy ETL",
        &[],
        false,
        false,
        "Standard",
    ),
    // The sites' guest users.
    (
        "partners_site_guest",
        "Partners",
        "Site Guest User",
        PARTNER_SITE_PROFILE,
        &[],
        true,
        false,
        "Guest",
    ),
    (
        "careers_site_guest",
        "Careers",
        "Site Guest User",
        "Careers Site Profile",
        &[],
        true,
        false,
        "Guest",
    ),
];

/// The users of [`EXPOSURE_USERS`], for the seed.
pub(super) fn exposure_users() -> Vec<UserSeed> {
    EXPOSURE_USERS
        .iter()
        .map(
            |(local, first, last, profile, sets, active, federated, user_type)| {
                let mut fields = Map::new();
                if *federated {
                    fields.insert("FederationIdentifier".into(), json!(user(local)));
                }
                if *user_type != "Standard" {
                    // Salesforce derives it from the profile's licence; the seed states it.
                    fields.insert("UserType".into(), json!(user_type));
                }
                UserSeed {
                    username: user(local),
                    first_name: Some((*first).into()),
                    last_name: Some((*last).into()),
                    email: None,
                    profile: Some((*profile).into()),
                    role: None,
                    permission_sets: sets.iter().map(|s| (*s).to_owned()).collect(),
                    permission_set_groups: Vec::new(),
                    active: *active,
                    frozen: false,
                    default: false,
                    fields,
                }
            },
        )
        .collect()
}

/// (person, days ago, login type): the MFA cases' logins, all successful.
const MFA_LOGINS: [(&str, i64, &str); 5] = [
    ("noah.fischer", 2, "Application"),
    ("noah.fischer", 12, "Application"),
    ("ivy.tran", 5, "Application"),
    ("leo.martin", 3, "SAML Sfdc Initiated SSO"),
    ("zoe.adams", 7, "Application"),
];

/// (person, registered `TwoFactorMethodsInfo` flags). A verified mobile number is not MFA.
const MFA_METHODS: [(&str, &[&str]); 3] = [
    ("noah.fischer", &["HasUserVerifiedMobileNumber"]),
    ("ivy.tran", &["HasSalesforceAuthenticator"]),
    ("zoe.adams", &["HasTotp"]),
];

/// (connected app, profile or permission set): who an app gives access to
/// (`SetupEntityAccess`). Slack is admin-approved but pre-authorized for the sales and
/// support profiles, nearly everyone (SF-HYG-007); the others reach a few people or only
/// integrations (near misses).
const APP_ACCESS: [(&str, &str); 6] = [
    (EVERYONE_APP, "Sales User"),
    (EVERYONE_APP, "Support User"),
    ("Salesforce for Outlook", "Support User"),
    ("MuleSoft Anypoint", "Integration User"),
    ("Informatica Cloud", "Integration User"),
    ("Tableau", "Data_Auditor"),
];

/// The admin-approved app pre-authorized for most people (SF-HYG-007).
const EVERYONE_APP: &str = "Slack";

pub(super) fn permission_sets() -> Vec<PermissionSetSeed> {
    let set = |name: &str, label: &str, permissions: &[&str]| PermissionSetSeed {
        name: name.into(),
        label: Some(label.into()),
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
    };
    vec![
        set("Data_Export", "Data Export", &["ExportReport"]),
        set(
            "User_Admin",
            "User Administration",
            &["ManageUsers", "ViewSetup"],
        ),
        set(
            "Integration_Full_Access",
            "Integration Full Access",
            &["ApiEnabled", "ModifyAllData", "ViewAllData"],
        ),
        set(
            "Weekly_Data_Export",
            "Weekly Data Export",
            &["DataExport", "ExportReport"],
        ),
        set(
            "Data_Auditor",
            "Data Auditor",
            &["ViewAllData", "ViewSetup"],
        ),
        set(
            "Manage_Everything",
            "Manage Everything",
            &["ModifyAllData", "ViewAllData", "CustomizeApplication"],
        ),
        set("MFA_Waiver", "MFA Waiver", &["BypassMFAForUiLogins"]),
        set("MFA_Required", "MFA Required", &["ForceTwoFactor"]),
    ]
}

pub(super) fn permission_set_groups() -> Vec<PermissionSetGroupSeed> {
    vec![PermissionSetGroupSeed {
        name: "Sales_Ops_Admin".into(),
        label: Some("Sales Ops Admin".into()),
        permission_sets: vec!["Manage_Everything".into(), "User_Admin".into()],
    }]
}

/// Session settings that leave sessions unlocked (SF-CFG-001 fires).
pub(super) fn session_settings() -> Map<String, Json> {
    let mut map = Map::new();
    map.insert("lockSessionsToIp".into(), json!(false));
    map.insert("enforceIpRangesEveryRequest".into(), json!(false));
    map.insert("sessionTimeout".into(), json!("TwoHours"));
    // Every direct UI login needs MFA, except for holders of the waiver (SF-HYG-005).
    map.insert("enableMFADirectUILoginOptIn".into(), json!(true));
    map
}

/// Org trusted ranges: they skip device activation, they restrict nothing.
pub(super) fn trusted_ip_ranges() -> Vec<IpRangeSeed> {
    vec![IpRangeSeed {
        start: "203.0.113.0".into(),
        end: "203.0.113.255".into(),
        description: Some("Head office".into()),
    }]
}

/// The planted people's Salesforce side.
pub(super) fn planted_users() -> Vec<UserSeed> {
    let person = |local: &str, first: &str, last: &str, profile: &str| UserSeed {
        username: user(local),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        email: None,
        profile: Some(profile.into()),
        role: None,
        permission_sets: Vec::new(),
        permission_set_groups: Vec::new(),
        active: true,
        frozen: false,
        default: false,
        fields: Map::new(),
    };
    let mut victor = person("victor.stone", "Victor", "Stone", "System Administrator");
    victor
        .fields
        .insert("Title".into(), json!("Former IT Contractor"));
    let mut olivia = person("olivia.chen", "Olivia", "Chen", "Sales User");
    olivia.permission_set_groups = vec!["Sales_Ops_Admin".into()];
    olivia
        .fields
        .insert("FederationIdentifier".into(), json!(user("olivia.chen")));
    let mut marcus = person("marcus.reed", "Marcus", "Reed", "Support User");
    marcus.permission_sets = vec!["Data_Auditor".into()];
    let mut svc = person("svc.datasync", "Data", "Sync", "Integration User");
    svc.permission_sets = vec!["Integration_Full_Access".into()];
    let jordan = person("jordan.blake", "Jordan", "Blake", "Sales User");
    let mut alex = person("alex.rivera", "Alex", "Rivera", "Support User");
    alex.email = Some("alex.rivera@personal-mail.example".into());
    let mut kenji = person("kenji.nakamura", "Kenji", "Nakamura", "Sales User");
    kenji.email = Some("kenji.nakamura@old-demo.example".into());
    kenji
        .fields
        .insert("FederationIdentifier".into(), json!(user("kenji.nakamura")));
    let grace = person("gkim", "Grace", "Kim", "Sales User");
    let nina = person("nina.petrova", "Nina", "Petrova", "Sales User");
    let sam = person("sam.okafor", "Sam", "Okafor", "Support User");
    let mut lucas = person("lucas.meyer", "Lucas", "Meyer", "Sales User");
    lucas.frozen = true;
    let liam = person("liam.walsh", "Liam", "Walsh", "Support User");
    let mia = person("mia.santos", "Mia", "Santos", "Sales User");
    let mut ethan = person("ethan.brooks", "Ethan", "Brooks", "Sales User");
    ethan.permission_sets = vec!["Weekly_Data_Export".into()];
    let harper = person("harper.lane", "Harper", "Lane", "Support User");
    // Login and creation dates for the dormant-account rule (SF-HYG-001). The org is built
    // at the wall clock (`build_org`), so these are relative to it too.
    let now = Utc::now();
    let dated = |mut seed: UserSeed, (login, created): (Option<i64>, i64)| {
        if let Some(days) = login {
            seed.fields
                .insert("LastLoginDate".into(), at(now - Duration::days(days)));
        }
        seed.fields
            .insert("CreatedDate".into(), at(now - Duration::days(created)));
        seed
    };
    let mut dormant: Vec<UserSeed> = DORMANT_PEOPLE
        .iter()
        .map(|(local, first, last, dates)| dated(person(local, first, last, "Sales User"), *dates))
        .collect();
    let mut users = vec![
        victor, olivia, marcus, svc, jordan, alex, kenji, grace, nina, sam, lucas, liam, mia,
        ethan, harper,
    ];
    users.append(&mut dormant);
    users
}

/// (last login days ago, none for never; account created days ago).
type LoginDates = (Option<i64>, i64);

/// (local part, first, last, login dates): planted people for
/// SF-HYG-001, active in every IdP. They have no recent LoginHistory rows.
const DORMANT_PEOPLE: [(&str, &str, &str, LoginDates); 3] = [
    // Last login 200 days ago: dormant.
    ("owen.hart", "Owen", "Hart", (Some(200), 700)),
    // Never logged in, account 150 days old: dormant.
    ("paula.grant", "Paula", "Grant", (None, 150)),
    // Last login 75 days ago: inside the 90-day period, a near miss (generated people logged
    // in within 60 days).
    ("quinn.ellis", "Quinn", "Ellis", (Some(75), 500)),
];

/// The planted people's IdP side (people absent everywhere are simply not listed).
fn planted_people() -> Vec<Person> {
    let everywhere = |local: &str, first: &str, last: &str| {
        Person::new(user(local))
            .name(first, last)
            .everywhere_active()
    };
    vec![
        everywhere("olivia.chen", "Olivia", "Chen"),
        Person::new("Marcus.Reed@DEMO.EMULATOR")
            .name("Marcus", "Reed")
            .everywhere_active(),
        // Primary address after a rename; the old one stays as alias and login.
        everywhere("grace.kim", "Grace", "Kim")
            .alias(user("gkim"))
            .login(user("gkim")),
        everywhere("kenji.nakamura", "Kenji", "Nakamura"),
        everywhere("alex.rivera", "Alex", "Rivera")
            .personal_email("alex.rivera@personal-mail.example"),
        Person::new(user("nina.petrova"))
            .name("Nina", "Petrova")
            .okta(OktaStatus::Deprovisioned)
            .entra(EntraStatus::Deleted)
            .google(GoogleStatus::Archived),
        Person::new(user("sam.okafor"))
            .name("Sam", "Okafor")
            .okta(OktaStatus::Suspended)
            .entra(EntraStatus::Disabled)
            .google(GoogleStatus::Suspended)
            .jumpcloud(JumpCloudStatus::Suspended)
            .onelogin(OneLoginStatus::status(2)),
        Person::new(user("lucas.meyer"))
            .name("Lucas", "Meyer")
            .okta(OktaStatus::Deprovisioned)
            .entra(EntraStatus::Deleted)
            .google(GoogleStatus::Deleted)
            .jumpcloud(JumpCloudStatus::Suspended)
            .onelogin(OneLoginStatus {
                status: 1,
                state: 3,
            }),
        Person::new(user("liam.walsh"))
            .name("Liam", "Walsh")
            .okta(OktaStatus::LockedOut)
            .entra(EntraStatus::Enabled)
            .google(GoogleStatus::Active)
            .jumpcloud(JumpCloudStatus::Locked)
            .onelogin(OneLoginStatus::status(3)),
        Person::new(user("mia.santos"))
            .name("Mia", "Santos")
            .okta(OktaStatus::Staged)
            .entra(EntraStatus::Enabled)
            .google(GoogleStatus::Active)
            .jumpcloud(JumpCloudStatus::Staged)
            .onelogin(OneLoginStatus::status(7)),
        everywhere("ethan.brooks", "Ethan", "Brooks"),
        everywhere("harper.lane", "Harper", "Lane"),
        everywhere("owen.hart", "Owen", "Hart"),
        everywhere("paula.grant", "Paula", "Grant"),
        everywhere("quinn.ellis", "Quinn", "Ellis"),
        everywhere("noah.fischer", "Noah", "Fischer"),
        everywhere("ivy.tran", "Ivy", "Tran"),
        everywhere("leo.martin", "Leo", "Martin"),
        everywhere("zoe.adams", "Zoe", "Adams"),
    ]
}

/// (app, planted username, grants): the planted people's OAuth grants.
const PLANTED_GRANTS: [(&str, &str, usize); 10] = [
    ("Data Loader", "victor.stone", 2),
    ("Salesforce for Outlook", "jordan.blake", 1),
    ("Slack", "jordan.blake", 2),
    ("Salesforce Mobile", "alex.rivera", 1),
    ("Data Loader", "nina.petrova", 1),
    ("Salesforce for Outlook", "gkim", 1),
    ("Slack", "sam.okafor", 1),
    ("MuleSoft Anypoint", "svc.datasync", 3),
    ("Salesforce Mobile", "olivia.chen", 1),
    ("Workbench", "marcus.reed", 1),
];

const PEOPLE_APPS: [&str; 7] = [
    "Salesforce for Outlook",
    "Salesforce Mobile",
    "Slack",
    "Gong",
    "DocuSign",
    "Tableau",
    "Workbench",
];

const INTEGRATION_APPS: [&str; 2] = ["MuleSoft Anypoint", "Informatica Cloud"];

/// The connected app `svc.datasync` stopped using 200 days ago (SF-HYG-002).
const IDLE_INTEGRATION_APP: &str = "Informatica Cloud";

/// How the demo's connected apps are configured (SF-HYG-003 reads this):
/// (name, admin-approved users only, refresh token validity period, period counts from the
/// last use). A `None` period is Salesforce's "Refresh token is valid until revoked".
const CONNECTED_APPS: [(&str, bool, Option<i64>, bool); 12] = [
    ("Salesforce for Outlook", true, None, false),
    ("Salesforce Mobile", false, Some(90), false),
    ("Slack", true, None, false),
    ("Gong", true, Some(30), true),
    ("DocuSign", false, Some(30), true),
    ("Tableau", true, Some(365), false),
    ("Data Loader", false, Some(90), true),
    ("MuleSoft Anypoint", true, None, false),
    ("Informatica Cloud", true, None, false),
    // Planted: anyone may authorize it and its refresh tokens live until revoked.
    (OPEN_FOREVER_APP, false, None, false),
    // Near miss: configured the same way, but nobody holds a grant.
    ("Survey Monkey (retired)", false, None, false),
    // Near miss: refresh tokens expire the moment they are issued.
    ("Quick Quote", false, Some(0), false),
];

/// The self-authorized app with never-expiring refresh tokens that people use (SF-HYG-003).
const OPEN_FOREVER_APP: &str = "Workbench";

/// Inserts the connected apps and their App Launcher entries; returns each app's
/// `AppMenuItem` id by name, for `OauthToken.AppMenuItemId`.
fn connected_apps(builder: &mut OrgBuilder) -> Result<HashMap<&'static str, String>, String> {
    let mut menu_items = HashMap::new();
    for (order, (name, admin_only, period, by_inactivity)) in CONNECTED_APPS.iter().enumerate() {
        let mut app = Map::new();
        app.insert("Name".into(), json!(name));
        app.insert(
            "OptionsAllowAdminApprovedUsersOnly".into(),
            json!(admin_only),
        );
        app.insert(
            "OptionsRefreshTokenValidityMetric".into(),
            json!(by_inactivity),
        );
        app.insert("RefreshTokenValidityPeriod".into(), json!(period));
        let app_id = builder.insert("ConnectedApplication", &app, None)?;
        let mut item = Map::new();
        item.insert("Name".into(), json!(name.replace([' ', '(', ')'], "_")));
        item.insert("Label".into(), json!(name));
        item.insert("Type".into(), json!("ConnectedApplication"));
        item.insert("ApplicationId".into(), json!(app_id));
        item.insert("IsUsingAdminAuthorization".into(), json!(admin_only));
        item.insert("IsVisible".into(), json!(true));
        item.insert("IsAccessible".into(), json!(true));
        item.insert("SortOrder".into(), json!(order));
        menu_items.insert(*name, builder.insert("AppMenuItem", &item, None)?);
    }
    Ok(menu_items)
}

/// One generated or planted user, as the identity seed needs it.
struct UserRow {
    id: String,
    username: String,
    email: String,
    first: String,
    last: String,
    active: bool,
    integration: bool,
}

fn read_users(builder: &OrgBuilder, ids: &[String]) -> Result<Vec<UserRow>, String> {
    let schema = &builder.schema;
    let user_object = schema.index_of("User").ok_or("no User object")?;
    let integration_profile = super::id_of(builder, "Profile", "Name", "Integration User");
    let text = |row: u32, field: &str| {
        builder
            .tables
            .value(schema, user_object, row, field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    ids.iter()
        .map(|id| {
            let (row, _) = builder
                .tables
                .table(user_object)
                .get(id)
                .ok_or_else(|| format!("user {id} vanished"))?;
            let active = builder.tables.value(schema, user_object, row, "IsActive")
                == Some(&sfmcp_soql::data::Value::Boolean(true));
            Ok(UserRow {
                id: id.clone(),
                username: text(row, "Username"),
                email: text(row, "Email"),
                first: text(row, "FirstName"),
                last: text(row, "LastName"),
                active,
                integration: integration_profile.as_deref()
                    == Some(text(row, "ProfileId").as_str()),
            })
        })
        .collect()
}

/// How a generated person appears in the IdPs.
fn generated_person(index: usize, user: &UserRow) -> Option<Person> {
    if user.integration {
        return None;
    }
    let mut email = user.email.clone();
    if index % 5 == 3 {
        // Same mailbox, different case: `Ada.Lovelace3@Demo.Emulator`.
        email = title_case_address(&email);
    }
    let mut person = Person::new(email).name(&user.first, &user.last);
    if index % 4 == 1 {
        person = person.personal_email(format!(
            "{}.{}@personal-mail.example",
            user.first.to_ascii_lowercase(),
            user.last.to_ascii_lowercase().replace([' ', '-'], "")
        ));
    }
    // Copies past the first carry gaps at realistic rates (benchmarks).
    let copy_gap = index > super::PEOPLE_PER_COPY;
    if !user.active || (copy_gap && index % 333 == 7) {
        return Some(
            person
                .okta(OktaStatus::Deprovisioned)
                .entra(EntraStatus::Deleted)
                .google(GoogleStatus::Archived),
        );
    }
    if copy_gap && index % 50 == 17 {
        return None;
    }
    if copy_gap && index % 143 == 5 {
        return Some(
            person
                .okta(OktaStatus::Suspended)
                .entra(EntraStatus::Disabled)
                .google(GoogleStatus::Suspended)
                .jumpcloud(JumpCloudStatus::Suspended)
                .onelogin(OneLoginStatus::status(2)),
        );
    }
    Some(person.everywhere_active())
}

fn title_case_address(address: &str) -> String {
    let (local, domain) = address.split_once('@').unwrap_or((address, ""));
    let local: Vec<String> = local
        .split('.')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    let domain: Vec<String> = domain
        .split('.')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
        .collect();
    format!("{}@{}", local.join("."), domain.join("."))
}

fn insert(builder: &mut OrgBuilder, object: &str, pairs: Vec<(&str, Json)>) -> Result<(), String> {
    let mut fields = Map::with_capacity(pairs.len());
    for (k, v) in pairs {
        fields.insert(k.to_string(), v);
    }
    builder.insert(object, &fields, None).map(|_| ())
}

fn at(t: DateTime<Utc>) -> Json {
    Json::String(format_datetime(&t))
}

fn oauth_token(
    builder: &mut OrgBuilder,
    rng: &mut Rng,
    menu_items: &HashMap<&str, String>,
    app: &str,
    user_id: &str,
    now: DateTime<Utc>,
    integration: bool,
) -> Result<(), String> {
    let created = now - Duration::days(20 + rng.below(400) as i64);
    // One person's grant in ten has not been used for three months. Integrations run daily:
    // their idle grants are planted (SF-HYG-002), never random. The draw is made either way so
    // the rest of the seed stays as it was.
    let idle = rng.chance(10) && !integration;
    let idle_days = if idle {
        95 + rng.below(200)
    } else {
        rng.below(20)
    };
    let last_used = (now - Duration::days(idle_days as i64)).max(created);
    // Live credentials in a real org: here opaque, never meaningful, never to be selected.
    let delete_token = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
    insert(
        builder,
        "OauthToken",
        vec![
            ("AppName", json!(app)),
            ("AppMenuItemId", json!(menu_items.get(app))),
            ("UserId", json!(user_id)),
            ("CreatedDate", at(created)),
            ("LastUsedDate", at(last_used)),
            ("UseCount", json!(1 + rng.below(900))),
            ("DeleteToken", json!(delete_token)),
            ("RequestToken", json!(format!("{:016x}", rng.next_u64()))),
        ],
    )
}

/// `SetupAuditTrail` actions that are not exports, with their section and display text.
const AUDIT_NOISE: [(&str, &str, &str); 10] = [
    (
        "PermSetAssign",
        "Manage Users",
        "Permission set Data Export: assigned to user",
    ),
    ("createduser", "Manage Users", "Created new user"),
    ("changedemail", "Manage Users", "Changed email for user"),
    (
        "queueMembership",
        "Data Management",
        "Changed membership for Queue Support Tier 1",
    ),
    (
        "loginIpRange",
        "Manage Users",
        "Added Login Ip Range to Sales User from 10.0.0.0 to 10.255.255.255",
    ),
    (
        "changedprofileforuser",
        "Manage Users",
        "Changed profile for user from Standard User to Sales User",
    ),
    (
        "customfieldcreate",
        "Customize Opportunities",
        "Created custom field Region (Picklist)",
    ),
    (
        "updateSessionSecurityLevel",
        "Session Settings",
        "Changed session security level",
    ),
    ("frozeuser", "Manage Users", "Froze user account"),
    ("deactivateduser", "Manage Users", "Deactivated user"),
];

/// Planted people with a Federation ID: single sign-on is how they are meant to log in.
const SSO_PEOPLE: [&str; 2] = ["kenji.nakamura", "olivia.chen"];

/// (person, days ago, status): UI password logins of people set up for SSO (SF-HYG-004).
const SSO_BYPASS_LOGINS: [(&str, i64, &str); 4] = [
    ("olivia.chen", 4, "Success"),
    ("olivia.chen", 9, "Success"),
    ("olivia.chen", 45, "Success"),
    ("kenji.nakamura", 6, "Invalid Password"),
];

/// (days ago, actor username, delegate username): the planted Data Export requests.
const EXPORTS: [(i64, &str, Option<&str>); 6] = [
    (3, "ethan.brooks", None),
    (10, "admin", None),
    (17, "harper.lane", Some("admin")),
    (45, "admin", None),
    (60, "ethan.brooks", None),
    (80, "it.admin1", None),
];

/// Adds the identity-audit data: OAuth grants, audit trail, login history and the IdP
/// directories' people. `users` are the generated users' ids (the default admin first); the
/// planted users come from the seed (see [`planted_users`]).
pub(super) fn seed(
    builder: &mut OrgBuilder,
    rng: &mut Rng,
    scale: usize,
    users: &[String],
) -> Result<(), String> {
    let now = builder.now;
    let generated = read_users(builder, users)?;
    let planted: Vec<String> = planted_users().iter().map(|u| u.username.clone()).collect();
    let id_of = |builder: &OrgBuilder, username: &str| {
        builder
            .refs
            .get(username)
            .cloned()
            .ok_or_else(|| format!("planted user {username} missing"))
    };
    let planted_ids: Vec<String> = planted
        .iter()
        .map(|u| id_of(builder, u))
        .collect::<Result<_, _>>()?;

    // IdP directories: the planted people, then every generated person, then people who
    // have no Salesforce account at all.
    let mut people = planted_people();
    for (index, user) in generated.iter().enumerate() {
        people.extend(generated_person(index, user));
    }
    for n in 0..10 * scale {
        people.push(
            Person::new(format!("staff{}@{DOMAIN}", n + 1))
                .name("Staff", format!("Member {}", n + 1))
                .everywhere_active(),
        );
    }
    builder.idp_people.extend(people);

    // OAuth grants: 0-3 per person, more for integrations, plus the planted ones.
    let menu_items = connected_apps(builder)?;
    for user in &generated {
        let apps: &[&str] = if user.integration {
            &INTEGRATION_APPS
        } else {
            &PEOPLE_APPS
        };
        let count = if user.integration { 2 } else { rng.below(4) };
        let mut chosen = HashSet::new();
        for _ in 0..count {
            let app = *rng.pick(apps);
            if chosen.insert(app) {
                oauth_token(
                    builder,
                    rng,
                    &menu_items,
                    app,
                    &user.id,
                    now,
                    user.integration,
                )?;
            }
        }
    }
    for (app, local, grants) in PLANTED_GRANTS {
        let id = id_of(builder, &user(local))?;
        for _ in 0..grants {
            oauth_token(
                builder,
                rng,
                &menu_items,
                app,
                &id,
                now,
                local.starts_with("svc."),
            )?;
        }
    }
    // An integration retired 200 days ago whose grant was never revoked (SF-HYG-002). Fixed
    // dates, no draws: the seed's other random data stays as it was.
    let svc = id_of(builder, &user("svc.datasync"))?;
    insert(
        builder,
        "OauthToken",
        vec![
            ("AppName", json!(IDLE_INTEGRATION_APP)),
            ("AppMenuItemId", json!(menu_items.get(IDLE_INTEGRATION_APP))),
            ("UserId", json!(svc)),
            ("CreatedDate", at(now - Duration::days(400))),
            ("LastUsedDate", at(now - Duration::days(200))),
            ("UseCount", json!(4210)),
            ("DeleteToken", json!("0f1e2d3c4b5a69788796a5b4c3d2e1f0")),
            ("RequestToken", json!("1f2e3d4c5b6a7988")),
        ],
    )?;

    // 90 days of audit trail: two setup changes a day per copy, by the admins, plus exports.
    let admins: Vec<String> = generated
        .iter()
        .filter(|u| u.username == user("admin") || u.username.starts_with("it.admin"))
        .map(|u| u.id.clone())
        .collect();
    for day in 0..90i64 {
        for _ in 0..2 * scale {
            let (action, section, display) = *rng.pick(&AUDIT_NOISE);
            let when = now - Duration::days(day) - Duration::minutes(rng.below(24 * 60) as i64);
            insert(
                builder,
                "SetupAuditTrail",
                vec![
                    ("Action", json!(action)),
                    ("Section", json!(section)),
                    ("Display", json!(display)),
                    ("CreatedDate", at(when)),
                    ("CreatedById", json!(rng.pick(&admins))),
                ],
            )?;
        }
    }
    for (days, actor, delegate) in EXPORTS {
        let actor_id = id_of(builder, &user(actor))?;
        let mut pairs = vec![
            ("Action", json!("export")),
            ("Section", json!("Data Export")),
            ("Display", json!("Requested an export")),
            (
                "CreatedDate",
                at(now - Duration::days(days) - Duration::hours(2)),
            ),
            ("CreatedById", json!(actor_id)),
        ];
        if let Some(delegate) = delegate {
            pairs.push(("DelegateUser", json!(user(delegate))));
        }
        insert(builder, "SetupAuditTrail", pairs)?;
    }

    // Login history: a few logins per active user over the last 30 days.
    // The dormant people's logins are their LastLoginDate alone (LoginHistory keeps six
    // months; none of theirs is recent).
    let dormant: HashSet<String> = DORMANT_PEOPLE
        .iter()
        .map(|(local, ..)| user(local))
        .collect();
    // People set up for SSO log in through it; their planted password logins follow.
    let sso: HashSet<String> = SSO_PEOPLE
        .iter()
        .map(|local| id_of(builder, &user(local)))
        .collect::<Result<_, _>>()?;
    let logins: Vec<(&String, bool)> = generated
        .iter()
        .filter(|u| u.active)
        .map(|u| (&u.id, u.integration))
        .chain(
            planted
                .iter()
                .zip(&planted_ids)
                .filter(|(name, _)| !dormant.contains(*name))
                .map(|(_, id)| (id, false)),
        )
        .collect();
    for (id, integration) in logins {
        for _ in 0..1 + rng.below(3) {
            let when = now - Duration::minutes(rng.below(30 * 24 * 60) as i64);
            let (login_type, application, browser) = if integration {
                (
                    "Remote Access 2.0",
                    "MuleSoft Anypoint",
                    "Java (Salesforce.com)",
                )
            } else {
                *rng.pick(&[
                    ("Application", "Browser", "Chrome 131"),
                    ("SAML Sfdc Initiated SSO", "Browser", "Firefox 133"),
                    ("Remote Access 2.0", "Salesforce for Outlook", "Unknown"),
                ])
            };
            // The draw is kept so the rest of the seed stays as it was.
            let login_type = if sso.contains(id) && login_type == "Application" {
                "SAML Sfdc Initiated SSO"
            } else {
                login_type
            };
            let failed = rng.chance(5);
            insert(
                builder,
                "LoginHistory",
                vec![
                    ("UserId", json!(id)),
                    ("LoginTime", at(when)),
                    ("LoginType", json!(login_type)),
                    (
                        "SourceIp",
                        json!(format!(
                            "10.{}.{}.{}",
                            rng.below(256),
                            rng.below(256),
                            1 + rng.below(254)
                        )),
                    ),
                    ("LoginUrl", json!("login.salesforce.com")),
                    ("Browser", json!(browser)),
                    (
                        "Platform",
                        json!(if integration { "Unknown" } else { "Mac OSX" }),
                    ),
                    (
                        "Status",
                        json!(if failed {
                            "Invalid Password"
                        } else {
                            "Success"
                        }),
                    ),
                    ("Application", json!(application)),
                    ("ApiType", json!(if integration { "REST" } else { "N/A" })),
                    ("CountryIso", json!("US")),
                ],
            )?;
        }
    }
    // SF-HYG-004: olivia bypasses SSO with her password (twice in the window, once before
    // it); kenji's one password attempt failed.
    for (local, days, status) in SSO_BYPASS_LOGINS {
        insert(
            builder,
            "LoginHistory",
            vec![
                ("UserId", json!(id_of(builder, &user(local))?)),
                ("LoginTime", at(now - Duration::days(days))),
                ("LoginType", json!("Application")),
                ("SourceIp", json!("198.51.100.23")),
                ("LoginUrl", json!("demo.my.salesforce.com")),
                ("Browser", json!("Chrome 131")),
                ("Platform", json!("Windows 10")),
                ("Status", json!(status)),
                ("Application", json!("Browser")),
                ("ApiType", json!("N/A")),
                ("CountryIso", json!("US")),
            ],
        )?;
    }
    seed_mfa(builder, &generated)?;
    seed_profile_access(builder)?;
    seed_app_access(builder)
}

/// SF-HYG-005: the MFA cases' logins and everyone's registered verification methods. The
/// org requires MFA for direct logins, so every generated person registered Salesforce
/// Authenticator.
fn seed_mfa(builder: &mut OrgBuilder, generated: &[UserRow]) -> Result<(), String> {
    let now = builder.now;
    let id_of = |builder: &OrgBuilder, local: &str| {
        builder
            .refs
            .get(&user(local))
            .cloned()
            .ok_or_else(|| format!("planted user {local} missing"))
    };
    for (local, days, login_type) in MFA_LOGINS {
        insert(
            builder,
            "LoginHistory",
            vec![
                ("UserId", json!(id_of(builder, local)?)),
                ("LoginTime", at(now - Duration::days(days))),
                ("LoginType", json!(login_type)),
                ("SourceIp", json!("198.51.100.61")),
                ("LoginUrl", json!("demo.my.salesforce.com")),
                ("Browser", json!("Firefox 133")),
                ("Platform", json!("Windows 10")),
                ("Status", json!("Success")),
                ("Application", json!("Browser")),
                ("ApiType", json!("N/A")),
                ("CountryIso", json!("US")),
            ],
        )?;
    }
    for (n, person) in generated
        .iter()
        .filter(|u| u.active && !u.integration)
        .enumerate()
    {
        insert(
            builder,
            "TwoFactorMethodsInfo",
            vec![
                ("UserId", json!(person.id)),
                ("ExternalId", json!(format!("{}", 7_100_000 + n))),
                ("HasSalesforceAuthenticator", json!(true)),
            ],
        )?;
    }
    for (n, (local, methods)) in MFA_METHODS.iter().enumerate() {
        let mut pairs = vec![
            ("UserId", json!(id_of(builder, local)?)),
            ("ExternalId", json!(format!("{}", 7_200_000 + n))),
        ];
        pairs.extend(methods.iter().map(|m| (*m, json!(true))));
        insert(builder, "TwoFactorMethodsInfo", pairs)?;
    }
    Ok(())
}

/// SF-HYG-006: the guest profiles' object permissions, on their owned permission sets.
fn seed_profile_access(builder: &mut OrgBuilder) -> Result<(), String> {
    for (profile, object, create, read) in GUEST_OBJECT_ACCESS {
        let set = owned_set(builder, profile)?;
        insert(
            builder,
            "ObjectPermissions",
            vec![
                ("ParentId", json!(set)),
                ("SobjectType", json!(object)),
                ("PermissionsCreate", json!(create)),
                ("PermissionsRead", json!(read)),
                ("PermissionsEdit", json!(false)),
                ("PermissionsDelete", json!(false)),
                ("PermissionsViewAllRecords", json!(false)),
                ("PermissionsModifyAllRecords", json!(false)),
            ],
        )?;
    }
    Ok(())
}

/// SF-HYG-007: which profiles and permission sets each connected app is given to.
fn seed_app_access(builder: &mut OrgBuilder) -> Result<(), String> {
    for (app, holder) in APP_ACCESS {
        let app_id = super::id_of(builder, "ConnectedApplication", "Name", app)
            .ok_or_else(|| format!("connected app {app} missing"))?;
        let parent = match super::id_of(builder, "PermissionSet", "Name", holder) {
            Some(set) => set,
            None => owned_set(builder, holder)?,
        };
        insert(
            builder,
            "SetupEntityAccess",
            vec![
                ("ParentId", json!(parent)),
                ("SetupEntityId", json!(app_id)),
                ("SetupEntityType", json!("ConnectedApplication")),
            ],
        )?;
    }
    Ok(())
}

/// A profile's owned permission set.
fn owned_set(builder: &OrgBuilder, profile: &str) -> Result<String, String> {
    super::id_of(builder, "Profile", "Name", profile)
        .and_then(|id| builder.profile_sets.get(&id).cloned())
        .ok_or_else(|| format!("profile {profile} or its permission set missing"))
}
