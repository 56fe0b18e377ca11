//! How long to wait before asking again: the one backoff helper for the Salesforce client's
//! retries (`transport.rs`) and the audit's IdP collectors. Which answers are worth a retry,
//! and how many, stays with each caller: the client retries reads on 5xx and lost
//! connections, the collectors retry 429 and 502-504.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// Exponential backoff: `first`, then `factor` times the previous step, at most `max_steps`
/// growths, optionally with jitter in [half, full] of the step (so clients that failed
/// together do not retry together).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub first: Duration,
    pub factor: u32,
    pub max_steps: u32,
    pub jitter: bool,
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let steps = retry.saturating_sub(1).min(self.max_steps);
        let step = self.first.saturating_mul(self.factor.saturating_pow(steps));
        if self.jitter {
            step.mul_f64(0.5 + 0.5 * crate::crypto::random_unit())
        } else {
            step
        }
    }
}

/// The wait a server asked for: `Retry-After` (seconds or an HTTP date), else Okta's
/// `X-Rate-Limit-Reset` (epoch seconds, at most an hour away). `None` when it named none.
pub fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.trim().parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value.trim()) {
            let delta = date.with_timezone(&chrono::Utc) - now;
            return Some(delta.to_std().unwrap_or(Duration::ZERO));
        }
    }
    if let Some(reset) = header("x-rate-limit-reset").and_then(|v| v.trim().parse::<i64>().ok()) {
        let delta = reset - now.timestamp();
        return Some(Duration::from_secs(delta.clamp(0, 3600) as u64));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn plain_backoff_grows_and_stops_growing() {
        let backoff = Backoff {
            first: Duration::from_secs(1),
            factor: 2,
            max_steps: 6,
            jitter: false,
        };
        assert_eq!(backoff.delay(1), Duration::from_secs(1));
        assert_eq!(backoff.delay(3), Duration::from_secs(4));
        assert_eq!(backoff.delay(7), Duration::from_secs(64));
        assert_eq!(backoff.delay(20), Duration::from_secs(64));
    }

    #[test]
    fn jitter_stays_within_half_and_full_step() {
        let backoff = Backoff {
            first: Duration::from_millis(100),
            factor: 4,
            max_steps: u32::MAX,
            jitter: true,
        };
        for _ in 0..100 {
            let second = backoff.delay(2);
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(400));
        }
    }

    #[test]
    fn server_wait_reads_retry_after_then_okta_reset() {
        let mut headers = HeaderMap::new();
        assert_eq!(server_wait(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(7)));
        let mut okta = HeaderMap::new();
        let reset = (chrono::Utc::now().timestamp() + 30).to_string();
        okta.insert(
            "x-rate-limit-reset",
            HeaderValue::from_str(&reset).expect("digits are a header value"),
        );
        let wait = server_wait(&okta).map(|d| d.as_secs());
        assert!(wait.is_some_and(|w| (28..=30).contains(&w)));
    }
}
