//! The HTTP layer of [`SalesforceClient`]: building a request for the connection's plane,
//! signing it with the session's token (renewed once on 401), applying the usage ceiling and
//! the per-tenant concurrency, sending, retrying what is safe to retry, and mapping every
//! failure to an [`SfError`] that names the cause and the setting to fix.
//!
//! The HTTP layer can express only GET, POST and PATCH (`HttpMethod` has no other variant),
//! so no code path can delete anything. Reads are retried on 5xx and connection failures
//! with short jittered backoff; writes never are, and a write whose outcome is unknown says
//! so.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::auth::{Plane, ScopeInfo, Session, SettingNames};
use super::client::{PlaneKind, SalesforceClient};
use super::errors::{ApiErrorItem, NetworkFailure, RecordWrite, SfError};
use super::retry::Backoff;
use super::usage::CallPriority;

/// The only methods the product may send. There is deliberately no way to name any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpMethod {
    Get,
    Post,
    Patch,
}

impl HttpMethod {
    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Patch => reqwest::Method::PATCH,
        }
    }
}

/// Retry rules for reads. Writes are never retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First delay after a connection failure; kept tiny so a dead endpoint fails fast.
    pub connect_backoff: Duration,
    /// First delay after a 5xx.
    pub server_error_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            connect_backoff: Duration::from_millis(5),
            server_error_backoff: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    /// Exponential (x4) with jitter in [half, full] of the step.
    fn delay(base: Duration, retry: u32) -> Duration {
        Backoff {
            first: base,
            factor: 4,
            max_steps: u32::MAX,
            jitter: true,
        }
        .delay(retry)
    }
}

/// Where a request goes, relative to the plane.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// `GET /services/data/`
    Versions,
    /// A path under `/services/data/vXX.X`, such as `/query`.
    Versioned(String),
    /// A path Salesforce handed back (`nextRecordsUrl`), already checked.
    ServerPath(String),
}

pub(crate) struct ApiRequest {
    pub(crate) method: HttpMethod,
    pub(crate) target: Target,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Read at most this many bytes of the answer's body (a file's content): the rest is
    /// never read into memory, and the response says it was cut.
    pub(crate) body_limit: Option<usize>,
    pub(crate) body: Option<Value>,
    pub(crate) priority: CallPriority,
    /// For writes: what to say when the outcome is unknown.
    pub(crate) write: Option<(RecordWrite, String, Option<String>)>,
    /// For messages: "query", "describe Account".
    pub(crate) what: String,
}

impl ApiRequest {
    pub(crate) fn get(target: Target, what: impl Into<String>) -> Self {
        ApiRequest {
            method: HttpMethod::Get,
            target,
            query: Vec::new(),
            headers: Vec::new(),
            body_limit: None,
            body: None,
            priority: CallPriority::Normal,
            write: None,
            what: what.into(),
        }
    }

    pub(crate) fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

pub(crate) struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) last_modified: Option<String>,
    pub(crate) body: Vec<u8>,
    /// The body stopped at the request's `body_limit`: more bytes followed.
    pub(crate) cut: bool,
    /// The setting that decided where the request went, for an answer that is not
    /// Salesforce's.
    pub(crate) setting: &'static str,
}

impl ApiResponse {
    pub(crate) fn json<T: for<'de> Deserialize<'de>>(&self, what: &str) -> Result<T, SfError> {
        // Checked as UTF-8 once: decoding from bytes would check every string again.
        let decoded = match std::str::from_utf8(&self.body) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(&self.body),
        };
        decoded
            .map_err(|e| self.unexpected(what, format!("the body is not the JSON expected ({e})")))
    }

    pub(crate) fn unexpected(&self, what: &str, detail: String) -> SfError {
        SfError::UnexpectedResponse {
            what: what.to_string(),
            status: self.status,
            detail,
            setting: self.setting,
        }
    }
}

impl SalesforceClient {
    // ---- the HTTP layer --------------------------------------------------------------

