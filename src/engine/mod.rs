//! The engine: N OS-thread workers in a scope, released together by a gate, each invoking in
//! a loop and sending one event per outcome to a single collector thread. Every stop source
//! (deadline, request budget, Ctrl-C, SIGTERM) sets one atomic flag; in-flight invocations
//! then get a grace period, after which the rest are counted as cancelled.

mod conn_watch;
mod connections;
mod gate;
mod invoke;
mod limits;
pub mod pacer;
pub mod resolve;
mod rotation;
pub mod signals;
mod slots;
pub mod transport;
mod worker;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crate::collector::{self, Live, Watchers};
use crate::config::{Load, RunConfig};
use crate::error::{Error, Result};
use crate::live::Board;
use crate::outcome::Event;
use crate::report::progress::Progress;
use crate::stats::Stats;
use crate::threshold::live::{Abort, Watch};
use gate::Gate;
pub use limits::check_address_space;
use limits::{spawn_error, WORKER_STACK};
use slots::Slot;

/// Why the run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The duration ran out.
    Deadline,
    /// The request budget was spent.
    Requests,
    /// Ctrl-C or SIGTERM.
    Signal,
    /// `--abort-on-fail`: a threshold failed during the run.
    Threshold,
}

impl StopReason {
    /// The key used in reports.
    pub fn key(self) -> &'static str {
        match self {
            StopReason::Deadline => "deadline",
            StopReason::Requests => "requests",
            StopReason::Signal => "signal",
            StopReason::Threshold => "threshold",
        }
    }
}

/// Dropped during an unwind, it aborts the gate (a no-op once it opened), stops the workers
/// and ends the collector.
struct ReleaseOnUnwind<'a> {
    gate: &'a Gate,
    stop: &'a AtomicBool,
    tx: &'a crossbeam_channel::Sender<Event>,
}

impl Drop for ReleaseOnUnwind<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.gate.abort();
            self.stop.store(true, Ordering::SeqCst);
            let _ = self.tx.send(Event::Finish);
        }
    }
}

/// What a finished run hands to the report.
pub struct RunResult {
    /// All tallies.
    pub stats: Stats,
    /// Wall-clock time of the release of the workers.
    pub started_at: SystemTime,
    /// From the end of the warm-up to the last outcome (or the cut).
    pub elapsed: Duration,
    /// Why it stopped.
    pub stop: StopReason,
    /// One sample per second.
    pub samples: Vec<Sample>,
    /// From the end of the warm-up to the stop (before the grace period).
    pub stopped_after: Duration,
    /// How long the warm-up ran (zero without one).
    pub warmup: Duration,
    /// The threshold that stopped the run, with `--abort-on-fail`.
    pub abort: Option<Abort>,
}

/// State shared by the workers and the engine.
pub(crate) struct Shared<'a> {
    cfg: &'a RunConfig,
    gate: Gate,
    stop: AtomicBool,
    tickets: AtomicU64,
    finished: AtomicUsize,
    slots: Vec<Slot>,
    start: std::sync::OnceLock<Instant>,
    /// The end of the warm-up: outcomes sent before it stay out of the statistics.
    measure_start: std::sync::OnceLock<Instant>,
    /// Open model: tickets due during the warm-up, which the request budget does not count.
    warm_tickets: u64,
    hard_end: std::sync::OnceLock<Option<Instant>>,
    /// Workers that are not parked by a ramp (closed model).
    active: AtomicUsize,
    /// The target's addresses, resolved once.
    resolver: resolve::PinnedResolver,
    /// Set by the collector when a watched threshold failed.
    abort: std::sync::OnceLock<Abort>,
}

/// What the engine sampled at each second of the run, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the start.
    pub second: u64,
    /// Active workers (closed model) or workers with an invocation in flight (open model).
    pub active_workers: usize,
    /// Target rate at that second (open model).
    pub target_rate: Option<f64>,
}

