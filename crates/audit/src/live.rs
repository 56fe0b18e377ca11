//! One live audit run shared by `sfmcp audit` and the MCP `audit_run` tool: collect the
//! Salesforce snapshot and the IdP directory, then evaluate, with progress along the way.

use std::path::PathBuf;

use super::engine::{AuditConfig, AuditReport, evaluate};
use super::model::{IdpDirectory, IdpKind, SalesforceSnapshot};
use crate::collect::file as file_idp;
use crate::collect::salesforce::{self, CollectStats, STAGES};
use crate::collect::{self as collectors, CollectOptions as IdpCollectOptions};
use sfmcp_salesforce::SalesforceClient;

/// Where the IdP directory comes from.
pub enum IdpSource<'a> {
    /// A CSV or JSON export.
    File(PathBuf),
    /// A vendor API, with settings looked up by variable name (the process environment, or
    /// the demo's directories).
    Vendor {
        kind: IdpKind,
        env: &'a (dyn Fn(&str) -> Option<String> + Send + Sync),
    },
}

impl IdpSource<'_> {
    /// `okta`, `entra`, …, or `file:PATH`, with vendor settings from the process environment.
    pub fn parse(spec: &str) -> Result<IdpSource<'static>, String> {
        let spec = spec.trim();
        if let Some(path) = spec.strip_prefix("file:") {
            if path.is_empty() {
                return Err("--idp file: needs a path, e.g. --idp file:okta-users.csv".into());
            }
            return Ok(IdpSource::File(PathBuf::from(path)));
        }
        let kind = collectors::parse_kind(spec).ok_or_else(|| {
            format!(
                "unknown IdP `{spec}`: use okta, entra, google, jumpcloud, onelogin or file:PATH"
            )
        })?;
        Ok(IdpSource::Vendor {
            kind,
            env: &process_env,
        })
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One step of a run, for progress bars and MCP progress notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunProgress {
    /// 1-based.
    pub step: usize,
    pub total: usize,
    pub label: String,
    pub records: usize,
    pub salesforce_calls: u64,
}

/// Steps: the IdP directory, then each Salesforce stage.
pub const TOTAL_STEPS: usize = STAGES.len() + 1;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Idp(String),
    #[error(transparent)]
    Salesforce(#[from] salesforce::CollectError),
}

/// A finished live run.
#[derive(Debug)]
pub struct LiveRun {
    pub report: AuditReport,
    pub stats: CollectStats,
}

/// Reads the IdP first (cheap, and a wrong setting fails before any Salesforce call), then
/// Salesforce, then evaluates under `config`. Collection notes and the API call count go
/// into the report's notes.
pub async fn run(
    client: &SalesforceClient,
    idp: &IdpSource<'_>,
    config: &AuditConfig,
    progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<LiveRun, RunError> {
    let directory = collect_idp_only(idp, progress).await?;
    let mut options = salesforce::CollectOptions::new(config.window_start());
    {
        use crate::finding::RuleId;
        options.connected_apps = config.enabled(RuleId::HygOpenAppLastingTokens);
        options.password_logins = config.enabled(RuleId::HygPasswordLoginSsoUser);
        options.mfa = config.enabled(RuleId::HygMfaNotEnforced);
        options.exposed_profiles = config.enabled(RuleId::HygBroadProfileAccess);
        options.app_access = config.enabled(RuleId::HygAppApprovedForEveryone);
    }
    let forward = |p: salesforce::Progress| {
        progress(RunProgress {
            step: p.stage + 2,
            total: TOTAL_STEPS,
            label: p.label().to_owned(),
            records: p.records,
            salesforce_calls: p.api_calls,
        })
    };
    let (snapshot, stats) = salesforce::collect(client, &options, &forward).await?;
    let report = evaluate_with_stats(&snapshot, &directory, config, &stats);
    Ok(LiveRun { report, stats })
}

/// Step 1 alone: the IdP directory, with progress.
pub async fn collect_idp_only(
    idp: &IdpSource<'_>,
    progress: &(dyn Fn(RunProgress) + Send + Sync),
) -> Result<IdpDirectory, RunError> {
    let label = match idp {
        IdpSource::File(path) => format!("IdP directory {}", path.display()),
        IdpSource::Vendor { kind, .. } => format!("IdP directory ({})", kind.display_name()),
    };
    let step = |records| RunProgress {
        step: 1,
        total: TOTAL_STEPS,
        label: label.clone(),
        records,
        salesforce_calls: 0,
    };
    progress(step(0));
    let directory = collect_idp(idp).await?;
    progress(step(directory.users.len()));
    Ok(directory)
}

async fn collect_idp(idp: &IdpSource<'_>) -> Result<IdpDirectory, RunError> {
    match idp {
        IdpSource::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || file_idp::load(&path))
                .await
                .map_err(|e| RunError::Idp(format!("reading the IdP file failed: {e}")))?
                .map_err(|e| RunError::Idp(e.to_string()))
        }
        IdpSource::Vendor { kind, env } => {
            let hint = |e: collectors::CollectError| {
                RunError::Idp(format!(
                    "{e} (or export the directory and use --idp file:PATH)"
                ))
            };
            let settings = collectors::settings(*kind, *env).map_err(hint)?;
            collectors::collect_settings(settings, &IdpCollectOptions::default())
                .await
                .map_err(hint)
        }
    }
}

/// [`evaluate`], with what collection could not read and what it cost added to the notes.
pub fn evaluate_with_stats(
    snapshot: &SalesforceSnapshot,
    directory: &IdpDirectory,
    config: &AuditConfig,
    stats: &CollectStats,
) -> AuditReport {
    let mut report = evaluate(snapshot, directory, config);
    report.notes.extend(stats.notes.iter().cloned());
    report.notes.push(format!(
        "Salesforce collection used {} API call(s)",
        stats.api_calls
    ));
    report
}
