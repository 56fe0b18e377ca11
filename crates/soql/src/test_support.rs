//! Random queries, data and policies over a small org, for property tests of the access check
//! (feature `test-support`; always built for this crate's own tests).
//!
//! The generators draw from a tape of random numbers ([`Tape`]), so one proptest value (a
//! `Vec<u32>`) makes a whole case, shrinks as numbers do, and needs no strategy per shape. A
//! later end-to-end test (MCP tool over the emulator) can reuse [`org_objects`],
//! [`random_query`], [`random_policy`] and [`case`]; [`RecordingOrg`] records every object
//! and field the evaluator reads, which is how the footprint's soundness is checked.
//!
//! Every query generated is one validation accepts (the property tests assert it), so the
//! property says something about queries that would really be sent.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::access::AccessPolicy;
use crate::data::{DataSource, Value};
use crate::schema::{ChildRelationship, FieldSchema, FieldType, Lookup, ObjectSchema, Schema};

/// Settings for a property test of a guarantee: `cases` at a fixed `seed`, so CI runs the
/// same cases every time; proptest's own `PROPTEST_CASES` and `PROPTEST_RNG_SEED` override
/// them, which is how `tools/soak-properties` runs the same properties far longer, at seeds
/// nobody chose.
pub fn guarantee_config(cases: u32, seed: u64) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, RngSeed};
    let from_env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            from_env.cases
        } else {
            cases
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            from_env.rng_seed
        } else {
            RngSeed::Fixed(seed)
        },
        ..from_env
    }
}

/// A stream of random choices. Reading past the end wraps around: a tape of any length makes
/// a case, and a shrunk tape still does.
pub struct Tape {
    numbers: Vec<u32>,
    next: usize,
}

impl Tape {
    pub fn new(numbers: Vec<u32>) -> Self {
        Self { numbers, next: 0 }
    }

    /// A number below `n` (0 when `n` is 0 or the tape is empty).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 || self.numbers.is_empty() {
            return 0;
        }
        let value = self.numbers[self.next % self.numbers.len()];
        self.next += 1;
        value as usize % n
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len()))
    }
}

fn field(name: &str, field_type: FieldType) -> FieldSchema {
    FieldSchema {
        name: name.to_string(),
        label: name.to_string(),
        field_type,
        length: 0,
        precision: 0,
        scale: 0,
        digits: 0,
        nillable: true,
        createable: true,
        updateable: true,
        defaulted_on_create: false,
        custom: name.ends_with("__c"),
        calculated: false,
        auto_number: false,
        filterable: true,
        sortable: true,
        groupable: true,
        aggregatable: true,
        name_field: name == "Name",
        external_id: false,
        unique: false,
        restricted_picklist: false,
        picklist_values: Vec::new(),
        controller_name: None,
        reference_to: Vec::new(),
        relationship_name: None,
        polymorphic_foreign_key: false,
        default_value: None,
        inline_help_text: None,
    }
}

fn reference(name: &str, relationship: &str, to: &[&str]) -> FieldSchema {
    FieldSchema {
        reference_to: to.iter().map(|s| s.to_string()).collect(),
        relationship_name: Some(relationship.to_string()),
        polymorphic_foreign_key: to.len() > 1,
        ..field(name, FieldType::Reference)
    }
}

fn object(name: &str, fields: Vec<FieldSchema>, children: &[(&str, &str, &str)]) -> ObjectSchema {
    let described = serde_json::json!({"name": name, "label": name, "queryable": true});
    let mut object: ObjectSchema = match serde_json::from_value(described) {
        Ok(object) => object,
        Err(e) => panic!("object {name}: {e}"),
    };
    object.fields = fields;
    object.child_relationships = children
        .iter()
        .map(|(relationship, child, field)| ChildRelationship {
            child_s_object: child.to_string(),
            field: field.to_string(),
            relationship_name: Some(relationship.to_string()),
        })
        .collect();
    object.index()
}

