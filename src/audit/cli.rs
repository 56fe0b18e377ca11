//! `sfmcp audit`: arguments and run. Reports go to stdout (or `--output`), progress and errors
//! to stderr. Exit codes: 0 nothing at or above `--fail-on`, 1 something was, 2 the audit
//! could not run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;

use super::engine::{AuditConfig, AuditReport, evaluate};
use super::export::{Format, render};
use super::file_idp::{self, FileIdpError, json_message};
use super::finding::Severity;
use super::model::{IdpDirectory, SalesforceSnapshot, sf_datetime};
use super::rules::RuleId;

#[derive(Debug, Clone, Args)]
#[command(
    about = "Find Salesforce access the identity provider does not know about (nine rules)",
    after_help = "Exit status: 0 when nothing at or above --fail-on was found, 1 when something \
                  was, 2 when the audit could not run.\n\n\
                  IdP file (--idp file:PATH): CSV with a header row holding `email` and \
                  `status` (active, locked, pending, suspended, deprovisioned, or the usual \
                  synonyms such as enabled, disabled, deleted), optionally `aliases` (corporate \
                  addresses separated by `;`), `login` (matched against Federation ID) and \
                  `id`; or JSON, an array of objects with the same keys. Never list personal \
                  or recovery addresses."
)]
pub struct AuditArgs {
    /// Identity provider to compare with: okta, entra, google, jumpcloud or onelogin (settings
    /// from the environment, see sfmcp::audit::collectors), or file:PATH (CSV or JSON export).
    #[arg(long, value_name = "IDP")]
    pub idp: String,

    /// Salesforce side as a JSON snapshot of the audit input model (until the live collector
    /// is wired).
    #[arg(long, value_name = "PATH")]
    pub salesforce_snapshot: Option<PathBuf>,

    /// Output format: table, json, ocsf, sarif or html.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Days of audit trail and event logs to check for exports.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub window_days: u32,

    /// Exit 1 when a finding of this severity or worse exists (critical, high, medium, low,
    /// info). Without it the exit status ignores findings.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Expected admin (e-mail or username): no SF-PRV-001/002 finding for them. Repeatable.
    #[arg(long = "allow-admin", value_name = "EMAIL")]
    pub allow_admin: Vec<String>,

    /// Treat ALIAS as the same mail domain as CANONICAL when matching. Repeatable.
    #[arg(long = "domain-alias", value_name = "ALIAS=CANONICAL", value_parser = parse_domain_alias)]
    pub domain_alias: Vec<(String, String)>,

    /// Domain whose addresses accept `+tag` sub-addressing; the tag is ignored when matching.
    /// Repeatable.
    #[arg(long = "subaddress-domain", value_name = "DOMAIN")]
    pub subaddress_domain: Vec<String>,

    /// Evaluate only this rule (e.g. SF-IDP-001). Repeatable; default all nine.
    #[arg(long = "rule", value_name = "RULE", value_parser = parse_rule)]
    pub rules: Vec<RuleId>,

