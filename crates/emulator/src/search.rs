//! `/parameterizedSearch`: text search across objects, answered through the SOQL engine so
//! sharing and field-level security apply exactly as they do to queries. The emulator
//! matches the search text as a case-insensitive substring of each object's name field; real
//! SOSL tokenizes and ranks, which no test here relies on.

use axum::http::StatusCode;
use serde_json::{Value as Json, json};

use super::errors::ApiError;
use super::rest::json_response;
use super::state::{AppState, Ctx};
use sfmcp_soql::like_literal;

type Outcome = Result<axum::response::Response, Vec<ApiError>>;

/// Searched when the request names no `sobject`.
const DEFAULT_OBJECTS: [&str; 5] = ["Account", "Contact", "Lead", "Opportunity", "Case"];
/// Salesforce's limits, from the SOSL reference's LIMIT page: without a limit a search
/// returns up to 2,000 records, and no limit may exceed that
/// (developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_sosl_limit.htm);
/// `defaultLimit` and `overallLimit` are capped at 2,000 too (REST API guide, "Parameterized
/// Search").
const MAX_LIMIT: usize = 2_000;

/// `GET /parameterizedSearch?q=..&sobject=A&A.fields=Id,Name&A.limit=10&overallLimit=50`.
///
/// What it returns follows the REST guide and the SOSL LIMIT page:
/// - each `sobject`'s `fields` (only `Id` without them);
/// - at most `{Obj}.limit` records of an object, else `defaultLimit`, else 2,000;
/// - at most `overallLimit` (default 2,000) in all, "evenly distributed among the objects
///   returned": an object with fewer matches than its share leaves the rest to the others
///   (`Account(LIMIT 20), Contact LIMIT 100` with 7 accounts gives up to 93 contacts).
///
/// Records come grouped by object, in the order the objects are named.
pub fn parameterized(state: &AppState, ctx: &Ctx, params: &[(String, String)]) -> Outcome {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    };
    let text = param("q").unwrap_or("");
    // Salesforce refuses search terms shorter than two characters.
    if text.chars().count() < 2 {
        return Err(vec![ApiError::bad_request(
            "INVALID_SEARCH",
            "search term must be longer than one character",
        )]);
    }
    let limit_param = |name: &str| -> Result<Option<usize>, Vec<ApiError>> {
        match param(name) {
            None => Ok(None),
            Some(value) => match value.parse::<usize>() {
                Ok(n) if n <= MAX_LIMIT => Ok(Some(n)),
                _ => Err(vec![ApiError::bad_request(
                    "INVALID_SEARCH",
                    format!("{name} must be a number between 0 and {MAX_LIMIT}"),
                )]),
            },
        }
    };
    let named: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "sobject")
        .map(|(_, v)| v.as_str())
        .collect();
    let objects: Vec<&str> = if named.is_empty() {
        DEFAULT_OBJECTS.to_vec()
    } else {
        named
    };
    let default_limit = limit_param("defaultLimit")?.unwrap_or(MAX_LIMIT);
    let overall = limit_param("overallLimit")?.unwrap_or(MAX_LIMIT);
    // Every object's matches up to its own limit, before the overall limit shares them out.
    let mut matched: Vec<Vec<Json>> = Vec::new();
    for object in objects {
        let Some(index) = ctx.org.schema.index_of(object) else {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{object}' is not supported."),
            )]);
        };
        let def = &ctx.org.schema.objects[index];
        let own_limit = limit_param(&format!("{object}.limit"))?.unwrap_or(default_limit);
        let match_field = if def.field_index("Name").is_some() {
            "Name"
        } else if def.field_index("Subject").is_some() {
            "Subject"
        } else {
            matched.push(Vec::new());
            continue;
        };
        if own_limit == 0 {
            matched.push(Vec::new());
            continue;
        }
        let fields = match param(&format!("{object}.fields")) {
            Some(list) if !list.is_empty() => list.to_string(),
            _ => "Id".to_string(),
        };
        let soql = format!(
            "SELECT {fields} FROM {} WHERE {match_field} LIKE '%{}%' ORDER BY {match_field}, Id LIMIT {own_limit}",
            def.name,
            like_literal(text),
        );
        let evaluated = super::engine::run(state, ctx, &soql, false, MAX_LIMIT)?;
        matched.push(
            evaluated
                .records
                .iter()
                .filter_map(|record| serde_json::from_slice::<Json>(record).ok())
                .collect(),
        );
    }
    let shares = even_shares(&matched.iter().map(Vec::len).collect::<Vec<_>>(), overall);
    let found: Vec<Json> = matched
        .into_iter()
        .zip(shares)
        .flat_map(|(records, share)| records.into_iter().take(share))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "searchRecords": found }),
    ))
}

