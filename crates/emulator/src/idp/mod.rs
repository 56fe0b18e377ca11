//! Identity-provider directory APIs: Okta, Microsoft Graph (Entra ID), Google Directory,
//! JumpCloud and OneLogin, each with its vendor's auth, paging, user JSON and error bodies, over
//! one in-memory list of people.
//!
//! # Building directories
//!
//! A directory is a list of [`Person`]s; each person says, per IdP, whether they have an account
//! there and in which vendor-native state (`None` = no account, which is also how JumpCloud and
//! OneLogin show a deleted user):
//!
//! ```
//! use sfmcp_emulator::idp::{IdpServer, Person, OktaStatus, EntraStatus, GoogleStatus};
//!
//! let people = vec![
//!     Person::new("ada@example.com").alias("ada.lovelace@example.com").everywhere_active(),
//!     Person::new("bob@example.com")
//!         .okta(OktaStatus::Deprovisioned)
//!         .entra(EntraStatus::Disabled)
//!         .google(GoogleStatus::Archived),
//! ];
//! let server = IdpServer::new(people);
//! let app: axum::Router = sfmcp_emulator::idp::router(server.clone()); // serve with axum
//! # let _ = app;
//! ```
//!
//! [`IdpServer::announcement`] gives every base URL and credential, including the environment
//! variables the audit's collectors read, so `sfmcp audit --idp okta` can be pointed at it.
//! Credentials are random per server; [`IdpServer::throttle`] makes the next requests of one IdP
//! answer 429 with `Retry-After`, and [`IdpServer::requests`] counts data requests per IdP so
//! tests can check that paging uses no more calls than needed. The same knobs are on the control
//! plane: `POST /__emulator/idp/throttle {"idp":"okta","count":2,"retry_after":1}` and
//! `GET /__emulator/idp/requests`.

mod entra;
mod google;
mod jumpcloud;
mod okta;
mod onelogin;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The five directory vendors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Okta,
    Entra,
    Google,
    JumpCloud,
    OneLogin,
}

impl Vendor {
    pub const ALL: [Vendor; 5] = [
        Vendor::Okta,
        Vendor::Entra,
        Vendor::Google,
        Vendor::JumpCloud,
        Vendor::OneLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Okta => "okta",
            Vendor::Entra => "entra",
            Vendor::Google => "google",
            Vendor::JumpCloud => "jumpcloud",
            Vendor::OneLogin => "onelogin",
        }
    }
}

/// Okta `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OktaStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl OktaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OktaStatus::Staged => "STAGED",
            OktaStatus::Provisioned => "PROVISIONED",
            OktaStatus::Active => "ACTIVE",
            OktaStatus::Recovery => "RECOVERY",
            OktaStatus::PasswordExpired => "PASSWORD_EXPIRED",
            OktaStatus::LockedOut => "LOCKED_OUT",
            OktaStatus::Suspended => "SUSPENDED",
            OktaStatus::Deprovisioned => "DEPROVISIONED",
        }
    }
}

/// Entra ID: `accountEnabled`, or soft-deleted (listed only under `directory/deletedItems`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntraStatus {
    Enabled,
    Disabled,
    Deleted,
}

/// Google Workspace: `suspended`, `archived`, or deleted (listed only with `showDeleted=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoogleStatus {
    Active,
    Suspended,
    Archived,
    Deleted,
}

/// JumpCloud `state` and flags. A deleted JumpCloud user is removed, so it is `None` on the
/// person rather than a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JumpCloudStatus {
    /// `state: ACTIVATED`.
    Activated,
    /// `state: STAGED` (invited, not yet activated).
    Staged,
    /// `state: SUSPENDED`, `suspended: true`.
    Suspended,
    /// `state: ACTIVATED` with `account_locked: true` (too many failed logins).
    Locked,
}

/// OneLogin numeric `status` (0 unactivated, 1 active, 2 suspended, 3 locked, 4 password
/// expired, 5 awaiting password reset, 7 password pending, 8 security questions required) and
/// `state` (0 unapproved, 1 approved, 2 rejected, 3 unlicensed). A deleted user is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneLoginStatus {
    pub status: i64,
    #[serde(default = "approved")]
    pub state: i64,
}

