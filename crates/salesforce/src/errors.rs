//! One error type for everything the client can run into, each with a next step for people.
//!
//! Salesforce's own errors stay data (errorCode, message, fields, HTTP status) rather than
//! strings, so the MCP layer can branch on them. No variant ever holds a token: messages come
//! from Salesforce's error bodies, our own text, and URLs reduced to their origin.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::auth::ACCESS_TOKEN_SETTING;
use super::ids::IdError;

/// One entry of Salesforce's error array. sObject Collections call the code `statusCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorItem {
    pub message: String,
    #[serde(rename = "errorCode", alias = "statusCode")]
    pub error_code: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Which token flow failed, so the next step can name the settings involved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFlow {
    RefreshToken,
    ClientCredentials,
    JwtBearer,
    Introspection,
    /// A fixed access token that Salesforce no longer accepts and nothing can renew; `setting`
    /// is where it came from.
    StaticToken {
        setting: &'static str,
    },
    /// Minting a Paragon user token from the signing key.
    ParagonSigning,
    /// `sfmcp login`: the web-server flow with PKCE.
    AuthorizationCode,
    /// A fixed Paragon user token the proxy no longer accepts; `setting` is where it came
    /// from.
    ParagonStaticToken {
        setting: &'static str,
    },
}

impl AuthFlow {
    fn settings(self) -> &'static str {
        match self {
            AuthFlow::RefreshToken => {
                "SF_REFRESH_TOKEN, SF_CLIENT_ID, SF_CLIENT_SECRET and SF_LOGIN_URL"
            }
            AuthFlow::ClientCredentials => {
                "SF_CLIENT_ID, SF_CLIENT_SECRET and SF_LOGIN_URL (client credentials need the My Domain URL)"
            }
            AuthFlow::JwtBearer => "SF_CLIENT_ID, SF_USERNAME, SF_JWT_KEY_FILE and SF_LOGIN_URL",
            AuthFlow::Introspection => "SF_CLIENT_ID and SF_CLIENT_SECRET",
            AuthFlow::StaticToken { setting } => setting,
            AuthFlow::ParagonSigning => "PARAGON_SIGNING_KEY_FILE and PARAGON_USER_ID",
            AuthFlow::ParagonStaticToken { setting } => setting,
            AuthFlow::AuthorizationCode => {
                "--client-id, --login-url (or --sandbox) and the connected app's callback URL"
            }
        }
    }
}

impl fmt::Display for AuthFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFlow::RefreshToken => "refresh-token grant",
            AuthFlow::ClientCredentials => "client-credentials grant",
            AuthFlow::JwtBearer => "JWT bearer grant",
            AuthFlow::Introspection => "token introspection",
            AuthFlow::StaticToken { .. } => "access token",
            AuthFlow::ParagonSigning => "Paragon user token signing",
            AuthFlow::ParagonStaticToken { .. } => "Paragon user token",
            AuthFlow::AuthorizationCode => "login",
        })
    }
}

/// Why a request never got an HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkFailure {
    Refused,
    Dns,
    Tls,
    /// Connected (or still connecting when the whole request's time ran out), but no answer
    /// came within the request timeout, `SFMCP_REQUEST_TIMEOUT_SECS`.
    Timeout,
    /// The connection itself was not made in time: the host is unreachable or drops packets.
    ConnectTimeout,
    /// Not tried: the last connection attempt, `seconds_ago`, timed out, and a check in the
    /// background has not reached the org since (see `outage.rs`).
    KnownUnreachable {
        seconds_ago: u64,
    },
    /// The connection dropped or failed some other way.
    Other,
    /// The answer began but the connection dropped before its end.
    Interrupted,
    /// A 5xx status whose body is not Salesforce's: a load balancer or proxy in between
    /// failed, so whether Salesforce got the request is unknown.
    Gateway(u16),
}

