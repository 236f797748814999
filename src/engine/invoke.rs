//! One blocking HTTP invocation and its classification into an outcome kind. Each worker owns
//! one `Invoker` (and so one keep-alive connection).
//!
//! Two client rules live here. An invocation that went out on a reused connection which the
//! server had already closed, with no byte of an answer back, is sent once more on a new
//! connection: the server never read it, so it is no failure of the target. And a body is read
//! up to `--max-body`; past that the connection is closed rather than drained, so a huge
//! answer costs neither memory nor the time of its transfer.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE};
use http::{Method, Uri};
use ureq::tls::TlsConfig;
use ureq::unversioned::transport::{Connector, RustlsConnector};
use ureq::Agent;

/// Room for the status line and headers of an answer (the client grows it for larger
/// heads), and for body chunks.
const INPUT_BUFFER: usize = 8 * 1024;
/// Chunk size for reading answer bodies, which are counted and dropped.
const DRAIN_BUFFER: usize = 4 * 1024;
/// Room for the request line, headers and body chunks.
const OUTPUT_BUFFER: usize = 4 * 1024;

use super::conn_watch::{Watch, Watcher};
use super::connections::CountingConnector;
use super::resolve::PinnedResolver;
use super::transport::TcpConnector;
use crate::config::RunConfig;
use crate::lambda::{self, Signer};
use crate::outcome::Kind;

/// What one invocation produced, before timing is attached.
#[derive(Debug)]
pub struct Answer {
    /// How it ended.
    pub kind: Kind,
    /// HTTP status, 0 when none.
    pub status: u16,
    /// Body bytes read.
    pub bytes: u64,
    /// Error text for the report.
    pub detail: Option<Box<str>>,
    /// When the request was handed to the client: latency runs from here, so building the
    /// request is not counted.
    pub sent: Instant,
    /// Init duration from the log tail when it reported a cold start.
    pub init_us: Option<u32>,
    /// True when a new connection was opened for this invocation.
    pub connected: bool,
    /// Sent a second time because the reused connection was closed before any answer.
    pub resent: bool,
    /// The body was longer than `--max-body` and was cut there.
    pub truncated: bool,
    /// The server closed a reused connection before answering (only seen inside `invoke`).
    closed_unanswered: bool,
}

/// A worker's HTTP client.
pub struct Invoker {
    agent: Agent,
    watch: Arc<Watch>,
    method: Method,
    /// Endpoint of each function of the run.
    uris: Vec<Uri>,
    headers: Vec<(HeaderName, HeaderValue)>,
    sends_body: bool,
    max_body: u64,
    buf: Vec<u8>,
    timeout: Duration,
    signer: Option<Signer>,
    log_tail: bool,
    /// Connections opened so far by this client.
    opened: Arc<AtomicU64>,
    /// Invocations a connection may carry before it is closed; `None` keeps it open.
    per_connection: Option<u64>,
    /// Invocations sent on the current connection.
    on_connection: u64,
}

