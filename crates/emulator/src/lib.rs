//! A local Salesforce org: REST API, OAuth, Paragon proxy and IdP directory APIs over an
//! in-memory store, with SOQL evaluated by [`sfmcp_soql`].
//!
//! Start one in-process with [`Emulator::start`], or from the command line with `sfmcp
//! emulator` ([`cli::EmulatorArgs`]), which prints one JSON line with every org's credentials
//! and serves until killed.
//!
//! Layout: [`schema`] and [`objects`] (metadata), [`store`] and [`org`] (records, sharing,
//! field-level security, writes in [`mod@write`]), [`rest`], [`query`] and [`engine`] (the REST
//! API), [`oauth`] and [`signin`] (its login and approval pages), [`control`] (faults,
//! request log, reset), [`seed`] and [`demo`] (orgs).
//!
//! Extending it (Paragon proxy, IdP directories, composite, SOSL):
//! - add routes in [`router`]; every route goes through [`control::middleware`] (faults and
//!   the request log) and shares [`state::AppState`];
//! - serve a Salesforce REST path on behalf of a user authenticated some other way with
//!   [`state::AppState::context_for`] then [`rest::serve`] (usage counting, headers and the
//!   log come with it); new REST resources go in `rest::dispatch`;
//! - credentials for new services go in [`OrgCredentials::paragon`] and
//!   [`Announcement::idps`]; identity-audit seed data in [`demo::identity::seed`].

pub mod composite;
pub mod control;
pub mod demo;
pub mod engine;
pub mod errors;
pub mod files;
pub mod history;
pub mod idp;
pub mod ids;
pub mod journal;
pub mod json;
pub mod listviews;
pub mod oauth;
pub mod objects;
pub mod org;
pub mod paragon;
pub mod query;
pub mod recent;
pub mod reports;
pub mod rest;
pub mod schema;
pub mod search;
pub mod seed;
pub mod signin;
pub mod soap;
pub mod state;
pub mod store;
mod tls;
pub mod tooling;
pub mod upsert;
pub mod write;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use seed::{OrgSource, SeedFileText};
pub use signin::SignIn;
use state::{AppState, Cursors, Sessions, Settings};

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Where to listen; port 0 picks a free one. Loopback only.
    pub listen: SocketAddr,
    /// One org per source.
    pub orgs: Vec<OrgSource>,
    /// The newest API version served, as `"62.0"`.
    pub api_version: String,
    pub daily_api_limit: u64,
    /// How long access tokens live.
    pub token_ttl: std::time::Duration,
    /// Serve HTTPS with a fresh self-signed certificate (see [`EmulatorHandle::tls_cert_pem`]).
    pub tls: bool,
    /// Whether the authorize endpoint shows login and approval pages or approves at once.
    pub sign_in: SignIn,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            orgs: vec![OrgSource::Demo { scale: 1 }],
            api_version: "62.0".into(),
            daily_api_limit: 15_000,
            token_ttl: std::time::Duration::from_secs(2 * 60 * 60),
            tls: false,
            sign_in: SignIn::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot build org {index}: {message}")]
    Seed { index: usize, message: String },
    #[error("refusing to listen on {0}: the emulator serves loopback only (use 127.0.0.1)")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Everything a client needs to reach one org.
#[derive(Debug, Clone, Serialize)]
pub struct OrgCredentials {
    pub name: String,
    pub org_id: String,
    pub instance_url: String,
    /// Where the OAuth endpoints live (`{login_url}/services/oauth2/token`).
    pub login_url: String,
    pub access_token: String,
    pub refresh_token: String,
    pub client_id: String,
    pub client_secret: String,
    pub user_id: String,
    pub username: String,
    /// The password of every user, for the SOAP `login` and the login page
    /// ([`soap::DEMO_PASSWORD`]).
    pub password: &'static str,
    /// Filled in when the Paragon proxy is served.
    pub paragon: Option<serde_json::Value>,
}

/// A running emulator.
pub struct EmulatorHandle {
    pub base_url: String,
    pub api_version: String,
    pub orgs: Vec<OrgCredentials>,
    /// With `tls`: the self-signed certificate (PEM) clients must trust.
    pub tls_cert_pem: Option<String>,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// Expires every access token now; refresh tokens keep working.
    pub fn expire_access_tokens(&self) -> usize {
        self.state.expire_access_tokens()
    }

