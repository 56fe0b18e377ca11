//! Settings from flags, environment and file.
//!
//! Connection settings come from command-line flags or the environment (`SF_*`, `PARAGON_*`;
//! a flag wins over its variable), then from the TOML file given with `--config`, which fills
//! whatever flags and environment left unset:
//!
//! ```toml
//! [salesforce]
//! instance_url = "https://acme.my.salesforce.com"
//! refresh_token = "..."
//! client_id = "..."
//! client_secret = "..."
//!
//! [paragon]            # instead of [salesforce], for the Paragon proxy plane
//! project_id = "..."
//! signing_key_file = "/etc/sfmcp/paragon-signing-key.pem"
//! user_id = "customer-42"
//!
//! [policy]
//! confirm_writes = true  # a person confirms every create and update (also --confirm-writes)
//! ```
//!
//! Other sections belong to other parts of sfmcp and are ignored here; unknown keys inside
//! `[salesforce]` and `[paragon]` are errors, so a typo never passes silently.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use sfmcp_salesforce::login::{StoredCredentials, credentials_path, load_credentials};
use sfmcp_salesforce::{
    ClientOptions, Connection, DirectCredential, OAuthClient, PARAGON_DEFAULT_PROXY, ParagonAuth,
    ParagonUser, Secret, SigningKey,
};

const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// A setting that is missing or wrong, named, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    /// The environment variable name (flags and file keys are derived from it).
    pub setting: &'static str,
    pub message: String,
}

fn config_error(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        message: message.into(),
    }
}

/// The connection settings, as flags with environment fallbacks. Flatten into a subcommand
/// with `#[command(flatten)]`.
#[derive(Clone, Default, clap::Args)]
pub struct ConnectionSettings {
    /// TOML settings file (a salesforce or paragon section); flags and environment win over it.
    #[arg(long = "config", env = "SFMCP_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// The org's URL, e.g. https://acme.my.salesforce.com.
    #[arg(long, env = "SF_INSTANCE_URL", value_name = "URL")]
    pub instance_url: Option<String>,
    /// An OAuth access token (renewed only if a refresh token or other grant is set too).
    #[arg(
        long,
        env = "SF_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<Secret>,
    /// An OAuth refresh token, renewed through the connected app (SF_CLIENT_ID).
    #[arg(
        long,
        env = "SF_REFRESH_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub refresh_token: Option<Secret>,
    /// The connected app's consumer key.
    #[arg(long, env = "SF_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// The connected app's consumer secret.
    #[arg(
        long,
        env = "SF_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub client_secret: Option<Secret>,
    /// Where tokens come from: https://login.salesforce.com (default), https://test.salesforce.com
    /// for sandboxes, or the org's My Domain URL.
    #[arg(long, env = "SF_LOGIN_URL", value_name = "URL")]
    pub login_url: Option<String>,
    /// The Salesforce username for the JWT bearer flow (with SF_JWT_KEY_FILE).
    #[arg(long, env = "SF_USERNAME", value_name = "USERNAME")]
    pub username: Option<String>,
    /// The RSA private key (PEM) whose certificate is on the connected app, for the JWT bearer flow.
    #[arg(long, env = "SF_JWT_KEY_FILE", value_name = "FILE")]
    pub jwt_key_file: Option<PathBuf>,
    /// The REST API version, e.g. 62.0; default: the newest the org offers.
    #[arg(long, env = "SF_API_VERSION", value_name = "VERSION")]
    pub api_version: Option<String>,

    /// The Paragon proxy (default https://proxy.useparagon.com).
    #[arg(long, env = "PARAGON_PROXY_URL", value_name = "URL")]
    pub paragon_proxy_url: Option<String>,
    /// The Paragon project id.
    #[arg(long, env = "PARAGON_PROJECT_ID", value_name = "ID")]
    pub paragon_project_id: Option<String>,
    /// A Paragon user token minted by the host application.
    #[arg(
        long,
        env = "PARAGON_USER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub paragon_user_token: Option<Secret>,
    /// The project's signing key (PEM), so sfmcp mints short-lived user tokens itself.
    #[arg(long, env = "PARAGON_SIGNING_KEY_FILE", value_name = "FILE")]
    pub paragon_signing_key_file: Option<PathBuf>,
    /// The Paragon user to mint tokens for (with PARAGON_SIGNING_KEY_FILE).
    #[arg(long, env = "PARAGON_USER_ID", value_name = "ID")]
    pub paragon_user_id: Option<String>,
    /// Which of the user's connected Salesforce accounts to use (X-Paragon-Credential).
    #[arg(long, env = "PARAGON_CREDENTIAL_ID", value_name = "UUID")]
    pub paragon_credential_id: Option<String>,

