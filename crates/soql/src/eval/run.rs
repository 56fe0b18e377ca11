//! Running a plan over rows: filter, sort, page, and build the result tree.

use std::cmp::Ordering;
use std::sync::Arc;

use super::compare::order_values;
use super::plan::{Env, OrderKey, OutNode, Output, Plan, RowEnv};
use super::{Cell, Field, QueryResult, Record, RecordKind, aggregate};
use crate::data::{DataSource, Value};

pub(crate) struct Runner<'a, D: DataSource> {
    source: &'a D,
}

impl<'a, D: DataSource> Runner<'a, D> {
    pub fn new(source: &'a D) -> Self {
        Self { source }
    }

    /// The rows that pass the plan's WHERE, in source order.
    pub fn matching(&self, plan: &Plan, rows: impl Iterator<Item = D::Row>) -> Vec<D::Row> {
        match &plan.filter {
            Some(filter) => rows
                .filter(|&row| {
                    filter.matches(&RowEnv {
                        source: self.source,
                        row,
                    })
                })
                .collect(),
            None => rows.collect(),
        }
    }

    pub fn run(&self, plan: &Plan, rows: impl Iterator<Item = D::Row>) -> QueryResult<'a, D::Row> {
        let rows = self.matching(plan, rows);
        match &plan.output {
            Output::Count => {
                let total = page_len(rows.len(), plan.offset, plan.limit);
                QueryResult {
                    total_size: total,
                    matched: rows.len(),
                    records: Vec::new(),
                }
            }
            Output::Aggregate(agg) => aggregate::run(agg, self.source, &rows, plan),
            Output::Records(nodes) => {
                let matched = rows.len();
                let (start, end) = page(matched, plan.offset, plan.limit);
                let object = plan.object.clone();
                let records = if plan.order.is_empty() {
                    rows[start..end]
                        .iter()
                        .map(|&row| self.record(nodes, row, object.clone()))
                        .collect()
                } else {
                    let order = self.sort_order(&rows, &plan.order);
                    // Build the page's records in source order (sequential reads from the
                    // store), then put them in sorted order.
                    let mut wanted: Vec<(usize, usize)> = order[start..end]
                        .iter()
                        .enumerate()
                        .map(|(position, &index)| (index, position))
                        .collect();
                    wanted.sort_unstable();
                    let mut built: Vec<(usize, Record<'a, D::Row>)> = wanted
                        .into_iter()
                        .map(|(index, position)| {
                            (position, self.record(nodes, rows[index], object.clone()))
                        })
                        .collect();
                    built.sort_unstable_by_key(|(position, _)| *position);
                    built
                        .into_iter()
                        .map(|(_, record)| record)
                        .collect::<Vec<_>>()
                };
                QueryResult {
                    total_size: records.len(),
                    matched,
                    records,
                }
            }
        }
    }

    /// Sorts by the ORDER BY keys, stably (ties keep source order). Each row's keys are read
    /// once into compact [`SortKey`]s; text is lower-cased once into one shared buffer, so
    /// comparing two rows never allocates or folds case again.
    /// Returns the indices of `rows` in sorted order.
    fn sort_order(&self, rows: &[D::Row], order: &[OrderKey]) -> Vec<usize> {
        let width = order.len();
        let mut keys: Vec<SortKey> = Vec::with_capacity(rows.len() * width);
        let mut text = String::new();
        for &row in rows {
            let env = RowEnv {
                source: self.source,
                row,
            };
            for key in order {
                keys.push(SortKey::of(&key.operand.eval(&env), &mut text));
            }
        }
        let mut indices: Vec<usize> = (0..rows.len()).collect();
        indices.sort_by(|&a, &b| {
            let (a, b) = (a * width, b * width);
            let (a, b) = (&keys[a..a + width], &keys[b..b + width]);
            for ((x, y), key) in a.iter().zip(b).zip(order) {
                let ordering = x.compare(*y, key, &text);
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            Ordering::Equal
        });
        indices
    }

    fn record(&self, nodes: &[OutNode], row: D::Row, object: Arc<str>) -> Record<'a, D::Row> {
        let mut fields = Vec::with_capacity(nodes.len());
        for node in nodes {
            let (name, value) = match node {
                OutNode::Leaf { name, operand } => (
                    name.clone(),
                    Cell::Value(operand.eval(&RowEnv {
                        source: self.source,
                        row,
                    })),
                ),
                OutNode::Parent {
                    name,
                    reference,
                    objects,
                    dead,
                    fields: children,
                } => {
                    let parent = if *dead {
                        None
                    } else {
                        self.source.parent(row, reference)
                    };
                    let value = parent.map(|parent| {
                        let object = self.object_name(parent, objects);
                        Box::new(self.record(children, parent, object))
                    });
                    (name.clone(), Cell::Parent(value))
                }
                OutNode::TypeOf {
                    name,
                    reference,
                    branches,
                    otherwise,
                } => {
                    let value = self.source.parent(row, reference).map(|parent| {
                        let actual = self.source.object_of(parent);
                        match branches
                            .iter()
                            .find(|(object, _)| object.eq_ignore_ascii_case(actual))
                        {
                            Some((object, fields)) => {
                                Box::new(self.record(fields, parent, object.clone()))
                            }
                            None => Box::new(self.record(otherwise, parent, Arc::from(actual))),
                        }
                    });
                    (name.clone(), Cell::Parent(value))
                }
                OutNode::Children {
                    name,
                    object,
                    field,
                    plan,
                } => {
                    let children = self.source.children(row, object, field);
                    (
                        name.clone(),
                        Cell::Children(self.run(plan, children.into_iter())),
                    )
                }
            };
            fields.push(Field { name, value });
        }
        Record {
            kind: RecordKind::SObject { object, row },
            fields,
        }
    }

