//! The demo functions the gateway hosts. They stand in for real serverless code: each takes
//! a JSON object, may wait for a simulated time, and answers JSON or fails with a message,
//! so that every outcome `fnstress run` tells apart has a source it can be tested against.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

/// What one invocation of a demo function produced.
pub struct Invocation {
    /// Index into the function's [`Function::operations`].
    pub operation: usize,
    /// The answer, or the error text of a failure.
    pub result: Result<Value, String>,
    /// Names of the custom metrics this invocation counts toward.
    pub custom_metrics: &'static [&'static str],
}

/// A function the gateway can invoke by name.
pub trait Function: Send + Sync {
    /// The name used in routes (`/run/{name}`).
    fn name(&self) -> &'static str;

    /// One line for `GET /functions`.
    fn description(&self) -> &'static str;

    /// The operations it knows; the first one is run when the input names none.
    fn operations(&self) -> &'static [&'static str];

    /// Runs the function. Every simulated wait goes through `pause`, so that tests can see
    /// the waits without sleeping through them.
    fn invoke(&self, input: Map<String, Value>, pause: &dyn Fn(Duration)) -> Invocation;
}

/// `custom-metrics`: an operation picked by the input, a random wait in its range, and
/// custom metrics counted per operation and per outcome.
pub struct CustomMetrics {
    /// Multiplies every simulated wait; 0 turns them off.
    pub time_scale: f64,
}

/// Per operation: name, wait range in milliseconds, whether it fails, custom metrics.
const CUSTOM_OPERATIONS: [(&str, f64, f64, bool, &[&str]); 4] = [
    (
        "default",
        0.0,
        100.0,
        false,
        &["operation.default", "success.total"],
    ),
    (
        "fast",
        0.0,
        50.0,
        false,
        &["operation.fast", "success.total"],
    ),
    (
        "slow",
        200.0,
        400.0,
        false,
        &["operation.slow", "success.total"],
    ),
    (
        "error",
        0.0,
        100.0,
        true,
        &["operation.error", "errors.total"],
    ),
];

const CUSTOM_OPERATION_NAMES: [&str; 4] = ["default", "fast", "slow", "error"];

impl Function for CustomMetrics {
    fn name(&self) -> &'static str {
        "custom-metrics"
    }

    fn description(&self) -> &'static str {
        "waits a random time chosen by {\"operation\": default|fast|slow|error}; error fails"
    }

    fn operations(&self) -> &'static [&'static str] {
        &CUSTOM_OPERATION_NAMES
    }

    fn invoke(&self, input: Map<String, Value>, pause: &dyn Fn(Duration)) -> Invocation {
        let started = Instant::now();
        let requested = input.get("operation").and_then(Value::as_str);
        let operation = requested
            .and_then(|op| CUSTOM_OPERATION_NAMES.iter().position(|name| *name == op))
            .unwrap_or(0);
        let (name, low_ms, high_ms, fails, custom_metrics) = CUSTOM_OPERATIONS[operation];

        let delay_ms = rand::random_range(low_ms..high_ms) * self.time_scale;
        if delay_ms > 0.0 {
            pause(Duration::from_secs_f64(delay_ms / 1000.0));
        }

        let result = if fails {
            Err(format!(
                "operation '{name}' failed on purpose (simulated failure)"
            ))
        } else {
            let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            Ok(json!({
                "function": self.name(),
                "operation": name,
                "duration_ms": round_ms(duration_ms),
                "simulated_delay_ms": round_ms(delay_ms),
            }))
        };
        Invocation {
            operation,
            result,
            custom_metrics,
        }
    }
}

/// Keeps answers short: a microsecond is finer than any wait the functions simulate.
fn round_ms(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// `echo`: answers with its input at once.
pub struct Echo;

impl Function for Echo {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn description(&self) -> &'static str {
        "answers with its input at once"
    }

    fn operations(&self) -> &'static [&'static str] {
        &["default"]
    }

    fn invoke(&self, input: Map<String, Value>, _pause: &dyn Fn(Duration)) -> Invocation {
        Invocation {
            operation: 0,
            result: Ok(Value::Object(input)),
            custom_metrics: &[],
        }
    }
}

/// The functions one gateway hosts, looked up by name on every invocation.
pub struct Registry {
    functions: Vec<Box<dyn Function>>,
}

impl Registry {
    /// The demo functions, with every simulated wait multiplied by `time_scale`.
    pub fn demo(time_scale: f64) -> Self {
        Registry {
            functions: vec![Box::new(CustomMetrics { time_scale }), Box::new(Echo)],
        }
    }

    /// The function named `name` and its index (the index keys its metrics).
    pub fn find(&self, name: &str) -> Option<(usize, &dyn Function)> {
        let index = self.functions.iter().position(|f| f.name() == name)?;
        Some((index, self.functions[index].as_ref()))
    }

    /// Every function, in index order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Function> {
        self.functions.iter().map(|f| f.as_ref())
    }

    /// Names joined for messages, e.g. `custom-metrics, echo`.
    pub fn names(&self) -> String {
        self.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn run(op: Value, scale: f64) -> (Invocation, Duration) {
        let waited = Cell::new(Duration::ZERO);
        let function = CustomMetrics { time_scale: scale };
        let mut input = Map::new();
        input.insert("operation".into(), op);
        let inv = function.invoke(input, &|d| waited.set(waited.get() + d));
        (inv, waited.get())
    }

    #[test]
    fn operations_wait_within_their_ranges() {
        for _ in 0..200 {
            // fast: below 50 ms
            assert!(run(json!("fast"), 1.0).1 < Duration::from_millis(50));
            // slow: 200 to 400 ms
            let slow = run(json!("slow"), 1.0).1;
            assert!(slow >= Duration::from_millis(200) && slow < Duration::from_millis(400));
            // a time scale of 2 doubles the range
            assert!(run(json!("slow"), 2.0).1 >= Duration::from_millis(400));
        }
    }

    #[test]
    fn time_scale_zero_never_pauses() {
        let (inv, waited) = run(json!("slow"), 0.0);
        assert_eq!(waited, Duration::ZERO);
        assert!(inv.result.is_ok());
    }

    #[test]
    fn unknown_or_odd_operation_runs_default() {
        for op in [json!("nope"), json!(3), Value::Null] {
            let (inv, _) = run(op, 0.0);
            assert_eq!(inv.operation, 0);
            assert_eq!(inv.result.unwrap()["operation"], "default");
        }
    }

    #[test]
    fn error_operation_fails_and_counts_errors() {
        let (inv, _) = run(json!("error"), 0.0);
        assert!(inv.result.unwrap_err().contains("simulated failure"));
        assert_eq!(inv.custom_metrics, &["operation.error", "errors.total"]);
    }

    #[test]
    fn echo_returns_its_input() {
        let input = json!({"a": [1, 2], "b": "x"});
        let inv = Echo.invoke(input.as_object().unwrap().clone(), &|_| panic!("no wait"));
        assert_eq!(inv.result.unwrap(), input);
    }

    #[test]
    fn registry_finds_by_name() {
        let registry = Registry::demo(1.0);
        assert_eq!(registry.find("echo").map(|(i, _)| i), Some(1));
        assert!(registry.find("Echo").is_none());
        assert_eq!(registry.names(), "custom-metrics, echo");
    }
}
