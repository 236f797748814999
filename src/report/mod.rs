//! Reports of a run. The JSON document is the canonical form: it is built once from the stats,
//! written with `--json`, and the text report is rendered from it, so a saved report prints
//! exactly as the live one did.

pub mod csv;
pub mod distribution;
pub mod functions;
pub mod gate_text;
pub mod html;
pub mod json;
pub mod merge;
mod merge_sections;
pub mod page;
pub mod progress;
pub mod text;
mod text_functions;
mod timeline;

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::config::Load;
use crate::config::RunConfig;
use crate::engine::pacer::Schedule;
use crate::engine::{RunResult, Sample, StopReason};
use crate::error::{Error, Result};
use crate::outcome::Kind;
use crate::stats::{KindCounts, Stats, LATE_US};
use crate::threshold::{eval, Threshold};

/// Version of the JSON report layout; bumped on any incompatible change.
pub const SCHEMA: &str = "fnstress.report.v1";

/// Builds the JSON report of a finished run.
pub fn build(cfg: &RunConfig, run: &RunResult) -> Value {
    let mut doc = body(cfg, &run.stats, run.elapsed, &run.samples, true);
    doc["started_at"] = json!(humantime::format_rfc3339_millis(run.started_at).to_string());
    doc["stop_reason"] = json!(run.stop.key());
    if let Load::Open(schedule) = &cfg.load {
        open_model_json(&mut doc, schedule, run);
    }
    if let Some(a) = &run.abort {
        doc["abort"] = json!({
            "threshold": a.threshold,
            "measured": a.measured,
            "completed": a.completed,
        });
    }
    doc
}

/// The sections every view of a run shares, finished or not: the configuration, totals,
/// latency, status codes, errors, operations, workers and timeline. `histograms` adds the
/// encoded HdrHistograms, which only saved reports need.
pub fn body(
    cfg: &RunConfig,
    s: &Stats,
    elapsed: Duration,
    samples: &[Sample],
    histograms: bool,
) -> Value {
    let elapsed = elapsed.as_secs_f64();
    let operations: Vec<Value> = s
        .operations
        .iter()
        .map(|o| functions::operation_json(o, histograms))
        .collect();
    let workers: Vec<Value> = s
        .workers
        .iter()
        .enumerate()
        .map(|(id, w)| {
            let mut v = json!({
                "id": id,
                "started": w.counts.started(),
                "success": w.counts.get(Kind::Success),
                "errors": w.counts.errors(),
                "cancelled": w.counts.get(Kind::Cancelled),
            });
            if let Some(shard) = cfg.shard {
                v["shard"] = json!(shard.index);
            }
            v
        })
        .collect();
    let sample = |second: u64| samples.iter().find(|x| x.second == second);
    let timeline: Vec<Value> = s
        .timeline
        .iter()
        .map(|t| {
            let mut second = json!({
                "active_workers": sample(t.second).map(|x| x.active_workers),
                "target_rate": sample(t.second).and_then(|x| x.target_rate),
                "second": t.second,
                "completed": t.counts.completed(),
                "success": t.counts.get(Kind::Success),
                "errors": t.counts.errors(),
                "kinds": nonzero_kinds(&t.counts),
                "p50_us": t.p50_us,
                "p90_us": t.p90_us,
                "p95_us": t.p95_us,
                "p99_us": t.p99_us,
                "max_us": t.max_us,
            });
            if !t.functions.is_empty() {
                second["functions"] = Value::Array(functions::second_functions(cfg, t));
            }
            if histograms {
                second["histogram"] = json!((!t.histogram.is_empty()).then_some(&t.histogram));
            }
            second
        })
        .collect();
    let errors: Vec<Value> = s
        .errors
        .iter()
        .map(|((kind, message), count)| {
            json!({"kind": kind.key(), "message": message, "count": count})
        })
        .collect();
    let status_codes: Map<String, Value> = s
        .status_codes
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();

    let mut totals = counts_json(&s.counts);
    let completed = s.counts.completed();
    totals.insert(
        "rate_per_s".into(),
        json!(round3(completed as f64 / elapsed.max(1e-9))),
    );
    let success_rate = if completed == 0 {
        0.0
    } else {
        s.counts.get(Kind::Success) as f64 / completed as f64
    };
    totals.insert(
        "success_rate".into(),
        json!(round3(success_rate * 100.0) / 100.0),
    );
    totals.insert("bytes_received".into(), json!(s.bytes));
    if cfg.lambda.log_tail {
        let cold: u64 = s.functions.iter().map(|f| f.cold_starts).sum();
        totals.insert("cold_starts".into(), json!(cold));
    }
    totals.insert("body_truncated".into(), json!(s.truncated));
    totals.insert("resent".into(), json!(s.resent));

    let mut doc = json!({
        "schema": SCHEMA,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "elapsed_s": round3(elapsed),
        "config": cfg.redacted_json(),
        "totals": totals,
        "latency": latency_json(&s.latency),
        "status_codes": status_codes,
        "errors": errors,
        "operations": operations,
        "functions": functions::functions_json(cfg, s, histograms),
        "connections": functions::connections_json(s),
        "workers": workers,
        "timeline": timeline,
    });
    if histograms {
        doc["histogram"] = json!(json::encode_histogram(&s.latency));
    }
    if let Some(w) = functions::warmup_json(cfg, s) {
        doc["warmup"] = w;
    }
    if let Some(shard) = cfg.shard {
        doc["shard"] = json!({"index": shard.index, "count": shard.count});
    }
    doc
}

