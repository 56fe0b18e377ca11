//! The live Salesforce collector against a seeded emulator org with more OAuth tokens than
//! `OauthToken` returns in one query (2,500): the collector partitions by user and reads every
//! token exactly once, and reports each stage's progress.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sfmcp_audit::collect::salesforce::{CollectOptions, STAGES, collect};
use sfmcp_emulator::OrgCredentials;
use sfmcp_salesforce::client::ClientContext;
use sfmcp_salesforce::{
    ClientOptions, Connection, DirectCredential, OAuthClient, SalesforceClient, Secret,
};

const USERS: usize = 30;
const TOKENS_PER_USER: usize = 100;

fn seed() -> Value {
    let mut users = vec![json!({"username": "ada@acme.test", "last_name": "Lovelace",
        "email": "ada@acme.test", "profile": "System Administrator", "default": true,
        "active": true})];
    let mut tokens = Vec::new();
    for i in 0..USERS {
        let username = format!("u{i}@acme.test");
        users.push(
            json!({"username": username, "last_name": format!("User {i}"),
            "email": username, "profile": "Standard User", "active": true}),
        );
        for t in 0..TOKENS_PER_USER {
            tokens.push(json!({"AppName": format!("App {}", t % 4),
                "UserId": format!("@{username}"), "UseCount": 1}));
        }
    }
    json!({"users": users, "records": {"OauthToken": tokens}})
}

fn client(org: &OrgCredentials) -> SalesforceClient {
    let connection = Connection::direct(
        Some(url::Url::parse(&org.instance_url).unwrap()),
        DirectCredential::RefreshToken {
            login_url: url::Url::parse(&org.login_url).unwrap(),
            client: OAuthClient {
                client_id: org.client_id.clone(),
                client_secret: Some(Secret::new(org.client_secret.clone())),
            },
            refresh_token: Secret::new(org.refresh_token.clone()),
            access_token: Some(Secret::new(org.access_token.clone())),
        },
    );
    let context = ClientContext::new(ClientOptions::default()).unwrap();
    SalesforceClient::new(context, connection).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_tokens_over_the_cap_are_read_in_partitions_without_loss() {
    let emulator = common::seeded_emulator(seed()).await;
    let org = emulator.orgs.first().unwrap().clone();
    let stages = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&stages);
    let progress = move |p: sfmcp_audit::collect::salesforce::Progress| {
        seen.lock().unwrap().push(p.stage);
    };
    let options = CollectOptions::new(chrono::Utc::now() - chrono::Duration::days(30));
    let (snapshot, stats) = collect(&client(&org), &options, &progress)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(snapshot.users.len(), USERS + 1);
    let grants = snapshot.oauth_grants.expect("OauthToken was readable");
    assert_eq!(grants.len(), USERS * TOKENS_PER_USER);
    // Every user's tokens, once each.
    for user in snapshot
        .users
        .iter()
        .filter(|u| u.username != "ada@acme.test")
    {
        let theirs = grants.iter().filter(|g| g.user_id == user.id).count();
        assert_eq!(theirs, TOKENS_PER_USER, "{}", user.username);
    }
    assert!(
        stats.notes.iter().all(|n| !n.contains("OAuth tokens")),
        "{:?}",
        stats.notes
    );
    // The admin's profile grant is seen through the one PermissionSetAssignment query.
    assert!(
        snapshot
            .permission_grants
            .iter()
            .any(|g| g.modify_all_data && g.source_name == "System Administrator")
    );
    // First pages of REST queries, counted by hand: users, admin grants, frozen users, the
    // OauthToken count, the audit trail, EventLogFile and LoginIpRange (7; the org id comes
    // from the identity URL that introspecting the access token gives), plus
    // the OauthToken partitions: 3,000 tokens over 30 users is 100 each, so 20 users per
    // partition (2,000 rows, under the cap) and two partitions.
    let first_pages = common::requests(&emulator)
        .await
        .iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            path.ends_with("/query") && !path.contains("/tooling/")
        })
        .count();
    assert_eq!(first_pages, 7 + 2);
    let mut stages = stages.lock().unwrap().clone();
    stages.dedup();
    assert_eq!(stages, (0..STAGES.len()).collect::<Vec<_>>());
    emulator.shutdown().await;
}

