//! Prometheus text exposition, written by hand: request counts and latency
//! histograms by route, and gauges read from the database at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::store::Gauges;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// `(method, route, status)` -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// `(method, route)` -> latency.
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    pub timers_fired: AtomicU64,
    pub deliveries_ok: AtomicU64,
    pub deliveries_failed: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry((method.to_owned(), route.to_owned())).or_default();
            let s = took.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if s <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += s;
            h.count += 1;
        }
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP steward_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE steward_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((m, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "steward_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP steward_http_request_duration_seconds Latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE steward_http_request_duration_seconds histogram"
        );
        if let Ok(l) = self.latency.lock() {
            for ((m, route), h) in l.iter() {
                let labels = format!("method=\"{m}\",route=\"{}\"", escape(route));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "steward_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "steward_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "steward_http_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "steward_http_request_duration_seconds_count{{{labels}}} {}",
                    h.count
                );
            }
        }
        let gauges = [
            (
                "steward_open_tickets",
                "Tickets in status open.",
                g.open_tickets,
            ),
            (
                "steward_due_timers",
                "Timers due now or earlier, not yet fired.",
                g.due_timers,
            ),
            (
                "steward_breached_open_tickets",
                "Open tickets that breached a limit.",
                g.breached_tickets,
            ),
            (
                "steward_outbox_unrouted",
                "Notifications not yet routed to channels.",
                g.outbox_unrouted,
            ),
            (
                "steward_outbox_pending",
                "Deliveries waiting to be sent or retried.",
                g.deliveries_pending,
            ),
            (
                "steward_outbox_dead",
                "Deliveries given up after the last retry (dead letters).",
                g.deliveries_dead,
            ),
            (
                "steward_outbox_held",
                "Notifications from before the outbox existed, held until `steward outbox release`.",
                g.outbox_held,
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        let counters = [
            (
                "steward_timers_fired_total",
                "Timer firings by the scheduler (tickets changed).",
                &self.timers_fired,
            ),
            (
                "steward_deliveries_total",
                "Deliveries that succeeded.",
                &self.deliveries_ok,
            ),
            (
                "steward_delivery_failures_total",
                "Delivery attempts that failed.",
                &self.deliveries_failed,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
