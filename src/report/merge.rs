//! Merging JSON reports of shards of one run (or of runs to be judged together) without
//! loss: histograms are added and every latency summary is recomputed from the sums, counts
//! are summed, operations combined by name, workers kept with their shard, and timelines
//! aligned on wall-clock seconds. Merged percentiles are therefore those of one histogram
//! holding every sample.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use super::json::{decode_histogram, encode_histogram};
use super::{latency_json, merge_sections as sections, round3, timeline, SCHEMA};
use crate::outcome::Kind;
use crate::stats::new_histogram;

/// One report to merge and where it came from (a file name, for messages).
pub struct Input {
    /// File name or other label.
    pub source: String,
    /// The parsed report.
    pub doc: Value,
}

/// Settings that must agree for reports to describe one load on one target.
const MUST_MATCH: [(&str, &str); 4] = [
    ("url", "/config/url"),
    ("method", "/config/method"),
    ("operations", "/config/operations"),
    ("load model", "/config/load/model"),
];

/// Settings that may differ between shards of one test, but usually should not: a merge
/// goes ahead and says so, since the merged header shows the first report's values.
const SHOULD_MATCH: [(&str, &str); 3] = [
    ("the operation weights", "/config/mix"),
    ("the timeout", "/config/timeout_s"),
    ("the method of sending bodies", "/config/workload"),
];

/// Derived counts that stand beside one count per outcome kind in each operation.
const DERIVED_COUNTS: [&str; 3] = ["started", "completed", "errors"];

/// The longest time between the starts of reports that are merged, in seconds.
const MAX_SPREAD_S: f64 = 24.0 * 3600.0;

/// Merges reports into one; the error names the report and the setting at fault.
pub fn merge(inputs: &[Input]) -> Result<Value, String> {
    let first = inputs.first().ok_or("no report to merge")?;
    let mut starts = vec![];
    for input in inputs {
        check(input, first)?;
        starts.push(start_of(input)?);
    }
    let base = *starts.iter().min().expect("at least one report");
    // The merged timeline has a row per second from the first start on; runs days apart are
    // not one load, and would make that timeline millions of rows long.
    if let Some((input, start)) = inputs
        .iter()
        .zip(&starts)
        .find(|(_, s)| secs_between(base, **s) > MAX_SPREAD_S)
    {
        return Err(format!(
            "{}: started {:.0} h after the earliest report; reports merged into one must start \
             within {} h of each other",
            input.source,
            secs_between(base, *start) / 3600.0,
            MAX_SPREAD_S / 3600.0
        ));
    }
    warn_on_differences(inputs, &starts);
    let end = inputs
        .iter()
        .zip(&starts)
        .map(|(i, s)| secs_between(base, *s) + i.doc["elapsed_s"].as_f64().unwrap_or(0.0))
        .fold(0.0, f64::max);
    let offsets: Vec<u64> = starts
        .iter()
        .map(|s| secs_between(base, *s).round() as u64)
        .collect();
    let docs: Vec<&Value> = inputs.iter().map(|i| &i.doc).collect();

    let mut out = first.doc.clone();
    let obj = out.as_object_mut().expect("checked to be an object");
    // A warm-up belongs to each run; the merge keeps only the measured part of every report.
    for key in [
        "shard",
        "thresholds",
        "abort",
        "merged_from",
        "shards",
        "warmup",
    ] {
        obj.remove(key);
    }
    out["started_at"] = json!(humantime::format_rfc3339_millis(base).to_string());
    out["elapsed_s"] = json!(round3(end));
    out["stop_reason"] = json!(common(&docs, "stop_reason").unwrap_or_else(|| "mixed".into()));
    out["config"] = sections::config(&docs);
    let all = sum_histograms(inputs, "/histogram")?;
    out["totals"] = merged_totals(&docs, end);
    out["latency"] = latency_json(&all);
    out["histogram"] = json!(encode_histogram(&all));
    out["status_codes"] = sum_maps(docs.iter().map(|d| &d["status_codes"]));
    out["errors"] = merged_errors(&docs);
    out["operations"] = sections::operations(inputs)?;
    if docs.iter().any(|d| d["functions"].is_array()) {
        out["functions"] = sections::functions(inputs)?;
    }
    if docs.iter().any(|d| d["connections"].is_object()) {
        out["connections"] = sum_maps(docs.iter().map(|d| &d["connections"]));
    }
    out["workers"] = merged_workers(inputs);
    out["timeline"] = timeline::merge(inputs, &offsets)?;
    if out["config"]["load"]["model"] == "open" {
        sections::open_model(&mut out, inputs)?;
    }
    out["merged_from"] = json!(docs
        .iter()
        .map(|d| d["merged_from"].as_u64().unwrap_or(1))
        .sum::<u64>());
    out["shards"] = shard_list(inputs);
    Ok(out)
}

