//! `tooling_query`: metadata questions ("which validation rules are on Opportunity?", "which
//! flows are active?", "list the Apex classes") answered by the Tooling API's query, read
//! only, over an allow-list of Tooling objects.
//!
//! Every query is parsed and checked here before it is sent, without a describe call:
//! - **Objects**: only those in [`CATALOGUE`] (validation rules, flows and flow definitions,
//!   Apex classes and triggers, object definitions), and only the fields and relationships
//!   listed there, so no parent path or semi-join reaches another Tooling object (there are
//!   no child relationships). The check is `sfmcp_soql`'s validator and access footprint
//!   against this catalogue. Fields and custom objects' definitions (`FieldDefinition`,
//!   `CustomField`) are left out: `describe_object` lists fields with the operator's denied
//!   fields removed, and a Tooling row per field could not be held to that.
//! - **Bodies** ([`BODIES`]: Apex `Body`, every `Metadata` blob, `FullName`) only when the
//!   call sets `include_bodies`, and then within the answer's byte budget. Salesforce itself
//!   answers `Metadata` and `FullName` for one row at a time.
//! - **The operator's object allow-list** holds for metadata about objects: with
//!   `--allow-objects`, a query on an object's validation rules, triggers or definition must
//!   pin the object in its WHERE (`EntityDefinition.QualifiedApiName = 'Opportunity'`,
//!   `TableEnumOrId IN ('Account', 'Case')`, as AND terms, [`sfmcp_soql::access::pinned_values`])
//!   to allowed objects only; nothing else about those objects can be read (no semi-join on
//!   them). Flows and Apex classes are not about one object and are answered as they are;
//!   their bodies, asked for, can name any object. The deny-list is about record fields and
//!   does not apply to these metadata columns.
//! - **Nothing is written**: the client's Tooling call is a GET (`api/tooling.rs`), and there
//!   is no Tooling write or delete anywhere in sfmcp.
//!
//! Rows are paged and fenced exactly as `soql_query`'s (`run_tooling_query`, `query_more`).
//! Object and field names: the Tooling API Developer Guide's object pages; see also the
//! emulator's `tooling.rs`, which serves them and records the sources.

use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::args::Parameters;
use crate::error::ToolError;
use crate::server::{Policy, SfServer};
use crate::tools::query::MAX_SOQL_CHARS;
use sfmcp_soql::access::{AccessPolicy, Footprint, Via, footprint, pinned_values};
use sfmcp_soql::schema::{ObjectSchema, StaticSchema};
use sfmcp_soql::validate::{QueryKind, ValidateError, validate};
use sfmcp_soql::{self as soql, ast};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ToolingQueryArgs {
    pub query: String,
    // Undescribed: soql_query's max_rows says it, and every byte here is paid per
    // conversation; a body refused says how to ask for it.
    pub max_rows: Option<u32>,
    pub include_bodies: Option<bool>,
}

/// One Tooling object sfmcp reads: its fields (name, describe type) and the columns that say
/// which object a row is about, when it is about one.
struct Tooling {
    name: &'static str,
    fields: &'static [(&'static str, &'static str)],
    /// `(reference field, target, relationship name)`.
    references: &'static [(&'static str, &'static str, &'static str)],
    about_object: &'static [&'static str],
}

/// Code and metadata blobs: read only when a call asks for them.
pub const BODIES: &[&str] = &["Body", "Metadata", "FullName"];

