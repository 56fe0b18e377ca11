//! Writes at scale: upsert by external id (`PATCH /sobjects/{O}/{Field}/{value}`), and
//! sObject Collections (`/composite/sobjects`): create, update and upsert up to 200 records
//! in one call, always all or none, and read up to 2,000 by id. Never retried; nothing here
//! deletes.
//!
//! Salesforce's documented answers (REST API Developer Guide, "Insert or Update (Upsert) a
//! Record Using an External ID" and "sObject Collections"; recordings in
//! `../shared/fixtures/cumulusci/composite-sobjects-*.json` and
//! `restforce/upsert-multiple-matches-300.json`):
//! - upsert: 201 `{id, success, errors, created: true}` when it created, 200 with `created:
//!   false` when it updated (204 without a body before v46.0), 300 with the matching records'
//!   URLs when the value matches several;
//! - collections: 200 with one `{id, success, errors}` per record in input order, errors
//!   keyed `statusCode`; with `allOrNone` a failure rolls every record back, and the others
//!   report `ALL_OR_NONE_OPERATION_ROLLED_BACK`. A create or update may mix objects, each
//!   record typed by `attributes.type`; runs of one type are chunks, at most
//!   [`MAX_COLLECTION_CHUNKS`] a call. An upsert (`PATCH /composite/sobjects/{O}/{Field}`,
//!   v46.0+) takes one object and an external id field (never `Id`), and each outcome adds
//!   `created`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::super::client::SalesforceClient;
use super::super::errors::{ApiErrorItem, RecordWrite, SfError};
use super::super::ids::SalesforceId;
use super::super::transport::{ApiRequest, HttpMethod, Target};
use super::super::usage::CallPriority;
use super::check_name;
use super::query::QueryOptions;
use sfmcp_soql::ast::Literal;

/// Records one collections create or update carries at most.
pub const MAX_COLLECTION_RECORDS: usize = 200;
/// Runs of records of one object one collections create or update takes at most ("A single
/// request can process up to 10 chunks").
pub const MAX_COLLECTION_CHUNKS: usize = 10;
/// Ids one collections retrieve reads at most.
pub const MAX_RETRIEVE_IDS: usize = 2_000;

/// One record's outcome in a collections answer, in input order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RecordOutcome {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
    /// An upsert's: whether it created the record.
    #[serde(default)]
    pub created: Option<bool>,
}

impl RecordOutcome {
    /// Only rolled back because another record failed: nothing is wrong with this one.
    pub fn rolled_back(&self) -> bool {
        !self.success
            && self
                .errors
                .iter()
                .all(|e| e.error_code == "ALL_OR_NONE_OPERATION_ROLLED_BACK")
    }
}

/// What an upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    Created(String),
    /// The id, when the answer carried one (from v46.0).
    Updated(Option<String>),
    /// The value matched several records: their ids, as far as the answer names them.
    Multiple(Vec<String>),
}

/// The value of an external id as one URL path segment: unreserved characters as they are,
/// everything else percent-encoded, so the value can neither add a segment nor a query.
/// `.` and `..` alone would be read as a path step, and a `/` cannot be sent in the path
/// at all (a proxy or Salesforce decodes it into a separator), so those are refused.
pub fn key_segment(value: &str) -> Result<String, SfError> {
    if value.is_empty() || value == "." || value == ".." || value.contains('/') {
        return Err(SfError::InvalidRequest {
            message:
                "an external id value cannot be empty, '.', '..' or contain '/' in an upsert's URL"
                    .into(),
            next_step: "Find the record with soql_query and update it by Id, or create it.".into(),
        });
    }
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(out)
}

