//! Property tests for the SOQL parser and printer: random trees print to text that parses
//! back to the same tree, and no input whatever makes the parser panic or point outside the
//! text.

#![allow(clippy::unwrap_used)] // Strategies are test code outside #[test] functions.

use chrono::{DateTime, FixedOffset, NaiveDate};
use proptest::prelude::*;
use sfmcp_soql::ast::*;
use sfmcp_soql::{ParseOptions, parse_with};

/// Words that mean something somewhere in SOQL: generated names avoid them so that a tree's
/// text is never read with a keyword where the tree has a name.
const KEYWORDS: &[&str] = &[
    "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST",
    "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "USING", "WHERE", "WITH", "TYPEOF",
    "WHEN", "THEN", "ELSE", "END", "FIELDS", "ORDER", "BY", "OFFSET", "FOR", "UPDATE",
];

fn ident() -> impl Strategy<Value = Ident> {
    "[A-Za-z][A-Za-z0-9_]{0,8}"
        .prop_filter("not a keyword", |s| {
            !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s))
        })
        .prop_map(|s| Ident::new(s, Span::default()))
}

fn field_path() -> impl Strategy<Value = FieldPath> {
    prop::collection::vec(ident(), 1..=4).prop_map(|segments| FieldPath { segments })
}

fn field() -> impl Strategy<Value = Expr> {
    field_path().prop_map(Expr::Field)
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1_000_000i64..1_000_000, 0u32..4)
            .prop_map(|(n, scale)| n as f64 / 10f64.powi(scale as i32)),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (1i32..=9999, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn datetime() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (
        (2i32..=9998, 1u32..=12, 1u32..=28),
        (0u32..24, 0u32..60, 0u32..60),
        prop_oneof![
            Just(0u32),
            0u32..1_000_000_000,
            (0u32..1000).prop_map(|ms| ms * 1_000_000)
        ],
        -14 * 60..=14 * 60i32,
    )
        .prop_map(|((y, mo, d), (h, mi, s), nanos, offset_minutes)| {
            let naive = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_nano_opt(h, mi, s, nanos)
                .unwrap();
            let offset = FixedOffset::east_opt(offset_minutes * 60).unwrap();
            naive.and_local_timezone(offset).single().unwrap()
        })
}

fn date_literal() -> impl Strategy<Value = Literal> {
    (
        prop::sample::select(DateLiteralKind::ALL.to_vec()),
        any::<u32>(),
    )
        .prop_map(|(kind, n)| {
            Literal::DateLiteral(DateLiteral {
                kind,
                n: kind.takes_n().then_some(n),
            })
        })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Boolean),
        any::<String>().prop_map(Literal::String),
        "[ -~\\n\\t]{0,12}".prop_map(Literal::String),
        any::<i64>().prop_map(Literal::Integer),
        finite_f64().prop_map(Literal::Decimal),
        ("[A-Za-z]{3}", finite_f64()).prop_map(|(code, amount)| Literal::Currency { code, amount }),
        date().prop_map(Literal::Date),
        datetime().prop_map(Literal::DateTime),
        date_literal(),
    ]
}

/// A LIKE pattern as the parser stores it: backslashes only in `\%`, `\_` and `\\`.
fn like_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[^\\\\]".prop_map(|s: String| s),
            Just("%".to_string()),
            Just("_".to_string()),
            Just(r"\%".to_string()),
            Just(r"\_".to_string()),
            Just(r"\\".to_string()),
            Just("'".to_string()),
        ],
        0..8,
    )
    .prop_map(|pieces| pieces.concat())
}

fn bind() -> impl Strategy<Value = ApexBind> {
    (
        prop::collection::vec("[a-z][A-Za-z0-9_]{0,6}", 1..3),
        any::<bool>(),
    )
        .prop_map(|(parts, call)| {
            let mut text = parts.join(".");
            if call {
                text.push_str(".keySet()");
            }
            ApexBind {
                text,
                span: Span::default(),
            }
        })
}

fn literal_value() -> impl Strategy<Value = Value> {
    literal().prop_map(|l| Value::Literal(l, Span::default()))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        9 => literal_value(),
        1 => bind().prop_map(Value::Bind),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let call = |function: Function, args: Vec<Expr>| {
        Expr::Call(Call {
            function,
            args,
            span: Span::default(),
        })
    };
    let single = Function::ALL
        .into_iter()
        .filter(|f| {
            !matches!(
                f,
                Function::Distance | Function::Geolocation | Function::Count | Function::Grouping
            )
        })
        .collect::<Vec<_>>();
    let number = prop_oneof![
        any::<i64>().prop_map(Literal::Integer),
        finite_f64().prop_map(Literal::Decimal),
    ]
    .prop_map(|l| Expr::Literal(l, Span::default()));
    let distance = (
        field(),
        prop_oneof![
            field(),
            (number.clone(), number)
                .prop_map(move |(a, b)| call(Function::Geolocation, vec![a, b])),
        ],
        prop::sample::select(vec!["mi", "km", "MI"]),
    )
        .prop_map(move |(location, other, unit)| {
            call(
                Function::Distance,
                vec![
                    location,
                    other,
                    Expr::Literal(Literal::String(unit.into()), Span::default()),
                ],
            )
        });
    let leaf = prop_oneof![
        4 => field(),
        1 => prop::collection::vec(field(), 0..3).prop_map(move |args| call(Function::Count, args)),
        1 => prop::collection::vec(field(), 1..3).prop_map(move |args| call(Function::Grouping, args)),
        1 => distance,
    ];
    leaf.prop_recursive(3, 8, 1, move |inner| {
        (prop::sample::select(single.clone()), inner).prop_map(move |(f, arg)| call(f, vec![arg]))
    })
}

