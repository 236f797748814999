//! The pages as a person sees them, in Debian's headless chromium driven by
//! `tests/browser/check.mjs` (playwright-core): the live dashboard's charts grow during a run,
//! the gateway dashboard shows the exact execution count after a run, and the HTML report
//! renders every section with no console error and no request leaving the page.

mod common_gateway;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::{closed_port, run_ok, spawn, TempDir, TestServer};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Chromium, node and playwright-core; in CI they must be there (`.ci/run` installs them).
fn browser_present() -> bool {
    let chromium = Path::new("/usr/bin/chromium").exists();
    let playwright = browser_dir().join("node_modules/playwright-core").exists();
    let node = Command::new("node").arg("--version").output().is_ok();
    if chromium && playwright && node {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium ({chromium}), node ({node}) and playwright-core ({playwright}) are needed in CI"
    );
    eprintln!("notice: chromium, node or playwright-core missing; skipping the browser test");
    false
}

fn check(args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(browser_dir().join("check.mjs"))
        .args(args)
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check.mjs {args:?} failed:\n{stderr}");
    let result: Value = serde_json::from_slice(&out.stdout).expect("check.mjs prints JSON");
    assert_eq!(result["consoleErrors"], serde_json::json!([]), "{args:?}");
    assert_eq!(result["foreignRequests"], serde_json::json!([]), "{args:?}");
    result
}

fn screenshot_ok(path: &str) {
    let bytes = std::fs::read(path).expect("a screenshot was written");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{path}"
    );
}

fn points(sections: &Value, id: &str) -> u64 {
    sections[id]
        .as_array()
        .unwrap_or_else(|| panic!("no section {id} in {sections}"))
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum()
}

#[test]
fn live_dashboard_charts_grow_during_a_run() {
    if !browser_present() {
        return;
    }
    let _serial = support::heavy();
    let server = TestServer::start();
    let dir = TempDir::new("live-page");
    let shot = dir.file("live.png");
    let addr = format!("127.0.0.1:{}", closed_port());
    let url = server.url("/sleep/3");
    let running = spawn(
        &[
            "run",
            "--url",
            &url,
            "-z",
            "10s",
            "-c",
            "4",
            "-q",
            "--dashboard",
            &addr,
        ],
        &[],
    );
    let result = check(&["live", &format!("http://{addr}/"), &shot]);
    let (first, second) = (&result["first"], &result["second"]);
    for id in ["rate", "latency", "workers", "operations"] {
        assert!(points(first, id) > 0, "{id} is empty: {first}");
    }
    assert!(
        points(second, "rate") > points(first, "rate"),
        "{first} then {second}"
    );
    assert!(points(second, "latency") > points(first, "latency"));
    assert_eq!(result["state"], "running");
    screenshot_ok(&shot);
    let out = running.wait(Duration::from_secs(30));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn gateway_dashboard_shows_the_executions_of_a_run() {
    if !browser_present() {
        return;
    }
    let gateway = common_gateway::Gateway::start(&["--time-scale", "0"]);
    let base = format!("http://{}", gateway.addr);
    run_ok(&["run", "--gateway", &base, "-n", "40", "-c", "4", "-q"]);
    let dir = TempDir::new("gateway-page");
    let shot = dir.file("gateway.png");
    let dashboard = format!("{base}/dashboard");
    let result = check(&["gateway", &dashboard, "custom-metrics", &shot]);
    assert_eq!(result["executions"], "40");
    assert!(points(&result["points"], "rates") > 0, "{result}");
    screenshot_ok(&shot);
}

#[test]
fn html_report_renders_every_section() {
    if !browser_present() {
        return;
    }
    let gateway = common_gateway::Gateway::start(&["--time-scale", "0.05"]);
    let base = format!("http://{}", gateway.addr);
    let dir = TempDir::new("report-page");
    let html = dir.file("report.html");
    let shot = dir.file("report.png");
    run_ok(&[
        "run",
        "--gateway",
        &base,
        "-n",
        "300",
        "-c",
        "4",
        "-q",
        "--seed",
        "7",
        "--html",
        &html,
    ]);
    let result = check(&["report", &html, &shot]);
    let sections = &result["points"];
    for id in [
        "rate",
        "latency",
        "errors-over-time",
        "distribution",
        "operations",
        "workers",
        "status",
    ] {
        assert!(points(sections, id) > 0, "{id} has no data: {sections}");
    }
    assert!(sections.get("summary").is_some());
    let text = result["text"].as_str().unwrap();
    assert!(text.contains("300\ncompleted"), "{text}");
    for heading in [
        "Rate over time",
        "Latency over time",
        "Errors by kind over time",
        "Latency distribution",
        "Operations",
        "Workers",
        "Status codes and errors",
        "HTTP 500",
    ] {
        assert!(text.contains(heading), "missing {heading}");
    }
    assert_eq!(result["title"], "fnstress report: custom-metrics");
    screenshot_ok(&shot);
}
