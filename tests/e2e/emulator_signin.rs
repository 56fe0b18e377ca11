//! Signing in to the emulator the way a person signs in to Salesforce: the authorize endpoint's
//! login page, the "Allow Access?" page, Deny, `prompt`, `login_hint`, revocation; and two
//! people of one org who, once signed in, see through sfmcp only what their sharing and
//! field-level security show them. Driven with plain HTTP, as a test plays the browser.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::{common, emulator_common};

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use emulator_common::{Client, seed_source, start_with};
use reqwest::StatusCode;
use serde_json::{Value as Json, json};
use sfmcp_emulator::{EmulatorHandle, SignIn};
use url::Url;

pub const PASSWORD: &str = "sfmcp-demo";
pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// RFC 7636's worked example.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// An admin who sees everything, and a rep whose profile hides `Account.AnnualRevenue` and who
/// owns one of the three private opportunities.
pub fn two_people_seed() -> Json {
    json!({
        "org": {"sharing": {"Opportunity": "Private", "Account": "Read"}},
        "profiles": [
            {"name": "Sales", "permissions": ["ApiEnabled"], "hidden_fields": ["Account.AnnualRevenue"]},
        ],
        "roles": [{"name": "CEO"}, {"name": "Rep", "parent": "CEO"}],
        "users": [
            {"username": "admin@acme.test", "first_name": "Ada", "last_name": "Admin", "profile": "System Administrator", "role": "CEO", "default": true},
            {"username": "rep@acme.test", "first_name": "Rita", "last_name": "Rep", "profile": "Sales", "role": "Rep"},
            {"username": "gone@acme.test", "profile": "Sales", "active": false},
            {"username": "frozen@acme.test", "profile": "Sales", "frozen": true},
        ],
        "records": {
            "Account": [
                {"_ref": "acme", "Name": "Acme", "AnnualRevenue": 5000000, "OwnerId": "@admin@acme.test"},
            ],
            "Opportunity": [
                {"Name": "Rep deal", "StageName": "Prospecting", "CloseDate": "2026-12-01", "AccountId": "@acme", "OwnerId": "@rep@acme.test"},
                {"Name": "Admin deal A", "StageName": "Closed Won", "CloseDate": "2026-01-01", "AccountId": "@acme", "OwnerId": "@admin@acme.test"},
                {"Name": "Admin deal B", "StageName": "Qualification", "CloseDate": "2026-12-01", "OwnerId": "@admin@acme.test"},
            ],
        }
    })
}

pub async fn start_login_page(seed: Json) -> EmulatorHandle {
    start_with(vec![seed_source(&seed)], |c| c.sign_in = SignIn::LoginPage).await
}

fn challenge() -> String {
    URL_SAFE_NO_PAD
        .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, VERIFIER.as_bytes()).as_ref())
}

/// Plays a browser: keeps the `sid` cookie, follows nothing by itself.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<Url>,
    pub html: String,
}

