//! What every handler shares: the orgs, the settings, OAuth sessions, query cursors and the
//! control plane.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};

use super::control::Control;
use super::errors::ApiError;
use super::org::{Org, UserAccess};
use super::store::Tables;

/// Server-wide settings from the command line or [`super::EmulatorConfig`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The newest API version served, as `"62.0"`.
    pub api_version: String,
    pub daily_api_limit: u64,
    pub token_ttl: chrono::Duration,
    /// What `/services/oauth2/authorize` does with a browser.
    pub sign_in: super::signin::SignIn,
}

/// An access token's grant.
#[derive(Debug, Clone)]
pub struct Session {
    pub org: usize,
    pub user_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The refresh token this access token was minted under: revoking it ends this session.
    pub grant: Option<String>,
}

/// A refresh token's grant: it mints access tokens until revoked.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub org: usize,
    pub user_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub org: usize,
    pub user_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Sessions {
    pub access: HashMap<String, Session>,
    pub refresh: HashMap<String, RefreshGrant>,
    pub codes: HashMap<String, AuthCode>,
    /// The browser side of sign-in: logins, pending authorizations, approvals.
    pub browser: super::signin::BrowserState,
}

/// A query's remaining rows, kept for `nextRecordsUrl`.
#[derive(Debug)]
pub struct Cursor {
    pub org: usize,
    pub user_id: String,
    /// Every record, each already serialized as JSON.
    pub records: Vec<Box<[u8]>>,
    pub total_size: usize,
    pub batch_size: usize,
    pub all_rows: bool,
    /// A Tooling API query's `entityTypeName`: its pages take the Tooling shape and its
    /// locators live under `/tooling/query/`.
    pub tooling: Option<String>,
}

/// Open cursors, oldest dropped first beyond a cap (Salesforce also expires them).
#[derive(Debug, Default)]
pub struct Cursors {
    pub map: HashMap<String, Arc<Cursor>>,
    pub order: VecDeque<String>,
}

const MAX_CURSORS: usize = 2_000;

impl Cursors {
    pub fn insert(&mut self, id: String, cursor: Arc<Cursor>) {
        if self.order.len() >= MAX_CURSORS
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        self.order.push_back(id.clone());
        self.map.insert(id, cursor);
    }
}

pub struct AppState {
    pub orgs: Vec<Arc<Org>>,
    pub settings: Settings,
    /// `http://127.0.0.1:port`, known once the listener is bound.
    pub base_url: OnceLock<String>,
    pub sessions: Mutex<Sessions>,
    pub cursors: Mutex<Cursors>,
    pub cursor_counter: AtomicU64,
    /// Asynchronous report runs (`/analytics/reports/{id}/instances`).
    pub report_instances: Mutex<super::reports::Instances>,
    pub control: Control,
    /// The Paragon project whose proxy fronts the orgs.
    pub paragon: Option<super::paragon::ParagonProject>,
}

/// The authenticated caller of one REST request, with the snapshot it works on.
pub struct Ctx {
    pub org: Arc<Org>,
    pub tables: Arc<Tables>,
    pub access: Arc<UserAccess>,
    /// The request's API version, as `"62.0"`.
    pub version: String,
    /// Set inside a composite transaction: writes go to these working tables, which the
    /// composite publishes (or drops) as a whole.
    pub transaction: Option<Arc<Mutex<Tables>>>,
}

impl Ctx {
    /// Runs one write for this caller: inside the open composite transaction if there is
    /// one, else as a transaction of its own.
    pub fn write<R, E>(&self, work: impl FnOnce(&mut Tables) -> Result<R, E>) -> Result<R, E> {
        match &self.transaction {
            Some(working) => {
                let mut working = working.lock().unwrap_or_else(|p| p.into_inner());
                // A failed write must leave the transaction's tables as they were.
                let mut copy = Tables::clone(&working);
                let out = work(&mut copy)?;
                *working = copy;
                Ok(out)
            }
            None => self.org.transaction(work),
        }
    }
}

/// Random URL-safe token text.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    // 64 symbols: the low six bits of a random byte pick one without bias.
    let mut bytes = vec![0u8; len];
    random_fill(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 0x3f)] as char)
        .collect()
}

/// Fills `dest` from the OS's CSPRNG. The emulator asks the OS itself rather than the
/// product's `sfmcp_salesforce::crypto`: it depends on `sfmcp-soql` alone, on purpose. Not
/// through AWS-LC, whose first `RAND_bytes` costs about 25 ms of jitter-entropy seeding.
/// Should the OS fail, stopping beats handing out guessable tokens.
pub fn random_fill(dest: &mut [u8]) {
    if getrandom::fill(dest).is_err() {
        std::process::abort();
    }
}

/// `N` random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    random_fill(&mut bytes);
    bytes
}

/// A random number in `[0, 1)`.
pub fn random_unit() -> f64 {
    (u64::from_le_bytes(random_bytes()) >> 11) as f64 / (1u64 << 53) as f64
}