    pub(crate) async fn version_path(&self) -> Result<String, SfError> {
        self.inner
            .version_path
            .get_or_try_init(|| async {
                let versions = self.api_versions().await?;
                let newest = versions.last().ok_or_else(|| SfError::UnexpectedResponse {
                    what: "the API version list".into(),
                    status: 200,
                    detail: "the org offers no API version".into(),
                    setting: self.url_setting(),
                })?;
                let path =
                    check_server_path(&newest.url).map(|p| p.trim_end_matches('/').to_string())?;
                self.inner.version_offered.store(true, Ordering::Relaxed);
                Ok::<_, SfError>(path)
            })
            .await
            .cloned()
    }

    pub(crate) fn url_for(
        &self,
        session: &Session,
        target: &Target,
        version_path: Option<&str>,
    ) -> Result<(Url, &'static str), SfError> {
        let setting = self.url_setting();
        match self.inner.auth.plane() {
            Plane::Direct(_) => {
                let base = session.instance_url.as_ref().ok_or_else(|| SfError::InvalidRequest {
                    message: "the org's instance URL is unknown: the token response did not include one".into(),
                    next_step: format!("Set {setting} to the org's URL, e.g. https://acme.my.salesforce.com."),
                })?;
                let path = match target {
                    Target::Versions => "/services/data/".to_string(),
                    Target::Versioned(p) => format!("{}{p}", version_path.unwrap_or_default()),
                    Target::ServerPath(p) => p.clone(),
                };
                Ok((join(base, &path, setting)?, setting))
            }
            Plane::Paragon(paragon) => {
                let relative = match target {
                    Target::Versions => String::new(),
                    Target::Versioned(p) => p.clone(),
                    Target::ServerPath(p) => strip_version_prefix(p).to_string(),
                };
                let path = format!(
                    "/projects/{}/sdk/proxy/salesforce{relative}",
                    paragon.project_id
                );
                Ok((join(&paragon.proxy_url, &path, setting)?, setting))
            }
        }
    }

    pub(crate) async fn execute(&self, request: ApiRequest) -> Result<ApiResponse, SfError> {
        self.inner.usage.admit(request.priority)?;
        let version_path = match (&request.target, self.plane()) {
            (Target::Versioned(_), PlaneKind::Direct) => Some(self.version_path().await?),
            _ => None,
        };
        let result = self.send(request, version_path.clone()).await;
        if let (
            Err(SfError::Api {
                status: 404, code, ..
            }),
            Some(path),
        ) = (&result, &version_path)
            && code == "NOT_FOUND"
            && let Some(err) = self.version_not_offered(path).await
        {
            return Err(err);
        }
        result
    }

    /// After a 404 NOT_FOUND on a versioned resource: when the configured version is not one
    /// the org offers, that is the cause (every call would be a 404), so say so and list the
    /// org's versions. `None` when it is offered, or the list cannot be read (the 404 stands).
    async fn version_not_offered(&self, version_path: &str) -> Option<SfError> {
        if self.inner.version_offered.load(Ordering::Relaxed) {
            return None;
        }
        let versions = self.api_versions().await.ok()?;
        let offered = versions
            .iter()
            .any(|v| v.url.trim_end_matches('/') == version_path);
        if offered {
            self.inner.version_offered.store(true, Ordering::Relaxed);
            return None;
        }
        let version = version_path.trim_start_matches("/services/data/v");
        let list = versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let newest = versions.last().map_or("", |v| v.version.as_str());
        Some(SfError::InvalidRequest {
            message: format!(
                "SF_API_VERSION {version} is not an API version this org offers; it offers {list}"
            ),
            next_step: format!(
                "Set SF_API_VERSION to one of the org's versions (the newest is {newest}), or unset it to use the newest."
            ),
        })
    }

