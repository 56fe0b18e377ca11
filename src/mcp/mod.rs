//! The MCP server: tools, resources, prompts, rendering, cursors and transports.

pub mod cursor;
pub mod describe_view;
pub mod render;
pub mod schema_budget;
