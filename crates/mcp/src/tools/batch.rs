//! Writes at scale: `create_records`, `update_records` and `upsert_record`, with the same
//! checks, `dry_run`, before and after, and confirmation as a
//! single write.
//!
//! A batch goes to Salesforce as one sObject Collections call with `allOrNone: true`: every
//! record is written or none is. Every record is checked before anything is sent (the
//! operator's policy first, then describe), so one denied field or bad value refuses the
//! whole batch at no API cost, and the problems are listed by record index (`#0` is the
//! first). A person confirming writes is asked once, and the question shows every record's
//! change. What Salesforce itself refuses comes back by index too, with the records it
//! rolled back.
//!
//! An upsert first reads which record its key matches (by SOQL, the key written as a
//! literal), so it is checked as the create or the update it will be, the person sees the
//! current values, and a key matching several records is refused before Salesforce would
//! answer 300.

use rmcp::RoleServer;
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use serde_json::{Map, Value, json};

use crate::confirm::{PendingRecord, PendingWrite, Round};
use crate::error::ToolError;
use crate::server::SfServer;
use crate::tools::records::{
    UpsertRecordArgs, object_for, parse_id, push_notes, reference_targets, show,
};
use crate::write_check::{self, Checked, WriteContext, WriteIssue, WriteKind, quoted};
use sfmcp_salesforce::{
    MAX_COLLECTION_CHUNKS, MAX_COLLECTION_RECORDS, RecordLinks, RecordOutcome, SalesforceClient,
    SalesforceId, Upserted,
};
use sfmcp_soql::ast::Literal;
use sfmcp_soql::schema::{FieldType, ObjectSchema};

const COLLECTIONS_PATH: &str = "/composite/sobjects";

/// What a write call asked for besides its records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriteOptions {
    pub dry_run: bool,
    pub allow_unlisted: Option<bool>,
}

/// Every record of a batch, checked and ready to send.
struct CheckedBatch {
    records: Vec<Map<String, Value>>,
    notes: Vec<String>,
}

