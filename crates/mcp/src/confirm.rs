//! `confirm_writes`: a person approves each create and update before it is sent.
//!
//! The question goes through the MCP client, never through the model:
//! - on MCP 2026-07-28, as an input-required result (SEP-2322): the call returns an
//!   elicitation for the client to put to the person, with a sealed `requestState` naming
//!   exactly this write; the client retries with the answer and the same state;
//! - on older protocol versions, as an `elicitation/create` request while the call waits;
//! - a client that declared no elicitation gets the preview and a refusal: a write is never
//!   approved silently.
//!
//! The sealed state is bound to the tenant, the method, the path, the object, and every
//! record's Id and checked fields (a batch is one question and one approval for all its
//! records), expires after a few minutes, and is spent once, so an approval cannot be replayed
//! to send a second record or another change.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmcp::RoleServer;
use rmcp::model::{
    CallToolResult, ContentBlock, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, InputRequest, InputRequests, InputRequiredResult,
    InputResponses, ProtocolVersion, ServerRequest,
};
use rmcp::service::{PeerRequestOptions, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::cursor::CursorKey;
use super::error::ToolError;
use sfmcp_salesforce::SalesforceId;

/// The key of our one input request, and the form field the person ticks.
const INPUT_KEY: &str = "confirm_write";
const CONFIRM_FIELD: &str = "confirm";
/// Binds sealed confirmation states to this purpose (they never open as cursors).
const PURPOSE: &[u8] = b"sfmcp write confirmation v1";
/// How long a person has to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const STATE_TTL_SECS: i64 = 10 * 60;

/// A write that is checked and ready to send: one record, or a batch sent all or none.
pub(crate) struct PendingWrite<'a> {
    pub method: &'static str,
    /// The resource, as the dry run shows it: `/sobjects/Lead`, `/composite/sobjects`.
    pub path: String,
    pub object: &'a str,
    pub records: Vec<PendingRecord<'a>>,
    /// What the person must not miss: values outside a picklist, values respelled.
    pub notes: &'a [String],
    /// A batch of several objects: each record's, in order (empty: all are `object`).
    pub objects: Vec<&'a str>,
    /// An upsert's external id field: records are matched on it, and sent without an Id.
    pub key: Option<&'a str>,
}

/// One record of a write.
#[derive(Clone, Copy)]
pub(crate) struct PendingRecord<'a> {
    /// The record changed; `None` for a create.
    pub id: Option<&'a SalesforceId>,
    pub fields: &'a Map<String, Value>,
    /// For an update, the values the fields hold now, so the person sees what changes.
    pub before: Option<&'a Map<String, Value>>,
}

impl<'a> PendingWrite<'a> {
    /// One record at `/sobjects/{object}[/{id}]`.
    pub fn one(
        method: &'static str,
        object: &'a str,
        record: PendingRecord<'a>,
        notes: &'a [String],
    ) -> Self {
        let path = match record.id {
            Some(id) => format!("/sobjects/{object}/{id}"),
            None => format!("/sobjects/{object}"),
        };
        PendingWrite {
            method,
            path,
            object,
            records: vec![record],
            notes,
            objects: Vec::new(),
            key: None,
        }
    }

