//! `sfmcp emulator`: serve one or more orgs on loopback and print one JSON line with their
//! credentials.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use sfmcp_emulator::{Announcement, Emulator, EmulatorConfig, OrgSource, SeedFileText, SignIn};

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (loopback only; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate, written to a file named in the JSON line
    /// (`tls_ca_file`), for clients that only speak https://.
    #[arg(long)]
    pub tls: bool,
    /// Serve the built-in demo org (the default when no --seed is given).
    #[arg(long)]
    pub demo: bool,
    /// Serve an org from a JSON seed file (see examples/seed-small.json); repeat for several orgs.
    #[arg(long = "seed", value_name = "FILE")]
    pub seeds: Vec<PathBuf>,
    /// Multiply the demo org's people and grants (benchmarks).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub scale: u32,
    /// The newest API version served.
    #[arg(long, default_value = "62.0")]
    pub api_version: String,
    /// Daily API request allocation per org.
    #[arg(long, default_value_t = 15_000)]
    pub daily_api_limit: u64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl: u64,
    /// Show Salesforce's login and "Allow Access?" pages on /services/oauth2/authorize
    /// (every user's password is `sfmcp-demo`), instead of approving at once as the
    /// `login_hint` user or the org's default user.
    #[arg(long)]
    pub login_page: bool,
}

impl EmulatorArgs {
    fn config(&self) -> Result<EmulatorConfig, String> {
        let mut orgs = Vec::new();
        if self.demo || self.seeds.is_empty() {
            orgs.push(OrgSource::Demo { scale: self.scale });
        }
        for path in &self.seeds {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
            orgs.push(OrgSource::Seed(Arc::new(SeedFileText {
                path: path.display().to_string(),
                text,
            })));
        }
        Ok(EmulatorConfig {
            listen: self.listen,
            orgs,
            api_version: self.api_version.clone(),
            daily_api_limit: self.daily_api_limit,
            token_ttl: std::time::Duration::from_secs(self.token_ttl),
            tls: self.tls,
            sign_in: if self.login_page {
                SignIn::LoginPage
            } else {
                SignIn::AutoApprove
            },
        })
    }
}

/// Runs the emulator until interrupted.
pub async fn run(args: EmulatorArgs) -> ExitCode {
    let config = match args.config() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("sfmcp emulator: {message}");
            return ExitCode::from(2);
        }
    };
    {
        let handle = match Emulator::start(config).await {
            Ok(handle) => handle,
            Err(e) => {
                eprintln!("sfmcp emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        let tls_ca_file = match handle.tls_cert_pem.as_deref().map(write_certificate) {
            Some(Ok(path)) => Some(path),
            Some(Err(message)) => {
                eprintln!("sfmcp emulator: {message}");
                return ExitCode::FAILURE;
            }
            None => None,
        };
        let announcement = Announcement {
            base_url: &handle.base_url,
            api_version: &handle.api_version,
            orgs: &handle.orgs,
            idps: Some(sfmcp_emulator::idp::IdpServer::shared().announcement(&handle.base_url)),
            tls_ca_file,
        };
        match serde_json::to_string(&announcement) {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("sfmcp emulator: cannot render the announcement: {e}");
                return ExitCode::FAILURE;
            }
        }
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        ExitCode::SUCCESS
    }
}

/// Writes the certificate where clients can point at it; one file per process, so emulators
/// running side by side never trust each other's certificates by accident.
fn write_certificate(pem: &str) -> Result<String, String> {
    let path = std::env::temp_dir().join(format!("sfmcp-emulator-{}.pem", std::process::id()));
    std::fs::write(&path, pem).map_err(|e| {
        format!(
            "cannot write the TLS certificate to {}: {e}",
            path.display()
        )
    })?;
    Ok(path.display().to_string())
}
