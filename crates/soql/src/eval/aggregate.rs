//! Aggregate queries: GROUP BY (with ROLLUP and CUBE), aggregate functions, HAVING, and
//! ORDER BY over the groups, producing `AggregateResult` rows.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::compare::order_values;
use super::plan::{Operand, OrderKey, Plan, Planner, Pred, RowEnv, Scope, order_key};
use super::run::{SlotEnv, compare_keys, page};
use super::{Cell, Field, QueryResult, Record, RecordKind};
use crate::ast::{Expr, Function, GroupBy, Query, SelectItem};
use crate::data::{DataSource, Value};
use crate::error::{ErrorCode, SoqlError};

/// An aggregate query, resolved. An aggregate row's values live in slots: group `i` in slot
/// `i`, its GROUPING() flag in slot `groups + i`, aggregate `j` in slot `2 * groups + j`.
#[derive(Debug)]
pub(crate) struct AggPlan {
    groups: Vec<Operand>,
    /// For each grouping set, which groups it keeps (the others are subtotalled away).
    sets: Vec<Vec<bool>>,
    aggregates: Vec<AggCall>,
    columns: Vec<(Arc<str>, usize)>,
    having: Option<Pred>,
    order: Vec<OrderKey>,
}

#[derive(Debug)]
struct AggCall {
    function: Function,
    /// `None` for `COUNT()`.
    operand: Option<Operand>,
}

struct Slots<'p, 's, D: DataSource> {
    planner: &'p Planner<'s, D>,
    scope: &'p Scope,
    group_keys: Vec<String>,
    aggregates: Vec<AggCall>,
    aggregate_keys: Vec<String>,
}

impl<D: DataSource> Slots<'_, '_, D> {
    /// The slot an expression reads: a group, an aggregate (added on first use), or a
    /// GROUPING() flag.
    fn slot(&mut self, expr: &Expr) -> Option<usize> {
        let expr = unwrap_formatting(expr);
        let groups = self.group_keys.len();
        let expr_key = key(self.planner, self.scope, expr);
        if let Some(i) = self.group_keys.iter().position(|k| *k == expr_key) {
            return Some(i);
        }
        let Expr::Call(call) = expr else {
            return None;
        };
        if call.function == Function::Grouping {
            let arg = key(self.planner, self.scope, call.args.first()?);
            return self
                .group_keys
                .iter()
                .position(|k| *k == arg)
                .map(|i| groups + i);
        }
        if !call.function.is_aggregate() {
            return None;
        }
        if let Some(j) = self.aggregate_keys.iter().position(|k| *k == expr_key) {
            return Some(2 * groups + j);
        }
        let operand = call
            .args
            .first()
            .map(|arg| self.planner.operand(self.scope, arg));
        self.aggregates.push(AggCall {
            function: call.function,
            operand,
        });
        self.aggregate_keys.push(expr_key);
        Some(2 * groups + self.aggregates.len() - 1)
    }
}

/// `FORMAT(SUM(Amount))`, `convertCurrency(...)`, `toLabel(Stage)`: the emulator returns the
/// value itself.
fn unwrap_formatting(expr: &Expr) -> &Expr {
    match expr {
        Expr::Call(call)
            if matches!(
                call.function,
                Function::Format | Function::ConvertCurrency | Function::ToLabel
            ) =>
        {
            call.args.first().map_or(expr, unwrap_formatting)
        }
        _ => expr,
    }
}

/// A spelling-independent key for matching SELECT, HAVING and ORDER BY expressions to
/// GROUP BY expressions.
fn key<D: DataSource>(planner: &Planner<'_, D>, scope: &Scope, expr: &Expr) -> String {
    match expr {
        Expr::Field(path) => {
            let resolved = planner.resolve(scope, &path.segments);
            let mut key = String::new();
            for hop in &resolved.path.hops {
                key.push_str(hop);
                key.push('.');
            }
            key.push_str(&resolved.path.field);
            key.to_lowercase()
        }
        Expr::Call(call) => {
            let args: Vec<String> = call.args.iter().map(|a| key(planner, scope, a)).collect();
            format!("{}({})", call.function.name(), args.join(",")).to_lowercase()
        }
        Expr::Literal(literal, _) => format!("{literal:?}"),
    }
}

