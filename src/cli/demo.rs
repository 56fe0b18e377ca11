//! `sfmcp demo`: the emulator's demo org started in this process, and the MCP server on stdio
//! connected to it as a real client would be (OAuth refresh token over loopback HTTP), so a
//! newcomer can try every tool with no Salesforce org and no settings.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

use sfmcp_emulator::objects::standard_objects;
use sfmcp_emulator::schema::OrgSchema;
use sfmcp_emulator::{Emulator, EmulatorConfig, OrgSource, PresetLogin};
use sfmcp_mcp::{AuditSettings, Connections, ServerState};
use sfmcp_salesforce::client::ClientContext;
use sfmcp_salesforce::{
    ClientOptions, Connection, DirectCredential, OAuthClient, SalesforceClient, Secret,
};
use url::Url;

use super::audit::demo_directories::DemoIdps;
use super::fail;
use super::serve::PolicyArgs;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Multiply the demo org's people and grants (for trying large results).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub scale: u32,
    /// Milliseconds a session's start waits for the demo org to say who is connected (default
    /// 150); past it, the instructions point to `whoami`.
    #[arg(long, env = "SFMCP_IDENTITY_WAIT_MS", value_name = "MILLISECONDS",
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub identity_wait_ms: Option<u64>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub async fn run(args: DemoArgs) -> ExitCode {
    let config = EmulatorConfig {
        orgs: vec![OrgSource::Demo { scale: args.scale }],
        ..EmulatorConfig::default()
    };
    // The listener is bound first and the org is built behind it: `tools/list` and the other
    // contract requests need no org, and a first query simply waits in the listen backlog
    // until the org is served (issue 19: 430 ms to `tools/list` when the build came first).
    let pending = match Emulator::bind(config).await {
        Ok(pending) => pending,
        Err(e) => return fail(&format!("the demo org could not start: {e}")),
    };
    let base_url = pending.base_url.clone();
    let login = PresetLogin::generate();
    let presets = [login.clone()];
    let building = tokio::spawn(async move { pending.finish(&presets).await });
    // The audit tools collect from the five directories this emulator serves; the Google
    // key file they need lives until the server stops.
    let idps = match DemoIdps::attach(&base_url) {
        Ok(idps) => idps,
        Err(message) => return fail(&message),
    };
    let audit = idps.audit_settings(args.scale);
    let mut options = ClientOptions::default();
    if let Some(millis) = args.identity_wait_ms {
        options.identity_wait = std::time::Duration::from_millis(millis);
    }
    let state = match refreshing_client(&base_url, &login, None, options)
        .and_then(|client| single_org_state(client, &args.policy, audit))
    {
        Ok(state) => state,
        Err(message) => return fail(&message),
    };
    eprintln!(
        "sfmcp demo: MCP on stdio, connected to a local demo org at {base_url}.\n\
         Point an MCP client at this command (README: Claude Desktop, Claude Code, Inspector)\n\
         and ask, for example: \"show me the ten biggest open opportunities and their accounts\"."
    );
    super::serve::announce_identity(&state, "sfmcp demo");
    let serving = sfmcp_mcp::transport::stdio::serve(state);
    tokio::pin!(serving);
    // A failed build must end the demo with its reason, not leave queries waiting forever.
    let (served, emulator) = tokio::select! {
        served = &mut serving => (served, None),
        built = building => match built {
            Ok(Ok(emulator)) => ((&mut serving).await, Some(emulator)),
            Ok(Err(e)) => return fail(&format!("the demo org could not start: {e}")),
            Err(e) => return fail(&format!("the demo org could not start: {e}")),
        },
    };
    drop(idps);
    if let Some(emulator) = emulator {
        emulator.shutdown().await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// The state of a server that serves one org to every request.
fn single_org_state(
    client: SalesforceClient,
    policy: &PolicyArgs,
    audit: AuditSettings,
) -> Result<Arc<ServerState>, String> {
    Ok(Arc::new(ServerState {
        connections: Connections::Single(client),
        policy: policy.policy(),
        cursor_key: policy.cursor_key()?,
        audit,
    }))
}

/// The demo org's schema as its administrator sees it (`sfmcp soql check --demo`).
pub fn schema() -> Box<dyn sfmcp_soql::schema::Schema> {
    let org = Arc::new(OrgSchema::new(standard_objects()));
    Box::new(org.profile_schema(HashSet::new()))
}

pub(crate) fn connect(org: &sfmcp_emulator::OrgCredentials) -> Result<SalesforceClient, String> {
    let login = PresetLogin {
        client_id: org.client_id.clone(),
        client_secret: org.client_secret.clone(),
        refresh_token: org.refresh_token.clone(),
    };
    refreshing_client(
        &org.instance_url,
        &login,
        Some(&org.access_token),
        ClientOptions::default(),
    )
}

/// A client of the demo org at `base_url` holding `login`'s refresh token; without an access
/// token it refreshes on its first call, so it can exist before the org is built.
fn refreshing_client(
    base_url: &str,
    login: &PresetLogin,
    access_token: Option<&str>,
    options: ClientOptions,
) -> Result<SalesforceClient, String> {
    let url = Url::parse(base_url).map_err(|e| format!("demo org URL {base_url}: {e}"))?;
    let connection = Connection::direct(
        Some(url.clone()),
        DirectCredential::RefreshToken {
            login_url: url,
            client: OAuthClient {
                client_id: login.client_id.clone(),
                client_secret: Some(Secret::new(login.client_secret.clone())),
            },
            refresh_token: Secret::new(login.refresh_token.clone()),
            access_token: access_token.map(|token| Secret::new(token.to_owned())),
        },
    );
    let context = ClientContext::new(options).map_err(|e| e.to_string())?;
    SalesforceClient::new(context, connection).map_err(|e| e.to_string())
}
