//! Query records, decoded for a hot path: every `soql_query` answer decodes hundreds of them.
//!
//! A page's records decode either as [`Record`]s, the lean form the query tools render from,
//! or as JSON (`serde_json::Value`) for code that reads a few fields of each. Both keep the
//! fields in the order Salesforce sent them (the SELECT order) and drop what nobody reads:
//! `attributes` keeps only its `type` (its `url` is a REST path nothing uses).
//!
//! Why a record type of our own: a `Value` record costs an allocated key per field per row,
//! a hashed insert per field, and an `attributes` map per row. A 200-row page spent a third
//! of the server's time per call building and dropping them. A [`Record`] shares its field
//! names across the page (decoded once, counted references after), holds its fields in one
//! vector, and its type as one more shared name.

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserializer, Serialize};
use serde_json::{Map, Number, Value};

/// How a page's records decode: as [`Record`]s or as JSON.
pub trait PageRecord: Sized {
    /// Decodes a page's `records` (`null` is no records).
    fn deserialize_page<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Self>, D::Error>;
}

impl PageRecord for Value {
    fn deserialize_page<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Value>, D::Error> {
        deserialize(deserializer)
    }
}

impl PageRecord for Record {
    fn deserialize_page<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Record>, D::Error> {
        let mut names = Names::default();
        Ok(deserializer
            .deserialize_option(RecordsSeed { names: &mut names })?
            .unwrap_or_default())
    }
}

/// A field name, shared by every record of a page that has it.
pub type FieldName = Arc<str>;

/// A record as a query or search returned it: its object (`attributes.type`) and its fields
/// in the order Salesforce sent them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    object: Option<FieldName>,
    fields: Vec<(FieldName, Field)>,
}

/// A field's value. Parents (`Account.Name` arrives as an `Account` record) and child
/// subqueries (`Contacts`) have their own forms; anything else that is not a scalar (an
/// address, a geolocation, an array) stays JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Null,
    Bool(bool),
    Number(Number),
    Text(Box<str>),
    Parent(Box<Record>),
    Children(Box<Children>),
    Json(Box<Value>),
}

/// A child subquery's rows for one record, as a page: more may follow `next_records_url`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Children {
    pub total_size: u64,
    pub done: bool,
    pub next_records_url: Option<String>,
    pub records: Vec<Record>,
}

impl Record {
    /// The record's object (`Account`), when Salesforce named it.
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The fields, in the order Salesforce sent them.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &Field)> {
        self.fields.iter().map(|(name, value)| (&**name, value))
    }

    pub fn fields_mut(&mut self) -> impl ExactSizeIterator<Item = (&str, &mut Field)> {
        self.fields.iter_mut().map(|(name, value)| (&**name, value))
    }

    /// The `index`th field.
    pub fn field_at(&self, index: usize) -> Option<(&str, &Field)> {
        self.fields.get(index).map(|(name, value)| (&**name, value))
    }

    /// The field spelled exactly `name`. Records are short: a scan beats a hash.
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|(field, _)| &**field == name)
            .map(|(_, value)| value)
    }

    /// The field named `name` in any letter case (Salesforce spells a relationship as the
    /// query did).
    pub fn get_ignore_case(&self, name: &str) -> Option<(&str, &Field)> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(field, value)| (&**field, value))
    }

    /// Keeps the fields for which `keep` says yes.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Field) -> bool) {
        self.fields.retain(|(name, value)| keep(name, value));
    }

    /// A record from JSON (for rows built rather than decoded): `attributes.type` is its
    /// object, and every other member a field. Anything but an object is a record with no
    /// fields.
    pub fn from_json(value: Value) -> Record {
        match value {
            Value::Object(fields) => record_of_map(fields),
            _ => Record::default(),
        }
    }
}

fn record_of_map(fields: Map<String, Value>) -> Record {
    let mut record = Record {
        object: None,
        fields: Vec::with_capacity(fields.len()),
    };
    for (name, value) in fields {
        if name == "attributes" {
            record.object = value
                .get("type")
                .and_then(Value::as_str)
                .map(FieldName::from);
            continue;
        }
        record
            .fields
            .push((FieldName::from(name), Field::from_json(value)));
    }
    record
}

