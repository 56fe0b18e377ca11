//! Validation of a parsed query against describe metadata, before it costs an API call.
//!
//! The rule: whatever passes is a query Salesforce accepts, and whatever fails is one it
//! rejects, with its `errorCode` and wording, the span of the offending name, and "did you
//! mean" suggestions. Where Salesforce's behaviour is not documented well enough to be sure, the
//! validator accepts and lets Salesforce decide (each such place says so).
//!
//! A describe that is not at hand stops validation with [`ValidateError::NeedsDescribe`]: the
//! caller fetches it and validates again. Names are resolved in a fixed order (FROM, then the
//! SELECT list, WHERE, GROUP BY, HAVING, ORDER BY, each left to right), so the first missing
//! object is always the same one and every round loads one more describe: the loop ends.
//!
//! ```
//! use sfmcp_soql::schema::{ObjectSchema, StaticSchema};
//! use sfmcp_soql::validate::{validate, ValidateError};
//!
//! let account: ObjectSchema = serde_json::from_str(
//!     r#"{"name": "Account", "label": "Account", "fields": [
//!         {"name": "Industry", "label": "Industry", "type": "picklist", "filterable": true}]}"#,
//! )?;
//! let mut schema = StaticSchema::new();
//! schema.add_known("Account"); // exists, describe not fetched yet
//!
//! let query = sfmcp_soql::parse("SELECT Industy FROM Account")?;
//! assert_eq!(
//!     validate(&query, &schema),
//!     Err(ValidateError::NeedsDescribe("Account".into()))
//! );
//! schema.insert(account); // the caller fetched it
//! let Err(ValidateError::Invalid(error)) = validate(&query, &schema) else {
//!     panic!("Industy is misspelt");
//! };
//! assert_eq!(error.code.as_str(), "INVALID_FIELD");
//! assert_eq!(error.suggestions, ["Industry"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod output;
mod suggest;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

pub use output::{Column, ColumnValue, QueryKind, TypeOfBranch, TypeOfColumn, Validated};

use super::ast::{
    Call, CompareOp, Condition, Expr, FieldPath, FieldsGroup, Function, Ident, InValues, Literal,
    OrderItem, Query, SelectItem, Span, TypeOf, Value,
};
use super::error::{ErrorCode, SoqlError};
use super::schema::{FieldSchema, FieldType, Lookup, ObjectSchema, Schema};
use suggest::Suggestions;

/// Why a query did not validate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidateError {
    /// Salesforce would reject the query.
    #[error(transparent)]
    Invalid(SoqlError),
    /// The describe of this object (its API name) is needed to go on: fetch it and validate
    /// again.
    #[error("the describe of {0} is needed to validate this query")]
    NeedsDescribe(String),
}

impl From<SoqlError> for ValidateError {
    fn from(error: SoqlError) -> Self {
        ValidateError::Invalid(error)
    }
}

/// Fields of `object` whose API name or label is close to `typed`, closest first: the same
/// "did you mean" a query gets, for callers that check field names outside a query (record
/// writes).
pub fn similar_fields(object: &ObjectSchema, typed: &str) -> Vec<String> {
    let mut suggestions = Suggestions::new(typed);
    for candidate in &object.fields {
        suggestions.offer(&candidate.name, &[&candidate.name, &candidate.label]);
    }
    suggestions.finish()
}

/// Words among `candidates` close to `typed`, closest first: the same "did you mean" for names
/// that are neither fields nor objects (settings' values, tool groups).
pub fn similar_words<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut suggestions = Suggestions::new(typed);
    for candidate in candidates {
        suggestions.offer(candidate, &[candidate]);
    }
    suggestions.finish()
}

/// Objects in `schema` whose API name (or, when loaded, label) is close to `typed`, closest
/// first, among those `offered` lets through: the "did you mean" of an unknown FROM object,
/// for callers that check object names outside a query (search, describe, records), which
/// pass the operator's allow-list as `offered` so a refused object is never suggested.
pub fn similar_objects(
    schema: &dyn Schema,
    typed: &str,
    offered: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut suggestions = Suggestions::new(typed);
    let with_suffix = format!("{typed}__c");
    for candidate in schema.object_names() {
        if !offered(&candidate) {
            continue;
        }
        if candidate.eq_ignore_ascii_case(&with_suffix) {
            suggestions.offer_scored(candidate, 0);
        } else if let Lookup::Found(object) = schema.object(&candidate) {
            // Loaded describes also match by label: `Projects` finds `Project__c`.
            suggestions.offer(
                &candidate,
                &[&candidate, &object.label, &object.label_plural],
            );
        } else {
            suggestions.offer(&candidate, &[&candidate]);
        }
    }
    suggestions.finish()
}

/// Values among `candidates` (value and label pairs, as a picklist lists them) close to
/// `typed`, closest first: a value equal but for case, spaces and punctuation first
/// (`closed won`, `Closed-Won` for `Closed Won`), then a few edits away, then values that
/// contain what was typed (`Working` for `Working - Contacted`).
pub fn similar_values<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Vec<String> {
    let mut suggestions = Suggestions::new(typed);
    let wanted = suggest::normalize(typed);
    for (value, label) in candidates {
        let names: Vec<&str> = std::iter::once(value).chain(label).collect();
        if let Some(distance) = suggest::closeness(&wanted, &names) {
            suggestions.offer_scored(value.to_string(), distance);
            continue;
        }
        let containing = names
            .iter()
            .map(|n| suggest::normalize(n))
            .filter(|n| wanted.chars().count() >= 3 && n.contains(&wanted))
            .map(|n| n.len())
            .min();
        if let Some(length) = containing {
            // Behind every near spelling; shorter candidates first.
            suggestions.offer_scored(value.to_string(), 100 + length);
        }
    }
    suggestions.finish()
}

/// Checks `query` against `schema` and says what its results will look like.
pub fn validate(query: &Query, schema: &dyn Schema) -> Result<Validated, ValidateError> {
    let validator = Validator { schema };
    let object = validator.root_object(&query.from.object)?;
    validator.query(query, object, Role::Root)
}

/// SOQL follows at most five child-to-parent relationships in one path.
const MAX_PARENT_DEPTH: usize = 5;
/// `OFFSET` beyond this is refused.
const MAX_OFFSET: u64 = 2000;
/// `FIELDS(ALL)` and `FIELDS(CUSTOM)` need `LIMIT` at most this.
const MAX_FIELDS_LIMIT: u64 = 200;

