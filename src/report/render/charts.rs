//! The HTML report's three charts, drawn with [`super::svg::Svg`]: tickets
//! opened per bucket by kind (stacked bars), the on-time rate trend over all
//! limits (a line), and revisit completion of resolved repairs (overlaid bars).

use super::svg::Svg;
use crate::report::figures::{Bucket, KindCounts, PeriodReport};

const W: f64 = 1000.0;
const H: f64 = 230.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 52.0;
const KIND_COLORS: [&str; 4] = ["#7a9cc6", "#e0a040", "#c8504a", "#6aa86a"];

struct Frame {
    n: usize,
    max: f64,
}

impl Frame {
    fn plot_w() -> f64 {
        W - LEFT - RIGHT
    }

    fn plot_h() -> f64 {
        H - TOP - BOTTOM
    }

    fn slot(&self) -> f64 {
        Frame::plot_w() / self.n.max(1) as f64
    }

    fn x(&self, i: usize) -> f64 {
        LEFT + self.slot() * i as f64
    }

    fn y(&self, v: f64) -> f64 {
        TOP + Frame::plot_h() * (1.0 - v / self.max)
    }

    /// Axes, three horizontal grid lines labelled by `fmt`, and the bucket dates.
    fn axes(&self, svg: &mut Svg, buckets: &[Bucket], fmt: &dyn Fn(f64) -> String) {
        for k in 0..=2 {
            let v = self.max * k as f64 / 2.0;
            let y = self.y(v);
            svg.line(LEFT, y, W - RIGHT, y, "#ddd", k > 0);
            svg.text(LEFT - 6.0, y + 4.0, 11.0, "end", &fmt(v));
        }
        svg.line(LEFT, TOP, LEFT, TOP + Frame::plot_h(), "#999", false);
        let every = buckets.len().div_ceil(12).max(1);
        for (i, b) in buckets.iter().enumerate() {
            if i % every == 0 {
                let x = self.x(i) + self.slot() / 2.0;
                svg.text(
                    x,
                    TOP + Frame::plot_h() + 16.0,
                    11.0,
                    "middle",
                    &b.start.format("%m-%d").to_string(),
                );
            }
        }
    }
}

fn legend(svg: &mut Svg, items: &[(&str, &str)]) {
    let mut x = LEFT;
    let y = H - 14.0;
    for (color, name) in items {
        svg.rect(x, y - 9.0, 10.0, 10.0, color, "");
        svg.text(x + 14.0, y, 13.0, "start", name);
        // Wide (CJK) characters take about twice the advance of Latin ones.
        let width: f64 = name
            .chars()
            .map(|c| if (c as u32) >= 0x1100 { 13.0 } else { 7.5 })
            .sum();
        x += 28.0 + width;
    }
}

