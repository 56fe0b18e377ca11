//! `sfmcp demo`: the emulator's demo org started in this process, and the MCP server on stdio
//! connected to it as a real client would be (OAuth refresh token over loopback HTTP), so a
//! newcomer can try every tool with no Salesforce org and no settings.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

use sfmcp_emulator::objects::standard_objects;
use sfmcp_emulator::schema::OrgSchema;
use sfmcp_emulator::{Emulator, EmulatorConfig, OrgSource};
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
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub async fn run(args: DemoArgs) -> ExitCode {
    let config = EmulatorConfig {
        orgs: vec![OrgSource::Demo { scale: args.scale }],
        ..EmulatorConfig::default()
    };
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(e) => return fail(&format!("the demo org could not start: {e}")),
    };
    let Some(org) = emulator.orgs.first().cloned() else {
        return fail("the demo org could not start: no org was built");
    };
    // The audit tools collect from the five directories this emulator serves; the Google
    // key file they need lives until the server stops.
    let idps = match DemoIdps::attach(&emulator.base_url) {
        Ok(idps) => idps,
        Err(message) => return fail(&message),
    };
    let audit = idps.audit_settings(args.scale);
    let state = match connect(&org).and_then(|client| single_org_state(client, &args.policy, audit))
    {
        Ok(state) => state,
        Err(message) => return fail(&message),
    };
    eprintln!(
        "sfmcp demo: MCP on stdio, connected as {} to a local demo org at {}.\n\
         Point an MCP client at this command (README: Claude Desktop, Claude Code, Inspector)\n\
         and ask, for example: \"show me the ten biggest open opportunities and their accounts\".",
        sfmcp_audit::sanitize::printable_clipped(&org.username, 80),
        org.instance_url
    );
    super::serve::announce_identity(&state, "sfmcp demo");
    let served = sfmcp_mcp::transport::stdio::serve(state).await;
    drop(idps);
    emulator.shutdown().await;
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
    let parse = |text: &str| Url::parse(text).map_err(|e| format!("demo org URL {text}: {e}"));
    let connection = Connection::direct(
        Some(parse(&org.instance_url)?),
        DirectCredential::RefreshToken {
            login_url: parse(&org.login_url)?,
            client: OAuthClient {
                client_id: org.client_id.clone(),
                client_secret: Some(Secret::new(org.client_secret.clone())),
            },
            refresh_token: Secret::new(org.refresh_token.clone()),
            access_token: Some(Secret::new(org.access_token.clone())),
        },
    );
    let context = ClientContext::new(ClientOptions::default()).map_err(|e| e.to_string())?;
    SalesforceClient::new(context, connection).map_err(|e| e.to_string())
}
