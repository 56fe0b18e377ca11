//! Resolving a query once into a plan: canonical names, converted literals, date ranges,
//! and semi-join sets, so rows run without any name lookup of their own.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use chrono_tz::Tz;

use super::EvalContext;
use super::aggregate::{self, AggPlan};
use super::compare::{self, Constant, LikePattern};
use super::dates::{self, DayRange, Fiscal};
use super::run::Runner;
use crate::ast::{
    self, CompareOp, Condition, Expr, FieldsGroup, Function, Ident, InValues, Literal, NullsOrder,
    OrderItem, Query, SelectItem, SortDirection,
};
use crate::data::{DataSource, Value};
use crate::error::{ErrorCode, SoqlError};
use crate::schema::{FieldType, Lookup, ObjectSchema};

pub(crate) static NULL: Value = Value::Null;
static FALSE: Value = Value::Boolean(false);

/// One SELECT over one object.
#[derive(Debug)]
pub(crate) struct Plan {
    pub object: Arc<str>,
    pub output: Output,
    pub filter: Option<Pred>,
    pub order: Vec<OrderKey>,
    pub limit: Option<u64>,
    pub offset: u64,
}

#[derive(Debug)]
pub(crate) enum Output {
    Records(Vec<OutNode>),
    Aggregate(Box<AggPlan>),
    /// `SELECT COUNT()`: a total and no rows.
    Count,
}

/// What one selected item produces for a record.
#[derive(Debug)]
pub(crate) enum OutNode {
    /// A scalar read from the node's own row (no relationship hops).
    Leaf { name: Arc<str>, operand: Operand },
    /// A parent relationship with the fields selected through it.
    Parent {
        name: Arc<str>,
        reference: Arc<str>,
        /// The objects the reference may point to, for `attributes.type`.
        objects: Vec<Arc<str>>,
        /// An unknown relationship: always empty.
        dead: bool,
        fields: Vec<OutNode>,
    },
    /// `TYPEOF`: the fields depend on the parent's object.
    TypeOf {
        name: Arc<str>,
        reference: Arc<str>,
        branches: Vec<(Arc<str>, Vec<OutNode>)>,
        otherwise: Vec<OutNode>,
    },
    /// A child subquery.
    Children {
        name: Arc<str>,
        object: Arc<str>,
        field: Arc<str>,
        plan: Box<Plan>,
    },
}

#[derive(Debug)]
pub(crate) struct OrderKey {
    pub operand: Operand,
    pub descending: bool,
    pub nulls_first: bool,
}

/// A field reached from a row through zero or more reference fields.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub hops: Vec<Arc<str>>,
    pub field: Arc<str>,
    pub kind: FieldKind,
    /// Goes through a relationship the schema does not know: always null.
    pub dead: bool,
}

impl Path {
    fn leaf(&self) -> Path {
        Path {
            hops: Vec::new(),
            ..self.clone()
        }
    }
}

/// What a field's type changes about comparing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Plain,
    /// Checkboxes are never null: "null matches FALSE values" (Use null in WHERE).
    Boolean,
    /// Record ids and references: a 15-character id equals its 18-character form.
    Id,
    /// Multi-select picklists: `=` compares the set of selected values.
    MultiPicklist,
}

impl FieldKind {
    fn of(field_type: &FieldType) -> FieldKind {
        match field_type {
            FieldType::Boolean => FieldKind::Boolean,
            FieldType::Id | FieldType::Reference => FieldKind::Id,
            FieldType::Multipicklist => FieldKind::MultiPicklist,
            _ => FieldKind::Plain,
        }
    }
}

/// A value-producing expression, resolved.
#[derive(Debug)]
pub(crate) enum Operand {
    Path(Path),
    DateFunction {
        function: Function,
        path: Path,
        /// `Some` under `convertTimezone()`.
        zone: Option<Tz>,
        fiscal: Fiscal,
    },
    /// `toLabel(field)`: picklist value to label.
    Label {
        path: Path,
        labels: Vec<(String, String)>,
    },
    /// `DISTANCE(field, GEOLOCATION(lat, lon), 'mi'|'km')`.
    Distance {
        path: Path,
        latitude: f64,
        longitude: f64,
        miles: bool,
    },
    /// A column of an aggregate row.
    Slot(usize),
    Null,
}