    /// Sends `request`, or fails at once while the org is known unreachable (`outage.rs`).
    pub(crate) async fn send(
        &self,
        request: ApiRequest,
        version_path: Option<String>,
    ) -> Result<ApiResponse, SfError> {
        if let Some(fail) = self.inner.outage.fail_fast() {
            if fail.start_check {
                self.check_reachable();
            }
            return Err(fail.error);
        }
        self.send_now(request, version_path).await
    }

    /// The background check of a known outage: the version list, which needs no token, and
    /// any answer at all means the org can be reached again.
    fn check_reachable(&self) {
        let client = self.clone();
        tokio::spawn(async move {
            let check = ApiRequest::get(Target::Versions, "the API version list");
            match client.send_now(check, None).await {
                Err(SfError::Unreachable {
                    failure: NetworkFailure::ConnectTimeout,
                    ..
                }) => client.inner.outage.check_failed(),
                _ => client.inner.outage.closed(),
            }
        });
    }

    async fn send_now(
        &self,
        request: ApiRequest,
        version_path: Option<String>,
    ) -> Result<ApiResponse, SfError> {
        // Closed never happens (the semaphore lives as long as the context); proceed anyway.
        let _permit = self.inner.permits.acquire().await.ok();
        let retry = self.inner.context.options.retry;
        let mut retries = 0u32;
        let mut renewed = false;
        loop {
            let session = self.inner.auth.session().await?;
            let (url, setting) =
                self.url_for(&session, &request.target, version_path.as_deref())?;
            let mut builder = self
                .inner
                .context
                .http
                .request(request.method.to_reqwest(), url.clone())
                .header(reqwest::header::ACCEPT, "application/json");
            if !matches!(request.target, Target::Versions) {
                builder = builder.bearer_auth(session.access_token.expose());
            }
            if let Plane::Paragon(paragon) = self.inner.auth.plane() {
                builder = builder.header("X-Paragon-Use-Raw-Response", "true");
                if let Some(credential) = &paragon.credential_id {
                    builder = builder.header("X-Paragon-Credential", credential.as_str());
                }
            }
            for (name, value) in &request.headers {
                builder = builder.header(*name, value.as_str());
            }
            if !request.query.is_empty() {
                builder = builder.query(&request.query);
            }
            if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            tracing::debug!(method = ?request.method, what = %request.what, tenant = %self.inner.tenant, "Salesforce request");

            let response = match builder.send().await {
                Ok(response) => response,
                Err(e) => {
                    let failure = classify(&e);
                    if failure == NetworkFailure::ConnectTimeout {
                        self.inner
                            .outage
                            .opened(url.origin().ascii_serialization(), setting);
                    }
                    // A timeout is not retried: asking again would multiply the wait past
                    // what an MCP client waits for a tool (often 60 s in all).
                    if request.method == HttpMethod::Get
                        && retries < retry.max_retries
                        && !matches!(
                            failure,
                            NetworkFailure::Dns
                                | NetworkFailure::Timeout
                                | NetworkFailure::ConnectTimeout
                        )
                    {
                        retries += 1;
                        tokio::time::sleep(RetryPolicy::delay(retry.connect_backoff, retries))
                            .await;
                        continue;
                    }
                    return Err(self.send_failure(&request, &e, &url, setting));
                }
            };

            self.inner.outage.closed();
            let status = response.status().as_u16();
            if let Some(info) = response
                .headers()
                .get("sforce-limit-info")
                .and_then(|v| v.to_str().ok())
            {
                self.inner.usage.record_header(info);
            }
            if matches!(status, 401 | 403)
                && let Some(granted) = missing_api_scope(&session.scopes)
            {
                // The grant lacks `api`: a renewal would carry the same scopes.
                return Err(SfError::MissingScope {
                    status,
                    scope: "api".into(),
                    granted,
                });
            }
            if status == 401 && !renewed && self.inner.auth.can_renew() {
                // Salesforce names a token without `api` in its 401; when the scopes were not
                // known, its answer is how to tell, and renewing would not help.
                if let Ok(body) = response.bytes().await
                    && says_no_api_scope(&body)
                {
                    return Err(SfError::MissingScope {
                        status,
                        scope: "api".into(),
                        granted: None,
                    });
                }
                renewed = true;
                self.inner.auth.renew(Some(session.generation)).await?;
                continue;
            }
            let last_modified = response
                .headers()
                .get(reqwest::header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let read = match request.body_limit {
                // An error's JSON is read whole enough to say what went wrong.
                Some(limit) if (200..300).contains(&status) => read_bounded(response, limit).await,
                Some(limit) => read_bounded(response, limit.max(ERROR_BODY_LIMIT)).await,
                None => response.bytes().await.map(|body| (body.to_vec(), false)),
            };
            let (body, cut) = match read {
                Ok(read) => read,
                Err(e) => {
                    let failure = match classify(&e) {
                        NetworkFailure::Timeout => NetworkFailure::Timeout,
                        _ => NetworkFailure::Interrupted,
                    };
                    // A body cut off mid-way: a read can simply be asked again (not after
                    // a timeout, as above).
                    if request.method == HttpMethod::Get
                        && retries < retry.max_retries
                        && failure != NetworkFailure::Timeout
                    {
                        retries += 1;
                        tokio::time::sleep(RetryPolicy::delay(retry.connect_backoff, retries))
                            .await;
                        continue;
                    }
                    return Err(lost_answer(&request, failure, &url, setting));
                }
            };
            if (200..300).contains(&status) || status == 304 {
                // A file's bytes are never JSON to unwrap, even when they start like it.
                let body = if self.plane() == PlaneKind::Paragon && request.body_limit.is_none() {
                    unwrap_paragon_output(body)
                } else {
                    body
                };
                return Ok(ApiResponse {
                    status,
                    last_modified,
                    body,
                    cut,
                    setting,
                });
            }
            let paragon = match self.inner.auth.plane() {
                Plane::Paragon(_) => Some(self.inner.auth.settings()),
                Plane::Direct(_) => None,
            };
            if matches!(status, 401 | 403) && says_no_api_scope(&body) {
                return Err(SfError::MissingScope {
                    status,
                    scope: "api".into(),
                    granted: match &session.scopes {
                        ScopeInfo::Granted(scopes) => Some(scopes.to_string()),
                        ScopeInfo::Unknown => None,
                    },
                });
            }
            let err = error_from_body(status, &body, &request.what, setting, paragon);
            if status == 401 && !self.inner.auth.can_renew() {
                // A fixed token cannot be renewed: say where it came from, so that is what
                // gets fixed (a variable, or a header the caller sends).
                let refused = match &err {
                    SfError::Paragon { .. } => Some(("invalid_token".to_string(), err.to_string())),
                    SfError::Api { code, message, .. } => Some((code.clone(), message.clone())),
                    _ => None,
                };
                if let Some((error, description)) = refused {
                    return Err(SfError::Auth {
                        flow: self.inner.auth.flow(),
                        status: Some(401),
                        error,
                        description,
                    });
                }
            }
            // A 5xx without Salesforce's own error body came from something in between (a
            // load balancer, the Paragon proxy): a write may have reached Salesforce or not,
            // and a "failed, try again" would invite a duplicate create.
            if let Some((kind, object, id)) = &request.write
                && status >= 500
                && !is_salesforce_error(&err)
            {
                return Err(SfError::WriteOutcomeUnknown {
                    kind: *kind,
                    object: object.clone(),
                    id: id.clone(),
                    failure: NetworkFailure::Gateway(status),
                });
            }
            // 5xx, UNABLE_TO_LOCK_ROW, the concurrent-request limit: worth asking again,
            // for reads only.
            if err.is_transient()
                && request.method == HttpMethod::Get
                && retries < retry.max_retries
            {
                retries += 1;
                tokio::time::sleep(RetryPolicy::delay(retry.server_error_backoff, retries)).await;
                continue;
            }
            return Err(err);
        }
    }

    pub(crate) fn send_failure(
        &self,
        request: &ApiRequest,
        error: &reqwest::Error,
        url: &Url,
        setting: &'static str,
    ) -> SfError {
        match &request.write {
            // A connect failure means nothing was sent: the outcome is known.
            Some((kind, object, id)) if !error.is_connect() => SfError::WriteOutcomeUnknown {
                kind: *kind,
                object: object.clone(),
                id: id.clone(),
                failure: classify(error),
            },
            _ => unreachable(error, url, setting),
        }
    }
}

/// The error for an answer whose status arrived but whose body did not.
pub(crate) fn lost_answer(
    request: &ApiRequest,
    failure: NetworkFailure,
    url: &Url,
    setting: &'static str,
) -> SfError {
    match &request.write {
        Some((kind, object, id)) => SfError::WriteOutcomeUnknown {
            kind: *kind,
            object: object.clone(),
            id: id.clone(),
            failure,
        },
        None => SfError::Unreachable {
            target: url.origin().ascii_serialization(),
            setting,
            failure,
        },
    }
}

/// How much of an error's body a bounded read keeps: Salesforce's error JSON is far smaller.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The first `limit` bytes of a body, and whether more followed. Reads chunk by chunk and
/// stops once past the limit, so at most `limit` plus one chunk is ever in memory; dropping
/// the response then closes the connection instead of downloading the rest.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::with_capacity(limit.min(64 * 1024));
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
        if body.len() == limit {
            // Exactly at the limit: one more chunk tells whether anything followed.
            let more = response.chunk().await?.is_some_and(|c| !c.is_empty());
            return Ok((body, more));
        }
    }
    Ok((body, false))
}

