//! `--abort-on-fail`: the collector asks, once a second, whether a threshold has already
//! failed on what was seen so far, and if so the engine stops the run (stop reason
//! `threshold`) and still writes the full report.
//!
//! Exactly when a run aborts:
//! - `count<N` and `count<=N` abort as soon as the completed count is past the bound, since
//!   it can only grow.
//! - latency statistics, `error_rate` and `throttled_rate` abort when they fail on every
//!   invocation completed since the start, once at least [`MIN_COMPLETED`] invocations in the
//!   threshold's scope have completed, so that the first few answers cannot end a run.
//! - `rps` and lower bounds on `count` are judged at the end only: a run that is still going
//!   can always reach them.

use super::eval::Observed;
use super::{Metric, Threshold};
use crate::outcome::Kind;
use crate::stats::Stats;

/// Completed invocations in a threshold's scope before its rates and latencies may abort.
pub const MIN_COMPLETED: u64 = 100;

/// The thresholds a run watches, with each scope resolved to an operation index.
pub struct Watch {
    checks: Vec<(Threshold, Option<usize>)>,
}

/// Why a run was aborted.
#[derive(Clone, Debug, PartialEq)]
pub struct Abort {
    /// The expression that failed.
    pub threshold: String,
    /// What it measured then.
    pub measured: f64,
    /// Completed invocations (all operations) at that moment.
    pub completed: u64,
}

impl Watch {
    /// Watches the thresholds that can fail before the end; `operations` are the run's
    /// operation names, in stats order.
    pub fn new(thresholds: &[Threshold], operations: &[String]) -> Watch {
        let checks = thresholds
            .iter()
            .filter(|t| abortable(t))
            .map(|t| {
                let op = t
                    .operation
                    .as_ref()
                    .and_then(|name| operations.iter().position(|o| o == name));
                (t.clone(), op)
            })
            .collect();
        Watch { checks }
    }

    /// True when nothing is watched.
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }

    /// The first threshold that has failed on the stats so far, if any.
    pub fn check(&self, stats: &Stats, elapsed_s: f64) -> Option<Abort> {
        for (th, op) in &self.checks {
            let (counts, latency) = match op {
                Some(i) => (&stats.operations[*i].counts, &stats.operations[*i].latency),
                None => (&stats.counts, &stats.latency),
            };
            let observed = Observed {
                completed: counts.completed(),
                errors: counts.errors(),
                throttled: counts.get(Kind::Throttled),
                latency,
                elapsed_s,
            };
            if th.metric != Metric::Count && observed.completed < MIN_COMPLETED {
                continue;
            }
            let Some(measured) = th.measure(&observed) else {
                continue;
            };
            if !th.passes(Some(measured)) {
                return Some(Abort {
                    threshold: th.text.clone(),
                    measured,
                    completed: stats.counts.completed(),
                });
            }
        }
        None
    }
}

fn abortable(t: &Threshold) -> bool {
    match t.metric {
        Metric::Rps => false,
        Metric::Count => t.cmp.is_upper(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;

    fn outcome(kind: Kind, latency_us: u64) -> Outcome {
        Outcome {
            worker: 0,
            operation: 0,
            kind,
            status: if kind == Kind::Success { 200 } else { 500 },
            latency_us,
            end_us: 0,
            bytes: 0,
            corrected_us: 0,
            late_us: 0,
            detail: None,
            function: 0,
            init_us: None,
            connected: false,
            warmup: false,
            resent: false,
            truncated: false,
        }
    }

    fn watch(exprs: &[&str]) -> Watch {
        let th: Vec<Threshold> = exprs.iter().map(|e| Threshold::parse(e).unwrap()).collect();
        Watch::new(&th, &["a".into()])
    }

    #[test]
    fn rates_wait_for_the_minimum_count() {
        let w = watch(&["error_rate<10%"]);
        let mut s = Stats::new(&["a".into()], 1, false);
        for _ in 0..MIN_COMPLETED - 1 {
            s.add(&outcome(Kind::HttpError, 10));
        }
        // 99 errors out of 99: not judged yet
        assert_eq!(w.check(&s, 1.0), None);
        s.add(&outcome(Kind::HttpError, 10));
        let abort = w.check(&s, 1.0).expect("aborts at the minimum count");
        assert_eq!((abort.measured, abort.completed), (1.0, MIN_COMPLETED));
    }

    #[test]
    fn upper_count_bounds_abort_at_once_and_rps_never() {
        let mut s = Stats::new(&["a".into()], 1, false);
        for _ in 0..3 {
            s.add(&outcome(Kind::Success, 10));
        }
        assert!(watch(&["count<=3"]).check(&s, 1.0).is_none());
        assert!(watch(&["count<3"]).check(&s, 1.0).is_some());
        // a lower bound can still be reached; rps is judged at the end
        assert!(watch(&["count>1000", "rps>1000"]).is_empty());
    }

    #[test]
    fn passing_thresholds_do_not_abort() {
        let w = watch(&["p99<1ms", "error_rate<1%", "p99{op=a}<1ms"]);
        let mut s = Stats::new(&["a".into()], 1, false);
        for _ in 0..500 {
            s.add(&outcome(Kind::Success, 200));
        }
        assert_eq!(w.check(&s, 1.0), None);
        s.add(&outcome(Kind::Success, 50_000));
        s.add(&outcome(Kind::Success, 50_000));
        s.add(&outcome(Kind::Success, 50_000));
        s.add(&outcome(Kind::Success, 50_000));
        s.add(&outcome(Kind::Success, 50_000));
        s.add(&outcome(Kind::Success, 50_000));
        assert_eq!(
            w.check(&s, 1.0).map(|a| a.threshold),
            Some("p99<1ms".into())
        );
    }
}
