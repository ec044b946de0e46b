//! `GET /v1/changes?after=<seq>&wait=<seconds>`: a long poll that tells an online device
//! when its scope holds something new, so it syncs at once instead of on a timer.
//!
//! The answer is JSON `{"changed": bool, "seq": N}` (N: the log's highest sequence). It is
//! immediate if a pull from `after` would bring the device anything
//! ([`crate::SyncStorage::changed_since`], the pull's own rule: another device's or the
//! server's change in scope, a departure, a snapshot pass due); otherwise the request waits
//! on [`Changes`], the process's commit counter, re-checking after every commit, and
//! answers `changed: false` at the timeout. Waiting holds no thread and no database
//! connection, only a permit of a bounded pool ([`MAX_WAITERS`]); beyond it the answer is
//! 503 `{"error": "busy"}`. Authentication is the sync endpoint's (401/403 with its body).
//! When the server shuts down ([`Changes::close`], called by `serve`), every waiter answers
//! `changed: false` at once, so a graceful shutdown does not wait out the long polls.
//!
//! [`Changes`] is in-process: with several server processes on one database, a waiter
//! hears only its own process's commits (until PostgreSQL's LISTEN/NOTIFY, issue 13) and
//! otherwise answers at its timeout, after which the device syncs anyway.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};

use crate::error::Result;
use crate::{AppState, Authenticated, blocking};

pub use linli_domain::protocol::CHANGES_PATH;
/// Longest wait a device may ask for, in seconds (under common 60 s proxy timeouts).
pub const MAX_WAIT_SECS: u64 = 55;
/// The wait when none is asked for, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 25;
/// Requests that may wait at once; more are refused with 503.
pub const MAX_WAITERS: usize = 10_000;

/// The process's commit counter: bumped after every committed write devices may care
/// about (a push, an API move or report, a sweep's escalation), watched by waiters.
#[derive(Clone)]
pub struct Changes {
    counter: Arc<watch::Sender<u64>>,
    waiters: Arc<Semaphore>,
    closed: Arc<AtomicBool>,
}

impl Default for Changes {
    fn default() -> Changes {
        Changes::with_max_waiters(MAX_WAITERS)
    }
}

impl Changes {
    /// A counter whose long poll admits at most `max` waiters at once.
    pub fn with_max_waiters(max: usize) -> Changes {
        Changes {
            counter: Arc::new(watch::channel(0).0),
            waiters: Arc::new(Semaphore::new(max)),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Wakes every waiter to re-check. Call after the write has committed.
    pub fn notify(&self) {
        self.counter.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The server is stopping: every waiter answers now, and new ones at once.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.counter.subscribe()
    }
}

/// The query of [`CHANGES_PATH`].
#[derive(Debug, Deserialize)]
pub struct ChangesQuery {
    #[serde(default)]
    pub after: u64,
    pub wait: Option<u64>,
}

/// The answer of [`CHANGES_PATH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangesAnswer {
    pub changed: bool,
    pub seq: u64,
}

/// The long poll's handler; see the module doc.
pub async fn changes(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    query: std::result::Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let Ok(Query(query)) = query else {
        return Ok(json_error(StatusCode::BAD_REQUEST, "malformed"));
    };
    let wait = Duration::from_secs(
        query
            .wait
            .unwrap_or(DEFAULT_WAIT_SECS)
            .clamp(1, MAX_WAIT_SECS),
    );
    let Ok(_permit) = state.changes.waiters.clone().try_acquire_owned() else {
        return Ok(json_error(StatusCode::SERVICE_UNAVAILABLE, "busy"));
    };
    let deadline = tokio::time::Instant::now() + wait;
    let device = Arc::new(device);
    let mut rx = state.changes.subscribe();
    loop {
        // Mark the counter seen before reading, so a commit after the read wakes us.
        rx.borrow_and_update();
        let storage = state.storage.clone();
        let d = device.clone();
        let after = query.after;
        let (changed, seq) = blocking(move || storage.changed_since(&d, after)).await?;
        if changed || state.changes.is_closed() {
            return Ok(Json(ChangesAnswer { changed, seq }).into_response());
        }
        match tokio::time::timeout_at(deadline, rx.changed()).await {
            Ok(Ok(())) => continue,
            // Timed out, or the counter is gone (the server is stopping).
            _ => return Ok(Json(ChangesAnswer { changed, seq }).into_response()),
        }
    }
}

fn json_error(status: StatusCode, code: &'static str) -> Response {
    (status, Json(serde_json::json!({ "error": code }))).into_response()
}
