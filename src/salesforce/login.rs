//! `sfmcp login`: the OAuth web-server flow with PKCE and a loopback redirect, for people
//! connecting their own org, and the owner-only file that keeps the refresh token.
//!
//! The browser is sent to `{login}/services/oauth2/authorize`; Salesforce redirects back to
//! `http://127.0.0.1:{port}/oauth/callback` with a code, which is exchanged (with the PKCE
//! verifier) for a refresh token. The token goes to the user's config directory only, never
//! to the project or the logs.

use std::path::{Path, PathBuf};

use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use super::auth::TokenResponse;
use super::errors::{AuthFlow, SfError};
use super::secret::Secret;

/// The callback path registered on the connected app: `http://127.0.0.1:{port}/oauth/callback`.
pub const CALLBACK_PATH: &str = "/oauth/callback";

/// A PKCE verifier and its S256 challenge (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Self {
        const UNRESERVED: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let mut rng = rand::rng();
        let verifier: String = (0..64)
            .map(|_| char::from(UNRESERVED[rng.random_range(0..UNRESERVED.len())]))
            .collect();
        let challenge = Pkce::challenge_for(&verifier);
        Pkce {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    pub fn challenge_for(verifier: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

/// How long the login waits for the person to approve in the browser.
const LOGIN_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// What the login needs.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// https://login.salesforce.com, https://test.salesforce.com or a My Domain.
    pub login_url: Url,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// The loopback port of the callback; the connected app's callback URL must match.
    pub port: u16,
    /// Scopes to ask for; `api refresh_token` unless told otherwise.
    pub scopes: String,
}

/// What is kept after a login: enough for `serve` to renew tokens itself.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredentials {
    pub instance_url: String,
    pub login_url: String,
    pub client_id: String,
    #[serde(serialize_with = "expose_secret")]
    pub refresh_token: Secret,
    /// Kept when given at login, for apps that require the secret on refresh.
    #[serde(
        default,
        serialize_with = "expose_optional_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<Secret>,
    /// The identity URL (`.../id/{orgId}/{userId}`), to tell people which org this is.
    #[serde(default)]
    pub identity_url: Option<String>,
}

/// Only the credentials file writes a secret out; `Secret` itself is not `Serialize`, so no
/// other structure can put one into JSON by accident.
fn expose_secret<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

fn expose_optional_secret<S: serde::Serializer>(
    secret: &Option<Secret>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose()),
        None => serializer.serialize_none(),
    }
}

impl std::fmt::Debug for StoredCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredentials")
            .field("instance_url", &self.instance_url)
            .field("login_url", &self.login_url)
            .field("client_id", &self.client_id)
            .field("refresh_token", &self.refresh_token)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// The authorize URL the person opens.
pub fn authorize_url(options: &LoginOptions, pkce: &Pkce, state: &str) -> Result<Url, SfError> {
    let base = options.login_url.as_str().trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}/services/oauth2/authorize")).map_err(|_| {
        SfError::InvalidRequest {
            message: format!("SF_LOGIN_URL {} cannot be used as a base URL", options.login_url),
            next_step: "Use https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL.".into(),
        }
    })?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &options.client_id)
        .append_pair("redirect_uri", &redirect_uri(options.port))
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scope", &options.scopes)
        .append_pair("state", state);
    Ok(url)
}

fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}{CALLBACK_PATH}")
}

/// Runs the whole flow: listens on the loopback port, hands the authorize URL to `show`
/// (print it, open a browser), waits for the redirect, and exchanges the code.
pub async fn login(
    options: &LoginOptions,
    http: &reqwest::Client,
    show: impl FnOnce(&Url),
) -> Result<StoredCredentials, SfError> {
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| SfError::InvalidRequest {
            message: format!("cannot listen on 127.0.0.1:{} for the OAuth callback: {e}", options.port),
            next_step: "Free the port, or pick another with --port (and add that callback URL to the connected app).".into(),
        })?;
    let pkce = Pkce::generate();
    let state = Pkce::generate().challenge;
    show(&authorize_url(options, &pkce, &state)?);
    let code = tokio::time::timeout(LOGIN_WAIT, receive_code(&listener, &state))
        .await
        .map_err(|_| SfError::Auth {
            flow: AuthFlow::AuthorizationCode,
            status: None,
            error: "timeout".into(),
            description: format!(
                "no answer from the browser within {} minutes",
                LOGIN_WAIT.as_secs() / 60
            ),
        })??;
    exchange_code(options, http, &code, &pkce).await
}

