//! The browser side of the web-server flow, as Salesforce runs it: `/services/oauth2/authorize`
//! shows a login page (username and password, posted to `/`), then an "Allow Access?" page
//! listing the requested scopes (`/setup/secur/RemoteAccessAuthorizationPage.apexp`), then
//! sends the browser back to the redirect URI with a code and the client's `state`.
//!
//! What it keeps from Salesforce (web-server flow, "OAuth 2.0 Authorization Errors" and the
//! `prompt` / `login_hint` parameters of the authorize endpoint, Salesforce Help):
//! - a login leaves a browser session (cookie `sid`): the next authorization of the same org
//!   skips the login page; `prompt=login` asks again;
//! - once a user has allowed an app, later authorizations skip the approval page until every
//!   refresh token of that user and app is revoked; `prompt=consent` asks again;
//! - `prompt=none` never shows a page: it redirects with `login_required` or
//!   `consent_required` instead;
//! - `login_hint` fills in the username; `/secur/logout.jsp` ends the browser session;
//! - Deny redirects with `error=access_denied&error_description=end-user denied authorization`;
//! - a wrong password, an inactive or a frozen user shows the login page again with
//!   Salesforce's one message for every failed login, and issues nothing;
//! - with Permitted Users "Admin approved users are pre-authorized" there is no approval page:
//!   a pre-authorized user gets the code, anyone else `OAUTH_APP_ACCESS_DENIED` ("user is not
//!   admin approved to access this app").
//!
//! Every user of the emulator signs in with [`super::soap::DEMO_PASSWORD`], as with the SOAP
//! login. With [`SignIn::AutoApprove`] none of this runs: the authorize endpoint approves at
//! once (see [`super::oauth::authorize`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};

use super::oauth::{AuthorizeRequest, find_user_by_username, issue_code, redirect, redirect_error};
use super::rest::query_params;
use super::soap::DEMO_PASSWORD;
use super::state::{AppState, random_token};

/// What `/services/oauth2/authorize` does when a browser arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignIn {
    /// Approves at once, as the `login_hint` user or the org's default user: for tests and
    /// demos that need a code, not a person.
    #[default]
    AutoApprove,
    /// Login page, then approval page, as Salesforce does.
    LoginPage,
}

/// Where the approval page lives (Salesforce's path).
pub const APPROVAL_PATH: &str = "/setup/secur/RemoteAccessAuthorizationPage.apexp";
const COOKIE: &str = "sid";
/// Salesforce's message for any failed login, whatever the reason.
const LOGIN_FAILED: &str = "Please check your username and password. If you still can't log in, contact your Salesforce administrator.";
/// An unfinished sign-in is dropped after this long, and past this many at once the oldest go.
const PENDING_MINUTES: i64 = 15;
const MAX_PENDING: usize = 10_000;
const LOGIN_HOURS: i64 = 2;

/// Browser sessions, authorizations waiting for a login or an answer, and who allowed what.
#[derive(Debug, Default)]
pub struct BrowserState {
    logins: HashMap<String, BrowserLogin>,
    pending: HashMap<String, Pending>,
    /// (org, user, client id) that have allowed access.
    approvals: HashSet<(usize, String, String)>,
}

#[derive(Debug, Clone)]
struct BrowserLogin {
    org: usize,
    user_id: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Pending {
    request: AuthorizeRequest,
    /// Set once someone has logged in for this request.
    user_id: Option<String>,
    force_consent: bool,
    expires_at: DateTime<Utc>,
}

impl BrowserState {
    /// The next sign-in of this user to this app asks for approval again.
    pub fn forget_approval(&mut self, org: usize, user_id: &str, client_id: &str) {
        self.approvals
            .remove(&(org, user_id.to_string(), client_id.to_string()));
    }

    /// Forgets every approval of this user for the apps `which` picks.
    pub fn forget_approvals(&mut self, org: usize, user_id: &str, which: impl Fn(&str) -> bool) {
        self.approvals
            .retain(|(o, u, client)| !(*o == org && u == user_id && which(client)));
    }

    fn approved(&self, org: usize, user_id: &str, client_id: &str) -> bool {
        self.approvals
            .contains(&(org, user_id.to_string(), client_id.to_string()))
    }

    fn hold(&mut self, pending: Pending) -> String {
        let now = Utc::now();
        self.pending.retain(|_, p| p.expires_at > now);
        self.logins.retain(|_, l| l.expires_at > now);
        if self.pending.len() >= MAX_PENDING
            && let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.expires_at)
                .map(|(k, _)| k.clone())
        {
            self.pending.remove(&oldest);
        }
        let source = random_token(48).replace(['.', '_'], "x");
        self.pending.insert(source.clone(), pending);
        source
    }

