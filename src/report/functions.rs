//! The report sections this tool adds for realistic mixes and real platforms: one object per
//! function (counts, latency, operations, cold starts), the connections opened, the warm-up
//! kept out of the statistics, and the per-function split of each timeline second.

use serde_json::{json, Map, Value};

use super::{counts_json, latency_json, nonzero_kinds};
use crate::config::RunConfig;
use crate::function_stats::FunctionStats;
use crate::outcome::Kind;
use crate::stats::{OperationStats, Second, Stats};
use crate::target::{redact_url, Function};

/// One operation's object, as `operations` and each function's `operations` hold it;
/// `histogram` adds the encoded HdrHistogram, which only saved reports need.
pub fn operation_json(o: &OperationStats, histogram: bool) -> Value {
    let mut v = counts_json(&o.counts);
    v.insert("name".into(), json!(o.name));
    v.insert("latency".into(), latency_json(&o.latency));
    if histogram {
        let h = super::json::encode_histogram(&o.latency);
        v.insert("histogram".into(), json!(h));
    }
    Value::Object(v)
}

/// `functions`: one object per function of the run, in the order of `-t`.
pub fn functions_json(cfg: &RunConfig, s: &Stats, histogram: bool) -> Value {
    s.functions
        .iter()
        .zip(&cfg.functions)
        .map(|(f, spec)| function_json(f, spec, cfg.lambda.log_tail, histogram))
        .collect()
}

fn function_json(f: &FunctionStats, spec: &Function, log_tail: bool, histogram: bool) -> Value {
    let mut v = counts_json(&f.counts);
    v.insert("name".into(), json!(f.name));
    v.insert("url".into(), json!(redact_url(&spec.url)));
    v.insert("weight".into(), json!(spec.weight));
    v.insert("latency".into(), latency_json(&f.latency));
    if histogram {
        let h = super::json::encode_histogram(&f.latency);
        v.insert("histogram".into(), json!(h));
    }
    if log_tail {
        v.insert("cold_starts".into(), json!(f.cold_starts));
        v.insert("init_duration".into(), latency_json(&f.init));
    }
    let ops = f.operations.iter().map(|o| operation_json(o, histogram));
    let ops: Vec<Value> = ops.collect();
    v.insert("operations".into(), Value::Array(ops));
    Value::Object(v)
}

/// `connections`: opened after the warm-up, and how many of those replaced an earlier one.
pub fn connections_json(s: &Stats) -> Value {
    let c = &s.connections;
    json!({"opened": c.opened, "reconnects": c.reconnects})
}

/// `warmup`: what ran before the statistics began; `None` without a warm-up.
pub fn warmup_json(cfg: &RunConfig, s: &Stats) -> Option<Value> {
    let d = cfg.warmup?;
    let w = &s.warmup;
    Some(json!({
        "duration_s": d.as_secs_f64(),
        "count": w.counts.started(),
        "completed": w.counts.completed(),
        "success": w.counts.get(Kind::Success),
        "errors": w.counts.errors(),
        "cold_starts": w.cold_starts,
        "connections_opened": w.connections,
    }))
}

/// The per-function split of one timeline second; empty with one function.
pub fn second_functions(cfg: &RunConfig, t: &Second) -> Vec<Value> {
    t.functions
        .iter()
        .zip(&cfg.functions)
        .map(|(f, spec)| {
            let mut m = Map::new();
            m.insert("name".into(), json!(spec.name));
            m.insert("completed".into(), json!(f.counts.completed()));
            m.insert("success".into(), json!(f.counts.get(Kind::Success)));
            m.insert("errors".into(), json!(f.counts.errors()));
            m.insert("kinds".into(), Value::Object(nonzero_kinds(&f.counts)));
            for (k, us) in [
                ("p50_us", f.p50_us),
                ("p90_us", f.p90_us),
                ("p99_us", f.p99_us),
                ("max_us", f.max_us),
            ] {
                m.insert(k.into(), json!(us));
            }
            Value::Object(m)
        })
        .collect()
}
