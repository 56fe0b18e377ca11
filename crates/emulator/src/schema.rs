//! The org's metadata: a compact declarative definition per object ([`ObjectDef`]), rendered
//! into describe JSON with exactly the key set of recorded describes (Salesforce-like defaults
//! for what is not modelled) and, from that JSON, into [`sfmcp_soql::schema::ObjectSchema`] so
//! validation, evaluation and describe can never disagree.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value as Json, json};

use sfmcp_soql::data::Value;
use sfmcp_soql::schema::{FieldType, Lookup, ObjectSchema, Schema};

/// Org-wide default sharing of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum Sharing {
    /// Only the owner, users above the owner in the role hierarchy, and "View All Data".
    Private,
    /// Everyone reads; only the owner and those above (or "Modify All Data") edit.
    Read,
    /// Everyone reads and edits.
    ReadWrite,
}

/// One field, as compact as the builder functions below make it.
#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub field_type: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted: bool,
    pub restricted: bool,
    pub picklist: Vec<String>,
    pub default_picklist: Option<String>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub name_field: bool,
    pub unique: bool,
    pub external_id: bool,
    pub custom: bool,
    pub auto_number: bool,
    pub calculated: bool,
    pub id_lookup: bool,
    pub compound_field_name: Option<String>,
    pub default_value: Option<Json>,
    /// A dependent picklist's controlling field, and each value's `validFor` (base64).
    pub controller: Option<String>,
    pub valid_for: HashMap<String, String>,
}

impl FieldDef {
    fn new(name: &str, field_type: FieldType) -> Self {
        Self {
            name: name.to_string(),
            label: label_from_name(name),
            field_type,
            length: 0,
            precision: 0,
            scale: 0,
            nillable: true,
            createable: true,
            updateable: true,
            defaulted: false,
            restricted: false,
            picklist: Vec::new(),
            default_picklist: None,
            reference_to: Vec::new(),
            relationship_name: None,
            name_field: false,
            unique: false,
            external_id: false,
            custom: name.ends_with("__c"),
            auto_number: false,
            calculated: false,
            id_lookup: false,
            compound_field_name: None,
            default_value: None,
            controller: None,
            valid_for: HashMap::new(),
        }
    }