/// Where operands read from: a record row, or an aggregate row's slots.
pub(crate) trait Env<'a> {
    fn path(&self, path: &Path) -> &'a Value;
    fn slot(&self, index: usize) -> &'a Value;
}

/// Reads a path from a record row.
pub(crate) struct RowEnv<'a, D: DataSource> {
    pub source: &'a D,
    pub row: D::Row,
}

impl<'a, D: DataSource> Env<'a> for RowEnv<'a, D> {
    fn path(&self, path: &Path) -> &'a Value {
        read_path(self.source, self.row, path)
    }

    fn slot(&self, _: usize) -> &'a Value {
        &NULL
    }
}

pub(crate) fn read_path<'a, D: DataSource>(source: &'a D, row: D::Row, path: &Path) -> &'a Value {
    if path.dead {
        return &NULL;
    }
    let mut row = row;
    for hop in &path.hops {
        match source.parent(row, hop) {
            Some(parent) => row = parent,
            None => return &NULL,
        }
    }
    match source.value(row, &path.field) {
        Some(Value::Null) | None if path.kind == FieldKind::Boolean => &FALSE,
        Some(value) => value,
        None => &NULL,
    }
}

impl Operand {
    fn kind(&self) -> FieldKind {
        match self {
            Operand::Path(path) => path.kind,
            _ => FieldKind::Plain,
        }
    }

    pub fn eval<'a, E: Env<'a>>(&self, env: &E) -> Cow<'a, Value> {
        match self {
            Operand::Path(path) => Cow::Borrowed(env.path(path)),
            Operand::DateFunction {
                function,
                path,
                zone,
                fiscal,
            } => Cow::Owned(dates::apply_function(
                *function,
                env.path(path),
                *zone,
                *fiscal,
            )),
            Operand::Label { path, labels } => {
                let value = env.path(path);
                match value {
                    Value::String(s) => match labels.iter().find(|(v, _)| v == s) {
                        Some((_, label)) => Cow::Owned(Value::String(label.clone())),
                        None => Cow::Borrowed(value),
                    },
                    _ => Cow::Borrowed(value),
                }
            }
            Operand::Distance {
                path,
                latitude,
                longitude,
                miles,
            } => match env.path(path) {
                Value::Location {
                    latitude: lat,
                    longitude: lon,
                } => Cow::Owned(Value::Double(haversine(
                    *lat, *lon, *latitude, *longitude, *miles,
                ))),
                _ => Cow::Borrowed(&NULL),
            },
            Operand::Slot(index) => Cow::Borrowed(env.slot(*index)),
            Operand::Null => Cow::Borrowed(&NULL),
        }
    }
}

fn haversine(lat1: f64, lon1: f64, lat2: f64, lon2: f64, miles: bool) -> f64 {
    let radius = if miles { 3958.8 } else { 6371.0 };
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * radius * a.sqrt().asin()
}

/// The values a semi-join subquery selected. Values of an id or reference field that look
/// like ids are kept as [`compare::IdKey`]s; anything else as lower-cased text.
#[derive(Debug, Default)]
pub(crate) struct SemiJoinKeys {
    id_field: bool,
    ids: HashSet<compare::IdKey>,
    text: HashSet<String>,
}

impl SemiJoinKeys {
    fn insert(&mut self, s: &str) {
        match compare::id_key(s) {
            Some(key) if self.id_field => {
                self.ids.insert(key);
            }
            _ => {
                self.text.insert(s.to_lowercase());
            }
        }
    }

    fn contains(&self, value: &Value) -> bool {
        let Value::String(s) = value else {
            return false;
        };
        match compare::id_key(s) {
            Some(key) if self.id_field => self.ids.contains(&key),
            _ if !s.chars().any(char::is_uppercase) => self.text.contains(s),
            _ => self.text.contains(&s.to_lowercase()),
        }
    }
}

/// A WHERE or HAVING condition, resolved.
#[derive(Debug)]
pub(crate) enum Pred {
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
    Compare {
        operand: Operand,
        op: CompareOp,
        constant: Constant,
    },
    Like {
        operand: Operand,
        pattern: LikePattern,
    },
    InList {
        operand: Operand,
        constants: Vec<Constant>,
        negated: bool,
    },
    /// A semi-join (`IN (SELECT ...)`) or anti-join, run once into a set.
    InSet {
        operand: Operand,
        keys: SemiJoinKeys,
        negated: bool,
    },
    Includes {
        operand: Operand,
        sets: Vec<Vec<String>>,
        excludes: bool,
    },
}

