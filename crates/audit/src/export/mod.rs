//! Renderings of an [`AuditReport`]: a readable table, JSON, OCSF JSON, SARIF 2.1.0 and a
//! self-contained HTML report. Each renders the whole document in memory, so a caller writes
//! it in one go and never leaves half a file.

use std::fmt;
use std::str::FromStr;

use crate::report::AuditReport;

mod html;
mod json;
mod ocsf;
mod sarif;
mod table;

pub use html::render_html;
pub use json::render_json;
pub use ocsf::{OCSF_VERSION, render_ocsf, to_ocsf};
pub use sarif::{render_sarif, to_sarif};
pub use table::render_table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Ocsf,
    Sarif,
    Html,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "ocsf" => Ok(Format::Ocsf),
            "sarif" => Ok(Format::Sarif),
            "html" => Ok(Format::Html),
            other => Err(format!(
                "unknown format `{other}`: use table, json, ocsf, sarif or html"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Ocsf => "ocsf",
            Format::Sarif => "sarif",
            Format::Html => "html",
        })
    }
}

/// Render `report` in `format`.
pub fn render(report: &AuditReport, format: Format) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Table => render_table(report),
        Format::Json => render_json(report)?,
        Format::Ocsf => render_ocsf(report)?,
        Format::Sarif => render_sarif(report)?,
        Format::Html => render_html(report),
    })
}
