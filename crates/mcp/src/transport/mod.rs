//! How MCP reaches the server: stdio for one local client, Streamable HTTP for remote ones.
//! Tenants are resolved here, at the HTTP edge; tools see only the resolved connection.

pub(crate) mod heap;
pub mod http;
pub mod oauth;
pub mod stdio;
pub mod tenants;

/// Why `message` is not one JSON value, when it is not: what both transports answer with a
/// [`parse_error`] instead of handing it to rmcp (which drops such a stdio line without a
/// word, and refuses such an HTTP body with a bare 415). Parsed whole: serde's `IgnoredAny`
/// would skip strings without checking their UTF-8 and nest without a depth limit.
pub(crate) fn not_json(message: &[u8]) -> Option<serde_json::Error> {
    serde_json::from_slice::<serde_json::Value>(message).err()
}

/// JSON-RPC 2.0's parse error (-32700, section 5.1), id null, saying `why`.
pub(crate) fn parse_error(why: &str) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("Parse error: {why}")}
    })
}
