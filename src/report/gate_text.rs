//! Text sections of the report for pipelines and sharded runs: the threshold table with the
//! measured value beside each bound, the early stop of `--abort-on-fail`, and which shard or
//! shards a report covers. Kept apart from `text` so each file stays about one concern.

use std::fmt::Write;

use serde_json::Value;

/// `Shard 1/3` or `Merged 3 reports (shards 0/3, 1/3, 2/3)` under the header, if either.
pub fn scope(out: &mut String, r: &Value) {
    if let Some(i) = r["shard"]["index"].as_u64() {
        let n = r["shard"]["count"].as_u64().unwrap_or(0);
        let _ = writeln!(
            out,
            "Shard      {i}/{n} (this report holds this shard's share)"
        );
    }
    if let Some(n) = r["merged_from"].as_u64() {
        let labels: Vec<String> = r["shards"]
            .as_array()
            .map(|l| l.iter().map(shard_label).collect())
            .unwrap_or_default();
        let _ = writeln!(out, "Merged     {n} reports: {}", labels.join(", "));
    }
}

fn shard_label(s: &Value) -> String {
    match (s["shard"]["index"].as_u64(), s["shard"]["count"].as_u64()) {
        (Some(i), Some(n)) => format!("shard {i}/{n}"),
        _ => s["source"].as_str().unwrap_or("report").to_string(),
    }
}

/// The threshold table, and the early stop when a threshold ended the run.
pub fn thresholds(out: &mut String, r: &Value) {
    if let Some(t) = r["abort"]["threshold"].as_str() {
        let _ = writeln!(
            out,
            "\nStopped early: threshold '{t}' failed after {} completed invocations \
             (--abort-on-fail)",
            r["abort"]["completed"].as_u64().unwrap_or(0)
        );
    }
    let Some(list) = r["thresholds"].as_array().filter(|l| !l.is_empty()) else {
        return;
    };
    let width = list
        .iter()
        .filter_map(|t| t["threshold"].as_str())
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(9);
    let _ = writeln!(out, "\nThresholds");
    let _ = writeln!(
        out,
        "  {:<width$}  {:>14}  {:>14}  result",
        "threshold", "measured", "bound"
    );
    for t in list {
        let unit = t["unit"].as_str().unwrap_or("");
        let result = if t["pass"] == true { "pass" } else { "FAIL" };
        let _ = writeln!(
            out,
            "  {:<width$}  {:>14}  {:>14}  {result}",
            t["threshold"].as_str().unwrap_or("?"),
            value(&t["measured"], unit),
            value(&t["bound"], unit),
        );
    }
}

/// A measured value or bound in the unit people read: ms, %, /s or a plain count.
fn value(v: &Value, unit: &str) -> String {
    let Some(x) = v.as_f64() else {
        return "no data".into();
    };
    match unit {
        "us" => format!("{:.3} ms", x / 1000.0),
        "ratio" => format!("{:.3}%", x * 100.0),
        "per_s" => format!("{x:.2}/s"),
        _ => format!("{x:.0}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_table_shows_measured_beside_bound() {
        let r = json!({"thresholds": [
            {"threshold": "p99<250ms", "unit": "us", "bound": 250000.0,
             "measured": 99007.0, "pass": true},
            {"threshold": "error_rate<1%", "unit": "ratio", "bound": 0.01,
             "measured": 0.25, "pass": false},
            {"threshold": "rps>=1000", "unit": "per_s", "bound": 1000.0,
             "measured": null, "pass": false},
        ]});
        let mut out = String::new();
        thresholds(&mut out, &r);
        let want = "
Thresholds
  threshold            measured           bound  result
  p99<250ms           99.007 ms      250.000 ms  pass
  error_rate<1%         25.000%          1.000%  FAIL
  rps>=1000             no data       1000.00/s  FAIL
";
        assert_eq!(out, want);
    }
}
