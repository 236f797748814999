//! The live dashboard of a run: `/metrics` parses with real Prometheus parsers (promtool and
//! `prometheus_client`) while the run is on, and once the report is out its counts equal the
//! report's, as do `/api/stats`'s; the dashboard lingers until Ctrl-C.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{closed_port, num, read_json, spawn, wait_until, TempDir, TestServer};

/// The live timeline has no engine samples (active workers, target rate); the report's has.
fn without_samples(mut timeline: Value) -> Value {
    for second in timeline.as_array_mut().unwrap() {
        second["active_workers"] = Value::Null;
        second["target_rate"] = Value::Null;
        // Only saved reports carry each second's encoded histogram, for merging.
        second.as_object_mut().unwrap().remove("histogram");
    }
    timeline
}

fn get(url: &str) -> Option<String> {
    let mut reply = ureq::get(url).call().ok()?;
    reply.body_mut().read_to_string().ok()
}

/// Tools of this test; in CI they must be there, elsewhere the test says so and returns.
fn tools_present() -> bool {
    let promtool = Command::new("promtool").arg("--version").output().is_ok();
    let client = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    if promtool && client {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "promtool ({promtool}) and python3 prometheus_client ({client}) are needed in CI"
    );
    eprintln!("notice: promtool or prometheus_client missing; skipping");
    false
}

/// Runs `command` with `input` on stdin and collects what it printed.
fn pipe(command: &mut Command, input: &str) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn promtool_check(text: &str) {
    let out = pipe(Command::new("promtool").args(["check", "metrics"]), text);
    assert!(out.status.success(), "promtool: {out:?}\n{text}");
}

/// Every sample as `name{labels}` → value, through the Python client's parser.
fn parse_samples(text: &str) -> Value {
    let script = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families as parse\n\
        out = {}\n\
        for family in parse(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       labels = ','.join(f'{k}={v}' for k, v in sorted(s.labels.items()))\n\
        \x20       out[f'{s.name}{{{labels}}}'] = s.value\n\
        print(json.dumps(out))\n";
    let out = pipe(Command::new("python3").args(["-c", script]), text);
    assert!(out.status.success(), "prometheus_client failed on:\n{text}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sample(samples: &Value, key: &str) -> u64 {
    samples[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no sample {key} in {samples}")) as u64
}

#[test]
fn metrics_parse_while_running_and_match_the_report_after() {
    if !tools_present() {
        return;
    }
    let server = TestServer::start();
    let dir = TempDir::new("dashboard");
    let json = dir.file("report.json");
    let base = format!("http://127.0.0.1:{}", closed_port());
    let url = server.url("/sleep/5");
    let running = spawn(
        &[
            "run",
            "--url",
            &url,
            "-z",
            "3s",
            "-c",
            "3",
            "--ops",
            "fast=2,slow",
            "--json",
            &json,
            "--dashboard",
            &base[7..],
            "--dashboard-linger",
            "30s",
            "-q",
        ],
        &[],
    );

    // While the run is on.
    let metrics = format!("{base}/metrics");
    wait_until(Duration::from_secs(10), "the dashboard", || {
        get(&metrics).is_some_and(|t| t.contains("fnstress_running 1"))
    });
    std::thread::sleep(Duration::from_millis(1500));
    let live = get(&metrics).unwrap();
    promtool_check(&live);
    let samples = parse_samples(&live);
    assert_eq!(sample(&samples, "fnstress_running{}"), 1);
    assert_eq!(sample(&samples, "fnstress_workers{}"), 3);
    assert!(
        sample(
            &samples,
            "fnstress_invocations_total{operation=fast,outcome=success}"
        ) > 0
    );

    // After the report: the final numbers, still served.
    wait_until(Duration::from_secs(20), "the JSON report", || {
        std::path::Path::new(&json).exists()
    });
    let report = read_json(&json);
    let last = get(&metrics).unwrap();
    promtool_check(&last);
    let samples = parse_samples(&last);
    assert_eq!(sample(&samples, "fnstress_running{}"), 0);
    let mut total = 0;
    for op in report["operations"].as_array().unwrap() {
        let name = op["name"].as_str().unwrap();
        for kind in ["success", "http_error", "timeout", "io_error", "cancelled"] {
            let key = format!("fnstress_invocations_total{{operation={name},outcome={kind}}}");
            assert_eq!(sample(&samples, &key), num(op, kind), "{key}");
        }
        let count = format!("fnstress_latency_seconds_count{{operation={name}}}");
        assert_eq!(sample(&samples, &count), num(&op["latency"], "count"));
        let inf = format!("fnstress_latency_seconds_bucket{{le=+Inf,operation={name}}}");
        assert_eq!(sample(&samples, &inf), num(&op["latency"], "count"));
        // Every latency is at least 5 ms: none may sit in the 1 ms bucket.
        let fast = format!("fnstress_latency_seconds_bucket{{le=0.001,operation={name}}}");
        assert_eq!(sample(&samples, &fast), 0);
        total += num(op, "started");
    }
    let all: f64 = samples
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("fnstress_invocations_total{"))
        .map(|(_, v)| v.as_f64().unwrap())
        .sum();
    assert_eq!(all as u64, num(&report["totals"], "started"));
    assert_eq!(total, num(&report["totals"], "started"));
    assert!(total > 0);

    let stats: Value = serde_json::from_str(&get(&format!("{base}/api/stats")).unwrap()).unwrap();
    assert_eq!(stats["live"]["state"], "finished");
    assert_eq!(stats["live"]["progress"], 1.0);
    // Counts agree exactly; rates differ only by the clock each side read.
    for key in [
        "started",
        "completed",
        "success",
        "errors",
        "cancelled",
        "bytes_received",
    ] {
        assert_eq!(stats["totals"][key], report["totals"][key], "totals.{key}");
    }
    assert_eq!(
        stats["timeline"],
        without_samples(report["timeline"].clone())
    );
    assert_eq!(stats["workers"], report["workers"]);
    assert_eq!(stats["status_codes"], report["status_codes"]);

    // Ctrl-C ends the linger at once; the report was already out.
    running.signal(libc::SIGINT);
    let out = running.wait(Duration::from_secs(10));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("Target "), "{}", out.stdout);
}