impl SfServer {
    /// `create_records`: records of `object`, or each of the object its `attributes.type`
    /// names (Salesforce's collections create takes several objects in one call).
    pub(crate) async fn create_batch(
        &self,
        object: Option<&str>,
        records: Vec<Map<String, Value>>,
        options: WriteOptions,
        round: Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        self.check_not_read_only()?;
        check_count(records.len())?;
        let mut typed = Vec::with_capacity(records.len());
        for (n, record) in records.into_iter().enumerate() {
            typed.push(record_type(object, record).map_err(|e| at(n, e))?);
        }
        check_chunks(typed.iter().map(|(o, _)| o.as_str()))?;
        for (n, (object, record)) in typed.iter().enumerate() {
            self.check_writable(object, record).map_err(|e| at(n, e))?;
        }
        let client = self.client(context)?;
        // One describe per object, in first-seen order; records keep the org's spelling.
        let mut schemas: Vec<std::sync::Arc<ObjectSchema>> = Vec::new();
        let mut of_record = Vec::with_capacity(typed.len());
        for (n, (given, _)) in typed.iter().enumerate() {
            let known = schemas
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(given.trim()));
            let index = match known {
                Some(index) => index,
                None => {
                    let schema = client.describe(given.trim()).await?;
                    // The allow-list again under the org's spelling of the object.
                    self.policy()
                        .check_object(&schema.name)
                        .map_err(|e| at(n, e))?;
                    schemas.push(schema);
                    schemas.len() - 1
                }
            };
            of_record.push(index);
        }
        let to_check: Vec<(&ObjectSchema, &Map<String, Value>)> = typed
            .iter()
            .zip(&of_record)
            .map(|((_, record), &i)| (schemas[i].as_ref(), record))
            .collect();
        let checked = self
            .check_batch(&client, &to_check, WriteKind::Create, &[], options)
            .await?;
        let objects: Vec<&str> = of_record
            .iter()
            .map(|&i| schemas[i].name.as_str())
            .collect();
        let mixed = schemas.len() > 1;
        let all_objects = schemas
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let pending: Vec<PendingRecord<'_>> = checked
            .records
            .iter()
            .map(|fields| PendingRecord {
                id: None,
                fields,
                before: None,
            })
            .collect();
        let mut write = batch_write("POST", &all_objects, pending, &checked.notes);
        if mixed {
            write.objects = objects.clone();
        }
        if options.dry_run {
            return Ok(dry_run(&write).into());
        }
        if let Some(stop) = self.confirmation(&client, &write, round, context).await? {
            return Ok(stop);
        }
        let outcomes = if mixed {
            let sent: Vec<(String, Map<String, Value>)> = objects
                .iter()
                .map(|o| (*o).to_string())
                .zip(checked.records.iter().cloned())
                .collect();
            client.create_mixed(&sent).await?
        } else {
            client.create_many(&all_objects, &checked.records).await?
        };
        if let Some(failed) = failure(&all_objects, "created", &outcomes) {
            return Ok(failed.into());
        }
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let mut text = format!(
            "Created {} {all_objects} records in one call (all or none).",
            outcomes.len()
        );
        if let Some(template) = links.template() {
            text.push_str(&format!(" Links: {template}"));
        }
        push_notes(&mut text, &checked.notes);
        text.push('\n');
        let mut created = Vec::with_capacity(outcomes.len());
        for (n, outcome) in outcomes.iter().enumerate() {
            let id = outcome.id.clone().unwrap_or_default();
            let object = objects[n];
            if mixed {
                text.push_str(&format!("#{n} {object} {id}\n"));
            } else {
                text.push_str(&format!("#{n} {id}\n"));
            }
            let url = SalesforceId::parse(&id)
                .ok()
                .and_then(|id| links.url(object, &id));
            let mut entry = json!({ "index": n, "id": id, "url": url });
            if mixed {
                entry["object"] = Value::String(object.to_string());
            }
            created.push(entry);
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "object": all_objects, "created": created }));
        Ok(result.into())
    }

    /// `update_records`: each a map with the record's `Id` and the fields to
    /// change, all of one object.
    pub(crate) async fn update_batch(
        &self,
        object: Option<&str>,
        records: Vec<Map<String, Value>>,
        options: WriteOptions,
        round: Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        check_count(records.len())?;
        let mut ids = Vec::with_capacity(records.len());
        let mut changes = Vec::with_capacity(records.len());
        for (n, mut record) in records.into_iter().enumerate() {
            let key = record
                .keys()
                .find(|k| k.eq_ignore_ascii_case("Id"))
                .cloned();
            let id = match key.and_then(|k| record.remove(&k)) {
                Some(Value::String(id)) => parse_id(&id).map_err(|e| at(n, e))?,
                _ => {
                    return Err(at(
                        n,
                        ToolError::Input(
                            "it has no Id: each record is {\"Id\": \"...\", and the fields to change}".into(),
                        ),
                    ));
                }
            };
            if let Some(first) = ids.iter().position(|seen| seen == &id) {
                return Err(at(
                    n,
                    ToolError::Input(format!(
                        "{id} is also record #{first}: put all of a record's changes in one entry"
                    )),
                ));
            }
            ids.push(id);
            changes.push(record);
        }
        let client = self.client(context)?;
        let object = object_for(&client, &ids[0], object).await?;
        for (n, record) in changes.iter().enumerate() {
            self.check_writable(&object, record).map_err(|e| at(n, e))?;
        }
        let schema = client.describe(object.trim()).await?;
        let object = schema.name.clone();
        if let Some(prefix) = schema.key_prefix.as_deref()
            && let Some(n) = ids.iter().position(|id| id.key_prefix() != prefix)
        {
            return Err(at(
                n,
                ToolError::Input(format!(
                    "{} is not a {object} Id ({object} Ids start with {prefix}); a batch updates one object: send the others in their own call",
                    ids[n]
                )),
            ));
        }
        // The current values: what the person and the answer compare with, and the
        // controlling values dependent picklists are checked against.
        let mut names: Vec<String> = Vec::new();
        for record in &changes {
            let fields = record
                .keys()
                .filter_map(|k| schema.field(k).map(|f| f.name.clone()));
            let controllers = write_check::controllers_to_read(&schema, record)
                .into_iter()
                .filter(|c| !self.policy().is_field_denied(&object, c));
            for name in fields.chain(controllers) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let before = client.retrieve_many(&object, &ids, &names).await?;
        let mut missing = Vec::new();
        for (n, (id, current)) in ids.iter().zip(&before).enumerate() {
            if current.is_none() {
                missing.push(WriteIssue {
                    field: String::new(),
                    code: "INVALID_CROSS_REFERENCE_KEY",
                    message: format!(
                        "#{n}: no {object} {id} that the connected user can see (deleted, or not shared with them)"
                    ),
                });
            }
        }
        if !missing.is_empty() {
            return Err(ToolError::Write(missing));
        }
        let before: Vec<Map<String, Value>> = before.into_iter().flatten().collect();
        let to_check: Vec<(&ObjectSchema, &Map<String, Value>)> = changes
            .iter()
            .map(|record| (schema.as_ref(), record))
            .collect();
        let checked = self
            .check_batch(&client, &to_check, WriteKind::Update, &before, options)
            .await?;
        let pending: Vec<PendingRecord<'_>> = checked
            .records
            .iter()
            .zip(&ids)
            .zip(&before)
            .map(|((fields, id), before)| PendingRecord {
                id: Some(id),
                fields,
                before: Some(before),
            })
            .collect();
        let write = batch_write("PATCH", &object, pending, &checked.notes);
        if options.dry_run {
            return Ok(dry_run(&write).into());
        }
        if let Some(stop) = self.confirmation(&client, &write, round, context).await? {
            return Ok(stop);
        }
        let sent: Vec<(SalesforceId, Map<String, Value>)> =
            ids.iter().cloned().zip(checked.records.clone()).collect();
        let outcomes = client.update_many(&object, &sent).await?;
        if let Some(failed) = failure(&object, "updated", &outcomes) {
            return Ok(failed.into());
        }
        // Read back: triggers, formulas and normalization decide what was really stored.
        let after = client.retrieve_many(&object, &ids, &names).await?;
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let mut text = format!(
            "Updated {} {object} records in one call (all or none).",
            ids.len()
        );
        if let Some(template) = links.template() {
            text.push_str(&format!(" Links: {template}"));
        }
        push_notes(&mut text, &checked.notes);
        text.push('\n');
        let mut updated = Vec::with_capacity(ids.len());
        for (n, ((id, fields), old)) in ids.iter().zip(&checked.records).zip(&before).enumerate() {
            let new = after.get(n).cloned().flatten().unwrap_or_default();
            text.push_str(&format!("#{n} {id}\n"));
            let mut record_changes = Vec::new();
            for name in fields.keys() {
                let was = old.get(name).cloned().unwrap_or(Value::Null);
                let now = new.get(name).cloned().unwrap_or(Value::Null);
                text.push_str(&format!("  {name}: {} → {}\n", show(&was), show(&now)));
                record_changes.push(json!({ "field": name, "before": was, "after": now }));
            }
            updated.push(json!({
                "index": n,
                "id": id.as_str(),
                "url": links.url(&object, id),
                "changes": record_changes,
            }));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "object": object, "updated": updated }));
        Ok(result.into())
    }

    /// Checks every record against its object's describe; all problems of all records, by
    /// index.
    async fn check_batch(
        &self,
        client: &SalesforceClient,
        records: &[(&ObjectSchema, &Map<String, Value>)],
        kind: WriteKind,
        current: &[Map<String, Value>],
        options: WriteOptions,
    ) -> Result<CheckedBatch, ToolError> {
        let mut issues = Vec::new();
        let mut checked = Vec::with_capacity(records.len());
        let mut notes = Vec::new();
        for (n, &(schema, record)) in records.iter().enumerate() {
            let context = WriteContext {
                allow_unlisted: self.unlisted_meant(options.allow_unlisted),
                objects_by_prefix: reference_targets(client, schema, record).await,
                current: current.get(n),
            };
            match write_check::check(schema, kind, record, &context) {
                Ok(Checked {
                    fields,
                    notes: record_notes,
                }) => {
                    notes.extend(record_notes.into_iter().map(|note| format!("#{n} {note}")));
                    checked.push(fields);
                }
                Err(found) => issues.extend(found.into_iter().map(|issue| WriteIssue {
                    message: format!("#{n}: {}", issue.message),
                    ..issue
                })),
            }
        }
        if issues.is_empty() {
            Ok(CheckedBatch {
                records: checked,
                notes,
            })
        } else {
            Err(ToolError::Write(issues))
        }
    }

    /// `upsert_record`.
    pub(crate) async fn upsert(
        &self,
        args: UpsertRecordArgs,
        round: Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        self.check_writable(&args.object, &args.fields)?;
        let client = self.client(context)?;
        let schema = client.describe(args.object.trim()).await?;
        let object = schema.name.clone();
        let (given_field, key) = match args.key.iter().next() {
            Some((field, value)) if args.key.len() == 1 => {
                let key = match value {
                    Value::String(text) => text.trim().to_string(),
                    Value::Number(number) => number.to_string(),
                    _ => String::new(),
                };
                (field.trim().to_string(), key)
            }
            _ => {
                return Err(ToolError::Input(
                    "match names one key field and its value, like {\"ERP_Id__c\": \"ERP-00042\"}: an external id field of the object (or Id)".into(),
                ));
            }
        };
        let key = key.as_str();
        let key_field = key_field(&schema, &given_field)?;
        if self.policy().is_field_denied(&object, &key_field) {
            return Err(ToolError::Denied(format!(
                "{object}.{key_field} is hidden by this server's settings (--deny-fields) and cannot be used as a key"
            )));
        }
        if let Some(name) = args
            .fields
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&key_field))
        {
            return Err(ToolError::Input(format!(
                "{} is the key: give its value as key, and leave it out of fields",
                quoted(name)
            )));
        }
        let literal = key_literal(&schema, &key_field, key)?;
        let segment = sfmcp_salesforce::api::collections::key_segment(key).map_err(|e| {
            ToolError::Input(format!(
                "{e}; find the record with soql_query and update it by Id"
            ))
        })?;
        let controllers: Vec<String> = write_check::controllers_to_read(&schema, &args.fields)
            .into_iter()
            .filter(|c| !self.policy().is_field_denied(&object, c))
            .collect();
        let mut names: Vec<String> = args
            .fields
            .keys()
            .filter_map(|k| schema.field(k).map(|f| f.name.clone()))
            .collect();
        names.extend(controllers);
        let matches = client
            .find_by_key(&object, &key_field, &literal, &names)
            .await?;
        let (kind, existing) = match matches.as_slice() {
            [] if key_field == "Id" => {
                return Err(ToolError::Input(format!(
                    "no {object} {key} that the connected user can see; create_record creates a new one (an upsert by Id only updates)"
                )));
            }
            [] => (WriteKind::Create, None),
            [found] => (WriteKind::Update, Some(found)),
            several => {
                let ids: Vec<&str> = several
                    .iter()
                    .filter_map(|r| r.get("Id").and_then(Value::as_str))
                    .collect();
                return Err(ToolError::Input(format!(
                    "{} {object} records have {key_field} {} ({}{}): Salesforce would answer 300 Multiple Choices and change none. Update the one meant by Id with update_record, or correct the duplicates",
                    ids.len(),
                    render_key(key),
                    ids.join(", "),
                    if ids.len() >= 10 { ", ..." } else { "" }
                )));
            }
        };
        let existing_id = existing
            .and_then(|r| r.get("Id"))
            .and_then(Value::as_str)
            .and_then(|id| SalesforceId::parse(id).ok());
        let write_context = WriteContext {
            allow_unlisted: self.unlisted_meant(args.allow_unlisted),
            objects_by_prefix: reference_targets(&client, &schema, &args.fields).await,
            current: existing,
        };
        let Checked { fields, notes } =
            write_check::check(&schema, kind, &args.fields, &write_context)
                .map_err(ToolError::Write)?;
        let path = format!("/sobjects/{object}/{key_field}/{segment}");
        let write = PendingWrite {
            method: "PATCH",
            path,
            object: &object,
            records: vec![PendingRecord {
                id: existing_id.as_ref(),
                fields: &fields,
                before: existing,
            }],
            notes: &notes,
            objects: Vec::new(),
            key: None,
        };
        if args.dry_run.unwrap_or(false) {
            let mut result = dry_run(&write);
            let would = match &existing_id {
                Some(id) => format!(
                    "It would update {object} {id}, whose {key_field} is {}.\n",
                    render_key(key)
                ),
                None => format!(
                    "It would create a {object}: none has {key_field} {}.\n",
                    render_key(key)
                ),
            };
            if let Some(ContentBlock::Text(block)) = result.content.first_mut() {
                block.text.push_str(&would);
            }
            if let Some(structured) = result.structured_content.as_mut() {
                structured["creates"] = Value::Bool(existing_id.is_none());
            }
            return Ok(result.into());
        }
        if let Some(stop) = self.confirmation(&client, &write, round, context).await? {
            return Ok(stop);
        }
        let done = client.upsert(&object, &key_field, key, &fields).await?;
        let (id, created) = match done {
            Upserted::Created(id) => (id, true),
            Upserted::Updated(id) => (
                id.or_else(|| existing_id.as_ref().map(|i| i.to_string()))
                    .unwrap_or_default(),
                false,
            ),
            Upserted::Multiple(ids) => {
                return Err(ToolError::Input(format!(
                    "Salesforce answered 300 Multiple Choices: several {object} records now have {key_field} {} ({}); nothing was changed. Update the one meant by Id with update_record",
                    render_key(key),
                    ids.join(", ")
                )));
            }
        };
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let parsed = SalesforceId::parse(&id).ok();
        let url = parsed.as_ref().and_then(|i| links.url(&object, i));
        let verb = if created { "Created" } else { "Updated" };
        let mut text = format!("{verb} {object} {id}");
        if let Some(url) = &url {
            text.push_str(&format!(": {url}"));
        }
        text.push_str(&format!(" ({key_field} {})", render_key(key)));
        push_notes(&mut text, &notes);
        text.push('\n');
        let mut structured = json!({ "id": id, "created": created, "url": url });
        if let (false, Some(id), Some(before)) = (created, parsed.as_ref(), existing) {
            let names: Vec<String> = fields.keys().cloned().collect();
            let after = client.get_record(&object, id, Some(&names)).await?;
            let mut changes = Vec::new();
            for name in &names {
                let old = before.get(name).cloned().unwrap_or(Value::Null);
                let new = after.get(name).cloned().unwrap_or(Value::Null);
                text.push_str(&format!("{name}: {} → {}\n", show(&old), show(&new)));
                changes.push(json!({ "field": name, "before": old, "after": new }));
            }
            structured["changes"] = Value::Array(changes);
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        Ok(result.into())
    }

    /// `upsert_records`: records of one object, each holding its value of the external id
    /// field `key`. Each is first found by that value (one query for the batch), checked as
    /// the create or the update it will be, and shown so to the person; the batch then goes
    /// as one collections upsert, all or none.
    pub(crate) async fn upsert_batch(
        &self,
        object: &str,
        key: &str,
        records: Vec<Map<String, Value>>,
        options: WriteOptions,
        round: Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        self.check_not_read_only()?;
        check_count(records.len())?;
        for (n, record) in records.iter().enumerate() {
            self.check_writable(object, record).map_err(|e| at(n, e))?;
        }
        let client = self.client(context)?;
        let schema = client.describe(object.trim()).await?;
        let object = schema.name.clone();
        self.policy().check_object(&object)?;
        let key_field = key_field(&schema, key.trim())?;
        if key_field == "Id" {
            return Err(ToolError::Input(
                "Salesforce upserts a batch by an external id field only, not Id: update_records updates records by Id".into(),
            ));
        }
        if self.policy().is_field_denied(&object, &key_field) {
            return Err(ToolError::Denied(format!(
                "{object}.{key_field} is hidden by this server's settings (--deny-fields) and cannot be used as a key"
            )));
        }
        // Each record's key value, and its other fields.
        let mut keys: Vec<(Value, String, Literal)> = Vec::with_capacity(records.len());
        let mut changes = Vec::with_capacity(records.len());
        for (n, mut record) in records.into_iter().enumerate() {
            let given = record
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&key_field))
                .cloned();
            let value = given.and_then(|k| record.remove(&k));
            let text = match &value {
                Some(Value::String(text)) => text.trim().to_string(),
                Some(Value::Number(number)) => number.to_string(),
                _ => {
                    return Err(at(
                        n,
                        ToolError::Input(format!(
                            "it has no {key_field}: each record holds its key value, like {{\"{key_field}\": \"...\", and the fields to write}}"
                        )),
                    ));
                }
            };
            let literal = key_literal(&schema, &key_field, &text).map_err(|e| at(n, e))?;
            if let Some(first) = keys
                .iter()
                .position(|(_, seen, _)| seen.eq_ignore_ascii_case(&text))
            {
                return Err(at(
                    n,
                    ToolError::Input(format!(
                        "{key_field} {} is also record #{first}: put all of a record's changes in one entry",
                        render_key(&text)
                    )),
                ));
            }
            if record.is_empty() {
                return Err(at(
                    n,
                    ToolError::Input(format!(
                        "it holds only its {key_field}: add the fields to write"
                    )),
                ));
            }
            keys.push((value.unwrap_or(Value::Null), text, literal));
            changes.push(record);
        }
        let mut names: Vec<String> = Vec::new();
        for record in &changes {
            let fields = record
                .keys()
                .filter_map(|k| schema.field(k).map(|f| f.name.clone()));
            let controllers = write_check::controllers_to_read(&schema, record)
                .into_iter()
                .filter(|c| !self.policy().is_field_denied(&object, c));
            for name in fields.chain(controllers) {
                if !names.contains(&name) && !name.eq_ignore_ascii_case(&key_field) {
                    names.push(name);
                }
            }
        }
        let literals: Vec<Literal> = keys.iter().map(|(_, _, l)| l.clone()).collect();
        let found = client
            .find_by_keys(&object, &key_field, &literals, &names)
            .await?;
        let mut kinds = Vec::with_capacity(keys.len());
        let mut existing: Vec<Option<Map<String, Value>>> = Vec::with_capacity(keys.len());
        let mut issues = Vec::new();
        for (n, (_, text, _)) in keys.iter().enumerate() {
            let matching: Vec<&Map<String, Value>> = found
                .iter()
                .filter(|r| r.get(&key_field).is_some_and(|v| same_key(v, text)))
                .collect();
            match matching.as_slice() {
                [] => {
                    kinds.push(WriteKind::Create);
                    existing.push(None);
                }
                [one] => {
                    kinds.push(WriteKind::Update);
                    existing.push(Some((*one).clone()));
                }
                several => {
                    let ids: Vec<&str> = several
                        .iter()
                        .filter_map(|r| r.get("Id").and_then(Value::as_str))
                        .collect();
                    issues.push(WriteIssue {
                        field: key_field.clone(),
                        code: "DUPLICATE_EXTERNAL_ID",
                        message: format!(
                            "#{n}: {} {object} records have {key_field} {} ({}): Salesforce would change none. Update the one meant by Id with update_records, or correct the duplicates",
                            ids.len(),
                            render_key(text),
                            ids.join(", ")
                        ),
                    });
                    kinds.push(WriteKind::Update);
                    existing.push(None);
                }
            }
        }
        if !issues.is_empty() {
            return Err(ToolError::Write(issues));
        }
        let mut problems = Vec::new();
        let mut checked = Vec::with_capacity(changes.len());
        let mut notes = Vec::new();
        for (n, record) in changes.iter().enumerate() {
            let context = WriteContext {
                allow_unlisted: self.unlisted_meant(options.allow_unlisted),
                objects_by_prefix: reference_targets(&client, &schema, record).await,
                current: existing[n].as_ref(),
            };
            // The key goes in the body (it is how Salesforce matches), checked like the
            // fields: its length and format too.
            let mut with_key = record.clone();
            with_key.insert(key_field.clone(), keys[n].0.clone());
            match write_check::check(&schema, kinds[n], &with_key, &context) {
                Ok(Checked {
                    fields,
                    notes: record_notes,
                }) => {
                    notes.extend(record_notes.into_iter().map(|note| format!("#{n} {note}")));
                    checked.push(fields);
                }
                Err(found) => problems.extend(found.into_iter().map(|issue| WriteIssue {
                    message: format!("#{n}: {}", issue.message),
                    ..issue
                })),
            }
        }
        if !problems.is_empty() {
            return Err(ToolError::Write(problems));
        }
        let ids: Vec<Option<SalesforceId>> = existing
            .iter()
            .map(|r| {
                r.as_ref()
                    .and_then(|r| r.get("Id"))
                    .and_then(Value::as_str)
                    .and_then(|id| SalesforceId::parse(id).ok())
            })
            .collect();
        let pending: Vec<PendingRecord<'_>> = checked
            .iter()
            .zip(&ids)
            .zip(&existing)
            .map(|((fields, id), before)| PendingRecord {
                id: id.as_ref(),
                fields,
                before: before.as_ref(),
            })
            .collect();
        let write = PendingWrite {
            method: "PATCH",
            path: format!("{COLLECTIONS_PATH}/{object}/{key_field}"),
            object: &object,
            records: pending,
            notes: &notes,
            objects: Vec::new(),
            key: Some(&key_field),
        };
        if options.dry_run {
            let mut result = dry_run(&write);
            let creates = ids.iter().filter(|id| id.is_none()).count();
            let would = format!(
                "It would create {creates} and update {} {object} records.\n",
                ids.len() - creates
            );
            if let Some(ContentBlock::Text(block)) = result.content.first_mut() {
                block.text.push_str(&would);
            }
            if let Some(structured) = result.structured_content.as_mut() {
                structured["creates"] =
                    Value::Array(ids.iter().map(|id| Value::Bool(id.is_none())).collect());
            }
            return Ok(result.into());
        }
        if let Some(stop) = self.confirmation(&client, &write, round, context).await? {
            return Ok(stop);
        }
        let outcomes = client.upsert_many(&object, &key_field, &checked).await?;
        if let Some(failed) = failure(&object, "upserted", &outcomes) {
            return Ok(failed.into());
        }
        // Read back what was updated: triggers, formulas and normalization decide.
        let updated: Vec<SalesforceId> = ids.iter().flatten().cloned().collect();
        let after = if updated.is_empty() {
            Vec::new()
        } else {
            client.retrieve_many(&object, &updated, &names).await?
        };
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let creates = outcomes.iter().filter(|o| o.created == Some(true)).count();
        let mut text = format!(
            "Upserted {} {object} records by {key_field} in one call (all or none): {creates} created, {} updated.",
            outcomes.len(),
            outcomes.len() - creates
        );
        if let Some(template) = links.template() {
            text.push_str(&format!(" Links: {template}"));
        }
        push_notes(&mut text, &notes);
        text.push('\n');
        let mut answers = Vec::with_capacity(outcomes.len());
        let mut read_back = after.into_iter();
        for (n, outcome) in outcomes.iter().enumerate() {
            let id = outcome
                .id
                .clone()
                .or_else(|| ids[n].as_ref().map(ToString::to_string))
                .unwrap_or_default();
            // What sfmcp found decides, when Salesforce's answer has no `created`.
            let created = outcome.created.unwrap_or(ids[n].is_none());
            let url = SalesforceId::parse(&id)
                .ok()
                .and_then(|i| links.url(&object, &i));
            let verb = if created { "created" } else { "updated" };
            text.push_str(&format!(
                "#{n} {verb} {id} ({key_field} {})\n",
                render_key(&keys[n].1)
            ));
            let mut entry = json!({ "index": n, "id": id, "created": created, "url": url });
            if let (Some(before), Some(_)) = (&existing[n], &ids[n]) {
                let now = read_back.next().flatten().unwrap_or_default();
                let mut record_changes = Vec::new();
                for name in changes[n]
                    .keys()
                    .filter_map(|k| schema.field(k).map(|f| f.name.clone()))
                {
                    let was = before.get(&name).cloned().unwrap_or(Value::Null);
                    let new = now.get(&name).cloned().unwrap_or(Value::Null);
                    text.push_str(&format!("  {name}: {} → {}\n", show(&was), show(&new)));
                    record_changes.push(json!({ "field": name, "before": was, "after": new }));
                }
                entry["changes"] = Value::Array(record_changes);
            }
            answers.push(entry);
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content =
            Some(json!({ "object": object, "key": key_field, "upserted": answers }));
        Ok(result.into())
    }
}