/// The org: users and queues (Group), accounts with contacts and opportunities, and tasks
/// whose `What` (Account or Opportunity) and `Owner` (User or Group) are polymorphic.
pub fn org_objects() -> Vec<ObjectSchema> {
    use FieldType as T;
    vec![
        object(
            "User",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                field("Username", T::String),
                field("Email", T::Email),
                field("Salary__c", T::Currency),
                reference("ManagerId", "Manager", &["User"]),
            ],
            &[],
        ),
        object(
            "Group",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                field("Email", T::Email),
            ],
            &[],
        ),
        object(
            "Account",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                field("Industry", T::Picklist),
                field("AnnualRevenue", T::Currency),
                field("NumberOfEmployees", T::Int),
                field("Secret__c", T::String),
                reference("OwnerId", "Owner", &["User"]),
                reference("ParentId", "Parent", &["Account"]),
            ],
            &[
                ("Contacts", "Contact", "AccountId"),
                ("Opportunities", "Opportunity", "AccountId"),
                ("ChildAccounts", "Account", "ParentId"),
                ("Tasks", "Task", "WhatId"),
            ],
        ),
        object(
            "Contact",
            vec![
                field("Id", T::Id),
                field("LastName", T::String),
                field("Email", T::Email),
                field("Birthdate", T::Date),
                reference("AccountId", "Account", &["Account"]),
                reference("ReportsToId", "ReportsTo", &["Contact"]),
                reference("OwnerId", "Owner", &["User"]),
            ],
            &[("Tasks", "Task", "WhoId")],
        ),
        object(
            "Opportunity",
            vec![
                field("Id", T::Id),
                field("Name", T::String),
                field("Amount", T::Currency),
                field("StageName", T::Picklist),
                field("CloseDate", T::Date),
                reference("AccountId", "Account", &["Account"]),
                reference("OwnerId", "Owner", &["User"]),
            ],
            &[("Tasks", "Task", "WhatId")],
        ),
        object(
            "Task",
            vec![
                field("Id", T::Id),
                field("Subject", T::String),
                field("Priority", T::Picklist),
                reference("WhatId", "What", &["Account", "Opportunity"]),
                reference("WhoId", "Who", &["Contact"]),
                reference("OwnerId", "Owner", &["User", "Group"]),
            ],
            &[],
        ),
    ]
}

/// Objects a query may start from.
const ROOTS: [&str; 6] = ["Account", "Contact", "Opportunity", "Task", "User", "Group"];

/// An org held in memory: describes and records, served to the evaluator. The evaluator's own
/// tests use it as is; [`RecordingOrg`] wraps it to record what is read.
pub struct MemOrg {
    objects: HashMap<String, Arc<ObjectSchema>>,
    records: Vec<(String, HashMap<String, Value>)>,
    by_object: HashMap<String, Vec<usize>>,
    by_id: HashMap<String, usize>,
}

impl MemOrg {
    /// An org with these objects and no records.
    pub fn new(objects: Vec<ObjectSchema>) -> Self {
        Self {
            objects: objects
                .into_iter()
                .map(|o| (o.name.to_ascii_lowercase(), Arc::new(o.index())))
                .collect(),
            records: Vec::new(),
            by_object: HashMap::new(),
            by_id: HashMap::new(),
        }
    }

    /// Adds a record of `object`; its `Id` field, when a string, makes it a parent others can
    /// reference.
    pub fn insert<K: Into<String>>(
        &mut self,
        object: &str,
        fields: impl IntoIterator<Item = (K, Value)>,
    ) {
        let row = self.records.len();
        let fields: HashMap<String, Value> =
            fields.into_iter().map(|(k, v)| (k.into(), v)).collect();
        if let Some(Value::String(id)) = fields.get("Id") {
            self.by_id.insert(id.clone(), row);
        }
        self.by_object
            .entry(object.to_string())
            .or_default()
            .push(row);
        self.records.push((object.to_string(), fields));
    }