fn approved() -> i64 {
    1
}

impl OneLoginStatus {
    pub const ACTIVE: OneLoginStatus = OneLoginStatus {
        status: 1,
        state: 1,
    };

    pub fn status(status: i64) -> Self {
        OneLoginStatus { status, state: 1 }
    }
}

/// One person and their account in each IdP (`None` = no account there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Primary corporate address; also the login unless [`Person::login`] says otherwise.
    pub email: String,
    /// A sign-in name other than the address, where the vendor keeps one apart: Okta
    /// `profile.login`, Entra `userPrincipalName`, OneLogin `username` / `userprincipalname`
    /// (often the address the person had before a rename).
    #[serde(default)]
    pub login: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// Other corporate addresses: Google `aliases`, Entra `proxyAddresses` (`smtp:`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// A personal address the vendors keep as secondary / recovery e-mail (Okta `secondEmail`,
    /// JumpCloud `recoveryEmail` and `alternateEmail`, Entra `otherMails`); collectors must not
    /// match on it.
    #[serde(default)]
    pub personal_email: Option<String>,
    /// What an admin put in the one secondary slot Okta (`secondEmail`) and JumpCloud
    /// (`alternateEmail`) have, when it is not the personal address: typically the old
    /// corporate address of a renamed person. Entra lists it in `otherMails`.
    #[serde(default)]
    pub secondary_email: Option<String>,
    /// OneLogin's `username` when it is not the login (OneLogin keeps `username` and
    /// `userprincipalname` apart; the latter is [`Person::login`]).
    #[serde(default)]
    pub username: Option<String>,
    /// An Entra account without an Exchange mailbox (a service or cloud-only account): Graph
    /// returns `mail: null` and no `proxyAddresses`, and the UPN is the only address.
    #[serde(default)]
    pub no_mailbox: bool,
    #[serde(default)]
    pub okta: Option<OktaStatus>,
    #[serde(default)]
    pub entra: Option<EntraStatus>,
    #[serde(default)]
    pub google: Option<GoogleStatus>,
    #[serde(default)]
    pub jumpcloud: Option<JumpCloudStatus>,
    #[serde(default)]
    pub onelogin: Option<OneLoginStatus>,
}

impl Person {
    /// A person with no account anywhere yet.
    pub fn new(email: impl Into<String>) -> Self {
        Person {
            email: email.into(),
            login: None,
            first_name: None,
            last_name: None,
            aliases: Vec::new(),
            personal_email: None,
            secondary_email: None,
            username: None,
            no_mailbox: false,
            okta: None,
            entra: None,
            google: None,
            jumpcloud: None,
            onelogin: None,
        }
    }

    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    pub fn login(mut self, login: impl Into<String>) -> Self {
        self.login = Some(login.into());
        self
    }

    /// The sign-in name: [`Person::login`] or else the address.
    pub fn login_name(&self) -> &str {
        self.login.as_deref().unwrap_or(&self.email)
    }

    pub fn alias(mut self, address: impl Into<String>) -> Self {
        self.aliases.push(address.into());
        self
    }

    pub fn personal_email(mut self, address: impl Into<String>) -> Self {
        self.personal_email = Some(address.into());
        self
    }

    pub fn secondary_email(mut self, address: impl Into<String>) -> Self {
        self.secondary_email = Some(address.into());
        self
    }

    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The vendors' single secondary slot (Okta `secondEmail`, JumpCloud `alternateEmail`).
    fn secondary_slot(&self) -> Option<&str> {
        self.secondary_email
            .as_deref()
            .or(self.personal_email.as_deref())
    }

    /// No mailbox in Entra: `mail` null, no `proxyAddresses`, the UPN alone.
    pub fn without_mailbox(mut self) -> Self {
        self.no_mailbox = true;
        self
    }

    /// An active account in all five IdPs.
    pub fn everywhere_active(self) -> Self {
        self.okta(OktaStatus::Active)
            .entra(EntraStatus::Enabled)
            .google(GoogleStatus::Active)
            .jumpcloud(JumpCloudStatus::Activated)
            .onelogin(OneLoginStatus::ACTIVE)
    }

    pub fn okta(mut self, status: OktaStatus) -> Self {
        self.okta = Some(status);
        self
    }

