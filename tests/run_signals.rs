//! Stopping against a target that hangs: a first SIGINT ends with the full report within the
//! grace period, a second exits 130 at once, SIGTERM to fnstress running as PID 1 of its own
//! PID namespace and process group stops it gracefully, and a hung target at the deadline
//! cannot hold the process past duration + grace + 1 s.

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::faults::FaultServer;
use support::{heavy, num, read_json, spawn, wait_until, TempDir, BIN};

#[test]
fn one_sigint_against_a_hung_target_reports_within_the_grace() {
    let _serial = heavy();
    let server = FaultServer::start();
    let dir = TempDir::new("sigint-hang");
    let json = dir.file("r.json");
    let url = server.url("/hang");
    let run = spawn(
        &[
            "run", "--url", &url, "-z", "30s", "-c", "4", "--grace", "1s", "--json", &json,
        ],
        &[],
    );
    wait_until(Duration::from_secs(10), "4 invocations in flight", || {
        server.count("hang") == 4
    });
    run.signal(libc::SIGINT);
    let signalled = Instant::now();
    let out = run.wait(Duration::from_secs(20));
    let took = signalled.elapsed();

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        took < Duration::from_millis(1800),
        "exit took {took:?} after SIGINT"
    );
    assert!(out.stdout.contains("\nTotals\n"), "{}", out.stdout);
    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "signal");
    assert_eq!(num(&r["totals"], "started"), 4);
    assert_eq!(num(&r["totals"], "cancelled"), 4);
    assert_eq!(server.count("hang"), 4);
}

#[test]
fn two_sigints_against_a_hung_target_exit_130_within_a_second() {
    let _serial = heavy();
    let server = FaultServer::start();
    let url = server.url("/hang");
    let mut run = spawn(
        &[
            "run", "--url", &url, "-z", "30s", "-c", "4", "--grace", "20s",
        ],
        &[],
    );
    wait_until(Duration::from_secs(10), "4 invocations in flight", || {
        server.count("hang") == 4
    });
    run.signal(libc::SIGINT);
    // Well past the window in which two signals count as one, even if the first is handled
    // late on a loaded machine.
    thread::sleep(Duration::from_millis(1000));
    assert!(
        run.is_running(),
        "the first SIGINT did not wait for the grace"
    );
    run.signal(libc::SIGINT);
    let second = Instant::now();
    let out = run.wait(Duration::from_secs(20));
    assert_eq!(out.code, 130, "{}", out.stderr);
    assert!(
        second.elapsed() < Duration::from_secs(1),
        "{:?}",
        second.elapsed()
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn a_hung_target_at_the_deadline_cannot_hold_the_process() {
    let _serial = heavy();
    let server = FaultServer::start();
    let url = server.url("/hang");
    let out = spawn(
        &[
            "run",
            "--url",
            &url,
            "-z",
            "2s",
            "--grace",
            "1s",
            "-c",
            "8",
            "--timeout",
            "60s",
            "-q",
        ],
        &[],
    )
    .wait(Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // duration + grace + 1 s, measured from the spawn.
    assert!(
        out.elapsed <= Duration::from_secs(4),
        "took {:?}",
        out.elapsed
    );
    assert!(
        out.stdout.contains("cancelled            8"),
        "{}",
        out.stdout
    );
}

/// True when `unshare` can make a PID namespace here; otherwise says why, and fails under CI.
fn unshare_works() -> bool {
    let ok = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare --pid --fork --mount-proc does not work (util-linux, root needed)"
        );
        eprintln!("notice: skipping the PID 1 test: unshare cannot make a PID namespace here");
    }
    ok
}

/// The first child of `pid`, read from /proc.
fn child_of(pid: u32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}

#[test]
fn sigterm_to_pid_1_in_a_fresh_process_group_is_graceful() {
    if !unshare_works() {
        return;
    }
    let _serial = heavy();
    let server = FaultServer::start();
    let dir = TempDir::new("pid1");
    let json = dir.file("r.json");
    let url = server.url("/ok");
    let mut child = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", BIN])
        .args([
            "run", "--url", &url, "-z", "30s", "-c", "2", "-q", "--json", &json,
        ])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start unshare");
    let mut fnstress = None;
    wait_until(Duration::from_secs(10), "fnstress under unshare", || {
        fnstress = child_of(child.id());
        fnstress.is_some()
    });
    let fnstress = fnstress.unwrap();
    wait_until(Duration::from_secs(10), "the first invocations", || {
        server.count("ok") >= 20
    });
    // SAFETY: sends SIGTERM to the process this test started inside the namespace.
    assert_eq!(unsafe { libc::kill(fnstress, libc::SIGTERM) }, 0);
    let signalled = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        thread::sleep(Duration::from_millis(10));
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        signalled.elapsed() < Duration::from_secs(2),
        "{:?}",
        signalled.elapsed()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\nTotals\n"), "{stdout}");
    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "signal");
    assert_eq!(num(&r["totals"], "completed"), server.count("ok"));
    assert_eq!(num(&r["totals"], "errors"), 0);
}