impl Pred {
    pub fn matches<'a, E: Env<'a>>(&self, env: &E) -> bool {
        match self {
            Pred::And(all) => all.iter().all(|p| p.matches(env)),
            Pred::Or(any) => any.iter().any(|p| p.matches(env)),
            Pred::Not(inner) => !inner.matches(env),
            Pred::Compare {
                operand,
                op,
                constant,
            } => compare::compare(&operand.eval(env), *op, constant),
            Pred::Like { operand, pattern } => match &*operand.eval(env) {
                Value::String(s) => pattern.matches(s),
                _ => false,
            },
            Pred::InList {
                operand,
                constants,
                negated,
            } => {
                let value = operand.eval(env);
                constants.iter().any(|c| compare::equals(&value, c)) != *negated
            }
            Pred::InSet {
                operand,
                keys,
                negated,
            } => keys.contains(&operand.eval(env)) != *negated,
            Pred::Includes {
                operand,
                sets,
                excludes,
            } => compare::includes(&operand.eval(env), sets) != *excludes,
        }
    }
}

/// The objects a name may be resolved against: one, or several behind a polymorphic
/// reference.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub objects: Vec<Arc<ObjectSchema>>,
    pub alias: Option<String>,
}

impl Scope {
    fn name(&self) -> &str {
        self.objects.first().map_or("", |o| o.name.as_str())
    }
}

/// A path resolved through the schema.
pub(crate) struct Resolved {
    pub path: Path,
    /// Canonical relationship names along the way, one per hop.
    pub relationships: Vec<Arc<str>>,
    /// The objects each hop may reach, one list per hop.
    pub hop_objects: Vec<Vec<Arc<str>>>,
    pub labels: Vec<(String, String)>,
}

pub(crate) struct Planner<'s, D: DataSource> {
    pub source: &'s D,
    pub ctx: &'s EvalContext,
    pub fiscal: Fiscal,
}

/// Salesforce's answer to a bind sent over the API (the parser rejects them unless asked
/// not to; a tree built with binds allowed still cannot run here).
fn bind_error(bind: &ast::ApexBind) -> SoqlError {
    SoqlError::new(
        ErrorCode::MalformedQuery,
        format!(
            "Bind variables only allowed in Apex code: ':{}' is an Apex bind variable; put its value in the query as a literal",
            bind.text
        ),
        bind.span,
    )
}

impl<'s, D: DataSource> Planner<'s, D> {
    pub fn new(source: &'s D, ctx: &'s EvalContext) -> Self {
        Self {
            source,
            ctx,
            fiscal: Fiscal::from_context(ctx),
        }
    }

    pub fn lookup(&self, name: &str) -> Option<Arc<ObjectSchema>> {
        match self.source.schema().object(name) {
            Lookup::Found(schema) => Some(schema),
            Lookup::Unknown | Lookup::NotLoaded => None,
        }
    }