pub(crate) fn plan<D: DataSource>(
    planner: &Planner<'_, D>,
    scope: &Scope,
    query: &Query,
) -> Result<AggPlan, SoqlError> {
    let group_exprs = query.group_by.as_ref().map_or(&[][..], GroupBy::exprs);
    let count = group_exprs.len();
    // "You can include up to three fields in a comma-separated list" (GROUP BY ROLLUP and
    // GROUP BY CUBE, SOQL and SOSL Reference); CUBE's subtotal rows grow as 2^n.
    if matches!(query.group_by, Some(GroupBy::Rollup(_) | GroupBy::Cube(_))) && count > 3 {
        let span = group_exprs.get(3).map_or(query.span, Expr::span);
        return Err(SoqlError::new(
            ErrorCode::MalformedQuery,
            "GROUP BY ROLLUP and GROUP BY CUBE take at most three fields: remove some, or use a plain GROUP BY.",
            span,
        ));
    }
    let groups = group_exprs
        .iter()
        .map(|e| planner.operand(scope, e))
        .collect();
    // ROLLUP(a, b) adds subtotals by a and a grand total; CUBE(a, b) every combination.
    let sets = match &query.group_by {
        Some(GroupBy::Rollup(_)) => (0..=count)
            .rev()
            .map(|kept| (0..count).map(|i| i < kept).collect())
            .collect(),
        Some(GroupBy::Cube(_)) => {
            let mut sets: Vec<Vec<bool>> = (0..1u32 << count)
                .rev()
                .map(|mask| {
                    (0..count)
                        .map(|i| mask & (1 << (count - 1 - i)) != 0)
                        .collect()
                })
                .collect();
            sets.sort_by_key(|set| std::cmp::Reverse(set.iter().filter(|k| **k).count()));
            sets
        }
        _ => vec![vec![true; count]],
    };
    let mut slots = Slots {
        planner,
        scope,
        group_keys: group_exprs.iter().map(|e| key(planner, scope, e)).collect(),
        aggregates: Vec::new(),
        aggregate_keys: Vec::new(),
    };
    // "Any aggregated field in a SELECT list that does not have an alias automatically gets
    // an implied alias with a format expri, where i denotes the order of the aggregated
    // fields with no explicit aliases" (Using Aliases with GROUP BY, SOQL and SOSL
    // Reference). Plain grouped fields keep their field name.
    let mut columns = Vec::new();
    let mut unnamed = 0usize;
    for item in &query.select {
        let SelectItem::Expr { expr, alias } = item else {
            continue;
        };
        let Some(slot) = slots.slot(expr) else {
            continue;
        };
        let name: Arc<str> = match (alias, unwrap_formatting(expr)) {
            (Some(alias), _) => Arc::from(alias.name.as_str()),
            (None, Expr::Field(path)) => planner.resolve(scope, &path.segments).path.field,
            (None, _) => {
                unnamed += 1;
                Arc::from(format!("expr{}", unnamed - 1))
            }
        };
        columns.push((name, slot));
    }
    let having = match &query.having {
        Some(condition) => Some(planner.condition(condition, &mut |expr| {
            Ok(slots.slot(expr).map_or(Operand::Null, Operand::Slot))
        })?),
        None => None,
    };
    let order = query
        .order_by
        .iter()
        .map(|item| {
            let operand = slots.slot(&item.expr).map_or(Operand::Null, Operand::Slot);
            order_key(item, operand)
        })
        .collect();
    Ok(AggPlan {
        groups,
        sets,
        aggregates: slots.aggregates,
        columns,
        having,
        order,
    })
}

/// A hashable stand-in for a group value. Text groups ignore case, as SOQL's `=` does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Null,
    Boolean(bool),
    Integer(i64),
    Double(u64),
    Text(String),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Time(NaiveTime),
    Location(u64, u64),
}