impl fmt::Display for NetworkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let NetworkFailure::Gateway(status) = self {
            return write!(
                f,
                "HTTP {status} from a server in between, not from Salesforce"
            );
        }
        if let NetworkFailure::KnownUnreachable { seconds_ago } = self {
            return write!(
                f,
                "no connection could be made {seconds_ago} s ago (SFMCP_CONNECT_TIMEOUT_SECS ran out), and sfmcp has not reached it since"
            );
        }
        f.write_str(match self {
            NetworkFailure::Gateway(_) => "a server in between failed",
            NetworkFailure::KnownUnreachable { .. } => "known to be unreachable",
            NetworkFailure::Refused => "connection refused",
            NetworkFailure::Dns => "host name not found",
            NetworkFailure::Tls => "TLS handshake failed",
            NetworkFailure::Timeout => {
                "no answer within the request timeout (SFMCP_REQUEST_TIMEOUT_SECS)"
            }
            NetworkFailure::ConnectTimeout => "the connection timed out",
            NetworkFailure::Other => "connection failed",
            NetworkFailure::Interrupted => "the answer was cut off",
        })
    }
}

/// The record write the client sent, named in [`SfError::WriteOutcomeUnknown`]. (The MCP
/// layer's `write_check::WriteKind` is the permission check before a write is sent.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordWrite {
    Create,
    Update,
}

impl fmt::Display for RecordWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordWrite::Create => "create",
            RecordWrite::Update => "update",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SfError {
    /// Salesforce answered with its error array (the first entry is lifted out).
    #[error("Salesforce refused the request (HTTP {status}, {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        fields: Vec<String>,
        /// Any further entries of the error array.
        others: Vec<ApiErrorItem>,
    },

    /// An OAuth token endpoint or token minting failed.
    #[error("{flow} failed{}: {error}: {description}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Auth {
        flow: AuthFlow,
        status: Option<u16>,
        error: String,
        description: String,
    },

    /// The Paragon proxy itself refused the request (not Salesforce behind it).
    #[error("the Paragon proxy refused the request (HTTP {status}): {message}")]
    Paragon {
        status: u16,
        message: String,
        code: Option<String>,
        /// Where the connection's Paragon credential is configured
        /// ([`crate::auth::SettingNames::paragon_credential`]).
        credential_setting: &'static str,
        /// Where its Paragon user is configured ([`crate::auth::SettingNames::paragon_user`]).
        user_setting: &'static str,
    },

    /// No HTTP answer at all, or one cut off before its end.
    #[error("{}", unreachable_text(target, *failure))]
    Unreachable {
        /// Scheme, host and port only.
        target: String,
        /// The setting that decides where this request goes.
        setting: &'static str,
        failure: NetworkFailure,
    },

    /// A write was sent but no answer came back: it may or may not have been applied.
    #[error(
        "the {kind} of {object} was sent but no answer from Salesforce came back ({failure}): it may or may not have been applied"
    )]
    WriteOutcomeUnknown {
        kind: RecordWrite,
        object: String,
        /// The record id, for updates.
        id: Option<String>,
        failure: NetworkFailure,
    },

    /// Salesforce refused the call because the token's grant lacks a scope (REST calls need
    /// `api`): reauthorizing with the scope added is the fix; renewing the token is not (a
    /// renewal keeps the original grant's scopes).
    #[error(
        "the connection's token lacks the `{scope}` scope, which this call needs (granted: {})",
        granted.as_deref().unwrap_or("unknown")
    )]
    MissingScope {
        status: u16,
        scope: String,
        /// The granted scopes, space-separated, when known.
        granted: Option<String>,
    },

    /// The org's daily API usage is above the configured ceiling.
    #[error(
        "API usage is at {used} of {max} daily requests, above the {ceiling_percent}% ceiling: only essential calls are sent"
    )]
    UsageCeiling {
        used: u64,
        max: u64,
        ceiling_percent: u8,
    },

    #[error(transparent)]
    InvalidId(#[from] IdError),

    /// A request the client refuses to build (a bad object name, a foreign nextRecordsUrl).
    #[error("{message}")]
    InvalidRequest { message: String, next_step: String },

    /// Salesforce answered with something the client could not read.
    #[error("unexpected answer from Salesforce for {what} (HTTP {status}): {detail}")]
    UnexpectedResponse {
        what: String,
        status: u16,
        detail: String,
        /// The setting that decides where the request went.
        setting: &'static str,
    },
}

