//! Keeps every byte the e2e tests' `sfmcp` processes write, and the secrets tests configure,
//! for the whole-suite secrets sweep (`tests/secrets_sweep.rs`, run by `make test` after the
//! rest of the suite).
//!
//! The capture is on only when `$SFMCP_E2E_CAPTURE` names its directory (the Makefile sets it
//! and empties it each run); test runs outside `make` write nothing, so nothing piles up.
//!
//! Layout of the capture directory:
//! - `outputs/`: one file per stream of each process, `<test binary>__<test>__<pid>-<n>__<what>.<stream>`;
//!   `.stdout` and `.stderr` of servers and commands, `.tool-results` of the results clients
//!   received through [`super::call`];
//! - `secrets/`: JSON lines `{"kind", "value"}`: what the emulators issued
//!   (`sfmcp_emulator::journal`, in-process and in spawned processes alike) and what tests
//!   configured themselves ([`secret`]).
//!
//! Self-contained (std, tokio, serde_json): tests that need nothing else of `common` use it
//! alone (`use crate::common::capture`).
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Where the capture goes; the Makefile sets it.
pub const DIR_VARIABLE: &str = "SFMCP_E2E_CAPTURE";
/// The variable `sfmcp_emulator::journal` reads (kept equal to its `DIR_VARIABLE`).
pub const EMULATOR_SECRETS_VARIABLE: &str = "SFMCP_EMULATOR_SECRETS_DIR";
/// The log filter of every captured process that does not choose its own: every event of
/// every crate (rmcp, hyper, reqwest included), since no secret may show at any level. A full
/// suite writes about 100 MB at this level.
pub const LOG_FILTER: &str = "trace";

/// The capture directory, created on first use; `None` when the capture is off.
pub fn dir() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os(DIR_VARIABLE)?);
        std::fs::create_dir_all(dir.join("outputs")).expect("the capture directory");
        std::fs::create_dir_all(dir.join("secrets")).expect("the capture directory");
        Some(dir)
    })
    .clone()
}

pub fn secrets_dir() -> Option<PathBuf> {
    dir().map(|dir| dir.join("secrets"))
}

/// The environment every spawned `sfmcp` gets on top of its own: a verbose log (captured or
/// not, so a test behaves the same under `make` and outside it); a longer wait for the
/// connection's identity than the product's 150 ms, because on a machine busy with the whole
/// suite the emulator can take longer than that to answer, and tests that check the
/// "Connected as" instructions or the scope filter of `tools/list` would then see the
/// fallback instead (a test of the fallback sets its own); both answer forms
/// (`SFMCP_ANSWER_FORM=both`), so tests check the structured content next to the text (tests
/// of the default, text-only form remove it: [`ANSWER_FORM`]); every toolset
/// (`SFMCP_TOOLSETS=all`), so each tool is reachable wherever a test needs it (the default
/// set is checked in `toolsets.rs` and the contract tests); and, with the capture
/// on, the journal directory for the emulators it may run (`sfmcp emulator`, `audit --demo`,
/// `demo`).
pub fn env() -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("RUST_LOG", LOG_FILTER.to_string()),
        ("SFMCP_IDENTITY_WAIT_MS", "5000".to_string()),
        (ANSWER_FORM, "both".to_string()),
        ("SFMCP_TOOLSETS", "all".to_string()),
    ];
    env.extend(journal_env());
    env
}

/// The setting [`env`] gives `both`; `command.env_remove(ANSWER_FORM)` leaves a server on
/// the default form.
pub const ANSWER_FORM: &str = "SFMCP_ANSWER_FORM";

/// [`env`] without the log filter, for a process whose test sets `RUST_LOG` itself.
pub fn journal_env() -> Option<(&'static str, String)> {
    secrets_dir().map(|dir| {
        (
            EMULATOR_SECRETS_VARIABLE,
            dir.to_string_lossy().into_owned(),
        )
    })
}

fn sanitize(text: &str, max: usize) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(max)
        .collect()
}

/// A fresh name prefix for one process: the test binary, the test, this process, a counter.
pub fn process_name(what: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let test = std::thread::current()
        .name()
        .map(|n| sanitize(n, 80))
        .unwrap_or_else(|| "unnamed".into());
    format!(
        "{}__{}__{}-{}__{}",
        env!("CARGO_CRATE_NAME"),
        test,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        sanitize(what, 40)
    )
}

