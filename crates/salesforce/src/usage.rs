//! The org's daily API usage, learned from the `Sforce-Limit-Info` header Salesforce puts on
//! every response, so no extra call and no coordination between replicas is needed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::errors::SfError;

/// `api-usage=USED/MAX` from one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    pub used: u64,
    pub max: u64,
}

impl ApiUsage {
    /// Used share of the daily allocation, 0.0..; above 1.0 while the org bursts.
    pub fn share(&self) -> f64 {
        if self.max == 0 {
            1.0
        } else {
            self.used as f64 / self.max as f64
        }
    }
}

/// Parses a `Sforce-Limit-Info` value such as `api-usage=18/5000`,
/// `api-usage=10018/100000; api-bursts=1/750` or
/// `api-usage=25/5000; per-app-api-usage=17/250(appName=sample)`.
pub fn parse_limit_info(header: &str) -> Option<ApiUsage> {
    header.split([';', ',']).find_map(|part| {
        let (name, value) = part.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("api-usage") {
            return None;
        }
        let (used, max) = value.trim().split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        })
    })
}

/// Whether a call may go out when usage is above the ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPriority {
    /// Ordinary work: refused above the ceiling.
    Normal,
    /// Calls that help people understand the situation (limits, versions): always sent.
    Essential,
}

/// Thresholds as shares of the daily allocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsagePolicy {
    /// Above this share results carry a warning. Default 0.90.
    pub warn_share: f64,
    /// Above this share only essential calls go. Default 0.98.
    pub ceiling_share: f64,
    /// Above the ceiling, one normal call goes through this often anyway: usage is learnt
    /// only from responses, and without a probe a rolling window that freed up would go
    /// unnoticed. Default 60 s.
    pub ceiling_probe_interval: Duration,
}

impl Default for UsagePolicy {
    fn default() -> Self {
        UsagePolicy {
            warn_share: 0.90,
            ceiling_share: 0.98,
            ceiling_probe_interval: Duration::from_secs(60),
        }
    }
}

/// Where usage stands, for a result's footer or a warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UsageLevel {
    /// No response with the header seen yet.
    Unknown,
    Normal(ApiUsage),
    /// Above the warning share.
    Warning(ApiUsage),
    /// Above the ceiling: only essential calls are sent.
    Ceiling(ApiUsage),
}

impl UsageLevel {
    pub fn usage(&self) -> Option<ApiUsage> {
        match self {
            UsageLevel::Unknown => None,
            UsageLevel::Normal(u) | UsageLevel::Warning(u) | UsageLevel::Ceiling(u) => Some(*u),
        }
    }

    /// A sentence for people when usage is high, `None` otherwise.
    pub fn warning(&self) -> Option<String> {
        match self {
            UsageLevel::Warning(u) => Some(format!(
                "Salesforce API usage is at {}% of the daily allocation ({} of {}).",
                percent(u.share()),
                u.used,
                u.max
            )),
            UsageLevel::Ceiling(u) => Some(format!(
                "Salesforce API usage is at {}% of the daily allocation ({} of {}): only essential calls are sent until it falls.",
                percent(u.share()),
                u.used,
                u.max
            )),
            _ => None,
        }
    }
}

fn percent(share: f64) -> u64 {
    (share * 100.0).floor().max(0.0) as u64
}

/// Usage of one tenant's org, updated from every response.
#[derive(Debug)]
pub struct UsageTracker {
    policy: UsagePolicy,
    latest: Mutex<Option<(ApiUsage, Instant)>>,
}

impl UsageTracker {
    pub fn new(policy: UsagePolicy) -> Self {
        UsageTracker {
            policy,
            latest: Mutex::new(None),
        }
    }

    pub fn policy(&self) -> UsagePolicy {
        self.policy
    }

    /// Records the header of a response; a header that does not parse is ignored.
    pub fn record_header(&self, header: &str) {
        if let Some(usage) = parse_limit_info(header) {
            self.record(usage);
        }
    }

    pub fn record(&self, usage: ApiUsage) {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some((usage, Instant::now()));
    }