    pub fn entra(mut self, status: EntraStatus) -> Self {
        self.entra = Some(status);
        self
    }

    pub fn google(mut self, status: GoogleStatus) -> Self {
        self.google = Some(status);
        self
    }

    pub fn jumpcloud(mut self, status: JumpCloudStatus) -> Self {
        self.jumpcloud = Some(status);
        self
    }

    pub fn onelogin(mut self, status: OneLoginStatus) -> Self {
        self.onelogin = Some(status);
        self
    }

    /// Given and family names, from the fields or else from the address's local part
    /// (`ada.lovelace@` → Ada, Lovelace).
    fn names(&self) -> (String, String) {
        let local = self.email.split('@').next().unwrap_or_default();
        let mut parts = local.split(['.', '_', '-']).filter(|p| !p.is_empty());
        let capitalise = |p: &str| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        };
        let first = parts.next().map(capitalise).unwrap_or_default();
        let last = parts
            .next()
            .map(capitalise)
            .unwrap_or_else(|| "User".into());
        (
            self.first_name.clone().unwrap_or(first),
            self.last_name.clone().unwrap_or(last),
        )
    }

    /// A stable digest of the address, so each vendor id survives a restart.
    fn digest(&self, vendor: Vendor) -> [u8; 32] {
        // The emulator's own SHA-256 call (aws-lc-rs directly, not the product's helper): it
        // depends on sfmcp-soql alone.
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(vendor.as_str().as_bytes());
        context.update(self.email.trim().to_lowercase().as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(context.finish().as_ref());
        out
    }
}

/// Every credential the directories accept. Random per server; never logged.
#[derive(Clone)]
pub struct IdpCredentials {
    pub okta_api_token: String,
    pub azure_tenant_id: String,
    pub azure_client_id: String,
    pub azure_client_secret: String,
    pub google_client_email: String,
    pub google_customer: String,
    pub google_admin_subject: String,
    /// The service account's key pair, made on first use ([`IdpCredentials::google_key`]):
    /// an RSA-2048 generation costs more than everything else `sfmcp demo` does before it
    /// answers `tools/list`, and most runs never call Google.
    google_key: Arc<OnceLock<Option<GoogleKey>>>,
    pub jumpcloud_api_key: String,
    pub onelogin_client_id: String,
    pub onelogin_client_secret: String,
    pub onelogin_subdomain: String,
}

/// The Google service account's key pair.
pub struct GoogleKey {
    /// PKCS#8 PEM of the private key.
    pub private_key_pem: String,
    public_key_der: Vec<u8>,
}

impl IdpCredentials {
    /// The Google service account's key pair, generated on the first call. `None` when the
    /// crypto library refuses (it cannot on a working system): Google's token endpoint then
    /// rejects every assertion, and the other four directories are served as usual.
    pub fn google_key(&self) -> Option<&GoogleKey> {
        self.google_key
            .get_or_init(|| match service_account_key() {
                Ok((private_key_pem, public_key_der)) => {
                    super::journal::record("Google service-account key", &private_key_pem);
                    Some(GoogleKey {
                        private_key_pem,
                        public_key_der,
                    })
                }
                Err(message) => {
                    tracing::error!(%message, "Google directory disabled");
                    None
                }
            })
            .as_ref()
    }
}

impl std::fmt::Debug for IdpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpCredentials")
            .field("azure_tenant_id", &self.azure_tenant_id)
            .field("google_client_email", &self.google_client_email)
            .field("onelogin_subdomain", &self.onelogin_subdomain)
            .finish_non_exhaustive()
    }
}