    pub fn label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }
    /// Not nillable and not defaulted: required on create.
    pub fn required(mut self) -> Self {
        self.nillable = false;
        self
    }
    /// Not nillable but filled in by the platform when absent.
    pub fn defaulted(mut self) -> Self {
        self.nillable = false;
        self.defaulted = true;
        self
    }
    /// Set by the platform only.
    pub fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }
    /// Set on create, never after.
    pub fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }
    pub fn name_field(mut self) -> Self {
        self.name_field = true;
        self
    }
    pub fn restricted(mut self) -> Self {
        self.restricted = true;
        self
    }
    pub fn default_picklist(mut self, value: &str) -> Self {
        self.default_picklist = Some(value.to_string());
        self.defaulted = true;
        self
    }
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub fn external_id(mut self) -> Self {
        self.external_id = true;
        self.id_lookup = true;
        self
    }
    pub fn id_lookup(mut self) -> Self {
        self.id_lookup = true;
        self
    }
    /// A lookup that cannot be traversed in SOQL (describe gives no relationship name).
    pub fn without_relationship(mut self) -> Self {
        self.relationship_name = None;
        self
    }
    pub fn compound(mut self, name: &str) -> Self {
        self.compound_field_name = Some(name.to_string());
        self
    }
    pub fn default_value(mut self, value: Json) -> Self {
        self.default_value = Some(value);
        self.defaulted = true;
        self
    }

    /// Long text areas and compound fields cannot be filtered, sorted or grouped.
    fn is_long_or_compound(&self) -> bool {
        matches!(self.field_type, FieldType::Address | FieldType::Location)
            || (self.field_type == FieldType::Textarea && self.length > 255)
    }

    fn soap_type(&self) -> &'static str {
        match self.field_type {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Int => "xsd:int",
            FieldType::Long => "xsd:long",
            FieldType::Double | FieldType::Currency | FieldType::Percent => "xsd:double",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            FieldType::Time => "xsd:time",
            FieldType::Base64 => "xsd:base64Binary",
            FieldType::Address => "urn:address",
            FieldType::Location => "urn:location",
            FieldType::AnyType => "xsd:anyType",
            _ => "xsd:string",
        }
    }

    fn byte_length(&self) -> u32 {
        match self.field_type {
            FieldType::Id | FieldType::Reference => 18,
            _ if self.field_type.is_text() || self.field_type == FieldType::Multipicklist => {
                self.length * 3
            }
            _ => 0,
        }
    }

    /// The describe entry, every key Salesforce sends present.
    fn describe(&self) -> Json {
        let long = self.is_long_or_compound();
        let groupable = !long
            && !matches!(
                self.field_type,
                FieldType::Double
                    | FieldType::Currency
                    | FieldType::Percent
                    | FieldType::Datetime
                    | FieldType::Multipicklist
                    | FieldType::Base64
            );
        let aggregatable = !long
            && !matches!(
                self.field_type,
                FieldType::Boolean | FieldType::Multipicklist | FieldType::Base64
            );
        let picklist: Vec<Json> = self
            .picklist
            .iter()
            .map(|value| {
                json!({
                    "active": true,
                    "defaultValue": self.default_picklist.as_deref() == Some(value.as_str()),
                    "label": value,
                    "validFor": self.valid_for.get(value),
                    "value": value,
                })
            })
            .collect();
        let digits = if self.field_type == FieldType::Int {
            crate::write::INT_DIGITS
        } else {
            0
        };
        let is_picklist = matches!(
            self.field_type,
            FieldType::Picklist | FieldType::Multipicklist | FieldType::Combobox
        );
        let entries: [(&str, Json); 57] = [
            ("aggregatable", json!(aggregatable)),
            ("aiPredictionField", json!(false)),
            ("autoNumber", json!(self.auto_number)),
            ("byteLength", json!(self.byte_length())),
            ("calculated", json!(self.calculated)),
            ("calculatedFormula", json!(null)),
            ("cascadeDelete", json!(false)),
            ("caseSensitive", json!(false)),
            ("compoundFieldName", json!(self.compound_field_name)),
            ("controllerName", json!(self.controller)),
            ("createable", json!(self.createable)),
            ("custom", json!(self.custom)),
            ("defaultValue", json!(self.default_value)),
            ("defaultValueFormula", json!(null)),
            ("defaultedOnCreate", json!(self.defaulted)),
            ("dependentPicklist", json!(self.controller.is_some())),
            ("deprecatedAndHidden", json!(false)),
            ("digits", json!(digits)),
            ("displayLocationInDecimal", json!(false)),
            ("encrypted", json!(false)),
            ("externalId", json!(self.external_id)),
            ("extraTypeInfo", json!(null)),
            ("filterable", json!(!long)),
            ("filteredLookupInfo", json!(null)),
            ("formulaTreatNullNumberAsZero", json!(false)),
            ("groupable", json!(groupable)),
            ("highScaleNumber", json!(false)),
            ("htmlFormatted", json!(false)),
            (
                "idLookup",
                json!(self.id_lookup || self.field_type == FieldType::Id),
            ),
            ("inlineHelpText", json!(null)),
            ("label", json!(self.label)),
            ("length", json!(self.length)),
            ("mask", json!(null)),
            ("maskType", json!(null)),
            ("name", json!(self.name)),
            ("nameField", json!(self.name_field)),
            ("namePointing", json!(self.reference_to.len() > 1)),
            ("nillable", json!(self.nillable)),
            (
                "permissionable",
                json!(self.nillable && (self.createable || self.updateable)),
            ),
            ("picklistValues", json!(picklist)),
            ("polymorphicForeignKey", json!(self.reference_to.len() > 1)),
            ("precision", json!(self.precision)),
            ("queryByDistance", json!(false)),
            ("referenceTargetField", json!(null)),
            ("referenceTo", json!(self.reference_to)),
            ("relationshipName", json!(self.relationship_name)),
            ("relationshipOrder", json!(null)),
            ("restrictedDelete", json!(false)),
            ("restrictedPicklist", json!(self.restricted && is_picklist)),
            ("scale", json!(self.scale)),
            ("searchPrefilterable", json!(false)),
            ("soapType", json!(self.soap_type())),
            (
                "sortable",
                json!(!long && self.field_type != FieldType::Multipicklist),
            ),
            ("type", json!(self.field_type)),
            ("unique", json!(self.unique)),
            ("updateable", json!(self.updateable)),
            ("writeRequiresMasterRead", json!(false)),
        ];
        Json::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// The typed default a create fills in when the field is absent.
    pub fn default_on_create(&self) -> Option<Value> {
        if let Some(value) = &self.default_picklist {
            return Some(Value::String(value.clone()));
        }
        match &self.default_value {
            Some(Json::Bool(b)) => Some(Value::Boolean(*b)),
            Some(Json::String(s)) => Some(Value::String(s.clone())),
            Some(Json::Number(n)) => Some(
                n.as_i64()
                    .map(Value::Integer)
                    .unwrap_or_else(|| Value::Double(n.as_f64().unwrap_or(0.0))),
            ),
            _ if self.field_type == FieldType::Boolean => Some(Value::Boolean(false)),
            _ => None,
        }
    }
}

