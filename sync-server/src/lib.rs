//! Linli's sync server: the one place every device's changes meet.
//!
//! A device POSTs its new Automerge changes and its pull cursor to [`SYNC_PATH`]; the server
//! stores what the device may write (its scope: the places its user was granted) and answers
//! with one page of what the device's scope holds that it lacks. The wire protocol is
//! `linli_domain::protocol`; whole-request refusals are described in `error.rs`.
//!
//! - `lib.rs`: the router ([`app`]), its state and the HTTP handlers; [`serve`]
//! - `error.rs`: the server's error and its HTTP mapping
//! - `changes.rs`: the long poll `GET /v1/changes` and the commit counter it waits on
//! - `storage.rs`: the storage traits ([`SyncStorage`], [`AdminStorage`], [`Storage`]) and
//!   the types they speak
//! - `sqlite/`: [`SqliteStorage`], the embedded implementation
//! - `merge.rs`: judging and applying pushed documents, scope checks (storage-independent);
//!   `judge.rs`: attribution and the role table on a push; `push.rs`: one request's pushes
//! - `workflow.rs`: the server's own writes: receipts, deadlines, the escalation step
//! - `board.rs`: the response board's rows (`incident_index`), queries and order
//! - `pull.rs`: paging a pull: snapshot passes, changes, departures (storage-independent)
//! - `backup.rs`: a consistent copy of the database while serving, and restoring one
//! - `config.rs`: settings from flags, environment and a TOML file
//! - `tls.rs`: HTTPS from certificate files (rustls, ring): [`tls::server_config`], [`tls::serve_tls`]
//! - `admin.rs`: places, people, devices and compaction for the `admin` command
//! - `relocate.rs`: a building moved to another grid: its records follow as server changes
//! - `directory.rs`: people, devices and places as the console administers them, the audit
//!   trail ([`directory::DirectoryStorage`])
//! - `enrol.rs`: `POST /v1/enrol`, a phone's enrolment code exchanged for its token
//! - `api/`: the JSON API for the console and tests (`/api/v1`)
//! - `console/`: the admin console at `/admin` (server-rendered pages, sign-in, sessions)
//! - `import/`: roster import: reading XLSX and CSV, checking rows, planning, writing
//! - `register.rs`: the register's rows projected from household documents, search, masking
//! - `ledger/`: ledgers (台账) as XLSX and CSV; `ledger/columns.rs` the household ledger's columns

pub mod admin;
pub mod api;
pub mod backup;
pub mod board;
pub mod changes;
pub mod config;
pub mod console;
pub mod directory;
pub mod enrol;
pub mod erase;
mod error;
pub mod import;
pub mod judge;
pub mod ledger;
pub mod merge;
pub mod pull;
pub mod push;
pub mod register;
pub mod relocate;
pub mod sqlite;
pub mod storage;
pub mod tls;
pub mod workflow;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use linli_domain::protocol::{
    self, CONTENT_TYPE, MAX_REQUEST_BYTES, Refusal, SYNC_PATH, SyncRequest, SyncResponse,
    VERSION_HEADER,
};

pub use admin::Enrollment;
pub use changes::{CHANGES_PATH, Changes};
pub use directory::DirectoryStorage;
pub use error::{Error, Result, refusal_status};
pub use sqlite::SqliteStorage;
pub use storage::{
    AccountStorage, AdminStorage, Auth, Device, RegisterStorage, Storage, SyncStorage, User,
    WorkflowStorage,
};

/// How often [`serve`] runs the escalation sweep unless told otherwise.
pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(5);

/// What every handler shares: the storage (whose [`workflow::ServerActor`] holds the
/// server's clock), how often the sweep runs, and the commit counter long polls wait on.
#[derive(Clone)]
pub struct AppState {
    storage: Arc<dyn Storage>,
    sweep_every: Duration,
    changes: Changes,
    /// Whether the console's cookies are `Secure`: on whenever the server terminates TLS.
    secure_cookies: bool,
    /// Roster uploads between their dry run and their import.
    imports: Arc<import::Jobs>,
}

impl AppState {
    pub fn new(storage: Arc<dyn Storage>) -> AppState {
        AppState {
            storage,
            sweep_every: DEFAULT_SWEEP_EVERY,
            changes: Changes::default(),
            secure_cookies: false,
            imports: Arc::default(),
        }
    }

    /// Roster uploads held for their import.
    pub fn imports(&self) -> &Arc<import::Jobs> {
        &self.imports
    }

    /// The same state with the console's cookies `Secure` (set when serving over TLS).
    pub fn with_secure_cookies(mut self, secure: bool) -> AppState {
        self.secure_cookies = secure;
        self
    }

    /// Whether the console's cookies are `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// The same state with another commit counter (e.g. a smaller waiter pool).
    pub fn with_changes(mut self, changes: Changes) -> AppState {
        self.changes = changes;
        self
    }

    /// The commit counter: call [`Changes::notify`] after a write devices should hear of.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// The same state with the sweep every `every`.
    pub fn with_sweep_every(mut self, every: Duration) -> AppState {
        self.sweep_every = every;
        self
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }
}

/// The server's routes: `POST` [`SYNC_PATH`], `GET` [`CHANGES_PATH`], `GET /health` and the JSON API under
/// `/api/v1` ([`api`]).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(SYNC_PATH, post(sync))
        .route(CHANGES_PATH, get(changes::changes))
        .route("/health", get(health))
        .route(enrol::ENROL_PATH, post(enrol::enrol))
        .merge(api::routes())
        .merge(console::routes())
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets requests in flight
/// finish. Tests bind `127.0.0.1:0` and pass the listener in. The escalation sweep runs at
/// start and every [`AppState::with_sweep_every`] while serving.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_on(listener, state, shutdown).await
}

