//! The sync transport: one POST per round over reqwest (rustls), retrying network errors
//! and server errors with doubling back-off; refusals (auth, version) are final.
//!
//! It knows the protocol's messages and nothing of the store or of sync's rounds: it sends
//! the request it is given and returns what came back.
//!
//! HTTPS trusts Mozilla's root certificates, bundled (`webpki-roots`), plus any the app was
//! given (a street office's own CA): the same on Android, iOS and desktops, with no platform
//! verifier to initialise with an Android context.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::{Error, Result};
use crate::protocol::{
    self, CHANGES_PATH, CONTENT_TYPE, PROTOCOL_VERSION, Refusal, SYNC_PATH, SyncRequest,
    SyncResponse, VERSION_HEADER,
};

/// Where and how to reach the sync server.
#[derive(Debug, Clone)]
pub(crate) struct TransportOptions {
    /// Base URL of the sync server, e.g. `https://linli.example.gov.cn`.
    pub server_url: String,
    /// The device token from enrolment.
    pub token: String,
    /// Attempts per round on network errors and 5xx, with doubling back-off.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// PEM certificates to trust besides the bundled roots (a street office's own CA).
    pub trusted_certificates: Option<String>,
}

/// The TLS settings: the bundled roots and `extra` PEM certificates. A PEM text that holds
/// no certificate, or a certificate rustls refuses, is invalid input.
fn tls_config(extra: Option<&str>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra.filter(|p| !p.trim().is_empty()) {
        let invalid = || Error::InvalidInput {
            field: "trusted_certificates",
            reason: crate::Reason::BadFormat,
        };
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| invalid())?;
        if certs.is_empty() {
            return Err(invalid());
        }
        for cert in certs {
            roots.add(cert).map_err(|_| invalid())?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::Network("could not set up TLS".into()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

pub(crate) struct Transport {
    client: reqwest::Client,
    url: String,
    /// The long poll's URL (`/v1/changes`).
    changes_url: String,
    timeout: Duration,
    token: String,
    max_attempts: u32,
    backoff: Duration,
}

enum Failure {
    /// Worth another attempt.
    Retry(String),
    Final(Error),
}

/// The HTTP client every call of the core uses: the TLS settings above, `timeout` per request.
pub(crate) fn client(
    timeout: Duration,
    trusted_certificates: Option<&str>,
) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(trusted_certificates)?)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .map_err(|_| Error::Network("could not set up the HTTP client".into()))
}

/// POSTs a JSON body once (no retries: the caller decides); the status and the body read.
pub(crate) async fn post_json(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> Result<(u16, Vec<u8>)> {
    let resp = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| Error::Network(describe(&e)))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Error::Network(describe(&e)))?;
    Ok((status, bytes.to_vec()))
}

impl Transport {
    pub(crate) fn new(options: &TransportOptions) -> Result<Transport> {
        let client = client(options.timeout, options.trusted_certificates.as_deref())?;
        Ok(Transport {
            client,
            url: format!("{}{}", options.server_url.trim_end_matches('/'), SYNC_PATH),
            changes_url: format!(
                "{}{}",
                options.server_url.trim_end_matches('/'),
                CHANGES_PATH
            ),
            timeout: options.timeout,
            token: options.token.clone(),
            max_attempts: options.max_attempts.max(1),
            backoff: options.initial_backoff,
        })
    }

    /// Sends one round; returns the response and the bytes sent and received.
    pub(crate) async fn round(
        &self,
        request: &SyncRequest,
    ) -> Result<(SyncResponse, usize, usize)> {
        let body =
            protocol::encode(request).map_err(|_| Error::Server("unencodable request".into()))?;
        let mut delay = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match self.attempt(&body).await {
                Ok((response, down)) => return Ok((response, body.len(), down)),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(why)) => {
                    tracing::debug!(attempt, %why, "sync round failed, retrying");
                    last = why;
                    if attempt < self.max_attempts {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        }
        Err(Error::Network(last))
    }

    /// Holds the long poll: true as soon as the server says the scope holds something new
    /// after `after`, false if `wait` passed without. Network errors and 5xx are retried as
    /// a round's are; refusals are final.
    pub(crate) async fn wait_for_changes(&self, after: u64, wait: Duration) -> Result<bool> {
        let secs = wait.as_secs().clamp(1, 55);
        let mut delay = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match self.attempt_changes(after, secs).await {
                Ok(changed) => return Ok(changed),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(why)) => {
                    tracing::debug!(attempt, %why, "long poll failed, retrying");
                    last = why;
                    if attempt < self.max_attempts {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        }
        Err(Error::Network(last))
    }

    async fn attempt_changes(&self, after: u64, secs: u64) -> std::result::Result<bool, Failure> {
        let resp = self
            .client
            .get(format!("{}?after={after}&wait={secs}", self.changes_url))
            .bearer_auth(&self.token)
            // The server holds the request up to `secs`: the request timeout counts on top.
            .timeout(Duration::from_secs(secs) + self.timeout)
            .send()
            .await
            .map_err(|e| Failure::Retry(describe(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Failure::Retry(describe(&e)))?;
        if status.is_success() {
            let answer: ChangesAnswer = serde_json::from_slice(&bytes)
                .map_err(|_| Failure::Retry("unreadable response".into()))?;
            return Ok(answer.changed);
        }
        Err(refused(status, &bytes))
    }

    async fn attempt(&self, body: &[u8]) -> std::result::Result<(SyncResponse, usize), Failure> {
        let resp = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(VERSION_HEADER, PROTOCOL_VERSION.to_string())
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| Failure::Retry(describe(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Failure::Retry(describe(&e)))?;
        if status.is_success() {
            let response: SyncResponse = protocol::decode(&bytes)
                .map_err(|_| Failure::Retry("unreadable response".into()))?;
            if response.protocol != PROTOCOL_VERSION {
                return Err(Failure::Final(Error::UnsupportedVersion));
            }
            return Ok((response, bytes.len()));
        }
        Err(refused(status, &bytes))
    }
}

/// The answer of the long poll (`{"changed": bool, "seq": N}`).
#[derive(serde::Deserialize)]
struct ChangesAnswer {
    changed: bool,
}

/// What an unsuccessful status means: worth another attempt (5xx, 429), or a refusal.
fn refused(status: reqwest::StatusCode, bytes: &[u8]) -> Failure {
    if status.is_server_error() || status.as_u16() == 429 {
        return Failure::Retry(format!("server answered {}", status.as_u16()));
    }
    let refusal = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| Refusal::from_code(t.trim()));
    Failure::Final(match (status.as_u16(), refusal) {
        (_, Some(Refusal::Revoked)) => Error::Revoked,
        (_, Some(Refusal::UnsupportedVersion)) | (426, _) => Error::UnsupportedVersion,
        (401, _) | (_, Some(Refusal::Unauthorized)) => Error::Unauthorized,
        (403, _) => Error::Revoked,
        (code, r) => Error::Server(format!(
            "refused with {code} ({})",
            r.map(Refusal::code).unwrap_or("unknown")
        )),
    })
}

/// A network error's kind, without URLs or bodies.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_body() || e.is_decode() {
        "connection dropped mid-response".into()
    } else {
        "request failed".into()
    }
}
