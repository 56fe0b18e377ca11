//! Files and notes: `ContentDocument`, `ContentVersion`, `ContentDocumentLink` and the classic
//! `Note`, with the blob resource that serves a version's bytes.
//!
//! Sources (Object Reference and REST API Developer Guide):
//! - ContentDocumentLink "represents the link between a Salesforce CRM Content document,
//!   Salesforce file, or ContentNote and where it's shared"; fields `ContentDocumentId`,
//!   `LinkedEntityId` (polymorphic, relationship `LinkedEntity`), `ShareType` (V, C, I),
//!   `Visibility`, `IsDeleted`, `SystemModstamp`; no created or modified fields. "You can't
//!   run a query without filters against ContentDocumentLink"; the API's refusal reads
//!   "Implementation restriction: ContentDocumentLink requires a filter by a single Id on
//!   ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the
//!   IN operator." (quoted in issue threads of douglascayers/sfdc-convert-attachments-to-chatter-files
//!   #29 and SFDO-Community/declarative-lookup-rollup-summaries #433, and on wiki.sfxd.org's
//!   "Content Documents"). Since API 59.0 a filter on `Id` also serves (Query All Files
//!   aside). The REST error code is not in those sources: `MALFORMED_QUERY` is assumed.
//! - A ContentNote is a ContentDocument whose `FileType` is `SNOTE` (wiki.sfxd.org), its text
//!   (HTML) in the version's `VersionData`; the `ContentNote` object itself is not emulated.
//! - sObject Blob Get: `GET /services/data/vXX.X/sobjects/{sObject}/{id}/{blobField}` "returns
//!   it as binary data" for the objects with blob fields (ContentVersion, Note, …); the
//!   response "isn't JSON or XML". In a record or a query row the blob field holds that URL.
//! - Who sees a file: "Users (including users with the View All Data permission) can only
//!   query files they have access to": files they own and files shared with a record they
//!   can see. A link is as visible as the record it links. A Note follows its parent, and a
//!   private one (`IsPrivate`) is seen by its owner and by "View All Data" alone.
//!
//! What the emulator leaves out: creating files through the API (these objects are read-only
//! here; the demo seeds them), libraries, versions other than the latest's history.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::errors::ApiError;
use super::org::UserAccess;
use super::schema::{ObjectDef, Sharing, boolean, int, picklist, reference, text, textarea};
use super::state::Ctx;
use super::store::{Record, Tables};
use sfmcp_soql::ast::{CompareOp, Condition, Expr, InValues, Query};
use sfmcp_soql::data::Value;
use sfmcp_soql::schema::FieldType;

/// What a link's `LinkedEntityId` may point at in the emulated orgs.
const LINKABLE: [&str; 6] = ["Account", "Contact", "Lead", "Opportunity", "Case", "User"];

/// Salesforce's message for a ContentDocumentLink query without the filter it requires.
pub const LINK_FILTER_MESSAGE: &str = "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.";

/// The file and note objects, for the org's schema.
pub fn objects() -> Vec<ObjectDef> {
    vec![content_document(), content_version(), link(), note()]
}

/// `VersionData` and the other blob fields.
fn base64(name: &str) -> super::schema::FieldDef {
    let mut field = text(name, 0).read_only();
    field.field_type = FieldType::Base64;
    field
}

fn file_fields() -> Vec<super::schema::FieldDef> {
    vec![
        text("Title", 255).name_field().read_only(),
        textarea("Description", 1000).read_only(),
        int("ContentSize").read_only().label("Size"),
        text("FileType", 20).read_only().label("File Type"),
        text("FileExtension", 40)
            .read_only()
            .label("File Extension"),
    ]
}

fn content_document() -> ObjectDef {
    let mut def = ObjectDef::new(
        "ContentDocument",
        "069",
        "Content Document",
        "Content Documents",
    )
    .read_only()
    .sharing(Sharing::ReadWrite)
    .fields(file_fields())
    .fields([reference(
        "LatestPublishedVersionId",
        &["ContentVersion"],
        "LatestPublishedVersion",
    )
    .read_only()
    .label("Latest Published Version ID")])
    .finish(true);
    def.createable = false;
    def
}

fn content_version() -> ObjectDef {
    let mut linkable: Vec<&str> = LINKABLE.to_vec();
    linkable.sort_unstable();
    ObjectDef::new(
        "ContentVersion",
        "068",
        "Content Version",
        "Content Versions",
    )
    .read_only()
    .sharing(Sharing::ReadWrite)
    .fields([
        reference("ContentDocumentId", &["ContentDocument"], "ContentDocument")
            .read_only()
            .label("Content Document ID"),
        boolean("IsLatest").read_only().label("Is Latest"),
        text("VersionNumber", 20)
            .read_only()
            .label("Version Number"),
        text("PathOnClient", 500)
            .read_only()
            .label("Path On Client"),
        reference("FirstPublishLocationId", &linkable, "FirstPublishLocation")
            .read_only()
            .label("First Publish Location ID"),
        base64("VersionData").label("Version Data"),
    ])
    .fields(file_fields())
    .finish(true)
}

