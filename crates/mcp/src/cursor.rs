//! Cursors for `query_more`: self-contained and sealed.
//!
//! A cursor carries what continuing needs (the Salesforce query locator, how far the rows
//! went, the tenant it belongs to and when it expires) inside ChaCha20-Poly1305 authenticated
//! encryption. Any replica holding the same key (`SFMCP_CURSOR_KEY`) can continue it, so
//! stateless replicas need no shared store; nobody can read one, forge one, or continue
//! another tenant's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Salesforce drops an idle query locator after about 15 minutes; a cursor lives as long.
pub const CURSOR_TTL_SECS: i64 = 15 * 60;

/// Binds the ciphertext to its purpose, so no other sealed value of ours passes as a cursor.
const ASSOCIATED_DATA: &[u8] = b"sfmcp cursor v1";
const NONCE_LEN: usize = 12;

/// What a cursor remembers. The keys are one letter because the model pays for every
/// character of a cursor it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CursorState {
    /// The verified tenant identity (or a hash of the whole credential) that made it. Only a
    /// digest of it is sealed into the cursor.
    #[serde(rename = "t", with = "tenant_digest")]
    pub tenant: String,
    /// Where the next rows start: a Salesforce `nextRecordsUrl`-style locator path. Sealed
    /// without its constant `/services/data/` prefix.
    #[serde(rename = "l", with = "locator_path")]
    pub locator: String,
    /// Rows already returned, and the query's `totalSize`.
    #[serde(rename = "s")]
    pub served: u64,
    #[serde(rename = "n")]
    pub total_size: u64,
    /// The row budget the query asked for; continuing keeps it.
    #[serde(rename = "m")]
    pub max_rows: u32,
    /// The queried object, for record URLs; `None` for aggregate results.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Child subqueries of the query, so continued rows render like the first ones.
    #[serde(rename = "c", default, skip_serializing_if = "Vec::is_empty")]
    pub child_relationships: Vec<String>,
    /// Unix seconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
}

mod locator_path {
    use serde::{Deserialize, Deserializer, Serializer};

    const PREFIX: &str = "/services/data/";

    pub fn serialize<S: Serializer>(locator: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(locator.strip_prefix(PREFIX).unwrap_or(locator))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let sealed = String::deserialize(deserializer)?;
        Ok(if sealed.starts_with('/') {
            sealed
        } else {
            format!("{PREFIX}{sealed}")
        })
    }
}

/// Seals a 96-bit digest of the tenant instead of the tenant itself; opening compares the
/// digest of the caller's tenant, so the cursor stays short and names no tenant.
mod tenant_digest {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn digest(tenant: &str) -> String {
        let hash = sfmcp_salesforce::crypto::sha256(tenant.as_bytes());
        URL_SAFE_NO_PAD.encode(&hash[..12])
    }

    pub fn serialize<S: Serializer>(tenant: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&digest(tenant))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        String::deserialize(deserializer)
    }
}

/// The short digest a sealed value carries instead of its tenant.
pub(crate) fn tenant_digest(tenant: &str) -> String {
    tenant_digest::digest(tenant)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("this cursor is not one this server issued, or it was altered; run the query again")]
    Invalid,
    #[error("this cursor belongs to another connection; run the query again on this one")]
    WrongTenant,
    #[error(
        "this cursor expired (cursors last 15 minutes, like Salesforce query locators); run the query again"
    )]
    Expired,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "SFMCP_CURSOR_KEY must be 32 random bytes, base64-encoded (for example the output of `openssl rand -base64 32`)"
)]
pub struct CursorKeyError;