/// Paragon may wrap the provider's answer as `{"output": ...}` when it does not honour the
/// raw-response header; Salesforce never answers with that lone key.
pub(crate) fn unwrap_paragon_output(body: Vec<u8>) -> Vec<u8> {
    let looks_wrapped = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(9)
        .copied()
        .eq(b"{\"output\"".iter().copied());
    if !looks_wrapped {
        return body;
    }
    match serde_json::from_slice::<Map<String, Value>>(&body) {
        Ok(mut wrapper) if wrapper.len() == 1 => match wrapper.remove("output") {
            Some(inner) => serde_json::to_vec(&inner).unwrap_or(body),
            None => body,
        },
        _ => body,
    }
}

pub(crate) fn version_path_for(version: &str) -> Result<String, SfError> {
    let bare = version.trim().trim_start_matches(['v', 'V']);
    let valid = !bare.is_empty()
        && bare.split('.').count() <= 2
        && bare
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if !valid {
        return Err(SfError::InvalidRequest {
            message: format!("SF_API_VERSION '{version}' is not an API version"),
            next_step: "Set SF_API_VERSION to a version such as 62.0, or leave it unset to use the newest the org offers.".into(),
        });
    }
    let bare = if bare.contains('.') {
        bare.to_string()
    } else {
        format!("{bare}.0")
    };
    Ok(format!("/services/data/v{bare}"))
}

