//! The MCP server: tools, resources, prompts, rendering, cursors and transports.