impl Page {
    /// The value of the hidden `source` input of the page's form.
    pub fn source(&self) -> String {
        let at = self
            .html
            .find(r#"name="source" value=""#)
            .unwrap_or_else(|| panic!("no source input in {}", self.html));
        let rest = &self.html[at + r#"name="source" value=""#.len()..];
        rest[..rest.find('"').expect("closing quote")].to_string()
    }

    pub fn param(&self, name: &str) -> Option<String> {
        self.location
            .as_ref()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl Browser {
    pub fn new(handle: &EmulatorHandle) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: handle.base_url.clone(),
            cookie: None,
        }
    }

    async fn page(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", c),
            None => request,
        };
        let response = request.send().await.expect("request reaches the emulator");
        if let Some(set) = response.headers().get("set-cookie") {
            let set = set.to_str().expect("ascii cookie");
            self.cookie = Some(set.split(';').next().expect("name=value").to_string());
        }
        let status = response.status();
        let location = response.headers().get("location").map(|l| {
            Url::parse(&self.base)
                .unwrap()
                .join(l.to_str().unwrap())
                .unwrap()
        });
        Page {
            status,
            location,
            html: response.text().await.expect("body"),
        }
    }

    /// Opens the authorize URL with PKCE, `state` and any `extra` parameters.
    pub async fn authorize(&mut self, client_id: &str, extra: &[(&str, &str)]) -> Page {
        let challenge = challenge();
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("state", "st4te"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("scope", "api refresh_token id"),
        ];
        query.extend_from_slice(extra);
        let request = self
            .http
            .get(format!("{}/services/oauth2/authorize", self.base))
            .query(&query);
        self.page(request).await
    }

    pub async fn log_in(&mut self, login: &Page, username: &str, password: &str) -> Page {
        let request = self.http.post(format!("{}/", self.base)).form(&[
            ("source", login.source().as_str()),
            ("username", username),
            ("pw", password),
        ]);
        self.page(request).await
    }

    pub async fn follow(&mut self, redirect: &Page) -> Page {
        let to = redirect.location.clone().expect("a redirect");
        self.page(self.http.get(to)).await
    }

    pub async fn decide(&mut self, approval: &Page, decision: &str) -> Page {
        let url = format!(
            "{}/setup/secur/RemoteAccessAuthorizationPage.apexp",
            self.base
        );
        let request = self.http.post(url).form(&[
            ("source", approval.source().as_str()),
            ("decision", decision),
        ]);
        self.page(request).await
    }

    /// The whole sign-in of one person: login page, login, Allow; the redirect back.
    pub async fn sign_in(&mut self, client_id: &str, username: &str) -> Page {
        let login = self.authorize(client_id, &[]).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.html);
        let to_approval = self.log_in(&login, username, PASSWORD).await;
        assert_eq!(
            to_approval.status,
            StatusCode::FOUND,
            "{}",
            to_approval.html
        );
        let approval = self.follow(&to_approval).await;
        assert_eq!(approval.status, StatusCode::OK, "{}", approval.html);
        self.decide(&approval, "allow").await
    }
}

