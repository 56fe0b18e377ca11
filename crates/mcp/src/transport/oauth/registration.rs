//! Who the client is.
//!
//! - **Dynamic Client Registration** (RFC 7591): the client id sfmcp answers is the client's
//!   registration itself, sealed, so nothing is stored and every replica knows every client.
//!   Clients are public (no secret): PKCE binds the code to whoever started the flow.
//! - **Client ID Metadata Documents** (the MCP authorization default since 2025-11-25): the
//!   client id is an https URL whose JSON document lists the redirect URIs. sfmcp fetches it
//!   at the authorize step, under server-side-request-forgery rules: https only, no private,
//!   loopback or link-local address (the address checked is the one connected to), no
//!   redirects, at most [`METADATA_MAX_BYTES`] within [`METADATA_TIMEOUT`]. The operator may
//!   allow http and local addresses for testing.
//!
//! Redirect URIs are compared exactly, except that a loopback redirect may use any port
//! (RFC 8252 §7.3: native apps listen on whatever port is free).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use url::Url;

use super::sealed::{CLIENT_PREFIX, RegisteredClient};
use super::{OAuthPlane, now, oauth_error};

pub const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
pub const METADATA_MAX_BYTES: usize = 16 * 1024;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_LEN: usize = 2048;
const MAX_NAME_CHARS: usize = 100;

/// A client as the authorize step knows it.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Where its metadata document lives, for a client identified by one.
    pub metadata_url: Option<Url>,
}

impl ClientInfo {
    /// Whether `presented` is one of the registered redirect URIs.
    pub fn accepts_redirect(&self, presented: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| redirect_matches(registered, presented))
    }
}

/// Exact match, or the same loopback URI on another port.
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let (Ok(registered), Ok(presented)) = (Url::parse(registered), Url::parse(presented)) else {
        return false;
    };
    registered.scheme() == "http"
        && presented.scheme() == "http"
        && is_loopback_host(&registered)
        && registered.host_str() == presented.host_str()
        && registered.path() == presented.path()
        && registered.query() == presented.query()
        && registered.fragment().is_none()
        && presented.fragment().is_none()
        && registered.username().is_empty()
        && presented.username().is_empty()
        && registered.password().is_none()
        && presented.password().is_none()
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why a redirect URI cannot be registered, if it cannot: https anywhere, http on loopback
/// only, or an app's private-use scheme (RFC 8252 §7.1); never a fragment, user info or a
/// scheme a browser would run.
fn redirect_uri_problem(uri: &str) -> Option<String> {
    if uri.len() > MAX_URI_LEN {
        return Some("a redirect URI is longer than 2048 characters".into());
    }
    let Ok(url) = Url::parse(uri) else {
        return Some(format!("{uri:?} is not an absolute URI"));
    };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Some(format!("{uri:?} must not carry a #fragment or user info"));
    }
    match url.scheme() {
        "https" if url.host_str().is_some() => None,
        "http" if is_loopback_host(&url) => None,
        "http" => Some(format!(
            "{uri:?}: http redirect URIs must be loopback (127.0.0.1, [::1] or localhost); use https"
        )),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ws" | "wss" | "ftp"
        | "https" => Some(format!("{uri:?} cannot be a redirect URI")),
        _ => None,
    }
}

