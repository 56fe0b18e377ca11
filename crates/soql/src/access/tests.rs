//! Every way issue 15 found around the top-level-only check, refused with a message that says
//! why, and the allowed variants allowed. Over recorded describes (cumulusci) plus a small
//! User describe, which the recordings lack.

use super::*;
use crate::schema::StaticSchema;
use crate::validate::validate;

fn describe(name: &str) -> String {
    crate::shared_fixture(&format!("cumulusci/describe-{name}.json"))
}

const USER: &str = r#"{"name": "User", "label": "User", "queryable": true, "fields": [
    {"name": "Id", "label": "User ID", "type": "id", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
    {"name": "Username", "label": "Username", "type": "string", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
    {"name": "Email", "label": "Email", "type": "email", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
    {"name": "Name", "label": "Full Name", "type": "string", "nameField": true, "filterable": true, "sortable": true, "groupable": true, "aggregatable": true},
    {"name": "ManagerId", "label": "Manager ID", "type": "reference", "referenceTo": ["User"], "relationshipName": "Manager", "filterable": true, "sortable": true, "groupable": true, "aggregatable": true}]}"#;

fn schema() -> StaticSchema {
    let bodies: Vec<String> = ["account", "contact", "opportunity", "event", "case"]
        .into_iter()
        .map(describe)
        .chain([USER.to_string()])
        .collect();
    let mut schema =
        StaticSchema::from_describes(bodies.iter().map(String::as_str)).expect("describes parse");
    schema.add_known("Group");
    schema
}

/// The check as the MCP layer runs it: validation first, then the footprint.
fn check(query: &str, allow: &[&str], deny: &[&str]) -> Result<Footprint, String> {
    let schema = schema();
    let parsed = crate::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    validate(&parsed, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
    let used = footprint(&parsed, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
    let policy = AccessPolicy::new(allow.iter().copied(), deny.iter().copied());
    match policy.check(&used) {
        Ok(()) => Ok(used),
        Err(refusal) => Err(refusal.to_string()),
    }
}

fn refused(query: &str, allow: &[&str], deny: &[&str]) -> String {
    match check(query, allow, deny) {
        Ok(used) => panic!("{query} was allowed: {used:#?}"),
        Err(message) => message,
    }
}

fn allowed(query: &str, allow: &[&str], deny: &[&str]) -> Footprint {
    check(query, allow, deny).unwrap_or_else(|message| panic!("{query} was refused: {message}"))
}

const AC: &[&str] = &["Account", "Contact"];

#[test]
fn a_child_subquery_reads_the_child_object() {
    let query = "SELECT Name, (SELECT Name, Amount FROM Opportunities) FROM Account";
    assert_eq!(
        refused(query, AC, &[]),
        "Opportunity (through the subquery on Account.Opportunities) is not among the objects this server allows (Account, Contact)"
    );
    allowed(query, &["Account", "Contact", "Opportunity"], &[]);
    allowed(query, &[], &[]);
}

#[test]
fn a_parent_path_reads_the_parent_object() {
    let query = "SELECT Name, Owner.Username FROM Account";
    assert_eq!(
        refused(query, AC, &[]),
        "User (through Account.Owner in SELECT) is not among the objects this server allows (Account, Contact)"
    );
    allowed(query, &["Account", "User"], &[]);
}

#[test]
fn a_denied_field_through_a_parent_path() {
    let query = "SELECT LastName, Account.AnnualRevenue FROM Contact";
    assert_eq!(
        refused(query, AC, &["Account.AnnualRevenue", "Email"]),
        "Account.AnnualRevenue is denied by the operator (selected, through Contact.Account.AnnualRevenue)"
    );
    allowed(
        "SELECT LastName, Account.Name FROM Contact",
        AC,
        &["Account.AnnualRevenue"],
    );
}

#[test]
fn a_denied_bare_field_in_a_child_subquery() {
    let query = "SELECT Name, (SELECT Email FROM Contacts) FROM Account";
    assert_eq!(
        refused(query, AC, &["Email"]),
        "Contact.Email is denied by the operator (selected, in the subquery on Account.Contacts)"
    );
    allowed(
        "SELECT Name, (SELECT LastName FROM Contacts) FROM Account",
        AC,
        &["Email"],
    );
}

#[test]
fn aggregates_filters_and_sorts_on_a_denied_field_are_refused() {
    let deny = &["Account.AnnualRevenue"];
    for (query, usage) in [
        (
            "SELECT MAX(AnnualRevenue) FROM Account",
            "used in MAX() in SELECT",
        ),
        (
            "SELECT SUM(AnnualRevenue) FROM Account",
            "used in SUM() in SELECT",
        ),
        (
            "SELECT Name FROM Account WHERE AnnualRevenue > 1000000",
            "used in WHERE",
        ),
        (
            "SELECT Name FROM Account ORDER BY AnnualRevenue DESC",
            "used in ORDER BY",
        ),
        (
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING MAX(AnnualRevenue) > 10",
            "used in MAX() in HAVING",
        ),
        (
            "SELECT Name FROM Account WHERE NOT (Name = 'x' OR AnnualRevenue = null)",
            "used in WHERE",
        ),
    ] {
        assert_eq!(
            refused(query, AC, deny),
            format!("Account.AnnualRevenue is denied by the operator ({usage})"),
            "{query}"
        );
    }
    allowed("SELECT MAX(NumberOfEmployees) FROM Account", AC, deny);
    allowed(
        "SELECT Name FROM Account WHERE NumberOfEmployees > 10 ORDER BY Name",
        AC,
        deny,
    );
}

#[test]
fn group_by_on_a_denied_field() {
    let query = "SELECT COUNT(Id) FROM Account GROUP BY Industry";
    assert_eq!(
        refused(query, AC, &["Industry"]),
        "Account.Industry is denied by the operator (used in GROUP BY)"
    );
    allowed(query, AC, &["AnnualRevenue"]);
}

#[test]
fn a_semi_join_reads_its_object() {
    let query = "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE StageName = 'Closed Won')";
    assert_eq!(
        refused(query, AC, &[]),
        "Opportunity (through a semi-join in the WHERE of the query on Account) is not among the objects this server allows (Account, Contact)"
    );
    assert_eq!(
        refused(query, &[], &["Opportunity.StageName"]),
        "Opportunity.StageName is denied by the operator (used in WHERE, in the semi-join on Opportunity in the WHERE of the query on Account)"
    );
    allowed(query, &["Account", "Opportunity"], &["Amount"]);
    // An anti-join reads its object just the same.
    let anti = "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity)";
    assert!(refused(anti, AC, &[]).starts_with("Opportunity (through a semi-join"));
}

#[test]
fn typeof_touches_each_when_object_and_else_every_other_target() {
    let query = "SELECT Subject, TYPEOF What WHEN Account THEN Name WHEN Opportunity THEN Amount END FROM Event";
    assert_eq!(
        refused(query, &["Event", "Account"], &[]),
        "Opportunity (through TYPEOF Event.What) is not among the objects this server allows (Event, Account)"
    );
    allowed(query, &["Event", "Account", "Opportunity"], &[]);
    assert_eq!(
        refused(query, &[], &["Opportunity.Amount"]),
        "Opportunity.Amount is denied by the operator (selected, through Event.What.Amount)"
    );
    // ELSE reads the other eighty-odd types What can refer to.
    let with_else = "SELECT TYPEOF What WHEN Account THEN Name ELSE Name END FROM Event";
    let message = refused(with_else, &["Event", "Account"], &[]);
    assert!(
        message.starts_with("ApptBundleAggrDurDnscale, ApptBundleAggrPolicy, ApptBundleConfig, ApptBundlePolicy, ApptBundlePolicySvcTerr and 74 more (through TYPEOF Event.What) are not among"),
        "{message}"
    );
}

#[test]
fn a_polymorphic_parent_reads_every_target() {
    let query = "SELECT Subject, What.Name FROM Event";
    let message = refused(query, &["Event", "Account", "Opportunity"], &[]);
    assert!(
        message.starts_with("ApptBundleAggrDurDnscale, ApptBundleAggrPolicy, ApptBundleConfig, ApptBundlePolicy, ApptBundlePolicySvcTerr and 73 more (through Event.What in SELECT, which can refer to them) are not among the objects this server allows"),
        "{message}"
    );
    // Case's Owner is a user or a queue (Group).
    assert_eq!(
        refused(
            "SELECT Subject, Owner.Name FROM Case",
            &["Case", "User"],
            &[]
        ),
        "Group (through Case.Owner in SELECT, which can refer to it) is not among the objects this server allows (Case, User)"
    );
    allowed(
        "SELECT Subject, Owner.Name FROM Case",
        &["Case", "User", "Group"],
        &[],
    );
    // `What.Name` of a Case is its CaseNumber.
    assert_eq!(
        refused(query, &[], &["Case.CaseNumber"]),
        "Case.CaseNumber is denied by the operator (selected, through Event.What.Name)"
    );
    assert_eq!(
        refused("SELECT Owner.Email FROM Case", &[], &["User.Email"]),
        "User.Email is denied by the operator (selected, through Case.Owner.Email)"
    );
}

#[test]
fn fields_expands_through_the_describe() {
    let query = "SELECT FIELDS(ALL) FROM Account LIMIT 10";
    assert_eq!(
        refused(query, AC, &["Account.AnnualRevenue"]),
        "FIELDS(ALL) on Account would include Account.AnnualRevenue, which is denied by the operator; name the fields instead"
    );
    assert_eq!(
        refused(
            "SELECT FIELDS(STANDARD) FROM Account",
            AC,
            &["annualrevenue"]
        ),
        "FIELDS(STANDARD) on Account would include Account.AnnualRevenue, which is denied by the operator; name the fields instead"
    );
    // The recorded Account has no custom fields: FIELDS(CUSTOM) reads none of them.
    allowed(
        "SELECT FIELDS(CUSTOM) FROM Account LIMIT 10",
        AC,
        &["Account.AnnualRevenue"],
    );
    // A denied field of another object does not stop FIELDS() here.
    allowed(
        "SELECT FIELDS(STANDARD) FROM Account",
        AC,
        &["Contact.Email"],
    );
}

#[test]
fn functions_around_a_field_still_read_it() {
    for (query, deny, usage) in [
        (
            "SELECT toLabel(Industry) FROM Account",
            "Account.Industry",
            "used in toLabel() in SELECT",
        ),
        (
            "SELECT FORMAT(AnnualRevenue) FROM Account",
            "Account.AnnualRevenue",
            "used in FORMAT() in SELECT",
        ),
        (
            "SELECT convertCurrency(AnnualRevenue) FROM Account",
            "Account.AnnualRevenue",
            "used in convertCurrency() in SELECT",
        ),
        (
            "SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Account GROUP BY CALENDAR_YEAR(CreatedDate)",
            "Account.CreatedDate",
            "used in CALENDAR_YEAR() in SELECT",
        ),
        (
            "SELECT Name FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024",
            "Account.CreatedDate",
            "used in CALENDAR_YEAR() in WHERE",
        ),
    ] {
        assert_eq!(
            refused(query, AC, &[deny]),
            format!("{deny} is denied by the operator ({usage})"),
            "{query}"
        );
    }
}

#[test]
fn count_reads_no_field() {
    let used = allowed("SELECT COUNT() FROM Account", AC, &["Id", "AnnualRevenue"]);
    assert!(used.fields.is_empty(), "{:?}", used.fields);
    assert_eq!(used.objects.len(), 1);
    assert_eq!(
        refused(
            "SELECT COUNT() FROM Account WHERE AnnualRevenue > 5",
            AC,
            &["AnnualRevenue"]
        ),
        "Account.AnnualRevenue is denied by the operator (used in WHERE)"
    );
    assert_eq!(
        refused("SELECT COUNT() FROM Opportunity", AC, &[]),
        "Opportunity is not among the objects this server allows (Account, Contact)"
    );
}

#[test]
fn nested_parent_paths_resolve_every_hop() {
    let query = "SELECT LastName, Account.Owner.Manager.Email FROM Contact";
    assert_eq!(
        refused(query, AC, &[]),
        "User (through Contact.Account.Owner in SELECT) is not among the objects this server allows (Account, Contact)"
    );
    assert_eq!(
        refused(query, &[], &["User.Email"]),
        "User.Email is denied by the operator (selected, through Contact.Account.Owner.Manager.Email)"
    );
    allowed(query, &["Contact", "Account", "User"], &["Contact.Email"]);
    // The reference field followed is read too: its value is the parent's Id.
    assert_eq!(
        refused(
            "SELECT Account.Name FROM Contact",
            AC,
            &["Contact.AccountId"]
        ),
        "Contact.AccountId is denied by the operator (used to follow a relationship)"
    );
}

#[test]
fn names_compare_without_case_and_aliases_resolve() {
    let query = "select c.lastname, c.account.annualrevenue from contact c";
    assert_eq!(
        refused(query, &["ACCOUNT", "contact"], &["account.ANNUALREVENUE"]),
        "Account.AnnualRevenue is denied by the operator (selected, through Contact.Account.AnnualRevenue)"
    );
    allowed(
        "select c.lastname from CONTACT c",
        &["contact"],
        &["account.annualrevenue"],
    );
}

#[test]
fn every_refused_thing_is_named_once() {
    let query = "SELECT Email, Account.AnnualRevenue, (SELECT Amount FROM Opportunities) FROM Contact ORDER BY Email";
    assert_eq!(
        refused(query, AC, &["Email", "AnnualRevenue"]),
        "Opportunity (through the subquery on Contact.Opportunities) is not among the objects this server allows (Account, Contact); Contact.Email is denied by the operator (selected); Account.AnnualRevenue is denied by the operator (selected, through Contact.Account.AnnualRevenue)"
    );
}

#[test]
fn a_missing_describe_is_asked_for_not_allowed() {
    let bodies = [describe("account")];
    let mut schema =
        StaticSchema::from_describes(bodies.iter().map(String::as_str)).expect("parses");
    schema.add_known("User");
    schema.add_known("Opportunity");
    for (query, missing) in [
        ("SELECT Owner.Username FROM Account", "User"),
        (
            "SELECT (SELECT Amount FROM Opportunities) FROM Account",
            "Opportunity",
        ),
        (
            "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
            "Opportunity",
        ),
    ] {
        let parsed = crate::parse(query).expect("parses");
        assert_eq!(
            footprint(&parsed, &schema),
            Err(ValidateError::NeedsDescribe(missing.into())),
            "{query}"
        );
    }
    let parsed = crate::parse("SELECT Name FROM Account WHERE Xyz__r.Name = 'a'").expect("parses");
    assert!(matches!(
        footprint(&parsed, &schema),
        Err(ValidateError::Invalid(_))
    ));
}

#[test]
fn the_footprint_says_where_each_use_is() {
    let schema = schema();
    let query = crate::parse(
        "SELECT Name, (SELECT LastName FROM Contacts WHERE Email != null) FROM Account WHERE Owner.Email != null",
    )
    .expect("parses");
    let used = footprint(&query, &schema).expect("resolves");
    assert!(used.fields.contains(&FieldUse {
        object: "Contact".into(),
        field: "Email".into(),
        clause: Clause::Where,
        function: None,
        path: None,
        within: Within::Subquery {
            parent: "Account".into(),
            relationship: "Contacts".into(),
        },
    }));
    assert!(used.fields.contains(&FieldUse {
        object: "User".into(),
        field: "Email".into(),
        clause: Clause::Where,
        function: None,
        path: Some("Account.Owner.Email".into()),
        within: Within::Root,
    }));
    assert!(used.objects.contains(&ObjectUse {
        object: "User".into(),
        via: Via::Parent {
            path: "Account.Owner".into(),
            clause: Clause::Where,
            polymorphic: false,
        },
    }));
}

#[test]
fn using_scope_reads_the_owner() {
    assert_eq!(
        refused(
            "SELECT Name FROM Account USING SCOPE mine",
            AC,
            &["Account.OwnerId"]
        ),
        "Account.OwnerId is denied by the operator (used by USING SCOPE)"
    );
    allowed("SELECT Name FROM Account", AC, &["Account.OwnerId"]);
}

#[test]
fn every_returned_record_carries_its_id() {
    // attributes.url holds the Id: denying Id refuses any records query on the object, its
    // parents' included, but not an aggregate or COUNT() one.
    assert_eq!(
        refused("SELECT Name FROM Account", AC, &["Account.Id"]),
        "Account.Id is denied by the operator (returned as each record's Id)"
    );
    assert_eq!(
        refused(
            "SELECT LastName, Account.Name FROM Contact",
            AC,
            &["Account.Id"]
        ),
        "Account.Id is denied by the operator (returned as each record's Id)"
    );
    allowed("SELECT COUNT() FROM Account", AC, &["Account.Id"]);
    allowed(
        "SELECT Industry, MAX(NumberOfEmployees) FROM Account GROUP BY Industry",
        AC,
        &["Account.Id"],
    );
}

#[test]
fn rollup_and_semi_joins_inside_subqueries_are_walked() {
    assert_eq!(
        refused(
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY ROLLUP(Industry)",
            AC,
            &["Industry"]
        ),
        "Account.Industry is denied by the operator (selected)"
    );
    let query = "SELECT Name, (SELECT LastName FROM Contacts WHERE Id IN (SELECT ContactId FROM Case)) FROM Account";
    assert_eq!(
        refused(query, AC, &[]),
        "Case (through a semi-join in the WHERE of the query on Contact) is not among the objects this server allows (Account, Contact)"
    );
    assert_eq!(
        refused(query, &[], &["Case.ContactId"]),
        "Case.ContactId is denied by the operator (selected, in the semi-join on Case in the WHERE of the query on Contact)"
    );
}

#[test]
fn an_open_policy_allows_everything() {
    let policy = AccessPolicy::new(Vec::<String>::new(), Vec::<String>::new());
    assert!(policy.is_open());
    assert!(!AccessPolicy::new(["Account"], Vec::<String>::new()).is_open());
    assert_eq!(
        AccessPolicy::new(["Account", "Contact"], ["Email"]).to_string(),
        "objects: Account, Contact; denied fields: Email"
    );
}