fn simple_query() -> impl Strategy<Value = Query> {
    (
        prop::collection::vec(field(), 1..3),
        field_path(),
        prop::option::of(ident()),
        prop::option::of(0u64..3000),
    )
        .prop_map(|(fields, object, alias, limit)| Query {
            select: fields
                .into_iter()
                .map(|expr| SelectItem::Expr { expr, alias: None })
                .collect(),
            from: FromClause { object, alias },
            using_scope: None,
            where_clause: None,
            with: Vec::new(),
            group_by: None,
            having: None,
            order_by: Vec::new(),
            limit,
            offset: None,
            for_clause: None,
            update_clause: None,
            span: Span::default(),
        })
}

fn leaf_condition() -> impl Strategy<Value = Condition> {
    let compare_ops = vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Lt,
        CompareOp::Le,
        CompareOp::Gt,
        CompareOp::Ge,
    ];
    prop_oneof![
        (expr(), prop::sample::select(compare_ops), value())
            .prop_map(|(left, op, value)| Condition::Compare { left, op, value }),
        (expr(), like_pattern()).prop_map(|(left, pattern)| Condition::Compare {
            left,
            op: CompareOp::Like,
            value: Value::Literal(Literal::String(pattern), Span::default()),
        }),
        (
            expr(),
            any::<bool>(),
            prop_oneof![
                prop::collection::vec(value(), 1..4).prop_map(InValues::List),
                simple_query().prop_map(|q| InValues::Subquery(Box::new(q))),
                bind().prop_map(InValues::Bind),
            ]
        )
            .prop_map(|(left, negated, values)| Condition::In {
                left,
                negated,
                values
            }),
        // Apex binds cannot stand in INCLUDES / EXCLUDES.
        (
            expr(),
            any::<bool>(),
            prop::collection::vec(literal_value(), 1..3)
        )
            .prop_map(|(left, excludes, values)| Condition::Includes {
                left,
                excludes,
                values
            }),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    leaf_condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Condition::Or),
            inner.prop_map(|c| Condition::Not(Box::new(c))),
        ]
    })
}

fn with_clause() -> impl Strategy<Value = WithClause> {
    let filter = (
        ident(),
        prop::sample::select(vec![
            DataCategorySelector::At,
            DataCategorySelector::Above,
            DataCategorySelector::Below,
            DataCategorySelector::AboveOrBelow,
        ]),
        prop::collection::vec(ident(), 1..3),
    )
        .prop_map(|(group, selector, categories)| DataCategoryFilter {
            group,
            selector,
            categories,
        });
    prop_oneof![
        Just(WithClause::SecurityEnforced),
        Just(WithClause::UserMode),
        Just(WithClause::SystemMode),
        prop::collection::vec(filter, 1..3).prop_map(WithClause::DataCategory),
    ]
}

fn select_item() -> impl Strategy<Value = SelectItem> {
    let type_of = (
        ident(),
        prop::collection::vec(
            (ident(), prop::collection::vec(field_path(), 1..3))
                .prop_map(|(object, fields)| TypeOfWhen { object, fields }),
            1..3,
        ),
        prop::option::of(prop::collection::vec(field_path(), 1..3)),
    )
        .prop_map(|(relationship, whens, else_fields)| {
            SelectItem::TypeOf(TypeOf {
                relationship,
                whens,
                else_fields,
                span: Span::default(),
            })
        });
    prop_oneof![
        6 => (expr(), prop::option::of(ident())).prop_map(|(expr, alias)| SelectItem::Expr { expr, alias }),
        1 => prop::sample::select(vec![FieldsGroup::All, FieldsGroup::Standard, FieldsGroup::Custom])
            .prop_map(|group| SelectItem::Fields { group, span: Span::default() }),
        1 => type_of,
        1 => simple_query().prop_map(|q| SelectItem::Subquery(Box::new(q))),
    ]
}

fn order_item() -> impl Strategy<Value = OrderItem> {
    (
        expr(),
        prop::option::of(prop::sample::select(vec![
            SortDirection::Asc,
            SortDirection::Desc,
        ])),
        prop::option::of(prop::sample::select(vec![
            NullsOrder::First,
            NullsOrder::Last,
        ])),
    )
        .prop_map(|(expr, direction, nulls)| OrderItem {
            expr,
            direction,
            nulls,
        })
}