impl SfError {
    /// Salesforce's errorCode, or the OAuth / Paragon error name.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            SfError::Api { code, .. } => Some(code),
            SfError::Auth { error, .. } => Some(error),
            SfError::Paragon { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn http_status(&self) -> Option<u16> {
        match self {
            SfError::Api { status, .. }
            | SfError::Paragon { status, .. }
            | SfError::UnexpectedResponse { status, .. } => Some(*status),
            SfError::Auth { status, .. } => *status,
            SfError::MissingScope { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The fields Salesforce named in its error, if any.
    pub fn fields(&self) -> &[String] {
        match self {
            SfError::Api { fields, .. } => fields,
            _ => &[],
        }
    }

    /// For `REQUEST_LIMIT_EXCEEDED`: which limit was hit (`TotalRequests`,
    /// `ConcurrentRequests`, `ConcurrentPerOrgLongTxn`, ...).
    pub fn limit_name(&self) -> Option<&str> {
        match self {
            SfError::Api { code, message, .. } if code == "REQUEST_LIMIT_EXCEEDED" => {
                let name = message
                    .split(|c: char| c.is_whitespace() || c == '(')
                    .next()
                    .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric()));
                name.or(Some("an API limit"))
            }
            _ => None,
        }
    }

    /// Whether an identical request could succeed later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SfError::Api { status, code, .. } => {
                *status >= 500
                    || code == "UNABLE_TO_LOCK_ROW"
                    || code == "SERVER_UNAVAILABLE"
                    || (code == "REQUEST_LIMIT_EXCEEDED"
                        && self
                            .limit_name()
                            .is_some_and(|l| l.starts_with("Concurrent")))
            }
            SfError::Paragon { status, .. } => *status >= 500,
            SfError::Unreachable { failure, .. } => {
                matches!(
                    failure,
                    NetworkFailure::Timeout
                        | NetworkFailure::ConnectTimeout
                        | NetworkFailure::Other
                        | NetworkFailure::Interrupted
                        | NetworkFailure::Gateway(_)
                )
            }
            _ => false,
        }
    }

    /// What a person should do about it, in one or two sentences.
    pub fn next_step(&self) -> String {
        match self {
            SfError::Api {
                status,
                code,
                fields,
                ..
            } => api_next_step(*status, code, fields, self.limit_name()),
            SfError::Auth {
                flow, error, description, ..
            } => auth_next_step(*flow, error, description),
            SfError::Paragon {
                status,
                message,
                credential_setting,
                user_setting,
                ..
            } => paragon_next_step(*status, message, credential_setting, user_setting),
            SfError::Unreachable {
                target,
                setting,
                failure,
            } => match failure {
                NetworkFailure::Refused => format!(
                    "Nothing is listening at {target}. Check {setting}: the host or port is wrong, or the server is down."
                ),
                NetworkFailure::Dns => format!(
                    "The host name of {target} does not resolve. Check {setting} for a typo."
                ),
                NetworkFailure::Tls => format!(
                    "The secure connection to {target} failed. Check that {setting} is the org's https URL, and any proxy or certificate in between."
                ),
                NetworkFailure::Timeout => format!(
                    "{target} did not answer in time: the request timeout (SFMCP_REQUEST_TIMEOUT_SECS) ran out first. Raise SFMCP_REQUEST_TIMEOUT_SECS if calls are slow (large queries, a busy org), or narrow the call; if every call times out, check {setting} and the network."
                ),
                NetworkFailure::ConnectTimeout => format!(
                    "{target} did not accept a connection within SFMCP_CONNECT_TIMEOUT_SECS. Check {setting} and the network (a firewall or VPN that drops packets), then try again."
                ),
                NetworkFailure::KnownUnreachable { .. } => format!(
                    "sfmcp is checking {target} again in the background and calls go through as soon as it answers; try again in a few seconds. If it stays unreachable, check {setting} and the network (a firewall or VPN that drops packets), or raise SFMCP_CONNECT_TIMEOUT_SECS if the org is only slow to connect to."
                ),
                NetworkFailure::Other => format!(
                    "The connection to {target} failed. Check {setting} and the network, then try again."
                ),
                NetworkFailure::Interrupted => format!(
                    "Try again; if answers from {target} keep being cut off, check the network or any proxy between sfmcp and {setting}."
                ),
                NetworkFailure::Gateway(_) => format!(
                    "A proxy or load balancer between sfmcp and {target} failed; try again shortly, and check it if this persists."
                ),
            },
            SfError::WriteOutcomeUnknown {
                kind: RecordWrite::Create,
                object,
                ..
            } => format!(
                "Do not simply retry, or the record may be created twice. First look for it, e.g. SELECT Id, CreatedDate FROM {object} WHERE CreatedById = the connected user ORDER BY CreatedDate DESC LIMIT 5, or by a value you set that is unique."
            ),
            SfError::WriteOutcomeUnknown {
                kind: RecordWrite::Update,
                object,
                id,
                ..
            } => format!(
                "Read the {object} record {} to see whether the change landed. Sending the same update again is safe: it sets the same values.",
                id.as_deref().unwrap_or("")
            ),
            SfError::MissingScope { scope, .. } => format!(
                "Add the `{scope}` scope (for `api`: \"Manage user data via APIs\") to the connected app's Selected OAuth Scopes, then reauthorize: run `sfmcp login` again or get a new SF_REFRESH_TOKEN / SF_ACCESS_TOKEN. Renewing the token does not help: a renewal keeps the scopes of the original grant."
            ),
            SfError::UsageCeiling { .. } => "Only essential calls go until usage falls: the daily allocation is a rolling 24-hour window. Raise the usage ceiling, or ask the Salesforce admin for a larger allocation.".to_string(),
            SfError::InvalidId(_) => "Check the id: copy it again from Salesforce (the URL of the record page holds it).".to_string(),
            SfError::InvalidRequest { next_step, .. } => next_step.clone(),
            SfError::UnexpectedResponse { status, .. } if *status >= 500 => {
                "Salesforce (or a proxy in front of it) failed; try again shortly.".to_string()
            }
            SfError::UnexpectedResponse { setting, .. } => format!("Check that {setting} points at Salesforce and not at another web server."),
        }
    }
}