/// An admin deactivated after exporting data is still the org's user: the export is judged on
/// their grants (an admin's export: SF-EXP-001 only), never as "a non-admin not among the
/// org's users". A non-admin's export in the same window still raises SF-EXP-002.
#[tokio::test(flavor = "multi_thread")]
async fn a_deactivated_admins_export_is_judged_as_the_admins() {
    let when = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:%S.000+0000")
        .to_string();
    let export = |by: &str| {
        json!({"Action": "export", "Section": "Data Export", "Display": "Requested an export",
            "CreatedById": format!("@{by}"), "CreatedDate": when})
    };
    let seed = json!({
        "users": [
            {"username": "ada@acme.test", "last_name": "Lovelace", "email": "ada@acme.test",
             "profile": "System Administrator", "default": true, "active": true},
            {"username": "old.admin@acme.test", "last_name": "Gone", "email": "old.admin@acme.test",
             "profile": "System Administrator", "active": false},
            {"username": "bob@acme.test", "last_name": "Builder", "email": "bob@acme.test",
             "profile": "Standard User", "active": true},
        ],
        "records": {"SetupAuditTrail": [export("old.admin@acme.test"), export("bob@acme.test")]},
    });
    let emulator = common::seeded_emulator(seed).await;
    let org = emulator.orgs.first().unwrap().clone();
    let options = CollectOptions::new(chrono::Utc::now() - chrono::Duration::days(30));
    let (snapshot, _) = collect(&client(&org), &options, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let directory = sfmcp_audit::IdpDirectory {
        kind: sfmcp_audit::IdpKind::File,
        source: "test".into(),
        users: ["ada@acme.test", "old.admin@acme.test", "bob@acme.test"]
            .into_iter()
            .map(|e| sfmcp_audit::IdpUser::new(e, sfmcp_audit::IdpStatus::Active))
            .collect(),
    };
    let report = sfmcp_audit::evaluate(
        &snapshot,
        &directory,
        &sfmcp_audit::AuditConfig::new(chrono::Utc::now()),
    );
    let exports: Vec<(&str, &str)> = report
        .findings
        .iter()
        .filter(|f| f.rule_id.as_str().starts_with("SF-EXP"))
        .map(|f| (f.rule_id.as_str(), f.title.as_str()))
        .collect();
    assert!(
        exports
            .iter()
            .all(|(_, title)| !title.contains("not among")
                && !title.contains("old.admin@acme.test: ")),
        "{exports:?}"
    );
    let by_old: Vec<&str> = exports
        .iter()
        .filter(|(_, t)| t.contains("old.admin@acme.test"))
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(by_old, vec!["SF-EXP-001"], "{exports:?}");
    let by_bob: Vec<&str> = exports
        .iter()
        .filter(|(_, t)| t.contains("bob@acme.test"))
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(by_bob.len(), 2, "{exports:?}");
    // The deactivated admin is not judged by the identity rules: only active users are.
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id.as_str().starts_with("SF-EXP")
                || f.subject.username.as_deref() != Some("old.admin@acme.test")),
        "{:?}",
        report.findings
    );
    emulator.shutdown().await;
}

