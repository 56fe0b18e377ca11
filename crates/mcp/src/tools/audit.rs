//! `audit_rules`, `audit_run` and `audit_findings`: the identity-gap audit as tools.
//!
//! A run collects the org (as the connected user) and one IdP directory whose settings come
//! from the server's environment (see `sfmcp_audit::collectors`), evaluates the nine rules
//! and keeps the report in memory for this connection only: never on disk, gone when the
//! session ends. `SFMCP_AUDIT_ALLOW_ADMINS` (comma-separated e-mails or usernames) lists the
//! expected admins, as `--allow-admin` does for the CLI.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use rmcp::model::{CallToolResult, ContentBlock, ProgressNotificationParam};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::args::Parameters;
use crate::error::ToolError;
use crate::render;
use crate::server::SfServer;
use sfmcp_audit::collect::parse_kind;
use sfmcp_audit::live::{self, IdpSource, RunProgress};
use sfmcp_audit::{AuditConfig, AuditReport, CATALOGUE, Finding, FindingFilter, RuleId, Severity};
use sfmcp_salesforce::TenantKey;

/// Runs kept per connection; the oldest is dropped first.
const MAX_RUNS: usize = 5;
/// Findings per page: enough to act on, small enough for a model's context.
const PAGE_SIZE: usize = 10;
/// Expected admins for every run of this server.
const ALLOW_ADMINS_VAR: &str = "SFMCP_AUDIT_ALLOW_ADMINS";

/// This connection's finished runs, each kept with the tenant it ran for: over HTTP a
/// session's requests can name different tenants, and a run is only ever shown to its own.
#[derive(Debug, Default)]
pub struct AuditRuns {
    runs: Mutex<VecDeque<AuditRun>>,
    counter: AtomicU64,
}

#[derive(Debug)]
struct AuditRun {
    id: String,
    tenant: TenantKey,
    report: Arc<AuditReport>,
}

impl AuditRuns {
    fn insert(&self, tenant: &TenantKey, report: AuditReport) -> String {
        let id = format!("run-{}", self.counter.fetch_add(1, Ordering::Relaxed) + 1);
        if let Ok(mut runs) = self.runs.lock() {
            if runs.len() >= MAX_RUNS {
                runs.pop_front();
            }
            runs.push_back(AuditRun {
                id: id.clone(),
                tenant: tenant.clone(),
                report: Arc::new(report),
            });
        }
        id
    }

