//! What the gateway counts about its functions. A load test checks its own tallies against
//! these, so every invocation that reached a function is counted exactly once, under one
//! short lock per function, and readers work on a copy taken under that lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::functions::Registry;

/// Upper bounds (seconds) of the duration histogram; a last bucket holds the rest.
pub const BUCKET_BOUNDS_SECONDS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A function that has not run for this long starts cold again, as on a real platform that
/// reclaims idle instances.
pub const IDLE_BEFORE_COLD: Duration = Duration::from_secs(5 * 60);

/// Why a request was answered without invoking anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    Unauthorized,
    Throttled,
    BadRequest,
    TooLarge,
    NotFound,
    MethodNotAllowed,
}

impl Rejection {
    /// Every kind, in the order of reports.
    pub const ALL: [Rejection; 6] = [
        Rejection::Unauthorized,
        Rejection::Throttled,
        Rejection::BadRequest,
        Rejection::TooLarge,
        Rejection::NotFound,
        Rejection::MethodNotAllowed,
    ];

    /// The key used in JSON and the `reason` label.
    pub fn key(self) -> &'static str {
        match self {
            Rejection::Unauthorized => "unauthorized",
            Rejection::Throttled => "throttled",
            Rejection::BadRequest => "bad_request",
            Rejection::TooLarge => "too_large",
            Rejection::NotFound => "not_found",
            Rejection::MethodNotAllowed => "method_not_allowed",
        }
    }
}

/// Counts and durations of one operation of one function.
#[derive(Clone, Debug, Default)]
pub struct OperationStats {
    pub successes: u64,
    pub errors: u64,
    pub duration_total: Duration,
    /// Non-cumulative counts per bucket of [`BUCKET_BOUNDS_SECONDS`], plus the overflow.
    pub buckets: [u64; BUCKET_BOUNDS_SECONDS.len() + 1],
}

impl OperationStats {
    /// Invocations of this operation, failed ones included.
    pub fn executions(&self) -> u64 {
        self.successes + self.errors
    }
}

/// A custom metric a function asked to count: how often, and the time spent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomMetric {
    pub count: u64,
    pub duration_total: Duration,
}

/// Everything known about one function at one moment.
#[derive(Clone, Debug, Default)]
pub struct FunctionStats {
    /// Per operation, in the order of the function's operations.
    pub operations: Vec<OperationStats>,
    pub cold_starts: u64,
    pub last_finished: Option<Instant>,
    pub last_execution: Option<SystemTime>,
    /// Sorted by name; a handful of entries, so a vector beats a map here.
    pub custom: Vec<(&'static str, CustomMetric)>,
}

impl FunctionStats {
    /// Invocations across operations, failed ones included.
    pub fn executions(&self) -> u64 {
        self.operations.iter().map(OperationStats::executions).sum()
    }

    /// Failed invocations across operations.
    pub fn errors(&self) -> u64 {
        self.operations.iter().map(|op| op.errors).sum()
    }

    /// Time spent inside the function across operations.
    pub fn duration_total(&self) -> Duration {
        self.operations.iter().map(|op| op.duration_total).sum()
    }
}

/// One finished invocation, as the metrics see it.
pub struct Sample {
    pub operation: usize,
    pub failed: bool,
    pub started: Instant,
    pub duration: Duration,
    pub finished_at: SystemTime,
    pub custom_metrics: &'static [&'static str],
}

/// A copy of one function's stats with the names needed to report them.
pub struct FunctionSnapshot {
    pub name: &'static str,
    pub operation_names: &'static [&'static str],
    pub stats: FunctionStats,
}

