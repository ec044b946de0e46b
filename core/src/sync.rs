//! Sync from the app's side: where to sync ([`SyncConfig`]) and the driver, a short loop
//! that prepares a round, sends it over the transport and applies the answer
//! (`round.rs`), until nothing is left to push or pull.
//!
//! Local writes never wait for sync: each round's applies are their own short transactions.

use std::time::Duration;

use crate::db::lock;
use crate::error::{Error, Result};
use crate::http::{Transport, TransportOptions};
use crate::round::{Applied, Exchange, Session, SyncProgress, SyncReport};
use crate::store::{Store, local_now};
use crate::sync_state::{self, SyncState};

/// Where and how to sync.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Base URL of the sync server, e.g. `https://linli.example.gov.cn`.
    pub server_url: String,
    /// The device token from enrolment.
    pub token: String,
    /// Largest page to ask for.
    pub page_limit: u32,
    /// Attempts per round on network errors and 5xx, with doubling back-off.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// PEM certificates to trust besides the bundled public roots: a street office that
    /// serves HTTPS with its own CA gives its phones that CA's certificate.
    pub trusted_certificates: Option<String>,
}

impl SyncConfig {
    pub fn new(server_url: impl Into<String>, token: impl Into<String>) -> SyncConfig {
        SyncConfig {
            server_url: server_url.into(),
            token: token.into(),
            page_limit: 500,
            max_attempts: 4,
            initial_backoff: Duration::from_millis(250),
            timeout: Duration::from_secs(30),
            trusted_certificates: None,
        }
    }

    /// What the transport needs of this configuration.
    pub(crate) fn transport(&self) -> TransportOptions {
        TransportOptions {
            server_url: self.server_url.clone(),
            token: self.token.clone(),
            max_attempts: self.max_attempts,
            initial_backoff: self.initial_backoff,
            timeout: self.timeout,
            trusted_certificates: self.trusted_certificates.clone(),
        }
    }
}

impl Store {
    /// Where sync stands on this device.
    pub fn sync_state(&self) -> Result<SyncState> {
        sync_state::state(&lock(&self.reader))
    }

    /// Holds the server's long poll (`GET /v1/changes`) for up to `wait` (clamped by the
    /// server to 1..=55 s): true as soon as the device's scope holds something a sync would
    /// pull (another device's or the server's change, not this device's own), false if
    /// `wait` passed without. Asks from the pull cursor of the last complete sync; true at
    /// once if a snapshot pass is unfinished. Errors are the sync's (offline, refused).
    /// Cancel by dropping the future. The app's loop: wait, and on true, sync.
    pub async fn wait_for_changes(&self, config: &SyncConfig, wait: Duration) -> Result<bool> {
        let cursor = sync_state::cursor(&lock(&self.reader))?;
        if cursor.snapshot.is_some() {
            return Ok(true);
        }
        let transport = Transport::new(&config.transport())?;
        let answer = transport.wait_for_changes(cursor.seq, wait).await;
        self.erase_if_revoked(answer)
    }

    /// A revoked device keeps nothing: on [`Error::Revoked`] the store is erased before the
    /// error is returned. If erasing fails, that error is returned instead (the app keeps
    /// the store closed and deletes its files, as on sign-out).
    fn erase_if_revoked<T>(&self, answer: Result<T>) -> Result<T> {
        if let Err(Error::Revoked) = answer {
            tracing::warn!("the server revoked this device: erasing the store");
            self.erase_everything()?;
        }
        answer
    }

    /// Pushes everything the server lacks and pulls everything in scope this device lacks,
    /// in as many rounds as it takes. Safe to cancel (drop the future) at any point: the
    /// next sync resumes where the last complete round left off. Documents the server
    /// refused (out of the user's scope, invalid) are listed in the report's `refused`, with
    /// why; their changes stay on the device.
    pub async fn sync(
        &self,
        config: &SyncConfig,
        on_progress: &(dyn Fn(&SyncProgress) + Send + Sync),
    ) -> Result<SyncReport> {
        let transport = Transport::new(&config.transport())?;
        let mut session = Session::default();
        loop {
            let out = session.prepare(self, config.page_limit)?;
            let sent_at = local_now();
            let (response, bytes_up, bytes_down) =
                self.erase_if_revoked(transport.round(&out.request).await)?;
            let exchange = Exchange {
                sent_at,
                received_at: local_now(),
                bytes_up,
                bytes_down,
            };
            match session.apply(self, &out, &response, &exchange)? {
                Applied::Restarted => continue,
                Applied::Round { change, done } => {
                    on_progress(&session.progress);
                    if change.households || change.incidents || change.reference {
                        self.notify(&change);
                    }
                    if done {
                        break;
                    }
                }
            }
        }
        // Refused documents are part of the report, not an error: the rest of the sync
        // completed, and its progress and clock offset are the caller's to show.
        Ok(session.report(local_now()))
    }
}
