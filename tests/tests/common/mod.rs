//! The harness of the end-to-end tests: a real sync server (`SqliteStorage` on a temp file)
//! served on 127.0.0.1:0, real device stores on temp files syncing through it with the real
//! client (`Store::sync`, reqwest), a fault-injecting TCP proxy, the server binary as a child
//! process, and checks on the server's change log. No mocks: every byte crosses loopback.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use linli_core::protocol::Role;
use linli_core::*;
use linli_sync_server::admin::{self, Enrollment};
use linli_sync_server::{AppState, SqliteStorage, Storage, User};
use linli_testkit::records;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub use linli_testkit::demo::*;

/// A temporary directory for databases, on tmpfs where there is one (see the test kit).
pub fn temp_dir() -> TempDir {
    linli_testkit::temp_dir().unwrap()
}

// ---- the server, in process ---------------------------------------------------------------

/// A sync server on a loopback port, over the demo community's place tree and people.
pub struct Server {
    pub storage: Arc<SqliteStorage>,
    pub addr: SocketAddr,
    pub url: String,
    pub db: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

impl Server {
    /// Seeds the demo community (places, its four people) and serves on 127.0.0.1:0.
    pub async fn start() -> Server {
        let dir = temp_dir();
        let db = dir.path().join("server.db");
        let storage = Arc::new(SqliteStorage::open(&db).unwrap());
        linli_testkit::seed_demo(storage.as_ref()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(linli_sync_server::serve(
            listener,
            AppState::new(storage.clone()),
            async {
                let _ = stopped.await;
            },
        ));
        Server {
            storage,
            addr,
            url: format!("http://{addr}"),
            db,
            stop: Some(stop),
            serving: Some(serving),
            _dir: dir,
        }
    }

    /// A user of the demo community granted `places`, with one enrolled device.
    pub fn person(&self, user_id: &str, role: Role, places: &[&str]) -> Person {
        add_person(self.storage.as_ref(), user_id, role, places)
    }

    /// A device store for `person`, syncing with this server.
    pub fn device(&self, person: &Person) -> Device {
        Device::new(&self.url, person)
    }

    pub fn count(&self, table: &str) -> i64 {
        count(&self.db, table)
    }

    /// Stops serving and waits for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            serving.await.unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A user and their enrolled device.
#[derive(Debug, Clone)]
pub struct Person {
    pub user_id: String,
    pub enrollment: Enrollment,
}

/// Creates a user of the demo community, grants the places and enrolls a device, through the
/// admin functions the `admin` command uses.
pub fn add_person(storage: &dyn Storage, user_id: &str, role: Role, places: &[&str]) -> Person {
    admin::create_user(
        storage,
        &User {
            id: user_id.into(),
            name: format!("测试{user_id}"),
            role,
            community_id: COMMUNITY.into(),
        },
    )
    .unwrap();
    for place in places {
        admin::grant(storage, user_id, place).unwrap();
    }
    Person {
        user_id: user_id.into(),
        enrollment: admin::enroll(storage, user_id, None).unwrap(),
    }
}

/// Rows in a table of the server's database, read beside the running server.
pub fn count(db: &Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

// ---- devices ------------------------------------------------------------------------------

/// A phone: a real store on a temp file, with the credentials of its enrollment.
pub struct Device {
    pub store: Store,
    pub user_id: String,
    pub device_id: String,
    pub token: String,
    pub url: String,
    pub page_limit: u32,
    pub dir: TempDir,
}

impl Device {
    /// A fresh store: no places, no records, until its first sync.
    pub fn new(url: &str, person: &Person) -> Device {
        Device::with_key(url, person, Some(&linli_testkit::DB_KEY))
    }

    /// A fresh store, encrypted with `key` or (None) plain SQLite, for tests that grep
    /// the files with a positive control.
    pub fn with_key(url: &str, person: &Person, key: Option<&[u8]>) -> Device {
        let dir = temp_dir();
        let path = dir.path().join("phone.db");
        let identity = Identity {
            device_id: person.enrollment.device_id.clone(),
            user_id: person.user_id.clone(),
        };
        let store = match key {
            Some(key) => Store::open(path, identity, key),
            None => Store::open_unencrypted(path, identity),
        }
        .unwrap();
        Device {
            store,
            user_id: person.user_id.clone(),
            device_id: person.enrollment.device_id.clone(),
            token: person.enrollment.token.clone(),
            url: url.into(),
            page_limit: 500,
            dir,
        }
    }

    /// Quick retries: loopback answers at once or not at all.
    pub fn config(&self) -> SyncConfig {
        SyncConfig {
            page_limit: self.page_limit,
            max_attempts: 4,
            initial_backoff: Duration::from_millis(20),
            timeout: Duration::from_secs(20),
            ..SyncConfig::new(self.url.clone(), self.token.clone())
        }
    }

    pub async fn sync(&self) -> linli_core::Result<SyncReport> {
        self.sync_with(&self.config()).await
    }

    pub async fn sync_with(&self, config: &SyncConfig) -> linli_core::Result<SyncReport> {
        self.store.sync(config, &|_: &SyncProgress| {}).await
    }

    /// A sync that must succeed with nothing refused.
    pub async fn synced(&self) -> SyncReport {
        let report = self
            .sync()
            .await
            .unwrap_or_else(|e| panic!("sync of {} failed: {e}", self.user_id));
        assert!(report.refused.is_empty(), "refused: {:?}", report.refused);
        report
    }

    pub fn create(&self, place: &str, room: &str) -> String {
        self.store
            .create_household(records::elderly_alone(place, room))
            .unwrap()
    }

    pub fn visit(&self, household_id: &str) -> String {
        self.store
            .record_visit(records::visit(household_id))
            .unwrap()
    }

    /// An incident at a household (it takes the household's grid and building).
    pub fn report(&self, household_id: &str) -> String {
        self.store
            .report_incident(records::incident_at_household(household_id))
            .unwrap()
    }

    /// Closes the store, lets `f` work on its files (`phone.db` and any `-wal`, `-shm`)
    /// while nothing has them open, and opens it again.
    pub fn reopen(&mut self, f: impl FnOnce(&Path)) {
        let identity = self.store.identity().clone();
        let scratch = temp_dir();
        let old = std::mem::replace(
            &mut self.store,
            Store::open(
                scratch.path().join("scratch.db"),
                identity.clone(),
                &linli_testkit::DB_KEY,
            )
            .unwrap(),
        );
        drop(old);
        f(&self.dir.path().join("phone.db"));
        self.store = Store::open(
            self.dir.path().join("phone.db"),
            identity,
            &linli_testkit::DB_KEY,
        )
        .unwrap();
    }

    pub fn pending(&self) -> u32 {
        self.store.sync_state().unwrap().pending_docs
    }

    /// Rows in a table of the device's own database.
    pub fn raw_count(&self, table: &str) -> i64 {
        self.store.with_raw_connection(|c| {
            c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        })
    }
}

/// Copies a SQLite database and its `-wal` and `-shm` files (those that exist) from one
/// path to another, removing those of `to` that `from` lacks.
pub fn copy_database(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let (src, dst) = (
            PathBuf::from(format!("{}{suffix}", from.display())),
            PathBuf::from(format!("{}{suffix}", to.display())),
        );
        if src.exists() {
            std::fs::copy(&src, &dst).unwrap();
        } else if dst.exists() {
            std::fs::remove_file(&dst).unwrap();
        }
    }
}

/// Every document a store holds, as (id, kind), by id.
pub fn documents(store: &Store) -> Vec<(String, String)> {
    store.with_raw_connection(|c| {
        let mut stmt = c
            .prepare("SELECT id, kind FROM documents ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    })
}

/// Everything the screens can show of a store's records, to compare devices: each document
/// (with its heads and history), each household's visit rows, and the list queries.
#[derive(Debug, PartialEq)]
pub struct View {
    pub heads: Vec<(String, Vec<String>)>,
    pub households: Vec<Household>,
    pub incidents: Vec<Incident>,
    pub visit_rows: Vec<Vec<VisitSummary>>,
    pub histories: Vec<Vec<HistoryEntry>>,
    pub household_rows: Vec<HouseholdSummary>,
    pub incident_rows: Vec<IncidentSummary>,
    pub search_rows: Vec<HouseholdSummary>,
    pub tagged_rows: Vec<HouseholdSummary>,
    pub due_rows: Vec<HouseholdSummary>,
}

pub fn view(store: &Store) -> View {
    let mut v = View {
        heads: vec![],
        households: vec![],
        incidents: vec![],
        visit_rows: vec![],
        histories: vec![],
        household_rows: store.households_in(COMMUNITY).unwrap(),
        incident_rows: store.incidents(&IncidentFilter::default()).unwrap(),
        search_rows: store.search_households("安置小区", 500).unwrap(),
        tagged_rows: store
            .households_tagged(COMMUNITY, CareTag::ElderlyAlone)
            .unwrap(),
        // A fixed "now" far ahead, so every household is due and the order is compared.
        due_rows: store
            .households_due(COMMUNITY, VisitPolicy::default(), 4_102_444_800_000)
            .unwrap(),
    };
    for (id, kind) in documents(store) {
        v.heads.push((id.clone(), store.heads(&id).unwrap()));
        v.histories.push(store.history(&id).unwrap());
        if kind == "household" {
            v.households.push(store.household(&id).unwrap());
            v.visit_rows.push(store.visits_of(&id).unwrap());
        } else {
            v.incidents.push(store.incident(&id).unwrap());
        }
    }
    v
}

/// A household's visits on a device are each there once, and the rows match the document.
pub fn assert_visits_once(store: &Store, household_id: &str, expected: usize) {
    let rows = store.visits_of(household_id).unwrap();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "a visit row is duplicated");
    assert_eq!(rows.len(), expected, "visit rows");
    let doc = store.household(household_id).unwrap();
    assert_eq!(doc.visits.len(), expected, "visits in the document");
    let doc_ids: BTreeSet<&str> = doc.visits.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(doc_ids, ids);
}

// ---- the server's change log --------------------------------------------------------------

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// The number of changes in `save_after` bytes: a run of Automerge chunks, each magic (4),
/// checksum (4), type (1: change, 2: compressed change), uLEB128 length, body.
pub fn change_chunks(mut bytes: &[u8]) -> usize {
    let mut n = 0;
    while !bytes.is_empty() {
        assert!(
            bytes.len() > 9 && bytes[..4] == MAGIC,
            "not an Automerge chunk"
        );
        assert!(
            matches!(bytes[8], 1 | 2),
            "chunk type {} in the change log",
            bytes[8]
        );
        let (mut len, mut shift, mut i) = (0usize, 0, 9);
        loop {
            let b = bytes[i];
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        bytes = &bytes[i + len..];
        n += 1;
    }
    n
}

/// Checks that the server's log holds every change exactly once: replaying each document's
/// rows in order, every row adds all the changes it carries (none was stored before) and the
/// replay ends at the heads of the server's copy. Returns the number of rows.
pub fn assert_each_change_stored_once(db: &Path) -> usize {
    let c = rusqlite::Connection::open(db).unwrap();
    let rows: Vec<(i64, String, Vec<u8>)> = c
        .prepare("SELECT seq, doc_id, bytes FROM changes ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut docs: HashMap<String, automerge::AutoCommit> = HashMap::new();
    for (seq, doc_id, bytes) in &rows {
        let d = docs.entry(doc_id.clone()).or_default();
        let before = d.get_changes(&[]).len();
        d.load_incremental(bytes).unwrap();
        assert!(
            d.get_missing_deps(&[]).is_empty(),
            "row {seq} depends on changes not in the log"
        );
        let added = d.get_changes(&[]).len() - before;
        assert_eq!(
            added,
            change_chunks(bytes),
            "row {seq} of {doc_id} carries a change the log already held"
        );
        assert!(added > 0, "row {seq} of {doc_id} is empty");
    }
    let stored: Vec<(String, String)> = c
        .prepare("SELECT doc_id, heads FROM documents ORDER BY doc_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        stored.len(),
        docs.len(),
        "documents without changes, or the reverse"
    );
    for (doc_id, heads) in stored {
        let d = docs.get_mut(&doc_id).unwrap();
        let mut replayed: Vec<String> = d.get_heads().iter().map(|h| h.to_string()).collect();
        replayed.sort();
        assert_eq!(
            replayed.join(","),
            heads,
            "the log of {doc_id} is not its copy"
        );
    }
    rows.len()
}

// ---- raw HTTP -----------------------------------------------------------------------------

/// A reqwest client of our own, for requests the device client would never send.
pub fn http_client() -> reqwest::Client {
    // reqwest is built without a bundled crypto provider (as in the core); plain HTTP here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

// ---- a proxy that cuts connections --------------------------------------------------------

/// A TCP proxy on 127.0.0.1:0 in front of `upstream`. The first `cut_first` connections
/// forward the request whole but only the response's headers and `keep_body` bytes of its
/// body, then close: the server did the work, the client never hears the end of it. Later
/// connections are forwarded untouched.
pub struct Proxy {
    pub url: String,
    pub connections: Arc<AtomicUsize>,
    pub cut: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, cut_first: usize, keep_body: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicUsize::new(0));
        let (conns, cuts) = (connections.clone(), cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let n = conns.fetch_add(1, Ordering::SeqCst);
                let cuts = cuts.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if n < cut_first {
                        if cut_response(client, server, keep_body).await {
                            cuts.fetch_add(1, Ordering::SeqCst);
                        }
                    } else {
                        let (mut client, mut server) = (client, server);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy {
            url,
            connections,
            cut,
            task,
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards the request; of the first response, only the headers and up to `keep_body` bytes
/// of the body (always short of the whole body), then closes both sides. True if it cut.
async fn cut_response(client: TcpStream, server: TcpStream, keep_body: usize) -> bool {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut cut = false;
    while let Ok(n) = server_read.read(&mut buf).await {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let body_len = String::from_utf8_lossy(&seen[..end])
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let limit = end + 4 + keep_body.min(body_len.saturating_sub(1));
        if seen.len() >= limit {
            let _ = client_write.write_all(&seen[..limit]).await;
            let _ = client_write.flush().await;
            cut = true;
            break;
        }
    }
    upstream.abort();
    cut
}

/// A loopback server that accepts connections and never answers (a request lost in a
/// basement): only the client's timeout ends the wait.
pub struct BlackHole {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl BlackHole {
    pub async fn start() -> BlackHole {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        BlackHole { url, task }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback address nothing listens on.
pub async fn dead_address() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

// ---- the server binary --------------------------------------------------------------------

/// `linli-sync-server`, built beside this test executable by `cargo test --workspace`
/// (`target/<profile>/deps/<test>` → `target/<profile>/linli-sync-server`). Refuses a binary
/// older than any source it was built from (as its dep-info file lists them, the way cargo
/// itself judges freshness): it would test old code.
pub fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable sits in target/<profile>/deps");
    let bin = dir.join(format!("linli-sync-server{}", std::env::consts::EXE_SUFFIX));
    let rebuild = "build it with `cargo build -p linli-sync-server` (or run \
                   `cargo test --workspace`, which builds it)";
    assert!(
        bin.is_file(),
        "the server binary {} is missing: {rebuild}",
        bin.display()
    );
    let built = std::fs::metadata(&bin).unwrap().modified().unwrap();
    let dep_info = std::fs::read_to_string(dir.join("linli-sync-server.d")).unwrap_or_default();
    let sources: Vec<PathBuf> = dep_info
        .lines()
        .next()
        .and_then(|l| l.split_once(": "))
        .map(|(_, deps)| deps.split_whitespace().map(PathBuf::from).collect())
        .unwrap_or_default();
    for source in sources {
        let changed = std::fs::metadata(&source)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        assert!(
            changed <= built,
            "the server binary {} is older than {}: {rebuild}",
            bin.display(),
            source.display()
        );
    }
    bin
}

/// The server binary serving `db`, as a child process; killed (SIGKILL) when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// `serve --db DB --listen LISTEN`, waiting for its `listening on http://ADDR` line.
    /// None if it exited first (e.g. the port is still taken).
    pub fn spawn(db: &Path, listen: &str) -> Option<ServerProcess> {
        let mut child = Command::new(server_binary())
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", listen])
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        match line.trim().strip_prefix("listening on http://") {
            Some(addr) => Some(ServerProcess {
                addr: addr.parse().unwrap(),
                child,
            }),
            None => {
                let _ = child.wait();
                None
            }
        }
    }

    /// Spawns on exactly `addr`, retrying for a few seconds while the port is released.
    pub fn respawn(db: &Path, addr: SocketAddr) -> ServerProcess {
        for _ in 0..100 {
            if let Some(p) = ServerProcess::spawn(db, &addr.to_string()) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("could not serve on {addr} again");
    }

    /// SIGKILL: no graceful shutdown, requests in flight die with the process.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- heavy runs ---------------------------------------------------------------------------

/// Whether the long runs were asked for (`LINLI_HEAVY=1`).
pub fn heavy() -> bool {
    std::env::var_os("LINLI_HEAVY").is_some()
}

/// The change rows devices pushed, for [`Server::count`]: not the server's own (its receipt
/// of each incident, escalations), which it stores as the device `system`.
#[allow(dead_code)]
pub const DEVICE_CHANGES: &str = "changes WHERE device_id != 'system'";
