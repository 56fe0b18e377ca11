//! The Salesforce REST client: auth planes (token, refresh, client credentials, JWT bearer,
//! Paragon proxy), errors, ids, record URLs, the describe cache and API-usage tracking.
//!
//! The client can send only GET, POST and PATCH: there is no way to express a DELETE.
