//! The little state sealed tokens cannot carry: which authorization codes were redeemed,
//! which refresh-token generation each family reached, and which families are revoked.
//!
//! On one machine it lives in the process ([`MemoryGrantStore`], the default). Replicas
//! behind a load balancer share it through Redis (`SFMCP_OAUTH_STORE=redis://…`,
//! [`RedisGrantStore`]): otherwise a code or refresh token replayed to another replica, or a
//! revocation made on one, is not seen by the others. Only ids and counters are stored there,
//! never a token: the codes' and families' random ids, a generation number, a revoked flag,
//! each expiring with the tokens it guards.
//!
//! A shared store that does not answer fails closed: the token endpoint answers 503 and
//! requests with an sfmcp token are refused, since neither a replay nor a revocation could be
//! told apart from a fresh use.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

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

/// Where the grant state lives.
#[derive(Debug)]
pub enum GrantStore {
    Memory(MemoryGrantStore),
    Redis(RedisGrantStore),
}

/// The shared store did not answer; nothing was decided.
#[derive(Debug, thiserror::Error)]
#[error(
    "the shared OAuth grant store ({location}, SFMCP_OAUTH_STORE) did not answer: {reason}; check that it is up and reachable"
)]
pub struct StoreUnavailable {
    location: String,
    reason: String,
}

impl Default for GrantStore {
    fn default() -> Self {
        GrantStore::Memory(MemoryGrantStore::default())
    }
}

