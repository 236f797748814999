//! Merging per-second timelines. Each report counts seconds from its own start; an entry is
//! moved by its report's start offset from the earliest start (rounded to a whole second),
//! so that the seconds of shards running side by side line up on the wall clock. Per-second
//! percentiles come from the added per-second histograms, so they are exact too.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use super::merge::{add_encoded, Input};
use crate::stats::new_histogram;

/// One merged second.
struct Slot {
    counts: BTreeMap<&'static str, u64>,
    kinds: BTreeMap<String, u64>,
    latency: Histogram<u64>,
    active_workers: Option<u64>,
    target_rate: Option<f64>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            counts: BTreeMap::new(),
            kinds: BTreeMap::new(),
            latency: new_histogram(),
            active_workers: None,
            target_rate: None,
        }
    }
}

/// Merges the timelines of `inputs`, shifting input `i` by `offsets[i]` seconds.
pub(super) fn merge(inputs: &[Input], offsets: &[u64]) -> Result<Value, String> {
    let mut slots: BTreeMap<u64, Slot> = BTreeMap::new();
    for (input, offset) in inputs.iter().zip(offsets) {
        for e in input.doc["timeline"].as_array().into_iter().flatten() {
            let second = e["second"].as_u64().unwrap_or(0) + offset;
            let slot = slots.entry(second).or_default();
            for key in ["completed", "success", "errors"] {
                *slot.counts.entry(key).or_default() += e[key].as_u64().unwrap_or(0);
            }
            for (k, v) in e["kinds"].as_object().into_iter().flatten() {
                *slot.kinds.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
            }
            add_encoded(&mut slot.latency, e.get("histogram"), &input.source)?;
            if let Some(a) = e["active_workers"].as_u64() {
                *slot.active_workers.get_or_insert(0) += a;
            }
            if let Some(r) = e["target_rate"].as_f64() {
                *slot.target_rate.get_or_insert(0.0) += r;
            }
        }
    }
    let last = slots.keys().next_back().copied();
    let mut out = vec![];
    for second in last.map_or(0..0, |l| 0..l + 1) {
        let slot = slots.remove(&second).unwrap_or_default();
        out.push(entry(second, slot));
    }
    Ok(Value::Array(out))
}

fn entry(second: u64, s: Slot) -> Value {
    let h = &s.latency;
    let q = |q: f64| {
        if h.is_empty() {
            0
        } else {
            h.value_at_quantile(q)
        }
    };
    let kinds: Map<String, Value> = s.kinds.into_iter().map(|(k, v)| (k, json!(v))).collect();
    json!({
        "active_workers": s.active_workers,
        "target_rate": s.target_rate,
        "second": second,
        "completed": s.counts.get("completed").copied().unwrap_or(0),
        "success": s.counts.get("success").copied().unwrap_or(0),
        "errors": s.counts.get("errors").copied().unwrap_or(0),
        "kinds": kinds,
        "p50_us": q(0.5),
        "p90_us": q(0.9),
        "p95_us": q(0.95),
        "p99_us": q(0.99),
        "max_us": h.max(),
        "histogram": (!h.is_empty()).then(|| super::json::encode_histogram(h)),
    })
}
