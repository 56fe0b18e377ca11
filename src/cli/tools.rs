//! `sfmcp tools`: every tool with its schemas, as `tools/list` gives them, as JSON.

use std::process::ExitCode;

use sfmcp_mcp::SfServer;

use super::fail;
use super::serve::PolicyArgs;

#[derive(Debug, clap::Args)]
pub struct ToolsArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: ToolsArgs) -> ExitCode {
    let mut tools = SfServer::router(&args.policy.policy()).list_all();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    match serde_json::to_string_pretty(&tools) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("the tool list could not be written: {e}")),
    }
}