/// [`serve`] on any listener (plain TCP, or [`tls::serve_tls`]'s TLS listener): the sweep,
/// and long polls answered when shutdown begins.
pub(crate) async fn serve_on<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    ClientAddr: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let sweeper = tokio::spawn(sweep_forever(
        state.storage.clone(),
        state.sweep_every,
        state.changes.clone(),
    ));
    // Long polls answer at once when shutdown begins, so it need not wait them out.
    let changes = state.changes.clone();
    let shutdown = async move {
        shutdown.await;
        changes.close();
    };
    // Connection info gives the console's sign-in throttle the client's address.
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<ClientAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    sweeper.abort();
    served
}

/// The client's address on a connection, over TCP or TLS: the console's sign-in throttle
/// reads it (as `ConnectInfo<ClientAddr>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::SocketAddr);

impl
    axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>>
    for ClientAddr
{
    fn connect_info(
        stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>,
    ) -> ClientAddr {
        ClientAddr(*stream.remote_addr())
    }
}

/// The escalation sweep, at start and then every `every`. A failed pass is logged and the
/// next one tries again: each escalation is its own transaction, so nothing is half-done.
/// Waiters on `changes` are woken after a pass that escalated anything.
pub async fn sweep_forever(storage: Arc<dyn Storage>, every: Duration, changes: Changes) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = storage.clone();
        match blocking(move || s.sweep()).await {
            Ok(done) if !done.is_empty() => {
                changes.notify();
                tracing::info!(escalated = done.len(), "sweep")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep failed; retrying at the next tick"),
        }
    }
}

/// Completes on SIGINT or SIGTERM: the shutdown signal for [`serve`].
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

/// Runs storage work off the async workers.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> Result<R> + Send + 'static) -> Result<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::Task)?
}

/// The device a request's bearer token belongs to; refuses the request otherwise.
pub struct Authenticated(pub Device);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            // Tokens are 64 characters; anything far longer is not worth hashing.
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(Error::Refused(Refusal::Unauthorized))?
            .to_owned();
        let storage = state.storage.clone();
        match blocking(move || storage.authenticate(&token)).await? {
            storage::Auth::Device(d) => Ok(Authenticated(*d)),
            storage::Auth::Unknown => Err(Error::Refused(Refusal::Unauthorized)),
            storage::Auth::Revoked => Err(Error::Refused(Refusal::Revoked)),
        }
    }
}

async fn health(State(state): State<AppState>) -> Result<&'static str> {
    let storage = state.storage.clone();
    blocking(move || storage.health()).await?;
    Ok("ok")
}

/// One sync round: push, then pull, then reference data if stale.
async fn sync(
    State(state): State<AppState>,
    Authenticated(device): Authenticated,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    if let Some(v) = headers.get(VERSION_HEADER) {
        let version = v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .ok_or(Error::Refused(Refusal::Malformed))?;
        if !protocol::is_supported(version) {
            return Err(Error::Refused(Refusal::UnsupportedVersion));
        }
    }
    let body = body.map_err(|rejection| {
        Error::Refused(if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Refusal::TooLarge
        } else {
            Refusal::Malformed
        })
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE)
        && ct.as_bytes() != CONTENT_TYPE.as_bytes()
    {
        return Err(Error::Refused(Refusal::Malformed));
    }
    let storage = state.storage.clone();
    // Decoding inflates up to 64 MiB: CPU work, so it runs off the async workers too.
    let (version, encoded, pushed) = blocking(move || {
        let req: SyncRequest = protocol::decode(&body).map_err(|e| {
            Error::Refused(match e {
                protocol::CodecError::TooLarge => Refusal::TooLarge,
                _ => Refusal::Malformed,
            })
        })?;
        // Each version is answered in its own terms (see `protocol::for_version`).
        if !protocol::is_supported(req.protocol) {
            return Err(Error::Refused(Refusal::UnsupportedVersion));
        }
        let acks = storage.push(&device, &req.push)?;
        let page = storage.pull(&device, &req.cursor, req.page_limit)?;
        let reference = storage
            .reference(&device, req.reference_version)?
            .map(|r| protocol::for_version(req.protocol, r));
        tracing::debug!(
            device = %device.device_id,
            pushed = acks.len(),
            pulled = page.docs.len(),
            more = page.more,
            "sync"
        );
        let response = SyncResponse {
            protocol: req.protocol,
            server_time: storage.server().now(),
            acks,
            docs: page.docs,
            gone: page.gone,
            erased: page.erased,
            cursor: page.cursor,
            more: page.more,
            reference,
        };
        let encoded = protocol::encode_response(&response).map_err(|_| Error::Encode)?;
        if device.final_sync && !response.more {
            // The user was deactivated after a final sync: this was it (its pushes stored,
            // its page complete; a push backlog beyond one request's budget is cut short).
            storage.finish_final_sync(&device.device_id)?;
        }
        Ok((req.protocol, encoded, !req.push.is_empty()))
    })
    .await?;
    if pushed {
        state.changes.notify();
    }
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE.to_owned()),
            (
                header::HeaderName::from_static(VERSION_HEADER),
                version.to_string(),
            ),
        ],
        encoded,
    )
        .into_response())
}
