//! Worker threads the OS cannot give are a usage error naming the limits, and nothing is sent:
//! a too-small `ulimit -v` is refused before any thread starts, and a thread the OS refuses
//! (`ulimit -u`) lets the threads already started go without invoking.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use support::TestServer;

#[test]
fn too_little_address_space_is_refused_before_any_thread_starts() {
    let Some(prlimit) = tool("prlimit") else {
        return;
    };
    let server = TestServer::start();
    let url = server.url("/ok");
    // 9000 workers need over 2.8 GB for their stacks alone; 1.5 GB is refused up front.
    let out = Command::new(prlimit)
        .args(["--as=1500000000", support::BIN, "run", "--url", &url])
        .args(["-c", "9000", "-n", "10", "-q"])
        .output()
        .expect("run prlimit");
    let stderr = assert_usage_error(&out);
    assert!(
        stderr.starts_with("fnstress: --concurrency 9000: the workers need about "),
        "{stderr}"
    );
    assert!(stderr.contains("(ulimit -v)"), "{stderr}");
    assert!(stderr.contains("the OS allows 1430 MiB"), "{stderr}");
    let need: u64 = stderr["fnstress: --concurrency 9000: the workers need about ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a size in MiB");
    assert!(need >= 9000 * 320 / 1024, "{stderr}");
    assert_eq!(server.count(), 0, "an invocation was sent");
}

#[test]
fn a_thread_the_os_refuses_is_a_usage_error_and_nothing_is_sent() {
    let (Some(prlimit), Some(setpriv)) = (tool("prlimit"), tool("setpriv")) else {
        return;
    };
    let server = TestServer::start();
    let url = server.url("/ok");
    // The process limit binds only users without CAP_SYS_RESOURCE, so root runs the binary as
    // `nobody`, from a copy that user can read.
    let root = unsafe { libc::geteuid() } == 0;
    let copy = TempBin::new();
    let (program, mut args) = if root {
        let ids = ["--reuid=65534", "--regid=65534", "--clear-groups"];
        (setpriv, ids.iter().map(|s| s.to_string()).collect())
    } else {
        (prlimit.clone(), vec![])
    };
    let limit = 100 + if root { 0 } else { own_tasks() };
    if root {
        args.push(prlimit);
    }
    args.push(format!("--nproc={limit}"));
    let out = Command::new(program)
        .args(&args)
        .arg(&copy.0)
        .args(["run", "--url", &url, "-c", "5000", "-n", "10", "-q"])
        .output()
        .expect("run setpriv/prlimit");
    let stderr = assert_usage_error(&out);
    assert!(
        stderr.starts_with("fnstress: --concurrency 5000: could not start worker thread"),
        "{stderr}"
    );
    assert!(stderr.contains("(ulimit -u)"), "{stderr}");
    assert!(
        stderr.contains(&format!("the OS allows {limit} processes")),
        "{stderr}"
    );
    assert_eq!(server.count(), 0, "an invocation was sent");
}

fn assert_usage_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
    stderr
}

/// A copy of the binary in a fresh directory anyone can read and run.
struct TempBin(PathBuf);

impl TempBin {
    fn new() -> TempBin {
        let dir = std::env::temp_dir().join(format!("fnstress-nproc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let bin = dir.join("fnstress");
        std::fs::copy(support::BIN, &bin).expect("copy the binary");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempBin(bin)
    }
}

impl Drop for TempBin {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Tasks (processes and threads) this user runs now; the process limit counts them all.
fn own_tasks() -> u32 {
    let uid = unsafe { libc::geteuid() }.to_string();
    let out = Command::new("ps")
        .args(["-L", "-U", &uid, "--no-headers"])
        .output()
        .expect("run ps");
    String::from_utf8_lossy(&out.stdout).lines().count() as u32
}

/// The path of a util-linux tool; missing is allowed only outside CI.
fn tool(name: &str) -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{name} (util-linux) is needed in CI"
            );
            eprintln!("notice: {name} is missing; skipping a thread-limit test");
            None
        }
    }
}