/// "BillingCity" → "Billing City", "ParentId" → "Parent ID", "Foo_Bar__c" → "Foo Bar".
fn label_from_name(name: &str) -> String {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let mut out = String::with_capacity(base.len() + 4);
    let chars: Vec<char> = base.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            if !out.ends_with(' ') {
                out.push(' ');
            }
            continue;
        }
        let boundary = i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase()
                || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())
                    && chars[i - 1].is_ascii_uppercase());
        if boundary && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push(c);
    }
    if let Some(stem) = out.strip_suffix(" Id") {
        return format!("{stem} ID");
    }
    out
}

// Field builders, one per Salesforce type family.

pub fn id_field() -> FieldDef {
    let mut f = FieldDef::new("Id", FieldType::Id).read_only();
    f.nillable = false;
    f.defaulted = true;
    f.length = 18;
    f
}
pub fn text(name: &str, length: u32) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::String);
    f.length = length;
    f
}
pub fn textarea(name: &str, length: u32) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Textarea);
    f.length = length;
    f
}
pub fn email(name: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Email);
    f.length = 80;
    f
}
pub fn phone(name: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Phone);
    f.length = 40;
    f
}
pub fn url(name: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Url);
    f.length = 255;
    f
}
pub fn picklist(name: &str, values: &[&str]) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Picklist);
    f.length = 255;
    f.picklist = values.iter().map(|v| v.to_string()).collect();
    f
}
pub fn multipicklist(name: &str, values: &[&str]) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Multipicklist);
    f.length = 4099;
    f.picklist = values.iter().map(|v| v.to_string()).collect();
    f
}
pub fn boolean(name: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Boolean);
    f.nillable = false;
    f.defaulted = true;
    f.default_value = Some(Json::Bool(false));
    f
}
pub fn int(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Int)
}
pub fn double(name: &str, precision: u32, scale: u32) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Double);
    f.precision = precision;
    f.scale = scale;
    f
}
pub fn currency(name: &str, precision: u32, scale: u32) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Currency);
    f.precision = precision;
    f.scale = scale;
    f
}
pub fn percent(name: &str, precision: u32, scale: u32) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Percent);
    f.precision = precision;
    f.scale = scale;
    f
}
pub fn date(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Date)
}
pub fn datetime(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Datetime)
}
/// A value of any type (field history's `OldValue` and `NewValue`).
pub fn any_type(name: &str) -> FieldDef {
    let mut field = FieldDef::new(name, FieldType::AnyType).read_only();
    field.length = 255;
    field
}
pub fn address(name: &str) -> FieldDef {
    FieldDef::new(name, FieldType::Address).read_only()
}
/// A lookup. Several targets make it polymorphic (`WhatId`).
pub fn reference(name: &str, to: &[&str], relationship: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Reference);
    f.length = 18;
    f.reference_to = to.iter().map(|t| t.to_string()).collect();
    f.relationship_name = Some(relationship.to_string());
    f
}

