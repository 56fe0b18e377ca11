//! MCP over stdio: only protocol goes to stdout.
//!
//! rmcp drops a line that is not JSON without a word (it fears an error storm with a peer
//! that echoes answers back; see rust-sdk#938). A client that sent `NaN` then waits forever.
//! JSON-RPC 2.0 (section 5.1) answers such a line with a parse error, id null, as the HTTP
//! transport does; an answer is valid JSON, so an echoing peer cannot start a storm with it.
//! A small pump between the pipes and rmcp does this: it passes every JSON line through,
//! answers every other line itself, and alone writes stdout, so its answers never land inside
//! one of rmcp's.

use std::sync::Arc;

use rmcp::ServiceExt;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use crate::server::{ServerState, SfServer};

/// A line longer than this is not read into memory: it is answered as too long and skipped.
/// rmcp's own limit for a stdio line.
const MAX_LINE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Room in each direction between the pump and rmcp; a larger answer waits for the pump to
/// drain it, which it does as fast as stdout takes it.
const PIPE_BYTES: usize = 64 * 1024;

/// How long the last answers may take to reach stdout once the session has ended.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// A line buffer grown past this by one large message is given back once it is handled.
const KEPT_LINE_BYTES: usize = 1 << 20;

/// Serves one client on this process's stdin and stdout until it closes them. The error
/// says what failed, for the person who started the server.
pub async fn serve(state: Arc<ServerState>) -> Result<(), String> {
    // Clients launch stdio servers on pipes: driven by the reactor, each message costs no
    // hand-off to a blocking thread (tokio's stdin and stdout have one per read and write).
    // The pipes are reopened, so the non-blocking flag never reaches the process's own
    // stderr, which may share stdout's open file under `2>&1`. Other stdin or stdout kinds
    // (a file, a terminal) fall back to the blocking handles.
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    serve_on(state, stdin, stdout).await
}

/// [`serve`] on any pair of streams.
pub async fn serve_on<R, W>(state: Arc<ServerState>, input: R, output: W) -> Result<(), String>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    state.prefetch_identity();
    let (server_end, pump_end) = tokio::io::duplex(PIPE_BYTES);
    // Running before rmcp starts: the session starts with the client's `initialize`.
    let pump = tokio::spawn(pump(input, output, pump_end));
    let running = SfServer::new(state)
        .serve(tokio::io::split(server_end))
        .await;
    let running = match running {
        Ok(running) => running,
        Err(e) => {
            drain(pump).await;
            return Err(format!("the MCP session could not start: {e}"));
        }
    };
    let served = running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| format!("the MCP session ended with an error: {e}"));
    drain(pump).await;
    served
}

/// Once rmcp has closed its end, the pump writes out what rmcp said last, then stops.
async fn drain(mut pump: tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(DRAIN_TIME, &mut pump).await.is_err() {
        pump.abort();
    }
}

/// Moves lines between the client's pipes and rmcp until rmcp has said all it will.
async fn pump<R, W>(input: R, mut output: W, server: tokio::io::DuplexStream)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (from_server, mut to_server) = tokio::io::split(server);
    // As large as the pipe from rmcp, so an answer of up to 64 KiB reaches the client in one
    // write; the default 8 KiB cut a 200-row answer in two. (No latency change measured.)
    let mut from_server = BufReader::with_capacity(PIPE_BYTES, from_server);
    let mut input = BufReader::new(input);
    let mut line = Vec::new();
    let mut oversized = false;
    // Answers wait here while rmcp is partway through writing a message.
    let mut answers: Vec<u8> = Vec::new();
    let mut server_mid_line = false;
    let mut input_open = true;
    loop {
        tokio::select! {
            read = input.fill_buf(), if input_open => {
                let available = match read {
                    Ok(available) if !available.is_empty() => available,
                    // The client closed stdin (or it failed): rmcp sees the end of its input,
                    // answers what it still has, and stops.
                    _ => {
                        input_open = false;
                        let _ = to_server.shutdown().await;
                        continue;
                    }
                };
                let (taken, complete) = match available.iter().position(|&b| b == b'\n') {
                    Some(end) => (end + 1, true),
                    None => (available.len(), false),
                };
                if !oversized {
                    line.extend_from_slice(&available[..taken]);
                    if line.len() > MAX_LINE_BYTES {
                        oversized = true;
                        line.clear();
                    }
                }
                input.consume(taken);
                if !complete {
                    continue;
                }
                let forward = if oversized {
                    answers.extend_from_slice(&parse_error_line(&format!(
                        "the message is longer than {MAX_LINE_BYTES} bytes"
                    )));
                    false
                } else {
                    check_line(&line, &mut answers)
                };
                oversized = false;
                if forward && to_server.write_all(&line).await.is_err() {
                    input_open = false;
                }
                line.clear();
                if line.capacity() > KEPT_LINE_BYTES {
                    line = Vec::new();
                }
            }
            read = from_server.fill_buf() => {
                let Ok(available) = read else { break };
                if available.is_empty() {
                    break;
                }
                let taken = available.len();
                server_mid_line = available.last() != Some(&b'\n');
                if output.write_all(available).await.is_err() {
                    break;
                }
                from_server.consume(taken);
            }
        }
        if !answers.is_empty() && !server_mid_line {
            if output.write_all(&answers).await.is_err() {
                break;
            }
            answers.clear();
        }
        if output.flush().await.is_err() {
            break;
        }
    }
    if !answers.is_empty() {
        let _ = output.write_all(&answers).await;
    }
    let _ = output.flush().await;
}

/// Whether `line` goes on to rmcp; if not, its answer is added to `answers`. Blank lines are
/// skipped, as rmcp skips them.
fn check_line(line: &[u8], answers: &mut Vec<u8>) -> bool {
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    match super::not_json(text) {
        None => true,
        Some(e) => {
            answers.extend_from_slice(&parse_error_line(&format!(
                "the line is not valid JSON ({e}); send one JSON-RPC message per line, as JSON without NaN or Infinity, in UTF-8"
            )));
            false
        }
    }
}

/// [`super::parse_error`] as one line of output.
fn parse_error_line(why: &str) -> Vec<u8> {
    let mut line = super::parse_error(why).to_string().into_bytes();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_lines_go_on_and_every_other_line_is_answered() {
        let mut answers = Vec::new();
        assert!(check_line(
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
            &mut answers
        ));
        assert!(!check_line(b"  \r\n", &mut answers));
        assert!(answers.is_empty());
        assert!(!check_line(
            b"{\"jsonrpc\":\"2.0\",\"id\":NaN}\n",
            &mut answers
        ));
        assert!(!check_line(b"{\"a\":\"\xff\"}\n", &mut answers));
        let deep = format!("{}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(!check_line(deep.as_bytes(), &mut answers));
        let lines: Vec<serde_json::Value> = answers
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap_or_default())
            .collect();
        assert_eq!(lines.len(), 3);
        for answer in lines {
            assert_eq!(answer["error"]["code"], -32700, "{answer}");
            assert!(answer["id"].is_null(), "{answer}");
        }
    }
}
