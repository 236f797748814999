//! The JSON report holds every documented field with values that agree with each other and
//! with what the server received; secrets reach the server but never any output; `--help`
//! lists every option.

mod support;

use fnstress::config::RUN_SPECS;
use fnstress::report::json::decode_histogram;
use serde_json::{json, Value};
use support::{num, read_json, run, run_env, run_ok, sum, TempDir, TestServer};

const TOTALS: [&str; 14] = [
    "started",
    "completed",
    "success",
    "errors",
    "throttled",
    "http_error",
    "function_error",
    "timeout",
    "connect_error",
    "io_error",
    "cancelled",
    "rate_per_s",
    "success_rate",
    "bytes_received",
];

const LATENCY: [&str; 10] = [
    "unit", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max",
];

/// Counts by kind, as `totals`, `operations[]` and `workers[]` hold them.
const KIND_KEYS: [&str; 8] = [
    "success",
    "throttled",
    "http_error",
    "function_error",
    "timeout",
    "connect_error",
    "io_error",
    "cancelled",
];

#[test]
fn the_json_report_holds_every_documented_field() {
    let server = TestServer::start();
    let dir = TempDir::new("report");
    let json_path = dir.file("r.json");
    let url = server.url("/ok");
    let out = run_ok(&[
        "run",
        "--url",
        &url,
        "-n",
        "240",
        "-c",
        "3",
        "--ops",
        "fast=2,slow,error",
        "--seed",
        "7",
        "-q",
        "-o",
        "json",
        "--json",
        &json_path,
    ]);
    let r = read_json(&json_path);
    // The file and stdout hold the same report.
    assert_eq!(out.json(), r);

    assert_eq!(r["schema"], "fnstress.report.v1");
    assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
    let started_at = r["started_at"].as_str().unwrap();
    humantime::parse_rfc3339(started_at).unwrap_or_else(|e| panic!("{started_at}: {e}"));
    let elapsed = r["elapsed_s"].as_f64().unwrap();
    assert!(elapsed > 0.0 && elapsed < 30.0, "{elapsed}");
    assert_eq!(r["stop_reason"], "requests");

    let c = &r["config"];
    assert_eq!(c["url"], url);
    assert_eq!(c["route"], "url");
    assert_eq!(c["method"], "POST");
    assert_eq!(c["concurrency"], 3);
    assert_eq!(c["requests"], 240);
    assert_eq!(c["duration_s"], Value::Null);
    assert_eq!(c["seed"], 7);
    assert_eq!(c["operations"], json!(["fast", "slow", "error"]));

    let t = &r["totals"];
    for key in TOTALS {
        assert!(t[key].is_number(), "totals.{key} missing in {t}");
    }
    assert_eq!(num(t, "started"), 240);
    assert_eq!(num(t, "completed"), 240);
    assert_eq!(num(t, "success"), 240);
    assert_eq!(num(t, "errors"), 0);
    assert_eq!(t["success_rate"], json!(1.0));
    assert_eq!(num(t, "bytes_received"), 240 * 11);
    // Both numbers are rounded to 3 decimals, so the rate lies between 240 over the
    // largest and the smallest elapsed time that rounds to elapsed_s.
    let rate = t["rate_per_s"].as_f64().unwrap();
    let (low, high) = (240.0 / (elapsed + 0.0005), 240.0 / (elapsed - 0.0005));
    assert!(
        low - 0.0005 <= rate && rate <= high + 0.0005,
        "rate {rate} not in 240 / {elapsed} ± rounding ({low}..{high})"
    );
    assert_eq!(server.count(), 240);

    let l = &r["latency"];
    for key in LATENCY {
        assert!(!l[key].is_null(), "latency.{key} missing in {l}");
    }
    assert_eq!(l["unit"], "us");
    assert_eq!(num(l, "count"), 240);
    let order: Vec<u64> = ["min", "p50", "p90", "p95", "p99", "p99_9", "max"]
        .iter()
        .map(|k| num(l, k))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    let mean = l["mean"].as_f64().unwrap();
    assert!(order[0] as f64 <= mean && mean <= order[6] as f64, "{l}");

    let h = decode_histogram(r["histogram"].as_str().unwrap()).unwrap();
    assert_eq!(h.len(), num(t, "completed"));
    assert_eq!(h.max(), num(l, "max"));
    assert_eq!(h.min(), num(l, "min"));
    assert_eq!(h.value_at_quantile(0.5), num(l, "p50"));

    assert_eq!(r["status_codes"], json!({"200": 240}));
    assert_eq!(r["errors"], json!([]));

    // Operations: what the server saw per operation is what the report says.
    let seen = server.operations();
    let ops = r["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3);
    for op in ops {
        let name = op["name"].as_str().unwrap();
        assert_eq!(num(op, "completed"), seen[name], "operation {name}");
        let kinds: u64 = KIND_KEYS.iter().map(|k| num(op, k)).sum();
        assert_eq!(num(op, "started"), kinds, "operation {name}");
        let oh = decode_histogram(op["histogram"].as_str().unwrap()).unwrap();
        assert_eq!(oh.len(), seen[name], "operation {name} histogram");
        assert_eq!(num(&op["latency"], "count"), seen[name]);
    }
    for key in ["started", "completed", "success", "errors"] {
        assert_eq!(sum(&r["operations"], key), num(t, key), "operations {key}");
    }

    let workers = r["workers"].as_array().unwrap();
    let ids: Vec<u64> = workers.iter().map(|w| num(w, "id")).collect();
    assert_eq!(ids, [0, 1, 2]);
    for key in ["started", "success", "errors", "cancelled"] {
        assert_eq!(sum(&r["workers"], key), num(t, key), "workers {key}");
    }

    let timeline = r["timeline"].as_array().unwrap();
    assert!(!timeline.is_empty());
    for (i, s) in timeline.iter().enumerate() {
        assert_eq!(num(s, "second"), i as u64);
    }
    assert_eq!(sum(&r["timeline"], "completed"), 240);
    assert_eq!(sum(&r["timeline"], "success"), 240);
}

#[test]
fn the_text_report_shows_the_same_totals() {
    let server = TestServer::start();
    let url = server.url("/status/500");
    let out = run_ok(&["run", "--url", &url, "-n", "7", "-c", "2", "-q"]);
    let text = &out.stdout;
    for line in [
        "\nTotals\n",
        "  started              7\n",
        "  completed            7",
        "  success              0   0.00%\n",
        "  errors               7\n",
        "    http error             7\n",
        "\nStatus codes\n  500            7\n",
        "\nErrors\n  http error             7  HTTP 500\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert_eq!(out.stderr, "");
}

/// Runs once with the given secrets and checks they reached the server but no output.
fn check_secrets_hidden(args: &[&str], env: &[(&str, &str)], secrets: &[&str], key: &str) {
    for format in ["text", "json"] {
        let server = TestServer::start();
        let dir = TempDir::new("secrets");
        let json_path = dir.file("r.json");
        let url = server.url("/ok");
        let mut all = vec![
            "run", "--url", &url, "-n", "5", "-c", "1", "-o", format, "--json", &json_path,
        ];
        all.extend_from_slice(args);
        let out = run_env(&all, env);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(server.count(), 5);

        assert_eq!(server.last_header("X-API-Key").as_deref(), Some(key));
        assert_eq!(
            server.last_header("Authorization").as_deref(),
            Some("Bearer t0ken-XYZ")
        );
        let file = std::fs::read_to_string(&json_path).unwrap();
        for secret in secrets {
            for (name, text) in [
                ("stdout", &out.stdout),
                ("stderr", &out.stderr),
                ("--json file", &file),
            ] {
                assert!(
                    !text.contains(secret),
                    "{secret} leaked on {name} (-o {format}):\n{text}"
                );
            }
        }
        let r = read_json(&json_path);
        assert_eq!(r["config"]["api_key"], "[redacted]");
        assert_eq!(r["config"]["headers"][0], "Authorization: [redacted]");
    }
}

#[test]
fn secrets_from_flags_reach_the_server_but_no_output() {
    check_secrets_hidden(
        &[
            "--api-key",
            "s3cr3t-KEY",
            "-H",
            "Authorization: Bearer t0ken-XYZ",
        ],
        &[],
        &["s3cr3t-KEY", "t0ken-XYZ"],
        "s3cr3t-KEY",
    );
}

#[test]
fn secrets_from_the_environment_reach_the_server_but_no_output() {
    check_secrets_hidden(
        &["-H", "Authorization: Bearer t0ken-XYZ"],
        &[("FNSTRESS_API_KEY", "env-s3cr3t-KEY")],
        &["env-s3cr3t-KEY", "t0ken-XYZ"],
        "env-s3cr3t-KEY",
    );
}

#[test]
fn secrets_from_a_json_event_reach_the_server_but_no_output() {
    let event = r#"{"api_key": "ev-s3cr3t-KEY", "headers": ["Authorization: Bearer t0ken-XYZ"]}"#;
    check_secrets_hidden(
        &["-d", event],
        &[],
        &["ev-s3cr3t-KEY", "t0ken-XYZ"],
        "ev-s3cr3t-KEY",
    );
}

#[test]
fn help_lists_every_option() {
    let out = run(&["run", "--help"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stderr, "");
    let help = &out.stdout;
    let listed = |flag: &str| {
        help.lines()
            .any(|l| l.trim_start().split([' ', ',']).any(|word| word == flag))
    };
    for spec in RUN_SPECS {
        assert!(listed(spec.flag), "--help does not list {}", spec.flag);
        if let Some(short) = spec.short {
            assert!(listed(short), "--help does not list {short}");
        }
    }
    for flag in ["--data", "-d", "--config", "--help", "-h"] {
        assert!(listed(flag), "--help does not list {flag}");
    }
    assert!(help.starts_with("fnstress run:"));
}
