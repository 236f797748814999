//! `GET /metrics` in Prometheus text, checked by real parsers: `prometheus_client` (Python)
//! for series and values, `promtool check metrics` for strict validity. Without a parser
//! the tests print a notice and pass, except under `CI`, where they fail.

mod common_gateway;

use std::io::Write;
use std::process::{Command, Stdio};

use common_gateway::Gateway;
use serde_json::Value;

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = [
    {"name": f.name, "type": f.type,
     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
    for f in text_string_to_metric_families(sys.stdin.read())
]
print(json.dumps(families))
"#;

/// True when `tool` can run; otherwise fails under `CI`, or prints a notice.
fn available(tool: &str, probe: &mut Command) -> bool {
    let works = probe
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        let message = format!("{tool} is not installed; the Prometheus format was not checked");
        assert!(
            std::env::var_os("CI").is_none(),
            "{message} (required under CI)"
        );
        eprintln!("notice: {message}");
    }
    works
}

/// Runs `command` with `input` on stdin; returns its exit code and stdout.
fn pipe(command: &mut Command, input: &str) -> (i32, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// A gateway after 3 fast and 2 failed invocations, and its metrics as Prometheus text.
fn exercised_gateway_metrics(how: (&str, &[(&str, &str)])) -> String {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    for op in ["fast", "fast", "fast", "error", "error"] {
        gateway.post("/run/custom-metrics", &format!(r#"{{"operation":"{op}"}}"#));
    }
    let reply = gateway.request("GET", how.0, how.1, None);
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    reply.body
}

fn sample<'a>(families: &'a [Value], name: &str, labels: &[(&str, &str)]) -> Option<&'a Value> {
    families
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
}

#[test]
fn prometheus_client_reads_every_series_and_value() {
    let mut probe = Command::new("python3");
    if !available(
        "python3 with prometheus_client",
        probe.args(["-c", "import prometheus_client"]),
    ) {
        return;
    }
    for how in [
        ("/metrics", &[("Accept", "text/plain")][..]),
        ("/metrics?format=prometheus", &[]),
    ] {
        let text = exercised_gateway_metrics(how);
        let (code, json) = pipe(Command::new("python3").args(["-c", PARSE]), &text);
        assert_eq!(code, 0, "parser failed on:\n{text}");
        let families: Vec<Value> = serde_json::from_str(&json).unwrap();

        let types: Vec<(String, String)> = families
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap().into(),
                    f["type"].as_str().unwrap().into(),
                )
            })
            .collect();
        for (name, kind) in [
            ("fnstress_gateway_invocations", "counter"),
            ("fnstress_gateway_duration_seconds", "histogram"),
            ("fnstress_gateway_cold_starts", "counter"),
            ("fnstress_gateway_custom_metric", "counter"),
            ("fnstress_gateway_rejections", "counter"),
        ] {
            assert!(
                types.contains(&(name.into(), kind.into())),
                "{name} {kind} in {types:?}"
            );
        }

        let fast_ok = [
            ("function", "custom-metrics"),
            ("operation", "fast"),
            ("outcome", "success"),
        ];
        let value =
            |name, labels| sample(&families, name, labels).and_then(|s| s["value"].as_f64());
        assert_eq!(
            value("fnstress_gateway_invocations_total", &fast_ok[..]),
            Some(3.0)
        );
        let error = [("operation", "error"), ("outcome", "error")];
        assert_eq!(
            value("fnstress_gateway_invocations_total", &error[..]),
            Some(2.0)
        );
        let inf = [("operation", "fast"), ("le", "+Inf")];
        assert_eq!(
            value("fnstress_gateway_duration_seconds_bucket", &inf[..]),
            Some(3.0)
        );
        let count = [("function", "custom-metrics"), ("operation", "fast")];
        assert_eq!(
            value("fnstress_gateway_duration_seconds_count", &count[..]),
            Some(3.0)
        );
        let cold = [("function", "custom-metrics")];
        assert_eq!(
            value("fnstress_gateway_cold_starts_total", &cold[..]),
            Some(1.0)
        );
        let errors_total = [("metric", "errors.total")];
        assert_eq!(
            value("fnstress_gateway_custom_metric_total", &errors_total[..]),
            Some(2.0)
        );
    }
}

#[test]
fn promtool_finds_the_text_valid_and_lint_free() {
    if !available("promtool", Command::new("promtool").arg("--version")) {
        return;
    }
    let text = exercised_gateway_metrics(("/metrics/custom-metrics?format=prometheus", &[]));
    let (code, _) = pipe(Command::new("promtool").args(["check", "metrics"]), &text);
    assert_eq!(code, 0, "promtool check metrics failed on:\n{text}");
}