// Salesforce's wordings. The INVALID_TYPE one is recorded in
// ../shared/fixtures/cumulusci/composite-count-invalid-type.json; the INVALID_FIELD "No such
// column" one is quoted in ../shared/notes/salesforce-api.md.
const CUSTOM_OBJECT_HINT: &str = "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";
const CUSTOM_FIELD_HINT: &str = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.";
// Relationship wordings as real orgs answer them: "Didn't understand relationship 'Contact' in
// field path" (forcedotcom/SFDX-Data-Move-Utility#432, an Opportunity query) and "Didn't
// understand relationship 'X' in FROM part of query call" for a child subquery.
const CUSTOM_RELATIONSHIP_HINT: &str = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.";

/// Which kind of SELECT is being checked: they differ in what they may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    /// A parent-to-child subquery in the SELECT list.
    Child,
    /// The subquery of a semi-join or anti-join (`Id IN (SELECT AccountId FROM Contact)`).
    SemiJoin,
}

struct Validator<'s> {
    schema: &'s dyn Schema,
}

/// Where the names of one SELECT resolve.
struct Scope<'q> {
    object: Arc<ObjectSchema>,
    alias: Option<&'q Ident>,
}

/// What a relationship leads to.
#[derive(Clone)]
enum Target {
    Object(Arc<ObjectSchema>),
    /// A polymorphic relationship (`What`, `Who`, a queue-or-user `Owner`): outside TYPEOF,
    /// Salesforce resolves it to the `Name` pseudo-object, which has only the fields every
    /// target shares.
    Name,
}

/// A resolved field path.
struct Resolved {
    /// Canonical dotted path: relationship names and field name as describe spells them.
    path: String,
    /// The field's own API name (the last segment).
    field: String,
    field_type: FieldType,
    filterable: bool,
    sortable: bool,
    groupable: bool,
    aggregatable: bool,
    /// The object the field belongs to; `None` on the `Name` pseudo-object.
    owner: Option<Arc<ObjectSchema>>,
}

impl Resolved {
    fn from_field(path: String, field: &FieldSchema, owner: &Arc<ObjectSchema>) -> Self {
        Resolved {
            path,
            field: field.name.clone(),
            field_type: field.field_type.clone(),
            filterable: field.filterable,
            sortable: field.sortable,
            groupable: field.groupable,
            aggregatable: field.aggregatable,
            owner: Some(Arc::clone(owner)),
        }
    }

    /// The objects an Id or reference field identifies: its own object for an Id, the
    /// targets for a reference. `None` when that is not known.
    fn points_to(&self) -> Option<Vec<&str>> {
        let owner = self.owner.as_deref()?;
        match self.field_type {
            FieldType::Id => Some(vec![owner.name.as_str()]),
            FieldType::Reference => owner
                .field(&self.field)
                .map(|f| f.reference_to.iter().map(String::as_str).collect()),
            _ => None,
        }
    }
}

/// Grouping keys: how GROUP BY expressions and selected expressions are matched.
type GroupKeys = HashSet<String>;

