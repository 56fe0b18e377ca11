//! The Tooling API's query: metadata (validation rules, flows, Apex, objects) as rows.
//!
//! Read only, like the rest of the client: a GET of `/tooling/query`. Its answers carry
//! Salesforce's `nextRecordsUrl` (`/services/data/vXX.X/tooling/query/01g...-2000`), which
//! [`SalesforceClient::query_more`] follows as it follows any locator of this org.

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::records::PageRecord;
use super::super::transport::{ApiRequest, Target};
use super::query::{QueryPage, add_batch_size};

impl SalesforceClient {
    /// `GET /tooling/query`: the first page.
    pub async fn tooling_query<R: PageRecord>(&self, soql: &str) -> Result<QueryPage<R>, SfError> {
        self.tooling_query_paged(soql, None).await
    }

    /// `GET /tooling/query` asking for pages of `batch_size` rows (200..=2000, a hint).
    pub async fn tooling_query_paged<R: PageRecord>(
        &self,
        soql: &str,
        batch_size: Option<u16>,
    ) -> Result<QueryPage<R>, SfError> {
        let mut request = ApiRequest::get(
            Target::Versioned("/tooling/query".into()),
            "the tooling query",
        )
        .query("q", soql);
        add_batch_size(&mut request, batch_size);
        self.execute(request).await?.json("the tooling query")
    }
}