/// How many of each object's `available` records fit in `overall`, shared evenly: each object
/// gets an equal share, an object with fewer leaves its rest to the others, and what cannot
/// be split evenly goes to the objects named first.
fn even_shares(available: &[usize], overall: usize) -> Vec<usize> {
    let mut shares = vec![0; available.len()];
    let mut left = overall;
    loop {
        let wanting: Vec<usize> = (0..available.len())
            .filter(|&i| shares[i] < available[i])
            .collect();
        if wanting.is_empty() || left == 0 {
            return shares;
        }
        let each = (left / wanting.len()).max(1);
        for i in wanting {
            let give = each.min(available[i] - shares[i]).min(left);
            shares[i] += give;
            left -= give;
        }
    }
}

/// Searched when a SOSL query has no `RETURNING` clause.
const SOSL_OBJECTS: [&str; 5] = DEFAULT_OBJECTS;
/// SOSL returns at most this many records in all.
const SOSL_MAX_ROWS: usize = 2_000;

fn malformed(message: impl Into<String>) -> Vec<ApiError> {
    vec![ApiError::bad_request("MALFORMED_SEARCH", message)]
}

/// One search term, as the braces of `FIND {...}` spell it.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    /// Words that must follow each other in one field; each may hold `*` and `?` wildcards.
    Phrase(Vec<String>),
    And(Box<Term>, Box<Term>),
    Or(Box<Term>, Box<Term>),
    AndNot(Box<Term>, Box<Term>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

/// Characters SOSL reserves in a search term: they must be escaped with a backslash, except
/// where they are syntax (`"` phrases, `(` `)` grouping, `*` `?` wildcards).
const RESERVED: &str = "?&|!{}[]()^~*:\\\"'+-";

fn term_tokens(text: &str) -> Result<Vec<Token>, Vec<ApiError>> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut chars = text.chars().enumerate().peekable();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, escaped)) => word.push(escaped),
                None => {
                    return Err(malformed(
                        "The search term ends with an unfinished escape: a backslash must be followed by the character it escapes",
                    ));
                }
            },
            '*' | '?' => word.push(c),
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            '(' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Open);
            }
            ')' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Close);
            }
            '"' => {
                flush(&mut word, &mut tokens);
                let mut phrase = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                phrase.push(escaped);
                            }
                        }
                        c => phrase.push(c),
                    }
                }
                if !closed {
                    return Err(malformed(
                        "The search term has an unmatched double quote: close the phrase with \"",
                    ));
                }
                tokens.push(Token::Quoted(phrase));
            }
            c if RESERVED.contains(c) => {
                return Err(malformed(format!(
                    "Invalid search term: the reserved character '{c}' at position {} must be escaped with a backslash (\\{c})",
                    at + 1
                )));
            }
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    Ok(tokens)
}

/// Lower-cased words of a text: letters and digits, split on everything else.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '*' || c == '?'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

struct TermParser {
    tokens: Vec<Token>,
    at: usize,
}