impl Validator<'_> {
    fn root_object(&self, path: &FieldPath) -> Result<Arc<ObjectSchema>, ValidateError> {
        let name = path.dotted();
        match self.schema.object(&name) {
            Lookup::Found(object) => Ok(object),
            Lookup::NotLoaded => Err(ValidateError::NeedsDescribe(name)),
            Lookup::Unknown => Err(self.unknown_object(&name, path.span()).into()),
        }
    }

    fn unknown_object(&self, name: &str, span: Span) -> SoqlError {
        SoqlError::new(
            ErrorCode::InvalidType,
            format!("sObject type '{name}' is not supported. {CUSTOM_OBJECT_HINT}"),
            span,
        )
        .with_suggestions(similar_objects(self.schema, name, |_| true))
    }

    /// Looks up the object a relationship points to. `None` when the user cannot see it.
    fn related_object(&self, name: &str) -> Result<Option<Arc<ObjectSchema>>, ValidateError> {
        match self.schema.object(name) {
            Lookup::Found(object) => Ok(Some(object)),
            Lookup::NotLoaded => Err(ValidateError::NeedsDescribe(name.to_string())),
            Lookup::Unknown => Ok(None),
        }
    }

    fn query(
        &self,
        query: &Query,
        object: Arc<ObjectSchema>,
        role: Role,
    ) -> Result<Validated, ValidateError> {
        if let Some(offset) = query.offset
            && offset > MAX_OFFSET
        {
            // Documented on the SOQL OFFSET page; the wording is what orgs answer.
            return Err(invalid(
                ErrorCode::NumberOutsideValidRange,
                format!("Maximum SOQL offset allowed is {MAX_OFFSET}"),
                query.span,
            ));
        }
        let scope = Scope {
            object,
            alias: query.from.alias.as_ref(),
        };
        let aggregate = query.group_by.is_some()
            || query.select.iter().any(|item| match item {
                SelectItem::Expr { expr, .. } => has_aggregate(expr),
                _ => false,
            });
        let count_only = self.count_only(query)?;
        if aggregate && !count_only && query.group_by.is_none() && query.limit.is_some() {
            // SOQL reference, "Considerations for GROUP BY": "You must use a GROUP BY clause
            // if your query has a LIMIT clause and an aggregated function"; its example
            // `SELECT MAX(CreatedDate) FROM Account LIMIT 1` is invalid. The wording is ours.
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "an aggregate query without GROUP BY returns one row: remove LIMIT, or add GROUP BY",
                query.span,
            ));
        }
        if role == Role::Child && (aggregate || count_only) {
            // Orgs answer this for an aggregate in a parent-to-child subquery (quoted in
            // public projects' SOQL notes); the SOQL reference lists aggregates as root-only.
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "only root queries support aggregate expressions",
                query.span,
            ));
        }

        let mut select = SelectList {
            columns: Vec::new(),
            seen: HashSet::new(),
            expr_index: 0,
            must_be_grouped: Vec::new(),
        };
        if role == Role::SemiJoin {
            self.semi_join_select(&scope, query)?;
        } else if !count_only {
            for item in &query.select {
                self.select_item(&scope, query, item, aggregate, &mut select)?;
            }
        }

        if let Some(condition) = &query.where_clause {
            self.condition(&scope, condition, role, false)?;
        }

        let mut group_keys = GroupKeys::new();
        if let Some(group_by) = &query.group_by {
            for expr in group_by.exprs() {
                group_keys.insert(self.group_expr(&scope, expr)?);
            }
        }
        if aggregate {
            for (keys, display, span) in &select.must_be_grouped {
                if !keys.iter().any(|key| group_keys.contains(key)) {
                    // "Field must be grouped or aggregated: Name" is what orgs answer.
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!("Field must be grouped or aggregated: {display}"),
                        *span,
                    ));
                }
            }
        }
        if let Some(having) = &query.having {
            self.having(&scope, having, &group_keys)?;
        }
        for item in &query.order_by {
            // COUNT() queries return no rows to order: left to Salesforce.
            self.order_item(&scope, item, aggregate && !count_only, &group_keys)?;
        }

        let kind = if count_only {
            QueryKind::Count
        } else if aggregate {
            QueryKind::Aggregate
        } else {
            QueryKind::Records
        };
        Ok(Validated {
            object: scope.object.name.clone(),
            kind,
            columns: select.columns,
        })
    }

    /// Whether the query is `SELECT COUNT() FROM ...`; COUNT() mixed with anything is refused.
    fn count_only(&self, query: &Query) -> Result<bool, ValidateError> {
        let count_call = query.select.iter().find_map(|item| match item {
            SelectItem::Expr {
                expr: Expr::Call(call),
                ..
            } if call.function == Function::Count && call.args.is_empty() => Some(call),
            _ => None,
        });
        let Some(call) = count_call else {
            return Ok(false);
        };
        // The SOQL reference: COUNT() "returns the number of rows" and cannot be used with
        // other SELECT items or with GROUP BY (use COUNT(fieldName) there). The wording is ours.
        if query.select.len() > 1 || query.group_by.is_some() {
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "COUNT() must be the only item in the SELECT list and cannot be used with GROUP BY; use COUNT(Id) to count per group",
                call.span,
            ));
        }
        Ok(true)
    }

    fn select_item(
        &self,
        scope: &Scope,
        query: &Query,
        item: &SelectItem,
        aggregate: bool,
        select: &mut SelectList,
    ) -> Result<(), ValidateError> {
        match item {
            SelectItem::Expr {
                expr: Expr::Field(path),
                alias,
            } => {
                let resolved = self.resolve(scope, path)?;
                if let Some(alias) = alias
                    && !aggregate
                {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        "Only aggregate expressions use field aliasing",
                        alias.span,
                    ));
                }
                if aggregate {
                    select.must_be_grouped.push((
                        vec![field_key(&resolved.path)],
                        resolved.path.clone(),
                        path.span(),
                    ));
                    // AggregateResult rows key a grouped field by its own name, not its path.
                    let name = alias
                        .as_ref()
                        .map_or_else(|| resolved.field.clone(), |a| a.name.clone());
                    select.push(name, field_column(resolved, None));
                } else {
                    select.push_field(resolved, path.span())?;
                }
            }
            SelectItem::Expr {
                expr: Expr::Call(call),
                alias,
            } => {
                let info = self.call(scope, call)?;
                if aggregate && !info.aggregate {
                    // A date function or toLabel() over a grouped field: it must be grouped as
                    // written, or its field must be (accepted: Salesforce decides the rest).
                    let key = self.call_key(scope, call)?;
                    let (keys, display) = match &info.field {
                        Some(field) => {
                            let path = field_key(&field.path);
                            (vec![format!("{key}|{path}"), path], field.path.clone())
                        }
                        None => (vec![key], call.function.name().to_string()),
                    };
                    select.must_be_grouped.push((keys, display, call.span));
                }
                // toLabel(), FORMAT() and convertCurrency() give the field's value another
                // form: in record queries it comes back under the field's own key.
                let wraps_field = !aggregate && !info.aggregate && is_field_wrapper(call);
                let name = match (alias, &info.field) {
                    (Some(alias), _) => alias.name.clone(),
                    (None, Some(field)) if wraps_field => field.path.clone(),
                    (None, _) => select.next_expr_name(),
                };
                match info.field {
                    Some(field) if wraps_field => {
                        select.push(name, field_column(field, Some(call.function)));
                    }
                    _ => select.push(
                        name,
                        ColumnValue::Expr {
                            function: call.function,
                            field_type: info.result_type,
                        },
                    ),
                }
            }
            SelectItem::Expr {
                expr: Expr::Literal(_, span),
                ..
            } => {
                return Err(invalid(
                    ErrorCode::MalformedQuery,
                    "a literal value cannot be selected; select a field or a function of one",
                    *span,
                ));
            }
            SelectItem::Subquery(child) => {
                let (relationship, validated) = self.child_query(scope, child)?;
                select.push(relationship, ColumnValue::Child(Box::new(validated)));
            }
            SelectItem::TypeOf(type_of) => {
                let (relationship, column) = self.type_of(scope, type_of)?;
                select.push(relationship, ColumnValue::TypeOf(column));
            }
            SelectItem::Fields { group, span } => {
                if matches!(group, FieldsGroup::All | FieldsGroup::Custom)
                    && query.limit.is_none_or(|limit| limit > MAX_FIELDS_LIMIT)
                {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!(
                            "The SOQL FIELDS function must have a LIMIT of at most {MAX_FIELDS_LIMIT}"
                        ),
                        *span,
                    ));
                }
                for field in &scope.object.fields {
                    let wanted = match group {
                        FieldsGroup::All => true,
                        FieldsGroup::Custom => field.custom,
                        FieldsGroup::Standard => !field.custom,
                    };
                    if !wanted {
                        continue;
                    }
                    if aggregate {
                        // FIELDS() in an aggregate query is every field, each to be grouped
                        // (SOQL reference, FIELDS(): "Field must be grouped or aggregated").
                        select.must_be_grouped.push((
                            vec![field_key(&field.name)],
                            field.name.clone(),
                            *span,
                        ));
                    }
                    let resolved = Resolved::from_field(field.name.clone(), field, &scope.object);
                    select.push_field(resolved, *span)?;
                }
            }
        }
        Ok(())
    }

    /// A semi-join subquery selects exactly one Id or reference field.
    fn semi_join_select(&self, scope: &Scope, query: &Query) -> Result<(), ValidateError> {
        let single = match query.select.as_slice() {
            [
                SelectItem::Expr {
                    expr: Expr::Field(path),
                    alias: None,
                },
            ] => Some(path),
            _ => None,
        };
        let Some(path) = single else {
            // "The subquery must query a single ID (primary key) or reference (foreign key)
            // field" (SOQL reference, Semi-Joins and Anti-Joins). The wording is ours.
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "a semi-join or anti-join subquery must select exactly one Id or reference field",
                query.span,
            ));
        };
        let resolved = self.resolve(scope, path)?;
        if !is_id_like(&resolved.field_type) {
            return Err(invalid(
                ErrorCode::MalformedQuery,
                format!(
                    "a semi-join or anti-join subquery must select an Id or reference field, and '{}' is a {} field",
                    resolved.path,
                    type_word(&resolved.field_type)
                ),
                path.span(),
            ));
        }
        Ok(())
    }

    // ----- paths -----

    /// Resolves a field path from the scope's object, dropping a leading alias or object name.
    fn resolve(&self, scope: &Scope, path: &FieldPath) -> Result<Resolved, ValidateError> {
        let segments = strip_prefix(scope, &path.segments);
        self.resolve_from(Target::Object(Arc::clone(&scope.object)), segments, path)
    }

    fn resolve_from(
        &self,
        start: Target,
        segments: &[Ident],
        path: &FieldPath,
    ) -> Result<Resolved, ValidateError> {
        let Some((field, relationships)) = segments.split_last() else {
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "a field name is missing",
                path.span(),
            ));
        };
        if relationships.len() > MAX_PARENT_DEPTH {
            // The wording is as we remember orgs answering; not verified against a recording.
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "SOQL statements cannot query relationships that are more than 5 levels away from the root entity object.",
                path.span(),
            ));
        }
        let mut target = start;
        let mut canonical = String::new();
        for relationship in relationships {
            let (next, name) = self.follow(&target, relationship, field)?;
            canonical.push_str(&name);
            canonical.push('.');
            target = next;
        }
        match &target {
            Target::Object(object) => match object.field(&field.name) {
                Some(schema_field) => {
                    canonical.push_str(&schema_field.name);
                    Ok(Resolved::from_field(canonical, schema_field, object))
                }
                None => Err(self.unknown_field(object, field).into()),
            },
            Target::Name => match name_field(&field.name) {
                Some((name, field_type)) => {
                    canonical.push_str(name);
                    Ok(Resolved {
                        path: canonical,
                        field: name.to_string(),
                        field_type,
                        filterable: true,
                        sortable: true,
                        groupable: true,
                        aggregatable: true,
                        owner: None,
                    })
                }
                None => {
                    let mut suggestions = Suggestions::new(&field.name);
                    for (name, _) in NAME_FIELDS {
                        suggestions.offer(name, &[name]);
                    }
                    Err(SoqlError::new(
                        ErrorCode::InvalidField,
                        format!(
                            "No such column '{}' on entity 'Name'. {CUSTOM_FIELD_HINT}",
                            field.name
                        ),
                        field.span,
                    )
                    .with_suggestions(suggestions.finish())
                    .into())
                }
            },
        }
    }

    /// Follows one parent relationship; gives the target and the relationship's canonical name.
    fn follow(
        &self,
        from: &Target,
        relationship: &Ident,
        field: &Ident,
    ) -> Result<(Target, String), ValidateError> {
        match from {
            Target::Object(object) => {
                let Some(reference) = object.parent_relationship(&relationship.name) else {
                    return Err(self
                        .unknown_relationship(object, relationship, field)
                        .into());
                };
                let name = reference
                    .relationship_name
                    .clone()
                    .unwrap_or_else(|| relationship.name.clone());
                if is_polymorphic(reference) {
                    return Ok((Target::Name, name));
                }
                let Some(target_name) = reference.reference_to.first() else {
                    return Err(self
                        .unknown_relationship(object, relationship, field)
                        .into());
                };
                match self.related_object(target_name)? {
                    Some(target) => Ok((Target::Object(target), name)),
                    None => Err(self
                        .unknown_relationship(object, relationship, field)
                        .into()),
                }
            }
            Target::Name => {
                let found = NAME_RELATIONSHIPS
                    .iter()
                    .find(|(name, _)| relationship.is(name));
                let target = match found {
                    Some((name, object)) => self
                        .related_object(object)?
                        .map(|target| (Target::Object(target), name.to_string())),
                    None => None,
                };
                target.ok_or_else(|| {
                    let mut suggestions = Suggestions::new(&relationship.name);
                    for (name, _) in NAME_RELATIONSHIPS {
                        suggestions.offer(name, &[name]);
                    }
                    SoqlError::new(
                        ErrorCode::InvalidField,
                        format!(
                            "Didn't understand relationship '{}' in field path. {CUSTOM_RELATIONSHIP_HINT}",
                            relationship.name
                        ),
                        relationship.span,
                    )
                    .with_suggestions(suggestions.finish())
                    .into()
                })
            }
        }
    }

    fn unknown_field(&self, object: &ObjectSchema, field: &Ident) -> SoqlError {
        let mut suggestions = Suggestions::new(&field.name);
        for candidate in &object.fields {
            suggestions.offer(&candidate.name, &[&candidate.name, &candidate.label]);
        }
        // A child relationship named instead of a field (`Contact` on Account): a subquery.
        for child in &object.child_relationships {
            if let Some(name) = &child.relationship_name {
                suggestions.offer(&format!("(SELECT Id FROM {name})"), &[name]);
            }
        }
        self.offer_parent_paths(object, &field.name, &mut suggestions);
        SoqlError::new(
            ErrorCode::InvalidField,
            format!(
                "No such column '{}' on entity '{}'. {CUSTOM_FIELD_HINT}",
                field.name, object.name
            ),
            field.span,
        )
        .with_suggestions(suggestions.finish())
    }

    /// `AccountName` on Contact: a relationship name run into a field of its target gives
    /// `Account.Name`. Only describes already at hand are searched: suggestions never cost a
    /// fetch.
    fn offer_parent_paths(
        &self,
        object: &ObjectSchema,
        typed: &str,
        suggestions: &mut Suggestions,
    ) {
        let typed = suggest::normalize(typed);
        for reference in &object.fields {
            let Some(relationship) = &reference.relationship_name else {
                continue;
            };
            let prefix = suggest::normalize(relationship);
            let Some(rest) = typed.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() {
                // The relationship itself, named as a field: its Name is the usual intent.
                suggestions.offer_scored(format!("{relationship}.Name"), 1);
                continue;
            }
            if is_polymorphic(reference) {
                for (name, _) in NAME_FIELDS {
                    if let Some(distance) = suggest::closeness(rest, &[name]) {
                        suggestions.offer_scored(format!("{relationship}.{name}"), distance);
                    }
                }
                continue;
            }
            let target = reference
                .reference_to
                .first()
                .map(|name| self.schema.object(name));
            if let Some(Lookup::Found(target)) = target {
                for field in &target.fields {
                    if let Some(distance) = suggest::closeness(rest, &[&field.name, &field.label]) {
                        suggestions
                            .offer_scored(format!("{relationship}.{}", field.name), distance);
                    }
                }
            }
        }
    }

    fn unknown_relationship(
        &self,
        object: &ObjectSchema,
        relationship: &Ident,
        field: &Ident,
    ) -> SoqlError {
        let mut suggestions = Suggestions::new(&relationship.name);
        for candidate in &object.fields {
            if let Some(name) = &candidate.relationship_name {
                suggestions.offer(&format!("{name}.{}", field.name), &[name, &candidate.label]);
            }
        }
        for child in &object.child_relationships {
            if let Some(name) = &child.relationship_name {
                suggestions.offer(
                    &format!("(SELECT {} FROM {name})", field.name),
                    &[name, &child.child_s_object],
                );
            }
        }
        SoqlError::new(
            ErrorCode::InvalidField,
            format!(
                "Didn't understand relationship '{}' in field path. {CUSTOM_RELATIONSHIP_HINT}",
                relationship.name
            ),
            relationship.span,
        )
        .with_suggestions(suggestions.finish())
    }

    // ----- subqueries and TYPEOF -----

    fn child_query(
        &self,
        scope: &Scope,
        child: &Query,
    ) -> Result<(String, Validated), ValidateError> {
        let segments = strip_prefix(scope, &child.from.object.segments);
        let found = match segments {
            [name] => scope
                .object
                .child_relationship(&name.name)
                .map(|relationship| (name, relationship)),
            _ => None,
        };
        let Some((typed, relationship)) = found else {
            return Err(self
                .unknown_child_relationship(scope, &child.from.object)
                .into());
        };
        let relationship_name = relationship
            .relationship_name
            .clone()
            .unwrap_or_else(|| typed.name.clone());
        let Some(object) = self.related_object(&relationship.child_s_object)? else {
            return Err(self
                .unknown_child_relationship(scope, &child.from.object)
                .into());
        };
        let validated = self.query(child, object, Role::Child)?;
        Ok((relationship_name, validated))
    }

    fn unknown_child_relationship(&self, scope: &Scope, path: &FieldPath) -> SoqlError {
        let typed = path
            .segments
            .last()
            .map_or(String::new(), |s| s.name.clone());
        let mut suggestions = Suggestions::new(&typed);
        for child in &scope.object.child_relationships {
            if let Some(name) = &child.relationship_name {
                suggestions.offer(name, &[name, &child.child_s_object]);
            }
        }
        SoqlError::new(
            ErrorCode::InvalidType,
            format!(
                "Didn't understand relationship '{}' in FROM part of query call. {CUSTOM_RELATIONSHIP_HINT}",
                path.dotted()
            ),
            path.span(),
        )
        .with_suggestions(suggestions.finish())
    }

    fn type_of(
        &self,
        scope: &Scope,
        type_of: &TypeOf,
    ) -> Result<(String, TypeOfColumn), ValidateError> {
        let relationship = &type_of.relationship;
        let Some(reference) = scope.object.parent_relationship(&relationship.name) else {
            return Err(self
                .unknown_relationship(&scope.object, relationship, relationship)
                .into());
        };
        let relationship_name = reference
            .relationship_name
            .clone()
            .unwrap_or_else(|| relationship.name.clone());
        let mut branches = Vec::new();
        for when in &type_of.whens {
            let Some(target) = reference
                .reference_to
                .iter()
                .find(|name| when.object.is(name))
            else {
                let mut suggestions = Suggestions::new(&when.object.name);
                for name in &reference.reference_to {
                    suggestions.offer(name, &[name]);
                }
                // TYPEOF WHEN names an object the relationship can point to (SOQL reference,
                // TYPEOF). The wording is ours.
                return Err(SoqlError::new(
                    ErrorCode::MalformedQuery,
                    format!(
                        "TYPEOF {relationship_name}: '{}' is not a type {relationship_name} can refer to",
                        when.object.name
                    ),
                    when.object.span,
                )
                .with_suggestions(suggestions.finish())
                .into());
            };
            let Some(object) = self.related_object(target)? else {
                return Err(self
                    .unknown_object(&when.object.name, when.object.span)
                    .into());
            };
            let branch_scope = Scope {
                object: Arc::clone(&object),
                alias: None,
            };
            let mut columns = Vec::new();
            for path in &when.fields {
                let resolved = self.resolve(&branch_scope, path)?;
                columns.push(plain_column(resolved));
            }
            branches.push(TypeOfBranch {
                object: object.name.clone(),
                columns,
            });
        }
        let mut else_columns = Vec::new();
        for path in type_of.else_fields.iter().flatten() {
            let resolved = self.resolve_from(Target::Name, &path.segments, path)?;
            else_columns.push(plain_column(resolved));
        }
        Ok((
            relationship_name,
            TypeOfColumn {
                branches,
                else_columns,
            },
        ))
    }

    // ----- functions -----

    /// Checks a function call and its arguments; says what it computes.
    fn call(&self, scope: &Scope, call: &Call) -> Result<CallInfo, ValidateError> {
        let mut field = None;
        let mut inner_aggregate = false;
        let mut inner_type = None;
        for arg in &call.args {
            match arg {
                Expr::Field(path) => {
                    let resolved = self.resolve(scope, path)?;
                    if call.function.is_aggregate() {
                        check_aggregatable(call.function, &resolved, path.span())?;
                    }
                    if field.is_none() {
                        field = Some(resolved);
                    }
                }
                Expr::Call(inner) => {
                    let info = self.call(scope, inner)?;
                    inner_aggregate |= info.aggregate;
                    inner_type.get_or_insert(info.result_type);
                    if field.is_none() && !info.aggregate {
                        field = info.field;
                    }
                }
                Expr::Literal(..) => {}
            }
        }
        let arg_type = field
            .as_ref()
            .map(|f| f.field_type.clone())
            .or(inner_type)
            .unwrap_or(FieldType::AnyType);
        let result_type = result_type(call.function, arg_type);
        Ok(CallInfo {
            // GROUPING() reports on the grouping itself: it stands with the aggregates.
            aggregate: call.function.is_aggregate()
                || call.function == Function::Grouping
                || inner_aggregate,
            field,
            result_type,
        })
    }

    /// The grouping key of a call: the function and its arguments' canonical paths.
    fn call_key(&self, scope: &Scope, call: &Call) -> Result<String, ValidateError> {
        let mut key = format!("{}(", call.function.name().to_ascii_lowercase());
        for arg in &call.args {
            match arg {
                Expr::Field(path) => key.push_str(&field_key(&self.resolve(scope, path)?.path)),
                Expr::Call(inner) => key.push_str(&self.call_key(scope, inner)?),
                Expr::Literal(..) => key.push('?'),
            }
            key.push(',');
        }
        key.push(')');
        Ok(key)
    }

    // ----- WHERE and HAVING -----

    fn condition(
        &self,
        scope: &Scope,
        condition: &Condition,
        role: Role,
        under_or: bool,
    ) -> Result<(), ValidateError> {
        match condition {
            Condition::And(parts) => {
                for part in parts {
                    self.condition(scope, part, role, under_or)?;
                }
            }
            Condition::Or(parts) => {
                for part in parts {
                    self.condition(scope, part, role, true)?;
                }
            }
            Condition::Not(inner) => self.condition(scope, inner, role, under_or)?,
            Condition::Compare { left, op, value } => {
                let Some(resolved) = self.filter_operand(scope, left)? else {
                    return Ok(());
                };
                if *op == CompareOp::Like {
                    check_like(&resolved, left.span())?;
                }
                check_value(&resolved, value)?;
            }
            Condition::In { left, values, .. } => match values {
                InValues::List(values) => {
                    if let Some(resolved) = self.filter_operand(scope, left)? {
                        for value in values {
                            check_value(&resolved, value)?;
                        }
                    }
                }
                InValues::Subquery(sub) => self.semi_join(scope, left, sub, role, under_or)?,
                InValues::Bind(_) => {
                    self.filter_operand(scope, left)?;
                }
            },
            Condition::Includes { left, values, .. } => {
                let Some(resolved) = self.filter_operand(scope, left)? else {
                    return Ok(());
                };
                if resolved.field_type != FieldType::Multipicklist {
                    // Salesforce's wording for INCLUDES/EXCLUDES on another type.
                    return Err(invalid(
                        ErrorCode::InvalidQueryFilterOperator,
                        "includes or excludes operator only valid on multipicklist field",
                        left.span(),
                    ));
                }
                for value in values {
                    check_value(&resolved, value)?;
                }
            }
        }
        Ok(())
    }

    /// Resolves the left side of a WHERE comparison. A field must be filterable; a function's
    /// arguments are checked, and its value type is left to Salesforce (`None`).
    fn filter_operand(
        &self,
        scope: &Scope,
        left: &Expr,
    ) -> Result<Option<Resolved>, ValidateError> {
        match left {
            Expr::Field(path) => {
                let resolved = self.resolve(scope, path)?;
                if !resolved.filterable {
                    return Err(invalid(
                        ErrorCode::InvalidField,
                        format!(
                            "field '{}' can not be filtered in query call",
                            resolved.field
                        ),
                        path.span(),
                    ));
                }
                Ok(Some(resolved))
            }
            Expr::Call(call) => {
                self.call(scope, call)?;
                Ok(None)
            }
            Expr::Literal(..) => Ok(None),
        }
    }

    fn semi_join(
        &self,
        scope: &Scope,
        left: &Expr,
        sub: &Query,
        role: Role,
        under_or: bool,
    ) -> Result<(), ValidateError> {
        // Both wordings are what orgs answer (quoted in many a project's workaround notes);
        // the restrictions are in the SOQL reference, "Semi-Join and Anti-Join Limits".
        // Inside a child subquery a semi-join is left to Salesforce: its limits there are not
        // documented clearly enough to refuse it.
        if role == Role::SemiJoin {
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "Nesting of semi join sub-selects is not supported",
                sub.span,
            ));
        }
        if under_or {
            return Err(invalid(
                ErrorCode::MalformedQuery,
                "Semi join sub-selects are not allowed with the 'OR' operator",
                sub.span,
            ));
        }
        let left_field = self.filter_operand(scope, left)?;
        if let Some(resolved) = &left_field
            && !is_id_like(&resolved.field_type)
        {
            // "The left operand must query a single ID (primary key) or reference (foreign
            // key) field" (SOQL reference). The wording is ours.
            return Err(invalid(
                ErrorCode::MalformedQuery,
                format!(
                    "the left side of IN (SELECT ...) must be an Id or reference field, and '{}' is a {} field",
                    resolved.path,
                    type_word(&resolved.field_type)
                ),
                left.span(),
            ));
        }
        let object = self.root_object(&sub.from.object)?;
        self.query(sub, Arc::clone(&object), Role::SemiJoin)?;

        // Both sides must identify the same kind of record. Salesforce's wording, from a
        // recorded MALFORMED_QUERY answer ("The selected field 'Id' in the subquery and the left
        // operand field in the where expression in the outer query 'sfy24__Account__c' should
        // point to the same object type").
        if let (
            Some(outer),
            [
                SelectItem::Expr {
                    expr: Expr::Field(path),
                    ..
                },
            ],
        ) = (&left_field, sub.select.as_slice())
        {
            let sub_scope = Scope {
                object,
                alias: sub.from.alias.as_ref(),
            };
            let inner = self.resolve(&sub_scope, path)?;
            if let (Some(outer_targets), Some(inner_targets)) =
                (outer.points_to(), inner.points_to())
                && !outer_targets
                    .iter()
                    .any(|a| inner_targets.iter().any(|b| a.eq_ignore_ascii_case(b)))
            {
                let outer_text = match left {
                    Expr::Field(outer_path) => outer_path.dotted(),
                    _ => outer.path.clone(),
                };
                return Err(invalid(
                    ErrorCode::MalformedQuery,
                    format!(
                        "The selected field '{}' in the subquery and the left operand field in the where expression in the outer query '{outer_text}' should point to the same object type",
                        path.dotted()
                    ),
                    path.span(),
                ));
            }
        }
        Ok(())
    }

    fn having(
        &self,
        scope: &Scope,
        condition: &Condition,
        group_keys: &GroupKeys,
    ) -> Result<(), ValidateError> {
        let left = match condition {
            Condition::And(parts) | Condition::Or(parts) => {
                for part in parts {
                    self.having(scope, part, group_keys)?;
                }
                return Ok(());
            }
            Condition::Not(inner) => return self.having(scope, inner, group_keys),
            Condition::Compare { left, .. }
            | Condition::In { left, .. }
            | Condition::Includes { left, .. } => left,
        };
        match left {
            Expr::Field(path) => {
                let resolved = self.resolve(scope, path)?;
                if !group_keys.contains(&field_key(&resolved.path)) {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!("Field must be grouped or aggregated: {}", resolved.path),
                        path.span(),
                    ));
                }
            }
            Expr::Call(call) => {
                self.call(scope, call)?;
            }
            Expr::Literal(..) => {}
        }
        Ok(())
    }

    // ----- GROUP BY and ORDER BY -----

    fn group_expr(&self, scope: &Scope, expr: &Expr) -> Result<String, ValidateError> {
        match expr {
            Expr::Field(path) => {
                let resolved = self.resolve(scope, path)?;
                if !resolved.groupable {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!(
                            "field '{}' can not be grouped in a query call",
                            resolved.field
                        ),
                        path.span(),
                    ));
                }
                Ok(field_key(&resolved.path))
            }
            Expr::Call(call) => {
                let info = self.call(scope, call)?;
                if let Some(field) = &info.field
                    && !field.groupable
                    && !call.function.is_date_function()
                {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!("field '{}' can not be grouped in a query call", field.field),
                        call.span,
                    ));
                }
                let key = self.call_key(scope, call)?;
                Ok(match &info.field {
                    Some(field) => format!("{key}|{}", field_key(&field.path)),
                    None => key,
                })
            }
            Expr::Literal(_, span) => Err(invalid(
                ErrorCode::MalformedQuery,
                "GROUP BY takes fields, not literal values",
                *span,
            )),
        }
    }

    fn order_item(
        &self,
        scope: &Scope,
        item: &OrderItem,
        aggregate: bool,
        group_keys: &GroupKeys,
    ) -> Result<(), ValidateError> {
        match &item.expr {
            Expr::Field(path) => {
                let resolved = self.resolve(scope, path)?;
                if !resolved.sortable {
                    return Err(invalid(
                        ErrorCode::InvalidField,
                        format!(
                            "field '{}' can not be sorted in a query call",
                            resolved.field
                        ),
                        path.span(),
                    ));
                }
                if aggregate && !group_keys.contains(&field_key(&resolved.path)) {
                    return Err(invalid(
                        ErrorCode::MalformedQuery,
                        format!(
                            "Ordered field must be grouped or aggregated: {}",
                            resolved.path
                        ),
                        path.span(),
                    ));
                }
            }
            Expr::Call(call) => {
                let info = self.call(scope, call)?;
                if aggregate && !info.aggregate {
                    let key = self.call_key(scope, call)?;
                    let grouped = match &info.field {
                        Some(field) => {
                            group_keys.contains(&format!("{key}|{}", field_key(&field.path)))
                                || group_keys.contains(&field_key(&field.path))
                        }
                        None => group_keys.contains(&key),
                    };
                    if !grouped {
                        return Err(invalid(
                            ErrorCode::MalformedQuery,
                            format!(
                                "Ordered field must be grouped or aggregated: {}",
                                call.function.name()
                            ),
                            call.span,
                        ));
                    }
                }
            }
            Expr::Literal(..) => {}
        }
        Ok(())
    }
}