    /// The shared server state (orgs, sessions, control plane), for in-process tests.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The one JSON line `sfmcp emulator` prints.
#[derive(Debug, Serialize)]
pub struct Announcement<'a> {
    pub base_url: &'a str,
    pub api_version: &'a str,
    pub orgs: &'a [OrgCredentials],
    /// IdP directory base URLs and credentials, filled in when they are served.
    pub idps: Option<serde_json::Value>,
    /// With `--tls`: the file holding the self-signed certificate (PEM) to trust.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<String>,
}

/// Every route of the emulator on one router. Later services (Paragon proxy, IdP directory
/// APIs) merge their routes here.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/services/data", get(rest::versions_list))
        .route("/services/data/", get(rest::versions_list))
        .route("/services/data/{*rest}", axum::routing::any(rest::data))
        .route("/services/Soap/u/{*rest}", post(soap::partner))
        .route("/services/oauth2/token", post(oauth::token))
        .route("/services/oauth2/authorize", get(oauth::authorize))
        .route("/", post(signin::login))
        .route("/secur/logout.jsp", get(signin::logout))
        .route(
            signin::APPROVAL_PATH,
            get(signin::approval_page).post(signin::approve),
        )
        .route(
            "/services/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/services/oauth2/introspect", post(oauth::introspect))
        .route(
            "/services/oauth2/revoke",
            post(oauth::revoke).get(oauth::revoke),
        )
        .route(
            "/id/{org}/{user}",
            get(oauth::identity).post(oauth::identity),
        )
        .route(
            "/__emulator/faults",
            post(control::post_fault).get(control::get_faults),
        )
        .route("/__emulator/faults/clear", post(control::clear_faults))
        .route("/__emulator/requests", get(control::get_requests))
        .merge(paragon::router())
        .route("/__emulator/reset", post(control::post_reset))
        .route(
            "/__emulator/expire-tokens",
            post(control::post_expire_tokens),
        )
        .route(
            "/__emulator/revoke-app-access",
            post(control::post_revoke_app_access),
        )
        .merge(idp::router(idp::IdpServer::shared()))
        .fallback(|| async { rest::error_response(&[errors::ApiError::not_found()]) })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            control::middleware,
        ))
        .with_state(state)
}

pub struct Emulator;

/// A login the caller chooses before the orgs exist: the org's connected app takes this
/// client id and secret, and `refresh_token` is a grant to its default user. With it a client
/// can be configured the moment the listener is bound (see [`Emulator::bind`]).
#[derive(Clone)]
pub struct PresetLogin {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for PresetLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresetLogin")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PresetLogin {
    /// Fresh random credentials shaped like Salesforce's.
    pub fn generate() -> Self {
        let alnum = |len| state::random_token(len).replace(['.', '_'], "A");
        PresetLogin {
            client_id: format!("3MVG9emulator{}", alnum(40)),
            client_secret: alnum(64),
            refresh_token: format!("5Aep{}", alnum(79)),
        }
    }
}

/// An emulator whose listener is bound but whose orgs are not built yet. Clients may connect
/// at once: their connections wait in the listen backlog until [`PendingEmulator::finish`]
/// serves, so a caller can start its own work while the orgs (seconds for a large seed, and
/// two RSA key generations) are built.
pub struct PendingEmulator {
    pub base_url: String,
    config: EmulatorConfig,
    api_major: u32,
    token_ttl: chrono::Duration,
    listener: TcpListener,
    tls: Option<tls::SelfSigned>,
}

impl Emulator {
    /// Builds the orgs, binds the listener and serves in a background task.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        Self::bind(config).await?.finish(&[]).await
    }

    /// Checks the configuration and binds the listener; nothing is built or served yet.
    pub async fn bind(config: EmulatorConfig) -> Result<PendingEmulator, EmulatorError> {
        if !config.listen.ip().is_loopback() {
            return Err(EmulatorError::NotLoopback(config.listen));
        }
        if config.orgs.is_empty() {
            return Err(EmulatorError::Config(
                "at least one org (--demo or --seed FILE) is needed".into(),
            ));
        }
        let api_major: u32 = config
            .api_version
            .strip_suffix(".0")
            .and_then(|m| m.parse().ok())
            .filter(|m| (20..=99).contains(m))
            .ok_or_else(|| {
                EmulatorError::Config(format!(
                    "--api-version {} is not like 62.0",
                    config.api_version
                ))
            })?;
        let token_ttl = chrono::Duration::from_std(config.token_ttl)
            .map_err(|_| EmulatorError::Config("token TTL out of range".into()))?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| EmulatorError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let tls = if config.tls {
            Some(tls::SelfSigned::generate().map_err(EmulatorError::Config)?)
        } else {
            None
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        Ok(PendingEmulator {
            base_url: format!("{scheme}://{addr}"),
            config,
            api_major,
            token_ttl,
            listener,
            tls,
        })
    }
}

