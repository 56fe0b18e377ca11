//! `sfmcp serve --http ADDR`: MCP over Streamable HTTP at `/mcp`, with `/healthz` and
//! `/metrics`, for one tenant or many (see [`super::tenants`]).
//!
//! Security, as the MCP specification asks: callers authenticate with a bearer token of
//! `SFMCP_HTTP_TOKENS` (compared in constant time), which is for sfmcp only and is removed
//! before the request reaches a tool, so it can never travel upstream; `Host` and `Origin`
//! are checked (loopback by default); a non-loopback address is refused unless callers must
//! authenticate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::cli::ServeArgs;
use super::metrics::{self, Metrics, TenantGauges};
use super::server::{Connections, ServerState, SfServer};
use super::tenants::{self, CallLimiter, ParagonProject, TenantClients};
use crate::config::ConnectionSettings;
use crate::salesforce::{
    ClientContext, PARAGON_DEFAULT_PROXY, SalesforceClient, Secret, SigningKey,
};

/// Browser origins always allowed: pages served from this machine.
const LOOPBACK_ORIGINS: [&str; 6] = [
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
];

/// The HTTP transport's settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HttpArgs {
    /// Serve MCP over Streamable HTTP on this address (path /mcp) instead of stdio, e.g.
    /// 127.0.0.1:8787. Port 0 picks a free port; the address is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// No sessions: any replica behind a load balancer serves any request. Share
    /// SFMCP_CURSOR_KEY between replicas so cursors continue anywhere.
    #[arg(long, env = "SFMCP_STATELESS", requires = "http")]
    pub stateless: bool,
    /// Bearer tokens callers must present (comma-separated). Required off loopback.
    #[arg(
        long = "http-tokens",
        env = "SFMCP_HTTP_TOKENS",
        hide_env_values = true,
        value_delimiter = ',',
        value_name = "TOKENS"
    )]
    pub tokens: Vec<Secret>,
    /// More browser origins allowed to call (e.g. https://app.example.com:443); loopback
    /// origins are always allowed, any other Origin is refused.
    #[arg(
        long = "allowed-origin",
        env = "SFMCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub allowed_origins: Vec<String>,
    /// Host names (or host:port) callers use to reach this server, besides loopback; needed
    /// behind a DNS name or load balancer.
    #[arg(
        long = "allowed-host",
        env = "SFMCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub allowed_hosts: Vec<String>,
    /// Accept X-Salesforce-Instance-Url and X-Salesforce-Access-Token per request (the
    /// direct plane, many tenants).
    #[arg(long, env = "SFMCP_ALLOW_DIRECT_TENANTS")]
    pub allow_direct_tenants: bool,
    /// A host (HOST or HOST:PORT) direct tenants may name besides Salesforce's own https
    /// domains, e.g. an emulator on loopback. Repeatable.
    #[arg(
        long = "direct-tenant-host",
        env = "SFMCP_DIRECT_TENANT_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub direct_tenant_hosts: Vec<String>,
    /// The Paragon project's public key (PEM): X-Paragon-User-Token values are verified
    /// against it, and the tenant is the token's verified user.
    #[arg(long, env = "PARAGON_PUBLIC_KEY_FILE", value_name = "FILE")]
    pub paragon_public_key_file: Option<PathBuf>,
    /// Tool calls one tenant may have running at once; more wait up to --tenant-wait-ms,
    /// then get a tool error. Keeps one tenant from using up its org's concurrent-request
    /// limit or this server's workers.
    #[arg(long, env = "SFMCP_MAX_CALLS_PER_TENANT", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000), value_name = "N")]
    pub max_calls_per_tenant: u32,
    /// How long a tenant's call over its cap waits for a slot, in milliseconds.
    #[arg(long, env = "SFMCP_TENANT_WAIT_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(0..=600_000), value_name = "MS")]
    pub tenant_wait_ms: u64,
    /// Tenants whose connections, describes and usage are kept; the least recently used
    /// tenant's are dropped past this many (it reconnects on its next call).
    #[arg(long, env = "SFMCP_MAX_TENANTS", default_value_t = tenants::DEFAULT_TENANT_CAPACITY as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), value_name = "N")]
    pub max_tenants: u32,
    /// Seconds a client may take to send a request's headers, or to start its next request
    /// on a kept-alive connection; slower connections are closed rather than held open
    /// (a slow-header client could otherwise pin memory and sockets forever).
    #[arg(long, env = "SFMCP_HEADER_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3_600), value_name = "SECS")]
    pub header_timeout_secs: u64,
}