/// Judges the thresholds on a finished report and stores the verdicts in its `thresholds`
/// section (replacing any earlier one); returns true when all passed. A run stopped by
/// `--abort-on-fail` never passes, whatever the last seconds changed.
pub fn judge(doc: &mut Value, thresholds: &[Threshold]) -> Result<bool> {
    if thresholds.is_empty() {
        return Ok(true);
    }
    let section = eval::evaluate(doc, thresholds).map_err(Error::usage)?;
    let pass = eval::all_pass(&section) && doc["stop_reason"] != "threshold";
    doc["thresholds"] = section;
    Ok(pass)
}

/// The open model's extra sections: corrected latency, lateness and the achieved rate.
fn open_model_json(doc: &mut Value, schedule: &Schedule, run: &RunResult) {
    let s = &run.stats;
    let window = match run.stop {
        StopReason::Signal => run.stopped_after,
        _ => cfg_window(doc).map_or(run.stopped_after, |d| d.min(run.stopped_after)),
    };
    let secs = window.as_secs_f64().max(1e-9);
    // The schedule runs from the start, so the warm-up's share is taken off.
    let requested = schedule.count_by(run.warmup + window) - schedule.count_by(run.warmup);
    let started = s.counts.started() as f64;
    let lateness = s.lateness.as_ref().expect("open model stats");
    let corrected = s.corrected.as_ref().expect("open model stats");
    doc["latency_corrected"] = latency_json(corrected);
    doc["histogram_corrected"] = json!(json::encode_histogram(corrected));
    doc["histogram_lateness"] = json!(json::encode_histogram(lateness));
    doc["lateness"] = json!({
        "unit": "us",
        "threshold_us": LATE_US,
        "late": s.late,
        "p50": lateness.value_at_quantile(0.5),
        "p99": lateness.value_at_quantile(0.99),
        "max": lateness.max(),
    });
    let shortfall = if requested > 0.0 {
        1.0 - started / requested
    } else {
        0.0
    };
    doc["rate"] = json!({
        "requested_per_s": round3(requested / secs),
        "achieved_per_s": round3(started / secs),
        "shortfall": round3(shortfall.max(0.0)),
    });
}

fn cfg_window(doc: &Value) -> Option<std::time::Duration> {
    doc["config"]["duration_s"]
        .as_f64()
        .map(std::time::Duration::from_secs_f64)
}

/// Counts by kind plus the derived totals, as report objects hold them.
pub(crate) fn counts_json(c: &KindCounts) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("started".into(), json!(c.started()));
    m.insert("completed".into(), json!(c.completed()));
    m.insert("errors".into(), json!(c.errors()));
    for k in Kind::ALL {
        m.insert(k.key().into(), json!(c.get(k)));
    }
    m
}

pub(crate) fn nonzero_kinds(c: &KindCounts) -> Map<String, Value> {
    Kind::ALL
        .iter()
        .filter(|k| c.get(**k) > 0)
        .map(|k| (k.key().into(), json!(c.get(*k))))
        .collect()
}

/// Latency summary in microseconds.
pub fn latency_json(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return json!({"unit": "us", "count": 0});
    }
    json!({
        "unit": "us",
        "count": h.len(),
        "min": h.min(),
        "mean": round3(h.mean()),
        "stdev": round3(h.stdev()),
        "p50": h.value_at_quantile(0.5),
        "p90": h.value_at_quantile(0.9),
        "p95": h.value_at_quantile(0.95),
        "p99": h.value_at_quantile(0.99),
        "p99_9": h.value_at_quantile(0.999),
        "max": h.max(),
    })
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
