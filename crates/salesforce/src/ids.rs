//! Salesforce record ids: 15/18-character forms, the case checksum, and key prefixes.
//!
//! A 15-character id is case-sensitive base 62. The 18-character form appends three
//! characters that encode which of the first 15 are upper case, so the id survives systems
//! that ignore case (spreadsheets, some databases).

use std::fmt;

/// The alphabet the three checksum characters are drawn from, indexed by a 5-bit mask.
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A syntactically valid record id, always held in its canonical 18-character form.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SalesforceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("'{id}' is not a Salesforce id: ids are 15 or 18 characters long, this one has {len}")]
    Length { id: String, len: usize },
    #[error(
        "'{id}' is not a Salesforce id: character {position} ('{found}') is not a letter or digit"
    )]
    Character {
        id: String,
        position: usize,
        found: char,
    },
    #[error(
        "'{id}' is not a valid Salesforce id: its last three characters should be '{expected}' \
         (the id may be mistyped or truncated; copy it again from Salesforce)"
    )]
    Checksum { id: String, expected: String },
}

impl SalesforceId {
    /// Checks a 15- or 18-character id and returns its canonical 18-character form.
    ///
    /// An 18-character id whose first 15 characters are all one case (the way a
    /// case-insensitive system hands it back) has its case restored from the checksum; one
    /// with mixed case must match its checksum exactly, which catches mistyped suffixes.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let id = input.trim();
        let len = id.chars().count();
        if len != 15 && len != 18 {
            return Err(IdError::Length {
                id: shorten(id),
                len,
            });
        }
        if let Some((position, found)) = id
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(IdError::Character {
                id: shorten(id),
                position: position + 1,
                found,
            });
        }
        let (base, suffix) = id.split_at(15);
        // Every record of a query answer passes here on its way to a link: one allocation.
        let expected = checksum_bytes(base.as_bytes());
        if len == 15 || suffix.as_bytes().eq_ignore_ascii_case(&expected) {
            let mut canonical = String::with_capacity(18);
            canonical.push_str(base);
            canonical.extend(expected.iter().map(|&b| char::from(b)));
            return Ok(SalesforceId(canonical));
        }
        let single_case = !(base.bytes().any(|b| b.is_ascii_lowercase())
            && base.bytes().any(|b| b.is_ascii_uppercase()));
        if single_case && let Some(restored) = restore_case(base, suffix) {
            return Ok(SalesforceId(restored));
        }
        Err(IdError::Checksum {
            id: id.to_string(),
            expected: expected.iter().map(|&b| char::from(b)).collect(),
        })
    }

    /// The canonical 18-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-sensitive 15-character form.
    pub fn to_15(&self) -> &str {
        &self.0[..15]
    }

    /// The first three characters, which name the object type.
    pub fn key_prefix(&self) -> &str {
        &self.0[..3]
    }

    /// The standard object this id belongs to, when its key prefix is a well-known one.
    /// Custom objects need the org's describe (see the describe cache).
    pub fn standard_object(&self) -> Option<&'static str> {
        standard_object_for_prefix(self.key_prefix())
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SalesforceId({})", self.0)
    }
}

impl AsRef<str> for SalesforceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SalesforceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SalesforceId::parse(s)
    }
}

impl serde::Serialize for SalesforceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// The three checksum characters for a 15-character id. `base` must be 15 ASCII characters.
pub fn checksum(base: &str) -> String {
    checksum_bytes(base.as_bytes())
        .iter()
        .map(|&b| char::from(b))
        .collect()
}

/// The three checksum characters of a 15-character base.
fn checksum_bytes(base: &[u8]) -> [u8; 3] {
    let mut sum = [b'A'; 3];
    for (slot, chunk) in sum.iter_mut().zip(base.chunks(5)) {
        let mask = chunk
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |mask, (i, _)| mask | (1 << i));
        *slot = CHECKSUM_ALPHABET[mask];
    }
    sum
}

/// Rebuilds the case of a single-case 15-character base from its checksum. `None` when the
/// checksum marks a digit as upper case, which no real id does.
fn restore_case(base: &str, suffix: &str) -> Option<String> {
    let masks: Vec<usize> = suffix
        .bytes()
        .map(|b| {
            CHECKSUM_ALPHABET
                .iter()
                .position(|&a| a == b.to_ascii_uppercase())
        })
        .collect::<Option<_>>()?;
    let mut restored = String::with_capacity(18);
    for (i, b) in base.bytes().enumerate() {
        let upper = masks[i / 5] & (1 << (i % 5)) != 0;
        if upper && !b.is_ascii_alphabetic() {
            return None;
        }
        restored.push(char::from(if upper {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        }));
    }
    let expected = checksum(&restored);
    restored.push_str(&expected);
    Some(restored)
}

fn shorten(id: &str) -> String {
    if id.chars().count() > 40 {
        format!("{}…", id.chars().take(40).collect::<String>())
    } else {
        id.to_string()
    }
}

