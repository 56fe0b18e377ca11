//! SOQL queries: the first page and the next pages (the Tooling API's query is in `tooling.rs`;
//! its next pages come through [`SalesforceClient::query_more`] too).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::records::PageRecord;
use super::super::transport::{ApiRequest, Target, check_server_path};

/// A page of query results as Salesforce's REST API answers it (`totalSize`, `done`,
/// `nextRecordsUrl`). Records decode as JSON (`Value`, the default) or as lean
/// [`crate::Record`]s for tools that render many. Not the evaluator's
/// `sfmcp_soql::eval::QueryResult`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(serialize = "R: Serialize", deserialize = "R: PageRecord")
)]
pub struct QueryPage<R = Value> {
    pub total_size: u64,
    pub done: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    #[serde(default, deserialize_with = "R::deserialize_page")]
    pub records: Vec<R>,
}

/// Query options.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryOptions {
    /// `queryAll`: include deleted and archived rows.
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize=N` (200..=2000; a hint Salesforce may ignore).
    pub batch_size: Option<u16>,
}

impl SalesforceClient {
    /// `GET /query` (or `/queryAll`): the first page.
    pub async fn query<R: PageRecord>(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> Result<QueryPage<R>, SfError> {
        let resource = if options.include_deleted {
            "/queryAll"
        } else {
            "/query"
        };
        let mut request =
            ApiRequest::get(Target::Versioned(resource.into()), "the query").query("q", soql);
        add_batch_size(&mut request, options.batch_size);
        self.execute(request).await?.json("the query")
    }

    /// The next page, from a `nextRecordsUrl` this org returned.
    pub async fn query_more<R: PageRecord>(
        &self,
        next_records_url: &str,
        batch_size: Option<u16>,
    ) -> Result<QueryPage<R>, SfError> {
        let path = check_server_path(next_records_url)?;
        let mut request = ApiRequest::get(Target::ServerPath(path), "the next query page");
        add_batch_size(&mut request, batch_size);
        self.execute(request).await?.json("the next query page")
    }
}

pub(super) fn add_batch_size(request: &mut ApiRequest, batch_size: Option<u16>) {
    if let Some(size) = batch_size {
        request.headers.push((
            "Sforce-Query-Options",
            format!("batchSize={}", size.clamp(200, 2000)),
        ));
    }
}
