//! Evaluator speed: a three-clause WHERE with ORDER BY over 100,000 in-memory records.
//! Target (issue 2): under 50 ms. Run with `cargo bench --bench soql_eval`.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use sfmcp_soql::ast::{
    Call, CompareOp, Condition, DateLiteral, DateLiteralKind, Expr, FieldPath, FromClause,
    Function, GroupBy, Ident, Literal, OrderItem, Query, SelectItem, SortDirection, Span,
    Value as AstValue,
};
use sfmcp_soql::data::{DataSource, Value};
use sfmcp_soql::eval::{EvalContext, evaluate};
use sfmcp_soql::schema::{Lookup, ObjectSchema, Schema};

const ROWS: usize = 100_000;

/// Records stored as rows of values, with one field-name index per object: the shape an
/// emulator store is likely to have.
struct Store {
    schema: Arc<ObjectSchema>,
    columns: HashMap<String, usize>,
    rows: Vec<Vec<Value>>,
}

impl Schema for Store {
    fn object(&self, name: &str) -> Lookup {
        if name.eq_ignore_ascii_case("Opportunity") {
            Lookup::Found(self.schema.clone())
        } else {
            Lookup::Unknown
        }
    }

    fn object_names(&self) -> Vec<String> {
        vec!["Opportunity".into()]
    }
}

impl DataSource for Store {
    type Row = u32;

    fn schema(&self) -> &dyn Schema {
        self
    }

    fn scan(&self, _: &str) -> Box<dyn Iterator<Item = u32> + '_> {
        Box::new(0..self.rows.len() as u32)
    }

    fn object_of(&self, _: u32) -> &str {
        "Opportunity"
    }

    fn value(&self, row: u32, field: &str) -> Option<&Value> {
        let column = *self.columns.get(field)?;
        self.rows.get(row as usize)?.get(column)
    }

    fn parent(&self, _: u32, _: &str) -> Option<u32> {
        None
    }

    fn children(&self, _: u32, _: &str, _: &str) -> Vec<u32> {
        Vec::new()
    }
}

fn store() -> Store {
    let describe = serde_json::json!({
        "name": "Opportunity", "label": "Opportunity",
        "fields": [
            {"name": "Id", "label": "Id", "type": "id"},
            {"name": "Name", "label": "Name", "type": "string"},
            {"name": "Amount", "label": "Amount", "type": "currency"},
            {"name": "StageName", "label": "Stage", "type": "picklist"},
            {"name": "CloseDate", "label": "Close Date", "type": "date"},
        ]
    });
    let schema: ObjectSchema = serde_json::from_value(describe).unwrap_or_else(|e| panic!("{e}"));
    let names = ["Id", "Name", "Amount", "StageName", "CloseDate"];
    let stages = ["Prospecting", "Qualification", "Closed Won", "Closed Lost"];
    let base = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default();
    // A fixed linear congruential sequence keeps the data the same on every run.
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let rows = (0..ROWS)
        .map(|i| {
            vec![
                Value::String(format!("006{i:015}")),
                Value::String(format!("Deal {:08}", next() % 1_000_000)),
                if i % 10 == 0 {
                    Value::Null
                } else {
                    Value::Double((next() % 100_000) as f64)
                },
                Value::String(stages[(next() % 4) as usize].into()),
                Value::Date(base + chrono::Duration::days((next() % 730) as i64)),
            ]
        })
        .collect();
    Store {
        schema: Arc::new(schema.index()),
        columns: names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i))
            .collect(),
        rows,
    }
}

fn path(dotted: &str) -> FieldPath {
    FieldPath {
        segments: dotted
            .split('.')
            .map(|s| Ident::new(s, Span::default()))
            .collect(),
    }
}

fn compare(field: &str, op: CompareOp, literal: Literal) -> Condition {
    Condition::Compare {
        left: Expr::Field(path(field)),
        op,
        value: AstValue::Literal(literal, Span::default()),
    }
}

