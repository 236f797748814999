//! `fnstress run` against the real `fnstress serve`: the gateway's own execution counts must
//! equal the run's completed counts, in total and per operation, on every route style.

mod common_gateway;
mod support;

use common_gateway::Gateway;
use serde_json::Value;
use support::{num, run_ok};

fn run_json(args: &[&str]) -> Value {
    run_ok(&[&["run", "-q", "-o", "json"], args].concat()).json()
}

/// Checks the gateway's metrics of `custom-metrics` against a run's report.
fn reconcile(gw: &Gateway, report: &Value) {
    reconcile_with(gw, report, &[]);
}

fn reconcile_with(gw: &Gateway, report: &Value, headers: &[(&str, &str)]) {
    let m = gw
        .request("GET", "/metrics/custom-metrics", headers, None)
        .json();
    let totals = &report["totals"];
    assert_eq!(num(&m, "execution_count"), num(totals, "completed"), "{m}");
    assert_eq!(num(totals, "cancelled"), 0);
    let mut compared = 0;
    for op in report["operations"].as_array().unwrap() {
        let name = op["name"].as_str().unwrap();
        let seen = &m["operations"][name];
        assert_eq!(
            num(seen, "execution_count"),
            num(op, "completed"),
            "{name}: {m}"
        );
        assert_eq!(num(seen, "error_count"), num(op, "errors"), "{name}: {m}");
        compared += num(op, "completed");
    }
    assert_eq!(compared, num(totals, "completed"));
    // Only the `error` operation fails, and every failure is the gateway's error count.
    assert_eq!(num(&m, "error_count"), num(totals, "errors"));
}

#[test]
fn counts_match_the_gateway_on_the_run_route() {
    let gw = Gateway::start(&["--time-scale", "0.05"]);
    let base = format!("http://{}", gw.addr);
    let r = run_json(&["--gateway", &base, "-c", "8", "-z", "2s"]);
    assert!(num(&r["totals"], "completed") > 100, "{}", r["totals"]);
    assert_eq!(
        num(&r["status_codes"], "500"),
        num(&r["totals"], "http_error")
    );
    reconcile(&gw, &r);
}

#[test]
fn an_exact_budget_reaches_the_gateway_exactly() {
    let gw = Gateway::start(&["--time-scale", "0"]);
    let base = format!("http://{}", gw.addr);
    let r = run_json(&["--gateway", &base, "-c", "16", "-n", "2000", "--seed", "7"]);
    assert_eq!(num(&r["totals"], "completed"), 2000);
    reconcile(&gw, &r);
}

#[test]
fn the_openfaas_route_is_counted_like_the_run_route() {
    let gw = Gateway::start(&["--time-scale", "0"]);
    let base = format!("http://{}", gw.addr);
    let r = run_json(&[
        "--gateway",
        &base,
        "--route",
        "openfaas",
        "-c",
        "4",
        "-n",
        "400",
    ]);
    assert!(r["config"]["url"]
        .as_str()
        .unwrap()
        .ends_with("/function/custom-metrics"));
    reconcile(&gw, &r);
}

#[test]
fn lambda_function_errors_are_not_successes() {
    let gw = Gateway::start(&["--time-scale", "0"]);
    let base = format!("http://{}", gw.addr);
    let args = [
        "--gateway",
        &base,
        "--route",
        "lambda",
        "-c",
        "4",
        "-n",
        "400",
        "--ops",
        "error=1,fast=3",
    ];
    let r = run_json(&args);
    let t = &r["totals"];
    // Lambda answers 200 either way; the header tells the failures apart.
    assert_eq!(num(&r["status_codes"], "200"), 400);
    assert_eq!(num(t, "function_error") + num(t, "success"), 400);
    assert!(num(t, "function_error") > 50, "{t}");
    reconcile(&gw, &r);
}

#[test]
fn api_keys_reach_the_gateway_and_a_missing_key_is_an_http_error() {
    let gw = Gateway::start_with_env(&["--time-scale", "0"], &[("API_KEY", "k3y-abc")]);
    let base = format!("http://{}", gw.addr);
    let r = run_json(&["--gateway", &base, "-n", "50", "--api-key", "k3y-abc"]);
    assert_eq!(num(&r["totals"], "completed"), 50);
    reconcile_with(&gw, &r, &[("X-API-Key", "k3y-abc")]);
    let r = run_json(&["--gateway", &base, "-n", "20"]);
    assert_eq!(num(&r["status_codes"], "401"), 20);
    assert_eq!(num(&r["totals"], "http_error"), 20);
}