/// Accepts only a path under `/services/data/`, as Salesforce returns in `nextRecordsUrl`,
/// never a full URL: the token must not go to a host the connection did not choose.
pub(crate) fn check_server_path(path: &str) -> Result<String, SfError> {
    let valid = path.starts_with("/services/data/v")
        && !path.contains("..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if valid {
        Ok(path.to_string())
    } else {
        Err(SfError::InvalidRequest {
            message: format!(
                "'{}' is not a Salesforce query locator path",
                path.chars().take(120).collect::<String>()
            ),
            next_step: "Pass the nextRecordsUrl exactly as Salesforce returned it (a path starting with /services/data/).".into(),
        })
    }
}

/// `/services/data/v62.0/query/01g...` → `/query/01g...`, for the Paragon proxy, whose paths
/// are relative to the versioned REST base.
pub(crate) fn strip_version_prefix(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/services/data/v") else {
        return path;
    };
    match rest.find('/') {
        Some(i) => &rest[i..],
        None => "",
    }
}

pub(crate) fn join(base: &Url, path: &str, setting: &str) -> Result<Url, SfError> {
    let origin = base.as_str().trim_end_matches('/');
    Url::parse(&format!("{origin}{path}")).map_err(|_| SfError::InvalidRequest {
        message: format!(
            "{setting} ({}) cannot be used as a base URL",
            base.origin().ascii_serialization()
        ),
        next_step: format!("Set {setting} to an https URL such as https://acme.my.salesforce.com."),
    })
}