impl KeyPart {
    fn of(value: &Value) -> KeyPart {
        match value {
            Value::Null => KeyPart::Null,
            Value::Boolean(b) => KeyPart::Boolean(*b),
            Value::Integer(n) => KeyPart::Integer(*n),
            Value::Double(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => KeyPart::Integer(*x as i64),
            Value::Double(x) => KeyPart::Double(x.to_bits()),
            Value::String(s) => KeyPart::Text(s.to_lowercase()),
            Value::Date(d) => KeyPart::Date(*d),
            Value::DateTime(t) => KeyPart::DateTime(*t),
            Value::Time(t) => KeyPart::Time(*t),
            Value::Location {
                latitude,
                longitude,
            } => KeyPart::Location(latitude.to_bits(), longitude.to_bits()),
        }
    }
}

/// Aggregate functions ignore nulls, except COUNT() and COUNT(Id) ("Null values in aggregate
/// functions", Use null in WHERE).
enum Acc {
    Count(i64),
    Distinct(HashSet<KeyPart>),
    Sum(Option<f64>),
    Avg(f64, i64),
    Min(Option<Value>),
    Max(Option<Value>),
}

impl Acc {
    fn new(function: Function) -> Acc {
        match function {
            Function::CountDistinct => Acc::Distinct(HashSet::new()),
            Function::Sum => Acc::Sum(None),
            Function::Avg => Acc::Avg(0.0, 0),
            Function::Min => Acc::Min(None),
            Function::Max => Acc::Max(None),
            _ => Acc::Count(0),
        }
    }

    /// `value` is `None` for COUNT(), which counts rows.
    fn add(&mut self, value: Option<&Value>) {
        let Some(value) = value else {
            if let Acc::Count(n) = self {
                *n += 1;
            }
            return;
        };
        if value.is_null() {
            return;
        }
        let number = match value {
            Value::Integer(n) => Some(*n as f64),
            Value::Double(x) => Some(*x),
            _ => None,
        };
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(seen) => {
                seen.insert(KeyPart::of(value));
            }
            Acc::Sum(sum) => {
                if let Some(x) = number {
                    *sum = Some(sum.unwrap_or(0.0) + x);
                }
            }
            Acc::Avg(sum, n) => {
                if let Some(x) = number {
                    *sum += x;
                    *n += 1;
                }
            }
            Acc::Min(best) => {
                if best.as_ref().is_none_or(|b| order_values(value, b).is_lt()) {
                    *best = Some(value.clone());
                }
            }
            Acc::Max(best) => {
                if best.as_ref().is_none_or(|b| order_values(value, b).is_gt()) {
                    *best = Some(value.clone());
                }
            }
        }
    }

    /// COUNT gives an integer; SUM and AVG a decimal, as the recorded responses show
    /// (`"expr0" : 300.0`); MIN and MAX the field's own type.
    fn finish(self) -> Value {
        match self {
            Acc::Count(n) => Value::Integer(n),
            Acc::Distinct(seen) => Value::Integer(seen.len() as i64),
            Acc::Sum(sum) => sum.map_or(Value::Null, Value::Double),
            Acc::Avg(_, 0) => Value::Null,
            Acc::Avg(sum, n) => Value::Double(sum / n as f64),
            Acc::Min(best) | Acc::Max(best) => best.unwrap_or(Value::Null),
        }
    }
}

struct Group {
    set: usize,
    values: Vec<Value>,
    accs: Vec<Acc>,
}

/// Lays ROLLUP and CUBE rows out as the reference's examples show them: each subtotal right
/// after the rows it sums, the grand total last ("GROUP BY ROLLUP", SOQL and SOSL
/// Reference). Rows sort group by group on each value's first appearance, a subtotalled
/// position sorting after every value.
fn order_subtotals(groups: &mut [Group], sets: &[Vec<bool>]) {
    let width = sets.first().map_or(0, Vec::len);
    let mut seen: Vec<HashMap<KeyPart, usize>> = vec![HashMap::new(); width];
    for group in groups
        .iter()
        .filter(|g| sets[g.set].iter().all(|kept| *kept))
    {
        for (i, value) in group.values.iter().enumerate() {
            let next = seen[i].len();
            seen[i].entry(KeyPart::of(value)).or_insert(next);
        }
    }
    groups.sort_by_cached_key(|group| {
        (0..width)
            .map(|i| match sets[group.set][i] {
                true => seen[i]
                    .get(&KeyPart::of(&group.values[i]))
                    .copied()
                    .unwrap_or(usize::MAX - 1),
                false => usize::MAX,
            })
            .collect::<Vec<_>>()
    });
}