    /// `tenant`'s run named `id`, or its latest; other tenants' runs are not even named.
    fn get(
        &self,
        tenant: &TenantKey,
        id: Option<&str>,
    ) -> Result<(String, Arc<AuditReport>), ToolError> {
        let runs = self.runs.lock().map_err(|_| {
            ToolError::Input("the audit runs are unavailable; run audit_run again".into())
        })?;
        let mut own = runs.iter().filter(|run| &run.tenant == tenant);
        let found = match id {
            Some(id) => own.find(|run| run.id == id),
            None => own.next_back(),
        };
        if let Some(run) = found {
            return Ok((run.id.clone(), Arc::clone(&run.report)));
        }
        let known: Vec<&str> = runs
            .iter()
            .filter(|run| &run.tenant == tenant)
            .map(|run| run.id.as_str())
            .collect();
        Err(ToolError::Input(match (id, known.is_empty()) {
            (_, true) => "no audit has run in this session; call audit_run first".into(),
            (Some(id), false) => format!(
                "no run {} in this session (runs: {}); call audit_run for a new one",
                crate::write_check::quoted(id),
                known.join(", ")
            ),
            (None, false) => "no audit run found; call audit_run".into(),
        }))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditRulesArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditRunArgs {
    pub idp: String,
    pub window_days: Option<u32>,
    pub rules: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditFindingsArgs {
    /// default: latest
    pub run_id: Option<String>,
    /// minimum
    pub severity: Option<String>,
    pub rule: Option<String>,
    pub cursor: Option<String>,
}

#[tool_router(router = audit_router, vis = "pub(crate)")]
impl SfServer {
    /// The nine identity-gap audit rules: id, severity, what each checks.
    #[tool(annotations(read_only_hint = true))]
    async fn audit_rules(&self, Parameters(_args): Parameters<AuditRulesArgs>) -> CallToolResult {
        rules_result()
    }

    /// Slow: audit Salesforce access vs an IdP (okta|entra|google|jumpcloud|onelogin). Returns run_id, counts, top findings.
    #[tool(annotations(read_only_hint = true))]
    async fn audit_run(
        &self,
        Parameters(args): Parameters<AuditRunArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let kind = parse_kind(&args.idp).ok_or_else(|| {
            ToolError::Input(format!(
                "idp `{}` is not one of okta, entra, google, jumpcloud, onelogin (IdP files are \
                 for the CLI: sfmcp audit --idp file:PATH)",
                args.idp
            ))
        })?;
        let mut config = AuditConfig::new(Utc::now());
        if let Some(days) = args.window_days {
            if !(1..=3650).contains(&days) {
                return Err(ToolError::Input(format!(
                    "window_days {days} is out of range: use 1 to 3650 (default 30)"
                )));
            }
            config.window_days = days;
        }
        if let Some(rules) = &args.rules {
            config.rules = Some(parse_rules(rules)?);
        }
        config.allow_admins = std::env::var(ALLOW_ADMINS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect();
        let client = self.client(&context)?;

        // The collectors report synchronously; notifications are sent from a task so a slow
        // client never stalls collection.
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<RunProgress>();
        let forwarder = context.meta.get_progress_token().map(|token| {
            let peer = context.peer.clone();
            tokio::spawn(async move {
                let mut last: Option<(usize, usize)> = None;
                while let Some(p) = receiver.recv().await {
                    if last == Some((p.step, p.records)) {
                        continue;
                    }
                    last = Some((p.step, p.records));
                    let message = format!("{}: {} record(s)", p.label, p.records);
                    let _ = peer
                        .notify_progress(
                            ProgressNotificationParam::new(token.clone(), p.step as f64)
                                .with_total(p.total as f64)
                                .with_message(message),
                        )
                        .await;
                }
            })
        });
        let progress = move |p: RunProgress| {
            let _ = sender.send(p);
        };
        let env = |name: &str| std::env::var(name).ok();
        let source = IdpSource::Vendor { kind, env: &env };
        let outcome = tokio::select! {
            outcome = live::run(&client, &source, &config, &progress) => outcome,
            () = context.ct.cancelled() => {
                return Err(ToolError::Input("the audit was cancelled; nothing was kept".into()));
            }
        };
        drop(progress);
        if let Some(forwarder) = forwarder {
            // Every notification is out before the result, so clients see them in order.
            let _ = forwarder.await;
        }
        let run = outcome.map_err(|e| ToolError::Input(e.to_string()))?;
        let report = run.report;
        let page = report.page(FindingFilter::default(), 0, PAGE_SIZE);
        let mut text = summary_text(&report);
        text.push_str(&findings_text(&page.findings));
        let findings: Vec<Value> = page.findings.iter().map(|f| finding_view(f)).collect();
        let next_cursor = page.next_offset.map(|o| o.to_string());
        let mut structured = render::object([
            ("summary", summary_json(&report)),
            ("findings", Value::Array(findings)),
            ("salesforce_api_calls", run.stats.api_calls.into()),
        ]);
        if let Some(cursor) = &next_cursor {
            text.push_str(&format!(
                "More: audit_findings with cursor \"{cursor}\" (or filter by severity / rule).\n"
            ));
            structured["next_cursor"] = json!(cursor);
        }
        let run_id = self.audit_runs.insert(client.tenant(), report);
        text = format!("run_id {run_id}\n{text}");
        structured["run_id"] = json!(run_id);
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        Ok(result)
    }

    /// Page through a run's findings, filtered by minimum severity or rule.
    #[tool(annotations(read_only_hint = true))]
    async fn audit_findings(
        &self,
        Parameters(args): Parameters<AuditFindingsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let client = self.client(&context)?;
        let (run_id, report) = self
            .audit_runs
            .get(client.tenant(), args.run_id.as_deref().map(str::trim))?;
        let filter = FindingFilter {
            min_severity: args
                .severity
                .as_deref()
                .map(|s| s.parse::<Severity>().map_err(ToolError::Input))
                .transpose()?,
            rule: args
                .rule
                .as_deref()
                .map(|r| r.parse::<RuleId>().map_err(ToolError::Input))
                .transpose()?,
        };
        let offset = match args.cursor.as_deref().map(str::trim) {
            None | Some("") => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                ToolError::Input(format!(
                    "cursor `{c}` is not one this tool returned; pass next_cursor as given"
                ))
            })?,
        };
        let page = report.page(filter, offset, PAGE_SIZE);
        let mut text = format!(
            "run_id {run_id}: {} matching finding(s), showing {}-{}\n",
            page.total_matching,
            offset.saturating_add(1).min(page.total_matching),
            offset + page.findings.len()
        );
        text.push_str(&findings_text(&page.findings));
        let next_cursor = page.next_offset.map(|o| o.to_string());
        if let Some(cursor) = &next_cursor {
            text.push_str(&format!("More: cursor \"{cursor}\"\n"));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("run_id", run_id.into()),
            ("total_matching", page.total_matching.into()),
            (
                "findings",
                page.findings.iter().map(|f| finding_view(f)).collect(),
            ),
            ("next_cursor", next_cursor.into()),
        ]));
        Ok(result)
    }
}