/// `POST /register` (RFC 7591).
pub async fn register(State(plane): State<Arc<OAuthPlane>>, body: Bytes) -> Response {
    let refuse = |error: &str, description: String| {
        oauth_error(StatusCode::BAD_REQUEST, error, &description)
    };
    let Ok(Value::Object(metadata)) = serde_json::from_slice::<Value>(&body) else {
        return refuse(
            "invalid_client_metadata",
            "the registration must be a JSON object (RFC 7591)".into(),
        );
    };
    let redirect_uris: Vec<String> = match metadata.get("redirect_uris") {
        Some(Value::Array(list)) if !list.is_empty() && list.len() <= MAX_REDIRECT_URIS => {
            let uris: Vec<String> = list
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            if uris.len() != list.len() {
                return refuse(
                    "invalid_redirect_uri",
                    "redirect_uris must be strings".into(),
                );
            }
            uris
        }
        _ => {
            return refuse(
                "invalid_redirect_uri",
                format!("redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"),
            );
        }
    };
    if let Some(problem) = redirect_uris.iter().find_map(|u| redirect_uri_problem(u)) {
        return refuse("invalid_redirect_uri", problem);
    }
    let listed = |field: &str, allowed: &[&str]| -> Result<(), String> {
        match metadata.get(field) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(list)) => match list
                .iter()
                .find(|v| !v.as_str().is_some_and(|s| allowed.contains(&s)))
            {
                None => Ok(()),
                Some(other) => Err(format!(
                    "{field}: {other} is not supported; this server supports {}",
                    allowed.join(", ")
                )),
            },
            Some(_) => Err(format!("{field} must be an array")),
        }
    };
    if let Err(problem) = listed("grant_types", &["authorization_code", "refresh_token"])
        .and_then(|()| listed("response_types", &["code"]))
    {
        return refuse("invalid_client_metadata", problem);
    }
    if let Some(scope) = metadata.get("scope").and_then(Value::as_str)
        && let Err(problem) = plane.granted_scopes(Some(scope))
    {
        return refuse("invalid_client_metadata", problem);
    }
    let name = metadata
        .get("client_name")
        .and_then(Value::as_str)
        .map(display_text)
        .filter(|n| !n.is_empty());
    let issued_at = now();
    let client_id = plane.keys.seal_client(&RegisteredClient {
        redirect_uris: redirect_uris.clone(),
        name: name.clone(),
        issued_at,
    });
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": issued_at,
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        // Public clients: there is no secret to keep, PKCE protects the code.
        "token_endpoint_auth_method": "none",
    });
    if let Some(name) = name {
        answer["client_name"] = json!(name);
    }
    if let Some(scope) = metadata.get("scope").and_then(Value::as_str) {
        answer["scope"] = json!(scope);
    }
    super::no_store((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// Third-party text as it may be shown: no control characters (terminal escapes, bidi
/// overrides), at most [`MAX_NAME_CHARS`] characters.
pub fn display_text(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_control() && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The client a `client_id` names: a registration sfmcp sealed, or a metadata document URL.
pub async fn client_info(plane: &OAuthPlane, client_id: &str) -> Result<ClientInfo, String> {
    if client_id.starts_with(CLIENT_PREFIX) {
        let client = plane.keys.open_client(client_id).ok_or(
            "this client_id was not issued by this server (or by a key it no longer has): register again",
        )?;
        return Ok(ClientInfo {
            name: client.name,
            redirect_uris: client.redirect_uris,
            metadata_url: None,
        });
    }
    if client_id.starts_with("https://") || client_id.starts_with("http://") {
        return fetch_metadata_document(plane, client_id).await;
    }
    Err("unknown client_id: register through the registration endpoint, or use an https URL of a client metadata document".into())
}

/// Whether the server may connect to `ip` for a client's metadata document.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b))
                // Benchmarking, 198.18.0.0/15, and reserved, 240.0.0.0/4.
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

async fn fetch_metadata_document(
    plane: &OAuthPlane,
    client_id: &str,
) -> Result<ClientInfo, String> {
    let url =
        Url::parse(client_id).map_err(|_| "the client_id URL cannot be parsed".to_string())?;
    let local_allowed = plane.allow_local_client_metadata;
    if url.scheme() != "https" && !(local_allowed && url.scheme() == "http") {
        return Err("a client_id URL must be https".into());
    }
    if url.path() == "/"
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err("a client_id URL must have a path, and no #fragment or user info".into());
    }
    let host = url
        .host_str()
        .ok_or("the client_id URL has no host")?
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        _ => tokio::time::timeout(
            METADATA_TIMEOUT,
            tokio::net::lookup_host((host.as_str(), port)),
        )
        .await
        .map_err(|_| "the client_id URL's host did not resolve in time".to_string())?
        .map_err(|_| "the client_id URL's host does not resolve".to_string())?
        .collect(),
    };
    let Some(address) = addresses.first().copied() else {
        return Err("the client_id URL's host does not resolve".into());
    };
    if !local_allowed && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err("the client_id URL resolves to a private, loopback or link-local address, which this server does not fetch".into());
    }
    // Connect to the address just checked, so a second DNS answer cannot swap in another.
    let http = if matches!(url.host(), Some(url::Host::Domain(_))) {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(METADATA_TIMEOUT)
            .timeout(METADATA_TIMEOUT)
            .resolve(&host, address)
            .user_agent(concat!("sfmcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| "the HTTP client could not be built".to_string())?
    } else {
        plane.metadata_http.clone()
    };
    let body = tokio::time::timeout(METADATA_TIMEOUT, async {
        let mut response = http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    late()
                } else {
                    "the client metadata document could not be fetched".to_string()
                }
            })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(format!(
                "the client metadata document answered HTTP {}, not 200",
                response.status().as_u16()
            ));
        }
        if response
            .content_length()
            .is_some_and(|length| length > METADATA_MAX_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            if e.is_timeout() {
                late()
            } else {
                "the client metadata document broke off".to_string()
            }
        })? {
            body.extend_from_slice(&chunk);
            if body.len() > METADATA_MAX_BYTES {
                return Err(too_large());
            }
        }
        Ok(body)
    })
    .await
    .map_err(|_| late())??;
    let document: Value = serde_json::from_slice(&body)
        .map_err(|_| "the client metadata document is not JSON".to_string())?;
    if document.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err("the client metadata document's client_id is not its own URL".into());
    }
    if let Some(method) = document
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
        && method != "none"
    {
        return Err(format!(
            "the client metadata document asks for token_endpoint_auth_method {method:?}; this server supports public clients (\"none\") only"
        ));
    }
    let redirect_uris: Vec<String> = document
        .get("redirect_uris")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(format!(
            "the client metadata document must list 1 to {MAX_REDIRECT_URIS} redirect_uris"
        ));
    }
    if let Some(problem) = redirect_uris.iter().find_map(|u| redirect_uri_problem(u)) {
        return Err(format!("the client metadata document: {problem}"));
    }
    Ok(ClientInfo {
        name: document
            .get("client_name")
            .and_then(Value::as_str)
            .map(display_text)
            .filter(|n| !n.is_empty()),
        redirect_uris,
        metadata_url: Some(url),
    })
}

