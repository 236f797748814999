//! The ceilings of fnstress's design, measured the way `bench/peers.py` measures the tools:
//! one blocking thread per connection invoking in a loop, with nothing else.
//!
//! `ceiling socket URL C SECONDS`: a bare loop per thread, one write and reads until the
//! answer's end, no HTTP library. The most any thread-per-connection tool can reach here.
//! `ceiling ureq URL C SECONDS`: the same loop through ureq with fnstress's own transport and
//! a pinned address, but no counting, histograms or channel. What the HTTP client allows.
//!
//! Prints one JSON line: invocations per second and the median latency in milliseconds. Bad
//! arguments exit 2 with one line; a failure of the target (refused, stalled for 10 s, a
//! broken answer) exits 1 naming it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fnstress::engine::resolve::PinnedResolver;
use fnstress::engine::transport::TcpConnector;
use fnstress::target::{Route, Target};
use hdrhistogram::Histogram;
use ureq::unversioned::transport::Connector;

/// Socket timeouts: a target that stops answering ends the measurement with an error.
const STALL: Duration = Duration::from_secs(10);

struct Args {
    ureq: bool,
    uri: http::Uri,
    addr: SocketAddr,
    resolver: PinnedResolver,
    concurrency: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, c, secs] = args.as_slice() else {
        return Err("usage: ceiling socket|ureq URL CONCURRENCY SECONDS".into());
    };
    let ureq = match mode.as_str() {
        "socket" => false,
        "ureq" => true,
        _ => return Err(format!("mode {mode:?}: accepted are socket and ureq")),
    };
    // The URL is read as `fnstress run --url` reads it, port checks included.
    let target = Target::new("ceiling", url, Route::Url, http::Method::GET, "URL")
        .map_err(|e| e.to_string())?;
    if target.uri.scheme_str() != Some("http") {
        return Err(format!(
            "URL {url:?}: accepted is plain http://HOST[:PORT]/PATH"
        ));
    }
    let resolver = PinnedResolver::new(&target);
    let addr = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("URL {url:?}: cannot resolve {}", target.host))?;
    let concurrency = c
        .parse()
        .ok()
        .filter(|n| (1..=100_000).contains(n))
        .ok_or_else(|| format!("CONCURRENCY {c:?}: accepted is a whole number 1 to 100000"))?;
    let seconds = secs
        .parse()
        .ok()
        .filter(|n| (1..=3600).contains(n))
        .ok_or_else(|| format!("SECONDS {secs:?}: accepted is a whole number 1 to 3600"))?;
    Ok(Args {
        ureq,
        uri: target.uri,
        addr,
        resolver,
        concurrency,
        seconds,
    })
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ceiling: {e}");
            std::process::exit(2);
        }
    };
    let stop = AtomicBool::new(false);
    let failure = OnceLock::new();
    let all = Mutex::new(Histogram::<u64>::new(3).unwrap());
    std::thread::scope(|s| {
        for _ in 0..args.concurrency {
            let (stop, all, failure, args) = (&stop, &all, &failure, &args);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, move || {
                    let mut hist = Histogram::<u64>::new(3).unwrap();
                    let ran = match args.ureq {
                        false => socket_loop(args, stop, &mut hist),
                        true => ureq_loop(args, stop, &mut hist),
                    };
                    if let Err(e) = ran {
                        let _ = failure.set(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                    all.lock().unwrap().add(&hist).unwrap();
                })
                .expect("spawn");
        }
        let end = Instant::now() + Duration::from_secs(args.seconds);
        while !stop.load(Ordering::Relaxed) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    if let Some(e) = failure.get() {
        eprintln!("ceiling: {e}");
        std::process::exit(1);
    }
    let hist = all.into_inner().unwrap();
    println!(
        "{{\"rate_per_s\": {:.1}, \"p50_ms\": {:.4}}}",
        hist.len() as f64 / args.seconds as f64,
        hist.value_at_quantile(0.5) as f64 / 1000.0
    );
}

/// Names a socket failure the way a user reads it.
fn io_failure(addr: SocketAddr, what: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!(
                "{addr}: no answer within {} s while {what}",
                STALL.as_secs()
            )
        }
        _ => format!("{addr}: {what}: {e}"),
    }
}

fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream =
        TcpStream::connect_timeout(&addr, STALL).map_err(|e| io_failure(addr, "connecting", &e))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(STALL))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(STALL))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}

