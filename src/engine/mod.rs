//! The engine: N OS-thread workers in a scope, released together by a gate, each invoking in
//! a loop and sending one event per outcome to a single collector thread. Every stop source
//! (deadline, request budget, Ctrl-C, SIGTERM) sets one atomic flag; in-flight invocations
//! then get a grace period, after which the rest are counted as cancelled.

mod gate;
mod invoke;
pub mod signals;
mod slots;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Sender;

use crate::collector::{self, Progress};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::outcome::{Event, Outcome};
use crate::stats::Stats;
use gate::Gate;
use invoke::Invoker;
use slots::Slot;

/// Worker threads only hold an HTTP client and a few buffers; small stacks let 10,000 of
/// them start on an ordinary machine.
const WORKER_STACK: usize = 256 * 1024;

/// Why the run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The duration ran out.
    Deadline,
    /// The request budget was spent.
    Requests,
    /// Ctrl-C or SIGTERM.
    Signal,
}

impl StopReason {
    /// The key used in reports.
    pub fn key(self) -> &'static str {
        match self {
            StopReason::Deadline => "deadline",
            StopReason::Requests => "requests",
            StopReason::Signal => "signal",
        }
    }
}

/// What a finished run hands to the report.
pub struct RunResult {
    /// All tallies.
    pub stats: Stats,
    /// Wall-clock time of the release of the workers.
    pub started_at: SystemTime,
    /// From the release to the last outcome (or the cut).
    pub elapsed: Duration,
    /// Why it stopped.
    pub stop: StopReason,
}

/// State shared by the workers and the engine.
struct Shared<'a> {
    cfg: &'a RunConfig,
    gate: Gate,
    stop: AtomicBool,
    tickets: AtomicU64,
    finished: AtomicUsize,
    slots: Vec<Slot>,
    start: std::sync::OnceLock<Instant>,
    hard_end: std::sync::OnceLock<Option<Instant>>,
}

/// Runs the load and calls `report` with the result before the worker scope is left. If some
/// workers are still blocked in the OS past the grace period, the process exits with
/// `report`'s code right after it, rather than waiting for them.
pub fn run(cfg: &RunConfig, report: impl FnOnce(RunResult) -> Result<i32>) -> Result<i32> {
    let shared = Shared {
        cfg,
        gate: Gate::default(),
        stop: AtomicBool::new(false),
        tickets: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        slots: (0..cfg.concurrency).map(|_| Slot::default()).collect(),
        start: Default::default(),
        hard_end: Default::default(),
    };
    let (tx, rx) = crossbeam_channel::unbounded::<Event>();
    let progress = (!cfg.quiet).then(Progress::new);
    let stats = Stats::new(&cfg.workload.operations, cfg.concurrency);

    thread::scope(|scope| {
        let collector = thread::Builder::new()
            .name("collector".into())
            .spawn_scoped(scope, move || collector::collect(rx, stats, progress))
            .map_err(|e| Error::internal(format!("cannot start the collector thread: {e}")))?;

        for id in 0..cfg.concurrency {
            let worker_tx = tx.clone();
            let shared = &shared;
            let spawned = thread::Builder::new()
                .name(format!("worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || worker(shared, id as u32, worker_tx));
            if let Err(e) = spawned {
                shared.gate.abort();
                let _ = tx.send(Event::Finish);
                return Err(spawn_error(id, cfg.concurrency, &e));
            }
        }

        let start = Instant::now();
        let started_at = SystemTime::now();
        let hard_end = cfg.duration.map(|d| start + d + cfg.grace);
        shared.start.set(start).expect("set once");
        shared.hard_end.set(hard_end).expect("set once");
        shared.gate.open();

        let stop = wait_for_stop(&shared, start);
        shared.stop.store(true, Ordering::SeqCst);
        wait_for_workers(&shared, Instant::now() + cfg.grace);
        let elapsed = start.elapsed();
        for (id, slot) in shared.slots.iter().enumerate() {
            if let Some(operation) = slot.cut() {
                let _ = tx.send(Event::Cancelled {
                    worker: id as u32,
                    operation,
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
        })?;
        if shared.finished.load(Ordering::SeqCst) < cfg.concurrency {
            // Workers blocked in a read past the grace period cannot be interrupted; their
            // invocations are already counted as cancelled and the report is out.
            std::process::exit(code);
        }
        Ok(code)
    })
}

fn wait_for_stop(shared: &Shared, start: Instant) -> StopReason {
    let deadline = shared.cfg.duration.map(|d| start + d);
    loop {
        if signals::stop_requested() {
            return StopReason::Signal;
        }
        if shared.finished.load(Ordering::SeqCst) == shared.cfg.concurrency {
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

fn wait_for_workers(shared: &Shared, until: Instant) {
    while shared.finished.load(Ordering::SeqCst) < shared.cfg.concurrency && Instant::now() < until
    {
        thread::sleep(Duration::from_millis(2));
    }
}

fn spawn_error(id: usize, wanted: usize, e: &std::io::Error) -> Error {
    let threads_max = std::fs::read_to_string("/proc/sys/kernel/threads-max")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct it is given.
    let nproc = if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut lim) } == 0 {
        if lim.rlim_cur == libc::RLIM_INFINITY {
            "unlimited".into()
        } else {
            lim.rlim_cur.to_string()
        }
    } else {
        "unknown".into()
    };
    Error::usage(format!(
        "--concurrency {wanted}: could not start worker thread {} ({e}); the OS allows \
         {nproc} processes per user (ulimit -u) and {threads_max} threads in all; lower \
         --concurrency or raise the limit",
        id + 1
    ))
}

/// One worker: wait for the gate, then invoke until told to stop.
fn worker(shared: &Shared, id: u32, tx: Sender<Event>) {
    let cfg = shared.cfg;
    if shared.gate.wait() {
        let mut invoker = Invoker::new(cfg);
        let mut picker = cfg.workload.picker(id, cfg.seed);
        let start = *shared.start.get().expect("set before the gate opens");
        let hard_end = *shared.hard_end.get().expect("set before the gate opens");
        let slot = &shared.slots[id as usize];
        while !shared.stop.load(Ordering::Relaxed) {
            if let Some(n) = cfg.requests {
                if shared.tickets.fetch_add(1, Ordering::Relaxed) >= n {
                    break;
                }
            }
            let (operation, body) = picker.next();
            // Near the deadline the timeout shrinks so that no invocation outlives the grace.
            let timeout = match hard_end {
                Some(end) => cfg
                    .timeout
                    .min(end.saturating_duration_since(Instant::now())),
                None => cfg.timeout,
            };
            slot.begin(operation);
            let sent = Instant::now();
            let answer = invoker.invoke(body, timeout);
            let ended = Instant::now();
            if !slot.claim() {
                break;
            }
            let cut_short = timeout < cfg.timeout && answer.kind == crate::outcome::Kind::Timeout;
            let outcome = Outcome {
                worker: id,
                operation,
                kind: if cut_short {
                    crate::outcome::Kind::Cancelled
                } else {
                    answer.kind
                },
                status: answer.status,
                latency_us: (ended - sent).as_micros() as u64,
                end_us: (ended - start).as_micros() as u64,
                bytes: answer.bytes,
                detail: if cut_short { None } else { answer.detail },
            };
            let _ = tx.send(Event::Outcome(outcome));
            slot.release();
        }
    }
    shared.finished.fetch_add(1, Ordering::SeqCst);
}
