//! Toolset "files". `record_files`: a record's files and notes, read-only: what
//! `ContentDocumentLink` links to the record (the latest `ContentVersion` of each: title,
//! type, size, owner, last modified, Lightning link), enhanced notes among them (`FileType`
//! `SNOTE`: a ContentNote is a file), and the classic `Note`s whose parent it is.
//!
//! Content: a file's bytes are read only when its type says it is text ([`is_text`]: from
//! `FileType`, or the extension when the type is unknown; never by looking at the bytes), and
//! then only the first `max_bytes` of it (`GET …/ContentVersion/{id}/VersionData`, read no
//! further: `SalesforceClient::file_head`), within [`CALL_BYTES`] for the whole answer; a cut
//! says so. Binary files (PDF, images, office documents) are listed, never read.
//!
//! Policy: the record's object, `ContentDocumentLink` and `ContentVersion` must be allowed
//! (`--allow-objects`), and classic notes are shown only when `Note` is; owners' names only
//! when `User` is. Fields the operator denies are left out of the queries sent (a denied
//! `ContentVersion.VersionData` means no content is read), and each query then goes through
//! `soql_query`'s own checks before it is sent. Titles, names, note bodies and file content
//! are record content: fenced like every other answer.

use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::args::Parameters;
use crate::error::ToolError;
use crate::render;
use crate::server::SfServer;
use crate::tools::records::{object_for, parse_id};
use sfmcp_salesforce::{QueryOptions, RecordLinks, SalesforceClient, SalesforceId};

/// Files and notes one call lists when `max_rows` is not given, and at most.
const DEFAULT_ROWS: u32 = 20;
const MAX_ROWS: u32 = 100;
/// Bytes of one text file read when `max_bytes` is not given, and at most.
const DEFAULT_BYTES: u32 = 2_000;
const MAX_BYTES: u32 = 16_000;
/// Bytes of content one answer reads in all, whatever `max_bytes` asks: with escaping, the
/// answer stays within the text budget.
pub(crate) const CALL_BYTES: usize = 24_000;
/// Links read per record: Salesforce's IN list of the versions query holds their documents.
const MAX_LINKS: usize = 200;

/// `FileType` values whose content is text.
const TEXT_TYPES: [&str; 8] = [
    "TEXT",
    "CSV",
    "JSON",
    "XML",
    "HTML",
    "SNOTE",
    "CSS",
    "JAVASCRIPT",
];
/// Extensions read as text when `FileType` says nothing (`UNKNOWN` or empty).
const TEXT_EXTENSIONS: [&str; 12] = [
    "txt", "csv", "tsv", "json", "xml", "md", "log", "yaml", "yml", "htm", "html", "ics",
];

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecordFilesArgs {
    pub id: String,
    /// text bytes read per file (default 2000, max 16000)
    pub max_bytes: Option<u32>,
    /// default 20, up to 100
    pub max_rows: Option<u32>,
}

/// Whether a file's content is text, from its metadata alone.
pub(crate) fn is_text(file_type: &str, extension: &str) -> bool {
    let file_type = file_type.trim();
    if TEXT_TYPES.iter().any(|t| t.eq_ignore_ascii_case(file_type)) {
        return true;
    }
    (file_type.is_empty() || file_type.eq_ignore_ascii_case("UNKNOWN"))
        && TEXT_EXTENSIONS
            .iter()
            .any(|e| e.eq_ignore_ascii_case(extension.trim()))
}

