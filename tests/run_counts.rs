//! Every invocation is counted exactly once: what a server on 127.0.0.1 received equals what
//! the report says was completed, in total, per worker, per operation and per second.

mod support;

use support::{
    heavy, num, raise_open_files, read_json, run_ok, sum, ManyConnServer, TempDir, TestServer,
};

#[test]
fn a_request_budget_sends_exactly_that_many() {
    let server = TestServer::start();
    let dir = TempDir::new("counts");
    let json = dir.file("report.json");
    let url = server.url("/ok");
    let out = run_ok(&[
        "run", "--url", &url, "-n", "1000", "-c", "8", "-q", "--json", &json,
    ]);

    let r = read_json(&json);
    let t = &r["totals"];
    assert_eq!(server.count(), 1000);
    assert_eq!(server.path_count("/ok"), 1000);
    assert_eq!(num(t, "completed"), 1000);
    assert_eq!(num(t, "started"), 1000);
    assert_eq!(num(t, "success"), 1000);
    assert_eq!(num(t, "errors"), 0);
    assert_eq!(num(t, "cancelled"), 0);
    assert_eq!(r["stop_reason"], "requests");
    // {"ok":true} is 11 bytes.
    assert_eq!(num(t, "bytes_received"), 11_000);
    assert_eq!(r["status_codes"], serde_json::json!({"200": 1000}));

    let workers = r["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 8);
    assert_eq!(sum(&r["workers"], "started"), 1000);
    assert_eq!(sum(&r["workers"], "success"), 1000);
    assert_eq!(sum(&r["timeline"], "completed"), 1000);
    assert_eq!(sum(&r["operations"], "completed"), 1000);

    // The quiet run printed the text report only.
    assert!(out.stdout.starts_with("Target "), "{}", out.stdout);
    assert_eq!(out.stderr, "");
}

#[test]
fn server_count_equals_completed_count_under_a_deadline() {
    let _serial = heavy();
    let server = TestServer::start();
    let url = server.url("/ok");
    let out = run_ok(&[
        "run", "--url", &url, "-z", "1s", "-c", "4", "-q", "-o", "json",
    ]);

    let r = out.json();
    let completed = num(&r["totals"], "completed");
    assert!(completed > 0, "nothing completed in 1s");
    assert_eq!(r["stop_reason"], "deadline");
    assert_eq!(server.count(), completed);
    assert_eq!(num(&r["totals"], "started"), completed);
    assert_eq!(sum(&r["workers"], "started"), completed);
    assert_eq!(sum(&r["timeline"], "completed"), completed);
}

#[test]
fn operations_sent_match_operations_reported() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let out = run_ok(&[
        "run",
        "--url",
        &url,
        "-n",
        "300",
        "-c",
        "3",
        "--ops",
        "fast=3,slow=1,error",
        "-q",
        "-o",
        "json",
    ]);

    let r = out.json();
    let seen = server.operations();
    assert_eq!(seen.values().sum::<u64>(), 300);
    let ops = r["operations"].as_array().unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fast", "slow", "error"]);
    for op in ops {
        let name = op["name"].as_str().unwrap();
        let sent = seen.get(name).copied().unwrap_or(0);
        assert_eq!(num(op, "completed"), sent, "operation {name}");
        assert_eq!(num(op, "success"), sent, "operation {name}");
    }
    // A weight of 3 in 5 over 300 draws lands far from the other two.
    assert!(
        seen["fast"] > seen["slow"] && seen["fast"] > seen["error"],
        "{seen:?}"
    );
}

#[test]
fn ten_thousand_workers_start_and_each_invokes_once() {
    let _serial = heavy();
    // The server end of every connection lives in this process.
    raise_open_files(10_000 + 256);
    let server = ManyConnServer::start();
    let url = format!("http://127.0.0.1:{}/ok", server.port);
    let out = run_ok(&[
        "run", "--url", &url, "-c", "10000", "-n", "10000", "-q", "-o", "json",
    ]);

    let r = out.json();
    assert_eq!(num(&r["totals"], "completed"), 10_000);
    assert_eq!(num(&r["totals"], "success"), 10_000);
    assert_eq!(server.failure(), None);
    assert_eq!(server.count(), 10_000);
    assert_eq!(r["workers"].as_array().unwrap().len(), 10_000);
    assert_eq!(sum(&r["workers"], "started"), 10_000);
}