impl Field {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    /// The field as JSON, as Salesforce sent it (less `attributes.url`).
    pub fn to_json(&self) -> Value {
        json_of(self)
    }

    fn from_json(value: Value) -> Field {
        match value {
            Value::Null => Field::Null,
            Value::Bool(b) => Field::Bool(b),
            Value::Number(n) => Field::Number(n),
            Value::String(s) => Field::Text(s.into_boxed_str()),
            Value::Object(map) if map.contains_key("attributes") => {
                Field::Parent(Box::new(record_of_map(map)))
            }
            Value::Object(map)
                if is_child_page(map.iter().map(|(name, value)| (name.as_str(), value))) =>
            {
                let mut children = Children {
                    done: true,
                    ..Children::default()
                };
                for (name, value) in map {
                    match name.as_str() {
                        "totalSize" => children.total_size = value.as_u64().unwrap_or(0),
                        "done" => children.done = value.as_bool().unwrap_or(true),
                        "nextRecordsUrl" => {
                            children.next_records_url = value.as_str().map(str::to_string)
                        }
                        _ => {
                            if let Value::Array(rows) = value {
                                children.records =
                                    rows.into_iter().map(Record::from_json).collect();
                            }
                        }
                    }
                }
                Field::Children(Box::new(children))
            }
            other => Field::Json(Box::new(other)),
        }
    }
}

impl Record {
    /// The record as JSON, `attributes` (with only its `type`) first when it has an object.
    pub fn to_json(&self) -> Value {
        json_of(self)
    }

    /// `nested`: a parent or a child row, which is a record only by its `attributes`, so
    /// they are written even when they name no object.
    fn serialize_with<S: Serializer>(
        &self,
        serializer: S,
        nested: bool,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len() + 1))?;
        if self.object.is_some() || nested {
            map.serialize_entry(
                "attributes",
                &Attributes {
                    kind: self.object.as_deref(),
                },
            )?;
        }
        for (name, value) in &self.fields {
            map.serialize_entry(&**name, value)?;
        }
        map.end()
    }
}

/// A parent or child row, serialised with its `attributes` even when they name no object.
struct Nested<'a>(&'a Record);

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with(serializer, true)
    }
}

impl Children {
    pub fn to_json(&self) -> Value {
        json_of(self)
    }
}

/// JSON as the `Serialize` impls below write it: the one place a record's JSON is shaped.
/// Writing a `Value` cannot fail here (every map key is a string, every number finite).
fn json_of(value: &impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl From<Record> for Value {
    fn from(record: Record) -> Value {
        record.to_json()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_with(serializer, false)
    }
}

#[derive(Serialize)]
struct Attributes<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'a str>,
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Null => serializer.serialize_unit(),
            Field::Bool(b) => serializer.serialize_bool(*b),
            Field::Number(n) => n.serialize(serializer),
            Field::Text(text) => serializer.serialize_str(text),
            Field::Parent(record) => Nested(record).serialize(serializer),
            Field::Children(children) => children.serialize(serializer),
            Field::Json(value) => value.serialize(serializer),
        }
    }
}

impl Serialize for Children {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("totalSize", &self.total_size)?;
        map.serialize_entry("done", &self.done)?;
        if let Some(url) = &self.next_records_url {
            map.serialize_entry("nextRecordsUrl", url)?;
        }
        let rows: Vec<Nested<'_>> = self.records.iter().map(Nested).collect();
        map.serialize_entry("records", &rows)?;
        map.end()
    }
}

/// Whether an object's members are those of a child subquery's page, each of its type: then
/// nothing in it is lost when it is held as [`Children`].
fn is_child_page<'a, V: PageMember + 'a>(members: impl Iterator<Item = (&'a str, &'a V)>) -> bool {
    let mut has_records = false;
    let mut all_fit = true;
    for (name, value) in members {
        all_fit &= match name {
            "totalSize" => value.is_count(),
            "done" => value.is_flag(),
            "nextRecordsUrl" => value.is_text(),
            "records" => {
                has_records = true;
                value.is_rows()
            }
            _ => false,
        };
    }
    all_fit && has_records
}

