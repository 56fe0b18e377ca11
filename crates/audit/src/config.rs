//! How a run is judged: the audit window, the expected admins, matching options and the rules
//! to run. Its own module so the rules can read it without depending on the engine that runs
//! them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::RuleId;
use crate::matching::MatchConfig;

/// How a run is judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConfig {
    /// "Now" for the export window and for posture findings' timestamps; injectable so runs
    /// are reproducible.
    pub now: DateTime<Utc>,
    pub window_days: u32,
    /// Expected admins (e-mail or username); they get no SF-PRV-001/002 finding and are grouped
    /// in the summary instead.
    pub allow_admins: Vec<String>,
    pub matching: MatchConfig,
    /// Evaluate only these rules; `None` means all nine.
    pub rules: Option<Vec<RuleId>>,
}

impl AuditConfig {
    pub fn new(now: DateTime<Utc>) -> Self {
        AuditConfig {
            now,
            window_days: 30,
            allow_admins: Vec::new(),
            matching: MatchConfig::default(),
            rules: None,
        }
    }

    pub fn window_start(&self) -> DateTime<Utc> {
        self.now - Duration::days(i64::from(self.window_days))
    }

    pub(crate) fn enabled(&self, rule: RuleId) -> bool {
        self.rules.as_ref().is_none_or(|r| r.contains(&rule))
    }
}
