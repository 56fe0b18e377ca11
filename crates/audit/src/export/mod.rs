//! Renderings of an [`AuditReport`]: a readable table, JSON, OCSF JSON (an array, or one
//! event per line for SIEM pipelines), SARIF 2.1.0, CSV and a self-contained HTML report. Each renders the whole document in memory, so a caller writes
//! it in one go and never leaves half a file.

use std::fmt;
use std::str::FromStr;

use crate::report::AuditReport;

mod csv;
mod html;
mod json;
mod ocsf;
mod sarif;
mod table;

pub use csv::{CSV_COLUMNS, render_csv};
pub use html::render_html;
pub use json::render_json;
pub use ocsf::{OCSF_VERSION, render_ocsf, render_ocsf_lines, to_ocsf};
pub use sarif::{render_sarif, to_sarif};
pub use table::render_table;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Ocsf,
    /// OCSF, one event per line (JSON Lines).
    OcsfLines,
    Sarif,
    Csv,
    Html,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "ocsf" => Ok(Format::Ocsf),
            "ocsf-jsonl" | "ocsf-lines" => Ok(Format::OcsfLines),
            "sarif" => Ok(Format::Sarif),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            other => Err(format!(
                "unknown format `{other}`: use table, json, ocsf, ocsf-jsonl, sarif, csv or html"
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
            Format::OcsfLines => "ocsf-jsonl",
            Format::Sarif => "sarif",
            Format::Csv => "csv",
            Format::Html => "html",
        })
    }
}

/// A rendering that could not be produced (serialisation only fails on a broken report).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the report could not be written as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the report could not be written as CSV: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Render `report` in `format`.
pub fn render(report: &AuditReport, format: Format) -> Result<String, RenderError> {
    Ok(match format {
        Format::Table => render_table(report),
        Format::Json => render_json(report)?,
        Format::Ocsf => render_ocsf(report)?,
        Format::OcsfLines => render_ocsf_lines(report)?,
        Format::Sarif => render_sarif(report)?,
        Format::Csv => render_csv(report)?,
        Format::Html => render_html(report),
    })
}
