//! fnstress against a server that misbehaves on purpose: hangs, stalled and huge bodies,
//! HTTP/1.0, chunked bodies, malformed status lines, resets, throttling and redirects. Each
//! run must end on time, count every invocation exactly once in the right outcome (held
//! against what the server received), never panic, and keep its memory small.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::faults::{FaultServer, CHUNKED_LEN, HUGE_LEN};
use support::{heavy, num, read_json, TempDir, BIN};

/// Slack for process start and exit on a busy machine, on top of the run's own time.
const PROCESS_SLACK: Duration = Duration::from_millis(1500);

/// The most memory fnstress may use against the 100 MiB body.
const MEMORY_LIMIT_KIB: i64 = 64 * 1024;

/// One finished run: exit code, stderr, the JSON report, wall time and peak memory.
struct Measured {
    code: i32,
    stderr: String,
    report: Value,
    elapsed: Duration,
    max_rss_kib: i64,
}

/// Runs `fnstress run --url URL ARGS -q --json FILE`, waiting with `wait4` so that the peak
/// resident memory of exactly this process is known.
fn run_fault(url: &str, args: &[&str], limit: Duration) -> Measured {
    let dir = TempDir::new("faults");
    let json = dir.file("r.json");
    let stderr_path = dir.file("stderr");
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--url", url, "-q", "--json", &json])
        .args(args)
        .env_remove("FNSTRESS_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let started = Instant::now();
    // Reaped by wait4 below, which also gives this child's peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("start fnstress");
    let pid = child.id() as i32;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for the child this function started, filling the two locals.
        let rc = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if rc == pid {
            break (status, usage);
        }
        if started.elapsed() > limit {
            // SAFETY: kills the child this function started and has not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("fnstress {args:?} against {url} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        libc::WIFEXITED(status),
        "fnstress died by a signal: {stderr}"
    );
    let code = libc::WEXITSTATUS(status);
    assert!(!stderr.contains("panicked"), "fnstress panicked: {stderr}");
    let report = if code == 0 {
        read_json(&json)
    } else {
        Value::Null
    };
    Measured {
        code,
        stderr,
        report,
        elapsed,
        max_rss_kib: usage.ru_maxrss,
    }
}

/// Checks the exit, and that every started invocation is in exactly one kind.
fn totals(m: &Measured) -> &Value {
    assert_eq!(m.code, 0, "{}", m.stderr);
    let t = &m.report["totals"];
    let kinds = [
        "success",
        "throttled",
        "http_error",
        "function_error",
        "timeout",
        "connect_error",
        "io_error",
        "cancelled",
    ];
    let sum: u64 = kinds.iter().map(|k| num(t, k)).sum();
    assert_eq!(sum, num(t, "started"), "{t}");
    assert_eq!(
        crate::support::sum(&m.report["workers"], "started"),
        num(t, "started")
    );
    t
}

#[test]
fn a_target_that_never_answers_is_cancelled_at_the_deadline() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/hang"),
        &["-c", "4", "-z", "2s", "--grace", "1s"],
        Duration::from_secs(20),
    );
    let t = totals(&m);
    assert!(
        m.elapsed <= Duration::from_secs(3) + PROCESS_SLACK,
        "{:?}",
        m.elapsed
    );
    assert_eq!(server.count("hang"), 4);
    assert_eq!(num(t, "started"), 4);
    assert_eq!(num(t, "cancelled"), 4);
}

#[test]
fn a_stalled_body_ends_as_a_timeout_on_time() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/stall"),
        &["-c", "2", "-z", "2s", "--timeout", "500ms", "--grace", "1s"],
        Duration::from_secs(20),
    );
    let t = totals(&m);
    assert!(
        m.elapsed <= Duration::from_secs(3) + PROCESS_SLACK,
        "{:?}",
        m.elapsed
    );
    let started = num(t, "started");
    assert_eq!(server.count("stall"), started);
    assert_eq!(num(t, "timeout") + num(t, "cancelled"), started);
    // Two workers, one timeout each per half second for two seconds.
    assert!(num(t, "timeout") >= 6, "{t}");
    // Each timeout ends close to the 500 ms limit, headers having come at once.
    let l = &m.report["latency"];
    assert!(num(l, "min") >= 500_000, "{l}");
    assert!(num(l, "max") <= 650_000, "{l}");
}