fn random_token(len_bytes: usize) -> String {
    let mut bytes = vec![0u8; len_bytes];
    crate::state::random_fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_guid() -> String {
    guid(&crate::state::random_bytes::<16>())
}

fn guid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A fresh RSA key pair for the Google service account: (PKCS#8 PEM, public key DER).
fn service_account_key() -> Result<(String, Vec<u8>), String> {
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .map_err(|_| "cannot generate the Google service-account key".to_string())?;
    let der = pair
        .as_der()
        .map_err(|_| "cannot encode the Google service-account key".to_string())?;
    let body = STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok((pem, pair.public_key().as_ref().to_vec()))
}

impl IdpCredentials {
    fn generate() -> Self {
        IdpCredentials {
            okta_api_token: format!("00{}", random_token(30)),
            azure_tenant_id: random_guid(),
            azure_client_id: random_guid(),
            azure_client_secret: random_token(30),
            google_client_email: "sfmcp-audit@sfmcp-emulator.iam.gserviceaccount.com".into(),
            google_customer: "C03az79cb".into(),
            google_admin_subject: "admin@example.com".into(),
            google_key: Arc::default(),
            jumpcloud_api_key: random_token(30),
            onelogin_client_id: random_token(24),
            onelogin_client_secret: random_token(32),
            onelogin_subdomain: "sfmcp-emulator".into(),
        }
    }
}

/// Per-IdP request counters and pending throttles.
#[derive(Debug, Default)]
struct Traffic {
    requests: HashMap<Vendor, u64>,
    throttle: HashMap<Vendor, (u32, u64)>,
}

/// The five directories, their credentials and the tokens they have issued.
pub struct IdpServer {
    people: RwLock<Vec<Person>>,
    credentials: IdpCredentials,
    /// Bearer tokens issued by the Entra, Google and OneLogin token endpoints.
    tokens: Mutex<HashMap<String, Vendor>>,
    traffic: Mutex<Traffic>,
}

impl std::fmt::Debug for IdpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpServer").finish_non_exhaustive()
    }
}

impl IdpServer {
    /// Directories over `people`, with fresh random credentials (the Google key is made on
    /// first use).
    pub fn new(people: Vec<Person>) -> Arc<Self> {
        let credentials = IdpCredentials::generate();
        for (kind, value) in [
            ("Okta API token", &credentials.okta_api_token),
            ("Entra client secret", &credentials.azure_client_secret),
            ("JumpCloud API key", &credentials.jumpcloud_api_key),
            (
                "OneLogin client secret",
                &credentials.onelogin_client_secret,
            ),
        ] {
            super::journal::record(kind, value);
        }
        Arc::new(IdpServer {
            people: RwLock::new(people),
            credentials,
            tokens: Mutex::new(HashMap::new()),
            traffic: Mutex::new(Traffic::default()),
        })
    }

