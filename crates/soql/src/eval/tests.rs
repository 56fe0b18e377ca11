//! Evaluator tests over a small hand-built org, with hand-computed answers. Most queries are
//! built as trees, so each test pins the evaluator alone; the last ones go through the parser.
//! tests/soql_eval.rs replays recorded Salesforce responses.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::*;
use crate::ast::{
    self, Call, CompareOp, Condition, DateLiteral, DateLiteralKind, Expr, FieldPath, FieldsGroup,
    FromClause, Function, GroupBy, Ident, InValues, Literal, NullsOrder, OrderItem, SelectItem,
    SortDirection, Span, TypeOf, TypeOfWhen,
};
use crate::error::ErrorCode;
use crate::schema::{ChildRelationship, FieldSchema, FieldType, ObjectSchema, PicklistValue};

// ---- A tiny org ------------------------------------------------------------------------

pub(crate) use crate::test_support::MemOrg;

pub(crate) fn field(name: &str, field_type: FieldType) -> FieldSchema {
    serde_json::from_value::<FieldSchema>(serde_json::json!({
        "name": name, "label": name, "type": "string", "custom": name.ends_with("__c"),
    }))
    .map(|mut f| {
        f.field_type = field_type;
        f
    })
    .unwrap_or_else(|e| panic!("field {name}: {e}"))
}

pub(crate) fn reference(name: &str, relationship: &str, to: &[&str]) -> FieldSchema {
    let mut f = field(name, FieldType::Reference);
    f.relationship_name = Some(relationship.to_string());
    f.reference_to = to.iter().map(|s| s.to_string()).collect();
    f.polymorphic_foreign_key = to.len() > 1;
    f
}

pub(crate) fn object(
    name: &str,
    fields: Vec<FieldSchema>,
    children: &[(&str, &str, &str)],
) -> ObjectSchema {
    let mut o: ObjectSchema =
        serde_json::from_value(serde_json::json!({"name": name, "label": name}))
            .unwrap_or_else(|e| panic!("object {name}: {e}"));
    o.fields = fields;
    o.child_relationships = children
        .iter()
        .map(|(rel, child, field)| ChildRelationship {
            child_s_object: child.to_string(),
            field: field.to_string(),
            relationship_name: Some(rel.to_string()),
        })
        .collect();
    o
}

fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

fn dt(text: &str) -> Value {
    Value::DateTime(
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .with_timezone(&Utc),
    )
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Users U1 (Ada) -> manager U2 (Grace) -> manager U3 (Linus).
/// Accounts A1..A4, Contacts C1..C4, Opportunities O1..O4, Tasks T1..T3.
pub(crate) fn org() -> MemOrg {
    use FieldType as T;
    let mut industry = field("Industry", T::Picklist);
    industry.picklist_values = vec![
        PicklistValue {
            value: "Tech".into(),
            label: Some("Technology".into()),
            active: true,
            default_value: false,
            valid_for: None,
        },
        PicklistValue {
            value: "Retail".into(),
            label: Some("Retail Trade".into()),
            active: true,
            default_value: false,
            valid_for: None,
        },
    ];
    let mut org = MemOrg::new(vec![
        object(
            "User",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                reference("ManagerId", "Manager", &["User"]),
                field("Location__c", T::Location),
            ],
            &[],
        ),
        object(
            "Account",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                industry,
                field("AnnualRevenue", T::Currency),
                field("NumberOfEmployees", T::Int),
                field("IsActive__c", T::Boolean),
                reference("OwnerId", "Owner", &["User"]),
                reference("ParentId", "Parent", &["Account"]),
                field("Tags__c", T::Multipicklist),
                field("CreatedDate", T::Datetime),
            ],
            &[
                ("Contacts", "Contact", "AccountId"),
                ("Opportunities", "Opportunity", "AccountId"),
                ("ChildAccounts", "Account", "ParentId"),
            ],
        ),
        object(
            "Contact",
            vec![
                field("Id", T::Id),
                field("LastName", T::String),
                field("Email", T::Email),
                reference("AccountId", "Account", &["Account"]),
                field("Birthdate", T::Date),
            ],
            &[],
        ),
        object(
            "Opportunity",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                field("Amount", T::Currency),
                field("CloseDate", T::Date),
                field("StageName", T::Picklist),
                reference("AccountId", "Account", &["Account"]),
            ],
            &[],
        ),
        object(
            "Task",
            vec![
                field("Id", T::Id),
                field("Subject", T::String),
                reference("WhatId", "What", &["Account", "Opportunity"]),
                reference("OwnerId", "Owner", &["User"]),
            ],
            &[],
        ),
    ]);
    let n = Value::Null;
    // San Francisco, Oakland, Los Angeles.
    for (id, name, manager, (latitude, longitude)) in [
        ("U1", "Ada", s("U2"), (37.7749, -122.4194)),
        ("U2", "Grace", s("U3"), (37.8044, -122.2712)),
        ("U3", "Linus", n.clone(), (34.0522, -118.2437)),
    ] {
        org.insert(
            "User",
            vec![
                ("Id", s(id)),
                ("Name", s(name)),
                ("ManagerId", manager),
                (
                    "Location__c",
                    Value::Location {
                        latitude,
                        longitude,
                    },
                ),
            ],
        );
    }
    #[allow(clippy::type_complexity)]
    let accounts: [(
        &str,
        &str,
        Value,
        Value,
        i64,
        Value,
        &str,
        Value,
        Value,
        &str,
    ); 4] = [
        (
            "A1",
            "Acme",
            s("Tech"),
            Value::Double(1000.0),
            50,
            Value::Boolean(true),
            "U1",
            s("A2"),
            s("a;b;c"),
            "2024-05-14T10:00:00Z",
        ),
        (
            "A2",
            "beta corp",
            s("Retail"),
            Value::Double(500.5),
            10,
            Value::Boolean(false),
            "U2",
            n.clone(),
            s("a"),
            "2024-05-15T01:00:00Z",
        ),
        (
            "A3",
            "Gamma",
            n.clone(),
            n.clone(),
            200,
            n.clone(),
            "U1",
            s("A1"),
            n.clone(),
            "2024-04-01T00:00:00Z",
        ),
        (
            "A4",
            "delta",
            s("tech"),
            Value::Double(2500.0),
            5,
            Value::Boolean(true),
            "U3",
            n.clone(),
            s("b;c"),
            "2023-12-31T23:00:00Z",
        ),
    ];
    for (id, name, industry, revenue, employees, active, owner, parent, tags, created) in accounts {
        org.insert(
            "Account",
            vec![
                ("Id", s(id)),
                ("Name", s(name)),
                ("Industry", industry),
                ("AnnualRevenue", revenue),
                ("NumberOfEmployees", Value::Integer(employees)),
                ("IsActive__c", active),
                ("OwnerId", s(owner)),
                ("ParentId", parent),
                ("Tags__c", tags),
                ("CreatedDate", dt(created)),
            ],
        );
    }
    for (id, last, email, account) in [
        ("C1", "Smith", s("s@x.com"), s("A1")),
        ("C2", "jones", n.clone(), s("A1")),
        ("C3", "Brown", n.clone(), s("A2")),
        ("C4", "Orphan", n.clone(), n.clone()),
    ] {
        org.insert(
            "Contact",
            vec![
                ("Id", s(id)),
                ("LastName", s(last)),
                ("Email", email),
                ("AccountId", account),
            ],
        );
    }
    for (id, name, amount, close, stage, account) in [
        (
            "O1",
            "Big",
            Value::Double(100.0),
            "2024-05-15",
            "Closed Won",
            "A1",
        ),
        (
            "O2",
            "Small",
            Value::Double(50.0),
            "2024-05-10",
            "Prospecting",
            "A1",
        ),
        ("O3", "Mid", n.clone(), "2024-02-01", "Closed Won", "A2"),
        (
            "O4",
            "Huge",
            Value::Double(1000.0),
            "2023-06-30",
            "Closed Won",
            "A4",
        ),
    ] {
        org.insert(
            "Opportunity",
            vec![
                ("Id", s(id)),
                ("Name", s(name)),
                ("Amount", amount),
                ("CloseDate", Value::Date(date(close))),
                ("StageName", s(stage)),
                ("AccountId", s(account)),
            ],
        );
    }
    for (id, subject, what) in [
        ("T1", "Call", s("A1")),
        ("T2", "Email", s("O1")),
        ("T3", "Nothing", n.clone()),
    ] {
        org.insert(
            "Task",
            vec![
                ("Id", s(id)),
                ("Subject", s(subject)),
                ("WhatId", what),
                ("OwnerId", s("U1")),
            ],
        );
    }
    org
}

