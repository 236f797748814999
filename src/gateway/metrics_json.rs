//! The JSON shape of `GET /metrics` and `GET /metrics/{name}`, kept apart from the counters
//! so that the answer's keys live in one place that tests and docs can point to.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::metrics::{FunctionSnapshot, Metrics, OperationStats};

/// `GET /metrics`: every function, the rejections and the uptime.
pub fn all(metrics: &Metrics) -> Value {
    let mut functions = Map::new();
    for snap in metrics.snapshot(None) {
        functions.insert(snap.name.to_string(), function(&snap));
    }
    let mut rejections = Map::new();
    for (why, count) in metrics.rejections() {
        rejections.insert(why.key().to_string(), count.into());
    }
    json!({
        "uptime_seconds": round3(metrics.uptime().as_secs_f64()),
        "functions": functions,
        "rejections": rejections,
    })
}

/// `GET /metrics/{name}`: one function's stats, with its name.
pub fn function(snap: &FunctionSnapshot) -> Value {
    let stats = &snap.stats;
    let mut operations = Map::new();
    for (name, op) in snap.operation_names.iter().zip(&stats.operations) {
        operations.insert(name.to_string(), operation(op));
    }
    let mut custom = Map::new();
    for (name, metric) in &stats.custom {
        custom.insert(
            name.to_string(),
            json!({"count": metric.count, "total_duration_ms": ms(metric.duration_total)}),
        );
    }
    json!({
        "function": snap.name,
        "execution_count": stats.executions(),
        "error_count": stats.errors(),
        "average_duration_ms": average_ms(stats.duration_total(), stats.executions()),
        "cold_starts": stats.cold_starts,
        "last_execution": stats
            .last_execution
            .map(|t| humantime::format_rfc3339_millis(t).to_string()),
        "operations": operations,
        "custom_metrics": custom,
    })
}

fn operation(op: &OperationStats) -> Value {
    json!({
        "execution_count": op.executions(),
        "error_count": op.errors,
        "average_duration_ms": average_ms(op.duration_total, op.executions()),
        "total_duration_ms": ms(op.duration_total),
    })
}

/// Zero when nothing ran, so that the key always holds a number.
fn average_ms(total: Duration, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        round3(total.as_secs_f64() * 1000.0 / count as f64)
    }
}

fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1000.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::functions::Registry;
    use crate::gateway::metrics::{Rejection, Sample};
    use std::time::{Instant, SystemTime};

    #[test]
    fn shape_holds_counts_averages_and_custom_metrics() {
        let metrics = Metrics::new(&Registry::demo(0.0));
        for ms in [10, 30] {
            metrics.record(
                0,
                &Sample {
                    operation: 1,
                    failed: false,
                    started: Instant::now(),
                    duration: Duration::from_millis(ms),
                    finished_at: SystemTime::now(),
                    custom_metrics: &["operation.fast", "success.total"],
                },
            );
        }
        metrics.reject(Rejection::Throttled);
        let all = all(&metrics);
        let cm = &all["functions"]["custom-metrics"];
        assert_eq!(cm["execution_count"], 2);
        assert_eq!(cm["error_count"], 0);
        assert_eq!(cm["average_duration_ms"], 20.0);
        assert_eq!(cm["cold_starts"], 1);
        assert!(cm["last_execution"].as_str().unwrap().ends_with('Z'));
        assert_eq!(cm["operations"]["fast"]["execution_count"], 2);
        assert_eq!(cm["custom_metrics"]["success.total"]["count"], 2);
        assert_eq!(
            cm["custom_metrics"]["operation.fast"]["total_duration_ms"],
            40.0
        );
        // a function that never ran still has every key
        assert_eq!(all["functions"]["echo"]["average_duration_ms"], 0.0);
        assert_eq!(all["functions"]["echo"]["last_execution"], Value::Null);
        assert_eq!(all["rejections"]["throttled"], 1);
    }
}
