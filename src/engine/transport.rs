//! The TCP transport under every worker's HTTP client. A stress tool's own cost per invocation
//! is mostly system calls, and the client's stock transport spends ten on a keep-alive
//! invocation: a liveness probe made of three calls (twice), and two socket-option calls to
//! re-arm timeouts whose budget shrank by microseconds. This one spends two: one send for the
//! whole request (the client hands over head and body separately; they are held until the
//! first read) and one receive, plus a one-call probe when the connection has been idle. TLS
//! still runs on top of it through the client's own TLS connector.

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

/// Held output is sent once it reaches this size, so a large body streams instead of piling
/// up in memory.
const HOLD_AT_MOST: usize = 16 * 1024;

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
                        held: Vec::new(),
                        held_timeout: None,
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
    /// Output handed over but not sent yet: it goes out with the next output, or before the
    /// next read, since only then must the peer have it.
    held: Vec<u8>,
    /// The write budget of the newest held output.
    held_timeout: Option<(Option<Duration>, Timeout)>,
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
        self.held
            .extend_from_slice(&self.buffers.output()[..amount]);
        self.held_timeout = Some((timeout.not_zero().map(|d| *d), timeout.reason));
        if self.held.len() >= HOLD_AT_MOST {
            self.send_held()?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.send_held()?;
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
    /// Sends the held output in one write, under the newest write budget.
    fn send_held(&mut self) -> Result<(), Error> {
        let Some((budget, reason)) = self.held_timeout.take() else {
            return Ok(());
        };
        let mut stream = &*self.stream;
        rearm(&mut self.write_timeout, budget, |t| {
            stream.set_write_timeout(t)
        })?;
        let sent = stream
            .write_all(&self.held)
            .map_err(|e| io_error(e, reason));
        self.held.clear();
        sent
    }

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

impl Drop for TcpTransport {
    fn drop(&mut self) {
        if self.held.is_empty() {
            return;
        }
        // Only a TLS close notice can still be held here; it is worth one try, not a wait.
        // SAFETY: the pointer and length describe `held`, which outlives the call.
        unsafe {
            libc::send(
                self.stream.as_raw_fd(),
                self.held.as_ptr().cast(),
                self.held.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            );
        }
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

    fn transport(stream: TcpStream) -> TcpTransport {
        TcpTransport {
            stream: Arc::new(stream),
            buffers: LazyBuffers::new(1024, 1024),
            read_timeout: None,
            write_timeout: None,
            probed_open: None,
            held: Vec::new(),
            held_timeout: None,
        }
    }

    fn hand_over(t: &mut TcpTransport, bytes: &[u8]) {
        t.buffers.output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), NextTimeout::default())
            .unwrap();
    }

    #[test]
    fn head_and_body_leave_in_one_write_before_the_first_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut t = transport(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let (mut peer, _) = listener.accept().unwrap();
        hand_over(&mut t, b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n");
        hand_over(&mut t, b"{}");
        peer.set_nonblocking(true).unwrap();
        let mut got = [0u8; 256];
        let early = peer.read(&mut got).map_err(|e| e.kind());
        assert_eq!(
            early,
            Err(io::ErrorKind::WouldBlock),
            "sent before the read"
        );
        peer.set_nonblocking(false).unwrap();
        let answer = std::thread::spawn(move || {
            let n = peer.read(&mut got).unwrap();
            peer.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            got[..n].to_vec()
        });
        assert!(t.await_input(NextTimeout::default()).unwrap());
        let request = answer.join().unwrap();
        assert_eq!(request, b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}");
    }

    #[test]
    fn a_large_body_is_sent_as_it_comes() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut t = transport(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let (mut peer, _) = listener.accept().unwrap();
        for _ in 0..HOLD_AT_MOST / 1024 {
            hand_over(&mut t, &[b'x'; 1024]);
        }
        assert!(t.held.is_empty(), "a full hold is sent at once");
        let mut got = vec![0u8; HOLD_AT_MOST];
        peer.read_exact(&mut got).unwrap();
        assert!(got.iter().all(|b| *b == b'x'));
    }
}
