//! OneLogin API v2: a client-credentials token (`POST /auth/oauth2/v2/token`), then
//! `GET /api/2/users` followed through the `After-Cursor` header (or `Link: rel="next"`).
//! Deleted users are gone from the API, so they read as absent.

use serde_json::{Value, json};

use super::super::idp::onelogin_status;
use super::super::model::{IdpDirectory, IdpKind, IdpStatus, IdpUser};
use super::http::{Http, next_link};
use super::{
    CollectError, CollectOptions, MAX_PAGES, base_url, join, optional, page_size, required,
};

const VENDOR_MAX_PAGE: u32 = 100;
const TOKEN_SETTINGS: &str = "ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET (API credentials \
                              with at least `Read users` scope) and ONELOGIN_SUBDOMAIN";
const DATA_SETTINGS: &str = "that the ONELOGIN_CLIENT_ID credentials have `Read users` scope";

pub(super) struct Settings {
    base: url::Url,
    client_id: String,
    client_secret: String,
}

impl Settings {
    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CollectError> {
        let client_id = required(
            env,
            "ONELOGIN_CLIENT_ID",
            "create API credentials in OneLogin (Developers > API Credentials)",
        )?;
        let client_secret = required(
            env,
            "ONELOGIN_CLIENT_SECRET",
            "set it to the secret of the ONELOGIN_CLIENT_ID credentials",
        )?;
        let base = match optional(env, "ONELOGIN_BASE_URL") {
            Some(base) => base_url("ONELOGIN_BASE_URL", &base)?,
            None => {
                let subdomain = required(
                    env,
                    "ONELOGIN_SUBDOMAIN",
                    "set it to your OneLogin subdomain (acme for acme.onelogin.com)",
                )?;
                if !subdomain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(CollectError::BadSetting {
                        variable: "ONELOGIN_SUBDOMAIN",
                        message: format!(
                            "`{subdomain}` is not a subdomain; use acme for acme.onelogin.com"
                        ),
                    });
                }
                base_url(
                    "ONELOGIN_SUBDOMAIN",
                    &format!("https://{subdomain}.onelogin.com"),
                )?
            }
        };
        Ok(Settings {
            base,
            client_id,
            client_secret,
        })
    }
}

async fn token(http: &Http, settings: &Settings) -> Result<String, CollectError> {
    let url = join(&settings.base, "/auth/oauth2/v2/token");
    let authorization = format!(
        "client_id:{}, client_secret:{}",
        settings.client_id, settings.client_secret
    );
    http.access_token(url.as_str(), TOKEN_SETTINGS, || {
        http.client()
            .post(url.clone())
            .header("Authorization", &authorization)
            .json(&json!({"grant_type": "client_credentials"}))
    })
    .await
}

pub(super) async fn collect(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    let http = Http::new(
        IdpKind::OneLogin,
        "ONELOGIN_SUBDOMAIN or ONELOGIN_BASE_URL",
        options,
    )?;
    let access_token = token(&http, &settings).await?;
    let limit = page_size(options, VENDOR_MAX_PAGE).to_string();
    let mut first = join(&settings.base, "/api/2/users");
    first.query_pairs_mut().append_pair("limit", &limit);
    let mut next = Some(first);
    let mut users = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(http.protocol(url.as_str(), "paging did not end".into()));
        }
        let (headers, body) = http
            .get_json(url.as_str(), DATA_SETTINGS, || {
                http.client().get(url.clone()).bearer_auth(&access_token)
            })
            .await?;
        let Value::Array(page) = body else {
            return Err(http.protocol(url.as_str(), "expected a JSON array of users".into()));
        };
        for user in &page {
            users.push(to_user(&http, url.as_str(), user)?);
        }
        if page.is_empty() {
            break;
        }
        let after = headers
            .get("after-cursor")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|c| !c.is_empty());
        next = match (after, next_link(&headers)) {
            (Some(cursor), _) => {
                let mut url = join(&settings.base, "/api/2/users");
                url.query_pairs_mut()
                    .append_pair("limit", &limit)
                    .append_pair("cursor", cursor);
                Some(url)
            }
            (None, Some(link)) => Some(http.same_origin(&settings.base, &link)?),
            (None, None) => None,
        };
    }
    Ok(IdpDirectory {
        kind: IdpKind::OneLogin,
        source: settings.base.to_string(),
        users,
    })
}

fn to_user(http: &Http, url: &str, user: &Value) -> Result<IdpUser, CollectError> {
    let id = user.get("id").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    let text = |key: &str| {
        user.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let status_code = user.get("status").and_then(Value::as_i64);
    let state = user.get("state").and_then(Value::as_i64);
    // A code this version does not know is reported in the audit's notes, not fatal: one odd
    // account must not stop the audit of everyone else.
    let status = status_code
        .and_then(|s| onelogin_status(s, state))
        .unwrap_or(IdpStatus::Unknown);
    let email = text("email").ok_or_else(|| {
        http.protocol(
            url,
            format!("user {} has no email", id.as_deref().unwrap_or("?")),
        )
    })?;
    // `userprincipalname` (the directory's sign-in name) and `username` are kept apart by
    // OneLogin; both are names the IdP issues, so both identify the account.
    let username = text("username");
    let login = text("userprincipalname").or_else(|| username.clone());
    let aliases = username
        .filter(|u| Some(u) != login.as_ref())
        .into_iter()
        .collect();
    Ok(IdpUser {
        id,
        email,
        login,
        aliases,
        proxy_addresses: Vec::new(),
        secondary_emails: Vec::new(),
        status,
        vendor_status: Some(format!(
            "status={},state={}",
            status_code.unwrap_or_default(),
            state.map_or_else(|| "-".to_owned(), |s| s.to_string())
        )),
    })
}
