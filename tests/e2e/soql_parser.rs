//! The SOQL parser and printer, construct by construct, against hand-built trees and
//! hand-written canonical text.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test helpers outside #[test] functions.

use chrono::{DateTime, NaiveDate, Timelike};
use sfmcp_soql::ast::*;
use sfmcp_soql::{ErrorCode, MAX_NESTING, ParseOptions, SoqlError, parse, parse_with};

fn at() -> Span {
    Span::default()
}

fn id(name: &str) -> Ident {
    Ident::new(name, at())
}

fn path(dotted: &str) -> FieldPath {
    FieldPath {
        segments: dotted.split('.').map(id).collect(),
    }
}

fn field(dotted: &str) -> Expr {
    Expr::Field(path(dotted))
}

fn lit(literal: Literal) -> Value {
    Value::Literal(literal, at())
}

fn cmp(left: &str, op: CompareOp, value: Literal) -> Condition {
    Condition::Compare {
        left: field(left),
        op,
        value: lit(value),
    }
}

fn where_of(soql: &str) -> Condition {
    parse(soql)
        .unwrap_or_else(|e| panic!("{}", e.render(soql)))
        .where_clause
        .expect("a WHERE clause")
}

/// The literal on the right of `WHERE X <op> <value>`.
fn value_of(condition_text: &str) -> Literal {
    match where_of(&format!("SELECT Id FROM Account WHERE {condition_text}")) {
        Condition::Compare {
            value: Value::Literal(literal, _),
            ..
        } => literal,
        other => panic!("not a comparison with a literal: {other:?}"),
    }
}

fn error_of(soql: &str) -> SoqlError {
    let error = parse(soql).expect_err("the query should be rejected");
    assert_eq!(error.code, ErrorCode::MalformedQuery);
    error
}

/// The text the error's span covers.
fn blamed<'a>(soql: &'a str, error: &SoqlError) -> &'a str {
    &soql[error.span.start..error.span.end]
}

fn canonical(soql: &str) -> String {
    let query = parse(soql).unwrap_or_else(|e| panic!("{}", e.render(soql)));
    let printed = query.to_string();
    assert_eq!(parse(&printed).unwrap(), query, "round trip of {printed}");
    printed
}

// ---- literals ------------------------------------------------------------------------------

