//! The test suite's record of every secret the emulator issues or is configured with, so its
//! sweep (`tests/secrets_sweep.rs`) can look for each one in everything the servers wrote.
//!
//! Off unless `SFMCP_EMULATOR_SECRETS_DIR` names a directory: `make test` points it into
//! `target/`. Then each emulating process appends JSON lines `{"kind", "value"}` to a file of
//! its own there. The secrets are the emulator's own throwaway credentials, never a real
//! org's; writing them is the point, and only ever into that directory.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The variable naming the directory; unset means nothing is recorded.
pub const DIR_VARIABLE: &str = "SFMCP_EMULATOR_SECRETS_DIR";

fn journal() -> Option<&'static Mutex<File>> {
    static JOURNAL: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    JOURNAL
        .get_or_init(|| {
            let dir = PathBuf::from(std::env::var_os(DIR_VARIABLE)?);
            if let Err(error) = std::fs::create_dir_all(&dir) {
                tracing::warn!(%error, "{DIR_VARIABLE}: cannot create the directory");
                return None;
            }
            let path = dir.join(format!("emulator-{}.secrets.jsonl", std::process::id()));
            match File::options().create(true).append(true).open(&path) {
                Ok(file) => Some(Mutex::new(file)),
                Err(error) => {
                    tracing::warn!(%error, "{DIR_VARIABLE}: cannot open the journal");
                    None
                }
            }
        })
        .as_ref()
}

/// Notes `value` as a secret of `kind` ("access token", "client secret", ...).
pub fn record(kind: &str, value: &str) {
    let Some(journal) = journal() else {
        return;
    };
    if value.is_empty() {
        return;
    }
    let mut line = serde_json::json!({ "kind": kind, "value": value }).to_string();
    line.push('\n');
    let mut file = journal.lock().unwrap_or_else(|p| p.into_inner());
    // One write per line: concurrent emulators in one process never interleave a line.
    if let Err(error) = file.write_all(line.as_bytes()) {
        tracing::warn!(%error, "{DIR_VARIABLE}: cannot write the journal");
    }
}
