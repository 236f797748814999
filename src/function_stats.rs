//! Tallies that split a run by function and keep the warm-up apart: per-function counts,
//! latency and operations, cold starts with their init durations, and connections opened.
//! They live beside the run-wide [`crate::stats::Stats`] so that a run against one function
//! pays for none of the per-function histograms.

use hdrhistogram::Histogram;

use crate::outcome::{Kind, Outcome};
use crate::stats::{new_histogram, KindCounts, OperationStats};

/// Per-function tallies; with one function the counts, latency and operations are copied
/// from the run-wide stats when the run finishes instead of being tallied twice.
#[derive(Clone, Debug)]
pub struct FunctionStats {
    /// Function name.
    pub name: String,
    /// Counts per kind.
    pub counts: KindCounts,
    /// Latency of completed invocations.
    pub latency: Histogram<u64>,
    /// Per operation, indexed like the workload's operations.
    pub operations: Vec<OperationStats>,
    /// Invocations whose log tail reported an init duration.
    pub cold_starts: u64,
    /// Init durations of those cold starts, in microseconds.
    pub init: Histogram<u64>,
}

impl FunctionStats {
    /// Empty tallies for one function.
    pub fn new(name: &str, operations: &[String]) -> FunctionStats {
        FunctionStats {
            name: name.to_string(),
            counts: KindCounts::default(),
            latency: new_histogram(),
            operations: operations
                .iter()
                .map(|name| OperationStats {
                    name: name.clone(),
                    counts: KindCounts::default(),
                    latency: new_histogram(),
                })
                .collect(),
            cold_starts: 0,
            init: new_histogram(),
        }
    }

    /// Adds one completed outcome of this function (only when the run has several).
    pub fn add(&mut self, o: &Outcome, latency_us: u64) {
        self.counts.add(o.kind);
        let op = &mut self.operations[o.operation as usize];
        op.counts.add(o.kind);
        let _ = op.latency.record(latency_us);
        let _ = self.latency.record(latency_us);
    }

    /// Counts an invocation cut by the stop (only when the run has several functions).
    pub fn add_cancelled(&mut self, operation: u16) {
        self.counts.add(Kind::Cancelled);
        self.operations[operation as usize]
            .counts
            .add(Kind::Cancelled);
    }

    /// Counts a cold start reported by the platform.
    pub fn add_cold_start(&mut self, init_us: u32) {
        self.cold_starts += 1;
        let _ = self.init.record(u64::from(init_us).max(1));
    }
}

/// What the warm-up did; none of it is in the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Warmup {
    /// Counts per kind of the warm-up's invocations.
    pub counts: KindCounts,
    /// Cold starts reported during the warm-up.
    pub cold_starts: u64,
    /// Connections opened during the warm-up.
    pub connections: u64,
}

impl Warmup {
    /// Adds one warm-up outcome.
    pub fn add(&mut self, o: &Outcome) {
        self.counts.add(o.kind);
        self.cold_starts += u64::from(o.init_us.is_some());
        self.connections += u64::from(o.connected);
    }
}

/// Connections opened after the warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connections {
    /// New connections, the first of each worker included.
    pub opened: u64,
    /// New connections of a worker that had opened one before: the server closed the last
    /// one, `--max-requests-per-connection` retired it, or keep-alive is off.
    pub reconnects: u64,
}