    /// What the person reads: the change in Salesforce's terms, one field a line, every
    /// record of a batch.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        for note in self.notes {
            text.push_str(&format!("⚠ {note}\n"));
        }
        if let [record] = self.records.as_slice() {
            text.push_str(&match record.id {
                Some(id) => format!("Update {} {id} in Salesforce:\n", self.object),
                None => format!("Create a {} record in Salesforce:\n", self.object),
            });
            push_fields(&mut text, record, "  ");
            return text;
        }
        let verb = if self.key.is_some() {
            "Upsert"
        } else if self.records.iter().all(|r| r.id.is_none()) {
            "Create"
        } else {
            "Update"
        };
        text.push_str(&format!(
            "{verb} {} {} records in Salesforce{}, all or none:\n",
            self.records.len(),
            self.object,
            self.key.map(|k| format!(" by {k}")).unwrap_or_default()
        ));
        for (n, record) in self.records.iter().enumerate() {
            let object = self
                .objects
                .get(n)
                .map(|o| format!(" {o}"))
                .unwrap_or_default();
            match (record.id, self.key) {
                (Some(id), Some(_)) => text.push_str(&format!("#{n} update{object} {id}:\n")),
                (None, Some(_)) => text.push_str(&format!("#{n} create{object}:\n")),
                (Some(id), None) => text.push_str(&format!("#{n}{object} {id}:\n")),
                (None, None) => text.push_str(&format!("#{n}{object}:\n")),
            }
            push_fields(&mut text, record, "  ");
        }
        text
    }

    /// The request as it would be sent, as the dry run shows it.
    pub fn request_line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The body as it would be sent: the fields of one record, or the collection.
    pub fn body(&self) -> Value {
        match self.records.as_slice() {
            [record] if !self.path.starts_with("/composite/") => {
                Value::Object(record.fields.clone())
            }
            records => {
                let records: Vec<Value> = records
                    .iter()
                    .enumerate()
                    .map(|(n, r)| {
                        let mut record = Map::new();
                        let object = self.objects.get(n).copied().unwrap_or(self.object);
                        record.insert("attributes".into(), json!({ "type": object }));
                        if let (Some(id), None) = (r.id, self.key) {
                            record.insert("Id".into(), Value::String(id.to_string()));
                        }
                        record.extend(r.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                        Value::Object(record)
                    })
                    .collect();
                json!({ "allOrNone": true, "records": records })
            }
        }
    }

    /// Names this exact write for this tenant; a different record, field or value is
    /// another write.
    fn digest(&self, tenant: &str) -> String {
        let records: Vec<Value> = self
            .records
            .iter()
            .map(|r| json!([r.id.map(SalesforceId::as_str), r.fields]))
            .collect();
        let canonical = json!([
            tenant,
            self.method,
            self.path,
            self.object,
            self.objects,
            records
        ]);
        let hash = sfmcp_salesforce::crypto::sha256(canonical.to_string().as_bytes());
        URL_SAFE_NO_PAD.encode(&hash[..18])
    }
}

fn push_fields(text: &mut String, record: &PendingRecord<'_>, indent: &str) {
    for (name, value) in record.fields {
        match record.before {
            Some(before) => text.push_str(&format!(
                "{indent}{name}: {} → {}\n",
                shown(before.get(name).unwrap_or(&Value::Null)),
                shown(value)
            )),
            None => text.push_str(&format!("{indent}{name}: {}\n", shown(value))),
        }
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(empty)".into(),
        // Quoted and escaped: a value (the record's, or the caller's) cannot forge a line.
        other => crate::render::quoted(other),
    }
}

/// The client's part of an MRTR retry.
#[derive(Default)]
pub(crate) struct Round {
    pub request_state: Option<String>,
    pub input_responses: Option<InputResponses>,
}

pub(crate) enum Decision {
    /// The person said yes: send it.
    Approved,
    /// Nothing is sent: declined, cancelled, unanswered, or nobody could be asked.
    NotSent(CallToolResult),
    /// Return this to the client; its retry carries the answer.
    Ask(InputRequiredResult),
}

#[derive(Serialize, Deserialize)]
struct SealedQuestion {
    /// [`PendingWrite::digest`] of the write the person is asked about.
    #[serde(rename = "d")]
    digest: String,
    /// Unix seconds.
    #[serde(rename = "e")]
    expires_at: i64,
    /// Spent once (see [`spend`]).
    #[serde(rename = "n")]
    nonce: String,
}

/// Asks the person about `write`, or reads their answer from the client's retry.
pub(crate) async fn confirm(
    key: &CursorKey,
    tenant: &str,
    write: &PendingWrite<'_>,
    round: Round,
    context: &RequestContext<RoleServer>,
) -> Result<Decision, ToolError> {
    if let Some(state) = round.request_state {
        return answered(key, tenant, write, &state, round.input_responses);
    }
    let modern = context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
    let can_ask = context
        .client_capabilities()
        .and_then(|c| c.elicitation)
        .is_some_and(|e| e.form.is_some() || e.url.is_none());
    if !can_ask {
        return Ok(Decision::NotSent(refused(write)));
    }
    if modern {
        let now = chrono::Utc::now().timestamp();
        let nonce: [u8; 12] = sfmcp_salesforce::crypto::random_bytes();
        let state = key.seal_value(
            PURPOSE,
            &SealedQuestion {
                digest: write.digest(tenant),
                expires_at: now + STATE_TTL_SECS,
                nonce: URL_SAFE_NO_PAD.encode(nonce),
            },
        );
        let mut requests = InputRequests::new();
        requests.insert(
            INPUT_KEY.to_string(),
            InputRequest::Elicitation(ElicitRequest::new(question(write))),
        );
        return Ok(Decision::Ask(InputRequiredResult::new(
            Some(requests),
            Some(state),
        )));
    }
    // Before 2026-07-28 the server may ask the client while the call waits.
    let request = ServerRequest::ElicitRequest(ElicitRequest::new(question(write)));
    let handle = context
        .peer
        .send_request_with_option(request, PeerRequestOptions::with_timeout(ANSWER_TIMEOUT))
        .await;
    let response = match handle {
        Ok(handle) => tokio::select! {
            response = handle.await_response() => response,
            () = context.ct.cancelled() => {
                return Ok(Decision::NotSent(not_sent(write, "cancelled", "The call was cancelled before the person answered; nothing was sent.")));
            }
        },
        Err(e) => Err(e),
    };
    match response {
        Ok(rmcp::model::ClientResult::ElicitResult(result)) => Ok(decide(write, &result)),
        Ok(_) => Ok(Decision::NotSent(not_sent(
            write,
            "no_answer",
            "The client answered the confirmation with something else; nothing was sent. Try again.",
        ))),
        Err(e) => Ok(Decision::NotSent(not_sent(
            write,
            "no_answer",
            &format!(
                "The person could not be asked ({e}); nothing was sent. Try again, or make the change in Salesforce."
            ),
        ))),
    }
}

