//! Accepting connections, one thread each, and the shutdown on Ctrl-C or SIGTERM.
//!
//! A thread per connection lets a thousand slow invocations wait side by side while fast
//! ones go on, with no hand-off between threads on the hot path. Stacks are small so that
//! thousands of connections fit; idle connections cost only their blocked thread.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{exit, Error, Result};
use crate::messages;

use super::http::{Connection, Next};
use super::reply::Reply;
use super::routes::{self, Gateway};

/// Open connections beyond this are answered 503 and closed, so that a runaway client
/// cannot exhaust threads or file descriptors.
const MAX_CONNECTIONS: usize = 10_000;

/// Connection threads run shallow code (routing, JSON within serde's nesting limit).
const CONNECTION_STACK_BYTES: usize = 256 * 1024;

/// A connection silent this long, between or within requests, is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Pending connections the kernel queues (capped by the system's `somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// Invocations still running after a stop signal get this long to finish.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// State shared by the accept loop and every connection thread.
struct Shared {
    gateway: Gateway,
    connections: AtomicUsize,
    /// Requests read and not yet answered.
    in_flight: AtomicUsize,
    stopping: AtomicBool,
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

    let (stop, stopped) = mpsc::channel();
    on_signal(stop)?;
    let shared = Arc::new(Shared {
        gateway,
        connections: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        stopping: AtomicBool::new(false),
    });
    let acceptor = Arc::clone(&shared);
    thread::Builder::new()
        .name("fnstress-accept".into())
        .spawn(move || accept_loop(&listener, &acceptor))
        .map_err(|e| Error::internal(format!("cannot start the accept thread: {e}")))?;
    on_listening(bound);

    let _ = stopped.recv();
    shared.stopping.store(true, Ordering::SeqCst);
    // The accept loop blocks in accept(); one connection wakes it to see the flag.
    let _ = TcpStream::connect_timeout(&reachable(bound), Duration::from_secs(1));
    let running = shared.in_flight.load(Ordering::SeqCst);
    if running > 0 {
        messages::info(&format!(
            "stopping: letting {running} running invocations finish"
        ));
    }
    let deadline = Instant::now() + DRAIN_DEADLINE;
    while shared.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    messages::info("gateway stopped");
    Ok(exit::OK)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut last_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors or a connection reset before accept: transient; say so
                // at most once a second and keep serving.
                if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                    messages::warn(&format!("accepting a connection failed: {e}"));
                    last_warning = Some(Instant::now());
                }
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            refuse_busy(stream, peer.ip());
            continue;
        }
        let worker = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("fnstress-conn".into())
            .stack_size(CONNECTION_STACK_BYTES)
            .spawn(move || {
                serve_connection(&worker, stream, peer.ip());
                worker.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            messages::warn(&format!("cannot start a connection thread: {e}"));
        }
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream, peer: IpAddr) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let mut connection = Connection::new(stream, peer);
    let pause = |duration: Duration| thread::sleep(duration);
    loop {
        match connection.next_request() {
            Next::Closed => return,
            Next::Refused(why, reply) => {
                shared.gateway.metrics.reject(why);
                if connection.answer(None, &reply, false).is_ok() {
                    connection.linger();
                }
                return;
            }
            Next::Request(request) => {
                shared.in_flight.fetch_add(1, Ordering::SeqCst);
                let reply = routes::answer(&shared.gateway, &request, &pause);
                let keep = request.keep_alive && !shared.stopping.load(Ordering::SeqCst);
                let written = connection.answer(Some(&request), &reply, keep);
                shared.in_flight.fetch_sub(1, Ordering::SeqCst);
                if !keep || written.is_err() {
                    return;
                }
            }
        }
    }
}

fn refuse_busy(stream: TcpStream, peer: IpAddr) {
    let message = format!("more than {MAX_CONNECTIONS} open connections; retry later");
    let reply = Reply::error(503, message).with_header("Retry-After", "1");
    let _ = Connection::new(stream, peer).answer(None, &reply, false);
}

/// Where to connect to reach a listener bound to `bound` (the unspecified address is not
/// a destination).
fn reachable(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, bound.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, bound.port()).into(),
        _ => bound,
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
fn on_signal(stop: mpsc::Sender<()>) -> Result<()> {
    let signalled = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if signalled.swap(true, Ordering::SeqCst) {
            std::process::exit(exit::INTERRUPTED);
        }
        let _ = stop.send(());
    })
    .map_err(|e| Error::internal(format!("cannot install the Ctrl-C/SIGTERM handler: {e}")))
}