/// One write and reads until the answer's end. A keep-alive connection the server closed or
/// reset before answering is opened again and the request sent once more, and one whose
/// answer said `Connection: close` is replaced before the next request.
fn socket_loop(args: &Args, stop: &AtomicBool, hist: &mut Histogram<u64>) -> Result<(), String> {
    let target = args.uri.path_and_query().map_or("/", |p| p.as_str());
    let host = args.uri.authority().map_or("", |a| a.as_str());
    let request = format!(
        "GET {target} HTTP/1.1\r\nuser-agent: ceiling\r\naccept: */*\r\nhost: {host}\r\n\r\n"
    );
    let addr = args.addr;
    let mut stream = Some(connect(addr)?);
    let mut buf = vec![0u8; 8192];
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let (got, close) = loop {
            let (conn, fresh) = match stream.take() {
                Some(s) => (s, false),
                None => (connect(addr)?, true),
            };
            match exchange(&conn, request.as_bytes(), &mut buf) {
                Ok(answer) => {
                    stream = Some(conn);
                    break answer;
                }
                // Nothing came back on a reused connection: the server had closed it.
                Err((0, e)) if !fresh && closed(&e) => continue,
                Err((_, e)) => return Err(io_failure(addr, "waiting for the answer", &e)),
            }
        };
        let status = buf[..got]
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok());
        let status = status.unwrap_or("?");
        if !status.starts_with('2') {
            return Err(format!(
                "{addr}: the target answered {status}; a 2xx URL is needed"
            ));
        }
        if close {
            stream = None;
        }
        hist.record(sent.elapsed().as_micros() as u64).unwrap();
    }
    Ok(())
}

fn closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe
    )
}

/// Sends one request and reads its whole answer into `buf`: the answer's length and whether
/// it asked to close the connection, or the bytes read before a failure and the failure.
fn exchange(
    mut conn: &TcpStream,
    request: &[u8],
    buf: &mut [u8],
) -> Result<(usize, bool), (usize, std::io::Error)> {
    use std::io::{Error, ErrorKind};
    conn.write_all(request).map_err(|e| (0, e))?;
    let mut got = 0;
    loop {
        let n = conn.read(&mut buf[got..]).map_err(|e| (got, e))?;
        if n == 0 {
            return Err((
                got,
                Error::new(ErrorKind::UnexpectedEof, "closed by the server"),
            ));
        }
        got += n;
        if let Some((end, close)) = answer_end(&buf[..got]) {
            if end != got {
                return Err((got, Error::other("more than one answer arrived")));
            }
            return Ok((got, close));
        }
        if got == buf.len() {
            return Err((got, Error::other("an answer larger than 8 KiB")));
        }
    }
}

/// Where a complete answer with a Content-Length body ends, once it is all in `buf`, and
/// whether it says `Connection: close`.
fn answer_end(buf: &[u8]) -> Option<(usize, bool)> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..head]).ok()?;
    let mut length = 0usize;
    let mut close = false;
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.eq_ignore_ascii_case("content-length") {
            length = v.trim().parse().ok()?;
        } else if k.eq_ignore_ascii_case("connection") {
            close = v.trim().eq_ignore_ascii_case("close");
        }
    }
    (buf.len() >= head + length).then_some((head + length, close))
}

fn ureq_loop(args: &Args, stop: &AtomicBool, hist: &mut Histogram<u64>) -> Result<(), String> {
    // The same client settings as a worker's: see engine/invoke.rs.
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(STALL))
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .accept_encoding(ureq::config::AutoHeaderValue::None)
        .input_buffer_size(8 * 1024)
        .output_buffer_size(4 * 1024)
        .build();
    let agent = ureq::Agent::with_parts(config, ().chain(TcpConnector), args.resolver.clone());
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let request = http::Request::get(args.uri.clone()).body(()).unwrap();
        let sent = Instant::now();
        let mut response = agent.run(request).map_err(|e| match e {
            ureq::Error::Timeout(_) => {
                format!("{}: no answer within {} s", args.addr, STALL.as_secs())
            }
            e => format!("{}: {e}", args.addr),
        })?;
        if !response.status().is_success() {
            return Err(format!(
                "{}: the target answered {}; a 2xx URL is needed",
                args.addr,
                response.status().as_u16()
            ));
        }
        let mut body = response.body_mut().as_reader();
        while body.read(&mut buf).map_err(|e| e.to_string())? > 0 {}
        hist.record(sent.elapsed().as_micros() as u64).unwrap();
    }
    Ok(())
}
