//! The server's settings: database path, listen address and TLS certificate files.
//!
//! Each comes from, in order of precedence: a command-line flag, the environment
//! (`LINLI_DB`, `LINLI_LISTEN`, `LINLI_TLS_CERT`, `LINLI_TLS_KEY`; clap merges these two), a
//! TOML file given with `--config` (keys `db`, `listen`, `tls_cert`, `tls_key`), and the
//! defaults below. TLS is on when both a certificate and a key are given, off when neither
//! is; one without the other is an error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

pub const DEFAULT_DB: &str = "linli-server.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8686";

/// The contents of a `--config` file.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<PathBuf>,
    pub listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

/// Settings after every source was consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub listen: SocketAddr,
    /// The certificate files when the server terminates TLS itself.
    pub tls: Option<TlsFiles>,
}

/// A PEM certificate chain and its PEM private key (see [`crate::tls::server_config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }
}

/// Resolves settings: `db`, `listen`, `tls_cert` and `tls_key` are the flag-or-environment
/// values.
pub fn resolve(
    db: Option<PathBuf>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    file: Option<&Path>,
) -> Result<ServeConfig> {
    let file = match file {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let listen = listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let tls = match (tls_cert.or(file.tls_cert), tls_key.or(file.tls_key)) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::Config(
                "a TLS certificate (--tls-cert, tls_cert) needs its key (--tls-key, tls_key)"
                    .to_owned(),
            ));
        }
        (None, Some(_)) => {
            return Err(Error::Config(
                "a TLS key (--tls-key, tls_key) needs its certificate (--tls-cert, tls_cert)"
                    .to_owned(),
            ));
        }
    };
    Ok(ServeConfig {
        db: db.or(file.db).unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
        listen: parse_listen(&listen)?,
        tls,
    })
}

pub fn parse_listen(addr: &str) -> Result<SocketAddr> {
    addr.trim()
        .parse()
        .map_err(|_| Error::Config(format!("listen address {addr:?} is not host:port")))
}

/// Logs to stderr, filtered by `RUST_LOG`, else by `default` (e.g. `info`).
pub fn init_logging(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "db = \"/var/lib/linli.db\"\nlisten = \"0.0.0.0:9000\"\n",
        )
        .unwrap();

        let c = resolve(None, None, None, None, None).unwrap();
        assert_eq!(c.db, PathBuf::from(DEFAULT_DB));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.tls, None);

        let c = resolve(None, None, None, None, Some(&path)).unwrap();
        assert_eq!(c.db, PathBuf::from("/var/lib/linli.db"));
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.tls, None);

        let c = resolve(
            Some("x.db".into()),
            Some("127.0.0.1:0".into()),
            None,
            None,
            Some(&path),
        )
        .unwrap();
        assert_eq!(c.db, PathBuf::from("x.db"));
        assert_eq!(c.listen.port(), 0);

        std::fs::write(&path, "port = 1\n").unwrap();
        assert!(resolve(None, None, None, None, Some(&path)).is_err());
        assert!(resolve(None, Some("nowhere".into()), None, None, None).is_err());
    }

    #[test]
    fn tls_files_from_flags_or_file_both_or_neither() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "tls_cert = \"/etc/linli/cert.pem\"\ntls_key = \"/etc/linli/key.pem\"\n",
        )
        .unwrap();
        let files = |cert: &str, key: &str| {
            Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            })
        };

        let c = resolve(None, None, None, None, Some(&path)).unwrap();
        assert_eq!(c.tls, files("/etc/linli/cert.pem", "/etc/linli/key.pem"));

        let c = resolve(None, None, Some("c.pem".into()), None, Some(&path)).unwrap();
        assert_eq!(c.tls, files("c.pem", "/etc/linli/key.pem"));

        let c = resolve(None, None, Some("c.pem".into()), Some("k.pem".into()), None).unwrap();
        assert_eq!(c.tls, files("c.pem", "k.pem"));

        for (cert, key) in [(Some("c.pem"), None), (None, Some("k.pem"))] {
            let e =
                resolve(None, None, cert.map(Into::into), key.map(Into::into), None).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{e}");
        }

        std::fs::write(&path, "tls_key = \"/etc/linli/key.pem\"\n").unwrap();
        assert!(resolve(None, None, None, None, Some(&path)).is_err());
    }
}
