//! Measuring thresholds on a finished JSON report. Latency statistics come from the report's
//! HdrHistograms (the same numbers its `latency` sections show), so a threshold judges a
//! merged report exactly as it would judge one run holding every sample.

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use super::{Metric, Stat, Threshold};
use crate::report::json::decode_histogram;

/// The numbers one threshold scope (all invocations, or one operation) offers.
pub struct Observed<'a> {
    /// Invocations that ended on their own.
    pub completed: u64,
    /// Completed invocations that were not a success.
    pub errors: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Latency of every completed invocation.
    pub latency: &'a Histogram<u64>,
    /// Seconds the run took.
    pub elapsed_s: f64,
}

impl Threshold {
    /// The measured value, or `None` when there is nothing to measure (no completed
    /// invocation for a latency or a rate).
    pub fn measure(&self, o: &Observed) -> Option<f64> {
        let ratio = |n: u64| (o.completed > 0).then(|| n as f64 / o.completed as f64);
        match self.metric {
            Metric::Latency(_) if o.latency.is_empty() => None,
            Metric::Latency(Stat::Min) => Some(o.latency.min() as f64),
            Metric::Latency(Stat::Max) => Some(o.latency.max() as f64),
            Metric::Latency(Stat::Mean) => Some(o.latency.mean()),
            Metric::Latency(Stat::Quantile(q)) => Some(o.latency.value_at_quantile(q) as f64),
            Metric::ErrorRate => ratio(o.errors),
            Metric::ThrottledRate => ratio(o.throttled),
            Metric::Rps => Some(o.completed as f64 / o.elapsed_s.max(1e-9)),
            Metric::Count => Some(o.completed as f64),
        }
    }

    /// True when the measured value meets the bound; nothing measured never passes, so a run
    /// that completed nothing cannot slip through a latency gate.
    pub fn passes(&self, measured: Option<f64>) -> bool {
        measured.is_some_and(|m| self.cmp.holds(m, self.bound))
    }
}

/// Evaluates every threshold on a report and returns the `thresholds` section, one entry per
/// threshold: `threshold`, `metric`, `operation`, `unit`, `bound`, `measured` (null when
/// nothing was measured) and `pass`. Fails when a threshold names an operation the report
/// does not have, or when the report's histograms cannot be read.
pub fn evaluate(report: &Value, thresholds: &[Threshold]) -> Result<Value, String> {
    let mut out = vec![];
    for th in thresholds {
        let scope = match &th.operation {
            None => report,
            Some(name) => find_operation(report, name).ok_or_else(|| {
                let names: Vec<&str> = report["operations"]
                    .as_array()
                    .map(|ops| ops.iter().filter_map(|o| o["name"].as_str()).collect())
                    .unwrap_or_default();
                format!(
                    "'{th}': the report has no operation '{name}'; it has: {}",
                    names.join(", ")
                )
            })?,
        };
        let counts = if th.operation.is_some() {
            scope
        } else {
            &report["totals"]
        };
        let latency = decode_histogram(scope["histogram"].as_str().unwrap_or(""))
            .map_err(|e| format!("'{th}': {e}"))?;
        let observed = Observed {
            completed: counts["completed"].as_u64().unwrap_or(0),
            errors: counts["errors"].as_u64().unwrap_or(0),
            throttled: counts["throttled"].as_u64().unwrap_or(0),
            latency: &latency,
            elapsed_s: report["elapsed_s"].as_f64().unwrap_or(0.0),
        };
        let measured = th.measure(&observed);
        out.push(json!({
            "threshold": th.text,
            "metric": th.name,
            "operation": th.operation,
            "unit": th.metric.unit(),
            "bound": th.bound,
            "measured": measured.map(round6),
            "pass": th.passes(measured),
        }));
    }
    Ok(Value::Array(out))
}

/// True when every entry of a `thresholds` section passed (also when there is none).
pub fn all_pass(section: &Value) -> bool {
    section
        .as_array()
        .is_none_or(|list| list.iter().all(|t| t["pass"] == json!(true)))
}

fn find_operation<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["operations"]
        .as_array()?
        .iter()
        .find(|o| o["name"].as_str() == Some(name))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::encode_histogram;
    use crate::stats::new_histogram;

    /// A report of 100 invocations with latencies 1..=100 ms, 4 errors of which 2 throttled,
    /// over 2 s; operation `slow` holds the 10 slowest.
    fn report() -> Value {
        let mut all = new_histogram();
        let mut slow = new_histogram();
        for ms in 1..=100u64 {
            all.record(ms * 1000).unwrap();
            if ms > 90 {
                slow.record(ms * 1000).unwrap();
            }
        }
        json!({
            "elapsed_s": 2.0,
            "totals": {"completed": 100, "errors": 4, "throttled": 2},
            "histogram": encode_histogram(&all),
            "operations": [{"name": "slow", "completed": 10, "errors": 0, "throttled": 0,
                            "histogram": encode_histogram(&slow)}],
        })
    }

    fn verdict(expr: &str) -> (Option<f64>, bool) {
        let th = Threshold::parse(expr).unwrap();
        let section = evaluate(&report(), &[th]).unwrap();
        (
            section[0]["measured"].as_f64(),
            section[0]["pass"] == json!(true),
        )
    }

    #[test]
    fn values_at_the_bound() {
        let table = [
            // p99 of 1..=100 ms is 99 ms, reported as its bucket's highest value, 99.007 ms
            ("p99<99ms", Some(99_007.0), false),
            ("p99<=99.007ms", Some(99_007.0), true),
            ("p99<100ms", Some(99_007.0), true),
            // 4 errors in 100 is exactly 4%
            ("error_rate<4%", Some(0.04), false),
            ("error_rate<=4%", Some(0.04), true),
            ("throttled_rate<=0.02", Some(0.02), true),
            ("throttled_rate<2%", Some(0.02), false),
            // 100 completed over 2 s is 50/s
            ("rps>=50", Some(50.0), true),
            ("rps>50", Some(50.0), false),
            ("count>=100", Some(100.0), true),
            ("count>100", Some(100.0), false),
            ("max<=100.0625ms", Some(100_031.0), true),
            ("min>=1ms", Some(1000.0), true),
            // the scope measures only that operation: 91..=100 ms (91 ms sits in the bucket
            // whose lowest value is 90.944 ms)
            ("min{op=slow}>=90.944ms", Some(90_944.0), true),
            ("min{op=slow}>90.944ms", Some(90_944.0), false),
            ("count{op=slow}>10", Some(10.0), false),
        ];
        for (expr, measured, pass) in table {
            assert_eq!(verdict(expr), (measured, pass), "{expr}");
        }
    }

    #[test]
    fn nothing_measured_fails_and_unknown_operations_are_errors() {
        let mut r = report();
        r["totals"]["completed"] = json!(0);
        r["histogram"] = json!(encode_histogram(&new_histogram()));
        let th = [
            Threshold::parse("p99<1s").unwrap(),
            Threshold::parse("error_rate<1%").unwrap(),
        ];
        let section = evaluate(&r, &th).unwrap();
        assert_eq!(section[0]["measured"], Value::Null);
        assert_eq!(section[0]["pass"], json!(false));
        assert_eq!(section[1]["pass"], json!(false));
        assert!(!all_pass(&section));

        let e = evaluate(&report(), &[Threshold::parse("p99{op=fast}<1s").unwrap()]);
        assert!(e.unwrap_err().contains("no operation 'fast'; it has: slow"));
    }
}
