//! Comparing field values the way SOQL does: text without regard to case, numbers across
//! integer and double, dates against dateTimes, and LIKE patterns.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};

use super::dates::{DayRange, Position};
use crate::ast::CompareOp;
use crate::data::Value;

/// A literal from the query, converted once into the form rows are compared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Constant {
    Null,
    Boolean(bool),
    Number(f64),
    /// The text as written; comparisons ignore case.
    Text(String),
    /// A multi-select picklist value compared with `=` or `!=`: the selected values,
    /// lower-cased and sorted (see [`selection`]).
    Selection(Vec<String>),
    /// A record id compared with an id or reference field (see [`id_key`]).
    Id {
        key: IdKey,
        text: String,
    },
    DateTime {
        at: DateTime<Utc>,
        /// The instant's day in the user's time zone, for date fields.
        local_day: NaiveDate,
    },
    /// A date literal (`TODAY`, `LAST_N_DAYS:3`) or a plain date (`2024-01-31`, one day).
    Range(DayRange),
}

/// `value op constant` with SOQL's two-valued null logic: null equals only null, so
/// `Industry != 'Retail'` keeps records whose Industry is null, and an ordering comparison
/// with null on either side is false. This is how "Use null in WHERE" describes it
/// (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_null.htm:
/// `Contact.LastName = null` returns the Cases that have no Contact at all).
pub(crate) fn compare(value: &Value, op: CompareOp, constant: &Constant) -> bool {
    if let Constant::Range(range) = constant {
        return match range.position(value) {
            Some(position) => match op {
                CompareOp::Eq => position == Position::Inside,
                CompareOp::Ne => position != Position::Inside,
                // `<` is before the range starts, `>` after it ends.
                CompareOp::Lt => position == Position::Before,
                CompareOp::Le => position != Position::After,
                CompareOp::Gt => position == Position::After,
                CompareOp::Ge => position != Position::Before,
                CompareOp::Like => false,
            },
            None => op == CompareOp::Ne,
        };
    }
    if value.is_null() || matches!(constant, Constant::Null) {
        let both = value.is_null() && matches!(constant, Constant::Null);
        return match op {
            CompareOp::Eq => both,
            CompareOp::Ne => !both,
            _ => false,
        };
    }
    if let (Value::String(a), Constant::Selection(wanted)) = (value, constant) {
        let same = selection(a) == *wanted;
        return match op {
            CompareOp::Eq => same,
            CompareOp::Ne => !same,
            _ => false,
        };
    }
    if let (Value::String(a), Constant::Id { key, .. }, CompareOp::Eq | CompareOp::Ne) =
        (value, constant, op)
    {
        let same = id_key(a).is_some_and(|a| a == *key);
        return same == (op == CompareOp::Eq);
    }
    if let (Value::String(a), Constant::Text(b), CompareOp::Eq | CompareOp::Ne) =
        (value, constant, op)
    {
        // Equality needs no order: lengths differ, done.
        return eq_text(a, b) == (op == CompareOp::Eq);
    }
    match order_against(value, constant) {
        Some(ordering) => match op {
            CompareOp::Eq => ordering == Ordering::Equal,
            CompareOp::Ne => ordering != Ordering::Equal,
            CompareOp::Lt => ordering == Ordering::Less,
            CompareOp::Le => ordering != Ordering::Greater,
            CompareOp::Gt => ordering == Ordering::Greater,
            CompareOp::Ge => ordering != Ordering::Less,
            CompareOp::Like => false,
        },
        // Values of different kinds are simply unequal.
        None => op == CompareOp::Ne,
    }
}

/// Equality for IN lists.
pub(crate) fn equals(value: &Value, constant: &Constant) -> bool {
    compare(value, CompareOp::Eq, constant)
}

fn order_against(value: &Value, constant: &Constant) -> Option<Ordering> {
    match (value, constant) {
        (Value::Integer(a), Constant::Number(b)) => (*a as f64).partial_cmp(b),
        (Value::Double(a), Constant::Number(b)) => a.partial_cmp(b),
        (Value::String(a), Constant::Text(b) | Constant::Id { text: b, .. }) => {
            Some(cmp_text(a, b))
        }
        (Value::Boolean(a), Constant::Boolean(b)) => Some(a.cmp(b)),
        (Value::DateTime(a), Constant::DateTime { at, .. }) => Some(a.cmp(at)),
        (Value::Date(a), Constant::DateTime { local_day, .. }) => Some(a.cmp(local_day)),
        _ => None,
    }
}

/// A record id's canonical 15-character form, for text that looks like an id.
///
/// Salesforce ids come in two spellings: 15 case-sensitive characters, and 18, which add
/// three characters encoding which of the first 15 are upper case, so an 18-character id
/// survives case-insensitive handling. Both spellings name the same record and the API
/// accepts either ("What Are Salesforce IDs", Salesforce Help; the suffix algorithm is the
/// one Apex's `Id.to15()`/`to18()` implement). The 15-character form with its case restored
/// from the suffix compares exactly.
pub(crate) type IdKey = [u8; 15];

