//! Unit tests on small hand-built schemas; tests/soql_validate.rs runs the recorded org.

use super::*;
use crate::parse;
use crate::schema::StaticSchema;

/// Account with a lookup to itself and a polymorphic owner; Note, a child of Account.
fn schema() -> StaticSchema {
    let account = r#"{"name": "Account", "label": "Account", "fields": [
        {"name": "Id", "label": "Account ID", "type": "id", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
        {"name": "Name", "label": "Account Name", "type": "string", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
        {"name": "Rating", "label": "Account Rating", "type": "picklist", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
        {"name": "ParentId", "label": "Parent Account ID", "type": "reference", "referenceTo": ["Account"], "relationshipName": "Parent", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
        {"name": "OwnerId", "label": "Owner ID", "type": "reference", "referenceTo": ["Group", "User"], "relationshipName": "Owner", "polymorphicForeignKey": true, "filterable": true, "sortable": true, "groupable": true, "aggregatable": true}
      ],
      "childRelationships": [{"childSObject": "Note", "field": "ParentId", "relationshipName": "Notes"}]}"#;
    let mut schema = StaticSchema::from_describes([account]).expect("describe parses");
    schema.add_known("Note");
    schema
}

fn run(query: &str) -> Result<Validated, ValidateError> {
    validate(&parse(query).expect("parses"), &schema())
}

fn error(query: &str) -> SoqlError {
    match run(query) {
        Err(ValidateError::Invalid(error)) => error,
        other => panic!("{query}: {other:?}"),
    }
}

#[test]
fn prefix_stripping_prefers_a_relationship_over_the_object_name() {
    // `Parent.Name` is the parent's name; `Account.Name` is the account's own.
    let v = run("SELECT Account.Name, Parent.Name, a.Parent.Rating FROM Account a").expect("valid");
    assert_eq!(names(&v), ["Name", "Parent.Name", "Parent.Rating"]);
}

#[test]
fn a_child_object_not_loaded_is_asked_for() {
    assert_eq!(
        run("SELECT Name, (SELECT Id FROM Notes) FROM Account"),
        Err(ValidateError::NeedsDescribe("Note".into()))
    );
}

#[test]
fn polymorphic_owner_goes_through_the_name_object() {
    let v = run("SELECT Owner.Name, Owner.Profile.Name FROM Account");
    // Profile is neither loaded nor known in this schema: the relationship is not visible.
    let Err(ValidateError::Invalid(e)) = v else {
        panic!("{v:?}");
    };
    assert_eq!(e.code, ErrorCode::InvalidField);
    assert!(
        e.message
            .starts_with("Didn't understand relationship 'Profile'")
    );
    let v = run("SELECT Owner.Name, Owner.Email FROM Account").expect("valid");
    assert_eq!(names(&v), ["Owner.Name", "Owner.Email"]);
}

#[test]
fn unknown_object_with_no_close_name_has_no_suggestions() {
    let e = error("SELECT Id FROM Zzzzzzzz");
    assert_eq!(e.code, ErrorCode::InvalidType);
    assert!(e.suggestions.is_empty());
}

#[test]
fn relationship_named_as_a_field_suggests_its_name() {
    let e = error("SELECT Parent FROM Account");
    assert_eq!(e.code, ErrorCode::InvalidField);
    assert!(
        e.suggestions.contains(&"Parent.Name".to_string()),
        "{:?}",
        e.suggestions
    );
    assert!(
        e.suggestions.contains(&"ParentId".to_string()),
        "{:?}",
        e.suggestions
    );
}

#[test]
fn result_types_follow_the_function() {
    assert_eq!(
        result_type(Function::Count, FieldType::String),
        FieldType::Int
    );
    assert_eq!(result_type(Function::Max, FieldType::Date), FieldType::Date);
    assert_eq!(
        result_type(Function::CalendarYear, FieldType::Datetime),
        FieldType::Int
    );
    assert_eq!(
        result_type(Function::DayOnly, FieldType::Datetime),
        FieldType::Date
    );
    assert_eq!(
        result_type(Function::ToLabel, FieldType::Picklist),
        FieldType::String
    );
}

#[test]
fn name_fields_resolve_case_insensitively() {
    assert_eq!(name_field("EMAIL"), Some(("Email", FieldType::Email)));
    assert_eq!(name_field("Industry"), None);
}

fn names(v: &Validated) -> Vec<&str> {
    v.columns.iter().map(|c| c.name.as_str()).collect()
}