/// Standard objects by key prefix. Prefixes are case-sensitive (`00e` Profile, `00E` UserRole).
const STANDARD_PREFIXES: &[(&str, &str)] = &[
    ("001", "Account"),
    ("002", "Note"),
    ("003", "Contact"),
    ("005", "User"),
    ("006", "Opportunity"),
    ("00D", "Organization"),
    ("00E", "UserRole"),
    ("00G", "Group"),
    ("00O", "Report"),
    ("00P", "Attachment"),
    ("00Q", "Lead"),
    ("00T", "Task"),
    ("00U", "Event"),
    ("00a", "CaseComment"),
    ("00e", "Profile"),
    ("00k", "OpportunityLineItem"),
    ("00v", "CampaignMember"),
    ("012", "RecordType"),
    ("01Z", "Dashboard"),
    ("01s", "Pricebook2"),
    ("01t", "Product2"),
    ("01u", "PricebookEntry"),
    ("02i", "Asset"),
    ("02s", "EmailMessage"),
    ("068", "ContentVersion"),
    ("069", "ContentDocument"),
    ("0PS", "PermissionSet"),
    ("0WO", "WorkOrder"),
    ("500", "Case"),
    ("701", "Campaign"),
    ("800", "Contract"),
    ("801", "Order"),
];

/// The standard object for a key prefix, if it is one of the well-known ones.
pub fn standard_object_for_prefix(prefix: &str) -> Option<&'static str> {
    STANDARD_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, object)| *object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_vectors() {
        for (short, long) in [
            ("a0RE000000IJmcN", "a0RE000000IJmcNMAT"),
            ("001M000000qfPyS", "001M000000qfPySIAU"),
            ("AbCdEfGhIjKlMnO", "AbCdEfGhIjKlMnOVKV"),
            ("aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"),
        ] {
            assert_eq!(
                SalesforceId::parse(short).map(|i| i.0),
                Ok(long.to_string())
            );
            assert_eq!(SalesforceId::parse(long).map(|i| i.0), Ok(long.to_string()));
        }
    }

    #[test]
    fn case_mangled_18_char_ids_are_restored() {
        let id = SalesforceId::parse("001M000000QFPYSIAU").map(|i| i.0);
        assert_eq!(id, Ok("001M000000qfPySIAU".to_string()));
        let id = SalesforceId::parse("001m000000qfpysiau").map(|i| i.0);
        assert_eq!(id, Ok("001M000000qfPySIAU".to_string()));
    }

    #[test]
    fn mistyped_suffix_is_caught() {
        let err = SalesforceId::parse("001M000000qfPySIAV");
        assert!(matches!(err, Err(IdError::Checksum { ref expected, .. }) if expected == "IAU"));
    }

    #[test]
    fn checksum_marking_a_digit_upper_case_is_rejected() {
        // 'B' = bit 0 set: the first character, '0', cannot be upper case.
        assert!(matches!(
            SalesforceId::parse("001m000000qfpysbau"),
            Err(IdError::Checksum { .. })
        ));
    }

    #[test]
    fn bad_lengths_and_characters() {
        assert!(matches!(
            SalesforceId::parse("001"),
            Err(IdError::Length { len: 3, .. })
        ));
        assert!(matches!(
            SalesforceId::parse("001M000000qf-yS"),
            Err(IdError::Character { position: 13, .. })
        ));
        assert!(SalesforceId::parse("").is_err());
        assert!(SalesforceId::parse("001M000000qfPyS/../x").is_err());
    }

    #[test]
    fn key_prefixes_name_standard_objects() {
        let id = SalesforceId::parse("003RO0000035WQgYAM");
        assert_eq!(id.map(|i| i.standard_object()), Ok(Some("Contact")));
        assert_eq!(standard_object_for_prefix("00e"), Some("Profile"));
        assert_eq!(standard_object_for_prefix("00E"), Some("UserRole"));
        assert_eq!(standard_object_for_prefix("a00"), None);
    }

    fn base62_id() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[0-9A-Za-z]{15}").expect("valid regex")
    }

    proptest! {
        #[test]
        fn checksum_round_trips(base in base62_id()) {
            let id = SalesforceId::parse(&base).expect("15 alphanumerics are an id");
            prop_assert_eq!(id.to_15(), base.as_str());
            prop_assert_eq!(SalesforceId::parse(id.as_str()), Ok(id.clone()));
            // Case lost in transit comes back from the checksum.
            prop_assert_eq!(SalesforceId::parse(&id.as_str().to_ascii_lowercase()), Ok(id.clone()));
            prop_assert_eq!(SalesforceId::parse(&id.as_str().to_ascii_uppercase()), Ok(id.clone()));
        }

        #[test]
        fn checksum_encodes_exactly_the_upper_case_positions(base in base62_id()) {
            let sum = checksum(&base);
            for (chunk, c) in base.as_bytes().chunks(5).zip(sum.bytes()) {
                let mask = CHECKSUM_ALPHABET.iter().position(|&a| a == c).expect("alphabet");
                for (i, b) in chunk.iter().enumerate() {
                    prop_assert_eq!(mask & (1 << i) != 0, b.is_ascii_uppercase());
                }
            }
        }

        #[test]
        fn any_input_is_handled_without_panicking(input in ".{0,40}") {
            let _ = SalesforceId::parse(&input);
        }
    }
}
