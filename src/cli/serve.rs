//! `sfmcp serve`: the MCP server on stdio, or on Streamable HTTP with `--http`; and the
//! policy flags every command that runs tools shares.

use std::process::ExitCode;
use std::sync::Arc;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sfmcp_mcp::cursor::CursorKey;
use sfmcp_mcp::render::AnswerForm;
use sfmcp_mcp::toolsets::Toolsets;
use sfmcp_mcp::transport::http::{self, CallerTokens, HttpOptions};
use sfmcp_mcp::transport::oauth::sealed::SealingKeys;
use sfmcp_mcp::transport::oauth::store::GrantStore;
use sfmcp_mcp::transport::oauth::{OAuthPlane, OAuthSettings};
use sfmcp_mcp::transport::tenants::{self, CallLimiter, ParagonProject, TenantClients};
use sfmcp_mcp::{Connections, Policy, ServerState};
use sfmcp_salesforce::{
    ClientContext, PARAGON_DEFAULT_PROXY, SalesforceClient, Secret, SigningKey,
};
use url::Url;

use super::fail;
use crate::settings::ConnectionSettings;

/// What tools may touch, from flags or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    /// Offer no write tools (create_record, update_record, create_records, update_records, upsert_record).
    #[arg(long, env = "SFMCP_READ_ONLY")]
    pub read_only: bool,
    /// Only these objects may be queried or written (comma-separated API names).
    #[arg(
        long,
        env = "SFMCP_ALLOW_OBJECTS",
        value_delimiter = ',',
        value_name = "OBJECTS"
    )]
    pub allow_objects: Vec<String>,
    /// Fields no tool reads or writes: Object.Field, or Field for every object (comma-separated).
    #[arg(
        long,
        env = "SFMCP_DENY_FIELDS",
        value_delimiter = ',',
        value_name = "FIELDS"
    )]
    pub deny_fields: Vec<String>,
    /// Rows one query result returns at most (1 to 2000).
    #[arg(long, env = "SFMCP_MAX_ROWS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=2000))]
    pub max_rows: u32,
    /// Key that seals query cursors (32 random bytes, base64); replicas behind one load
    /// balancer must share it. Default: a fresh key per process.
    #[arg(
        long,
        env = "SFMCP_CURSOR_KEY",
        hide_env_values = true,
        value_name = "BASE64"
    )]
    pub cursor_key: Option<String>,
    /// Ask the person to confirm every create and update before it is sent (through the MCP
    /// client: an input-required result, or elicitation); clients that can ask nobody get
    /// the preview and a refusal. Also `[policy] confirm_writes = true` in the --config file.
    #[arg(long, env = "SF_CONFIRM_WRITES")]
    pub confirm_writes: bool,
    /// Groups of tools to offer, besides core (comma-separated): writes, reports, audit,
    /// history, files, tooling, or all. Each tool listed costs context in every conversation.
    #[arg(
        long,
        env = "SFMCP_TOOLSETS",
        value_delimiter = ',',
        value_name = "SETS",
        default_value = "writes,reports,audit",
        value_parser = Toolsets::parse_one
    )]
    pub toolsets: Vec<Toolsets>,
    /// What an answer carries: text (default; the text holds every value and link, and
    /// tools declare no output schema), or both (the text, and structured content with an
    /// output schema, for hosts that read it in code). docs/answers.md says which clients
    /// read which.
    #[arg(long, env = "SFMCP_ANSWER_FORM", value_name = "FORM", default_value = "text",
          value_parser = parse_answer_form)]
    pub answer_form: AnswerForm,
}

fn parse_answer_form(text: &str) -> Result<AnswerForm, String> {
    text.parse()
}

impl PolicyArgs {
    pub fn policy(&self) -> Policy {
        let clean = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Policy {
            read_only: self.read_only,
            allow_objects: clean(&self.allow_objects),
            deny_fields: clean(&self.deny_fields),
            max_rows: self.max_rows,
            confirm_writes: self.confirm_writes,
            toolsets: self.toolsets.iter().copied().collect(),
            answer_form: self.answer_form,
        }
    }

