//! Records under `/sobjects`: read one, create, update (never retried), and Event Monitoring
//! log files.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::super::client::SalesforceClient;
use super::super::errors::{ApiErrorItem, RecordWrite, SfError};
use super::super::ids::SalesforceId;
use super::super::transport::{ApiRequest, HttpMethod, Target, snippet};
use super::super::usage::CallPriority;
use super::check_name;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateResult {
    pub id: String,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

impl SalesforceClient {
    /// Salesforce stores (the audit reads bulk and report exports from it).
    pub async fn event_log_file(&self, id: &SalesforceId) -> Result<Vec<u8>, SfError> {
        let request = ApiRequest::get(
            Target::Versioned(format!("/sobjects/EventLogFile/{}/LogFile", id.as_str())),
            "the event log file",
        );
        Ok(self.execute(request).await?.body)
    }

    /// `GET /sobjects/{object}/{id}`, optionally only `fields`.
    pub async fn get_record(
        &self,
        object: &str,
        id: &SalesforceId,
        fields: Option<&[String]>,
    ) -> Result<Map<String, Value>, SfError> {
        check_name(object, "object")?;
        let what = format!("{object} {id}");
        let mut request =
            ApiRequest::get(Target::Versioned(format!("/sobjects/{object}/{id}")), &what);
        if let Some(fields) = fields {
            for field in fields {
                check_name(field, "field")?;
            }
            request = request.query("fields", fields.join(","));
        }
        self.execute(request).await?.json(&what)
    }

    /// `POST /sobjects/{object}`: creates a record; never retried.
    pub async fn create(
        &self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<CreateResult, SfError> {
        check_name(object, "object")?;
        let what = format!("creating a {object}");
        let request = ApiRequest {
            method: HttpMethod::Post,
            target: Target::Versioned(format!("/sobjects/{object}")),
            query: Vec::new(),
            headers: Vec::new(),
            body_limit: None,
            body: Some(Value::Object(fields.clone())),
            priority: CallPriority::Normal,
            write: Some((RecordWrite::Create, object.to_string(), None)),
            what: what.clone(),
        };
        let response = self.execute(request).await?;
        let result: CreateResult = response.json(&what)?;
        if !result.success {
            let mut errors = result.errors.into_iter();
            let first = errors.next();
            return Err(SfError::Api {
                status: response.status,
                code: first
                    .as_ref()
                    .map_or("UNKNOWN_ERROR".into(), |e| e.error_code.clone()),
                message: first
                    .as_ref()
                    .map_or_else(String::new, |e| e.message.clone()),
                fields: first.map(|e| e.fields).unwrap_or_default(),
                others: errors.collect(),
            });
        }
        Ok(result)
    }

    /// `PATCH /sobjects/{object}/{id}`: changes only the fields given; never retried.
    pub async fn update(
        &self,
        object: &str,
        id: &SalesforceId,
        fields: &Map<String, Value>,
    ) -> Result<(), SfError> {
        check_name(object, "object")?;
        let request = ApiRequest {
            method: HttpMethod::Patch,
            target: Target::Versioned(format!("/sobjects/{object}/{id}")),
            query: Vec::new(),
            headers: Vec::new(),
            body_limit: None,
            body: Some(Value::Object(fields.clone())),
            priority: CallPriority::Normal,
            write: Some((
                RecordWrite::Update,
                object.to_string(),
                Some(id.to_string()),
            )),
            what: format!("updating {object} {id}"),
        };
        let response = self.execute(request).await?;
        // Salesforce answers 204 without a body. A success status carrying something that is
        // not JSON came from something else (a proxy's or portal's page): the change cannot
        // be taken as made.
        if response.status != 204
            && !response.body.is_empty()
            && serde_json::from_slice::<Value>(&response.body).is_err()
        {
            return Err(response.unexpected(
                &format!("updating {object} {id}"),
                format!(
                    "the body is not Salesforce's answer: {}",
                    snippet(&response.body)
                ),
            ));
        }
        Ok(())
    }
}