/// The SELECT list being built.
struct SelectList {
    columns: Vec<Column>,
    /// Lower-cased canonical paths of plain fields, for "duplicate field selected".
    seen: HashSet<String>,
    /// The next `exprN` number: only unaliased computed columns take one.
    expr_index: usize,
    /// In aggregate queries: (grouping key, name for the error, span) of every selected
    /// expression that must appear in GROUP BY.
    /// Any one of the keys being grouped is enough.
    must_be_grouped: Vec<(Vec<String>, String, Span)>,
}

impl SelectList {
    fn push(&mut self, name: String, value: ColumnValue) {
        self.columns.push(Column { name, value });
    }

    /// A plain field in a record query; selecting one twice is refused.
    fn push_field(&mut self, resolved: Resolved, span: Span) -> Result<(), ValidateError> {
        if !self.seen.insert(field_key(&resolved.path)) {
            // Documented in the SOQL reference under FIELDS(), with this errorCode.
            return Err(invalid(
                ErrorCode::InvalidField,
                format!("duplicate field selected: {}", resolved.path),
                span,
            ));
        }
        let name = resolved.path.clone();
        self.push(name, field_column(resolved, None));
        Ok(())
    }

    fn next_expr_name(&mut self) -> String {
        let name = format!("expr{}", self.expr_index);
        self.expr_index += 1;
        name
    }
}