// ---- Query trees -------------------------------------------------------------------------

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::default())
}

fn path(dotted: &str) -> FieldPath {
    FieldPath {
        segments: dotted.split('.').map(ident).collect(),
    }
}

fn f(dotted: &str) -> Expr {
    Expr::Field(path(dotted))
}

fn call(function: Function, args: Vec<Expr>) -> Expr {
    Expr::Call(Call {
        function,
        args,
        span: Span::default(),
    })
}

fn item(expr: Expr) -> SelectItem {
    SelectItem::Expr { expr, alias: None }
}

fn aliased(expr: Expr, alias: &str) -> SelectItem {
    SelectItem::Expr {
        expr,
        alias: Some(ident(alias)),
    }
}

fn fields(dotted: &[&str]) -> Vec<SelectItem> {
    dotted.iter().map(|d| item(f(d))).collect()
}

fn query(select: Vec<SelectItem>, from: &str) -> ast::Query {
    ast::Query {
        select,
        from: FromClause {
            object: path(from),
            alias: None,
        },
        using_scope: None,
        where_clause: None,
        with: Vec::new(),
        group_by: None,
        having: None,
        order_by: Vec::new(),
        limit: None,
        offset: None,
        for_clause: None,
        update_clause: None,
        span: Span::default(),
    }
}

fn filtered(select: Vec<SelectItem>, from: &str, condition: Condition) -> ast::Query {
    ast::Query {
        where_clause: Some(condition),
        ..query(select, from)
    }
}

fn lit(literal: Literal) -> ast::Value {
    ast::Value::Literal(literal, Span::default())
}

fn text(t: &str) -> Literal {
    Literal::String(t.to_string())
}

fn cmp(left: Expr, op: CompareOp, value: Literal) -> Condition {
    Condition::Compare {
        left,
        op,
        value: lit(value),
    }
}

fn cmpf(dotted: &str, op: CompareOp, value: Literal) -> Condition {
    cmp(f(dotted), op, value)
}

fn in_list(dotted: &str, negated: bool, values: Vec<Literal>) -> Condition {
    Condition::In {
        left: f(dotted),
        negated,
        values: InValues::List(values.into_iter().map(lit).collect()),
    }
}

fn in_query(dotted: &str, negated: bool, subquery: ast::Query) -> Condition {
    Condition::In {
        left: f(dotted),
        negated,
        values: InValues::Subquery(Box::new(subquery)),
    }
}

fn date_literal(kind: DateLiteralKind, n: Option<u32>) -> Literal {
    Literal::DateLiteral(DateLiteral { kind, n })
}

fn order(expr: Expr, direction: Option<SortDirection>, nulls: Option<NullsOrder>) -> OrderItem {
    OrderItem {
        expr,
        direction,
        nulls,
    }
}

fn asc(dotted: &str) -> OrderItem {
    order(f(dotted), None, None)
}

/// Wednesday 2024-05-15, noon UTC.
fn ctx() -> EvalContext {
    EvalContext::new(
        DateTime::parse_from_rfc3339("2024-05-15T12:00:00Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&Utc),
        Tz::UTC,
    )
}

fn run<'o>(org: &'o MemOrg, q: &ast::Query) -> QueryResult<'o, usize> {
    evaluate(q, org, &ctx()).unwrap_or_else(|e| panic!("query failed: {e}"))
}

fn ids(org: &MemOrg, result: &QueryResult<'_, usize>) -> Vec<String> {
    result
        .records
        .iter()
        .map(|r| match r.kind {
            RecordKind::SObject { row, .. } => org.id(row).to_string(),
            RecordKind::Aggregate => "aggregate".to_string(),
        })
        .collect()
}

