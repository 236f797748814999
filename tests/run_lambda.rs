//! Lambda against real counterparts: the SigV4 headers fnstress sends equal those botocore
//! computes for the same request, secrets never show, cold starts read from the log tail
//! equal the built-in gateway's own count, and `Event` invocations count as successes.
//!
//! The signing test needs `python3` with PyPI's `botocore`. Without it the test fails when
//! `CI` is set and is skipped with a notice otherwise.

mod common_gateway;
mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use common_gateway::Gateway;
use support::{num, run_env, run_ok, TestServer};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "FwoGZXIvYXdzEXAMPLEsessionTOKENvalue";
const KEY_ID: &str = "AKIDEXAMPLE";
const TIME: &str = "20261203T000000Z";

/// True when botocore can be imported; fails under CI when it cannot.
fn botocore_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import botocore"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 with botocore is missing; pip install botocore"
        );
        eprintln!("notice: python3 with botocore is missing (pip install botocore); skipping");
    }
    ok
}

/// The headers botocore adds to each request described in `specs`.
fn botocore_sign(specs: &Value) -> Vec<Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sigv4_botocore.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(specs.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the botocore signer failed");
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Runs one signed invocation and returns what the server received, next to the output.
fn signed_run(server: &TestServer, args: &[&str], token: bool) -> (Vec<(String, String)>, String) {
    let mut env = vec![
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("FNSTRESS_SIGV4_TIME", TIME),
    ];
    if token {
        env.push(("AWS_SESSION_TOKEN", TOKEN));
    }
    let mut all = vec!["run", "-n", "1", "-c", "1", "--body", r#"{"k":1}"#];
    all.extend(args);
    all.extend(["-o", "json"]);
    let out = run_env(&all, &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(num(&out.json()["totals"], "success"), 1);
    let names = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "content-type",
        "x-amz-invocation-type",
    ];
    let seen = names
        .iter()
        .filter_map(|n| server.last_header(n).map(|v| (n.to_string(), v)))
        .collect();
    (seen, format!("{}{}", out.stdout, out.stderr))
}

/// One signed run: fnstress arguments, the URL invoked, whether a session token is used, and
/// the headers (besides host) the request carries before signing.
type SigningCase<'a> = (&'a [&'a str], &'a str, bool, &'a [(&'a str, &'a str)]);

#[test]
fn signed_headers_equal_botocores_and_secrets_stay_hidden() {
    if !botocore_available() {
        return;
    }
    let server = TestServer::start();
    let base = server.base();
    let invoke_url = server.url("/2015-03-31/functions/echo/invocations");
    let function_url = server.url("/ok");
    let cases: [SigningCase; 3] = [
        // the Invoke API with temporary credentials and an invocation type
        (
            &[
                "--gateway",
                &base,
                "--route",
                "lambda",
                "-t",
                "echo",
                "--aws-sigv4",
                "eu-west-1",
                "--invocation-type",
                "RequestResponse",
            ],
            &invoke_url,
            true,
            &[
                ("content-type", "application/json"),
                ("x-amz-invocation-type", "RequestResponse"),
            ],
        ),
        // long-term credentials: no security token
        (
            &[
                "--gateway",
                &base,
                "--route",
                "lambda",
                "-t",
                "echo",
                "--aws-sigv4",
                "us-east-1",
            ],
            &invoke_url,
            false,
            &[("content-type", "application/json")],
        ),
        // a function URL protected by IAM
        (
            &["--url", &function_url, "--aws-sigv4", "ap-southeast-2"],
            &function_url,
            true,
            &[("content-type", "application/json")],
        ),
    ];
    let mut specs = vec![];
    let mut received = vec![];
    for (args, url, token, headers) in cases {
        let (seen, output) = signed_run(&server, args, token);
        for secret in [SECRET, TOKEN] {
            assert!(!output.contains(secret), "a secret was printed: {output}");
        }
        let region = args[args.iter().position(|a| *a == "--aws-sigv4").unwrap() + 1];
        specs.push(json!({
            "url": url, "method": "POST", "body": r#"{"k":1}"#, "headers": headers,
            "region": region, "access_key": KEY_ID, "secret_key": SECRET,
            "token": if token { Some(TOKEN) } else { None }, "time": TIME,
        }));
        received.push(seen);
    }
    let expected = botocore_sign(&Value::Array(specs));
    for (i, (seen, want)) in received.iter().zip(&expected).enumerate() {
        let get = |n: &str| seen.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert!(get("authorization").is_some(), "case {i}: not signed");
        assert_eq!(
            get("authorization"),
            want["Authorization"].as_str(),
            "case {i}"
        );
        assert_eq!(get("x-amz-date"), Some(TIME), "case {i}");
        assert_eq!(get("x-amz-date"), want["X-Amz-Date"].as_str(), "case {i}");
        assert_eq!(
            get("x-amz-security-token"),
            want["X-Amz-Security-Token"].as_str(),
            "case {i}"
        );
        // neither signer adds a payload hash header for Lambda
        assert_eq!(get("x-amz-content-sha256"), None, "case {i}");
    }
    assert!(expected[0]["Authorization"]
        .as_str()
        .unwrap()
        .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type;"));
}

#[test]
fn signed_json_reports_show_no_secret() {
    let server = TestServer::start();
    let dir = support::TempDir::new("lambda-json");
    let json_path = dir.file("r.json");
    let url = server.url("/ok");
    let out = run_env(
        &[
            "run",
            "--url",
            &url,
            "--aws-sigv4",
            "us-east-1",
            "-n",
            "3",
            "--json",
            &json_path,
        ],
        &[
            ("AWS_ACCESS_KEY_ID", KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", TOKEN),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let file = std::fs::read_to_string(&json_path).unwrap();
    for text in [&out.stdout, &out.stderr, &file] {
        assert!(!text.contains(SECRET) && !text.contains(TOKEN) && !text.contains(KEY_ID));
    }
    let lambda = &support::read_json(&json_path)["config"]["lambda"];
    assert_eq!(lambda["sigv4_region"], "us-east-1");
    assert_eq!(lambda["session_token"], true);
    // the request the server saw was signed anew at the real time
    assert!(server
        .last_header("authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 "));
}

/// The gateway's cold-start count of one function.
fn gateway_cold_starts(gateway: &Gateway, name: &str) -> u64 {
    num(
        &gateway.get(&format!("/metrics/{name}")).json(),
        "cold_starts",
    )
}

#[test]
fn cold_starts_in_the_report_equal_the_gateways() {
    let gateway = Gateway::start(&["--time-scale", "0.02", "--require-sigv4"]);
    let base = gateway.url("");
    let env = [
        ("AWS_ACCESS_KEY_ID", KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
    ];
    let run = |n: &str| {
        let args = [
            "run",
            "--gateway",
            &base,
            "--route",
            "lambda",
            "-t",
            "custom-metrics=1,echo=1",
            "--log-tail",
            "--aws-sigv4",
            "eu-west-1",
            "-n",
            n,
            "-c",
            "6",
            "-o",
            "json",
        ];
        let out = run_env(&args, &env);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.json()
    };
    // The first run meets both functions cold; the second finds them warm.
    for (n, want) in [("300", 1), ("200", 0)] {
        let before: Vec<u64> = ["custom-metrics", "echo"]
            .iter()
            .map(|f| gateway_cold_starts(&gateway, f))
            .collect();
        let r = run(n);
        assert_eq!(num(&r["totals"], "completed"), n.parse::<u64>().unwrap());
        let mut total = 0;
        for (i, f) in r["functions"].as_array().unwrap().iter().enumerate() {
            let name = f["name"].as_str().unwrap();
            let delta = gateway_cold_starts(&gateway, name) - before[i];
            assert_eq!(num(f, "cold_starts"), delta, "{name}");
            assert_eq!(delta, want, "{name}");
            assert_eq!(num(&f["init_duration"], "count"), delta, "{name}");
            total += delta;
        }
        assert_eq!(num(&r["totals"], "cold_starts"), total);
    }
    let text = run_ok(&[
        "run",
        "--gateway",
        &base,
        "--route",
        "lambda",
        "-t",
        "echo",
        "--log-tail",
        "-n",
        "5",
    ]);
    // unsigned invocations are refused by a gateway that requires a signature
    assert!(text.stdout.contains("403"), "{}", text.stdout);
}

#[test]
fn event_invocations_answer_202_and_count_as_successes() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let out = run_ok(&[
        "run",
        "--gateway",
        &gateway.url(""),
        "--route",
        "lambda",
        "-t",
        "echo",
        "--invocation-type",
        "Event",
        "-n",
        "50",
        "-c",
        "2",
        "-o",
        "json",
    ]);
    let r = out.json();
    assert_eq!(num(&r["totals"], "success"), 50);
    assert_eq!(r["status_codes"], json!({"202": 50}));
    let m = gateway.get("/metrics/echo").json();
    assert_eq!(num(&m, "execution_count"), 50);
}