/// A member of what may be a child page, decoded ([`Field`]) or JSON.
trait PageMember {
    fn is_count(&self) -> bool;
    fn is_flag(&self) -> bool;
    fn is_text(&self) -> bool;
    fn is_rows(&self) -> bool;
}

impl PageMember for Field {
    fn is_count(&self) -> bool {
        matches!(self, Field::Number(n) if n.is_u64())
    }
    fn is_flag(&self) -> bool {
        matches!(self, Field::Bool(_))
    }
    fn is_text(&self) -> bool {
        matches!(self, Field::Text(_))
    }
    fn is_rows(&self) -> bool {
        matches!(self, Field::Children(_))
    }
}

impl PageMember for Value {
    fn is_count(&self) -> bool {
        self.is_u64()
    }
    fn is_flag(&self) -> bool {
        self.is_boolean()
    }
    fn is_text(&self) -> bool {
        self.is_string()
    }
    /// Rows that are records, as the decoder takes them: objects with `attributes`.
    fn is_rows(&self) -> bool {
        self.as_array().is_some_and(|rows| {
            rows.iter().all(|row| {
                row.as_object()
                    .is_some_and(|r| r.contains_key("attributes"))
            })
        })
    }
}

/// The field names of one page, each decoded once. Rows share a shape, so the name after
/// the last one found is almost always the next asked for. Object names are kept apart:
/// they would break that sequence at every record.
#[derive(Default)]
struct Names {
    known: Vec<FieldName>,
    next: usize,
    objects: Vec<FieldName>,
}

impl Names {
    fn object(&mut self, name: &str) -> FieldName {
        match self.objects.iter().find(|known| &***known == name) {
            Some(known) => known.clone(),
            None => {
                let object = FieldName::from(name);
                self.objects.push(object.clone());
                object
            }
        }
    }

    /// The name's place among the page's names, and the name.
    fn get(&mut self, name: &str) -> (usize, FieldName) {
        let at = match self.known.get(self.next) {
            Some(guess) if &**guess == name => self.next,
            _ => match self.known.iter().position(|known| &**known == name) {
                Some(at) => at,
                None => {
                    self.known.push(FieldName::from(name));
                    self.known.len() - 1
                }
            },
        };
        self.next = at + 1;
        (at, self.known[at].clone())
    }
}

/// A member's name: `attributes`, or a field name interned in [`Names`].
enum Member {
    Attributes,
    Field(usize, FieldName),
}

struct NameSeed<'a> {
    names: &'a mut Names,
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_> {
    type Value = Member;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Member, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_> {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Member, E> {
        Ok(if name == "attributes" {
            Member::Attributes
        } else {
            let (at, name) = self.names.get(name);
            Member::Field(at, name)
        })
    }
}

/// A page's `records`: an array of records, or null.
struct RecordsSeed<'a> {
    names: &'a mut Names,
}

impl<'de> Visitor<'de> for RecordsSeed<'_> {
    type Value = Option<Vec<Record>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut records = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut width = 0;
        loop {
            let seed = RecordSeed {
                names: &mut *self.names,
                width,
            };
            let Some(record) = seq.next_element_seed(seed)? else {
                break;
            };
            width = record.fields.len();
            records.push(record);
        }
        Ok(Some(records))
    }
}

/// One record (an object); `width`: the fields to make room for.
struct RecordSeed<'a> {
    names: &'a mut Names,
    width: usize,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Record, D::Error> {
        match deserializer.deserialize_map(ObjectSeed {
            names: self.names,
            width: self.width,
        })? {
            Field::Parent(record) => Ok(*record),
            // Salesforce's records have `attributes`; an object without is a record still.
            other => Ok(Record::from_json(other.to_json())),
        }
    }
}

