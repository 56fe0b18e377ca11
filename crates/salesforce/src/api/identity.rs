//! Who the connection acts as and in which org: the user, the org, the granted scopes.
//!
//! Sources, cheapest first, each used only where the grant allows it:
//! - the user and org ids: the identity URL of the token response (`.../id/{orgId}/{userId}`)
//!   or of introspection (`sub`); else `GET /services/oauth2/userinfo` on the instance, which
//!   needs an identity scope (`id`, `openid`, `profile`, `email`, `address`, `phone`; `full`
//!   covers them) [doc: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_tokens_scopes.htm];
//! - the user's name, profile, role, time zone, locale and currency: a SOQL query on `User`
//!   (needs `api`); without `api`, userinfo's name, username, zone and locale;
//! - the org's name, edition and sandbox flag: a SOQL query on `Organization` (`Name`,
//!   `OrganizationType`, `IsSandbox`, as in the recorded
//!   `fixtures/cumulusci/sobject-get-organization.json`; needs `api`).
//!
//! What cannot be learnt is said in [`Identity::unknown`], never guessed. Fetched once per
//! connection and kept (see [`SalesforceClient::identity`]).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::super::auth::{ScopeInfo, Scopes};
use super::super::client::{PlaneKind, SalesforceClient};
use super::super::errors::SfError;
use super::super::ids::SalesforceId;
use super::super::transport::{ApiRequest, Target};
use super::query::QueryOptions;

/// Scopes that open the identity URL and userinfo; `full` covers them all.
pub const IDENTITY_SCOPES: [&str; 6] = ["id", "openid", "profile", "email", "address", "phone"];

/// The connected user, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectedUser {
    pub id: String,
    pub name: Option<String>,
    pub username: Option<String>,
    pub profile: Option<String>,
    pub role: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    /// `DefaultCurrencyIsoCode`: only multi-currency orgs have it on User.
    pub currency: Option<String>,
}

/// The org, as far as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectedOrg {
    pub id: String,
    pub name: Option<String>,
    /// `OrganizationType`, e.g. "Enterprise Edition".
    pub edition: Option<String>,
    pub sandbox: Option<bool>,
    pub instance: Option<String>,
}

/// Who and where a connection is.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub user: Option<ConnectedUser>,
    pub org: Option<ConnectedOrg>,
    pub scopes: Option<Scopes>,
    /// What could not be learnt, and why (for people; no third-party text).
    pub unknown: Vec<String>,
}

