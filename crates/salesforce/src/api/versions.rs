//! `GET /services/data/`: the API versions the org offers.

use serde::{Deserialize, Serialize};

use super::super::client::{PlaneKind, SalesforceClient};
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, Target};
use super::super::usage::CallPriority;

/// One row of `GET /services/data/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiVersion {
    pub label: String,
    pub url: String,
    pub version: String,
}

impl ApiVersion {
    pub(crate) fn number(&self) -> (u32, u32) {
        let (major, minor) = self.version.split_once('.').unwrap_or((&self.version, "0"));
        (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
    }
}

impl SalesforceClient {
    /// `GET /services/data/`: the versions the org offers, oldest first.
    pub async fn api_versions(&self) -> Result<Vec<ApiVersion>, SfError> {
        if self.plane() == PlaneKind::Paragon {
            return Err(SfError::InvalidRequest {
                message: "the API version list is not reachable through the Paragon proxy, which pins its own version".into(),
                next_step: "Nothing to do: calls on the Paragon plane use the proxy's version.".into(),
            });
        }
        let mut request = ApiRequest::get(Target::Versions, "the API version list");
        request.priority = CallPriority::Essential;
        // Straight to `send`: the version list is what settles the version.
        let response = self.send(request, None).await?;
        let mut versions: Vec<ApiVersion> = response.json("the API version list")?;
        versions.sort_by_key(ApiVersion::number);
        Ok(versions)
    }
}