/// The object of one record of `create_records`: its `attributes.type`, else the call's
/// `object`; the record's fields without `attributes`.
fn record_type(
    object: Option<&str>,
    mut record: Map<String, Value>,
) -> Result<(String, Map<String, Value>), ToolError> {
    let typed = match record.remove("attributes") {
        None => None,
        Some(Value::Object(attributes)) => match attributes.get("type") {
            Some(Value::String(kind)) if !kind.trim().is_empty() => Some(kind.trim().to_string()),
            _ => {
                return Err(ToolError::Input(
                    "its attributes has no type: give {\"attributes\": {\"type\": \"Contact\"}, and the fields}".into(),
                ));
            }
        },
        Some(_) => {
            return Err(ToolError::Input(
                "attributes is not an object: give {\"attributes\": {\"type\": \"Contact\"}, and the fields}".into(),
            ));
        }
    };
    let given = object.map(str::trim).filter(|o| !o.is_empty());
    match typed.or_else(|| given.map(str::to_string)) {
        Some(object) => Ok((object, record)),
        None => Err(ToolError::Input(
            "its object is unknown: pass object for the whole batch, or give each record {\"attributes\": {\"type\": \"Contact\"}}".into(),
        )),
    }
}

/// Salesforce processes a batch of several objects in runs of one object, at most
/// [`MAX_COLLECTION_CHUNKS`] a call.
fn check_chunks<'a>(objects: impl Iterator<Item = &'a str>) -> Result<(), ToolError> {
    let mut chunks = 0;
    let mut last: Option<String> = None;
    for object in objects {
        let object = object.trim().to_ascii_lowercase();
        if last.as_deref() != Some(object.as_str()) {
            chunks += 1;
            last = Some(object);
        }
    }
    if chunks > MAX_COLLECTION_CHUNKS {
        return Err(ToolError::Input(format!(
            "the records switch object {chunks} times; Salesforce takes at most {MAX_COLLECTION_CHUNKS} runs of one object in a call: put each object's records next to each other, or split the batch; nothing was sent"
        )));
    }
    Ok(())
}