    /// The record's `Id` (empty when it has none).
    pub fn id(&self, row: usize) -> &str {
        self.value(row, "Id").and_then(Value::as_str).unwrap_or("")
    }
}

impl Schema for MemOrg {
    fn object(&self, name: &str) -> Lookup {
        match self.objects.get(&name.to_ascii_lowercase()) {
            Some(object) => Lookup::Found(Arc::clone(object)),
            None => Lookup::Unknown,
        }
    }

    fn object_names(&self) -> Vec<String> {
        self.objects.values().map(|o| o.name.clone()).collect()
    }
}

impl DataSource for MemOrg {
    type Row = usize;

    fn schema(&self) -> &dyn Schema {
        self
    }

    fn scan(&self, object: &str) -> Box<dyn Iterator<Item = usize> + '_> {
        match self.by_object.get(object) {
            Some(rows) => Box::new(rows.iter().copied()),
            None => Box::new(std::iter::empty()),
        }
    }

    fn object_of(&self, row: usize) -> &str {
        self.records.get(row).map_or("", |(object, _)| object)
    }

    fn value(&self, row: usize, field: &str) -> Option<&Value> {
        self.records
            .get(row)
            .and_then(|(_, values)| values.get(field))
    }

    fn parent(&self, row: usize, reference_field: &str) -> Option<usize> {
        let id = self.value(row, reference_field)?.as_str()?;
        self.by_id.get(id).copied()
    }

    fn children(&self, row: usize, child_object: &str, field: &str) -> Vec<usize> {
        let Some(id) = self.value(row, "Id").and_then(Value::as_str) else {
            return Vec::new();
        };
        self.scan(child_object)
            .filter(|&child| self.value(child, field).and_then(Value::as_str) == Some(id))
            .collect()
    }
}

/// The org's records, serving the evaluator and recording what it reads.
pub struct RecordingOrg {
    org: MemOrg,
    fields_read: RefCell<BTreeSet<(String, String)>>,
    objects_read: RefCell<BTreeSet<String>>,
}

impl RecordingOrg {
    /// The org with no records.
    pub fn empty() -> Self {
        Self {
            org: MemOrg::new(org_objects()),
            fields_read: RefCell::default(),
            objects_read: RefCell::default(),
        }
    }

    /// Random records: up to four per object, every field set or null at random, references
    /// to random records of (one of) their targets.
    pub fn random(tape: &mut Tape) -> Self {
        let mut org = Self::empty();
        let mut ids: Vec<(String, Vec<String>)> = Vec::new();
        for (n, name) in ROOTS.iter().enumerate() {
            let count = tape.below(5);
            let object_ids = (0..count)
                .map(|i| format!("{:03}{:012}AAA", n + 100, i + 1))
                .collect();
            ids.push((name.to_string(), object_ids));
        }
        for (name, object_ids) in &ids {
            let Lookup::Found(schema) = org.org.object(name) else {
                continue;
            };
            for id in object_ids {
                let mut values = HashMap::new();
                for field in &schema.fields {
                    let value = match field.field_type {
                        FieldType::Id => Value::String(id.clone()),
                        FieldType::Reference => {
                            let targets: Vec<&String> = ids
                                .iter()
                                .filter(|(o, _)| field.reference_to.contains(o))
                                .flat_map(|(_, ids)| ids)
                                .collect();
                            match tape.choose(&targets) {
                                Some(target) if !tape.one_in(4) => Value::String((*target).clone()),
                                _ => Value::Null,
                            }
                        }
                        _ if tape.one_in(4) => Value::Null,
                        FieldType::Currency => Value::Double(tape.below(1000) as f64 * 1.5),
                        FieldType::Int => Value::Integer(tape.below(1000) as i64),
                        FieldType::Date => Value::Date(
                            NaiveDate::from_ymd_opt(2020 + tape.below(6) as i32, 1, 1)
                                .unwrap_or_default(),
                        ),
                        FieldType::Picklist => {
                            Value::String(["Hot", "Cold", "Warm"][tape.below(3)].to_string())
                        }
                        _ => Value::String(
                            ["alpha", "Beta", "gamma", "delta"][tape.below(4)].to_string(),
                        ),
                    };
                    values.insert(field.name.clone(), value);
                }
                org.org.insert(name, values);
            }
        }
        org
    }

