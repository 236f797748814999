//! Ctrl-C and SIGTERM. The first asks for a graceful stop (finish, report); the second ends the
//! process at once with exit code 130, because a user pressing twice wants out now. A second
//! signal within [`SAME_STOP`] of the first is taken as the same request: tools such as
//! `timeout` signal both a process and its process group, which delivers one stop twice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Signals closer together than this count as one.
pub const SAME_STOP: Duration = Duration::from_millis(200);

static FIRST: OnceLock<Instant> = OnceLock::new();

use crate::error::{exit, Error, Result};
use crate::messages;

static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler; call once per process.
pub fn install() -> Result<()> {
    ctrlc::set_handler(|| {
        let first = *FIRST.get_or_init(Instant::now);
        if RECEIVED.load(Ordering::SeqCst) > 0 && first.elapsed() < SAME_STOP {
            return;
        }
        if RECEIVED.fetch_add(1, Ordering::SeqCst) == 0 {
            messages::info("stopping: finishing in-flight invocations (again to exit at once)");
        } else {
            messages::error("interrupted twice: exiting without a report");
            std::process::exit(exit::INTERRUPTED);
        }
    })
    .map_err(|e| Error::internal(format!("cannot install the signal handler: {e}")))
}

/// True once a stop signal arrived.
pub fn stop_requested() -> bool {
    RECEIVED.load(Ordering::SeqCst) > 0
}

/// How many stop signals arrived so far.
pub fn received() -> usize {
    RECEIVED.load(Ordering::SeqCst)
}