/// Waits for Salesforce's redirect and returns the code; answers the browser either way.
async fn receive_code(listener: &TcpListener, state: &str) -> Result<String, SfError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| SfError::InvalidRequest {
                message: format!("the OAuth callback listener failed: {e}"),
                next_step: "Run `sfmcp login` again.".into(),
            })?;
        let mut buffer = vec![0u8; 8192];
        let read = stream.read(&mut buffer).await.unwrap_or(0);
        let request = String::from_utf8_lossy(&buffer[..read]).to_string();
        let target = request
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("");
        let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != CALLBACK_PATH {
            // Browsers also ask for /favicon.ico and the like.
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let outcome = if param("state").as_deref() != Some(state) {
            Err(SfError::Auth {
                flow: AuthFlow::AuthorizationCode,
                status: None,
                error: "state_mismatch".into(),
                description: "the callback did not carry this login's state".into(),
            })
        } else if let Some(error) = param("error") {
            Err(SfError::Auth {
                flow: AuthFlow::AuthorizationCode,
                status: None,
                error,
                description: param("error_description").unwrap_or_default(),
            })
        } else {
            param("code").ok_or_else(|| SfError::Auth {
                flow: AuthFlow::AuthorizationCode,
                status: None,
                error: "missing_code".into(),
                description: "the callback carried no authorization code".into(),
            })
        };
        let page = match &outcome {
            Ok(_) => "sfmcp is connected to Salesforce. You can close this window.",
            Err(_) => "sfmcp could not connect to Salesforce; the terminal says why.",
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        return outcome;
    }
}

/// Exchanges an authorization code (with the PKCE verifier) for tokens.
pub async fn exchange_code(
    options: &LoginOptions,
    http: &reqwest::Client,
    code: &str,
    pkce: &Pkce,
) -> Result<StoredCredentials, SfError> {
    let base = options.login_url.as_str().trim_end_matches('/');
    let endpoint = Url::parse(&format!("{base}/services/oauth2/token")).map_err(|_| {
        SfError::InvalidRequest {
            message: format!("SF_LOGIN_URL {} cannot be used as a base URL", options.login_url),
            next_step: "Use https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL.".into(),
        }
    })?;
    let redirect = redirect_uri(options.port);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", options.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", pkce.verifier.expose()),
    ];
    if let Some(secret) = &options.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let response = http
        .post(endpoint.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| super::client::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| super::client::unreachable(&e, &endpoint, "SF_LOGIN_URL"))?;
    if !(200..300).contains(&status) {
        return Err(super::auth::oauth_error(
            AuthFlow::AuthorizationCode,
            status,
            &body,
        ));
    }
    let token: TokenResponse =
        serde_json::from_slice(&body).map_err(|_| SfError::UnexpectedResponse {
            what: "the authorization-code grant".into(),
            status,
            detail: "the token response is not the JSON Salesforce sends".into(),
        })?;
    let refresh_token = token.refresh_token.ok_or_else(|| SfError::Auth {
        flow: AuthFlow::AuthorizationCode,
        status: Some(status),
        error: "no_refresh_token".into(),
        description: "Salesforce issued no refresh token".into(),
    })?;
    Ok(StoredCredentials {
        instance_url: token
            .instance_url
            .unwrap_or_else(|| options.login_url.to_string()),
        login_url: options.login_url.to_string(),
        client_id: options.client_id.clone(),
        refresh_token,
        client_secret: options.client_secret.clone(),
        identity_url: token.id,
    })
}

