//! MCP over Streamable HTTP at `/mcp`, with `/healthz` and `/metrics`, for one tenant or many
//! (see [`super::tenants`]).
//!
//! Security, as the MCP specification asks: callers authenticate with a bearer token of
//! `SFMCP_HTTP_TOKENS` (compared in constant time), which is for sfmcp only and is removed
//! before the request reaches a tool, so it can never travel upstream; `Host` and `Origin`
//! are checked (loopback by default). The binary decides what is allowed (a non-loopback
//! address needs caller tokens); this module serves what it is given.
//!
//! With [`HttpOptions::oauth`], people sign in instead (see [`super::oauth`]): `/mcp` takes
//! the sfmcp access tokens that plane issues, and its endpoints are served beside `/mcp`.
//!
//! [`router`] builds the whole application; [`serve`] runs it on a listener the caller bound,
//! so tests serve in-process on port 0.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sfmcp_salesforce::{ClientContext, Secret};

use super::oauth::{self, OAuthPlane};
use super::tenants::{CallLimiter, ResolvedTenant, TenantClients};
use crate::metrics::{Metrics, TenantGauges};
use crate::middleware;
use crate::server::{Connections, ServerState, SfServer};

/// Browser origins always allowed: pages served from this machine.
pub const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

/// Host names always allowed: this machine.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// What the HTTP application serves with, checked by whoever builds it.
pub struct HttpOptions {
    /// No sessions: every request is served on its own (replicas behind a load balancer).
    pub stateless: bool,
    /// `Host` values accepted besides [`LOOPBACK_HOSTS`].
    pub allowed_hosts: Vec<String>,
    /// `Origin` values accepted besides [`LOOPBACK_ORIGINS`].
    pub allowed_origins: Vec<String>,
    /// Bearer tokens callers must present; none: no caller authentication (loopback only).
    pub caller_tokens: CallerTokens,
    /// The per-tenant cap on tool calls running at once.
    pub limiter: Arc<CallLimiter>,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Callers sign in with OAuth (see [`super::oauth`]): `/mcp` takes sfmcp access tokens
    /// instead of caller tokens, and each token is its person's Salesforce connection.
    pub oauth: Option<Arc<OAuthPlane>>,
    /// Live MCP sessions at most (stateful serving): each holds tens of KB and a task until
    /// it is closed or idles out, so an unbounded count is a memory exhaustion.
    pub max_sessions: usize,
}

/// The default of [`HttpOptions::max_sessions`] (`--max-sessions`, `SFMCP_MAX_SESSIONS`).
pub const DEFAULT_MAX_SESSIONS: usize = 1_000;

/// The largest request body read, as rmcp's own limit: an MCP message is small.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The application [`router`] builds, ready for [`serve`].
pub struct HttpApp {
    router: Router,
    /// Ends the open MCP streams (SSE) when the server shuts down, so they do not hold the
    /// graceful shutdown open.
    streams: tokio_util::sync::CancellationToken,
    /// What is watched to give memory back once much of it has ended.
    watched: super::heap::Watched,
}