fn question(write: &PendingWrite<'_>) -> ElicitRequestParams {
    let schema = ElicitationSchema::builder()
        .required_bool_property(CONFIRM_FIELD, |b| {
            b.title("Send this change to Salesforce").with_default(true)
        })
        .build_unchecked();
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!(
            "{}\nSend this change? Nothing is sent unless you accept.",
            write.summary()
        ),
        requested_schema: schema,
    }
}

/// The retry of an MRTR round: the sealed question must be ours, current, unspent and about
/// this very write; then the person's answer decides.
fn answered(
    key: &CursorKey,
    tenant: &str,
    write: &PendingWrite<'_>,
    state: &str,
    responses: Option<InputResponses>,
) -> Result<Decision, ToolError> {
    let question: SealedQuestion = key.open_value(PURPOSE, state).ok_or_else(|| {
        ToolError::Input(
            "this confirmation is not one this server asked for, or it was altered; nothing was sent. Call the tool again to ask the person.".into(),
        )
    })?;
    let now = chrono::Utc::now().timestamp();
    if now >= question.expires_at {
        return Err(ToolError::Input(
            "the person's confirmation expired; nothing was sent. Call the tool again to ask again.".into(),
        ));
    }
    if question.digest != write.digest(tenant) {
        return Err(ToolError::Input(
            "the person confirmed a different change than this one; nothing was sent. Call the tool again without requestState so they are asked about this change.".into(),
        ));
    }
    let answer = responses
        .as_ref()
        .and_then(|r| r.get(INPUT_KEY))
        .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok());
    let Some(answer) = answer else {
        return Err(ToolError::Input(format!(
            "the retry carries no answer to '{INPUT_KEY}'; nothing was sent. Put the question to the person and send their answer in inputResponses."
        )));
    };
    let decision = decide(write, &answer);
    if matches!(decision, Decision::Approved) && !spend(&question.nonce, question.expires_at, now) {
        return Err(ToolError::Input(
            "this confirmation was already used; nothing was sent again. Call the tool again to ask the person about another change.".into(),
        ));
    }
    Ok(decision)
}

fn decide(write: &PendingWrite<'_>, answer: &ElicitResult) -> Decision {
    match answer.action {
        ElicitationAction::Accept => {
            let confirmed = answer
                .content
                .as_ref()
                .and_then(|c| c.get(CONFIRM_FIELD))
                .and_then(Value::as_bool)
                == Some(true);
            if confirmed {
                Decision::Approved
            } else {
                Decision::NotSent(not_sent(
                    write,
                    "declined",
                    "The person did not tick 'Send this change'; nothing was sent.",
                ))
            }
        }
        ElicitationAction::Decline => Decision::NotSent(not_sent(
            write,
            "declined",
            "The person declined this change; nothing was sent. Ask them what to change before trying again.",
        )),
        // Cancel, and any answer newer than this code knows: not a yes.
        _ => Decision::NotSent(not_sent(
            write,
            "cancelled",
            "The person dismissed the confirmation; nothing was sent.",
        )),
    }
}

fn not_sent(write: &PendingWrite<'_>, reason: &str, message: &str) -> CallToolResult {
    let text = format!("Not sent. {message}\n{}", write.summary());
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({ "sent": false, "reason": reason }));
    result
}

