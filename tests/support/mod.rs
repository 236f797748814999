//! Shared helpers of the `run_*` integration tests: a counting HTTP server on 127.0.0.1, a
//! minimal keep-alive responder for very many connections, temporary directories, and ways to
//! run the real `fnstress` binary with a time limit.
//!
//! Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod faults;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_fnstress");

/// How long any single run of the binary may take before the test gives up on it; far above
/// what every test needs, so it only fires on a hang.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

static HEAVY: Mutex<()> = Mutex::new(());

/// Serializes tests that load the machine (thousands of threads) or measure time, so they
/// neither disturb each other nor run beside one another on a small CI machine.
pub fn heavy() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one can still run safely.
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the test server saw.
#[derive(Default)]
struct Seen {
    total: AtomicU64,
    per_path: Mutex<HashMap<String, u64>>,
    operations: Mutex<HashMap<String, u64>>,
    last_headers: Mutex<Vec<(String, String)>>,
}

/// A `tiny_http` server on 127.0.0.1 that counts every request it receives.
///
/// Routes: `/ok` (200 `{"ok":true}`), `/status/N` (status N), `/sleep/MS` (sleep, then 200),
/// `/lambda-error` (200 with `X-Amz-Function-Error: Unhandled`),
/// `/2015-03-31/functions/NAME/invocations` (200, with that header when NAME is `fails`),
/// `/run/NAME` (200 echoing the body); anything else is 404.
pub struct TestServer {
    server: Arc<tiny_http::Server>,
    seen: Arc<Seen>,
    /// The port it listens on.
    pub port: u16,
    dispatchers: Vec<JoinHandle<()>>,
}

/// Threads taking requests off `tiny_http`'s queue; slow routes get a thread of their own so a
/// sleeping answer never holds up the others.
const DISPATCHERS: usize = 4;

impl TestServer {
    /// Starts the server on a free port.
    pub fn start() -> TestServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("a TCP listener").port();
        let seen = Arc::new(Seen::default());
        let dispatchers = (0..DISPATCHERS)
            .map(|_| {
                let server = Arc::clone(&server);
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    while let Ok(request) = server.recv() {
                        handle(request, &seen);
                    }
                })
            })
            .collect();
        TestServer {
            server,
            seen,
            port,
            dispatchers,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Requests received so far, on every path.
    pub fn count(&self) -> u64 {
        self.seen.total.load(Ordering::SeqCst)
    }

    /// Requests received so far on one path.
    pub fn path_count(&self, path: &str) -> u64 {
        let map = self.seen.per_path.lock().unwrap();
        map.get(path).copied().unwrap_or(0)
    }

    /// Requests per `"operation"` field of a JSON body.
    pub fn operations(&self) -> HashMap<String, u64> {
        self.seen.operations.lock().unwrap().clone()
    }

    /// A header of the last request (name compared without case).
    pub fn last_header(&self, name: &str) -> Option<String> {
        let headers = self.seen.last_headers.lock().unwrap();
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        for _ in 0..DISPATCHERS {
            self.server.unblock();
        }
        for d in self.dispatchers.drain(..) {
            let _ = d.join();
        }
    }
}

fn handle(mut request: tiny_http::Request, seen: &Arc<Seen>) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    seen.total.fetch_add(1, Ordering::SeqCst);
    *seen
        .per_path
        .lock()
        .unwrap()
        .entry(path.clone())
        .or_default() += 1;
    *seen.last_headers.lock().unwrap() = request
        .headers()
        .iter()
        .map(|h| (h.field.to_string(), h.value.to_string()))
        .collect();
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(&body) {
        if let Some(op) = obj.get("operation").and_then(Value::as_str) {
            *seen
                .operations
                .lock()
                .unwrap()
                .entry(op.into())
                .or_default() += 1;
        }
    }

    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ok = || tiny_http::Response::from_string(r#"{"ok":true}"#);
    let function_error =
        || tiny_http::Header::from_bytes(&b"X-Amz-Function-Error"[..], &b"Unhandled"[..]).unwrap();
    let response = match segments.as_slice() {
        ["ok"] => ok(),
        ["status", n] => ok().with_status_code(n.parse::<u16>().unwrap_or(400)),
        ["sleep", ms] => {
            let ms: u64 = ms.parse().unwrap_or(0);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(ms));
                let _ = request.respond(ok());
            });
            return;
        }
        ["lambda-error"] => ok().with_header(function_error()),
        ["2015-03-31", "functions", "fails", "invocations"] => ok().with_header(function_error()),
        ["2015-03-31", "functions", _, "invocations"] => ok(),
        ["run", _] => tiny_http::Response::from_data(body),
        _ => ok().with_status_code(404),
    };
    let _ = request.respond(response);
}

