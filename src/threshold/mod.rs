//! Thresholds: pass/fail bounds on a run's numbers, such as `p99<250ms` or `error_rate<1%`,
//! so that a stress test can gate a pipeline. This file parses the expressions; `eval`
//! measures them on a finished report and `live` watches them during a run for
//! `--abort-on-fail`.

pub mod eval;
pub mod live;
mod parse;

use parse::{parse_bound, parse_metric, split_scope};

use std::fmt;

use serde_json::Value;

use crate::error::Result as CrateResult;
use crate::options::{type_name, Layers};

/// A latency statistic of a histogram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stat {
    /// Fastest.
    Min,
    /// Arithmetic mean.
    Mean,
    /// Slowest.
    Max,
    /// A percentile, as a quantile from 0 to 1.
    Quantile(f64),
}

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// A latency statistic, in microseconds.
    Latency(Stat),
    /// Errors per completed invocation (every kind but success), 0 to 1.
    ErrorRate,
    /// Throttled (429) answers per completed invocation, 0 to 1.
    ThrottledRate,
    /// Completed invocations per second of the run.
    Rps,
    /// Completed invocations.
    Count,
}

impl Metric {
    /// The unit of measured values and bounds in JSON: `us`, `ratio`, `per_s` or `count`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Latency(_) => "us",
            Metric::ErrorRate | Metric::ThrottledRate => "ratio",
            Metric::Rps => "per_s",
            Metric::Count => "count",
        }
    }
}

/// How the measured value must compare with the bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    /// True when `measured` satisfies the bound. Values within a relative 1e-9 of the bound
    /// count as equal to it, so that `error_rate<=0.1%` holds for 1 error in 1000 even though
    /// 0.1 has no exact binary form.
    pub fn holds(self, measured: f64, bound: f64) -> bool {
        let equal = (measured - bound).abs() <= 1e-9 * measured.abs().max(bound.abs());
        match self {
            Cmp::Lt => measured < bound && !equal,
            Cmp::Le => measured < bound || equal,
            Cmp::Gt => measured > bound && !equal,
            Cmp::Ge => measured > bound || equal,
        }
    }

    /// True for `<` and `<=`: the measured value must stay below the bound.
    pub fn is_upper(self) -> bool {
        matches!(self, Cmp::Lt | Cmp::Le)
    }
}

/// One parsed threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The expression as written, for reports and messages.
    pub text: String,
    /// The metric name as written (`p99`, `error_rate`, ...).
    pub name: String,
    /// What is measured.
    pub metric: Metric,
    /// Restricts the measure to one operation.
    pub operation: Option<String>,
    /// The comparison.
    pub cmp: Cmp,
    /// The bound in the metric's unit (microseconds, ratio, per second, count).
    pub bound: f64,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What `--threshold` accepts, for messages.
pub const ACCEPTED: &str = "METRIC[{op=NAME}] (<|<=|>|>=) BOUND with METRIC one of p50, p90, \
     p95, p99, p99.9 (any pN), min, mean, max (bound with us, ms or s), error_rate, \
     throttled_rate (bound in % or 0-1), rps, count; e.g. p99<250ms, error_rate<1%";

impl Threshold {
    /// Parses an expression such as `p99{op=slow}<500ms`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let at = compact.find(['<', '>']).ok_or_else(|| {
            if compact.contains('=') {
                format!("'{text}': compare with <, <=, > or >= (= alone is not accepted)")
            } else {
                format!("'{text}' has no comparison; expected {ACCEPTED}")
            }
        })?;
        let (left, rest) = compact.split_at(at);
        let (cmp, bound_text) = match rest.get(..2) {
            Some("<=") => (Cmp::Le, &rest[2..]),
            Some(">=") => (Cmp::Ge, &rest[2..]),
            _ if rest.starts_with('<') => (Cmp::Lt, &rest[1..]),
            _ => (Cmp::Gt, &rest[1..]),
        };
        let (name, operation) = split_scope(left).map_err(|m| format!("'{text}': {m}"))?;
        let metric = parse_metric(name)
            .ok_or_else(|| format!("'{text}': unknown metric '{name}'; expected {ACCEPTED}"))?;
        let bound = parse_bound(metric, bound_text).map_err(|m| format!("'{text}': {m}"))?;
        Ok(Threshold {
            text: text.trim().to_string(),
            name: name.to_string(),
            metric,
            operation,
            cmp,
            bound,
        })
    }
}

