//! The `linli-sync-server` command: `serve`, `admin …` and `demo`.
//!
//! `serve` and `demo` print `listening on http://ADDR` on stdout once bound (port 0 gives
//! the real port), so scripts and tests can read where to connect. Logs go to stderr,
//! filtered by `RUST_LOG` (default `info`).

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
        /// A TOML file with `db` and `listen`; flags and environment take precedence.
        #[arg(long, env = "LINLI_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Manages places, people and devices.
    Admin {
        #[arg(long, env = "LINLI_DB")]
        db: PathBuf,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Seeds a demo community, prints its devices' tokens, and serves.
    Demo {
        #[arg(long, default_value = "demo-data/demo.db")]
        db: PathBuf,
        #[arg(long, env = "LINLI_LISTEN", default_value = config::DEFAULT_LISTEN)]
        listen: String,
        /// Only serve: skip the simulated devices.
        #[arg(long)]
        no_simulate: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
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
        Command::Serve { db, listen, config } => {
            let c = config::resolve(db, listen, config.as_deref())?;
            let storage = SqliteStorage::open(&c.db)?;
            serve(storage, c.listen, None)
        }
        Command::Admin { db, command } => {
            let storage = SqliteStorage::open(&db)?;
            admin::run(&storage, command, &mut std::io::stdout().lock())
        }
        Command::Demo {
            db,
            listen,
            no_simulate,
        } => {
            let listen = config::parse_listen(&listen)?;
            if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let storage = SqliteStorage::open(&db)?;
            let devices = linli_sync_server::seed_demo(&storage)?;
            admin::print_demo_devices(&devices, &mut std::io::stdout().lock())?;
            let phones = db.with_file_name("devices");
            serve(storage, listen, (!no_simulate).then_some((devices, phones)))
        }
    }
}

/// Serves until SIGINT/SIGTERM; with `simulate`, first runs the demo's devices against itself.
fn serve(
    storage: SqliteStorage,
    listen: std::net::SocketAddr,
    simulate: Option<(Vec<admin::DemoDevice>, PathBuf)>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{addr}")?;
            out.flush()?;
        }
        tracing::info!(%addr, "serving");
        let state = AppState::new(Arc::new(storage));
        let server = tokio::spawn(linli_sync_server::serve(listener, state, shutdown_signal()));
        if let Some((devices, dir)) = simulate {
            let mut text = Vec::new();
            let base = format!("http://{addr}");
            match linli_sync_server::simulate::run(&base, &devices, &dir, &mut text).await {
                Ok(()) => {}
                Err(e) => tracing::error!(error = %e, "demo simulation failed"),
            }
            let mut out = std::io::stdout().lock();
            out.write_all(&text)?;
            writeln!(
                out,
                "server still running at http://{addr} — Ctrl-C to stop"
            )?;
            out.flush()?;
        }
        server
            .await
            .map_err(|_| std::io::Error::other("server task failed"))??;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
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