/// `sfmcp login` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct LoginArgs {
    /// The connected app's consumer key.
    #[arg(long, env = "SF_CLIENT_ID", value_name = "ID")]
    pub client_id: String,
    /// The connected app's consumer secret, if it requires one.
    #[arg(
        long,
        env = "SF_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<Secret>,
    /// Log in to a sandbox (https://test.salesforce.com).
    #[arg(long, conflicts_with = "login_url")]
    pub sandbox: bool,
    /// Where to log in: https://login.salesforce.com (default) or the org's My Domain URL.
    #[arg(long, env = "SF_LOGIN_URL", value_name = "URL")]
    pub login_url: Option<String>,
    /// Loopback port of the callback; the connected app needs
    /// http://127.0.0.1:PORT/oauth/callback among its callback URLs.
    #[arg(long, default_value_t = 1717)]
    pub port: u16,
    /// OAuth scopes to ask for.
    #[arg(long, default_value = "api refresh_token")]
    pub scopes: String,
    /// Only print the URL; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Where to keep the credentials (default: the user's config directory).
    #[arg(long, env = "SFMCP_CREDENTIALS_FILE", value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
}

/// Runs `sfmcp login`: everything for people goes to stderr. Returns where the
/// credentials were saved.
pub async fn run(args: LoginArgs) -> Result<PathBuf, String> {
    let login_url = match (&args.login_url, args.sandbox) {
        (_, true) => "https://test.salesforce.com".to_string(),
        (Some(url), false) => url.clone(),
        (None, false) => "https://login.salesforce.com".to_string(),
    };
    let login_url = Url::parse(&login_url)
        .map_err(|e| format!("SF_LOGIN_URL: '{login_url}' is not a URL ({e})"))?;
    let path = args
        .credentials_file
        .clone()
        .or_else(credentials_path)
        .ok_or("cannot find the user's config directory: set SFMCP_CREDENTIALS_FILE")?;
    let options = LoginOptions {
        login_url,
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        port: args.port,
        scopes: args.scopes.clone(),
    };
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let no_browser = args.no_browser;
    let credentials = login(&options, &http, |url| {
        eprintln!("Open this URL to connect sfmcp to Salesforce:\n\n  {url}\n");
        if !no_browser {
            open_browser(url);
        }
    })
    .await
    .map_err(|e| format!("{e}\n{}", e.next_step()))?;
    save_credentials(&path, &credentials)
        .map_err(|e| format!("cannot save the credentials in {}: {e}", path.display()))?;
    eprintln!(
        "Connected to {}. Credentials saved in {} (readable by you only); `sfmcp serve` uses them.",
        credentials.instance_url,
        path.display()
    );
    Ok(path)
}

/// `sfmcp login` for main.rs: runs the flow and maps the outcome to an exit code.
pub async fn command(args: LoginArgs) -> std::process::ExitCode {
    match run(args).await {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sfmcp login: {message}");
            std::process::ExitCode::from(2)
        }
    }
}

fn open_browser(url: &Url) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    // Best effort: the URL is printed anyway.
    let _ = std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Where `sfmcp login` keeps its credentials: `$SFMCP_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/sfmcp`, else `~/.config/sfmcp`; file `credentials.toml`.
pub fn credentials_path() -> Option<PathBuf> {
    let dir = std::env::var_os("SFMCP_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("sfmcp"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join(".config").join("sfmcp"))
        })?;
    Some(dir.join("credentials.toml"))
}

/// Writes the credentials readable by the owner only, whole or not at all (a temporary
/// file renamed into place).
pub fn save_credentials(path: &Path, credentials: &StoredCredentials) -> std::io::Result<()> {
    let text = toml::to_string(credentials).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("toml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    {
        use std::io::Write;
        let mut file = options.open(&temporary)?;
        #[cfg(unix)]
        {
            // `mode` applies only to new files: tighten one left over from before.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

/// Reads stored credentials; `Ok(None)` when there are none.
pub fn load_credentials(path: &Path) -> Result<Option<StoredCredentials>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    toml::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{} is damaged ({}); run `sfmcp login` again",
            path.display(),
            e.message()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            Pkce::challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::generate();
        assert_eq!(pkce.verifier.expose().len(), 64);
        assert_eq!(pkce.challenge, Pkce::challenge_for(pkce.verifier.expose()));
    }
}
