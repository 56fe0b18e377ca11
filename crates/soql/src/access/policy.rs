//! The operator's allow-list and deny-list, applied to a [`Footprint`].

use std::fmt;

use super::{Clause, FieldUse, Footprint, ObjectUse, Via, Within};

/// Which objects may be read (an empty list allows all) and which fields may not be:
/// `Object.Field`, or a bare `Field` meaning that field on every object. Names compare
/// case-insensitively, as Salesforce's do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    allow_objects: Vec<String>,
    deny_fields: Vec<String>,
}

/// Why a query is refused: one reason per object or field, in the order the query uses them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .reasons.join("; "))]
pub struct Refusal {
    pub reasons: Vec<String>,
}

impl AccessPolicy {
    pub fn new<A, D>(
        allow_objects: impl IntoIterator<Item = A>,
        deny_fields: impl IntoIterator<Item = D>,
    ) -> Self
    where
        A: Into<String>,
        D: Into<String>,
    {
        Self {
            allow_objects: allow_objects.into_iter().map(Into::into).collect(),
            deny_fields: deny_fields.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the policy restricts nothing: then no footprint is needed.
    pub fn is_open(&self) -> bool {
        self.allow_objects.is_empty() && self.deny_fields.is_empty()
    }

    pub fn is_object_allowed(&self, object: &str) -> bool {
        self.allow_objects.is_empty()
            || self
                .allow_objects
                .iter()
                .any(|o| o.eq_ignore_ascii_case(object))
    }

    pub fn is_field_denied(&self, object: &str, field: &str) -> bool {
        self.deny_fields
            .iter()
            .any(|denied| match denied.split_once('.') {
                Some((o, f)) => o.eq_ignore_ascii_case(object) && f.eq_ignore_ascii_case(field),
                None => denied.eq_ignore_ascii_case(field),
            })
    }

    /// Whether a field name offered as a suggestion (`Email`, `Account.AnnualRevenue`) could
    /// be a field the policy denies, on any object. Errs on the side of hiding: a suggestion
    /// is only a convenience. (An unknown FROM object is refused by the allow-list before
    /// validation suggests anything.)
    pub fn hides_field(&self, suggestion: &str) -> bool {
        let last = suggestion.rsplit('.').next().unwrap_or(suggestion);
        self.deny_fields.iter().any(|denied| {
            let field = denied.split_once('.').map_or(denied.as_str(), |(_, f)| f);
            field.eq_ignore_ascii_case(last)
        })
    }

    /// Allows the footprint, or refuses it naming every disallowed object and denied field
    /// and where the query uses it.
    pub fn check(&self, footprint: &Footprint) -> Result<(), Refusal> {
        let mut reasons: Vec<String> = Vec::new();
        let mut named: Vec<String> = Vec::new();
        let refused: Vec<&ObjectUse> = footprint
            .objects
            .iter()
            .filter(|used| !self.is_object_allowed(&used.object))
            .collect();
        for used in &refused {
            if named.contains(&used.object.to_ascii_lowercase()) {
                continue;
            }
            // The targets of one polymorphic relationship (Event.What can refer to some eighty
            // objects) make one reason, not one each.
            let shared = matches!(
                used.via,
                Via::Parent {
                    polymorphic: true,
                    ..
                } | Via::TypeOf { .. }
            );
            let mut objects = Vec::new();
            for other in &refused {
                let key = other.object.to_ascii_lowercase();
                let same = if shared {
                    other.via == used.via
                } else {
                    other.object.eq_ignore_ascii_case(&used.object)
                };
                if same && !named.contains(&key) {
                    named.push(key);
                    objects.push(other.object.as_str());
                }
            }
            reasons.push(self.objects_reason(&objects, &used.via));
        }
        for used in &footprint.fields {
            // An object already refused needs no word on its fields.
            let object = used.object.to_ascii_lowercase();
            let key = format!("{object}.{}", used.field.to_ascii_lowercase());
            if self.is_field_denied(&used.object, &used.field)
                && !named.contains(&key)
                && !named.contains(&object)
            {
                named.push(key);
                reasons.push(field_reason(used));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Refusal { reasons })
        }
    }

    fn objects_reason(&self, objects: &[&str], via: &Via) -> String {
        /// Beyond this many, the rest are counted rather than named.
        const NAMED: usize = 5;
        let (it, is) = if objects.len() == 1 {
            ("it", "is")
        } else {
            ("them", "are")
        };
        let via = match via {
            Via::From => String::new(),
            Via::Subquery {
                parent,
                relationship,
            } => format!(" (through the subquery on {parent}.{relationship})"),
            Via::SemiJoin { outer } => {
                format!(" (through a semi-join in the WHERE of the query on {outer})")
            }
            Via::Parent {
                path,
                clause,
                polymorphic: false,
            } => format!(" (through {path} in {clause})"),
            Via::Parent {
                path,
                clause,
                polymorphic: true,
            } => format!(" (through {path} in {clause}, which can refer to {it})"),
            Via::TypeOf { path } => format!(" (through TYPEOF {path})"),
        };
        let mut names = objects
            .iter()
            .take(NAMED)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if objects.len() > NAMED {
            names.push_str(&format!(" and {} more", objects.len() - NAMED));
        }
        format!(
            "{names}{via} {is} not among the objects this server allows ({})",
            self.allow_objects.join(", ")
        )
    }
}

fn field_reason(used: &FieldUse) -> String {
    let name = format!("{}.{}", used.object, used.field);
    let mut context = Vec::new();
    if let Some(path) = &used.path {
        context.push(format!("through {path}"));
    }
    if used.within != Within::Root {
        context.push(format!("in {}", used.within));
    }
    let context = if context.is_empty() {
        String::new()
    } else {
        format!(", {}", context.join(", "))
    };
    let usage = match (used.clause, used.function) {
        (Clause::Fields(group), _) => {
            return format!(
                "FIELDS({}) on {} would include {name}, which is denied by the operator{context}; name the fields instead",
                group.keyword(),
                used.object
            );
        }
        (Clause::Select, None) => "selected".to_string(),
        (Clause::Join, _) => "used to follow a relationship".to_string(),
        (Clause::RecordId, _) => "returned as each record's Id".to_string(),
        (Clause::UsingScope, _) => "used by USING SCOPE".to_string(),
        (clause, Some(function)) => format!("used in {}() in {clause}", function.name()),
        (clause, None) => format!("used in {clause}"),
    };
    format!("{name} is denied by the operator ({usage}{context})")
}

impl fmt::Display for AccessPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "objects: {}; denied fields: {}",
            if self.allow_objects.is_empty() {
                "all".to_string()
            } else {
                self.allow_objects.join(", ")
            },
            if self.deny_fields.is_empty() {
                "none".to_string()
            } else {
                self.deny_fields.join(", ")
            }
        )
    }
}
