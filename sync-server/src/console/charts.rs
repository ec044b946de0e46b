//! Charts as hand-written SVG: the geometry is computed here, the templates draw it with
//! presentation attributes (no inline styles: the console's CSP forbids them), so the pages
//! need no script and nothing from a CDN.

/// Colours of the series, in order (then repeated).
pub const PALETTE: [&str; 8] = [
    "#1f5f99", "#d9822b", "#2f9e44", "#c92a2a", "#7048e8", "#0c8599", "#e8590c", "#5c940d",
];

pub const WIDTH: u32 = 720;
const HEIGHT: u32 = 220;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

pub struct Dot {
    pub x: f64,
    pub y: f64,
    pub value: u32,
}

pub struct Series {
    pub name: String,
    pub color: &'static str,
    /// `x,y x,y …` for a `<polyline>`.
    pub points: String,
    pub dots: Vec<Dot>,
}

/// A line chart of series over the same labelled x positions (weeks).
pub struct LineChart {
    pub width: u32,
    pub height: u32,
    pub left: f64,
    pub right_x: f64,
    pub base_y: f64,
    pub series: Vec<Series>,
    pub x_labels: Vec<(f64, String)>,
    /// Horizontal rules: y and the value they mark.
    pub rules: Vec<(f64, u32)>,
}

/// A nice upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_max(max: u32) -> u32 {
    let mut step = 1u32;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max.max(1) {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

pub fn line_chart(labels: &[String], series: Vec<(String, Vec<u32>)>) -> LineChart {
    let max = nice_max(
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(0),
    );
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let plot_w = w - LEFT - RIGHT;
    let plot_h = h - TOP - BOTTOM;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: u32| TOP + plot_h * (1.0 - f64::from(v) / f64::from(max));
    let series = series
        .into_iter()
        .enumerate()
        .map(|(k, (name, values))| {
            let dots: Vec<Dot> = values
                .iter()
                .enumerate()
                .map(|(i, v)| Dot {
                    x: round(x(i)),
                    y: round(y(*v)),
                    value: *v,
                })
                .collect();
            Series {
                name,
                color: PALETTE[k % PALETTE.len()],
                points: dots
                    .iter()
                    .map(|d| format!("{},{}", d.x, d.y))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots,
            }
        })
        .collect();
    // Every label when few, else about eight.
    let every = n.div_ceil(8);
    LineChart {
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        right_x: w - RIGHT,
        base_y: TOP + plot_h,
        series,
        x_labels: labels
            .iter()
            .enumerate()
            .filter(|(i, _)| i % every == 0)
            .map(|(i, l)| (round(x(i)), l.clone()))
            .collect(),
        rules: [0, max / 2, max]
            .into_iter()
            .map(|v| (round(y(v)), v))
            .collect(),
    }
}

pub struct Bar {
    pub y: f64,
    pub w: f64,
    pub label: String,
    pub value: u32,
    pub color: &'static str,
}

/// Horizontal bars, one per item, longest for the largest value.
pub struct BarChart {
    pub width: u32,
    pub height: u32,
    pub label_w: f64,
    pub bars: Vec<Bar>,
}

const BAR_ROW: f64 = 26.0;
const LABEL_W: f64 = 120.0;

pub fn bar_chart(items: Vec<(String, u32)>) -> BarChart {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let room = f64::from(WIDTH) - LABEL_W - 60.0;
    let bars: Vec<Bar> = items
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            y: BAR_ROW * i as f64 + 4.0,
            w: round(room * f64::from(value) / f64::from(max)),
            label,
            value,
            color: PALETTE[0],
        })
        .collect();
    BarChart {
        width: WIDTH,
        height: (BAR_ROW * bars.len().max(1) as f64) as u32 + 8,
        label_w: LABEL_W,
        bars,
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_nice_values() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(13), 20);
        assert_eq!(nice_max(41), 50);
        assert_eq!(nice_max(500), 500);
    }

    #[test]
    fn lines_and_bars_scale_to_their_largest_value() {
        let c = line_chart(
            &["a".into(), "b".into(), "c".into()],
            vec![("g".into(), vec![0, 5, 10])],
        );
        let d = &c.series[0].dots;
        assert_eq!(d[0].y, c.base_y);
        assert_eq!(d[2].y, TOP);
        assert_eq!(d[0].x, LEFT);
        assert_eq!(d[2].x, c.right_x);
        let b = bar_chart(vec![("x".into(), 2), ("y".into(), 4)]);
        assert_eq!(b.bars[0].w * 2.0, b.bars[1].w);
    }
}
