//! The server's settings: database path and listen address.
//!
//! Each comes from, in order of precedence: a command-line flag, the environment
//! (`LINLI_DB`, `LINLI_LISTEN`; clap merges these two), a TOML file given with `--config`
//! (keys `db` and `listen`), and the defaults below.

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
}

/// Settings after every source was consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub db: PathBuf,
    pub listen: SocketAddr,
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }
}

/// Resolves settings: `db` and `listen` are the flag-or-environment values.
pub fn resolve(
    db: Option<PathBuf>,
    listen: Option<String>,
    file: Option<&Path>,
) -> Result<ServeConfig> {
    let file = match file {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let listen = listen
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    Ok(ServeConfig {
        db: db.or(file.db).unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
        listen: parse_listen(&listen)?,
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

        let c = resolve(None, None, None).unwrap();
        assert_eq!(c.db, PathBuf::from(DEFAULT_DB));
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);

        let c = resolve(None, None, Some(&path)).unwrap();
        assert_eq!(c.db, PathBuf::from("/var/lib/linli.db"));
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");

        let c = resolve(Some("x.db".into()), Some("127.0.0.1:0".into()), Some(&path)).unwrap();
        assert_eq!(c.db, PathBuf::from("x.db"));
        assert_eq!(c.listen.port(), 0);

        std::fs::write(&path, "port = 1\n").unwrap();
        assert!(resolve(None, None, Some(&path)).is_err());
        assert!(resolve(None, Some("nowhere".into()), None).is_err());
    }
}
