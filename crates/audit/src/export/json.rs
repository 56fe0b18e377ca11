//! The report as pretty-printed JSON: the engine's own serde shape, for scripts that read every
//! field.

use crate::report::AuditReport;

pub fn render_json(report: &AuditReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    // A file or a terminal line ends with a newline.
    s.push('\n');
    Ok(s)
}
