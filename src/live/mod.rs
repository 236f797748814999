//! `--dashboard`: a small HTTP server that shows a running test while it runs. The collector
//! hands it a copy of the stats once a second and the engine sets two gauges; the server
//! renders a live page, `/api/stats` JSON and `/metrics` Prometheus text from that copy on
//! request, so the collector never waits for a reader.

mod api;
mod prometheus;
mod server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::{Load, RunConfig};
use crate::engine::signals;
use crate::error::Result;
use crate::stats::Stats;

/// Where the run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Workers are being started.
    Starting,
    /// The load is on.
    Running,
    /// The report is out; the numbers are final.
    Finished,
}

impl State {
    /// The word used in `/api/stats` and on the page.
    pub fn key(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Running => "running",
            State::Finished => "finished",
        }
    }
}

/// The stats as of the last publication.
pub struct Snapshot {
    /// A copy of the collector's stats (closed seconds only in the timeline until finished).
    pub stats: Stats,
    /// Since the release of the workers.
    pub elapsed: Duration,
    /// Where the run stands.
    pub state: State,
}

/// The dashboard of one run, shared by the collector, the engine and the server threads.
pub struct Board {
    cfg: RunConfig,
    snapshot: Mutex<Arc<Snapshot>>,
    active_workers: AtomicUsize,
    /// Bits of an `f64`; NaN when the load model has no target rate.
    target_rate: AtomicU64,
    addr: SocketAddr,
}

impl Board {
    /// Listens on `addr` and serves the dashboard from two threads. A failed bind is a usage
    /// error naming `option` (the flag or key the address came from).
    pub fn start(cfg: &RunConfig, addr: SocketAddr, option: &str) -> Result<Arc<Board>> {
        let open_model = matches!(cfg.load, Load::Open(_));
        let stats = Stats::new(&cfg.workload.operations, cfg.concurrency, open_model);
        let listener = server::bind(addr, option)?;
        let board = Arc::new(Board {
            cfg: cfg.clone(),
            snapshot: Mutex::new(Arc::new(Snapshot {
                stats,
                elapsed: Duration::ZERO,
                state: State::Starting,
            })),
            active_workers: AtomicUsize::new(0),
            target_rate: AtomicU64::new(f64::NAN.to_bits()),
            addr: server::local_addr(&listener),
        });
        server::spawn(listener, Arc::clone(&board))?;
        Ok(board)
    }

    /// The address actually bound (port 0 resolved).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces the published stats with a copy of `stats`.
    pub fn publish(&self, stats: &Stats, elapsed: Duration, finished: bool) {
        let snapshot = Arc::new(Snapshot {
            stats: stats.clone(),
            elapsed,
            state: if finished {
                State::Finished
            } else {
                State::Running
            },
        });
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = snapshot;
    }

    /// The latest published stats.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Sets the engine's gauges.
    pub fn set_gauges(&self, active_workers: usize, target_rate: Option<f64>) {
        self.active_workers.store(active_workers, Ordering::Relaxed);
        let rate = target_rate.unwrap_or(f64::NAN);
        self.target_rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    fn active_workers(&self) -> usize {
        self.active_workers.load(Ordering::Relaxed)
    }

    fn target_rate(&self) -> Option<f64> {
        Some(f64::from_bits(self.target_rate.load(Ordering::Relaxed))).filter(|r| !r.is_nan())
    }

    /// Keeps serving the final state for `linger`, or until Ctrl-C.
    pub fn linger(&self, linger: Duration) {
        let until = Instant::now() + linger;
        let signals_before = signals::received();
        while Instant::now() < until && signals::received() == signals_before {
            std::thread::sleep(
                Duration::from_millis(50).min(until.saturating_duration_since(Instant::now())),
            );
        }
    }
}