/// The whole HTTP application: `/mcp`, `/metrics` (both behind the caller token) and
/// `/healthz`.
pub fn router(
    state: Arc<ServerState>,
    context: Arc<ClientContext>,
    options: HttpOptions,
) -> HttpApp {
    let mut allowed_hosts: Vec<String> = LOOPBACK_HOSTS.into_iter().map(String::from).collect();
    allowed_hosts.extend(options.allowed_hosts);
    let mut allowed_origins: Vec<String> = LOOPBACK_ORIGINS.into_iter().map(String::from).collect();
    allowed_origins.extend(options.allowed_origins);
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts)
        .with_allowed_origins(allowed_origins)
        .enforce_origin_validation();
    let streams = config.cancellation_token.clone();
    if options.stateless {
        config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
    }
    let mut tool_router = SfServer::router(&state.policy);
    middleware::wrap(&mut tool_router, Arc::clone(&options.limiter));
    let tool_router = Arc::new(tool_router);
    let prompt_router = SfServer::shared_prompt_router(&state.policy);
    let factory_state = Arc::clone(&state);
    // Stateless: a server per request, so audit runs need a store that outlives it.
    let audit_runs = options.stateless.then(crate::AuditRuns::shared);
    let factory = move || {
        let server = SfServer::with_routers(
            Arc::clone(&factory_state),
            Arc::clone(&tool_router),
            Arc::clone(&prompt_router),
        );
        Ok(match &audit_runs {
            Some(runs) => server.with_audit_runs(Arc::clone(runs)),
            None => server,
        })
    };
    let mut watched = super::heap::Watched::default();
    let mcp = if options.stateless {
        Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(factory, Arc::new(NeverSessionManager::default()), config),
        )
    } else {
        let sessions = Arc::new(LocalSessionManager::default());
        let high_water = Arc::new(super::heap::HighWater::default());
        watched.sessions = Some((Arc::clone(&sessions), Arc::clone(&high_water)));
        let cap = SessionCap {
            sessions: Arc::clone(&sessions),
            max: options.max_sessions,
            high_water,
        };
        Router::new()
            .nest_service(
                "/mcp",
                StreamableHttpService::new(factory, sessions, config),
            )
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(cap),
                refuse_sessions_past_cap,
            ))
    };
    if let Some(plane) = options.oauth {
        // Innermost the step-up check, which reads the body the deadline has read whole;
        // outermost the token check, so nobody unauthenticated gets a body read at all.
        let mcp = mcp
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&plane),
                oauth::require_scope_for_call,
            ))
            .layer(axum::middleware::from_fn_with_state(
                options.body_timeout,
                read_body,
            ))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&plane),
                oauth::require_access_token,
            ));
        let mut router = Router::new()
            .route("/healthz", get(|| async { "ok\n" }))
            .merge(mcp)
            .merge(oauth::routes(plane, options.body_timeout));
        // Metrics are the operator's: served only to a caller token, when there are any.
        if !options.caller_tokens.is_empty() {
            router = router.merge(metrics_route(&state, &context, options.limiter).layer(
                axum::middleware::from_fn_with_state(
                    Arc::new(options.caller_tokens),
                    require_caller_token,
                ),
            ));
        }
        return HttpApp {
            router,
            streams,
            watched,
        };
    }
    // Tenants are resolved here, once per request, and only when requests name them: tools
    // read the result and never a header.
    let mcp = mcp.layer(axum::middleware::from_fn_with_state(
        options.body_timeout,
        read_body,
    ));
    let mcp = match &state.connections {
        Connections::PerRequest(tenants) => mcp.layer(axum::middleware::from_fn_with_state(
            Arc::clone(tenants),
            resolve_tenant,
        )),
        Connections::Single(_) => mcp,
    };
    let protected = mcp
        .merge(metrics_route(&state, &context, options.limiter))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(options.caller_tokens),
            require_caller_token,
        ));
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(protected);
    HttpApp {
        router,
        streams,
        watched,
    }
}

/// `/metrics`: the Prometheus exposition, with the tenant gauges.
fn metrics_route(
    state: &Arc<ServerState>,
    context: &Arc<ClientContext>,
    limiter: Arc<CallLimiter>,
) -> Router {
    let state = Arc::clone(state);
    let context = Arc::clone(context);
    Router::new().route(
        "/metrics",
        get(move || {
            let gauges = TenantGauges {
                clients: match &state.connections {
                    Connections::Single(_) => 1,
                    Connections::PerRequest(tenants) => tenants.len(),
                },
                call_slots: limiter.tenants(),
                held: context.tenants_held(),
            };
            let body = Metrics::global().render(Some(&context), Some(gauges));
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    body,
                )
            }
        }),
    )
}