    fn object_name(&self, row: D::Row, known: &[Arc<str>]) -> Arc<str> {
        let actual = self.source.object_of(row);
        known
            .iter()
            .find(|k| ***k == *actual)
            .cloned()
            .unwrap_or_else(|| Arc::from(actual))
    }
}

/// A row's ORDER BY value in a form that compares cheaply.
#[derive(Debug, Clone, Copy)]
enum SortKey {
    Null,
    Boolean(bool),
    Integer(i64),
    Double(f64),
    /// A byte range of the lower-cased text buffer.
    Text(usize, usize),
    Date(chrono::NaiveDate),
    DateTime(chrono::DateTime<chrono::Utc>),
    Time(chrono::NaiveTime),
    Location,
}

impl SortKey {
    fn of(value: &Value, text: &mut String) -> SortKey {
        match value {
            Value::Null => SortKey::Null,
            Value::Boolean(b) => SortKey::Boolean(*b),
            Value::Integer(n) => SortKey::Integer(*n),
            Value::Double(x) => SortKey::Double(*x),
            Value::String(s) => {
                let start = text.len();
                if s.is_ascii() {
                    text.extend(s.bytes().map(|b| char::from(b.to_ascii_lowercase())));
                } else {
                    text.extend(s.chars().flat_map(char::to_lowercase));
                }
                SortKey::Text(start, text.len())
            }
            Value::Date(d) => SortKey::Date(*d),
            Value::DateTime(t) => SortKey::DateTime(*t),
            Value::Time(t) => SortKey::Time(*t),
            Value::Location { .. } => SortKey::Location,
        }
    }

    fn rank(self) -> u8 {
        match self {
            SortKey::Null => 0,
            SortKey::Boolean(_) => 1,
            SortKey::Integer(_) | SortKey::Double(_) => 2,
            SortKey::Text(..) => 3,
            SortKey::Date(_) => 4,
            SortKey::DateTime(_) => 5,
            SortKey::Time(_) => 6,
            SortKey::Location => 7,
        }
    }

    /// Same order as [`compare_keys`] gives the values these keys came from.
    fn compare(self, other: SortKey, key: &OrderKey, text: &str) -> Ordering {
        let ordering = match (self, other) {
            (SortKey::Null, SortKey::Null) => return Ordering::Equal,
            (SortKey::Null, _) => return null_side(key),
            (_, SortKey::Null) => return null_side(key).reverse(),
            (SortKey::Boolean(a), SortKey::Boolean(b)) => a.cmp(&b),
            (SortKey::Integer(a), SortKey::Integer(b)) => a.cmp(&b),
            (SortKey::Integer(a), SortKey::Double(b)) => (a as f64).total_cmp(&b),
            (SortKey::Double(a), SortKey::Integer(b)) => a.total_cmp(&(b as f64)),
            (SortKey::Double(a), SortKey::Double(b)) => a.total_cmp(&b),
            // Lower-cased UTF-8 compares bytewise in code point order.
            (SortKey::Text(a, b), SortKey::Text(c, d)) => {
                text.as_bytes()[a..b].cmp(&text.as_bytes()[c..d])
            }
            (SortKey::Date(a), SortKey::Date(b)) => a.cmp(&b),
            (SortKey::DateTime(a), SortKey::DateTime(b)) => a.cmp(&b),
            (SortKey::Time(a), SortKey::Time(b)) => a.cmp(&b),
            (a, b) => a.rank().cmp(&b.rank()),
        };
        if key.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

/// Where a null goes against a non-null value.
fn null_side(key: &OrderKey) -> Ordering {
    if key.nulls_first {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

pub(crate) fn compare_keys<V: std::ops::Deref<Target = Value>>(
    a: &[V],
    b: &[V],
    order: &[OrderKey],
) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(order) {
        let ordering = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => null_side(key),
            (false, true) => null_side(key).reverse(),
            (false, false) => {
                let ordering = order_values(x, y);
                if key.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            }
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// The `[start, end)` of the rows OFFSET and LIMIT keep.
pub(crate) fn page(len: usize, offset: u64, limit: Option<u64>) -> (usize, usize) {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
    let end = match limit {
        Some(limit) => start
            .saturating_add(usize::try_from(limit).unwrap_or(usize::MAX))
            .min(len),
        None => len,
    };
    (start, end)
}

fn page_len(len: usize, offset: u64, limit: Option<u64>) -> usize {
    let (start, end) = page(len, offset, limit);
    end - start
}

/// An aggregate row's slots as an operand environment.
pub(crate) struct SlotEnv<'a> {
    pub slots: &'a [Value],
}

impl<'a> Env<'a> for SlotEnv<'a> {
    fn path(&self, _: &super::plan::Path) -> &'a Value {
        &super::plan::NULL
    }

    fn slot(&self, index: usize) -> &'a Value {
        self.slots.get(index).unwrap_or(&super::plan::NULL)
    }
}