/// A bare keep-alive HTTP/1.1 responder for thousands of simultaneous connections: one
/// thread multiplexing every connection with epoll, every request answered 200 `{"ok":true}`
/// and counted. `tiny_http` would start a thread per connection, which on a small machine
/// competes with the thousands of worker threads under test.
pub struct ManyConnServer {
    /// The port it listens on.
    pub port: u16,
    total: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    looper: Option<JoinHandle<()>>,
}

impl ManyConnServer {
    /// Starts the responder on a free port.
    pub fn start() -> ManyConnServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        // A deep accept queue, so that a burst of connects is not dropped and retried after
        // the kernel's one-second SYN back-off; the kernel caps it at net.core.somaxconn.
        // SAFETY: listen on a socket this process owns; it only changes the queue length.
        unsafe { libc::listen(listener.as_raw_fd(), 65_535) };
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let total = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let failure = Arc::new(Mutex::new(None));
        let looper = {
            let total = Arc::clone(&total);
            let stop = Arc::clone(&stop);
            let failure = Arc::clone(&failure);
            thread::spawn(move || event_loop(listener, &total, &stop, &failure))
        };
        ManyConnServer {
            port,
            total,
            stop,
            failure,
            looper: Some(looper),
        }
    }

    /// Requests answered so far.
    pub fn count(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// The first error that stopped connections from being accepted, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap().clone()
    }
}

impl Drop for ManyConnServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(l) = self.looper.take() {
            let _ = l.join();
        }
    }
}

const OK_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

fn epoll_add(epfd: i32, fd: i32) {
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: fd as u64,
    };
    // SAFETY: registers a descriptor this thread owns with its own epoll instance.
    let rc = unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) };
    assert_eq!(rc, 0, "epoll_ctl");
}

fn event_loop(
    listener: TcpListener,
    total: &AtomicU64,
    stop: &AtomicBool,
    failure: &Mutex<Option<String>>,
) {
    // SAFETY: creates an epoll instance that this function closes before returning.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epfd >= 0, "epoll_create1");
    let lfd = listener.as_raw_fd();
    epoll_add(epfd, lfd);
    let mut conns: HashMap<i32, (TcpStream, Vec<u8>)> = HashMap::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::SeqCst) {
        // SAFETY: the buffer holds `events.len()` entries; a 50 ms wait lets `stop` be seen.
        let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), events.len() as i32, 50) };
        for ev in events.iter().take(n.max(0) as usize) {
            let fd = ev.u64 as i32;
            if fd == lfd {
                loop {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            conn.set_nonblocking(true).unwrap();
                            epoll_add(epfd, conn.as_raw_fd());
                            conns.insert(conn.as_raw_fd(), (conn, Vec::new()));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        // Out of descriptors, say: the clients would wait for their timeout,
                        // so the failure is kept for the test to report instead.
                        Err(e) => {
                            failure.lock().unwrap().get_or_insert(e.to_string());
                            break;
                        }
                    }
                }
                continue;
            }
            let Some((conn, pending)) = conns.get_mut(&fd) else {
                continue;
            };
            if !read_and_answer(conn, pending, &mut buf, total) {
                // Closing the socket also drops it from the epoll set.
                conns.remove(&fd);
            }
        }
    }
    // SAFETY: closes the epoll instance created above.
    unsafe { libc::close(epfd) };
}