fn check_count(count: usize) -> Result<(), ToolError> {
    if count == 0 || count > MAX_COLLECTION_RECORDS {
        return Err(ToolError::Input(format!(
            "records holds {count} records; one call writes 1 to {MAX_COLLECTION_RECORDS} (Salesforce's sObject Collections limit). Split them into calls of {MAX_COLLECTION_RECORDS} or fewer: each call is all or none on its own"
        )));
    }
    Ok(())
}

/// A refusal about record `n` of a batch: the whole batch is refused, and the message says
/// which record.
fn at(n: usize, error: ToolError) -> ToolError {
    let prefix = |message: String| format!("records #{n}: {message}; nothing was sent");
    match error {
        ToolError::Input(message) => ToolError::Input(prefix(message)),
        ToolError::Denied(message) => ToolError::Denied(prefix(message)),
        other => other,
    }
}

fn batch_write<'a>(
    method: &'static str,
    object: &'a str,
    records: Vec<PendingRecord<'a>>,
    notes: &'a [String],
) -> PendingWrite<'a> {
    PendingWrite {
        method,
        path: COLLECTIONS_PATH.into(),
        object,
        records,
        notes,
        objects: Vec::new(),
        key: None,
    }
}

/// The request that would be sent, and nothing sent.
fn dry_run(write: &PendingWrite<'_>) -> CallToolResult {
    let body = write.body();
    let shown = if write.records.len() == 1 {
        serde_json::to_string_pretty(&body).unwrap_or_default()
    } else {
        // One record a line: 200 records stay readable.
        let records = body["records"].as_array().cloned().unwrap_or_default();
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        format!(
            "{{\"allOrNone\": true, \"records\": [\n{}\n]}}",
            lines.join(",\n")
        )
    };
    let mut text = format!(
        "Dry run: nothing was sent. This is the request:\n{}\n{shown}",
        write.request_line()
    );
    push_notes(&mut text, write.notes);
    text.push('\n');
    if write.records.len() > 1 {
        text.push_str(&write.summary());
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({
        "dryRun": true,
        "method": write.method,
        "path": write.path,
        "body": body,
        "notes": write.notes,
    }));
    result
}