fn where_ids(from: &str, condition: Condition) -> Vec<String> {
    let org = org();
    let result = run(&org, &filtered(fields(&["Id"]), from, condition));
    ids(&org, &result)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---- WHERE -------------------------------------------------------------------------------

#[test]
fn equality_ignores_case_and_fields_take_canonical_names() {
    let org = org();
    let q = filtered(
        fields(&["id", "NAME"]),
        "account",
        cmpf("name", CompareOp::Eq, text("ACME")),
    );
    let result = run(&org, &q);
    assert_eq!(ids(&org, &result), strings(&["A1"]));
    let record = &result.records[0];
    assert_eq!(record.object_type(), "Account");
    let names: Vec<&str> = record.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(names, ["Id", "Name"]);
    assert_eq!(record.value("Name"), Some(&s("Acme")));
    assert_eq!(result.total_size, 1);
}

#[test]
fn not_equal_keeps_nulls_and_null_tests_work() {
    use CompareOp::*;
    // Tech and tech are equal ignoring case; A3's Industry is null.
    assert_eq!(
        where_ids("Account", cmpf("Industry", Ne, text("Tech"))),
        strings(&["A2", "A3"])
    );
    assert_eq!(
        where_ids("Account", cmpf("Industry", Eq, Literal::Null)),
        strings(&["A3"])
    );
    assert_eq!(
        where_ids("Account", cmpf("Industry", Ne, Literal::Null)),
        strings(&["A1", "A2", "A4"])
    );
    // Ordering comparisons never match null.
    assert_eq!(
        where_ids("Account", cmpf("AnnualRevenue", Lt, Literal::Integer(600))),
        strings(&["A2"])
    );
}

#[test]
fn checkbox_null_means_false() {
    use CompareOp::*;
    assert_eq!(
        where_ids("Account", cmpf("IsActive__c", Eq, Literal::Boolean(false))),
        strings(&["A2", "A3"])
    );
    assert_eq!(
        where_ids("Account", cmpf("IsActive__c", Eq, Literal::Null)),
        strings(&["A2", "A3"])
    );
    assert_eq!(
        where_ids("Account", cmpf("IsActive__c", Ne, Literal::Null)),
        strings(&["A1", "A4"])
    );
}

#[test]
fn numbers_compare_across_integer_and_decimal_literals() {
    use CompareOp::*;
    assert_eq!(
        where_ids(
            "Account",
            cmpf("NumberOfEmployees", Gt, Literal::Decimal(9.5))
        ),
        strings(&["A1", "A2", "A3"])
    );
    assert_eq!(
        where_ids("Account", cmpf("AnnualRevenue", Ge, Literal::Integer(1000))),
        strings(&["A1", "A4"])
    );
    assert_eq!(
        where_ids(
            "Account",
            cmpf(
                "AnnualRevenue",
                Eq,
                Literal::Currency {
                    code: "USD".into(),
                    amount: 500.5
                }
            )
        ),
        strings(&["A2"])
    );
}

#[test]
fn like_and_not_like() {
    use CompareOp::*;
    assert_eq!(
        where_ids("Account", cmpf("Name", Like, text("%CORP%"))),
        strings(&["A2"])
    );
    assert_eq!(
        where_ids("Account", cmpf("Name", Like, text("_amma"))),
        strings(&["A3"])
    );
    assert_eq!(
        where_ids(
            "Account",
            Condition::Not(Box::new(cmpf("Name", Like, text("a%"))))
        ),
        strings(&["A2", "A3", "A4"])
    );
    // LIKE never matches null, so NOT LIKE keeps it.
    assert_eq!(
        where_ids(
            "Account",
            Condition::Not(Box::new(cmpf("Industry", Like, text("t%"))))
        ),
        strings(&["A2", "A3"])
    );
}

#[test]
fn in_and_not_in_lists() {
    assert_eq!(
        where_ids(
            "Account",
            in_list("Industry", false, vec![text("retail"), text("TECH")])
        ),
        strings(&["A1", "A2", "A4"])
    );
    assert_eq!(
        where_ids("Account", in_list("Industry", true, vec![text("Tech")])),
        strings(&["A2", "A3"])
    );
}

#[test]
fn and_or_not() {
    use CompareOp::*;
    let condition = Condition::And(vec![
        cmpf("Industry", Eq, text("tech")),
        Condition::Or(vec![
            cmpf("NumberOfEmployees", Lt, Literal::Integer(10)),
            cmpf("Name", Eq, text("Acme")),
        ]),
    ]);
    assert_eq!(where_ids("Account", condition), strings(&["A1", "A4"]));
    let condition = Condition::Not(Box::new(Condition::Or(vec![
        cmpf("Industry", Eq, text("tech")),
        cmpf("Industry", Eq, Literal::Null),
    ])));
    assert_eq!(where_ids("Account", condition), strings(&["A2"]));
}

#[test]
fn date_literals_against_datetime_and_date_fields() {
    use CompareOp::*;
    use DateLiteralKind as K;
    let created =
        |op, kind, n| where_ids("Account", cmpf("CreatedDate", op, date_literal(kind, n)));
    assert_eq!(created(Eq, K::Today, None), strings(&["A2"]));
    assert_eq!(created(Eq, K::Yesterday, None), strings(&["A1"]));
    // `<` is before the range starts, `>` after it ends.
    assert_eq!(created(Lt, K::ThisMonth, None), strings(&["A3", "A4"]));
    assert_eq!(created(Gt, K::LastMonth, None), strings(&["A1", "A2"]));
    assert_eq!(
        created(Ge, K::LastMonth, None),
        strings(&["A1", "A2", "A3"])
    );
    assert_eq!(created(Le, K::LastYear, None), strings(&["A4"]));
    assert_eq!(created(Eq, K::LastNDays, Some(1)), strings(&["A1", "A2"]));
    assert_eq!(created(Eq, K::ThisYear, None), strings(&["A1", "A2", "A3"]));
    assert_eq!(created(Ne, K::ThisYear, None), strings(&["A4"]));
    let close =
        |op, kind, n| where_ids("Opportunity", cmpf("CloseDate", op, date_literal(kind, n)));
    // Sunday 2024-05-12 to Saturday 2024-05-18.
    assert_eq!(close(Eq, K::ThisWeek, None), strings(&["O1"]));
    // Friday 2024-05-10 was last week.
    assert_eq!(close(Eq, K::LastWeek, None), strings(&["O2"]));
    assert_eq!(close(Eq, K::NDaysAgo, Some(5)), strings(&["O2"]));
    assert_eq!(close(Eq, K::LastNQuarters, Some(1)), strings(&["O3"]));
    assert_eq!(
        where_ids(
            "Opportunity",
            in_list(
                "CloseDate",
                false,
                vec![
                    date_literal(K::LastYear, None),
                    date_literal(K::ThisQuarter, None)
                ]
            )
        ),
        strings(&["O1", "O2", "O4"])
    );
}

#[test]
fn fixed_dates_and_datetimes() {
    use CompareOp::*;
    assert_eq!(
        where_ids(
            "Opportunity",
            cmpf("CloseDate", Lt, Literal::Date(date("2024-05-10")))
        ),
        strings(&["O3", "O4"])
    );
    assert_eq!(
        where_ids(
            "Opportunity",
            cmpf("CloseDate", Le, Literal::Date(date("2024-05-10")))
        ),
        strings(&["O2", "O3", "O4"])
    );
    let at =
        DateTime::parse_from_rfc3339("2024-05-14T11:00:00+02:00").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        where_ids("Account", cmpf("CreatedDate", Gt, Literal::DateTime(at))),
        strings(&["A1", "A2"])
    );
    // A plain date against a dateTime field covers that whole day.
    assert_eq!(
        where_ids(
            "Account",
            cmpf("CreatedDate", Eq, Literal::Date(date("2024-05-14")))
        ),
        strings(&["A1"])
    );
}

