//! What a query touches, and whether the operator's allow-list and deny-list permit it.
//!
//! The operator's guardrails (an allow-list of objects, a deny-list of fields) must hold for
//! everything a call can touch, not only for the top-level object and the plain SELECT list:
//! a child subquery returns another object's rows, a parent path (`Owner.Username`) reads
//! another object's fields, and a denied field in WHERE, ORDER BY, GROUP BY, HAVING or an
//! aggregate leaks its values as surely as selecting it (`MAX(AnnualRevenue)`, or a binary
//! search with `WHERE AnnualRevenue > n`).
//!
//! So the check is in two steps, both pure:
//!
//! 1. [`footprint`] walks a parsed query with the describes and lists every object whose
//!    rows it reads ([`ObjectUse`]) and every field it reads, filters, sorts, groups or
//!    aggregates on ([`FieldUse`]), each with where it occurs. Relationship names resolve to
//!    their target objects: a polymorphic one (`What`, a queue-or-user `Owner`) to every
//!    object in its `referenceTo`. Following a relationship also reads its reference field
//!    (`Contact.AccountId` for `Account.Name`), and every record a records query returns
//!    carries its Id (`attributes.url`), so those are listed too. A describe that is not
//!    loaded stops the walk with [`ValidateError::NeedsDescribe`], as in
//!    [`crate::validate::validate`]: the caller fetches it and asks again; nothing is
//!    allowed on a guess.
//! 2. [`AccessPolicy::check`] refuses a footprint that names an object outside the allow-list
//!    or a denied field, with a message naming each and where it is used.
//!
//! The guarantee: a query whose footprint the policy allows reads no row of a disallowed
//! object and no value of a denied field, in its results or in its filtering and ordering.
//! The property test in `tests.rs` checks it against the evaluator: every field and object
//! the evaluator reads is in the footprint.
//!
//! ```
//! use sfmcp_soql::access::{AccessPolicy, footprint};
//! use sfmcp_soql::schema::StaticSchema;
//!
//! let account = r#"{"name": "Account", "label": "Account", "fields": [
//!     {"name": "Id", "label": "Id", "type": "id"},
//!     {"name": "Name", "label": "Name", "type": "string"},
//!     {"name": "AnnualRevenue", "label": "Revenue", "type": "currency"}]}"#;
//! let schema = StaticSchema::from_describes([account])?;
//! let policy = AccessPolicy::new(["Account", "Contact"], ["Account.AnnualRevenue"]);
//!
//! let query = sfmcp_soql::parse("SELECT Name FROM Account ORDER BY AnnualRevenue DESC")?;
//! // After `validate` passed, with the same schema:
//! let used = footprint(&query, &schema)?;
//! let refusal = policy.check(&used).unwrap_err();
//! assert_eq!(
//!     refusal.to_string(),
//!     "Account.AnnualRevenue is denied by the operator (used in ORDER BY)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod pins;
mod policy;

use std::fmt;
use std::sync::Arc;

pub use pins::pinned_values;
pub use policy::{AccessPolicy, Refusal};

use crate::ast::{
    Call, Condition, Expr, FieldPath, FieldsGroup, Function, Ident, InValues, Query, SelectItem,
    Span, TypeOf,
};
use crate::error::{ErrorCode, SoqlError};
use crate::schema::{FieldSchema, Lookup, ObjectSchema, Schema};
use crate::validate::{NAME_RELATIONSHIPS, ValidateError, is_polymorphic, name_field};

/// Everything a query reads: objects whose rows it reads and fields it uses, in the order
/// met (FROM, SELECT, WHERE, GROUP BY, HAVING, ORDER BY), without duplicates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    pub objects: Vec<ObjectUse>,
    pub fields: Vec<FieldUse>,
}

/// An object whose rows the query reads, and how it gets there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUse {
    /// The API name as describe spells it (or as `referenceTo` does, for polymorphic targets
    /// whose describe is not loaded).
    pub object: String,
    pub via: Via,
}

