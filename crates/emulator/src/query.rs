//! `/query`, `/queryAll`, query locators and `/tooling/query`.
//!
//! A query is evaluated once; its records are rendered and kept behind a locator, and each
//! page is a slice of them (`nextRecordsUrl` = `/services/data/vXX.X/query/{01g id}-{offset}`).
//! `Sforce-Query-Options: batchSize=N` picks the page size (200..2000, default 2000).

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value as Json, json};

use super::errors::ApiError;
use super::rest::json_response;
use super::state::{AppState, Ctx, Cursor};

const DEFAULT_BATCH: usize = 2000;
const MIN_BATCH: usize = 200;

type Outcome = Result<Response, Vec<ApiError>>;

/// The batch size a client asked for, clamped to Salesforce's range.
pub fn batch_size(headers: &HeaderMap) -> usize {
    headers
        .get("Sforce-Query-Options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',').find_map(|part| {
                let (key, value) = part.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
        })
        .map_or(DEFAULT_BATCH, |n| n.clamp(MIN_BATCH, DEFAULT_BATCH))
}

/// The evaluated answer to a query: the total and every record, serialized.
pub struct Evaluated {
    pub total_size: usize,
    pub records: Vec<Box<[u8]>>,
}

pub fn first_page(
    state: &AppState,
    ctx: &Ctx,
    params: &[(String, String)],
    headers: &HeaderMap,
    all_rows: bool,
) -> Outcome {
    let Some(soql) = params
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str())
    else {
        return Err(vec![ApiError::bad_request(
            "MALFORMED_QUERY",
            "A query string has to be specified",
        )]);
    };
    let batch = batch_size(headers);
    let evaluated = super::engine::run(state, ctx, soql, all_rows, batch)?;
    Ok(page(
        state,
        ctx,
        evaluated.records,
        evaluated.total_size,
        batch,
        0,
        all_rows,
        None,
        None,
    ))
}

/// Builds one page; keeps the rest behind a locator when more remain.
#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    ctx: &Ctx,
    records: Vec<Box<[u8]>>,
    total_size: usize,
    batch: usize,
    offset: usize,
    all_rows: bool,
    existing: Option<(String, Arc<Cursor>)>,
    tooling: Option<String>,
) -> Response {
    let (locator, cursor) = match existing {
        Some(pair) => pair,
        None if batch < records.len() => {
            let id = state.next_locator();
            let cursor = Arc::new(Cursor {
                org: ctx.org.index,
                user_id: ctx.access.user_id.clone(),
                records,
                total_size,
                batch_size: batch,
                all_rows,
                tooling,
            });
            state
                .cursors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), Arc::clone(&cursor));
            (id, cursor)
        }
        None => {
            return match tooling {
                Some(entity) => tooling_response(total_size, None, &entity, &records),
                None => page_response(total_size, None, &records),
            };
        }
    };
    let end = (offset + batch).min(cursor.records.len());
    let next = (end < cursor.records.len()).then(|| {
        let resource = match (&cursor.tooling, cursor.all_rows) {
            (Some(_), _) => "tooling/query",
            (None, true) => "queryAll",
            (None, false) => "query",
        };
        (
            format!("/services/data/v{}/{resource}/{locator}-{end}", ctx.version),
            format!("{locator}-{end}"),
        )
    });
    let records = cursor.records.get(offset..end).unwrap_or(&[]);
    match &cursor.tooling {
        Some(entity) => tooling_response(cursor.total_size, next.as_ref(), entity, records),
        None => page_response(
            cursor.total_size,
            next.as_ref().map(|(url, _)| url.as_str()),
            records,
        ),
    }
}

/// A Tooling API result page: `size`, `totalSize`, `done`, `queryLocator`,
/// `entityTypeName`, `records` (as the CumulusCI recording has them), and `nextRecordsUrl`
/// while more remain.
fn tooling_response(
    total_size: usize,
    next: Option<&(String, String)>,
    entity: &str,
    records: &[Box<[u8]>],
) -> Response {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 256);
    out.extend_from_slice(
        format!("{{\"size\":{},\"totalSize\":{total_size}", records.len()).as_bytes(),
    );
    out.extend_from_slice(if next.is_some() {
        b",\"done\":false"
    } else {
        b",\"done\":true"
    });
    out.extend_from_slice(b",\"queryLocator\":");
    out.extend_from_slice(
        &serde_json::to_vec(&next.map(|(_, locator)| locator)).unwrap_or_default(),
    );
    if let Some((url, _)) = next {
        out.extend_from_slice(b",\"nextRecordsUrl\":");
        out.extend_from_slice(&serde_json::to_vec(url).unwrap_or_default());
    }
    out.extend_from_slice(b",\"entityTypeName\":");
    out.extend_from_slice(&serde_json::to_vec(entity).unwrap_or_default());
    out.extend_from_slice(b",\"records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record);
    }
    out.extend_from_slice(b"]}");
    let mut response = Response::new(axum::body::Body::from(out));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(super::rest::JSON_CONTENT_TYPE),
    );
    response
}