struct CallInfo {
    /// Whether the call is or contains an aggregate.
    aggregate: bool,
    /// The field it applies to, when it has one (`toLabel(Industry)`, `SUM(Amount)`).
    field: Option<Resolved>,
    result_type: FieldType,
}

fn invalid(code: ErrorCode, message: impl Into<String>, span: Span) -> ValidateError {
    ValidateError::Invalid(SoqlError::new(code, message, span))
}

fn field_key(path: &str) -> String {
    path.to_ascii_lowercase()
}

fn field_column(resolved: Resolved, function: Option<Function>) -> ColumnValue {
    ColumnValue::Field {
        path: resolved.path,
        field_type: resolved.field_type,
        function,
    }
}

fn plain_column(resolved: Resolved) -> Column {
    Column {
        name: resolved.path.clone(),
        value: field_column(resolved, None),
    }
}

/// Drops a leading FROM alias (`c.Name`) or object name (`Account.Name` in `FROM Account`,
/// as in Salesforce's own examples). A relationship of the same name wins over the object name.
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

fn is_field_wrapper(call: &Call) -> bool {
    matches!(
        call.function,
        Function::ToLabel | Function::Format | Function::ConvertCurrency
    ) && match call.args.as_slice() {
        [Expr::Field(_)] => true,
        [Expr::Call(inner)] => is_field_wrapper(inner),
        _ => false,
    }
}