/// The address components a compound address field is made of, in Salesforce's order.
pub const ADDRESS_PARTS: [(&str, &str); 8] = [
    ("city", "City"),
    ("country", "Country"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("postalCode", "PostalCode"),
    ("state", "State"),
    ("street", "Street"),
];

/// Street, city, ..., and the compound `{prefix}Address` of a postal address.
pub fn address_fields(prefix: &str) -> Vec<FieldDef> {
    let compound = format!("{prefix}Address");
    vec![
        textarea(&format!("{prefix}Street"), 255).compound(&compound),
        text(&format!("{prefix}City"), 40).compound(&compound),
        text(&format!("{prefix}State"), 80).compound(&compound),
        text(&format!("{prefix}PostalCode"), 20).compound(&compound),
        text(&format!("{prefix}Country"), 80).compound(&compound),
        double(&format!("{prefix}Latitude"), 18, 15).compound(&compound),
        double(&format!("{prefix}Longitude"), 18, 15).compound(&compound),
        picklist(
            &format!("{prefix}GeocodeAccuracy"),
            &[
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "Neighborhood",
                "City",
                "County",
                "State",
                "Unknown",
            ],
        )
        .restricted()
        .compound(&compound),
        address(&compound),
    ]
}

/// One object. Build with [`ObjectDef::new`], add fields, then [`ObjectDef::finish`].
#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub custom: bool,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    pub sharing: Sharing,
    pub fields: Vec<FieldDef>,
    /// Lookup by exact API name, then by lower-cased name. Fx hashing: these are read for
    /// every cell of every row a query returns, and the keys are our own field names.
    exact: FxHashMap<String, usize>,
    folded: FxHashMap<String, usize>,
    pub owner_field: Option<usize>,
}

impl ObjectDef {
    pub fn new(name: &str, key_prefix: &str, label: &str, label_plural: &str) -> Self {
        Self {
            name: name.to_string(),
            label: label.to_string(),
            label_plural: label_plural.to_string(),
            key_prefix: key_prefix.to_string(),
            custom: name.ends_with("__c"),
            createable: true,
            updateable: true,
            deletable: true,
            sharing: Sharing::ReadWrite,
            fields: vec![id_field(), boolean("IsDeleted").read_only()],
            exact: FxHashMap::default(),
            folded: FxHashMap::default(),
            owner_field: None,
        }
    }