    /// The policy with what the `--config` file adds to it (`[policy] confirm_writes`).
    pub fn policy_with_file(&self, connection: &ConnectionSettings) -> Result<Policy, String> {
        let mut policy = self.policy();
        policy.confirm_writes |= connection
            .confirm_writes_in_file()
            .map_err(|e| e.to_string())?;
        Ok(policy)
    }

    pub fn cursor_key(&self) -> Result<CursorKey, String> {
        match self.cursor_key.as_deref().map(str::trim) {
            None | Some("") => Ok(CursorKey::random()),
            Some(text) => CursorKey::from_base64(text).map_err(|e| e.to_string()),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub connection: ConnectionSettings,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub http: HttpArgs,
}

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
    /// Live MCP sessions at most; a client opening one more gets HTTP 503 until sessions
    /// close (DELETE) or idle out (5 minutes without a request).
    #[arg(long, env = "SFMCP_MAX_SESSIONS", default_value_t = http::DEFAULT_MAX_SESSIONS as u32,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), value_name = "N")]
    pub max_sessions: u32,
    /// Seconds a client may take to send a request's headers, or its body, or to start its
    /// next request on a kept-alive connection; slower connections are closed rather than
    /// held open (a slow client could otherwise pin memory and sockets forever).
    #[arg(long, env = "SFMCP_HEADER_TIMEOUT_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3_600), value_name = "SECS")]
    pub header_timeout_secs: u64,
    #[command(flatten)]
    pub oauth: OAuthArgs,
}

/// `--oauth`: every person signs in with their own Salesforce account (MCP authorization).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OAuthArgs {
    /// Be an OAuth authorization server and protected resource: MCP clients sign people in
    /// through Salesforce (SF_LOGIN_URL, with the connected app SF_CLIENT_ID and
    /// SF_CLIENT_SECRET), and every call runs as that person.
    #[arg(long, env = "SFMCP_OAUTH", requires = "http")]
    pub oauth: bool,
    /// The URL people reach this server at, without /mcp (e.g. https://mcp.example.com).
    /// The connected app's callback URL must be this plus /oauth/callback. Default on
    /// loopback: http://ADDR.
    #[arg(long, env = "SFMCP_PUBLIC_URL", value_name = "URL", requires = "oauth")]
    pub public_url: Option<String>,
    /// Keys that seal sign-ins and tokens (each 32 random bytes, base64; comma-separated):
    /// the first seals, all open, so a new key goes first and the old one stays until its
    /// tokens expire. Replicas must share them. Default: a fresh key per process.
    #[arg(
        long = "oauth-keys",
        env = "SFMCP_OAUTH_KEYS",
        hide_env_values = true,
        value_delimiter = ',',
        value_name = "BASE64",
        requires = "oauth"
    )]
    pub keys: Vec<String>,
    /// Fetch client metadata documents over http and from loopback or private addresses.
    /// For local testing only: it lets any client make this server fetch internal URLs.
    #[arg(
        long,
        env = "SFMCP_OAUTH_ALLOW_LOCAL_CLIENT_METADATA",
        requires = "oauth"
    )]
    pub allow_local_client_metadata: bool,
    /// Redis shared by replicas for the little state sealed tokens cannot carry (redeemed
    /// codes, refresh generations, revocations): redis://host:6379, rediss:// for TLS, or
    /// redis+unix:///path. Default: this process's memory, right for one machine.
    #[arg(
        long = "oauth-store",
        env = "SFMCP_OAUTH_STORE",
        hide_env_values = true,
        value_name = "URL",
        requires = "oauth"
    )]
    pub store: Option<String>,
}

/// Builds the shared server state, or says which setting is wrong. Nothing is sent to
/// Salesforce yet: connecting happens on the first tool call, so a server with an unreachable
/// org still starts and every tool explains what to fix.
pub fn server_state(
    connection_settings: &ConnectionSettings,
    policy: &PolicyArgs,
) -> Result<Arc<ServerState>, String> {
    let options = connection_settings
        .client_options()
        .map_err(|e| e.to_string())?;
    let connection = connection_settings.resolve().map_err(|e| e.to_string())?;
    let context = ClientContext::new(options).map_err(|e| e.to_string())?;
    let client = SalesforceClient::new(context, connection).map_err(|e| e.to_string())?;
    Ok(Arc::new(ServerState {
        connections: Connections::Single(client),
        policy: policy.policy_with_file(connection_settings)?,
        cursor_key: policy.cursor_key()?,
        audit: Default::default(),
    }))
}

