//! The file IdP connector: a directory export as CSV or JSON, for IdPs without a connector
//! and for HR-system exports.
//!
//! **CSV** (comma-separated, first row is a header, column names case-insensitive, order free):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `email` | yes | primary corporate address |
//! | `status` | yes | `active`/`enabled`, `locked`, `pending`/`staged`/`provisioned`/`invited`, `suspended`/`disabled`/`inactive`, `deprovisioned`/`deleted`/`archived`/`terminated` |
//! | `aliases` | no | other corporate addresses, separated by semicolons, vertical bars or spaces |
//! | `secondary_emails` | no | addresses that may be personal (an HR system's private e-mail field, a second address an admin also uses for an old corporate one), separated the same way: each counts only when its domain is one the file's primary addresses or logins use |
//! | `login` | no | login / UPN, matched against Salesforce Federation ID |
//! | `id` | no | the IdP's own id, shown in evidence |
//!
//! Other columns are ignored. Do not put personal or recovery addresses in `aliases`: they
//! could make an ex-employee look present. Where a column mixes both, use `secondary_emails`.
//!
//! **JSON**: an array of objects, or `{"users": [...]}`, with the same keys (`aliases` and
//! `secondary_emails` as arrays of strings).
//!
//! Errors name the line and column to fix.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::idp::{FILE_STATUS_WORDS, file_status};
use crate::model::{IdpDirectory, IdpKind, IdpStatus, IdpUser};

#[derive(Debug, thiserror::Error)]
pub enum FileIdpError {
    #[error("cannot read IdP file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: {message}")]
    Syntax {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "{path}: the header has no `{column}` column (found: {found}); the file needs at least \
         `email` and `status` columns"
    )]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    #[error("{path}: line {line}, column {column}: {message}")]
    BadValue {
        path: PathBuf,
        line: u64,
        column: String,
        message: String,
    },
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: the file lists no users; an empty directory would report every Salesforce user"
    )]
    Empty { path: PathBuf },
}

