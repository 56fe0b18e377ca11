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
    /// Evaluate only these rules; `None` means the nine core rules (extended rules run only
    /// when selected).
    pub rules: Option<Vec<RuleId>>,
    /// SF-HYG-001/002: no login (or token use) in this many days makes an account dormant.
    #[serde(default = "default_dormant_days")]
    pub dormant_days: u32,
}

/// 90 days, the common SSPM default (Palo Alto SSPM, the SBS notes); sfdx-hardis uses 180.
pub const DEFAULT_DORMANT_DAYS: u32 = 90;

fn default_dormant_days() -> u32 {
    DEFAULT_DORMANT_DAYS
}

impl AuditConfig {
    pub fn new(now: DateTime<Utc>) -> Self {
        AuditConfig {
            now,
            window_days: 30,
            allow_admins: Vec::new(),
            matching: MatchConfig::default(),
            rules: None,
            dormant_days: DEFAULT_DORMANT_DAYS,
        }
    }

    pub fn window_start(&self) -> DateTime<Utc> {
        self.now - Duration::days(i64::from(self.window_days))
    }

    pub(crate) fn enabled(&self, rule: RuleId) -> bool {
        match &self.rules {
            Some(selected) => selected.contains(&rule),
            None => !rule.is_extended(),
        }
    }

    /// The instant before which an account counts as dormant.
    pub fn dormant_since(&self) -> DateTime<Utc> {
        self.now - Duration::days(i64::from(self.dormant_days))
    }
}