fn query() -> impl Strategy<Value = Query> {
    let group_by = prop::option::of((
        prop::collection::vec(expr(), 1..3),
        0..3u8,
        prop::option::of(condition()),
    ));
    (
        (
            prop::collection::vec(select_item(), 1..4),
            field_path(),
            prop::option::of(ident()),
            prop::option::of(ident()),
            prop::option::of(condition()),
            prop::collection::vec(with_clause(), 0..3),
        ),
        (
            group_by,
            prop::collection::vec(order_item(), 0..3),
            prop::option::of(any::<u64>()),
            prop::option::of(0u64..5000),
            prop::option::of(prop::sample::select(vec![
                ForClause::View,
                ForClause::Reference,
                ForClause::Update,
            ])),
            prop::option::of(prop::sample::select(vec![
                UpdateClause::Tracking,
                UpdateClause::Viewstat,
            ])),
        ),
    )
        .prop_map(
            |(
                (select, object, alias, using_scope, where_clause, with),
                (group, order_by, limit, offset, for_clause, update_clause),
            )| {
                let (group_by, having) = match group {
                    None => (None, None),
                    Some((exprs, kind, having)) => (
                        Some(match kind {
                            0 => GroupBy::Plain(exprs),
                            1 => GroupBy::Rollup(exprs),
                            _ => GroupBy::Cube(exprs),
                        }),
                        having,
                    ),
                };
                Query {
                    select,
                    from: FromClause { object, alias },
                    using_scope,
                    where_clause,
                    with,
                    group_by,
                    having,
                    order_by,
                    limit,
                    offset,
                    for_clause,
                    update_clause,
                    span: Span::default(),
                }
            },
        )
}

fn with_binds() -> ParseOptions {
    ParseOptions {
        allow_apex_binds: true,
        ..ParseOptions::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_themselves(tree in query()) {
        let printed = tree.to_string();
        let reparsed = parse_with(&printed, &with_binds())
            .map_err(|e| TestCaseError::fail(format!("{}\n{printed}", e.render(&printed))))?;
        prop_assert_eq!(&reparsed, &tree, "printed as {}", printed);
        prop_assert_eq!(reparsed.to_string(), printed);
    }
}

/// Fragments of SOQL, right and wrong, for token soups.
const FRAGMENTS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "INCLUDES",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "OFFSET",
    "WITH",
    "DATA CATEGORY",
    "AT",
    "FOR",
    "UPDATE",
    "USING SCOPE",
    "TYPEOF",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "FIELDS(ALL)",
    "COUNT(",
    "DISTANCE(",
    "GEOLOCATION(",
    "ROLLUP(",
    "NULLS",
    "FIRST",
    "ASC",
    "Id",
    "Name",
    "Account",
    "a.b.c",
    "(",
    ")",
    ",",
    ".",
    ":",
    "=",
    "!=",
    "<>",
    "<",
    ">=",
    "'x'",
    "'",
    "'\\",
    "\\u",
    "'\\u12'",
    "1",
    "-1.5",
    ".",
    "USD",
    "USD-",
    "usd5.",
    "2020-01-01",
    "2020-01-01T00:00:00Z",
    "2020-13-45",
    "2020-01-01T",
    "TODAY",
    "LAST_N_DAYS:",
    "LAST_N_DAYS:5",
    "null",
    "TRUE",
    ":new Map<",
    "é",
    "\u{0}",
    "\n",
    "#",
    "SELECT Id FROM A",
    "SELECT Id FROM A WHERE",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(FRAGMENTS.to_vec()),
            prop::sample::select(vec!["", " ", "\n"]),
        ),
        0..40,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(f, sep)| format!("{f}{sep}"))
            .collect()
    })
}

fn check_never_panics(text: &str) -> Result<(), TestCaseError> {
    for options in [
        ParseOptions::default(),
        with_binds(),
        ParseOptions {
            allow_apex_binds: true,
            ignore_parse_errors: true,
        },
    ] {
        match parse_with(text, &options) {
            Ok(query) => {
                // Whatever parses prints to something that parses to the same tree.
                let printed = query.to_string();
                let reparsed = parse_with(&printed, &options).map_err(|e| {
                    TestCaseError::fail(format!("{text:?} printed as {printed:?}: {e}"))
                })?;
                prop_assert_eq!(reparsed, query);
            }
            Err(error) => {
                prop_assert!(error.span.start <= error.span.end, "{:?}", error);
                prop_assert!(error.span.end <= text.len(), "{:?} for {:?}", error, text);
                prop_assert!(text.is_char_boundary(error.span.start));
                let _ = error.render(text);
                let _ = error.salesforce_message(text);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_never_panics(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn token_soups_never_panic(text in soup()) {
        check_never_panics(&text)?;
    }

    #[test]
    fn soups_after_a_valid_prefix_never_panic(text in soup()) {
        check_never_panics(&format!("SELECT Id, (SELECT Id FROM C) FROM A WHERE {text}"))?;
    }
}
