//! Describe metadata, as much of it as SOQL checks, record checks and compact describes need.
//!
//! [`ObjectSchema`] deserializes straight from Salesforce's `GET /sobjects/{O}/describe` body
//! (unknown keys are ignored), so the product's describe cache and the emulator's schema speak
//! the same type. [`Schema`] is how validation looks objects up, wherever they came from.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where validation finds objects: the server's describe cache or the emulator's org.
pub trait Schema {
    /// Looks an object up by API name, case-insensitively.
    fn object(&self, name: &str) -> Lookup;

    /// API names of every object the user can see, for "did you mean" suggestions.
    fn object_names(&self) -> Vec<String>;
}

/// The answer to [`Schema::object`].
#[derive(Debug, Clone)]
pub enum Lookup {
    Found(Arc<ObjectSchema>),
    /// No such object, or the user cannot see it.
    Unknown,
    /// The object exists but its describe is not at hand: the caller fetches it and validates
    /// again. Validation reports this as [`super::validate::ValidateError::NeedsDescribe`].
    NotLoaded,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSchema {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub label_plural: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub queryable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub searchable: bool,
    #[serde(default)]
    pub fields: Vec<FieldSchema>,
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
    #[serde(default)]
    pub record_type_infos: Vec<RecordTypeInfo>,
    /// Lower-cased field name and relationship name to the index in `fields`. Built by
    /// [`ObjectSchema::index`]; empty until then.
    #[serde(skip)]
    field_index: HashMap<String, usize>,
    #[serde(skip)]
    relationship_index: HashMap<String, usize>,
}

impl ObjectSchema {
    /// Builds the case-insensitive lookup tables. Call once after constructing or
    /// deserializing; lookups on an unindexed schema fall back to a linear scan.
    pub fn index(mut self) -> Self {
        self.field_index = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        self.relationship_index = self
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                f.relationship_name
                    .as_ref()
                    .map(|r| (r.to_ascii_lowercase(), i))
            })
            .collect();
        self
    }

    /// A field by API name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        if self.field_index.is_empty() {
            return self
                .fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name));
        }
        self.field_index
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.fields[i])
    }

    /// The reference field whose relationship name is `name` (`Account` on Contact gives
    /// `AccountId`), case-insensitively.
    pub fn parent_relationship(&self, name: &str) -> Option<&FieldSchema> {
        if self.relationship_index.is_empty() {
            return self.fields.iter().find(|f| {
                f.relationship_name
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(name))
            });
        }
        self.relationship_index
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.fields[i])
    }

    /// A child relationship by name (`Contacts` on Account), case-insensitively.
    pub fn child_relationship(&self, name: &str) -> Option<&ChildRelationship> {
        self.child_relationships.iter().find(|c| {
            c.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSchema {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub precision: u32,
    #[serde(default)]
    pub scale: u32,
    /// Most digits an `int` field holds (describe's `digits`; 0 for other types).
    #[serde(default)]
    pub digits: u32,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub calculated: bool,
    #[serde(default)]
    pub auto_number: bool,
    #[serde(default)]
    pub filterable: bool,
    #[serde(default)]
    pub sortable: bool,
    #[serde(default)]
    pub groupable: bool,
    #[serde(default)]
    pub aggregatable: bool,
    #[serde(default)]
    pub name_field: bool,
    #[serde(default)]
    pub external_id: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub restricted_picklist: bool,
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
    /// The field whose value decides which of this dependent picklist's values are valid
    /// (each value's `valid_for`).
    #[serde(default)]
    pub controller_name: Option<String>,
    #[serde(default)]
    pub reference_to: Vec<String>,
    #[serde(default)]
    pub relationship_name: Option<String>,
    #[serde(default)]
    pub polymorphic_foreign_key: bool,
    #[serde(default)]
    pub default_value: Option<serde_json::Value>,
    #[serde(default)]
    pub inline_help_text: Option<String>,
}

impl FieldSchema {
    /// Required on create: not nillable, not defaulted, and something the user sets.
    pub fn required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }
}

/// Salesforce's field types (`type` in describe). Unknown future types keep their name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Email,
    Phone,
    Url,
    Picklist,
    Multipicklist,
    Combobox,
    #[serde(rename = "encryptedstring")]
    EncryptedString,
    Boolean,
    Int,
    Long,
    Double,
    Currency,
    Percent,
    Date,
    Datetime,
    Time,
    Reference,
    Base64,
    Address,
    Location,
    #[serde(rename = "anyType")]
    AnyType,
    #[serde(rename = "complexvalue")]
    ComplexValue,
    #[serde(untagged)]
    Other(String),
}

impl FieldType {
    /// Text-like types: the ones LIKE and string literals apply to.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            FieldType::Id
                | FieldType::String
                | FieldType::Textarea
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Picklist
                | FieldType::Combobox
                | FieldType::EncryptedString
                | FieldType::Reference
        )
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldType::Int
                | FieldType::Long
                | FieldType::Double
                | FieldType::Currency
                | FieldType::Percent
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    pub value: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub default_value: bool,
    /// For a dependent picklist's value: base64 of a bit set over the controlling field's
    /// values (bit i, most significant first, set when the value is valid for the
    /// controller's i-th value; for a checkbox controller, bit 0 is false and bit 1 true).
    #[serde(default)]
    pub valid_for: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    pub child_s_object: String,
    pub field: String,
    #[serde(default)]
    pub relationship_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordTypeInfo {
    pub name: String,
    #[serde(default)]
    pub developer_name: Option<String>,
    pub record_type_id: String,
    #[serde(default)]
    pub active: bool,
    #[serde(default)]
    pub available: bool,
    #[serde(default)]
    pub master: bool,
    #[serde(default)]
    pub default_record_type_mapping: bool,
}

/// A [`Schema`] held in memory: recorded describe bodies, plus the names of objects that exist
/// but whose describe is not loaded (answered [`Lookup::NotLoaded`]). Tests, benchmarks and the
/// CLI's offline check use it; the server's describe cache is the live counterpart.
#[derive(Debug, Clone, Default)]
pub struct StaticSchema {
    /// Lower-cased API name to the indexed describe.
    objects: HashMap<String, Arc<ObjectSchema>>,
    /// Lower-cased API name to API name, for objects known to exist without a describe.
    known: HashMap<String, String>,
}

impl StaticSchema {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a schema from `GET /sobjects/{O}/describe` bodies.
    pub fn from_describes<'a>(
        bodies: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, serde_json::Error> {
        let mut schema = Self::new();
        for body in bodies {
            schema.insert(serde_json::from_str(body)?);
        }
        Ok(schema)
    }

    /// Adds (or replaces) one object's describe, indexing it.
    pub fn insert(&mut self, object: ObjectSchema) {
        let key = object.name.to_ascii_lowercase();
        self.known.remove(&key);
        self.objects.insert(key, Arc::new(object.index()));
    }

    /// Records that an object exists without loading its describe: lookups answer
    /// [`Lookup::NotLoaded`] until [`StaticSchema::insert`] adds it.
    pub fn add_known(&mut self, name: &str) {
        let key = name.to_ascii_lowercase();
        if !self.objects.contains_key(&key) {
            self.known.insert(key, name.to_string());
        }
    }

    /// Records every object named in a global describe (`GET /sobjects`) body as known.
    pub fn add_global_describe(&mut self, body: &str) -> Result<(), serde_json::Error> {
        #[derive(Deserialize)]
        struct Global {
            sobjects: Vec<Named>,
        }
        #[derive(Deserialize)]
        struct Named {
            name: String,
        }
        let global: Global = serde_json::from_str(body)?;
        for object in global.sobjects {
            self.add_known(&object.name);
        }
        Ok(())
    }
}

impl Schema for StaticSchema {
    fn object(&self, name: &str) -> Lookup {
        let key = name.to_ascii_lowercase();
        if let Some(object) = self.objects.get(&key) {
            Lookup::Found(Arc::clone(object))
        } else if self.known.contains_key(&key) {
            Lookup::NotLoaded
        } else {
            Lookup::Unknown
        }
    }

    fn object_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .objects
            .values()
            .map(|o| o.name.clone())
            .chain(self.known.values().cloned())
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> ObjectSchema {
        let text = crate::shared_fixture(&format!("cumulusci/{name}.json"));
        serde_json::from_str::<ObjectSchema>(&text)
            .expect("describe parses")
            .index()
    }

    #[test]
    fn recorded_describes_parse_with_relationships() {
        let contact = fixture("describe-contact");
        let account_id = contact.field("accountid").expect("AccountId");
        assert_eq!(account_id.field_type, FieldType::Reference);
        assert_eq!(account_id.reference_to, vec!["Account".to_string()]);
        assert_eq!(
            contact
                .parent_relationship("ACCOUNT")
                .map(|f| f.name.as_str()),
            Some("AccountId")
        );
        let account = fixture("describe-account");
        let contacts = account.child_relationship("contacts").expect("Contacts");
        assert_eq!(contacts.child_s_object, "Contact");
        assert_eq!(contacts.field, "AccountId");
        assert!(account.field("Name").is_some_and(|f| f.name_field));
    }

    #[test]
    fn static_schema_tells_not_loaded_from_unknown() {
        let contact = crate::shared_fixture("cumulusci/describe-contact.json");
        let mut schema = StaticSchema::from_describes([contact.as_str()]).expect("parses");
        schema.add_known("User");
        schema.add_known("CONTACT"); // already loaded: stays loaded
        assert!(matches!(schema.object("contact"), Lookup::Found(o) if o.name == "Contact"));
        assert!(matches!(schema.object("user"), Lookup::NotLoaded));
        assert!(matches!(schema.object("Xyzzy"), Lookup::Unknown));
        assert_eq!(schema.object_names(), ["Contact", "User"]);
        // Lookups on a schema built this way use the index.
        let Lookup::Found(found) = schema.object("Contact") else {
            panic!("Contact");
        };
        assert_eq!(
            found
                .parent_relationship("account")
                .map(|f| f.name.as_str()),
            Some("AccountId")
        );
    }

    #[test]
    fn unknown_field_types_are_kept() {
        let field: FieldSchema =
            serde_json::from_str(r#"{"name":"X","label":"X","type":"json"}"#).expect("parses");
        assert_eq!(field.field_type, FieldType::Other("json".into()));
    }
}