    /// Every (object, field) read so far.
    pub fn fields_read(&self) -> BTreeSet<(String, String)> {
        self.fields_read.borrow().clone()
    }

    /// Every object whose rows were scanned or read so far.
    pub fn objects_read(&self) -> BTreeSet<String> {
        self.objects_read.borrow().clone()
    }

    fn note(&self, object: &str, field: &str) {
        self.objects_read.borrow_mut().insert(object.to_string());
        self.fields_read
            .borrow_mut()
            .insert((object.to_string(), field.to_string()));
    }
}

impl Schema for RecordingOrg {
    fn object(&self, name: &str) -> Lookup {
        self.org.object(name)
    }

    fn object_names(&self) -> Vec<String> {
        self.org.object_names()
    }
}

impl DataSource for RecordingOrg {
    type Row = usize;

    fn schema(&self) -> &dyn Schema {
        self
    }

    fn scan(&self, object: &str) -> Box<dyn Iterator<Item = usize> + '_> {
        self.objects_read.borrow_mut().insert(object.to_string());
        self.org.scan(object)
    }

    fn object_of(&self, row: usize) -> &str {
        self.org.object_of(row)
    }

    fn value(&self, row: usize, field: &str) -> Option<&Value> {
        self.note(self.object_of(row), field);
        self.org.value(row, field)
    }

    fn parent(&self, row: usize, reference_field: &str) -> Option<usize> {
        self.note(self.object_of(row), reference_field);
        self.org.parent(row, reference_field)
    }

    fn children(&self, row: usize, child_object: &str, field: &str) -> Vec<usize> {
        self.note(self.object_of(row), "Id");
        self.note(child_object, field);
        self.org.children(row, child_object, field)
    }
}

/// A random query over [`org_objects`], as text: records, aggregate or COUNT() queries with
/// parent paths (polymorphic ones too), child subqueries, TYPEOF, FIELDS(STANDARD),
/// semi-joins and anti-joins, WHERE, GROUP BY, HAVING and ORDER BY.
pub fn random_query(tape: &mut Tape) -> String {
    let org = RecordingOrg::empty();
    let Some(root) = tape.choose(&ROOTS).copied() else {
        return "SELECT Id FROM Account".into();
    };
    let Lookup::Found(object) = org.object(root) else {
        return "SELECT Id FROM Account".into();
    };
    Gen { org: &org, tape }.query(&object)
}

struct Gen<'a> {
    org: &'a RecordingOrg,
    tape: &'a mut Tape,
}