pub(crate) fn is_polymorphic(reference: &FieldSchema) -> bool {
    reference.polymorphic_foreign_key || reference.reference_to.len() > 1
}

fn is_id_like(field_type: &FieldType) -> bool {
    matches!(field_type, FieldType::Id | FieldType::Reference)
}

fn has_aggregate(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => call.function.is_aggregate() || call.args.iter().any(has_aggregate),
        _ => false,
    }
}

/// The type word used in filter errors: the field's SOAP type (`xsd:dateTime` gives
/// `dateTime`; currency and percent are `xsd:double`; ids and references are `tns:ID`).
/// Recorded answers confirm `string`, `date`, `dateTime` and, for currency, `double`; `int`
/// and `id` are inferred from the SOAP types.
fn type_word(field_type: &FieldType) -> &str {
    match field_type {
        FieldType::Id | FieldType::Reference => "id",
        FieldType::String
        | FieldType::Textarea
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url
        | FieldType::Picklist
        | FieldType::Multipicklist
        | FieldType::Combobox
        | FieldType::EncryptedString => "string",
        FieldType::Boolean => "boolean",
        FieldType::Int => "int",
        FieldType::Long => "long",
        FieldType::Double | FieldType::Currency | FieldType::Percent => "double",
        FieldType::Date => "date",
        FieldType::Datetime => "dateTime",
        FieldType::Time => "time",
        FieldType::Base64 => "base64",
        FieldType::Address => "address",
        FieldType::Location => "location",
        FieldType::AnyType => "anyType",
        FieldType::ComplexValue => "complexvalue",
        FieldType::Other(name) => name,
    }
}