    /// The credentials `sfmcp login` saved (default: the user's config directory); used
    /// when no other Salesforce credential is set.
    #[arg(long, env = "SFMCP_CREDENTIALS_FILE", value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Results carry a warning above this share of the org's daily API allocation (default 90).
    #[arg(long, env = "SFMCP_USAGE_WARN_PERCENT", value_name = "PERCENT")]
    pub usage_warn_percent: Option<u8>,
    /// Above this share of the daily API allocation only essential calls go (default 98).
    #[arg(long, env = "SFMCP_USAGE_CEILING_PERCENT", value_name = "PERCENT")]
    pub usage_ceiling_percent: Option<u8>,
    /// Seconds one Salesforce request may take (default 60; fractions such as 0.5 allowed).
    #[arg(long, env = "SFMCP_REQUEST_TIMEOUT_SECS", value_name = "SECONDS")]
    pub request_timeout_secs: Option<f64>,
    /// Seconds to wait for a connection to the org (default 5; fractions allowed): a host
    /// that drops packets fails after this, not after the whole request timeout.
    #[arg(long, env = "SFMCP_CONNECT_TIMEOUT_SECS", value_name = "SECONDS")]
    pub connect_timeout_secs: Option<f64>,
    /// Milliseconds a session's start waits for the org to say who is connected (default
    /// 150; 0 to 10000): past it, the instructions point to `whoami` and every tool is listed.
    #[arg(long, env = "SFMCP_IDENTITY_WAIT_MS", value_name = "MILLISECONDS")]
    pub identity_wait_ms: Option<u64>,
}

impl fmt::Debug for ConnectionSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are `Secret` and print redacted; the rest is safe to show.
        f.debug_struct("ConnectionSettings")
            .field("config_file", &self.config_file)
            .field("instance_url", &self.instance_url)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("login_url", &self.login_url)
            .field("username", &self.username)
            .field("jwt_key_file", &self.jwt_key_file)
            .field("api_version", &self.api_version)
            .field("paragon_proxy_url", &self.paragon_proxy_url)
            .field("paragon_project_id", &self.paragon_project_id)
            .field("paragon_user_token", &self.paragon_user_token)
            .field("paragon_signing_key_file", &self.paragon_signing_key_file)
            .field("paragon_user_id", &self.paragon_user_id)
            .field("paragon_credential_id", &self.paragon_credential_id)
            .field("credentials_file", &self.credentials_file)
            .field("usage_warn_percent", &self.usage_warn_percent)
            .field("usage_ceiling_percent", &self.usage_ceiling_percent)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .field("identity_wait_ms", &self.identity_wait_ms)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
struct FileSettings {
    #[serde(default)]
    salesforce: FileSalesforce,
    #[serde(default)]
    paragon: FileParagon,
    #[serde(default)]
    policy: FilePolicy,
}