#[test]
fn string_escapes_are_resolved() {
    assert_eq!(
        value_of(r#"Name = 'it\'s \"x\" \\ \n\t\r\b\f \N\T \u00e9'"#),
        Literal::String("it's \"x\" \\ \n\t\r\u{8}\u{c} \n\t é".into())
    );
    assert_eq!(value_of("Name = ''"), Literal::String(String::new()));
    assert_eq!(value_of("Name = 'é€'"), Literal::String("é€".into()));
}

#[test]
fn like_patterns_keep_their_escapes() {
    assert_eq!(
        value_of(r"Name LIKE '50\% off\_now %'"),
        Literal::String(r"50\% off\_now %".into())
    );
    // A literal backslash stays escaped in a pattern, distinct from `\%`.
    assert_eq!(
        value_of(r"Name LIKE 'a\\%'"),
        Literal::String(r"a\\%".into())
    );
    assert_eq!(
        canonical(r"SELECT Id FROM A WHERE Name LIKE 'a\\%\%\_\'x'"),
        r"SELECT Id FROM A WHERE Name LIKE 'a\\%\%\_\'x'"
    );
}

#[test]
fn bad_escapes_are_malformed_and_point_at_the_backslash() {
    let soql = r"SELECT Id FROM A WHERE Name = 'ab\%'";
    let error = error_of(soql);
    assert_eq!(blamed(soql, &error), r"\%");
    assert!(
        error.message.contains("only valid in a LIKE"),
        "{}",
        error.message
    );
    let soql = r"SELECT Id FROM A WHERE Name LIKE 'a\qb'";
    assert_eq!(blamed(soql, &error_of(soql)), r"\q");
    let soql = r"SELECT Id FROM A WHERE Name = '\u12'";
    assert!(error_of(soql).message.contains("unicode escape"));
    let soql = r"SELECT Id FROM A WHERE Name = '\uD800'";
    assert!(error_of(soql).message.contains("unicode escape"));
}

#[test]
fn numbers() {
    assert_eq!(value_of("A = 42"), Literal::Integer(42));
    assert_eq!(value_of("A = -42"), Literal::Integer(-42));
    assert_eq!(value_of("A = 101.00"), Literal::Decimal(101.0));
    assert_eq!(value_of("A = .5"), Literal::Decimal(0.5));
    assert_eq!(value_of("A = -122.418"), Literal::Decimal(-122.418));
    let error = error_of("SELECT Id FROM A WHERE A = 99999999999999999999");
    assert!(error.message.contains("out of range"));
    // A decimal keeps its point when printed, so it stays a decimal.
    assert_eq!(
        canonical("SELECT Id FROM A WHERE A IN (101.00, 1.50, -0.0, 7)"),
        "SELECT Id FROM A WHERE A IN (101.0, 1.5, -0.0, 7)"
    );
}

#[test]
fn booleans_and_null_are_case_insensitive() {
    assert_eq!(value_of("A = true"), Literal::Boolean(true));
    assert_eq!(value_of("A = FALSE"), Literal::Boolean(false));
    assert_eq!(value_of("A = Null"), Literal::Null);
}

#[test]
fn dates_and_datetimes() {
    assert_eq!(
        value_of("A = 2024-02-29"),
        Literal::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
    );
    let soql = "SELECT Id FROM A WHERE A = 2023-02-29";
    assert_eq!(blamed(soql, &error_of(soql)), "2023-02-29");

    let datetime = |text: &str| match value_of(&format!("A = {text}")) {
        Literal::DateTime(dt) => dt,
        other => panic!("{other:?}"),
    };
    let z = datetime("2010-09-20T22:16:30.000Z");
    assert_eq!(
        z,
        DateTime::parse_from_rfc3339("2010-09-20T22:16:30Z").unwrap()
    );
    assert_eq!(z.offset().local_minus_utc(), 0);
    let plus = datetime("2011-04-26T10:00:00+01:00");
    assert_eq!(plus.offset().local_minus_utc(), 3600);
    assert_eq!(plus.to_utc().to_rfc3339(), "2011-04-26T09:00:00+00:00");
    let minus = datetime("2011-04-26T10:00:00-0800");
    assert_eq!(minus.offset().local_minus_utc(), -8 * 3600);
    // Case 101: digits past nanoseconds are dropped.
    let long = datetime("2020-04-23T09:00:00.123456789123456789+00:00");
    assert_eq!(long.nanosecond(), 123_456_789);

    for bad in [
        "2020-01-01T10:00:00",
        "2020-01-01T25:00:00Z",
        "2020-01-01T10:00:00+2500",
    ] {
        let soql = format!("SELECT Id FROM A WHERE A = {bad}");
        assert!(error_of(&soql).message.contains("datetime"), "{bad}");
    }
    assert_eq!(
        canonical(
            "SELECT Id FROM A WHERE A > 2011-04-26T10:00:00-08:00 AND B < 2011-04-26T10:00:00.5Z \
             AND C = 2020-01-01T00:00:00.123456+0530 AND D = 2020-01-01"
        ),
        "SELECT Id FROM A WHERE A > 2011-04-26T10:00:00-08:00 AND B < 2011-04-26T10:00:00.500Z \
         AND C = 2020-01-01T00:00:00.123456+05:30 AND D = 2020-01-01"
    );
}

#[test]
fn currency_literals() {
    let money = |code: &str, amount: f64| Literal::Currency {
        code: code.into(),
        amount,
    };
    assert_eq!(value_of("Amount > USD5000"), money("USD", 5000.0));
    assert_eq!(value_of("Amount > usd500.01"), money("usd", 500.01));
    assert_eq!(value_of("Amount < USD-500"), money("USD", -500.0));
    assert_eq!(value_of("Amount < EUR-12.5"), money("EUR", -12.5));
    assert_eq!(
        canonical("SELECT Id FROM A WHERE Amount IN (USD5000, usd500.01, JPY-5)"),
        "SELECT Id FROM A WHERE Amount IN (USD5000, usd500.01, JPY-5)"
    );
    // A word that is not a code followed by an amount is not a value.
    let soql = "SELECT Id FROM A WHERE Amount > USDX";
    assert!(error_of(soql).message.contains("'USDX' is a name"));
}

#[test]
fn date_literals_and_their_n() {
    let date_literal = |kind, n| Literal::DateLiteral(DateLiteral { kind, n });
    assert_eq!(
        value_of("A = today"),
        date_literal(DateLiteralKind::Today, None)
    );
    assert_eq!(
        value_of("A > LAST_N_DAYS:30"),
        date_literal(DateLiteralKind::LastNDays, Some(30))
    );
    assert_eq!(
        value_of("A > n_fiscal_years_ago:2"),
        date_literal(DateLiteralKind::NFiscalYearsAgo, Some(2))
    );
    for kind in DateLiteralKind::ALL {
        let text = if kind.takes_n() {
            format!("{}:7", kind.keyword())
        } else {
            kind.keyword().to_string()
        };
        let expected = date_literal(kind, kind.takes_n().then_some(7));
        assert_eq!(value_of(&format!("A = {text}")), expected, "{text}");
    }
    for (bad, blame) in [
        ("LAST_N_DAYS", "LAST_N_DAYS"),
        ("LAST_N_DAYS:", "LAST_N_DAYS:"),
        ("LAST_N_DAYS:x", "LAST_N_DAYS:"),
        ("LAST_N_DAYS:-1", "LAST_N_DAYS:"),
        ("LAST_N_DAYS:1.5", "LAST_N_DAYS:1"),
        ("TODAY:3", "TODAY:"),
    ] {
        let soql = format!("SELECT Id FROM A WHERE A = {bad}");
        let error = error_of(&soql);
        assert_eq!(blamed(&soql, &error), blame, "{bad}: {}", error.message);
    }
}

// ---- conditions -----------------------------------------------------------------------------

#[test]
fn and_or_need_parentheses_to_mix() {
    let soql = "SELECT Id FROM A WHERE a = 1 AND b = 2 OR c = 3";
    let error = error_of(soql);
    assert!(error.message.starts_with("unexpected token: 'OR'"));
    assert_eq!(error.span.start, soql.find("OR").unwrap());
    let soql = "SELECT Id FROM A WHERE a = 1 OR b = 2 AND c = 3";
    assert_eq!(blamed(soql, &error_of(soql)), "AND");

    let a = || cmp("a", CompareOp::Eq, Literal::Integer(1));
    let b = || cmp("b", CompareOp::Eq, Literal::Integer(2));
    let c = || cmp("c", CompareOp::Eq, Literal::Integer(3));
    assert_eq!(
        where_of("SELECT Id FROM A WHERE a = 1 AND (b = 2 OR c = 3)"),
        Condition::And(vec![a(), Condition::Or(vec![b(), c()])])
    );
    // Parentheses that group nothing new are dropped; those that do are kept.
    assert_eq!(
        where_of("SELECT Id FROM A WHERE (((a = 1 AND b = 2))) AND c = 3"),
        Condition::And(vec![Condition::And(vec![a(), b()]), c()])
    );
    assert_eq!(
        canonical("SELECT Id FROM A WHERE ((a = 1 AND b = 2)) AND (c = 3)"),
        "SELECT Id FROM A WHERE (a = 1 AND b = 2) AND c = 3"
    );
}

#[test]
fn not_forms() {
    let a = || cmp("a", CompareOp::Eq, Literal::Integer(1));
    let b = || cmp("b", CompareOp::Lt, Literal::Integer(2));
    let not = |c: Condition| Condition::Not(Box::new(c));
    assert_eq!(where_of("SELECT Id FROM A WHERE NOT a = 1"), not(a()));
    assert_eq!(
        where_of("SELECT Id FROM A WHERE NOT (a = 1 AND b < 2)"),
        not(Condition::And(vec![a(), b()]))
    );
    assert_eq!(
        where_of("SELECT Id FROM A WHERE ((NOT a = 1) AND b < 2)"),
        Condition::And(vec![not(a()), b()])
    );
    assert_eq!(
        where_of("SELECT Id FROM A WHERE NOT (NOT a = 1)"),
        not(not(a()))
    );
    assert_eq!(
        canonical("SELECT Id FROM A WHERE NOT ((NOT (a = 1)) AND b < 2)"),
        "SELECT Id FROM A WHERE NOT ((NOT a = 1) AND b < 2)"
    );
    assert_eq!(
        canonical("SELECT Id FROM A WHERE NOT(NOT a = 1)"),
        "SELECT Id FROM A WHERE NOT (NOT a = 1)"
    );
}

#[test]
fn operators_in_and_includes() {
    for (text, op) in [
        ("=", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<>", CompareOp::Ne),
        ("<", CompareOp::Lt),
        ("<=", CompareOp::Le),
        (">", CompareOp::Gt),
        (">=", CompareOp::Ge),
        ("like", CompareOp::Like),
    ] {
        assert_eq!(
            where_of(&format!("SELECT Id FROM A WHERE x {text} 'v'")),
            cmp("x", op, Literal::String("v".into())),
            "{text}"
        );
    }
    assert_eq!(
        where_of("SELECT Id FROM A WHERE x NOT IN ('a', null, 1)"),
        Condition::In {
            left: field("x"),
            negated: true,
            values: InValues::List(vec![
                lit(Literal::String("a".into())),
                lit(Literal::Null),
                lit(Literal::Integer(1)),
            ]),
        }
    );
    assert_eq!(
        where_of("SELECT Id FROM A WHERE m EXCLUDES ('a;b', 'c')"),
        Condition::Includes {
            left: field("m"),
            excludes: true,
            values: vec![
                lit(Literal::String("a;b".into())),
                lit(Literal::String("c".into()))
            ],
        }
    );
    match where_of("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)") {
        Condition::In {
            values: InValues::Subquery(sub),
            negated: false,
            ..
        } => assert!(sub.from.object.segments[0].is("contact")),
        other => panic!("{other:?}"),
    }
    let soql = "SELECT Id FROM A WHERE x IN ()";
    assert_eq!(blamed(soql, &error_of(soql)), ")");
}

#[test]
fn apex_binds_are_rejected_over_rest_and_kept_when_allowed() {
    let soql = "SELECT Id FROM A WHERE Id IN :accountIds";
    let error = error_of(soql);
    assert_eq!(blamed(soql, &error), ":accountIds");
    assert!(
        error
            .message
            .starts_with("Bind variables only allowed in Apex code: ':accountIds'"),
        "{}",
        error.message
    );
    assert!(error.message.contains("REST API"), "{}", error.message);
    assert!(error.message.contains("literal"), "{}", error.message);

    let options = ParseOptions {
        allow_apex_binds: true,
        ..ParseOptions::default()
    };
    let bind_text = |soql: &str| match parse_with(soql, &options).unwrap().where_clause {
        Some(Condition::In {
            values: InValues::Bind(bind),
            ..
        })
        | Some(Condition::Compare {
            value: Value::Bind(bind),
            ..
        }) => bind.text,
        other => panic!("{other:?}"),
    };
    assert_eq!(bind_text("SELECT Id FROM A WHERE Id = :foo"), "foo");
    assert_eq!(
        bind_text("SELECT Id FROM A WHERE Id IN :new Map<Id, SObject>(x).keySet() LIMIT 5"),
        "new Map<Id, SObject>(x).keySet()"
    );
    assert_eq!(
        bind_text("SELECT Id FROM A WHERE X = :quotes[3].Lines__r[0].Term__c ORDER BY Id"),
        "quotes[3].Lines__r[0].Term__c"
    );
    assert_eq!(
        bind_text("SELECT Id FROM A WHERE X = :m.get('a)b') LIMIT 1"),
        "m.get('a)b')"
    );
    let soql = "SELECT Id FROM A WHERE M__c INCLUDES ('a', :picks)";
    let error = parse_with(soql, &options).unwrap_err();
    assert!(error.message.contains("INCLUDES"), "{}", error.message);
    assert_eq!(blamed(soql, &error), ":picks");
}

// ---- the rest of the statement ----------------------------------------------------------------

#[test]
fn typeof_builds_the_expected_tree() {
    let query = parse(
        "SELECT TYPEOF What WHEN Account THEN Phone, Owner.Name WHEN Group THEN Name \
         ELSE Name, Email END FROM Event",
    )
    .unwrap();
    assert_eq!(
        query.select,
        vec![SelectItem::TypeOf(TypeOf {
            relationship: id("What"),
            whens: vec![
                TypeOfWhen {
                    object: id("Account"),
                    fields: vec![path("Phone"), path("Owner.Name")],
                },
                TypeOfWhen {
                    object: id("Group"),
                    fields: vec![path("Name")],
                },
            ],
            else_fields: Some(vec![path("Name"), path("Email")]),
            span: at(),
        })]
    );
    let soql = "SELECT TYPEOF What ELSE Name END FROM Event";
    assert_eq!(blamed(soql, &error_of(soql)), "ELSE");
}

#[test]
fn select_items_functions_and_aliases() {
    let query = parse(
        "SELECT COUNT(Name)cnt, FORMAT(convertCurrency(amount)) amt, COUNT(), \
         CALENDAR_YEAR(convertTimezone(CreatedDate)), FIELDS(standard), \
         Account.Owner.Manager.Profile.Name FROM Opportunity",
    )
    .unwrap();
    let call = |function, args| {
        Expr::Call(Call {
            function,
            args,
            span: at(),
        })
    };
    let item = |expr, alias: Option<&str>| SelectItem::Expr {
        expr,
        alias: alias.map(id),
    };
    assert_eq!(
        query.select,
        vec![
            item(call(Function::Count, vec![field("Name")]), Some("cnt")),
            item(
                call(
                    Function::Format,
                    vec![call(Function::ConvertCurrency, vec![field("amount")])]
                ),
                Some("amt")
            ),
            item(call(Function::Count, vec![]), None),
            item(
                call(
                    Function::CalendarYear,
                    vec![call(Function::ConvertTimezone, vec![field("CreatedDate")])]
                ),
                None
            ),
            SelectItem::Fields {
                group: FieldsGroup::Standard,
                span: at()
            },
            item(field("Account.Owner.Manager.Profile.Name"), None),
        ]
    );
    let soql = "SELECT LeadSourceCOUNT(Name) FROM Lead";
    assert!(error_of(soql).message.contains("unknown function"));
    let soql = "SELECT SUM(Amount, Id) FROM Opportunity";
    assert!(error_of(soql).message.contains("exactly one"));
}

#[test]
fn location_functions_take_their_documented_arguments() {
    assert_eq!(
        canonical(
            "SELECT Id FROM W WHERE DISTANCE(Loc__c, GEOLOCATION(37.775, -122), 'MI') < 20 \
             ORDER BY DISTANCE(Loc__c, Other__c, 'km')"
        ),
        "SELECT Id FROM W WHERE DISTANCE(Loc__c, GEOLOCATION(37.775, -122), 'MI') < 20 \
         ORDER BY DISTANCE(Loc__c, Other__c, 'km')"
    );
    for bad in [
        "SELECT GEOLOCATION(1, 2) FROM W",
        "SELECT DISTANCE(1, 2) FROM W",
        "SELECT Id FROM W WHERE DISTANCE(L, GEOLOCATION(1, 2), 'm') < 1",
        "SELECT Id FROM W WHERE DISTANCE(GEOLOCATION(1, 2), L, 'km') < 1",
        "SELECT Id FROM W WHERE DISTANCE(L, GEOLOCATION('a', 2), 'km') < 1",
        "SELECT Id FROM W WHERE CALENDAR_YEAR(5) = 1",
    ] {
        error_of(bad);
    }
}

#[test]
fn every_clause_in_canonical_form() {
    assert_eq!(
        canonical(
            "select  Name,(select LastName from Contacts c where c.Email!=null limit 2) \
             FROM Account a using scope Mine where a.Name<>'x'with security_enforced \
             With Data Category Geography__c at (usa__c,uk__c) and Product__c above_or_below p__c \
             group by rollup(Name,Type) having count(Id)>1 order by Name desc nulls first, \
             Type asc, Id nulls last limit 10 offset 20 for view update viewstat"
        ),
        "SELECT Name, (SELECT LastName FROM Contacts c WHERE c.Email != NULL LIMIT 2) \
         FROM Account a USING SCOPE Mine WHERE a.Name != 'x' WITH SECURITY_ENFORCED \
         WITH DATA CATEGORY Geography__c AT (usa__c, uk__c) AND Product__c ABOVE_OR_BELOW p__c \
         GROUP BY ROLLUP(Name, Type) HAVING COUNT(Id) > 1 ORDER BY Name DESC NULLS FIRST, \
         Type ASC, Id NULLS LAST LIMIT 10 OFFSET 20 FOR VIEW UPDATE VIEWSTAT"
    );
    assert_eq!(
        canonical("SELECT Id FROM A GROUP BY CUBE(a, b) FOR UPDATE"),
        "SELECT Id FROM A GROUP BY CUBE(a, b) FOR UPDATE"
    );
    assert_eq!(
        canonical("SELECT Id FROM A WITH USER_MODE UPDATE TRACKING"),
        "SELECT Id FROM A WITH USER_MODE UPDATE TRACKING"
    );
}

#[test]
fn clauses_out_of_order_are_rejected() {
    for (soql, blame) in [
        ("SELECT Id FROM A LIMIT 1 WHERE a = 1", "WHERE"),
        ("SELECT Id FROM A ORDER BY Id GROUP BY Id", "GROUP"),
        ("SELECT Id FROM A HAVING COUNT(Id) > 1", "HAVING"),
        ("SELECT Id FROM A LIMIT 1 LIMIT 2", "LIMIT"),
        ("SELECT Id FROM A OFFSET -1", "-1"),
        ("SELECT Id FROM A FOR", ""),
        ("SELECT Id FROM A UPDATE VIEW", "VIEW"),
    ] {
        let error = error_of(soql);
        assert_eq!(blamed(soql, &error), blame, "{soql}: {}", error.message);
    }
}

#[test]
fn keywords_stand_as_names_where_salesforce_allows() {
    assert_eq!(canonical("SELECT Id FROM Group"), "SELECT Id FROM Group");
    assert_eq!(
        canonical("SELECT Id FROM Order ORDER BY Id"),
        "SELECT Id FROM Order ORDER BY Id"
    );
    assert_eq!(
        canonical("SELECT Id, Format, Count, Typeof FROM Case"),
        "SELECT Id, Format, Count, Typeof FROM Case"
    );
    // OFFSET is not reserved: without a number it is the FROM alias (is-valid case 39).
    let query = parse("SELECT Name FROM Account OFFSET").unwrap();
    assert_eq!(query.from.alias, Some(id("OFFSET")));
    assert_eq!(query.offset, None);
    let soql = "SELECT Id FROM Account Where";
    assert_eq!(error_of(soql).message, "unexpected token: '<EOF>'");
}

// ---- errors and limits ------------------------------------------------------------------------

#[test]
fn errors_use_salesforce_wording_and_locate_the_token() {
    let soql = "SELECT Id, FROM Account";
    let error = error_of(soql);
    assert_eq!(error.message, "unexpected token: 'FROM'");
    assert_eq!(error.position(soql), (1, 12));
    let soql = "SELECT Id\nFROM";
    let error = error_of(soql);
    assert_eq!(error.message, "unexpected token: '<EOF>'");
    assert_eq!((error.span.start, error.span.end), (soql.len(), soql.len()));
    assert_eq!(
        error.salesforce_message(soql),
        "\nFROM\n    ^\nERROR at Row:2:Column:5\nunexpected token: '<EOF>'"
    );
    // Salesforce takes a name on the value side for a bind variable.
    let soql = "SELECT Id FROM A WHERE CloseDate > Other.Date__c AND x = 1";
    let error = error_of(soql);
    assert!(
        error
            .message
            .starts_with("Bind variables only allowed in Apex code: 'Other.Date__c' is a name"),
        "{}",
        error.message
    );
    assert_eq!(blamed(soql, &error), "Other.Date__c");
    let soql = "SELECT Id FROM A WHERE Name = AND";
    assert_eq!(error_of(soql).message, "unexpected token: 'AND'");
    let soql = "SELECT Id FROM A WHERE Name = 'open";
    assert!(error_of(soql).message.contains("unterminated string"));
    assert_eq!(error_of("").message, "unexpected token: '<EOF>'");
    let via_from_str: Result<Query, SoqlError> = "SELECT Id FROM".parse();
    assert_eq!(
        via_from_str.unwrap_err().message,
        "unexpected token: '<EOF>'"
    );
}

#[test]
fn nesting_is_bounded() {
    let depth = MAX_NESTING + 1;
    let deep = format!(
        "SELECT Id FROM A WHERE {}a = 1{}",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    assert!(error_of(&deep).message.contains("levels deep"));
    let ok_depth = MAX_NESTING - 1;
    let fine = format!(
        "SELECT Id FROM A WHERE {}a = 1{}",
        "(".repeat(ok_depth),
        ")".repeat(ok_depth)
    );
    assert!(parse(&fine).is_ok());
    // Far deeper input is refused just as calmly.
    let very_deep = format!(
        "SELECT Id FROM A WHERE {}",
        "NOT (".repeat(100_000 / 5 - 10)
    );
    assert!(error_of(&very_deep).message.contains("levels deep"));
    let calls = format!(
        "SELECT {}Id{} FROM A",
        "FORMAT(".repeat(200),
        ")".repeat(200)
    );
    assert!(error_of(&calls).message.contains("levels deep"));
}

#[test]
fn queries_over_100000_characters_are_rejected() {
    let padding = " ".repeat(100_000);
    let soql = format!("SELECT Id FROM A{padding}");
    assert!(error_of(&soql).message.contains("100000"));
    let at_limit = format!("SELECT Id FROM A{}", " ".repeat(100_000 - 16));
    assert!(parse(&at_limit).is_ok());
}

#[test]
fn misspelt_or_glued_keywords_get_suggestions() {
    for (soql, expected) in [
        ("SELECT Id FORM Account", vec!["FROM"]),
        ("SELECT Id, Name FROMAccount", vec!["FROM Account"]),
        (
            "SELECT Id FROM Account WHERE Name = 'x' LIMT 5",
            vec!["LIMIT"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name OFFSET100",
            vec!["OFFSET 100"],
        ),
        ("SELECT Name FROM Account GROUPBY Name", vec!["GROUP BY"]),
        ("SELECT Id FROM Account WHERE Name = 'x' AND", vec![]),
    ] {
        let error = error_of(soql);
        assert_eq!(error.suggestions, expected, "{soql}: {}", error.message);
    }
    let soql = "SELECT Id FORM Account";
    assert!(error_of(soql).render(soql).ends_with("did you mean: FROM"));
}

/// The deepest query the parser accepts parses, prints and compares on half the stack of a
/// tokio worker thread (2 MiB), even in an unoptimised build (it needs about 12 KiB a level
/// there, far less in release).
#[test]
fn the_deepest_accepted_query_fits_a_small_stack() {
    // Each form below nests exactly one level.
    let levels = MAX_NESTING;
    let mut condition = "a = 1".to_string();
    for level in 0..levels {
        condition = match level % 3 {
            0 => format!("NOT {condition}"),
            1 => format!("(b = 1 AND {condition})"),
            _ => format!("Id IN (SELECT Id FROM C WHERE {condition})"),
        };
    }
    let calls = format!("{}Id{}", "FORMAT(".repeat(levels), ")".repeat(levels));
    let soql = format!("SELECT {calls} FROM A WHERE {condition}");
    let handle = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(move || {
            let query = parse(&soql).map_err(|e| e.render(&soql))?;
            let printed = query.to_string();
            let reparsed = parse(&printed).map_err(|e| e.render(&printed))?;
            Ok::<bool, String>(reparsed == query)
        })
        .unwrap();
    assert_eq!(handle.join().unwrap(), Ok(true));
}
