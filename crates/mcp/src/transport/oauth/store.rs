//! The little state sealed tokens cannot carry: which authorization codes were redeemed,
//! which refresh-token generation each family reached, and which families are revoked.
//!
//! [`MemoryGrantStore`] keeps it in this process: right for one machine. Replicas behind a
//! load balancer each keep their own, so a code or refresh token replayed to another
//! replica, or a revocation made on one, is not seen by the others; such deployments need
//! a shared implementation of [`GrantStore`] (not built yet) or sticky sessions for
//! `/token` and `/revoke`, as docs/security.md says.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// What a refresh token's use means for its family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The newest generation: rotate.
    Fresh,
    /// The family was revoked before.
    Revoked,
    /// An older generation came back: someone holds a copy. The family is now revoked.
    Reused,
}

pub trait GrantStore: Send + Sync + std::fmt::Debug {
    /// Marks a code redeemed; `false` when it was already.
    fn redeem_code(&self, id: &str, expires_at: i64, now: i64) -> bool;
    /// Records a refresh token's use (see [`Rotation`]).
    fn rotate(&self, family: &str, generation: u64, expires_at: i64, now: i64) -> Rotation;
    /// Revokes every token of a family, kept until `expires_at`.
    fn revoke_family(&self, family: &str, expires_at: i64, now: i64);
    fn is_revoked(&self, family: &str) -> bool;
}

#[derive(Debug, Default)]
pub struct MemoryGrantStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    codes: HashMap<String, i64>,
    families: HashMap<String, Family>,
}

#[derive(Debug)]
struct Family {
    generation: u64,
    revoked: bool,
    expires_at: i64,
}

impl Inner {
    /// Drops what has expired: an expired code or token fails on its own expiry anyway.
    fn prune(&mut self, now: i64) {
        self.codes.retain(|_, expires| *expires > now);
        self.families.retain(|_, f| f.expires_at > now);
    }
}

impl MemoryGrantStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl GrantStore for MemoryGrantStore {
    fn redeem_code(&self, id: &str, expires_at: i64, now: i64) -> bool {
        let mut inner = self.lock();
        inner.prune(now);
        inner.codes.insert(id.to_string(), expires_at).is_none()
    }

    fn rotate(&self, family: &str, generation: u64, expires_at: i64, now: i64) -> Rotation {
        let mut inner = self.lock();
        inner.prune(now);
        let entry = inner.families.entry(family.to_string()).or_insert(Family {
            generation: 0,
            revoked: false,
            expires_at,
        });
        if entry.revoked {
            return Rotation::Revoked;
        }
        if generation <= entry.generation {
            entry.revoked = true;
            return Rotation::Reused;
        }
        entry.generation = generation;
        entry.expires_at = entry.expires_at.max(expires_at);
        Rotation::Fresh
    }

    fn revoke_family(&self, family: &str, expires_at: i64, now: i64) {
        let mut inner = self.lock();
        inner.prune(now);
        let entry = inner.families.entry(family.to_string()).or_insert(Family {
            generation: 0,
            revoked: true,
            expires_at,
        });
        entry.revoked = true;
        entry.expires_at = entry.expires_at.max(expires_at);
    }

    fn is_revoked(&self, family: &str) -> bool {
        self.lock().families.get(family).is_some_and(|f| f.revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_redeem_once_and_reused_refresh_tokens_revoke_the_family() {
        let store = MemoryGrantStore::default();
        assert!(store.redeem_code("c1", 100, 0));
        assert!(!store.redeem_code("c1", 100, 0));
        assert_eq!(store.rotate("f", 1, 1000, 0), Rotation::Fresh);
        assert_eq!(store.rotate("f", 2, 1000, 0), Rotation::Fresh);
        assert!(!store.is_revoked("f"));
        assert_eq!(store.rotate("f", 1, 1000, 0), Rotation::Reused);
        assert!(store.is_revoked("f"));
        assert_eq!(store.rotate("f", 3, 1000, 0), Rotation::Revoked);
        store.revoke_family("g", 1000, 0);
        assert!(store.is_revoked("g"));
        assert_eq!(store.rotate("g", 1, 1000, 0), Rotation::Revoked);
    }
}
