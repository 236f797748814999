//! `GET /api/stats`: the live numbers as JSON, in the JSON report's shape (so one script draws
//! both the report and the live page) plus a `live` object and the latency distribution.

use serde_json::{json, Value};

use super::{Board, Snapshot};
use crate::report::{self, distribution, progress};

/// The document for one snapshot. Histograms are left out; `distribution` replaces them.
pub fn stats(board: &Board, snap: &Snapshot) -> Value {
    let cfg = &board.cfg;
    let mut doc = report::body(cfg, &snap.stats, snap.elapsed, &[], false);
    let completed = snap.stats.counts.completed();
    doc["distribution"] = distribution::of(&snap.stats.latency);
    doc["live"] = json!({
        "state": snap.state.key(),
        "elapsed_s": (snap.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "progress": progress::fraction_done(cfg.duration, cfg.requests, snap.elapsed, completed),
        "duration_s": cfg.duration.map(|d| d.as_secs_f64()),
        "requests": cfg.requests,
        "concurrency": cfg.concurrency,
        "active_workers": board.active_workers(),
        "target_rate": board.target_rate(),
    });
    doc
}
