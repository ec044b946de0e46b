//! The real sync server on loopback, and the one place the benchmarks call into the server
//! crate and the protocol: a `SqliteStorage` database with its admin calls (places, users,
//! grants, enrolments), `linli_sync_server::serve` on `127.0.0.1:0` in its own thread and
//! runtime, a relay that counts the HTTP bytes each way, `Store::sync` through it, and raw
//! protocol rounds (`POST /v1/sync` as the device sends it) for diagnostics and the morning.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linli_core::{Identity, Place, Store, SyncConfig, SyncProgress, SyncReport};
use linli_domain::protocol::{
    self, CONTENT_TYPE, Cursor, DocPush, PROTOCOL_VERSION, PushOutcome, Role, SYNC_PATH,
    SyncRequest, SyncResponse, VERSION_HEADER,
};
use linli_sync_server::{AppState, SqliteStorage, User, admin};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;

use crate::Res;
use crate::stats::percentile;

/// The client side's runtime (the server has its own).
pub fn runtime() -> Res<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// A temp dir on the disk (`TMPDIR` or `/tmp`): where measured databases live.
pub fn disk_dir(prefix: &str) -> Res<TempDir> {
    Ok(tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(std::env::temp_dir())?)
}

/// A temp dir on tmpfs where there is one, for setup: fsync costs nothing there.
pub fn shm_dir() -> Res<TempDir> {
    Ok(linli_testkit::temp_dir()?)
}

/// Copies a closed SQLite database (and its WAL, if one was left) to `to`.
pub fn copy_db(from: &Path, to: &Path) -> Res<()> {
    std::fs::copy(from, to)?;
    let wal = PathBuf::from(format!("{}-wal", from.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display()))?;
    }
    Ok(())
}

/// A plain (unencrypted) device store at `dir/device.db`: the baseline of the encryption
/// benchmark.
pub fn open_device_unencrypted(dir: &Path, device_id: &str, user_id: &str) -> Res<Store> {
    Ok(Store::open_unencrypted(
        dir.join("device.db"),
        Identity {
            device_id: device_id.into(),
            user_id: user_id.into(),
        },
    )?)
}

/// A device store at `dir/device.db`, encrypted as on phones (the test kit's key).
pub fn open_device(dir: &Path, device_id: &str, user_id: &str) -> Res<Store> {
    Ok(Store::open(
        dir.join("device.db"),
        Identity {
            device_id: device_id.into(),
            user_id: user_id.into(),
        },
        &linli_testkit::DB_KEY,
    )?)
}

/// The server's database, with the admin calls setup needs.
pub struct ServerDb(Arc<SqliteStorage>);

impl ServerDb {
    pub fn open(path: &Path) -> Res<ServerDb> {
        Ok(ServerDb(Arc::new(SqliteStorage::open(path)?)))
    }

    pub fn places(&self, places: &[Place]) -> Res<()> {
        for p in places {
            admin::create_place(self.0.as_ref(), p)?;
        }
        Ok(())
    }

    /// A user of `community` granted `place`.
    pub fn user(&self, id: &str, name: &str, role: Role, community: &str, place: &str) -> Res<()> {
        let user = User {
            id: id.into(),
            name: name.into(),
            role,
            community_id: community.into(),
        };
        admin::create_user(self.0.as_ref(), &user)?;
        admin::grant(self.0.as_ref(), id, place)?;
        Ok(())
    }

    /// Enrols a device of `user`: (device id, token).
    pub fn enroll(&self, user: &str) -> Res<(String, String)> {
        let e = admin::enroll(self.0.as_ref(), user, None)?;
        Ok((e.device_id, e.token))
    }

    /// A grid worker of `community` granted `grid`, with one device: (device id, token).
    pub fn worker(&self, id: &str, community: &str, grid: &str) -> Res<(String, String)> {
        self.user(id, "网格员", Role::GridWorker, community, grid)?;
        self.enroll(id)
    }

    /// A community admin (scope: the whole community), with one device.
    pub fn community_admin(&self, id: &str, community: &str) -> Res<(String, String)> {
        self.user(id, "社区管理员", Role::Admin, community, community)?;
        self.enroll(id)
    }

    /// The same, with the server's clock given by `clock` (a scenario may move it forward).
    pub fn open_with_clock(
        path: &Path,
        clock: linli_sync_server::workflow::Clock,
    ) -> Res<ServerDb> {
        Ok(ServerDb(Arc::new(
            SqliteStorage::open(path)?.with_clock(clock),
        )))
    }

    /// The storage itself, for scenarios that time its reads directly (the board).
    pub fn storage(&self) -> &SqliteStorage {
        &self.0
    }

    pub fn serve(&self) -> Res<Server> {
        Server::start(self.0.clone(), None)
    }

