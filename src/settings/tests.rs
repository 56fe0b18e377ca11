//! Connection settings: which plane and flow they pick, and errors that name the setting.
// Test helpers outside #[test] functions panic on broken fixtures by design.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;

use clap::Parser;
use sfmcp_salesforce::{DirectCredential, Plane, Secret};

use super::{ConfigError, ConnectionSettings};

fn key_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    settings: ConnectionSettings,
}

/// No settings, and no `sfmcp login` credentials either (whatever this machine's user has).
fn none() -> ConnectionSettings {
    ConnectionSettings {
        credentials_file: Some(std::env::temp_dir().join("sfmcp-test-no-such-credentials.toml")),
        ..ConnectionSettings::default()
    }
}

fn error(settings: &ConnectionSettings) -> ConfigError {
    settings.resolve().expect_err("settings should be refused")
}

#[test]
fn nothing_set_names_the_settings_to_set() {
    let err = error(&none());
    assert_eq!(err.setting, "SF_ACCESS_TOKEN");
    assert!(err.message.contains("SF_INSTANCE_URL"));
    assert!(err.message.contains("PARAGON_PROJECT_ID"));
}

#[test]
fn an_access_token_needs_an_instance_url() {
    let settings = ConnectionSettings {
        access_token: Some(Secret::new("00Dx!tok")),
        ..none()
    };
    assert_eq!(error(&settings).setting, "SF_INSTANCE_URL");
    let settings = ConnectionSettings {
        instance_url: Some("https://acme.my.salesforce.com".into()),
        ..settings
    };
    let connection = settings.resolve().expect("valid");
    let Plane::Direct(direct) = connection.plane else {
        panic!("direct plane expected")
    };
    assert!(matches!(
        direct.credential,
        DirectCredential::AccessToken { .. }
    ));
}

#[test]
fn wrong_urls_and_versions_are_named() {
    let base = ConnectionSettings {
        access_token: Some(Secret::new("00Dx!tok")),
        instance_url: Some("acme.my.salesforce.com".into()),
        ..none()
    };
    assert_eq!(error(&base).setting, "SF_INSTANCE_URL");
    let plain_http = ConnectionSettings {
        instance_url: Some("http://acme.my.salesforce.com".into()),
        ..base.clone()
    };
    assert!(error(&plain_http).message.contains("https"));
    let loopback = ConnectionSettings {
        instance_url: Some("http://127.0.0.1:8080".into()),
        ..base.clone()
    };
    assert!(
        loopback.resolve().is_ok(),
        "the local emulator runs on http"
    );
    let bad_version = ConnectionSettings {
        api_version: Some("latest".into()),
        ..loopback.clone()
    };
    assert_eq!(error(&bad_version).setting, "SF_API_VERSION");
    let good_version = ConnectionSettings {
        api_version: Some("v62.0".into()),
        ..loopback
    };
    assert_eq!(
        good_version
            .resolve()
            .expect("valid")
            .api_version
            .as_deref(),
        Some("62.0")
    );
}

#[test]
fn flows_are_picked_from_what_is_set() {
    let refresh = ConnectionSettings {
        refresh_token: Some(Secret::new("5Aep-r")),
        ..none()
    };
    assert_eq!(error(&refresh).setting, "SF_CLIENT_ID");
    let refresh = ConnectionSettings {
        client_id: Some("3MVG9".into()),
        ..refresh
    };
    assert!(matches!(
        refresh.resolve().expect("valid").plane,
        Plane::Direct(ref d) if matches!(d.credential, DirectCredential::RefreshToken { .. })
    ));

    let client_credentials = ConnectionSettings {
        client_id: Some("3MVG9".into()),
        client_secret: Some(Secret::new("s")),
        ..none()
    };
    // login.salesforce.com does not serve client credentials: the My Domain is needed.
    assert_eq!(error(&client_credentials).setting, "SF_LOGIN_URL");
    let client_credentials = ConnectionSettings {
        login_url: Some("https://acme.my.salesforce.com".into()),
        ..client_credentials
    };
    assert!(matches!(
        client_credentials.resolve().expect("valid").plane,
        Plane::Direct(ref d) if matches!(d.credential, DirectCredential::ClientCredentials { .. })
    ));

    let jwt = ConnectionSettings {
        username: Some("me@acme.example".into()),
        client_id: Some("3MVG9".into()),
        ..none()
    };
    assert_eq!(error(&jwt).setting, "SF_JWT_KEY_FILE");
    let jwt_bad_key = ConnectionSettings {
        jwt_key_file: Some(key_path("test-only-rsa-key.pub.pem")),
        ..jwt.clone()
    };
    let err = error(&jwt_bad_key);
    assert_eq!(err.setting, "SF_JWT_KEY_FILE");
    assert!(err.message.contains("not an RSA private key"));
    let jwt = ConnectionSettings {
        jwt_key_file: Some(key_path("test-only-rsa-key.pem")),
        ..jwt
    };
    assert!(matches!(
        jwt.resolve().expect("valid").plane,
        Plane::Direct(ref d) if matches!(d.credential, DirectCredential::JwtBearer { .. })
    ));
}

