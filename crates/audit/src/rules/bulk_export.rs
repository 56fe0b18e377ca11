//! SF-EXP-001: a bulk data export in the audit window, whoever made it.

use super::{Ctx, ExportCase, RuleInfo};
use crate::finding::{Confidence, Finding, FindingKind, RuleId, Severity};

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: RuleId::ExpBulkExport,
    version: 1,
    title: "Bulk data export in the window",
    severity: Severity::High,
    kind: FindingKind::Detection,
    description: "A bulk data export happened in the audit window: a Setup > Data Export \
         request (SetupAuditTrail Action = 'export'), or, where the org has Event Monitoring, \
         a Bulk API / Bulk API 2.0 query job or a report export (EventLogFile types BulkApi, \
         BulkApi2, ReportExport). Data Loader, Bulk API and report exports are visible only \
         in Event Monitoring logs: without them only the Data Export service is seen.",
    inputs: &["audit_trail", "event_log_exports"],
    remediation: "Confirm the export was expected and where the file went.",
    steps: &[
        "Ask the requester (and the Login-As delegate, if any) for the business reason.",
        "Check where the export file was downloaded and stored.",
        "Restrict \"Weekly Data Export\" and API bulk access to named people.",
    ],
    references: &[
        "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventlogfile_supportedeventtypes.htm",
    ],
    controls: &[],
};

pub(super) fn finding(ctx: &Ctx<'_>, case: &ExportCase<'_>) -> Finding {
    ctx.finding(
        RuleId::ExpBulkExport,
        format!("{} by {}", case.what, case.by),
        Confidence::High,
        case.subject.clone(),
        (case.related.clone(), case.evidence.clone()),
        (case.when, case.when),
    )
}
