//! Open model, coordinated-omission correction, think time and ramps, against a keep-alive
//! server on 127.0.0.1 that answers at once except for one deliberate stall.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use fnstress::report::json::decode_histogram;
use support::{heavy, num, run, run_ok};

/// Answers every request at once, except that request number `stall_at` (from 1) waits
/// `stall` first. Thread per connection, HTTP/1.1 keep-alive.
struct StallServer {
    port: u16,
    count: Arc<AtomicU64>,
}

impl StallServer {
    fn start(stall_at: u64, stall: Duration) -> StallServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicU64::new(0));
        let seen = count.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || serve(conn, &seen, stall_at, stall));
            }
        });
        StallServer { port, count }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn serve(conn: TcpStream, seen: &AtomicU64, stall_at: u64, stall: Duration) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if seen.fetch_add(1, Ordering::SeqCst) + 1 == stall_at {
            thread::sleep(stall);
        }
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        if conn.write_all(reply).is_err() {
            return;
        }
    }
}

fn count_at_least(report: &serde_json::Value, key: &str, us: u64) -> u64 {
    let h = decode_histogram(report[key].as_str().unwrap()).unwrap();
    h.iter_recorded()
        .filter(|v| v.value_iterated_to() >= us)
        .map(|v| v.count_at_value())
        .sum()
}

#[test]
fn a_constant_rate_starts_the_scheduled_number() {
    let _guard = heavy();
    let server = StallServer::start(0, Duration::ZERO);
    let url = server.url();
    let out = run_ok(&[
        "run", "--url", &url, "--rate", "2000", "-c", "32", "-z", "5s", "-q",
    ]);
    let out_json = run_ok(&[
        "run", "--url", &url, "--rate", "2000", "-c", "32", "-z", "5s", "-q", "-o", "json",
    ]);
    assert!(out.stdout.contains("Latency corrected"), "{}", out.stdout);
    let r = out_json.json();
    let started = num(&r["totals"], "started");
    assert!(
        (9_900..=10_100).contains(&started),
        "started {started}, want 10000 ± 1%"
    );
    assert_eq!(num(&r["totals"], "success"), started);
    assert_eq!(r["config"]["load"]["model"], "open");
    assert!(
        r["rate"]["achieved_per_s"].as_f64().unwrap() > 1980.0,
        "{}",
        r["rate"]
    );
    for t in r["timeline"].as_array().unwrap().iter().take(5) {
        assert_eq!(t["target_rate"].as_f64(), Some(2000.0), "{t}");
    }
}

#[test]
fn a_stall_shows_in_corrected_latency_only_in_the_open_model() {
    let _guard = heavy();
    // Request 300 arrives about 3 s into the run and stalls for 1 s.
    let server = StallServer::start(300, Duration::from_secs(1));
    let url = server.url();
    let open = run_ok(&[
        "run", "--url", &url, "--rate", "100", "-c", "1", "-z", "10s", "-q", "-o", "json",
    ]);
    let r = open.json();
    let corrected_p99 = num(&r["latency_corrected"], "p99");
    let p99 = num(&r["latency"], "p99");
    assert!(corrected_p99 >= 400_000, "corrected p99 {corrected_p99} us");
    assert!(p99 < 50_000, "uncorrected p99 {p99} us should stay low");
    // At least the hundred invocations due during the stall were sent late (a loaded machine
    // adds more from ordinary wake-up jitter, so only the lower bound is firm).
    let late = num(&r["lateness"], "late");
    assert!(late >= 90, "late {late}");
    assert!(num(&r["lateness"], "max") >= 900_000);

    let server = StallServer::start(300, Duration::from_secs(1));
    let url = server.url();
    let closed = run_ok(&[
        "run", "--url", &url, "-c", "1", "-z", "10s", "-q", "-o", "json",
    ]);
    let r = closed.json();
    assert!(r.get("latency_corrected").is_none());
    assert_eq!(
        count_at_least(&r, "histogram", 900_000),
        1,
        "exactly one slow invocation"
    );
    assert!(num(&r["latency"], "p99") < 50_000);
    assert_eq!(
        server.count.load(Ordering::SeqCst),
        num(&r["totals"], "completed")
    );
}

#[test]
fn think_time_spaces_a_workers_invocations() {
    let _guard = heavy();
    let server = StallServer::start(0, Duration::ZERO);
    let url = server.url();
    let args = [
        "run",
        "--url",
        &url,
        "-c",
        "1",
        "--think",
        "100ms..100ms",
        "-z",
        "2s",
    ];
    let out = run_ok(&[&args[..], &["-q", "-o", "json"]].concat());
    let n = num(&out.json()["totals"], "completed");
    assert!((18..=22).contains(&n), "{n} invocations, want 20 ± 2");
    assert_eq!(
        out.json()["config"]["load"]["think_s"],
        serde_json::json!([0.1, 0.1])
    );
}

#[test]
fn active_workers_follow_the_ramp() {
    let _guard = heavy();
    let server = StallServer::start(0, Duration::ZERO);
    let url = server.url();
    let args = [
        "run",
        "--url",
        &url,
        "--stages",
        "3s:6,2s:6,3s:0",
        "--think",
        "5ms..5ms",
    ];
    let out = run_ok(&[&args[..], &["-q", "-o", "json"]].concat());
    let r = out.json();
    assert_eq!(num(&r["config"], "concurrency"), 6);
    assert_eq!(r["config"]["duration_s"].as_f64(), Some(8.0));
    let timeline = r["timeline"].as_array().unwrap();
    assert!(timeline.len() >= 7, "{} seconds", timeline.len());
    // Samples are taken half a second into each second; the ramp starts from 0.
    let ramp = |t: f64| -> f64 {
        if t < 3.0 {
            6.0 * t / 3.0
        } else if t < 5.0 {
            6.0
        } else {
            6.0 * (1.0 - (t - 5.0) / 3.0)
        }
    };
    for t in timeline.iter().filter(|t| t["active_workers"].is_u64()) {
        let second = num(t, "second") as f64;
        let want = ramp(second + 0.5).round();
        let got = num(t, "active_workers") as f64;
        assert!(
            (got - want).abs() <= 1.0,
            "second {second}: {got} active, want {want}"
        );
    }
}

#[test]
fn bad_load_values_exit_2_naming_them() {
    let table: [(&[&str], &str); 7] = [
        (&["--rate", "0"], "--rate"),
        (&["--rate", "fast"], "--rate"),
        (&["--think", "5..1"], "--think"),
        (&["--think", "5"], "--think"),
        (&["--stages", "30s"], "--stages"),
        (&["--stages", "30s:10,x:5"], "--stages"),
        (&["--stages", "10s:5", "-z", "5s"], "--stages"),
    ];
    for (args, name) in table {
        let out = run(&[&["run", "--no-preflight"], args].concat());
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("fnstress: ") && out.stderr.contains(name),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}