pub(crate) fn id_key(text: &str) -> Option<IdKey> {
    let bytes = text.as_bytes();
    if !matches!(bytes.len(), 15 | 18) || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut key = [0u8; 15];
    key.copy_from_slice(&bytes[..15]);
    if bytes.len() == 18 {
        for (chunk, suffix) in bytes[15..].iter().enumerate() {
            let bits = match suffix.to_ascii_uppercase() {
                c @ b'A'..=b'Z' => c - b'A',
                c @ b'0'..=b'5' => c - b'0' + 26,
                _ => return None,
            };
            for i in 0..5 {
                let c = &mut key[chunk * 5 + i];
                *c = if bits & (1 << i) != 0 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
            }
        }
    }
    Some(key)
}

/// Case-insensitive text order ("Sorting is case insensitive", ORDER BY in the SOQL and SOSL
/// Reference). Allocation-free; ASCII takes a fast path.
pub(crate) fn cmp_text(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        for (x, y) in a.iter().zip(b) {
            let ordering = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        return a.len().cmp(&b.len());
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

pub(crate) fn eq_text(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    cmp_text(a, b) == Ordering::Equal
}

/// The order ORDER BY sorts non-null values in. Values of different kinds (which validation
/// prevents within one column) fall back to a fixed kind order so sorting stays total.
pub(crate) fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Integer(x), Value::Double(y)) => (*x as f64).total_cmp(y),
        (Value::Double(x), Value::Integer(y)) => x.total_cmp(&(*y as f64)),
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => cmp_text(x, y),
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

fn kind_rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Boolean(_) => 1,
        Value::Integer(_) | Value::Double(_) => 2,
        Value::String(_) => 3,
        Value::Date(_) => 4,
        Value::DateTime(_) => 5,
        Value::Time(_) => 6,
        Value::Location { .. } => 7,
    }
}

/// A LIKE pattern: `%` any run of characters, `_` exactly one, `\%` and `\_` themselves.
/// Matching ignores case ("LIKE ... case-insensitive", Comparison Operators in the SOQL and
/// SOSL Reference).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LikePattern {
    tokens: Vec<LikeToken>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeToken {
    /// Stored lower-cased.
    Char(char),
    One,
    Many,
}

impl LikePattern {
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => {
                    if tokens.last() != Some(&LikeToken::Many) {
                        tokens.push(LikeToken::Many);
                    }
                }
                '_' => tokens.push(LikeToken::One),
                '\\' => match chars.next() {
                    Some(escaped) => tokens.extend(escaped.to_lowercase().map(LikeToken::Char)),
                    None => tokens.push(LikeToken::Char('\\')),
                },
                c => tokens.extend(c.to_lowercase().map(LikeToken::Char)),
            }
        }
        Self { tokens }
    }

    /// Wildcard matching with single-star backtracking: linear for the usual patterns.
    pub fn matches(&self, text: &str) -> bool {
        let text: smallchars::Chars = smallchars::Chars::new(text);
        let tokens = &self.tokens;
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match tokens.get(p) {
                Some(LikeToken::Many) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(LikeToken::One) => {
                    t += 1;
                    p += 1;
                }
                Some(LikeToken::Char(c)) if text.get(t) == Some(*c) => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[p..].iter().all(|token| *token == LikeToken::Many)
    }
}

/// Lower-cased characters of a value, kept on the stack for short text.
mod smallchars {
    pub(super) struct Chars {
        inline: [char; 64],
        len: usize,
        heap: Vec<char>,
    }

    impl Chars {
        pub fn new(text: &str) -> Self {
            let mut chars = Chars {
                inline: ['\0'; 64],
                len: 0,
                heap: Vec::new(),
            };
            for c in text.chars().flat_map(char::to_lowercase) {
                if chars.len < 64 {
                    chars.inline[chars.len] = c;
                } else {
                    if chars.heap.is_empty() {
                        chars.heap.extend_from_slice(&chars.inline);
                    }
                    chars.heap.push(c);
                }
                chars.len += 1;
            }
            chars
        }

        pub fn len(&self) -> usize {
            self.len
        }

        pub fn get(&self, i: usize) -> Option<char> {
            if i >= self.len {
                None
            } else if self.heap.is_empty() {
                Some(self.inline[i])
            } else {
                self.heap.get(i).copied()
            }
        }
    }
}

/// A multi-select picklist value as a set: `MSP1__c = 'AAA;BBB'` matches exactly AAA and
/// BBB selected, in whatever order ("Query Multi-Select Picklists",
/// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/api/sforce_api_calls_soql_querying_multiselect_picklists.htm).
pub(crate) fn selection(text: &str) -> Vec<String> {
    let mut items: Vec<String> = text
        .split(';')
        .map(|item| item.trim().to_lowercase())
        .filter(|item| !item.is_empty())
        .collect();
    items.sort();
    items.dedup();
    items
}

