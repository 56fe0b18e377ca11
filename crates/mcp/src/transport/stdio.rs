//! MCP over stdio: only protocol goes to stdout.

use std::sync::Arc;

use rmcp::ServiceExt;

use crate::server::{ServerState, SfServer};

/// Serves one client on this process's stdin and stdout until it closes them. The error
/// says what failed, for the person who started the server.
pub async fn serve(state: Arc<ServerState>) -> Result<(), String> {
    // Clients launch stdio servers on pipes: driven by the reactor, each message costs no
    // hand-off to a blocking thread (tokio's stdin and stdout have one per read and write).
    // The pipes are reopened, so the non-blocking flag never reaches the process's own
    // stderr, which may share stdout's open file under `2>&1`. Other stdin or stdout kinds
    // (a file, a terminal) fall back to the blocking handles.
    state.prefetch_identity();
    let running = SfServer::new(state)
        .serve(rmcp::transport::stdio_pipes())
        .await
        .map_err(|e| format!("the MCP session could not start: {e}"))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| format!("the MCP session ended with an error: {e}"))
}