    /// Evaluate as of this instant (RFC 3339) instead of now, for reproducible reports.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,

    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output: Option<PathBuf>,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_rule(s: &str) -> Result<RuleId, String> {
    s.parse()
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    sf_datetime::parse(s)
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time, e.g. 2026-01-31T00:00:00Z"))
}

fn parse_domain_alias(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, c)) if !a.trim().is_empty() && !c.trim().is_empty() => {
            Ok((a.trim().to_owned(), c.trim().to_owned()))
        }
        _ => Err(format!(
            "`{s}` should be ALIAS=CANONICAL, e.g. corp.co.uk=corp.com"
        )),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditCliError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: line {line}, column {column}: {message} (the snapshot is the audit input \
         model as JSON, see sfmcp::audit::model::SalesforceSnapshot)"
    )]
    Snapshot {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Idp(#[from] FileIdpError),
    #[error("cannot render the report: {0}")]
    Render(#[from] serde_json::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Parse `--idp`. Only the file connector exists; the others are named so the message is
/// precise rather than "unknown".
pub fn load_idp(spec: &str) -> Result<IdpDirectory, AuditCliError> {
    let spec = spec.trim();
    if let Some(path) = spec.strip_prefix("file:") {
        if path.is_empty() {
            return Err(AuditCliError::Usage(
                "--idp file: needs a path, e.g. --idp file:okta-users.csv".into(),
            ));
        }
        return Ok(file_idp::load(Path::new(path))?);
    }
    match spec.to_ascii_lowercase().as_str() {
        "okta" | "entra" | "google" | "jumpcloud" | "onelogin" => {
            super::collectors::collect_blocking(spec).map_err(|e| {
                AuditCliError::Usage(format!(
                    "{e} (or export the directory and use --idp file:PATH)"
                ))
            })
        }
        _ => Err(AuditCliError::Usage(format!(
            "unknown --idp `{spec}`: use file:PATH (okta, entra, google, jumpcloud and onelogin \
             are planned)"
        ))),
    }
}

pub fn load_snapshot(path: &Path) -> Result<SalesforceSnapshot, AuditCliError> {
    let text = std::fs::read_to_string(path).map_err(|source| AuditCliError::Read {
        path: path.to_owned(),
        source,
    })?;
    let snapshot: SalesforceSnapshot =
        serde_json::from_str(&text).map_err(|e| AuditCliError::Snapshot {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: json_message(&e),
        })?;
    if snapshot.org_id.trim().is_empty() {
        // Every fingerprint includes the org id; without it findings of two orgs would collide.
        return Err(AuditCliError::Usage(format!(
            "{}: `org_id` is empty; set it to the org's 18-character id (Setup > Company \
             Information)",
            path.display()
        )));
    }
    Ok(snapshot)
}

/// Write via a temporary sibling and a rename, so readers never see half a report.
fn write_atomically(path: &Path, content: &str) -> Result<(), AuditCliError> {
    let err = |source| AuditCliError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, content).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Run the audit without touching the process: returns the report and its rendering.
pub fn execute(args: &AuditArgs) -> Result<(AuditReport, String), AuditCliError> {
    let snapshot_path = args.salesforce_snapshot.as_deref().ok_or_else(|| {
        AuditCliError::Usage(
            "the live Salesforce collector is not wired yet: pass --salesforce-snapshot PATH \
             (the audit input model as JSON)"
                .into(),
        )
    })?;
    // Validate the IdP spec before reading anything large.
    eprintln!("audit: reading IdP directory {}", args.idp);
    let idp = load_idp(&args.idp)?;
    eprintln!("audit: {} IdP accounts", idp.users.len());
    eprintln!(
        "audit: reading Salesforce snapshot {}",
        snapshot_path.display()
    );
    let snapshot = load_snapshot(snapshot_path)?;
    eprintln!(
        "audit: org {}: {} users, {} privileged grants, {} OAuth grants, {} audit-trail rows",
        snapshot.org_id,
        snapshot.users.len(),
        snapshot.permission_grants.len(),
        snapshot.oauth_grants.as_ref().map_or(0, Vec::len),
        snapshot.audit_trail.as_ref().map_or(0, Vec::len),
    );

    let mut config = AuditConfig::new(args.as_of.unwrap_or_else(Utc::now));
    config.window_days = args.window_days;
    config.allow_admins = args.allow_admin.clone();
    for (alias, canonical) in &args.domain_alias {
        config.matching.add_domain_alias(alias, canonical);
    }
    for d in &args.subaddress_domain {
        config.matching.add_subaddress_domain(d);
    }
    if !args.rules.is_empty() {
        config.rules = Some(args.rules.clone());
    }
    eprintln!("audit: evaluating rules");
    let report = evaluate(&snapshot, &idp, &config);
    let rendered = render(&report, args.format)?;
    eprintln!(
        "audit: {} finding(s): {}",
        report.summary.total,
        report
            .summary
            .by_severity
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((report, rendered))
}

pub fn run(args: AuditArgs) -> ExitCode {
    let (report, rendered) = match execute(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let written = match &args.output {
        Some(path) => write_atomically(path, &rendered),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(rendered.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|source| AuditCliError::Write {
                    path: PathBuf::from("<stdout>"),
                    source,
                })
        }
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match args.fail_on {
        Some(threshold) if report.summary.count_at_least(threshold) > 0 => {
            eprintln!(
                "audit: {} finding(s) at or above {threshold}",
                report.summary.count_at_least(threshold)
            );
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}