/// How the query reaches an object's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The FROM of the top-level query.
    From,
    /// A parent-to-child subquery: `(SELECT .. FROM Opportunities)` on Account.
    Subquery {
        parent: String,
        relationship: String,
    },
    /// The FROM of a semi-join or anti-join in the WHERE of a query on `outer`.
    SemiJoin { outer: String },
    /// A parent path (`Contact.Account.Owner`, starting at the object it is followed from)
    /// in `clause`. `polymorphic` when the relationship can refer to several objects and
    /// this is one of them.
    Parent {
        path: String,
        clause: Clause,
        polymorphic: bool,
    },
    /// A `TYPEOF` branch over `path` (`Event.What`): a WHEN object, or an ELSE target.
    TypeOf { path: String },
}

/// A field the query uses, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldUse {
    /// The object the field belongs to (not the one the path starts from).
    pub object: String,
    /// The field's API name.
    pub field: String,
    pub clause: Clause,
    /// The function around it (`MAX`, `toLabel`, `CALENDAR_YEAR`), outermost first.
    pub function: Option<Function>,
    /// The path as resolved when it runs through parents (`Contact.Account.AnnualRevenue`).
    pub path: Option<String>,
    pub within: Within,
}

/// The clause a use is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clause {
    Select,
    Where,
    GroupBy,
    Having,
    OrderBy,
    /// `USING SCOPE`: filters by ownership.
    UsingScope,
    /// A reference field followed to a parent, or the join of a child subquery (the child's
    /// reference field and the parent's Id).
    Join,
    /// The Id every returned record carries in `attributes.url`.
    RecordId,
    /// An expansion of `FIELDS(ALL|STANDARD|CUSTOM)`.
    Fields(FieldsGroup),
}

/// Which SELECT a use is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Within {
    /// The top-level query.
    Root,
    /// A child subquery on `parent.relationship`.
    Subquery {
        parent: String,
        relationship: String,
    },
    /// A semi-join or anti-join subquery on `object`, in a query on `outer`.
    SemiJoin { outer: String, object: String },
}

/// Lists what `query` reads, resolving names through `schema`. Call it after
/// [`crate::validate::validate`] passed: it needs the same describes (plus none it would not
/// fetch), and answers [`ValidateError::NeedsDescribe`] for one that is missing, and
/// [`ValidateError::Invalid`] for a name it cannot resolve, rather than leave it out.
pub fn footprint(query: &Query, schema: &dyn Schema) -> Result<Footprint, ValidateError> {
    let mut walker = Walker {
        schema,
        footprint: Footprint::default(),
    };
    let object = walker.object(&query.from.object.dotted(), query.from.object.span())?;
    walker.object_use(&object.name, Via::From);
    walker.query(query, object, Within::Root)?;
    Ok(walker.footprint)
}

struct Walker<'s> {
    schema: &'s dyn Schema,
    footprint: Footprint,
}

/// Where names of one SELECT resolve.
struct Scope<'q> {
    object: Arc<ObjectSchema>,
    alias: Option<&'q Ident>,
    within: Within,
}

/// The context of one use: its clause, the function around it, and whether parents met on
/// the way come back as records (and so carry their Ids).
#[derive(Clone, Copy)]
struct Ctx {
    clause: Clause,
    function: Option<Function>,
    records: bool,
}

/// Where a path has got to.
enum At {
    Object(Arc<ObjectSchema>),
    /// The `Name` pseudo-object of a polymorphic relationship: any of these objects.
    Name(Vec<String>),
}

