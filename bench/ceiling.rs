//! The ceilings of fnstress's design, measured the way `bench/peers.py` measures the tools:
//! one blocking thread per connection invoking in a loop, with nothing else.
//!
//! `ceiling socket URL C SECONDS`: a bare loop per thread, one write and reads until the
//! answer's end, no HTTP library. The most any thread-per-connection tool can reach here.
//! `ceiling ureq URL C SECONDS`: the same loop through ureq with fnstress's own transport and
//! a pinned address, but no counting, histograms or channel. What the HTTP client allows.
//!
//! Prints one JSON line: invocations per second and the median latency in milliseconds.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fnstress::engine::transport::TcpConnector;
use hdrhistogram::Histogram;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector, NextTimeout};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, c, secs] = args.as_slice() else {
        eprintln!("usage: ceiling socket|ureq URL CONCURRENCY SECONDS");
        std::process::exit(2);
    };
    let uri: http::Uri = url.parse().expect("URL");
    let host = uri.host().expect("URL host").to_string();
    let port = uri.port_u16().unwrap_or(80);
    let addr = (host.as_str(), port).to_socket_addrs().unwrap().next().unwrap();
    let c: usize = c.parse().expect("concurrency");
    let secs: u64 = secs.parse().expect("seconds");
    let stop = AtomicBool::new(false);
    let all = Mutex::new(Histogram::<u64>::new(3).unwrap());
    std::thread::scope(|s| {
        for _ in 0..c {
            let (stop, all, uri, host) = (&stop, &all, &uri, &host);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(s, move || {
                    let mut hist = Histogram::<u64>::new(3).unwrap();
                    match mode.as_str() {
                        "socket" => socket_loop(addr, host, uri, stop, &mut hist),
                        _ => ureq_loop(addr, uri, stop, &mut hist),
                    }
                    all.lock().unwrap().add(&hist).unwrap();
                })
                .expect("spawn");
        }
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
    });
    let hist = all.into_inner().unwrap();
    println!(
        "{{\"rate_per_s\": {:.1}, \"p50_ms\": {:.4}}}",
        hist.len() as f64 / secs as f64,
        hist.value_at_quantile(0.5) as f64 / 1000.0
    );
}

fn socket_loop(
    addr: SocketAddr,
    host: &str,
    uri: &http::Uri,
    stop: &AtomicBool,
    hist: &mut Histogram<u64>,
) {
    let request = format!("GET {} HTTP/1.1\r\nHost: {host}\r\n\r\n", uri.path());
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 8192];
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        stream.write_all(request.as_bytes()).expect("write");
        let mut got = 0;
        loop {
            let n = stream.read(&mut buf[got..]).expect("read");
            assert!(n > 0, "the server closed the connection");
            got += n;
            if let Some(end) = answer_end(&buf[..got]) {
                assert_eq!(end, got, "one answer at a time");
                break;
            }
        }
        hist.record(sent.elapsed().as_micros() as u64).unwrap();
    }
}

/// Where a complete answer with a Content-Length body ends, once it is all in `buf`.
fn answer_end(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = std::str::from_utf8(&buf[..head]).ok()?;
    let length = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0usize);
    (buf.len() >= head + length).then_some(head + length)
}

#[derive(Debug)]
struct Pinned(SocketAddr);

impl Resolver for Pinned {
    fn resolve(
        &self,
        _: &http::Uri,
        _: &ureq::config::Config,
        _: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        out.push(self.0);
        Ok(out)
    }
}

fn ureq_loop(addr: SocketAddr, uri: &http::Uri, stop: &AtomicBool, hist: &mut Histogram<u64>) {
    // The same client settings as a worker's: see engine/invoke.rs.
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .accept_encoding(ureq::config::AutoHeaderValue::None)
        .input_buffer_size(8 * 1024)
        .output_buffer_size(4 * 1024)
        .build();
    let agent = ureq::Agent::with_parts(config, ().chain(TcpConnector), Pinned(addr));
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let request = http::Request::get(uri.clone()).body(()).unwrap();
        let sent = Instant::now();
        let mut response = agent.run(request).expect("invoke");
        let mut body = response.body_mut().as_reader();
        while body.read(&mut buf).expect("read body") > 0 {}
        hist.record(sent.elapsed().as_micros() as u64).unwrap();
    }
}
