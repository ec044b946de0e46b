//! The server terminating TLS itself (`tls.rs`): a self-signed certificate made at test time
//! (rcgen), `serve_tls` on a real port, the certificate loader's errors, and the binary's
//! `--tls-cert`/`--tls-key`. No process-wide crypto provider is installed anywhere here: the
//! server and the test clients each name ring explicitly.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use linli_sync_server::tls::{serve_tls, server_config};
use linli_sync_server::{AppState, Error, SqliteStorage};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A self-signed certificate for `127.0.0.1` and `localhost`, written as PEM files.
struct CertFiles {
    _dir: TempDir,
    cert: PathBuf,
    key: PathBuf,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    key_pem: String,
}

fn self_signed() -> CertFiles {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).unwrap();
    let key_pem = made.signing_key.serialize_pem();
    std::fs::write(&key, &key_pem).unwrap();
    CertFiles {
        _dir: dir,
        cert,
        key,
        cert_der: made.cert.der().clone(),
        key_pem,
    }
}

fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls client trusting only `cert`, offering `alpn`.
fn client_config(
    cert: &rustls::pki_types::CertificateDer<'static>,
    alpn: &[&[u8]],
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(ring())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// reqwest (built without a provider) with our own rustls configuration.
fn https_client(cert: &rustls::pki_types::CertificateDer<'static>) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(client_config(cert, &[b"http/1.1"]))
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn health(client: &reqwest::Client, url: &str) -> String {
    let reply = client.get(format!("{url}/health")).send().await.unwrap();
    assert_eq!(reply.status(), reqwest::StatusCode::OK);
    reply.text().await.unwrap()
}

fn config_error(result: linli_sync_server::Result<Arc<rustls::ServerConfig>>) -> String {
    match result {
        Err(Error::Config(text)) => text,
        Err(other) => panic!("expected a configuration error, got {other}"),
        Ok(_) => panic!("expected a configuration error, got a configuration"),
    }
}

#[tokio::test]
async fn serves_https_and_goes_on_after_bad_handshakes() {
    let files = self_signed();
    let tls = server_config(&files.cert, &files.key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(dir.path().join("s.db")).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(storage).with_secure_cookies(true);
    let server = tokio::spawn(serve_tls(listener, tls, state, async {
        let _ = stopped.await;
    }));

    let client = https_client(&files.cert_der);
    let url = format!("https://{addr}");
    assert_eq!(health(&client, &url).await, "ok");

    // Plain HTTP to the TLS port fails, and so does a client that does not trust the
    // certificate; neither stops the server.
    let plain = client.get(format!("http://{addr}/health")).send().await;
    assert!(plain.is_err(), "{plain:?}");
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    let other = self_signed();
    let untrusting = https_client(&other.cert_der);
    assert!(
        untrusting
            .get(format!("{url}/health"))
            .send()
            .await
            .is_err()
    );

    // A client silent in its handshake holds up no one else.
    let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    assert_eq!(health(&client, &url).await, "ok");
    assert_eq!(health(&https_client(&files.cert_der), &url).await, "ok");
    drop(silent);

    // ALPN: HTTP/1.1 is what the server speaks, whatever else the client offers.
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(
        &files.cert_der,
        &[b"h2", b"http/1.1"],
    )));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls_stream = connector.connect(name, tcp).await.unwrap();
    assert_eq!(
        tls_stream.get_ref().1.alpn_protocol(),
        Some(&b"http/1.1"[..])
    );
    drop(tls_stream);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[test]
fn bad_certificate_files_are_configuration_errors_naming_the_file() {
    let files = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");

    let text = config_error(server_config(&missing, &files.key));
    assert!(text.contains(&missing.display().to_string()), "{text}");

    let text = config_error(server_config(&files.cert, &missing));
    assert!(text.contains(&missing.display().to_string()), "{text}");

    // No certificate in the file (here: the key).
    let text = config_error(server_config(&files.key, &files.key));
    assert!(text.contains("no certificate"), "{text}");
    assert!(text.contains(&files.key.display().to_string()), "{text}");

    // Key files that are not keys; none of their bytes appear in the error.
    let key_body = |pem: &str| -> Vec<String> {
        pem.lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_owned)
            .collect()
    };
    let garbage = dir.path().join("garbage.pem");
    let cases = [
        "not a key at all, just words 0123456789abcdef\n".to_owned(),
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=".repeat(3)
        ),
        "-----BEGIN PRIVATE KEY-----\n!!!! not base64 at all ~~~~ secret-ish !!!!\n-----END PRIVATE KEY-----\n".to_owned(),
        // Another certificate's key: a real key that does not fit.
        self_signed().key_pem,
    ];
    for case in &cases {
        std::fs::write(&garbage, case).unwrap();
        let text = config_error(server_config(&files.cert, &garbage));
        assert!(text.contains(&garbage.display().to_string()), "{text}");
        for line in key_body(case) {
            assert!(!text.contains(&line), "{text} quotes the key file");
        }
        assert!(!text.contains("secret-ish"), "{text}");
        assert!(!text.contains("just words"), "{text}");
    }

    // The right key is never quoted either (e.g. when the certificate is the wrong one).
    let text = config_error(server_config(&self_signed().cert, &files.key));
    for line in key_body(&files.key_pem) {
        assert!(!text.contains(&line), "{text} quotes the key file");
    }
}

/// `serve` with `args`; its first stdout line.
fn spawn_server(db: &Path, args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_linli-sync-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("LINLI_CONFIG")
        .env_remove("LINLI_TLS_CERT")
        .env_remove("LINLI_TLS_KEY")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

#[tokio::test]
async fn the_binary_serves_https_with_certificate_files() {
    let files = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let (mut child, line) = spawn_server(
        &db,
        &[
            "--tls-cert".as_ref(),
            files.cert.as_os_str(),
            "--tls-key".as_ref(),
            files.key.as_os_str(),
        ],
    );
    let addr = line
        .trim()
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    let url = format!("https://{addr}");
    let client = https_client(&files.cert_der);
    assert_eq!(health(&client, &url).await, "ok");
    child.kill().unwrap();
    child.wait().unwrap();

    // The same from a config file.
    let toml = dir.path().join("server.toml");
    let mut f = std::fs::File::create(&toml).unwrap();
    writeln!(
        f,
        "tls_cert = {:?}\ntls_key = {:?}",
        files.cert.display().to_string(),
        files.key.display().to_string()
    )
    .unwrap();
    drop(f);
    let (mut child, line) = spawn_server(&db, &["--config".as_ref(), toml.as_os_str()]);
    let addr = line.trim().strip_prefix("listening on https://").unwrap();
    assert_eq!(health(&client, &format!("https://{addr}")).await, "ok");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_binary_refuses_half_or_bad_tls_settings() {
    let files = self_signed();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_linli-sync-server"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .args(args)
            .env_remove("LINLI_CONFIG")
            .env_remove("LINLI_TLS_CERT")
            .env_remove("LINLI_TLS_KEY")
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "it never listened");
        String::from_utf8(out.stderr).unwrap()
    };

    let stderr = run(&["--tls-cert".as_ref(), files.cert.as_os_str()]);
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let stderr = run(&["--tls-key".as_ref(), files.key.as_os_str()]);
    assert!(stderr.contains("--tls-cert"), "{stderr}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "nothing here\n").unwrap();
    let stderr = run(&[
        "--tls-cert".as_ref(),
        files.cert.as_os_str(),
        "--tls-key".as_ref(),
        garbage.as_os_str(),
    ]);
    assert!(stderr.contains(&garbage.display().to_string()), "{stderr}");
}
