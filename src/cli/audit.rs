//! `sfmcp audit`: arguments and run. Reports go to stdout (or `--output`), progress and errors
//! to stderr. Exit codes: 0 nothing at or above `--fail-on`, 1 something was, 2 the audit
//! could not run.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;

use sfmcp_audit::collect::file::{FileIdpError, json_message};
use sfmcp_audit::engine::{AuditConfig, AuditReport, evaluate};
use sfmcp_audit::export::{Format, render};
use sfmcp_audit::finding::Severity;
use sfmcp_audit::live::{self, IdpSource, RunError, RunProgress};
use sfmcp_audit::model::{SalesforceSnapshot, sf_datetime};
use sfmcp_audit::rules::RuleId;
use sfmcp_salesforce::SalesforceClient;

use crate::settings::ConnectionSettings;

#[cfg(feature = "demo")]
pub(crate) mod demo_directories;
mod output;
use sfmcp_salesforce::client::ClientContext;

#[derive(Debug, Clone, Args)]
#[command(
    about = "Find Salesforce access the identity provider does not know about (nine rules, more opt-in)",
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
    /// from the environment, see sfmcp_audit::collectors), or file:PATH (CSV or JSON export).
    #[arg(long, value_name = "IDP")]
    pub idp: String,

    /// Salesforce side as a JSON snapshot of the audit input model instead of collecting it
    /// live.
    #[arg(long, value_name = "PATH", conflicts_with = "demo")]
    pub salesforce_snapshot: Option<PathBuf>,

    /// Audit the emulator's demo org against its demo directories (started in this process;
    /// no accounts needed). The demo's expected admins are allow-listed.
    #[arg(long)]
    pub demo: bool,

    /// Connection to the org to audit when neither --demo nor --salesforce-snapshot is given
    /// (the same settings as `sfmcp serve`).
    #[command(flatten)]
    pub connection: ConnectionSettings,

    /// Output format: table, json, ocsf (an array), ocsf-jsonl (one event per line), sarif,
    /// csv or html.
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Days of audit trail and event logs to check for exports.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub window_days: u32,

    /// Exit 1 when a finding of this severity or worse exists (critical, high, medium, low,
    /// info). Without it the exit status ignores findings.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// A previous run's `--format json` export: findings are marked new or unchanged, and the
    /// ones gone since are reported as resolved (table, CSV, OCSF, SARIF and JSON).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,

    /// Expected admin (username, or an e-mail that only one admin account carries): no
    /// SF-PRV-001/002 finding for them. Repeatable.
    #[arg(long = "allow-admin", value_name = "USERNAME|EMAIL")]
    pub allow_admin: Vec<String>,

    /// Treat ALIAS as the same mail domain as CANONICAL when matching. Repeatable.
    #[arg(long = "domain-alias", value_name = "ALIAS=CANONICAL", value_parser = parse_domain_alias)]
    pub domain_alias: Vec<(String, String)>,

    /// Domain whose addresses accept `+tag` sub-addressing; the tag is ignored when matching.
    /// Repeatable.
    #[arg(long = "subaddress-domain", value_name = "DOMAIN")]
    pub subaddress_domain: Vec<String>,

    /// Evaluate only this rule (e.g. SF-IDP-001), or `core` (the nine) or `extended` (every
    /// extended rule). Repeatable; default the nine core rules.
    #[arg(long = "rule", value_name = "RULE", value_parser = parse_rule)]
    pub rules: Vec<RuleSelection>,

    /// Also evaluate the extended rules (SF-HYG-*), beside the selected or core rules.
    #[arg(long)]
    pub extended: bool,

    /// SF-HYG-001/002: no login or token use in this many days makes an account dormant.
    #[arg(long, default_value_t = sfmcp_audit::config::DEFAULT_DORMANT_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub dormant_days: u32,

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

/// One `--rule` value: a rule id or a named set.
#[derive(Debug, Clone)]
pub struct RuleSelection(Vec<RuleId>);