fn link() -> ObjectDef {
    let mut linkable: Vec<&str> = LINKABLE.to_vec();
    linkable.sort_unstable();
    ObjectDef::new(
        "ContentDocumentLink",
        "06A",
        "Content Document Link",
        "Content Document Links",
    )
    .read_only()
    .sharing(Sharing::ReadWrite)
    .fields([
        reference("LinkedEntityId", &linkable, "LinkedEntity")
            .read_only()
            .label("Linked Entity ID"),
        reference("ContentDocumentId", &["ContentDocument"], "ContentDocument")
            .read_only()
            .label("Content Document ID"),
        picklist("ShareType", &["V", "C", "I"])
            .restricted()
            .read_only()
            .label("Share Type"),
        picklist("Visibility", &["AllUsers", "InternalUsers", "SharedUsers"])
            .restricted()
            .read_only(),
        super::schema::datetime("SystemModstamp")
            .read_only()
            .defaulted()
            .label("System Modstamp"),
    ])
    .index()
}

fn note() -> ObjectDef {
    let mut parents: Vec<&str> = LINKABLE.to_vec();
    parents.retain(|p| *p != "User");
    parents.sort_unstable();
    ObjectDef::new("Note", "002", "Note", "Notes")
        .read_only()
        .sharing(Sharing::ReadWrite)
        .fields([
            reference("ParentId", &parents, "Parent")
                .read_only()
                .label("Parent ID"),
            text("Title", 80).name_field().read_only(),
            boolean("IsPrivate").read_only().label("Private"),
            textarea("Body", 32_000).read_only(),
        ])
        .finish(true)
}

/// Child relationship names of the lookups above, as Salesforce's describes give them (the
/// recorded Case describe: `ContentDocumentLinks` on `LinkedEntityId`).
pub fn child_relationship(child: &str, field: &str) -> Option<Option<&'static str>> {
    Some(match (child, field) {
        ("ContentDocumentLink", "LinkedEntityId") => Some("ContentDocumentLinks"),
        ("ContentDocumentLink", "ContentDocumentId") => Some("ContentDocumentLinks"),
        ("ContentVersion", "ContentDocumentId") => Some("ContentVersions"),
        ("ContentVersion", "FirstPublishLocationId") => None,
        ("ContentDocument", "LatestPublishedVersionId") => None,
        ("Note", "ParentId") => Some("Notes"),
        _ => return None,
    })
}

/// For a file, link or note row: whether `access` may see it (see the module doc);
/// `record_visible` decides for the records they hang on. `None` for rows of other objects.
pub fn row_visible(
    tables: &Tables,
    access: &UserAccess,
    def: &ObjectDef,
    record: &Record,
    record_visible: impl Fn(&ObjectDef, &Record) -> bool,
) -> Option<bool> {
    let schema = &access.schema.org;
    let get = |name: &str| def.field_index(name).and_then(|i| record.values.get(i));
    let visible_id = |id: Option<&Value>| {
        id.and_then(Value::as_str)
            .and_then(|id| tables.find(schema, id))
            .is_some_and(|(object, _, parent)| record_visible(&schema.objects[object], parent))
    };
    let owned = || get("OwnerId").and_then(Value::as_str) == Some(access.user_id.as_str());
    match def.name.as_str() {
        "ContentDocumentLink" => Some(visible_id(get("LinkedEntityId"))),
        "Note" => {
            let private = get("IsPrivate") == Some(&Value::Boolean(true));
            Some(visible_id(get("ParentId")) && (!private || access.view_all || owned()))
        }
        "ContentDocument" | "ContentVersion" => {
            if owned() {
                return Some(true);
            }
            let document = if def.name == "ContentDocument" {
                record.id()
            } else {
                get("ContentDocumentId").and_then(Value::as_str)?
            };
            let links = schema.index_of("ContentDocumentLink")?;
            let link_def = &schema.objects[links];
            let field = link_def.field_index("ContentDocumentId")?;
            let entity = link_def.field_index("LinkedEntityId")?;
            let table = tables.table(links);
            Some(table.referencing(field, document).iter().any(|&row| {
                table.rows.get(row as usize).is_some_and(|link| {
                    link.deleted_at.is_none() && visible_id(link.values.get(entity))
                })
            }))
        }
        _ => None,
    }
}

