//! How MCP reaches the server: stdio for one local client, Streamable HTTP for remote ones.
//! Tenants are resolved here, at the HTTP edge; tools see only the resolved connection.

pub mod http;
pub mod oauth;
pub mod stdio;
pub mod tenants;