/// Any JSON object inside a record, decided by its members: a record (it has
/// `attributes`), a child subquery's page, or other JSON. Every field decodes as a
/// [`Field`] first: the members say only at the end what the object was.
struct ObjectSeed<'a> {
    names: &'a mut Names,
    width: usize,
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        let mut object = None;
        let mut has_attributes = false;
        let mut fields: Vec<(FieldName, Field)> = Vec::with_capacity(self.width);
        // The latest place among the page's names of a field pushed: a name past it is new to
        // this object, as every name is when rows keep the first row's order.
        let mut latest: Option<usize> = None;
        while let Some(member) = map.next_key_seed(NameSeed {
            names: &mut *self.names,
        })? {
            let (at, name) = match member {
                Member::Attributes => {
                    has_attributes = true;
                    object = map.next_value_seed(TypeSeed {
                        names: &mut *self.names,
                    })?;
                    continue;
                }
                Member::Field(at, name) => (at, name),
            };
            let rows = &*name == "records";
            let value = map.next_value_seed(FieldSeed {
                names: &mut *self.names,
                rows,
            })?;
            match latest {
                // A name met before in this object: JSON keeps the last value, in the first
                // place (as serde_json's maps do), so a record and the JSON agree.
                Some(newest) if at <= newest => {
                    match fields
                        .iter_mut()
                        .find(|(known, _)| Arc::ptr_eq(known, &name))
                    {
                        Some(slot) => slot.1 = value,
                        None => fields.push((name, value)),
                    }
                }
                _ => {
                    latest = Some(at);
                    fields.push((name, value));
                }
            }
        }
        if has_attributes {
            return Ok(Field::Parent(Box::new(Record { object, fields })));
        }
        if is_child_page(fields.iter().map(|(name, value)| (&**name, value))) {
            let mut children = Children {
                done: true,
                ..Children::default()
            };
            for (name, value) in fields {
                match (&*name, value) {
                    ("totalSize", Field::Number(n)) => {
                        children.total_size = n.as_u64().unwrap_or(0)
                    }
                    ("done", Field::Bool(done)) => children.done = done,
                    ("nextRecordsUrl", Field::Text(url)) => {
                        children.next_records_url = Some(url.into())
                    }
                    ("records", Field::Children(rows)) => children.records = rows.records,
                    _ => {}
                }
            }
            return Ok(Field::Children(Box::new(children)));
        }
        let mut json = Map::with_capacity(fields.len());
        for (name, value) in fields {
            let value = match value {
                // Rows under `records` in an object that is no child page: a plain array.
                Field::Children(rows) => {
                    Value::Array(rows.records.iter().map(|r| json_of(&Nested(r))).collect())
                }
                other => other.to_json(),
            };
            json.insert(name.to_string(), value);
        }
        Ok(Field::Json(Box::new(Value::Object(json))))
    }
}

/// `attributes`: its `type`, shared as a name (a page's rows share it too).
struct TypeSeed<'a> {
    names: &'a mut Names,
}

impl<'de> DeserializeSeed<'de> for TypeSeed<'_> {
    type Value = Option<FieldName>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypeSeed<'_> {
    type Value = Option<FieldName>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record's attributes")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = None;
        while let Some(key) = map.next_key_seed(IsType)? {
            if key {
                object = map.next_value_seed(ObjectName {
                    names: &mut *self.names,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(object)
    }
}

/// Whether a member of `attributes` is `type`, read without copying it.
struct IsType;

impl<'de> DeserializeSeed<'de> for IsType {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsType {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member of attributes")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == "type")
    }
}

/// `attributes.type`, read without copying it unless it is new to the page.
struct ObjectName<'a> {
    names: &'a mut Names,
}

impl<'de> DeserializeSeed<'de> for ObjectName<'_> {
    type Value = Option<FieldName>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ObjectName<'_> {
    type Value = Option<FieldName>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object name")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Some(self.names.object(name)))
    }
}