    pub fn latest(&self) -> Option<ApiUsage> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|(usage, _)| usage)
    }

    pub fn level(&self) -> UsageLevel {
        match self.latest() {
            None => UsageLevel::Unknown,
            Some(u) if u.share() >= self.policy.ceiling_share => UsageLevel::Ceiling(u),
            Some(u) if u.share() >= self.policy.warn_share => UsageLevel::Warning(u),
            Some(u) => UsageLevel::Normal(u),
        }
    }

    /// Refuses a normal call when the last known usage is above the ceiling, except for
    /// one probe a minute, whose response tells whether usage has fallen.
    pub fn admit(&self, priority: CallPriority) -> Result<(), SfError> {
        if priority == CallPriority::Essential {
            return Ok(());
        }
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        match latest.as_mut() {
            Some((usage, seen)) if usage.share() >= self.policy.ceiling_share => {
                if seen.elapsed() >= self.policy.ceiling_probe_interval {
                    // Let this call through as the probe; others wait for its answer.
                    *seen = Instant::now();
                    return Ok(());
                }
                Err(SfError::UsageCeiling {
                    used: usage.used,
                    max: usage.max,
                    ceiling_percent: percent(self.policy.ceiling_share).min(255) as u8,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Usage trackers per tenant, shared by every client of one server so a tenant's usage
/// survives across the short-lived clients made per request.
#[derive(Debug, Default)]
pub struct UsageRegistry {
    policy: UsagePolicy,
    trackers: Mutex<HashMap<String, Arc<UsageTracker>>>,
}

impl UsageRegistry {
    pub fn new(policy: UsagePolicy) -> Self {
        UsageRegistry {
            policy,
            trackers: Mutex::new(HashMap::new()),
        }
    }

    pub fn tracker(&self, tenant: &str) -> Arc<UsageTracker> {
        let mut trackers = self.trackers.lock().unwrap_or_else(PoisonError::into_inner);
        trackers
            .entry(tenant.to_string())
            .or_insert_with(|| Arc::new(UsageTracker::new(self.policy)))
            .clone()
    }

    pub fn forget(&self, tenant: &str) {
        self.trackers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    /// Every tenant's last known usage, for metrics.
    pub fn snapshot(&self) -> Vec<(String, Option<ApiUsage>)> {
        let trackers = self.trackers.lock().unwrap_or_else(PoisonError::into_inner);
        let mut all: Vec<_> = trackers
            .iter()
            .map(|(tenant, tracker)| (tenant.clone(), tracker.latest()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(
            parse_limit_info("api-usage=18/5000"),
            Some(ApiUsage {
                used: 18,
                max: 5000
            })
        );
        assert_eq!(
            parse_limit_info("api-usage=10018/100000; api-bursts=1/750"),
            Some(ApiUsage {
                used: 10018,
                max: 100000
            })
        );
        assert_eq!(
            parse_limit_info(
                "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)"
            ),
            Some(ApiUsage {
                used: 25,
                max: 5000
            })
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=17/250(appName=x)"),
            None
        );
        assert_eq!(parse_limit_info("api-usage=abc/5000"), None);
        assert_eq!(parse_limit_info(""), None);
    }

    #[test]
    fn thresholds() {
        let tracker = UsageTracker::new(UsagePolicy::default());
        assert_eq!(tracker.level(), UsageLevel::Unknown);
        tracker.record_header("api-usage=8999/10000");
        assert!(matches!(tracker.level(), UsageLevel::Normal(_)));
        assert!(tracker.level().warning().is_none());
        tracker.record_header("api-usage=9000/10000");
        assert!(matches!(tracker.level(), UsageLevel::Warning(_)));
        assert!(
            tracker
                .level()
                .warning()
                .is_some_and(|w| w.contains("90%") && w.contains("9000 of 10000"))
        );
        assert!(tracker.admit(CallPriority::Normal).is_ok());
        tracker.record_header("api-usage=9800/10000");
        assert!(matches!(
            tracker.admit(CallPriority::Normal),
            Err(SfError::UsageCeiling {
                used: 9800,
                max: 10000,
                ceiling_percent: 98
            })
        ));
        assert!(tracker.admit(CallPriority::Essential).is_ok());
    }

    #[test]
    fn above_the_ceiling_one_probe_goes_per_interval() {
        let tracker = UsageTracker::new(UsagePolicy {
            ceiling_probe_interval: Duration::ZERO,
            ..UsagePolicy::default()
        });
        tracker.record_header("api-usage=9900/10000");
        // With a zero interval every call is a probe: the reading is always old enough.
        assert!(tracker.admit(CallPriority::Normal).is_ok());
        let hourly = UsageTracker::new(UsagePolicy {
            ceiling_probe_interval: Duration::from_secs(3600),
            ..UsagePolicy::default()
        });
        hourly.record_header("api-usage=9900/10000");
        assert!(hourly.admit(CallPriority::Normal).is_err());
        // The probe's answer shows usage fell: normal calls flow again.
        hourly.record_header("api-usage=100/10000");
        assert!(hourly.admit(CallPriority::Normal).is_ok());
    }
}
