//! Each IdP collector against the emulated directory on 127.0.0.1: every page followed (small
//! page sizes, exact call counts), every vendor status normalised, aliases and proxyAddresses
//! carried, Okta's deprovisioned users found through the search, deleted JumpCloud / OneLogin
//! users absent, bad credentials reported with the setting to fix, 429 retried.

// Setup helpers outside #[test] fns: a failure there is a broken test environment.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sfmcp_audit::collect::{CollectError, CollectOptions, collect_with};
use sfmcp_audit::{IdpDirectory, IdpKind, IdpStatus};
use sfmcp_emulator::idp::{
    EntraStatus, GoogleStatus, IdpServer, JumpCloudStatus, OktaStatus, OneLoginStatus, Person,
    Vendor, router,
};

use crate::common::capture;

struct Directory {
    server: Arc<IdpServer>,
    base: String,
    env: HashMap<String, String>,
    _key_dir: tempfile::TempDir,
}

impl Directory {
    async fn start(people: Vec<Person>) -> Directory {
        let server = IdpServer::new(people);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app: axum::Router = router(Arc::clone(&server));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let announcement = server.announcement(&base);
        let mut env = HashMap::new();
        for vendor in Vendor::ALL {
            if let Some(vars) = announcement[vendor.as_str()]["env"].as_object() {
                for (k, v) in vars {
                    env.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        let key_dir = tempfile::tempdir().expect("tempdir");
        let key_path = key_dir.path().join("sa.json");
        std::fs::write(&key_path, server.google_key_file(&base).to_string()).expect("key file");
        env.insert(
            "GOOGLE_SERVICE_ACCOUNT_KEY_FILE".into(),
            key_path.display().to_string(),
        );
        Directory {
            server,
            base,
            env,
            _key_dir: key_dir,
        }
    }

    async fn collect(
        &self,
        kind: IdpKind,
        page_size: u32,
        overrides: &[(&str, &str)],
    ) -> Result<IdpDirectory, CollectError> {
        let mut env = self.env.clone();
        for (k, v) in overrides {
            if v.is_empty() {
                env.remove(*k);
            } else {
                env.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        let options = CollectOptions {
            page_size: Some(page_size),
            max_retries: 3,
            max_retry_wait: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
        };
        collect_with(kind, &|name| env.get(name).cloned(), &options).await
    }
}

fn statuses(directory: &IdpDirectory) -> HashMap<String, IdpStatus> {
    directory
        .users
        .iter()
        .map(|u| (u.email.clone(), u.status))
        .collect()
}

fn expect(pairs: &[(&str, IdpStatus)]) -> HashMap<String, IdpStatus> {
    pairs.iter().map(|(e, s)| ((*e).to_owned(), *s)).collect()
}

fn okta_people() -> Vec<Person> {
    use OktaStatus::*;
    [
        ("active@acme.test", Active),
        ("recovery@acme.test", Recovery),
        ("expired@acme.test", PasswordExpired),
        ("locked@acme.test", LockedOut),
        ("staged@acme.test", Staged),
        ("provisioned@acme.test", Provisioned),
        ("suspended@acme.test", Suspended),
        ("gone1@acme.test", Deprovisioned),
        ("gone2@acme.test", Deprovisioned),
        ("gone3@acme.test", Deprovisioned),
    ]
    .into_iter()
    .map(|(email, status)| Person::new(email).okta(status))
    .chain([Person::new("not-in-okta@acme.test").google(GoogleStatus::Active)])
    .collect()
}

#[tokio::test]
async fn okta_statuses_pages_and_deprovisioned_search_with_a_429_retried() {
    let dir = Directory::start(okta_people()).await;
    dir.server.throttle(Vendor::Okta, 1, 1);
    let collected = dir.collect(IdpKind::Okta, 2, &[]).await.expect("okta");
    use IdpStatus::*;
    assert_eq!(
        statuses(&collected),
        expect(&[
            ("active@acme.test", Active),
            ("recovery@acme.test", Active),
            ("expired@acme.test", Active),
            ("locked@acme.test", Locked),
            ("staged@acme.test", Pending),
            ("provisioned@acme.test", Pending),
            ("suspended@acme.test", Suspended),
            ("gone1@acme.test", Deprovisioned),
            ("gone2@acme.test", Deprovisioned),
            ("gone3@acme.test", Deprovisioned),
        ])
    );
    assert_eq!(collected.users.len(), 10, "no duplicates");
    // 7 listed users in pages of 2 = 4 calls, 3 deprovisioned = 2 calls, plus the 429.
    assert_eq!(dir.server.requests(Vendor::Okta), 4 + 2 + 1);
    let locked = collected
        .users
        .iter()
        .find(|u| u.email == "locked@acme.test")
        .expect("locked user");
    assert_eq!(locked.vendor_status.as_deref(), Some("LOCKED_OUT"));
    assert!(locked.id.as_deref().is_some_and(|id| id.starts_with("00u")));
    assert_eq!(locked.login.as_deref(), Some("locked@acme.test"));
}

#[tokio::test]
async fn okta_plain_list_omits_deprovisioned_users_on_the_wire() {
    let dir = Directory::start(okta_people()).await;
    let token = dir.env["OKTA_API_TOKEN"].clone();
    let client = reqwest::Client::new();
    let plain: Value = client
        .get(format!("{}/api/v1/users", dir.base))
        .header("Authorization", format!("SSWS {token}"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let listed: Vec<&str> = plain
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|u| u["status"].as_str())
        .collect();
    assert_eq!(listed.len(), 7);
    assert!(!listed.contains(&"DEPROVISIONED"));
    let unauthorised = client
        .get(format!("{}/api/v1/users", dir.base))
        .header("Authorization", "SSWS wrong")
        .send()
        .await
        .expect("send");
    assert_eq!(unauthorised.status(), 401);
    let body: Value = unauthorised.json().await.expect("json");
    assert_eq!(body["errorCode"], "E0000011");
}

#[tokio::test]
async fn entra_statuses_proxy_addresses_and_deleted_items() {
    let people = vec![
        Person::new("ann@acme.test")
            .alias("ann.smith@acme.test")
            .alias("ann@acme-old.test")
            .personal_email("ann.home@gmail.test")
            .entra(EntraStatus::Enabled),
        Person::new("ben@acme.test").entra(EntraStatus::Disabled),
        Person::new("cat@acme.test").entra(EntraStatus::Deleted),
        Person::new("dan@acme.test").entra(EntraStatus::Enabled),
        Person::new("eve@acme.test").entra(EntraStatus::Enabled),
        Person::new("fay@acme.test").okta(OktaStatus::Active),
    ];
    let dir = Directory::start(people).await;
    dir.server.throttle(Vendor::Entra, 1, 1);
    let collected = dir.collect(IdpKind::Entra, 2, &[]).await.expect("entra");
    use IdpStatus::*;
    assert_eq!(
        statuses(&collected),
        expect(&[
            ("ann@acme.test", Active),
            ("ben@acme.test", Suspended),
            ("cat@acme.test", Deprovisioned),
            ("dan@acme.test", Active),
            ("eve@acme.test", Active),
        ])
    );
    // 4 users in pages of 2, 1 deleted user, plus the 429.
    assert_eq!(dir.server.requests(Vendor::Entra), 2 + 1 + 1);
    let ann = collected
        .users
        .iter()
        .find(|u| u.email == "ann@acme.test")
        .expect("ann");
    assert_eq!(
        ann.proxy_addresses,
        vec![
            "SMTP:ann@acme.test",
            "smtp:ann.smith@acme.test",
            "smtp:ann@acme-old.test"
        ]
    );
    assert!(
        ann.aliases.is_empty(),
        "a member's otherMails (personal) must not be indexed: {:?}",
        ann.aliases
    );
    assert_eq!(ann.login.as_deref(), Some("ann@acme.test"));
}

/// Graph as tenants have it: a UPN that is not the mail address (renamed user, or the
/// `onmicrosoft` suffix), and accounts without a mailbox (`mail: null`, no proxyAddresses),
/// whose UPN is their only address.
#[tokio::test]
async fn entra_upn_apart_from_mail_and_users_without_a_mailbox() {
    let people = vec![
        Person::new("gus@acme.test")
            .login("g.old@acme.onmicrosoft.test")
            .entra(EntraStatus::Enabled),
        Person::new("svc-sync@acme.onmicrosoft.test")
            .without_mailbox()
            .entra(EntraStatus::Enabled),
    ];
    let dir = Directory::start(people).await;
    let collected = dir.collect(IdpKind::Entra, 10, &[]).await.expect("entra");
    let by_email = |email: &str| {
        collected
            .users
            .iter()
            .find(|u| u.email == email)
            .unwrap_or_else(|| panic!("{email}: {:?}", collected.users))
    };
    let gus = by_email("gus@acme.test");
    assert_eq!(gus.login.as_deref(), Some("g.old@acme.onmicrosoft.test"));
    assert_eq!(gus.proxy_addresses, vec!["SMTP:gus@acme.test"]);
    let svc = by_email("svc-sync@acme.onmicrosoft.test");
    assert_eq!(svc.login.as_deref(), Some("svc-sync@acme.onmicrosoft.test"));
    assert!(svc.proxy_addresses.is_empty(), "{:?}", svc.proxy_addresses);
    assert_eq!(svc.status, IdpStatus::Active);

    // On the wire: `mail` is null, as Graph sends it for an account without a mailbox.
    let token: Value = reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            dir.base, dir.env["AZURE_TENANT_ID"]
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", dir.env["AZURE_CLIENT_ID"].as_str()),
            ("client_secret", dir.env["AZURE_CLIENT_SECRET"].as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let users: Value = reqwest::Client::new()
        .get(format!(
            "{}/v1.0/users?$select=mail,userPrincipalName,proxyAddresses",
            dir.base
        ))
        .bearer_auth(token["access_token"].as_str().expect("access token"))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("users json");
    let svc = users["value"]
        .as_array()
        .expect("value")
        .iter()
        .find(|u| u["userPrincipalName"] == "svc-sync@acme.onmicrosoft.test")
        .expect("svc on the wire");
    assert!(svc["mail"].is_null(), "{svc}");
    assert_eq!(svc["proxyAddresses"], json!([]));
}

#[tokio::test]
async fn graph_default_properties_lack_account_enabled() {
    let dir = Directory::start(vec![Person::new("a@acme.test").entra(EntraStatus::Enabled)]).await;
    let c = dir.server.credentials().clone();
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            dir.base, c.azure_tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.azure_client_id.as_str()),
            ("client_secret", c.azure_client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let access = token["access_token"].as_str().expect("token");
    let users: Value = client
        .get(format!("{}/v1.0/users", dir.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let user = &users["value"][0];
    assert_eq!(user["mail"], "a@acme.test");
    assert!(user.get("accountEnabled").is_none());
    assert!(user.get("proxyAddresses").is_none());
}

#[tokio::test]
async fn google_statuses_aliases_and_deleted_users() {
    let people = vec![
        Person::new("gia@acme.test")
            .alias("gia.r@acme.test")
            .google(GoogleStatus::Active),
        Person::new("hal@acme.test").google(GoogleStatus::Suspended),
        Person::new("ivy@acme.test").google(GoogleStatus::Archived),
        Person::new("jon@acme.test").google(GoogleStatus::Deleted),
        Person::new("kim@acme.test").google(GoogleStatus::Active),
        Person::new("lee@acme.test").entra(EntraStatus::Enabled),
    ];
    let dir = Directory::start(people).await;
    dir.server.throttle(Vendor::Google, 1, 1);
    let collected = dir.collect(IdpKind::Google, 2, &[]).await.expect("google");
    use IdpStatus::*;
    assert_eq!(
        statuses(&collected),
        expect(&[
            ("gia@acme.test", Active),
            ("hal@acme.test", Suspended),
            ("ivy@acme.test", Deprovisioned),
            ("jon@acme.test", Deprovisioned),
            ("kim@acme.test", Active),
        ])
    );
    // 4 current users in pages of 2, 1 deleted user, plus the 429.
    assert_eq!(dir.server.requests(Vendor::Google), 2 + 1 + 1);
    let gia = collected
        .users
        .iter()
        .find(|u| u.email == "gia@acme.test")
        .expect("gia");
    assert_eq!(gia.aliases, vec!["gia.r@acme.test"]);
    let jon = collected
        .users
        .iter()
        .find(|u| u.email == "jon@acme.test")
        .expect("jon");
    assert_eq!(jon.vendor_status.as_deref(), Some("deleted"));
}

#[tokio::test]
async fn jumpcloud_states_skip_paging_and_deleted_users_absent() {
    let mut people: Vec<Person> = (0..5)
        .map(|i| Person::new(format!("user{i}@acme.test")).jumpcloud(JumpCloudStatus::Activated))
        .collect();
    people.push(Person::new("staged@acme.test").jumpcloud(JumpCloudStatus::Staged));
    people.push(
        Person::new("suspended@acme.test")
            .personal_email("me@home.test")
            .jumpcloud(JumpCloudStatus::Suspended),
    );
    people.push(Person::new("locked@acme.test").jumpcloud(JumpCloudStatus::Locked));
    people.push(Person::new("deleted@acme.test").jumpcloud(JumpCloudStatus::Activated));
    let dir = Directory::start(people).await;
    // JumpCloud deletes users outright: once removed, the API no longer knows them.
    dir.server.update_people(|people| {
        for p in people.iter_mut().filter(|p| p.email == "deleted@acme.test") {
            p.jumpcloud = None;
        }
    });
    dir.server.throttle(Vendor::JumpCloud, 1, 1);
    let collected = dir
        .collect(IdpKind::JumpCloud, 3, &[])
        .await
        .expect("jumpcloud");
    let got = statuses(&collected);
    assert_eq!(got.len(), 8);
    assert!(!got.contains_key("deleted@acme.test"));
    assert_eq!(got["user4@acme.test"], IdpStatus::Active);
    assert_eq!(got["staged@acme.test"], IdpStatus::Pending);
    assert_eq!(got["suspended@acme.test"], IdpStatus::Suspended);
    assert_eq!(got["locked@acme.test"], IdpStatus::Locked);
    // 8 users in pages of 3, plus the 429.
    assert_eq!(dir.server.requests(Vendor::JumpCloud), 3 + 1);
    let suspended = collected
        .users
        .iter()
        .find(|u| u.email == "suspended@acme.test")
        .expect("suspended");
    assert!(
        !suspended.aliases.iter().any(|a| a.contains("home.test")),
        "recoveryEmail is personal and must not be indexed"
    );
}

/// What Okta, OneLogin and JumpCloud carry besides the primary address, end to end: a
/// Salesforce user under a renamed person's old corporate address is found through the
/// vendor's own field (Okta `secondEmail`, OneLogin `username`, JumpCloud `alternateEmail`);
/// a personal address in the same slot matches nothing; and an alias never revives an
/// offboarded account, whether the alias sits on it or on a colleague's.
#[tokio::test]
async fn aliases_in_okta_onelogin_and_jumpcloud_match_but_never_revive_a_leaver() {
    use crate::audit_support::{count, directory, run, snapshot, subjects, sysadmin, uid, user};
    use sfmcp_audit::RuleId;
    let renamed = Person::new("grace.kim@acme.test")
        .secondary_email("gkim@acme.test")
        .username("gkim@acme.test")
        .login("grace.kim@acme.test");
    let home = Person::new("alex@acme.test").personal_email("alex@home-mail.test");
    // Suspended, with the old address on the account itself.
    let leaver = Person::new("sam.okafor@acme.test")
        .secondary_email("sokafor@acme.test")
        .username("sokafor@acme.test");
    // Deprovisioned, with the address forwarded to the manager's account.
    let gone = Person::new("nina@acme.test");
    let manager = Person::new("boss@acme.test")
        .secondary_email("nina@acme.test")
        .username("nina@acme.test");
    let people = vec![
        renamed
            .okta(OktaStatus::Active)
            .onelogin(OneLoginStatus::ACTIVE)
            .jumpcloud(JumpCloudStatus::Activated),
        home.okta(OktaStatus::Active)
            .onelogin(OneLoginStatus::ACTIVE)
            .jumpcloud(JumpCloudStatus::Activated),
        leaver
            .okta(OktaStatus::Suspended)
            .onelogin(OneLoginStatus::status(2))
            .jumpcloud(JumpCloudStatus::Suspended),
        gone.okta(OktaStatus::Deprovisioned)
            .onelogin(OneLoginStatus {
                status: 1,
                state: 3,
            })
            .jumpcloud(JumpCloudStatus::Suspended),
        manager
            .okta(OktaStatus::Active)
            .onelogin(OneLoginStatus::ACTIVE)
            .jumpcloud(JumpCloudStatus::Activated),
    ];
    let dir = Directory::start(people).await;
    let salesforce = snapshot(
        vec![
            user(1, "gkim@acme.test.prod", "gkim@acme.test"),
            user(2, "alex@acme.test.prod", "alex@home-mail.test"),
            user(3, "sokafor@acme.test.prod", "sokafor@acme.test"),
            user(4, "nina@acme.test.prod", "nina@acme.test"),
            user(5, "boss@acme.test.prod", "boss@acme.test"),
        ],
        vec![sysadmin(5)],
    );
    for kind in [IdpKind::Okta, IdpKind::OneLogin, IdpKind::JumpCloud] {
        let collected = dir.collect(kind, 2, &[]).await.expect("collect");
        let report = run(&salesforce, &directory(collected.users));
        assert_eq!(
            subjects(&report, RuleId::IdpUserNotInIdp),
            vec![uid(2)],
            "{kind:?}: only the personal address is missing"
        );
        assert_eq!(
            subjects(&report, RuleId::IdpStaleUser),
            vec![uid(3), uid(4)],
            "{kind:?}: the leavers stay offboarded"
        );
        assert_eq!(count(&report, RuleId::IdpAdminNotInIdp), 0, "{kind:?}");
    }
}

#[tokio::test]
async fn onelogin_status_codes_cursor_paging_and_deleted_users_absent() {
    let codes: [(i64, i64, IdpStatus); 10] = [
        (1, 1, IdpStatus::Active),
        (4, 1, IdpStatus::Active),
        (5, 1, IdpStatus::Active),
        (8, 1, IdpStatus::Active),
        (3, 1, IdpStatus::Locked),
        (0, 1, IdpStatus::Pending),
        (7, 1, IdpStatus::Pending),
        (2, 1, IdpStatus::Suspended),
        (1, 2, IdpStatus::Suspended),
        (1, 0, IdpStatus::Pending),
    ];
    let mut people: Vec<Person> = codes
        .iter()
        .enumerate()
        .map(|(i, (status, state, _))| {
            Person::new(format!("u{i}@acme.test")).onelogin(OneLoginStatus {
                status: *status,
                state: *state,
            })
        })
        .collect();
    // Deleted in OneLogin: the person exists elsewhere but has no OneLogin account.
    people.push(Person::new("deleted@acme.test").okta(OktaStatus::Active));
    let dir = Directory::start(people).await;
    dir.server.throttle(Vendor::OneLogin, 1, 1);
    let collected = dir
        .collect(IdpKind::OneLogin, 3, &[])
        .await
        .expect("onelogin");
    let expected: HashMap<String, IdpStatus> = codes
        .iter()
        .enumerate()
        .map(|(i, (_, _, s))| (format!("u{i}@acme.test"), *s))
        .collect();
    assert_eq!(statuses(&collected), expected);
    // 10 users in pages of 3, plus the 429.
    assert_eq!(dir.server.requests(Vendor::OneLogin), 4 + 1);
}

#[tokio::test]
async fn bad_credentials_name_the_setting_and_never_echo_the_secret() {
    let people = vec![Person::new("a@acme.test").everywhere_active()];
    let dir = Directory::start(people).await;
    let cases: [(IdpKind, &str, &str, &str); 5] = [
        (
            IdpKind::Okta,
            "OKTA_API_TOKEN",
            "wrong-okta-token-1",
            "Invalid token",
        ),
        (
            IdpKind::Entra,
            "AZURE_CLIENT_SECRET",
            "wrong-azure-secret-1",
            "AADSTS7000215",
        ),
        (
            IdpKind::Google,
            "GOOGLE_ADMIN_SUBJECT",
            "nobody@acme.test",
            "Invalid email or User ID",
        ),
        (
            IdpKind::JumpCloud,
            "JUMPCLOUD_API_KEY",
            "wrong-jumpcloud-key-1",
            "Unauthorized",
        ),
        (
            IdpKind::OneLogin,
            "ONELOGIN_CLIENT_SECRET",
            "wrong-onelogin-secret-1",
            "Authentication Failure",
        ),
    ];
    for (kind, variable, wrong, vendor_message) in cases {
        let err = dir
            .collect(kind, 10, &[(variable, wrong)])
            .await
            .expect_err("wrong credentials must fail");
        let text = err.to_string();
        assert!(
            matches!(err, CollectError::Unauthorized { .. }),
            "{kind}: {text}"
        );
        assert!(text.contains(variable), "{kind}: {text}");
        assert!(text.contains(vendor_message), "{kind}: {text}");
        if kind != IdpKind::Google {
            assert!(!text.contains(wrong), "{kind} echoed the secret: {text}");
        }
    }
}

#[tokio::test]
async fn missing_and_malformed_settings_name_the_variable() {
    let dir = Directory::start(vec![Person::new("a@acme.test").everywhere_active()]).await;
    for (kind, variable) in [
        (IdpKind::Okta, "OKTA_ORG_URL"),
        (IdpKind::Okta, "OKTA_API_TOKEN"),
        (IdpKind::Entra, "AZURE_TENANT_ID"),
        (IdpKind::Entra, "AZURE_CLIENT_ID"),
        (IdpKind::Entra, "AZURE_CLIENT_SECRET"),
        (IdpKind::Google, "GOOGLE_SERVICE_ACCOUNT_KEY_FILE"),
        (IdpKind::Google, "GOOGLE_ADMIN_SUBJECT"),
        (IdpKind::JumpCloud, "JUMPCLOUD_API_KEY"),
        (IdpKind::OneLogin, "ONELOGIN_CLIENT_ID"),
        (IdpKind::OneLogin, "ONELOGIN_CLIENT_SECRET"),
    ] {
        let err = dir
            .collect(kind, 10, &[(variable, "")])
            .await
            .expect_err("missing setting");
        assert!(
            matches!(err, CollectError::MissingSetting { variable: v, .. } if v == variable),
            "{kind}/{variable}: {err}"
        );
        assert!(err.to_string().contains(variable));
    }
    let err = dir
        .collect(
            IdpKind::Okta,
            10,
            &[("OKTA_ORG_URL", "http://acme.okta.com")],
        )
        .await
        .expect_err("plain http to a remote host");
    assert!(err.to_string().contains("OKTA_ORG_URL"), "{err}");
    let err = dir
        .collect(
            IdpKind::Google,
            10,
            &[("GOOGLE_SERVICE_ACCOUNT_KEY_FILE", "/nonexistent/sa.json")],
        )
        .await
        .expect_err("missing key file");
    assert!(
        err.to_string().contains("GOOGLE_SERVICE_ACCOUNT_KEY_FILE"),
        "{err}"
    );
}

#[tokio::test]
async fn rate_limiting_is_bounded() {
    let dir = Directory::start(vec![Person::new("a@acme.test").everywhere_active()]).await;
    dir.server.throttle(Vendor::JumpCloud, 100, 0);
    let err = dir
        .collect(IdpKind::JumpCloud, 10, &[])
        .await
        .expect_err("still throttled");
    assert!(matches!(err, CollectError::RateLimited { .. }), "{err}");
    // max_retries = 3: the first try and three retries.
    assert_eq!(dir.server.requests(Vendor::JumpCloud), 4);

    dir.server.throttle(Vendor::Okta, 1, 3600);
    let err = dir
        .collect(IdpKind::Okta, 10, &[])
        .await
        .expect_err("Retry-After beyond the limit");
    assert!(
        matches!(err, CollectError::RetryTooLong { seconds: 3600, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn the_emulator_serves_the_shared_directories_beside_salesforce() {
    let handle = sfmcp_emulator::Emulator::start(sfmcp_emulator::EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let shared = IdpServer::shared();
    shared.replace_people(vec![
        Person::new("x@acme.test").everywhere_active(),
        Person::new("y@acme.test").okta(OktaStatus::Deprovisioned),
    ]);
    let announcement = shared.announcement(&handle.base_url);
    let env: HashMap<String, String> = announcement["okta"]["env"]
        .as_object()
        .expect("okta env")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let collected = collect_with(
        IdpKind::Okta,
        &|name| env.get(name).cloned(),
        &CollectOptions::default(),
    )
    .await
    .expect("okta through the emulator");
    assert_eq!(
        statuses(&collected),
        expect(&[
            ("x@acme.test", IdpStatus::Active),
            ("y@acme.test", IdpStatus::Deprovisioned)
        ])
    );
    let versions = reqwest::get(format!("{}/services/data/", handle.base_url))
        .await
        .expect("send");
    assert_eq!(versions.status(), 200);
    handle.shutdown().await;
}

#[tokio::test]
async fn sfmcp_audit_collects_from_a_live_idp() {
    let people = vec![
        Person::new("ann@acme.test").jumpcloud(JumpCloudStatus::Activated),
        Person::new("ben@acme.test").jumpcloud(JumpCloudStatus::Suspended),
        // Deleted from JumpCloud: absent.
        Person::new("cat@acme.test").okta(OktaStatus::Active),
    ];
    let dir = Directory::start(people).await;
    let user = |n: u32, email: &str| {
        serde_json::json!({
            "id": format!("005000000000{n:03}AAA"),
            "username": email,
            "email": email,
            "is_active": true,
            "user_type": "Standard",
        })
    };
    let snapshot = serde_json::json!({
        "org_id": "00D000000000001AAA",
        "users": [user(1, "ann@acme.test"), user(2, "ben@acme.test"), user(3, "cat@acme.test")],
    });
    let snapshot_path = dir._key_dir.path().join("snapshot.json");
    std::fs::write(&snapshot_path, snapshot.to_string()).expect("snapshot");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args(["audit", "--idp", "jumpcloud", "--format", "json"])
        .args(["--rule", "SF-IDP-002", "--rule", "SF-IDP-003"])
        .arg("--salesforce-snapshot")
        .arg(&snapshot_path)
        .env_clear()
        .env("JUMPCLOUD_API_KEY", &dir.env["JUMPCLOUD_API_KEY"])
        .env("JUMPCLOUD_BASE_URL", &dir.base)
        .envs(capture::env())
        .output()
        .await
        .expect("run sfmcp");
    capture::record_output("audit-jumpcloud", &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("2 IdP accounts"), "{stderr}");
    assert!(
        !stderr.contains(&dir.env["JUMPCLOUD_API_KEY"]),
        "the API key leaked to stderr"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("json report");
    let mut found: Vec<(String, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                f["subject"]["email"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("SF-IDP-002".to_owned(), "cat@acme.test".to_owned()),
            ("SF-IDP-003".to_owned(), "ben@acme.test".to_owned()),
        ]
    );

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sfmcp"))
        .args(["audit", "--idp", "jumpcloud", "--salesforce-snapshot"])
        .arg(&snapshot_path)
        .env_clear()
        .envs(capture::env())
        .output()
        .await
        .expect("run sfmcp");
    capture::record_output("audit-unconfigured", &output);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JUMPCLOUD_API_KEY is not set"), "{stderr}");
}

#[tokio::test]
async fn a_next_page_link_to_another_host_is_refused() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let okta = MockServer::start().await;
    let user = serde_json::json!([{
        "id": "00u1", "status": "ACTIVE",
        "profile": {"login": "a@acme.test", "email": "a@acme.test"},
    }]);
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(user)
                .insert_header(
                    "link",
                    "<http://127.0.0.2:9/api/v1/users?after=00u1>; rel=\"next\"",
                ),
        )
        .mount(&okta)
        .await;
    let env: HashMap<&str, String> = [
        ("OKTA_ORG_URL", okta.uri()),
        ("OKTA_API_TOKEN", "token-value".to_owned()),
    ]
    .into();
    let err = collect_with(
        IdpKind::Okta,
        &|name| env.get(name).cloned(),
        &CollectOptions::default(),
    )
    .await
    .expect_err("foreign next link");
    assert!(matches!(err, CollectError::Protocol { .. }), "{err}");
    assert!(
        err.to_string().contains("refusing to send credentials"),
        "{err}"
    );
    // Only the first page was requested; nothing went to the foreign host.
    assert_eq!(okta.received_requests().await.map(|r| r.len()), Some(1));
}

/// A status code this version has no mapping for must not stop the audit: the account is
/// collected with the status `unknown` and its vendor values kept for the report.
#[tokio::test]
async fn an_unknown_onelogin_status_is_collected_as_unknown_not_fatal() {
    let people = vec![
        Person::new("known@acme.test").onelogin(OneLoginStatus {
            status: 1,
            state: 1,
        }),
        Person::new("odd@acme.test").onelogin(OneLoginStatus {
            status: 6,
            state: 1,
        }),
    ];
    let dir = Directory::start(people).await;
    let collected = dir
        .collect(IdpKind::OneLogin, 100, &[])
        .await
        .expect("an unknown status is not an error");
    let statuses = statuses(&collected);
    assert_eq!(statuses["known@acme.test"], IdpStatus::Active);
    assert_eq!(statuses["odd@acme.test"], IdpStatus::Unknown);
    let odd = collected
        .users
        .iter()
        .find(|u| u.email == "odd@acme.test")
        .expect("odd is listed");
    assert_eq!(odd.vendor_status.as_deref(), Some("status=6,state=1"));
}