/// What tools may do, from the file. A key here can only make the server stricter than its
/// flags and environment say.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePolicy {
    confirm_writes: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSalesforce {
    instance_url: Option<String>,
    access_token: Option<Secret>,
    refresh_token: Option<Secret>,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    login_url: Option<String>,
    username: Option<String>,
    jwt_key_file: Option<PathBuf>,
    api_version: Option<String>,
    usage_warn_percent: Option<u8>,
    usage_ceiling_percent: Option<u8>,
    request_timeout_secs: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParagon {
    proxy_url: Option<String>,
    project_id: Option<String>,
    user_token: Option<Secret>,
    signing_key_file: Option<PathBuf>,
    user_id: Option<String>,
    credential_id: Option<String>,
}

/// Empty values (`SF_ACCESS_TOKEN=` in a compose file) count as unset.
fn present<T: AsRef<str>>(value: Option<T>) -> Option<T> {
    value.filter(|v| !v.as_ref().trim().is_empty())
}

fn present_secret(value: Option<Secret>) -> Option<Secret> {
    value.filter(|v| !v.expose().trim().is_empty())
}

fn present_path(value: Option<PathBuf>) -> Option<PathBuf> {
    value.filter(|p| !p.as_os_str().is_empty())
}

impl ConnectionSettings {
    /// Fills unset settings from the `--config` file, if one is given.
    pub fn with_file(mut self) -> Result<Self, ConfigError> {
        let Some(path) = present_path(self.config_file.clone()) else {
            return Ok(self);
        };
        let file = read_file(&path)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // Key files named in the file are relative to the file.
        let relative =
            |p: Option<PathBuf>| p.map(|p| if p.is_relative() { base.join(p) } else { p });
        let s = file.salesforce;
        let p = file.paragon;
        self.instance_url = present(self.instance_url).or(s.instance_url);
        self.access_token = present_secret(self.access_token).or(s.access_token);
        self.refresh_token = present_secret(self.refresh_token).or(s.refresh_token);
        self.client_id = present(self.client_id).or(s.client_id);
        self.client_secret = present_secret(self.client_secret).or(s.client_secret);
        self.login_url = present(self.login_url).or(s.login_url);
        self.username = present(self.username).or(s.username);
        self.jwt_key_file = present_path(self.jwt_key_file).or(relative(s.jwt_key_file));
        self.api_version = present(self.api_version).or(s.api_version);
        self.paragon_proxy_url = present(self.paragon_proxy_url).or(p.proxy_url);
        self.paragon_project_id = present(self.paragon_project_id).or(p.project_id);
        self.paragon_user_token = present_secret(self.paragon_user_token).or(p.user_token);
        self.paragon_signing_key_file =
            present_path(self.paragon_signing_key_file).or(relative(p.signing_key_file));
        self.paragon_user_id = present(self.paragon_user_id).or(p.user_id);
        self.paragon_credential_id = present(self.paragon_credential_id).or(p.credential_id);
        self.usage_warn_percent = self.usage_warn_percent.or(s.usage_warn_percent);
        self.usage_ceiling_percent = self.usage_ceiling_percent.or(s.usage_ceiling_percent);
        self.request_timeout_secs = self.request_timeout_secs.or(s.request_timeout_secs);
        Ok(self)
    }

    /// Whether the `--config` file asks a person to confirm every write (`[policy]
    /// confirm_writes = true`). The flag and `SF_CONFIRM_WRITES` turn it on as well; nothing
    /// turns off what another source turned on, since it is a safety switch.
    pub fn confirm_writes_in_file(&self) -> Result<bool, ConfigError> {
        let Some(path) = present_path(self.config_file.clone()) else {
            return Ok(false);
        };
        Ok(read_file(&path)?.policy.confirm_writes.unwrap_or(false))
    }

    /// The client's options from the usage and timeout settings (file included).
    pub fn client_options(&self) -> Result<ClientOptions, ConfigError> {
        let s = self.clone().with_file()?;
        let mut options = ClientOptions::default();
        let warn = s
            .usage_warn_percent
            .unwrap_or((options.usage.warn_share * 100.0).round() as u8);
        let ceiling = s
            .usage_ceiling_percent
            .unwrap_or((options.usage.ceiling_share * 100.0).round() as u8);
        if !(1..=100).contains(&warn) {
            return Err(config_error(
                "SFMCP_USAGE_WARN_PERCENT",
                format!("{warn} is not a percentage between 1 and 100."),
            ));
        }
        if !(1..=100).contains(&ceiling) || ceiling < warn {
            return Err(config_error(
                "SFMCP_USAGE_CEILING_PERCENT",
                format!("{ceiling} must be between SFMCP_USAGE_WARN_PERCENT ({warn}) and 100."),
            ));
        }
        options.usage.warn_share = f64::from(warn) / 100.0;
        options.usage.ceiling_share = f64::from(ceiling) / 100.0;
        if let Some(secs) = s.request_timeout_secs {
            if !(secs > 0.0 && secs <= 600.0) {
                return Err(config_error(
                    "SFMCP_REQUEST_TIMEOUT_SECS",
                    format!(
                        "{secs} is out of range: use more than 0 and at most 600 seconds (Salesforce stops requests at 10 minutes)."
                    ),
                ));
            }
            options.request_timeout = Duration::from_secs_f64(secs);
        }
        if let Some(secs) = self.connect_timeout_secs {
            if !(secs > 0.0 && secs <= 120.0) {
                return Err(config_error(
                    "SFMCP_CONNECT_TIMEOUT_SECS",
                    format!("{secs} is out of range: use more than 0 and at most 120 seconds."),
                ));
            }
            options.connect_timeout = Duration::from_secs_f64(secs);
        }
        if let Some(millis) = self.identity_wait_ms {
            if millis > 10_000 {
                return Err(config_error(
                    "SFMCP_IDENTITY_WAIT_MS",
                    format!("{millis} is out of range: use 0 to 10000 milliseconds."),
                ));
            }
            options.identity_wait = Duration::from_millis(millis);
        }
        Ok(options)
    }

    /// The connected app people sign in through when `sfmcp serve --oauth` is the
    /// authorization server: SF_LOGIN_URL (or My Domain) and SF_CLIENT_ID / SF_CLIENT_SECRET.
    pub fn connected_app(&self) -> Result<(Url, OAuthClient), ConfigError> {
        let s = self.clone().with_file()?;
        let login_url = match present(s.login_url.as_deref()) {
            Some(url) => parse_url("SF_LOGIN_URL", url)?,
            None => parse_url("SF_LOGIN_URL", DEFAULT_LOGIN_URL)?,
        };
        let client_id = present(s.client_id.clone()).ok_or_else(|| config_error("SF_CLIENT_ID", "--oauth signs people in through your connected app (or external client app): set SF_CLIENT_ID to its consumer key, and SF_CLIENT_SECRET to its secret unless it does not require one."))?;
        Ok((
            login_url,
            OAuthClient {
                client_id,
                client_secret: present_secret(s.client_secret.clone()),
            },
        ))
    }

    /// Reads the `--config` file (if any) and builds the connection, or says which setting
    /// is missing or wrong and what to do.
    pub fn resolve(&self) -> Result<Connection, ConfigError> {
        let s = self.clone().with_file()?;
        let paragon_wanted = present(s.paragon_project_id.as_deref()).is_some()
            || present_secret(s.paragon_user_token.clone()).is_some()
            || present_path(s.paragon_signing_key_file.clone()).is_some();
        let mut connection = if paragon_wanted {
            let direct_too = present_secret(s.access_token.clone())
                .or(present_secret(s.refresh_token.clone()))
                .is_some()
                || present_path(s.jwt_key_file.clone()).is_some();
            if direct_too {
                return Err(config_error(
                    "PARAGON_PROJECT_ID",
                    "both Paragon and direct Salesforce credentials are set. Use one plane: unset the PARAGON_* settings, or SF_ACCESS_TOKEN / SF_REFRESH_TOKEN / SF_JWT_KEY_FILE.",
                ));
            }
            s.paragon()?
        } else {
            s.direct()?
        };
        if let Some(version) = present(s.api_version.as_deref()) {
            let bare = version.trim().trim_start_matches(['v', 'V']);
            let valid = bare.split('.').count() <= 2
                && bare
                    .split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            if !valid {
                return Err(config_error(
                    "SF_API_VERSION",
                    format!(
                        "'{version}' is not an API version. Use a version such as 62.0, or leave it unset for the newest the org offers."
                    ),
                ));
            }
            connection.api_version = Some(bare.to_string());
        }
        Ok(connection)
    }

    fn direct(&self) -> Result<Connection, ConfigError> {
        let instance_url = present(self.instance_url.as_deref())
            .map(|u| parse_url("SF_INSTANCE_URL", u))
            .transpose()?;
        let explicit_login = present(self.login_url.as_deref())
            .map(|u| parse_url("SF_LOGIN_URL", u))
            .transpose()?;
        let login_url = match &explicit_login {
            Some(url) => url.clone(),
            None => parse_url("SF_LOGIN_URL", DEFAULT_LOGIN_URL)?,
        };
        let client_id = present(self.client_id.clone());
        let client_secret = present_secret(self.client_secret.clone());
        let access_token = present_secret(self.access_token.clone());
        let refresh_token = present_secret(self.refresh_token.clone());
        let username = present(self.username.clone());
        let jwt_key_file = present_path(self.jwt_key_file.clone());

        let credential = if username.is_some() || jwt_key_file.is_some() {
            let username = username.ok_or_else(|| config_error("SF_USERNAME", "the JWT bearer flow (SF_JWT_KEY_FILE is set) needs the Salesforce username to log in as. Set SF_USERNAME."))?;
            let key_file = jwt_key_file.ok_or_else(|| config_error("SF_JWT_KEY_FILE", "the JWT bearer flow (SF_USERNAME is set) needs the private key whose certificate is on the connected app. Set SF_JWT_KEY_FILE to its PEM file."))?;
            let client_id = client_id.ok_or_else(|| {
                config_error(
                    "SF_CLIENT_ID",
                    "the JWT bearer flow needs the connected app's consumer key. Set SF_CLIENT_ID.",
                )
            })?;
            let key = SigningKey::from_file(&key_file, "SF_JWT_KEY_FILE")
                .map_err(|message| config_error("SF_JWT_KEY_FILE", message))?;
            DirectCredential::JwtBearer {
                login_url,
                client_id,
                username,
                key,
            }
        } else if let Some(refresh_token) = refresh_token {
            let client_id = client_id.ok_or_else(|| config_error("SF_CLIENT_ID", "a refresh token is renewed through its connected app: set SF_CLIENT_ID to the app's consumer key (and SF_CLIENT_SECRET unless the app does not require it)."))?;
            DirectCredential::RefreshToken {
                login_url,
                client: OAuthClient {
                    client_id,
                    client_secret,
                },
                refresh_token,
                access_token,
            }
        } else if let Some(access_token) = access_token {
            if instance_url.is_none() {
                return Err(config_error(
                    "SF_INSTANCE_URL",
                    "an access token alone does not say which org it belongs to. Set SF_INSTANCE_URL to the org's URL, e.g. https://acme.my.salesforce.com.",
                ));
            }
            DirectCredential::AccessToken {
                access_token,
                login_url,
                client: client_id.map(|client_id| OAuthClient {
                    client_id,
                    client_secret,
                }),
            }
        } else if let (Some(client_id), Some(client_secret)) =
            (client_id.clone(), client_secret.clone())
        {
            // Client credentials are served only by the org's own My Domain.
            let token_url = explicit_login
                .filter(|u| !is_generic_login(u))
                .or(instance_url.clone())
                .ok_or_else(|| config_error("SF_LOGIN_URL", "the client-credentials flow works only against the org's My Domain. Set SF_LOGIN_URL (or SF_INSTANCE_URL) to e.g. https://acme.my.salesforce.com."))?;
            DirectCredential::ClientCredentials {
                login_url: token_url,
                client_id,
                client_secret,
            }
        } else if let Some(stored) = self.stored_login()? {
            let login_url = parse_url("SF_LOGIN_URL", &stored.login_url)?;
            let instance = parse_url("SF_INSTANCE_URL", &stored.instance_url)?;
            return Ok(Connection::direct(
                instance_url.or(Some(instance)),
                DirectCredential::RefreshToken {
                    login_url,
                    client: OAuthClient {
                        client_id: stored.client_id,
                        client_secret: client_secret.or(stored.client_secret),
                    },
                    refresh_token: stored.refresh_token,
                    access_token: None,
                },
            ));
        } else if client_id.is_some() {
            return Err(config_error(
                "SF_CLIENT_SECRET",
                "SF_CLIENT_ID is set but nothing to log in with: add SF_CLIENT_SECRET (client credentials), SF_REFRESH_TOKEN, or SF_USERNAME with SF_JWT_KEY_FILE; or run `sfmcp login`.",
            ));
        } else {
            return Err(config_error(
                "SF_ACCESS_TOKEN",
                "no Salesforce credentials are set. Set one of: SF_ACCESS_TOKEN with SF_INSTANCE_URL; SF_REFRESH_TOKEN with SF_CLIENT_ID (and SF_CLIENT_SECRET); SF_CLIENT_ID with SF_CLIENT_SECRET (client credentials); SF_USERNAME with SF_JWT_KEY_FILE and SF_CLIENT_ID; or PARAGON_PROJECT_ID with PARAGON_USER_TOKEN for the Paragon proxy. `sfmcp login` stores a refresh token for you.",
            ));
        };
        Ok(Connection::direct(instance_url, credential))
    }

    /// What `sfmcp login` saved, if anything.
    fn stored_login(&self) -> Result<Option<StoredCredentials>, ConfigError> {
        let Some(path) = present_path(self.credentials_file.clone()).or_else(credentials_path)
        else {
            return Ok(None);
        };
        load_credentials(&path).map_err(|message| config_error("SFMCP_CREDENTIALS_FILE", message))
    }

    fn paragon(&self) -> Result<Connection, ConfigError> {
        let proxy_url = parse_url(
            "PARAGON_PROXY_URL",
            present(self.paragon_proxy_url.as_deref()).unwrap_or(PARAGON_DEFAULT_PROXY),
        )?;
        let project_id = present(self.paragon_project_id.clone()).ok_or_else(|| {
            config_error("PARAGON_PROJECT_ID", "the Paragon plane needs the project id (Paragon dashboard → Settings). Set PARAGON_PROJECT_ID.")
        })?;
        if !project_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(config_error(
                "PARAGON_PROJECT_ID",
                "the project id may hold only letters, digits, '-' and '_'. Copy it again from the Paragon dashboard.",
            ));
        }
        let user_token = present_secret(self.paragon_user_token.clone());
        let key_file = present_path(self.paragon_signing_key_file.clone());
        let user_id = present(self.paragon_user_id.clone());
        let user = match (user_token, key_file) {
            (Some(_), Some(_)) => {
                return Err(config_error(
                    "PARAGON_USER_TOKEN",
                    "set either PARAGON_USER_TOKEN or PARAGON_SIGNING_KEY_FILE (with PARAGON_USER_ID), not both.",
                ));
            }
            (Some(token), None) => ParagonUser::Token(token),
            (None, Some(key_file)) => {
                let user_id = user_id.ok_or_else(|| config_error("PARAGON_USER_ID", "minting user tokens with PARAGON_SIGNING_KEY_FILE needs the user they are for. Set PARAGON_USER_ID."))?;
                let key = SigningKey::from_file(&key_file, "PARAGON_SIGNING_KEY_FILE")
                    .map_err(|message| config_error("PARAGON_SIGNING_KEY_FILE", message))?;
                ParagonUser::Signing { key, user_id }
            }
            (None, None) => {
                return Err(config_error(
                    "PARAGON_USER_TOKEN",
                    "the Paragon plane needs a user token: set PARAGON_USER_TOKEN, or PARAGON_SIGNING_KEY_FILE with PARAGON_USER_ID so sfmcp mints them.",
                ));
            }
        };
        let instance_url = present(self.instance_url.as_deref())
            .map(|u| parse_url("SF_INSTANCE_URL", u))
            .transpose()?;
        Ok(Connection::paragon(ParagonAuth {
            proxy_url,
            project_id,
            user,
            credential_id: present(self.paragon_credential_id.clone()),
            instance_url,
        }))
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        config_error(
            "SFMCP_CONFIG",
            format!(
                "cannot read {}: {e}. Check the --config path.",
                path.display()
            ),
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        config_error(
            "SFMCP_CONFIG",
            format!(
                "{} is not a valid settings file: {}",
                path.display(),
                e.message()
            ),
        )
    })
}

fn is_generic_login(url: &Url) -> bool {
    matches!(
        url.host_str(),
        Some("login.salesforce.com") | Some("test.salesforce.com")
    )
}

/// An https URL (http only for loopback, where the local emulator runs).
fn parse_url(setting: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim()).map_err(|e| {
        config_error(
            setting,
            format!("'{value}' is not a URL ({e}). Use the full URL, e.g. https://acme.my.salesforce.com."),
        )
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(config_error(
                setting,
                format!("'{value}' uses http: tokens must travel over https. Use https://..."),
            ));
        }
        _ => {
            return Err(config_error(
                setting,
                format!(
                    "'{value}' is not an http(s) URL. Use e.g. https://acme.my.salesforce.com."
                ),
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(config_error(setting, format!("'{value}' has no host.")));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(config_error(
            setting,
            format!(
                "'{value}' has a path; give only the scheme and host, e.g. https://acme.my.salesforce.com."
            ),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests;
