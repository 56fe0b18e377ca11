//! The MCP server: tools, resources, prompts, rendering, cursors and transports.
//!
//! One file per tool family under `tools/` (`query`, `objects`, `records`, `limits`, `audit`),
//! each contributing a router that [`server::SfServer`] merges. Tools know Salesforce through
//! [`sfmcp_salesforce::SalesforceClient`], never through HTTP.

mod args;
mod confirm;
pub mod cursor;
pub mod describe_view;
pub mod error;
pub mod metrics;
pub mod middleware;
mod prompts;
pub mod render;
mod resources;
pub mod schema_budget;
pub mod scopes;
pub mod server;
mod tools;
pub mod toolsets;
pub mod transport;
pub mod write_check;

pub use server::{Connections, Policy, ServerState, SfServer, WRITE_TOOLS};
pub use tools::audit::{AuditRuns, AuditSettings};
pub use tools::identity::connected_line;