#[test]
fn date_literals_use_the_users_time_zone() {
    let org = org();
    // 03:00 UTC on the 15th is the evening of the 14th in Los Angeles: TODAY there runs from
    // 2024-05-14T07:00Z to 2024-05-15T07:00Z.
    let la = EvalContext::new(
        DateTime::parse_from_rfc3339("2024-05-15T03:00:00Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timezone(&Utc),
        chrono_tz::America::Los_Angeles,
    );
    let q = filtered(
        fields(&["Id"]),
        "Account",
        cmpf(
            "CreatedDate",
            CompareOp::Eq,
            date_literal(DateLiteralKind::Today, None),
        ),
    );
    let result = evaluate(&q, &org, &la).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ids(&org, &result), strings(&["A1", "A2"]));
}

#[test]
fn multi_select_equality_compares_the_selection() {
    use CompareOp::*;
    // A1 has a;b;c, A2 a, A4 b;c.
    assert_eq!(
        where_ids("Account", cmpf("Tags__c", Eq, text("C;B"))),
        strings(&["A4"])
    );
    assert_eq!(
        where_ids("Account", cmpf("Tags__c", Ne, text("c;b"))),
        strings(&["A1", "A2", "A3"])
    );
    assert_eq!(
        where_ids(
            "Account",
            in_list("Tags__c", false, vec![text("a"), text("b;a;c")])
        ),
        strings(&["A1", "A2"])
    );
}

#[test]
fn includes_and_excludes() {
    let includes = |values: &[&str], excludes| Condition::Includes {
        left: f("Tags__c"),
        excludes,
        values: values.iter().map(|v| lit(text(v))).collect(),
    };
    assert_eq!(
        where_ids("Account", includes(&["a;b"], false)),
        strings(&["A1"])
    );
    assert_eq!(
        where_ids("Account", includes(&["a;b", "c"], false)),
        strings(&["A1", "A4"])
    );
    assert_eq!(
        where_ids("Account", includes(&["A"], true)),
        strings(&["A3", "A4"])
    );
}

// ---- Relationships -----------------------------------------------------------------------

#[test]
fn parent_paths_nest_and_empty_lookups_are_null() {
    let org = org();
    let mut q = query(
        fields(&[
            "Name",
            "Owner.Manager.Manager.Name",
            "Parent.Name",
            "Owner.Name",
        ]),
        "Account",
    );
    q.order_by = vec![asc("Name")];
    let result = run(&org, &q);
    assert_eq!(ids(&org, &result), strings(&["A1", "A2", "A4", "A3"]));
    let acme = &result.records[0];
    assert_eq!(acme.value("Owner.Manager.Manager.Name"), Some(&s("Linus")));
    assert_eq!(acme.value("Owner.Name"), Some(&s("Ada")));
    assert_eq!(acme.value("Parent.Name"), Some(&s("beta corp")));
    // Owner holds Manager then Name, in the order first selected.
    let Some(Cell::Parent(Some(owner))) = acme.get("Owner") else {
        panic!("Owner is a parent record");
    };
    assert_eq!(owner.object_type(), "User");
    let keys: Vec<&str> = owner.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["Manager", "Name"]);
    let keys: Vec<&str> = acme.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["Name", "Owner", "Parent"]);
    // beta corp: U2 -> U3 -> no manager; no parent account.
    let beta = &result.records[1];
    let Some(Cell::Parent(Some(owner))) = beta.get("Owner") else {
        panic!("Owner is a parent record");
    };
    let Some(Cell::Parent(Some(manager))) = owner.get("Manager") else {
        panic!("Manager is a parent record");
    };
    assert_eq!(manager.get("Manager"), Some(&Cell::Parent(None)));
    assert_eq!(beta.get("Parent"), Some(&Cell::Parent(None)));
}

#[test]
fn where_through_parents_treats_missing_parents_as_null() {
    use CompareOp::*;
    assert_eq!(
        where_ids("Account", cmpf("Parent.Name", Eq, Literal::Null)),
        strings(&["A2", "A4"])
    );
    assert_eq!(
        where_ids("Account", cmpf("Owner.Manager.Name", Eq, text("grace"))),
        strings(&["A1", "A3"])
    );
    // Five levels: Contact -> Account -> Owner -> Manager -> Manager -> Name.
    assert_eq!(
        where_ids(
            "Contact",
            cmpf("Account.Owner.Manager.Manager.Name", Eq, text("Linus"))
        ),
        strings(&["C1", "C2"])
    );
    // The orphan contact has no account: its Account.Name is null.
    assert_eq!(
        where_ids("Contact", cmpf("Account.Name", Eq, Literal::Null)),
        strings(&["C4"])
    );
}