    /// The process's shared directories, served by the emulator's main router until the demo
    /// seed owns them. Empty until [`IdpServer::replace_people`] fills it.
    pub fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<IdpServer>> = OnceLock::new();
        Arc::clone(SHARED.get_or_init(|| IdpServer::new(Vec::new())))
    }

    pub fn credentials(&self) -> &IdpCredentials {
        &self.credentials
    }

    /// Replaces every directory's content (tokens stay valid).
    pub fn replace_people(&self, people: Vec<Person>) {
        if let Ok(mut guard) = self.people.write() {
            *guard = people;
        }
    }

    /// Applies `change` to the people list, e.g. to delete someone from one IdP mid-test.
    pub fn update_people(&self, change: impl FnOnce(&mut Vec<Person>)) {
        if let Ok(mut guard) = self.people.write() {
            change(&mut guard);
        }
    }

    /// A copy of the people list.
    pub fn people(&self) -> Vec<Person> {
        self.people.read().map(|p| p.clone()).unwrap_or_default()
    }

    /// The next `count` data requests to `vendor` answer 429 with `Retry-After: retry_after`.
    pub fn throttle(&self, vendor: Vendor, count: u32, retry_after_secs: u64) {
        if let Ok(mut traffic) = self.traffic.lock() {
            traffic
                .throttle
                .insert(vendor, (count, retry_after_secs.min(3600)));
        }
    }

    /// Data requests (list calls, throttled ones included; token calls excluded) per IdP.
    pub fn requests(&self, vendor: Vendor) -> u64 {
        self.traffic
            .lock()
            .map(|t| t.requests.get(&vendor).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Counts a data request and says whether it must be throttled (with its Retry-After).
    fn admit(&self, vendor: Vendor) -> Option<u64> {
        let mut traffic = self.traffic.lock().ok()?;
        *traffic.requests.entry(vendor).or_default() += 1;
        let slot = traffic.throttle.get_mut(&vendor)?;
        if slot.0 == 0 {
            return None;
        }
        slot.0 -= 1;
        Some(slot.1)
    }

    fn issue_token(&self, vendor: Vendor) -> String {
        let token = random_token(32);
        super::journal::record("IdP access token", &token);
        if let Ok(mut tokens) = self.tokens.lock() {
            // Bounded: a long-running demo must not grow without limit.
            if tokens.len() > 10_000 {
                tokens.clear();
            }
            tokens.insert(token.clone(), vendor);
        }
        token
    }

    fn bearer_valid(&self, headers: &HeaderMap, vendor: Vendor) -> bool {
        let Some(token) = bearer(headers) else {
            return false;
        };
        self.tokens
            .lock()
            .map(|t| t.get(token) == Some(&vendor))
            .unwrap_or(false)
    }

    /// Everything a client needs, per IdP: base URLs, credentials and the environment the
    /// audit collectors read, the Google service-account key included. Contains secrets:
    /// print it only where the emulator's own credentials are printed.
    pub fn announcement(&self, base_url: &str) -> Value {
        let mut announcement = self.directories(base_url);
        announcement["google"]["service_account_key"] =
            self.google_key_file(base_url.trim_end_matches('/'));
        announcement
    }

    /// [`Self::announcement`] without the Google key, which it does not make: the Google
    /// collector reads the key from a file (`google_key_file`), written when first needed.
    pub fn directories(&self, base_url: &str) -> Value {
        let c = &self.credentials;
        let base = base_url.trim_end_matches('/');
        json!({
            "okta": {
                "org_url": base,
                "api_token": c.okta_api_token,
                "env": {"OKTA_ORG_URL": base, "OKTA_API_TOKEN": c.okta_api_token},
            },
            "entra": {
                "graph_base_url": base,
                "authority_url": base,
                "tenant_id": c.azure_tenant_id,
                "client_id": c.azure_client_id,
                "client_secret": c.azure_client_secret,
                "env": {
                    "AZURE_TENANT_ID": c.azure_tenant_id,
                    "AZURE_CLIENT_ID": c.azure_client_id,
                    "AZURE_CLIENT_SECRET": c.azure_client_secret,
                    "GRAPH_BASE_URL": base,
                    "AZURE_AUTHORITY_URL": base,
                },
            },
            "google": {
                "directory_base_url": base,
                "token_url": format!("{base}/oauth2/v4/token"),
                "customer": c.google_customer,
                "admin_subject": c.google_admin_subject,
                "env": {
                    "GOOGLE_ADMIN_SUBJECT": c.google_admin_subject,
                    "GOOGLE_CUSTOMER": c.google_customer,
                    "GOOGLE_DIRECTORY_BASE_URL": base,
                    "GOOGLE_TOKEN_URL": format!("{base}/oauth2/v4/token"),
                },
            },
            "jumpcloud": {
                "base_url": base,
                "api_key": c.jumpcloud_api_key,
                "env": {"JUMPCLOUD_API_KEY": c.jumpcloud_api_key, "JUMPCLOUD_BASE_URL": base},
            },
            "onelogin": {
                "base_url": base,
                "subdomain": c.onelogin_subdomain,
                "client_id": c.onelogin_client_id,
                "client_secret": c.onelogin_client_secret,
                "env": {
                    "ONELOGIN_CLIENT_ID": c.onelogin_client_id,
                    "ONELOGIN_CLIENT_SECRET": c.onelogin_client_secret,
                    "ONELOGIN_SUBDOMAIN": c.onelogin_subdomain,
                    "ONELOGIN_BASE_URL": base,
                },
            },
        })
    }

    /// The service-account key file as Google issues it (write it to disk and point
    /// `GOOGLE_SERVICE_ACCOUNT_KEY_FILE` at it).
    pub fn google_key_file(&self, base_url: &str) -> Value {
        let c = &self.credentials;
        json!({
            "type": "service_account",
            "project_id": "sfmcp-emulator",
            "private_key_id": "emulator",
            "private_key": c.google_key().map_or("", |key| key.private_key_pem.as_str()),
            "client_email": c.google_client_email,
            "client_id": "100000000000000000001",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/oauth2/v4/token", base_url.trim_end_matches('/')),
        })
    }
}

/// The directory routes, ready to merge into any router (whatever its state type).
pub fn router<S: Clone + Send + Sync + 'static>(server: Arc<IdpServer>) -> Router<S> {
    Router::new()
        .route("/api/v1/users", get(okta::list_users))
        .route("/{tenant}/oauth2/v2.0/token", post(entra::token))
        .route("/v1.0/users", get(entra::list_users))
        .route(
            "/v1.0/directory/deletedItems/microsoft.graph.user",
            get(entra::list_deleted),
        )
        .route("/oauth2/v4/token", post(google::token))
        .route("/admin/directory/v1/users", get(google::list_users))
        .route("/api/systemusers", get(jumpcloud::list_users))
        .route("/auth/oauth2/v2/token", post(onelogin::token))
        .route("/api/2/users", get(onelogin::list_users))
        .route("/__emulator/idp/throttle", post(post_throttle))
        .route("/__emulator/idp/requests", get(get_requests))
        .with_state(server)
}

