//! The TCP transport under every worker's HTTP client. A stress tool's own cost per invocation
//! is mostly system calls, and the client's stock transport spends ten on a keep-alive
//! invocation: a liveness probe made of three calls (twice), and two socket-option calls to
//! re-arm timeouts whose budget shrank by microseconds. This one spends four: send, receive,
//! and a one-call probe when the connection leaves and re-enters the pool. TLS still runs on
//! top of it through the client's own TLS connector.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};
use ureq::{Error, Timeout};

/// A socket timeout is re-armed only when the budget differs from the one in force by more
/// than this, so a timeout may end up to this much early or late.
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// Socket timeouts run on the kernel's coarse timer and can end several milliseconds late;
/// budgets below this are also kept with a precise wait before each read, at the cost of one
/// more system call per read.
const PRECISE_BELOW: Duration = Duration::from_secs(2);

/// Waits until the socket has something to read (true) or `budget` passed (false).
fn wait_readable(stream: &TcpStream, budget: Duration) -> io::Result<bool> {
    let end = Instant::now() + budget;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let ts = libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        };
        let mut fd = libc::pollfd {
            fd: stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd that lives across the call, a valid timespec, no signal mask.
        let n = unsafe { libc::ppoll(&mut fd, 1, &ts, std::ptr::null()) };
        match n {
            0 => return Ok(false),
            n if n > 0 => return Ok(true),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

/// The client probes a connection when it returns to the pool and again when it is taken out,
/// usually microseconds after the answer arrived; a probe or a read this recent is trusted
/// instead of another system call.
const PROBE_FRESH: Duration = Duration::from_micros(500);

/// Opens plain TCP connections for the client.
#[derive(Debug, Default)]
pub struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, TcpTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        if chained.is_some() {
            return Ok(chained.map(Either::A));
        }
        let budget = details.timeout.not_zero().map(|d| *d);
        let mut last = None;
        for addr in details.addrs.iter() {
            let attempt = match budget {
                Some(t) => TcpStream::connect_timeout(addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(stream) => {
                    stream.set_nodelay(details.config.no_delay())?;
                    let stream = Arc::new(stream);
                    let handle = Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>;
                    (details.register_shutdown)(handle)?;
                    let buffers = LazyBuffers::new(
                        details.config.input_buffer_size(),
                        details.config.output_buffer_size(),
                    );
                    return Ok(Some(Either::B(TcpTransport {
                        stream,
                        buffers,
                        read_timeout: None,
                        write_timeout: None,
                        probed_open: None,
                    })));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    last = Some(Error::Timeout(Timeout::Connect));
                }
                Err(e) => last = Some(Error::Io(e)),
            }
        }
        Err(last.unwrap_or(Error::HostNotFound))
    }
}

/// One keep-alive TCP connection.
#[derive(Debug)]
pub struct TcpTransport {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    probed_open: Option<Instant>,
}

/// Re-arms a socket timeout when it moved by more than [`TIMEOUT_SLACK`].
fn rearm(
    current: &mut Option<Duration>,
    wanted: Option<Duration>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let close_enough = match (*current, wanted) {
        (Some(a), Some(b)) => a.abs_diff(b) <= TIMEOUT_SLACK,
        (None, None) => true,
        _ => false,
    };
    if !close_enough {
        set(wanted)?;
        *current = wanted;
    }
    Ok(())
}

fn io_error(e: io::Error, reason: Timeout) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(reason),
        _ => Error::Io(e),
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(Error::Timeout(timeout.reason));
        }
        let stream = &*self.stream;
        rearm(
            &mut self.write_timeout,
            timeout.not_zero().map(|d| *d),
            |t| stream.set_write_timeout(t),
        )?;
        let output = &self.buffers.output()[..amount];
        (&*self.stream)
            .write_all(output)
            .map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let timeout = timeout.for_read();
        if timeout.after.is_zero() {
            return Err(Error::Timeout(timeout.reason));
        }
        let stream = &*self.stream;
        rearm(
            &mut self.read_timeout,
            timeout.not_zero().map(|d| *d),
            |t| stream.set_read_timeout(t),
        )?;
        if let Some(budget) = timeout
            .not_zero()
            .map(|d| *d)
            .filter(|d| *d < PRECISE_BELOW)
        {
            if !wait_readable(&self.stream, budget)? {
                return Err(Error::Timeout(timeout.reason));
            }
        }
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| io_error(e, timeout.reason))?,
            }
        };
        self.buffers.input_appended(amount);
        // Bytes that just arrived prove the connection alive as well as a probe would.
        self.probed_open = (amount > 0).then(Instant::now);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        if self.probed_open.is_some_and(|t| t.elapsed() < PROBE_FRESH) {
            return true;
        }
        let open = self.probe();
        self.probed_open = open.then(Instant::now);
        open
    }
}

impl TcpTransport {
    /// Asks the kernel, without blocking, whether the connection can take a request.
    fn probe(&self) -> bool {
        let mut byte = 0u8;
        // SAFETY: recv writes at most one byte into `byte`, which outlives the call; the fd
        // belongs to a stream this transport owns.
        let n = unsafe {
            libc::recv(
                self.stream.as_raw_fd(),
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        // Only "nothing to read yet" means open: 0 is the peer's close, bytes before a request
        // are garbage, and any other error is a broken connection.
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_rearmed_only_when_they_moved() {
        let ms = Duration::from_millis;
        let mut current = None;
        let mut calls = 0;
        let table = [
            (Some(ms(30_000)), 1), // first arm
            (Some(ms(29_999)), 1), // shrank within the slack: kept
            (Some(ms(29_000)), 2), // shrank a second: re-armed
            (Some(ms(29_001)), 2), // grew within the slack: kept
            (None, 3),             // no timeout: cleared
            (None, 3),             // still none
        ];
        for (wanted, want_calls) in table {
            rearm(&mut current, wanted, |_| {
                calls += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(calls, want_calls, "{wanted:?}");
        }
    }
}