/// Maps an error body: Salesforce's error array, Paragon's `{message}`, or anything else.
/// Whether Salesforce itself wrote this error (its `[{errorCode, message}]` body), rather
/// than something in front of it. `HTTP_nnn` codes are ours, for bodies without a code.
pub(crate) fn is_salesforce_error(error: &SfError) -> bool {
    matches!(error, SfError::Api { code, .. } if !code.starts_with("HTTP_"))
}

/// `Some(granted)` when the scopes are known and lack API access.
fn missing_api_scope(scopes: &ScopeInfo) -> Option<Option<String>> {
    match scopes {
        ScopeInfo::Granted(granted) if !granted.allows_api() => Some(Some(granted.to_string())),
        _ => None,
    }
}

/// Salesforce's answer to a REST call with a token whose grant lacks `api`:
/// `INVALID_SESSION_ID` "This session is not valid for use with the REST API".
fn says_no_api_scope(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).contains("not valid for use with the REST API")
}

/// Salesforce's SOQL errors echo the query and put a caret under the column on a line of
/// spaces (`\n      ^\nERROR at Row:1:Column:21\n…`): shown as one line of text, that is a
/// run of dozens of spaces. The caret line goes (the next line states the row and column),
/// runs of spaces collapse to one, and blank lines go.
pub(crate) fn tidy_message(message: &str) -> String {
    message
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty() && line != "^")
        .collect::<Vec<_>>()
        .join("\n")
}

/// `setting` decided where the request went; `paragon` holds the connection's Paragon
/// settings on that plane.
pub(crate) fn error_from_body(
    status: u16,
    body: &[u8],
    what: &str,
    setting: &'static str,
    paragon: Option<&SettingNames>,
) -> SfError {
    if let Ok(items) = serde_json::from_slice::<Vec<ApiErrorItem>>(body)
        && !items.is_empty()
    {
        let mut items = items.into_iter();
        if let Some(first) = items.next() {
            return SfError::Api {
                status,
                code: first.error_code,
                message: tidy_message(&first.message),
                fields: first.fields,
                others: items
                    .map(|item| ApiErrorItem {
                        message: tidy_message(&item.message),
                        ..item
                    })
                    .collect(),
            };
        }
    }
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) {
        if let Ok(item) = serde_json::from_value::<ApiErrorItem>(Value::Object(object.clone())) {
            return SfError::Api {
                status,
                code: item.error_code,
                message: tidy_message(&item.message),
                fields: item.fields,
                others: Vec::new(),
            };
        }
        if let Some(settings) = paragon {
            let message = match object.get("message") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => snippet(body),
            };
            let code = object.get("code").map(|c| match c {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            return SfError::Paragon {
                status,
                message,
                code,
                credential_setting: settings.paragon_credential,
                user_setting: settings.paragon_user,
            };
        }
    }
    if status >= 500 {
        return SfError::Api {
            status,
            code: format!("HTTP_{status}"),
            message: snippet(body),
            fields: Vec::new(),
            others: Vec::new(),
        };
    }
    SfError::UnexpectedResponse {
        what: what.to_string(),
        status,
        detail: snippet(body),
        setting,
    }
}

pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 200 {
        format!("{}…", collapsed.chars().take(200).collect::<String>())
    } else if collapsed.is_empty() {
        "(empty body)".to_string()
    } else {
        collapsed
    }
}

