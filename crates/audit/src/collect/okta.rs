//! Okta: `GET /api/v1/users` (every status but DEPROVISIONED) followed through `Link: rel="next"`,
//! then `search=status eq "DEPROVISIONED"` for the accounts the plain list leaves out.

use serde_json::Value;

use super::super::idp::okta_status;
use super::super::model::{IdpDirectory, IdpKind, IdpStatus, IdpUser};
use super::http::{Http, next_link};
use super::{CollectError, CollectOptions, MAX_PAGES, base_url, join, page_size, required};

const VENDOR_MAX_PAGE: u32 = 200;
const SETTINGS: &str = "OKTA_API_TOKEN (an API token of an admin with read access to users) and \
                        OKTA_ORG_URL";

pub(super) struct Settings {
    org_url: url::Url,
    token: String,
}

impl Settings {
    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CollectError> {
        let org_url = required(
            env,
            "OKTA_ORG_URL",
            "set it to your Okta org, e.g. https://acme.okta.com",
        )?;
        Ok(Settings {
            org_url: base_url("OKTA_ORG_URL", &org_url)?,
            token: required(
                env,
                "OKTA_API_TOKEN",
                "create an API token in Okta (Security > API > Tokens) and export it",
            )?,
        })
    }
}

pub(super) async fn collect(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    let http = Http::new(IdpKind::Okta, "OKTA_ORG_URL", options)?;
    let limit = page_size(options, VENDOR_MAX_PAGE).to_string();
    let mut first = join(&settings.org_url, "/api/v1/users");
    first.query_pairs_mut().append_pair("limit", &limit);
    let mut users = Vec::new();
    list(&http, &settings, first.clone(), &mut users).await?;
    let mut deprovisioned = first;
    deprovisioned
        .query_pairs_mut()
        .append_pair("search", "status eq \"DEPROVISIONED\"");
    list(&http, &settings, deprovisioned, &mut users).await?;
    Ok(IdpDirectory {
        kind: IdpKind::Okta,
        source: settings.org_url.to_string(),
        users,
    })
}

async fn list(
    http: &Http,
    settings: &Settings,
    first: url::Url,
    users: &mut Vec<IdpUser>,
) -> Result<(), CollectError> {
    let auth = format!("SSWS {}", settings.token);
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(http.protocol(url.as_str(), "paging did not end".into()));
        }
        let (headers, body) = http
            .get_json(url.as_str(), SETTINGS, || {
                http.client()
                    .get(url.clone())
                    .header("Authorization", &auth)
                    .header("Accept", "application/json")
            })
            .await?;
        let Value::Array(page) = body else {
            return Err(http.protocol(url.as_str(), "expected a JSON array of users".into()));
        };
        for user in &page {
            users.push(to_user(http, url.as_str(), user)?);
        }
        if let Some(link) = next_link(&headers) {
            // An empty page with a next link would loop forever.
            if !page.is_empty() {
                next = Some(http.same_origin(&settings.org_url, &link)?);
            }
        }
    }
    Ok(())
}

fn to_user(http: &Http, url: &str, user: &Value) -> Result<IdpUser, CollectError> {
    let id = user.get("id").and_then(Value::as_str).map(str::to_owned);
    let text = |key: &str| {
        user.pointer(&format!("/profile/{key}"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let vendor_status = user.get("status").and_then(Value::as_str).unwrap_or("");
    // An unknown status is reported in the audit's notes, not fatal.
    let status = okta_status(vendor_status).unwrap_or(IdpStatus::Unknown);
    let login = text("login");
    let email = text("email").or_else(|| login.clone()).ok_or_else(|| {
        http.protocol(
            url,
            format!("user {} has no profile.email", id.as_deref().unwrap_or("?")),
        )
    })?;
    Ok(IdpUser {
        id,
        email,
        login,
        aliases: Vec::new(),
        proxy_addresses: Vec::new(),
        // Okta documents `secondEmail` as the recovery address, yet admins also keep a
        // renamed person's old corporate address there: matching sorts the two by domain.
        secondary_emails: text("secondEmail").into_iter().collect(),
        status,
        vendor_status: Some(vendor_status.to_owned()),
    })
}