impl Walker<'_> {
    fn object(&self, name: &str, span: Span) -> Result<Arc<ObjectSchema>, ValidateError> {
        match self.schema.object(name) {
            Lookup::Found(object) => Ok(object),
            Lookup::NotLoaded => Err(ValidateError::NeedsDescribe(name.to_string())),
            Lookup::Unknown => Err(unresolved(
                ErrorCode::InvalidType,
                format!("sObject type '{name}' is not supported"),
                span,
            )),
        }
    }

    fn object_use(&mut self, object: &str, via: Via) {
        let entry = ObjectUse {
            object: object.to_string(),
            via,
        };
        if !self.footprint.objects.contains(&entry) {
            self.footprint.objects.push(entry);
        }
    }

    fn field_use(
        &mut self,
        object: &str,
        field: &str,
        ctx: Ctx,
        path: Option<String>,
        within: &Within,
    ) {
        let entry = FieldUse {
            object: object.to_string(),
            field: field.to_string(),
            clause: ctx.clause,
            function: ctx.function,
            path,
            within: within.clone(),
        };
        if !self.footprint.fields.contains(&entry) {
            self.footprint.fields.push(entry);
        }
    }

    fn query(
        &mut self,
        query: &Query,
        object: Arc<ObjectSchema>,
        within: Within,
    ) -> Result<(), ValidateError> {
        let scope = Scope {
            object,
            alias: query.from.alias.as_ref(),
            within,
        };
        let aggregate = query.group_by.is_some()
            || query.select.iter().any(|item| match item {
                SelectItem::Expr { expr, .. } => has_aggregate(expr),
                _ => false,
            });
        // A semi-join returns no records, only the set its WHERE compares against; COUNT()
        // and aggregate queries return no records either.
        let records = !aggregate && !matches!(scope.within, Within::SemiJoin { .. });
        if records {
            let ctx = Ctx {
                clause: Clause::RecordId,
                function: None,
                records,
            };
            self.field_use(&scope.object.name, "Id", ctx, None, &scope.within);
        }
        let select = Ctx {
            clause: Clause::Select,
            function: None,
            records,
        };
        for item in &query.select {
            match item {
                SelectItem::Expr { expr, .. } => self.expr(&scope, expr, select)?,
                SelectItem::Subquery(child) => self.child(&scope, child)?,
                SelectItem::TypeOf(type_of) => self.type_of(&scope, type_of, select)?,
                SelectItem::Fields { group, .. } => {
                    let ctx = Ctx {
                        clause: Clause::Fields(*group),
                        ..select
                    };
                    let object = Arc::clone(&scope.object);
                    for field in object.fields.iter().filter(|f| in_group(f, *group)) {
                        self.field_use(&object.name, &field.name, ctx, None, &scope.within);
                    }
                }
            }
        }
        if query.using_scope.is_some() {
            // USING SCOPE filters by ownership (and, for team or territory scopes, by
            // sharing): the owner is what it reads of the row.
            if let Some(owner) = scope.object.field("OwnerId") {
                let ctx = Ctx {
                    clause: Clause::UsingScope,
                    function: None,
                    records: false,
                };
                let (object, field) = (scope.object.name.clone(), owner.name.clone());
                self.field_use(&object, &field, ctx, None, &scope.within);
            }
        }
        if let Some(condition) = &query.where_clause {
            self.condition(&scope, condition, Clause::Where)?;
        }
        if let Some(group_by) = &query.group_by {
            for expr in group_by.exprs() {
                self.expr(&scope, expr, filter_ctx(Clause::GroupBy))?;
            }
        }
        if let Some(having) = &query.having {
            self.condition(&scope, having, Clause::Having)?;
        }
        for item in &query.order_by {
            self.expr(&scope, &item.expr, filter_ctx(Clause::OrderBy))?;
        }
        Ok(())
    }

    fn expr(&mut self, scope: &Scope, expr: &Expr, ctx: Ctx) -> Result<(), ValidateError> {
        match expr {
            Expr::Field(path) => self.path(scope, path, ctx),
            Expr::Call(call) => self.call(scope, call, ctx),
            Expr::Literal(..) => Ok(()),
        }
    }

    fn call(&mut self, scope: &Scope, call: &Call, ctx: Ctx) -> Result<(), ValidateError> {
        // COUNT() has no argument and reads no field: only the rows' number.
        let ctx = Ctx {
            function: ctx.function.or(Some(call.function)),
            ..ctx
        };
        for arg in &call.args {
            self.expr(scope, arg, ctx)?;
        }
        Ok(())
    }

    fn condition(
        &mut self,
        scope: &Scope,
        condition: &Condition,
        clause: Clause,
    ) -> Result<(), ValidateError> {
        let ctx = filter_ctx(clause);
        match condition {
            Condition::And(parts) | Condition::Or(parts) => {
                for part in parts {
                    self.condition(scope, part, clause)?;
                }
            }
            Condition::Not(inner) => self.condition(scope, inner, clause)?,
            Condition::Compare { left, .. } | Condition::Includes { left, .. } => {
                self.expr(scope, left, ctx)?;
            }
            Condition::In { left, values, .. } => {
                self.expr(scope, left, ctx)?;
                if let InValues::Subquery(sub) = values {
                    let object = self.object(&sub.from.object.dotted(), sub.from.object.span())?;
                    let outer = scope.object.name.clone();
                    self.object_use(
                        &object.name,
                        Via::SemiJoin {
                            outer: outer.clone(),
                        },
                    );
                    let within = Within::SemiJoin {
                        outer,
                        object: object.name.clone(),
                    };
                    self.query(sub, object, within)?;
                }
            }
        }
        Ok(())
    }

    /// A parent-to-child subquery: the child's rows, joined on its reference field and the
    /// parent's Id.
    fn child(&mut self, scope: &Scope, child: &Query) -> Result<(), ValidateError> {
        let segments = strip_prefix(scope, &child.from.object.segments);
        let relationship = match segments {
            [name] => scope.object.child_relationship(&name.name),
            _ => None,
        };
        let Some(relationship) = relationship else {
            return Err(unresolved(
                ErrorCode::InvalidType,
                format!(
                    "Didn't understand relationship '{}' in FROM part of query call",
                    child.from.object.dotted()
                ),
                child.from.object.span(),
            ));
        };
        let object = self.object(&relationship.child_s_object, child.from.object.span())?;
        let relationship_name = relationship
            .relationship_name
            .clone()
            .unwrap_or_else(|| child.from.object.dotted());
        let parent = scope.object.name.clone();
        self.object_use(
            &object.name,
            Via::Subquery {
                parent: parent.clone(),
                relationship: relationship_name.clone(),
            },
        );
        let join = Ctx {
            clause: Clause::Join,
            function: None,
            records: false,
        };
        let within = Within::Subquery {
            parent: parent.clone(),
            relationship: relationship_name,
        };
        let join_field = relationship.field.clone();
        self.field_use(&parent, "Id", join, None, &scope.within);
        self.field_use(&object.name, &join_field, join, None, &within);
        self.query(child, object, within)
    }

    fn type_of(&mut self, scope: &Scope, type_of: &TypeOf, ctx: Ctx) -> Result<(), ValidateError> {
        let Some(reference) = scope.object.parent_relationship(&type_of.relationship.name) else {
            return Err(unknown_relationship(&type_of.relationship));
        };
        let reference = reference.clone();
        let path = format!(
            "{}.{}",
            scope.object.name,
            reference
                .relationship_name
                .as_deref()
                .unwrap_or(&type_of.relationship.name)
        );
        let join = Ctx {
            clause: Clause::Join,
            function: None,
            records: false,
        };
        self.field_use(
            &scope.object.name,
            &reference.name,
            join,
            None,
            &scope.within,
        );
        let mut named = Vec::new();
        for when in &type_of.whens {
            let Some(target) = reference
                .reference_to
                .iter()
                .find(|name| when.object.is(name))
            else {
                return Err(unresolved(
                    ErrorCode::MalformedQuery,
                    format!(
                        "TYPEOF {path}: '{}' is not a type it can refer to",
                        when.object.name
                    ),
                    when.object.span,
                ));
            };
            named.push(target.clone());
            let object = self.object(target, when.object.span)?;
            self.object_use(&object.name, Via::TypeOf { path: path.clone() });
            if ctx.records {
                self.field_use(&object.name, "Id", record_id(), None, &scope.within);
            }
            let branch = Scope {
                object,
                alias: None,
                within: scope.within.clone(),
            };
            for field in &when.fields {
                self.path_from(
                    &branch,
                    At::Object(Arc::clone(&branch.object)),
                    field,
                    &path,
                    ctx,
                )?;
            }
        }
        // Without ELSE, a record of another type comes back as its type and Id only, which
        // the reference field already holds: nothing more of it is read.
        if let Some(fields) = &type_of.else_fields {
            let others: Vec<String> = reference
                .reference_to
                .iter()
                .filter(|name| !named.iter().any(|n| n.eq_ignore_ascii_case(name)))
                .cloned()
                .collect();
            for other in &others {
                self.object_use(other, Via::TypeOf { path: path.clone() });
                if ctx.records {
                    self.field_use(other, "Id", record_id(), None, &scope.within);
                }
            }
            for field in fields {
                self.path_from(scope, At::Name(others.clone()), field, &path, ctx)?;
            }
        }
        Ok(())
    }

    /// A field path from the scope's object, a leading alias or object name dropped.
    fn path(&mut self, scope: &Scope, path: &FieldPath, ctx: Ctx) -> Result<(), ValidateError> {
        let segments = strip_prefix(scope, &path.segments);
        let stripped = FieldPath {
            segments: segments.to_vec(),
        };
        let start = At::Object(Arc::clone(&scope.object));
        let name = scope.object.name.clone();
        self.path_from(scope, start, &stripped, &name, ctx)
    }

    /// Follows `path` from `start` (reached as `prefix`), recording each relationship
    /// followed, each object reached and the field at the end.
    fn path_from(
        &mut self,
        scope: &Scope,
        start: At,
        path: &FieldPath,
        prefix: &str,
        ctx: Ctx,
    ) -> Result<(), ValidateError> {
        let Some((last, relationships)) = path.segments.split_last() else {
            return Err(unresolved(
                ErrorCode::MalformedQuery,
                "a field name is missing".to_string(),
                path.span(),
            ));
        };
        let join = Ctx {
            clause: Clause::Join,
            function: None,
            records: false,
        };
        let through = |dotted: &str| (dotted != prefix).then(|| dotted.to_string());
        let mut at = start;
        let mut dotted = prefix.to_string();
        for relationship in relationships {
            at = match at {
                At::Object(object) => {
                    let Some(reference) = object.parent_relationship(&relationship.name) else {
                        return Err(unknown_relationship(relationship));
                    };
                    let reference = reference.clone();
                    self.field_use(
                        &object.name,
                        &reference.name,
                        join,
                        through(&dotted),
                        &scope.within,
                    );
                    dotted.push('.');
                    dotted.push_str(
                        reference
                            .relationship_name
                            .as_deref()
                            .unwrap_or(&relationship.name),
                    );
                    if is_polymorphic(&reference) {
                        for target in &reference.reference_to {
                            self.reached(target, &dotted, ctx, true, &scope.within);
                        }
                        At::Name(reference.reference_to.clone())
                    } else {
                        let Some(target) = reference.reference_to.first() else {
                            return Err(unknown_relationship(relationship));
                        };
                        let target = self.object(target, relationship.span)?;
                        self.reached(&target.name, &dotted, ctx, false, &scope.within);
                        At::Object(target)
                    }
                }
                At::Name(targets) => {
                    // The `Name` pseudo-object's own relationships (`Owner.Profile`): each
                    // possible target's reference field leads to one object.
                    let Some((name, object)) = NAME_RELATIONSHIPS
                        .iter()
                        .find(|(name, _)| relationship.is(name))
                    else {
                        return Err(unknown_relationship(relationship));
                    };
                    let reference = format!("{name}Id");
                    for target in &targets {
                        self.field_use(target, &reference, join, through(&dotted), &scope.within);
                    }
                    dotted.push('.');
                    dotted.push_str(name);
                    let target = self.object(object, relationship.span)?;
                    self.reached(&target.name, &dotted, ctx, false, &scope.within);
                    At::Object(target)
                }
            };
        }
        match at {
            At::Object(object) => {
                let Some(field) = object.field(&last.name) else {
                    return Err(unresolved(
                        ErrorCode::InvalidField,
                        format!("No such column '{}' on entity '{}'", last.name, object.name),
                        last.span,
                    ));
                };
                let full = format!("{dotted}.{}", field.name);
                let through_parents = !relationships.is_empty() || prefix != scope.object.name;
                let path = through_parents.then_some(full);
                self.field_use(&object.name, &field.name, ctx, path, &scope.within);
            }
            At::Name(targets) => {
                let Some((name, _)) = name_field(&last.name) else {
                    return Err(unresolved(
                        ErrorCode::InvalidField,
                        format!("No such column '{}' on entity 'Name'", last.name),
                        last.span,
                    ));
                };
                let full = format!("{dotted}.{name}");
                for target in &targets {
                    self.field_use(target, name, ctx, Some(full.clone()), &scope.within);
                    // `Name` of an object without a Name field (Case, Contract) is its name
                    // field (CaseNumber): list that too when the describe is at hand.
                    if let Lookup::Found(object) = self.schema.object(target)
                        && name == "Name"
                        && object.field("Name").is_none()
                        && let Some(name_field) = object.fields.iter().find(|f| f.name_field)
                    {
                        let field = name_field.name.clone();
                        self.field_use(target, &field, ctx, Some(full.clone()), &scope.within);
                    }
                }
            }
        }
        Ok(())
    }

    /// A parent object reached by a path: its rows are read, and in a records query it comes
    /// back as a nested record with its Id.
    fn reached(&mut self, object: &str, path: &str, ctx: Ctx, polymorphic: bool, within: &Within) {
        self.object_use(
            object,
            Via::Parent {
                path: path.to_string(),
                clause: ctx.clause,
                polymorphic,
            },
        );
        if ctx.records {
            self.field_use(object, "Id", record_id(), None, within);
        }
    }
}

