//! Thresholds gate a run: bad expressions exit 2 naming them before anything starts, a
//! failing threshold exits 99 with the table on stdout, a passing one exits 0, values equal
//! to the bound pass only inclusive comparisons, and `--abort-on-fail` stops early with the
//! full report still written.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{num, read_json, run, TempDir, TestServer};

#[test]
fn bad_expressions_exit_2_naming_them_and_start_nothing() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let table: [(&[&str], &str); 6] = [
        (
            &["--threshold", "p99<250"],
            "fnstress: --threshold: 'p99<250': the bound '250' needs a unit: us, ms or s\n",
        ),
        (
            &["--threshold", "p99<1s", "--threshold", "latency<1s"],
            "fnstress: --threshold: 'latency<1s': unknown metric 'latency'",
        ),
        (
            &["--threshold", "error_rate<120%"],
            "fnstress: --threshold: 'error_rate<120%': the bound '120%' is above 100%\n",
        ),
        (
            &["--threshold", "p99{op=nope}<1s"],
            "fnstress: --threshold: 'p99{op=nope}<1s': the run has no operation 'nope'; its \
             operations are: default, fast, slow, error\n",
        ),
        (
            &["-d", r#"{"thresholds": ["count=1"]}"#],
            "fnstress: key 'thresholds' in -d/--data: 'count=1': compare with <, <=, > or >=",
        ),
        (
            &["--abort-on-fail"],
            "fnstress: --abort-on-fail: needs at least one --threshold to watch\n",
        ),
    ];
    for (extra, want) in table {
        let mut args = vec!["run", "--url", &url, "-n", "5"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        assert!(out.stderr.starts_with(want), "{extra:?}:\n{}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert_eq!(out.stdout, "");
    }
    assert_eq!(server.count(), 0, "a rejected run sent invocations");
}

#[test]
fn a_failing_threshold_exits_99_and_a_passing_one_0() {
    let server = TestServer::start();
    let url = server.url("/status/500");
    let args = |ths: &[&'static str]| {
        let mut a = vec!["run", "--url", &url, "-n", "40", "-c", "2", "-q"];
        for t in ths {
            a.extend_from_slice(&["--threshold", t]);
        }
        run(&a)
    };
    let out = args(&["count>=40", "error_rate<50%"]);
    assert_eq!(out.code, 99, "{}", out.stderr);
    assert!(out.stdout.contains(
        "\nThresholds\n  threshold             measured           bound  result\n  \
         count>=40                   40              40  pass\n  \
         error_rate<50%        100.000%         50.000%  FAIL\n"
    ));
    assert_eq!(
        out.stderr,
        "fnstress: threshold failed: error_rate<50% (exit 99)\n"
    );

    let out = args(&["count>=40", "error_rate<=100%", "p99<30s"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    assert_eq!(server.count(), 80);
}

#[test]
fn values_equal_to_the_bound_pass_only_inclusive_comparisons() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let dir = TempDir::new("edges");
    let json = dir.file("r.json");
    let out = run(&[
        "run",
        "--url",
        &url,
        "-n",
        "50",
        "-q",
        "--json",
        &json,
        "--threshold",
        "count<=50",
        "--threshold",
        "count>=50",
        "--threshold",
        "error_rate<=0%",
    ]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = read_json(&json);
    assert_eq!(r["thresholds"][0]["measured"], json!(50.0));
    assert_eq!(r["thresholds"][2]["measured"], json!(0.0));

    // The same report, judged again by `report` with strict bounds at the measured values.
    let p99 = num(&r["latency"], "p99");
    let strict = format!("p99<{p99}us");
    let inclusive = format!("p99<={p99}us");
    let table = [
        ("count<50", 99),
        ("count>50", 99),
        ("error_rate<0%", 99),
        (strict.as_str(), 99),
        (inclusive.as_str(), 0),
        ("count>=50", 0),
    ];
    for (expr, code) in table {
        let out = run(&["report", &json, "-o", "json", "--threshold", expr]);
        assert_eq!(out.code, code, "{expr}: {}", out.stderr);
        let verdict = &out.json()["thresholds"][0];
        assert_eq!(verdict["pass"], json!(code == 0), "{expr}");
    }
}

#[test]
fn abort_on_fail_stops_early_and_still_reports_everything() {
    let server = TestServer::start();
    let url = server.url("/status/500");
    let dir = TempDir::new("abort");
    let json = dir.file("r.json");
    let out = run(&[
        "run",
        "--url",
        &url,
        "-z",
        "30s",
        "-c",
        "4",
        "--threshold",
        "error_rate<10%",
        "--abort-on-fail",
        "--json",
        &json,
    ]);
    assert_eq!(out.code, 99, "{}", out.stderr);
    // The check runs once a second; 100 errors come in well within the first seconds.
    assert!(out.elapsed < Duration::from_secs(10), "{:?}", out.elapsed);
    assert!(out
        .stderr
        .contains("fnstress: warning: threshold 'error_rate<10%' failed after "));
    let r = read_json(&json);
    assert_eq!(r["stop_reason"], "threshold");
    assert_eq!(r["abort"]["threshold"], "error_rate<10%");
    assert!(num(&r["abort"], "completed") >= 100);
    let t = &r["totals"];
    assert_eq!(num(t, "started"), num(t, "completed") + num(t, "cancelled"));
    assert_eq!(num(t, "completed"), server.count());
    assert_eq!(r["thresholds"][0]["pass"], json!(false));
    assert!(out
        .stdout
        .contains("Stopped early: threshold 'error_rate<10%' failed after"));
}

#[test]
fn abort_on_fail_leaves_a_passing_run_alone() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let out = run(&[
        "run",
        "--url",
        &url,
        "-z",
        "2s",
        "-c",
        "2",
        "-q",
        "-o",
        "json",
        "--threshold",
        "error_rate<1%",
        "--threshold",
        "p99<5s",
        "--abort-on-fail",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["stop_reason"], "deadline");
    assert_eq!(r["abort"], serde_json::Value::Null);
}