impl SalesforceClient {
    /// `PATCH /sobjects/{object}/{field}/{value}`: creates the record whose `field` holds
    /// `value`, or updates the one that does; never retried.
    pub async fn upsert(
        &self,
        object: &str,
        field: &str,
        value: &str,
        fields: &Map<String, Value>,
    ) -> Result<Upserted, SfError> {
        check_name(object, "object")?;
        check_name(field, "field")?;
        let segment = key_segment(value)?;
        let what = format!("upserting {object} by {field}");
        let request = ApiRequest {
            method: HttpMethod::Patch,
            target: Target::Versioned(format!("/sobjects/{object}/{field}/{segment}")),
            query: Vec::new(),
            headers: Vec::new(),
            body_limit: None,
            body: Some(Value::Object(fields.clone())),
            priority: CallPriority::Normal,
            // Sending the same upsert again is safe: it finds what the first one created.
            write: Some((
                RecordWrite::Update,
                object.to_string(),
                Some(format!("whose {field} is {}", json!(value))),
            )),
            what: what.clone(),
        };
        let response = match self.execute(request).await {
            Ok(response) => response,
            // 300 Multiple Choices: a JSON array of the matching records' URLs.
            Err(SfError::UnexpectedResponse {
                status: 300,
                detail,
                ..
            }) => return Ok(Upserted::Multiple(ids_in(&detail))),
            Err(e) => return Err(e),
        };
        if response.status == 204 || response.body.is_empty() {
            return Ok(Upserted::Updated(None));
        }
        #[derive(Deserialize)]
        struct Answer {
            id: String,
            #[serde(default)]
            created: Option<bool>,
        }
        let answer: Answer = response.json(&what)?;
        Ok(if response.status == 201 || answer.created == Some(true) {
            Upserted::Created(answer.id)
        } else {
            Upserted::Updated(Some(answer.id))
        })
    }