/// Salesforce's per-record errors, when it refused any: nothing was written. `done` says
/// what the others were not (`created`).
fn failure(object: &str, done: &str, outcomes: &[RecordOutcome]) -> Option<CallToolResult> {
    if outcomes.iter().all(|o| o.success) {
        return None;
    }
    let mut text = format!(
        "Salesforce refused the batch; nothing was written (all or none: it rolled back every {object} record of it). Fix these records and send the batch again:\n"
    );
    let mut errors = Vec::new();
    let mut rolled_back = 0;
    for (n, outcome) in outcomes.iter().enumerate() {
        if outcome.success || outcome.rolled_back() {
            rolled_back += 1;
            continue;
        }
        for error in &outcome.errors {
            let fields = if error.fields.is_empty() {
                String::new()
            } else {
                format!(" [{}]", error.fields.join(", "))
            };
            text.push_str(&format!(
                "#{n}: {}: {}{fields}\n",
                error.error_code,
                crate::render::inline(&error.message)
            ));
        }
        errors.push(json!({
            "index": n,
            "id": outcome.id,
            "errors": outcome.errors.iter().map(|e| json!({
                "statusCode": e.error_code, "message": e.message, "fields": e.fields,
            })).collect::<Vec<_>>(),
        }));
    }
    text.push_str(&format!(
        "The other {rolled_back} records were not {done}: they were rolled back with the batch.\n"
    ));
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "written": false, "failed": errors }));
    Some(result)
}

