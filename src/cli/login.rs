//! `sfmcp login`: connects a person's own org. The browser goes to Salesforce's authorize
//! page; Salesforce redirects back to `http://127.0.0.1:{port}/oauth/callback`, served here
//! for the length of the login; the code is exchanged (with the PKCE verifier) for a refresh
//! token, kept in the user's config directory only, never in the project or the logs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use sfmcp_salesforce::login::{
    CALLBACK_PATH, LoginOptions, Pkce, StoredCredentials, authorize_url, credentials_path,
    exchange_code, save_credentials,
};
use sfmcp_salesforce::{AuthFlow, Secret, SfError};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// How long the login waits for the person to approve in the browser.
const LOGIN_WAIT: Duration = Duration::from_secs(300);

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
        // Best effort: the URL is printed anyway. `open` knows each desktop's opener
        // (xdg-open, gio, WSL's wslview, macOS open, Windows start) and does not wait for it.
        if !no_browser {
            let _ = open::that_detached(url.as_str());
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

/// `sfmcp login`: runs the flow and maps the outcome to an exit code.
pub async fn command(args: LoginArgs) -> ExitCode {
    match run(args).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sfmcp login: {message}");
            ExitCode::from(2)
        }
    }
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
    let code = tokio::time::timeout(LOGIN_WAIT, receive_code(listener, state))
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

/// Serves the callback until Salesforce's redirect arrives, answers the browser, and returns
/// the code. Other paths (the browser's `/favicon.ico`) get 404 and change nothing.
async fn receive_code(listener: TcpListener, state: String) -> Result<String, SfError> {
    let (outcome_sender, outcome) = oneshot::channel();
    let outcome_sender = Arc::new(Mutex::new(Some(outcome_sender)));
    let app = Router::new().route(
        CALLBACK_PATH,
        get(move |Query(params): Query<HashMap<String, String>>| {
            let outcome = callback_outcome(&params, &state);
            let page = match &outcome {
                Ok(_) => "sfmcp is connected to Salesforce. You can close this window.",
                Err(_) => "sfmcp could not connect to Salesforce; the terminal says why.",
            };
            // Only the first callback counts: a second one (a reload) cannot replace it.
            if let Some(sender) = outcome_sender
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                let _ = sender.send(outcome);
            }
            async move { page }
        }),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let outcome = outcome.await.map_err(|_| SfError::InvalidRequest {
        message: "the OAuth callback listener stopped before Salesforce answered".into(),
        next_step: "Run `sfmcp login` again.".into(),
    });
    // The browser's page is written before the listener goes away.
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    outcome?
}

/// The code Salesforce's redirect carries, or why there is none.
fn callback_outcome(params: &HashMap<String, String>, state: &str) -> Result<String, SfError> {
    let refused = |error: &str, description: String| SfError::Auth {
        flow: AuthFlow::AuthorizationCode,
        status: None,
        error: error.into(),
        description,
    };
    if params.get("state").map(String::as_str) != Some(state) {
        return Err(refused(
            "state_mismatch",
            "the callback did not carry this login's state".into(),
        ));
    }
    if let Some(error) = params.get("error") {
        return Err(refused(
            error,
            params.get("error_description").cloned().unwrap_or_default(),
        ));
    }
    params.get("code").cloned().ok_or_else(|| {
        refused(
            "missing_code",
            "the callback carried no authorization code".into(),
        )
    })
}

#[cfg(test)]
mod tests;
