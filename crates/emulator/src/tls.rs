//! `--tls`: the emulator over HTTPS with a fresh self-signed certificate, for clients that
//! only speak `https://` (simple-salesforce builds every URL with it). The certificate's PEM
//! is handed to the caller, who trusts it explicitly (`REQUESTS_CA_BUNDLE`, `--cacert`).

use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate for `localhost` and `127.0.0.1`, and the acceptor that serves it.
pub struct SelfSigned {
    pub cert_pem: String,
    acceptor: TlsAcceptor,
}

impl SelfSigned {
    pub fn generate() -> Result<Self, String> {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let certified = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("the self-signed certificate could not be made: {e}"))?;
        let cert_pem = certified.cert.pem();
        super::journal::record("TLS private key", &certified.signing_key.serialize_pem());
        let cert = CertificateDer::from(certified.cert.der().to_vec());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let mut config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .map_err(|e| format!("the TLS configuration was refused: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            cert_pem,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Serves `app` over TLS on `listener` until `shutdown` fires. A failed handshake ends
    /// that connection only.
    pub async fn serve(
        self,
        listener: TcpListener,
        app: Router,
        mut shutdown: oneshot::Receiver<()>,
    ) {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(connection) => connection,
                    Err(error) => {
                        tracing::warn!(%error, "emulator TLS accept failed");
                        continue;
                    }
                },
                _ = &mut shutdown => return,
            };
            let acceptor = self.acceptor.clone();
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    }
}