/// The upsert key: an external id field of the object (describe's `externalId`), or `Id`.
fn key_field(schema: &ObjectSchema, given: &str) -> Result<String, ToolError> {
    let keys: Vec<&str> = schema
        .fields
        .iter()
        .filter(|f| f.external_id)
        .map(|f| f.name.as_str())
        .collect();
    let choices = if keys.is_empty() {
        format!(
            "{} has no external id field, so only Id can be the key (that updates; create_record creates)",
            schema.name
        )
    } else {
        format!(
            "{}'s external id fields: {} (or Id)",
            schema.name,
            keys.join(", ")
        )
    };
    match schema.field(given) {
        Some(field) if field.external_id || field.field_type == FieldType::Id => {
            Ok(field.name.clone())
        }
        Some(field) => Err(ToolError::Input(format!(
            "{}.{} is not an external id field, so Salesforce cannot upsert on it; {choices}",
            schema.name, field.name
        ))),
        None => {
            let shown = quoted(given);
            // A name cut for quoting is longer than any field's: nothing can be similar.
            let similar: Vec<String> = if shown.len() < given.len() {
                Vec::new()
            } else {
                let lower = given.to_ascii_lowercase();
                let mut similar =
                    sfmcp_soql::validate::similar_values(given, keys.iter().map(|k| (*k, None)));
                for key in &keys {
                    if key.to_ascii_lowercase().starts_with(&lower)
                        && !similar.iter().any(|s| s == key)
                    {
                        similar.push((*key).to_string());
                    }
                }
                similar
            };
            let hint = if similar.is_empty() {
                String::new()
            } else {
                format!("did you mean {}? ", similar.join(" or "))
            };
            Err(ToolError::Input(format!(
                "{} has no field '{shown}'; {hint}{choices}",
                schema.name
            )))
        }
    }
}