/// `field LIKE '...'` needs a text field. Id and reference fields are refused with
/// INVALID_QUERY_FILTER_OPERATOR "invalid operator on id field", as orgs answer; other
/// non-text types fail the value check (a quoted pattern against a number or date).
fn check_like(resolved: &Resolved, span: Span) -> Result<(), ValidateError> {
    match resolved.field_type {
        FieldType::Id | FieldType::Reference => Err(invalid(
            ErrorCode::InvalidQueryFilterOperator,
            "invalid operator on id field",
            span,
        )),
        FieldType::Multipicklist => Err(invalid(
            ErrorCode::InvalidQueryFilterOperator,
            "invalid operator on multipicklist field",
            span,
        )),
        _ => Ok(()),
    }
}

/// Checks a literal against the field it is compared with, as Salesforce does:
/// INVALID_FIELD "value of filter criterion for field 'CloseDate' must be of type date and
/// should not be enclosed in quotes" (quoted from real org answers, e.g. for a date compared
/// with `''`, and 'dateTime' for CreatedDate). Types this does not know are left to Salesforce.
fn check_value(resolved: &Resolved, value: &Value) -> Result<(), ValidateError> {
    let Value::Literal(literal, span) = value else {
        return Ok(());
    };
    let ok = match (&resolved.field_type, literal) {
        (_, Literal::Null) => true,
        (field_type, literal)
            if field_type.is_text() || *field_type == FieldType::Multipicklist =>
        {
            matches!(literal, Literal::String(_))
        }
        (field_type, literal) if field_type.is_numeric() => matches!(
            literal,
            Literal::Integer(_) | Literal::Decimal(_) | Literal::Currency { .. }
        ),
        (FieldType::Boolean, literal) => matches!(literal, Literal::Boolean(_)),
        // A datetime against a date field: not known to be refused, so accepted.
        (FieldType::Date, literal) => matches!(
            literal,
            Literal::Date(_) | Literal::DateTime(_) | Literal::DateLiteral(_)
        ),
        (FieldType::Datetime, literal) => {
            matches!(literal, Literal::DateTime(_) | Literal::DateLiteral(_))
        }
        _ => true,
    };
    if ok {
        return check_id_literal(resolved, literal, *span);
    }
    let word = type_word(&resolved.field_type);
    let message = if resolved.field_type.is_text()
        || resolved.field_type == FieldType::Multipicklist
    {
        format!(
            "value of filter criterion for field '{}' must be of type {word} and should be enclosed in quotes",
            resolved.field
        )
    } else {
        format!(
            "value of filter criterion for field '{}' must be of type {word} and should not be enclosed in quotes",
            resolved.field
        )
    };
    Err(invalid(ErrorCode::InvalidField, message, *span))
}