pub(crate) fn run<D: DataSource>(
    agg: &AggPlan,
    source: &D,
    rows: &[D::Row],
    plan: &Plan,
) -> QueryResult<'static, D::Row> {
    let new_group = |set: usize, values: Vec<Value>| Group {
        set,
        values,
        accs: agg
            .aggregates
            .iter()
            .map(|a| Acc::new(a.function))
            .collect(),
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(usize, Vec<KeyPart>), usize> = HashMap::new();
    if agg.groups.is_empty() {
        // Without GROUP BY there is exactly one row, even over no records.
        groups.push(new_group(0, Vec::new()));
        index.insert((0, Vec::new()), 0);
    }
    for &row in rows {
        let env = RowEnv { source, row };
        // Borrowed where the source allows: a group's values are copied only when the
        // group is new.
        let values: Vec<Cow<'_, Value>> = agg.groups.iter().map(|g| g.eval(&env)).collect();
        let inputs: Vec<Option<Cow<'_, Value>>> = agg
            .aggregates
            .iter()
            .map(|a| a.operand.as_ref().map(|o| o.eval(&env)))
            .collect();
        for (set, kept) in agg.sets.iter().enumerate() {
            let key: Vec<KeyPart> = values
                .iter()
                .zip(kept)
                .map(|(v, keep)| if *keep { KeyPart::of(v) } else { KeyPart::Null })
                .collect();
            let next = groups.len();
            let at = *index.entry((set, key)).or_insert(next);
            if at == next {
                let shown = values
                    .iter()
                    .zip(kept)
                    .map(|(v, keep)| {
                        if *keep {
                            v.clone().into_owned()
                        } else {
                            Value::Null
                        }
                    })
                    .collect();
                groups.push(new_group(set, shown));
            }
            for (acc, input) in groups[at].accs.iter_mut().zip(&inputs) {
                acc.add(input.as_deref());
            }
        }
    }
    if agg.sets.len() > 1 {
        order_subtotals(&mut groups, &agg.sets);
    }
    let width = agg.groups.len();
    let mut rows: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|group| {
            let kept = &agg.sets[group.set];
            let mut slots = group.values;
            slots.extend(kept.iter().map(|keep| Value::Integer(i64::from(!*keep))));
            slots.extend(group.accs.into_iter().map(Acc::finish));
            debug_assert_eq!(slots.len(), 2 * width + agg.aggregates.len());
            slots
        })
        .collect();
    if let Some(having) = &agg.having {
        rows.retain(|slots| having.matches(&SlotEnv { slots }));
    }
    if !agg.order.is_empty() {
        rows.sort_by(|a, b| {
            let a: Vec<&Value> = agg.order.iter().map(|k| slot_of(&k.operand, a)).collect();
            let b: Vec<&Value> = agg.order.iter().map(|k| slot_of(&k.operand, b)).collect();
            compare_keys(&a, &b, &agg.order)
        });
    }
    let matched = rows.len();
    let (start, end) = page(matched, plan.offset, plan.limit);
    let records: Vec<Record<'static, D::Row>> = rows[start..end]
        .iter()
        .map(|slots| Record {
            kind: RecordKind::Aggregate,
            fields: agg
                .columns
                .iter()
                .map(|(name, slot)| Field {
                    name: name.clone(),
                    value: Cell::Value(Cow::Owned(
                        slots.get(*slot).cloned().unwrap_or(Value::Null),
                    )),
                })
                .collect(),
        })
        .collect();
    QueryResult {
        total_size: records.len(),
        matched,
        records,
    }
}

fn slot_of<'v>(operand: &Operand, slots: &'v [Value]) -> &'v Value {
    match operand {
        Operand::Slot(i) => slots.get(*i).unwrap_or(&super::plan::NULL),
        _ => &super::plan::NULL,
    }
}