/// `INCLUDES ('a;b', 'c')`: each string is a set of values that must all be selected; the
/// list matches when any set does ("Querying Multi-Select Picklists", SOQL and SOSL Reference).
pub(crate) fn includes(value: &Value, sets: &[Vec<String>]) -> bool {
    let Value::String(selected) = value else {
        return false;
    };
    sets.iter().any(|set| {
        set.iter()
            .all(|wanted| selected.split(';').any(|item| eq_text(item.trim(), wanted)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    #[test]
    fn like_wildcards_escapes_and_case() {
        let p = LikePattern::new("appl_%");
        assert!(p.matches("Appleton"));
        assert!(p.matches("Apple"));
        assert!(!p.matches("Appl"));
        assert!(LikePattern::new("%corp%").matches("Big CORP Inc"));
        assert!(!LikePattern::new("%corp").matches("Big CORP Inc"));
        assert!(LikePattern::new("100\\%").matches("100%"));
        assert!(!LikePattern::new("100\\%").matches("1000"));
        assert!(LikePattern::new("a\\_b").matches("A_B"));
        assert!(!LikePattern::new("a\\_b").matches("axb"));
        assert!(LikePattern::new("%").matches(""));
        assert!(LikePattern::new("%a%b%").matches("xxAyyBzz"));
        assert!(LikePattern::new("émi%").matches("ÉMILE"));
        let long = "x".repeat(100) + "END";
        assert!(LikePattern::new("%end").matches(&long));
    }

    #[test]
    fn ids_match_across_15_and_18_characters() {
        let key = |s: &str| id_key(s).map(|k| String::from_utf8_lossy(&k).into_owned());
        // A real 18-character id and its 15-character form.
        assert_eq!(
            key("0019H00000H25ppQAB").as_deref(),
            Some("0019H00000H25pp")
        );
        assert_eq!(key("0019H00000H25pp").as_deref(), Some("0019H00000H25pp"));
        // The suffix restores the case of an 18-character id that lost it.
        assert_eq!(
            key("0019h00000h25PPqab").as_deref(),
            Some("0019H00000H25pp")
        );
        // 15-character ids are case-sensitive.
        assert_ne!(key("0019h00000h25pp"), key("0019H00000H25pp"));
        assert_eq!(key("Acme"), None);
        assert_eq!(key("0019H00000H25p-"), None);
        let id = Value::String("0019H00000H25ppQAB".into());
        let constant = |text: &str| Constant::Id {
            key: id_key(text).unwrap_or_default(),
            text: text.into(),
        };
        assert!(compare(&id, CompareOp::Eq, &constant("0019H00000H25pp")));
        assert!(compare(&id, CompareOp::Eq, &constant("0019H00000H25PPQAB")));
        assert!(!compare(&id, CompareOp::Eq, &constant("0019H00000H25pP")));
        assert!(compare(&id, CompareOp::Ne, &constant("0019H00000H25pP")));
    }

    #[test]
    fn null_logic_is_two_valued() {
        let null = Value::Null;
        assert!(compare(&null, CompareOp::Eq, &Constant::Null));
        assert!(!compare(&text("a"), CompareOp::Eq, &Constant::Null));
        assert!(compare(&text("a"), CompareOp::Ne, &Constant::Null));
        assert!(compare(&null, CompareOp::Ne, &Constant::Text("x".into())));
        assert!(!compare(&null, CompareOp::Lt, &Constant::Number(1.0)));
        assert!(!compare(&null, CompareOp::Ge, &Constant::Number(1.0)));
    }

    #[test]
    fn numbers_compare_across_integer_and_double() {
        assert!(compare(
            &Value::Integer(2),
            CompareOp::Eq,
            &Constant::Number(2.0)
        ));
        assert!(compare(
            &Value::Integer(2),
            CompareOp::Lt,
            &Constant::Number(2.5)
        ));
        assert!(compare(
            &Value::Double(2.5),
            CompareOp::Gt,
            &Constant::Number(2.0)
        ));
        assert_eq!(
            order_values(&Value::Integer(3), &Value::Double(2.5)),
            Ordering::Greater
        );
    }

    #[test]
    fn text_ignores_case() {
        assert!(compare(
            &text("ACME"),
            CompareOp::Eq,
            &Constant::Text("acme".into())
        ));
        assert!(compare(
            &text("Émile"),
            CompareOp::Eq,
            &Constant::Text("émile".into())
        ));
        assert!(compare(
            &text("apple"),
            CompareOp::Lt,
            &Constant::Text("Banana".into())
        ));
        assert_eq!(cmp_text("b", "A"), Ordering::Greater);
    }

    #[test]
    fn includes_needs_every_value_of_a_set() {
        let v = text("AAA;BBB;ccc");
        let sets = |s: &[&[&str]]| -> Vec<Vec<String>> {
            s.iter()
                .map(|set| set.iter().map(|x| x.to_string()).collect())
                .collect()
        };
        assert!(includes(&v, &sets(&[&["aaa", "bbb"]])));
        assert!(!includes(&v, &sets(&[&["aaa", "ddd"]])));
        assert!(includes(&v, &sets(&[&["aaa", "ddd"], &["ccc"]])));
        assert!(!includes(&Value::Null, &sets(&[&["aaa"]])));
    }
}
