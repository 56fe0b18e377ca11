//! The identity-gap audit: rules, findings, collectors and exports.
//!
//! Data flows one way: collectors (Salesforce, IdPs) fill the input [`model`]; [`engine`]
//! evaluates the nine [`rules`] over it with in-memory hash joins and returns an
//! [`engine::AuditReport`] of OCSF-shaped [`finding`]s; [`export`] renders that report as a
//! table, JSON, OCSF, SARIF or HTML. The engine does no I/O, so the MCP tools and the CLI share
//! it, and collectors can be swapped for snapshot files in tests.
//!
//! ```
//! use sfmcp_audit::export::{Format, render};
//! use sfmcp_audit::{AuditConfig, IdpDirectory, IdpKind, IdpStatus, IdpUser, SalesforceSnapshot};
//!
//! let snapshot = SalesforceSnapshot { org_id: "00D000000000001AAA".into(), ..Default::default() };
//! let directory = IdpDirectory {
//!     kind: IdpKind::File,
//!     source: "hr-export.csv".into(),
//!     users: vec![IdpUser::new("ann@corp.com", IdpStatus::Active)],
//! };
//! let report = sfmcp_audit::evaluate(&snapshot, &directory, &AuditConfig::new(chrono::Utc::now()));
//! assert_eq!(report.summary.total, 0);
//! // Inputs the snapshot lacks are reported, never silently passed.
//! assert!(!report.not_evaluated.is_empty());
//! let html = render(&report, Format::Html)?;
//! assert!(html.contains("<svg"));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod collect;
pub mod engine;
pub mod export;
pub mod finding;
pub mod idp;
pub mod live;
pub mod matching;
pub mod model;
pub mod rules;

pub use engine::{AuditConfig, AuditReport, FindingFilter, FindingsPage, Summary, evaluate};
pub use finding::{Confidence, Finding, FindingKind, Severity};
pub use matching::{MatchConfig, MatchMethod};
pub use model::{IdpDirectory, IdpKind, IdpStatus, IdpUser, SalesforceSnapshot};
pub use rules::{CATALOGUE, RuleId, RuleInfo};
