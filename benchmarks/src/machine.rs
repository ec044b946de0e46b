//! What the machine is and how busy it was: CPU model and count, load average, the CPU a
//! timed window used (this process and the whole machine), and the cost of one durable
//! SQLite commit on a disk directory.

use std::path::Path;
use std::time::Instant;

use crate::Res;
use crate::stats::median;

/// "2 CPUs (AMD EPYC), load average 2.90 2.70 1.64".
pub fn describe() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    format!("{cpus} CPUs ({model}), load average {}", load())
}

/// The 1, 5 and 15 minute load averages.
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Prints the header every scenario starts with.
pub fn header(title: &str, bench: bool) {
    println!("# {title}\n");
    println!(
        "{}; {} run\n",
        describe(),
        if bench { "full" } else { "smoke" }
    );
}

/// CPU seconds (user + system) this process has used; Linux only (0 elsewhere).
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // After the command name: state is field 0, utime field 11, stime field 12.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    (ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)) / 100.0
}

/// (busy, total) CPU ticks of the whole machine so far, from /proc/stat.
fn machine_ticks() -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0, 0);
    };
    let v: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// CPU use over a timed window.
pub struct CpuWindow {
    proc0: f64,
    machine0: (u64, u64),
}

impl CpuWindow {
    pub fn start() -> CpuWindow {
        CpuWindow {
            proc0: process_cpu_secs(),
            machine0: machine_ticks(),
        }
    }

    pub fn report(&self, wall: f64) -> String {
        let cpu = process_cpu_secs() - self.proc0;
        let (busy1, total1) = machine_ticks();
        let busy = busy1.saturating_sub(self.machine0.0) as f64;
        let total = total1.saturating_sub(self.machine0.1).max(1) as f64;
        format!(
            "this process used {cpu:.1} CPU-s in {wall:.1} s ({:.2} cores); the machine was \
             {:.0}% busy (other users included)",
            cpu / wall.max(1e-9),
            100.0 * busy / total
        )
    }
}

/// Median time (ms) of a one-row commit in WAL mode with `synchronous = FULL` (the device's
/// and the server's setting) in `dir`.
pub fn commit_ms(dir: &Path, n: usize) -> Res<f64> {
    let c = rusqlite::Connection::open(dir.join("commit-probe.db"))?;
    let _mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)", [])?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        c.execute("INSERT INTO t (x) VALUES (zeroblob(200))", [])?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(median(&times))
}