/// A result page in Salesforce's key order, assembled from records serialized once: a page
/// is never copied into a JSON tree again.
pub fn page_bytes(
    total_size: usize,
    next_records_url: Option<&str>,
    records: &[Box<[u8]>],
) -> Vec<u8> {
    let size: usize = records.iter().map(|r| r.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 128);
    out.extend_from_slice(b"{\"totalSize\":");
    out.extend_from_slice(total_size.to_string().as_bytes());
    out.extend_from_slice(if next_records_url.is_some() {
        b",\"done\":false"
    } else {
        b",\"done\":true"
    });
    if let Some(url) = next_records_url {
        out.extend_from_slice(b",\"nextRecordsUrl\":");
        out.extend_from_slice(&serde_json::to_vec(url).unwrap_or_default());
    }
    out.extend_from_slice(b",\"records\":[");
    for (i, record) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(record);
    }
    out.extend_from_slice(b"]}");
    out
}

fn page_response(
    total_size: usize,
    next_records_url: Option<&str>,
    records: &[Box<[u8]>],
) -> Response {
    let mut response = Response::new(axum::body::Body::from(page_bytes(
        total_size,
        next_records_url,
        records,
    )));
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(super::rest::JSON_CONTENT_TYPE),
    );
    response
}

pub fn next_page(state: &AppState, ctx: &Ctx, locator: &str) -> Outcome {
    next_page_of(state, ctx, locator, false)
}

/// `/tooling/query/{locator}`: the next page of a Tooling query.
pub fn next_tooling_page(state: &AppState, ctx: &Ctx, locator: &str) -> Outcome {
    next_page_of(state, ctx, locator, true)
}

fn next_page_of(state: &AppState, ctx: &Ctx, locator: &str, tooling: bool) -> Outcome {
    let invalid = || {
        vec![ApiError::bad_request(
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        )]
    };
    let (id, offset) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let offset: usize = offset.parse().map_err(|_| invalid())?;
    let cursor = state
        .cursors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map
        .get(id)
        .cloned()
        .ok_or_else(invalid)?;
    if cursor.org != ctx.org.index
        || cursor.user_id != ctx.access.user_id
        || offset > cursor.records.len()
        || cursor.tooling.is_some() != tooling
    {
        return Err(invalid());
    }
    let batch = cursor.batch_size;
    let total = cursor.total_size;
    let all_rows = cursor.all_rows;
    Ok(page(
        state,
        ctx,
        Vec::new(),
        total,
        batch,
        offset,
        all_rows,
        Some((id.to_string(), cursor)),
        None,
    ))
}

/// `/tooling/query`: `SecuritySettings` (the audit's: its `Metadata` carries the org's
/// session settings) here, every other object through the SOQL engine over the org's
/// metadata (`tooling.rs`), paged like `/query`.
pub fn tooling(
    state: &AppState,
    ctx: &Ctx,
    params: &[(String, String)],
    headers: &HeaderMap,
) -> Outcome {
    let soql = params
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_string())
        .ok_or_else(|| {
            vec![ApiError::bad_request(
                "MALFORMED_QUERY",
                "A query string has to be specified",
            )]
        })?;
    let lower = soql.to_ascii_lowercase();
    let from = lower
        .split_whitespace()
        .skip_while(|w| *w != "from")
        .nth(1)
        .unwrap_or("")
        .to_string();
    let select: Vec<String> = lower
        .strip_prefix("select")
        .and_then(|s| s.split(" from ").next())
        .map(|list| list.split(',').map(|f| f.trim().to_string()).collect())
        .unwrap_or_default();
    if from != "securitysettings" {
        let batch = batch_size(headers);
        let answer = super::tooling::run(&ctx.org, &ctx.version, &soql, ctx.access.view_setup)?;
        return Ok(page(
            state,
            ctx,
            answer.records,
            answer.total_size,
            batch,
            0,
            false,
            None,
            Some(answer.entity_type_name),
        ));
    }
    let id = super::ids::mint("0Dd", ctx.org.index as u64 + 1);
    let mut record = serde_json::Map::new();
    record.insert(
        "attributes".into(),
        json!({
            "type": "SecuritySettings",
            "url": format!("/services/data/v{}/tooling/sobjects/SecuritySettings/{id}", ctx.version),
        }),
    );
    for field in &select {
        match field.as_str() {
            "id" => {
                record.insert("Id".into(), json!(id));
            }
            "metadata" => {
                record.insert(
                    "Metadata".into(),
                    security_metadata(&ctx.org.session_settings, &ctx.org.network_access),
                );
            }
            "fullname" => {
                record.insert("FullName".into(), json!("Security"));
            }
            other => {
                return Err(vec![ApiError::bad_request(
                    "INVALID_FIELD",
                    format!("No such column '{other}' on entity 'SecuritySettings'."),
                )]);
            }
        }
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "size": 1,
            "totalSize": 1,
            "done": true,
            "queryLocator": null,
            "entityTypeName": "SecuritySettings",
            "records": [Json::Object(record)],
        }),
    ))
}