fn unreachable_text(target: &str, failure: NetworkFailure) -> String {
    match failure {
        NetworkFailure::Interrupted => {
            format!("the answer from {target} was cut off before its end")
        }
        // It was reached, or the time ran out while it was being reached: the request timeout,
        // not the address, is the first thing to look at.
        NetworkFailure::Timeout => format!("{target} sent {failure}"),
        other => format!("could not reach {target}: {other}"),
    }
}

fn api_next_step(status: u16, code: &str, fields: &[String], limit: Option<&str>) -> String {
    let named_fields = if fields.is_empty() {
        String::new()
    } else {
        format!(" ({})", fields.join(", "))
    };
    match code {
        "INVALID_SESSION_ID" | "INVALID_AUTH_HEADER" => "Reauthorize the connection: Salesforce rejected the access token (expired or revoked, and any renewal sfmcp could make did not help). Run `sfmcp login` again or set a fresh SF_ACCESS_TOKEN / SF_REFRESH_TOKEN; a token also stops working when the session is revoked or the user's IP is outside the allowed ranges.".to_string(),
        "REQUEST_LIMIT_EXCEEDED" => match limit {
            Some("TotalRequests") => "The org's daily API allocation (TotalRequests) is used up. It is a rolling 24-hour window: calls succeed again as older ones age out. Do not retry in a loop; the admin can see usage under Setup > System Overview.".to_string(),
            Some(l) if l.starts_with("Concurrent") => format!("Too many long-running requests are open at once ({l}). Wait a few seconds and try again with fewer parallel calls."),
            Some(l) => format!("Salesforce's {l} limit was hit. Wait before trying again, and make fewer calls."),
            None => "An API limit was hit. Wait before trying again.".to_string(),
        },
        "API_DISABLED_FOR_ORG" => "This org's edition lacks API access (for example Professional Edition without the API add-on). The Salesforce admin must enable API access for the org.".to_string(),
        "API_CURRENTLY_DISABLED" => "The connected user may not use the API: the Salesforce admin must grant the \"API Enabled\" permission (profile or permission set).".to_string(),
        "INSUFFICIENT_ACCESS_OR_READONLY" | "INSUFFICIENT_ACCESS" | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY" => "Check the connected user's object and field permissions and record sharing: the user may read but not change this, or not see it at all.".to_string(),
        "INVALID_FIELD" | "INVALID_FIELD_FOR_INSERT_UPDATE" => format!("Check the field names{named_fields} against the object's describe; custom fields end in __c and may be hidden from the connected user by field-level security."),
        "INVALID_TYPE" => "Check the object name against the list of objects; custom objects end in __c.".to_string(),
        "MALFORMED_QUERY" | "MALFORMED_SEARCH" => "Fix the query syntax at the position shown.".to_string(),
        "INVALID_QUERY_FILTER_OPERATOR" => "Use an operator this field type allows, or filter on another field.".to_string(),
        "INVALID_QUERY_LOCATOR" => "The query's cursor is no longer valid on Salesforce's side (locators expire after about 15 minutes unused, and a user may hold only so many open). Run the soql_query again; to continue where you stopped, add ORDER BY Id and a filter Id > the last Id you received.".to_string(),
        "QUERY_TIMEOUT" => "The query ran too long. Add a selective filter (an indexed field such as Id, Name, a lookup or CreatedDate) or a smaller LIMIT; retrying the same query will time out again.".to_string(),
        "NOT_FOUND" => "The record or resource does not exist, was deleted, or is not visible to the connected user.".to_string(),
        "ENTITY_IS_DELETED" => "The record is in the recycle bin; restore it in Salesforce first.".to_string(),
        "MALFORMED_ID" | "INVALID_ID_FIELD" | "INVALID_CROSS_REFERENCE_KEY" => format!("Check the record ids{named_fields}: each must be a valid id of the object the field points to."),
        "REQUIRED_FIELD_MISSING" => format!("Supply the required fields{named_fields}."),
        "STRING_TOO_LONG" => format!("Shorten the values{named_fields} to the field length in describe."),
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" => format!("Use one of the active picklist values{named_fields} listed in describe."),
        "FIELD_CUSTOM_VALIDATION_EXCEPTION" => "A validation rule in the org refused the change; adjust the values as its message says.".to_string(),
        "DUPLICATE_VALUE" | "DUPLICATES_DETECTED" => "A matching record already exists; update that record instead, or change the unique values.".to_string(),
        "UNABLE_TO_LOCK_ROW" => "Another process is changing the same record; try again in a moment.".to_string(),
        _ => match status {
            401 => "Reauthorize the connection: Salesforce no longer accepts its credentials.".to_string(),
            403 => "Check the connected user's object and field permissions, and that the org and user have API access.".to_string(),
            404 => "The record or resource does not exist or is not visible to the connected user.".to_string(),
            s if s >= 500 => "Salesforce is temporarily unavailable; try again shortly.".to_string(),
            _ => format!("Salesforce reported {code}; correct the request as its message says."),
        },
    }
}

