//! The identity-gap audit: rules, findings, collectors and exports.
//!
//! Data flows one way: collectors (Salesforce, IdPs) fill the input [`model`]; [`engine`]
//! evaluates the nine [`rules`] over it with in-memory hash joins and returns an
//! [`AuditReport`] of OCSF-shaped [`finding`]s; [`export`] renders that report as a table,
//! JSON, OCSF, SARIF or HTML. The engine does no I/O, so the MCP tools and the CLI share it,
//! and collectors can be swapped for snapshot files in tests.
//!
//! The modules, each depending only on those above it:
//!
//! | module | holds |
//! |---|---|
//! | [`model`] | the input: Salesforce snapshot, IdP directory, canonical IdP statuses |
//! | [`idp`] | each IdP's vendor statuses mapped to the canonical set |
//! | [`matching`] | Salesforce users tied to IdP accounts by corporate address, and how |
//! | [`finding`] | the output vocabulary: [`RuleId`], [`Severity`], [`Confidence`], [`Finding`] |
//! | [`config`] | [`AuditConfig`]: window, expected admins, matching options, rules to run |
//! | [`report`] | [`AuditReport`], its summary and inventories, paging with [`FindingFilter`] |
//! | [`rules`] | the [`CATALOGUE`] and what rules share (`rules/mod.rs`); one file per rule, named after what it checks (`rules/admin_not_in_idp.rs`, `rules/session_ip.rs`, ...) |
//! | [`engine`] | [`evaluate`]: run the rules, order and summarise |
//! | [`export`] | one file per format: `table`, `json`, `ocsf` (and JSON lines), `sarif`, `html`, `csv` |
//! | [`collect`] | reading Salesforce (read-only queries), each IdP's directory API, or a file |
//! | [`live`] | one audit run end to end: collect both sides, then evaluate |
//! | [`sanitize`] | third-party text made safe to print (escape sequences and controls removed) |
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
//! # Ok::<(), sfmcp_audit::export::RenderError>(())
//! ```

pub mod baseline;
pub mod collect;
pub mod config;
pub mod engine;
pub mod export;
pub mod finding;
pub mod idp;
pub mod live;
pub mod matching;
pub mod model;
pub mod report;
pub mod rules;
pub mod sanitize;

pub use config::AuditConfig;
pub use engine::evaluate;
pub use finding::{Confidence, Finding, FindingKind, Severity};
pub use matching::{MatchConfig, MatchMethod};
pub use model::{IdpDirectory, IdpKind, IdpStatus, IdpUser, SalesforceSnapshot};
pub use report::{AuditReport, FindingFilter, FindingsPage, Summary};
pub use rules::{CATALOGUE, RuleId, RuleInfo};