impl PendingEmulator {
    /// Builds the orgs and serves them in a background task. `presets[i]`, when given, is
    /// org `i`'s login.
    pub async fn finish(self, presets: &[PresetLogin]) -> Result<EmulatorHandle, EmulatorError> {
        let PendingEmulator {
            base_url,
            config,
            api_major,
            token_ttl,
            listener,
            tls,
        } = self;
        let sources = config.orgs.clone();
        let app_presets = presets.to_vec();
        let (orgs, paragon) = tokio::task::spawn_blocking(move || {
            let orgs = sources
                .iter()
                .enumerate()
                .map(|(index, source)| {
                    let mut org = seed::build(index, source)
                        .map_err(|message| EmulatorError::Seed { index, message })?;
                    if let Some(preset) = app_presets.get(index) {
                        org.app.client_id.clone_from(&preset.client_id);
                        org.app.client_secret.clone_from(&preset.client_secret);
                    }
                    Ok(Arc::new(org))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let paragon = paragon::ParagonProject::new(&orgs);
            Ok::<_, EmulatorError>((orgs, paragon))
        })
        .await
        .map_err(|e| EmulatorError::Config(format!("org build task failed: {e}")))??;
        for org in &orgs {
            journal::record("client secret", &org.app.client_secret);
        }
        let tls_cert_pem = tls.as_ref().map(|t| t.cert_pem.clone());
        let state = Arc::new(AppState {
            orgs,
            settings: Settings {
                api_version: format!("{api_major}.0"),
                daily_api_limit: config.daily_api_limit,
                token_ttl,
                sign_in: config.sign_in,
            },
            base_url: OnceLock::new(),
            sessions: Mutex::new(Sessions::default()),
            cursors: Mutex::new(Cursors::default()),
            cursor_counter: AtomicU64::new(0),
            report_instances: Mutex::new(reports::Instances::default()),
            control: control::Control::default(),
            paragon: Some(paragon),
        });
        let _ = state.base_url.set(base_url.clone());

        let credentials = state
            .orgs
            .iter()
            .map(|org| {
                let scopes: Vec<String> = oauth::DEFAULT_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                let refresh_token = match presets.get(org.index) {
                    Some(preset) => {
                        state.grant_refresh_token(
                            preset.refresh_token.clone(),
                            org.index,
                            &org.default_user,
                            &org.app.client_id,
                            &scopes,
                        );
                        preset.refresh_token.clone()
                    }
                    None => state.issue_refresh_token(
                        org.index,
                        &org.default_user,
                        &org.app.client_id,
                        &scopes,
                    ),
                };
                let (access_token, _) = state.issue_access_token_under(
                    org.index,
                    &org.default_user,
                    &org.app.client_id,
                    &scopes,
                    Some(&refresh_token),
                );
                let tables = org.snapshot();
                let username = org
                    .access(&tables, &org.default_user)
                    .map(|a| a.username.clone())
                    .unwrap_or_default();
                OrgCredentials {
                    name: org.name.clone(),
                    org_id: org.id.clone(),
                    instance_url: base_url.clone(),
                    login_url: base_url.clone(),
                    access_token,
                    refresh_token,
                    client_id: org.app.client_id.clone(),
                    client_secret: org.app.client_secret.clone(),
                    user_id: org.default_user.clone(),
                    username,
                    password: soap::DEMO_PASSWORD,
                    // An org reached through a preset login is its caller's (the demo's):
                    // announcing no Paragon account leaves the key pair unmade until a
                    // Paragon token is first verified.
                    paragon: state
                        .paragon
                        .as_ref()
                        .filter(|_| presets.get(org.index).is_none())
                        .and_then(|p| p.announcement(&base_url, org.index)),
                }
            })
            .collect();

        let app = router(Arc::clone(&state));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            if let Some(tls) = tls {
                return tls.serve(listener, app, rx).await;
            }
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(error) = serve.await {
                tracing::error!(%error, "emulator server stopped");
            }
        });
        Ok(EmulatorHandle {
            base_url,
            api_version: format!("{api_major}.0"),
            orgs: credentials,
            tls_cert_pem,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}
