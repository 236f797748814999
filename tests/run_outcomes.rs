//! Each way an invocation can end lands in its own outcome kind, with the matching status
//! code and error entries, against a server on 127.0.0.1 that answers each way on purpose.

mod support;

use serde_json::{json, Value};
use support::{closed_port, num, run_ok, TestServer};

/// Every outcome kind counted in `totals`.
const KINDS: [&str; 8] = [
    "success",
    "throttled",
    "http_error",
    "function_error",
    "timeout",
    "connect_error",
    "io_error",
    "cancelled",
];

/// Runs `-n N -c 1` against `args` and returns the JSON report.
fn report(n: u64, args: &[&str]) -> Value {
    let n = n.to_string();
    let mut all = vec!["run", "-n", &n, "-c", "1", "-q", "-o", "json"];
    all.extend_from_slice(args);
    run_ok(&all).json()
}

/// Checks that all `n` invocations ended as `kind` and nothing else was counted.
fn assert_only(r: &Value, kind: &str, n: u64) {
    let t = &r["totals"];
    for k in KINDS {
        let want = if k == kind { n } else { 0 };
        assert_eq!(num(t, k), want, "totals.{k} in {t}");
    }
    assert_eq!(num(t, "started"), n);
    assert_eq!(num(t, "completed"), n);
    assert_eq!(num(t, "errors"), if kind == "success" { 0 } else { n });
}

#[test]
fn a_200_is_a_success() {
    let server = TestServer::start();
    let r = report(5, &["--url", &server.url("/ok")]);
    assert_only(&r, "success", 5);
    assert_eq!(r["status_codes"], json!({"200": 5}));
    assert_eq!(r["errors"], json!([]));
    assert_eq!(r["totals"]["success_rate"], json!(1.0));
    assert_eq!(server.count(), 5);
}

#[test]
fn a_429_is_throttled() {
    let server = TestServer::start();
    let r = report(4, &["--url", &server.url("/status/429")]);
    assert_only(&r, "throttled", 4);
    assert_eq!(r["status_codes"], json!({"429": 4}));
    assert_eq!(
        r["errors"],
        json!([{"kind": "throttled", "message": "HTTP 429", "count": 4}])
    );
    assert_eq!(r["totals"]["success_rate"], json!(0.0));
    assert_eq!(server.count(), 4);
}

#[test]
fn a_500_is_an_http_error() {
    let server = TestServer::start();
    let r = report(3, &["--url", &server.url("/status/500")]);
    assert_only(&r, "http_error", 3);
    assert_eq!(r["status_codes"], json!({"500": 3}));
    assert_eq!(
        r["errors"],
        json!([{"kind": "http_error", "message": "HTTP 500", "count": 3}])
    );
    assert_eq!(server.count(), 3);
}

#[test]
fn an_answer_slower_than_the_timeout_is_a_timeout() {
    let server = TestServer::start();
    let r = report(
        3,
        &["--url", &server.url("/sleep/1000"), "--timeout", "200ms"],
    );
    assert_only(&r, "timeout", 3);
    assert_eq!(r["status_codes"], json!({}));
    // "global" is the client's name for the limit on the whole invocation (--timeout).
    assert_eq!(
        r["errors"],
        json!([{"kind": "timeout", "message": "no complete answer within --timeout", "count": 3}])
    );
    // Each invocation was cut at the limit, not at the server's 1 s.
    let max_us = num(&r["latency"], "max");
    assert!(
        (200_000..900_000).contains(&max_us),
        "max latency {max_us} us"
    );
    assert_eq!(server.path_count("/sleep/1000"), 3);
}

#[test]
fn a_closed_port_is_a_connect_error() {
    let url = format!("http://127.0.0.1:{}/ok", closed_port());
    let r = report(3, &["--url", &url, "--no-preflight"]);
    assert_only(&r, "connect_error", 3);
    assert_eq!(r["status_codes"], json!({}));
    assert_eq!(
        r["errors"],
        json!([{
            "kind": "connect_error",
            "message": "Connection refused (os error 111)",
            "count": 3
        }])
    );
}

#[test]
fn a_closed_port_fails_the_preflight_with_exit_3() {
    let url = format!("http://127.0.0.1:{}/ok", closed_port());
    let out = support::run(&["run", "--url", &url, "-n", "1"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("fnstress: cannot connect to 127.0.0.1:"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_lambda_function_error_header_is_a_function_error() {
    let server = TestServer::start();
    let base = server.base();
    let route = ["--route", "lambda", "--gateway", &base];

    let r = report(4, &[&route[..], &["-t", "fails"]].concat());
    assert_only(&r, "function_error", 4);
    assert_eq!(r["status_codes"], json!({"200": 4}));
    assert_eq!(
        r["errors"],
        json!([{
            "kind": "function_error",
            "message": "function error: Unhandled",
            "count": 4
        }])
    );
    assert_eq!(
        server.path_count("/2015-03-31/functions/fails/invocations"),
        4
    );

    let r = report(2, &[&route[..], &["-t", "ok"]].concat());
    assert_only(&r, "success", 2);
    assert_eq!(server.path_count("/2015-03-31/functions/ok/invocations"), 2);
    assert_eq!(server.count(), 6);
}

#[test]
fn the_function_error_header_counts_on_any_route() {
    let server = TestServer::start();
    let r = report(2, &["--url", &server.url("/lambda-error")]);
    assert_only(&r, "function_error", 2);
}

#[test]
fn the_run_route_posts_to_run_name() {
    let server = TestServer::start();
    let r = report(
        3,
        &["--gateway", &server.base(), "-t", "echo", "--body", "hello"],
    );
    assert_only(&r, "success", 3);
    // The echo answers with the 5-byte body.
    assert_eq!(num(&r["totals"], "bytes_received"), 15);
    assert_eq!(server.path_count("/run/echo"), 3);
}
