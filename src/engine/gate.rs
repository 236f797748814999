//! The start gate that releases all workers together. It is a barrier that can also be
//! aborted: when spawning the N-th thread fails, the threads already waiting must be let go
//! without running, which `std::sync::Barrier` cannot do.

use std::sync::{Condvar, Mutex};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open,
    Aborted,
}

/// A one-shot gate.
pub struct Gate {
    state: Mutex<State>,
    changed: Condvar,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            state: Mutex::new(State::Closed),
            changed: Condvar::new(),
        }
    }
}

impl Gate {
    /// Blocks until the gate opens (true) or is aborted (false).
    pub fn wait(&self) -> bool {
        let mut s = self.state.lock().expect("gate lock");
        while *s == State::Closed {
            s = self.changed.wait(s).expect("gate lock");
        }
        *s == State::Open
    }

    /// Releases every waiter to run.
    pub fn open(&self) {
        self.set(State::Open);
    }

    /// Releases every waiter to quit.
    pub fn abort(&self) {
        self.set(State::Aborted);
    }

    /// The first call decides; later ones change nothing, so an abort after the opening
    /// cannot call back workers already running.
    fn set(&self, state: State) {
        let mut s = self.state.lock().expect("gate lock");
        if *s == State::Closed {
            *s = state;
        }
        self.changed.notify_all();
    }
}
