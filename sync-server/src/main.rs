//! The `linli-sync-server` command: `serve`, `admin …`, `backup` and `restore`. (The demo is
//! `linli-demo`.)
//!
//! `serve` prints `listening on http://ADDR` (`https://` with `--tls-cert` and `--tls-key`)
//! on stdout once bound (port 0 gives the real port), so scripts and tests can read where to
//! connect. Logs go to stderr,
//! filtered by `RUST_LOG` (default `info`, without Automerge's own events: see
//! `DEFAULT_LOG`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use linli_sync_server::admin::{self, AdminCommand};
use linli_sync_server::config;
use linli_sync_server::{AppState, Result, SqliteStorage};

#[derive(Debug, Parser)]
#[command(name = "linli-sync-server", version, about = "Linli's sync server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serves the sync API.
    Serve {
        /// The SQLite database (created if missing) [default: linli-server.db].
        #[arg(long, env = "LINLI_DB")]
        db: Option<PathBuf>,
        /// Address to listen on [default: 127.0.0.1:8686].
        #[arg(long, env = "LINLI_LISTEN")]
        listen: Option<String>,
        /// A TOML file with `db`, `listen`, `tls_cert` and `tls_key`; flags and environment
        /// take precedence.
        #[arg(long, env = "LINLI_CONFIG")]
        config: Option<PathBuf>,
        /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
        #[arg(long, env = "LINLI_TLS_CERT")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key (PKCS#8, RSA or SEC1) of --tls-cert.
        #[arg(long, env = "LINLI_TLS_KEY")]
        tls_key: Option<PathBuf>,
        /// Seconds between passes of the escalation sweep.
        #[arg(long, env = "LINLI_SWEEP_EVERY", default_value_t = 5)]
        sweep_every: u64,
    },
    /// Copies the database consistently while the server runs (SQLite online backup).
    Backup {
        #[arg(long, env = "LINLI_DB")]
        db: PathBuf,
        /// The backup file to write (replaced if it exists).
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup in place of the database. Stop the server first; the current database
    /// is kept beside it as `<db>.before-restore-<time>`.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        #[arg(long, env = "LINLI_DB")]
        db: PathBuf,
        /// Restore even though another process seems to have the database open (only when
        /// you are sure no server runs).
        #[arg(long)]
        force: bool,
    },
    /// Manages places, people and devices.
    Admin {
        #[arg(long, env = "LINLI_DB")]
        db: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Logging unless `RUST_LOG` says otherwise. Automerge reports every error it returns at
/// ERROR level (its `#[instrument(err)]` spans), including ones the server handles (a device
/// pushing a damaged document is refused and logged at `info`); the server logs what needs a
/// person itself, so Automerge's own events are off.
const DEFAULT_LOG: &str = "info,automerge=off";

fn main() -> ExitCode {
    let cli = Cli::parse();
    config::init_logging(DEFAULT_LOG);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve {
            db,
            listen,
            config,
            tls_cert,
            tls_key,
            sweep_every,
        } => {
            let c = config::resolve(db, listen, tls_cert, tls_key, config.as_deref())?;
            // Certificate files are read before anything else, so a bad one stops the start.
            let tls = match &c.tls {
                Some(files) => Some(linli_sync_server::tls::server_config(
                    &files.cert,
                    &files.key,
                )?),
                None => None,
            };
            let storage = SqliteStorage::open(&c.db)?;
            serve(storage, c.listen, tls, sweep_every.max(1))
        }
        Command::Backup { db, to } => {
            let r = linli_sync_server::backup::backup(&db, &to)?;
            println!(
                "backed up {} pages ({} bytes) to {}",
                r.pages,
                r.bytes,
                to.display()
            );
            Ok(())
        }
        Command::Restore { from, db, force } => {
            let moved = linli_sync_server::backup::restore(&from, &db, force)?;
            if let Some(aside) = moved {
                println!("the previous database is kept at {}", aside.display());
            }
            println!("restored {} to {}", from.display(), db.display());
            Ok(())
        }
        Command::Admin { db, command } => {
            let storage = SqliteStorage::open(&db)?;
            admin::run(&storage, command, &mut std::io::stdout().lock())
        }
    }
}

/// Serves until SIGINT/SIGTERM, over TLS when `tls` is given.
fn serve(
    storage: SqliteStorage,
    listen: std::net::SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    sweep_every: u64,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        {
            let mut out = std::io::stdout().lock();
            let scheme = if tls.is_some() { "https" } else { "http" };
            writeln!(out, "listening on {scheme}://{addr}")?;
            out.flush()?;
        }
        tracing::info!(%addr, tls = tls.is_some(), "serving");
        let state = AppState::new(Arc::new(storage))
            .with_sweep_every(std::time::Duration::from_secs(sweep_every))
            .with_secure_cookies(tls.is_some());
        let shutdown = linli_sync_server::shutdown_signal();
        match tls {
            Some(tls) => linli_sync_server::tls::serve_tls(listener, tls, state, shutdown).await?,
            None => linli_sync_server::serve(listener, state, shutdown).await?,
        }
        tracing::info!("stopped");
        Ok(())
    })
}
