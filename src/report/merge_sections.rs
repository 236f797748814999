//! The sections of a merged report that are not plain sums: the settings, where each shard's
//! share of workers, requests and rate is added back up, the operation and function tables
//! combined by name, and the open model's corrected latency, lateness and rates.

use serde_json::{json, Value};

use super::json::encode_histogram;
use super::merge::{add_encoded, sum_counts, sum_histograms, Input};
use super::{latency_json, round3};
use crate::stats::new_histogram;
use crate::stats::LATE_US;

/// The first report's settings, with the shares added back up: workers, request budgets and
/// rates are summed; a seed that differs between reports is shown as null.
pub(super) fn config(docs: &[&Value]) -> Value {
    let mut c = docs[0]["config"].clone();
    let sum_u64 = |key: &str| -> Value {
        let vals: Option<Vec<u64>> = docs.iter().map(|d| d["config"][key].as_u64()).collect();
        vals.map_or(Value::Null, |v| json!(v.iter().sum::<u64>()))
    };
    c["concurrency"] = sum_u64("concurrency");
    c["requests"] = sum_u64("requests");
    let durations = docs
        .iter()
        .filter_map(|d| d["config"]["duration_s"].as_f64());
    c["duration_s"] = durations.reduce(f64::max).map_or(Value::Null, |d| json!(d));
    if docs
        .iter()
        .any(|d| d["config"]["seed"] != docs[0]["config"]["seed"])
    {
        c["seed"] = Value::Null;
    }
    let rates: Option<Vec<f64>> = docs
        .iter()
        .map(|d| d["config"]["load"]["rate_per_s"].as_f64())
        .collect();
    if let Some(r) = rates {
        c["load"]["rate_per_s"] = json!(round3(r.iter().sum::<f64>()));
    }
    // Rate stages are split between shards; worker stages are not (each shard runs them).
    let open = c["load"]["model"] == "open";
    if let (true, Some(stages)) = (open, c["load"]["stages"].as_array_mut()) {
        for (i, st) in stages.iter_mut().enumerate() {
            let total: f64 = docs
                .iter()
                .filter_map(|d| d["config"]["load"]["stages"][i]["target"].as_f64())
                .sum();
            st["target"] = json!(round3(total));
        }
    }
    c
}

/// Corrected latency, lateness and rates of open-model reports.
pub(super) fn open_model(out: &mut Value, inputs: &[Input]) -> Result<(), String> {
    for i in inputs {
        if i.doc.get("histogram_corrected").is_none() {
            return Err(format!(
                "{}: an open-model report without histogram_corrected cannot be merged",
                i.source
            ));
        }
    }
    let corrected = sum_histograms(inputs, "/histogram_corrected")?;
    let lateness = sum_histograms(inputs, "/histogram_lateness")?;
    let late: u64 = inputs
        .iter()
        .map(|i| i.doc["lateness"]["late"].as_u64().unwrap_or(0))
        .sum();
    out["latency_corrected"] = latency_json(&corrected);
    out["histogram_corrected"] = json!(encode_histogram(&corrected));
    out["histogram_lateness"] = json!(encode_histogram(&lateness));
    let q = |q: f64| (!lateness.is_empty()).then(|| lateness.value_at_quantile(q));
    out["lateness"] = json!({
        "unit": "us", "threshold_us": LATE_US, "late": late,
        "p50": q(0.5).unwrap_or(0), "p99": q(0.99).unwrap_or(0), "max": lateness.max(),
    });
    let sum = |key: &str| -> f64 {
        inputs
            .iter()
            .map(|i| i.doc["rate"][key].as_f64().unwrap_or(0.0))
            .sum()
    };
    let (requested, achieved) = (sum("requested_per_s"), sum("achieved_per_s"));
    let shortfall = if requested > 0.0 {
        (1.0 - achieved / requested).max(0.0)
    } else {
        0.0
    };
    out["rate"] = json!({
        "requested_per_s": round3(requested),
        "achieved_per_s": round3(achieved),
        "shortfall": round3(shortfall),
    });
    Ok(())
}

pub(super) fn operations(inputs: &[Input]) -> Result<Value, String> {
    let lists: Vec<(&str, &Value)> = inputs
        .iter()
        .map(|i| (i.source.as_str(), &i.doc["operations"]))
        .collect();
    merged_by_name(&lists)
}

/// Per-function tables (with their operations) combined by function name. Init-duration
/// percentiles of `--log-tail` runs have no histogram in a report, so a merge leaves them out;
/// the cold-start counts are summed.
pub(super) fn functions(inputs: &[Input]) -> Result<Value, String> {
    let lists: Vec<(&str, &Value)> = inputs
        .iter()
        .map(|i| (i.source.as_str(), &i.doc["functions"]))
        .collect();
    merged_by_name(&lists)
}

/// Combines arrays of named entries (operations or functions) by name, in order of first
/// appearance: counts summed, histograms added, latency recomputed.
fn merged_by_name(lists: &[(&str, &Value)]) -> Result<Value, String> {
    let mut names: Vec<String> = vec![];
    for entry in lists.iter().filter_map(|(_, l)| l.as_array()).flatten() {
        let name = entry["name"].as_str().unwrap_or("").to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut out = vec![];
    for name in names {
        let mut parts = vec![];
        let mut inner = vec![];
        let mut h = new_histogram();
        for (source, list) in lists {
            let entries = list.as_array().into_iter().flatten();
            for e in entries.filter(|e| e["name"].as_str() == Some(&name)) {
                add_encoded(&mut h, e.get("histogram"), source)?;
                if e["operations"].is_array() {
                    inner.push((*source, &e["operations"]));
                }
                parts.push(e);
            }
        }
        let mut v = sum_counts(&parts);
        v.insert("name".into(), json!(name));
        for key in ["url", "weight"] {
            if let Some(x) = parts[0].get(key) {
                v.insert(key.into(), x.clone());
            }
        }
        if parts.iter().any(|p| p.get("cold_starts").is_some()) {
            let cold: u64 = parts
                .iter()
                .map(|p| p["cold_starts"].as_u64().unwrap_or(0))
                .sum();
            v.insert("cold_starts".into(), json!(cold));
        }
        v.insert("latency".into(), latency_json(&h));
        v.insert("histogram".into(), json!(encode_histogram(&h)));
        if !inner.is_empty() {
            v.insert("operations".into(), merged_by_name(&inner)?);
        }
        out.push(Value::Object(v));
    }
    Ok(Value::Array(out))
}
