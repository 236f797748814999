//! How a run ends: the deadline is kept with few and many workers, a first SIGINT or SIGTERM
//! stops gracefully with a complete report, and a second SIGINT exits at once with 130.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use support::{heavy, num, read_json, spawn, sum, wait_until, TempDir, TestServer};

/// Slack for process start and exit on a busy machine, on top of the run's own time.
const PROCESS_SLACK: Duration = Duration::from_millis(1500);

/// Time a thread may wait for a core on a busy 2-core machine before it notices the
/// deadline or finishes its last invocation.
const SCHEDULING_GRACE: Duration = Duration::from_millis(300);

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
    // The server answers at once, so the run ends within 10% of the duration, plus a grace
    // for threads waiting to be scheduled on a busy machine.
    let elapsed = r["elapsed_s"].as_f64().unwrap();
    let limit = 2.2 + SCHEDULING_GRACE.as_secs_f64();
    assert!((2.0..=limit).contains(&elapsed), "elapsed_s {elapsed}");
    let wall = out.elapsed;
    let wall_limit = Duration::from_millis(2200) + SCHEDULING_GRACE + PROCESS_SLACK;
    assert!(
        wall >= Duration::from_secs(2) && wall <= wall_limit,
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
    // The first signal waits for the 5 s answers within the 10 s grace. The second comes well
    // past the window in which two signals count as one, even if the first is handled late.
    thread::sleep(Duration::from_millis(1000));
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

#[test]
fn invocations_outliving_the_grace_after_a_signal_are_cancelled() {
    let _serial = heavy();
    let server = TestServer::start();
    let dir = TempDir::new("cut");
    let json = dir.file("r.json");
    let url = server.url("/sleep/3000");
    let run = spawn(
        &[
            "run", "--url", &url, "-z", "30s", "-c", "2", "--grace", "300ms", "-q", "--json", &json,
        ],
        &[],
    );
    wait_until(Duration::from_secs(10), "both workers in flight", || {
        server.count() >= 2
    });
    run.signal(libc::SIGINT);
    let signalled = Instant::now();
    let out = run.wait(Duration::from_secs(10));
    let exit_time = signalled.elapsed();

    assert_eq!(out.code, 0, "{}", out.stderr);
    // The grace period, not the 3 s answers, decides when the run ends.
    assert!(
        exit_time < Duration::from_millis(1500),
        "exit took {exit_time:?}"
    );
    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "signal");
    let t = &r["totals"];
    assert_eq!(num(t, "started"), 2);
    assert_eq!(num(t, "cancelled"), 2);
    assert_eq!(num(t, "completed"), 0);
    assert_eq!(num(t, "errors"), 0);
    assert_eq!(sum(&r["workers"], "cancelled"), 2);
    assert_eq!(sum(&r["operations"], "cancelled"), 2);
    assert_eq!(server.count(), 2);
    assert!(
        out.stdout.contains("  cancelled            2"),
        "{}",
        out.stdout
    );
}

#[test]
fn invocations_outliving_the_deadline_and_grace_are_cancelled() {
    let _serial = heavy();
    let server = TestServer::start();
    let url = server.url("/sleep/3000");
    let out = spawn(
        &[
            "run", "--url", &url, "-z", "1s", "-c", "2", "--grace", "300ms", "-q", "-o", "json",
        ],
        &[],
    )
    .wait(Duration::from_secs(10));

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.elapsed < Duration::from_millis(1300) + PROCESS_SLACK,
        "{:?}",
        out.elapsed
    );
    let r = out.json();
    assert_eq!(r["stop_reason"], "deadline");
    let elapsed = r["elapsed_s"].as_f64().unwrap();
    // Cut at the deadline plus the grace (1.3 s), well before the 3 s answers; the upper
    // bound leaves room for a busy machine.
    assert!((1.29..2.0).contains(&elapsed), "elapsed_s {elapsed}");
    let t = &r["totals"];
    assert_eq!(num(t, "started"), 2);
    assert_eq!(num(t, "cancelled"), 2);
    assert_eq!(num(t, "completed"), 0);
    assert_eq!(num(t, "timeout"), 0);
    assert_eq!(server.count(), 2);
}

#[test]
fn two_signals_delivered_together_are_one_stop() {
    let _serial = heavy();
    let server = TestServer::start();
    let url = server.url("/sleep/500");
    let mut run = spawn(&["run", "--url", &url, "-z", "30s", "-c", "2", "-q"], &[]);
    wait_until(Duration::from_secs(10), "both workers in flight", || {
        server.count() >= 2
    });
    // What `timeout` does when it signals a process and its process group.
    run.signal(libc::SIGINT);
    run.signal(libc::SIGINT);
    thread::sleep(Duration::from_millis(50));
    assert!(run.is_running() || server.count() >= 2);
    let out = run.wait(Duration::from_secs(10));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Totals"), "{}", out.stdout);
    assert!(out.stdout.contains("stopped by signal"), "{}", out.stdout);
}
