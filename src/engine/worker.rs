//! The worker loops: the closed model (invoke again when the answer is in) and the open model
//! (take the next due invocation off a shared schedule). Both share one invocation step that
//! marks the slot, invokes, classifies and sends the outcome.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use rand::Rng;

use super::invoke::Invoker;
use super::pacer::{Schedule, Stages};
use super::rotation::Rotation;
use super::Shared;
use crate::config::Load;
use crate::outcome::{Event, Kind, Outcome};
use crate::payload::Picker;

/// How often a parked worker looks at its ramp again, and the longest single sleep while
/// waiting for a due time, so a stop is noticed promptly.
const RECHECK: Duration = Duration::from_millis(10);

/// One worker's state for its whole life.
struct Worker<'a> {
    shared: &'a Shared<'a>,
    id: u32,
    tx: Sender<Event>,
    invoker: Invoker,
    picker: Picker,
    /// Picks the function of each invocation; `None` with one function.
    functions: Option<Rotation>,
    start: Instant,
    measure_start: Instant,
    hard_end: Option<Instant>,
}

/// Waits for the gate, then runs the configured load model until told to stop.
pub(super) fn run(shared: &Shared, id: u32, tx: Sender<Event>) {
    if shared.gate.wait() {
        let cfg = shared.cfg;
        let mut w = Worker {
            shared,
            id,
            tx,
            invoker: Invoker::new(cfg, &shared.resolver),
            picker: cfg
                .workload
                .picker(cfg.first_worker.wrapping_add(id), cfg.seed),
            functions: (cfg.functions.len() > 1)
                .then(|| Rotation::new(cfg.functions.iter().map(|f| f.weight), u64::from(id))),
            start: *shared.start.get().expect("set before the gate opens"),
            measure_start: *shared
                .measure_start
                .get()
                .expect("set before the gate opens"),
            hard_end: *shared.hard_end.get().expect("set before the gate opens"),
        };
        match &cfg.load {
            Load::Closed { think, stages } => w.closed(*think, stages.as_ref()),
            Load::Open(schedule) => w.open(schedule),
        }
    }
    shared.finished.fetch_add(1, Ordering::SeqCst);
}

impl Worker<'_> {
    fn stopped(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed)
    }

    /// Takes one invocation off the request budget; false once it is spent. Open-model
    /// tickets due during the warm-up are not part of the budget.
    fn take_ticket(&self) -> Option<u64> {
        let t = self.shared.tickets.fetch_add(1, Ordering::Relaxed);
        match self.shared.cfg.requests {
            Some(n) if t >= n + self.shared.warm_tickets => None,
            _ => Some(t),
        }
    }

    fn in_warmup(&self) -> bool {
        Instant::now() < self.measure_start
    }

    fn closed(&mut self, think: Option<(Duration, Duration)>, stages: Option<&Stages>) {
        let mut active = false;
        while !self.stopped() {
            if let Some(ramp) = stages {
                let want = ramp.value_at(self.start.elapsed()).round() as u32;
                if self.id >= want {
                    if active {
                        self.shared.active.fetch_sub(1, Ordering::SeqCst);
                        active = false;
                    }
                    thread::sleep(RECHECK);
                    continue;
                }
            }
            if !active {
                self.shared.active.fetch_add(1, Ordering::SeqCst);
                active = true;
            }
            // Warm-up invocations take no ticket: the budget counts measured ones.
            let warmup = self.in_warmup();
            // Without a budget no ticket is needed, and the shared counter is left alone.
            let budget = self.shared.cfg.requests.is_some();
            if (budget && !warmup && self.take_ticket().is_none()) || !self.invoke(None, warmup) {
                break;
            }
            if let Some((min, max)) = think {
                let pause = if min == max {
                    min
                } else {
                    self.picker.rng().random_range(min..=max)
                };
                self.pause(pause);
            }
        }
        if active {
            self.shared.active.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn open(&mut self, schedule: &Schedule) {
        // Sleeps end on time only if the kernel may not defer them; its default slack of
        // 50 µs per wake-up would show as lateness of every scheduled start.
        // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack.
        unsafe {
            libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
        }
        while !self.stopped() {
            let Some(ticket) = self.take_ticket() else {
                break;
            };
            let Some(offset) = schedule.due(ticket) else {
                break;
            };
            let due = self.start + offset;
            if self
                .hard_end
                .is_some_and(|end| due >= end - self.shared.cfg.grace)
            {
                break;
            }
            self.pause(due.saturating_duration_since(Instant::now()));
            let warmup = due < self.measure_start;
            if self.stopped() || !self.invoke(Some(due), warmup) {
                break;
            }
        }
    }

    /// Sleeps, waking early when the run stops. Steps aim at one end time, so the small
    /// overshoot of each sleep does not add up over a long pause.
    fn pause(&self, length: Duration) {
        let until = Instant::now() + length;
        while !self.stopped() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            thread::sleep(left.min(RECHECK));
        }
    }

    /// One invocation; false when the engine cut it (the worker must stop).
    fn invoke(&mut self, due: Option<Instant>, warmup: bool) -> bool {
        let cfg = self.shared.cfg;
        // Nothing starts after the deadline, even before the engine raises the stop flag.
        if self
            .hard_end
            .is_some_and(|end| Instant::now() + cfg.grace >= end)
        {
            return false;
        }
        let function = self.functions.as_mut().map_or(0, Rotation::next_index);
        let (operation, body) = self.picker.draw();
        // Near the deadline the timeout shrinks so that no invocation outlives the grace.
        let timeout = match self.hard_end {
            Some(end) => cfg
                .timeout
                .min(end.saturating_duration_since(Instant::now())),
            None => cfg.timeout,
        };
        let slot = &self.shared.slots[self.id as usize];
        if !slot.begin(operation, function) {
            return false;
        }
        let answer = self.invoker.invoke(function as usize, body, timeout);
        let ended = Instant::now();
        let sent = answer.sent;
        if !slot.claim() {
            return false;
        }
        let cut_short = timeout < cfg.timeout && answer.kind == Kind::Timeout;
        let since = |t: Instant| ended.saturating_duration_since(t).as_micros() as u64;
        let outcome = Outcome {
            worker: self.id,
            operation,
            function,
            kind: if cut_short {
                Kind::Cancelled
            } else {
                answer.kind
            },
            status: answer.status,
            latency_us: since(sent),
            end_us: since(self.measure_start),
            bytes: answer.bytes,
            corrected_us: due.map_or(0, since),
            late_us: due.map_or(0, |d| sent.saturating_duration_since(d).as_micros() as u64),
            detail: if cut_short { None } else { answer.detail },
            init_us: answer.init_us,
            connected: answer.connected,
            warmup,
            resent: answer.resent,
            truncated: answer.truncated,
        };
        let _ = self.tx.send(Event::Outcome(outcome));
        slot.release();
        true
    }
}