impl Gen<'_> {
    fn lookup(&self, name: &str) -> Option<Arc<ObjectSchema>> {
        match self.org.object(name) {
            Lookup::Found(object) => Some(object),
            _ => None,
        }
    }

    fn query(&mut self, object: &Arc<ObjectSchema>) -> String {
        let kind = self.tape.below(10);
        let from = &object.name;
        let mut text = if kind == 0 {
            format!("SELECT COUNT() FROM {from}")
        } else if kind <= 3 {
            return self.aggregate(object);
        } else {
            format!("SELECT {} FROM {from}", self.select_list(object))
        };
        if let Some(condition) = self.where_clause(object, true) {
            text.push_str(&format!(" WHERE {condition}"));
        }
        if kind != 0 && self.tape.one_in(2) {
            let path = self.path(object, 2, false);
            let direction = ["ASC", "DESC NULLS LAST", "ASC NULLS FIRST"][self.tape.below(3)];
            text.push_str(&format!(" ORDER BY {path} {direction}"));
        }
        if kind != 0 && self.tape.one_in(3) {
            text.push_str(&format!(" LIMIT {}", 1 + self.tape.below(5)));
        }
        text
    }

    fn select_list(&mut self, object: &Arc<ObjectSchema>) -> String {
        let mut items: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        if self.tape.one_in(8) {
            items.push("FIELDS(STANDARD)".into());
        } else {
            for _ in 0..1 + self.tape.below(3) {
                let path = self.path(object, 3, true);
                if seen.insert(path.to_ascii_lowercase()) {
                    // toLabel() reads the field it labels.
                    let picklist = self.field_type(object, &path) == Some(FieldType::Picklist);
                    if picklist && self.tape.one_in(2) {
                        items.push(format!("toLabel({path})"));
                    } else {
                        items.push(path);
                    }
                }
            }
        }
        if object.name == "Task" && self.tape.one_in(2) {
            let mut type_of = String::from("TYPEOF What");
            for (target, fields) in [
                ("Account", ["Name", "AnnualRevenue", "Owner.Email"]),
                ("Opportunity", ["Name", "Amount", "Account.Secret__c"]),
            ] {
                if self.tape.one_in(2) {
                    let field = fields[self.tape.below(fields.len())];
                    type_of.push_str(&format!(" WHEN {target} THEN {field}"));
                }
            }
            // TYPEOF needs at least one WHEN.
            if type_of == "TYPEOF What" {
                type_of.push_str(" WHEN Account THEN Name");
            }
            if self.tape.one_in(2) {
                type_of.push_str(" ELSE Name");
            }
            type_of.push_str(" END");
            items.push(type_of);
        }
        if !object.child_relationships.is_empty() && self.tape.one_in(3) {
            let Some(relationship) = self.tape.choose(&object.child_relationships).cloned() else {
                return items.join(", ");
            };
            if let (Some(name), Some(child)) = (
                relationship.relationship_name.as_deref(),
                self.lookup(&relationship.child_s_object),
            ) {
                let field = self.path(&child, 1, false);
                let mut sub = format!("(SELECT {field} FROM {name}");
                if let Some(condition) = self.where_clause(&child, false) {
                    sub.push_str(&format!(" WHERE {condition}"));
                }
                if self.tape.one_in(2) {
                    sub.push_str(&format!(" ORDER BY {} DESC", self.path(&child, 1, false)));
                }
                sub.push(')');
                items.push(sub);
            }
        }
        items.join(", ")
    }

    fn aggregate(&mut self, object: &Arc<ObjectSchema>) -> String {
        let from = &object.name;
        let numeric: Vec<String> = object
            .fields
            .iter()
            .filter(|f| f.field_type.is_numeric())
            .map(|f| f.name.clone())
            .collect();
        let mut aggregates = vec!["COUNT(Id)".to_string()];
        for _ in 0..self.tape.below(3) {
            let function = ["MAX", "MIN", "COUNT_DISTINCT", "SUM"][self.tape.below(4)];
            let field = match (function, self.tape.choose(&numeric)) {
                ("SUM", Some(field)) => field.clone(),
                ("SUM", None) => continue,
                _ => self.path(object, 2, false),
            };
            aggregates.push(format!("{function}({field})"));
        }
        let mut text = if self.tape.one_in(3) {
            format!("SELECT {} FROM {from}", aggregates.join(", "))
        } else {
            let group = self.path(object, 2, false);
            let mut text = format!("SELECT {group}, {} FROM {from}", aggregates.join(", "));
            if let Some(condition) = self.where_clause(object, true) {
                text.push_str(&format!(" WHERE {condition}"));
            }
            text.push_str(&format!(" GROUP BY {group}"));
            if self.tape.one_in(2) {
                let field = self.path(object, 1, false);
                text.push_str(&format!(" HAVING MAX({field}) != null"));
            }
            if self.tape.one_in(2) {
                text.push_str(&format!(" ORDER BY {group} DESC"));
            }
            return text;
        };
        if let Some(condition) = self.where_clause(object, true) {
            text.push_str(&format!(" WHERE {condition}"));
        }
        text
    }

    /// A field path from `object`: up to `depth` parent hops, through a polymorphic
    /// relationship only when `polymorphic` (it ends there, on a `Name` field).
    fn path(&mut self, object: &Arc<ObjectSchema>, depth: usize, polymorphic: bool) -> String {
        let mut prefix = String::new();
        let mut at = Arc::clone(object);
        for _ in 0..depth {
            if !self.tape.one_in(2) {
                break;
            }
            let references: Vec<&FieldSchema> = at
                .fields
                .iter()
                .filter(|f| f.relationship_name.is_some())
                .filter(|f| polymorphic || f.reference_to.len() == 1)
                .collect();
            let Some(reference) = self.tape.choose(&references).copied() else {
                break;
            };
            let relationship = reference.relationship_name.clone().unwrap_or_default();
            if reference.reference_to.len() > 1 {
                let field = ["Name", "Id", "Email"][self.tape.below(3)];
                // `What` targets have no Email: only `Owner` (User or Group) does.
                let field = if field == "Email" && relationship != "Owner" {
                    "Name"
                } else {
                    field
                };
                return format!("{prefix}{relationship}.{field}");
            }
            let Some(target) = reference.reference_to.first().and_then(|t| self.lookup(t)) else {
                break;
            };
            prefix.push_str(&relationship);
            prefix.push('.');
            at = target;
        }
        let field = self
            .tape
            .choose(&at.fields)
            .map_or_else(|| "Id".to_string(), |f| f.name.clone());
        format!("{prefix}{field}")
    }

    /// A WHERE condition, or none; semi-joins only where SOQL allows them (`semi_join`).
    fn where_clause(&mut self, object: &Arc<ObjectSchema>, semi_join: bool) -> Option<String> {
        let parts = self.tape.below(3);
        let mut conditions = Vec::new();
        for _ in 0..parts {
            let choice = self.tape.below(6);
            let condition = match choice {
                0 if semi_join => self.semi_join(object),
                1 => Some(format!(
                    "({} OR {})",
                    self.comparison(object),
                    self.comparison(object)
                )),
                2 => Some(format!("NOT ({})", self.comparison(object))),
                _ => Some(self.comparison(object)),
            };
            conditions.extend(condition);
        }
        (!conditions.is_empty()).then(|| conditions.join(" AND "))
    }

    /// A comparison that suits the field's type, so validation accepts it.
    fn comparison(&mut self, object: &Arc<ObjectSchema>) -> String {
        let path = self.path(object, 2, true);
        let field_type = self.field_type(object, &path);
        match field_type {
            Some(FieldType::Date) if self.tape.one_in(2) => {
                format!("CALENDAR_YEAR({path}) = {}", 2020 + self.tape.below(6))
            }
            Some(t) if t.is_numeric() && self.tape.one_in(2) => {
                format!("{path} > {}", self.tape.below(800))
            }
            Some(FieldType::String | FieldType::Email | FieldType::Picklist)
                if self.tape.one_in(2) =>
            {
                let letter = ["a", "b", "g", "%"][self.tape.below(4)];
                format!("{path} LIKE '{letter}%'")
            }
            _ if self.tape.one_in(2) => format!("{path} = null"),
            _ => format!("{path} != null"),
        }
    }

    fn field_type(&self, object: &Arc<ObjectSchema>, path: &str) -> Option<FieldType> {
        let mut at = Arc::clone(object);
        let segments: Vec<&str> = path.split('.').collect();
        let (last, relationships) = segments.split_last()?;
        for relationship in relationships {
            let reference = at.parent_relationship(relationship)?;
            if reference.reference_to.len() > 1 {
                // The Name pseudo-object: Name and Email are text, Id an id.
                return Some(if *last == "Id" {
                    FieldType::Id
                } else {
                    FieldType::String
                });
            }
            at = self.lookup(reference.reference_to.first()?)?;
        }
        at.field(last).map(|f| f.field_type.clone())
    }

    /// `Id [NOT] IN (SELECT ref FROM Child)` or `ref [NOT] IN (SELECT Id FROM Parent)`.
    fn semi_join(&mut self, object: &Arc<ObjectSchema>) -> Option<String> {
        let not = if self.tape.one_in(3) { " NOT" } else { "" };
        if self.tape.one_in(2) {
            let mut pointing = Vec::new();
            for name in ROOTS {
                let Some(other) = self.lookup(name) else {
                    continue;
                };
                for field in &other.fields {
                    if field.reference_to.contains(&object.name) {
                        pointing.push((Arc::clone(&other), field.name.clone()));
                    }
                }
            }
            let (other, field) = self.tape.choose(&pointing)?.clone();
            let mut sub = format!("Id{not} IN (SELECT {field} FROM {}", other.name);
            if let Some(condition) = self.where_clause(&other, false) {
                sub.push_str(&format!(" WHERE {condition}"));
            }
            sub.push(')');
            Some(sub)
        } else {
            let references: Vec<&FieldSchema> = object
                .fields
                .iter()
                .filter(|f| f.reference_to.len() == 1)
                .collect();
            let reference = self.tape.choose(&references).copied()?;
            let target = self.lookup(reference.reference_to.first()?)?;
            let mut sub = format!("{}{not} IN (SELECT Id FROM {}", reference.name, target.name);
            if let Some(condition) = self.where_clause(&target, false) {
                sub.push_str(&format!(" WHERE {condition}"));
            }
            sub.push(')');
            Some(sub)
        }
    }
}