    /// Serving, with the escalation sweep every `every`.
    pub fn serve_with_sweep(&self, every: Duration) -> Res<Server> {
        Server::start(self.0.clone(), Some(every))
    }
}

/// The sync server (`linli_sync_server::serve`), serving in its own thread and runtime.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    fn start(storage: Arc<SqliteStorage>, sweep_every: Option<Duration>) -> Res<Server> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("server".into()).spawn(
            move || -> std::io::Result<()> {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .thread_name("server-rt")
                    .build()?;
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                    let _ = addr_tx.send(listener.local_addr());
                    let state = match sweep_every {
                        Some(every) => AppState::new(storage).with_sweep_every(every),
                        None => AppState::new(storage),
                    };
                    linli_sync_server::serve(listener, state, async {
                        let _ = stopped.await;
                    })
                    .await
                })
            },
        )?;
        let addr = addr_rx.recv_timeout(Duration::from_secs(30))??;
        Ok(Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn sync_url(&self) -> String {
        format!("{}{SYNC_PATH}", self.url())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            // Graceful shutdown waits for connections in flight; wait at most 30 s.
            let deadline = Instant::now() + Duration::from_secs(30);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// A loopback relay in front of the server that counts the bytes each way (HTTP requests
/// and responses with their headers: TCP payload).
pub struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    count: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        count.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Relay {
    pub fn start(rt: &Runtime, target: SocketAddr) -> Res<Relay> {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let (u, d) = (up.clone(), down.clone());
        let task = rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, u.clone()));
                tokio::spawn(pump(sr, cw, d.clone()));
            }
        });
        Ok(Relay {
            addr,
            up,
            down,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// (up, down) since the last call.
    fn take(&self) -> (u64, u64) {
        (
            self.up.swap(0, Ordering::SeqCst),
            self.down.swap(0, Ordering::SeqCst),
        )
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One `Store::sync`, timed, with the HTTP bytes the relay saw and when each round ended.
pub struct SyncRun {
    pub report: SyncReport,
    pub secs: f64,
    pub http_up: u64,
    pub http_down: u64,
    pub round_ends: Vec<f64>,
}

/// `Store::sync` through the relay.
pub fn sync_through(rt: &Runtime, store: &Store, relay: &Relay, token: &str) -> Res<SyncRun> {
    let log: Mutex<Vec<f64>> = Mutex::new(Vec::new());
    let config = SyncConfig::new(relay.url(), token);
    relay.take();
    let t0 = Instant::now();
    let on_progress = |_: &SyncProgress| {
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(t0.elapsed().as_secs_f64());
    };
    let report = rt.block_on(store.sync(&config, &on_progress))?;
    let secs = t0.elapsed().as_secs_f64();
    let (http_up, http_down) = relay.take();
    Ok(SyncRun {
        report,
        secs,
        http_up,
        http_down,
        round_ends: log.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// `Store::sync` straight to the server (setup).
pub fn sync(rt: &Runtime, store: &Store, server: &Server, token: &str) -> Res<SyncReport> {
    let config = SyncConfig::new(server.url(), token);
    Ok(rt.block_on(store.sync(&config, &|_| {}))?)
}

/// An HTTP client for raw rounds, with a pool of `connections`.
pub fn http_client(connections: usize) -> Res<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .build()?)
}

/// A sync request with the device's page limit.
pub fn request(cursor: Cursor, reference_version: u64, push: Vec<DocPush>) -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor,
        reference_version,
        push,
        page_limit: 500,
    }
}

pub fn encode(req: &SyncRequest) -> Res<Vec<u8>> {
    Ok(protocol::encode(req)?)
}

/// One raw round as the device sends it; the response and its body size, or why it failed.
pub async fn post_round(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> Result<(SyncResponse, usize), String> {
    let resp = client
        .post(url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .header(VERSION_HEADER, PROTOCOL_VERSION.to_string())
        .body(body)
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(100)]).into_owned();
        return Err(format!("status {}: {text}", status.as_u16()));
    }
    let decoded: SyncResponse = protocol::decode(&bytes).map_err(|e| format!("decode: {e}"))?;
    Ok((decoded, bytes.len()))
}

/// What a raw pull from a cursor to the end delivered.
pub struct Pulled {
    /// (doc id, bytes) in the order received; a document may come more than once.
    pub docs: Vec<(String, Vec<u8>)>,
    pub cursor: Cursor,
    pub rounds: u32,
    pub body_down: usize,
    pub round_ms: Vec<f64>,
}

/// Pulls from `cursor` until the server has nothing more, pushing nothing.
pub fn pull_all(
    rt: &Runtime,
    client: &reqwest::Client,
    url: &str,
    token: &str,
    mut cursor: Cursor,
    reference_version: u64,
) -> Res<Pulled> {
    let mut out = Pulled {
        docs: Vec::new(),
        cursor: cursor.clone(),
        rounds: 0,
        body_down: 0,
        round_ms: Vec::new(),
    };
    for _ in 0..100_000 {
        let body = encode(&request(cursor.clone(), reference_version, vec![]))?;
        let t = Instant::now();
        let (resp, n) = rt.block_on(post_round(client, url, token, body))?;
        out.round_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        out.rounds += 1;
        out.body_down += n;
        out.docs
            .extend(resp.docs.into_iter().map(|d| (d.doc_id, d.changes)));
        cursor = resp.cursor;
        if !resp.more {
            out.cursor = cursor;
            return Ok(out);
        }
    }
    crate::fail("the server kept saying `more`")
}

/// What one device's rounds gave in a [`load`] run.
#[derive(Default)]
pub struct Outcome {
    pub latencies_ms: Vec<f64>,
    pub errors: Vec<String>,
    pub up: usize,
    pub down: usize,
}

/// The figures of a [`load`] run: latencies in ms (nearest-rank percentiles over every
/// request), devices that finished without an error, and bytes of request and response bodies.
pub struct Summary {
    pub requests: usize,
    pub finished: usize,
    pub errors: usize,
    pub first_errors: Vec<String>,
    pub up: usize,
    pub down: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(outcomes: &[Outcome]) -> Summary {
        let mut lat: Vec<f64> = outcomes
            .iter()
            .flat_map(|o| o.latencies_ms.iter().copied())
            .collect();
        lat.sort_by(f64::total_cmp);
        Summary {
            requests: lat.len(),
            finished: outcomes.iter().filter(|o| o.errors.is_empty()).count(),
            errors: outcomes.iter().map(|o| o.errors.len()).sum(),
            first_errors: outcomes
                .iter()
                .flat_map(|o| o.errors.clone())
                .take(5)
                .collect(),
            up: outcomes.iter().map(|o| o.up).sum(),
            down: outcomes.iter().map(|o| o.down).sum(),
            p50: percentile(&lat, 50.0),
            p90: percentile(&lat, 90.0),
            p99: percentile(&lat, 99.0),
            max: lat.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// A device's first request in a [`load`] run: its token, the encoded request, and how many
/// documents it pushes (each must be acknowledged as stored).
#[derive(Clone)]
pub struct FirstRequest {
    pub token: String,
    pub body: Vec<u8>,
    pub pushes: usize,
}

/// A device's rounds: its first request, then pulls following `more`.
async fn device_rounds(
    client: reqwest::Client,
    url: Arc<String>,
    first: FirstRequest,
    reference: u64,
) -> Outcome {
    let mut out = Outcome::default();
    let mut body = first.body;
    for round in 0..100 {
        out.up += body.len();
        let t = Instant::now();
        let result = post_round(&client, &url, &first.token, body).await;
        out.latencies_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let (resp, n) = match result {
            Ok(r) => r,
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        };
        out.down += n;
        let stored = resp
            .acks
            .iter()
            .filter(|a| a.outcome == PushOutcome::Stored)
            .count();
        if round == 0 && stored != first.pushes {
            out.errors
                .push(format!("{stored} of {} pushes stored", first.pushes));
        }
        if !resp.more {
            return out;
        }
        body = match encode(&request(resp.cursor, reference, vec![])) {
            Ok(b) => b,
            Err(e) => {
                out.errors.push(e.to_string());
                return out;
            }
        };
    }
    out.errors.push("the server kept saying `more`".into());
    out
}

/// Many devices at once from one HTTP client: every device's rounds, in the order given, at
/// most `concurrency` devices in flight. Returns one outcome per device.
pub fn load(
    rt: &Runtime,
    url: &str,
    devices: Vec<FirstRequest>,
    concurrency: usize,
    reference: u64,
) -> Res<Vec<Outcome>> {
    let client = http_client(concurrency)?;
    let url = Arc::new(url.to_owned());
    Ok(rt.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut set = tokio::task::JoinSet::new();
        for first in devices {
            let (client, url, permits) = (client.clone(), url.clone(), permits.clone());
            set.spawn(async move {
                match permits.acquire_owned().await {
                    Ok(_permit) => device_rounds(client, url, first, reference).await,
                    Err(_) => Outcome {
                        errors: vec!["semaphore closed".into()],
                        ..Outcome::default()
                    },
                }
            });
        }
        let mut outs = Vec::new();
        while let Some(r) = set.join_next().await {
            outs.push(r.unwrap_or_else(|e| Outcome {
                errors: vec![format!("task: {e}")],
                ..Outcome::default()
            }));
        }
        outs
    }))
}