/// The key as a SOQL literal of the field's type.
fn key_literal(schema: &ObjectSchema, field: &str, key: &str) -> Result<Literal, ToolError> {
    if key.is_empty() {
        return Err(ToolError::Input(
            "the key's value is empty: give the value of the key field that identifies the record, as a string or number".into(),
        ));
    }
    let Some(field) = schema.field(field) else {
        return Ok(Literal::String(key.to_string()));
    };
    match field.field_type {
        FieldType::Id => {
            let id = parse_id(key)?;
            if let Some(prefix) = schema.key_prefix.as_deref()
                && prefix != id.key_prefix()
            {
                return Err(ToolError::Input(format!(
                    "{id} is not a {} Id ({} Ids start with {prefix})",
                    schema.name, schema.name
                )));
            }
            Ok(Literal::String(id.to_string()))
        }
        FieldType::Int | FieldType::Long => key
            .parse::<i64>()
            .map(Literal::Integer)
            .map_err(|_| not_a_number(field.name.as_str(), key)),
        FieldType::Double => key
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Literal::Decimal)
            .ok_or_else(|| not_a_number(field.name.as_str(), key)),
        _ => Ok(Literal::String(key.to_string())),
    }
}

fn not_a_number(field: &str, key: &str) -> ToolError {
    ToolError::Input(format!(
        "{field} holds numbers, and key '{}' is not one",
        quoted(key)
    ))
}

/// Whether a stored key value is the given one, as Salesforce matches external ids: text
/// without regard to case, numbers by value.
fn same_key(stored: &Value, given: &str) -> bool {
    match stored {
        Value::String(text) => text.trim().eq_ignore_ascii_case(given),
        Value::Number(number) => match (number.as_f64(), given.trim().parse::<f64>()) {
            (Some(a), Ok(b)) => a == b,
            _ => false,
        },
        _ => false,
    }
}

/// A key on one of sfmcp's own lines: quoted and escaped.
fn render_key(key: &str) -> String {
    crate::render::quoted(&Value::String(quoted(key)))
}