/// A random policy over the org: no allow-list (a third of the time) or a random non-empty
/// set of objects, and up to three denied fields, `Object.Field` or bare `Field`.
pub fn random_policy(tape: &mut Tape) -> AccessPolicy {
    let objects = org_objects();
    let allow: Vec<String> = if tape.one_in(3) {
        Vec::new()
    } else {
        let allowed: Vec<String> = objects
            .iter()
            .filter(|_| !tape.one_in(3))
            .map(|o| o.name.clone())
            .collect();
        if allowed.is_empty() {
            vec!["Account".into()]
        } else {
            allowed
        }
    };
    let mut deny = Vec::new();
    for _ in 0..tape.below(4) {
        let Some(object) = tape.choose(&objects) else {
            continue;
        };
        let Some(field) = tape.choose(&object.fields) else {
            continue;
        };
        // Denying Id is legal but refuses nearly everything: keep it rare.
        if field.name == "Id" && !tape.one_in(4) {
            continue;
        }
        if tape.one_in(3) {
            deny.push(field.name.to_ascii_lowercase());
        } else {
            deny.push(format!("{}.{}", object.name, field.name));
        }
    }
    AccessPolicy::new(allow, deny)
}

/// One case: a query, an org with random records, and a policy.
pub fn case() -> impl Strategy<Value = (String, RecordingOrg, AccessPolicy)> {
    (
        proptest::collection::vec(any::<u32>(), 16..96),
        proptest::collection::vec(any::<u32>(), 8..160),
        proptest::collection::vec(any::<u32>(), 4..24),
    )
        .prop_map(|(query, data, policy)| {
            (
                random_query(&mut Tape::new(query)),
                RecordingOrg::random(&mut Tape::new(data)),
                random_policy(&mut Tape::new(policy)),
            )
        })
}

impl std::fmt::Debug for MemOrg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.records.iter().map(|(object, values)| (object, values)))
            .finish()
    }
}

impl std::fmt::Debug for RecordingOrg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.org.fmt(f)
    }
}
