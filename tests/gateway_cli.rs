//! The command line of `fnstress serve`: help, one-line usage errors with exit 2, bind
//! failures, and the graceful stop on SIGTERM and Ctrl-C.

mod common_gateway;

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common_gateway::Gateway;

fn serve(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fnstress"))
        .arg("serve")
        .args(args)
        .env_remove("API_KEY")
        .output()
        .expect("run fnstress serve");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (
        output.status.code().unwrap_or(-1),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn help_lists_every_flag_with_its_default_and_examples() {
    let (code, stdout, _) = serve(&["--help"]);
    assert_eq!(code, 0);
    for flag in [
        "--listen",
        "--api-key",
        "--rate-limit",
        "--time-scale",
        "--help",
    ] {
        assert!(stdout.contains(flag), "{flag} missing from help");
    }
    for default in [
        "[default: 127.0.0.1:8080]",
        "[default: env API_KEY",
        "[default: 1]",
    ] {
        assert!(stdout.contains(default), "{default} missing from help");
    }
    assert!(stdout.contains("Examples:\n  fnstress serve"));
}

#[test]
fn bad_flags_end_with_one_line_naming_the_flag_and_exit_2() {
    let cases: [(&[&str], &str); 8] = [
        (&["--time-scale", "-1"], "--time-scale"),
        (&["--time-scale", "NaN"], "--time-scale"),
        (&["--rate-limit", "0"], "--rate-limit"),
        (&["--rate-limit", "lots"], "--rate-limit"),
        (&["--listen", "nowhere"], "--listen"),
        (&["--listen", "127.0.0.1:99999"], "--listen"),
        (&["--bogus"], "--bogus"),
        (&["--time-scale"], "--time-scale"),
    ];
    for (args, flag) in cases {
        let (code, _, stderr) = serve(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("fnstress: ") && stderr.contains(flag),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let gateway = Gateway::start(&[]);
    let (code, _, stderr) = serve(&["--listen", &gateway.addr]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on {}", gateway.addr)),
        "{stderr}"
    );
}

#[test]
fn startup_line_names_the_bound_port_and_the_functions() {
    let gateway = Gateway::start(&[]);
    let line = gateway.stderr().lines().next().unwrap().to_string();
    let expected = format!(
        "fnstress: gateway listening on http://{} (functions: custom-metrics, echo)",
        gateway.addr
    );
    assert_eq!(line, expected);
    assert!(!gateway.addr.ends_with(":0"));
}

fn signal(gateway: &Gateway, sig: i32) {
    // SAFETY: sends a signal to a child process this test started and still owns.
    let sent = unsafe { libc::kill(gateway.pid(), sig) };
    assert_eq!(sent, 0, "kill failed");
}

#[test]
fn sigterm_and_ctrl_c_stop_promptly_with_exit_0() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut gateway = Gateway::start(&[]);
        assert_eq!(gateway.get("/health").status, 200);
        let sent = Instant::now();
        signal(&gateway, sig);
        let status = gateway
            .wait_exit(Duration::from_secs(3))
            .expect("gateway did not stop");
        assert_eq!(status.code(), Some(0), "signal {sig}");
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "took {:?}",
            sent.elapsed()
        );
        assert!(gateway.stderr_shows("gateway stopped"));
    }
}

#[test]
fn sigterm_lets_a_running_invocation_finish() {
    let mut gateway = Gateway::start(&[]);
    let reply = thread::scope(|scope| {
        let running =
            scope.spawn(|| gateway.post("/run/custom-metrics", r#"{"operation":"slow"}"#));
        thread::sleep(Duration::from_millis(100));
        signal(&gateway, libc::SIGTERM);
        running.join().unwrap()
    });
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["operation"], "slow");
    let status = gateway
        .wait_exit(Duration::from_secs(3))
        .expect("gateway did not stop");
    assert_eq!(status.code(), Some(0));
}
