//! Tallies of a run: counts per outcome kind, per status, per error, per operation, per worker
//! and per second, and HdrHistograms of latency. Stats have an add step (one outcome) and a
//! finish step (close the last seconds), and nothing else touches the numbers.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::function_stats::{Connections, FunctionStats, Warmup};
use crate::outcome::{Kind, Outcome};

/// Counts per outcome kind, indexed by [`Kind::index`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindCounts(pub [u64; Kind::COUNT]);

impl KindCounts {
    /// Adds one of a kind.
    pub fn add(&mut self, kind: Kind) {
        self.0[kind.index()] += 1;
    }

    /// The count of a kind.
    pub fn get(&self, kind: Kind) -> u64 {
        self.0[kind.index()]
    }

    /// Everything started: every kind, cancelled included.
    pub fn started(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Everything that ended on its own (all but cancelled).
    pub fn completed(&self) -> u64 {
        self.started() - self.get(Kind::Cancelled)
    }

    /// Every kind but success and cancelled.
    pub fn errors(&self) -> u64 {
        self.completed() - self.get(Kind::Success)
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &KindCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }
}

/// A latency histogram in microseconds with 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid precision")
}

/// Per-operation tallies.
#[derive(Clone, Debug)]
pub struct OperationStats {
    /// Operation name.
    pub name: String,
    /// Counts per kind.
    pub counts: KindCounts,
    /// Latency of completed invocations.
    pub latency: Histogram<u64>,
}

/// Per-worker tallies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Counts per kind.
    pub counts: KindCounts,
    /// Connections opened, warm-up included.
    pub connections: u64,
}

/// One second of the timeline (by the time invocations ended).
#[derive(Clone, Debug, PartialEq)]
pub struct Second {
    /// Seconds since the start.
    pub second: u64,
    /// Counts per kind.
    pub counts: KindCounts,
    /// Latency percentiles of this second, in microseconds: p50, p90, p95, p99, max.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 95th percentile.
    pub p95_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// Slowest.
    pub max_us: u64,
    /// Per function when the run has several (each with no functions of its own).
    pub functions: Vec<Second>,
    /// This second's latencies, encoded as the report writes them (empty when none), so
    /// that merged reports get exact per-second percentiles. Kept encoded because an open
    /// histogram per second would cost far more memory over a long run.
    pub histogram: String,
}

/// A second's histogram as the timeline keeps it: two significant digits (1% resolution)
/// rather than three, which makes it about a tenth of the size, so a long run's timeline
/// stays small. The second's own percentiles are read from the full histogram first.
fn per_second_copy(h: &Histogram<u64>) -> Histogram<u64> {
    let mut copy = Histogram::new(2).expect("2 significant digits is a valid precision");
    copy.add(h)
        .expect("an auto-resizing histogram takes any value");
    copy
}

impl Second {
    fn closed(second: u64, counts: KindCounts, h: &Histogram<u64>) -> Second {
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        Second {
            second,
            counts,
            p50_us: q(0.5),
            p90_us: q(0.9),
            p95_us: q(0.95),
            p99_us: q(0.99),
            max_us: h.max(),
            functions: vec![],
            histogram: if h.is_empty() {
                String::new()
            } else {
                crate::report::json::encode_histogram(&per_second_copy(h))
            },
        }
    }
}

/// Everything a report needs.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Counts per kind, all invocations.
    pub counts: KindCounts,
    /// Answers per HTTP status.
    pub status_codes: BTreeMap<u16, u64>,
    /// Errors by kind and message.
    pub errors: BTreeMap<(Kind, String), u64>,
    /// Latency of every completed invocation.
    pub latency: Histogram<u64>,
    /// Per operation, indexed like the workload's operations.
    pub operations: Vec<OperationStats>,
    /// Per worker, indexed by worker id.
    pub workers: Vec<WorkerStats>,
    /// Closed seconds, in order.
    pub timeline: Vec<Second>,
    /// Response body bytes read.
    pub bytes: u64,
    /// Invocations sent again on a new connection because the server had closed the reused
    /// one without reading them.
    pub resent: u64,
    /// Answers whose body was cut at `--max-body`.
    pub truncated: u64,
    /// Open model only: latency from the due time (corrected for coordinated omission).
    pub corrected: Option<Histogram<u64>>,
    /// Open model only: how late invocations were sent after their due time.
    pub lateness: Option<Histogram<u64>>,
    /// Open model only: invocations sent at least [`LATE_US`] after their due time.
    pub late: u64,
    /// Per function, indexed like the run's functions.
    pub functions: Vec<FunctionStats>,
    /// The warm-up's invocations, kept out of everything else.
    pub warmup: Warmup,
    /// Connections opened after the warm-up.
    pub connections: Connections,
    open: BTreeMap<u64, OpenSecond>,
}

/// A second still taking outcomes: run-wide tallies, and per function when there are several.
type OpenSecond = (
    KindCounts,
    Histogram<u64>,
    Vec<(KindCounts, Histogram<u64>)>,
);

