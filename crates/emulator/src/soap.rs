//! The SOAP partner API's `login` and `logout` calls (`POST /services/Soap/u/{version}`), so
//! clients that log in with a username and password (jsforce's `loginBySoap`, and the MCP
//! servers built on it) run against the emulator.
//!
//! Every active user of every org logs in with [`DEMO_PASSWORD`] (announced in the startup
//! JSON line as each org's `password`), with no security-token suffix, as from a trusted IP
//! range. Any other call gets a SOAP fault that names the
//! REST API instead. Faults are answered with HTTP 500, as Salesforce does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::control::LogInfo;
use super::oauth::{find_user_by_username, user_fields};
use super::org::Org;
use super::rest::parse_version;
use super::state::AppState;
use sfmcp_soql::data::Value;

/// The password every emulated user logs in with. It guards nothing: the emulator serves
/// loopback only, and its access tokens are printed at startup anyway.
pub const DEMO_PASSWORD: &str = "sfmcp-demo";

/// Scopes of a SOAP login session: it is a full session, valid for the REST API.
const SESSION_SCOPES: [&str; 3] = ["api", "full", "web"];

/// `client_id` recorded for sessions that came from SOAP login rather than a connected app.
pub(crate) const SOAP_CLIENT: &str = "SOAP login";

const INVALID_LOGIN: &str = "Invalid username, password, security token; or user locked out.";

/// `POST /services/Soap/u/{version}` (and `/services/Soap/u/{version}/{orgId}`).
pub async fn partner(
    State(state): State<Arc<AppState>>,
    Path(rest): Path<String>,
    body: Bytes,
) -> Response {
    let version_segment = rest.split('/').next().unwrap_or_default();
    let Some(version) = parse_version(&format!("v{version_segment}"), &state.settings.api_version)
    else {
        return fault(
            "sf:UNSUPPORTED_API_VERSION",
            &format!(
                "UNSUPPORTED_API_VERSION: Invalid Api version specified on URL: {version_segment}; \
                 the emulator serves 20.0 to {}",
                state.settings.api_version
            ),
            None,
        );
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return client_fault("the request body is not UTF-8 XML");
    };
    match body_operation(text) {
        Some("login") => login(&state, text, &version),
        Some("logout") => logout(&state, text),
        Some(other) => client_fault(&format!(
            "the emulator serves only the partner login and logout calls over SOAP, not \
             `{other}`; use the REST API under /services/data/"
        )),
        None => client_fault("no SOAP Body with an operation element was found"),
    }
}

fn login(state: &AppState, envelope: &str, version: &str) -> Response {
    let username = element_text(envelope, "username").unwrap_or_default();
    let password = element_text(envelope, "password").unwrap_or_default();
    let found = state.orgs.iter().find_map(|org| {
        find_user_by_username(org, &username).map(|user_id| (Arc::clone(org), user_id))
    });
    let Some((org, user_id)) = found else {
        return login_fault("INVALID_LOGIN", INVALID_LOGIN);
    };
    let tables = org.snapshot();
    let Some(access) = org.access(&tables, &user_id) else {
        return login_fault("INVALID_LOGIN", INVALID_LOGIN);
    };
    if !access.active || password != DEMO_PASSWORD {
        return with_log(login_fault("INVALID_LOGIN", INVALID_LOGIN), &org, &user_id);
    }
    if !access.api_enabled {
        return with_log(
            login_fault("API_CURRENTLY_DISABLED", "API is disabled for this User"),
            &org,
            &user_id,
        );
    }
    let scopes: Vec<String> = SESSION_SCOPES.iter().map(|s| s.to_string()).collect();
    let (session_id, _) = state.issue_access_token(org.index, &user_id, SOAP_CLIENT, &scopes);
    let body = login_response(
        state,
        &org,
        &user_id,
        &access.profile_id,
        &session_id,
        version,
    );
    with_log(xml_response(StatusCode::OK, body), &org, &user_id)
}