/// Salesforce's restriction on ContentDocumentLink queries, for the main query and every
/// semi-join: one of the AND-ed conditions must be `=` or `IN` on `ContentDocumentId`,
/// `LinkedEntityId` or `Id`.
pub fn check_link_filter(query: &Query) -> Result<(), ApiError> {
    let from_links = query
        .from
        .object
        .segments
        .last()
        .is_some_and(|o| o.name.eq_ignore_ascii_case("ContentDocumentLink"));
    if from_links && !query.where_clause.as_ref().is_some_and(narrows_to_ids) {
        return Err(ApiError::bad_request(
            "MALFORMED_QUERY",
            LINK_FILTER_MESSAGE,
        ));
    }
    if let Some(condition) = &query.where_clause {
        check_semi_joins(condition)?;
    }
    Ok(())
}

fn check_semi_joins(condition: &Condition) -> Result<(), ApiError> {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => parts.iter().try_for_each(check_semi_joins),
        Condition::Not(inner) => check_semi_joins(inner),
        Condition::In {
            values: InValues::Subquery(sub),
            ..
        } => check_link_filter(sub),
        _ => Ok(()),
    }
}

fn narrows_to_ids(condition: &Condition) -> bool {
    let on_key = |left: &Expr| match left {
        Expr::Field(path) => {
            path.segments.len() == 1
                && ["ContentDocumentId", "LinkedEntityId", "Id"]
                    .iter()
                    .any(|k| path.segments[0].name.eq_ignore_ascii_case(k))
        }
        _ => false,
    };
    match condition {
        Condition::And(parts) => parts.iter().any(narrows_to_ids),
        Condition::Compare {
            left,
            op: CompareOp::Eq,
            ..
        } => on_key(left),
        Condition::In {
            left,
            negated: false,
            ..
        } => on_key(left),
        _ => false,
    }
}

/// Whether `field` of `object` is a blob field, served as bytes at
/// `/sobjects/{object}/{id}/{field}`.
pub fn is_blob_field(ctx: &Ctx, object: &str, field: &str) -> bool {
    ctx.org
        .schema
        .index_of(object)
        .and_then(|i| ctx.org.schema.objects[i].field(field))
        .is_some_and(|f| f.field_type == FieldType::Base64)
}

/// `GET /sobjects/{object}/{id}/{field}` for a blob field: the bytes, as stored (base64 in
/// the record), for a record the caller can see whose field they can see.
pub fn blob(ctx: &Ctx, object: &str, id: &str, field: &str) -> Result<Response, Vec<ApiError>> {
    let schema = &ctx.org.schema;
    let index = schema
        .index_of(object)
        .ok_or_else(|| vec![ApiError::not_found()])?;
    let def = &schema.objects[index];
    let id = super::ids::normalize(id).ok_or_else(|| vec![ApiError::not_found()])?;
    let (_, record) = ctx
        .tables
        .table(index)
        .get(&id)
        .filter(|(_, r)| {
            r.deleted_at.is_none() && ctx.org.can_read_in(&ctx.tables, &ctx.access, def, r)
        })
        .ok_or_else(|| vec![ApiError::not_found()])?;
    let position = def
        .field_index(field)
        .filter(|&i| ctx.access.schema.is_visible(def, &def.fields[i]))
        .ok_or_else(|| vec![ApiError::not_found()])?;
    let bytes = match record.values.get(position) {
        Some(Value::String(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| {
            vec![ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "UNKNOWN_EXCEPTION",
                "stored blob is not base64",
            )]
        })?,
        _ => Vec::new(),
    };
    let mut response = (StatusCode::OK, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

/// The URL a blob field holds in a record or a query row.
pub fn blob_url(version: &str, object: &str, id: &str, field: &str) -> String {
    format!("/services/data/v{version}/sobjects/{object}/{id}/{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(soql: &str) -> Query {
        sfmcp_soql::parse(soql).expect("parses")
    }

    #[test]
    fn links_must_be_filtered_by_an_id() {
        for ok in [
            "SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '500000000000001AAA'",
            "SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId IN ('069000000000001AAA') AND ShareType = 'V'",
            "SELECT Id FROM ContentVersion WHERE ContentDocumentId IN (SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '500000000000001AAA')",
            "SELECT Id FROM Account",
        ] {
            assert!(check_link_filter(&query(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "SELECT Id FROM ContentDocumentLink",
            "SELECT Id FROM ContentDocumentLink WHERE ShareType = 'V'",
            "SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId != '500000000000001AAA'",
            "SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId NOT IN ('069000000000001AAA')",
            "SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '500000000000001AAA' OR ShareType = 'V'",
            "SELECT Id FROM ContentVersion WHERE ContentDocumentId IN (SELECT ContentDocumentId FROM ContentDocumentLink)",
        ] {
            let error = check_link_filter(&query(refused)).expect_err(refused);
            assert_eq!(error.message, LINK_FILTER_MESSAGE);
        }
    }
}