    fn live_pending(&self, source: &str) -> Option<Pending> {
        self.pending
            .get(source)
            .filter(|p| p.expires_at > Utc::now())
            .cloned()
    }
}

/// The authorize endpoint's interactive path, for a request already checked.
pub(super) fn begin(
    state: &AppState,
    headers: &HeaderMap,
    request: AuthorizeRequest,
    params: &HashMap<String, String>,
) -> Response {
    let prompts: Vec<&str> = params
        .get("prompt")
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    let prompt_none = prompts.contains(&"none");
    let force_login = prompts.contains(&"login");
    let force_consent = prompts.contains(&"consent");
    let logged_in = if force_login {
        None
    } else {
        logged_in_user(state, headers, request.org)
    };
    let pending = Pending {
        request,
        user_id: None,
        force_consent,
        expires_at: Utc::now() + Duration::minutes(PENDING_MINUTES),
    };
    match logged_in {
        Some(user_id) => after_login(state, pending, &user_id, prompt_none),
        None if prompt_none => {
            redirect_error(pending.request, "login_required", "user must be logged in")
        }
        None => {
            let hint = params.get("login_hint").cloned().unwrap_or_default();
            let source = state.lock_sessions().browser.hold(pending);
            login_page(&source, &hint, None)
        }
    }
}

/// The user behind the browser's `sid` cookie, when it is a live login to `org` of a user who
/// can still log in (active, not frozen).
fn logged_in_user(state: &AppState, headers: &HeaderMap, org: usize) -> Option<String> {
    let sid = cookie(headers, COOKIE)?;
    let login = state
        .lock_sessions()
        .browser
        .logins
        .get(&sid)
        .filter(|l| l.org == org && l.expires_at > Utc::now())
        .cloned()?;
    let org = state.org(org)?;
    super::oauth::user_can_log_in(org, &login.user_id).then_some(login.user_id)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Approval known: a code. Otherwise the approval page (or `consent_required`).
fn after_login(
    state: &AppState,
    mut pending: Pending,
    user_id: &str,
    prompt_none: bool,
) -> Response {
    let admission = state
        .org(pending.request.org)
        .and_then(|org| super::oauth::admin_approval(org, user_id));
    match admission {
        Some(false) => return super::oauth::not_admin_approved(pending.request),
        Some(true) => return issue_code(state, pending.request, user_id),
        None => {}
    }
    let request = &pending.request;
    let approved = state
        .lock_sessions()
        .browser
        .approved(request.org, user_id, &request.client_id);
    if approved && !pending.force_consent {
        return issue_code(state, pending.request, user_id);
    }
    if prompt_none {
        return redirect_error(
            pending.request,
            "consent_required",
            "user must approve this app",
        );
    }
    pending.user_id = Some(user_id.to_string());
    let source = state.lock_sessions().browser.hold(pending);
    redirect(&format!("{APPROVAL_PATH}?source={source}"))
}

/// `POST /`: the login form.
pub async fn login(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let source = form.get("source").map(String::as_str).unwrap_or("");
    let username = form.get("username").map(String::as_str).unwrap_or("");
    let password = form.get("pw").map(String::as_str).unwrap_or("");
    let Some(pending) = state.lock_sessions().browser.live_pending(source) else {
        return expired_page();
    };
    let Some(org) = state.org(pending.request.org).cloned() else {
        return expired_page();
    };
    let user = find_user_by_username(&org, username).filter(|user_id| {
        password == DEMO_PASSWORD && super::oauth::user_can_log_in(&org, user_id)
    });
    let Some(user_id) = user else {
        return login_page(source, username, Some(LOGIN_FAILED));
    };
    let sid = random_token(64).replace(['.', '_'], "x");
    super::journal::record("browser session", &sid);
    {
        let mut sessions = state.lock_sessions();
        sessions.browser.pending.remove(source);
        sessions.browser.logins.insert(
            sid.clone(),
            BrowserLogin {
                org: org.index,
                user_id: user_id.clone(),
                expires_at: Utc::now() + Duration::hours(LOGIN_HOURS),
            },
        );
    }
    let mut response = after_login(&state, pending, &user_id, false);
    let secure = if state.base_url().starts_with("https:") {
        "; Secure"
    } else {
        ""
    };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The pending request of `source` when the browser is logged in as the user it waits for.
fn pending_for_browser(state: &AppState, headers: &HeaderMap, source: &str) -> Option<Pending> {
    let pending = state.lock_sessions().browser.live_pending(source)?;
    let waiting_for = pending.user_id.as_deref()?;
    let browser_user = logged_in_user(state, headers, pending.request.org)?;
    (browser_user == waiting_for).then_some(pending)
}

/// `GET` the approval page.
pub async fn approval_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let source = query_params(raw.as_deref())
        .into_iter()
        .find(|(k, _)| k == "source")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let Some(pending) = pending_for_browser(&state, &headers, &source) else {
        return expired_page();
    };
    let Some(org) = state.org(pending.request.org) else {
        return expired_page();
    };
    let user_id = pending.user_id.as_deref().unwrap_or_default();
    let (name, username) = super::oauth::user_fields(org, user_id)
        .map(|f| {
            let text = |k: &str| {
                f.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            (text("Name"), text("Username"))
        })
        .unwrap_or_default();
    let scopes: String = scope_descriptions(&pending.request.scopes)
        .iter()
        .map(|d| format!("<li>{}</li>", escape(d)))
        .collect();
    page(
        StatusCode::OK,
        "Allow Access? | Salesforce",
        &format!(
            r#"<h1>Allow Access?</h1>
<p>You are logged in as <strong id="user">{name}</strong> (<span id="username">{username}</span>) in {org_name}.</p>
<p>The app <strong>{client}</strong> is asking to:</p>
<ul id="scopes">{scopes}</ul>
<p>Do you want to allow access for {username}?</p>
<form method="post" action="{APPROVAL_PATH}">
<input type="hidden" name="source" value="{source}">
<button type="submit" name="decision" value="deny" id="oadeny">Deny</button>
<button type="submit" name="decision" value="allow" id="oaapprove">Allow</button>
</form>"#,
            name = escape(&name),
            username = escape(&username),
            org_name = escape(&org.name),
            client = escape(&org.app.name),
            source = escape(&source),
        ),
    )
}

/// `POST` the approval page: Allow gives the code, Deny an `access_denied` redirect.
pub async fn approve(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let source = form.get("source").map(String::as_str).unwrap_or("");
    let Some(pending) = pending_for_browser(&state, &headers, source) else {
        return expired_page();
    };
    state.lock_sessions().browser.pending.remove(source);
    let user_id = pending.user_id.clone().unwrap_or_default();
    match form.get("decision").map(String::as_str) {
        Some("allow") => {
            state.lock_sessions().browser.approvals.insert((
                pending.request.org,
                user_id.clone(),
                pending.request.client_id.clone(),
            ));
            issue_code(&state, pending.request, &user_id)
        }
        _ => redirect_error(
            pending.request,
            "access_denied",
            "end-user denied authorization",
        ),
    }
}

/// `GET /secur/logout.jsp`: ends the browser's session, as Salesforce's logout does; the next
/// authorization shows the login page again.
pub async fn logout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(sid) = cookie(&headers, COOKIE) {
        state.lock_sessions().browser.logins.remove(&sid);
    }
    let mut response = page(
        StatusCode::OK,
        "Logout | Salesforce",
        r#"<h1 id="logged-out">You have logged out.</h1>"#,
    );
    if let Ok(expired) = HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
    )) {
        response.headers_mut().append(header::SET_COOKIE, expired);
    }
    response
}