impl Invoker {
    /// Builds the client of one worker from the run's settings.
    pub fn new(cfg: &RunConfig, resolver: &PinnedResolver) -> Invoker {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(cfg.client.follow_redirects)
            .max_redirects_will_error(false)
            .timeout_connect(Some(cfg.connect_timeout))
            .timeout_global(Some(cfg.timeout))
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            .tls_config(
                TlsConfig::builder()
                    .disable_verification(cfg.client.insecure)
                    .build(),
            )
            .user_agent(concat!("fnstress/", env!("CARGO_PKG_VERSION")))
            // Ask for answers as the target sends them by default: decompressing would be work
            // of the client's own, and the byte counts would no longer be what crossed the wire.
            .accept_encoding(ureq::config::AutoHeaderValue::None)
            // The defaults (128 KiB each way) cost a quarter of a megabyte per worker; answers
            // are drained in chunks and requests are small, so a few KiB each suffice.
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(OUTPUT_BUFFER)
            .build();
        let opened = Arc::new(AtomicU64::new(0));
        let watch = Arc::new(Watch::default());
        let counting = CountingConnector {
            inner: ().chain(TcpConnector).chain(RustlsConnector::default()),
            opened: Arc::clone(&opened),
        };
        let connector = Watcher::new(counting, Arc::clone(&watch));
        let agent = Agent::with_parts(config, connector, resolver.clone());
        let method = cfg.target.method.clone();
        // The generated event goes only with methods that carry a body; a body the user gave
        // goes with any method, as curl, hey and oha send it.
        let sends_body = cfg.workload.is_users_body()
            || !matches!(
                method,
                Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
            );
        let mut headers = Vec::new();
        let has_content_type = cfg
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        if sends_body && !has_content_type {
            headers.push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        }
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes()).expect("validated in config");
            headers.push((name, HeaderValue::from_str(v).expect("validated in config")));
        }
        if let Some(key) = &cfg.api_key {
            let mut v = HeaderValue::from_str(key).unwrap_or(HeaderValue::from_static(""));
            v.set_sensitive(true);
            headers.push((HeaderName::from_static("x-api-key"), v));
        }
        if let Some(kind) = &cfg.lambda.invocation_type {
            let v = HeaderValue::from_str(kind).expect("validated in config");
            headers.push((HeaderName::from_static("x-amz-invocation-type"), v));
        }
        if cfg.lambda.log_tail {
            let v = HeaderValue::from_static("Tail");
            headers.push((HeaderName::from_static("x-amz-log-type"), v));
        }
        Invoker {
            agent,
            watch,
            method,
            uris: cfg.functions.iter().map(|f| f.uri.clone()).collect(),
            headers,
            sends_body,
            max_body: cfg.client.max_body,
            buf: vec![0; DRAIN_BUFFER],
            timeout: cfg.timeout,
            signer: cfg.lambda.signer.clone(),
            log_tail: cfg.lambda.log_tail,
            opened,
            per_connection: cfg.per_connection,
            on_connection: 0,
        }
    }

    /// Makes one invocation of function `function` that must end within `timeout`, sending it
    /// a second time only when the server closed the reused connection without reading it.
    pub fn invoke(&mut self, function: usize, body: &[u8], timeout: Duration) -> Answer {
        let opened_before = self.opened.load(Ordering::Relaxed);
        // The last invocation a connection may carry asks for it to be closed, which both
        // ends and the client's pool honour.
        let closing = self
            .per_connection
            .is_some_and(|n| self.on_connection + 1 >= n);
        let mut answer = self.send(function, body, timeout, closing);
        let left = timeout.saturating_sub(answer.sent.elapsed());
        if answer.closed_unanswered && !left.is_zero() {
            // Latency runs from the first send: the client's reconnect is part of the wait.
            let again = self.send(function, body, left, closing);
            answer = Answer {
                sent: answer.sent,
                resent: true,
                ..again
            };
        }
        answer.connected = self.opened.load(Ordering::Relaxed) != opened_before;
        self.on_connection = match (closing, answer.connected) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => self.on_connection + 1,
        };
        answer
    }

    /// Sends one request, asking to close the connection after it when `closing`.
    fn send(&mut self, function: usize, body: &[u8], timeout: Duration, closing: bool) -> Answer {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.uris[function].clone());
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        if closing {
            builder = builder.header(CONNECTION, HeaderValue::from_static("close"));
        }
        let body = if self.sends_body { body } else { &[][..] };
        let mut request = builder.body(body).expect("parts were validated");
        if let Some(signer) = &self.signer {
            if let Err(e) = signer.sign(&mut request) {
                return answer(Kind::IoError, e);
            }
        }
        self.watch.reset();
        let sent = Instant::now();
        let ran = if self.sends_body {
            self.run(request, timeout)
        } else {
            // Without a body the request carries no `content-length: 0` either, as peers send it.
            let (parts, _) = request.into_parts();
            self.run(http::Request::from_parts(parts, ()), timeout)
        };
        let mut response = match ran {
            Ok(r) => r,
            Err(e) => {
                let mut a = Answer {
                    sent,
                    ..classify_error(e)
                };
                if a.kind == Kind::IoError && self.watch.failed_connecting() {
                    a.kind = Kind::ConnectError;
                }
                a.closed_unanswered = a.kind == Kind::IoError && self.watch.reused_and_silent();
                return a;
            }
        };
        let status = response.status().as_u16();
        let init_us = match self.log_tail {
            true => response
                .headers()
                .get("x-amz-log-result")
                .and_then(|v| lambda::init_duration_us(v.as_bytes())),
            false => None,
        };
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut reader = response.body_mut().as_reader();
        let (bytes, truncated) = match read_limited(&mut reader, &mut self.buf, self.max_body) {
            Ok(read) => read,
            Err((e, bytes)) => {
                let mut a = classify_io(&e, true);
                a.status = status;
                a.bytes = bytes;
                a.sent = sent;
                a.init_us = init_us;
                return a;
            }
        };
        let (kind, detail) = match status {
            200..=299 => match function_error {
                Some(marker) => (
                    Kind::FunctionError,
                    Some(format!("function error: {marker}")),
                ),
                None => (Kind::Success, None),
            },
            429 => (Kind::Throttled, None),
            _ => (Kind::HttpError, None),
        };
        Answer {
            kind,
            status,
            bytes,
            detail: detail.map(Into::into),
            sent,
            init_us,
            connected: false,
            resent: false,
            truncated,
            closed_unanswered: false,
        }
    }
}