impl TermParser {
    fn keyword(&self, name: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == name)
    }

    /// `or := and (OR and)*`
    fn or(&mut self) -> Result<Term, Vec<ApiError>> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.at += 1;
            let right = self.and()?;
            left = Term::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `and := primary ((AND [NOT] | implicit) primary)*`
    fn and(&mut self) -> Result<Term, Vec<ApiError>> {
        let mut left = self.primary()?;
        loop {
            let negated = if self.keyword("AND") {
                self.at += 1;
                if self.keyword("NOT") {
                    self.at += 1;
                    true
                } else {
                    false
                }
            } else if matches!(self.tokens.get(self.at), None | Some(Token::Close))
                || self.keyword("OR")
            {
                break;
            } else {
                false
            };
            let right = self.primary()?;
            left = if negated {
                Term::AndNot(Box::new(left), Box::new(right))
            } else {
                Term::And(Box::new(left), Box::new(right))
            };
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Term, Vec<ApiError>> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        match token {
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(malformed(
                        "The search term has an unmatched parenthesis: close each ( with )",
                    ));
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) if matches!(w.as_str(), "AND" | "OR" | "NOT") => Err(malformed(
                format!("The search term has the operator {w} where a word was expected"),
            )),
            Some(Token::Word(w) | Token::Quoted(w)) => {
                let parts = words(&w);
                if parts.is_empty() {
                    Err(malformed(format!(
                        "The search term '{w}' has no letters or digits to search for"
                    )))
                } else {
                    Ok(Term::Phrase(parts))
                }
            }
            Some(Token::Close) => Err(malformed(
                "The search term has an unmatched parenthesis: close each ( with )",
            )),
            None => Err(malformed("The search term ends where a word was expected")),
        }
    }
}

fn parse_term(text: &str) -> Result<Term, Vec<ApiError>> {
    let searchable: usize = text.chars().filter(|c| c.is_alphanumeric()).count();
    if searchable < 2 {
        return Err(vec![ApiError::bad_request(
            "INVALID_SEARCH",
            "search term must be longer than one character",
        )]);
    }
    let mut parser = TermParser {
        tokens: term_tokens(text)?,
        at: 0,
    };
    let term = parser.or()?;
    if parser.at < parser.tokens.len() {
        return Err(malformed(
            "The search term has an unmatched parenthesis: close each ( with )",
        ));
    }
    Ok(term)
}

/// `*` matches any run of characters, `?` exactly one.
fn wildcard_match(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|i| wildcard_match(rest, &text[i..])),
        Some(('?', rest)) => !text.is_empty() && wildcard_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && wildcard_match(rest, &text[1..]),
    }
}

fn word_match(pattern: &str, word: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == word;
    }
    let p: Vec<char> = pattern.chars().collect();
    let w: Vec<char> = word.chars().collect();
    wildcard_match(&p, &w)
}