/// Why a request got no answer, from reqwest's error and its sources.
pub(crate) fn classify(error: &reqwest::Error) -> NetworkFailure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut texts = Vec::new();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return NetworkFailure::Refused,
                std::io::ErrorKind::TimedOut if error.is_connect() => {
                    return NetworkFailure::ConnectTimeout;
                }
                std::io::ErrorKind::TimedOut => return NetworkFailure::Timeout,
                // While connecting, malformed data is the TLS layer refusing what it got
                // (plain http where https was expected, a bad certificate).
                std::io::ErrorKind::InvalidData if error.is_connect() => {
                    return NetworkFailure::Tls;
                }
                _ => {}
            }
        }
        texts.push(e.to_string().to_ascii_lowercase());
        source = e.source();
    }
    if error.is_timeout() && error.is_connect() {
        return NetworkFailure::ConnectTimeout;
    }
    if error.is_timeout() {
        return NetworkFailure::Timeout;
    }
    let all = texts.join(" ");
    if all.contains("dns")
        || all.contains("lookup address")
        || all.contains("name or service not known")
    {
        NetworkFailure::Dns
    } else if all.contains("certificate")
        || all.contains("tls")
        || all.contains("handshake")
        || all.contains("corrupt message")
    {
        NetworkFailure::Tls
    } else if all.contains("refused") {
        NetworkFailure::Refused
    } else {
        NetworkFailure::Other
    }
}

/// The error for a request that got no HTTP answer. Names only the origin of the URL.
pub(crate) fn unreachable(error: &reqwest::Error, url: &Url, setting: &'static str) -> SfError {
    SfError::Unreachable {
        target: url.origin().ascii_serialization(),
        setting,
        failure: classify(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_paths() {
        assert_eq!(
            version_path_for("62.0").ok().as_deref(),
            Some("/services/data/v62.0")
        );
        assert_eq!(
            version_path_for("v64").ok().as_deref(),
            Some("/services/data/v64.0")
        );
        assert!(version_path_for("latest").is_err());
        assert!(version_path_for("62.0/../x").is_err());
    }

    #[test]
    fn server_paths_are_checked_and_stripped_for_paragon() {
        assert!(check_server_path("/services/data/v62.0/query/01gD0000002HU6KIAW-2000").is_ok());
        assert!(check_server_path("https://evil.example/services/data/v62.0/query/x").is_err());
        assert!(check_server_path("/services/data/v62.0/../../x").is_err());
        assert!(check_server_path("/services/data/v62.0/query?x=1").is_err());
        assert_eq!(
            strip_version_prefix("/services/data/v62.0/query/01gD-2000"),
            "/query/01gD-2000"
        );
    }

    #[test]
    fn soql_error_messages_lose_the_caret_line_and_runs_of_spaces() {
        let body = br#"[{"message": "\nselect count() from XYZZY\n                              ^\nERROR at Row:1:Column:31\nsObject type 'XYZZY' is not supported.", "errorCode": "INVALID_TYPE"}]"#;
        let SfError::Api { message, code, .. } =
            error_from_body(400, body, "the query", "SF_INSTANCE_URL", None)
        else {
            panic!("a Salesforce error");
        };
        assert_eq!(code, "INVALID_TYPE");
        assert_eq!(
            message,
            "select count() from XYZZY\nERROR at Row:1:Column:31\nsObject type 'XYZZY' is not supported."
        );
        assert!(!message.contains("  "));
    }

    #[test]
    fn paragon_output_wrapper_is_removed_only_when_alone() {
        let wrapped = br#" {"output": {"totalSize": 0, "done": true, "records": []}}"#.to_vec();
        let unwrapped: Value =
            serde_json::from_slice(&unwrap_paragon_output(wrapped)).expect("json");
        assert_eq!(unwrapped["done"], true);
        let two_keys = br#"{"output": 1, "other": 2}"#.to_vec();
        assert_eq!(unwrap_paragon_output(two_keys.clone()), two_keys);
        let plain = br#"{"totalSize": 0}"#.to_vec();
        assert_eq!(unwrap_paragon_output(plain.clone()), plain);
    }
}