const CATALOGUE: &[Tooling] = &[
    Tooling {
        name: "ValidationRule",
        fields: &[
            ("Id", "id"),
            ("ValidationName", "string"),
            ("Active", "boolean"),
            ("Description", "string"),
            ("ErrorDisplayField", "string"),
            ("ErrorMessage", "string"),
            ("EntityDefinitionId", "string"),
            ("NamespacePrefix", "string"),
            ("ManageableState", "picklist"),
            ("CreatedDate", "datetime"),
            ("LastModifiedDate", "datetime"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[("EntityDefinitionId", "EntityDefinition", "EntityDefinition")],
        about_object: &["EntityDefinitionId", "EntityDefinition.QualifiedApiName"],
    },
    Tooling {
        name: "Flow",
        fields: &[
            ("Id", "id"),
            ("MasterLabel", "string"),
            ("DefinitionId", "reference"),
            ("Status", "picklist"),
            ("ProcessType", "picklist"),
            ("VersionNumber", "int"),
            ("Description", "string"),
            ("ApiVersion", "double"),
            ("RunInMode", "picklist"),
            ("CreatedDate", "datetime"),
            ("LastModifiedDate", "datetime"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[("DefinitionId", "FlowDefinition", "Definition")],
        about_object: &[],
    },
    Tooling {
        name: "FlowDefinition",
        fields: &[
            ("Id", "id"),
            ("DeveloperName", "string"),
            ("MasterLabel", "string"),
            ("Description", "string"),
            ("ActiveVersionId", "reference"),
            ("LatestVersionId", "reference"),
            ("NamespacePrefix", "string"),
            ("ManageableState", "picklist"),
            ("LastModifiedDate", "datetime"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[
            ("ActiveVersionId", "Flow", "ActiveVersion"),
            ("LatestVersionId", "Flow", "LatestVersion"),
        ],
        about_object: &[],
    },
    Tooling {
        name: "ApexClass",
        fields: &[
            ("Id", "id"),
            ("Name", "string"),
            ("NamespacePrefix", "string"),
            ("ApiVersion", "double"),
            ("Status", "picklist"),
            ("IsValid", "boolean"),
            ("LengthWithoutComments", "int"),
            ("Body", "textarea"),
            ("CreatedDate", "datetime"),
            ("LastModifiedDate", "datetime"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[],
        about_object: &[],
    },
    Tooling {
        name: "ApexTrigger",
        fields: &[
            ("Id", "id"),
            ("Name", "string"),
            ("TableEnumOrId", "picklist"),
            ("EntityDefinitionId", "string"),
            ("NamespacePrefix", "string"),
            ("ApiVersion", "double"),
            ("Status", "picklist"),
            ("IsValid", "boolean"),
            ("UsageBeforeInsert", "boolean"),
            ("UsageAfterInsert", "boolean"),
            ("UsageBeforeUpdate", "boolean"),
            ("UsageAfterUpdate", "boolean"),
            ("UsageBeforeDelete", "boolean"),
            ("UsageAfterDelete", "boolean"),
            ("UsageAfterUndelete", "boolean"),
            ("LengthWithoutComments", "int"),
            ("Body", "textarea"),
            ("CreatedDate", "datetime"),
            ("LastModifiedDate", "datetime"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[],
        about_object: &["TableEnumOrId", "EntityDefinitionId"],
    },
    Tooling {
        name: "EntityDefinition",
        fields: &[
            ("Id", "id"),
            ("DurableId", "string"),
            ("QualifiedApiName", "string"),
            ("DeveloperName", "string"),
            ("Label", "string"),
            ("PluralLabel", "string"),
            ("KeyPrefix", "string"),
            ("NamespacePrefix", "string"),
            ("IsCustomizable", "boolean"),
            ("IsQueryable", "boolean"),
            ("IsTriggerable", "boolean"),
            ("FullName", "string"),
            ("Metadata", "complexvalue"),
        ],
        references: &[],
        about_object: &["QualifiedApiName", "DurableId"],
    },
];

fn entry(object: &str) -> Option<&'static Tooling> {
    CATALOGUE
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(object))
}

fn names() -> String {
    CATALOGUE
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The catalogue as a schema, for the validator and the footprint.
fn schema() -> StaticSchema {
    let mut schema = StaticSchema::new();
    for describe in describes() {
        schema.insert(describe);
    }
    schema
}

/// The catalogue as describes. Bodies are neither filterable nor sortable, as on Salesforce.
fn describes() -> Vec<ObjectSchema> {
    let mut out = Vec::new();
    for object in CATALOGUE {
        let fields: Vec<Value> = object
            .fields
            .iter()
            .map(|(name, kind)| {
                let plain = !BODIES.contains(name) && *kind != "textarea";
                let mut field = json!({
                    "name": name, "label": name, "type": kind, "nillable": *name != "Id",
                    "filterable": plain, "sortable": plain,
                    "groupable": plain && *kind != "double" && *kind != "datetime",
                });
                if let Some((_, target, relationship)) =
                    object.references.iter().find(|(f, _, _)| f == name)
                {
                    field["referenceTo"] = json!([target]);
                    field["relationshipName"] = json!(relationship);
                }
                field
            })
            .collect();
        if let Ok(describe) = serde_json::from_value::<ObjectSchema>(json!({
            "name": object.name, "label": object.name, "queryable": true, "fields": fields,
        })) {
            out.push(describe);
        }
    }
    out
}

/// Checks `query` against the catalogue, the body rule and the operator's object
/// allow-list; answers the FROM object's name, or `None` for an aggregate query (its rows
/// are `AggregateResult`s). Nothing here sends anything.
fn check(
    query: &ast::Query,
    text: &str,
    include_bodies: bool,
    policy: &Policy,
) -> Result<Option<&'static str>, ToolError> {
    let from = query.from.object.dotted();
    let Some(object) = entry(&from) else {
        let fields_hint = if ["FieldDefinition", "CustomField", "EntityParticle"]
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&from))
        {
            " Fields: describe_object lists an object's fields (the operator's denied fields left out)."
        } else {
            ""
        };
        return Err(ToolError::Denied(format!(
            "tooling_query reads only these Tooling objects: {}; not {}.{fields_hint}",
            names(),
            crate::write_check::quoted(&from)
        )));
    };
    let schema = schema();
    let refuse = |error: ValidateError| match error {
        ValidateError::Invalid(error) => ToolError::Soql {
            rendered: format!(
                "{}\ntooling_query knows these fields of {}: {}",
                error.render(text),
                object.name,
                object
                    .fields
                    .iter()
                    .map(|(f, _)| *f)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        ValidateError::NeedsDescribe(other) => ToolError::Denied(format!(
            "{other} is not among the Tooling objects tooling_query reads ({})",
            names()
        )),
    };
    let validated = validate(query, &schema).map_err(refuse)?;
    let used = footprint(query, &schema).map_err(refuse)?;
    let catalogue = AccessPolicy::new(CATALOGUE.iter().map(|t| t.name), Vec::<String>::new());
    catalogue.check(&used).map_err(|refusal| {
        ToolError::Denied(format!(
            "{refusal}; tooling_query reads only these Tooling objects"
        ))
    })?;
    if !include_bodies {
        refuse_bodies(&used)?;
    }
    if !policy.allow_objects.is_empty() {
        hold_allow_list(query, object, &used, policy)?;
    }
    Ok((validated.kind == QueryKind::Records).then_some(object.name))
}

fn refuse_bodies(used: &Footprint) -> Result<(), ToolError> {
    let mut bodies: Vec<String> = Vec::new();
    for field in &used.fields {
        if BODIES.iter().any(|b| b.eq_ignore_ascii_case(&field.field)) {
            let name = format!("{}.{}", field.object, field.field);
            if !bodies.contains(&name) {
                bodies.push(name);
            }
        }
    }
    if bodies.is_empty() {
        return Ok(());
    }
    Err(ToolError::Input(format!(
        "{} {} code or a metadata blob, left out unless asked for: leave {} out of the query, or pass include_bodies: true (Salesforce answers Metadata and FullName for one row at a time, so add WHERE Id = '...' for those). Nothing was sent.",
        bodies.join(", "),
        if bodies.len() == 1 { "is" } else { "are" },
        if bodies.len() == 1 { "it" } else { "them" },
    )))
}

/// With `--allow-objects`: a query about objects (validation rules, triggers, object
/// definitions) must pin allowed objects in its WHERE; nothing about objects is read any
/// other way (semi-joins), save the definition of a pinned row's own object.
fn hold_allow_list(
    query: &ast::Query,
    object: &Tooling,
    used: &Footprint,
    policy: &Policy,
) -> Result<(), ToolError> {
    let allowed = policy.allow_objects.join(", ");
    let pinned_from = !object.about_object.is_empty();
    if pinned_from {
        let Some(pinned) = pinned_values(query, object.about_object) else {
            return Err(ToolError::Denied(format!(
                "this server allows only some objects (--allow-objects: {allowed}), so a query on {} must say which: add WHERE {} IN ('{}') (as an AND term). Nothing was sent.",
                object.name,
                object.about_object.last().copied().unwrap_or_default(),
                policy.allow_objects.join("', '"),
            )));
        };
        let refused: Vec<&String> = pinned
            .iter()
            .filter(|o| policy.check_object(o).is_err())
            .collect();
        if !refused.is_empty() {
            return Err(ToolError::Denied(format!(
                "{} {} not among the objects this server allows ({allowed}); ask the operator to add {} to --allow-objects. Nothing was sent.",
                refused
                    .iter()
                    .map(|o| crate::write_check::quoted(o))
                    .collect::<Vec<_>>()
                    .join(", "),
                if refused.len() == 1 { "is" } else { "are" },
                if refused.len() == 1 { "it" } else { "them" },
            )));
        }
    }
    for reached in &used.objects {
        let Some(other) = entry(&reached.object) else {
            continue;
        };
        if other.about_object.is_empty() {
            continue;
        }
        let fine = match &reached.via {
            Via::From => true,
            // A pinned validation rule's own object definition.
            Via::Parent { .. } => pinned_from,
            _ => false,
        };
        if !fine {
            return Err(ToolError::Denied(format!(
                "this server allows only some objects (--allow-objects: {allowed}), and {} rows reached this way cannot be held to them; query {} directly, with WHERE {} IN ('{}'). Nothing was sent.",
                other.name,
                other.name,
                other.about_object.last().copied().unwrap_or_default(),
                policy.allow_objects.join("', '"),
            )));
        }
    }
    Ok(())
}

#[tool_router(router = tooling_router, vis = "pub(crate)")]
impl SfServer {
    /// Tooling SOQL: ValidationRule, Flow, FlowDefinition, ApexClass, ApexTrigger, EntityDefinition
    #[tool(annotations(read_only_hint = true))]
    async fn tooling_query(
        &self,
        Parameters(args): Parameters<ToolingQueryArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let text = args.query.trim();
        let length = text.chars().count();
        if length > MAX_SOQL_CHARS {
            return Err(ToolError::Input(format!(
                "The query is {length} characters; Salesforce accepts at most {MAX_SOQL_CHARS}. Select fewer fields."
            )));
        }
        let max_rows = self.row_budget(args.max_rows)?;
        let query = soql::parse(text).map_err(|e| ToolError::Soql {
            rendered: e.render(text),
        })?;
        let object = check(
            &query,
            text,
            args.include_bodies.unwrap_or(false),
            self.policy(),
        )?;
        let client = self.client(&context)?;
        self.run_tooling_query(
            &client,
            text,
            object.map(str::to_string),
            max_rows,
            &context,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(soql: &str, bodies: bool, allow: &[&str]) -> Result<Option<&'static str>, String> {
        let policy = Policy {
            allow_objects: allow.iter().map(|o| o.to_string()).collect(),
            ..Policy::default()
        };
        let query = soql::parse(soql).map_err(|e| e.message)?;
        check(&query, soql, bodies, &policy).map_err(|e| e.to_string())
    }

    #[test]
    fn only_catalogued_objects_fields_and_relationships_pass() {
        assert_eq!(
            checked(
                "SELECT ValidationName, Active, EntityDefinition.QualifiedApiName FROM ValidationRule WHERE EntityDefinition.QualifiedApiName = 'Opportunity'",
                false,
                &[]
            ),
            Ok(Some("ValidationRule"))
        );
        assert_eq!(
            checked(
                "SELECT MasterLabel, Definition.DeveloperName FROM Flow WHERE Status = 'Active'",
                false,
                &[]
            ),
            Ok(Some("Flow"))
        );
        for (soql, says) in [
            ("SELECT Id FROM FieldDefinition", "describe_object"),
            ("SELECT Id FROM Account", "reads only these Tooling objects"),
            ("SELECT Id FROM SecuritySettings", "not SecuritySettings"),
            ("SELECT Id, CreatedBy.Name FROM ApexClass", "CreatedBy"),
            ("SELECT Id, Password FROM ApexClass", "Password"),
            (
                "SELECT Id, (SELECT Id FROM ValidationRules) FROM EntityDefinition",
                "ValidationRules",
            ),
        ] {
            let refusal = checked(soql, true, &[]).expect_err(soql);
            assert!(refusal.contains(says), "{soql}: {refusal}");
        }
    }

    #[test]
    fn bodies_need_include_bodies_wherever_they_are_used() {
        for soql in [
            "SELECT Name, Body FROM ApexClass",
            "SELECT Id, Metadata FROM ValidationRule WHERE Id = '03d000000000001AAA'",
            "SELECT FullName FROM Flow",
            "SELECT FIELDS(ALL) FROM ApexTrigger LIMIT 200",
            "SELECT Id, ActiveVersion.Metadata FROM FlowDefinition",
        ] {
            let refusal = checked(soql, false, &[]).expect_err(soql);
            assert!(
                refusal.contains("include_bodies: true"),
                "{soql}: {refusal}"
            );
            assert!(checked(soql, true, &[]).is_ok(), "{soql}");
        }
        assert!(checked("SELECT Name, ApiVersion FROM ApexClass", false, &[]).is_ok());
    }

    #[test]
    fn the_allow_list_holds_for_metadata_about_objects() {
        let allow = ["Account", "Opportunity"];
        let pinned = "SELECT ValidationName FROM ValidationRule WHERE EntityDefinition.QualifiedApiName IN ('Account','opportunity')";
        assert_eq!(checked(pinned, false, &allow), Ok(Some("ValidationRule")));
        for (soql, says) in [
            (
                "SELECT ValidationName FROM ValidationRule",
                "must say which",
            ),
            (
                "SELECT ValidationName FROM ValidationRule WHERE EntityDefinitionId = 'Case'",
                "Case is not among",
            ),
            (
                "SELECT Name FROM ApexTrigger WHERE TableEnumOrId = 'Account' OR Name = 'x'",
                "must say which",
            ),
            (
                "SELECT QualifiedApiName FROM EntityDefinition",
                "must say which",
            ),
        ] {
            let refusal = checked(soql, false, &allow).expect_err(soql);
            assert!(refusal.contains(says), "{soql}: {refusal}");
            assert!(refusal.contains("Account, Opportunity"), "{refusal}");
        }
        // A semi-join on validation rules is refused too (the validator already refuses the
        // shapes SOQL has for it here).
        assert!(
            checked(
                "SELECT Name FROM ApexClass WHERE Id IN (SELECT Id FROM ValidationRule)",
                false,
                &allow
            )
            .is_err()
        );
        // Not about one object: answered as is.
        assert!(checked("SELECT Name FROM ApexClass", false, &allow).is_ok());
        assert!(checked("SELECT MasterLabel FROM Flow", false, &allow).is_ok());
        // Aggregates answer AggregateResult rows, pinned like any other query.
        assert_eq!(
            checked(
                "SELECT COUNT() FROM ValidationRule WHERE EntityDefinitionId = 'Account'",
                false,
                &allow
            ),
            Ok(None)
        );
        // Without an allow-list nothing needs pinning.
        assert!(checked("SELECT ValidationName FROM ValidationRule", false, &[]).is_ok());
    }

    mod allow_list_property {
        //! Random Tooling queries under random allow-lists: whatever the query says, when
        //! `check` lets it go, every row the evaluator returns for it (and every parent row
        //! inside one) is about an allowed object, and no body is read. The rows are served
        //! as Salesforce keys them: an EntityDefinition by its DurableId, which standard
        //! objects' `EntityDefinitionId` and `TableEnumOrId` hold.

        use super::super::*;
        use proptest::prelude::*;
        use proptest::test_runner::TestRunner;
        use sfmcp_soql::data::{DataSource, Value as Cell};
        use sfmcp_soql::eval::{self, EvalContext, RecordKind};
        use sfmcp_soql::test_support::{MemOrg, guarantee_config};

        const OBJECTS: [&str; 5] = ["Account", "Opportunity", "Case", "Lead", "Invoice__c"];

        fn org() -> MemOrg {
            let mut org = MemOrg::new(describes());
            let text = |s: &str| Cell::String(s.to_string());
            for object in OBJECTS {
                org.insert(
                    "EntityDefinition",
                    [
                        ("Id", text(object)),
                        ("DurableId", text(object)),
                        ("QualifiedApiName", text(object)),
                        ("Label", text(object)),
                    ],
                );
                for i in 0..2 {
                    org.insert(
                        "ValidationRule",
                        [
                            ("Id", text(&format!("03d{object}{i}"))),
                            ("ValidationName", text(&format!("{object}_Rule_{i}"))),
                            ("Active", Cell::Boolean(i == 0)),
                            ("EntityDefinitionId", text(object)),
                            ("Metadata", text("{}")),
                        ],
                    );
                }
                org.insert(
                    "ApexTrigger",
                    [
                        ("Id", text(&format!("01q{object}"))),
                        ("Name", text(&format!("{object}Trigger"))),
                        ("TableEnumOrId", text(object)),
                        ("EntityDefinitionId", text(object)),
                        ("Body", text("trigger x on y (before insert) {}")),
                    ],
                );
            }
            for name in ["Util", "Service"] {
                org.insert(
                    "ApexClass",
                    [("Name", text(name)), ("Body", text("class {}"))],
                );
            }
            org
        }

        /// The columns a WHERE on `from` may name: its own scope columns and a plain one.
        fn columns(from: &str) -> Vec<&'static str> {
            match from {
                "ValidationRule" => vec![
                    "EntityDefinitionId",
                    "EntityDefinition.QualifiedApiName",
                    "ValidationName",
                ],
                "ApexTrigger" => vec!["TableEnumOrId", "EntityDefinitionId", "Name"],
                "EntityDefinition" => vec!["QualifiedApiName", "DurableId", "Label"],
                _ => vec!["Name", "NamespacePrefix"],
            }
        }

        /// A WHERE term: pins of every kind, negations, patterns, on any of `columns`.
        fn term(columns: Vec<&'static str>) -> impl Strategy<Value = String> {
            let value = proptest::sample::select(OBJECTS.to_vec());
            let column = proptest::sample::select(columns);
            prop_oneof![
                (column.clone(), value.clone()).prop_map(|(c, v)| format!("{c} = '{v}'")),
                (column.clone(), value.clone()).prop_map(|(c, v)| format!("{c} = '{v}'")),
                (
                    column.clone(),
                    proptest::sample::subsequence(OBJECTS.to_vec(), 1..=3)
                )
                    .prop_map(|(c, vs)| format!("{c} IN ('{}')", vs.join("','"))),
                (column.clone(), value.clone()).prop_map(|(c, v)| format!("{c} != '{v}'")),
                (column.clone(), value).prop_map(|(c, v)| format!("NOT {c} = '{v}'")),
                column.prop_map(|c| format!("{c} LIKE '%'")),
            ]
        }

        fn condition(columns: Vec<&'static str>) -> impl Strategy<Value = String> {
            term(columns).prop_recursive(3, 8, 3, |inner| {
                (
                    proptest::collection::vec(inner, 2..4),
                    proptest::bool::weighted(0.7),
                )
                    .prop_map(|(terms, and)| {
                        format!("({})", terms.join(if and { " AND " } else { " OR " }))
                    })
            })
        }

        fn query() -> impl Strategy<Value = String> {
            proptest::sample::select(vec![
                (
                    "ValidationRule",
                    "Id, ValidationName, EntityDefinition.QualifiedApiName",
                ),
                ("ValidationRule", "ValidationName, Metadata"),
                ("ApexTrigger", "Name, TableEnumOrId"),
                ("ApexTrigger", "Name, Body"),
                ("EntityDefinition", "QualifiedApiName, Label"),
                ("ApexClass", "Name"),
                ("ApexClass", "Name, Body"),
            ])
            .prop_flat_map(|(from, fields)| {
                proptest::option::weighted(0.85, condition(columns(from))).prop_map(
                    move |condition| match condition {
                        Some(c) => format!("SELECT {fields} FROM {from} WHERE {c}"),
                        None => format!("SELECT {fields} FROM {from}"),
                    },
                )
            })
        }

        fn about(org: &MemOrg, row: usize) -> Option<String> {
            let field = match org.object_of(row) {
                "ValidationRule" => "EntityDefinitionId",
                "ApexTrigger" => "TableEnumOrId",
                "EntityDefinition" => "QualifiedApiName",
                _ => return None,
            };
            org.value(row, field)
                .and_then(Cell::as_str)
                .map(str::to_string)
        }

        fn rows_about(org: &MemOrg, record: &eval::Record<'_, usize>, out: &mut Vec<String>) {
            if let RecordKind::SObject { row, .. } = &record.kind {
                out.extend(about(org, *row));
            }
            for field in &record.fields {
                if let eval::Cell::Parent(Some(parent)) = &field.value {
                    rows_about(org, parent, out);
                }
            }
        }

        #[test]
        fn accepted_queries_return_only_rows_about_allowed_objects() {
            let org = org();
            let mut runner = TestRunner::new(guarantee_config(512, 0x7001_1e9a));
            let accepted = std::cell::Cell::new(0u32);
            let strategy = (
                query(),
                proptest::sample::subsequence(OBJECTS.to_vec(), 1..=3),
            );
            let outcome = runner.run(&strategy, |(text, allow)| {
                let policy = Policy {
                    allow_objects: allow.iter().map(|o| o.to_string()).collect(),
                    ..Policy::default()
                };
                let Ok(query) = soql::parse(&text) else {
                    return Ok(());
                };
                if check(&query, &text, false, &policy).is_err() {
                    return Ok(());
                }
                accepted.set(accepted.get() + 1);
                prop_assert!(
                    !text.contains("Body") && !text.contains("Metadata"),
                    "{text}"
                );
                let result = eval::evaluate(&query, &org, &EvalContext::default())
                    .map_err(|e| TestCaseError::fail(format!("{text}: {}", e.message)))?;
                let mut objects = Vec::new();
                for record in &result.records {
                    rows_about(&org, record, &mut objects);
                }
                for object in objects {
                    prop_assert!(
                        allow.contains(&object.as_str()),
                        "{text} under {allow:?} returned a row about {object}"
                    );
                }
                Ok(())
            });
            if let Err(failure) = outcome {
                panic!("{failure}");
            }
            // Not vacuous: a good share of the random queries pass the check and run.
            assert!(accepted.get() > 50, "only {} accepted", accepted.get());
        }
    }
}