impl GrantStore {
    /// The store `SFMCP_OAUTH_STORE` names (`redis://`, `rediss://`, `redis+unix://`), reached
    /// and answering; or the process's own memory when none is named.
    pub async fn open(url: Option<&str>) -> Result<Self, String> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(GrantStore::default()),
            Some(url) => Ok(GrantStore::Redis(RedisGrantStore::connect(url).await?)),
        }
    }

    /// Marks a code redeemed; `false` when it was already.
    pub async fn redeem_code(
        &self,
        id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreUnavailable> {
        match self {
            GrantStore::Memory(store) => Ok(store.redeem_code(id, expires_at, now)),
            GrantStore::Redis(store) => store.redeem_code(id, expires_at).await,
        }
    }

    /// Records a refresh token's use (see [`Rotation`]).
    pub async fn rotate(
        &self,
        family: &str,
        generation: u64,
        expires_at: i64,
        now: i64,
    ) -> Result<Rotation, StoreUnavailable> {
        match self {
            GrantStore::Memory(store) => Ok(store.rotate(family, generation, expires_at, now)),
            GrantStore::Redis(store) => store.rotate(family, generation, expires_at).await,
        }
    }

    /// Revokes every token of a family, kept until `expires_at`.
    pub async fn revoke_family(
        &self,
        family: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreUnavailable> {
        match self {
            GrantStore::Memory(store) => {
                store.revoke_family(family, expires_at, now);
                Ok(())
            }
            GrantStore::Redis(store) => store.revoke_family(family, expires_at).await,
        }
    }

    pub async fn is_revoked(&self, family: &str) -> Result<bool, StoreUnavailable> {
        match self {
            GrantStore::Memory(store) => Ok(store.is_revoked(family)),
            GrantStore::Redis(store) => store.is_revoked(family).await,
        }
    }
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

impl MemoryGrantStore {
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

/// How long one connection attempt, and one answer, may take: a store that is down must not
/// hold a sign-in or an MCP request for long.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// Every key sfmcp writes starts with this, so a Redis shared with other programs stays tidy.
const KEY_PREFIX: &str = "sfmcp:oauth:";

/// A family's state: `generation` reached and `revoked` (`1`), expiring no earlier than the
/// latest token it guards. Rotation and revocation each run as one script, so two replicas
/// presenting the same refresh token at once cannot both see it as fresh.
const ROTATE: &str = r"
local state = redis.call('HMGET', KEYS[1], 'generation', 'revoked')
local function keep_until(at)
  local current = redis.call('EXPIRETIME', KEYS[1])
  if current < at then redis.call('EXPIREAT', KEYS[1], at) end
end
if state[2] == '1' then return 2 end
local reached = tonumber(state[1]) or 0
if tonumber(ARGV[1]) <= reached then
  redis.call('HSET', KEYS[1], 'revoked', '1')
  keep_until(tonumber(ARGV[2]))
  return 3
end
redis.call('HSET', KEYS[1], 'generation', ARGV[1])
keep_until(tonumber(ARGV[2]))
return 1
";

const REVOKE: &str = r"
redis.call('HSET', KEYS[1], 'revoked', '1')
local current = redis.call('EXPIRETIME', KEYS[1])
if current < tonumber(ARGV[1]) then redis.call('EXPIREAT', KEYS[1], ARGV[1]) end
return 1
";

/// The grant state in Redis (7.0 or later: `EXPIRETIME`), shared by every replica that names
/// the same store.
pub struct RedisGrantStore {
    connection: redis::aio::ConnectionManager,
    /// Where the store is, without credentials: for errors and logs.
    location: String,
    rotate: redis::Script,
    revoke: redis::Script,
}

impl std::fmt::Debug for RedisGrantStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisGrantStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl RedisGrantStore {
    /// Connects to `url` and checks that the store answers and can run what sfmcp needs.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let location = redacted(url)?;
        let shown = location.clone();
        let fail = move |why: String| {
            format!(
                "SFMCP_OAUTH_STORE {shown}: {why}; check the URL and that Redis (7.0 or later) is up"
            )
        };
        let client = redis::Client::open(url).map_err(|e| fail(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            REDIS_TIMEOUT * 2,
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| {
            fail(format!(
                "no answer within {} s",
                (REDIS_TIMEOUT * 2).as_secs()
            ))
        })?
        .map_err(|e| fail(e.to_string()))?;
        let store = RedisGrantStore {
            connection,
            location,
            rotate: redis::Script::new(ROTATE),
            revoke: redis::Script::new(REVOKE),
        };
        // EXPIRETIME came with Redis 7.0: a store that lacks it fails here, not at a refresh.
        let mut connection = store.connection.clone();
        let _: i64 = redis::cmd("EXPIRETIME")
            .arg(format!("{KEY_PREFIX}probe"))
            .query_async(&mut connection)
            .await
            .map_err(|e| fail(e.to_string()))?;
        Ok(store)
    }

    fn unavailable(&self, error: &redis::RedisError) -> StoreUnavailable {
        StoreUnavailable {
            location: self.location.clone(),
            reason: error.to_string(),
        }
    }

    async fn redeem_code(&self, id: &str, expires_at: i64) -> Result<bool, StoreUnavailable> {
        let mut connection = self.connection.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("{KEY_PREFIX}code:{id}"))
            .arg(1)
            .arg("NX")
            .arg("EXAT")
            .arg(expires_at.max(1))
            .query_async(&mut connection)
            .await
            .map_err(|e| self.unavailable(&e))?;
        Ok(set.is_some())
    }

    async fn rotate(
        &self,
        family: &str,
        generation: u64,
        expires_at: i64,
    ) -> Result<Rotation, StoreUnavailable> {
        let mut connection = self.connection.clone();
        let outcome: i64 = self
            .rotate
            .key(format!("{KEY_PREFIX}family:{family}"))
            .arg(generation)
            .arg(expires_at.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.unavailable(&e))?;
        Ok(match outcome {
            1 => Rotation::Fresh,
            3 => Rotation::Reused,
            _ => Rotation::Revoked,
        })
    }

    async fn revoke_family(&self, family: &str, expires_at: i64) -> Result<(), StoreUnavailable> {
        let mut connection = self.connection.clone();
        let _: i64 = self
            .revoke
            .key(format!("{KEY_PREFIX}family:{family}"))
            .arg(expires_at.max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(|e| self.unavailable(&e))?;
        Ok(())
    }

    async fn is_revoked(&self, family: &str) -> Result<bool, StoreUnavailable> {
        let mut connection = self.connection.clone();
        let revoked: Option<String> = redis::cmd("HGET")
            .arg(format!("{KEY_PREFIX}family:{family}"))
            .arg("revoked")
            .query_async(&mut connection)
            .await
            .map_err(|e| self.unavailable(&e))?;
        Ok(revoked.as_deref() == Some("1"))
    }
}

/// `url` without its user name and password, or why it is not a store URL.
fn redacted(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|_| {
        "SFMCP_OAUTH_STORE must be a Redis URL: redis://host:6379, rediss://host:6380 (TLS) or redis+unix:///path/to/socket".to_string()
    })?;
    if !matches!(parsed.scheme(), "redis" | "rediss" | "redis+unix" | "unix") {
        return Err(format!(
            "SFMCP_OAUTH_STORE must be a Redis URL (redis://, rediss:// or redis+unix://), not {}://…",
            parsed
                .scheme()
                .chars()
                .filter(|c| !c.is_control())
                .take(20)
                .collect::<String>()
        ));
    }
    let mut shown = parsed.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    Ok(shown.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_checked_and_shown_without_credentials() {
        assert_eq!(
            redacted("redis://user:s3cret@cache.internal:6379/0").unwrap(),
            "redis://cache.internal:6379/0"
        );
        assert!(
            !redacted("rediss://:s3cret@cache:6380")
                .unwrap()
                .contains("s3cret")
        );
        let error = redacted("postgres://db/x").unwrap_err();
        assert!(error.contains("not postgres://"), "{error}");
        assert!(redacted("cache:6379").is_err());
    }

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