/// WHERE, GROUP BY, HAVING and ORDER BY return no nested records of their own.
fn filter_ctx(clause: Clause) -> Ctx {
    Ctx {
        clause,
        function: None,
        records: false,
    }
}

fn record_id() -> Ctx {
    Ctx {
        clause: Clause::RecordId,
        function: None,
        records: false,
    }
}

fn in_group(field: &FieldSchema, group: FieldsGroup) -> bool {
    match group {
        FieldsGroup::All => true,
        FieldsGroup::Standard => !field.custom,
        FieldsGroup::Custom => field.custom,
    }
}

fn has_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => call.function.is_aggregate() || call.args.iter().any(has_aggregate),
        _ => false,
    }
}

/// Drops a leading FROM alias (`c.Name`) or object name (`Account.Name` in `FROM Account`),
/// as validation does: a relationship of the same name wins over the object name.
fn strip_prefix<'a>(scope: &Scope, segments: &'a [Ident]) -> &'a [Ident] {
    match segments {
        [first, rest @ ..] if !rest.is_empty() => {
            let is_alias = scope.alias.is_some_and(|alias| first.is(&alias.name));
            let is_object = first.is(&scope.object.name)
                && scope.object.parent_relationship(&first.name).is_none();
            if is_alias || is_object {
                rest
            } else {
                segments
            }
        }
        _ => segments,
    }
}