    /// An object only the platform writes (audit trails, login history).
    pub fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.deletable = false;
        self
    }

    pub fn sharing(mut self, sharing: Sharing) -> Self {
        self.sharing = sharing;
        self
    }

    pub fn fields(mut self, fields: impl IntoIterator<Item = FieldDef>) -> Self {
        self.fields.extend(fields);
        self
    }

    /// Adds `OwnerId` (when `owned`) and the audit fields every object has, then indexes.
    pub fn finish(mut self, owned: bool) -> Self {
        if owned {
            self.fields.push(
                reference("OwnerId", &["User"], "Owner")
                    .defaulted()
                    .label("Owner ID"),
            );
        }
        self.fields.extend([
            datetime("CreatedDate").read_only().defaulted(),
            reference("CreatedById", &["User"], "CreatedBy")
                .read_only()
                .defaulted()
                .label("Created By ID"),
            datetime("LastModifiedDate").read_only().defaulted(),
            reference("LastModifiedById", &["User"], "LastModifiedBy")
                .read_only()
                .defaulted()
                .label("Last Modified By ID"),
            datetime("SystemModstamp")
                .read_only()
                .defaulted()
                .label("System Modstamp"),
        ]);
        self.index()
    }

    /// Business objects have record types (at least Master); setup and junction objects none.
    pub fn supports_record_types(&self) -> bool {
        self.custom
            || matches!(
                self.name.as_str(),
                "Account" | "Contact" | "Lead" | "Opportunity" | "Case" | "Task" | "Event"
            )
    }

    /// Owners that may be queues (`Group`) or calendars, not only users.
    pub fn owner_to(mut self, targets: &[&str]) -> Self {
        if let Some(owner) = self.fields.iter_mut().find(|f| f.name == "OwnerId") {
            owner.reference_to = targets.iter().map(|t| t.to_string()).collect();
        }
        self
    }

    /// Builds the lookup tables; call after the field list changes.
    pub fn index(mut self) -> Self {
        self.exact = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        self.folded = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.to_ascii_lowercase(), i))
            .collect();
        self.owner_field = self.exact.get("OwnerId").copied();
        self
    }

    /// A field's position, by exact name first (the evaluator passes canonical names), then
    /// case-insensitively.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.exact
            .get(name)
            .or_else(|| self.folded.get(&name.to_ascii_lowercase()))
            .copied()
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// The describe-global entry, for API `version` (`"62.0"`).
    pub fn global_entry(&self, version: &str) -> Json {
        json!({
            "activateable": false,
            "associateEntityType": null,
            "associateParentEntity": null,
            "createable": self.createable,
            "custom": self.custom,
            "customSetting": false,
            "deepCloneable": false,
            "deletable": self.deletable,
            "deprecatedAndHidden": false,
            "feedEnabled": !self.custom && self.owner_field.is_some(),
            "hasSubtypes": false,
            "isInterface": false,
            "isSubtype": false,
            // Objects without Ids of their own (RecentlyViewed) have none: null.
            "keyPrefix": (!self.key_prefix.is_empty()).then_some(&self.key_prefix),
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": self.createable,
            "mergeable": false,
            "mruEnabled": self.createable,
            "name": self.name,
            "queryable": true,
            "replicateable": true,
            "retrieveable": true,
            "searchable": self.createable,
            "triggerable": self.createable,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": self.urls(version, None),
        })
    }

    /// The `urls` map. `defaultValues` appears in the v48 recordings and not in the v59 ones;
    /// some objects add their own entries.
    fn urls(&self, version: &str, instance_url: Option<&str>) -> Json {
        let base = format!("/services/data/v{version}/sobjects/{}", self.name);
        let mut urls = Map::new();
        urls.insert(
            "compactLayouts".into(),
            json!(format!("{base}/describe/compactLayouts")),
        );
        urls.insert("rowTemplate".into(), json!(format!("{base}/{{ID}}")));
        // Activities and junction objects have neither approvals nor list views.
        let activity = matches!(
            self.name.as_str(),
            "Task" | "Event" | "OpportunityContactRole" | "PermissionSetAssignment"
        );
        if !activity {
            urls.insert(
                "approvalLayouts".into(),
                json!(format!("{base}/describe/approvalLayouts")),
            );
        }
        if let Some(instance) = instance_url {
            urls.insert(
                "uiDetailTemplate".into(),
                json!(format!("{instance}/{{ID}}")),
            );
            urls.insert(
                "uiEditTemplate".into(),
                json!(format!("{instance}/{{ID}}/e")),
            );
        }
        if instance_url.is_some() && version_major(version) < 52 {
            urls.insert(
                "defaultValues".into(),
                json!(format!("{base}/defaultValues?recordTypeId&fields")),
            );
        }
        if !activity {
            urls.insert("listviews".into(), json!(format!("{base}/listviews")));
        }
        urls.insert("describe".into(), json!(format!("{base}/describe")));
        if let Some(instance) = instance_url {
            urls.insert(
                "uiNewRecord".into(),
                json!(format!("{instance}/{}/e", self.key_prefix)),
            );
        }
        urls.insert("quickActions".into(), json!(format!("{base}/quickActions")));
        urls.insert("layouts".into(), json!(format!("{base}/describe/layouts")));
        if instance_url.is_some() {
            let extra: &[&str] = match self.name.as_str() {
                "Case" => &["caseArticleSuggestions", "caseRowArticleSuggestions"],
                "Event" => &["eventSeriesUpdates"],
                _ => &[],
            };
            for name in extra {
                urls.insert((*name).to_string(), json!(format!("{base}/{name}")));
            }
        }
        urls.insert("sobject".into(), json!(base));
        Json::Object(urls)
    }

    /// The full describe for API `version`, showing only `visible` fields (FLS), with the
    /// child relationships the org derived from references.
    pub fn describe(
        &self,
        version: &str,
        instance_url: &str,
        children: &[ChildRel],
        record_types: &[RecordTypeRow],
        visible: impl Fn(&FieldDef) -> bool,
    ) -> Json {
        let fields: Vec<Json> = self
            .fields
            .iter()
            .filter(|f| visible(f))
            .map(FieldDef::describe)
            .collect();
        let child_relationships: Vec<Json> = children
            .iter()
            .map(|c| {
                json!({
                    "cascadeDelete": false,
                    "childSObject": c.child_object,
                    "deprecatedAndHidden": false,
                    "field": c.field,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": c.relationship_name,
                    "restrictedDelete": false,
                })
            })
            .collect();
        let layout = |id: &str| {
            format!(
                "/services/data/v{version}/sobjects/{}/describe/layouts/{id}",
                self.name
            )
        };
        // The org's record types first (the first active one is the default), then Master.
        let mut record_type_infos: Vec<Json> = record_types
            .iter()
            .enumerate()
            .map(|(i, rt)| {
                json!({
                    "active": rt.active,
                    "available": rt.active,
                    "defaultRecordTypeMapping": i == 0,
                    "developerName": rt.developer_name,
                    "master": false,
                    "name": rt.name,
                    "recordTypeId": rt.id,
                    "urls": {"layout": layout(&rt.id)},
                })
            })
            .collect();
        if self.supports_record_types() {
            record_type_infos.push(json!({
            "active": true,
            "available": true,
            "defaultRecordTypeMapping": record_types.is_empty(),
            "developerName": "Master",
            "master": true,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
            "urls": {"layout": layout("012000000000000AAA")},
            }));
        }
        let scopes = if self.owner_field.is_some() {
            json!([
                {"label": format!("All {}", self.label_plural.to_lowercase()), "name": "everything"},
                {"label": format!("My {}", self.label_plural.to_lowercase()), "name": "mine"},
            ])
        } else {
            json!([{"label": format!("All {}", self.label_plural.to_lowercase()), "name": "everything"}])
        };
        let entries: Vec<(&str, Json)> = vec![
            ("actionOverrides", json!([])),
            ("activateable", json!(false)),
            ("childRelationships", json!(child_relationships)),
            ("compactLayoutable", json!(self.createable)),
            ("createable", json!(self.createable)),
            ("custom", json!(self.custom)),
            ("customSetting", json!(false)),
            ("deepCloneable", json!(false)),
            ("defaultImplementation", json!(null)),
            ("deletable", json!(self.deletable)),
            ("deprecatedAndHidden", json!(false)),
            ("extendedBy", json!(null)),
            ("extendsInterfaces", json!(null)),
            (
                "feedEnabled",
                json!(!self.custom && self.owner_field.is_some()),
            ),
            ("fields", json!(fields)),
            ("hasSubtypes", json!(false)),
            ("implementedBy", json!(null)),
            ("implementsInterfaces", json!(null)),
            ("isInterface", json!(false)),
            ("isSubtype", json!(false)),
            (
                "keyPrefix",
                json!((!self.key_prefix.is_empty()).then_some(&self.key_prefix)),
            ),
            ("label", json!(self.label)),
            ("labelPlural", json!(self.label_plural)),
            ("layoutable", json!(self.createable)),
            ("listviewable", json!(null)),
            ("lookupLayoutable", json!(null)),
            ("mergeable", json!(false)),
            ("mruEnabled", json!(self.createable)),
            ("name", json!(self.name)),
            ("namedLayoutInfos", json!([])),
            ("networkScopeFieldName", json!(null)),
            ("queryable", json!(true)),
            ("recordTypeInfos", Json::Array(record_type_infos)),
            ("replicateable", json!(true)),
            ("retrieveable", json!(true)),
            ("searchLayoutable", json!(self.createable)),
            ("searchable", json!(self.createable)),
            ("supportedScopes", json!(scopes)),
            ("triggerable", json!(self.createable)),
            ("undeletable", json!(self.deletable)),
            ("updateable", json!(self.updateable)),
            ("urls", json!(self.urls(version, Some(instance_url)))),
        ];
        let mut out: Map<String, Json> = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // Newer APIs add these (absent in the v48 recordings, present in the v59 ones; v52's
        // describe global already has the associate keys).
        if version_major(version) >= 52 {
            out.insert("associateEntityType".into(), Json::Null);
            out.insert("associateParentEntity".into(), Json::Null);
            out.insert("sobjectDescribeOption".into(), json!("FULL"));
            out.sort_keys();
        }
        Json::Object(out)
    }
}

