//! The MCP server: tools, resources, prompts, rendering, cursors and transports.
//!
//! One file per tool family (`query`, `objects`, `records`, `limits`), each contributing a
//! router that [`server::SfServer`] merges. Tools know Salesforce through
//! [`sfmcp_salesforce::SalesforceClient`], never through HTTP.

mod args;
mod audit;
mod confirm;
pub mod cursor;
pub mod describe_view;
pub mod error;
mod limits;
pub mod metrics;
mod objects;
mod prompts;
mod query;
mod records;
pub mod render;
mod resources;
pub mod schema_budget;
pub mod server;
pub mod transport;
pub mod write_check;

pub use server::{Connections, Policy, ServerState, SfServer};