/// Checks that one report can be printed: a fnstress report of this schema.
pub fn check_one(input: &Input) -> Result<(), String> {
    check(input, input)
}

fn check(input: &Input, first: &Input) -> Result<(), String> {
    let src = &input.source;
    match input.doc["schema"].as_str() {
        Some(SCHEMA) => {}
        Some(other) => {
            return Err(format!(
                "{src}: schema '{other}' cannot be merged; this fnstress reads {SCHEMA} \
                 (re-run the shard with this version)"
            ))
        }
        None => return Err(format!("{src}: not a fnstress report (no 'schema' field)")),
    }
    for (what, pointer) in MUST_MATCH {
        let (a, b) = (first.doc.pointer(pointer), input.doc.pointer(pointer));
        if a != b {
            let show = |v: Option<&Value>| v.map_or("none".into(), Value::to_string);
            return Err(format!(
                "{src}: incompatible with {}: {what} is {} there but {} here; only reports of \
                 one load on one target can be merged",
                first.source,
                show(a),
                show(b)
            ));
        }
    }
    Ok(())
}

/// Says which settings differ and whether the runs overlapped in time at all.
fn warn_on_differences(inputs: &[Input], starts: &[SystemTime]) {
    let first = &inputs[0];
    for (what, pointer) in SHOULD_MATCH {
        if let Some(other) = inputs[1..]
            .iter()
            .find(|i| i.doc.pointer(pointer) != first.doc.pointer(pointer))
        {
            crate::messages::warn(&format!(
                "{} and {} differ in {what}; the merged header shows {}'s",
                first.source, other.source, first.source
            ));
        }
    }
    let spans: Vec<(f64, f64)> = inputs
        .iter()
        .zip(starts)
        .map(|(i, s)| {
            let begin = s
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            (begin, begin + i.doc["elapsed_s"].as_f64().unwrap_or(0.0))
        })
        .collect();
    let latest_begin = spans.iter().map(|s| s.0).fold(f64::MIN, f64::max);
    let earliest_end = spans.iter().map(|s| s.1).fold(f64::MAX, f64::min);
    if latest_begin > earliest_end {
        crate::messages::warn(
            "the reports do not overlap in time; rates of the merged report are over the \
             whole span from the first start to the last end",
        );
    }
}

fn start_of(input: &Input) -> Result<SystemTime, String> {
    let text = input.doc["started_at"].as_str().unwrap_or("");
    humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!(
            "{}: started_at '{text}' is not RFC 3339 ({e})",
            input.source
        )
    })
}

fn secs_between(base: SystemTime, t: SystemTime) -> f64 {
    t.duration_since(base).unwrap_or_default().as_secs_f64()
}

/// The value of a top-level string field when every report has the same one.
fn common(docs: &[&Value], key: &str) -> Option<String> {
    let first = docs[0][key].as_str()?;
    docs.iter()
        .all(|d| d[key].as_str() == Some(first))
        .then(|| first.to_string())
}

/// Adds the histograms at `pointer` of every report.
pub(super) fn sum_histograms(inputs: &[Input], pointer: &str) -> Result<Histogram<u64>, String> {
    let mut all = new_histogram();
    for i in inputs {
        add_encoded(&mut all, i.doc.pointer(pointer), &i.source)?;
    }
    Ok(all)
}