fn version_major(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

/// A record type of an object, as describe lists it.
#[derive(Debug, Clone)]
pub struct RecordTypeRow {
    pub id: String,
    pub name: String,
    pub developer_name: String,
    pub active: bool,
}

/// A child relationship, derived from a reference field on another object.
#[derive(Debug, Clone)]
pub struct ChildRel {
    pub child_object: String,
    pub field: String,
    pub relationship_name: Option<String>,
}

/// Every object of one org, with derived child relationships and one [`ObjectSchema`] per
/// object for the unrestricted view. Built once per org; profiles with hidden fields get
/// their own [`ProfileSchema`] built once too.
#[derive(Debug)]
pub struct OrgSchema {
    pub objects: Vec<Arc<ObjectDef>>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
    pub children: Vec<Vec<ChildRel>>,
}

/// Child relationship names Salesforce gives standard lookups; other lookups get the child
/// object's plural label without spaces, or `{Relationship}s` for custom fields (`Foo__r`).
fn child_relationship_name(child: &ObjectDef, field: &FieldDef, parent: &str) -> Option<String> {
    if let Some(known) = crate::files::child_relationship(&child.name, &field.name) {
        return known.map(str::to_string);
    }
    let known = match (child.name.as_str(), field.name.as_str(), parent) {
        ("Account", "ParentId", _) => Some("ChildAccounts"),
        ("Contact", "AccountId", _) => Some("Contacts"),
        ("Opportunity", "AccountId", _) => Some("Opportunities"),
        ("Opportunity", "ContactId", _) => Some("Opportunities"),
        ("Case", "AccountId", _) => Some("Cases"),
        ("Case", "ContactId", _) => Some("Cases"),
        ("Case", "ParentId", _) => Some("Cases"),
        ("Task", "WhatId", _) | ("Task", "WhoId", _) => Some("Tasks"),
        ("Event", "WhatId", _) | ("Event", "WhoId", _) => Some("Events"),
        ("OpportunityContactRole", "OpportunityId", _) => Some("OpportunityContactRoles"),
        // Recorded Opportunity describe: OpportunityFieldHistory.OpportunityId is `Histories`;
        // every standard history object's parent lookup has that name.
        (history, _, _) if crate::history::is_history_parent_field(history, &field.name) => {
            Some("Histories")
        }
        ("OpportunityContactRole", "ContactId", _) => Some("OpportunityContactRoles"),
        ("User", "ProfileId", _) => Some("Users"),
        ("User", "UserRoleId", _) => Some("Users"),
        ("User", "ManagerId", _) => Some("ManagedUsers"),
        ("PermissionSetAssignment", "AssigneeId", _) => Some("PermissionSetAssignments"),
        ("PermissionSetAssignment", "PermissionSetId", _) => Some("Assignments"),
        ("UserRole", "ParentRoleId", _) => None,
        ("LoginHistory", "UserId", _) => None,
        (_, "OwnerId", _)
        | (_, "CreatedById", _)
        | (_, "LastModifiedById", _)
        | (_, "MasterRecordId", _) => None,
        _ => return custom_child_name(child, field),
    };
    known.map(str::to_string)
}

fn custom_child_name(child: &ObjectDef, field: &FieldDef) -> Option<String> {
    if field.custom {
        let rel = field.relationship_name.as_deref()?;
        let stem = rel.strip_suffix("__r").unwrap_or(rel);
        let plural = child.label_plural.replace(' ', "_");
        return Some(if child.custom {
            format!("{plural}__r")
        } else {
            format!("{stem}s__r")
        });
    }
    None
}

impl OrgSchema {
    pub fn new(objects: Vec<ObjectDef>) -> Self {
        let objects: Vec<Arc<ObjectDef>> = objects.into_iter().map(Arc::new).collect();
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        // The history objects share Salesforce's one prefix (`017`): an id names the first
        // object with its prefix, and no record refers to a history row by id.
        let mut by_prefix = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            by_prefix.entry(o.key_prefix.clone()).or_insert(i);
        }
        let mut children: Vec<Vec<ChildRel>> = vec![Vec::new(); objects.len()];
        let index: HashMap<String, usize> = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.clone(), i))
            .collect();
        for child in &objects {
            // Merge bookkeeping lookups are not child relationships in describe.
            for field in child.fields.iter().filter(|f| f.name != "MasterRecordId") {
                for parent in &field.reference_to {
                    if let Some(&p) = index.get(parent) {
                        let mut relationship_name = child_relationship_name(child, field, parent);
                        // One name per parent: a second lookup to the same parent with the same
                        // derived name would make subqueries ambiguous.
                        if let Some(name) = &relationship_name
                            && children[p]
                                .iter()
                                .any(|c| c.relationship_name.as_deref() == Some(name.as_str()))
                        {
                            relationship_name = None;
                        }
                        children[p].push(ChildRel {
                            child_object: child.name.clone(),
                            field: field.name.clone(),
                            relationship_name,
                        });
                    }
                }
            }
        }
        // Describe lists child relationships by child object, then field.
        for list in &mut children {
            list.sort_by(|a, b| (&a.child_object, &a.field).cmp(&(&b.child_object, &b.field)));
        }
        Self {
            objects,
            by_name,
            by_prefix,
            children,
        }
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object(&self, name: &str) -> Option<&Arc<ObjectDef>> {
        self.index_of(name).map(|i| &self.objects[i])
    }

    /// The object an id belongs to, by its key prefix.
    pub fn index_of_id(&self, id: &str) -> Option<usize> {
        id.get(..3).and_then(|p| self.by_prefix.get(p)).copied()
    }

    /// The soql [`ObjectSchema`] of object `i`, hiding `hidden` fields (lower-cased
    /// `object.field` keys).
    fn object_schema(&self, i: usize, hidden: &HashSet<String>) -> Option<ObjectSchema> {
        let def = &self.objects[i];
        let prefix = format!("{}.", def.name.to_ascii_lowercase());
        let visible =
            |f: &FieldDef| !hidden.contains(&format!("{prefix}{}", f.name.to_ascii_lowercase()));
        let describe = def.describe("62.0", "", &self.children[i], &[], visible);
        serde_json::from_value::<ObjectSchema>(describe)
            .ok()
            .map(ObjectSchema::index)
    }

    /// The schema a profile sees: every object, minus fields its field-level security hides.
    /// Each object's schema is built the first time something asks for it: building every
    /// object's for every profile was a fifth of the demo org's start, which `sfmcp demo`
    /// waits for before its first answer.
    pub fn profile_schema(self: &Arc<Self>, hidden: HashSet<String>) -> ProfileSchema {
        ProfileSchema {
            org: Arc::clone(self),
            objects: (0..self.objects.len()).map(|_| OnceLock::new()).collect(),
            hidden,
        }
    }
}