/// A name the walk cannot resolve. Validation refuses these first; answering an error here
/// too means a query that skipped validation is never allowed by omission.
fn unresolved(code: ErrorCode, message: String, span: Span) -> ValidateError {
    ValidateError::Invalid(SoqlError::new(code, message, span))
}

fn unknown_relationship(relationship: &Ident) -> ValidateError {
    unresolved(
        ErrorCode::InvalidField,
        format!(
            "Didn't understand relationship '{}' in field path",
            relationship.name
        ),
        relationship.span,
    )
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Select => f.write_str("SELECT"),
            Clause::Where => f.write_str("WHERE"),
            Clause::GroupBy => f.write_str("GROUP BY"),
            Clause::Having => f.write_str("HAVING"),
            Clause::OrderBy => f.write_str("ORDER BY"),
            Clause::UsingScope => f.write_str("USING SCOPE"),
            Clause::Join => f.write_str("a relationship"),
            Clause::RecordId => f.write_str("the record's url"),
            Clause::Fields(group) => write!(f, "FIELDS({})", group.keyword()),
        }
    }
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Within::Root => Ok(()),
            Within::Subquery {
                parent,
                relationship,
            } => write!(f, "the subquery on {parent}.{relationship}"),
            Within::SemiJoin { outer, object } => {
                write!(
                    f,
                    "the semi-join on {object} in the WHERE of the query on {outer}"
                )
            }
        }
    }
}

#[cfg(all(test, feature = "eval"))]
mod prop_tests;
#[cfg(test)]
mod tests;
