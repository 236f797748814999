//! A misbehaving HTTP server on 127.0.0.1 for the fault tests. It is written on a raw
//! `TcpListener` so every byte on the wire is chosen here, and it counts each request it read,
//! per behaviour, so tests can hold fnstress's counts against what the server really received.
//!
//! The first path segment picks the behaviour:
//!
//! | path | behaviour |
//! |---|---|
//! | `/ok` | 200 `{"ok":true}`, keep-alive |
//! | `/hang` | reads the request, never answers |
//! | `/stall` | headers and 10 of 1000 body bytes, then nothing |
//! | `/close/N` | keep-alive; answer N of a connection says `Connection: close`, then closes |
//! | `/drop/N` | keep-alive; after the N-th answer, closes 30 ms later without reading again |
//! | `/idle/MS` | keep-alive; closes a connection idle for MS milliseconds |
//! | `/http10` | an HTTP/1.0 answer ended by closing the connection |
//! | `/chunked` | 200 with a chunked body of [`CHUNKED_LEN`] bytes, keep-alive |
//! | `/huge` | 200 with a [`HUGE_LEN`]-byte body |
//! | `/badstatus` | a malformed status line |
//! | `/reset` | headers and part of the body, then a TCP reset |
//! | `/throttle` | 429 with `Retry-After: 1`, keep-alive |
//! | `/redirect/N` | 302 to `/redirect/N-1`; `/redirect/0` is 200 |

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Body size of `/huge`: 100 MiB.
pub const HUGE_LEN: u64 = 100 * 1024 * 1024;

/// Body size of `/chunked`: three chunks.
pub const CHUNKED_LEN: u64 = 3 * 1000;

/// How long `/drop/N` keeps a finished connection open before closing it unread, so that the
/// client has sent its next request into it.
const DROP_DELAY: Duration = Duration::from_millis(30);

/// How often blocked connections look at the stop flag.
const TICK: Duration = Duration::from_millis(50);

struct Shared {
    stop: AtomicBool,
    counts: Mutex<HashMap<String, u64>>,
}

