//! `sfmcp audit --demo` and `sfmcp demo`'s audit tools: the emulator's demo org and its five
//! IdP directories, started in this process, with the connection settings both collectors
//! need.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use sfmcp_audit::model::IdpKind;
use sfmcp_emulator::idp::IdpServer;
use sfmcp_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OrgSource};
use sfmcp_salesforce::SalesforceClient;

/// A running demo: the org's client, each IdP's settings, and the admins the demo documents
/// as expected (allow-listed for SF-PRV-001/002).
pub struct DemoDirectories {
    pub client: SalesforceClient,
    pub expected_admins: Vec<String>,
    emulator: EmulatorHandle,
    idps: DemoIdps,
}

impl DemoDirectories {
    pub async fn start() -> Result<Self, String> {
        let config = EmulatorConfig {
            orgs: vec![OrgSource::Demo { scale: 1 }],
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config)
            .await
            .map_err(|e| format!("the demo org could not start: {e}"))?;
        let org = emulator
            .orgs
            .first()
            .cloned()
            .ok_or("the demo org could not start: no org was built")?;
        let client = crate::cli::demo::connect(&org)?;
        let idps = DemoIdps::attach(&emulator.base_url)?;
        Ok(DemoDirectories {
            client,
            expected_admins: sfmcp_emulator::demo::identity::expected_admins(1),
            emulator,
            idps,
        })
    }

    /// The variables the collector for `kind` reads, pointing at the demo's directory.
    pub fn idp_env(&self, kind: IdpKind) -> HashMap<String, String> {
        self.idps.idp_env(kind)
    }

    pub async fn shutdown(self) {
        self.emulator.shutdown().await;
    }
}

/// The five directories an emulator at `base_url` serves, as collector settings. Holds the
/// Google key file, which is removed when this is dropped.
pub struct DemoIdps {
    announcement: Value,
    google_key_file: Arc<KeyFile>,
}

impl DemoIdps {
    /// Cheap: the Google key (an RSA key generation) and its file are made when a collector
    /// first needs them, not here on `sfmcp demo`'s way to its first answer.
    pub fn attach(base_url: &str) -> Result<Self, String> {
        let server = IdpServer::shared();
        let announcement = server.directories(base_url);
        let base_url = base_url.to_owned();
        // Google reads its service-account key from a file, as in production.
        let google_key_file = Arc::new(KeyFile::new(move || {
            serde_json::to_string(&IdpServer::shared().google_key_file(&base_url))
                .map_err(|e| format!("the demo Google key could not be written: {e}"))
        }));
        Ok(DemoIdps {
            announcement,
            google_key_file,
        })
    }

    /// The variables the collector for `kind` reads, pointing at the demo's directory; for
    /// Google, its key file is written first.
    pub fn idp_env(&self, kind: IdpKind) -> HashMap<String, String> {
        if kind == IdpKind::Google {
            self.google_key_file.ensure_written();
        }
        self.idp_env_unwritten(kind)
    }

    /// [`Self::idp_env`] without writing the Google key file (its path is known up front).
    fn idp_env_unwritten(&self, kind: IdpKind) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = self
            .announcement
            .get(kind.as_str())
            .and_then(|idp| idp.get("env"))
            .and_then(Value::as_object)
            .map(|vars| {
                vars.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        if kind == IdpKind::Google {
            env.insert(
                "GOOGLE_SERVICE_ACCOUNT_KEY_FILE".into(),
                self.google_key_file.path.display().to_string(),
            );
        }
        env
    }

    /// `audit_run`'s settings for the demo at `scale`: every directory, and the admins the
    /// demo documents as expected. The Google key file is written before a run first reads
    /// the directories' settings.
    pub fn audit_settings(&self, scale: u32) -> sfmcp_mcp::AuditSettings {
        let key_file = Arc::downgrade(&self.google_key_file);
        IdpKind::VENDORS
            .into_iter()
            .fold(
                sfmcp_mcp::AuditSettings::default()
                    .with_expected_admins(sfmcp_emulator::demo::identity::expected_admins(scale)),
                |settings, kind| settings.with_directory(kind, self.idp_env_unwritten(kind)),
            )
            .with_preparation(move || {
                if let Some(file) = key_file.upgrade() {
                    file.ensure_written();
                }
            })
    }
}

type KeyContent = Box<dyn Fn() -> Result<String, String> + Send + Sync>;

/// A private key file readable only by this user, written on first use, removed when
/// dropped.
struct KeyFile {
    path: PathBuf,
    content: KeyContent,
    written: OnceLock<()>,
}

impl KeyFile {
    /// A file at a fresh path in the temporary directory, to hold `content` once asked.
    fn new(content: impl Fn() -> Result<String, String> + Send + Sync + 'static) -> Self {
        let name = format!(
            "sfmcp-demo-google-key-{}-{:016x}.json",
            std::process::id(),
            u64::from_le_bytes(sfmcp_salesforce::crypto::random_bytes())
        );
        KeyFile {
            path: std::env::temp_dir().join(name),
            content: Box::new(content),
            written: OnceLock::new(),
        }
    }

    /// Writes the file unless done already. A failure is logged: the Google collector then
    /// reports the missing file, naming it.
    fn ensure_written(&self) {
        self.written.get_or_init(|| {
            if let Err(message) = (self.content)().and_then(|content| {
                self.write(&content)
                    .map_err(|e| format!("{}: {e}", self.path.display()))
            }) {
                tracing::warn!(%message, "the demo Google key file could not be written");
            }
        });
    }

    fn write(&self, content: &str) -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&self.path)?.write_all(content.as_bytes())
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_google_key_file_is_written_on_first_use_and_removed_with_the_directories() {
        let idps = DemoIdps::attach("http://127.0.0.1:9").expect("attach");
        let _settings = idps.audit_settings(1);
        let path = PathBuf::from(
            idps.idp_env_unwritten(IdpKind::Google)["GOOGLE_SERVICE_ACCOUNT_KEY_FILE"].clone(),
        );
        assert!(!path.exists(), "written before any use: {}", path.display());
        let env = idps.idp_env(IdpKind::Google);
        assert_eq!(
            env.get("GOOGLE_SERVICE_ACCOUNT_KEY_FILE")
                .map(PathBuf::from),
            Some(path.clone())
        );
        let key: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("the key file"))
                .expect("JSON");
        assert!(
            key["private_key"]
                .as_str()
                .is_some_and(|k| k.starts_with("-----BEGIN PRIVATE KEY-----")),
            "a key"
        );
        drop(idps);
        assert!(!path.exists(), "left behind: {}", path.display());
    }
}
