//! Progress on stderr: plain lines at `--progress-interval` when stderr is not a terminal, a
//! redrawn bar when it is (without colours under `NO_COLOR`), nothing under `-q`, and never
//! anything on stdout. Also the one-line errors of the view options.

mod support;

use std::process::Command;

use support::{run_env, run_ok, TestServer};

fn progress_seconds(stderr: &str) -> Vec<u64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("fnstress: ["))
        .map(|l| l.split('s').next().unwrap().trim().parse().unwrap())
        .collect()
}

#[test]
fn plain_lines_come_at_the_interval_and_never_on_stdout() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let out = run_ok(&[
        "run",
        "--url",
        &url,
        "-z",
        "3500ms",
        "-c",
        "2",
        "--progress-interval",
        "1s",
    ]);
    assert_eq!(progress_seconds(&out.stderr), [1, 2, 3], "{}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("fnstress: ["))
        .unwrap();
    assert!(
        line.contains("% completed ") && line.contains("/s, errors 0, p99 "),
        "{line}"
    );
    assert!(
        !out.stderr.contains('\x1b'),
        "control codes off a terminal: {}",
        out.stderr
    );
    assert!(out.stdout.starts_with("Target "), "{}", out.stdout);
    assert!(!out.stdout.contains("fnstress:"), "{}", out.stdout);

    // JSON key, default of 5s, and -q.
    let out = run_ok(&[
        "run",
        "--url",
        &url,
        "-z",
        "2500ms",
        "-c",
        "1",
        "-d",
        r#"{"progress_interval": 2}"#,
    ]);
    assert_eq!(progress_seconds(&out.stderr), [2]);
    let out = run_ok(&["run", "--url", &url, "-z", "1500ms", "-c", "1"]);
    assert_eq!(progress_seconds(&out.stderr), Vec::<u64>::new());
    let out = run_ok(&[
        "run",
        "--url",
        &url,
        "-z",
        "1500ms",
        "-c",
        "1",
        "-q",
        "--progress-interval",
        "1s",
    ]);
    assert_eq!(out.stderr, "");
}

/// Runs the binary inside a pseudo-terminal (util-linux `script`), as a user at a terminal.
fn in_terminal(args: &str, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{} {args}", support::BIN), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("run script(1) from util-linux");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_gets_a_bar_and_no_colour_under_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "script(1) is missing in CI"
        );
        eprintln!("notice: script(1) not found; skipping the terminal test");
        return;
    }
    let server = TestServer::start();
    let args = format!("run --url {} -z 1500ms -c 2 -o json", server.url("/ok"));
    let screen = in_terminal(&args, true);
    assert!(
        screen.contains(" done | ") && screen.contains("/s | errors 0 | p99 "),
        "{screen}"
    );
    assert!(screen.contains("left |"), "{screen}");
    // The bar is redrawn in place: it erases its line rather than printing new ones.
    assert!(screen.contains("\x1b[2K"), "{screen:?}");
    // SGR colours (30-37, 90-97 foreground) must not appear.
    for code in ["\x1b[3", "\x1b[9"] {
        assert!(!screen.contains(code), "colour under NO_COLOR: {screen:?}");
    }
    // The report itself is still complete.
    assert!(
        screen.contains("\"schema\": \"fnstress.report.v1\""),
        "{screen}"
    );

    let coloured = in_terminal(&args, false);
    assert!(
        coloured.contains("\x1b[36m"),
        "no colour on a terminal: {coloured:?}"
    );
}

#[test]
fn bad_view_options_are_one_line_naming_the_option() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let table: [(&[&str], &str); 6] = [
        (
            &["--progress-interval", "0"],
            "fnstress: --progress-interval: must be more than 0",
        ),
        (
            &["--progress-interval", "soon"],
            "fnstress: --progress-interval: 'soon'",
        ),
        (
            &["--dashboard", "nowhere"],
            "fnstress: --dashboard: 'nowhere' is not an address",
        ),
        (
            &["--dashboard-linger", "5s"],
            "fnstress: --dashboard-linger: needs --dashboard",
        ),
        (
            &["-d", r#"{"dashboard": 9100}"#],
            "fnstress: key 'dashboard' in -d/--data: expected",
        ),
        (
            &["--dashboard", &busy_addr],
            "fnstress: --dashboard: cannot listen on 127.0.0.1:",
        ),
    ];
    for (extra, want) in table {
        let mut args = vec!["run", "--url", &url, "-n", "5"];
        args.extend_from_slice(extra);
        let out = run_env(&args, &[]);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{extra:?}: {}", out.stderr);
        assert!(out.stderr.starts_with(want), "{extra:?}: {}", out.stderr);
        assert_eq!(out.stdout, "");
    }
    assert_eq!(server.count(), 0, "nothing may start on bad options");
}