/// Runs the load and calls `report` with the result before the worker scope is left. If some
/// workers are still blocked in the OS past the grace period, the process exits with
/// `report`'s code right after it, rather than waiting for them. `board`, the live dashboard,
/// gets the stats once a second and the active workers and target rate four times a second.
pub fn run(
    cfg: &RunConfig,
    board: Option<&Board>,
    report: impl FnOnce(RunResult) -> Result<i32>,
) -> Result<i32> {
    let shared = Shared {
        cfg,
        gate: Gate::default(),
        stop: AtomicBool::new(false),
        tickets: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        slots: (0..cfg.concurrency).map(|_| Slot::default()).collect(),
        start: Default::default(),
        measure_start: Default::default(),
        warm_tickets: warm_tickets(cfg),
        hard_end: Default::default(),
        active: AtomicUsize::new(0),
        resolver: resolve::PinnedResolver::new(&cfg.target),
        abort: std::sync::OnceLock::new(),
    };
    let (tx, rx) = crossbeam_channel::unbounded::<Event>();
    let watch = Watch::new(&cfg.thresholds, &cfg.workload.operations);
    let watch = (cfg.abort_on_fail && !watch.is_empty()).then_some(watch);
    let watchers = Watchers {
        progress: Progress::new(cfg),
        board,
        start: &shared.start,
        thresholds: watch.as_ref().map(|w| Live {
            watch: w,
            abort: &shared.abort,
        }),
    };
    let open_model = matches!(cfg.load, Load::Open(_));
    let names: Vec<String> = cfg.functions.iter().map(|f| f.name.clone()).collect();
    let stats =
        Stats::new(&cfg.workload.operations, cfg.concurrency, open_model).with_functions(&names);
    let warmup = cfg.warmup.unwrap_or_default();

    thread::scope(|scope| {
        // Should this thread unwind before the gate opens, the workers waiting at it and the
        // collector waiting for `Finish` are let go, or the scope would never end.
        let _release = ReleaseOnUnwind {
            gate: &shared.gate,
            stop: &shared.stop,
            tx: &tx,
        };
        let collector = thread::Builder::new()
            .name("collector".into())
            .spawn_scoped(scope, move || collector::collect(rx, stats, watchers))
            .map_err(|e| Error::internal(format!("cannot start the collector thread: {e}")))?;

        for id in 0..cfg.concurrency {
            let worker_tx = tx.clone();
            let shared = &shared;
            let spawned = thread::Builder::new()
                .name(format!("worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || worker::run(shared, id as u32, worker_tx));
            if let Err(e) = spawned {
                shared.gate.abort();
                let _ = tx.send(Event::Finish);
                return Err(spawn_error(id, cfg.concurrency, &e));
            }
        }

        let start = Instant::now();
        let started_at = SystemTime::now();
        let measure_start = start + warmup;
        let hard_end = cfg.duration.map(|d| measure_start + d + cfg.grace);
        shared.start.set(start).expect("set once");
        shared.measure_start.set(measure_start).expect("set once");
        shared.hard_end.set(hard_end).expect("set once");
        shared.gate.open();

        let mut samples = vec![];
        let stop = wait_for_stop(&shared, measure_start, &mut samples, board);
        shared.stop.store(true, Ordering::SeqCst);
        let stopped_after = measure_start.elapsed();
        wait_for_workers(&shared, Instant::now() + cfg.grace);
        let elapsed = measure_start.elapsed();
        for (id, slot) in shared.slots.iter().enumerate() {
            if let Some((operation, function)) = slot.cut() {
                let _ = tx.send(Event::Cancelled {
                    worker: id as u32,
                    operation,
                    function,
                });
            }
        }
        let _ = tx.send(Event::Finish);
        let stats = collector
            .join()
            .map_err(|_| Error::internal("the collector thread panicked"))?;

        let code = report(RunResult {
            stats,
            started_at,
            elapsed,
            stop,
            samples,
            stopped_after,
            warmup,
            abort: shared.abort.get().cloned(),
        })?;
        if shared.finished.load(Ordering::SeqCst) < cfg.concurrency {
            // Workers blocked in a read past the grace period cannot be interrupted; their
            // invocations are already counted as cancelled and the report is out.
            std::process::exit(code);
        }
        Ok(code)
    })
}

/// The dashboard's gauges are refreshed this often; counting busy workers visits every slot.
const GAUGES_EVERY: Duration = Duration::from_millis(250);

/// Waits for a stop source; `start` is the end of the warm-up, where the timeline begins.
fn wait_for_stop(
    shared: &Shared,
    start: Instant,
    samples: &mut Vec<Sample>,
    board: Option<&Board>,
) -> StopReason {
    let deadline = shared.cfg.duration.map(|d| start + d);
    let warmup = shared.cfg.warmup.unwrap_or_default();
    let mut gauges_due = Instant::now();
    loop {
        if let Some(board) = board.filter(|_| Instant::now() >= gauges_due) {
            let since_start = shared.start.get().map_or(Duration::ZERO, |s| s.elapsed());
            let now = sample(shared, 0, since_start);
            board.set_gauges(now.active_workers, now.target_rate);
            gauges_due += GAUGES_EVERY;
        }
        // Sample in the middle of each second, away from ramp steps at whole seconds.
        let next = samples.len() as u64;
        let at = Duration::from_millis(next * 1000 + 500);
        if Instant::now().saturating_duration_since(start) >= at {
            samples.push(sample(shared, next, at + warmup));
        }
        if signals::stop_requested() {
            return StopReason::Signal;
        }
        if shared.abort.get().is_some() {
            return StopReason::Threshold;
        }
        // Workers also finish when an open schedule has nothing more due before the deadline;
        // the run still lasts until the deadline then, so rates are over the whole duration.
        let all_done = shared.finished.load(Ordering::SeqCst) == shared.cfg.concurrency;
        if all_done && (shared.cfg.requests.is_some() || deadline.is_none()) {
            return StopReason::Requests;
        }
        let now = Instant::now();
        match deadline {
            Some(d) if now >= d => return StopReason::Deadline,
            Some(d) => thread::sleep((d - now).min(Duration::from_millis(5))),
            None => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn sample(shared: &Shared, second: u64, at: Duration) -> Sample {
    match &shared.cfg.load {
        Load::Open(schedule) => Sample {
            second,
            active_workers: shared.slots.iter().filter(|s| s.is_busy()).count(),
            target_rate: Some(schedule.rate_at(at)),
        },
        Load::Closed { .. } => Sample {
            second,
            active_workers: shared.active.load(Ordering::SeqCst),
            target_rate: None,
        },
    }
}

/// Open model: how many tickets fall due before the warm-up ends. Due times grow with the
/// ticket, so a binary search finds the first one at or after the end.
fn warm_tickets(cfg: &RunConfig) -> u64 {
    let (Load::Open(schedule), Some(warmup)) = (&cfg.load, cfg.warmup) else {
        return 0;
    };
    let is_warm = |t: u64| schedule.due(t).is_some_and(|d| d < warmup);
    let (mut low, mut high) = (0u64, 1u64);
    while is_warm(high) {
        low = high;
        high *= 2;
    }
    if !is_warm(low) {
        return 0;
    }
    // Now `low` is warm and `high` is not.
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if is_warm(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}

fn wait_for_workers(shared: &Shared, until: Instant) {
    while shared.finished.load(Ordering::SeqCst) < shared.cfg.concurrency && Instant::now() < until
    {
        thread::sleep(Duration::from_millis(2));
    }
}