fn login_response(
    state: &AppState,
    org: &Org,
    user_id: &str,
    profile_id: &str,
    session_id: &str,
    version: &str,
) -> String {
    let base = state.base_url();
    let org15: String = org.id.chars().take(15).collect();
    let fields = user_fields(org, user_id).unwrap_or_default();
    let text = |name: &str| -> String {
        match fields.get(name) {
            Some(Value::String(s)) => escape(s),
            _ => String::new(),
        }
    };
    let seconds_valid = state.settings.token_ttl.num_seconds();
    format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns="urn:partner.soap.sforce.com" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body><loginResponse><result>",
            "<metadataServerUrl>{base}/services/Soap/m/{version}/{org15}</metadataServerUrl>",
            "<passwordExpired>false</passwordExpired>",
            "<sandbox>{sandbox}</sandbox>",
            "<serverUrl>{base}/services/Soap/u/{version}/{org15}</serverUrl>",
            "<sessionId>{session}</sessionId>",
            "<userId>{user}</userId>",
            "<userInfo>",
            "<accessibilityMode>false</accessibilityMode>",
            "<chatterExternal>false</chatterExternal>",
            "<currencySymbol>$</currencySymbol>",
            "<orgAttachmentFileTextRequired>false</orgAttachmentFileTextRequired>",
            "<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>",
            "<orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale>",
            "<orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments>",
            "<orgHasPersonAccounts>false</orgHasPersonAccounts>",
            "<organizationId>{org}</organizationId>",
            "<organizationMultiCurrency>false</organizationMultiCurrency>",
            "<organizationName>{org_name}</organizationName>",
            "<profileId>{profile}</profileId>",
            r#"<roleId xsi:nil="true"/>"#,
            "<sessionSecondsValid>{seconds}</sessionSecondsValid>",
            r#"<userDefaultCurrencyIsoCode xsi:nil="true"/>"#,
            "<userEmail>{email}</userEmail>",
            "<userFullName>{full_name}</userFullName>",
            "<userId>{user}</userId>",
            "<userLanguage>{language}</userLanguage>",
            "<userLocale>{locale}</userLocale>",
            "<userName>{username}</userName>",
            "<userTimeZone>{time_zone}</userTimeZone>",
            "<userType>Standard</userType>",
            "<userUiSkin>Theme3</userUiSkin>",
            "</userInfo>",
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>",
        ),
        base = escape(base),
        version = version,
        org15 = org15,
        session = escape(session_id),
        user = user_id,
        org = org.id,
        org_name = escape(&org.name),
        sandbox = super::oauth::org_is_sandbox(org),
        profile = profile_id,
        seconds = seconds_valid,
        email = text("Email"),
        full_name = text("Name"),
        language = text("LanguageLocaleKey"),
        locale = text("LocaleSidKey"),
        username = text("Username"),
        time_zone = text("TimeZoneSidKey"),
    )
}

/// `logout`: ends the session named in the `SessionHeader`, like Salesforce's.
fn logout(state: &AppState, envelope: &str) -> Response {
    let session_id = element_text(envelope, "sessionId").unwrap_or_default();
    let removed = state.lock_sessions().access.remove(&session_id);
    let Some(session) = removed else {
        return fault(
            "sf:INVALID_SESSION_ID",
            "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session",
            Some((
                "INVALID_SESSION_ID",
                "Invalid Session ID found in SessionHeader",
            )),
        );
    };
    let body = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
        r#"xmlns="urn:partner.soap.sforce.com">"#,
        "<soapenv:Body><logoutResponse/></soapenv:Body></soapenv:Envelope>",
    );
    let response = xml_response(StatusCode::OK, body.to_string());
    match state.org(session.org) {
        Some(org) => with_log(response, org, &session.user_id),
        None => response,
    }
}

fn with_log(mut response: Response, org: &Org, user: &str) -> Response {
    response.extensions_mut().insert(LogInfo {
        org: org.id.clone(),
        user: user.to_string(),
    });
    response
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml;charset=UTF-8"),
    );
    response
}

fn login_fault(code: &str, message: &str) -> Response {
    fault(
        &format!("sf:{code}"),
        &format!("{code}: {message}"),
        Some((code, message)),
    )
}

fn client_fault(message: &str) -> Response {
    fault("soapenv:Client", message, None)
}