/// Load a CSV or JSON export; the format is taken from the content (JSON starts with `[` or
/// `{`), so the extension does not matter.
pub fn load(path: &Path) -> Result<IdpDirectory, FileIdpError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileIdpError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Parse file content; `path` is only used in messages and as the directory's source.
pub fn parse(text: &str, path: &Path) -> Result<IdpDirectory, FileIdpError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let users = match text.trim_start().chars().next() {
        Some('[') | Some('{') => parse_json(text, path)?,
        _ => parse_csv(text, path)?,
    };
    if users.is_empty() {
        return Err(FileIdpError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(IdpDirectory {
        kind: IdpKind::File,
        source: path.display().to_string(),
        users,
    })
}

fn status_error(value: &str) -> String {
    if value.trim().eq_ignore_ascii_case("absent") {
        "status `absent` is not a state: leave people the IdP does not know out of the file"
            .to_owned()
    } else {
        format!("unknown status `{value}`: use one of {FILE_STATUS_WORDS}")
    }
}

fn split_addresses(field: &str) -> Vec<String> {
    field
        .split([';', '|', ' ', '\t'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

fn looks_like_address(value: &str) -> bool {
    crate::matching::normalise_address(value).is_some()
}

fn parse_csv(text: &str, path: &Path) -> Result<Vec<IdpUser>, FileIdpError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let syntax = |e: csv::Error| FileIdpError::Syntax {
        path: path.to_owned(),
        line: e.position().map_or(0, csv::Position::line),
        message: format!("{e}; check quoting and that every row has as many fields as the header"),
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(syntax)?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &'static str| headers.iter().position(|h| h == name);
    let required = |name: &'static str| {
        column(name).ok_or_else(|| FileIdpError::MissingColumn {
            path: path.to_owned(),
            column: name,
            found: headers.join(", "),
        })
    };
    let email_col = required("email")?;
    let status_col = required("status")?;
    let aliases_col = column("aliases");
    let secondary_col = column("secondary_emails");
    let login_col = column("login");
    let id_col = column("id");

    let mut users = Vec::new();
    for record in reader.records() {
        let record = record.map_err(syntax)?;
        let line = record.position().map_or(0, csv::Position::line);
        let bad = |column: &str, message: String| FileIdpError::BadValue {
            path: path.to_owned(),
            line,
            column: column.to_owned(),
            message,
        };
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let email = get(Some(email_col)).unwrap_or("");
        if !looks_like_address(email) {
            return Err(bad(
                "email",
                format!("`{email}` is not an e-mail address (expected local@domain)"),
            ));
        }
        let status_text = get(Some(status_col)).unwrap_or("");
        let status =
            file_status(status_text).ok_or_else(|| bad("status", status_error(status_text)))?;
        let addresses = |column: &'static str, at: Option<usize>| {
            let addresses = get(at).map(split_addresses).unwrap_or_default();
            match addresses.iter().find(|a| !looks_like_address(a)) {
                Some(a) => Err(bad(
                    column,
                    format!("`{a}` is not an e-mail address; separate addresses with `;`"),
                )),
                None => Ok(addresses),
            }
        };
        let aliases = addresses("aliases", aliases_col)?;
        let secondary_emails = addresses("secondary_emails", secondary_col)?;
        users.push(IdpUser {
            id: get(id_col).map(str::to_owned),
            email: email.to_owned(),
            login: get(login_col).map(str::to_owned),
            aliases,
            proxy_addresses: Vec::new(),
            secondary_emails,
            status,
            vendor_status: Some(status_text.to_owned()),
        });
    }
    Ok(users)
}

/// A status value, checked while parsing so serde_json's error carries line and column.
struct JsonStatusField {
    vendor: String,
    status: IdpStatus,
}

impl<'de> Deserialize<'de> for JsonStatusField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let vendor = String::deserialize(d)?;
        match file_status(&vendor) {
            Some(status) => Ok(JsonStatusField { vendor, status }),
            None => Err(serde::de::Error::custom(status_error(&vendor))),
        }
    }
}

/// An address, checked while parsing for the same reason.
struct JsonEmailField(String);

impl<'de> Deserialize<'de> for JsonEmailField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if looks_like_address(&text) {
            Ok(JsonEmailField(text.trim().to_owned()))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is not an e-mail address (expected local@domain)"
            )))
        }
    }
}

#[derive(Deserialize)]
struct JsonUser {
    #[serde(default)]
    id: Option<String>,
    email: JsonEmailField,
    status: JsonStatusField,
    #[serde(default)]
    aliases: Vec<JsonEmailField>,
    #[serde(default)]
    secondary_emails: Vec<JsonEmailField>,
    #[serde(default)]
    login: Option<String>,
}

#[derive(Deserialize)]
struct JsonWrapper {
    users: Vec<JsonUser>,
}

fn parse_json(text: &str, path: &Path) -> Result<Vec<IdpUser>, FileIdpError> {
    let to_err = |e: serde_json::Error| FileIdpError::Json {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: json_message(&e),
    };
    let records: Vec<JsonUser> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(to_err)?
    } else {
        serde_json::from_str::<JsonWrapper>(text)
            .map_err(to_err)?
            .users
    };
    Ok(records
        .into_iter()
        .map(|r| {
            let JsonStatusField { vendor, status } = r.status;
            IdpUser {
                id: r.id,
                email: r.email.0,
                login: r.login,
                aliases: r.aliases.into_iter().map(|a| a.0).collect(),
                proxy_addresses: Vec::new(),
                secondary_emails: r.secondary_emails.into_iter().map(|a| a.0).collect(),
                status,
                vendor_status: Some(vendor),
            }
        })
        .collect())
}

/// serde_json's message without the " at line L column C" it appends: the caller prints the
/// position in its own words.
pub fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix)
        .map_or(text.clone(), str::to_owned)
}