#[derive(Deserialize)]
struct ThrottleRequest {
    idp: Vendor,
    #[serde(default = "one")]
    count: u32,
    #[serde(default = "one_u64")]
    retry_after: u64,
}

fn one() -> u32 {
    1
}

fn one_u64() -> u64 {
    1
}

async fn post_throttle(
    State(server): State<Arc<IdpServer>>,
    Json(request): Json<ThrottleRequest>,
) -> StatusCode {
    server.throttle(request.idp, request.count, request.retry_after);
    StatusCode::NO_CONTENT
}

async fn get_requests(State(server): State<Arc<IdpServer>>) -> Json<Value> {
    let counts: serde_json::Map<String, Value> = Vendor::ALL
        .iter()
        .map(|v| (v.as_str().to_owned(), json!(server.requests(*v))))
        .collect();
    Json(Value::Object(counts))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// A JSON response with extra headers.
fn respond(status: StatusCode, body: Value, headers: &[(&'static str, String)]) -> Response {
    let mut response = (status, Json(body)).into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

/// An opaque page token for an offset, the way vendors hide theirs.
fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_offset(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("o:")?
        .parse()
        .ok()
}

fn hex_id(digest: &[u8], len: usize) -> String {
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(len)
        .map(|n| char::from_digit(u32::from(n), 16).unwrap_or('0'))
        .collect()
}

/// One page of the people `pick` selects (with their state in that IdP), in insertion order,
/// and how many it selects in all. Only the page is cloned, so paging a large directory costs
/// one cheap pass per request.
fn accounts_page<T: Copy>(
    server: &IdpServer,
    pick: impl Fn(&Person) -> Option<T>,
    start: usize,
    limit: usize,
) -> (Vec<(Person, T)>, usize) {
    let Ok(people) = server.people.read() else {
        return (Vec::new(), 0);
    };
    let mut total = 0;
    let mut page = Vec::new();
    for person in people.iter() {
        if let Some(state) = pick(person) {
            if total >= start && page.len() < limit {
                page.push((person.clone(), state));
            }
            total += 1;
        }
    }
    (page, total)
}

/// The request's own URL, for self/next links.
fn request_base(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

/// Fixed timestamps: directories are deterministic.
const CREATED: &str = "2024-03-04T09:15:00.000Z";
const UPDATED: &str = "2025-10-01T12:00:00.000Z";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_offset(&encode_offset(0)), Some(0));
        assert_eq!(decode_offset(&encode_offset(12345)), Some(12345));
        assert_eq!(decode_offset("nonsense"), None);
    }

    #[test]
    fn names_come_from_the_address_when_not_given() {
        let p = Person::new("ada.lovelace@example.com");
        assert_eq!(p.names(), ("Ada".into(), "Lovelace".into()));
        let q = Person::new("x@example.com").name("Grace", "Hopper");
        assert_eq!(q.names(), ("Grace".into(), "Hopper".into()));
    }

    #[test]
    fn credentials_do_not_show_in_debug() {
        let server = IdpServer::new(Vec::new());
        let text = format!("{:?} {:?}", server, server.credentials());
        assert!(!text.contains(&server.credentials().okta_api_token));
        assert!(!text.contains(&server.credentials().azure_client_secret));
        assert!(!text.contains("PRIVATE KEY"));
    }
}
