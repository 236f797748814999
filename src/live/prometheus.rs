//! `GET /metrics` of a running test in the Prometheus text exposition format (0.0.4), so that
//! Prometheus or Grafana can scrape a run beside the target's own metrics.
//!
//! Latency buckets are counted from the HdrHistogram, whose values are exact to 3 significant
//! digits, so a latency within 0.1 % of a bucket bound may fall on either side of it; `_sum`
//! is the histogram's mean times its count, exact to the same 0.1 %. Per-worker series are
//! left out: a run of 10,000 workers would flood a scraper; `/api/stats` has them.

use std::fmt::Write;

use super::{Board, Snapshot};
use crate::outcome::Kind;
use crate::stats::Stats;

/// The media type scrapers expect for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS_S: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Every series of the snapshot.
pub fn render(board: &Board, snap: &Snapshot) -> String {
    let s = &snap.stats;
    let mut out = String::with_capacity(4096);
    invocations(&mut out, s);
    latency(&mut out, s);

    family(
        &mut out,
        "responses_total",
        "counter",
        "Answers by HTTP status.",
    );
    for (status, count) in &s.status_codes {
        let _ = writeln!(
            out,
            "fnstress_responses_total{{status=\"{status}\"}} {count}"
        );
    }
    family(
        &mut out,
        "bytes_received_total",
        "counter",
        "Response body bytes read.",
    );
    let _ = writeln!(out, "fnstress_bytes_received_total {}", s.bytes);

    let cfg = &board.cfg;
    let gauges = [
        (
            "workers",
            "Workers of the run (--concurrency).",
            cfg.concurrency as f64,
        ),
        (
            "active_workers",
            "Workers currently invoking.",
            board.active_workers() as f64,
        ),
        (
            "elapsed_seconds",
            "Time since the workers were released.",
            snap.elapsed.as_secs_f64(),
        ),
        (
            "running",
            "1 while the load is on, 0 once the report is out.",
            running(snap),
        ),
    ];
    for (name, help, value) in gauges {
        family(&mut out, name, "gauge", help);
        let _ = writeln!(out, "fnstress_{name} {value}");
    }
    if let Some(rate) = board.target_rate() {
        family(
            &mut out,
            "target_rate",
            "gauge",
            "Invocations per second the schedule asks for.",
        );
        let _ = writeln!(out, "fnstress_target_rate {rate}");
    }
    out
}

fn running(snap: &Snapshot) -> f64 {
    match snap.state {
        super::State::Finished => 0.0,
        _ => 1.0,
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP fnstress_{name} {help}");
    let _ = writeln!(out, "# TYPE fnstress_{name} {kind}");
}

fn invocations(out: &mut String, s: &Stats) {
    family(
        out,
        "invocations_total",
        "counter",
        "Invocations by operation and outcome; cancelled ones included.",
    );
    for op in &s.operations {
        for kind in Kind::ALL {
            let _ = writeln!(
                out,
                "fnstress_invocations_total{{operation=\"{}\",outcome=\"{}\"}} {}",
                escape(&op.name),
                kind.key(),
                op.counts.get(kind)
            );
        }
    }
}

fn latency(out: &mut String, s: &Stats) {
    family(
        out,
        "latency_seconds",
        "histogram",
        "Latency of completed invocations, from the send to the end of the answer.",
    );
    for op in &s.operations {
        let name = escape(&op.name);
        let h = &op.latency;
        for bound in BOUNDS_S {
            let us = (bound * 1e6) as u64;
            let count = if h.is_empty() {
                0
            } else {
                h.count_between(0, us)
            };
            let _ = writeln!(
                out,
                "fnstress_latency_seconds_bucket{{operation=\"{name}\",le=\"{bound}\"}} {count}"
            );
        }
        let count = h.len();
        let _ = writeln!(
            out,
            "fnstress_latency_seconds_bucket{{operation=\"{name}\",le=\"+Inf\"}} {count}"
        );
        let sum = if count == 0 {
            0.0
        } else {
            h.mean() * count as f64 / 1e6
        };
        let _ = writeln!(
            out,
            "fnstress_latency_seconds_sum{{operation=\"{name}\"}} {sum}"
        );
        let _ = writeln!(
            out,
            "fnstress_latency_seconds_count{{operation=\"{name}\"}} {count}"
        );
    }
}

/// Label values escape backslash, quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