/// The extended rules' inputs, read from the demo org only when asked for: who holds the MFA
/// permissions, the password users' registered methods, guest and API-only profiles with
/// their object access and users, and who each connected app is given to.
#[tokio::test(flavor = "multi_thread")]
async fn extended_inputs_are_read_only_when_their_rules_run() {
    let emulator = crate::emulator_common::start_demo().await;
    let org = emulator.orgs.first().unwrap().clone();
    let window = chrono::Utc::now() - chrono::Duration::days(30);
    let (plain, plain_stats) = collect(&client(&org), &CollectOptions::new(window), &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(plain.mfa_grants.is_none() && plain.mfa_methods.is_none());
    assert!(plain.exposed_profiles.is_none() && plain.app_access.is_none());
    assert!(plain.password_logins.is_none() && plain.connected_apps.is_none());

    let mut options = CollectOptions::new(window);
    options.mfa = true;
    options.exposed_profiles = true;
    options.app_access = true;
    let (snapshot, stats) = collect(&client(&org), &options, &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // MFA: the org-wide flag, the LoginHistory SF-HYG-005 needs, the grants and the methods.
    assert_eq!(
        snapshot
            .session_settings
            .as_ref()
            .and_then(|s| s.mfa_for_direct_ui_logins),
        Some(true)
    );
    assert!(snapshot.password_logins.is_some());
    let id_of = |username: &str| {
        snapshot
            .users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.id.clone())
            .unwrap_or_else(|| panic!("{username} not collected"))
    };
    let grants = snapshot.mfa_grants.as_deref().unwrap();
    let noah = id_of("noah.fischer@demo.emulator");
    assert!(grants.iter().any(|g| g.assignee_id == noah
        && g.waive_mfa
        && g.source_name == "MFA Waiver"
        && g.path == sfmcp_audit::model::GrantPath::PermissionSet));
    let zoe = id_of("zoe.adams@demo.emulator");
    assert!(grants.iter().any(|g| g.assignee_id == zoe && g.force_mfa));
    let methods = snapshot.mfa_methods.as_deref().unwrap();
    let noah_methods = methods.iter().find(|m| m.user_id == noah).unwrap();
    assert_eq!(noah_methods.methods, ["HasUserVerifiedMobileNumber"]);
    // Only users who logged in with a password are asked about: leo uses SSO alone.
    let leo = id_of("leo.martin@demo.emulator");
    assert!(methods.iter().all(|m| m.user_id != leo));

    // Profiles: the guest ones with their object permissions, the API-only ones, each with
    // its active users.
    let profiles = snapshot.exposed_profiles.as_deref().unwrap();
    let named = |name: &str| {
        profiles
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} not collected: {profiles:#?}"))
    };
    let partner = named("Partner Site Profile");
    assert!(partner.is_guest() && partner.api_enabled);
    assert_eq!(partner.active_users, ["partners_site_guest@demo.emulator"]);
    let mut objects: Vec<(&str, bool, bool)> = partner
        .object_permissions
        .iter()
        .map(|o| (o.object.as_str(), o.create, o.read))
        .collect();
    objects.sort();
    assert_eq!(objects, [("Case", true, true), ("Contact", false, true)]);
    assert!(named("Provisioning Integration").manage_users);
    assert!(named("Legacy ETL").active_users.is_empty());
    assert!(!named("Integration User").active_users.is_empty());
    assert!(profiles.iter().all(|p| p.is_guest() || p.is_api_only()));

    // Connected app access: Slack through two profiles; Tableau through a permission set
    // held by its one assignee.
    let apps = snapshot.connected_apps.as_deref().unwrap();
    let app_id = |name: &str| apps.iter().find(|a| a.name == name).unwrap().id.clone();
    let access = snapshot.app_access.as_deref().unwrap();
    let mut slack: Vec<&str> = access
        .iter()
        .filter(|a| a.app_id == app_id("Slack"))
        .map(|a| a.source_name.as_str())
        .collect();
    slack.sort();
    assert_eq!(slack, ["Sales User", "Support User"]);
    let tableau: Vec<_> = access
        .iter()
        .filter(|a| a.app_id == app_id("Tableau"))
        .collect();
    assert_eq!(tableau.len(), 1);
    assert_eq!(tableau[0].profile_id, None);
    assert_eq!(
        tableau[0].assignee_ids,
        [id_of("marcus.reed@demo.emulator")]
    );
    assert!(
        stats.api_calls > plain_stats.api_calls,
        "{} vs {}",
        stats.api_calls,
        plain_stats.api_calls
    );
    emulator.shutdown().await;
}
