//! Describes: describe global, one object's describe (conditional), the cached describes, and
//! the object an id belongs to.

use std::sync::{Arc, PoisonError};

use serde::{Deserialize, Serialize};
use url::Url;

use super::super::client::{PlaneKind, SalesforceClient};
use super::super::errors::SfError;
use super::super::ids::SalesforceId;
use super::super::transport::{ApiRequest, Target};
use super::check_name;
use sfmcp_soql::schema::ObjectSchema;

/// Describe Global: the objects the user can see.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GlobalDescribe {
    pub sobjects: Vec<SObjectSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub label_plural: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub retrieveable: bool,
}

/// The answer to a (conditional) describe.
#[derive(Debug, Clone)]
pub enum DescribeFetch {
    Modified {
        schema: Box<ObjectSchema>,
        /// `Last-Modified` from the response, for the next `If-Modified-Since`.
        last_modified: Option<String>,
    },
    /// 304: the copy the caller holds is current.
    NotModified,
}

impl SalesforceClient {
    /// `GET /sobjects`: every object the user can see.
    pub async fn describe_global(&self) -> Result<GlobalDescribe, SfError> {
        let response = self
            .execute(ApiRequest::get(
                Target::Versioned("/sobjects".into()),
                "describe global",
            ))
            .await?;
        response.json("describe global")
    }

    /// `GET /sobjects/{object}/describe`, conditional when `if_modified_since` is given.
    pub async fn describe_object(
        &self,
        object: &str,
        if_modified_since: Option<&str>,
    ) -> Result<DescribeFetch, SfError> {
        check_name(object, "object")?;
        let what = format!("describe {object}");
        let mut request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/{object}/describe")),
            &what,
        );
        if let Some(since) = if_modified_since {
            request
                .headers
                .push(("If-Modified-Since", since.to_string()));
        }
        let response = self.execute(request).await?;
        if response.status == 304 {
            return Ok(DescribeFetch::NotModified);
        }
        let schema: ObjectSchema = response.json(&what)?;
        if self.plane() == PlaneKind::Paragon
            && self.learned_instance().is_none()
            && let Some(instance) = instance_from_describe(&response.body)
        {
            *self
                .inner
                .learned_instance
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(instance);
        }
        Ok(DescribeFetch::Modified {
            schema: Box::new(schema.index()),
            last_modified: response.last_modified,
        })
    }

    /// A describe through the cache: fresh entries cost nothing, stale ones are
    /// revalidated with If-Modified-Since.
    pub async fn describe(&self, object: &str) -> Result<Arc<ObjectSchema>, SfError> {
        self.inner
            .context
            .describe_cache
            .describe(self, &self.inner.tenant, object)
            .await
    }

    /// Describe global through the cache.
    pub async fn objects(&self) -> Result<Arc<GlobalDescribe>, SfError> {
        self.inner
            .context
            .describe_cache
            .global(self, &self.inner.tenant)
            .await
    }

    /// The object an id belongs to: well-known standard prefixes first, then the org's
    /// describe global (cached), which also knows custom objects.
    pub async fn object_for_id(&self, id: &SalesforceId) -> Result<Option<String>, SfError> {
        if let Some(object) = id.standard_object() {
            return Ok(Some(object.to_string()));
        }
        let global = self.objects().await?;
        Ok(global
            .sobjects
            .iter()
            .find(|o| o.key_prefix.as_deref() == Some(id.key_prefix()))
            .map(|o| o.name.clone()))
    }
}

/// The org's origin from a describe's absolute `urls.uiDetailTemplate`
/// (`https://acme.my.salesforce.com/{ID}`).
fn instance_from_describe(body: &[u8]) -> Option<Url> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Urls {
        ui_detail_template: Option<String>,
    }
    #[derive(Deserialize)]
    struct Describe {
        urls: Option<Urls>,
    }
    let describe: Describe = serde_json::from_slice(body).ok()?;
    let template = describe.urls?.ui_detail_template?;
    let url = Url::parse(&template).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    Url::parse(&url.origin().ascii_serialization()).ok()
}
