//! Timing statistics: median, p99 by nearest rank (with 20 samples it is the slowest), min,
//! max and mean, and the table rows the scenarios print.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub n: usize,
    pub median: Duration,
    pub p99: Duration,
    pub min: Duration,
    pub max: Duration,
    pub mean: Duration,
}

pub fn stats(samples: &[Duration]) -> Stats {
    let mut s = samples.to_vec();
    s.sort();
    let n = s.len();
    if n == 0 {
        let z = Duration::ZERO;
        return Stats {
            n,
            median: z,
            p99: z,
            min: z,
            max: z,
            mean: z,
        };
    }
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    };
    Stats {
        n,
        median,
        p99: s[nearest_rank(n, 99.0) - 1],
        min: s[0],
        max: s[n - 1],
        mean: s.iter().sum::<Duration>() / n as u32,
    }
}

/// The 1-based rank of the `p`th percentile of `n` samples: the smallest sample with at
/// least `p`% of the samples at or below it.
fn nearest_rank(n: usize, p: f64) -> usize {
    ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n.max(1))
}

/// Nearest-rank percentile of values already sorted.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[nearest_rank(sorted.len(), p) - 1]
}

pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

pub fn table_header() {
    println!("| what | n | median ms | p99 ms | min ms | max ms | mean ms |");
    println!("|---|---|---|---|---|---|---|");
}

pub fn row(label: &str, s: &Stats) {
    println!(
        "| {label} | {} | {} | {} | {} | {} | {} |",
        s.n,
        ms(s.median),
        ms(s.p99),
        ms(s.min),
        ms(s.max),
        ms(s.mean)
    );
}

/// "what: n calls, x s in calls, median, p99" for setup work that is reported, not a target.
pub fn build_line(what: &str, samples: &[Duration]) {
    let s = stats(samples);
    println!(
        "- {what}: {} calls, {:.1} s in calls, median {} ms, p99 {} ms",
        s.n,
        samples.iter().sum::<Duration>().as_secs_f64(),
        ms(s.median),
        ms(s.p99)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_p99_of_twenty_is_the_slowest() {
        let xs: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        let s = stats(&xs);
        assert_eq!(s.p99, Duration::from_millis(20));
        assert_eq!(s.median, Duration::from_micros(10_500));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 50.0), 2.0);
    }
}
