//! The MCP server: tools, resources, prompts, rendering, cursors and transports.
//!
//! One file per tool family (`query`, `objects`, `records`, `limits`), each contributing a
//! router that [`server::SfServer`] merges. Tools know Salesforce through
//! [`crate::salesforce::SalesforceClient`], never through HTTP.

mod args;
mod audit;
pub mod cli;
mod confirm;
pub mod cursor;
pub mod describe_view;
pub mod error;
pub mod http;
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
pub mod tenants;
pub mod write_check;

pub use server::{Connections, Policy, ServerState, SfServer};
