//! The collector thread: the only owner of the stats. It takes every event off the channel
//! until the engine's `Finish`, so each invocation that was started is counted exactly once,
//! and prints a progress line on stderr once a second.

use std::io::Write;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use hdrhistogram::Histogram;

use crate::duration::ms;
use crate::outcome::{Event, Kind};
use crate::stats::{new_histogram, Stats};

/// Progress lines on stderr: elapsed, completed, rate and p99 of the last interval, errors.
pub struct Progress {
    began: Instant,
    last: Instant,
    last_completed: u64,
    window: Histogram<u64>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress {
    /// Starts the clock.
    pub fn new() -> Progress {
        let now = Instant::now();
        Progress {
            began: now,
            last: now,
            last_completed: 0,
            window: new_histogram(),
        }
    }

    fn line(&mut self, stats: &Stats) {
        let now = Instant::now();
        let completed = stats.counts.completed();
        let secs = (now - self.last).as_secs_f64().max(1e-9);
        let rate = (completed - self.last_completed) as f64 / secs;
        let p99 = if self.window.is_empty() {
            0
        } else {
            self.window.value_at_quantile(0.99)
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "fnstress: [{:>4.0}s] completed {completed}, {rate:.0}/s, errors {}, p99 {} ms",
            (now - self.began).as_secs_f64(),
            stats.counts.errors(),
            ms(p99),
        );
        self.last = now;
        self.last_completed = completed;
        self.window.reset();
    }
}

/// How long the collector sleeps between drains of the channel. It polls instead of blocking
/// in `recv` because a blocked receiver makes every send wake it with a futex call, which at
/// tens of thousands of outcomes per second costs the workers more than the tallying does.
const POLL: Duration = Duration::from_millis(2);

/// Tallies events until `Finish` (or until every sender is gone) and returns the stats.
pub fn collect(rx: Receiver<Event>, mut stats: Stats, mut progress: Option<Progress>) -> Stats {
    let tick = Duration::from_secs(1);
    let mut next_tick = Instant::now() + tick;
    'run: loop {
        loop {
            match rx.try_recv() {
                Ok(Event::Outcome(o)) => {
                    if let Some(p) = progress.as_mut() {
                        if o.kind != Kind::Cancelled {
                            let _ = p.window.record(o.latency_us.max(1));
                        }
                    }
                    stats.add(&o);
                }
                Ok(Event::Cancelled { worker, operation }) => {
                    stats.add_cancelled(worker, operation)
                }
                Ok(Event::Finish) | Err(TryRecvError::Disconnected) => break 'run,
                Err(TryRecvError::Empty) => break,
            }
        }
        if Instant::now() >= next_tick {
            if let Some(p) = progress.as_mut() {
                p.line(&stats);
            }
            next_tick += tick;
        }
        std::thread::sleep(POLL);
    }
    stats.finish();
    stats
}