impl Invoker {
    /// Runs one request on the agent within `timeout`.
    fn run<B: ureq::AsSendBody>(
        &self,
        request: http::Request<B>,
        timeout: Duration,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        // The agent already carries the run's timeout; a request of its own is configured only
        // near the deadline, where the budget is shorter.
        if timeout < self.timeout {
            let request = self
                .agent
                .configure_request(request)
                .timeout_global(Some(timeout))
                .build();
            return self.agent.run(request);
        }
        self.agent.run(request)
    }
}

/// Reads a body through `buf` up to `limit` bytes; returns the bytes read and whether more
/// followed. Dropping the reader early makes the client close the connection, which is the
/// point: the rest of the body is never transferred.
fn read_limited(
    reader: &mut impl Read,
    buf: &mut [u8],
    limit: u64,
) -> Result<(u64, bool), (io::Error, u64)> {
    let mut bytes = 0u64;
    loop {
        let room = (limit - bytes).min(buf.len() as u64) as usize;
        // At the limit one more byte tells a body of exactly `limit` from a longer one.
        let want = if room == 0 { 1 } else { room };
        match reader.read(&mut buf[..want]) {
            Ok(0) => return Ok((bytes, false)),
            Ok(_) if room == 0 => return Ok((bytes, true)),
            Ok(n) => bytes += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, bytes)),
        }
    }
}

fn answer(kind: Kind, detail: String) -> Answer {
    Answer {
        sent: Instant::now(),
        kind,
        status: 0,
        bytes: 0,
        detail: Some(detail.into()),
        init_us: None,
        connected: false,
        resent: false,
        truncated: false,
        closed_unanswered: false,
    }
}

/// Maps a client error to an outcome kind.
fn classify_error(e: ureq::Error) -> Answer {
    match e {
        ureq::Error::Timeout(t) => answer(Kind::Timeout, timeout_text(t)),
        ureq::Error::ConnectionFailed => answer(Kind::ConnectError, "connection failed".into()),
        ureq::Error::HostNotFound => answer(Kind::ConnectError, "host not found".into()),
        ureq::Error::Io(io) => classify_io(&io, false),
        ureq::Error::Tls(m) => answer(Kind::ConnectError, format!("tls: {m}")),
        ureq::Error::Protocol(p) => answer(Kind::IoError, format!("malformed response: {p}")),
        other => answer(Kind::IoError, other.to_string()),
    }
}

/// Says which phase ran out of time, in the words of the flags that set the limits.
fn timeout_text(t: ureq::Timeout) -> String {
    match t {
        ureq::Timeout::Connect => "no connection within --connect-timeout".into(),
        ureq::Timeout::Resolve => "name not resolved within --timeout".into(),
        _ => "no complete answer within --timeout".into(),
    }
}

/// Maps an I/O error to an outcome kind; `in_body` tells that headers were already received.
fn classify_io(e: &io::Error, in_body: bool) -> Answer {
    use io::ErrorKind as K;
    let text = e.to_string();
    match e.kind() {
        K::TimedOut | K::WouldBlock => answer(
            Kind::Timeout,
            "no complete answer within --timeout (reading the body)".into(),
        ),
        K::ConnectionRefused | K::AddrNotAvailable | K::HostUnreachable | K::NetworkUnreachable
            if !in_body =>
        {
            answer(Kind::ConnectError, text)
        }
        _ if text.contains("timed out") || text.contains("timeout") => answer(
            Kind::Timeout,
            format!("no complete answer within --timeout ({text})"),
        ),
        _ => answer(Kind::IoError, text),
    }
}
