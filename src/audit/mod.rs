//! The identity-gap audit: rules, findings, collectors and exports.
//!
//! Data flows one way: collectors (Salesforce, IdPs) fill the input [`model`]; [`engine`]
//! evaluates the nine [`rules`] over it with in-memory hash joins and returns an
//! [`engine::AuditReport`] of OCSF-shaped [`finding`]s; [`export`] renders that report as a
//! table, JSON, OCSF, SARIF or HTML. The engine does no I/O, so the MCP tools and the CLI share
//! it, and collectors can be swapped for snapshot files in tests.
//!
//! ```text
//! let index_config = AuditConfig::new(now);
//! let report = engine::evaluate(&snapshot, &directory, &index_config);
//! let html = export::render(&report, Format::Html)?;
//! ```

pub mod cli;
#[path = "idp/collectors.rs"]
pub mod collectors;
pub mod engine;
pub mod export;
pub mod file_idp;
pub mod finding;
pub mod idp;
pub mod matching;
pub mod model;
pub mod rules;

pub use engine::{AuditConfig, AuditReport, Summary, evaluate};
pub use finding::{Confidence, Finding, FindingKind, Severity};
pub use matching::{MatchConfig, MatchMethod};
pub use model::{IdpDirectory, IdpKind, IdpStatus, IdpUser, SalesforceSnapshot};
pub use rules::{CATALOGUE, RuleId, RuleInfo};
