//! Servers that close keep-alive connections: after every N answers with `Connection: close`,
//! after every N answers silently with the next invocation already sent, and when a connection
//! sits idle. The server answered every invocation it read, so fnstress must report no error
//! and exactly the server's count.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::faults::FaultServer;
use support::{heavy, num, read_json, spawn, TempDir};

/// Runs `-n N` invocations with 4 workers against `path` and returns the server's count for
/// `behaviour` with the report.
fn run(server: &FaultServer, path: &str, n: u64, extra: &[&str]) -> Value {
    let dir = TempDir::new("keepalive");
    let json = dir.file("r.json");
    let url = server.url(path);
    let n_text = n.to_string();
    let mut args = vec![
        "run", "--url", &url, "-c", "4", "-n", &n_text, "-q", "--json", &json,
    ];
    args.extend_from_slice(extra);
    let out = spawn(&args, &[]).wait(Duration::from_secs(60));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    read_json(&json)
}

/// No errors, every invocation a success, and the server read exactly that many.
fn check_clean(server: &FaultServer, behaviour: &str, r: &Value, n: u64) {
    let t = &r["totals"];
    assert_eq!(num(t, "errors"), 0, "{behaviour}: {t}");
    assert_eq!(num(t, "success"), n, "{behaviour}: {t}");
    assert_eq!(num(t, "started"), n, "{behaviour}: {t}");
    assert_eq!(server.count(behaviour), n, "{behaviour}: {t}");
}

fn closing_with_header(every: u64, n: u64) {
    let _serial = heavy();
    let server = FaultServer::start();
    let r = run(&server, &format!("/close/{every}"), n, &[]);
    check_clean(&server, "close", &r, n);
    // The server announced each close, so nothing went out on a dead connection.
    assert_eq!(num(&r["totals"], "resent"), 0);
}

fn closing_silently(every: u64, n: u64) {
    let _serial = heavy();
    let server = FaultServer::start();
    let r = run(&server, &format!("/drop/{every}"), n, &[]);
    check_clean(&server, "drop", &r, n);
    // Each silent close caught an invocation in flight, which was sent again.
    let resent = num(&r["totals"], "resent");
    assert!(resent > 0, "no invocation was resent: {}", r["totals"]);
    if every == 1 {
        // Every invocation after each worker's first met a connection about to close.
        assert!(resent >= n - 8, "resent {resent} of {n}");
    }
}

#[test]
fn connection_close_after_every_answer() {
    closing_with_header(1, 200);
}

#[test]
fn connection_close_after_every_two_answers() {
    closing_with_header(2, 200);
}

#[test]
fn connection_close_after_every_hundred_answers() {
    closing_with_header(100, 1000);
}

#[test]
fn silent_close_after_every_answer() {
    closing_silently(1, 200);
}

#[test]
fn silent_close_after_every_two_answers() {
    closing_silently(2, 200);
}

#[test]
fn silent_close_after_every_hundred_answers() {
    closing_silently(100, 1000);
}

#[test]
fn connections_closed_while_idle() {
    let _serial = heavy();
    let server = FaultServer::start();
    // Workers pause 150 ms; the server closes connections idle for 50 ms.
    let r = run(&server, "/idle/50", 40, &["--think", "150ms..150ms"]);
    check_clean(&server, "idle", &r, 40);
}