    /// Plans a top-level query or a semi-join subquery: FROM names an object.
    pub fn plan(&self, query: &Query) -> Result<Plan, SoqlError> {
        let from = &query.from.object;
        let Some(name) = from.segments.last() else {
            return Err(SoqlError::new(
                ErrorCode::MalformedQuery,
                "unexpected token: FROM",
                query.span,
            ));
        };
        let Some(schema) = self.lookup(&name.name) else {
            return Err(SoqlError::new(
                ErrorCode::InvalidType,
                format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    name.name
                ),
                name.span,
            ));
        };
        self.plan_over(query, schema)
    }

    pub fn plan_over(&self, query: &Query, schema: Arc<ObjectSchema>) -> Result<Plan, SoqlError> {
        let scope = Scope {
            objects: vec![schema.clone()],
            alias: query.from.alias.as_ref().map(|a| a.name.clone()),
        };
        let filter = match &query.where_clause {
            Some(condition) => {
                Some(self.condition(condition, &mut |expr| Ok(self.operand(&scope, expr)))?)
            }
            None => None,
        };
        let filter = match (self.scope_filter(query, &scope), filter) {
            (Some(scope), Some(filter)) => Some(Pred::And(vec![scope, filter])),
            (scope, filter) => scope.or(filter),
        };
        let is_aggregate = query.group_by.is_some()
            || query.select.iter().any(|item| match item {
                SelectItem::Expr {
                    expr: Expr::Call(call),
                    ..
                } => call.function.is_aggregate() || inner_aggregate(call),
                _ => false,
            });
        let limit = query.limit;
        let offset = query.offset.unwrap_or(0);
        if is_aggregate {
            if query.group_by.is_none() && is_count_only(&query.select) {
                return Ok(Plan {
                    object: Arc::from(schema.name.as_str()),
                    output: Output::Count,
                    filter,
                    order: Vec::new(),
                    limit,
                    offset,
                });
            }
            let agg = aggregate::plan(self, &scope, query)?;
            return Ok(Plan {
                object: Arc::from(schema.name.as_str()),
                output: Output::Aggregate(Box::new(agg)),
                filter,
                order: Vec::new(),
                limit,
                offset,
            });
        }
        let output = Output::Records(self.select(&scope, &query.select)?);
        let order = query
            .order_by
            .iter()
            .map(|item| order_key(item, self.operand(&scope, &item.expr)))
            .collect();
        Ok(Plan {
            object: Arc::from(schema.name.as_str()),
            output,
            filter,
            order,
            limit,
            offset,
        })
    }

    /// `USING SCOPE mine`: records the querying user owns ("USING SCOPE", SOQL and SOSL
    /// Reference). Other scopes (everything, team, delegated, ...) depend on sharing and
    /// territories the emulator does not model, so they filter nothing, and neither does
    /// `mine` when the context names no user.
    fn scope_filter(&self, query: &Query, scope: &Scope) -> Option<Pred> {
        let name = query.using_scope.as_ref()?;
        let user = self.ctx.user_id.as_deref()?;
        if !name.is("mine") {
            return None;
        }
        let owner = self
            .resolve(scope, &[Ident::new("OwnerId", name.span)])
            .path;
        let constant = match compare::id_key(user) {
            Some(key) => Constant::Id {
                key,
                text: user.to_string(),
            },
            None => Constant::Text(user.to_string()),
        };
        Some(Pred::Compare {
            operand: Operand::Path(owner),
            op: CompareOp::Eq,
            constant,
        })
    }

    /// Resolves a dotted path against a scope. The first segment may be the FROM alias.
    pub fn resolve(&self, scope: &Scope, segments: &[Ident]) -> Resolved {
        let mut segments = segments;
        if segments.len() > 1 {
            let first = &segments[0];
            let is_alias = scope.alias.as_deref().is_some_and(|a| first.is(a));
            let is_object = first.is(scope.name())
                && scope
                    .objects
                    .iter()
                    .all(|o| o.parent_relationship(&first.name).is_none());
            if is_alias || is_object {
                segments = &segments[1..];
            }
        }
        let Some((last, relationships)) = segments.split_last() else {
            return Resolved {
                path: Path {
                    hops: Vec::new(),
                    field: Arc::from(""),
                    kind: FieldKind::Plain,
                    dead: true,
                },
                relationships: Vec::new(),
                hop_objects: Vec::new(),
                labels: Vec::new(),
            };
        };
        let mut objects = scope.objects.clone();
        let mut hops = Vec::new();
        let mut names = Vec::new();
        let mut hop_objects = Vec::new();
        let mut dead = false;
        for segment in relationships {
            let reference = objects
                .iter()
                .find_map(|o| o.parent_relationship(&segment.name).cloned());
            match reference {
                Some(field) => {
                    hops.push(Arc::from(field.name.as_str()));
                    names.push(Arc::from(
                        field.relationship_name.as_deref().unwrap_or(&segment.name),
                    ));
                    hop_objects.push(
                        field
                            .reference_to
                            .iter()
                            .map(|o| Arc::from(o.as_str()))
                            .collect(),
                    );
                    objects = field
                        .reference_to
                        .iter()
                        .filter_map(|o| self.lookup(o))
                        .collect();
                }
                None => {
                    dead = true;
                    hops.push(Arc::from(segment.name.as_str()));
                    names.push(Arc::from(segment.name.as_str()));
                    hop_objects.push(Vec::new());
                    objects.clear();
                }
            }
        }
        let field = objects.iter().find_map(|o| o.field(&last.name));
        Resolved {
            path: Path {
                hops,
                field: Arc::from(field.map_or(last.name.as_str(), |f| f.name.as_str())),
                kind: field.map_or(FieldKind::Plain, |f| FieldKind::of(&f.field_type)),
                dead,
            },
            relationships: names,
            hop_objects,
            labels: field
                .map(|f| {
                    f.picklist_values
                        .iter()
                        .map(|p| (p.value.clone(), p.label.clone().unwrap_or(p.value.clone())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// An expression over a record row.
    pub fn operand(&self, scope: &Scope, expr: &Expr) -> Operand {
        match expr {
            Expr::Field(path) => Operand::Path(self.resolve(scope, &path.segments).path),
            Expr::Literal(..) => Operand::Null,
            Expr::Call(call) => match (call.function, call.args.as_slice()) {
                (f, [arg]) if f.is_date_function() => {
                    let (inner, zone) = unwrap_convert_timezone(arg, self.ctx.time_zone);
                    match inner {
                        Expr::Field(path) => Operand::DateFunction {
                            function: f,
                            path: self.resolve(scope, &path.segments).path,
                            zone,
                            fiscal: self.fiscal,
                        },
                        _ => Operand::Null,
                    }
                }
                (Function::ToLabel, [Expr::Field(path)]) => {
                    let resolved = self.resolve(scope, &path.segments);
                    Operand::Label {
                        path: resolved.path,
                        labels: resolved.labels,
                    }
                }
                (Function::Format | Function::ConvertCurrency, [arg]) => self.operand(scope, arg),
                (Function::Distance, [Expr::Field(path), Expr::Call(geo), unit, ..])
                    if geo.function == Function::Geolocation =>
                {
                    let number = |e: Option<&Expr>| match e {
                        Some(Expr::Literal(Literal::Decimal(x), _)) => *x,
                        Some(Expr::Literal(Literal::Integer(x), _)) => *x as f64,
                        _ => 0.0,
                    };
                    let miles = matches!(unit, Expr::Literal(Literal::String(u), _) if u.eq_ignore_ascii_case("mi"));
                    Operand::Distance {
                        path: self.resolve(scope, &path.segments).path,
                        latitude: number(geo.args.first()),
                        longitude: number(geo.args.get(1)),
                        miles,
                    }
                }
                _ => Operand::Null,
            },
        }
    }

    pub fn constant(&self, literal: &Literal) -> Constant {
        let zone = self.ctx.time_zone;
        match literal {
            Literal::Null => Constant::Null,
            Literal::Boolean(b) => Constant::Boolean(*b),
            Literal::String(s) => Constant::Text(s.clone()),
            Literal::Integer(n) => Constant::Number(*n as f64),
            Literal::Decimal(x) => Constant::Number(*x),
            Literal::Currency { amount, .. } => Constant::Number(*amount),
            Literal::Date(day) => Constant::Range(DayRange::day(*day, zone)),
            Literal::DateTime(t) => Constant::DateTime {
                at: t.with_timezone(&Utc),
                local_day: t.with_timezone(&zone).date_naive(),
            },
            Literal::DateLiteral(d) => Constant::Range(dates::literal_range(*d, self.ctx)),
        }
    }

    fn value_constant(&self, value: &ast::Value, kind: FieldKind) -> Result<Constant, SoqlError> {
        match value {
            ast::Value::Literal(literal, _) => Ok(match (self.constant(literal), kind) {
                // "WHERE Test_c = null is equivalent to WHERE Test_c = false" (Use null in WHERE).
                (Constant::Null, FieldKind::Boolean) => Constant::Boolean(false),
                (Constant::Text(text), FieldKind::MultiPicklist) => {
                    Constant::Selection(compare::selection(&text))
                }
                (Constant::Text(text), FieldKind::Id) => match compare::id_key(&text) {
                    Some(key) => Constant::Id { key, text },
                    None => Constant::Text(text),
                },
                (c, _) => c,
            }),
            ast::Value::Bind(bind) => Err(bind_error(bind)),
        }
    }

    /// Resolves a condition; `operand` resolves its left-hand sides (record fields in WHERE,
    /// aggregate slots in HAVING).
    pub fn condition(
        &self,
        condition: &Condition,
        operand: &mut dyn FnMut(&Expr) -> Result<Operand, SoqlError>,
    ) -> Result<Pred, SoqlError> {
        Ok(match condition {
            Condition::And(all) => Pred::And(
                all.iter()
                    .map(|c| self.condition(c, operand))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Or(any) => Pred::Or(
                any.iter()
                    .map(|c| self.condition(c, operand))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not(inner) => Pred::Not(Box::new(self.condition(inner, operand)?)),
            Condition::Compare { left, op, value } => {
                let operand = operand(left)?;
                if *op == CompareOp::Like {
                    let pattern = match value {
                        ast::Value::Literal(Literal::String(s), _) => LikePattern::new(s),
                        ast::Value::Bind(bind) => return Err(bind_error(bind)),
                        // LIKE on a non-string literal matches nothing.
                        ast::Value::Literal(..) => {
                            return Ok(Pred::InList {
                                operand,
                                constants: Vec::new(),
                                negated: false,
                            });
                        }
                    };
                    Pred::Like { operand, pattern }
                } else {
                    Pred::Compare {
                        constant: self.value_constant(value, operand.kind())?,
                        operand,
                        op: *op,
                    }
                }
            }
            Condition::In {
                left,
                negated,
                values,
            } => {
                let operand = operand(left)?;
                match values {
                    InValues::List(values) => {
                        let kind = operand.kind();
                        Pred::InList {
                            constants: values
                                .iter()
                                .map(|v| self.value_constant(v, kind))
                                .collect::<Result<_, _>>()?,
                            operand,
                            negated: *negated,
                        }
                    }
                    InValues::Subquery(subquery) => Pred::InSet {
                        keys: self.semi_join(subquery)?,
                        operand,
                        negated: *negated,
                    },
                    InValues::Bind(bind) => return Err(bind_error(bind)),
                }
            }
            Condition::Includes {
                left,
                excludes,
                values,
            } => {
                let operand = operand(left)?;
                let mut sets = Vec::with_capacity(values.len());
                for value in values {
                    match value {
                        ast::Value::Literal(Literal::String(s), _) => sets.push(
                            s.split(';')
                                .map(|item| item.trim().to_string())
                                .filter(|item| !item.is_empty())
                                .collect(),
                        ),
                        ast::Value::Literal(..) => {}
                        ast::Value::Bind(bind) => return Err(bind_error(bind)),
                    }
                }
                Pred::Includes {
                    operand,
                    sets,
                    excludes: *excludes,
                }
            }
        })
    }

    /// Runs a semi-join subquery once into the set of its one selected field's values.
    fn semi_join(&self, subquery: &Query) -> Result<SemiJoinKeys, SoqlError> {
        let plan = self.plan(subquery)?;
        let empty = SemiJoinKeys::default();
        let Some(schema) = self.lookup(&plan.object) else {
            return Ok(empty);
        };
        let scope = Scope {
            objects: vec![schema],
            alias: subquery.from.alias.as_ref().map(|a| a.name.clone()),
        };
        let selected = subquery.select.iter().find_map(|item| match item {
            SelectItem::Expr { expr, .. } => Some(self.operand(&scope, expr)),
            _ => None,
        });
        let Some(selected) = selected else {
            return Ok(empty);
        };
        let mut keys = SemiJoinKeys {
            id_field: selected.kind() == FieldKind::Id,
            ..SemiJoinKeys::default()
        };
        for row in Runner::new(self.source).matching(&plan, self.source.scan(&plan.object)) {
            if let Value::String(s) = &*selected.eval(&RowEnv {
                source: self.source,
                row,
            }) {
                keys.insert(s);
            }
        }
        Ok(keys)
    }

    /// The SELECT list of a record query, parent paths merged into nested nodes.
    pub fn select(&self, scope: &Scope, items: &[SelectItem]) -> Result<Vec<OutNode>, SoqlError> {
        let mut nodes = Vec::new();
        let mut unnamed = 0usize;
        for item in items {
            match item {
                SelectItem::Expr { expr, alias } => {
                    let (target, leaf) = match expr {
                        Expr::Field(path) => {
                            let resolved = self.resolve(scope, &path.segments);
                            let leaf = Operand::Path(resolved.path.leaf());
                            (resolved, leaf)
                        }
                        Expr::Call(call) => match call.args.first() {
                            Some(Expr::Field(path)) => {
                                let resolved = self.resolve(scope, &path.segments);
                                let leaf = match self.operand(scope, expr) {
                                    Operand::Label { path, labels } => Operand::Label {
                                        path: path.leaf(),
                                        labels,
                                    },
                                    Operand::Path(path) => Operand::Path(path.leaf()),
                                    other => {
                                        // Date functions and DISTANCE outside aggregates:
                                        // computed from the top row, named exprN.
                                        let name = alias.as_ref().map_or_else(
                                            || format!("expr{unnamed}"),
                                            |a| a.name.clone(),
                                        );
                                        if alias.is_none() {
                                            unnamed += 1;
                                        }
                                        nodes.push(OutNode::Leaf {
                                            name: Arc::from(name),
                                            operand: other,
                                        });
                                        continue;
                                    }
                                };
                                (resolved, leaf)
                            }
                            _ => continue,
                        },
                        Expr::Literal(..) => continue,
                    };
                    let name = alias
                        .as_ref()
                        .map_or_else(|| target.path.field.clone(), |a| Arc::from(a.name.as_str()));
                    insert(&mut nodes, &target, name, leaf);
                }
                SelectItem::Subquery(subquery) => nodes.push(self.children(scope, subquery)?),
                SelectItem::TypeOf(typeof_) => {
                    if let Some(node) = self.typeof_node(scope, typeof_) {
                        nodes.push(node);
                    }
                }
                SelectItem::Fields { group, .. } => {
                    for object in scope.objects.iter().take(1) {
                        for field in &object.fields {
                            let wanted = match group {
                                FieldsGroup::All => true,
                                FieldsGroup::Standard => !field.custom,
                                FieldsGroup::Custom => field.custom,
                            };
                            let name: Arc<str> = Arc::from(field.name.as_str());
                            if wanted && !has_leaf(&nodes, &name) {
                                nodes.push(OutNode::Leaf {
                                    name: name.clone(),
                                    operand: Operand::Path(Path {
                                        hops: Vec::new(),
                                        field: name,
                                        kind: FieldKind::of(&field.field_type),
                                        dead: false,
                                    }),
                                });
                            }
                        }
                    }
                }
            }
        }
        Ok(nodes)
    }

    fn children(&self, scope: &Scope, subquery: &Query) -> Result<OutNode, SoqlError> {
        let Some(name) = subquery.from.object.segments.last() else {
            return Err(SoqlError::new(
                ErrorCode::MalformedQuery,
                "unexpected token: FROM",
                subquery.span,
            ));
        };
        let relationship = scope
            .objects
            .iter()
            .find_map(|o| o.child_relationship(&name.name).cloned());
        let not_understood = || {
            SoqlError::new(
                ErrorCode::InvalidType,
                format!(
                    "Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                    name.name
                ),
                name.span,
            )
        };
        let relationship = relationship.ok_or_else(not_understood)?;
        let child = self
            .lookup(&relationship.child_s_object)
            .ok_or_else(not_understood)?;
        let plan = self.plan_over(subquery, child)?;
        Ok(OutNode::Children {
            name: Arc::from(
                relationship
                    .relationship_name
                    .as_deref()
                    .unwrap_or(&name.name),
            ),
            object: Arc::from(relationship.child_s_object.as_str()),
            field: Arc::from(relationship.field.as_str()),
            plan: Box::new(plan),
        })
    }

    fn typeof_node(&self, scope: &Scope, typeof_: &ast::TypeOf) -> Option<OutNode> {
        let reference = scope
            .objects
            .iter()
            .find_map(|o| o.parent_relationship(&typeof_.relationship.name).cloned())?;
        let targets: Vec<Arc<ObjectSchema>> = reference
            .reference_to
            .iter()
            .filter_map(|o| self.lookup(o))
            .collect();
        let fields_of = |objects: Vec<Arc<ObjectSchema>>, fields: &[ast::FieldPath]| {
            let branch_scope = Scope {
                objects,
                alias: None,
            };
            let mut nodes = Vec::new();
            for path in fields {
                let resolved = self.resolve(&branch_scope, &path.segments);
                let leaf = Operand::Path(resolved.path.leaf());
                insert(&mut nodes, &resolved, resolved.path.field.clone(), leaf);
            }
            nodes
        };
        let branches = typeof_
            .whens
            .iter()
            .map(|when| {
                let object = self.lookup(&when.object.name);
                let name = object
                    .as_ref()
                    .map_or_else(|| when.object.name.clone(), |o| o.name.clone());
                (
                    Arc::from(name.as_str()),
                    fields_of(object.into_iter().collect(), &when.fields),
                )
            })
            .collect();
        let otherwise = typeof_
            .else_fields
            .as_deref()
            .map(|fields| fields_of(targets, fields))
            .unwrap_or_default();
        Some(OutNode::TypeOf {
            name: Arc::from(
                reference
                    .relationship_name
                    .as_deref()
                    .unwrap_or(&typeof_.relationship.name),
            ),
            reference: Arc::from(reference.name.as_str()),
            branches,
            otherwise,
        })
    }
}

/// Places a leaf under the parent nodes of its path, creating them as needed.
fn insert(nodes: &mut Vec<OutNode>, target: &Resolved, name: Arc<str>, leaf: Operand) {
    let mut level = nodes;
    for (i, relationship) in target.relationships.iter().enumerate() {
        let position = level.iter().position(
            |n| matches!(n, OutNode::Parent { name, .. } if name.eq_ignore_ascii_case(relationship)),
        );
        let index = match position {
            Some(index) => index,
            None => {
                level.push(OutNode::Parent {
                    name: relationship.clone(),
                    reference: target.path.hops[i].clone(),
                    objects: target.hop_objects[i].clone(),
                    dead: target.path.dead && target.hop_objects[i].is_empty(),
                    fields: Vec::new(),
                });
                level.len() - 1
            }
        };
        level = match &mut level[index] {
            OutNode::Parent { fields, .. } => fields,
            _ => return,
        };
    }
    if !has_leaf(level, &name) {
        level.push(OutNode::Leaf {
            name,
            operand: leaf,
        });
    }
}

fn has_leaf(nodes: &[OutNode], name: &str) -> bool {
    nodes
        .iter()
        .any(|n| matches!(n, OutNode::Leaf { name: existing, .. } if existing.eq_ignore_ascii_case(name)))
}

pub(crate) fn order_key(item: &OrderItem, operand: Operand) -> OrderKey {
    let descending = item.direction == Some(SortDirection::Desc);
    // "By default, null values are sorted first" (ORDER BY, SOQL and SOSL Reference) is
    // written for the default ascending order; the reference gives no DESC default. SOQL
    // treats null as the lowest value, so DESC puts nulls last (https://soqlskills.com/soql-order-by,
    // a secondary source, and what orgs do in our experience; not verified against a live org).
    let nulls_first = match item.nulls {
        Some(NullsOrder::First) => true,
        Some(NullsOrder::Last) => false,
        None => !descending,
    };
    OrderKey {
        operand,
        descending,
        nulls_first,
    }
}

/// `convertTimezone(field)` inside a date function: the field, read in the user's zone.
pub(crate) fn unwrap_convert_timezone(expr: &Expr, zone: Tz) -> (&Expr, Option<Tz>) {
    match expr {
        Expr::Call(call) if call.function == Function::ConvertTimezone => match call.args.first() {
            Some(inner) => (inner, Some(zone)),
            None => (expr, None),
        },
        _ => (expr, None),
    }
}

/// `FORMAT(SUM(x))`, `convertCurrency(SUM(x))`: an aggregate under a formatting function.
fn inner_aggregate(call: &ast::Call) -> bool {
    matches!(call.function, Function::Format | Function::ConvertCurrency)
        && matches!(call.args.first(), Some(Expr::Call(inner)) if inner.function.is_aggregate())
}

fn is_count_only(select: &[SelectItem]) -> bool {
    matches!(select, [SelectItem::Expr { expr: Expr::Call(call), .. }]
        if call.function == Function::Count && call.args.is_empty())
}