fn auth_next_step(flow: AuthFlow, error: &str, description: &str) -> String {
    let settings = flow.settings();
    let description = description.to_ascii_lowercase();
    match (flow, error) {
        (AuthFlow::StaticToken { setting: ACCESS_TOKEN_SETTING }, _) => "Reauthorize the connection: the access token in SF_ACCESS_TOKEN is expired or revoked and nothing can renew it. Set a fresh one, or set SF_REFRESH_TOKEN with SF_CLIENT_ID and SF_CLIENT_SECRET so sfmcp renews it itself.".to_string(),
        (AuthFlow::StaticToken { setting }, _) => format!("Reauthorize the connection: the access token sent in {setting} is expired or revoked, and sfmcp cannot renew a token it was handed. Send a fresh one."),
        (AuthFlow::ParagonStaticToken { setting: "PARAGON_USER_TOKEN" }, _) => "The Paragon user token in PARAGON_USER_TOKEN was refused (expired or for another project). Mint a fresh one, or set PARAGON_SIGNING_KEY_FILE and PARAGON_USER_ID so sfmcp mints short-lived tokens itself.".to_string(),
        (AuthFlow::ParagonStaticToken { setting }, _) => format!("The Paragon user token sent in {setting} was refused (expired or for another project). Send a fresh one."),
        (AuthFlow::AuthorizationCode, "no_refresh_token") => "Add the refresh_token (or offline_access) scope to the connected app's OAuth scopes, then run `sfmcp login` again.".to_string(),
        (AuthFlow::AuthorizationCode, "access_denied") => "The login was not approved in the browser; run `sfmcp login` again and allow access.".to_string(),
        (AuthFlow::AuthorizationCode, "redirect_uri_mismatch") => "Add http://127.0.0.1:{port}/oauth/callback (the port sfmcp login uses) to the connected app's callback URLs.".to_string(),
        (AuthFlow::ParagonSigning, _) => format!("Check {settings}: the file must hold the project's RS256 signing key (PEM) from Paragon's SDK setup."),
        (AuthFlow::RefreshToken, "invalid_grant") if description.contains("expired") || description.contains("revoked") => "Reauthorize the connection: the refresh token is expired or revoked. Run `sfmcp login` again (or get a new SF_REFRESH_TOKEN).".to_string(),
        (AuthFlow::JwtBearer, "invalid_grant") if description.contains("approve") || description.contains("consumer") => "The user is not pre-authorized for the connected app: the Salesforce admin must add the user's profile or a permission set to the app's policies. Check SF_USERNAME too.".to_string(),
        (AuthFlow::JwtBearer, "invalid_grant") => format!("Salesforce refused the signed assertion. Check {settings}: the key must match the certificate uploaded to the connected app, and the login URL must match the org (test.salesforce.com for sandboxes)."),
        (_, "invalid_client_id") => "Check SF_CLIENT_ID: it must be the connected app's consumer key.".to_string(),
        (_, "invalid_client") => "Check SF_CLIENT_ID and SF_CLIENT_SECRET: they must be the connected app's consumer key and secret.".to_string(),
        (_, "unsupported_grant_type") => format!("The connected app does not allow the {flow}. Enable it in the app's settings, or use another of {settings}."),
        (_, "inactive_user") => "The connected Salesforce user is deactivated; connect as an active user.".to_string(),
        (_, "inactive_org") => "The org is locked, deleted or expired; check it in Salesforce.".to_string(),
        (AuthFlow::ClientCredentials, "invalid_grant") => "Client credentials were refused. The connected app needs a \"Run As\" user, and SF_LOGIN_URL must be the org's My Domain URL.".to_string(),
        _ => format!("Check {settings}."),
    }
}