    /// The records of `object` whose `field` equals `key` (up to 10), with `fields`, by SOQL:
    /// what an upsert on that key would update. The key is written as a SOQL literal, so
    /// it is data whatever it holds.
    pub async fn find_by_key(
        &self,
        object: &str,
        field: &str,
        key: &Literal,
        fields: &[String],
    ) -> Result<Vec<Map<String, Value>>, SfError> {
        check_name(object, "object")?;
        check_name(field, "field")?;
        let mut select = vec!["Id".to_string()];
        for name in fields {
            check_name(name, "field")?;
            if !select.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                select.push(name.clone());
            }
        }
        let soql = format!(
            "SELECT {} FROM {object} WHERE {field} = {key} LIMIT 10",
            select.join(", ")
        );
        let page = self.query(&soql, QueryOptions::default()).await?;
        Ok(page
            .records
            .into_iter()
            .filter_map(|record| match record {
                Value::Object(mut map) => {
                    map.remove("attributes");
                    Some(map)
                }
                _ => None,
            })
            .collect())
    }

    /// The records of `object` whose `field` equals any of `keys`, with `fields`, by SOQL
    /// (keys written as literals): what a batch upsert on those keys would update. At most
    /// 2,000, which 200 keys reach only when many records share a key.
    pub async fn find_by_keys(
        &self,
        object: &str,
        field: &str,
        keys: &[Literal],
        fields: &[String],
    ) -> Result<Vec<Map<String, Value>>, SfError> {
        check_name(object, "object")?;
        check_name(field, "field")?;
        let mut select = vec!["Id".to_string()];
        for name in fields.iter().map(String::as_str).chain([field]) {
            check_name(name, "field")?;
            if !select.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                select.push(name.to_string());
            }
        }
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        let soql = format!(
            "SELECT {} FROM {object} WHERE {field} IN ({}) LIMIT 2000",
            select.join(", "),
            keys.join(", ")
        );
        let page = self.query(&soql, QueryOptions::default()).await?;
        Ok(page
            .records
            .into_iter()
            .filter_map(|record| match record {
                Value::Object(mut map) => {
                    map.remove("attributes");
                    Some(map)
                }
                _ => None,
            })
            .collect())
    }

    /// `POST /composite/sobjects` with `allOrNone`: creates every record of `object` or none.
    pub async fn create_many(
        &self,
        object: &str,
        records: &[Map<String, Value>],
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let body = collection_body(records.iter().map(|r| (object, None, r)))?;
        self.send_collection(HttpMethod::Post, RecordWrite::Create, object, None, body)
            .await
    }

    /// `POST /composite/sobjects` with `allOrNone`: creates every record, each of its own
    /// object, or none.
    pub async fn create_mixed(
        &self,
        records: &[(String, Map<String, Value>)],
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let body = collection_body(records.iter().map(|(o, r)| (o.as_str(), None, r)))?;
        let mut objects: Vec<&str> = Vec::new();
        for (object, _) in records {
            if !objects.contains(&object.as_str()) {
                objects.push(object);
            }
        }
        let objects = objects.join(", ");
        self.send_collection(HttpMethod::Post, RecordWrite::Create, &objects, None, body)
            .await
    }

    /// `PATCH /composite/sobjects/{object}/{field}` with `allOrNone`: creates or updates every
    /// record by the external id each holds in `field`, or none.
    pub async fn upsert_many(
        &self,
        object: &str,
        field: &str,
        records: &[Map<String, Value>],
    ) -> Result<Vec<RecordOutcome>, SfError> {
        check_name(field, "field")?;
        if field.eq_ignore_ascii_case("Id") {
            return Err(SfError::InvalidRequest {
                message: "a collections upsert takes an external id field, not Id".into(),
                next_step: "Update records by Id with update_records.".into(),
            });
        }
        let body = collection_body(records.iter().map(|r| (object, None, r)))?;
        let what = format!("the batch upsert of {object} records by {field}");
        let request = ApiRequest {
            method: HttpMethod::Patch,
            target: Target::Versioned(format!("/composite/sobjects/{object}/{field}")),
            query: Vec::new(),
            headers: Vec::new(),
            body: Some(body),
            priority: CallPriority::Normal,
            // Sending the same upsert again is safe: it finds what the first one created.
            write: Some((
                RecordWrite::Update,
                object.to_string(),
                Some(format!("(a batch keyed by {field})")),
            )),
            what: what.clone(),
            body_limit: None,
        };
        self.execute(request).await?.json(&what)
    }

    /// `PATCH /composite/sobjects` with `allOrNone`: updates every record or none.
    pub async fn update_many(
        &self,
        object: &str,
        records: &[(SalesforceId, Map<String, Value>)],
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let body = collection_body(records.iter().map(|(id, r)| (object, Some(id), r)))?;
        let first = records.first().map(|(id, _)| {
            format!(
                "{id} (and the {} other records of the batch)",
                records.len() - 1
            )
        });
        self.send_collection(HttpMethod::Patch, RecordWrite::Update, object, first, body)
            .await
    }

    async fn send_collection(
        &self,
        method: HttpMethod,
        kind: RecordWrite,
        object: &str,
        id: Option<String>,
        body: Value,
    ) -> Result<Vec<RecordOutcome>, SfError> {
        let what = format!("the batch {kind} of {object} records");
        let request = ApiRequest {
            method,
            target: Target::Versioned("/composite/sobjects".into()),
            query: Vec::new(),
            headers: Vec::new(),
            body_limit: None,
            body: Some(body),
            priority: CallPriority::Normal,
            write: Some((kind, object.to_string(), id)),
            what: what.clone(),
        };
        self.execute(request).await?.json(&what)
    }

    /// `GET /composite/sobjects/{object}?ids=&fields=`: the records in the order asked,
    /// `None` for an id this user cannot see.
    pub async fn retrieve_many(
        &self,
        object: &str,
        ids: &[SalesforceId],
        fields: &[String],
    ) -> Result<Vec<Option<Map<String, Value>>>, SfError> {
        check_name(object, "object")?;
        for field in fields {
            check_name(field, "field")?;
        }
        if ids.len() > MAX_RETRIEVE_IDS {
            return Err(SfError::InvalidRequest {
                message: format!(
                    "{} ids is more than one read takes ({MAX_RETRIEVE_IDS})",
                    ids.len()
                ),
                next_step: "Read fewer records at once.".into(),
            });
        }
        let what = format!("reading {} {object} records", ids.len());
        let ids: Vec<&str> = ids.iter().map(SalesforceId::as_str).collect();
        let mut fields = fields.to_vec();
        if !fields.iter().any(|f| f.eq_ignore_ascii_case("Id")) {
            fields.insert(0, "Id".into());
        }
        let request = ApiRequest::get(
            Target::Versioned(format!("/composite/sobjects/{object}")),
            &what,
        )
        .query("ids", ids.join(","))
        .query("fields", fields.join(","));
        let records: Vec<Value> = self.execute(request).await?.json(&what)?;
        Ok(records
            .into_iter()
            .map(|record| match record {
                Value::Object(map) => Some(map),
                _ => None,
            })
            .collect())
    }
}

