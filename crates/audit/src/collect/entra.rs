//! Microsoft Entra ID through Graph: a client-credentials token, then `GET /v1.0/users` with the
//! properties the audit needs (`$select`: Graph's default set lacks `accountEnabled` and
//! `proxyAddresses`) followed through `@odata.nextLink`, then the soft-deleted users under
//! `directory/deletedItems` (deprovisioned). Without the permission to read deleted items the
//! collector warns and goes on.

use serde_json::Value;

use super::super::idp::entra_status;
use super::super::model::{IdpDirectory, IdpKind, IdpUser};
use super::http::Http;
use super::{
    CollectError, CollectOptions, MAX_PAGES, base_url, join, optional, page_size, required,
};

const VENDOR_MAX_PAGE: u32 = 999;
const SELECT: &str = "id,userPrincipalName,mail,otherMails,proxyAddresses,userType,accountEnabled";
const TOKEN_SETTINGS: &str = "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a client \
                              secret value of an app registration with User.Read.All)";
const GRAPH_SETTINGS: &str = "that the app registration has the User.Read.All application \
                              permission with admin consent";

pub(super) struct Settings {
    tenant: String,
    client_id: String,
    client_secret: String,
    graph: url::Url,
    authority: url::Url,
}

impl Settings {
    pub(super) fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, CollectError> {
        let tenant = required(
            env,
            "AZURE_TENANT_ID",
            "set it to your Entra tenant id (a GUID) or primary domain",
        )?;
        if tenant.contains('/') || tenant.contains('?') {
            return Err(CollectError::BadSetting {
                variable: "AZURE_TENANT_ID",
                message: "a tenant id is a GUID or a domain name, without slashes".into(),
            });
        }
        let client_id = required(
            env,
            "AZURE_CLIENT_ID",
            "set it to the application (client) id of the app registration",
        )?;
        let client_secret = required(
            env,
            "AZURE_CLIENT_SECRET",
            "set it to a client secret value of the app registration",
        )?;
        let graph =
            optional(env, "GRAPH_BASE_URL").unwrap_or_else(|| "https://graph.microsoft.com".into());
        let authority = optional(env, "AZURE_AUTHORITY_URL")
            .unwrap_or_else(|| "https://login.microsoftonline.com".into());
        Ok(Settings {
            tenant,
            client_id,
            client_secret,
            graph: base_url("GRAPH_BASE_URL", &graph)?,
            authority: base_url("AZURE_AUTHORITY_URL", &authority)?,
        })
    }
}

async fn token(http: &Http, settings: &Settings) -> Result<String, CollectError> {
    let url = join(
        &settings.authority,
        &format!("/{}/oauth2/v2.0/token", settings.tenant),
    );
    // Graph's scope is its own origin (national clouds have their own).
    let scope = format!("{}/.default", settings.graph.origin().ascii_serialization());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", settings.client_id.as_str()),
        ("client_secret", settings.client_secret.as_str()),
        ("scope", scope.as_str()),
    ];
    http.access_token(url.as_str(), TOKEN_SETTINGS, || {
        http.client().post(url.clone()).form(&form)
    })
    .await
}

pub(super) async fn collect(
    settings: Settings,
    options: &CollectOptions,
) -> Result<IdpDirectory, CollectError> {
    let http = Http::new(
        IdpKind::Entra,
        "GRAPH_BASE_URL and AZURE_AUTHORITY_URL",
        options,
    )?;
    let access_token = token(&http, &settings).await?;
    let top = page_size(options, VENDOR_MAX_PAGE).to_string();
    let mut users = Vec::new();
    for (path, deleted) in [
        ("/v1.0/users", false),
        ("/v1.0/directory/deletedItems/microsoft.graph.user", true),
    ] {
        let mut first = join(&settings.graph, path);
        first
            .query_pairs_mut()
            .append_pair("$select", SELECT)
            .append_pair("$top", &top);
        match list(&http, &settings, &access_token, first, deleted, &mut users).await {
            Err(CollectError::Unauthorized { status: 403, .. }) if deleted => {
                tracing::warn!(
                    "Entra: no permission to read deleted users; deprovisioned accounts will \
                     read as absent"
                );
            }
            other => other?,
        }
    }
    Ok(IdpDirectory {
        kind: IdpKind::Entra,
        source: settings.graph.to_string(),
        users,
    })
}

async fn list(
    http: &Http,
    settings: &Settings,
    access_token: &str,
    first: url::Url,
    deleted: bool,
    users: &mut Vec<IdpUser>,
) -> Result<(), CollectError> {
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(http.protocol(url.as_str(), "paging did not end".into()));
        }
        let (_, body) = http
            .get_json(url.as_str(), GRAPH_SETTINGS, || {
                http.client()
                    .get(url.clone())
                    .bearer_auth(access_token)
                    .header("Accept", "application/json")
            })
            .await?;
        let Some(page) = body.get("value").and_then(Value::as_array) else {
            return Err(http.protocol(url.as_str(), "expected a `value` array".into()));
        };
        for user in page {
            if let Some(user) = to_user(user, deleted) {
                users.push(user);
            }
        }
        if let Some(link) = body.get("@odata.nextLink").and_then(Value::as_str)
            && !page.is_empty()
        {
            next = Some(http.same_origin(&settings.graph, link)?);
        }
    }
    Ok(())
}

fn to_user(user: &Value, deleted: bool) -> Option<IdpUser> {
    let text = |key: &str| {
        user.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let upn = text("userPrincipalName");
    // Users without a mailbox have no `mail`; their UPN is their address.
    let email = text("mail").or_else(|| upn.clone())?;
    let enabled = user
        .get("accountEnabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let proxy_addresses = user
        .get("proxyAddresses")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let other_mails: Vec<String> = user
        .get("otherMails")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // A guest's `otherMails` is their real address. A member's is usually personal or for
    // recovery, sometimes another corporate address: a secondary, sorted by domain.
    let (aliases, secondary_emails) = if text("userType").as_deref() == Some("Guest") {
        (other_mails, Vec::new())
    } else {
        (Vec::new(), other_mails)
    };
    Some(IdpUser {
        id: text("id"),
        email,
        login: upn,
        aliases,
        proxy_addresses,
        secondary_emails,
        status: entra_status(enabled, deleted),
        vendor_status: Some(if deleted {
            "deleted".to_owned()
        } else {
            format!("accountEnabled={enabled}")
        }),
    })
}