/// Everything the HTTP server needs, checked before it binds.
struct Plan {
    addr: SocketAddr,
    state: Arc<ServerState>,
    context: Arc<ClientContext>,
    tokens: Arc<CallerTokens>,
    config: StreamableHttpServerConfig,
    stateless: bool,
    limiter: Arc<CallLimiter>,
    header_timeout: Duration,
}

/// `sfmcp serve --http ADDR`.
pub async fn serve(args: ServeArgs) -> ExitCode {
    let plan = match plan(&args) {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("sfmcp: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(plan.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sfmcp: cannot listen on {}: {e}", plan.addr);
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().unwrap_or(plan.addr);
    let cancel = plan.config.cancellation_token.clone();
    let app = app(&plan);
    let signal = shutdown_signal();
    // Tests and scripts read this line to learn the port when they asked for port 0.
    eprintln!(
        "sfmcp: serving MCP on http://{local}/mcp ({})",
        if plan.stateless {
            "stateless"
        } else {
            "stateful"
        }
    );
    let shutdown = async move {
        signal.await;
        tracing::info!("shutting down: finishing requests in flight");
        cancel.cancel();
    };
    // Routes are turned into services once here: served as a plain Router, axum would
    // rebuild its route tables for every connection (about 3.5 KB each, and an idle MCP
    // session holds two connections).
    serve_connections(listener, app.with_state(()), plan.header_timeout, shutdown).await;
    ExitCode::SUCCESS
}

/// Accepts connections until `shutdown`, then lets the open ones finish. Unlike
/// `axum::serve`, it bounds how long a client may take over a request's headers.
async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

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
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!(%error, "connection ended");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Registers for SIGTERM and SIGINT at once, not on first poll: a signal that arrives between
/// the readiness line and the server's first look at its shutdown future must still end the
/// process gracefully instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)))
            .ok()
    };
    async move {
        #[cfg(unix)]
        if let Some((mut term, mut interrupt)) = signals {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn plan(args: &ServeArgs) -> Result<Plan, String> {
    let http = &args.http;
    let addr = http
        .http
        .ok_or("--http ADDR is needed to serve over HTTP")?;
    let tokens = CallerTokens::new(&http.tokens)?;
    if !addr.ip().is_loopback() {
        if tokens.is_empty() {
            return Err(format!(
                "refusing to serve {addr} without caller authentication: anyone who can reach it would act on the org. Set SFMCP_HTTP_TOKENS (one or more long random tokens, comma-separated) or listen on 127.0.0.1."
            ));
        }
        if http.allowed_hosts.is_empty() {
            return Err(format!(
                "{addr} is not loopback: name the host callers use to reach it with --allowed-host (e.g. --allowed-host mcp.example.com), so requests for other hosts (DNS rebinding) are refused."
            ));
        }
    }
    let mut options = args
        .connection
        .client_options()
        .map_err(|e| e.to_string())?;
    // One knob: a tenant's calls are capped here, and so are its requests upstream.
    options.max_concurrent_per_tenant = http.max_calls_per_tenant.max(1) as usize;
    let context = ClientContext::new(options).map_err(|e| e.to_string())?;
    let connections = connections(&args.connection, http, &context)?;
    let state = Arc::new(ServerState {
        connections,
        policy: args.policy.policy_with_file(&args.connection)?,
        cursor_key: args.policy.cursor_key()?,
    });
    let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(String::from)
        .collect();
    allowed_hosts.extend(clean(&http.allowed_hosts));
    let mut allowed_origins: Vec<String> = LOOPBACK_ORIGINS.into_iter().map(String::from).collect();
    for origin in clean(&http.allowed_origins) {
        let parsed = Url::parse(&origin).ok().filter(|u| u.host_str().is_some());
        if parsed.is_none() && origin != "null" {
            return Err(format!(
                "--allowed-origin {origin} is not an origin: give scheme, host and port, e.g. https://app.example.com:443"
            ));
        }
        allowed_origins.push(origin);
    }
    let mut config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(allowed_hosts)
        .with_allowed_origins(allowed_origins)
        .enforce_origin_validation();
    if http.stateless {
        config = config
            .with_legacy_session_mode(false)
            .with_json_response(true);
    }
    let limiter = Arc::new(CallLimiter::new(
        http.max_calls_per_tenant as usize,
        Duration::from_millis(http.tenant_wait_ms),
        http.max_tenants as usize,
    ));
    Ok(Plan {
        addr,
        state,
        context,
        tokens: Arc::new(tokens),
        config,
        stateless: http.stateless,
        limiter,
        header_timeout: Duration::from_secs(http.header_timeout_secs),
    })
}

fn clean(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// One tenant from the settings, or many per request when the operator configured a
/// Paragon project or allowed direct tenants.
fn connections(
    settings: &ConnectionSettings,
    http: &HttpArgs,
    context: &Arc<ClientContext>,
) -> Result<Connections, String> {
    let settings = settings.clone().with_file().map_err(|e| e.to_string())?;
    let project = paragon_project(&settings, http)?;
    let single_tenant_named = settings.access_token.is_some()
        || settings.refresh_token.is_some()
        || settings.client_id.is_some()
        || settings.jwt_key_file.is_some()
        || settings.paragon_user_token.is_some()
        || settings.paragon_user_id.is_some();
    let default = if (project.is_none() && !http.allow_direct_tenants) || single_tenant_named {
        let connection = settings.resolve().map_err(|e| e.to_string())?;
        Some(SalesforceClient::new(Arc::clone(context), connection).map_err(|e| e.to_string())?)
    } else {
        None
    };
    match (project, http.allow_direct_tenants, default) {
        (None, false, Some(client)) => Ok(Connections::Single(client)),
        (project, allow_direct, default) => Ok(Connections::PerRequest(Arc::new(
            TenantClients::new(Arc::clone(context), project, allow_direct, default)
                .with_direct_hosts(http.direct_tenant_hosts.clone())
                .with_capacity(http.max_tenants as usize),
        ))),
    }
}

/// The Paragon project tenants are served with: needs PARAGON_PROJECT_ID and either the
/// signing key (sfmcp mints per-user tokens) or the public key (hosts send verified tokens),
/// or neither (hosts send tokens the proxy alone checks).
fn paragon_project(
    settings: &ConnectionSettings,
    http: &HttpArgs,
) -> Result<Option<ParagonProject>, String> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    let Some(project_id) = present(&settings.paragon_project_id) else {
        if http.paragon_public_key_file.is_some() {
            return Err(
                "PARAGON_PUBLIC_KEY_FILE is set without PARAGON_PROJECT_ID: set the project id too"
                    .into(),
            );
        }
        return Ok(None);
    };
    if !project_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("PARAGON_PROJECT_ID may hold only letters, digits, '-' and '_'. Copy it again from the Paragon dashboard.".into());
    }
    let proxy =
        present(&settings.paragon_proxy_url).unwrap_or_else(|| PARAGON_DEFAULT_PROXY.into());
    let proxy_url = Url::parse(&proxy)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| format!("PARAGON_PROXY_URL: {proxy} is not an http(s) URL"))?;
    let signing_key = settings
        .paragon_signing_key_file
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| SigningKey::from_file(p, "PARAGON_SIGNING_KEY_FILE"))
        .transpose()?;
    let public_key = http
        .paragon_public_key_file
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
        .map(tenants::public_key_from_file)
        .transpose()?
        .map(Arc::new);
    Ok(Some(ParagonProject {
        proxy_url,
        project_id,
        signing_key,
        public_key,
    }))
}