#[test]
fn typeof_picks_the_branch_of_each_parents_type() {
    let org = org();
    let typeof_ = SelectItem::TypeOf(TypeOf {
        relationship: ident("what"),
        whens: vec![
            TypeOfWhen {
                object: ident("account"),
                fields: vec![path("Name"), path("Industry")],
            },
            TypeOfWhen {
                object: ident("Opportunity"),
                fields: vec![path("Amount")],
            },
        ],
        else_fields: Some(vec![path("Name")]),
        span: Span::default(),
    });
    let q = query(vec![item(f("Subject")), typeof_], "Task");
    let result = run(&org, &q);
    assert_eq!(ids(&org, &result), strings(&["T1", "T2", "T3"]));
    let Some(Cell::Parent(Some(what))) = result.records[0].get("What") else {
        panic!("T1's What is an Account");
    };
    assert_eq!(what.object_type(), "Account");
    assert_eq!(what.value("Name"), Some(&s("Acme")));
    assert_eq!(what.value("Industry"), Some(&s("Tech")));
    let Some(Cell::Parent(Some(what))) = result.records[1].get("What") else {
        panic!("T2's What is an Opportunity");
    };
    assert_eq!(what.object_type(), "Opportunity");
    let keys: Vec<&str> = what.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["Amount"]);
    assert_eq!(what.value("Amount"), Some(&Value::Double(100.0)));
    assert_eq!(result.records[2].get("What"), Some(&Cell::Parent(None)));
    // A polymorphic path in WHERE reads whatever the parent is.
    assert_eq!(
        where_ids("Task", cmpf("What.Name", CompareOp::Eq, text("big"))),
        strings(&["T2"])
    );
}

#[test]
fn child_subqueries_have_their_own_where_order_and_limit() {
    let org = org();
    let mut contacts = filtered(
        fields(&["LastName"]),
        "Contacts",
        cmpf("LastName", CompareOp::Ne, text("nobody")),
    );
    contacts.order_by = vec![order(f("LastName"), Some(SortDirection::Desc), None)];
    contacts.limit = Some(1);
    let mut q = query(
        vec![item(f("Name")), SelectItem::Subquery(Box::new(contacts))],
        "Account",
    );
    q.order_by = vec![asc("Name")];
    let result = run(&org, &q);
    let children = |i: usize| match result.records[i].get("Contacts") {
        Some(Cell::Children(children)) => children,
        other => panic!("Contacts is a child result, got {other:?}"),
    };
    // Acme has Smith and jones; DESC ignoring case puts Smith first; LIMIT 1 keeps it.
    assert_eq!(ids(&org, children(0)), strings(&["C1"]));
    assert_eq!(children(0).total_size, 1);
    assert_eq!(children(0).matched, 2);
    assert_eq!(children(0).records[0].object_type(), "Contact");
    assert_eq!(ids(&org, children(1)), strings(&["C3"]));
    // delta has none: an empty result, which the emulator writes as null.
    assert_eq!(children(2).total_size, 0);
    assert!(children(2).records.is_empty());
}

#[test]
fn semi_joins_and_anti_joins() {
    let contacts_with_s = filtered(
        fields(&["AccountId"]),
        "Contact",
        cmpf("LastName", CompareOp::Like, text("%s%")),
    );
    assert_eq!(
        where_ids("Account", in_query("Id", false, contacts_with_s)),
        strings(&["A1"])
    );
    // C4's null AccountId does not empty the anti-join.
    let all_contacts = query(fields(&["AccountId"]), "Contact");
    assert_eq!(
        where_ids("Account", in_query("Id", true, all_contacts)),
        strings(&["A3", "A4"])
    );
    // On a reference field.
    let retail = filtered(
        fields(&["Id"]),
        "Account",
        cmpf("Industry", CompareOp::Eq, text("Retail")),
    );
    assert_eq!(
        where_ids("Contact", in_query("AccountId", false, retail)),
        strings(&["C3"])
    );
}

// ---- ORDER BY, LIMIT, OFFSET -------------------------------------------------------------

fn ordered(items: Vec<OrderItem>) -> Vec<String> {
    let org = org();
    let mut q = query(fields(&["Id"]), "Account");
    q.order_by = items;
    let result = run(&org, &q);
    ids(&org, &result)
}

#[test]
fn order_by_nulls_direction_and_case() {
    use NullsOrder::*;
    use SortDirection::*;
    // Name ignoring case: Acme, beta corp, delta, Gamma.
    assert_eq!(
        ordered(vec![asc("Name")]),
        strings(&["A1", "A2", "A4", "A3"])
    );
    // Nulls first ascending; Tech and tech tie, Name breaks the tie.
    assert_eq!(
        ordered(vec![asc("Industry"), asc("Name")]),
        strings(&["A3", "A2", "A1", "A4"])
    );
    // Descending puts nulls last unless told otherwise.
    assert_eq!(
        ordered(vec![order(f("Industry"), Some(Desc), None), asc("Name")]),
        strings(&["A1", "A4", "A2", "A3"])
    );
    assert_eq!(
        ordered(vec![
            order(f("Industry"), Some(Desc), Some(First)),
            asc("Name")
        ]),
        strings(&["A3", "A1", "A4", "A2"])
    );
    assert_eq!(
        ordered(vec![order(f("AnnualRevenue"), Some(Asc), Some(Last))]),
        strings(&["A2", "A1", "A4", "A3"])
    );
    assert_eq!(
        ordered(vec![asc("Owner.Name"), asc("Name")]),
        strings(&["A1", "A3", "A2", "A4"])
    );
}

#[test]
fn limit_and_offset_shape_total_size() {
    let org = org();
    let mut q = query(fields(&["Id"]), "Account");
    q.order_by = vec![asc("Name")];
    q.limit = Some(2);
    q.offset = Some(1);
    let result = run(&org, &q);
    assert_eq!(ids(&org, &result), strings(&["A2", "A4"]));
    assert_eq!(result.total_size, 2);
    assert_eq!(result.matched, 4);
    q.offset = Some(10);
    assert_eq!(run(&org, &q).total_size, 0);
}

// ---- Aggregates --------------------------------------------------------------------------

fn count_query(condition: Option<Condition>, limit: Option<u64>) -> ast::Query {
    let mut q = query(vec![item(call(Function::Count, vec![]))], "Account");
    q.where_clause = condition;
    q.limit = limit;
    q
}

fn values(result: &QueryResult<usize>, key: &str) -> Vec<Value> {
    result
        .records
        .iter()
        .map(|r| {
            r.value(key)
                .cloned()
                .unwrap_or_else(|| panic!("no {key} in {r:?}"))
        })
        .collect()
}

#[test]
fn count_gives_only_a_total() {
    let org = org();
    let result = run(
        &org,
        &count_query(Some(cmpf("Industry", CompareOp::Eq, text("tech"))), None),
    );
    assert_eq!(result.total_size, 2);
    assert!(result.records.is_empty());
    assert_eq!(run(&org, &count_query(None, Some(3))).total_size, 3);
}