/// Seconds stay open this long after a later second has been seen, because invocations that
/// ended at nearly the same time may reach the collector slightly out of order.
const OPEN_SECONDS: u64 = 2;

/// An invocation sent this much after its due time counts as started late; below it is the
/// ordinary jitter of waking a sleeping thread.
pub const LATE_US: u64 = 1000;

/// Distinct error messages kept; later new messages are folded into one "other" line so a
/// target that puts a unique id in every error cannot grow memory without bound.
const MAX_ERROR_MESSAGES: usize = 100;

impl Stats {
    /// Empty stats for a run with these operations and this many workers.
    pub fn new(operations: &[String], workers: usize, open_model: bool) -> Stats {
        Stats {
            counts: KindCounts::default(),
            status_codes: BTreeMap::new(),
            errors: BTreeMap::new(),
            latency: new_histogram(),
            operations: operations
                .iter()
                .map(|name| OperationStats {
                    name: name.clone(),
                    counts: KindCounts::default(),
                    latency: new_histogram(),
                })
                .collect(),
            workers: vec![WorkerStats::default(); workers],
            timeline: vec![],
            bytes: 0,
            resent: 0,
            truncated: 0,
            corrected: open_model.then(new_histogram),
            lateness: open_model.then(new_histogram),
            late: 0,
            functions: vec![FunctionStats::new("function", operations)],
            warmup: Warmup::default(),
            connections: Connections::default(),
            open: BTreeMap::new(),
        }
    }

    /// Names the run's functions (one by default).
    pub fn with_functions(mut self, names: &[String]) -> Stats {
        let ops: Vec<String> = self.operations.iter().map(|o| o.name.clone()).collect();
        self.functions = names.iter().map(|n| FunctionStats::new(n, &ops)).collect();
        self
    }

    fn several_functions(&self) -> bool {
        self.functions.len() > 1
    }

    /// Adds one outcome.
    pub fn add(&mut self, o: &Outcome) {
        let worker = &mut self.workers[o.worker as usize];
        if o.connected {
            if !o.warmup {
                self.connections.opened += 1;
                self.connections.reconnects += u64::from(worker.connections > 0);
            }
            worker.connections += 1;
        }
        if o.warmup {
            self.warmup.add(o);
            return;
        }
        if o.kind == Kind::Cancelled {
            self.add_cancelled(o.worker, o.operation, o.function);
            return;
        }
        self.counts.add(o.kind);
        worker.counts.add(o.kind);
        if let Some(init) = o.init_us {
            self.functions[o.function as usize].add_cold_start(init);
        }
        let op = &mut self.operations[o.operation as usize];
        op.counts.add(o.kind);
        if o.status != 0 {
            *self.status_codes.entry(o.status).or_default() += 1;
        }
        self.bytes += o.bytes;
        self.resent += u64::from(o.resent);
        self.truncated += u64::from(o.truncated);
        let us = o.latency_us.max(1);
        // Saturation only happens past a histogram's auto-resize limit (hours of latency).
        let _ = op.latency.record(us);
        let _ = self.latency.record(us);
        let several = self.several_functions();
        if several {
            self.functions[o.function as usize].add(o, us);
        }
        if o.kind != Kind::Success {
            self.add_error(o);
        }
        if let (Some(c), Some(l)) = (self.corrected.as_mut(), self.lateness.as_mut()) {
            let _ = c.record(o.corrected_us.max(1));
            let _ = l.record(o.late_us);
            self.late += u64::from(o.late_us >= LATE_US);
        }

        let second = o.end_us / 1_000_000;
        let functions = self.functions.len();
        let slot = self.open.entry(second).or_insert_with(|| {
            let per_function = match several {
                true => (0..functions)
                    .map(|_| (KindCounts::default(), new_histogram()))
                    .collect(),
                false => vec![],
            };
            (KindCounts::default(), new_histogram(), per_function)
        });
        slot.0.add(o.kind);
        let _ = slot.1.record(us);
        if let Some((c, h)) = slot.2.get_mut(o.function as usize) {
            c.add(o.kind);
            let _ = h.record(us);
        }
        let newest = *self.open.keys().next_back().expect("just inserted");
        while let Some((&first, _)) = self.open.first_key_value() {
            if first + OPEN_SECONDS >= newest {
                break;
            }
            self.close_first();
        }
    }

    /// Counts an invocation cut by the stop.
    pub fn add_cancelled(&mut self, worker: u32, operation: u16, function: u16) {
        if self.several_functions() {
            self.functions[function as usize].add_cancelled(operation);
        }
        self.counts.add(Kind::Cancelled);
        self.workers[worker as usize].counts.add(Kind::Cancelled);
        self.operations[operation as usize]
            .counts
            .add(Kind::Cancelled);
    }