/// What one profile sees of the org's metadata: implements [`Schema`] for validation and
/// evaluation, and answers field visibility for reads, writes and describe.
#[derive(Debug)]
pub struct ProfileSchema {
    pub org: Arc<OrgSchema>,
    objects: Vec<OnceLock<Option<Arc<ObjectSchema>>>>,
    hidden: HashSet<String>,
}

impl ProfileSchema {
    pub fn is_visible(&self, object: &ObjectDef, field: &FieldDef) -> bool {
        self.hidden.is_empty()
            || !self.hidden.contains(&format!(
                "{}.{}",
                object.name.to_ascii_lowercase(),
                field.name.to_ascii_lowercase()
            ))
    }

    pub fn object_schema(&self, index: usize) -> Option<&Arc<ObjectSchema>> {
        self.objects
            .get(index)?
            .get_or_init(|| self.org.object_schema(index, &self.hidden).map(Arc::new))
            .as_ref()
    }
}

impl Schema for ProfileSchema {
    fn object(&self, name: &str) -> Lookup {
        match self.org.index_of(name).and_then(|i| self.object_schema(i)) {
            Some(schema) => Lookup::Found(Arc::clone(schema)),
            None => Lookup::Unknown,
        }
    }

    fn object_names(&self) -> Vec<String> {
        self.org.objects.iter().map(|o| o.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_builds_an_objects_schema_when_first_asked_and_hides_its_fields() {
        let org = Arc::new(OrgSchema::new(crate::objects::standard_objects()));
        let profile = org.profile_schema(HashSet::from(["account.annualrevenue".to_string()]));
        assert!(profile.objects.iter().all(|object| object.get().is_none()));
        let account = org
            .index_of("Account")
            .expect("the demo schema has Account");
        let schema = profile.object_schema(account).expect("Account's schema");
        assert!(schema.field("Name").is_some());
        assert!(
            schema.field("AnnualRevenue").is_none(),
            "hidden by the profile"
        );
        let built = profile.objects.iter().filter(|o| o.get().is_some()).count();
        assert_eq!(built, 1, "only the object asked for");
        let everyone = org.profile_schema(HashSet::new());
        let schema = everyone.object_schema(account).expect("Account's schema");
        assert!(schema.field("AnnualRevenue").is_some());
    }

    #[test]
    fn labels_follow_salesforce_conventions() {
        assert_eq!(label_from_name("BillingCity"), "Billing City");
        assert_eq!(label_from_name("ParentId"), "Parent ID");
        assert_eq!(label_from_name("Foo_Bar__c"), "Foo Bar");
        assert_eq!(label_from_name("IsDeleted"), "Is Deleted");
    }
}
