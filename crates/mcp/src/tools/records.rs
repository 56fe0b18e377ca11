//! `get_record`, `create_record(s)`, `update_record(s)`, `upsert_record(s)` and `record_url`. Writes
//! are checked against describe before anything is sent, can be previewed with `dry_run`,
//! and are never retried blindly. `create_records` and `update_records` send up to 200 at
//! once, all or none, and `upsert_records` up to 200 by an external id (`super::batch`).
//! There is no delete.

use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::args::Parameters;
use crate::confirm::{self, Decision, PendingRecord, PendingWrite, Round};
use crate::error::ToolError;
use crate::render;
use crate::render::with_url;
use crate::server::SfServer;
use crate::tools::batch::WriteOptions;
use crate::tools::objects::known_fields;
use crate::write_check::{self, Checked, WriteContext, WriteKind};
use sfmcp_salesforce::{RecordLinks, SalesforceClient, SalesforceId, standard_object_for_prefix};

/// A field value longer than this is cut in `get_record`'s text when the call names no
/// fields (long text areas run to 131,072 characters); a field named in `fields` comes
/// whole, so every value can be read in full from the text alone.
const MAX_VALUE_CHARS: usize = 4_000;

/// Ids one `record_url` call converts at most.
const MAX_URL_IDS: usize = 200;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetRecordArgs {
    pub id: String,
    /// default: from the Id
    pub object: Option<String>,
    /// default: all
    pub fields: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateRecordArgs {
    pub object: String,
    /// API name to value
    pub fields: Map<String, Value>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateRecordArgs {
    pub id: String,
    // Not described: tools/list has 400 bytes a tool, create_record describes `fields`, and
    // the description says the Id is enough.
    pub fields: Map<String, Value>,
    pub object: Option<String>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateRecordsArgs {
    // Optional: a record may name its own object, as Salesforce's collections do
    // (`attributes.type`, said in the description).
    pub object: Option<String>,
    // Field maps. Not described: the 400 bytes of tools/list hold the name and the items'
    // type, which say it.
    pub records: Vec<Map<String, Value>>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateRecordsArgs {
    // Field maps, each with the record's Id (the description says "by Id").
    pub records: Vec<Map<String, Value>>,
    pub object: Option<String>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpsertRecordArgs {
    pub object: String,
    // `{"ERP_Id__c": "ERP-00042"}`: the key field (an external id field, or Id) and its
    // value. Not described: the tool's description shows it, within 400 bytes.
    #[serde(rename = "match")]
    pub key: Map<String, Value>,
    pub fields: Map<String, Value>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpsertRecordsArgs {
    pub object: String,
    // An external id field; each record holds its value. Not described: the 400 bytes of
    // tools/list (output schema included) leave the description "on external id key", and
    // the refusal of a record without its key value says the rest. All or none, like
    // every batch.
    pub key: String,
    pub records: Vec<Map<String, Value>>,
    pub dry_run: Option<bool>,
    pub allow_unlisted: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecordUrlArgs {
    pub ids: Vec<String>,
    /// default: from each Id
    pub object: Option<String>,
}

#[tool_router(router = records_router, vis = "pub(crate)")]
impl SfServer {
    /// One record by Id; the object is inferred from the Id.
    #[tool(annotations(read_only_hint = true))]
    async fn get_record(
        &self,
        Parameters(args): Parameters<GetRecordArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let id = parse_id(&args.id)?;
        let client = self.client(&context)?;
        let object = match args.object.as_deref().map(str::trim) {
            Some(given) if !given.is_empty() => self.known_object(&client, given).await?,
            _ => {
                let object = object_for(&client, &id, None).await?;
                self.policy().check_object(&object)?;
                object
            }
        };
        let named_fields = args.fields.is_some();
        let fields = match args.fields {
            Some(fields) if fields.is_empty() => {
                return Err(ToolError::Input(
                    "fields is empty: name the fields to read, or leave fields out for all of them"
                        .into(),
                ));
            }
            Some(fields) => {
                // Denied before anything is sent, describes included.
                for field in &fields {
                    if self.policy().is_field_denied(&object, field.trim()) {
                        return Err(ToolError::Denied(format!(
                            "{object}.{} is denied by the operator (--deny-fields); leave it out of fields",
                            crate::write_check::quoted(field.trim())
                        )));
                    }
                }
                // Checked against the cached describe: a misspelled field costs no request
                // for the record.
                let schema = client.describe(&object).await?;
                Some(known_fields(self.policy(), &schema, &fields)?)
            }
            // With fields denied, name the visible ones so the denied never leave Salesforce.
            None if !self.policy().deny_fields.is_empty() => {
                let schema = client.describe(&object).await?;
                let visible = self.without_denied_fields(&schema);
                Some(visible.fields.iter().map(|f| f.name.clone()).collect())
            }
            None => None,
        };
        let record = client.get_record(&object, &id, fields.as_deref()).await?;
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let mut text = String::new();
        if let Some(url) = links.url(&object, &id) {
            text.push_str(&format!("{object} {id}: {url}\n"));
        } else {
            text.push_str(&format!("{object} {id}\n"));
        }
        text.push_str(render::DATA_OPEN);
        let mut line = String::new();
        let mut fields_left_out = false;
        let mut values_cut = false;
        let mut shown = 0;
        let max_chars = if named_fields {
            usize::MAX
        } else {
            MAX_VALUE_CHARS
        };
        for (name, value) in &record {
            if name == "attributes" || value.is_null() {
                continue;
            }
            line.clear();
            let value_cut = render::push_member(&mut line, name, value, max_chars);
            // The first field is shown whatever its length: a field asked for by name is
            // read whole (Salesforce's longest is 131,072 characters).
            if shown > 0 && text.len() + line.len() > render::MAX_TEXT_BYTES {
                fields_left_out = true;
                break;
            }
            values_cut |= value_cut;
            shown += 1;
            text.push_str(&line);
        }
        text.push_str(render::DATA_CLOSE);
        if values_cut {
            text.push_str(&format!("a value ending …[+N chars] is cut at {MAX_VALUE_CHARS} characters: name its field in fields to read it whole\n"));
        }
        if fields_left_out {
            text.push_str("…more fields not shown as text; name the ones you need in fields\n");
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(with_url(Value::Object(record), &links));
        Ok(result)
    }

    /// Create a record (checked first); dry_run previews.
    #[tool(annotations(destructive_hint = false))]
    async fn create_record(
        &self,
        Parameters(args): Parameters<CreateRecordArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        let given = args.fields;
        self.check_writable(&args.object, &given)?;
        let client = self.client(&context)?;
        let schema = client.describe(args.object.trim()).await?;
        let write_context = WriteContext {
            allow_unlisted: self.unlisted_meant(args.allow_unlisted),
            objects_by_prefix: reference_targets(&client, &schema, &given).await,
            current: None,
        };
        let Checked { fields, notes } =
            write_check::check(&schema, WriteKind::Create, &given, &write_context)
                .map_err(ToolError::Write)?;
        let object = schema.name.clone();
        if args.dry_run.unwrap_or(false) {
            return Ok(preview("POST", &object, None, &fields, &notes).into());
        }
        let record = PendingRecord {
            id: None,
            fields: &fields,
            before: None,
        };
        let write = PendingWrite::one("POST", &object, record, &notes);
        if let Some(stop) = self.confirmation(&client, &write, round, &context).await? {
            return Ok(stop);
        }
        let created = client.create(&object, &fields).await?;
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let url = SalesforceId::parse(&created.id)
            .ok()
            .and_then(|id| links.url(&object, &id));
        let mut text = format!("Created {object} {}", created.id);
        if let Some(url) = &url {
            text.push_str(&format!(": {url}"));
        }
        push_notes(&mut text, &notes);
        let mut structured = json!({ "id": created.id });
        if let Some(url) = url {
            structured["url"] = Value::String(url);
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        Ok(result.into())
    }

    /// Update a record by Id; returns before/after; dry_run previews.
    #[tool(annotations(destructive_hint = false))]
    async fn update_record(
        &self,
        Parameters(args): Parameters<UpdateRecordArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        self.check_not_read_only()?;
        let (id, given) = (args.id, args.fields);
        let id = parse_id(&id)?;
        let client = self.client(&context)?;
        let object = object_for(&client, &id, args.object.as_deref()).await?;
        self.check_writable(&object, &given)?;
        let schema = client.describe(object.trim()).await?;
        if let Some(prefix) = schema.key_prefix.as_deref()
            && prefix != id.key_prefix()
        {
            return Err(ToolError::Input(format!(
                "{id} is not a {} Id ({} Ids start with {prefix}); check the object or the Id, or leave object out to infer it from the Id",
                schema.name, schema.name
            )));
        }
        let object = schema.name.clone();
        // A dependent picklist is checked against its controlling field's value: when the
        // write leaves the controller alone, read what it holds (unless the operator hides
        // it: then Salesforce decides).
        let controllers: Vec<String> = write_check::controllers_to_read(&schema, &given)
            .into_iter()
            .filter(|c| !self.policy().is_field_denied(&object, c))
            .collect();
        let current = if controllers.is_empty() {
            Map::new()
        } else {
            client.get_record(&object, &id, Some(&controllers)).await?
        };
        let write_context = WriteContext {
            allow_unlisted: self.unlisted_meant(args.allow_unlisted),
            objects_by_prefix: reference_targets(&client, &schema, &given).await,
            current: Some(&current),
        };
        let Checked { fields, notes } =
            write_check::check(&schema, WriteKind::Update, &given, &write_context)
                .map_err(ToolError::Write)?;
        if args.dry_run.unwrap_or(false) {
            return Ok(preview("PATCH", &object, Some(&id), &fields, &notes).into());
        }
        let names: Vec<String> = fields.keys().cloned().collect();
        let before = client.get_record(&object, &id, Some(&names)).await?;
        let record = PendingRecord {
            id: Some(&id),
            fields: &fields,
            before: Some(&before),
        };
        let write = PendingWrite::one("PATCH", &object, record, &notes);
        if let Some(stop) = self.confirmation(&client, &write, round, &context).await? {
            return Ok(stop);
        }
        client.update(&object, &id, &fields).await?;
        // Read back: triggers, formulas and normalization decide what was really stored.
        let after = client.get_record(&object, &id, Some(&names)).await?;
        let links = client.record_links().await.unwrap_or(RecordLinks::None);
        let mut text = format!("Updated {object} {id}");
        if let Some(url) = links.url(&object, &id) {
            text.push_str(&format!(": {url}"));
        }
        push_notes(&mut text, &notes);
        text.push('\n');
        let mut changes = Vec::new();
        for name in &names {
            let old = before.get(name).cloned().unwrap_or(Value::Null);
            let new = after.get(name).cloned().unwrap_or(Value::Null);
            text.push_str(&format!("{name}: {} → {}\n", show(&old), show(&new)));
            changes.push(json!({ "field": name, "before": old, "after": new }));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "id": id.as_str(), "changes": changes }));
        Ok(result.into())
    }

    /// Create up to 200 records (each may set attributes.type), all or none
    #[tool(annotations(destructive_hint = false))]
    async fn create_records(
        &self,
        Parameters(args): Parameters<CreateRecordsArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        let options = WriteOptions {
            dry_run: args.dry_run.unwrap_or(false),
            allow_unlisted: args.allow_unlisted,
        };
        self.create_batch(
            args.object.as_deref(),
            args.records,
            options,
            round,
            &context,
        )
        .await
    }

    /// Update up to 200 records by Id, all or none; dry_run previews.
    #[tool(annotations(destructive_hint = false))]
    async fn update_records(
        &self,
        Parameters(args): Parameters<UpdateRecordsArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        let options = WriteOptions {
            dry_run: args.dry_run.unwrap_or(false),
            allow_unlisted: args.allow_unlisted,
        };
        self.update_batch(
            args.object.as_deref(),
            args.records,
            options,
            round,
            &context,
        )
        .await
    }

    /// Upsert on match {ExtIdField: value}; dry_run previews.
    #[tool(annotations(destructive_hint = false))]
    async fn upsert_record(
        &self,
        Parameters(args): Parameters<UpsertRecordArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        self.upsert(args, round, &context).await
    }

    /// Upsert 1-200 on external id key
    #[tool(annotations(destructive_hint = false))]
    async fn upsert_records(
        &self,
        Parameters(args): Parameters<UpsertRecordsArgs>,
        RequestState(request_state): RequestState,
        InputResponses(input_responses): InputResponses,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let round = Round {
            request_state,
            input_responses,
        };
        let options = WriteOptions {
            dry_run: args.dry_run.unwrap_or(false),
            allow_unlisted: args.allow_unlisted,
        };
        self.upsert_batch(
            &args.object,
            &args.key,
            args.records,
            options,
            round,
            &context,
        )
        .await
    }

    /// Lightning URLs for record Ids.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn record_url(
        &self,
        Parameters(args): Parameters<RecordUrlArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        if args.ids.is_empty() || args.ids.len() > MAX_URL_IDS {
            return Err(ToolError::Input(format!(
                "send between 1 and {MAX_URL_IDS} ids"
            )));
        }
        let client = self.client(&context)?;
        let links = client.record_links().await?;
        // The object goes into every URL's path and the text's lines: only an object the org
        // has, under its own name, may.
        let given = match args.object.as_deref().map(str::trim) {
            Some(object) if !object.is_empty() => Some(self.known_object(&client, object).await?),
            _ => None,
        };
        let mut text = String::new();
        let mut urls = Vec::new();
        for raw in &args.ids {
            let id = parse_id(raw)?;
            let object = object_for(&client, &id, given.as_deref()).await?;
            // A link names the object and the record: not for objects the operator refuses.
            self.policy().check_object(&object)?;
            let url = links.url(&object, &id).ok_or_else(|| {
                ToolError::Input(
                    "this connection does not know its org's instance URL, so it cannot link records; set SF_INSTANCE_URL".into(),
                )
            })?;
            text.push_str(&format!("{id} {url}\n"));
            urls.push(json!({ "id": id.as_str(), "object": object, "url": url }));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "urls": urls }));
        Ok(result)
    }
}

impl SfServer {
    /// With `confirm_writes` on: `None` once the person approved `write`, otherwise what to
    /// answer instead of sending (their refusal, or the question for the client to ask).
    pub(crate) async fn confirmation(
        &self,
        client: &SalesforceClient,
        write: &PendingWrite<'_>,
        round: Round,
        context: &RequestContext<RoleServer>,
    ) -> Result<Option<CallToolResponse>, ToolError> {
        if !self.policy().confirm_writes {
            return Ok(None);
        }
        let tenant = client.tenant();
        let decision = confirm::confirm(
            &self.state.cursor_key,
            tenant.as_str(),
            write,
            round,
            context,
        )
        .await?;
        Ok(match decision {
            Decision::Approved => None,
            Decision::NotSent(result) => Some(result.into()),
            Decision::Ask(question) => Some(question.into()),
        })
    }

    /// A value outside a picklist is meant when the caller says so, or when a person
    /// confirms the write (the question shows it prominently, see `PendingWrite::summary`).
    pub(crate) fn unlisted_meant(&self, allow_unlisted: Option<bool>) -> bool {
        allow_unlisted.unwrap_or(false) || self.policy().confirm_writes
    }

    pub(crate) fn check_not_read_only(&self) -> Result<(), ToolError> {
        if self.policy().read_only {
            return Err(ToolError::Denied(
                "this server is read-only (--read-only): no record can be created or changed"
                    .into(),
            ));
        }
        Ok(())
    }

    pub(crate) fn check_writable(
        &self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), ToolError> {
        self.check_not_read_only()?;
        let policy = self.policy();
        policy.check_object(object.trim())?;
        if fields.is_empty() {
            return Err(ToolError::Input(
                "fields is empty: send the field API names and values to write".into(),
            ));
        }
        for name in fields.keys() {
            if policy.is_field_denied(object.trim(), name) {
                return Err(ToolError::Denied(format!(
                    "{object}.{name} is hidden by this server's settings (--deny-fields) and cannot be written"
                )));
            }
        }
        Ok(())
    }
}

pub(crate) fn parse_id(text: &str) -> Result<SalesforceId, ToolError> {
    SalesforceId::parse(text.trim()).map_err(|e| {
        ToolError::Input(format!(
            "{e}; a record Id is 15 or 18 letters and digits, like 001xx000003DGb2AAG"
        ))
    })
}

/// The object an Id belongs to: as given, or from its key prefix.
pub(crate) async fn object_for(
    client: &SalesforceClient,
    id: &SalesforceId,
    given: Option<&str>,
) -> Result<String, ToolError> {
    if let Some(object) = given.map(str::trim).filter(|o| !o.is_empty()) {
        return Ok(object.to_string());
    }
    if let Some(object) = standard_object_for_prefix(id.key_prefix()) {
        return Ok(object.to_string());
    }
    // Custom objects' prefixes vary by org: describe global knows them.
    let global = client.objects().await?;
    global
        .sobjects
        .iter()
        .find(|o| o.key_prefix.as_deref() == Some(id.key_prefix()))
        .map(|o| o.name.clone())
        .ok_or_else(|| {
            ToolError::Input(format!(
                "no object this user can see has Ids starting with {}; pass object explicitly",
                id.key_prefix()
            ))
        })
}

/// The object each record id written to a lookup belongs to, by key prefix, from the
/// well-known prefixes and the (cached) describe global; a prefix it could not resolve is
/// left out, and Salesforce decides.
pub(crate) async fn reference_targets(
    client: &SalesforceClient,
    schema: &sfmcp_soql::schema::ObjectSchema,
    fields: &Map<String, Value>,
) -> std::collections::HashMap<String, Option<String>> {
    let mut targets = std::collections::HashMap::new();
    for (name, value) in fields {
        let is_reference = schema
            .field(name)
            .is_some_and(|f| f.field_type == sfmcp_soql::schema::FieldType::Reference);
        let Some(id) = value
            .as_str()
            .filter(|_| is_reference)
            .and_then(|v| SalesforceId::parse(v).ok())
        else {
            continue;
        };
        if targets.contains_key(id.key_prefix()) {
            continue;
        }
        if let Ok(object) = client.object_for_id(&id).await {
            targets.insert(id.key_prefix().to_string(), object);
        }
    }
    targets
}

pub(crate) fn push_notes(text: &mut String, notes: &[String]) {
    for note in notes {
        text.push_str(&format!("\nNote: {note}"));
    }
}

fn preview(
    method: &str,
    object: &str,
    id: Option<&SalesforceId>,
    fields: &Map<String, Value>,
    notes: &[String],
) -> CallToolResult {
    let path = match id {
        Some(id) => format!("/sobjects/{object}/{id}"),
        None => format!("/sobjects/{object}"),
    };
    let body = serde_json::to_string_pretty(fields).unwrap_or_default();
    let mut text =
        format!("Dry run: nothing was sent. This is the request:\n{method} {path}\n{body}");
    push_notes(&mut text, notes);
    text.push('\n');
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(
        json!({ "dryRun": true, "method": method, "path": path, "body": fields, "notes": notes }),
    );
    result
}

/// A value on one of sfmcp's own lines: quoted and escaped, record text cannot end the line
/// or pass for sfmcp's words.
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::Null => "(empty)".into(),
        other => render::quoted(other),
    }
}
