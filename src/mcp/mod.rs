//! The MCP server: tools, resources, prompts, rendering, cursors and transports.

pub mod render;
pub mod cursor;