fn paragon_next_step(
    status: u16,
    message: &str,
    paragon_credential: &str,
    paragon_user: &str,
) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("integration not enabled") || lower.contains("not connected") {
        format!(
            "This Paragon user has not connected Salesforce (or {paragon_credential} names another account). Connect Salesforce for the user in the app's Paragon Connect portal."
        )
    } else if status == 401 || status == 403 || lower.contains("token") {
        format!(
            "The Paragon proxy refused the user token. Check PARAGON_PROJECT_ID, and {paragon_user} (tokens must be signed with the project's signing key)."
        )
    } else if status >= 500 {
        "The Paragon proxy failed; try again shortly.".to_string()
    } else {
        format!("Check PARAGON_PROXY_URL, PARAGON_PROJECT_ID and {paragon_credential}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, message: &str) -> SfError {
        SfError::Api {
            status,
            code: code.into(),
            message: message.into(),
            fields: vec![],
            others: vec![],
        }
    }

    #[test]
    fn request_limit_names_the_limit() {
        let total = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        );
        assert_eq!(total.limit_name(), Some("TotalRequests"));
        assert!(total.next_step().contains("TotalRequests"));
        assert!(!total.is_transient());
        let concurrent = api(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        );
        assert_eq!(concurrent.limit_name(), Some("ConcurrentRequests"));
        assert!(concurrent.next_step().contains("ConcurrentRequests"));
        assert!(concurrent.is_transient());
    }

    #[test]
    fn next_steps_by_status_and_code() {
        assert!(
            api(401, "INVALID_SESSION_ID", "Session expired or invalid")
                .next_step()
                .starts_with("Reauthorize the connection")
        );
        assert!(
            api(403, "SOMETHING_NEW", "x")
                .next_step()
                .contains("object and field permissions")
        );
        assert!(
            api(
                403,
                "API_DISABLED_FOR_ORG",
                "The REST API is not enabled for this Organization."
            )
            .next_step()
            .contains("edition lacks API access")
        );
    }

    #[test]
    fn collection_errors_use_status_code() {
        let item: ApiErrorItem = serde_json::from_str(
            r#"{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [LastName]","fields":["LastName"]}"#,
        )
        .expect("parses");
        assert_eq!(item.error_code, "REQUIRED_FIELD_MISSING");
    }
}