/// `{"allOrNone": true, "records": [{"attributes": {"type": object}, "Id"?, ...}]}`.
fn collection_body<'a>(
    records: impl ExactSizeIterator<Item = (&'a str, Option<&'a SalesforceId>, &'a Map<String, Value>)>
    + Clone,
) -> Result<Value, SfError> {
    let mut chunks = 0;
    let mut last: Option<&str> = None;
    for (object, _, _) in records.clone() {
        check_name(object, "object")?;
        if last != Some(object) {
            chunks += 1;
            last = Some(object);
        }
    }
    if chunks > MAX_COLLECTION_CHUNKS {
        return Err(SfError::InvalidRequest {
            message: format!(
                "the batch switches object {chunks} times; Salesforce takes at most {MAX_COLLECTION_CHUNKS} runs of one object per call"
            ),
            next_step: "Put the records of each object next to each other.".into(),
        });
    }
    if records.len() == 0 || records.len() > MAX_COLLECTION_RECORDS {
        return Err(SfError::InvalidRequest {
            message: format!(
                "a batch holds 1 to {MAX_COLLECTION_RECORDS} records, not {}",
                records.len()
            ),
            next_step: format!("Send at most {MAX_COLLECTION_RECORDS} records per call."),
        });
    }
    let records: Vec<Value> = records
        .map(|(object, id, fields)| {
            let mut record = Map::with_capacity(fields.len() + 2);
            record.insert("attributes".into(), json!({ "type": object }));
            if let Some(id) = id {
                record.insert("Id".into(), Value::String(id.to_string()));
            }
            record.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            Value::Object(record)
        })
        .collect();
    Ok(json!({ "allOrNone": true, "records": records }))
}

/// The record ids in a 300 answer's URLs (`/services/data/vXX.X/sobjects/{O}/{id}`).
fn ids_in(text: &str) -> Vec<String> {
    text.split(['/', '"', ',', '[', ']', ' '])
        .filter(|part| SalesforceId::parse(part).is_ok())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_stay_one_path_segment() {
        assert_eq!(key_segment("ERP-00042").ok().as_deref(), Some("ERP-00042"));
        assert_eq!(
            key_segment("a b?c#d%e&f").ok().as_deref(),
            Some("a%20b%3Fc%23d%25e%26f")
        );
        assert_eq!(key_segment("é").ok().as_deref(), Some("%C3%A9"));
        for refused in ["", ".", "..", "../limits", "a/b"] {
            assert!(key_segment(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_ids_of_several_matches_are_read_from_the_urls() {
        let body = r#"["/services/data/v62.0/sobjects/Account/001000000000001AAA","/services/data/v62.0/sobjects/Account/001000000000002AAA"]"#;
        assert_eq!(ids_in(body), ["001000000000001AAA", "001000000000002AAA"]);
    }

    #[test]
    fn collection_bodies_are_all_or_none_and_bounded() {
        let fields = json!({"Name": "Acme"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let id = SalesforceId::parse("001000000000001AAA").unwrap_or_else(|e| panic!("{e}"));
        let body = collection_body([("Account", Some(&id), &fields)].into_iter())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            body,
            json!({"allOrNone": true, "records": [{"attributes": {"type": "Account"}, "Id": "001000000000001AAA", "Name": "Acme"}]})
        );
        let many = vec![fields.clone(); MAX_COLLECTION_RECORDS + 1];
        assert!(collection_body(many.iter().map(|f| ("Account", None, f))).is_err());
        assert!(collection_body(std::iter::empty()).is_err());
        // Eleven runs of one object are more chunks than Salesforce processes; ten are not.
        let kinds = ["Account", "Contact"];
        let alternating: Vec<(&str, Option<&SalesforceId>, &Map<String, Value>)> =
            (0..11).map(|i| (kinds[i % 2], None, &fields)).collect();
        assert!(collection_body(alternating.iter().copied()).is_err());
        assert!(collection_body(alternating[..10].iter().copied()).is_ok());
    }
}
