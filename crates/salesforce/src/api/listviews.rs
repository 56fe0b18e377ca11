//! List views: an object's list views and one view's describe, whose `query` is the SOQL the
//! view runs (REST API Developer Guide, "List Views for an Object" and "List View Describe",
//! API 32.0+). The view's rows are read by running that query, so they page like any query
//! and pass the same checks.

use serde::{Deserialize, Serialize};

use super::super::client::SalesforceClient;
use super::super::errors::SfError;
use super::super::transport::{ApiRequest, Target};
use super::check_name;

/// `GET /sobjects/{object}/listviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListViews {
    #[serde(default)]
    pub listviews: Vec<ListView>,
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub next_records_url: Option<String>,
}

/// One list view's basic information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListView {
    pub id: String,
    pub label: String,
    pub developer_name: String,
    /// False for views whose filter SOQL cannot express; their describe has no runnable query.
    #[serde(default)]
    pub soql_compatible: bool,
}

/// `GET /sobjects/{object}/listviews/{id}/describe`: what the view shows and the query it
/// runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListViewDescribe {
    pub id: String,
    pub query: String,
    #[serde(default)]
    pub sobject_type: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub columns: Vec<ListViewColumn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListViewColumn {
    pub field_name_or_path: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub hidden: bool,
}

impl SalesforceClient {
    /// `GET /sobjects/{object}/listviews`: the first page of the object's list views.
    pub async fn list_views(&self, object: &str) -> Result<ListViews, SfError> {
        check_name(object, "object")?;
        let what = format!("the list views of {object}");
        let request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/{object}/listviews")),
            &what,
        );
        self.execute(request).await?.json(&what)
    }

    /// `GET /sobjects/{object}/listviews/{id}/describe`.
    pub async fn list_view_describe(
        &self,
        object: &str,
        id: &str,
    ) -> Result<ListViewDescribe, SfError> {
        check_name(object, "object")?;
        let id = crate::SalesforceId::parse(id).map_err(|_| SfError::InvalidRequest {
            message: format!(
                "'{}' is not a list view id",
                id.chars().take(40).collect::<String>()
            ),
            next_step: "Use an id list_views returned (00B...).".into(),
        })?;
        let what = format!("the describe of list view {id}");
        let request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/{object}/listviews/{id}/describe")),
            &what,
        );
        self.execute(request).await?.json(&what)
    }
}
