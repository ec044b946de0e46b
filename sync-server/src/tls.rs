//! HTTPS without a proxy: the server terminates TLS itself, from certificate files.
//!
//! [`server_config`] reads a PEM certificate chain and a PEM private key (PKCS#8, RSA or
//! SEC1) into a rustls [`ServerConfig`] with the ring provider, given explicitly so that
//! nothing depends on a process-wide default; ALPN offers `http/1.1`. [`serve_tls`] serves
//! [`crate::app`] as [`crate::serve`] does (the escalation sweep, graceful shutdown), over
//! TLS. Each handshake runs in its own task with a time limit ([`HANDSHAKE_TIMEOUT`]), so a
//! slow or failed handshake holds up no other client; a failure is logged at debug and that
//! connection dropped. Errors name the file, never what a key file holds.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::{AppState, Error, Result};

/// How long a client may take over its TLS handshake before it is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them.
const READY_QUEUE: usize = 64;

/// The server's TLS settings from a PEM certificate chain (the server's certificate first)
/// and a PEM private key (PKCS#8, RSA or SEC1), with the ring provider and ALPN `http/1.1`.
/// Every failure is an [`Error::Config`] naming the file.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>> {
    let chain = load_certs(cert)?;
    let key_der = load_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            let (key, cert) = (key.display(), cert.display());
            Error::Config(match e {
                rustls::Error::InconsistentKeys(_) => {
                    format!("TLS key {key} is not the key of the certificate {cert}")
                }
                e => format!("TLS key {key} (for the certificate {cert}) is not usable: {e}"),
            })
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error("certificate", path, e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem_error("certificate", path, e))?;
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "TLS certificate {}: no certificate in the file (PEM \"BEGIN CERTIFICATE\" expected)",
            path.display()
        )));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error("key", path, e))
}

/// What went wrong with a PEM file, without quoting it (the parser's own errors may).
fn pem_error(what: &str, path: &Path, e: pem::Error) -> Error {
    let path = path.display();
    Error::Config(match e {
        pem::Error::Io(e) => format!("TLS {what} {path}: cannot read: {e}"),
        pem::Error::NoItemsFound if what == "key" => {
            format!("TLS key {path}: no private key in the file (PEM PKCS#8, RSA or SEC1 expected)")
        }
        pem::Error::NoItemsFound => format!("TLS {what} {path}: none in the file"),
        _ => format!("TLS {what} {path}: not a valid PEM file"),
    })
}

/// Serves [`crate::app`] over TLS on `listener` until `shutdown` completes, then lets
/// requests in flight finish; the escalation sweep runs as in [`crate::serve`]. Callers
/// set [`AppState::with_secure_cookies`]`(true)`. A client whose handshake fails or times
/// out is dropped; the server goes on.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    crate::serve_on(TlsListener::new(listener, tls)?, state, shutdown).await
}

/// A TCP listener whose connections come out handshaken. Handshakes run in tasks of
/// [`accept_loop`], which ends when this is dropped (when the server stops accepting).
struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    fn new(listener: TcpListener, tls: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        let accepting = tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls), sender));
        Ok(TlsListener {
            local_addr,
            ready,
            accepting,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // Also drops the handshakes under way.
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop only ends once this listener is dropped; wait for shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for crate::ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> crate::ClientAddr {
        crate::ClientAddr(*stream.remote_addr())
    }
}

/// Accepts TCP connections and handshakes each in its own task, handing the handshaken
/// ones to `ready`, until `ready`'s receiver is gone.
async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let mut handshakes = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    handshakes.spawn(handshake(acceptor.clone(), tcp, peer, ready.clone()));
                }
                Err(e) => accept_error(e).await,
            },
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => {}
            () = ready.closed() => return,
        }
    }
}

/// One client's handshake. The peer's address is not logged (it may identify a person).
async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => {
            // Fails only when the server stopped accepting: the connection is dropped.
            let _ = ready.send((tls, peer)).await;
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed; connection dropped"),
        Err(_) => tracing::debug!("TLS handshake timed out; connection dropped"),
    }
}

/// As axum does for plain TCP: a connection that went away is nothing; anything else (e.g.
/// out of file descriptors) is logged and accepting resumes after a second.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
