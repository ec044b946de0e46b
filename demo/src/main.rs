//! `linli-demo`: the main job. Seeds a demo community into an embedded SQLite database,
//! prints its devices' tokens, serves the sync API, runs the simulated phones against it
//! (unless `--no-simulate`) and keeps serving until Ctrl-C.
//!
//! Prints `listening on http://ADDR` on stdout once bound (port 0 gives the real port), so
//! scripts and tests can read where to connect. Logs go to stderr, filtered by `RUST_LOG`
//! (default `info`, without Automerge's own events: see `DEFAULT_LOG`).

mod simulate;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use clap::Parser;
use linli_sync_server::{AppState, SqliteStorage, config};
use linli_testkit::DemoDevice;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Debug, Parser)]
#[command(
    name = "linli-demo",
    version,
    about = "Linli's demo: a seeded sync server and simulated phones"
)]
struct Cli {
    #[arg(long, default_value = "demo-data/demo.db")]
    db: PathBuf,
    #[arg(long, env = "LINLI_LISTEN", default_value = config::DEFAULT_LISTEN)]
    listen: String,
    /// Only serve: skip the simulated devices.
    #[arg(long)]
    no_simulate: bool,
    /// For tests: read `advance <seconds>` lines on standard input and move the server's
    /// clock forward by that much (answering `clock advanced <seconds>` on stdout).
    #[arg(long)]
    clock_stdin: bool,
}

/// Logging unless `RUST_LOG` says otherwise.
const DEFAULT_LOG: &str = "info";

fn main() -> ExitCode {
    let cli = Cli::parse();
    config::init_logging(DEFAULT_LOG);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let listen = config::parse_listen(&cli.listen)?;
    if let Some(dir) = cli.db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // The server's clock runs ahead of the real one by what the story asks (see simulate.rs).
    let ahead_ms = Arc::new(AtomicI64::new(0));
    let ahead = ahead_ms.clone();
    let storage = SqliteStorage::open(&cli.db)?.with_clock(Arc::new(move || {
        linli_sync_server::workflow::system_now() + ahead.load(Ordering::SeqCst)
    }));
    let devices = linli_testkit::seed_demo(&storage)?;
    let accounts = linli_testkit::seed_console(&storage)?;
    {
        let mut out = std::io::stdout().lock();
        linli_testkit::print_demo_devices(&devices, &mut out)?;
        linli_testkit::print_demo_accounts(&accounts, &mut out)?;
    }
    if cli.clock_stdin {
        advance_from_stdin(ahead_ms.clone());
    }
    let phones = cli.db.with_file_name("devices");
    serve(
        storage,
        ahead_ms,
        listen,
        (!cli.no_simulate).then_some((devices, phones)),
    )
}

/// Moves the clock forward on each `advance <seconds>` line of standard input.
fn advance_from_stdin(ahead_ms: Arc<AtomicI64>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            let Some(seconds) = line
                .strip_prefix("advance ")
                .and_then(|s| s.trim().parse::<i64>().ok())
            else {
                continue;
            };
            ahead_ms.fetch_add(seconds.saturating_mul(1000), Ordering::SeqCst);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "clock advanced {seconds}");
            let _ = out.flush();
        }
    });
}

/// Serves until SIGINT/SIGTERM; with `simulate`, first runs the demo's devices against it.
fn serve(
    storage: SqliteStorage,
    ahead_ms: Arc<AtomicI64>,
    listen: std::net::SocketAddr,
    simulate: Option<(Vec<DemoDevice>, PathBuf)>,
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
            writeln!(
                out,
                "console at http://{addr}/admin (sign in as {} / {})",
                linli_testkit::demo::USER_ADMIN,
                linli_testkit::DEMO_PASSWORD
            )?;
            out.flush()?;
        }
        tracing::info!(%addr, "serving");
        let storage: Arc<dyn linli_sync_server::Storage> = Arc::new(storage);
        let state = AppState::new(storage.clone());
        let server = tokio::spawn(linli_sync_server::serve(
            listener,
            state,
            linli_sync_server::shutdown_signal(),
        ));
        if let Some((devices, dir)) = simulate {
            let mut text = Vec::new();
            let base = format!("http://{addr}");
            let clock = simulate::DemoClock { storage, ahead_ms };
            if let Err(e) = simulate::run(&base, &devices, &dir, &clock, &mut text).await {
                tracing::error!(error = %e, "demo simulation failed");
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
