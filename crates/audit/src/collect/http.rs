//! What every collector shares: the HTTP client, bounded retries on 429 / 5xx, turning error
//! responses into [`CollectError`]s that name the settings to check, and Link-header parsing.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use sfmcp_salesforce::retry::{Backoff, server_wait};

use super::super::model::IdpKind;
use super::CollectOptions;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{variable} is not set: {what}")]
    MissingSetting {
        variable: &'static str,
        what: &'static str,
    },
    #[error("{variable} is invalid: {message}")]
    BadSetting {
        variable: &'static str,
        message: String,
    },
    #[error("{idp} rejected the credentials (HTTP {status}: {detail}); check {settings}")]
    Unauthorized {
        idp: IdpKind,
        status: u16,
        detail: String,
        settings: &'static str,
    },
    #[error(
        "{idp} is still rate-limiting (HTTP 429) after {attempts} attempts; wait a few minutes \
         and run again"
    )]
    RateLimited { idp: IdpKind, attempts: u32 },
    #[error(
        "{idp} asked to wait {seconds} s before retrying, longer than the {limit} s allowed; run \
         again later"
    )]
    RetryTooLong {
        idp: IdpKind,
        seconds: u64,
        limit: u64,
    },
    #[error("cannot reach {idp} at {url}: {message}; check {settings} and the network")]
    Transport {
        idp: IdpKind,
        url: String,
        message: String,
        settings: &'static str,
    },
    #[error("{idp} answered HTTP {status} to {url}: {detail}")]
    Api {
        idp: IdpKind,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{idp} sent an unexpected response from {url}: {message}")]
    Protocol {
        idp: IdpKind,
        url: String,
        message: String,
    },
    #[error("unknown IdP `{0}`: use okta, entra, google, jumpcloud or onelogin")]
    UnknownIdp(String),
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(String),
}

/// One collector's HTTP session.
pub(super) struct Http {
    client: reqwest::Client,
    pub(super) idp: IdpKind,
    /// The settings a user should check when the IdP cannot be reached.
    pub(super) base_setting: &'static str,
    max_retries: u32,
    max_retry_wait: Duration,
}

impl Http {
    pub(super) fn new(
        idp: IdpKind,
        base_setting: &'static str,
        options: &CollectOptions,
    ) -> Result<Self, CollectError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(options.request_timeout)
            .user_agent(concat!("sfmcp/", env!("CARGO_PKG_VERSION")))
            // A redirect could carry the Authorization header elsewhere; vendors do not
            // redirect API calls.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()))?;
        Ok(Http {
            client,
            idp,
            base_setting,
            max_retries: options.max_retries,
            max_retry_wait: options.max_retry_wait,
        })
    }

    pub(super) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `make` builds, retrying (bounded) on 429 and 502/503/504. Any other
    /// status is returned to the caller.
    pub(super) async fn send(
        &self,
        url: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, CollectError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let response = make().send().await.map_err(|e| CollectError::Transport {
                idp: self.idp,
                url: url.to_owned(),
                message: describe_reqwest(&e),
                settings: self.base_setting,
            })?;
            let status = response.status();
            let retryable =
                status == StatusCode::TOO_MANY_REQUESTS || matches!(status.as_u16(), 502..=504);
            if !retryable {
                return Ok(response);
            }
            if attempt > self.max_retries {
                if status == StatusCode::TOO_MANY_REQUESTS {
                    return Err(CollectError::RateLimited {
                        idp: self.idp,
                        attempts: attempt,
                    });
                }
                return Err(self.api_error(url, response).await);
            }
            let wait = retry_wait(response.headers(), attempt);
            if wait > self.max_retry_wait {
                return Err(CollectError::RetryTooLong {
                    idp: self.idp,
                    seconds: wait.as_secs(),
                    limit: self.max_retry_wait.as_secs(),
                });
            }
            tracing::warn!(
                idp = %self.idp,
                status = status.as_u16(),
                wait_ms = wait.as_millis() as u64,
                attempt,
                "IdP asked to slow down; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends a data request and checks its status; `settings` names the credentials to check
    /// on 401/403.
    pub(super) async fn get_json(
        &self,
        url: &str,
        settings: &'static str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<(HeaderMap, Value), CollectError> {
        let response = self.send(url, make).await?;
        let response = self.check(url, settings, response).await?;
        let headers = response.headers().clone();
        let body = response
            .json::<Value>()
            .await
            .map_err(|e| self.protocol(url, format!("the body is not JSON ({e})")))?;
        Ok((headers, body))
    }

    /// Sends a token request and returns its `access_token`; `settings` names the credentials
    /// to check when the endpoint refuses them.
    pub(super) async fn access_token(
        &self,
        url: &str,
        settings: &'static str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<String, CollectError> {
        let response = self.send(url, make).await?;
        let response = self.check(url, settings, response).await?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| self.protocol(url, format!("token response is not JSON ({e})")))?;
        body.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| self.protocol(url, "token response has no access_token".into()))
    }

    /// Passes 2xx through; 401/403 become [`CollectError::Unauthorized`], others
    /// [`CollectError::Api`].
    pub(super) async fn check(
        &self,
        url: &str,
        settings: &'static str,
        response: Response,
    ) -> Result<Response, CollectError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if matches!(status.as_u16(), 400 | 401 | 403) {
            let code = status.as_u16();
            let detail = error_detail(&response.text().await.unwrap_or_default());
            // A 400 from a token endpoint is a credential problem too (unknown tenant, bad
            // assertion); from a data endpoint it is not.
            if code != 400 || url.contains("token") {
                return Err(CollectError::Unauthorized {
                    idp: self.idp,
                    status: code,
                    detail,
                    settings,
                });
            }
            return Err(CollectError::Api {
                idp: self.idp,
                url: url.to_owned(),
                status: code,
                detail,
            });
        }
        Err(self.api_error(url, response).await)
    }

    async fn api_error(&self, url: &str, response: Response) -> CollectError {
        let status = response.status().as_u16();
        CollectError::Api {
            idp: self.idp,
            url: url.to_owned(),
            status,
            detail: error_detail(&response.text().await.unwrap_or_default()),
        }
    }

    pub(super) fn protocol(&self, url: &str, message: String) -> CollectError {
        CollectError::Protocol {
            idp: self.idp,
            url: url.to_owned(),
            message,
        }
    }

    /// A next-page URL the server gave, accepted only on the same origin as `base`, so a
    /// tampered link cannot send the credentials elsewhere.
    pub(super) fn same_origin(
        &self,
        base: &url::Url,
        next: &str,
    ) -> Result<url::Url, CollectError> {
        let parsed = url::Url::parse(next)
            .map_err(|e| self.protocol(base.as_str(), format!("bad next-page link ({e})")))?;
        if parsed.origin() != base.origin() {
            return Err(self.protocol(
                base.as_str(),
                format!(
                    "the next-page link points to {}, not {}; refusing to send credentials there",
                    parsed.origin().ascii_serialization(),
                    base.origin().ascii_serialization()
                ),
            ));
        }
        Ok(parsed)
    }
}