fn rules_result() -> CallToolResult {
    let mut text = String::new();
    let mut rules = Vec::new();
    for rule in &CATALOGUE {
        text.push_str(&format!(
            "{} [{}] {}: {}\n",
            rule.id, rule.severity, rule.title, rule.description
        ));
        rules.push(json!({
            "id": rule.id,
            "severity": rule.severity,
            "title": rule.title,
            "description": rule.description,
            "inputs": rule.inputs,
        }));
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "rules": rules }));
    result
}

fn parse_rules(rules: &[String]) -> Result<Vec<RuleId>, ToolError> {
    rules
        .iter()
        .map(|r| r.parse::<RuleId>().map_err(ToolError::Input))
        .collect()
}

fn summary_json(report: &AuditReport) -> Value {
    json!({
        "org_id": report.org_id,
        "idp": report.idp_kind,
        "window_days": report.window_days,
        "total": report.summary.total,
        "by_severity": report.summary.by_severity,
        "by_rule": report.summary.by_rule.iter().map(|r| json!({
            "rule": r.rule_id, "severity": r.severity, "count": r.count, "evaluated": r.evaluated,
        })).collect::<Vec<_>>(),
        "expected_admins": report.summary.expected_admins,
        "unexpected_admins": report.summary.unexpected_admins,
        "non_human_identities": report.summary.non_human_identities,
        "not_evaluated": report.not_evaluated,
        "notes": report.notes,
    })
}

fn summary_text(report: &AuditReport) -> String {
    let s = &report.summary;
    let mut text = format!(
        "{} finding(s) in org {} against {} ({} Salesforce users, {} IdP accounts, exports in the \
         last {} days).\nBy severity: {}\nBy rule:\n",
        s.total,
        report.org_id,
        report.idp_kind,
        report.salesforce_users,
        report.idp_users,
        report.window_days,
        s.by_severity
            .iter()
            .map(|(sev, n)| format!("{sev} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for r in &s.by_rule {
        let count = if r.evaluated {
            r.count.to_string()
        } else {
            "not evaluated".into()
        };
        text.push_str(&format!(
            "  {} [{}] {}: {count}\n",
            r.rule_id, r.severity, r.title
        ));
    }
    text.push_str(&format!(
        "Admins: {} expected, {} unexpected; {} non-human identities.\n",
        s.expected_admins, s.unexpected_admins, s.non_human_identities
    ));
    for n in &report.not_evaluated {
        text.push_str(&format!("Not evaluated {}: {}\n", n.rule_id, n.reason));
    }
    for note in &report.notes {
        text.push_str(&format!("Note: {note}\n"));
    }
    text
}

fn findings_text(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "- {} [{}] {}: {} (confidence {:?}, id {})\n",
                f.rule_id, f.severity, f.subject.display, f.title, f.confidence, f.id
            )
        })
        .collect()
}

/// A finding without the long remediation text, which `audit_rules` already gives per rule.
fn finding_view(f: &Finding) -> Value {
    json!({
        "id": f.id,
        "rule": f.rule_id,
        "severity": f.severity,
        "title": f.title,
        "subject": f.subject,
        "confidence": f.confidence,
        "match": f.match_method,
        "related": f.related,
        "evidence": f.evidence,
    })
}