/// One field's value; `rows`: it is the `records` member of what may be a child page.
struct FieldSeed<'a> {
    names: &'a mut Names,
    rows: bool,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Field, E> {
        Ok(Field::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Field, E> {
        Ok(Field::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Field, E> {
        Ok(Field::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Field, E> {
        Ok(Number::from_f64(v).map_or(Field::Null, Field::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Field, E> {
        Ok(Field::Text(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Field, E> {
        Ok(Field::Text(v.into_boxed_str()))
    }

    fn visit_unit<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_none<E>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        // The `records` of a child subquery's page are records; any other array is JSON.
        let mut items = Vec::new();
        loop {
            let seed = FieldSeed {
                names: &mut *self.names,
                rows: false,
            };
            let Some(item) = seq.next_element_seed(seed)? else {
                break;
            };
            items.push(item);
        }
        if self.rows && items.iter().all(|item| matches!(item, Field::Parent(_))) {
            let records = items
                .into_iter()
                .filter_map(|item| match item {
                    Field::Parent(record) => Some(*record),
                    _ => None,
                })
                .collect();
            return Ok(Field::Children(Box::new(Children {
                records,
                ..Children::default()
            })));
        }
        Ok(Field::Json(Box::new(Value::Array(
            items.iter().map(Field::to_json).collect(),
        ))))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
        ObjectSeed {
            names: self.names,
            width: 0,
        }
        .visit_map(map)
    }
}

/// A page's `records` as JSON, for [`PageRecord`] on `Value`.
fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Value>, D::Error> {
    match Json::any(0).deserialize(deserializer)? {
        Value::Array(records) => Ok(records),
        Value::Null => Ok(Vec::new()),
        other => Err(serde::de::Error::invalid_type(
            unexpected(&other),
            &"an array of records",
        )),
    }
}

fn unexpected(value: &Value) -> serde::de::Unexpected<'_> {
    use serde::de::Unexpected;
    match value {
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::String(s) => Unexpected::Str(s),
        Value::Object(_) => Unexpected::Map,
        _ => Unexpected::Other("a number"),
    }
}

/// One JSON value. `width`: the fields to make room for if it is an object; `attributes`:
/// it is a record's `attributes`, of which only `type` is kept.
#[derive(Clone, Copy)]
struct Json {
    width: usize,
    attributes: bool,
}

impl Json {
    fn any(width: usize) -> Json {
        Json {
            width,
            attributes: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Json {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Json {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Json::any(self.width).deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut width = 0;
        while let Some(item) = seq.next_element_seed(Json::any(width))? {
            if let Value::Object(fields) = &item {
                width = fields.len();
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::with_capacity(self.width);
        while let Some(key) = map.next_key::<String>()? {
            if self.attributes && key != "type" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let seed = Json {
                width: 0,
                attributes: !self.attributes && key == "attributes",
            };
            let value = map.next_value_seed(seed)?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(deserialize_with = "super::deserialize")]
        records: Vec<serde_json::Value>,
    }

    fn decode(body: &serde_json::Value) -> Vec<serde_json::Value> {
        let text = body.to_string();
        serde_json::from_str::<Page>(&text)
            .expect("records decode")
            .records
    }

    #[test]
    fn records_keep_every_field_in_order_and_only_the_type_of_attributes() {
        let body = json!({"records": [
            {"attributes": {"type": "Contact", "url": "/services/data/v62.0/sobjects/Contact/x"},
             "Id": "003x", "Name": "Ann \"A\" Lee", "Amount": 12.5, "Count": -3, "Big": 18446744073709551615u64,
             "Active": true, "Nothing": null, "Tags": ["a", 1, null],
             "Address": {"city": "Paris", "url": "kept: not an attributes object"},
             "Account": {"attributes": {"type": "Account", "url": "/a"}, "Name": "Acme",
                         "Owner": {"attributes": {"url": "/u", "type": "User"}, "Alias": "jdoe"}},
             "Cases": {"totalSize": 1, "done": true, "records": [
                 {"attributes": {"type": "Case", "url": "/c"}, "Subject": "Broken"}]}},
            {"attributes": {"type": "Contact", "url": "/y"}, "Id": "003y", "Name": "Bo",
             "Amount": null, "Account": null, "Cases": null}
        ]});
        let records = decode(&body);
        let mut expected = body["records"].as_array().cloned().unwrap_or_default();
        fn drop_urls(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::Object(fields) => {
                    if let Some(serde_json::Value::Object(attributes)) =
                        fields.get_mut("attributes")
                    {
                        attributes.shift_remove("url");
                    }
                    fields.values_mut().for_each(drop_urls);
                }
                serde_json::Value::Array(items) => items.iter_mut().for_each(drop_urls),
                _ => {}
            }
        }
        expected.iter_mut().for_each(drop_urls);
        assert_eq!(records, expected);
        let keys: Vec<&String> = records[0]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let expected_keys: Vec<&String> = expected[0]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys, expected_keys, "field order is the SELECT order");
        assert_eq!(
            records[0]["Address"]["url"],
            json!("kept: not an attributes object")
        );
        assert_eq!(
            records[0]["Account"]["Owner"]["attributes"],
            json!({"type": "User"})
        );
    }

    #[derive(serde::Deserialize)]
    struct RecordPage {
        #[serde(deserialize_with = "<super::Record as super::PageRecord>::deserialize_page")]
        records: Vec<super::Record>,
    }

    fn decode_records(body: &serde_json::Value) -> Vec<super::Record> {
        serde_json::from_str::<RecordPage>(&body.to_string())
            .expect("records decode")
            .records
    }

    /// Every shape a query answer takes, decoded as records and written back as JSON, is
    /// the JSON Salesforce sent less `attributes.url`: nothing is lost or reordered.
    #[test]
    fn records_hold_what_the_json_held_in_its_order() {
        let body = json!({"records": [
            {"attributes": {"type": "Contact", "url": "/services/data/v62.0/sobjects/Contact/x"},
             "Id": "003x", "Name": "Ann \"A\" Lee\u{2028}", "Amount": 12.5, "Count": -3,
             "Big": 18446744073709551615u64, "Active": true, "Nothing": null, "Tags": ["a", 1, null],
             "Address": {"city": "Paris", "url": "kept: not an attributes object"},
             "Account": {"attributes": {"type": "Account", "url": "/a"}, "Name": "Acme",
                         "Owner": {"attributes": {"url": "/u", "type": "User"}, "Alias": "jdoe"},
                         "Reviewer": {"attributes": {"url": "/u"}, "Alias": "kim"}},
             "Cases": {"totalSize": 3, "done": false, "nextRecordsUrl": "/services/data/v62.0/query/01g-2",
                       "records": [{"attributes": {"type": "Case", "url": "/c"}, "Subject": "Broken"}]},
             "Empty": {"totalSize": 0, "done": true, "records": []},
             "NotAPage": {"records": [{"attributes": {"type": "Case"}, "Id": "500x"}], "other": 1},
             "RowsNotRecords": {"totalSize": 1, "done": true, "records": [1]},
             "RowsWithoutAttributes": {"totalSize": 1, "done": true, "records": [{"Id": "x"}]},
             "DoneNotAFlag": {"totalSize": 0, "done": "yes", "records": []}},
            {"attributes": {"type": "Contact", "url": "/y"}, "Name": "Bo", "Id": "003y",
             "Amount": null, "Account": null, "Cases": null}
        ]});
        let records = decode_records(&body);
        let as_json: Vec<serde_json::Value> = records.iter().map(super::Record::to_json).collect();
        assert_eq!(as_json, decode(&body), "the same JSON as the JSON decoder");
        let serialized: Vec<serde_json::Value> = records
            .iter()
            .map(|r| serde_json::to_value(r).expect("serializes"))
            .collect();
        assert_eq!(serialized, as_json, "Serialize writes what to_json builds");
        let again: Vec<super::Record> = as_json.into_iter().map(super::Record::from_json).collect();
        assert_eq!(again, records, "from_json reads back what to_json wrote");

        let first = &records[0];
        assert_eq!(first.object(), Some("Contact"));
        let names: Vec<&str> = first.fields().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            [
                "Id",
                "Name",
                "Amount",
                "Count",
                "Big",
                "Active",
                "Nothing",
                "Tags",
                "Address",
                "Account",
                "Cases",
                "Empty",
                "NotAPage",
                "RowsNotRecords",
                "RowsWithoutAttributes",
                "DoneNotAFlag"
            ]
        );
        let Some(super::Field::Parent(account)) = first.get("Account") else {
            panic!("Account is a parent record: {:?}", first.get("Account"));
        };
        assert_eq!(account.object(), Some("Account"));
        let Some(super::Field::Children(cases)) = first.get("Cases") else {
            panic!("Cases is a child page");
        };
        assert_eq!((cases.total_size, cases.done), (3, false));
        assert_eq!(
            cases.next_records_url.as_deref(),
            Some("/services/data/v62.0/query/01g-2")
        );
        assert_eq!(
            cases.records[0]
                .get("Subject")
                .and_then(super::Field::as_str),
            Some("Broken")
        );
        assert!(
            matches!(first.get("Empty"), Some(super::Field::Children(c)) if c.records.is_empty())
        );
        assert!(matches!(first.get("NotAPage"), Some(super::Field::Json(_))));
        assert!(matches!(
            first.get("RowsNotRecords"),
            Some(super::Field::Json(_))
        ));
        assert!(matches!(
            first.get("RowsWithoutAttributes"),
            Some(super::Field::Json(_))
        ));
        assert!(matches!(
            first.get("DoneNotAFlag"),
            Some(super::Field::Json(_))
        ));
        assert!(matches!(first.get("Address"), Some(super::Field::Json(_))));
        assert_eq!(
            first.get_ignore_case("cases").map(|(name, _)| name),
            Some("Cases")
        );
        // The second row's fields came in another order: each keeps its own.
        let second: Vec<&str> = records[1].fields().map(|(name, _)| name).collect();
        assert_eq!(second, ["Name", "Id", "Amount", "Account", "Cases"]);
        assert!(records[1].get("Account").is_some_and(super::Field::is_null));
    }

    #[test]
    fn record_pages_without_records_and_wrong_shapes() {
        assert!(decode_records(&json!({"records": []})).is_empty());
        assert!(decode_records(&json!({"records": null})).is_empty());
        assert!(serde_json::from_str::<RecordPage>(r#"{"records": {"a": 1}}"#).is_err());
        assert!(serde_json::from_str::<RecordPage>(r#"{"records": ["x"]}"#).is_err());
        assert!(serde_json::from_str::<RecordPage>(r#"{"records": [{"a": }]}"#).is_err());
        // A name repeated in one object: the last value in the first place, as JSON decodes.
        let text = r#"{"records": [{"attributes": {"type": "A"}, "Id": "1", "Name": "x", "Id": "2",
            "P": {"attributes": {"type": "B"}, "Name": "y", "Name": "z"}}]}"#;
        let repeated = serde_json::from_str::<RecordPage>(text)
            .expect("decodes")
            .records;
        let as_json = serde_json::from_str::<Page>(text).expect("decodes").records;
        assert_eq!(repeated[0].to_json(), as_json[0]);
        let names: Vec<&str> = repeated[0].fields().map(|(name, _)| name).collect();
        assert_eq!(names, ["Id", "Name", "P"]);
        assert_eq!(
            repeated[0].get("Id").and_then(super::Field::as_str),
            Some("2")
        );
        // A record without attributes (not Salesforce's, but JSON) is a record of no object.
        let bare = decode_records(&json!({"records": [{"Id": "001x"}]}));
        assert_eq!(bare[0].object(), None);
        assert_eq!(
            bare[0].get("Id").and_then(super::Field::as_str),
            Some("001x")
        );
    }

    #[test]
    fn a_page_without_records_and_wrong_shapes() {
        assert!(decode(&json!({"records": []})).is_empty());
        assert!(decode(&json!({"records": null})).is_empty());
        assert!(serde_json::from_str::<Page>(r#"{"records": {"a": 1}}"#).is_err());
        assert!(serde_json::from_str::<Page>(r#"{"records": "x"}"#).is_err());
        assert!(serde_json::from_str::<Page>(r#"{"records": [{"a": }]}"#).is_err());
    }
}
