//! Google Workspace Directory API: a service-account JWT (RS256, domain-wide delegation to an
//! admin) exchanged for an access token, then `GET /admin/directory/v1/users` followed through
//! `nextPageToken`, once for current users and once with `showDeleted=true` for deleted ones.

use std::path::PathBuf;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::idp::google_status;
use super::super::model::{IdpDirectory, IdpKind, IdpUser};
use super::http::Http;
use super::{
    CollectError, CollectOptions, MAX_PAGES, base_url, join, optional, page_size, required,
};

const VENDOR_MAX_PAGE: u32 = 500;
const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
const TOKEN_SETTINGS: &str = "GOOGLE_SERVICE_ACCOUNT_KEY_FILE (the service account's JSON key, \
                              with domain-wide delegation for the admin.directory.user.readonly \
                              scope) and GOOGLE_ADMIN_SUBJECT (an admin's address)";
const DIRECTORY_SETTINGS: &str = "GOOGLE_ADMIN_SUBJECT (must be an admin allowed to read users) \
                                  and GOOGLE_CUSTOMER";

/// The fields of a service-account key file the collector uses.
#[derive(Deserialize)]
struct KeyFile {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

pub(super) struct Settings {
    client_email: String,
    key: EncodingKey,
    key_id: Option<String>,
    subject: String,
    customer: String,
    token_url: url::Url,
    directory: url::Url,
}

impl Settings {
    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CollectError> {
        const KEY_VAR: &str = "GOOGLE_SERVICE_ACCOUNT_KEY_FILE";
        let path = PathBuf::from(required(
            env,
            KEY_VAR,
            "set it to the path of the service account's JSON key file",
        )?);
        let bad = |message: String| CollectError::BadSetting {
            variable: KEY_VAR,
            message,
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        // The key file's content never goes into a message.
        let key_file: KeyFile = serde_json::from_str(&text).map_err(|e| {
            bad(format!(
                "{} is not a service-account JSON key (line {}, column {}); download a JSON key \
                 for the service account",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let key = EncodingKey::from_rsa_pem(key_file.private_key.as_bytes()).map_err(|_| {
            bad(format!(
                "{}: `private_key` is not an RSA private key in PEM form",
                path.display()
            ))
        })?;
        let subject = required(
            env,
            "GOOGLE_ADMIN_SUBJECT",
            "set it to the address of a Workspace admin the service account acts as",
        )?;
        let customer = optional(env, "GOOGLE_CUSTOMER").unwrap_or_else(|| "my_customer".into());
        let token_url = optional(env, "GOOGLE_TOKEN_URL")
            .or(key_file.token_uri)
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
        let directory = optional(env, "GOOGLE_DIRECTORY_BASE_URL")
            .unwrap_or_else(|| "https://admin.googleapis.com".into());
        Ok(Settings {
            client_email: key_file.client_email,
            key,
            key_id: key_file.private_key_id,
            subject,
            customer,
            token_url: base_url("GOOGLE_TOKEN_URL", &token_url)?,
            directory: base_url("GOOGLE_DIRECTORY_BASE_URL", &directory)?,
        })
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

async fn token(http: &Http, settings: &Settings) -> Result<String, CollectError> {
    let url = settings.token_url.as_str();
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: &settings.client_email,
        sub: &settings.subject,
        scope: SCOPE,
        aud: url,
        iat: now,
        exp: now + 3600,
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = settings.key_id.clone();
    let assertion = jsonwebtoken::encode(&header, &claims, &settings.key).map_err(|_| {
        CollectError::BadSetting {
            variable: "GOOGLE_SERVICE_ACCOUNT_KEY_FILE",
            message: "cannot sign with the key file's private_key".into(),
        }
    })?;
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", assertion.as_str()),
    ];
    http.access_token(url, TOKEN_SETTINGS, || http.client().post(url).form(&form))
        .await
}

pub(super) async fn collect(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    let http = Http::new(
        IdpKind::Google,
        "GOOGLE_DIRECTORY_BASE_URL and GOOGLE_TOKEN_URL",
        options,
    )?;
    let access_token = token(&http, &settings).await?;
    let max_results = page_size(options, VENDOR_MAX_PAGE).to_string();
    let url = join(&settings.directory, "/admin/directory/v1/users");
    let mut users = Vec::new();
    for deleted in [false, true] {
        let mut page_token: Option<String> = None;
        for page_number in 1.. {
            if page_number > MAX_PAGES {
                return Err(http.protocol(url.as_str(), "paging did not end".into()));
            }
            let mut query = vec![
                ("customer", settings.customer.as_str()),
                ("maxResults", max_results.as_str()),
                ("projection", "basic"),
            ];
            if deleted {
                query.push(("showDeleted", "true"));
            }
            if let Some(t) = page_token.as_deref() {
                query.push(("pageToken", t));
            }
            let (_, body) = http
                .get_json(url.as_str(), DIRECTORY_SETTINGS, || {
                    http.client()
                        .get(url.clone())
                        .query(&query)
                        .bearer_auth(&access_token)
                })
                .await?;
            // An empty result has no `users` key at all.
            let page = body.get("users").and_then(Value::as_array);
            for user in page.into_iter().flatten() {
                users.push(to_user(&http, url.as_str(), user, deleted)?);
            }
            page_token = body
                .get("nextPageToken")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty() && page.is_some_and(|p| !p.is_empty()))
                .map(str::to_owned);
            if page_token.is_none() {
                break;
            }
        }
    }
    Ok(IdpDirectory {
        kind: IdpKind::Google,
        source: settings.directory.to_string(),
        users,
    })
}

fn to_user(http: &Http, url: &str, user: &Value, deleted: bool) -> Result<IdpUser, CollectError> {
    let id = user.get("id").and_then(Value::as_str).map(str::to_owned);
    let email = user
        .get("primaryEmail")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            http.protocol(
                url,
                format!("user {} has no primaryEmail", id.as_deref().unwrap_or("?")),
            )
        })?
        .to_owned();
    let flag = |key: &str| user.get(key).and_then(Value::as_bool).unwrap_or(false);
    let (suspended, archived) = (flag("suspended"), flag("archived"));
    // `nonEditableAliases` are the domain-alias forms of the address: corporate too.
    let aliases = ["aliases", "nonEditableAliases"]
        .iter()
        .filter_map(|k| user.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let vendor_status = if deleted {
        "deleted"
    } else if archived {
        "archived"
    } else if suspended {
        "suspended"
    } else {
        "active"
    };
    Ok(IdpUser {
        id,
        email,
        login: None,
        aliases,
        proxy_addresses: Vec::new(),
        secondary_emails: Vec::new(),
        status: google_status(suspended, archived, deleted),
        vendor_status: Some(vendor_status.to_owned()),
    })
}