/// `/services/oauth2/userinfo`'s fields used here (OpenID Connect names).
#[derive(Deserialize)]
struct UserInfo {
    user_id: String,
    organization_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    zoneinfo: Option<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// `(orgId, userId)` from an identity URL `https://host/id/{orgId}/{userId}`.
pub fn ids_from_identity_url(url: &str) -> Option<(String, String)> {
    let path = url::Url::parse(url).ok()?.path().to_string();
    let mut parts = path.trim_end_matches('/').rsplit('/');
    let user = SalesforceId::parse(parts.next()?).ok()?;
    let org = SalesforceId::parse(parts.next()?).ok()?;
    (parts.next()? == "id" && user.key_prefix() == "005" && org.key_prefix() == "00D")
        .then(|| (org.as_str().to_string(), user.as_str().to_string()))
}

fn text(record: &Value, path: &[&str]) -> Option<String> {
    let mut value = record;
    for key in path {
        value = value.get(key)?;
    }
    value.as_str().map(str::to_string)
}

impl SalesforceClient {
    /// Who this connection is and where, fetched on first use and kept for the connection's
    /// life; concurrent callers share one fetch. A failure is not kept: the next call tries
    /// again.
    pub async fn identity(&self) -> Result<Arc<Identity>, SfError> {
        self.inner
            .identity
            .get_or_try_init(|| async { self.fetch_identity().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// The identity when already fetched, without waiting.
    pub fn identity_if_known(&self) -> Option<Arc<Identity>> {
        self.inner.identity.get().cloned()
    }

    /// Starts fetching the identity (and with it the token and the granted scopes) in the
    /// background, once; a server calls it at start so none of it delays the first answer.
    /// A failure is logged and left for the tools to report.
    pub fn prefetch_identity(&self) {
        self.prefetch_identity_and(|_| {});
    }

    /// [`Self::prefetch_identity`], running `then` with the identity once fetched, before
    /// anyone waiting in [`Self::identity_within`] goes on (a start line printed there comes
    /// before any answer that used the identity). Only the first call starts anything.
    pub fn prefetch_identity_and(&self, then: impl FnOnce(&Identity) + Send + 'static) {
        let (done, watch) = tokio::sync::watch::channel(false);
        if self
            .inner
            .prefetch
            .set((watch, tokio::time::Instant::now()))
            .is_err()
        {
            return;
        }
        let client = self.clone();
        tokio::spawn(async move {
            match client.identity().await {
                Ok(identity) => then(&identity),
                Err(e) => tracing::warn!(error = %e, "could not learn who this connection is"),
            }
            let _ = done.send(true);
        });
    }

    /// The identity, waiting for a fetch [`Self::prefetch_identity`] started until `wait`
    /// after it started (so a slow org costs that once, not on every call); `None` when
    /// unknown by then, or when no fetch was started (nothing is sent here).
    pub async fn identity_within(&self, wait: std::time::Duration) -> Option<Arc<Identity>> {
        if let Some(known) = self.identity_if_known() {
            return Some(known);
        }
        let (watch, started) = self.inner.prefetch.get()?;
        let mut watch = watch.clone();
        let _ = tokio::time::timeout_at(*started + wait, watch.wait_for(|done| *done)).await;
        self.identity_if_known()
    }

    async fn fetch_identity(&self) -> Result<Identity, SfError> {
        // The token and, by introspection when the token response did not say, the scopes.
        let grant = self.learn_grant().await?;
        let mut identity = Identity {
            scopes: match &grant {
                ScopeInfo::Granted(scopes) => Some(scopes.clone()),
                ScopeInfo::Unknown => None,
            },
            ..Identity::default()
        };
        if identity.scopes.is_none() {
            identity.unknown.push(match self.plane() {
                PlaneKind::Paragon => "the granted scopes: Paragon holds the grant and does not expose it".into(),
                PlaneKind::Direct => "the granted scopes: the token came without them and could not be introspected (set SF_CLIENT_ID and SF_CLIENT_SECRET)".into(),
            });
        }
        let identity_scope = match &grant {
            ScopeInfo::Unknown => true,
            known => IDENTITY_SCOPES
                .iter()
                .any(|s| known.grants(s) == Some(true)),
        };
        let may_ask_userinfo = self.plane() == PlaneKind::Direct && identity_scope;
        let session = self.inner.auth.session().await?;
        let mut ids = session
            .identity_url
            .as_deref()
            .and_then(ids_from_identity_url);
        // Userinfo first only when nothing else names the user; otherwise only when the
        // records cannot be read (no `api`), for the name, zone and locale it has.
        let userinfo_first = may_ask_userinfo && ids.is_none();
        let mut from_userinfo = if userinfo_first {
            self.userinfo_if_answered().await
        } else {
            None
        };
        if let Some(found) = &from_userinfo {
            ids = Some((found.organization_id.clone(), found.user_id.clone()));
        }
        let mut records = None;
        if grant.grants("api") != Some(false) {
            let (org_id, user_id) = ids.clone().unzip();
            let user = async {
                match &user_id {
                    Some(id) => self.user_record(id).await.map(Some),
                    None => Ok(None),
                }
            };
            match tokio::join!(user, self.org_record(org_id.as_deref())) {
                (Ok(user), Ok(org)) => records = Some((user, org)),
                // The scopes were unknown, and Salesforce's answer says `api` is missing.
                (Err(SfError::MissingScope { .. }), _) | (_, Err(SfError::MissingScope { .. })) => {
                }
                (Err(e), _) | (_, Err(e)) => return Err(e),
            }
        }
        if may_ask_userinfo && !userinfo_first && records.is_none() {
            from_userinfo = self.userinfo_if_answered().await;
            if let Some(found) = &from_userinfo {
                ids = Some((found.organization_id.clone(), found.user_id.clone()));
            }
        }
        if records.is_none() {
            identity.unknown.push(
                "the org's name, edition and sandbox flag, and the user's profile and role: they need the `api` scope".into(),
            );
        }
        let (user, org) = records.unzip();
        let (org_id, user_id) = ids.unzip();
        identity.user = match (user.flatten(), from_userinfo, user_id) {
            (Some(user), _, _) => Some(user),
            (None, Some(info), _) => Some(ConnectedUser {
                id: info.user_id,
                name: info.name,
                username: info.preferred_username,
                time_zone: info.zoneinfo,
                locale: info.locale,
                ..ConnectedUser::default()
            }),
            (None, None, Some(id)) => Some(ConnectedUser {
                id,
                ..ConnectedUser::default()
            }),
            (None, None, None) => {
                identity.unknown.push(if self.plane() == PlaneKind::Paragon {
                    "the connected user: the Paragon proxy does not say which Salesforce user it connects as".into()
                } else {
                    "the connected user: the token came without an identity URL, and userinfo needs the `id` or `openid` scope".into()
                });
                None
            }
        };
        identity.org = org.or_else(|| {
            org_id.map(|id| ConnectedOrg {
                id,
                ..ConnectedOrg::default()
            })
        });
        Ok(identity)
    }

    /// [`Self::userinfo`], `None` when it does not answer (the lack of it is reported by
    /// what stays unknown).
    async fn userinfo_if_answered(&self) -> Option<UserInfo> {
        self.userinfo()
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "userinfo did not answer"))
            .ok()
    }

    /// `GET /services/oauth2/userinfo` on the org's instance (the direct plane).
    async fn userinfo(&self) -> Result<UserInfo, SfError> {
        let request = ApiRequest::get(
            Target::ServerPath("/services/oauth2/userinfo".into()),
            "the connected user's identity",
        );
        self.execute(request).await?.json("the userinfo answer")
    }

    /// The User record (all its fields: `DefaultCurrencyIsoCode` is there only in
    /// multi-currency orgs), then its profile's and role's names. No SOQL: `GET
    /// /sobjects/User/{id}`, `/sobjects/Profile/{id}?fields=Name`, `/sobjects/UserRole/…`.
    async fn user_record(&self, id: &str) -> Result<ConnectedUser, SfError> {
        let id = SalesforceId::parse(id)?;
        let record = Value::Object(self.get_record("User", &id, None).await?);
        let name_of = |object: &'static str, field: &'static str| {
            let related = text(&record, &[field]).and_then(|r| SalesforceId::parse(&r).ok());
            async move {
                match related {
                    Some(related) => self
                        .get_record(object, &related, Some(&["Name".to_string()]))
                        .await
                        .map(|r| r.get("Name").and_then(Value::as_str).map(str::to_string)),
                    None => Ok(None),
                }
            }
        };
        let (profile, role) = tokio::join!(
            name_of("Profile", "ProfileId"),
            name_of("UserRole", "UserRoleId")
        );
        Ok(ConnectedUser {
            id: text(&record, &["Id"]).unwrap_or_else(|| id.as_str().to_string()),
            name: text(&record, &["Name"]),
            username: text(&record, &["Username"]),
            profile: profile?,
            role: role?,
            time_zone: text(&record, &["TimeZoneSidKey"]),
            locale: text(&record, &["LocaleSidKey"]),
            currency: text(&record, &["DefaultCurrencyIsoCode"]),
        })
    }

    /// The Organization record: `GET /sobjects/Organization/{id}` when the id is known (as
    /// recorded in `fixtures/cumulusci/sobject-get-organization.json`), else a SOQL query.
    async fn org_record(&self, id: Option<&str>) -> Result<ConnectedOrg, SfError> {
        const FIELDS: [&str; 5] = [
            "Id",
            "Name",
            "OrganizationType",
            "IsSandbox",
            "InstanceName",
        ];
        let record = match id.map(SalesforceId::parse).transpose()? {
            Some(id) => {
                let fields: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
                Value::Object(self.get_record("Organization", &id, Some(&fields)).await?)
            }
            None => {
                let soql = format!("SELECT {} FROM Organization LIMIT 1", FIELDS.join(", "));
                let page = self.query(&soql, QueryOptions::default()).await?;
                page.records.first().cloned().unwrap_or(Value::Null)
            }
        };
        Ok(ConnectedOrg {
            id: text(&record, &["Id"]).unwrap_or_default(),
            name: text(&record, &["Name"]),
            edition: text(&record, &["OrganizationType"]),
            sandbox: record.get("IsSandbox").and_then(Value::as_bool),
            instance: text(&record, &["InstanceName"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_the_identity_url_path_only() {
        assert_eq!(
            ids_from_identity_url(
                "https://login.salesforce.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU"
            ),
            Some((
                "00Dx0000000BV7zEAG".to_string(),
                "005x00000012Q9PAAU".to_string()
            ))
        );
        // 15-character ids are widened to 18.
        let (org, user) = ids_from_identity_url(
            "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
        )
        .unwrap_or_default();
        assert_eq!((org.len(), user.len()), (18, 18));
        for wrong in [
            "not a url",
            "https://x.example/id/005x00000012Q9P/00Dx0000000BV7z",
            "https://x.example/other/00Dx0000000BV7z/005x00000012Q9P",
            "https://x.example/id/00Dx0000000BV7z",
        ] {
            assert_eq!(ids_from_identity_url(wrong), None, "{wrong}");
        }
    }
}