fn parse_rule(s: &str) -> Result<RuleSelection, String> {
    RuleId::parse_selection(&[s]).map(RuleSelection)
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
         model as JSON, see sfmcp_audit::model::SalesforceSnapshot)"
    )]
    Snapshot {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Idp(#[from] FileIdpError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("cannot render the report: {0}")]
    Render(#[from] sfmcp_audit::export::RenderError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
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

/// Run the audit without touching the process: returns the report and its rendering.
pub async fn execute(args: &AuditArgs) -> Result<(AuditReport, String), AuditCliError> {
    let mut config = AuditConfig::new(args.as_of.unwrap_or_else(Utc::now));
    config.window_days = args.window_days;
    config.allow_admins = args.allow_admin.clone();
    for (alias, canonical) in &args.domain_alias {
        config.matching.add_domain_alias(alias, canonical);
    }
    for d in &args.subaddress_domain {
        config.matching.add_subaddress_domain(d);
    }
    config.dormant_days = args.dormant_days;
    if !args.rules.is_empty() || args.extended {
        let mut names: Vec<&str> = if args.rules.is_empty() {
            vec!["core"]
        } else {
            args.rules
                .iter()
                .flat_map(|s| s.0.iter().map(|r| r.as_str()))
                .collect()
        };
        if args.extended {
            names.push("extended");
        }
        config.rules = Some(RuleId::parse_selection(&names).map_err(AuditCliError::Usage)?);
    }
    // Read before the (slow) run, so a wrong path fails at once.
    let baseline = args
        .baseline
        .as_deref()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| {
                AuditCliError::Usage(format!("cannot read the baseline {}: {e}", path.display()))
            })?;
            sfmcp_audit::baseline::parse_baseline(&text)
                .map_err(|e| AuditCliError::Usage(format!("{}: {e}", path.display())))
        })
        .transpose()?;
    let mut report = if let Some(snapshot_path) = &args.salesforce_snapshot {
        from_snapshot(args, snapshot_path, &config).await?
    } else if args.demo {
        demo_run(args, &mut config).await?
    } else {
        live_run(args, &config).await?
    };
    if let Some(baseline) = &baseline {
        sfmcp_audit::baseline::apply_baseline(&mut report, baseline)
            .map_err(|e| AuditCliError::Usage(e.to_string()))?;
    }
    let rendered = render(&report, args.format)?;
    if let Some(diff) = &report.baseline {
        eprintln!("audit: {}", diff.summary_line());
    }
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

async fn from_snapshot(
    args: &AuditArgs,
    snapshot_path: &Path,
    config: &AuditConfig,
) -> Result<AuditReport, AuditCliError> {
    // Validate the IdP spec before reading anything large.
    let source = IdpSource::parse(&args.idp).map_err(AuditCliError::Usage)?;
    let bar = ProgressLine::new();
    let progress = |p: RunProgress| bar.show(&p);
    let idp = live::collect_idp_only(&source, &progress).await?;
    bar.finish();
    eprintln!("audit: {} IdP accounts", idp.users.len());
    eprintln!(
        "audit: reading Salesforce snapshot {}",
        snapshot_path.display()
    );
    let path = snapshot_path.to_owned();
    let snapshot = tokio::task::spawn_blocking(move || load_snapshot(&path))
        .await
        .map_err(|e| AuditCliError::Usage(format!("reading the snapshot failed: {e}")))??;
    eprintln!(
        "audit: org {}: {} users, {} privileged grants, {} OAuth grants, {} audit-trail rows",
        snapshot.org_id,
        snapshot.users.len(),
        snapshot.permission_grants.len(),
        snapshot.oauth_grants.as_ref().map_or(0, Vec::len),
        snapshot.audit_trail.as_ref().map_or(0, Vec::len),
    );
    Ok(evaluate(&snapshot, &idp, config))
}

/// Against the org the connection settings name.
async fn live_run(args: &AuditArgs, config: &AuditConfig) -> Result<AuditReport, AuditCliError> {
    let source = IdpSource::parse(&args.idp).map_err(AuditCliError::Usage)?;
    let usage = |e: crate::settings::ConfigError| {
        AuditCliError::Usage(format!(
            "{e} (or audit the demo org with --demo, or a saved snapshot with \
             --salesforce-snapshot PATH)"
        ))
    };
    let options = args.connection.client_options().map_err(usage)?;
    let connection = args.connection.resolve().map_err(usage)?;
    let context = ClientContext::new(options).map_err(|e| AuditCliError::Usage(e.to_string()))?;
    let client = SalesforceClient::new(context, connection)
        .map_err(|e| AuditCliError::Usage(e.to_string()))?;
    collect_and_evaluate(&client, &source, config).await
}

/// Against the emulator's demo org and directories, started here and stopped after.
#[cfg(not(feature = "demo"))]
async fn demo_run(
    _args: &AuditArgs,
    _config: &mut AuditConfig,
) -> Result<AuditReport, AuditCliError> {
    Err(AuditCliError::Usage(
        "--demo needs the demo org, which this build leaves out: build sfmcp with its default features".into(),
    ))
}

/// Against the emulator's demo org and directories, started here and stopped after.
#[cfg(feature = "demo")]
async fn demo_run(
    args: &AuditArgs,
    config: &mut AuditConfig,
) -> Result<AuditReport, AuditCliError> {
    let spec = args.idp.trim();
    eprintln!("audit: starting the demo org and IdP directories");
    let demo = demo_directories::DemoDirectories::start()
        .await
        .map_err(AuditCliError::Usage)?;
    config
        .allow_admins
        .extend(demo.expected_admins.iter().cloned());
    let outcome = match spec.strip_prefix("file:") {
        Some(_) => {
            let source = IdpSource::parse(spec).map_err(AuditCliError::Usage)?;
            collect_and_evaluate(&demo.client, &source, config).await
        }
        None => {
            let kind = sfmcp_audit::collect::parse_kind(spec).ok_or_else(|| {
                AuditCliError::Usage(format!(
                    "unknown --idp `{spec}`: use okta, entra, google, jumpcloud, onelogin or \
                     file:PATH"
                ))
            })?;
            let env = demo.idp_env(kind);
            let lookup = move |name: &str| env.get(name).cloned();
            let source = IdpSource::Vendor { kind, env: &lookup };
            collect_and_evaluate(&demo.client, &source, config).await
        }
    };
    demo.shutdown().await;
    outcome
}

async fn collect_and_evaluate(
    client: &SalesforceClient,
    source: &IdpSource<'_>,
    config: &AuditConfig,
) -> Result<AuditReport, AuditCliError> {
    let bar = ProgressLine::new();
    let progress = |p: RunProgress| bar.show(&p);
    let outcome = live::run(client, source, config, &progress).await;
    bar.finish();
    let run = outcome?;
    eprintln!(
        "audit: {} IdP accounts, {} Salesforce users; {} Salesforce API call(s)",
        run.report.idp_users, run.report.salesforce_users, run.stats.api_calls
    );
    for note in &run.stats.notes {
        eprintln!("audit: note: {note}");
    }
    Ok(run.report)
}

/// Progress on stderr, never stdout (which carries the report). On a terminal one line is
/// redrawn in place, kept under 80 columns so it never wraps; off a terminal (logs, CI) each
/// step gets one line, printed when the step ends so it carries the step's totals.
struct ProgressLine {
    terminal: bool,
    /// Off a terminal: the current step and its latest line, not yet printed.
    pending: std::sync::Mutex<Option<(usize, String)>>,
}

impl ProgressLine {
    fn new() -> Self {
        ProgressLine {
            terminal: std::io::stderr().is_terminal(),
            pending: std::sync::Mutex::new(None),
        }
    }

    fn show(&self, p: &RunProgress) {
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(stderr, "\r\x1b[2K{}", terminal_line(p));
            let _ = stderr.flush();
            return;
        }
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        if let Some((step, line)) = pending.as_ref()
            && *step != p.step
        {
            let _ = writeln!(stderr, "{line}");
        }
        *pending = Some((p.step, log_line(p)));
    }

    fn finish(&self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        } else if let Ok(mut pending) = self.pending.lock()
            && let Some((_, line)) = pending.take()
        {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    }
}