/// Adds one encoded histogram (`null` adds nothing).
pub(super) fn add_encoded(
    into: &mut Histogram<u64>,
    v: Option<&Value>,
    source: &str,
) -> Result<(), String> {
    let Some(text) = v.and_then(Value::as_str) else {
        return match v {
            None | Some(Value::Null) => Ok(()),
            Some(_) => Err(format!("{source}: a histogram is not a string")),
        };
    };
    let h = decode_histogram(text).map_err(|e| format!("{source}: {e}"))?;
    into.add(&h)
        .map_err(|e| format!("{source}: histograms cannot be added ({e:?})"))
}

pub(super) fn sum_counts(objs: &[&Value]) -> Map<String, Value> {
    let kinds = crate::outcome::Kind::ALL.map(crate::outcome::Kind::key);
    DERIVED_COUNTS
        .iter()
        .chain(kinds.iter())
        .map(|k| {
            let n: u64 = objs.iter().map(|o| o[*k].as_u64().unwrap_or(0)).sum();
            (k.to_string(), json!(n))
        })
        .collect()
}

/// Every whole-number count of the reports' totals summed (whatever counts a version adds,
/// such as `resent` or `cold_starts`), then the rates recomputed from the sums.
fn merged_totals(docs: &[&Value], elapsed: f64) -> Value {
    let mut t = Map::new();
    for totals in docs.iter().filter_map(|d| d["totals"].as_object()) {
        for (key, v) in totals {
            if let (Some(n), false) = (v.as_u64(), key.ends_with("_rate")) {
                let sum = t.get(key).and_then(Value::as_u64).unwrap_or(0) + n;
                t.insert(key.clone(), json!(sum));
            }
        }
    }
    let completed = t.get("completed").and_then(Value::as_u64).unwrap_or(0);
    let success = t.get("success").and_then(Value::as_u64).unwrap_or(0);
    t.insert(
        "rate_per_s".into(),
        json!(round3(completed as f64 / elapsed.max(1e-9))),
    );
    let rate = if completed == 0 {
        0.0
    } else {
        success as f64 / completed as f64
    };
    t.insert("success_rate".into(), json!(round3(rate * 100.0) / 100.0));
    Value::Object(t)
}

fn sum_maps<'a>(maps: impl Iterator<Item = &'a Value>) -> Value {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for m in maps.filter_map(Value::as_object) {
        for (k, v) in m {
            *out.entry(k.clone()).or_default() += v.as_u64().unwrap_or(0);
        }
    }
    json!(out)
}

fn merged_errors(docs: &[&Value]) -> Value {
    let mut out: BTreeMap<(usize, String, String), u64> = BTreeMap::new();
    for e in docs.iter().filter_map(|d| d["errors"].as_array()).flatten() {
        let kind = e["kind"].as_str().unwrap_or("").to_string();
        let order = Kind::from_key(&kind).map_or(usize::MAX, Kind::index);
        let message = e["message"].as_str().unwrap_or("").to_string();
        *out.entry((order, kind, message)).or_default() += e["count"].as_u64().unwrap_or(0);
    }
    out.into_iter()
        .map(
            |((_, kind, message), count)| json!({"kind": kind, "message": message, "count": count}),
        )
        .collect()
}

/// Every worker of every report, labelled with its shard: the report's shard index, or its
/// position among the inputs when it was not sharded. Already merged reports keep theirs.
fn merged_workers(inputs: &[Input]) -> Value {
    let mut out = vec![];
    for (pos, i) in inputs.iter().enumerate() {
        let shard = i.doc["shard"]["index"].as_u64().unwrap_or(pos as u64);
        for w in i.doc["workers"].as_array().into_iter().flatten() {
            let mut w = w.clone();
            if !w["shard"].is_u64() {
                w["shard"] = json!(shard);
            }
            out.push(w);
        }
    }
    Value::Array(out)
}

fn shard_list(inputs: &[Input]) -> Value {
    let mut out = vec![];
    for i in inputs {
        if let Some(list) = i.doc["shards"].as_array() {
            out.extend(list.iter().cloned());
            continue;
        }
        let d = &i.doc;
        out.push(json!({
            "source": i.source,
            "shard": d.get("shard"),
            "started_at": d["started_at"],
            "elapsed_s": d["elapsed_s"],
            "stop_reason": d["stop_reason"],
            "completed": d["totals"]["completed"],
            "seed": d["config"]["seed"],
            "abort": d.get("abort"),
        }));
    }
    Value::Array(out)
}