/// A SOAP fault; with `login` details it carries the `sf:LoginFault` detail jsforce and the
/// WSC read.
fn fault(code: &str, message: &str, login: Option<(&str, &str)>) -> Response {
    let detail = login.map_or(String::new(), |(exception, text)| {
        format!(
            concat!(
                r#"<detail><sf:LoginFault xsi:type="sf:LoginFault">"#,
                "<sf:exceptionCode>{}</sf:exceptionCode>",
                "<sf:exceptionMessage>{}</sf:exceptionMessage>",
                "</sf:LoginFault></detail>"
            ),
            escape(exception),
            escape(text)
        )
    });
    let body = format!(
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" "#,
            r#"xmlns:sf="urn:fault.partner.soap.sforce.com" "#,
            r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">"#,
            "<soapenv:Body><soapenv:Fault><faultcode>{}</faultcode>",
            "<faultstring>{}</faultstring>{}</soapenv:Fault></soapenv:Body></soapenv:Envelope>",
        ),
        escape(code),
        escape(message),
        detail
    );
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, body)
}

/// The local name of the first element inside the SOAP `Body`: the operation called.
fn body_operation(envelope: &str) -> Option<&str> {
    let body_start = find_start_tag(envelope, "Body", 0)?;
    let after_body = envelope[body_start..].find('>')? + body_start + 1;
    let rest = &envelope[after_body..];
    let open = rest.find('<')?;
    let tag = &rest[open + 1..];
    let end = tag.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let name = &tag[..end];
    if name.starts_with('/') || name.is_empty() {
        return None;
    }
    Some(name.rsplit(':').next().unwrap_or(name))
}

/// The unescaped text of the first element with this local name, whatever its prefix.
fn element_text(xml: &str, local_name: &str) -> Option<String> {
    let start = find_start_tag(xml, local_name, 0)?;
    let tag_end = xml[start..].find('>')? + start;
    if xml[..tag_end].ends_with('/') {
        return Some(String::new());
    }
    let content_start = tag_end + 1;
    let content_end = xml[content_start..].find("</")? + content_start;
    Some(unescape(&xml[content_start..content_end]))
}

/// Byte offset of `<name` or `<prefix:name` followed by whitespace, `>` or `/`.
fn find_start_tag(xml: &str, local_name: &str, from: usize) -> Option<usize> {
    let mut search = from;
    while let Some(found) = xml[search..].find('<') {
        let at = search + found;
        let tag = &xml[at + 1..];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(tag.len());
        let name = &tag[..name_end];
        if !name.starts_with('/') && name.rsplit(':').next() == Some(local_name) {
            return Some(at);
        }
        search = at + 1;
    }
    None
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// XML's five named entities and numeric character references.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSFORCE_LOGIN: &str = concat!(
        r#"<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header/>"#,
        r#"<se:Body><login xmlns="urn:partner.soap.sforce.com">"#,
        "<username>a&amp;b@example.com</username><password>p&lt;w&#x21;&#33;</password>",
        "</login></se:Body></se:Envelope>"
    );

    #[test]
    fn reads_the_operation_and_its_unescaped_arguments() {
        assert_eq!(body_operation(JSFORCE_LOGIN), Some("login"));
        assert_eq!(
            element_text(JSFORCE_LOGIN, "username").as_deref(),
            Some("a&b@example.com")
        );
        assert_eq!(
            element_text(JSFORCE_LOGIN, "password").as_deref(),
            Some("p<w!!")
        );
    }

    #[test]
    fn prefixed_operations_and_empty_bodies() {
        let prefixed = r#"<s:Envelope xmlns:s="x"><s:Body><urn:logout/></s:Body></s:Envelope>"#;
        assert_eq!(body_operation(prefixed), Some("logout"));
        assert_eq!(body_operation("<Envelope><Body></Body></Envelope>"), None);
        assert_eq!(element_text(prefixed, "sessionId"), None);
    }

    #[test]
    fn escape_round_trips_and_keeps_unknown_entities() {
        let text = r#"<a href="x">Tom & 'Jerry'</a>"#;
        assert_eq!(unescape(&escape(text)), text);
        assert_eq!(unescape("&bogus; & &#xZZ;"), "&bogus; & &#xZZ;");
    }
}
