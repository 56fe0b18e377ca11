//! Remembering that a connection's org could not be reached: after a connection attempt
//! times out (a host that drops packets answers nothing, so each attempt costs the whole
//! connect timeout), later calls fail at once, naming the cause and the setting, instead of
//! each waiting the timeout out again.
//!
//! A circuit breaker: a connect timeout opens it; while open, a call fails fast and, when no
//! check is running, starts one in the background (half-open); an answer of any kind closes
//! it. So a blip costs the calls made while the org was away and at most one more after it
//! is back, never a connection stuck refusing calls.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::errors::{NetworkFailure, SfError};

#[derive(Debug, Default)]
pub(crate) struct Outage {
    open: Mutex<Option<Open>>,
}

#[derive(Debug)]
struct Open {
    /// Scheme, host and port of what could not be reached.
    target: String,
    setting: &'static str,
    since: Instant,
    checking: bool,
}

/// While the org is known unreachable: the error to fail with, and whether this caller must
/// start the background check (none runs).
pub(crate) struct FailFast {
    pub(crate) error: SfError,
    pub(crate) start_check: bool,
}

impl Outage {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Open>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection attempt to `target` timed out.
    pub(crate) fn opened(&self, target: String, setting: &'static str) {
        let mut open = self.lock();
        let checking = open.as_ref().is_some_and(|o| o.checking);
        *open = Some(Open {
            target,
            setting,
            since: Instant::now(),
            checking,
        });
    }

    /// The org answered: calls go through again.
    pub(crate) fn closed(&self) {
        *self.lock() = None;
    }

    /// `Some` while the org is known unreachable.
    pub(crate) fn fail_fast(&self) -> Option<FailFast> {
        let mut guard = self.lock();
        let open = guard.as_mut()?;
        let start_check = !open.checking;
        open.checking = true;
        Some(FailFast {
            error: SfError::Unreachable {
                target: open.target.clone(),
                setting: open.setting,
                failure: NetworkFailure::KnownUnreachable {
                    seconds_ago: open.since.elapsed().as_secs(),
                },
            },
            start_check,
        })
    }

    /// The background check ended without reaching the org: the next call starts another.
    pub(crate) fn check_failed(&self) {
        if let Some(open) = self.lock().as_mut() {
            open.checking = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_fails_fast_with_one_check_at_a_time_and_closes() {
        let outage = Outage::default();
        assert!(outage.fail_fast().is_none());
        outage.opened("https://acme.example".into(), "SF_INSTANCE_URL");
        let first = outage.fail_fast().expect("open");
        assert!(first.start_check);
        assert!(first.error.next_step().contains("SF_INSTANCE_URL"));
        assert!(!outage.fail_fast().expect("still open").start_check);
        outage.check_failed();
        assert!(outage.fail_fast().expect("still open").start_check);
        outage.closed();
        assert!(outage.fail_fast().is_none());
    }
}