/// reqwest's message with its causes (a timeout or refused connection is in the source chain).
fn describe_reqwest(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` (seconds or an HTTP date), else Okta's `X-Rate-Limit-Reset` (epoch seconds),
/// else exponential backoff from one second.
fn retry_wait(headers: &HeaderMap, attempt: u32) -> Duration {
    const BACKOFF: Backoff = Backoff {
        first: Duration::from_secs(1),
        factor: 2,
        max_steps: 6,
        jitter: false,
    };
    server_wait(headers).unwrap_or_else(|| BACKOFF.delay(attempt))
}

/// The vendor's own error message from an error body, short and free of tokens (vendors do
/// not echo credentials in errors; the length cap bounds what a misbehaving server can inject).
pub(super) fn error_detail(body: &str) -> String {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let found = json.as_ref().and_then(|v| {
        [
            "/errorSummary",
            "/error/message",
            "/error_description",
            "/status/message",
            "/message",
            "/error",
        ]
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_str).map(str::to_owned))
    });
    let text = found.unwrap_or_else(|| body.trim().to_owned());
    let text = if text.is_empty() {
        "no details".to_owned()
    } else {
        text
    };
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text
    }
}

/// The `rel="next"` target of `Link` headers (several headers or one comma-separated list).
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| target.to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn next_link_is_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.append(
            "link",
            HeaderValue::from_static("<https://a.example/api/v1/users?limit=2>; rel=\"self\""),
        );
        headers.append(
            "link",
            HeaderValue::from_static(
                "<https://a.example/api/v1/users?after=00u1&limit=2>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://a.example/api/v1/users?after=00u1&limit=2")
        );
        let mut single = HeaderMap::new();
        single.insert(
            "link",
            HeaderValue::from_static(
                "<https://a/x?c=1>; rel=\"prev\", <https://a/x?c=3>; rel=next",
            ),
        );
        assert_eq!(next_link(&single).as_deref(), Some("https://a/x?c=3"));
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn retry_after_seconds_then_okta_reset_then_backoff() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_wait(&headers, 1), Duration::from_secs(7));
        let mut okta = HeaderMap::new();
        let reset = (chrono::Utc::now().timestamp() + 30).to_string();
        okta.insert(
            "x-rate-limit-reset",
            HeaderValue::from_str(&reset).unwrap_or(HeaderValue::from_static("0")),
        );
        let wait = retry_wait(&okta, 1).as_secs();
        assert!((29..=30).contains(&wait), "{wait}");
        assert_eq!(retry_wait(&HeaderMap::new(), 1), Duration::from_secs(1));
        assert_eq!(retry_wait(&HeaderMap::new(), 3), Duration::from_secs(4));
    }

    #[test]
    fn vendor_error_messages_are_extracted() {
        assert_eq!(
            error_detail(r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#),
            "Invalid token provided"
        );
        assert_eq!(
            error_detail(
                r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}"#
            ),
            "Access token validation failure."
        );
        assert_eq!(
            error_detail(r#"{"error":"invalid_client","error_description":"AADSTS7000215: bad"}"#),
            "AADSTS7000215: bad"
        );
        assert_eq!(
            error_detail(r#"{"message":"Unauthorized"}"#),
            "Unauthorized"
        );
        assert_eq!(error_detail(""), "no details");
        assert_eq!(error_detail(&"x".repeat(400)).chars().count(), 301);
    }
}