#[test]
fn group_by_with_every_aggregate() {
    let org = org();
    let mut q = query(
        vec![
            item(f("Industry")),
            item(call(Function::Count, vec![f("Id")])),
            item(call(Function::Sum, vec![f("AnnualRevenue")])),
            item(call(Function::Avg, vec![f("NumberOfEmployees")])),
            item(call(Function::Min, vec![f("Name")])),
            item(call(Function::Max, vec![f("CreatedDate")])),
        ],
        "Account",
    );
    q.group_by = Some(GroupBy::Plain(vec![f("industry")]));
    q.order_by = vec![asc("Industry")];
    let result = run(&org, &q);
    assert_eq!(result.total_size, 3);
    let record = &result.records[0];
    assert_eq!(record.object_type(), "AggregateResult");
    let keys: Vec<&str> = record.fields.iter().map(|f| &*f.name).collect();
    assert_eq!(
        keys,
        ["Industry", "expr0", "expr1", "expr2", "expr3", "expr4"]
    );
    assert_eq!(
        values(&result, "Industry"),
        vec![Value::Null, s("Retail"), s("Tech")]
    );
    assert_eq!(
        values(&result, "expr0"),
        vec![Value::Integer(1), Value::Integer(1), Value::Integer(2)]
    );
    assert_eq!(
        values(&result, "expr1"),
        vec![Value::Null, Value::Double(500.5), Value::Double(3500.0)]
    );
    assert_eq!(
        values(&result, "expr2"),
        vec![
            Value::Double(200.0),
            Value::Double(10.0),
            Value::Double(27.5)
        ]
    );
    assert_eq!(
        values(&result, "expr3"),
        vec![s("Gamma"), s("beta corp"), s("Acme")]
    );
    assert_eq!(
        values(&result, "expr4"),
        vec![
            dt("2024-04-01T00:00:00Z"),
            dt("2024-05-15T01:00:00Z"),
            dt("2024-05-14T10:00:00Z")
        ]
    );
}

#[test]
fn aliases_and_expr_numbering() {
    let org = org();
    let mut q = query(
        vec![
            aliased(f("Industry"), "ind"),
            aliased(call(Function::Count, vec![f("Id")]), "c"),
            item(call(Function::Sum, vec![f("AnnualRevenue")])),
        ],
        "Account",
    );
    q.group_by = Some(GroupBy::Plain(vec![f("Industry")]));
    let result = run(&org, &q);
    let keys: Vec<&str> = result.records[0].fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["ind", "c", "expr0"]);
}

#[test]
fn aggregates_without_group_by_give_one_row_even_over_nothing() {
    let org = org();
    let select = vec![
        item(call(Function::Count, vec![f("Id")])),
        item(call(Function::Count, vec![f("Industry")])),
        item(call(Function::CountDistinct, vec![f("Industry")])),
    ];
    let result = run(&org, &query(select.clone(), "Account"));
    assert_eq!(values(&result, "expr0"), vec![Value::Integer(4)]);
    assert_eq!(values(&result, "expr1"), vec![Value::Integer(3)]);
    assert_eq!(values(&result, "expr2"), vec![Value::Integer(2)]);
    let none = filtered(select, "Account", cmpf("Name", CompareOp::Eq, text("zzz")));
    let result = run(&org, &none);
    assert_eq!(result.total_size, 1);
    assert_eq!(values(&result, "expr0"), vec![Value::Integer(0)]);
}

#[test]
fn having_and_order_by_aggregates() {
    let org = org();
    let mut q = query(
        vec![
            item(f("Industry")),
            item(call(Function::Count, vec![f("Id")])),
        ],
        "Account",
    );
    q.group_by = Some(GroupBy::Plain(vec![f("Industry")]));
    q.having = Some(cmp(
        call(Function::Count, vec![f("Id")]),
        CompareOp::Gt,
        Literal::Integer(1),
    ));
    assert_eq!(values(&run(&org, &q), "Industry"), vec![s("Tech")]);
    // HAVING on an aggregate the SELECT list does not show.
    q.having = Some(cmp(
        call(Function::Sum, vec![f("AnnualRevenue")]),
        CompareOp::Gt,
        Literal::Integer(600),
    ));
    assert_eq!(values(&run(&org, &q), "Industry"), vec![s("Tech")]);
    q.having = None;
    q.order_by = vec![
        order(
            call(Function::Count, vec![f("Id")]),
            Some(SortDirection::Desc),
            None,
        ),
        asc("Industry"),
    ];
    assert_eq!(
        values(&run(&org, &q), "Industry"),
        vec![s("Tech"), Value::Null, s("Retail")]
    );
    q.limit = Some(1);
    q.offset = Some(1);
    let paged = run(&org, &q);
    assert_eq!(values(&paged, "Industry"), vec![Value::Null]);
    assert_eq!((paged.total_size, paged.matched), (1, 3));
}

#[test]
fn group_by_date_functions() {
    let org = org();
    let year = || call(Function::CalendarYear, vec![f("CloseDate")]);
    let mut q = query(
        vec![item(year()), item(call(Function::Sum, vec![f("Amount")]))],
        "Opportunity",
    );
    q.group_by = Some(GroupBy::Plain(vec![year()]));
    q.order_by = vec![order(year(), None, None)];
    let result = run(&org, &q);
    assert_eq!(
        values(&result, "expr0"),
        vec![Value::Integer(2023), Value::Integer(2024)]
    );
    assert_eq!(
        values(&result, "expr1"),
        vec![Value::Double(1000.0), Value::Double(150.0)]
    );

    // Fiscal years starting in April, named by the year they end in.
    let fiscal = || call(Function::FiscalYear, vec![f("CloseDate")]);
    let mut q = query(
        vec![item(fiscal()), item(call(Function::Count, vec![f("Id")]))],
        "Opportunity",
    );
    q.group_by = Some(GroupBy::Plain(vec![fiscal()]));
    q.order_by = vec![order(fiscal(), None, None)];
    let mut c = ctx();
    c.fiscal_year_start_month = 4;
    let result = evaluate(&q, &org, &c).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        values(&result, "expr0"),
        vec![Value::Integer(2024), Value::Integer(2025)]
    );
    assert_eq!(
        values(&result, "expr1"),
        vec![Value::Integer(2), Value::Integer(2)]
    );

    let hour = || call(Function::HourInDay, vec![f("CreatedDate")]);
    let mut q = query(vec![aliased(hour(), "h")], "Account");
    q.group_by = Some(GroupBy::Plain(vec![hour()]));
    q.order_by = vec![order(hour(), Some(SortDirection::Desc), None)];
    let result = run(&org, &q);
    assert_eq!(
        values(&result, "h"),
        [23, 10, 1, 0].map(Value::Integer).to_vec()
    );

    let day = || call(Function::DayOnly, vec![f("CreatedDate")]);
    let q = filtered(
        vec![item(f("Id"))],
        "Account",
        cmp(day(), CompareOp::Eq, Literal::Date(date("2024-05-14"))),
    );
    assert_eq!(ids(&org, &run(&org, &q)), strings(&["A1"]));
    let month = call(Function::CalendarMonth, vec![f("CloseDate")]);
    let q = filtered(
        vec![item(f("Id"))],
        "Opportunity",
        cmp(month, CompareOp::Eq, Literal::Integer(5)),
    );
    assert_eq!(ids(&org, &run(&org, &q)), strings(&["O1", "O2"]));
}