pub async fn exchange(handle: &EmulatorHandle, code: &str) -> (StatusCode, Json) {
    let org = &handle.orgs[0];
    token_request(
        handle,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

pub async fn token_request(handle: &EmulatorHandle, form: &[(&str, &str)]) -> (StatusCode, Json) {
    let response = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", handle.base_url))
        .form(form)
        .send()
        .await
        .expect("token endpoint");
    let status = response.status();
    (status, response.json().await.unwrap_or(Json::Null))
}

fn user_of(token_body: &Json) -> String {
    token_body["id"]
        .as_str()
        .and_then(|id| id.rsplit('/').next())
        .expect("identity URL")
        .to_string()
}

pub async fn user_id(handle: &EmulatorHandle, username: &str) -> String {
    Client::for_org(handle, 0)
        .first_id(&format!(
            "SELECT Id FROM User WHERE Username = '{username}'"
        ))
        .await
}

fn codes_outstanding(handle: &EmulatorHandle) -> usize {
    handle.state().lock_sessions().codes.len()
}

#[tokio::test]
async fn the_login_and_approval_pages_issue_a_code_for_the_person_who_signed_in() {
    let handle = start_login_page(two_people_seed()).await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut browser = Browser::new(&handle);

    let login = browser
        .authorize(&client_id, &[("login_hint", "rep@acme.test")])
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.html.contains(r#"<form method="post" action="/""#));
    assert!(
        login
            .html
            .contains(r#"name="username" value="rep@acme.test""#),
        "login_hint fills in the username: {}",
        login.html
    );

    let refused = browser.log_in(&login, "rep@acme.test", "wrong").await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused
            .html
            .contains("Please check your username and password"),
        "{}",
        refused.html
    );
    assert!(browser.cookie.is_none(), "a failed login opens no session");
    assert_eq!(codes_outstanding(&handle), 0);
    let refused = browser.log_in(&refused, "gone@acme.test", PASSWORD).await;
    assert!(
        refused
            .html
            .contains("Please check your username and password"),
        "an inactive user cannot log in"
    );
    let refused = browser.log_in(&refused, "frozen@acme.test", PASSWORD).await;
    assert!(
        refused
            .html
            .contains("Please check your username and password"),
        "nor a frozen one"
    );

    let to_approval = browser.log_in(&refused, "rep@acme.test", PASSWORD).await;
    assert_eq!(
        to_approval.status,
        StatusCode::FOUND,
        "{}",
        to_approval.html
    );
    assert!(browser.cookie.is_some());
    let approval = browser.follow(&to_approval).await;
    assert_eq!(approval.status, StatusCode::OK);
    for shown in [
        "Allow Access?",
        "The app <strong>sfmcp</strong> is asking to:",
        "Rita Rep",
        "Manage user data via APIs (api)",
        "Perform requests at any time (refresh_token, offline_access)",
        "Access the identity URL service (id, profile, email, address, phone)",
    ] {
        assert!(approval.html.contains(shown), "{shown}: {}", approval.html);
    }
    assert_eq!(codes_outstanding(&handle), 0, "nothing issued before Allow");

    let back = browser.decide(&approval, "allow").await;
    assert_eq!(back.status, StatusCode::FOUND);
    let location = back.location.clone().expect("location");
    assert_eq!(location.path(), "/callback");
    assert_eq!(back.param("state").as_deref(), Some("st4te"));
    let (status, body) = exchange(&handle, &back.param("code").expect("code")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rep = user_id(&handle, "rep@acme.test").await;
    assert_eq!(
        user_of(&body),
        rep,
        "the token is the rep's, not the default user's"
    );
    assert!(body["refresh_token"].is_string());

    // Logged in and approved: the next authorization shows no page.
    let again = browser.authorize(&client_id, &[]).await;
    assert_eq!(again.status, StatusCode::FOUND, "{}", again.html);
    let (_, body) = exchange(&handle, &again.param("code").expect("code")).await;
    assert_eq!(user_of(&body), rep);

    // prompt=login asks for the password again, prompt=consent for the approval again.
    let relogin = browser.authorize(&client_id, &[("prompt", "login")]).await;
    assert_eq!(relogin.status, StatusCode::OK);
    assert!(relogin.html.contains(r#"name="pw""#));
    let reconsent = browser
        .authorize(&client_id, &[("prompt", "consent")])
        .await;
    assert_eq!(reconsent.status, StatusCode::FOUND);
    let approval = browser.follow(&reconsent).await;
    assert!(approval.html.contains("Allow Access?"));

    // After logging out, the login page again.
    let sid = browser.cookie.clone();
    let logout = browser
        .page(
            browser
                .http
                .get(format!("{}/secur/logout.jsp", handle.base_url)),
        )
        .await;
    assert_eq!(logout.status, StatusCode::OK);
    let mut old_session = Browser::new(&handle);
    old_session.cookie = sid;
    let login = old_session.authorize(&client_id, &[]).await;
    assert_eq!(login.status, StatusCode::OK, "the old session ended");
    assert!(login.html.contains(r#"name="pw""#));

    // Another browser cannot answer this person's approval page.
    let mut stranger = Browser::new(&handle);
    let hijack = stranger.decide(&approval, "allow").await;
    assert_eq!(hijack.status, StatusCode::BAD_REQUEST);
    assert!(hijack.location.is_none());
}

#[tokio::test]
async fn deny_sends_access_denied_back_and_issues_nothing() {
    let handle = start_login_page(two_people_seed()).await;
    let mut browser = Browser::new(&handle);
    let login = browser.authorize(&handle.orgs[0].client_id, &[]).await;
    let to_approval = browser.log_in(&login, "rep@acme.test", PASSWORD).await;
    let approval = browser.follow(&to_approval).await;
    let back = browser.decide(&approval, "deny").await;
    assert_eq!(back.status, StatusCode::FOUND);
    assert_eq!(back.param("error").as_deref(), Some("access_denied"));
    assert_eq!(
        back.param("error_description").as_deref(),
        Some("end-user denied authorization")
    );
    assert_eq!(back.param("state").as_deref(), Some("st4te"));
    assert_eq!(back.param("code"), None);
    assert_eq!(codes_outstanding(&handle), 0);
    // The page was answered once: answering again does nothing.
    let replay = browser.decide(&approval, "allow").await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(codes_outstanding(&handle), 0);
}

#[tokio::test]
async fn prompt_none_never_shows_a_page() {
    let handle = start_login_page(two_people_seed()).await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut browser = Browser::new(&handle);
    let silent = browser.authorize(&client_id, &[("prompt", "none")]).await;
    assert_eq!(silent.param("error").as_deref(), Some("login_required"));
    assert_eq!(silent.param("state").as_deref(), Some("st4te"));

    let login = browser.authorize(&client_id, &[]).await;
    browser.log_in(&login, "rep@acme.test", PASSWORD).await;
    let silent = browser.authorize(&client_id, &[("prompt", "none")]).await;
    assert_eq!(silent.param("error").as_deref(), Some("consent_required"));
    assert_eq!(codes_outstanding(&handle), 0);
}

#[tokio::test]
async fn auto_approve_signs_in_the_hinted_user_or_the_default_one() {
    let handle = start_with(vec![seed_source(&two_people_seed())], |_| {}).await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut browser = Browser::new(&handle);
    let back = browser
        .authorize(&client_id, &[("login_hint", "rep@acme.test")])
        .await;
    assert_eq!(back.status, StatusCode::FOUND);
    let (_, body) = exchange(&handle, &back.param("code").expect("code")).await;
    assert_eq!(user_of(&body), user_id(&handle, "rep@acme.test").await);
    let back = browser.authorize(&client_id, &[]).await;
    let (_, body) = exchange(&handle, &back.param("code").expect("code")).await;
    assert_eq!(user_of(&body), handle.orgs[0].user_id);
    for nobody in ["nobody@acme.test", "gone@acme.test", "frozen@acme.test"] {
        let refused = browser
            .authorize(&client_id, &[("login_hint", nobody)])
            .await;
        assert_eq!(
            refused.param("error").as_deref(),
            Some("access_denied"),
            "{nobody} is not swapped for the default user"
        );
        assert_eq!(refused.param("code"), None);
    }
}

#[tokio::test]
async fn a_revoked_connection_stops_at_once_and_others_keep_working() {
    let handle = start_login_page(two_people_seed()).await;
    let org = handle.orgs[0].clone();
    let mut browser = Browser::new(&handle);
    let back = browser.sign_in(&org.client_id, "rep@acme.test").await;
    let (_, first) = exchange(&handle, &back.param("code").expect("code")).await;
    let refresh = first["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let (status, renewed) = token_request(
        &handle,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    // A second connection of the same person and app, made later.
    let again = browser.authorize(&org.client_id, &[]).await;
    let (_, second) = exchange(&handle, &again.param("code").expect("code")).await;

    let as_token = |body: &Json| Client::new(&handle, body["access_token"].as_str().unwrap());
    for body in [&first, &renewed, &second] {
        assert_eq!(as_token(body).get("/limits").await.status, StatusCode::OK);
    }

    let revoked = reqwest::Client::new()
        .post(format!("{}/services/oauth2/revoke", handle.base_url))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);

    for body in [&first, &renewed] {
        let reply = as_token(body).get("/limits").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body[0]["errorCode"], json!("INVALID_SESSION_ID"));
    }
    let (status, refused) = token_request(
        &handle,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused,
        json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
    );
    assert_eq!(
        as_token(&second).get("/limits").await.status,
        StatusCode::OK,
        "another grant is not revoked with this one"
    );
    assert_eq!(
        Client::for_org(&handle, 0).get("/limits").await.status,
        StatusCode::OK,
        "nor is another person's"
    );

    // The person still holds the second grant: no new approval needed. Once it goes too,
    // the next sign-in asks again.
    let still = browser.authorize(&org.client_id, &[]).await;
    assert_eq!(still.status, StatusCode::FOUND);
    assert!(still.param("code").is_some());
    let (_, third) = exchange(&handle, &still.param("code").unwrap()).await;
    for body in [&second, &third] {
        reqwest::Client::new()
            .post(format!("{}/services/oauth2/revoke", handle.base_url))
            .form(&[("token", body["refresh_token"].as_str().unwrap())])
            .send()
            .await
            .expect("revoke");
    }
    let asks = browser.authorize(&org.client_id, &[]).await;
    assert_eq!(
        asks.location.map(|l| l.path().to_string()).as_deref(),
        Some("/setup/secur/RemoteAccessAuthorizationPage.apexp")
    );
}

/// `sfmcp serve` for one signed-in person: their tokens, the org's connected app.
fn person_env(handle: &EmulatorHandle, tokens: &Json) -> Vec<(&'static str, String)> {
    let org = &handle.orgs[0];
    vec![
        ("SF_INSTANCE_URL", org.instance_url.clone()),
        ("SF_LOGIN_URL", org.login_url.clone()),
        (
            "SF_ACCESS_TOKEN",
            tokens["access_token"].as_str().unwrap().to_string(),
        ),
        (
            "SF_REFRESH_TOKEN",
            tokens["refresh_token"].as_str().unwrap().to_string(),
        ),
        ("SF_CLIENT_ID", org.client_id.clone()),
        ("SF_CLIENT_SECRET", org.client_secret.clone()),
    ]
}

#[tokio::test]
async fn two_people_of_one_org_see_through_sfmcp_only_what_salesforce_shows_them() {
    let handle = start_login_page(two_people_seed()).await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut tokens = HashMap::new();
    for username in ["admin@acme.test", "rep@acme.test"] {
        let back = Browser::new(&handle).sign_in(&client_id, username).await;
        let (status, body) = exchange(&handle, &back.param("code").expect("code")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        tokens.insert(username, body);
    }

    let mut seen = HashMap::new();
    for (username, body) in &tokens {
        let (client, stderr) = common::spawn_server(&person_env(&handle, body), &[]).await;
        let deals = common::call(
            &client,
            "soql_query",
            json!({"query": "SELECT Name FROM Opportunity ORDER BY Name"}),
        )
        .await;
        assert!(!common::is_error(&deals), "{}", common::text(&deals));
        let names: Vec<String> = common::structured(&deals)["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Name"].as_str().map(str::to_string))
            .collect();
        let revenue = common::call(
            &client,
            "soql_query",
            json!({"query": "SELECT Name, AnnualRevenue FROM Account"}),
        )
        .await;
        let found = common::call(
            &client,
            "sosl_search",
            json!({"text": "deal", "objects": ["Opportunity"]}),
        )
        .await;
        assert!(!common::is_error(&found), "{}", common::text(&found));
        let mut found: Vec<String> = common::structured(&found)["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["Name"].as_str().map(str::to_string))
            .collect();
        found.sort();
        assert_eq!(
            found, names,
            "search shows {username} what their queries show"
        );
        let describe = common::call(&client, "describe_object", json!({"object": "Account"})).await;
        assert!(!common::is_error(&describe), "{}", common::text(&describe));
        seen.insert(
            *username,
            (
                names,
                common::is_error(&revenue),
                common::text(&revenue),
                common::text(&describe),
            ),
        );
        common::stop(client, stderr).await;
    }

    let (admin_deals, admin_refused, admin_revenue, admin_describe) = &seen["admin@acme.test"];
    assert_eq!(admin_deals, &["Admin deal A", "Admin deal B", "Rep deal"]);
    assert!(!admin_refused, "{admin_revenue}");
    assert!(admin_revenue.contains("5000000"), "{admin_revenue}");
    assert!(admin_describe.contains("AnnualRevenue"), "{admin_describe}");

    let (rep_deals, rep_refused, rep_revenue, rep_describe) = &seen["rep@acme.test"];
    assert_eq!(
        rep_deals,
        &["Rep deal"],
        "private: the rep sees only their own"
    );
    assert!(
        *rep_refused,
        "field-level security hides the field: {rep_revenue}"
    );
    assert!(
        rep_revenue.contains("AnnualRevenue"),
        "the error names the field: {rep_revenue}"
    );
    assert!(
        !rep_describe.contains("AnnualRevenue") && rep_describe.contains("Name"),
        "describe shows the rep no hidden field: {rep_describe}"
    );
}

#[tokio::test]
async fn an_admin_approved_app_admits_only_pre_authorized_profiles_without_asking() {
    let mut seed = two_people_seed();
    seed["connected_app"] = json!({"admin_approved_profiles": ["System Administrator"]});
    let handle = start_login_page(seed).await;
    let client_id = handle.orgs[0].client_id.clone();

    let mut rep = Browser::new(&handle);
    let login = rep.authorize(&client_id, &[]).await;
    let refused = rep.log_in(&login, "rep@acme.test", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FOUND);
    assert_eq!(
        refused.param("error").as_deref(),
        Some("OAUTH_APP_ACCESS_DENIED")
    );
    assert_eq!(
        refused.param("error_description").as_deref(),
        Some("user is not admin approved to access this app")
    );
    assert_eq!(refused.param("state").as_deref(), Some("st4te"));
    assert_eq!(codes_outstanding(&handle), 0);

    let mut admin = Browser::new(&handle);
    let login = admin.authorize(&client_id, &[]).await;
    let back = admin.log_in(&login, "admin@acme.test", PASSWORD).await;
    assert_eq!(back.status, StatusCode::FOUND);
    assert!(
        back.param("code").is_some(),
        "pre-authorized: no approval page"
    );

    // The auto-approving emulator applies the same policy.
    let handle = start_with(
        vec![seed_source(&json!({
            "connected_app": {"admin_approved_profiles": ["System Administrator"]},
            "profiles": [{"name": "Sales", "permissions": ["ApiEnabled"]}],
            "users": [
                {"username": "admin@acme.test", "profile": "System Administrator", "default": true},
                {"username": "rep@acme.test", "profile": "Sales"},
            ],
        }))],
        |_| {},
    )
    .await;
    let refused = Browser::new(&handle)
        .authorize(
            &handle.orgs[0].client_id,
            &[("login_hint", "rep@acme.test")],
        )
        .await;
    assert_eq!(
        refused.param("error").as_deref(),
        Some("OAUTH_APP_ACCESS_DENIED")
    );
}

#[tokio::test]
async fn an_unknown_profile_in_admin_approved_profiles_is_a_seed_error() {
    let error = sfmcp_emulator::Emulator::start(sfmcp_emulator::EmulatorConfig {
        orgs: vec![seed_source(
            &json!({"connected_app": {"admin_approved_profiles": ["Nobody"]}}),
        )],
        ..Default::default()
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        error.contains("connected_app.admin_approved_profiles: no profile 'Nobody'"),
        "{error}"
    );
}

/// The demo people the README names sign in on the demo org's login page and see what it says.
#[tokio::test]
async fn the_demo_people_see_what_the_readme_says() {
    let handle = start_with(vec![sfmcp_emulator::OrgSource::Demo { scale: 1 }], |c| {
        c.sign_in = SignIn::LoginPage
    })
    .await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut clients = HashMap::new();
    for username in [
        "admin@demo.emulator",
        "edsger.hopper7@demo.emulator",
        "sam.okafor@demo.emulator",
    ] {
        let back = Browser::new(&handle).sign_in(&client_id, username).await;
        let (status, body) = exchange(&handle, &back.param("code").expect("code")).await;
        assert_eq!(status, StatusCode::OK, "{username}: {body}");
        let token = body["access_token"].as_str().expect("token").to_string();
        clients.insert(username, Client::new(&handle, &token));
    }
    let count = |reply: emulator_common::Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["totalSize"].as_u64().expect("totalSize")
    };
    let admin = &clients["admin@demo.emulator"];
    assert_eq!(
        count(admin.query("SELECT COUNT() FROM Opportunity").await),
        600
    );
    let rep_id = user_id(&handle, "edsger.hopper7@demo.emulator").await;
    let owned = count(
        admin
            .query(&format!(
                "SELECT COUNT() FROM Opportunity WHERE OwnerId = '{rep_id}'"
            ))
            .await,
    );
    assert!(owned > 0);
    let rep = &clients["edsger.hopper7@demo.emulator"];
    assert_eq!(
        count(rep.query("SELECT COUNT() FROM Opportunity").await),
        owned,
        "a sales rep sees only their own opportunities"
    );

    let support = &clients["sam.okafor@demo.emulator"];
    assert_eq!(
        count(support.query("SELECT COUNT() FROM Opportunity").await),
        0
    );
    let fields = |reply: emulator_common::Reply| -> Vec<String> {
        reply.body["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect()
    };
    let hidden = fields(support.get("/sobjects/Account/describe").await);
    assert!(hidden.contains(&"Name".to_string()));
    assert!(!hidden.contains(&"AnnualRevenue".to_string()));
    let shown = fields(admin.get("/sobjects/Account/describe").await);
    assert!(shown.contains(&"AnnualRevenue".to_string()));
    assert!(
        fields(rep.get("/sobjects/Account/describe").await).contains(&"AnnualRevenue".to_string())
    );
}

/// What a person's Revoke under Settings > Connected Apps does, through the control plane: the
/// test never sees the refresh token an sfmcp deployment keeps sealed.
#[tokio::test]
async fn revoking_app_access_for_a_person_ends_all_their_tokens_of_that_app() {
    let handle = start_login_page(two_people_seed()).await;
    let org = handle.orgs[0].clone();
    let back = Browser::new(&handle)
        .sign_in(&org.client_id, "rep@acme.test")
        .await;
    let (_, rep) = exchange(&handle, &back.param("code").expect("code")).await;
    let rep_client = Client::new(&handle, rep["access_token"].as_str().unwrap());
    assert_eq!(rep_client.get("/limits").await.status, StatusCode::OK);

    let control = |body: Json| {
        reqwest::Client::new()
            .post(format!("{}/__emulator/revoke-app-access", handle.base_url))
            .json(&body)
            .send()
    };
    let reply = control(json!({"username": "rep@acme.test", "client_id": org.client_id}))
        .await
        .expect("control plane");
    assert_eq!(reply.status(), StatusCode::OK);
    let body: Json = reply.json().await.expect("json");
    assert_eq!(
        body["revoked"],
        json!(2),
        "one refresh token, one access token"
    );

    assert_eq!(
        rep_client.get("/limits").await.status,
        StatusCode::UNAUTHORIZED
    );
    let (status, refused) = token_request(
        &handle,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rep["refresh_token"].as_str().unwrap()),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
        ],
    )
    .await;
    assert_eq!(
        (status, &refused["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );
    assert_eq!(
        Client::for_org(&handle, 0).get("/limits").await.status,
        StatusCode::OK,
        "the admin's tokens are untouched"
    );

    let reply = control(json!({"username": "nobody@acme.test"}))
        .await
        .expect("control plane");
    assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_redirect_uri_not_among_the_callback_urls_is_refused_without_a_redirect() {
    let mut seed = two_people_seed();
    seed["connected_app"] = json!({"callback_urls": [CALLBACK]});
    let handle = start_login_page(seed).await;
    let client_id = handle.orgs[0].client_id.clone();
    let mut browser = Browser::new(&handle);
    assert_eq!(
        browser.authorize(&client_id, &[]).await.status,
        StatusCode::OK,
        "the registered callback gets the login page"
    );
    let request = browser
        .http
        .get(format!("{}/services/oauth2/authorize", handle.base_url))
        .query(&[
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("state", "st4te"),
        ]);
    let refused = browser.page(request).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.location.is_none(),
        "nothing is sent to an unknown URI"
    );
    let body: Json = serde_json::from_str(&refused.html).expect("json");
    assert_eq!(
        body,
        json!({"error": "redirect_uri_mismatch", "error_description": "redirect_uri must match configuration"})
    );
}

#[tokio::test]
async fn the_token_request_matches_the_redirect_uri_as_the_client_sent_it() {
    let handle = start_with(vec![seed_source(&two_people_seed())], |_| {}).await;
    let org = handle.orgs[0].clone();
    let sent = "http://LOCALHOST:9";
    let mut browser = Browser::new(&handle);
    let request = browser
        .http
        .get(format!("{}/services/oauth2/authorize", handle.base_url))
        .query(&[
            ("response_type", "code"),
            ("client_id", org.client_id.as_str()),
            ("redirect_uri", sent),
        ]);
    let back = browser.page(request).await;
    let code = back.param("code").expect("code");
    let (status, body) = token_request(
        &handle,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &org.client_id),
            ("client_secret", &org.client_secret),
            ("redirect_uri", sent),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
