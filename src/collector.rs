//! The collector thread: the only owner of the stats. It takes every event off the channel
//! until the engine's `Finish`, so each invocation that was started is counted exactly once.
//! Between drains it drives the progress display and, once a second, hands a copy of the
//! stats to the live dashboard; neither costs anything per outcome beyond one histogram
//! record.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

use crate::live::Board;
use crate::messages;
use crate::outcome::{Event, Kind};
use crate::report::progress::Progress;
use crate::stats::Stats;
use crate::threshold::live::{Abort, Watch};

/// How long the collector sleeps between drains of the channel. It polls instead of blocking
/// in `recv` because a blocked receiver makes every send wake it with a futex call, which at
/// tens of thousands of outcomes per second costs the workers more than the tallying does.
const POLL: Duration = Duration::from_millis(2);

/// `--abort-on-fail` judges the thresholds this often.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Checks the watched thresholds; true once one failed and the stop was asked for.
fn check_thresholds(live: &Live, stats: &Stats, elapsed: Duration) -> bool {
    let Some(abort) = live.watch.check(stats, elapsed.as_secs_f64()) else {
        return false;
    };
    messages::warn(&format!(
        "threshold '{}' failed after {} completed invocations; stopping (--abort-on-fail)",
        abort.threshold, abort.completed
    ));
    let _ = live.abort.set(abort);
    true
}

/// The dashboard gets a fresh copy of the stats this often.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// What watches the run while the collector tallies it.
pub struct Watchers<'a> {
    /// Progress on stderr, unless quiet.
    pub progress: Option<Progress>,
    /// The live dashboard, with `--dashboard`.
    pub board: Option<&'a Board>,
    /// When the workers were released; set by the engine.
    pub start: &'a OnceLock<Instant>,
    /// Thresholds checked once a second, with `--abort-on-fail`.
    pub thresholds: Option<Live<'a>>,
}

/// Thresholds watched during the run (`--abort-on-fail`) and where a failure is posted; the
/// engine stops the run once it is set.
pub struct Live<'a> {
    /// What to check.
    pub watch: &'a Watch,
    /// Set once, by the first threshold that fails.
    pub abort: &'a OnceLock<Abort>,
}

/// Tallies events until `Finish` (or until every sender is gone) and returns the stats.
pub fn collect(rx: Receiver<Event>, mut stats: Stats, mut watch: Watchers) -> Stats {
    // Due times are kept as time since the release, so progress lines fall on whole intervals.
    let mut progress_due = watch.progress.as_ref().map(Progress::tick_every);
    let mut publish_due = watch.board.map(|_| PUBLISH_EVERY);
    let mut check_due = watch.thresholds.as_ref().map(|_| CHECK_EVERY);
    'run: loop {
        loop {
            match rx.try_recv() {
                Ok(Event::Outcome(o)) => {
                    if let Some(p) = watch.progress.as_mut() {
                        if o.kind != Kind::Cancelled {
                            p.record(o.latency_us);
                        }
                    }
                    stats.add(&o);
                }
                Ok(Event::Cancelled {
                    worker,
                    operation,
                    function,
                }) => stats.add_cancelled(worker, operation, function),
                Ok(Event::Finish) | Err(TryRecvError::Disconnected) => break 'run,
                Err(TryRecvError::Empty) => break,
            }
        }
        // Before the workers are released there is no clock to show.
        if let Some(&start) = watch.start.get() {
            let now = Instant::now();
            let elapsed = now - start;
            if let (Some(due), Some(p)) = (progress_due.as_mut(), watch.progress.as_mut()) {
                if elapsed >= *due {
                    p.tick(&stats, elapsed, now);
                    while *due <= elapsed {
                        *due += p.tick_every();
                    }
                }
            }
            if let (Some(due), Some(board)) = (publish_due.as_mut(), watch.board) {
                if elapsed >= *due {
                    board.publish(&stats, elapsed, false);
                    while *due <= elapsed {
                        *due += PUBLISH_EVERY;
                    }
                }
            }
            if let (Some(due), Some(live)) = (check_due.as_mut(), &watch.thresholds) {
                if elapsed >= *due {
                    if check_thresholds(live, &stats, elapsed) {
                        check_due = None;
                    } else {
                        *due += CHECK_EVERY;
                    }
                }
            }
        }
        std::thread::sleep(POLL);
    }
    stats.finish();
    if let Some(p) = &watch.progress {
        p.finish();
    }
    if let Some(board) = watch.board {
        let elapsed = watch.start.get().map_or(Duration::ZERO, Instant::elapsed);
        board.publish(&stats, elapsed, true);
    }
    stats
}