#[test]
fn http_1_0_answers_ended_by_close_are_successes() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/http10"),
        &["-c", "4", "-n", "200"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("http10"), 200);
    assert_eq!(num(t, "success"), 200);
    assert_eq!(num(t, "bytes_received"), 200 * 11);
    assert_eq!(num(t, "resent"), 0);
}

#[test]
fn chunked_bodies_are_read_whole() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/chunked"),
        &["-c", "4", "-n", "200"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("chunked"), 200);
    assert_eq!(num(t, "success"), 200);
    assert_eq!(num(t, "bytes_received"), 200 * CHUNKED_LEN);
}

#[test]
fn a_huge_body_is_cut_at_max_body_and_memory_stays_small() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/huge"),
        &["-c", "2", "-n", "6"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("huge"), 6);
    assert_eq!(num(t, "success"), 6);
    assert_eq!(num(t, "body_truncated"), 6);
    assert_eq!(num(t, "bytes_received"), 6 * 1024 * 1024);
    assert!(
        m.max_rss_kib < MEMORY_LIMIT_KIB,
        "peak RSS {} KiB",
        m.max_rss_kib
    );
}

#[test]
fn a_huge_body_read_whole_keeps_memory_flat() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/huge"),
        &["-c", "2", "-n", "2", "--max-body", "200MiB"],
        Duration::from_secs(60),
    );
    let t = totals(&m);
    assert_eq!(server.count("huge"), 2);
    assert_eq!(num(t, "success"), 2);
    assert_eq!(num(t, "body_truncated"), 0);
    assert_eq!(num(t, "bytes_received"), 2 * HUGE_LEN);
    assert!(
        m.max_rss_kib < MEMORY_LIMIT_KIB,
        "peak RSS {} KiB",
        m.max_rss_kib
    );
}

#[test]
fn a_malformed_status_line_is_an_io_error() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/badstatus"),
        &["-c", "2", "-n", "50"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("badstatus"), 50);
    assert_eq!(num(t, "io_error"), 50);
    assert_eq!(m.report["status_codes"], serde_json::json!({}));
}

#[test]
fn a_reset_mid_body_is_an_io_error_and_not_resent() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/reset"),
        &["-c", "2", "-n", "50"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("reset"), 50);
    assert_eq!(num(t, "io_error"), 50);
    assert_eq!(num(t, "resent"), 0);
    assert_eq!(m.report["status_codes"]["200"], 50);
}

#[test]
fn throttling_with_retry_after_counts_as_throttled() {
    let _serial = heavy();
    let server = FaultServer::start();
    let m = run_fault(
        &server.url("/throttle"),
        &["-c", "4", "-n", "100"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(server.count("throttle"), 100);
    assert_eq!(num(t, "throttled"), 100);
    assert_eq!(m.report["status_codes"]["429"], 100);
}

#[test]
fn redirects_count_as_their_status_unless_followed() {
    let _serial = heavy();
    let server = FaultServer::start();
    let url = server.url("/redirect/2");
    // Not followed: each invocation is one 302.
    let m = run_fault(&url, &["-c", "2", "-n", "30"], Duration::from_secs(30));
    let t = totals(&m);
    assert_eq!(num(t, "http_error"), 30);
    assert_eq!(m.report["status_codes"]["302"], 30);
    assert_eq!(server.count("redirect"), 30);
    // One hop allowed: the second 302 is the answer.
    let m = run_fault(
        &url,
        &["-c", "2", "-n", "30", "--follow-redirects", "1"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(num(t, "http_error"), 30);
    assert_eq!(m.report["status_codes"]["302"], 30);
    assert_eq!(server.count("redirect"), 30 + 60);
    // Both hops followed: every invocation ends in a 200.
    let m = run_fault(
        &url,
        &["-c", "2", "-n", "30", "--follow-redirects", "2"],
        Duration::from_secs(30),
    );
    let t = totals(&m);
    assert_eq!(num(t, "success"), 30);
    assert_eq!(m.report["status_codes"]["200"], 30);
    assert_eq!(server.count("redirect"), 30 + 60 + 90);
}
