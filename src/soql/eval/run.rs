//! Running a plan over rows: filter, sort, page, and build the result tree.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use super::compare::order_values;
use super::plan::{Env, OrderKey, OutNode, Output, Plan, RowEnv};
use super::{Cell, Field, QueryResult, Record, RecordKind, aggregate};
use crate::soql::data::{DataSource, Value};

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

    pub fn run(&self, plan: &Plan, rows: impl Iterator<Item = D::Row>) -> QueryResult<D::Row> {
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
                let mut rows = rows;
                if !plan.order.is_empty() {
                    rows = self.sort(rows, &plan.order);
                }
                let matched = rows.len();
                let (start, end) = page(matched, plan.offset, plan.limit);
                let object = plan.object.clone();
                let records: Vec<_> = rows[start..end]
                    .iter()
                    .map(|&row| self.record(nodes, row, object.clone()))
                    .collect();
                QueryResult {
                    total_size: records.len(),
                    matched,
                    records,
                }
            }
        }
    }

    /// Sorts by the ORDER BY keys, stably (ties keep source order). Keys are read once per
    /// row into one flat buffer; text keys stay borrowed from the source.
    fn sort(&self, rows: Vec<D::Row>, order: &[OrderKey]) -> Vec<D::Row> {
        let width = order.len();
        let mut keys: Vec<Cow<'a, Value>> = Vec::with_capacity(rows.len() * width);
        for &row in &rows {
            let env = RowEnv {
                source: self.source,
                row,
            };
            keys.extend(order.iter().map(|key| key.operand.eval(&env)));
        }
        let mut indices: Vec<u32> = (0..rows.len() as u32).collect();
        indices.sort_by(|&a, &b| {
            let (a, b) = (a as usize * width, b as usize * width);
            compare_keys(&keys[a..a + width], &keys[b..b + width], order)
        });
        indices.into_iter().map(|i| rows[i as usize]).collect()
    }

    fn record(&self, nodes: &[OutNode], row: D::Row, object: Arc<str>) -> Record<D::Row> {
        let mut fields = Vec::with_capacity(nodes.len());
        for node in nodes {
            let (name, value) = match node {
                OutNode::Leaf { name, operand } => (
                    name.clone(),
                    Cell::Value(
                        operand
                            .eval(&RowEnv {
                                source: self.source,
                                row,
                            })
                            .into_owned(),
                    ),
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

pub(crate) fn compare_keys<V: std::ops::Deref<Target = Value>>(
    a: &[V],
    b: &[V],
    order: &[OrderKey],
) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(order) {
        let ordering = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if key.nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if key.nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
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