#[test]
fn paragon_settings() {
    let token_only = ConnectionSettings {
        paragon_user_token: Some(Secret::new("user-token")),
        ..none()
    };
    assert_eq!(error(&token_only).setting, "PARAGON_PROJECT_ID");
    let signing_without_user = ConnectionSettings {
        paragon_project_id: Some("proj-1".into()),
        paragon_signing_key_file: Some(key_path("test-only-rsa-key.pem")),
        ..none()
    };
    assert_eq!(error(&signing_without_user).setting, "PARAGON_USER_ID");
    let both_planes = ConnectionSettings {
        paragon_user_id: Some("u1".into()),
        access_token: Some(Secret::new("00Dx!tok")),
        ..signing_without_user.clone()
    };
    assert!(error(&both_planes).message.contains("Use one plane"));
    let signing = ConnectionSettings {
        paragon_user_id: Some("u1".into()),
        paragon_credential_id: Some("cred-1".into()),
        ..signing_without_user
    };
    let connection = signing.resolve().expect("valid");
    let Plane::Paragon(p) = &connection.plane else {
        panic!("paragon plane expected")
    };
    assert_eq!(p.proxy_url.as_str(), "https://proxy.useparagon.com/");
    assert_eq!(p.credential_id.as_deref(), Some("cred-1"));
    assert_eq!(
        connection.tenant_key().as_str(),
        "paragon:proj-1:user=u1:cred-1"
    );
}

#[test]
fn the_file_fills_what_flags_leave_unset_and_rejects_typos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("sfmcp.toml");
    let mut f = std::fs::File::create(&file).expect("create");
    writeln!(
        f,
        "[salesforce]\ninstance_url = \"https://file.my.salesforce.com\"\naccess_token = \"00Dx!from-file\"\n\n[server]\nread_only = true"
    )
    .expect("write");
    let cli = Cli::try_parse_from([
        "sfmcp",
        "--config",
        file.to_str().expect("utf-8 path"),
        "--instance-url",
        "https://flag.my.salesforce.com",
    ])
    .expect("flags parse");
    let connection = cli.settings.resolve().expect("valid");
    let Plane::Direct(direct) = &connection.plane else {
        panic!("direct plane expected")
    };
    assert_eq!(
        direct.instance_url.as_ref().map(|u| u.as_str()),
        Some("https://flag.my.salesforce.com/"),
        "the flag wins over the file"
    );

    std::fs::write(
        &file,
        "[salesforce]\ninstnace_url = \"https://x.my.salesforce.com\"\n",
    )
    .expect("write");
    let settings = ConnectionSettings {
        config_file: Some(file.clone()),
        ..none()
    };
    let err = error(&settings);
    assert_eq!(err.setting, "SFMCP_CONFIG");
    assert!(err.message.contains("instnace_url"), "{}", err.message);

    let missing = ConnectionSettings {
        config_file: Some(dir.path().join("absent.toml")),
        ..none()
    };
    assert!(error(&missing).message.contains("cannot read"));
}

#[test]
fn settings_debug_output_holds_no_secret() {
    let settings = ConnectionSettings {
        access_token: Some(Secret::new("00Dx!very-secret-token")),
        refresh_token: Some(Secret::new("5Aep-very-secret-refresh")),
        client_secret: Some(Secret::new("very-secret-client-secret")),
        paragon_user_token: Some(Secret::new("very-secret-user-token")),
        ..none()
    };
    let shown = format!("{settings:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
}

#[test]
fn usage_thresholds_and_timeout_become_client_options() {
    let defaults = none().client_options().expect("defaults are valid");
    assert_eq!(defaults.usage.warn_share, 0.90);
    let cli = Cli::try_parse_from([
        "sfmcp",
        "--usage-warn-percent",
        "80",
        "--usage-ceiling-percent",
        "95",
        "--request-timeout-secs",
        "30",
    ])
    .expect("flags parse");
    let options = cli.settings.client_options().expect("valid");
    assert_eq!(options.usage.warn_share, 0.80);
    assert_eq!(options.usage.ceiling_share, 0.95);
    assert_eq!(options.request_timeout, std::time::Duration::from_secs(30));
    let inverted = ConnectionSettings {
        usage_warn_percent: Some(95),
        usage_ceiling_percent: Some(80),
        ..none()
    };
    assert_eq!(
        inverted
            .client_options()
            .expect_err("ceiling below warning")
            .setting,
        "SFMCP_USAGE_CEILING_PERCENT"
    );
    let too_long = ConnectionSettings {
        request_timeout_secs: Some(0.0),
        ..none()
    };
    assert_eq!(
        too_long.client_options().expect_err("zero timeout").setting,
        "SFMCP_REQUEST_TIMEOUT_SECS"
    );
    let connect = ConnectionSettings {
        connect_timeout_secs: Some(1.5),
        ..none()
    };
    assert_eq!(
        connect.client_options().expect("valid").connect_timeout,
        std::time::Duration::from_millis(1500)
    );
    let no_connect = ConnectionSettings {
        connect_timeout_secs: Some(0.0),
        ..none()
    };
    assert_eq!(
        no_connect
            .client_options()
            .expect_err("zero connect timeout")
            .setting,
        "SFMCP_CONNECT_TIMEOUT_SECS"
    );
}

fn settings_with_file(text: &str) -> (tempfile::TempDir, ConnectionSettings) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("sfmcp.toml");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write: {e}"));
    let settings = ConnectionSettings {
        config_file: Some(path),
        ..ConnectionSettings::default()
    };
    (dir, settings)
}

#[test]
fn confirm_writes_comes_from_the_policy_section() {
    let (_dir, on) = settings_with_file("[policy]\nconfirm_writes = true\n");
    assert_eq!(on.confirm_writes_in_file(), Ok(true));
    let (_dir, off) = settings_with_file("[salesforce]\napi_version = \"62.0\"\n");
    assert_eq!(off.confirm_writes_in_file(), Ok(false));
    assert_eq!(
        ConnectionSettings::default().confirm_writes_in_file(),
        Ok(false)
    );
    let (_dir, typo) = settings_with_file("[policy]\nconfirm_write = true\n");
    let error = typo.confirm_writes_in_file().err().map(|e| e.to_string());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("confirm_write")),
        "{error:?}"
    );
}