#[test]
fn rollup_adds_subtotals_with_grouping() {
    let org = org();
    let mut q = query(
        vec![
            item(f("StageName")),
            item(call(Function::Count, vec![f("Id")])),
            aliased(call(Function::Grouping, vec![f("StageName")]), "g"),
        ],
        "Opportunity",
    );
    q.group_by = Some(GroupBy::Rollup(vec![f("StageName")]));
    let result = run(&org, &q);
    assert_eq!(
        values(&result, "StageName"),
        vec![s("Closed Won"), s("Prospecting"), Value::Null]
    );
    assert_eq!(
        values(&result, "expr0"),
        [3, 1, 4].map(Value::Integer).to_vec()
    );
    assert_eq!(values(&result, "g"), [0, 0, 1].map(Value::Integer).to_vec());
}

#[test]
fn cube_covers_every_combination() {
    let org = org();
    let year = || call(Function::CalendarYear, vec![f("CloseDate")]);
    let mut q = query(
        vec![
            item(f("StageName")),
            item(year()),
            item(call(Function::Count, vec![])),
        ],
        "Opportunity",
    );
    q.group_by = Some(GroupBy::Cube(vec![f("StageName"), year()]));
    let result = run(&org, &q);
    // 3 (stage, year) pairs + 2 stages + 2 years + the grand total.
    assert_eq!(result.total_size, 8);
    let last = result.records.last().unwrap_or_else(|| panic!("rows"));
    assert_eq!(last.value("StageName"), Some(&Value::Null));
    assert_eq!(last.value("expr0"), Some(&Value::Null));
    assert_eq!(last.value("expr1"), Some(&Value::Integer(4)));
    let sum: i64 = result
        .records
        .iter()
        .filter(|r| {
            r.value("StageName") != Some(&Value::Null) && r.value("expr0") != Some(&Value::Null)
        })
        .map(|r| match r.value("expr1") {
            Some(Value::Integer(n)) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(sum, 4);
}

// ---- Functions, aliases, FIELDS(), unknown names, errors ----------------------------------

#[test]
fn to_label_format_and_convert_currency() {
    let org = org();
    let q = filtered(
        vec![
            item(call(Function::ToLabel, vec![f("Industry")])),
            item(call(Function::Format, vec![f("AnnualRevenue")])),
            aliased(
                call(Function::ConvertCurrency, vec![f("AnnualRevenue")]),
                "revenue",
            ),
        ],
        "Account",
        cmpf("Name", CompareOp::Eq, text("beta corp")),
    );
    let result = run(&org, &q);
    let record = &result.records[0];
    assert_eq!(record.value("Industry"), Some(&s("Retail Trade")));
    assert_eq!(record.value("AnnualRevenue"), Some(&Value::Double(500.5)));
    assert_eq!(record.value("revenue"), Some(&Value::Double(500.5)));
}

#[test]
fn from_alias_prefixes_resolve() {
    let org = org();
    let mut q = filtered(
        fields(&["a.Name", "a.Owner.Name"]),
        "Account",
        cmpf("a.Industry", CompareOp::Eq, text("Retail")),
    );
    q.from.alias = Some(ident("a"));
    let result = run(&org, &q);
    assert_eq!(result.records[0].value("Name"), Some(&s("beta corp")));
    assert_eq!(result.records[0].value("Owner.Name"), Some(&s("Grace")));
}

#[test]
fn fields_standard_and_custom() {
    let org = org();
    let mut q = query(
        vec![SelectItem::Fields {
            group: FieldsGroup::Custom,
            span: Span::default(),
        }],
        "Account",
    );
    q.limit = Some(1);
    let result = run(&org, &q);
    let keys: Vec<&str> = result.records[0].fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["IsActive__c", "Tags__c"]);
    q.select = vec![SelectItem::Fields {
        group: FieldsGroup::Standard,
        span: Span::default(),
    }];
    let result = run(&org, &q);
    assert_eq!(result.records[0].fields.len(), 8);
}

#[test]
fn unknown_names_read_as_null_without_panicking() {
    let org = org();
    let q = filtered(
        fields(&["Bogus__c", "Nope.Name"]),
        "Account",
        cmpf("Bogus__c", CompareOp::Eq, Literal::Null),
    );
    let result = run(&org, &q);
    assert_eq!(result.total_size, 4);
    assert_eq!(result.records[0].value("Bogus__c"), Some(&Value::Null));
    assert_eq!(result.records[0].get("Nope"), Some(&Cell::Parent(None)));
}

#[test]
fn evaluation_errors_speak_salesforce() {
    let org = org();
    let error = evaluate(&query(fields(&["Id"]), "Nope__c"), &org, &ctx()).err();
    let error = error.unwrap_or_else(|| panic!("unknown object must fail"));
    assert_eq!(error.code, ErrorCode::InvalidType);
    assert!(
        error
            .message
            .starts_with("sObject type 'Nope__c' is not supported.")
    );

    let bad_child = query(
        vec![SelectItem::Subquery(Box::new(query(
            fields(&["Id"]),
            "Nopes",
        )))],
        "Account",
    );
    let error = evaluate(&bad_child, &org, &ctx())
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(error.code, ErrorCode::InvalidType);
    assert!(
        error
            .message
            .starts_with("Didn't understand relationship 'Nopes' in FROM part of query call.")
    );

    let bind = filtered(
        fields(&["Id"]),
        "Account",
        Condition::Compare {
            left: f("Name"),
            op: CompareOp::Eq,
            value: ast::Value::Bind(ast::ApexBind {
                text: "name".into(),
                span: Span::default(),
            }),
        },
    );
    let error = evaluate(&bind, &org, &ctx())
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(error.code, ErrorCode::MalformedQuery);
    assert!(
        error
            .message
            .starts_with("Bind variables only allowed in Apex code: ':name'")
    );
}

// ---- SOQL text over the same org -----------------------------------------------------------

fn soql_with(text: &str, ctx: &EvalContext) -> (MemOrg, QueryResult<'static, usize>) {
    let org = org();
    let query = crate::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let result = evaluate(&query, &org, ctx)
        .unwrap_or_else(|e| panic!("{}", e.render(text)))
        .into_owned();
    (org, result)
}

fn soql(text: &str) -> (MemOrg, QueryResult<'static, usize>) {
    soql_with(text, &ctx())
}

fn soql_ids(text: &str) -> Vec<String> {
    let (org, result) = soql(text);
    ids(&org, &result)
}

#[test]
fn rollup_subtotals_follow_their_groups() {
    // O1 Closed Won 2024, O2 Prospecting 2024, O3 Closed Won 2024, O4 Closed Won 2023.
    let (_, result) = soql(
        "SELECT StageName, CALENDAR_YEAR(CloseDate), COUNT(Id) FROM Opportunity \
         GROUP BY ROLLUP(StageName, CALENDAR_YEAR(CloseDate))",
    );
    let won = || s("Closed Won");
    let prospecting = || s("Prospecting");
    assert_eq!(
        values(&result, "StageName"),
        vec![
            won(),
            won(),
            won(),
            prospecting(),
            prospecting(),
            Value::Null
        ]
    );
    let year = |y: i64| Value::Integer(y);
    assert_eq!(
        values(&result, "expr0"),
        vec![
            year(2024),
            year(2023),
            Value::Null,
            year(2024),
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(
        values(&result, "expr1"),
        [2, 1, 3, 1, 1, 4].map(Value::Integer).to_vec()
    );
}

#[test]
fn to_label_in_where_and_date_functions_in_the_users_zone() {
    assert_eq!(
        soql_ids("SELECT Id FROM Account WHERE toLabel(Industry) = 'retail trade'"),
        strings(&["A2"])
    );
    assert_eq!(
        soql_ids("SELECT Id FROM Account WHERE HOUR_IN_DAY(CreatedDate) = 10"),
        strings(&["A1"])
    );
    // 10:00 UTC is 03:00 in Los Angeles (PDT) on 2024-05-14.
    let mut la = ctx();
    la.time_zone = chrono_tz::America::Los_Angeles;
    let (org, result) = soql_with(
        "SELECT Id FROM Account WHERE HOUR_IN_DAY(convertTimezone(CreatedDate)) = 3",
        &la,
    );
    assert_eq!(ids(&org, &result), strings(&["A1"]));
}

#[test]
fn having_on_a_group_field_and_grouping_by_a_parent_field() {
    let (_, result) = soql(
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry \
         HAVING Industry != null ORDER BY COUNT(Id) DESC",
    );
    assert_eq!(values(&result, "Industry"), vec![s("Tech"), s("Retail")]);
    let (_, result) =
        soql("SELECT Owner.Name, COUNT(Id) FROM Account GROUP BY Owner.Name ORDER BY Owner.Name");
    let keys: Vec<&str> = result.records[0].fields.iter().map(|f| &*f.name).collect();
    assert_eq!(keys, ["Name", "expr0"]);
    assert_eq!(
        values(&result, "Name"),
        vec![s("Ada"), s("Grace"), s("Linus")]
    );
    assert_eq!(
        values(&result, "expr0"),
        [2, 1, 1].map(Value::Integer).to_vec()
    );
}

#[test]
fn child_subquery_offset_and_nulls_last() {
    let (org, result) = soql(
        "SELECT Name, (SELECT Name FROM Opportunities ORDER BY Amount DESC NULLS LAST OFFSET 1) \
         FROM Account WHERE Name = 'Acme'",
    );
    let Some(Cell::Children(opportunities)) = result.records[0].get("Opportunities") else {
        panic!("Opportunities is a child result");
    };
    // Big (100) then Small (50); OFFSET 1 leaves Small.
    assert_eq!(ids(&org, opportunities), strings(&["O2"]));
}

#[test]
fn distance_filters_and_orders() {
    let (_, result) = soql(
        "SELECT Name FROM User \
         WHERE DISTANCE(Location__c, GEOLOCATION(37.775, -122.418), 'mi') < 20 \
         ORDER BY DISTANCE(Location__c, GEOLOCATION(37.775, -122.418), 'mi') DESC",
    );
    // Oakland is about 8 miles from San Francisco; Los Angeles about 350.
    assert_eq!(values(&result, "Name"), vec![s("Grace"), s("Ada")]);
}

#[test]
fn not_over_a_missing_parent() {
    // C4 has no account: Account.Name is null, LIKE is false, NOT keeps it.
    assert_eq!(
        soql_ids("SELECT Id FROM Contact WHERE NOT Account.Name LIKE 'a%'"),
        strings(&["C3", "C4"])
    );
}

#[test]
fn cube_over_more_than_three_fields_is_refused() {
    let org = org();
    let text = "SELECT COUNT(Id) FROM Account GROUP BY CUBE(Name, Industry, Tags__c, Id)";
    let query = crate::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let error = evaluate(&query, &org, &ctx())
        .err()
        .unwrap_or_else(|| panic!("must fail"));
    assert_eq!(error.code, ErrorCode::MalformedQuery);
    assert_eq!(&text[error.span.start..error.span.end], "Id");
}

#[test]
fn using_scope_mine_keeps_the_users_records() {
    let mut c = ctx();
    c.user_id = Some("U1".into());
    // Ada (U1) owns Acme and Gamma.
    let (org, result) = soql_with("SELECT Id FROM Account USING SCOPE mine ORDER BY Name", &c);
    assert_eq!(ids(&org, &result), strings(&["A1", "A3"]));
    let (org, result) = soql_with(
        "SELECT Id FROM Account USING SCOPE Mine WHERE Industry = 'tech'",
        &c,
    );
    assert_eq!(ids(&org, &result), strings(&["A1"]));
    let (_, result) = soql_with("SELECT Id FROM Account USING SCOPE everything", &c);
    assert_eq!(result.total_size, 4);
    // Without a user in the context the scope filters nothing.
    let (_, result) = soql("SELECT Id FROM Account USING SCOPE mine");
    assert_eq!(result.total_size, 4);
}
