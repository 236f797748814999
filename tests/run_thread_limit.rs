//! A worker thread that cannot be spawned is a usage error naming the OS limits, and nothing
//! is sent: the threads already started are let go without invoking.

mod support;

use std::process::Command;

use support::TestServer;

#[test]
fn a_thread_limit_is_a_usage_error_and_nothing_is_sent() {
    let Ok(prlimit) = which("prlimit") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "prlimit (util-linux) is needed in CI"
        );
        eprintln!("notice: prlimit is missing; skipping the thread-limit test");
        return;
    };
    let server = TestServer::start();
    let url = server.url("/ok");
    // 1.5 GB of address space holds a few thousand 256 KiB worker stacks, not 9000.
    let out = Command::new(prlimit)
        .args([
            "--as=1500000000",
            support::BIN,
            "run",
            "--url",
            &url,
            "-c",
            "9000",
        ])
        .args(["-n", "10", "-q"])
        .output()
        .expect("run prlimit");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("fnstress: --concurrency 9000: could not start worker thread"));
    assert!(stderr.contains("ulimit -v"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(server.count(), 0, "an invocation was sent");
}

fn which(name: &str) -> Result<String, ()> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        _ => Err(()),
    }
}
