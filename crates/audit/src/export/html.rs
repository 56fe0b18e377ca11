//! A self-contained HTML report: inline CSS and inline SVG, no scripts, fonts or images from
//! anywhere, so it can be mailed or archived as one file. The charts carry their numbers as
//! text (`<text class="count">`) and as `data-count` attributes, so they stay readable
//! without colour and can be checked by a headless browser. After `--baseline`, each
//! finding carries a `new` / `unchanged` badge and the baseline's findings that are gone are
//! listed as resolved.

use std::fmt::Write;

use crate::baseline::Changes;
use crate::finding::{Finding, Severity};
use crate::report::AuditReport;
use crate::sanitize::printable_line;

/// Escape text for HTML content and double-quoted attributes, and drop terminal escapes and
/// controls: the report may well be read with `cat` or `less` before a browser sees it.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in printable_line(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn severity_colour(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "#9b1c1c",
        Severity::High => "#d9480f",
        Severity::Medium => "#b7791f",
        Severity::Low => "#2f6f9f",
        Severity::Info => "#5f6b7a",
    }
}

struct Bar<'a> {
    label: &'a str,
    caption: String,
    count: usize,
    colour: &'static str,
}

/// A horizontal bar chart; every bar is labelled with its count, zero included.
fn bar_chart(id: &str, title: &str, bars: &[Bar<'_>]) -> String {
    const ROW: usize = 28;
    const BAR_W: usize = 360;
    // Labels are right-aligned against the bars; size the gutter for the longest one
    // (about 7 px per character at 12 px) so none is clipped.
    let longest = bars
        .iter()
        .map(|b| b.caption.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = (longest * 7 + 16).clamp(80, 640);
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let height = bars.len() * ROW + 34;
    let width = label_w + BAR_W + 70;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg id="{id}" class="chart" role="img" aria-labelledby="{id}-title" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title id="{id}-title">{}</title><text x="0" y="18" class="chart-title">{}</text>"#,
        esc(title),
        esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 30 + i * ROW;
        let w = if b.count == 0 {
            0
        } else {
            (b.count * BAR_W / max).max(2)
        };
        let _ = write!(
            svg,
            r#"<g class="bar" data-label="{label}" data-count="{count}"><text x="{lx}" y="{ty}" class="bar-label" text-anchor="end">{caption}</text><rect x="{bx}" y="{y}" width="{w}" height="20" fill="{colour}"><title>{caption}: {count}</title></rect><text x="{cx}" y="{ty}" class="count" data-count="{count}">{count}</text></g>"#,
            label = esc(b.label),
            count = b.count,
            lx = label_w - 8,
            ty = y + 15,
            caption = esc(&b.caption),
            bx = label_w,
            colour = b.colour,
            cx = label_w + w + 6,
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;\
color:#1f2933;max-width:1200px}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border-bottom:1px solid #d8dee4;\
padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f3f5f7}\
.sev{font-weight:600;color:#fff;padding:.1rem .4rem;border-radius:3px;font-size:.8rem}\
.chart{display:block;margin:1rem 0}.chart-title{font-weight:600;font-size:14px}\
.bar-label,.count{font-size:12px;fill:#1f2933}.count{font-weight:600}\
details{font-size:.85rem}dl{display:grid;grid-template-columns:max-content auto;gap:.1rem .8rem;margin:.3rem 0}\
dt{color:#52606d}dd{margin:0;word-break:break-all}#findings td:nth-child(-n+2){white-space:nowrap}.muted{color:#52606d}code{font-size:.85rem}\
.change{font-size:.75rem;font-weight:600;padding:.05rem .35rem;border-radius:3px;border:1px solid}\
.change-new{color:#9b1c1c;border-color:#9b1c1c}.change-unchanged{color:#52606d;border-color:#9aa5b1}\
.change-resolved{color:#276749;border-color:#276749}";

/// A change badge; the word is the text, so it reads without colour.
fn badge(change: &str) -> String {
    format!("<span class=\"change change-{change}\">{change}</span>")
}

/// The cells every finding row starts with: severity badge, rule (with the change badge).
fn severity_and_rule(f: &Finding, change: Option<&str>) -> String {
    format!(
        "<td><span class=\"sev\" style=\"background:{colour}\">{sev}</span></td><td>{rule}{badge}</td>",
        colour = severity_colour(f.severity),
        sev = f.severity.as_str(),
        rule = esc(f.rule_id.as_str()),
        badge = change.map(|c| format!(" {}", badge(c))).unwrap_or_default(),
    )
}

pub fn render_html(report: &AuditReport) -> String {
    let s = &report.summary;
    let sev_bars: Vec<Bar> = s
        .by_severity
        .iter()
        .map(|(sev, n)| Bar {
            label: sev.as_str(),
            caption: sev.as_str().to_owned(),
            count: *n,
            colour: severity_colour(*sev),
        })
        .collect();
    let rule_bars: Vec<Bar> = s
        .by_rule
        .iter()
        .map(|r| Bar {
            label: r.rule_id.as_str(),
            caption: format!("{} {}", r.rule_id, r.title),
            count: r.count,
            colour: severity_colour(r.severity),
        })
        .collect();

    let mut h = String::with_capacity(16 * 1024 + report.findings.len() * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Salesforce identity-gap audit: {org}</title><style>{STYLE}</style></head><body>\
         <h1>Salesforce identity-gap audit</h1>\
         <p>Org <code>{org}</code> against <strong>{idp}</strong> ({idp_users} IdP accounts, \
         {sf_users} Salesforce users). Exports checked since {start}. Generated {gen} by {tool} \
         {ver}.</p>\
         <p id=\"total\" data-count=\"{total}\"><strong>{total}</strong> findings.</p>",
        org = esc(&report.org_id),
        idp = esc(&report.idp_kind),
        idp_users = report.idp_users,
        sf_users = report.salesforce_users,
        start = report.window_start.format("%Y-%m-%d %H:%M UTC"),
        gen = report.generated_at.format("%Y-%m-%d %H:%M UTC"),
        tool = esc(&report.tool),
        ver = esc(&report.tool_version),
        total = s.total,
    );
    if let Some(diff) = &report.baseline {
        let _ = write!(
            h,
            "<p id=\"baseline\" data-new=\"{new}\" data-resolved=\"{resolved}\" \
             data-unchanged=\"{unchanged}\">Since the baseline of {at}: <strong>{new}</strong> \
             {b_new}, <strong>{resolved}</strong> {b_resolved}, <strong>{unchanged}</strong> \
             {b_unchanged}.</p>",
            new = diff.new.len(),
            resolved = diff.resolved.len(),
            unchanged = diff.unchanged.len(),
            at = diff.baseline_generated_at.format("%Y-%m-%d %H:%M UTC"),
            b_new = badge("new"),
            b_resolved = badge("resolved"),
            b_unchanged = badge("unchanged"),
        );
    }
    h.push_str(&bar_chart(
        "chart-severity",
        "Findings by severity",
        &sev_bars,
    ));
    h.push_str(&bar_chart("chart-rule", "Findings by rule", &rule_bars));

    let _ = write!(
        h,
        "<h2>Admins</h2><p>{} expected (on the allow-list, no SF-PRV finding), {} not on the \
         allow-list. {}</p>",
        s.expected_admins,
        s.unexpected_admins,
        esc(&report.admin_definition)
    );
    if !report.admins.is_empty() {
        h.push_str(
            "<table><thead><tr><th>User</th><th>Permissions</th><th>Granted by</th>\
             <th>Expected</th></tr></thead><tbody>",
        );
        for a in &report.admins {
            let _ = write!(
                h,
                "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.username),
                if a.non_human {
                    " <span class=\"muted\">(non-human)</span>"
                } else {
                    ""
                },
                esc(&a.permissions.join(", ")),
                esc(&a.grant_paths.join("; ")),
                if a.expected { "yes" } else { "no" }
            );
        }
        h.push_str("</tbody></table>");
    }

    let _ = write!(
        h,
        "<h2>Non-human identities</h2><p>{} integration or API-only users, inventoried and not \
         judged against the IdP.</p>",
        s.non_human_identities
    );
    if !report.non_human_identities.is_empty() {
        h.push_str(
            "<table><thead><tr><th>User</th><th>License</th><th>Admin permissions</th>\
             <th>Connected apps</th></tr></thead><tbody>",
        );
        for n in &report.non_human_identities {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&n.username),
                esc(n
                    .license
                    .as_deref()
                    .unwrap_or(if n.api_only { "API only" } else { "" })),
                esc(&n.admin_permissions.join(", ")),
                esc(&n.connected_apps.join(", "))
            );
        }
        h.push_str("</tbody></table>");
    }

    if !report.not_evaluated.is_empty() || !report.notes.is_empty() {
        h.push_str("<h2>Coverage</h2><ul>");
        for n in &report.not_evaluated {
            let _ = write!(
                h,
                "<li>{} not evaluated: {}</li>",
                esc(n.rule_id.as_str()),
                esc(&n.reason)
            );
        }
        for note in &report.notes {
            let _ = write!(h, "<li>{}</li>", esc(note));
        }
        h.push_str("</ul>");
    }

    h.push_str("<h2>Findings</h2>");
    if report.findings.is_empty() {
        h.push_str("<p>No findings.</p>");
    } else {
        h.push_str(
            "<table id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th><th>Finding</th>\
             <th>Confidence</th></tr></thead><tbody>",
        );
        let changes = Changes::of(report);
        for f in &report.findings {
            let change = changes.of_finding(&f.id);
            let _ = write!(
                h,
                "<tr id=\"f-{id}\"{change_attr} data-rule=\"{rule}\" data-severity=\"{sev}\">\
                 {cells}<td>{title}<details><summary>Evidence and remediation</summary>",
                id = esc(&f.id),
                change_attr = change
                    .map(|c| format!(" data-change=\"{c}\""))
                    .unwrap_or_default(),
                rule = esc(f.rule_id.as_str()),
                sev = f.severity.as_str(),
                cells = severity_and_rule(f, change),
                title = esc(&f.title),
            );
            for e in &f.evidence {
                let _ = write!(
                    h,
                    "<p><strong>{}</strong>{}</p><dl>",
                    esc(&e.source),
                    e.record_id
                        .as_deref()
                        .map(|r| format!(" <code>{}</code>", esc(r)))
                        .unwrap_or_default()
                );
                for (k, v) in &e.fields {
                    let value = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&value));
                }
                h.push_str("</dl>");
            }
            let _ = write!(
                h,
                "<p><strong>Remediation:</strong> {}</p><ol>",
                esc(&f.remediation.summary)
            );
            for step in &f.remediation.steps {
                let _ = write!(h, "<li>{}</li>", esc(step));
            }
            let _ = write!(
                h,
                "</ol><p class=\"muted\">Finding id <code>{}</code>, rule version {}</p>\
                 </details></td><td>{}{}</td></tr>",
                esc(&f.id),
                f.rule_version,
                f.confidence.as_str(),
                f.match_method
                    .map(|m| format!(" <span class=\"muted\">({})</span>", m.as_str()))
                    .unwrap_or_default()
            );
        }
        h.push_str("</tbody></table>");
    }
    if let Some(diff) = &report.baseline {
        h.push_str("<h2 id=\"resolved\">Resolved since the baseline</h2>");
        if diff.resolved.is_empty() {
            h.push_str("<p>None: every finding of the baseline is still there.</p>");
        } else {
            h.push_str(
                "<table id=\"resolved-findings\"><thead><tr><th>Severity</th><th>Rule</th>\
                 <th>Finding</th><th>First seen</th></tr></thead><tbody>",
            );
            for f in &diff.resolved {
                let _ = write!(
                    h,
                    "<tr id=\"r-{id}\" data-change=\"resolved\" data-rule=\"{rule}\">{cells}\
                     <td>{title}</td><td>{first}</td></tr>",
                    id = esc(&f.id),
                    rule = esc(f.rule_id.as_str()),
                    cells = severity_and_rule(f, Some("resolved")),
                    title = esc(&f.title),
                    first = f.first_seen.format("%Y-%m-%d"),
                );
            }
            h.push_str("</tbody></table>");
        }
    }
    h.push_str("</body></html>\n");
    h
}
