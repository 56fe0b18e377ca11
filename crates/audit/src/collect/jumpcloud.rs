//! JumpCloud: `GET /api/systemusers` with `x-api-key`, paged by `skip` / `limit` (≤ 100) until
//! `totalCount` is reached. Deleted users are gone from the API, so they read as absent.

use serde_json::Value;

use super::super::idp::jumpcloud_status;
use super::super::model::{IdpDirectory, IdpKind, IdpStatus, IdpUser};
use super::http::Http;
use super::{
    CollectError, CollectOptions, MAX_PAGES, base_url, join, optional, page_size, required,
};

const VENDOR_MAX_PAGE: u32 = 100;
const SETTINGS: &str = "JUMPCLOUD_API_KEY (an administrator's API key) and JUMPCLOUD_BASE_URL";

pub(super) struct Settings {
    base: url::Url,
    api_key: String,
}

impl Settings {
    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CollectError> {
        let api_key = required(
            env,
            "JUMPCLOUD_API_KEY",
            "copy an administrator's API key from the JumpCloud console (My API Key)",
        )?;
        let base = optional(env, "JUMPCLOUD_BASE_URL")
            .unwrap_or_else(|| "https://console.jumpcloud.com".into());
        Ok(Settings {
            base: base_url("JUMPCLOUD_BASE_URL", &base)?,
            api_key,
        })
    }
}

pub(super) async fn collect(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    let http = Http::new(IdpKind::JumpCloud, "JUMPCLOUD_BASE_URL", options)?;
    let limit = page_size(options, VENDOR_MAX_PAGE);
    let url = join(&settings.base, "/api/systemusers");
    let mut users = Vec::new();
    let mut skip = 0usize;
    for _ in 0..MAX_PAGES {
        let query = [("limit", limit.to_string()), ("skip", skip.to_string())];
        let (_, body) = http
            .get_json(url.as_str(), SETTINGS, || {
                http.client()
                    .get(url.clone())
                    .query(&query)
                    .header("x-api-key", &settings.api_key)
                    .header("Accept", "application/json")
            })
            .await?;
        let page = body
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| http.protocol(url.as_str(), "expected a `results` array".into()))?;
        let total = body.get("totalCount").and_then(Value::as_u64).unwrap_or(0) as usize;
        for user in page {
            users.push(to_user(&http, url.as_str(), user)?);
        }
        skip += page.len();
        // Offsets shift if users are deleted mid-sync; an empty page also ends the loop.
        if page.is_empty() || skip >= total {
            return Ok(IdpDirectory {
                kind: IdpKind::JumpCloud,
                source: settings.base.to_string(),
                users,
            });
        }
    }
    Err(http.protocol(url.as_str(), "paging did not end".into()))
}

fn to_user(http: &Http, url: &str, user: &Value) -> Result<IdpUser, CollectError> {
    let text = |key: &str| {
        user.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let id = text("_id").or_else(|| text("id"));
    let flag = |key: &str| user.get(key).and_then(Value::as_bool).unwrap_or(false);
    let state = text("state").unwrap_or_default();
    let (suspended, locked) = (flag("suspended"), flag("account_locked"));
    // An unknown state is reported in the audit's notes, not fatal.
    let status = jumpcloud_status(&state, suspended, locked).unwrap_or(IdpStatus::Unknown);
    // `recoveryEmail` is personal: never read. `alternateEmail` is "a secondary email
    // address, such as a non-company email account" (JumpCloud, "Alternate Email for New
    // Users"), so it is a secondary that matching sorts by domain.
    let email = text("email").ok_or_else(|| {
        http.protocol(
            url,
            format!("user {} has no email", id.as_deref().unwrap_or("?")),
        )
    })?;
    let mut vendor_status = state;
    if suspended {
        vendor_status.push_str(",suspended");
    }
    if locked {
        vendor_status.push_str(",account_locked");
    }
    Ok(IdpUser {
        id,
        email,
        login: text("username"),
        aliases: Vec::new(),
        proxy_addresses: Vec::new(),
        secondary_emails: text("alternateEmail").into_iter().collect(),
        status,
        vendor_status: Some(vendor_status),
    })
}
