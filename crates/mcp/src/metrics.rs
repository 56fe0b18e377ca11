//! `/metrics` in Prometheus text format: tool calls, failures and latency per tool, and each
//! tenant's upstream API usage as Salesforce last reported it. Nothing secret is exported:
//! tenants appear by their [`sfmcp_salesforce::TenantKey`], which holds user ids or hashes,
//! never tokens.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock, PoisonError};

use sfmcp_salesforce::{ClientContext, TenantsHeld};

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct ToolStats {
    calls: u64,
    /// Results the model reads as errors (`isError`).
    tool_errors: u64,
    /// JSON-RPC errors (unknown tool, bad arguments).
    protocol_errors: u64,
    bucket_counts: [u64; BUCKETS.len()],
    seconds_sum: f64,
}

/// Counters of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    tools: Mutex<BTreeMap<String, ToolStats>>,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    ToolError,
    ProtocolError,
}

impl Metrics {
    /// The process's registry: one process, one `/metrics`.
    pub fn global() -> &'static Metrics {
        static METRICS: OnceLock<Metrics> = OnceLock::new();
        METRICS.get_or_init(Metrics::default)
    }

    pub fn record(&self, tool: &str, outcome: Outcome, seconds: f64) {
        let mut tools = self.tools.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = tools.entry(tool.to_string()).or_default();
        stats.calls += 1;
        match outcome {
            Outcome::Ok => {}
            Outcome::ToolError => stats.tool_errors += 1,
            Outcome::ProtocolError => stats.protocol_errors += 1,
        }
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            stats.bucket_counts[i] += 1;
        }
        stats.seconds_sum += seconds;
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, context: Option<&ClientContext>, gauges: Option<TenantGauges>) -> String {
        let tools = self
            .tools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        out.push_str("# HELP sfmcp_tool_calls_total Tool calls, by tool.\n# TYPE sfmcp_tool_calls_total counter\n");
        for (tool, stats) in &tools {
            let _ = writeln!(
                out,
                "sfmcp_tool_calls_total{{tool=\"{}\"}} {}",
                escape(tool),
                stats.calls
            );
        }
        out.push_str("# HELP sfmcp_tool_errors_total Tool calls that failed, by tool and kind (tool: an error result the model reads; protocol: a JSON-RPC error).\n# TYPE sfmcp_tool_errors_total counter\n");
        for (tool, stats) in &tools {
            let tool = escape(tool);
            let _ = writeln!(
                out,
                "sfmcp_tool_errors_total{{tool=\"{tool}\",kind=\"tool\"}} {}",
                stats.tool_errors
            );
            let _ = writeln!(
                out,
                "sfmcp_tool_errors_total{{tool=\"{tool}\",kind=\"protocol\"}} {}",
                stats.protocol_errors
            );
        }
        out.push_str("# HELP sfmcp_tool_call_duration_seconds Time from a tool call's start to its result.\n# TYPE sfmcp_tool_call_duration_seconds histogram\n");
        for (tool, stats) in &tools {
            let tool = escape(tool);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(stats.bucket_counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "sfmcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "sfmcp_tool_call_duration_seconds_bucket{{tool=\"{tool}\",le=\"+Inf\"}} {}",
                stats.calls
            );
            let _ = writeln!(
                out,
                "sfmcp_tool_call_duration_seconds_sum{{tool=\"{tool}\"}} {}",
                stats.seconds_sum
            );
            let _ = writeln!(
                out,
                "sfmcp_tool_call_duration_seconds_count{{tool=\"{tool}\"}} {}",
                stats.calls
            );
        }
        out.push_str("# HELP sfmcp_heap_releases_total Times freed heap memory was given back to the OS after HTTP sessions ended.\n# TYPE sfmcp_heap_releases_total counter\n");
        let _ = writeln!(
            out,
            "sfmcp_heap_releases_total {}",
            crate::transport::heap::RELEASES.load(std::sync::atomic::Ordering::Relaxed)
        );
        if let Some(context) = context {
            let usage = context.usage().snapshot();
            out.push_str("# HELP sfmcp_upstream_api_used Daily API requests the tenant's org has used, from its last Sforce-Limit-Info header.\n# TYPE sfmcp_upstream_api_used gauge\n");
            for (tenant, latest) in &usage {
                if let Some(u) = latest {
                    let _ = writeln!(
                        out,
                        "sfmcp_upstream_api_used{{tenant=\"{}\"}} {}",
                        escape(tenant),
                        u.used
                    );
                }
            }
            out.push_str("# HELP sfmcp_upstream_api_max The org's daily API allocation, from the same header.\n# TYPE sfmcp_upstream_api_max gauge\n");
            for (tenant, latest) in &usage {
                if let Some(u) = latest {
                    let _ = writeln!(
                        out,
                        "sfmcp_upstream_api_max{{tenant=\"{}\"}} {}",
                        escape(tenant),
                        u.max
                    );
                }
            }
        }
        if let Some(g) = gauges {
            out.push_str("# HELP sfmcp_tenants_held Tenants each per-tenant store holds; bounded by SFMCP_MAX_TENANTS (the least recently used go first).\n# TYPE sfmcp_tenants_held gauge\n");
            for (store, count) in [
                ("clients", g.clients),
                ("describes", g.held.describes),
                ("usage", g.held.usage),
                ("upstream_slots", g.held.concurrency),
                ("call_slots", g.call_slots),
            ] {
                let _ = writeln!(out, "sfmcp_tenants_held{{store=\"{store}\"}} {count}");
            }
        }
        out
    }
}

/// How many tenants the server's per-tenant stores hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct TenantGauges {
    /// Tenant connections kept.
    pub clients: usize,
    /// Tenants with call slots (see [`crate::transport::tenants::CallLimiter`]).
    pub call_slots: usize,
    pub held: TenantsHeld,
}

/// Label values escape backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_counts_calls_errors_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("soql_query", Outcome::Ok, 0.003);
        metrics.record("soql_query", Outcome::ToolError, 0.2);
        metrics.record("soql_query", Outcome::Ok, 20.0);
        let text = metrics.render(None, None);
        assert!(
            text.contains("sfmcp_tool_calls_total{tool=\"soql_query\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("sfmcp_tool_errors_total{tool=\"soql_query\",kind=\"tool\"} 1\n"));
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"soql_query\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"soql_query\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"soql_query\",le=\"0.25\"} 2\n"
        ));
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"soql_query\",le=\"10\"} 2\n"
        ));
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"soql_query\",le=\"+Inf\"} 3\n"
        ));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