impl AppState {
    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }

    pub fn org(&self, index: usize) -> Option<&Arc<Org>> {
        self.orgs.get(index)
    }

    /// Mints an access token for a user. Tokens start with the 15-character org id and `!`,
    /// like Salesforce's.
    pub fn issue_access_token(
        &self,
        org: usize,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
    ) -> (String, Session) {
        self.issue_access_token_under(org, user_id, client_id, scopes, None)
    }

    /// [`AppState::issue_access_token`] for a token minted under a refresh token's grant.
    pub fn issue_access_token_under(
        &self,
        org: usize,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
        grant: Option<&str>,
    ) -> (String, Session) {
        let prefix = self
            .orgs
            .get(org)
            .map_or(String::new(), |o| o.id.chars().take(15).collect());
        let token = format!("{prefix}!{}", random_token(96));
        super::journal::record("access token", &token);
        let now = Utc::now();
        let session = Session {
            org,
            user_id: user_id.to_string(),
            client_id: client_id.to_string(),
            scopes: scopes.to_vec(),
            issued_at: now,
            expires_at: now + self.settings.token_ttl,
            grant: grant.map(str::to_string),
        };
        self.lock_sessions()
            .access
            .insert(token.clone(), session.clone());
        (token, session)
    }

    pub fn issue_refresh_token(
        &self,
        org: usize,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
    ) -> String {
        let prefix = self
            .orgs
            .get(org)
            .map_or(String::new(), |o| o.id.chars().take(15).collect());
        let token = format!("5Aep{prefix}{}", random_token(64).replace(['.', '_'], "A"));
        self.grant_refresh_token(token.clone(), org, user_id, client_id, scopes);
        token
    }

    /// Makes `token` a refresh token of `user_id` (a token chosen before the org existed).
    pub fn grant_refresh_token(
        &self,
        token: String,
        org: usize,
        user_id: &str,
        client_id: &str,
        scopes: &[String],
    ) {
        super::journal::record("refresh token", &token);
        self.lock_sessions().refresh.insert(
            token,
            RefreshGrant {
                org,
                user_id: user_id.to_string(),
                client_id: client_id.to_string(),
                scopes: scopes.to_vec(),
            },
        );
    }

    pub fn lock_sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Expires every access token now (refresh tokens stay valid): the control plane's way
    /// to exercise refresh paths.
    pub fn expire_access_tokens(&self) -> usize {
        let mut sessions = self.lock_sessions();
        let past = Utc::now() - chrono::Duration::seconds(1);
        for session in sessions.access.values_mut() {
            session.expires_at = past;
        }
        sessions.access.len()
    }

    /// Ends every token `user_id` holds for `client_id` (for every OAuth app when `None`:
    /// SOAP sessions are not an app's) and forgets their approvals. Returns how many ended.
    pub fn revoke_app_access(&self, org: usize, user_id: &str, client_id: Option<&str>) -> usize {
        let mut sessions = self.lock_sessions();
        let hits = |o: usize, user: &str, client: &str| {
            o == org
                && user == user_id
                && client_id.is_none_or(|c| c == client)
                && client != super::soap::SOAP_CLIENT
        };
        let before = sessions.access.len() + sessions.refresh.len();
        sessions
            .refresh
            .retain(|_, g| !hits(g.org, &g.user_id, &g.client_id));
        sessions
            .access
            .retain(|_, s| !hits(s.org, &s.user_id, &s.client_id));
        let revoked = before - sessions.access.len() - sessions.refresh.len();
        sessions
            .browser
            .forget_approvals(org, user_id, |client| hits(org, user_id, client));
        revoked
    }

    /// The session behind a bearer token, if valid and unexpired.
    pub fn session_for(&self, token: &str) -> Option<Session> {
        let sessions = self.lock_sessions();
        let session = sessions.access.get(token)?;
        (session.expires_at > Utc::now()).then(|| session.clone())
    }

    /// Authenticates a REST request: a bearer token with the `api` scope, a live user with
    /// API access.
    pub fn authenticate(&self, headers: &HeaderMap, version: &str) -> Result<Ctx, ApiError> {
        let header = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(token) = header.and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("OAuth "))
                .map(str::trim)
        }) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_AUTH_HEADER",
                "INVALID_HEADER_TYPE",
            ));
        };
        let session = self
            .session_for(token)
            .ok_or_else(ApiError::invalid_session)?;
        if !session.scopes.iter().any(|s| s == "api" || s == "full") {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "INVALID_SESSION_ID",
                "This session is not valid for use with the REST API",
            ));
        }
        self.context_for(session.org, &session.user_id, version)
    }

    /// The context of a user of an org, for requests authenticated another way (the Paragon
    /// proxy's credential): a live user with API access.
    pub fn context_for(&self, org: usize, user_id: &str, version: &str) -> Result<Ctx, ApiError> {
        let org = Arc::clone(self.orgs.get(org).ok_or_else(ApiError::invalid_session)?);
        let tables = org.snapshot();
        let access = org
            .access(&tables, user_id)
            .ok_or_else(ApiError::invalid_session)?;
        if !access.active {
            return Err(ApiError::invalid_session());
        }
        if !access.api_enabled {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "API_CURRENTLY_DISABLED",
                "API is disabled for this User",
            ));
        }
        Ok(Ctx {
            org,
            tables,
            access,
            version: version.to_string(),
            transaction: None,
        })
    }

    /// Counts one API call against the org's daily allocation; refuses it when spent.
    pub fn count_api_call(&self, org: &Org) -> Result<u64, ApiError> {
        let limit = self.settings.daily_api_limit;
        let used = org.api_used.fetch_add(1, Ordering::SeqCst) + 1;
        if used > limit {
            org.api_used.store(limit, Ordering::SeqCst);
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ));
        }
        Ok(used)
    }

    /// A fresh query locator id (`01g…`).
    pub fn next_locator(&self) -> String {
        let n = self.cursor_counter.fetch_add(1, Ordering::SeqCst) + 1;
        super::ids::mint("01g", n)
    }
}