/// A round upper bound for a count axis.
fn nice_max(v: u64) -> f64 {
    let v = v.max(1) as f64;
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

fn count_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn bucket_name(r: &PeriodReport, b: &Bucket) -> String {
    if r.period.bucket_days == 1 {
        b.start.to_string()
    } else {
        format!("{} (+{} days)", b.start, b.days - 1)
    }
}

pub fn tickets(r: &PeriodReport) -> String {
    let buckets = &r.series;
    let max = buckets.iter().map(|b| b.opened.total()).max().unwrap_or(0);
    let f = Frame {
        n: buckets.len(),
        max: nice_max(max),
    };
    let mut svg = Svg::new("chart-tickets", W, H);
    f.axes(&mut svg, buckets, &count_label);
    let bar = (f.slot() * 0.7).clamp(1.0, 48.0);
    for (i, b) in buckets.iter().enumerate() {
        let mut base = 0.0;
        for (k, color) in KIND_COLORS.iter().enumerate() {
            let n = b.opened.get(k) as f64;
            if n == 0.0 {
                continue;
            }
            let (y0, y1) = (f.y(base), f.y(base + n));
            let tip = format!(
                "{}: {} {}",
                bucket_name(r, b),
                n,
                r.lang.kind(KindCounts::NAMES[k])
            );
            svg.rect(
                f.x(i) + (f.slot() - bar) / 2.0,
                y1,
                bar,
                y0 - y1,
                color,
                &tip,
            );
            base += n;
        }
    }
    let items: Vec<(&str, &str)> = KIND_COLORS
        .iter()
        .copied()
        .zip(KindCounts::NAMES.map(|k| r.lang.kind(k)))
        .collect();
    legend(&mut svg, &items);
    svg.finish(r.lang.t(if r.period.bucket_days == 1 {
        "Tickets opened per day, by kind"
    } else {
        "Tickets opened per 7 days, by kind"
    }))
}

pub fn on_time(r: &PeriodReport) -> String {
    let buckets = &r.series;
    let f = Frame {
        n: buckets.len(),
        max: 1.0,
    };
    let mut svg = Svg::new("chart-on-time", W, H);
    f.axes(&mut svg, buckets, &|v| format!("{:.0} %", v * 100.0));
    let mut points = Vec::new();
    for (i, b) in buckets.iter().enumerate() {
        if b.settled == 0 {
            continue;
        }
        let rate = b.on_time as f64 / b.settled as f64;
        points.push((f.x(i) + f.slot() / 2.0, f.y(rate), i, rate));
    }
    if points.is_empty() {
        svg.text(
            W / 2.0,
            H / 2.0,
            13.0,
            "middle",
            r.lang.t("no limit was met or breached in the period"),
        );
    }
    let line: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
    svg.polyline(&line, "#3b6fb6");
    for (x, y, i, rate) in &points {
        let b = &buckets[*i];
        let tip = format!(
            "{}: {:.1} % on time ({} of {})",
            bucket_name(r, b),
            rate * 100.0,
            b.on_time,
            b.settled
        );
        svg.circle(*x, *y, 3.5, "#3b6fb6", &tip);
    }
    legend(
        &mut svg,
        &[(
            "#3b6fb6",
            r.lang.t("clocks met on time / met on time or breached"),
        )],
    );
    svg.finish(r.lang.t("on-time rate over all limits"))
}

pub fn revisits(r: &PeriodReport) -> String {
    let buckets = &r.series;
    let max = buckets.iter().map(|b| b.resolved).max().unwrap_or(0);
    let f = Frame {
        n: buckets.len(),
        max: nice_max(max),
    };
    let mut svg = Svg::new("chart-revisits", W, H);
    f.axes(&mut svg, buckets, &count_label);
    let bar = (f.slot() * 0.7).clamp(1.0, 48.0);
    for (i, b) in buckets.iter().enumerate() {
        if b.resolved == 0 {
            continue;
        }
        let x = f.x(i) + (f.slot() - bar) / 2.0;
        let base = f.y(0.0);
        let tip = format!(
            "{}: {} of {} resolved repairs revisited",
            bucket_name(r, b),
            b.revisited,
            b.resolved
        );
        let top = f.y(b.resolved as f64);
        svg.rect(x, top, bar, base - top, "#cfd8e3", &tip);
        let done = f.y(b.revisited as f64);
        svg.rect(x, done, bar, base - done, "#4a9a6a", &tip);
    }
    if max == 0 {
        svg.text(
            W / 2.0,
            H / 2.0,
            13.0,
            "middle",
            r.lang.t("no repair was resolved in the period"),
        );
    }
    legend(
        &mut svg,
        &[
            ("#cfd8e3", r.lang.t("repairs resolved")),
            ("#4a9a6a", r.lang.t("revisited (V1 target 100 %)")),
        ],
    );
    svg.finish(r.lang.t(if r.period.bucket_days == 1 {
        "Revisit completion of repairs resolved per day (V1)"
    } else {
        "Revisit completion of repairs resolved per 7 days (V1)"
    }))
}

#[cfg(test)]
mod tests {
    use super::nice_max;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_max(0), 1.0);
        assert_eq!(nice_max(7), 10.0);
        assert_eq!(nice_max(13), 20.0);
        assert_eq!(nice_max(4100), 5000.0);
    }
}
