//! One in-flight slot per worker. It lets the engine cut invocations that outlive the grace
//! period while guaranteeing each started invocation is counted exactly once: either the
//! worker reports its outcome, or the engine reports it cancelled, never both.

use std::sync::atomic::{AtomicU16, AtomicU8, Ordering};

const IDLE: u8 = 0;
const BUSY: u8 = 1;
const SENDING: u8 = 2;
const CUT: u8 = 3;

/// The state of one worker's current invocation. Each sits on its own cache line: workers
/// write their slots on every invocation, and neighbours sharing a line would stall each other.
#[derive(Default)]
#[repr(align(64))]
pub struct Slot {
    state: AtomicU8,
    operation: AtomicU16,
    function: AtomicU16,
}

impl Slot {
    /// Marks an invocation of `operation` on `function` as started. False when the engine has
    /// already cut this worker: it must not start anything more, or its outcome would arrive
    /// after the collector finished.
    pub fn begin(&self, operation: u16, function: u16) -> bool {
        self.operation.store(operation, Ordering::Relaxed);
        self.function.store(function, Ordering::Relaxed);
        self.state
            .compare_exchange(IDLE, BUSY, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Claims the right to report the invocation that just ended. False means the engine has
    /// already counted it as cancelled and the worker must drop its outcome and stop.
    pub fn claim(&self) -> bool {
        self.state
            .compare_exchange(BUSY, SENDING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks the outcome as sent.
    pub fn release(&self) {
        self.state.store(IDLE, Ordering::Release);
    }

    /// True while an invocation is in flight.
    pub fn is_busy(&self) -> bool {
        self.state.load(Ordering::Relaxed) == BUSY
    }

    /// Closes the slot for good and returns the operation and function of the invocation it
    /// cut, if one was in flight. Waits out a worker that is sending its outcome right now, so
    /// that outcome is on the channel before the caller sends anything after this.
    pub fn cut(&self) -> Option<(u16, u16)> {
        loop {
            let seen = match self.state.load(Ordering::Acquire) {
                SENDING => {
                    std::thread::yield_now();
                    continue;
                }
                CUT => return None,
                seen => seen,
            };
            let swap = self
                .state
                .compare_exchange(seen, CUT, Ordering::AcqRel, Ordering::Acquire);
            if swap.is_ok() {
                return (seen == BUSY).then(|| {
                    (
                        self.operation.load(Ordering::Relaxed),
                        self.function.load(Ordering::Relaxed),
                    )
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invocation_is_reported_once() {
        // Worker first: the cut finds nothing in flight, and nothing new can start.
        let s = Slot::default();
        assert!(s.begin(3, 0));
        assert!(s.claim());
        s.release();
        assert_eq!(s.cut(), None);
        assert!(!s.begin(5, 0));
        // Cut first: the worker's claim fails.
        let s = Slot::default();
        assert!(s.begin(4, 1));
        assert_eq!(s.cut(), Some((4, 1)));
        assert!(!s.claim());
        assert_eq!(s.cut(), None);
    }
}