/// The sealing key. Every replica behind one load balancer must share it.
#[derive(Clone)]
pub struct CursorKey(Arc<LessSafeKey>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    /// A fresh random key: cursors then continue only on this process.
    pub fn random() -> Self {
        Self::from_bytes(&sfmcp_salesforce::crypto::random_bytes::<32>())
    }

    /// A key from `SFMCP_CURSOR_KEY`'s base64 text (standard or URL-safe alphabet).
    pub fn from_base64(text: &str) -> Result<Self, CursorKeyError> {
        let text = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| CursorKeyError)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CursorKeyError)?;
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8; 32]) -> Self {
        // ChaCha20-Poly1305 takes any 32 bytes as a key: the length is the only way to fail.
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_or_else(
            |_| unreachable!("a 32-byte key always fits ChaCha20-Poly1305"),
            LessSafeKey::new,
        );
        Self(Arc::new(key))
    }

    pub fn seal(&self, state: &CursorState) -> String {
        self.seal_value(ASSOCIATED_DATA, state)
    }

    /// Opens a cursor for `tenant` at time `now` (Unix seconds).
    pub fn open(&self, cursor: &str, tenant: &str, now: i64) -> Result<CursorState, CursorError> {
        let mut state: CursorState = self
            .open_value(ASSOCIATED_DATA, cursor)
            .ok_or(CursorError::Invalid)?;
        if state.tenant != tenant_digest::digest(tenant) {
            return Err(CursorError::WrongTenant);
        }
        state.tenant = tenant.to_string();
        if now >= state.expires_at {
            return Err(CursorError::Expired);
        }
        Ok(state)
    }

    /// Seals any small value for the client to carry and hand back; `purpose` binds it to
    /// one use, so a value sealed for one purpose never opens as another.
    pub(crate) fn seal_value<T: Serialize>(&self, purpose: &[u8], value: &T) -> String {
        // A random 96-bit nonce per value: the key seals far fewer values than would make a
        // repeat likely.
        let nonce_bytes: [u8; NONCE_LEN] = sfmcp_salesforce::crypto::random_bytes();
        // Serializing a plain struct of strings and numbers cannot fail.
        let mut sealed = serde_json::to_vec(value).unwrap_or_default();
        // Sealing fails only for inputs of gigabytes; an empty cursor then fails to open.
        if self
            .0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose),
                &mut sealed,
            )
            .is_err()
        {
            sealed.clear();
        }
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce_bytes);
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The value [`Self::seal_value`] sealed for `purpose`, or `None` when `text` is not one
    /// (altered, sealed with another key or for another purpose, or not ours at all).
    pub(crate) fn open_value<T: DeserializeOwned>(&self, purpose: &[u8], text: &str) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        if bytes.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce_bytes: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let mut sealed = sealed.to_vec();
        let plaintext = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose),
                &mut sealed,
            )
            .ok()?;
        serde_json::from_slice(plaintext).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> CursorState {
        CursorState {
            tenant: "tenant-a".into(),
            locator: "/services/data/v62.0/query/01gXX-200".into(),
            served: 200,
            total_size: 5000,
            max_rows: 200,
            object: Some("Account".into()),
            child_relationships: vec!["Contacts".into()],
            expires_at: 1_000,
        }
    }

    #[test]
    fn a_sealed_cursor_opens_for_its_tenant_before_expiry() {
        let key = CursorKey::random();
        let cursor = key.seal(&state());
        assert_eq!(key.open(&cursor, "tenant-a", 999), Ok(state()));
        assert!(
            !cursor.contains("01gXX"),
            "the locator must not be readable"
        );
        assert!(cursor.len() < 200, "{} characters", cursor.len());
    }

    #[test]
    fn another_tenant_expiry_tampering_and_foreign_keys_are_refused() {
        let key = CursorKey::random();
        let cursor = key.seal(&state());
        assert_eq!(
            key.open(&cursor, "tenant-b", 10),
            Err(CursorError::WrongTenant)
        );
        assert_eq!(
            key.open(&cursor, "tenant-a", 1_000),
            Err(CursorError::Expired)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(
            key.open(&tampered, "tenant-a", 10),
            Err(CursorError::Invalid)
        );
        assert_eq!(
            CursorKey::random().open(&cursor, "tenant-a", 10),
            Err(CursorError::Invalid)
        );
        assert_eq!(
            key.open("not a cursor", "tenant-a", 10),
            Err(CursorError::Invalid)
        );
    }

    #[test]
    fn replicas_sharing_a_key_continue_each_others_cursors() {
        let text = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        let one = CursorKey::from_base64(text).expect("valid key");
        let two = CursorKey::from_base64(text).expect("valid key");
        let cursor = one.seal(&state());
        assert_eq!(two.open(&cursor, "tenant-a", 10), Ok(state()));
        assert!(CursorKey::from_base64("c2hvcnQ=").is_err());
    }
}