/// Opens `<dir>/<file>` for appending; `None` when the capture is off.
fn open_in(dir: Option<PathBuf>, file: &str) -> Option<File> {
    let path = dir?.join(file);
    let opened = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    Some(opened)
}

/// `outputs/<process>.<stream>`, opened for appending; `None` when the capture is off.
fn output_file(process: &str, stream: &str) -> Option<File> {
    open_in(
        dir().map(|dir| dir.join("outputs")),
        &format!("{process}.{stream}"),
    )
}

/// [`output_file`], or a sink when the capture is off.
pub fn open(process: &str, stream: &str) -> Box<dyn Write + Send> {
    match output_file(process, stream) {
        Some(file) => Box::new(file),
        None => Box::new(std::io::sink()),
    }
}

/// A child's stream written straight into the capture (discarded when it is off).
pub fn stdio(process: &str, stream: &str) -> Stdio {
    output_file(process, stream).map_or_else(Stdio::null, Stdio::from)
}

/// Keeps what a finished process wrote.
pub fn record_output(what: &str, output: &std::process::Output) {
    let process = process_name(what);
    let _ = open(&process, "stdout").write_all(&output.stdout);
    let _ = open(&process, "stderr").write_all(&output.stderr);
}

/// Appends `bytes` to one stream of a process named by [`process_name`].
pub fn append(process: &str, stream: &str, bytes: &[u8]) {
    let _ = open(process, stream).write_all(bytes);
}

/// Every tool result a client of this test process received, one JSON document a line.
pub fn tool_result(result: &impl serde::Serialize) {
    static FILE: OnceLock<Mutex<Box<dyn Write + Send>>> = OnceLock::new();
    let file = FILE.get_or_init(|| Mutex::new(open(&process_name("client"), "tool-results")));
    let mut line = serde_json::to_vec(result).unwrap_or_default();
    line.push(b'\n');
    let _ = file
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .write_all(&line);
}

/// Notes a secret the test itself configured a server with (a caller token, a key it made):
/// the sweep looks for it like for the emulators' own.
pub fn secret(kind: &str, value: &str) {
    static FILE: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let name = format!("{}.secrets.jsonl", process_name("test"));
        open_in(secrets_dir(), &name).map(Mutex::new)
    });
    let Some(file) = file else {
        return;
    };
    let mut line = serde_json::json!({"kind": kind, "value": value}).to_string();
    line.push('\n');
    let _ = file
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .write_all(line.as_bytes());
}

/// The settings that carry a secret of the server's own (not only one an emulator issued:
/// tests also pass made-up and foreign ones, which must not be echoed either).
const SECRET_VARIABLES: [&str; 6] = [
    "SF_ACCESS_TOKEN",
    "SF_REFRESH_TOKEN",
    "SF_CLIENT_SECRET",
    "SFMCP_HTTP_TOKENS",
    "SFMCP_CURSOR_KEY",
    "SFMCP_OAUTH_KEYS",
];

/// Notes the secrets among a server's settings (see [`secret`]).
pub fn secrets_in_env<K: AsRef<std::ffi::OsStr>, V: AsRef<std::ffi::OsStr>>(
    env: impl IntoIterator<Item = (K, V)>,
) {
    for (name, value) in env {
        let name = name.as_ref().to_string_lossy();
        if !SECRET_VARIABLES.contains(&name.as_ref()) {
            continue;
        }
        let value = value.as_ref().to_string_lossy();
        // SFMCP_HTTP_TOKENS and SFMCP_OAUTH_KEYS are comma-separated lists.
        for one in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            secret(&name, one);
        }
    }
}

/// A reader that copies every byte it yields into a sink: a capture file, or memory.
pub struct Tee<R> {
    inner: R,
    copy: Box<dyn Write + Send>,
}

impl<R> Tee<R> {
    /// Copies into the capture file of `process`'s `stream`.
    pub fn new(inner: R, process: &str, stream: &str) -> Self {
        Tee::with_sink(inner, open(process, stream))
    }

    pub fn with_sink(inner: R, copy: impl Write + Send + 'static) -> Self {
        Tee {
            inner,
            copy: Box::new(copy),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Tee<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &polled {
            let fresh = buf.filled()[before..].to_vec();
            let _ = self.copy.write_all(&fresh);
        }
        polled
    }
}
