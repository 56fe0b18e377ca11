//! Searches: SOSL and `parameterizedSearch`.

use serde::{Deserialize, Serialize};

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, ApiResponse, Target};
use super::check_name;
use crate::records::{PageRecord, Record};

/// SOSL results (`searchRecords`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    #[serde(deserialize_with = "Record::deserialize_page")]
    pub search_records: Vec<Record>,
}

/// A `parameterizedSearch` request.
#[derive(Debug, Clone, Default)]
pub struct ParameterizedSearch {
    /// The search text; Salesforce escapes it, no SOSL syntax needed.
    pub text: String,
    pub objects: Vec<SearchObject>,
    pub overall_limit: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct SearchObject {
    pub name: String,
    pub fields: Vec<String>,
    pub limit: Option<u32>,
}

impl SalesforceClient {
    /// `GET /search?q=FIND {...}`: a SOSL search. The caller escapes the search text.
    pub async fn search(&self, sosl: &str) -> Result<SearchResult, SfError> {
        let request =
            ApiRequest::get(Target::Versioned("/search".into()), "the search").query("q", sosl);
        parse_search(&self.execute(request).await?)
    }

    /// `GET /parameterizedSearch`: a search without SOSL syntax.
    pub async fn parameterized_search(
        &self,
        search: &ParameterizedSearch,
    ) -> Result<SearchResult, SfError> {
        let mut request = ApiRequest::get(
            Target::Versioned("/parameterizedSearch".into()),
            "the search",
        )
        .query("q", search.text.as_str());
        for object in &search.objects {
            check_name(&object.name, "object")?;
            request = request.query("sobject", object.name.as_str());
            if !object.fields.is_empty() {
                for field in &object.fields {
                    check_name(field, "field")?;
                }
                request =
                    request.query(&format!("{}.fields", object.name), object.fields.join(","));
            }
            if let Some(limit) = object.limit {
                request = request.query(&format!("{}.limit", object.name), limit.to_string());
            }
        }
        if let Some(limit) = search.overall_limit {
            request = request.query("overallLimit", limit.to_string());
        }
        parse_search(&self.execute(request).await?)
    }
}

fn parse_search(response: &ApiResponse) -> Result<SearchResult, SfError> {
    // Before v36 the body was a bare array.
    if let Ok(records) =
        Record::deserialize_page(&mut serde_json::Deserializer::from_slice(&response.body))
    {
        return Ok(SearchResult {
            search_records: records,
        });
    }
    response.json("the search")
}
