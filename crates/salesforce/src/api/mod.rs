//! The REST calls, grouped by Salesforce area: each file is an `impl SalesforceClient` block
//! with the types its calls return. They build an `ApiRequest` and hand it to `transport.rs`.

pub mod collections;
pub mod describe;
pub mod files;
pub mod identity;
pub mod limits;
pub mod listviews;
pub mod query;
pub mod recent;
pub mod reports;
pub mod search;
pub mod sobjects;
pub mod tooling;
pub mod versions;

use super::errors::SfError;

/// Object and field API names: letters, digits and underscores, starting with a letter.
pub(crate) fn check_name(name: &str, kind: &str) -> Result<(), SfError> {
    let valid = name.len() <= 255
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(SfError::InvalidRequest {
            message: format!(
                "'{}' is not a Salesforce {kind} name",
                name.chars().take(80).collect::<String>()
            ),
            next_step: format!(
                "Use the {kind}'s API name, e.g. Account or My_Object__c for objects, Name or My_Field__c for fields."
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("My_Object__c", "object").is_ok());
        assert!(check_name("Account/../x", "object").is_err());
        assert!(check_name("", "object").is_err());
        assert!(check_name("1Account", "object").is_err());
    }
}