/// SELECT Id, Name, Amount FROM Opportunity
/// WHERE Amount > 20000 AND StageName != 'Closed Lost' AND CloseDate = LAST_N_DAYS:365
/// ORDER BY <key> DESC
fn query(order_by: &str) -> Query {
    Query {
        select: ["Id", "Name", "Amount"]
            .iter()
            .map(|f| SelectItem::Expr {
                expr: Expr::Field(path(f)),
                alias: None,
            })
            .collect(),
        from: FromClause {
            object: path("Opportunity"),
            alias: None,
        },
        using_scope: None,
        where_clause: Some(Condition::And(vec![
            compare("Amount", CompareOp::Gt, Literal::Integer(20_000)),
            compare(
                "StageName",
                CompareOp::Ne,
                Literal::String("Closed Lost".into()),
            ),
            compare(
                "CloseDate",
                CompareOp::Eq,
                Literal::DateLiteral(DateLiteral {
                    kind: DateLiteralKind::LastNDays,
                    n: Some(365),
                }),
            ),
        ])),
        with: Vec::new(),
        group_by: None,
        having: None,
        order_by: vec![OrderItem {
            expr: Expr::Field(path(order_by)),
            direction: Some(SortDirection::Desc),
            nulls: None,
        }],
        limit: None,
        offset: None,
        for_clause: None,
        update_clause: None,
        span: Span::default(),
    }
}

/// SELECT StageName, CALENDAR_YEAR(CloseDate), SUM(Amount), AVG(Amount), COUNT(Id)
/// FROM Opportunity GROUP BY StageName, CALENDAR_YEAR(CloseDate)
fn grouped() -> Query {
    let field = |name: &str| Expr::Field(path(name));
    let call = |function: Function, args: Vec<Expr>| {
        Expr::Call(Call {
            function,
            args,
            span: Span::default(),
        })
    };
    let year = || call(Function::CalendarYear, vec![field("CloseDate")]);
    let mut query = query("Amount");
    query.where_clause = None;
    query.order_by.clear();
    query.select = [
        field("StageName"),
        year(),
        call(Function::Sum, vec![field("Amount")]),
        call(Function::Avg, vec![field("Amount")]),
        call(Function::Count, vec![field("Id")]),
    ]
    .into_iter()
    .map(|expr| SelectItem::Expr { expr, alias: None })
    .collect();
    query.group_by = Some(GroupBy::Plain(vec![field("StageName"), year()]));
    query
}

fn measure(label: &str, store: &Store, query: &Query, ctx: &EvalContext) {
    let mut times = Vec::new();
    let mut returned = 0;
    for _ in 0..15 {
        let start = Instant::now();
        let result = evaluate(black_box(query), store, ctx).unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed());
        returned = result.total_size;
        black_box(result);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{label}: median {:.2} ms, best {:.2} ms over {} runs; {ROWS} records, {returned} returned",
        ms(median),
        ms(times[0]),
        times.len()
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let store = store();
    let now = DateTime::parse_from_rfc3339("2024-12-31T12:00:00Z")
        .unwrap_or_else(|e| panic!("{e}"))
        .with_timezone(&Utc);
    let ctx = EvalContext::new(now, chrono_tz::Tz::UTC);
    measure(
        "3-clause WHERE, ORDER BY Amount DESC",
        &store,
        &query("Amount"),
        &ctx,
    );
    measure(
        "3-clause WHERE, ORDER BY Name DESC (text)",
        &store,
        &query("Name"),
        &ctx,
    );
    let mut first_page = query("Name");
    first_page.limit = Some(200);
    measure(
        "GROUP BY StageName, CALENDAR_YEAR(CloseDate) with SUM, AVG, COUNT",
        &store,
        &grouped(),
        &ctx,
    );
    measure(
        "3-clause WHERE, ORDER BY Name DESC LIMIT 200",
        &store,
        &first_page,
        &ctx,
    );
}
