//! Files' content: the sObject Blob Get resource, `GET /sobjects/ContentVersion/{id}/VersionData`
//! (REST API Developer Guide, "sObject Blob Get": the blob "as binary data", not JSON). Which
//! files to read, and whether their bytes are text, is the caller's to decide from the
//! version's metadata; this only reads bytes, and never more than asked.

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::ids::SalesforceId;
use super::super::transport::{ApiRequest, Target};

/// The first bytes of a file version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHead {
    pub bytes: Vec<u8>,
    /// More bytes followed the ones read.
    pub cut: bool,
}

impl SalesforceClient {
    /// The first `max_bytes` bytes of a ContentVersion's content: the rest of the body is not
    /// read (the connection is dropped), so a large file costs at most `max_bytes` and one
    /// network chunk of memory.
    pub async fn file_head(
        &self,
        version: &SalesforceId,
        max_bytes: usize,
    ) -> Result<FileHead, SfError> {
        let what = format!("the content of file version {version}");
        let mut request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/ContentVersion/{version}/VersionData")),
            what,
        );
        request.body_limit = Some(max_bytes);
        let response = self.execute(request).await?;
        Ok(FileHead {
            bytes: response.body,
            cut: response.cut,
        })
    }
}