/// Reads `--threshold` (repeatable) or the JSON key `thresholds` (a string or an array of
/// strings), checking each expression and that a scoped one names an operation of the run.
pub fn from_layers(layers: &Layers, operations: &[String]) -> CrateResult<Vec<Threshold>> {
    let Some(s) = layers.get("thresholds") else {
        return Ok(vec![]);
    };
    let texts: Vec<&str> = match &s.value {
        Value::String(t) => vec![t.as_str()],
        Value::Array(items) => items
            .iter()
            .map(Value::as_str)
            .collect::<Option<_>>()
            .ok_or_else(|| {
                s.error("expected threshold expressions as strings, e.g. \"p99<250ms\"")
            })?,
        v => {
            return Err(s.error(format!(
                "expected a string or an array of strings, got {}",
                type_name(v)
            )))
        }
    };
    let mut out = vec![];
    for text in texts {
        let th = Threshold::parse(text).map_err(|m| s.error(m))?;
        if let Some(op) = &th.operation {
            if !operations.contains(op) {
                return Err(s.error(format!(
                    "'{text}': the run has no operation '{op}'; its operations are: {}",
                    operations.join(", ")
                )));
            }
        }
        out.push(th);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Threshold {
        Threshold::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn expressions_parse_into_metric_bound_and_scope() {
        let table = [
            // latency bounds become microseconds
            (
                "p99<250ms",
                Metric::Latency(Stat::Quantile(0.99)),
                Cmp::Lt,
                250_000.0,
            ),
            (
                "p95<=1s",
                Metric::Latency(Stat::Quantile(0.95)),
                Cmp::Le,
                1_000_000.0,
            ),
            ("mean<50ms", Metric::Latency(Stat::Mean), Cmp::Lt, 50_000.0),
            (
                "p99.9 < 800us",
                Metric::Latency(Stat::Quantile(0.999)),
                Cmp::Lt,
                800.0,
            ),
            ("max<1.5s", Metric::Latency(Stat::Max), Cmp::Lt, 1_500_000.0),
            // rates become ratios, percent or not
            ("error_rate<1%", Metric::ErrorRate, Cmp::Lt, 0.01),
            ("throttled_rate<5%", Metric::ThrottledRate, Cmp::Lt, 0.05),
            ("error_rate<=0.02", Metric::ErrorRate, Cmp::Le, 0.02),
            // throughput and counts
            ("rps>=1000", Metric::Rps, Cmp::Ge, 1000.0),
            ("rps>2.5/s", Metric::Rps, Cmp::Gt, 2.5),
            ("count>0", Metric::Count, Cmp::Gt, 0.0),
        ];
        for (text, metric, cmp, bound) in table {
            let th = t(text);
            assert_eq!(
                (th.metric, th.cmp, th.bound),
                (metric, cmp, bound),
                "{text}"
            );
            assert_eq!(th.operation, None);
        }
        let scoped = t("p99{op=slow}<500ms");
        assert_eq!(scoped.operation.as_deref(), Some("slow"));
        assert_eq!(scoped.name, "p99");
        assert_eq!(scoped.bound, 500_000.0);
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        let table = [
            ("p99", "has no comparison"),
            ("count==3", "= alone is not accepted"),
            ("p99<250", "needs a unit"),
            ("p99<250h", "unit 'h' is not one of"),
            ("latency<1s", "unknown metric 'latency'"),
            ("p0<1s", "unknown metric 'p0'"),
            ("p101<1s", "unknown metric"),
            ("error_rate<150%", "above 100%"),
            ("error_rate<1ms", "unit 'ms' is not %"),
            ("count>1.5", "not a whole number"),
            ("p99{op=}<1s", "is not {op=NAME}"),
            ("p99{name=a}<1s", "is not {op=NAME}"),
            ("p99{op=a<1s", "must end with '}'"),
            ("p99<ms", "does not start with a number"),
            ("rps>10/m", "unit '/m' is not /s"),
        ];
        for (text, want) in table {
            let e = Threshold::parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
            assert!(e.contains(text), "{text} is not named in: {e}");
        }
    }

    #[test]
    fn comparisons_at_the_bound() {
        // equal to the bound: only the inclusive comparisons hold
        assert!(!Cmp::Lt.holds(250_000.0, 250_000.0));
        assert!(Cmp::Le.holds(250_000.0, 250_000.0));
        assert!(!Cmp::Gt.holds(1000.0, 1000.0));
        assert!(Cmp::Ge.holds(1000.0, 1000.0));
        // 1 error in 1000 equals 0.1% although 0.1/100 is not exactly 1/1000 in binary
        assert!(Cmp::Le.holds(1.0 / 1000.0, 0.1 / 100.0));
        assert!(!Cmp::Lt.holds(1.0 / 1000.0, 0.1 / 100.0));
        // one unit either side
        assert!(Cmp::Lt.holds(249_999.0, 250_000.0));
        assert!(!Cmp::Le.holds(250_001.0, 250_000.0));
    }
}