/// `sfmcp serve`: MCP over stdio (only protocol goes to stdout), or over HTTP with `--http`.
pub async fn serve(args: ServeArgs) -> ExitCode {
    if args.http.http.is_some() {
        return serve_http(args).await;
    }
    let state = match server_state(&args.connection, &args.policy) {
        Ok(state) => state,
        Err(message) => return fail(&message),
    };
    announce_identity(&state, "sfmcp");
    match sfmcp_mcp::transport::stdio::serve(state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// `sfmcp serve --http ADDR`: checks every setting, binds, prints the address (tests and
/// scripts read that line to learn the port when they asked for port 0), serves until
/// SIGTERM or SIGINT, then lets requests in flight finish.
async fn serve_http(args: ServeArgs) -> ExitCode {
    let plan = match plan(&args) {
        Ok(plan) => plan,
        Err(message) => return fail(&message),
    };
    let listener = match tokio::net::TcpListener::bind(plan.addr).await {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("cannot listen on {}: {e}", plan.addr)),
    };
    let local = listener.local_addr().unwrap_or(plan.addr);
    let stateless = plan.options.stateless;
    let mut options = plan.options;
    if let Some(pending) = plan.oauth {
        let mut settings = pending.settings;
        if pending.public_url_from_address {
            settings.public_url = match Url::parse(&format!("http://{local}")) {
                Ok(url) => url,
                Err(e) => return fail(&format!("cannot name http://{local}: {e}")),
            };
        }
        settings.store = match GrantStore::open(pending.store_url.as_deref()).await {
            Ok(store) => Arc::new(store),
            Err(message) => return fail(&message),
        };
        let plane = match OAuthPlane::new(settings, Arc::clone(&plan.context), pending.tenants) {
            Ok(plane) => plane,
            Err(message) => return fail(&message),
        };
        eprintln!(
            "sfmcp: OAuth sign-in through Salesforce: people add {} to their MCP client; the connected app's callback URL must be {}",
            plane.resource(),
            plane.salesforce_callback()
        );
        options.oauth = Some(plane);
    }
    announce_identity(&plan.state, "sfmcp");
    let app = http::router(plan.state, plan.context, options);
    let shutdown = shutdown_signal();
    eprintln!(
        "sfmcp: serving MCP on http://{local}/mcp ({})",
        if stateless { "stateless" } else { "stateful" }
    );
    http::serve(listener, app, plan.header_timeout, shutdown).await;
    ExitCode::SUCCESS
}

/// Starts learning who and where the connection is (one connection for every request), and
/// prints "PREFIX: Connected as … to … — production" on stderr once known, before
/// `initialize` answers with it; never delays serving. A failure is logged by the fetch
/// itself, and the tools report it.
pub(crate) fn announce_identity(state: &ServerState, prefix: &'static str) {
    state.prefetch_identity_and(move |identity| {
        if let Some(line) = sfmcp_mcp::connected_line(identity) {
            eprintln!("{prefix}: {line}");
        }
    });
}

/// Everything the HTTP server needs, checked before it binds.
struct Plan {
    addr: SocketAddr,
    state: Arc<ServerState>,
    context: Arc<ClientContext>,
    options: HttpOptions,
    header_timeout: Duration,
    oauth: Option<PendingOAuth>,
}

/// The OAuth plane's settings, completed once the address is bound.
struct PendingOAuth {
    settings: OAuthSettings,
    /// No SFMCP_PUBLIC_URL on loopback: the bound address, port included, is the URL.
    public_url_from_address: bool,
    tenants: Arc<TenantClients>,
    /// `SFMCP_OAUTH_STORE`, connected to once the address is bound.
    store_url: Option<String>,
}

fn plan(args: &ServeArgs) -> Result<Plan, String> {
    let http = &args.http;
    let addr = http
        .http
        .ok_or("--http ADDR is needed to serve over HTTP")?;
    let caller_tokens = CallerTokens::new(&http.tokens)?;
    if http.oauth.oauth {
        return plan_oauth(args, addr, caller_tokens);
    }
    if !addr.ip().is_loopback() {
        if caller_tokens.is_empty() {
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
        audit: Default::default(),
    });
    let allowed_origins = allowed_origins(http)?;
    let limiter = Arc::new(CallLimiter::new(
        http.max_calls_per_tenant as usize,
        Duration::from_millis(http.tenant_wait_ms),
        http.max_tenants as usize,
    ));
    Ok(Plan {
        addr,
        state,
        context,
        options: HttpOptions {
            stateless: http.stateless,
            max_sessions: http.max_sessions as usize,
            allowed_hosts: clean(&http.allowed_hosts),
            allowed_origins,
            caller_tokens,
            limiter,
            body_timeout: Duration::from_secs(http.header_timeout_secs),
            oauth: None,
        },
        header_timeout: Duration::from_secs(http.header_timeout_secs),
        oauth: None,
    })
}

/// `--allowed-origin` values, each checked to be an origin.
fn allowed_origins(http: &HttpArgs) -> Result<Vec<String>, String> {
    let mut allowed = Vec::new();
    for origin in clean(&http.allowed_origins) {
        let parsed = Url::parse(&origin).ok().filter(|u| u.host_str().is_some());
        if parsed.is_none() && origin != "null" {
            return Err(format!(
                "--allowed-origin {origin} is not an origin: give scheme, host and port, e.g. https://app.example.com:443"
            ));
        }
        allowed.push(origin);
    }
    Ok(allowed)
}

/// `--oauth`: people sign in; no caller tokens for /mcp, no tenant headers, no default org.
fn plan_oauth(
    args: &ServeArgs,
    addr: SocketAddr,
    caller_tokens: CallerTokens,
) -> Result<Plan, String> {
    let http = &args.http;
    let oauth = &http.oauth;
    if http.allow_direct_tenants || args.connection.paragon_project_id.is_some() {
        return Err("--oauth serves people who sign in themselves: drop --allow-direct-tenants and PARAGON_* (run a separate server for those planes)".into());
    }
    let (login_url, connected_app) = args.connection.connected_app().map_err(|e| e.to_string())?;
    let public_url = match oauth
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        Some(text) => {
            let url = Url::parse(text)
                .ok()
                .filter(|u| u.host_str().is_some() && u.path().trim_end_matches('/').is_empty())
                .ok_or_else(|| format!("SFMCP_PUBLIC_URL {text} must be the server's base URL, like https://mcp.example.com (without /mcp)"))?;
            let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if url.scheme() != "https" && !loopback {
                return Err(format!(
                    "SFMCP_PUBLIC_URL {text} must be https: tokens and sign-ins travel over it"
                ));
            }
            Some(url)
        }
        None if addr.ip().is_loopback() => None,
        None => {
            return Err(format!(
                "{addr} is not loopback: set SFMCP_PUBLIC_URL to the https URL people reach this server at (e.g. https://mcp.example.com)"
            ));
        }
    };
    let keys = if oauth.keys.iter().all(|k| k.trim().is_empty()) {
        if http.stateless {
            return Err("--stateless --oauth needs SFMCP_OAUTH_KEYS shared by every replica, or sign-ins made through one replica fail on the others".into());
        }
        eprintln!("sfmcp: SFMCP_OAUTH_KEYS is not set: sign-ins last until this process stops");
        SealingKeys::random()
    } else {
        SealingKeys::from_base64_list(&oauth.keys).map_err(|e| e.to_string())?
    };
    let mut options = args
        .connection
        .client_options()
        .map_err(|e| e.to_string())?;
    options.max_concurrent_per_tenant = http.max_calls_per_tenant.max(1) as usize;
    let context = ClientContext::new(options).map_err(|e| e.to_string())?;
    let tenants = Arc::new(
        TenantClients::new(Arc::clone(&context), None, false, None)
            .with_capacity(http.max_tenants as usize),
    );
    let policy = args.policy.policy_with_file(&args.connection)?;
    let mut allowed_hosts = clean(&http.allowed_hosts);
    if let Some(url) = &public_url
        && let Some(host) = url.host_str()
    {
        allowed_hosts.push(host.to_string());
        if let Some(port) = url.port() {
            allowed_hosts.push(format!("{host}:{port}"));
        }
    }
    let settings = OAuthSettings {
        public_url: public_url.clone().unwrap_or_else(|| login_url.clone()),
        login_url,
        connected_app,
        keys,
        writes_offered: !policy.read_only,
        allow_local_client_metadata: oauth.allow_local_client_metadata,
        store: Arc::default(),
    };
    if http.stateless && oauth.store.is_none() {
        eprintln!(
            "sfmcp: SFMCP_OAUTH_STORE is not set: each replica keeps its own record of used codes, refresh tokens and revocations; behind a load balancer, share one Redis"
        );
    }
    let limiter = Arc::new(CallLimiter::new(
        http.max_calls_per_tenant as usize,
        Duration::from_millis(http.tenant_wait_ms),
        http.max_tenants as usize,
    ));
    Ok(Plan {
        addr,
        state: Arc::new(ServerState {
            connections: Connections::PerRequest(Arc::clone(&tenants)),
            policy,
            cursor_key: args.policy.cursor_key()?,
            audit: Default::default(),
        }),
        context,
        options: HttpOptions {
            stateless: http.stateless,
            max_sessions: http.max_sessions as usize,
            allowed_hosts,
            allowed_origins: allowed_origins(http)?,
            caller_tokens,
            limiter,
            body_timeout: Duration::from_secs(http.header_timeout_secs),
            oauth: None,
        },
        header_timeout: Duration::from_secs(http.header_timeout_secs),
        oauth: Some(PendingOAuth {
            settings,
            public_url_from_address: public_url.is_none(),
            tenants,
            store_url: oauth.store.clone(),
        }),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
                toolsets: vec![Toolsets::DEFAULT],
                answer_form: AnswerForm::Text,
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

    #[test]
    fn oauth_needs_the_connected_app_an_https_public_url_off_loopback_and_shared_keys_for_replicas()
    {
        let oauth =
            |addr: SocketAddr, public_url: Option<&str>, stateless: bool, keys: Vec<String>| {
                let mut args = serve_args(HttpArgs {
                    http: Some(addr),
                    stateless,
                    oauth: OAuthArgs {
                        oauth: true,
                        public_url: public_url.map(String::from),
                        keys,
                        allow_local_client_metadata: false,
                        store: None,
                    },
                    ..HttpArgs::default()
                });
                args.connection.client_id = Some("3MVG9-connected-app".into());
                args
            };
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let open = SocketAddr::from(([0, 0, 0, 0], 8787));
        let key = vec!["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string()];
        let mut no_app = oauth(loopback, None, false, Vec::new());
        no_app.connection.client_id = None;
        let error = plan(&no_app).err().unwrap_or_default();
        assert!(error.contains("SF_CLIENT_ID"), "{error}");
        assert!(plan(&oauth(loopback, None, false, Vec::new())).is_ok());
        let error = plan(&oauth(open, None, false, key.clone()))
            .err()
            .unwrap_or_default();
        assert!(error.contains("SFMCP_PUBLIC_URL"), "{error}");
        let error = plan(&oauth(
            open,
            Some("http://mcp.example.com"),
            false,
            key.clone(),
        ))
        .err()
        .unwrap_or_default();
        assert!(error.contains("https"), "{error}");
        let error = plan(&oauth(
            open,
            Some("https://mcp.example.com/mcp"),
            false,
            key.clone(),
        ))
        .err()
        .unwrap_or_default();
        assert!(error.contains("without /mcp"), "{error}");
        let error = plan(&oauth(
            open,
            Some("https://mcp.example.com"),
            true,
            Vec::new(),
        ))
        .err()
        .unwrap_or_default();
        assert!(error.contains("SFMCP_OAUTH_KEYS"), "{error}");
        let ok = plan(&oauth(open, Some("https://mcp.example.com"), true, key));
        assert!(
            ok.as_ref().is_ok_and(|p| p
                .options
                .allowed_hosts
                .contains(&"mcp.example.com".to_string())),
            "the public host is an allowed Host"
        );
    }
}