fn app(plan: &Plan) -> Router {
    let mut tool_router = SfServer::router(&plan.state.policy);
    // The cap goes inside the metrics, so calls it refuses count as tool errors.
    tenants::limit_calls_per_tenant(&mut tool_router, Arc::clone(&plan.limiter));
    metrics::instrument(&mut tool_router);
    let tool_router = Arc::new(tool_router);
    let prompt_router = SfServer::shared_prompt_router();
    let state = Arc::clone(&plan.state);
    let factory = move || {
        Ok(SfServer::with_routers(
            Arc::clone(&state),
            Arc::clone(&tool_router),
            Arc::clone(&prompt_router),
        ))
    };
    let mcp = if plan.stateless {
        Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(
                factory,
                Arc::new(NeverSessionManager::default()),
                plan.config.clone(),
            ),
        )
    } else {
        Router::new().nest_service(
            "/mcp",
            StreamableHttpService::new(
                factory,
                Arc::new(LocalSessionManager::default()),
                plan.config.clone(),
            ),
        )
    };
    let context = Arc::clone(&plan.context);
    let state = Arc::clone(&plan.state);
    let limiter = Arc::clone(&plan.limiter);
    let protected = mcp
        .route(
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
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&plan.tokens),
            require_caller_token,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(protected)
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
        let mut found = subtle::Choice::from(0u8);
        for token in &self.0 {
            found |= token.ct_eq(&presented);
        }
        found.into()
    }
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::cli::PolicyArgs;

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

    fn serve_args(http: HttpArgs) -> ServeArgs {
        ServeArgs {
            connection: ConnectionSettings::default(),
            policy: PolicyArgs {
                read_only: false,
                allow_objects: Vec::new(),
                deny_fields: Vec::new(),
                max_rows: 200,
                cursor_key: None,
                confirm_writes: false,
            },
            http,
        }
    }

    #[test]
    fn non_loopback_needs_caller_tokens_and_a_host_name() {
        let open = serve_args(HttpArgs {
            http: Some(SocketAddr::from(([0, 0, 0, 0], 8787))),
            allow_direct_tenants: true,
            ..HttpArgs::default()
        });
        let error = plan(&open).err().unwrap_or_default();
        assert!(error.contains("SFMCP_HTTP_TOKENS"), "{error}");

        let no_host = serve_args(HttpArgs {
            http: Some(SocketAddr::from(([0, 0, 0, 0], 8787))),
            allow_direct_tenants: true,
            tokens: vec![Secret::new("a-long-enough-caller-token")],
            ..HttpArgs::default()
        });
        let error = plan(&no_host).err().unwrap_or_default();
        assert!(error.contains("--allowed-host"), "{error}");

        let ok = serve_args(HttpArgs {
            http: Some(SocketAddr::from(([0, 0, 0, 0], 8787))),
            allow_direct_tenants: true,
            tokens: vec![Secret::new("a-long-enough-caller-token")],
            allowed_hosts: vec!["mcp.example.com".into()],
            ..HttpArgs::default()
        });
        assert!(plan(&ok).is_ok());
    }

    #[test]
    fn loopback_without_tokens_is_fine_and_bad_origins_are_refused() {
        let local = serve_args(HttpArgs {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            allow_direct_tenants: true,
            ..HttpArgs::default()
        });
        assert!(plan(&local).is_ok());
        let bad_origin = serve_args(HttpArgs {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            allow_direct_tenants: true,
            allowed_origins: vec!["app.example.com".into()],
            ..HttpArgs::default()
        });
        let error = plan(&bad_origin).err().unwrap_or_default();
        assert!(error.contains("--allowed-origin"), "{error}");
    }
}