/// What the approval page lists, in Salesforce's words.
fn scope_descriptions(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in scopes {
        let text = match scope.as_str() {
            "api" => "Manage user data via APIs (api)".to_string(),
            "refresh_token" | "offline_access" => {
                "Perform requests at any time (refresh_token, offline_access)".to_string()
            }
            "id" | "profile" | "email" | "address" | "phone" => {
                "Access the identity URL service (id, profile, email, address, phone)".to_string()
            }
            "web" => "Manage user data via Web browsers (web)".to_string(),
            "openid" => "Access unique user identifiers (openid)".to_string(),
            "full" => "Full access (full)".to_string(),
            other => format!("Access {other} ({other})"),
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

fn login_page(source: &str, username: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!(r#"<div id="error" role="alert">{}</div>"#, escape(e)))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Login | Salesforce",
        &format!(
            r#"<h1>Log In</h1>
{error}
<form method="post" action="/" name="login">
<input type="hidden" name="source" value="{source}">
<label for="username">Username</label>
<input type="email" id="username" name="username" value="{username}" autocomplete="username">
<label for="password">Password</label>
<input type="password" id="password" name="pw" autocomplete="current-password">
<input type="submit" id="Login" name="Login" value="Log In">
</form>"#,
            source = escape(source),
            username = escape(username),
        ),
    )
}

fn expired_page() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Error | Salesforce",
        r#"<h1 id="error">Your login attempt has timed out. Return to the app and sign in again.</h1>"#,
    )
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Sign-in pages refuse to be framed (clickjacking), as Salesforce's do.
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn scopes_are_listed_once_in_salesforce_words() {
        let scopes: Vec<String> = ["api", "refresh_token", "offline_access", "id", "email"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            scope_descriptions(&scopes),
            [
                "Manage user data via APIs (api)",
                "Perform requests at any time (refresh_token, offline_access)",
                "Access the identity URL service (id, profile, email, address, phone)",
            ]
        );
    }
}