/// An Id or reference compared with text that cannot be an id (`OwnerId = 'Jane Doe'`) is
/// refused by Salesforce with INVALID_QUERY_FILTER_OPERATOR "invalid ID field: Jane Doe". Ids
/// are 15 or 18 letters and digits; the empty string is left to Salesforce.
fn check_id_literal(
    resolved: &Resolved,
    literal: &Literal,
    span: Span,
) -> Result<(), ValidateError> {
    let Literal::String(text) = literal else {
        return Ok(());
    };
    let id_shaped =
        matches!(text.len(), 15 | 18) && text.bytes().all(|b| b.is_ascii_alphanumeric());
    if is_id_like(&resolved.field_type) && !text.is_empty() && !id_shaped {
        return Err(invalid(
            ErrorCode::InvalidQueryFilterOperator,
            format!("invalid ID field: {text}"),
            span,
        ));
    }
    Ok(())
}

/// SUM and AVG need numbers; every aggregate needs an aggregatable field.
fn check_aggregatable(
    function: Function,
    resolved: &Resolved,
    span: Span,
) -> Result<(), ValidateError> {
    let numeric_only = matches!(function, Function::Sum | Function::Avg);
    if !resolved.aggregatable || (numeric_only && !resolved.field_type.is_numeric()) {
        return Err(invalid(
            ErrorCode::MalformedQuery,
            format!(
                "field {} does not support aggregate operator {}",
                resolved.field,
                function.name()
            ),
            span,
        ));
    }
    Ok(())
}

/// The type of what a function returns, given its argument's type.
fn result_type(function: Function, arg: FieldType) -> FieldType {
    match function {
        Function::Count | Function::CountDistinct | Function::Grouping => FieldType::Int,
        Function::Avg | Function::Distance => FieldType::Double,
        Function::Sum | Function::Min | Function::Max | Function::ConvertCurrency => arg,
        Function::DayOnly => FieldType::Date,
        Function::ConvertTimezone => FieldType::Datetime,
        Function::Format | Function::ToLabel => FieldType::String,
        Function::Geolocation => FieldType::Location,
        _ if function.is_date_function() => FieldType::Int,
        _ => arg,
    }
}

/// The fields of the `Name` pseudo-object, which a polymorphic relationship resolves to
/// outside TYPEOF (SOQL reference, "Understanding Polymorphic Keys and Relationships"): only
/// these work as `What.X`; anything else is "No such column 'X' on entity 'Name'".
const NAME_FIELDS: [(&str, NameFieldType); 20] = [
    ("Alias", NameFieldType::String),
    ("CommunityNickname", NameFieldType::String),
    ("Email", NameFieldType::Email),
    ("FirstName", NameFieldType::String),
    ("Id", NameFieldType::Id),
    ("IsActive", NameFieldType::Boolean),
    ("LastName", NameFieldType::String),
    ("LastReferencedDate", NameFieldType::Datetime),
    ("LastViewedDate", NameFieldType::Datetime),
    ("MediumPhotoUrl", NameFieldType::Url),
    ("Name", NameFieldType::String),
    ("NameOrAlias", NameFieldType::String),
    ("Phone", NameFieldType::Phone),
    ("ProfileId", NameFieldType::Reference),
    ("RecordTypeId", NameFieldType::Reference),
    ("SmallPhotoUrl", NameFieldType::Url),
    ("Title", NameFieldType::String),
    ("Type", NameFieldType::String),
    ("UserRoleId", NameFieldType::Reference),
    ("Username", NameFieldType::String),
];

/// Relationships of the `Name` pseudo-object: relationship name and target object.
pub(crate) const NAME_RELATIONSHIPS: [(&str, &str); 3] = [
    ("Profile", "Profile"),
    ("RecordType", "RecordType"),
    ("UserRole", "UserRole"),
];

/// [`FieldType`] holds a `String` variant, so the const table uses this copyable mirror.
#[derive(Clone, Copy)]
enum NameFieldType {
    String,
    Email,
    Id,
    Boolean,
    Datetime,
    Url,
    Phone,
    Reference,
}

pub(crate) fn name_field(name: &str) -> Option<(&'static str, FieldType)> {
    let (canonical, kind) = NAME_FIELDS
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))?;
    let field_type = match kind {
        NameFieldType::String => FieldType::String,
        NameFieldType::Email => FieldType::Email,
        NameFieldType::Id => FieldType::Id,
        NameFieldType::Boolean => FieldType::Boolean,
        NameFieldType::Datetime => FieldType::Datetime,
        NameFieldType::Url => FieldType::Url,
        NameFieldType::Phone => FieldType::Phone,
        NameFieldType::Reference => FieldType::Reference,
    };
    Some((canonical, field_type))
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryKind::Records => "records",
            QueryKind::Aggregate => "aggregate",
            QueryKind::Count => "count",
        })
    }
}

#[cfg(test)]
mod tests;
