//! Which values a query's WHERE pins a column to, whatever else it says.
//!
//! A row filter a caller must prove ("only validation rules of allowed objects") holds when
//! the top-level WHERE is a conjunction one of whose terms is `column = 'v'` or
//! `column IN ('v', 'w')`: every row returned then has one of those values there. OR, NOT and
//! negated comparisons prove nothing, so they are not read; several pinning terms narrow each
//! other. Purely syntactic: names compare case-insensitively, values exactly.

use crate::ast::{CompareOp, Condition, Expr, InValues, Literal, Query, Value};

/// The values every row of `query` has in one of `columns` (dotted paths as written after
/// the FROM object, such as `EntityDefinition.QualifiedApiName`), or `None` when its WHERE
/// does not pin any of them. A column that is pinned to values that exclude each other
/// answers an empty list: no row.
///
/// ```
/// use sfmcp_soql::access::pinned_values;
///
/// let query = sfmcp_soql::parse(
///     "SELECT ValidationName FROM ValidationRule \
///      WHERE Active = true AND EntityDefinition.QualifiedApiName IN ('Account', 'Opportunity')",
/// )?;
/// let pinned = pinned_values(&query, &["EntityDefinition.QualifiedApiName", "EntityDefinitionId"]);
/// assert_eq!(pinned, Some(vec!["Account".to_string(), "Opportunity".to_string()]));
///
/// let loose = sfmcp_soql::parse(
///     "SELECT Id FROM ValidationRule WHERE EntityDefinitionId = 'Account' OR Active = true",
/// )?;
/// assert_eq!(pinned_values(&loose, &["EntityDefinitionId"]), None);
/// # Ok::<(), sfmcp_soql::SoqlError>(())
/// ```
pub fn pinned_values(query: &Query, columns: &[&str]) -> Option<Vec<String>> {
    let alias = query.from.alias.as_ref().map(|a| a.name.as_str());
    condition_pins(query.where_clause.as_ref()?, columns, alias)
}

/// A conjunction pins what any of its terms pins (nested ones included), narrowed by the
/// others; anything else is one term.
fn condition_pins(
    condition: &Condition,
    columns: &[&str],
    alias: Option<&str>,
) -> Option<Vec<String>> {
    let Condition::And(terms) = condition else {
        return term_pins(condition, columns, alias);
    };
    let mut pinned: Option<Vec<String>> = None;
    for term in terms {
        let Some(values) = condition_pins(term, columns, alias) else {
            continue;
        };
        pinned = Some(match pinned {
            None => values,
            Some(before) => before.into_iter().filter(|v| values.contains(v)).collect(),
        });
    }
    pinned
}

/// The values one conjunct pins a column to: `c = 'v'` or `c IN ('v', ...)` with text values.
fn term_pins(term: &Condition, columns: &[&str], alias: Option<&str>) -> Option<Vec<String>> {
    let (left, values): (&Expr, Vec<&Value>) = match term {
        Condition::Compare {
            left,
            op: CompareOp::Eq,
            value,
        } => (left, vec![value]),
        Condition::In {
            left,
            negated: false,
            values: InValues::List(values),
        } => (left, values.iter().collect()),
        _ => return None,
    };
    let Expr::Field(path) = left else {
        return None;
    };
    let mut names: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
    if names.len() > 1
        && alias.is_some_and(|a| names.first().is_some_and(|n| n.eq_ignore_ascii_case(a)))
    {
        names.remove(0);
    }
    let written = names.join(".");
    if !columns.iter().any(|c| c.eq_ignore_ascii_case(&written)) {
        return None;
    }
    values
        .into_iter()
        .map(|value| match value {
            Value::Literal(Literal::String(text), _) => Some(text.clone()),
            // A null, a number or a bind pins nothing an allow-list can be checked against.
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins(soql: &str) -> Option<Vec<String>> {
        let query = crate::parse(soql).expect("parses");
        pinned_values(
            &query,
            &["EntityDefinition.QualifiedApiName", "TableEnumOrId"],
        )
    }

    fn list(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|v| v.to_string()).collect())
    }

    #[test]
    fn equality_and_in_lists_pin_and_narrow_each_other() {
        assert_eq!(
            pins("SELECT Id FROM ApexTrigger WHERE TableEnumOrId = 'Account'"),
            list(&["Account"])
        );
        assert_eq!(
            pins(
                "SELECT Id FROM ValidationRule v WHERE Active = true AND v.entitydefinition.qualifiedapiname IN ('Account','Case')"
            ),
            list(&["Account", "Case"])
        );
        assert_eq!(
            pins(
                "SELECT Id FROM ApexTrigger WHERE TableEnumOrId IN ('Account','Case') AND TableEnumOrId = 'Case'"
            ),
            list(&["Case"])
        );
        assert_eq!(
            pins(
                "SELECT Id FROM ApexTrigger WHERE TableEnumOrId = 'Account' AND TableEnumOrId = 'Case'"
            ),
            list(&[])
        );
    }

    #[test]
    fn disjunctions_negations_and_other_columns_pin_nothing() {
        for soql in [
            "SELECT Id FROM ApexTrigger",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId != 'Account'",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId NOT IN ('Account')",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId LIKE 'Acc%'",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId = 'Account' OR Name = 'x'",
            "SELECT Id FROM ApexTrigger WHERE NOT TableEnumOrId = 'Account'",
            "SELECT Id FROM ApexTrigger WHERE Name = 'Account'",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId = null",
            "SELECT Id FROM ApexTrigger WHERE TableEnumOrId IN (SELECT QualifiedApiName FROM EntityDefinition)",
        ] {
            assert_eq!(pins(soql), None, "{soql}");
        }
        assert_eq!(
            pins("SELECT Id FROM ApexTrigger WHERE (Name = 'a' AND (TableEnumOrId = 'Case'))"),
            list(&["Case"])
        );
        // A pinning term beside an OR still pins: the OR only narrows further.
        assert_eq!(
            pins(
                "SELECT Id FROM ApexTrigger WHERE TableEnumOrId = 'Case' AND (Name = 'a' OR Name = 'b')"
            ),
            list(&["Case"])
        );
    }
}