fn late() -> String {
    format!(
        "the client metadata document did not arrive within {} s",
        METADATA_TIMEOUT.as_secs()
    )
}

fn too_large() -> String {
    format!(
        "the client metadata document is larger than {} KiB",
        METADATA_MAX_BYTES / 1024
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_match_exactly_except_for_loopback_ports() {
        assert!(redirect_matches(
            "https://app.example.com/cb",
            "https://app.example.com/cb"
        ));
        assert!(!redirect_matches(
            "https://app.example.com/cb",
            "https://app.example.com/cb/"
        ));
        assert!(!redirect_matches(
            "https://app.example.com/cb",
            "https://app.example.com:8443/cb"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53121/callback"
        ));
        assert!(redirect_matches(
            "http://localhost:3000/cb",
            "http://localhost:4000/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:5/other"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/cb",
            "http://localhost:5/cb"
        ));
        assert!(!redirect_matches(
            "http://evil.example/cb",
            "http://evil.example:8/cb"
        ));
    }

    #[test]
    fn only_safe_redirect_uris_register() {
        assert!(redirect_uri_problem("https://claude.ai/api/mcp/auth_callback").is_none());
        assert!(redirect_uri_problem("http://127.0.0.1:33418/").is_none());
        assert!(
            redirect_uri_problem("cursor://anysphere.cursor-retrieval/oauth/callback").is_none()
        );
        assert!(redirect_uri_problem("http://app.example.com/cb").is_some());
        assert!(redirect_uri_problem("javascript:alert(1)").is_some());
        assert!(redirect_uri_problem("https://app.example.com/cb#x").is_some());
        assert!(redirect_uri_problem("relative/path").is_some());
    }

    #[test]
    fn private_and_loopback_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn shown_names_lose_control_characters() {
        assert_eq!(display_text("Evil\u{1b}[31m\u{202E}App\n"), "Evil[31mApp");
    }
}