/// Reads what arrived and answers every complete request; false when the connection is over.
fn read_and_answer(
    conn: &mut TcpStream,
    pending: &mut Vec<u8>,
    buf: &mut [u8],
    total: &AtomicU64,
) -> bool {
    loop {
        match conn.read(buf) {
            Ok(0) => return false,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(_) => return false,
        }
    }
    while let Some(len) = complete_request_len(pending) {
        pending.drain(..len);
        total.fetch_add(1, Ordering::SeqCst);
        // An answer this small always fits an idle socket's send buffer; a client that
        // stopped reading is a broken client, and its connection is dropped.
        if conn.write_all(OK_ANSWER).is_err() {
            return false;
        }
    }
    true
}

/// The length of the first complete request (head plus Content-Length body) in `data`.
fn complete_request_len(data: &[u8]) -> Option<usize> {
    let head_end = data.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&data[..head_end]);
    let body_len = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (data.len() >= head_end + body_len).then_some(head_end + body_len)
}

/// Raises this process's soft limit of open files to at least `needed`, for a server that
/// holds one descriptor per connection; fails the test when the hard limit is lower.
pub fn raise_open_files(needed: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct they are given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur >= needed {
            return;
        }
        assert!(
            lim.rlim_max >= needed,
            "the test needs {needed} open files but the hard limit is {} (ulimit -Hn)",
            lim.rlim_max
        );
        lim.rlim_cur = needed;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

/// A port on 127.0.0.1 that nothing listens on: bound, then released.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "fnstress-{label}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it, as a string for command lines.
    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The end of one run of the binary.
#[derive(Debug)]
pub struct Output {
    /// Exit code; -1 when a signal ended the process.
    pub code: i32,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// Wall-clock time from the spawn to the exit.
    pub elapsed: Duration,
}

impl Output {
    /// Parses stdout as the JSON report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A running binary whose output is being collected.
pub struct Running {
    child: Child,
    started: Instant,
    stdout: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

/// Starts `fnstress ARGS` with a clean environment for the secrets it reads.
pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("FNSTRESS_API_KEY")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("FNSTRESS_SIGV4_TIME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("start fnstress");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    // Both pipes are drained on threads so that a full pipe can never stall the child.
    let stdout = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let stderr = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    Running {
        child,
        started,
        stdout,
        stderr,
    }
}

impl Running {
    /// The process id, for signals.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Sends a signal such as `libc::SIGINT`.
    pub fn signal(&self, sig: i32) {
        // SAFETY: kill only sends a signal to the child this test started and still owns.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.pid());
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Waits for the exit, killing the process and failing the test after `limit`.
    pub fn wait(mut self, limit: Duration) -> Output {
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("fnstress did not exit within {limit:?}");
            }
            thread::sleep(Duration::from_millis(5));
        };
        let elapsed = self.started.elapsed();
        Output {
            code: status.code().unwrap_or(-1),
            stdout: self.stdout.join().unwrap(),
            stderr: self.stderr.join().unwrap(),
            elapsed,
        }
    }
}

/// Runs `fnstress ARGS` to the end.
pub fn run(args: &[&str]) -> Output {
    spawn(args, &[]).wait(RUN_LIMIT)
}

/// Runs `fnstress ARGS` with extra environment variables.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    spawn(args, env).wait(RUN_LIMIT)
}

/// Runs and requires exit code 0, showing stderr otherwise.
pub fn run_ok(args: &[&str]) -> Output {
    let out = run(args);
    assert_eq!(out.code, 0, "fnstress {args:?} failed:\n{}", out.stderr);
    out
}

/// Reads a JSON report file.
pub fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON ({e})"))
}

/// A JSON number as u64, failing loudly when the field is missing.
pub fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("'{key}' is not a whole number in {v}"))
}

/// Sum of one field over an array of objects.
pub fn sum(list: &Value, key: &str) -> u64 {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|item| num(item, key))
        .sum()
}

/// Polls until `cond` holds, failing after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}