impl Term {
    /// Whether the searched fields (each already split into words) match.
    fn matches(&self, fields: &[Vec<String>]) -> bool {
        match self {
            Term::Phrase(parts) => fields.iter().any(|words| {
                words.len() >= parts.len()
                    && words
                        .windows(parts.len())
                        .any(|window| window.iter().zip(parts).all(|(w, p)| word_match(p, w)))
            }),
            Term::And(a, b) => a.matches(fields) && b.matches(fields),
            Term::Or(a, b) => a.matches(fields) || b.matches(fields),
            Term::AndNot(a, b) => a.matches(fields) && !b.matches(fields),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Name,
    Email,
    Phone,
}

/// One `RETURNING` entry: `Object (fields [WHERE ...] [ORDER BY ...] [LIMIT n] [OFFSET n])`.
#[derive(Debug, Default, Clone, PartialEq)]
struct Returning {
    object: String,
    fields: String,
    where_clause: Option<String>,
    order_by: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
struct Sosl {
    term: Term,
    scope: Scope,
    returning: Vec<Returning>,
    limit: Option<usize>,
}

/// Splits `text` at top level (outside quotes and parentheses) on `separator`.
fn split_top(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            c if c == separator && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Byte offsets of top-level occurrences of a keyword (as a whole word, any case).
fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let keyword = keyword.to_ascii_lowercase();
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    let bytes = lower.as_bytes();
    for (i, c) in lower.char_indices() {
        match c {
            _ if escaped => {
                escaped = false;
                continue;
            }
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if quoted || depth != 0 || !lower[i..].starts_with(&keyword) {
            continue;
        }
        let before = i.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(i + keyword.len()).copied();
        let boundary = |b: Option<u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
        if boundary(before) && boundary(after) {
            return Some(i);
        }
    }
    None
}

fn parse_count(text: &str, what: &str) -> Result<usize, Vec<ApiError>> {
    text.trim().parse::<usize>().map_err(|_| {
        malformed(format!(
            "{what} must be a whole number, not '{}'",
            text.trim()
        ))
    })
}

/// Splits `text` at the first top-level occurrence of each clause keyword, in order.
fn clauses<'a>(text: &'a str, keywords: &[&str]) -> (&'a str, Vec<(usize, &'a str)>) {
    let mut found: Vec<(usize, usize, usize)> = keywords
        .iter()
        .enumerate()
        .filter_map(|(k, kw)| find_keyword(text, kw).map(|at| (at, k, kw.len())))
        .collect();
    found.sort();
    let head_end = found.first().map_or(text.len(), |f| f.0);
    let mut out = Vec::new();
    for (n, &(at, k, len)) in found.iter().enumerate() {
        let end = found.get(n + 1).map_or(text.len(), |f| f.0);
        out.push((k, text[at + len..end].trim()));
    }
    (&text[..head_end], out)
}

fn parse_returning(spec: &str) -> Result<Returning, Vec<ApiError>> {
    let spec = spec.trim();
    let (object, inner) = match spec.find('(') {
        Some(open) => {
            let Some(inner) = spec[open + 1..].trim_end().strip_suffix(')') else {
                return Err(malformed(format!(
                    "RETURNING {spec}: close the field list with )"
                )));
            };
            (spec[..open].trim(), Some(inner))
        }
        None => (spec, None),
    };
    if object.is_empty()
        || !object
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(malformed(format!(
            "RETURNING needs object names, as RETURNING Account(Id, Name), Contact: found '{spec}'"
        )));
    }
    let mut out = Returning {
        object: object.to_string(),
        ..Returning::default()
    };
    if let Some(inner) = inner {
        let (fields, parts) = clauses(inner, &["WHERE", "ORDER BY", "LIMIT", "OFFSET"]);
        out.fields = fields.trim().to_string();
        for (k, text) in parts {
            match k {
                0 => out.where_clause = Some(text.to_string()),
                1 => out.order_by = Some(text.to_string()),
                2 => out.limit = Some(parse_count(text, "LIMIT")?),
                _ => out.offset = Some(parse_count(text, "OFFSET")?),
            }
        }
        if out.fields.is_empty() {
            return Err(malformed(format!(
                "RETURNING {object}(): name at least one field"
            )));
        }
    }
    Ok(out)
}

fn parse_sosl(q: &str) -> Result<Sosl, Vec<ApiError>> {
    let text = q.trim();
    let no_term = || malformed("No search term found. The search term must be enclosed in braces.");
    let rest = match text.get(..4) {
        Some(find) if find.eq_ignore_ascii_case("FIND") => text[4..].trim_start(),
        _ => return Err(no_term()),
    };
    let Some(body) = rest.strip_prefix('{') else {
        return Err(no_term());
    };
    // The term ends at the first unescaped closing brace.
    let mut end = None;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '}' => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else {
        return Err(no_term());
    };
    let term = parse_term(&body[..end])?;
    let tail = &body[end + 1..];
    let (head, parts) = clauses(tail, &["IN", "RETURNING", "LIMIT", "WITH", "OFFSET"]);
    if !head.trim().is_empty() {
        return Err(malformed(format!(
            "Unexpected '{}' after the search term: expected IN, RETURNING or LIMIT",
            head.trim()
        )));
    }
    let mut sosl = Sosl {
        term,
        scope: Scope::All,
        returning: Vec::new(),
        limit: None,
    };
    for (k, text) in parts {
        match k {
            0 => {
                let group = text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_ascii_uppercase();
                sosl.scope = match group.as_str() {
                    "ALL FIELDS" => Scope::All,
                    "NAME FIELDS" | "SIDEBAR FIELDS" => Scope::Name,
                    "EMAIL FIELDS" => Scope::Email,
                    "PHONE FIELDS" => Scope::Phone,
                    _ => {
                        return Err(malformed(format!(
                            "IN {text}: use IN ALL FIELDS, NAME FIELDS, EMAIL FIELDS or PHONE FIELDS"
                        )));
                    }
                };
            }
            1 => {
                for spec in split_top(text, ',') {
                    sosl.returning.push(parse_returning(spec)?);
                }
            }
            2 => sosl.limit = Some(parse_count(text, "LIMIT")?),
            3 => {} // WITH clauses (snippets, divisions, metadata) change nothing here.
            _ => {
                let offset = parse_count(text, "OFFSET")?;
                if offset > SOSL_MAX_ROWS {
                    return Err(vec![ApiError::bad_request(
                        "INVALID_SEARCH",
                        format!("OFFSET can be at most {SOSL_MAX_ROWS}"),
                    )]);
                }
            }
        }
    }
    Ok(sosl)
}

fn searched(field: &super::schema::FieldDef, scope: Scope) -> bool {
    use sfmcp_soql::schema::FieldType as T;
    match scope {
        Scope::All => {
            matches!(
                field.field_type,
                T::String | T::Textarea | T::Email | T::Phone | T::Url
            ) && field.name != "Id"
        }
        Scope::Name => field.name_field || matches!(field.name.as_str(), "FirstName" | "LastName"),
        Scope::Email => field.field_type == T::Email,
        Scope::Phone => field.field_type == T::Phone,
    }
}

/// The values of `names` in one rendered record, split into words.
fn record_words(record: &Json, names: &[String]) -> Vec<Vec<String>> {
    names
        .iter()
        .filter_map(|n| record.get(n).and_then(Json::as_str))
        .map(words)
        .collect()
}

/// `GET /search?q=FIND {...} ...`: SOSL, answered through the SOQL engine so sharing and
/// field-level security apply. Records come object by object in `RETURNING` order, each
/// object's in its `ORDER BY` (else table) order; real SOSL ranks by relevance. An overall
/// `LIMIT` is shared evenly among the objects ([`even_shares`]).
pub fn sosl(state: &AppState, ctx: &Ctx, params: &[(String, String)]) -> Outcome {
    let q = params
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let sosl = parse_sosl(q)?;
    let returning = if sosl.returning.is_empty() {
        SOSL_OBJECTS
            .iter()
            .map(|o| Returning {
                object: (*o).to_string(),
                ..Returning::default()
            })
            .collect()
    } else {
        sosl.returning.clone()
    };
    let overall = sosl.limit.unwrap_or(SOSL_MAX_ROWS).min(SOSL_MAX_ROWS);
    // Each object's matches up to its own limit; the overall limit then shares them out
    // evenly, as the SOSL reference's LIMIT page describes ([`even_shares`]).
    let mut matched: Vec<Vec<Json>> = Vec::new();
    for spec in &returning {
        let Some(index) = ctx.org.schema.index_of(&spec.object) else {
            return Err(vec![ApiError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{}' is not supported.", spec.object),
            )]);
        };
        let def = &ctx.org.schema.objects[index];
        let search_fields: Vec<String> = def
            .fields
            .iter()
            .filter(|f| searched(f, sosl.scope) && ctx.access.schema.is_visible(def, f))
            .map(|f| f.name.clone())
            .collect();
        let where_clause = spec
            .where_clause
            .as_deref()
            .map(|w| format!(" WHERE ({w})"))
            .unwrap_or_default();
        let mut select = vec!["Id".to_string()];
        select.extend(search_fields.iter().cloned());
        let candidates = format!(
            "SELECT {} FROM {}{where_clause}",
            select.join(", "),
            def.name
        );
        let evaluated = super::engine::run(state, ctx, &candidates, false, SOSL_MAX_ROWS)?;
        let ids: Vec<String> = evaluated
            .records
            .iter()
            .filter_map(|bytes| serde_json::from_slice::<Json>(bytes).ok())
            .filter(|record| sosl.term.matches(&record_words(record, &search_fields)))
            .filter_map(|record| record.get("Id").and_then(Json::as_str).map(str::to_string))
            .collect();
        let limit = spec.limit.unwrap_or(SOSL_MAX_ROWS).min(SOSL_MAX_ROWS);
        if ids.is_empty() || limit == 0 {
            matched.push(Vec::new());
            // Still validate the field list, as Salesforce does for every RETURNING object.
            if !spec.fields.is_empty() {
                super::engine::run(
                    state,
                    ctx,
                    &format!("SELECT {} FROM {} LIMIT 1", spec.fields, def.name),
                    false,
                    1,
                )?;
            }
            continue;
        }
        let fields = if spec.fields.is_empty() {
            "Id"
        } else {
            &spec.fields
        };
        let id_list: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
        let order = spec
            .order_by
            .as_deref()
            .map(|o| format!(" ORDER BY {o}"))
            .unwrap_or_default();
        let offset = spec
            .offset
            .map(|o| format!(" OFFSET {o}"))
            .unwrap_or_default();
        let soql = format!(
            "SELECT {fields} FROM {} WHERE Id IN ({}){order} LIMIT {limit}{offset}",
            def.name,
            id_list.join(", ")
        );
        let evaluated = super::engine::run(state, ctx, &soql, false, SOSL_MAX_ROWS)?;
        matched.push(
            evaluated
                .records
                .iter()
                .filter_map(|record| serde_json::from_slice::<Json>(record).ok())
                .collect(),
        );
    }
    let shares = even_shares(&matched.iter().map(Vec::len).collect::<Vec<_>>(), overall);
    let found: Vec<Json> = matched
        .into_iter()
        .zip(shares)
        .flat_map(|(records, share)| records.into_iter().take(share))
        .collect();
    let legacy = ctx
        .version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m < 36);
    let body = if legacy {
        Json::Array(found)
    } else {
        json!({ "searchRecords": found })
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_limits_are_shared_as_the_sosl_reference_describes() {
        // "overall query limit of 20 .. 19 accounts and 35 contacts .. only 10 accounts and
        // 10 contacts are returned".
        assert_eq!(even_shares(&[19, 35], 20), vec![10, 10]);
        // "only seven accounts match .. at most 93 contact records".
        assert_eq!(even_shares(&[7, 200], 100), vec![7, 93]);
        // "15 accounts and 30 contacts, then only 55 opportunities".
        assert_eq!(even_shares(&[15, 30, 75], 100), vec![15, 30, 55]);
        assert_eq!(even_shares(&[5, 5, 5], 4), vec![2, 1, 1]);
        assert_eq!(even_shares(&[3, 0], 2_000), vec![3, 0]);
    }

    fn phrase(words: &[&str]) -> Term {
        Term::Phrase(words.iter().map(|w| (*w).to_string()).collect())
    }

    #[test]
    fn terms_parse_with_operators_phrases_and_escapes() {
        assert_eq!(parse_term("Acme").unwrap(), phrase(&["acme"]));
        assert_eq!(
            parse_term("Acme OR Globex").unwrap(),
            Term::Or(Box::new(phrase(&["acme"])), Box::new(phrase(&["globex"])))
        );
        assert_eq!(
            parse_term("\"Acme Corp\" AND NOT Inc").unwrap(),
            Term::AndNot(
                Box::new(phrase(&["acme", "corp"])),
                Box::new(phrase(&["inc"]))
            )
        );
        assert_eq!(
            parse_term("Acme Corp").unwrap(),
            Term::And(Box::new(phrase(&["acme"])), Box::new(phrase(&["corp"])))
        );
        assert_eq!(
            parse_term("Acme\\-Corp").unwrap(),
            phrase(&["acme", "corp"])
        );
        assert_eq!(parse_term("jo*").unwrap(), phrase(&["jo*"]));
    }

    #[test]
    fn bad_terms_get_salesforce_codes() {
        let code = |t: &str| parse_term(t).unwrap_err()[0].code;
        assert_eq!(code("a"), "INVALID_SEARCH");
        assert_eq!(code("Acme-Corp"), "MALFORMED_SEARCH");
        assert_eq!(code("Acme & Co"), "MALFORMED_SEARCH");
        assert_eq!(code("(Acme"), "MALFORMED_SEARCH");
        assert_eq!(code("\"Acme"), "MALFORMED_SEARCH");
        assert_eq!(code("Acme OR"), "MALFORMED_SEARCH");
    }

    #[test]
    fn matching_is_by_whole_words_with_wildcards() {
        let fields = vec![words("Acme Corporation"), words("sales@acme.example")];
        assert!(parse_term("acme").unwrap().matches(&fields));
        assert!(!parse_term("cme").unwrap().matches(&fields));
        assert!(parse_term("corp*").unwrap().matches(&fields));
        assert!(parse_term("ac?e").unwrap().matches(&fields));
        assert!(parse_term("\"acme corporation\"").unwrap().matches(&fields));
        assert!(!parse_term("\"corporation acme\"").unwrap().matches(&fields));
        assert!(parse_term("sales@acme.example").unwrap().matches(&fields));
        assert!(!parse_term("acme AND NOT sales").unwrap().matches(&fields));
        assert!(parse_term("globex OR acme").unwrap().matches(&fields));
    }

    #[test]
    fn queries_parse_into_scope_returning_and_limits() {
        let sosl = parse_sosl(
            "find {Acme} in name fields returning Account(Id, Name where Industry = 'Energy, Inc' order by Name limit 5), Contact limit 20",
        )
        .unwrap();
        assert_eq!(sosl.scope, Scope::Name);
        assert_eq!(sosl.limit, Some(20));
        assert_eq!(sosl.returning.len(), 2);
        let account = &sosl.returning[0];
        assert_eq!(account.fields, "Id, Name");
        assert_eq!(
            account.where_clause.as_deref(),
            Some("Industry = 'Energy, Inc'")
        );
        assert_eq!(account.order_by.as_deref(), Some("Name"));
        assert_eq!(account.limit, Some(5));
        assert_eq!(sosl.returning[1].object, "Contact");
        assert_eq!(sosl.returning[1].fields, "");
    }

    #[test]
    fn a_query_without_braces_is_malformed_as_recorded() {
        let errors = parse_sosl("FIND Acme").unwrap_err();
        assert_eq!(errors[0].code, "MALFORMED_SEARCH");
        assert_eq!(
            errors[0].message,
            "No search term found. The search term must be enclosed in braces."
        );
        assert_eq!(
            parse_sosl("FIND {Acme} IN EVERYTHING").unwrap_err()[0].code,
            "MALFORMED_SEARCH"
        );
        assert_eq!(parse_sosl("FIND {Acme\\}} LIMIT 3").unwrap().limit, Some(3));
    }
}
