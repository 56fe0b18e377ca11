//! sfmcp: a Model Context Protocol server for Salesforce.
//!
//! The crate is one library with a thin binary on top (`src/main.rs`). Modules talk through
//! small typed interfaces:
//! - [`soql`]: the SOQL language (parser, printer, validation, evaluation). Shared by the
//!   product and the emulator; it knows nothing of HTTP or MCP.
//! - [`salesforce`]: the REST client and its auth planes. Knows Salesforce, not MCP.
//! - [`mcp`]: the MCP server, its tools and transports. Knows tools, not HTTP details.
//! - [`audit`]: the identity-gap audit.
//! - [`emulator`]: a local Salesforce for the demo, the tests and the benchmarks. It shares
//!   only [`soql`] with the product.

pub mod audit;
pub mod config;
pub mod demo;
pub mod emulator;
pub mod mcp;
pub mod panic_report;
pub mod salesforce;
pub mod soql;
