//! Recently viewed items: `GET /recent` (REST API Developer Guide, "Recently Viewed Items"):
//! the records the user viewed or referenced, most recent first, as `{attributes, Id, Name}`.

use serde_json::Value;

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, Target};

impl SalesforceClient {
    /// `GET /recent?limit=N`: at most `limit` items (Salesforce keeps 200).
    pub async fn recent_items(&self, limit: u32) -> Result<Vec<Value>, SfError> {
        let what = "the recently viewed items";
        let request = ApiRequest::get(Target::Versioned("/recent".into()), what)
            .query("limit", limit.to_string());
        self.execute(request).await?.json(what)
    }
}