/// The `SecuritySettings` metadata blob; the org's `session_settings` override the defaults
/// of a new org, and `network_access` holds its trusted IP ranges.
fn security_metadata(overrides: &Json, network_access: &Json) -> Json {
    let mut session = json!({
        "allowUserAuthenticationByCertificate": false,
        "canConfirmEmailChangeInLightningCommunities": false,
        "enableCSPOnEmail": true,
        "enableCSRFOnGet": true,
        "enableCSRFOnPost": true,
        "enableCacheAndAutocomplete": true,
        "enableClickjackNonsetupSFDC": true,
        "enableClickjackNonsetupUser": false,
        "enableClickjackNonsetupUserHeaderless": false,
        "enableClickjackSetup": true,
        "enableContentSniffingProtection": true,
        "enableLightningLogin": true,
        "enableLightningLoginOnlyWithUserPerm": false,
        // "Require multi-factor authentication (MFA) for all direct UI logins": Salesforce
        // turned it on in production orgs during its MFA auto-enablement (2022-2023).
        "enableMFADirectUILoginOptIn": true,
        "enablePostForSessions": false,
        "enableSMSIdentity": false,
        "enableXssProtection": true,
        "enforceIpRangesEveryRequest": false,
        "forceLogoutOnSessionTimeout": false,
        "forceRelogin": true,
        "hstsOnForcecomSites": true,
        "identityConfirmationOnEmailChange": true,
        "identityConfirmationOnTwoFactorRegistrationEnabled": true,
        "lockSessionsToDomain": true,
        "lockSessionsToIp": false,
        "logoutURL": null,
        "redirectionWarning": true,
        "referrerPolicy": true,
        "requireHttpOnly": false,
        "requireHttps": true,
        "securityCentralKillSession": true,
        "sessionTimeout": "TwoHours",
        "sessionTimeoutWarning": true,
    });
    if let (Some(target), Some(source)) = (session.as_object_mut(), overrides.as_object()) {
        for (k, v) in source {
            target.insert(k.clone(), v.clone());
        }
    }
    json!({
        "canUsersGrantLoginAccess": true,
        "enableAdminLoginAsAnyUser": false,
        "enableAuditFieldsInactiveOwner": false,
        "enableAuraSecureEvalPref": true,
        "enableRequireHttpsConnection": true,
        "isTLSv12Required": false,
        "isTLSv12RequiredCommunities": false,
        "networkAccess": network_access,
        "passwordPolicies": {
            "apiOnlyUserHomePageURL": null,
            "complexity": "AlphaNumeric",
            "expiration": "Never",
            "historyRestriction": "3",
            "lockoutInterval": "FifteenMinutes",
            "maxLoginAttempts": "TenAttempts",
            "minimumPasswordLength": "8",
            "minimumPasswordLifetime": false,
            "obscureSecretAnswer": false,
            "passwordAssistanceMessage": null,
            "passwordAssistanceURL": null,
            "questionRestriction": "DoesNotContainPassword",
        },
        "sessionSettings": session,
        "singleSignOnSettings": null,
        "urls": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn batch_size_is_clamped_and_defaulted() {
        let mut headers = HeaderMap::new();
        assert_eq!(batch_size(&headers), 2000);
        headers.insert(
            "Sforce-Query-Options",
            HeaderValue::from_static("batchSize=500"),
        );
        assert_eq!(batch_size(&headers), 500);
        headers.insert(
            "Sforce-Query-Options",
            HeaderValue::from_static("batchSize=10"),
        );
        assert_eq!(batch_size(&headers), 200);
        headers.insert(
            "Sforce-Query-Options",
            HeaderValue::from_static("batchSize=9000"),
        );
        assert_eq!(batch_size(&headers), 2000);
        headers.insert(
            "Sforce-Query-Options",
            HeaderValue::from_static("batchSize=x"),
        );
        assert_eq!(batch_size(&headers), 2000);
    }
}