/// The gateway's counters: one lock per function, atomics for rejections.
pub struct Metrics {
    functions: Vec<(&'static str, &'static [&'static str], Mutex<FunctionStats>)>,
    rejections: [AtomicU64; Rejection::ALL.len()],
    started: Instant,
}

impl Metrics {
    /// Empty counters for every function of `registry`.
    pub fn new(registry: &Registry) -> Self {
        let functions = registry
            .iter()
            .map(|f| {
                let stats = FunctionStats {
                    operations: vec![OperationStats::default(); f.operations().len()],
                    ..FunctionStats::default()
                };
                (f.name(), f.operations(), Mutex::new(stats))
            })
            .collect();
        Metrics {
            functions,
            rejections: Default::default(),
            started: Instant::now(),
        }
    }

    /// Whether an invocation of function `index` starting at `at` would start cold, by the
    /// same rule as [`Metrics::record`]; it decides whether to wait out an init time first.
    pub fn is_cold(&self, index: usize, at: Instant) -> bool {
        match lock(&self.functions[index].2).last_finished {
            None => true,
            Some(last) => at.saturating_duration_since(last) >= IDLE_BEFORE_COLD,
        }
    }

    /// Counts one invocation of function `index`; returns whether it was a cold start.
    pub fn record(&self, index: usize, sample: &Sample) -> bool {
        let bucket = BUCKET_BOUNDS_SECONDS
            .iter()
            .position(|bound| sample.duration.as_secs_f64() <= *bound)
            .unwrap_or(BUCKET_BOUNDS_SECONDS.len());

        let mut stats = lock(&self.functions[index].2);
        let cold = match stats.last_finished {
            None => true,
            Some(last) => sample.started.saturating_duration_since(last) >= IDLE_BEFORE_COLD,
        };
        stats.cold_starts += u64::from(cold);
        // Concurrent invocations may finish out of order; idle time runs from the latest.
        let finished = sample.started + sample.duration;
        stats.last_finished = Some(stats.last_finished.map_or(finished, |t| t.max(finished)));
        stats.last_execution = Some(
            stats
                .last_execution
                .map_or(sample.finished_at, |t| t.max(sample.finished_at)),
        );

        let op = &mut stats.operations[sample.operation];
        if sample.failed {
            op.errors += 1;
        } else {
            op.successes += 1;
        }
        op.duration_total += sample.duration;
        op.buckets[bucket] += 1;

        for name in sample.custom_metrics {
            let at = match stats.custom.binary_search_by(|(n, _)| n.cmp(name)) {
                Ok(at) => at,
                Err(at) => {
                    stats.custom.insert(at, (name, CustomMetric::default()));
                    at
                }
            };
            stats.custom[at].1.count += 1;
            stats.custom[at].1.duration_total += sample.duration;
        }
        cold
    }

    /// Counts a request answered without an invocation.
    pub fn reject(&self, why: Rejection) {
        self.rejections[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Rejections so far, by kind.
    pub fn rejections(&self) -> Vec<(Rejection, u64)> {
        Rejection::ALL
            .iter()
            .map(|r| (*r, self.rejections[*r as usize].load(Ordering::Relaxed)))
            .collect()
    }

    /// A copy of every function's stats, or only of `name`'s.
    pub fn snapshot(&self, name: Option<&str>) -> Vec<FunctionSnapshot> {
        self.functions
            .iter()
            .filter(|(n, _, _)| name.is_none_or(|wanted| wanted == *n))
            .map(|(n, ops, stats)| FunctionSnapshot {
                name: n,
                operation_names: ops,
                stats: lock(stats).clone(),
            })
            .collect()
    }

    /// Time since the gateway started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// A handler that panicked mid-update leaves counts that are still whole numbers; serving
/// them beats taking the whole gateway down.
fn lock(stats: &Mutex<FunctionStats>) -> std::sync::MutexGuard<'_, FunctionStats> {
    stats
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(op: usize, failed: bool, started: Instant, ms: u64) -> Sample {
        Sample {
            operation: op,
            failed,
            started,
            duration: Duration::from_millis(ms),
            finished_at: SystemTime::now(),
            custom_metrics: if failed {
                &["errors.total"]
            } else {
                &["success.total"]
            },
        }
    }

    #[test]
    fn counts_successes_errors_and_custom_metrics() {
        let metrics = Metrics::new(&Registry::demo(0.0));
        let now = Instant::now();
        metrics.record(0, &sample(1, false, now, 3));
        metrics.record(0, &sample(3, true, now, 30));
        let snap = &metrics.snapshot(Some("custom-metrics"))[0];
        assert_eq!(snap.stats.executions(), 2);
        assert_eq!(snap.stats.errors(), 1);
        assert_eq!(snap.stats.duration_total(), Duration::from_millis(33));
        // 3 ms lands in the 5 ms bucket, 30 ms in the 50 ms one
        assert_eq!(snap.stats.operations[1].buckets[1], 1);
        assert_eq!(snap.stats.operations[3].buckets[4], 1);
        let names: Vec<_> = snap.stats.custom.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["errors.total", "success.total"]);
    }

    #[test]
    fn cold_start_on_first_invocation_and_after_idle_time() {
        let metrics = Metrics::new(&Registry::demo(0.0));
        let t0 = Instant::now();
        // first invocation: cold
        assert!(metrics.record(1, &sample(0, false, t0, 1)));
        // right after: warm
        assert!(!metrics.record(1, &sample(0, false, t0 + Duration::from_secs(1), 1)));
        // five idle minutes after the last one finished: cold again
        let later = t0 + Duration::from_secs(1) + Duration::from_millis(1) + IDLE_BEFORE_COLD;
        assert!(metrics.record(1, &sample(0, false, later, 1)));
        assert_eq!(metrics.snapshot(Some("echo"))[0].stats.cold_starts, 2);
    }

    #[test]
    fn slow_durations_fall_in_the_overflow_bucket() {
        let metrics = Metrics::new(&Registry::demo(0.0));
        metrics.record(1, &sample(0, false, Instant::now(), 11_000));
        assert_eq!(
            metrics.snapshot(Some("echo"))[0].stats.operations[0].buckets[14],
            1
        );
    }
}