/// Reads a POST's whole body under a deadline before anything else sees it. hyper bounds the
/// headers only: a client that announces a megabyte and sends a byte a second would hold its
/// connection and buffer for days. A body that is not JSON gets JSON-RPC's parse error, as it
/// does over stdio, instead of rmcp's bare 415.
async fn read_body(State(deadline): State<Duration>, request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return body_refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is larger than an MCP message may be (4 MiB)",
        );
    }
    let bytes =
        match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return body_refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the request body is larger than an MCP message may be (4 MiB), or broke off",
                );
            }
            Err(_) => {
                return body_refused(
                    StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time; send it at once",
                );
            }
        };
    if super::not_json(&bytes).is_some() {
        let answer = super::parse_error("the request body is not valid JSON");
        return (StatusCode::BAD_REQUEST, axum::Json(answer)).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

fn body_refused(status: StatusCode, message: &str) -> Response {
    let mut response = (
        status,
        axum::Json(serde_json::json!({"error": "bad_request_body", "message": message})),
    )
        .into_response();
    // The rest of a body that was not read cannot be skipped safely: end the connection.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Accepts connections until `shutdown`, then lets the open ones finish. Unlike
/// `axum::serve`, it bounds how long a client may take over a request's headers.
///
/// Routes become services once, here: served as a plain Router, axum would rebuild its route
/// tables for every connection (about 3.5 KB each, and an idle MCP session holds two).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: HttpApp,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let HttpApp {
        router,
        streams,
        watched,
    } = app;
    let connections = Arc::clone(&watched.connections);
    super::heap::release_after_many_end(watched);
    let app = router.with_state(());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, typically: wait instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => {
                tracing::info!("shutting down: finishing requests in flight");
                streams.cancel();
                break;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let live = connections.enter();
        tokio::spawn(async move {
            let _live = live;
            if let Err(error) = connection.await {
                tracing::trace!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The live sessions, and how many may be.
struct SessionCap {
    sessions: Arc<LocalSessionManager>,
    max: usize,
    /// Raised as sessions open, so memory is given back once they end ([`super::heap`]).
    high_water: Arc<super::heap::HighWater>,
}

/// A POST without `Mcp-Session-Id` asks for a new session: past the cap it is refused with
/// 503 and a JSON-RPC error naming the setting, before rmcp allocates anything. Checked, not
/// reserved: initializations in flight at the same moment may pass together, so the count
/// can exceed the cap by at most the requests being initialized at once.
async fn refuse_sessions_past_cap(
    State(cap): State<Arc<SessionCap>>,
    request: Request,
    next: Next,
) -> Response {
    let opens_session =
        request.method() == Method::POST && !request.headers().contains_key("mcp-session-id");
    if opens_session {
        let live = cap.sessions.sessions.read().await.len();
        if live >= cap.max {
            let refusal = serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {
                    "code": -32000,
                    "message": format!(
                        "this server holds its maximum of {} live MCP sessions (--max-sessions, SFMCP_MAX_SESSIONS); close unused sessions (HTTP DELETE) or retry later",
                        cap.max
                    ),
                }
            });
            let mut response =
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(refusal)).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
        cap.high_water.opening(live);
    }
    next.run(request).await
}

/// The bearer tokens callers may present, kept as SHA-256 digests so every comparison has
/// the same length and takes the same time.
pub struct CallerTokens(Vec<[u8; 32]>);

impl CallerTokens {
    pub fn new(tokens: &[Secret]) -> Result<Self, String> {
        let mut digests = Vec::new();
        for token in tokens {
            let token = token.expose().trim();
            if token.is_empty() {
                continue;
            }
            if token.len() < 16 {
                return Err("SFMCP_HTTP_TOKENS: every token must be at least 16 characters; generate them with e.g. `openssl rand -base64 32`".into());
            }
            digests.push(sha256(token));
        }
        Ok(CallerTokens(digests))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `presented` is one of the tokens; looks at every token whatever matches.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = sha256(presented);
        let mut found = false;
        for token in &self.0 {
            // `|` rather than `||`: every token is compared, whichever matches.
            found |= sfmcp_salesforce::crypto::constant_time_eq(token, &presented);
        }
        found
    }
}

fn sha256(text: &str) -> [u8; 32] {
    sfmcp_salesforce::crypto::sha256(text.as_bytes())
}

async fn require_caller_token(
    State(tokens): State<Arc<CallerTokens>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !tokens.is_empty() {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let accepted = presented.is_some_and(|p| tokens.accepts(p));
        if !accepted {
            let message = if presented.is_none() {
                "this sfmcp server needs Authorization: Bearer <token> (one of SFMCP_HTTP_TOKENS)"
            } else {
                "the bearer token is not one this sfmcp server accepts"
            };
            let mut response = (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"error": "unauthorized", "message": message})),
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sfmcp\""),
            );
            return response;
        }
    }
    // The caller's credential is for sfmcp alone: nothing past this point may see it, so it
    // can never be passed through to Salesforce or Paragon.
    request.headers_mut().remove(header::AUTHORIZATION);
    next.run(request).await
}

/// Puts the tenant a request names into its extensions, as a [`ResolvedTenant`]. Only POSTs
/// carry JSON-RPC calls; a GET (the event stream) or DELETE (the session's end) runs no tool.
/// A tenant that cannot be served is kept as the reason, not answered with an HTTP error:
/// `initialize` and `tools/list` need no tenant, and a tool call reports it as a tool error.
async fn resolve_tenant(
    State(tenants): State<Arc<TenantClients>>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST {
        let resolved = tenants.client_for(request.headers());
        request.extensions_mut().insert(ResolvedTenant(resolved));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_tokens_accept_only_configured_tokens() {
        let tokens = CallerTokens::new(&[
            Secret::new("first-token-0123456789"),
            Secret::new(" second-token-0123456789 "),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(tokens.accepts("first-token-0123456789"));
        assert!(tokens.accepts("second-token-0123456789"));
        assert!(!tokens.accepts("first-token-012345678"));
        assert!(!tokens.accepts(""));
        assert!(CallerTokens::new(&[Secret::new("short")]).is_err());
        assert!(
            CallerTokens::new(&[Secret::new("")])
                .map(|t| t.is_empty())
                .unwrap_or(false)
        );
    }
}
