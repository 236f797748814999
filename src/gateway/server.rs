//! The threads that answer requests, and the shutdown on Ctrl-C or SIGTERM.
//!
//! `tiny_http` reads each connection on a thread of its own and queues complete requests;
//! a pool of handler threads takes them from that queue. The pool keeps a few threads per
//! core for work that only computes. A handler about to wait inside a function first makes
//! sure enough threads remain free to take new requests, spawning one if needed, so that a
//! thousand slow invocations wait side by side while fast ones still get through; threads
//! left idle for a while go away again.

use std::net::{SocketAddr, TcpListener};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::messages;

use super::routes::{self, Gateway};

/// Handler threads never exceed this; past it, waiting functions hold their thread and
/// requests queue until one is free.
const MAX_HANDLERS: usize = 4096;

/// Handlers run shallow code (routing, JSON of at most 1 MiB with serde's nesting limit),
/// and a thousand of them must fit at once.
const HANDLER_STACK_BYTES: usize = 256 * 1024;

/// Pending connections the kernel queues (capped by the system's `somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// How often an idle handler looks at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// Idle this long, a handler beyond the base count ends.
const IDLE_RETIRE: Duration = Duration::from_secs(5);

/// Invocations still running after a stop signal get this long to finish.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Why the gateway stopped.
enum Stop {
    Signal,
    Failed(String),
}

/// The pool's state, shared by every handler thread.
struct Pool {
    server: tiny_http::Server,
    gateway: Gateway,
    /// Handler threads alive.
    total: AtomicUsize,
    /// Handlers waiting inside a function.
    waiting: AtomicUsize,
    /// Handlers kept even when idle.
    base: usize,
    stopping: AtomicBool,
    stop: mpsc::Sender<Stop>,
}

impl Pool {
    fn spawn_handler(self: &Arc<Self>) -> bool {
        if self.total.fetch_add(1, Ordering::SeqCst) >= MAX_HANDLERS {
            self.total.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        let pool = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("fnstress-gateway".into())
            .stack_size(HANDLER_STACK_BYTES)
            .spawn(move || pool.work());
        if spawned.is_err() {
            self.total.fetch_sub(1, Ordering::SeqCst);
        }
        spawned.is_ok()
    }

    fn work(self: Arc<Self>) {
        let mut idle_since = Instant::now();
        loop {
            match self.server.recv_timeout(POLL) {
                Ok(Some(request)) => {
                    let pause = |d: Duration| self.pause(d);
                    // A panicking handler drops its request, which answers 500; the thread
                    // and the pool's counts must survive it.
                    let handled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        routes::handle(&self.gateway, request, &pause)
                    }));
                    if handled.is_err() {
                        messages::warn("a request handler panicked; answered 500");
                    }
                    idle_since = Instant::now();
                }
                Ok(None) if self.stopping.load(Ordering::SeqCst) => break,
                Ok(None) => {
                    if idle_since.elapsed() >= IDLE_RETIRE && self.retire() {
                        return;
                    }
                }
                Err(e) => {
                    // The accept thread has ended; no request will ever come again.
                    let _ = self
                        .stop
                        .send(Stop::Failed(format!("accepting connections: {e}")));
                    break;
                }
            }
        }
        self.total.fetch_sub(1, Ordering::SeqCst);
    }

    /// Ends this handler's count if the pool is above its base; true when it did.
    fn retire(&self) -> bool {
        let mut total = self.total.load(Ordering::SeqCst);
        while total > self.base {
            match self
                .total
                .compare_exchange(total, total - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => total = now,
            }
        }
        false
    }

    /// How functions wait: keeps `base` handlers free for new requests meanwhile.
    fn pause(self: &Arc<Self>, duration: Duration) {
        let waiting = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        let free = self.total.load(Ordering::SeqCst).saturating_sub(waiting);
        if free < self.base && !self.stopping.load(Ordering::SeqCst) {
            self.spawn_handler();
        }
        thread::sleep(duration);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Binds `listen`, serves until a stop signal and the drain of running invocations, and
/// returns the exit code. `on_listening` hears the bound address before the first request.
pub fn serve(
    listen: SocketAddr,
    gateway: Gateway,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<i32> {
    let listener = TcpListener::bind(listen).map_err(|e| {
        Error::usage(format!(
            "cannot listen on {listen}: {e}; choose another --listen address or port \
             (port 0 picks a free one)"
        ))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("{listen}: {e}")))?;
    widen_backlog(&listener);
    let server = tiny_http::Server::from_listener(listener, None)
        .map_err(|e| Error::internal(format!("starting the HTTP server on {bound}: {e}")))?;

    let (stop, stopped) = mpsc::channel();
    on_signal(stop.clone())?;
    let cores = thread::available_parallelism().map_or(2, |n| n.get());
    let pool = Arc::new(Pool {
        server,
        gateway,
        total: AtomicUsize::new(0),
        waiting: AtomicUsize::new(0),
        base: (2 * cores).max(4),
        stopping: AtomicBool::new(false),
        stop,
    });
    for _ in 0..pool.base {
        if !pool.spawn_handler() {
            return Err(Error::internal("cannot start handler threads"));
        }
    }
    on_listening(bound);

    let why = stopped.recv().unwrap_or(Stop::Signal);
    pool.stopping.store(true, Ordering::SeqCst);
    let running = pool.waiting.load(Ordering::SeqCst);
    if running > 0 {
        messages::info(&format!(
            "stopping: letting {running} running invocations finish"
        ));
    }
    let deadline = Instant::now() + DRAIN_DEADLINE;
    while pool.total.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    match why {
        Stop::Signal => {
            messages::info("gateway stopped");
            Ok(crate::error::exit::OK)
        }
        Stop::Failed(message) => Err(Error::internal(format!("gateway failed: {message}"))),
    }
}

/// A thousand clients connecting at once overflow the standard library's backlog of 128;
/// the kernel then drops handshakes and clients retry a second later, which a load test
/// would see as latency. Listening again on a listening socket only resizes its queue.
#[cfg(unix)]
fn widen_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is owned by `listener`, which outlives this call; `listen` does
    // not touch memory. A failure only leaves the smaller queue in place.
    unsafe {
        libc::listen(listener.as_raw_fd(), LISTEN_BACKLOG);
    }
}

#[cfg(not(unix))]
fn widen_backlog(_listener: &TcpListener) {}

/// The first Ctrl-C or SIGTERM stops gracefully; a second one ends the process at once.
fn on_signal(stop: mpsc::Sender<Stop>) -> Result<()> {
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::error::exit::INTERRUPTED);
        }
        let _ = stop.send(Stop::Signal);
    })
    .map_err(|e| Error::internal(format!("cannot install the Ctrl-C/SIGTERM handler: {e}")))
}
