//! How a run ends: the deadline is kept with few and many workers, a first SIGINT or SIGTERM
//! stops gracefully with a complete report, and a second SIGINT exits at once with 130.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::{heavy, num, read_json, spawn, sum, wait_until, TempDir, TestServer};

/// Slack for process start and exit on a busy machine, on top of the run's own time.
const PROCESS_SLACK: Duration = Duration::from_millis(1500);

fn check_deadline(workers: &str) {
    let _serial = heavy();
    let server = TestServer::start();
    let dir = TempDir::new("deadline");
    let json = dir.file("r.json");
    let url = server.url("/ok");
    let out = spawn(
        &[
            "run", "--url", &url, "-z", "2s", "-c", workers, "-q", "--json", &json,
        ],
        &[],
    )
    .wait(Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stderr);

    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "deadline");
    // The server answers at once, so the run ends within 10% of the duration.
    let elapsed = r["elapsed_s"].as_f64().unwrap();
    assert!((2.0..=2.2).contains(&elapsed), "elapsed_s {elapsed}");
    let wall = out.elapsed;
    assert!(
        wall >= Duration::from_secs(2) && wall <= Duration::from_millis(2200) + PROCESS_SLACK,
        "wall time {wall:?}"
    );
    let completed = num(&r["totals"], "completed");
    assert!(completed > 0);
    assert_eq!(server.count(), completed);
    assert_eq!(num(&r["totals"], "cancelled"), 0);
    assert_eq!(sum(&r["workers"], "started"), completed);
    // One entry per second of the run, every completion in one of them.
    assert_eq!(sum(&r["timeline"], "completed"), completed);
    let seconds: Vec<u64> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| num(t, "second"))
        .collect();
    assert!(seconds == [0, 1] || seconds == [0, 1, 2], "{seconds:?}");
}

#[test]
fn the_duration_is_kept_with_one_worker() {
    check_deadline("1");
}

#[test]
fn the_duration_is_kept_with_fifty_workers() {
    check_deadline("50");
}

/// A first stop signal mid-run finishes in-flight work and writes the full report.
fn check_graceful_stop(sig: i32) {
    let _serial = heavy();
    let server = TestServer::start();
    let dir = TempDir::new("signal");
    let json = dir.file("r.json");
    let url = server.url("/ok");
    let run = spawn(
        &[
            "run", "--url", &url, "-z", "30s", "-c", "4", "--json", &json,
        ],
        &[],
    );
    // Invocations reaching the server mean the handler is installed and the load is on.
    wait_until(Duration::from_secs(10), "the first invocations", || {
        server.count() >= 20
    });
    thread::sleep(Duration::from_millis(300));
    run.signal(sig);
    let out = run.wait(Duration::from_secs(10));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    assert!(out.stdout.contains("\nTotals\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("stopped by signal after"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("fnstress: stopping: finishing in-flight invocations"),
        "{}",
        out.stderr
    );
    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "signal");
    let completed = num(&r["totals"], "completed");
    assert_eq!(server.count(), completed);
    assert_eq!(num(&r["totals"], "success"), completed);
    assert_eq!(num(&r["totals"], "cancelled"), 0);
    assert_eq!(sum(&r["workers"], "started"), completed);
    assert_eq!(sum(&r["timeline"], "completed"), completed);
    assert!(r["elapsed_s"].as_f64().unwrap() < 10.0);
}

#[test]
fn sigint_stops_gracefully_with_a_complete_report() {
    check_graceful_stop(libc::SIGINT);
}

#[test]
fn sigterm_stops_gracefully_with_a_complete_report() {
    check_graceful_stop(libc::SIGTERM);
}

#[test]
fn a_second_sigint_exits_130_at_once() {
    let _serial = heavy();
    let server = TestServer::start();
    let dir = TempDir::new("twice");
    let json = dir.file("r.json");
    let url = server.url("/sleep/5000");
    let mut run = spawn(
        &[
            "run", "--url", &url, "-z", "30s", "-c", "2", "--grace", "10s", "--json", &json,
        ],
        &[],
    );
    wait_until(Duration::from_secs(10), "both workers in flight", || {
        server.count() >= 2
    });
    run.signal(libc::SIGINT);
    // The first signal waits for the 5 s answers within the 10 s grace.
    thread::sleep(Duration::from_millis(300));
    assert!(run.is_running(), "the first SIGINT ended the run at once");

    run.signal(libc::SIGINT);
    let second = Instant::now();
    let out = run.wait(Duration::from_secs(10));
    let exit_time = second.elapsed();

    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        exit_time < Duration::from_secs(1),
        "exit took {exit_time:?}"
    );
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("fnstress: interrupted twice: exiting without a report"),
        "{}",
        out.stderr
    );
    assert!(
        !std::path::Path::new(&json).exists(),
        "a report was written"
    );
    assert_eq!(server.count(), 2);
}