    fn add_error(&mut self, o: &Outcome) {
        let message = match (&o.detail, o.kind) {
            (Some(d), _) => d.to_string(),
            (None, Kind::Throttled | Kind::HttpError) => format!("HTTP {}", o.status),
            (None, k) => k.label().to_string(),
        };
        let key = (o.kind, message);
        if self.errors.len() >= MAX_ERROR_MESSAGES && !self.errors.contains_key(&key) {
            *self
                .errors
                .entry((o.kind, "other messages".into()))
                .or_default() += 1;
        } else {
            *self.errors.entry(key).or_default() += 1;
        }
    }

    fn close_first(&mut self) {
        let Some((second, (counts, h, per_function))) = self.open.pop_first() else {
            return;
        };
        // Fill empty seconds so the timeline has one entry per second.
        let next = self.timeline.last().map_or(0, |s| s.second + 1);
        let empty_functions = match self.several_functions() {
            true => self.functions.len(),
            false => 0,
        };
        for gap in next..second {
            let mut empty = Second::closed(gap, KindCounts::default(), &new_histogram());
            empty.functions = (0..empty_functions)
                .map(|_| Second::closed(gap, KindCounts::default(), &new_histogram()))
                .collect();
            self.timeline.push(empty);
        }
        let mut closed = Second::closed(second, counts, &h);
        closed.functions = per_function
            .iter()
            .map(|(c, h)| Second::closed(second, *c, h))
            .collect();
        self.timeline.push(closed);
    }

    /// Closes every open second; call once, after the last outcome.
    pub fn finish(&mut self) {
        while !self.open.is_empty() {
            self.close_first();
        }
        if let [only] = self.functions.as_mut_slice() {
            only.counts = self.counts;
            only.latency = self.latency.clone();
            only.operations = self.operations.clone();
        }
    }

    /// The latest open second's counts and p99, for progress lines.
    pub fn current_second(&self) -> Option<(u64, &KindCounts, u64)> {
        let (s, (c, h, _)) = self.open.last_key_value()?;
        Some((*s, c, h.value_at_quantile(0.99)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(worker: u32, operation: u16, kind: Kind, status: u16, end_ms: u64) -> Outcome {
        Outcome {
            worker,
            operation,
            kind,
            status,
            latency_us: 1000 * (1 + end_ms % 7),
            end_us: end_ms * 1000,
            bytes: 10,
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

    #[test]
    fn sums_agree_across_every_view() {
        let mut s = Stats::new(&["a".into(), "b".into()], 3, false);
        let kinds = [
            Kind::Success,
            Kind::HttpError,
            Kind::Throttled,
            Kind::Timeout,
        ];
        for i in 0..1000u64 {
            let k = kinds[(i % 4) as usize];
            let status = match k {
                Kind::Success => 200,
                Kind::HttpError => 500,
                Kind::Throttled => 429,
                _ => 0,
            };
            s.add(&outcome((i % 3) as u32, (i % 2) as u16, k, status, i * 7));
        }
        s.add_cancelled(1, 0, 0);
        s.finish();
        assert_eq!(s.counts.started(), 1001);
        assert_eq!(s.counts.completed(), 1000);
        assert_eq!(s.counts.errors(), 750);
        let by_worker: u64 = s.workers.iter().map(|w| w.counts.started()).sum();
        let by_op: u64 = s.operations.iter().map(|o| o.counts.started()).sum();
        let by_second: u64 = s.timeline.iter().map(|t| t.counts.started()).sum();
        assert_eq!((by_worker, by_op, by_second + 1), (1001, 1001, 1001));
        assert_eq!(s.status_codes[&500], 250);
        assert_eq!(s.errors[&(Kind::HttpError, "HTTP 500".into())], 250);
        assert_eq!(s.errors[&(Kind::Timeout, "timeout".into())], 250);
        // 1000 outcomes end at 0..6993 ms: seconds 0 through 6, none missing.
        let seconds: Vec<u64> = s.timeline.iter().map(|t| t.second).collect();
        assert_eq!(seconds, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn empty_seconds_are_filled() {
        let mut s = Stats::new(&["a".into()], 1, false);
        s.add(&outcome(0, 0, Kind::Success, 200, 500));
        s.add(&outcome(0, 0, Kind::Success, 200, 4500));
        s.finish();
        let counts: Vec<u64> = s.timeline.iter().map(|t| t.counts.started()).collect();
        assert_eq!(counts, [1, 0, 0, 0, 1]);
    }

    #[test]
    fn error_messages_are_bounded() {
        let mut s = Stats::new(&["a".into()], 1, false);
        for i in 0..500 {
            let mut o = outcome(0, 0, Kind::IoError, 0, 1);
            o.detail = Some(format!("reset {i}").into());
            s.add(&o);
        }
        assert_eq!(s.errors.len(), MAX_ERROR_MESSAGES + 1);
        assert_eq!(s.errors.values().sum::<u64>(), 500);
    }
}
