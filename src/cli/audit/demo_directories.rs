//! `sfmcp audit --demo` and `sfmcp demo`'s audit tools: the emulator's demo org and its five
//! IdP directories, started in this process, with the connection settings both collectors
//! need.

use std::collections::HashMap;
use std::path::PathBuf;

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
    google_key_file: Option<KeyFile>,
}

impl DemoIdps {
    pub fn attach(base_url: &str) -> Result<Self, String> {
        let server = IdpServer::shared();
        let announcement = server.announcement(base_url);
        // Google reads its service-account key from a file, as in production.
        let key = serde_json::to_string(&server.google_key_file(base_url))
            .map_err(|e| format!("the demo Google key could not be written: {e}"))?;
        let google_key_file = KeyFile::write(&key).ok();
        Ok(DemoIdps {
            announcement,
            google_key_file,
        })
    }

    /// The variables the collector for `kind` reads, pointing at the demo's directory.
    pub fn idp_env(&self, kind: IdpKind) -> HashMap<String, String> {
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
        if let (IdpKind::Google, Some(file)) = (kind, &self.google_key_file) {
            env.insert(
                "GOOGLE_SERVICE_ACCOUNT_KEY_FILE".into(),
                file.path.display().to_string(),
            );
        }
        env
    }

    /// `audit_run`'s settings for the demo at `scale`: every directory, and the admins the
    /// demo documents as expected.
    pub fn audit_settings(&self, scale: u32) -> sfmcp_mcp::AuditSettings {
        IdpKind::VENDORS.into_iter().fold(
            sfmcp_mcp::AuditSettings::default()
                .with_expected_admins(sfmcp_emulator::demo::identity::expected_admins(scale)),
            |settings, kind| settings.with_directory(kind, self.idp_env(kind)),
        )
    }
}

/// A private key file readable only by this user, removed when dropped.
struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    fn write(content: &str) -> std::io::Result<Self> {
        use std::io::Write;
        let name = format!(
            "sfmcp-demo-google-key-{}-{:016x}.json",
            std::process::id(),
            u64::from_le_bytes(sfmcp_salesforce::crypto::random_bytes())
        );
        let path = std::env::temp_dir().join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path)?;
        let key = KeyFile { path };
        file.write_all(content.as_bytes())?;
        Ok(key)
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