/// Bytes as text: invalid sequences shown as U+FFFD, and an incomplete character at the end
/// (where a cut fell inside it) dropped.
fn text_of(bytes: &[u8], cut: bool) -> String {
    let end = match std::str::from_utf8(bytes) {
        Err(e) if cut && e.error_len().is_none() => e.valid_up_to(),
        _ => bytes.len(),
    };
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// An enhanced note's HTML as the plain text a person reads: paragraphs and line breaks as
/// line breaks, other tags dropped, the common entities decoded. A tag cut off at the end of
/// the bytes read is dropped too.
fn note_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        if (tag == "/p" || tag.starts_with("br") || tag == "/li" || tag == "/div")
            && !out.is_empty()
            && !out.ends_with('\n')
        {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim_end().to_string()
}

fn string_of(record: &Value, key: &str) -> String {
    record
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn quoted_ids(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one answer shows of a file.
struct Shown {
    row: Value,
    version: Option<SalesforceId>,
    text: bool,
    /// An enhanced note: its content is HTML, shown as plain text.
    note: bool,
    size: u64,
}

#[tool_router(router = files_router, vis = "pub(crate)")]
impl SfServer {
    /// A record's files and notes
    #[tool(annotations(read_only_hint = true))]
    async fn record_files(
        &self,
        Parameters(args): Parameters<RecordFilesArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let rows = match args.max_rows {
            None => DEFAULT_ROWS,
            Some(0) => return Err(ToolError::Input("max_rows must be at least 1".into())),
            Some(n) => n.min(MAX_ROWS),
        }
        .min(self.policy().max_rows.max(1));
        let per_file = args.max_bytes.unwrap_or(DEFAULT_BYTES).min(MAX_BYTES) as usize;
        let id = parse_id(&args.id)?;
        let policy = self.policy();
        let client = self.client(&context)?;
        let object = object_for(&client, &id, None).await?;
        policy.check_object(&object)?;
        policy.check_object("ContentDocumentLink")?;
        policy.check_object("ContentVersion")?;
        let names_shown =
            policy.check_object("User").is_ok() && !policy.is_field_denied("User", "Name");

        let link_soql = format!(
            "SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '{id}' LIMIT {}",
            MAX_LINKS + 1
        );
        let links = self.checked_query(&client, &link_soql).await?;
        let mut documents: Vec<String> = links
            .iter()
            .map(|l| string_of(l, "ContentDocumentId"))
            .filter(|d| SalesforceId::parse(d).is_ok())
            .collect();
        let links_more = documents.len() > MAX_LINKS;
        documents.truncate(MAX_LINKS);

        let mut files = Vec::new();
        let mut files_more = false;
        if !documents.is_empty() {
            let mut select = vec!["Id", "ContentDocumentId"];
            for field in [
                "Title",
                "FileType",
                "FileExtension",
                "ContentSize",
                "OwnerId",
                "LastModifiedDate",
            ] {
                if !policy.is_field_denied("ContentVersion", field) {
                    select.push(field);
                }
            }
            if names_shown && !policy.is_field_denied("ContentVersion", "OwnerId") {
                select.push("Owner.Name");
            }
            let soql = format!(
                "SELECT {} FROM ContentVersion WHERE IsLatest = true AND ContentDocumentId IN ({}) ORDER BY LastModifiedDate DESC, Id DESC",
                select.join(", "),
                quoted_ids(&documents)
            );
            let versions = self.checked_query(&client, &soql).await?;
            files_more = versions.len() > rows as usize;
            files = versions.into_iter().take(rows as usize).collect();
        }

        let (notes, notes_note, notes_more) =
            self.classic_notes(&client, &id, rows, per_file).await?;
        let links_for = client.record_links().await.unwrap_or(RecordLinks::None);
        let content_readable = !policy.is_field_denied("ContentVersion", "VersionData");
        let shown: Vec<Shown> = files
            .iter()
            .map(|v| file_row(v, &links_for, names_shown))
            .collect();

        let mut text = format!(
            "{object} {id}: {} file{} (latest versions, newest first) and {} classic note{}{}\n",
            shown.len(),
            if shown.len() == 1 { "" } else { "s" },
            notes.len(),
            if notes.len() == 1 { "" } else { "s" },
            if files_more || notes_more || links_more {
                format!("; more remain (max_rows up to {MAX_ROWS})")
            } else {
                String::new()
            }
        );
        if let Some(note) = &notes_note {
            text.push_str(note);
            text.push('\n');
        }
        let rows_json: Vec<Value> = shown.iter().map(|s| s.row.clone()).collect();
        if !rows_json.is_empty() {
            let rows = render::records(rows_json.iter().cloned());
            text.push_str("Files (type SNOTE is an enhanced note):\n");
            text.push_str(&render::table(&rows, &[], render::MAX_TEXT_BYTES / 4).text);
        }

        // Content: text files in the order shown, within the per-file and per-call budgets.
        let mut contents = Vec::new();
        let mut spent = 0usize;
        let mut skipped_binary = 0;
        for (n, file) in shown.iter().enumerate() {
            let Some(version) = &file.version else {
                continue;
            };
            if !file.text {
                skipped_binary += 1;
                continue;
            }
            if per_file == 0 || !content_readable {
                continue;
            }
            let budget = per_file.min(CALL_BYTES - spent);
            if budget == 0 {
                text.push_str(&format!(
                    "File {}: content not read, this answer's {CALL_BYTES}-byte content budget is spent; ask with a lower max_bytes\n",
                    n + 1
                ));
                continue;
            }
            // One content that cannot be read leaves the listing and the others standing.
            let head = match client.file_head(version, budget).await {
                Ok(head) => head,
                Err(error) => {
                    text.push_str(&format!(
                        "File {} content not read: {} {}\n",
                        n + 1,
                        render::inline(&error.to_string()),
                        render::inline(&error.next_step())
                    ));
                    continue;
                }
            };
            spent += head.bytes.len();
            let mut body = text_of(&head.bytes, head.cut);
            if file.note {
                body = note_text(&body);
            }
            text.push_str(&format!("File {} content", n + 1));
            if head.cut {
                text.push_str(&format!(
                    ": cut at {} of {} bytes (max_bytes up to {MAX_BYTES} reads more; the whole file is at its url)",
                    head.bytes.len(),
                    file.size
                ));
            }
            text.push_str(":\n");
            text.push_str(render::DATA_OPEN);
            render::push_member(
                &mut text,
                "content",
                &Value::String(body.clone()),
                usize::MAX,
            );
            text.push_str(render::DATA_CLOSE);
            contents.push(render::object([
                ("version", version.as_str().into()),
                ("content", body.into()),
                ("cut", head.cut.into()),
            ]));
        }
        if skipped_binary > 0 {
            text.push_str(&format!(
                "{skipped_binary} binary file{} listed without content (only text types are read)\n",
                if skipped_binary == 1 { "" } else { "s" }
            ));
        }
        if !content_readable && shown.iter().any(|f| f.text) {
            text.push_str("File content is hidden by this server (--deny-fields ContentVersion.VersionData).\n");
        }
        if !notes.is_empty() {
            text.push_str("Classic notes:\n");
            text.push_str(render::DATA_OPEN);
            let mut left_out = 0;
            for note in &notes {
                let mut line = String::new();
                render::push_json_value(&mut line, note);
                line.push('\n');
                if text.len() + line.len() > render::MAX_TEXT_BYTES {
                    left_out += 1;
                    continue;
                }
                text.push_str(&line);
            }
            text.push_str(render::DATA_CLOSE);
            if left_out > 0 {
                text.push_str(&format!(
                    "…{left_out} notes not shown as text (the answer's byte budget); ask with a lower max_bytes or max_rows\n"
                ));
            }
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(render::object([
            ("object", object.into()),
            ("id", id.as_str().into()),
            ("files", Value::Array(rows_json)),
            ("contents", Value::Array(contents)),
            ("notes", Value::Array(notes)),
            ("more", (files_more || notes_more || links_more).into()),
        ]));
        Ok(result)
    }
}

impl SfServer {
    /// A query this tool wrote, checked as `soql_query` checks one (allow-list, deny-list,
    /// describes), and its records (one page: every query here is bounded below 2,000 rows).
    async fn checked_query(
        &self,
        client: &SalesforceClient,
        soql: &str,
    ) -> Result<Vec<Value>, ToolError> {
        let query = sfmcp_soql::parse(soql).map_err(|e| ToolError::Soql {
            rendered: e.render(soql),
        })?;
        self.check_parsed(client, &query, soql).await?;
        let page = client
            .query(
                soql,
                QueryOptions {
                    include_deleted: false,
                    batch_size: Some(2_000),
                },
            )
            .await?;
        Ok(page.records)
    }

    /// The record's classic notes (newest first, within `rows`), or why none are shown, and
    /// whether more remain.
    async fn classic_notes(
        &self,
        client: &SalesforceClient,
        id: &SalesforceId,
        rows: u32,
        body_chars: usize,
    ) -> Result<(Vec<Value>, Option<String>, bool), ToolError> {
        let policy = self.policy();
        if policy.check_object("Note").is_err() {
            return Ok((
                Vec::new(),
                Some("Classic notes left out: Note is not among the objects this server allows (--allow-objects).".into()),
                false,
            ));
        }
        let global = client.objects().await?;
        if !global
            .sobjects
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case("Note"))
        {
            return Ok((Vec::new(), None, false));
        }
        let mut select = vec!["Id"];
        for field in ["Title", "Body", "IsPrivate", "OwnerId", "LastModifiedDate"] {
            if !policy.is_field_denied("Note", field) {
                select.push(field);
            }
        }
        let names_shown = policy.check_object("User").is_ok()
            && !policy.is_field_denied("User", "Name")
            && !policy.is_field_denied("Note", "OwnerId");
        if names_shown {
            select.push("Owner.Name");
        }
        let soql = format!(
            "SELECT {} FROM Note WHERE ParentId = '{id}' ORDER BY LastModifiedDate DESC, Id DESC LIMIT {}",
            select.join(", "),
            rows + 1
        );
        let found = self.checked_query(client, &soql).await?;
        let more = found.len() > rows as usize;
        let notes = found
            .iter()
            .take(rows as usize)
            .map(|note| {
                let mut out = Map::new();
                for (key, value) in note.as_object().into_iter().flatten() {
                    match key.as_str() {
                        "attributes" => {}
                        "Owner" => {
                            let name = value.get("Name").cloned().unwrap_or(Value::Null);
                            out.insert("owner".into(), name);
                        }
                        // The body is the note's content: the same budget as a file's.
                        "Body" => {
                            let body = value.as_str().map_or(Value::Null, |b| {
                                Value::String(render::clip(b, body_chars))
                            });
                            out.insert(key.clone(), body);
                        }
                        _ => {
                            out.insert(key.clone(), value.clone());
                        }
                    }
                }
                Value::Object(out)
            })
            .collect();
        Ok((notes, None, more))
    }
}

/// One file as a table row: title, type, size, owner (by name, or id), last modified, the
/// document's id and Lightning URL; and what reading its content needs.
fn file_row(version: &Value, links: &RecordLinks, names_shown: bool) -> Shown {
    let get = |key: &str| version.get(key).cloned().unwrap_or(Value::Null);
    let document = string_of(version, "ContentDocumentId");
    let url = SalesforceId::parse(&document)
        .ok()
        .and_then(|d| links.url("ContentDocument", &d));
    let owner = if names_shown {
        version
            .get("Owner")
            .and_then(|o| o.get("Name"))
            .cloned()
            .unwrap_or_else(|| get("OwnerId"))
    } else {
        get("OwnerId")
    };
    let file_type = string_of(version, "FileType");
    let extension = string_of(version, "FileExtension");
    let size = version
        .get("ContentSize")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut row = Map::new();
    row.insert("title".into(), get("Title"));
    row.insert("type".into(), get("FileType"));
    row.insert("ext".into(), get("FileExtension"));
    row.insert("bytes".into(), get("ContentSize"));
    row.insert("owner".into(), owner);
    row.insert("modified".into(), get("LastModifiedDate"));
    row.insert("document".into(), Value::String(document));
    row.insert("url".into(), url.map_or(Value::Null, Value::String));
    Shown {
        row: Value::Object(row),
        version: SalesforceId::parse(&string_of(version, "Id")).ok(),
        text: is_text(&file_type, &extension),
        note: file_type.eq_ignore_ascii_case("SNOTE"),
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_decided_from_type_then_extension_never_from_bytes() {
        for (file_type, extension) in [
            ("TEXT", "txt"),
            ("CSV", "csv"),
            ("SNOTE", "snote"),
            ("json", ""),
            ("UNKNOWN", "log"),
            ("", "md"),
        ] {
            assert!(is_text(file_type, extension), "{file_type} {extension}");
        }
        for (file_type, extension) in [
            ("PDF", "pdf"),
            ("PNG", "png"),
            ("WORD_X", "docx"),
            ("ZIP", "zip"),
            // A known binary type is not read whatever its name says.
            ("PDF", "txt"),
            ("UNKNOWN", "bin"),
        ] {
            assert!(!is_text(file_type, extension), "{file_type} {extension}");
        }
    }

    #[test]
    fn enhanced_notes_read_as_plain_text() {
        assert_eq!(
            note_text("<p>Escalated: A &amp; B &lt;2&gt;</p><p>Next<br>step</p><p>cut <b"),
            "Escalated: A & B <2>\nNext\nstep\ncut"
        );
    }

    #[test]
    fn a_cut_inside_a_character_drops_it_and_bad_bytes_show() {
        let text = "café".as_bytes();
        assert_eq!(text_of(&text[..4], true), "caf");
        assert_eq!(text_of(text, false), "café");
        assert_eq!(text_of(b"a\xffb", false), "a\u{fffd}b");
    }
}