/// No way to ask anyone: the preview, and what would let the write go.
fn refused(write: &PendingWrite<'_>) -> CallToolResult {
    let body = serde_json::to_string_pretty(&write.body()).unwrap_or_default();
    let notes: String = write.notes.iter().map(|n| format!("⚠ {n}\n")).collect();
    let text = format!(
        "Not sent: this server requires a person to confirm every write (confirm_writes), and this MCP client offers no way to ask them (neither input-required results nor elicitation). This is the change:\n{notes}{}\n{}\nTo proceed, show it to the person and have them make it in Salesforce, or use an MCP client that supports elicitation; the server's operator can turn off confirm_writes.",
        write.request_line(),
        body
    );
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.structured_content = Some(json!({
        "sent": false,
        "reason": "cannot_confirm",
        "method": write.method,
        "path": write.path,
        "body": write.body(),
    }));
    result
}

/// Marks a confirmation spent; false when it already was. Kept per process: a replica that
/// shares the sealing key could still accept a copy within the state's few minutes, which
/// only a shared store would prevent.
fn spend(nonce: &str, expires_at: i64, now: i64) -> bool {
    static SPENT: OnceLock<Mutex<HashMap<String, i64>>> = OnceLock::new();
    let Ok(mut spent) = SPENT.get_or_init(Mutex::default).lock() else {
        return false;
    };
    spent.retain(|_, expiry| *expiry > now);
    spent.insert(nonce.to_string(), expires_at).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Map<String, Value> {
        json!({"LastName": "Ng", "Company": "Acme"})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    fn created(fields: &Map<String, Value>) -> PendingRecord<'_> {
        PendingRecord {
            id: None,
            fields,
            before: None,
        }
    }

    fn answer(action: ElicitationAction, confirm: Option<bool>) -> InputResponses {
        let mut result = ElicitResult::new(action);
        if let Some(confirm) = confirm {
            result = result.with_content(json!({ CONFIRM_FIELD: confirm }));
        }
        let mut responses = InputResponses::new();
        responses.insert(
            INPUT_KEY.into(),
            serde_json::to_value(result).unwrap_or_default(),
        );
        responses
    }

    fn sealed(key: &CursorKey, digest: String, expires_at: i64) -> String {
        let nonce: [u8; 12] = sfmcp_salesforce::crypto::random_bytes();
        key.seal_value(
            PURPOSE,
            &SealedQuestion {
                digest,
                expires_at,
                nonce: URL_SAFE_NO_PAD.encode(nonce),
            },
        )
    }

    #[test]
    fn an_answer_counts_only_for_the_write_it_was_asked_about_and_only_once() {
        let key = CursorKey::random();
        let fields = fields();
        let write = PendingWrite::one("POST", "Lead", created(&fields), &[]);
        let far = chrono::Utc::now().timestamp() + 60;
        let state = sealed(&key, write.digest("tenant-a"), far);
        let yes = || Some(answer(ElicitationAction::Accept, Some(true)));

        let approved = answered(&key, "tenant-a", &write, &state, yes());
        assert!(matches!(approved, Ok(Decision::Approved)));
        let replay = answered(&key, "tenant-a", &write, &state, yes());
        assert!(matches!(replay, Err(ToolError::Input(m)) if m.contains("already used")));

        let mut other_fields = fields.clone();
        other_fields.insert("Company".into(), json!("Evil Corp"));
        let other = PendingWrite::one("POST", "Lead", created(&other_fields), &[]);
        let state = sealed(&key, write.digest("tenant-a"), far);
        let changed = answered(&key, "tenant-a", &other, &state, yes());
        assert!(matches!(changed, Err(ToolError::Input(m)) if m.contains("different change")));
        let elsewhere = answered(&key, "tenant-b", &write, &state, yes());
        assert!(matches!(elsewhere, Err(ToolError::Input(_))));

        let stale = sealed(&key, write.digest("tenant-a"), far - 120);
        let expired = answered(&key, "tenant-a", &write, &stale, yes());
        assert!(matches!(expired, Err(ToolError::Input(m)) if m.contains("expired")));
        let forged = answered(&key, "tenant-a", &write, "bm90IG91cnM", yes());
        assert!(matches!(forged, Err(ToolError::Input(m)) if m.contains("not one this server")));
        let foreign = answered(&CursorKey::random(), "tenant-a", &write, &state, yes());
        assert!(matches!(foreign, Err(ToolError::Input(_))));
    }

    #[test]
    fn only_an_accepted_tick_approves() {
        let key = CursorKey::random();
        let fields = fields();
        let write = PendingWrite::one("POST", "Lead", created(&fields), &[]);
        let far = chrono::Utc::now().timestamp() + 60;
        for (responses, reason) in [
            (Some(answer(ElicitationAction::Decline, None)), "declined"),
            (Some(answer(ElicitationAction::Cancel, None)), "cancelled"),
            (
                Some(answer(ElicitationAction::Accept, Some(false))),
                "declined",
            ),
            (Some(answer(ElicitationAction::Accept, None)), "declined"),
        ] {
            let state = sealed(&key, write.digest("t"), far);
            match answered(&key, "t", &write, &state, responses) {
                Ok(Decision::NotSent(result)) => {
                    assert_eq!(
                        result.structured_content,
                        Some(json!({"sent": false, "reason": reason}))
                    );
                    assert_ne!(result.is_error, Some(true));
                }
                _ => panic!("{reason}: must not be approved"),
            }
        }
        let state = sealed(&key, write.digest("t"), far);
        let missing = answered(&key, "t", &write, &state, None);
        assert!(matches!(missing, Err(ToolError::Input(m)) if m.contains("no answer")));
    }

    #[test]
    fn the_person_sees_each_change_with_its_current_value() {
        let fields = json!({"Company": "Acme Corp", "Phone": null})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let before = json!({"Company": "Acme", "Phone": "555-0100"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let id = SalesforceId::parse("00Q000000000001").unwrap_or_else(|e| panic!("{e}"));
        let record = PendingRecord {
            id: Some(&id),
            fields: &fields,
            before: Some(&before),
        };
        let write = PendingWrite::one("PATCH", "Lead", record, &[]);
        assert_eq!(
            write.summary(),
            format!(
                "Update Lead {id} in Salesforce:\n  Company: \"Acme\" → \"Acme Corp\"\n  Phone: \"555-0100\" → (empty)\n"
            )
        );
        assert_eq!(write.request_line(), format!("PATCH /sobjects/Lead/{id}"));
    }

    #[test]
    fn what_the_person_must_not_miss_comes_first() {
        let fields = json!({"StageName": "Verbal"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let notes = vec!["StageName: 'Verbal' is NOT one of the picklist's values".to_string()];
        let write = PendingWrite::one("POST", "Opportunity", created(&fields), &notes);
        assert!(
            write.summary().starts_with(
                "⚠ StageName: 'Verbal' is NOT one of the picklist's values\nCreate a Opportunity"
            ),
            "{}",
            write.summary()
        );
        let refusal = refused(&write);
        let shown = format!("{:?}", refusal.content);
        assert!(shown.contains("⚠ StageName"), "{shown}");
    }

    #[test]
    fn a_batch_is_one_question_showing_every_record_and_bound_to_all_of_them() {
        let first = json!({"CloseDate": "2026-01-31"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let second = json!({"CloseDate": "2026-02-28"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let before = json!({"CloseDate": "2025-12-31"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let a = SalesforceId::parse("006000000000001AAA").unwrap_or_else(|e| panic!("{e}"));
        let b = SalesforceId::parse("006000000000002AAA").unwrap_or_else(|e| panic!("{e}"));
        let record = |id, fields| PendingRecord {
            id: Some(id),
            fields,
            before: Some(&before),
        };
        let batch = |records| PendingWrite {
            method: "PATCH",
            path: "/composite/sobjects".into(),
            object: "Opportunity",
            records,
            notes: &[],
            objects: Vec::new(),
            key: None,
        };
        let write = batch(vec![record(&a, &first), record(&b, &second)]);
        assert_eq!(
            write.summary(),
            format!(
                "Update 2 Opportunity records in Salesforce, all or none:\n#0 {a}:\n  CloseDate: \"2025-12-31\" → \"2026-01-31\"\n#1 {b}:\n  CloseDate: \"2025-12-31\" → \"2026-02-28\"\n"
            )
        );
        assert_eq!(write.request_line(), "PATCH /composite/sobjects");
        assert_eq!(write.body()["allOrNone"], json!(true));
        assert_eq!(write.body()["records"][1]["Id"], json!(b.as_str()));
        // Approving these two changes approves neither a subset nor a swap.
        let key = CursorKey::random();
        let far = chrono::Utc::now().timestamp() + 60;
        let yes = || Some(answer(ElicitationAction::Accept, Some(true)));
        for other in [
            batch(vec![record(&a, &first)]),
            batch(vec![record(&a, &second), record(&b, &first)]),
        ] {
            let state = sealed(&key, write.digest("t"), far);
            let moved = answered(&key, "t", &other, &state, yes());
            assert!(matches!(moved, Err(ToolError::Input(m)) if m.contains("different change")));
        }
    }
}
