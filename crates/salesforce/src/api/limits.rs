//! `GET /limits`: the org's limits and what remains of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, Target};
use super::super::usage::CallPriority;

/// One entry of `GET /limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitInfo {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

impl SalesforceClient {
    /// `GET /limits`. Sent even above the usage ceiling: it is how people see the usage.
    pub async fn limits(&self) -> Result<BTreeMap<String, LimitInfo>, SfError> {
        let mut request = ApiRequest::get(Target::Versioned("/limits".into()), "the org limits");
        request.priority = CallPriority::Essential;
        let raw: Map<String, Value> = self.execute(request).await?.json("the org limits")?;
        Ok(raw
            .into_iter()
            .filter_map(|(name, value)| {
                serde_json::from_value::<LimitInfo>(value)
                    .ok()
                    .map(|l| (name, l))
            })
            .collect())
    }
}