/// The fault server; stops accepting and ends its connections when dropped.
pub struct FaultServer {
    /// The port it listens on.
    pub port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultServer {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            counts: Mutex::new(HashMap::new()),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let shared = Arc::clone(&shared);
                        thread::spawn(move || serve(conn, &shared));
                    }
                }
            })
        };
        FaultServer {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests read so far for one behaviour (the first path segment, e.g. `"drop"`).
    pub fn count(&self, behaviour: &str) -> u64 {
        let counts = self.shared.counts.lock().unwrap();
        counts.get(behaviour).copied().unwrap_or(0)
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept so the acceptor sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}

/// Serves one connection until a behaviour or the client ends it.
fn serve(mut conn: TcpStream, shared: &Shared) {
    conn.set_read_timeout(Some(TICK)).unwrap();
    let mut pending = Vec::new();
    let mut answered = 0u64;
    loop {
        let Some(path) = read_request(&mut conn, &mut pending, shared) else {
            return;
        };
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let behaviour = parts.next().unwrap_or("").to_string();
        let arg: u64 = parts.next().and_then(|a| a.parse().ok()).unwrap_or(1);
        *shared
            .counts
            .lock()
            .unwrap()
            .entry(behaviour.clone())
            .or_default() += 1;
        answered += 1;
        let keep = match behaviour.as_str() {
            "ok" => write(&mut conn, &ok_answer("")),
            "hang" => return hold(&mut conn, shared),
            "stall" => {
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
                let _ = conn.write_all(head.as_bytes());
                return hold(&mut conn, shared);
            }
            "close" if answered.is_multiple_of(arg) => {
                let _ = conn.write_all(ok_answer("Connection: close\r\n").as_bytes());
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            "close" => write(&mut conn, &ok_answer("")),
            "drop" if answered.is_multiple_of(arg) => {
                let _ = conn.write_all(ok_answer("").as_bytes());
                thread::sleep(DROP_DELAY);
                // Closing with the next request unread makes the kernel send a reset.
                return;
            }
            "drop" => write(&mut conn, &ok_answer("")),
            "idle" => write(&mut conn, &ok_answer("")) && next_within(&conn, &pending, arg),
            "http10" => {
                let body = r#"{"ok":true}"#;
                let answer =
                    format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}");
                let _ = conn.write_all(answer.as_bytes());
                return;
            }
            "chunked" => write(&mut conn, &chunked_answer()),
            "huge" => return huge(&mut conn),
            "badstatus" => {
                let _ = conn.write_all(b"HTTP/1.1 twohundred OK\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            "reset" => {
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
                let _ = conn.write_all(format!("{head}{}", "x".repeat(100)).as_bytes());
                thread::sleep(Duration::from_millis(20));
                reset(conn);
                return;
            }
            "throttle" => write(
                &mut conn,
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
            ),
            "redirect" if arg > 0 => write(
                &mut conn,
                &format!(
                    "HTTP/1.1 302 Found\r\nLocation: /redirect/{}\r\nContent-Length: 0\r\n\r\n",
                    arg - 1
                ),
            ),
            "redirect" => write(&mut conn, &ok_answer("")),
            _ => write(
                &mut conn,
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            ),
        };
        if !keep {
            return;
        }
    }
}

fn ok_answer(extra: &str) -> String {
    let body = r#"{"ok":true}"#;
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\n\r\n\
         {body}",
        body.len()
    )
}

fn chunked_answer() -> String {
    let chunk = "c".repeat(1000);
    let mut s = String::from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        s.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    s.push_str("0\r\n\r\n");
    s
}

/// Writes a whole answer; false when the client is gone.
fn write(conn: &mut TcpStream, answer: &str) -> bool {
    conn.write_all(answer.as_bytes()).is_ok()
}

/// Sends the 100 MiB body until done or until the client closes.
fn huge(conn: &mut TcpStream) {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {HUGE_LEN}\r\n\r\n");
    if conn.write_all(head.as_bytes()).is_err() {
        return;
    }
    let block = vec![b'h'; 64 * 1024];
    let mut left = HUGE_LEN;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        if conn.write_all(&block[..n]).is_err() {
            return;
        }
        left -= n as u64;
    }
}

/// Keeps the connection open without answering until the client leaves or the server stops.
fn hold(conn: &mut TcpStream, shared: &Shared) {
    let mut buf = [0u8; 1024];
    while !shared.stop.load(Ordering::SeqCst) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Closes with a TCP reset instead of an orderly close.
fn reset(conn: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: sets SO_LINGER on a socket this function owns, with a correctly sized value.
    unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&conn),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(conn);
}

/// True when the next request starts within `idle_ms`; the connection is then kept.
fn next_within(conn: &TcpStream, pending: &[u8], idle_ms: u64) -> bool {
    if !pending.is_empty() {
        return true;
    }
    conn.set_read_timeout(Some(Duration::from_millis(idle_ms.max(1))))
        .unwrap();
    let arrived = matches!(conn.peek(&mut [0u8; 1]), Ok(n) if n > 0);
    conn.set_read_timeout(Some(TICK)).unwrap();
    arrived
}

/// Reads one request (head and Content-Length body) and returns its path.
fn read_request(conn: &mut TcpStream, pending: &mut Vec<u8>, shared: &Shared) -> Option<String> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some((len, path)) = complete_request(pending) {
            pending.drain(..len);
            return Some(path);
        }
        if shared.stop.load(Ordering::SeqCst) {
            return None;
        }
        match conn.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
}

/// The length and path of the first complete request in `data`.
fn complete_request(data: &[u8]) -> Option<(usize, String)> {
    let head_end = data.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&data[..head_end]);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let body_len = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (data.len() >= head_end + body_len).then_some((head_end + body_len, path))
}