fn bar(p: &RunProgress, width: usize) -> String {
    let filled = (p.step * width)
        .checked_div(p.total)
        .unwrap_or(0)
        .min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// For logs: every detail, whatever the length.
fn log_line(p: &RunProgress) -> String {
    format!(
        "audit: {} {}/{} {}: {} record(s), {} Salesforce call(s)",
        bar(p, 20),
        p.step,
        p.total,
        p.label,
        p.records,
        p.salesforce_calls
    )
}

/// For a terminal: at most 79 characters, so redrawing never wraps on 80 columns.
fn terminal_line(p: &RunProgress) -> String {
    const COLUMNS: usize = 79;
    let line = format!(
        "audit {} {}/{} {}: {} rec, {} calls",
        bar(p, 10),
        p.step,
        p.total,
        p.label,
        p.records,
        p.salesforce_calls
    );
    sfmcp_audit::sanitize::clip(&line, COLUMNS).into_owned()
}

pub async fn run(args: AuditArgs) -> ExitCode {
    let (report, rendered) = match execute(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let written = match &args.output {
        Some(path) => {
            output::write_report(path, rendered.as_bytes()).map_err(|source| AuditCliError::Write {
                path: path.to_owned(),
                source,
            })
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_progress_fits_80_columns_whatever_the_step() {
        let longest = sfmcp_audit::collect::salesforce::STAGES
            .iter()
            .map(|s| format!("Salesforce: {s}"))
            .max_by_key(String::len)
            .unwrap_or_default();
        for label in [longest.as_str(), "IdP directory (Google Workspace)", "x"] {
            let p = RunProgress {
                step: 10,
                total: 10,
                label: label.to_owned(),
                records: 123_456_789,
                salesforce_calls: 123_456,
            };
            let line = terminal_line(&p);
            assert!(
                line.chars().count() < 80,
                "{} columns: {line}",
                line.chars().count()
            );
            assert!(line.starts_with("audit [##########] 10/10"), "{line}");
        }
    }
}
