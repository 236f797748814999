//! Every invalid flag, JSON value or file is refused before anything is sent: exit code 2,
//! one `fnstress:` line on stderr naming the flag or key, nothing on stdout, and a server on
//! 127.0.0.1 that received nothing.

mod support;

use support::{run_env, TempDir, TestServer};

/// One refused command line: its arguments (`{url}` and `{base}` stand for the test server)
/// and the texts its error line must contain.
struct Row {
    args: &'static [&'static str],
    needles: &'static [&'static str],
}

const fn row(args: &'static [&'static str], needles: &'static [&'static str]) -> Row {
    Row { args, needles }
}

const ROWS: &[Row] = &[
    // Workers: zero, negative, not a number, above the maximum, missing.
    row(&["-c", "0"], &["--concurrency", "'0'"]),
    row(&["-c", "-1"], &["--concurrency", "'-1'"]),
    row(&["-c", "abc"], &["--concurrency", "'abc'"]),
    row(&["-c", "100001"], &["--concurrency", "'100001'"]),
    row(&["-c"], &["--concurrency", "needs a value"]),
    // Durations and budgets.
    row(&["-z", "0"], &["--duration", "more than 0"]),
    row(&["-z", "5x"], &["--duration", "'5x'"]),
    row(
        &["-z", "18446744073709551615s"],
        &["--duration", "below 1e9 seconds"],
    ),
    row(
        &["--warmup", "99999999999h"],
        &["--warmup", "below 1e9 seconds"],
    ),
    row(&["-n", "0"], &["--requests", "'0'"]),
    row(&["--timeout", "0"], &["--timeout", "more than 0"]),
    row(&["--connect-timeout", "0"], &["--connect-timeout"]),
    row(&["--grace", "soon"], &["--grace", "'soon'"]),
    // Where to send.
    row(
        &["--gateway", "{base}", "--route", "bogus"],
        &["--route", "'bogus'"],
    ),
    row(
        &["--gateway", "{base}", "--route", "api/{name}"],
        &["--route", "'/'"],
    ),
    row(
        &["--gateway", "{base}", "--route", "/x"],
        &["--route", "'/x'"],
    ),
    row(&["--gateway", "ftp://x"], &["--gateway", "'ftp'"]),
    row(&["--url", "notaurl"], &["--url", "'notaurl'"]),
    row(
        &["--url", "{url}", "--gateway", "{base}"],
        &["--url", "--gateway"],
    ),
    row(&["-t", ""], &["--target"]),
    row(&["-m", "GE T"], &["--method", "'GE T'"]),
    // Headers.
    row(&["-H", "NoColon"], &["--header", "'NoColon'"]),
    row(&["-H", "Bad Name: x"], &["--header", "'Bad Name'"]),
    // What to send.
    row(&["--ops", "fast=0"], &["--ops", "'fast'"]),
    row(&["--ops", ""], &["--ops"]),
    row(
        &["--payloads", "/nonexistent"],
        &["--payloads", "/nonexistent"],
    ),
    row(
        &["--body-file", "/nonexistent"],
        &["--body-file", "/nonexistent"],
    ),
    row(&["--body", "x", "--ops", "fast"], &["--ops", "--body"]),
    row(&["--seed", "-1"], &["--seed", "'-1'"]),
    // Output.
    row(&["-o", "yaml"], &["--output", "'yaml'"]),
    row(
        &["--json", "/nonexistent/r.json"],
        &["--json /nonexistent/r.json"],
    ),
    row(&["--json", "/"], &["--json /", "directory"]),
    // JSON events: not an object, not JSON, a misspelt key, wrong types.
    row(&["-d", "[1]"], &["-d/--data", "an array"]),
    row(&["-d", "{bad"], &["-d/--data", "invalid JSON"]),
    row(
        &["-d", r#"{"concurency":3}"#],
        &["'concurency'", "did you mean 'concurrency'"],
    ),
    row(
        &["-d", r#"{"concurrency":"10"}"#],
        &["key 'concurrency' in -d/--data", "a string"],
    ),
    row(
        &["-d", r#"{"duration":-5}"#],
        &["key 'duration' in -d/--data", "'-5'"],
    ),
    row(&["-d", r#"{"quiet":"yes"}"#], &["key 'quiet' in -d/--data"]),
    row(
        &["-d", r#"{"headers":{"A":1}}"#],
        &["key 'headers' in -d/--data", "'A'"],
    ),
    // Function mixes.
    row(&["-t", "a=3,a=1"], &["--target", "'a'", "twice"]),
    row(&["-t", "a=0,b=1"], &["--target", "weight 0"]),
    row(&["-t", "a=2,b=1"], &["--target", "--url"]),
    row(
        &["-d", r#"{"target_function": {"a": "x"}}"#],
        &["key 'target_function' in -d/--data", "'a'"],
    ),
    // Lambda options: the route they need, credentials, accepted values.
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "run",
            "--aws-sigv4",
            "eu-west-1",
        ],
        &["--aws-sigv4", "--route lambda"],
    ),
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "lambda",
            "--aws-sigv4",
            "eu-west-1",
        ],
        &["--aws-sigv4", "AWS_ACCESS_KEY_ID"],
    ),
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "lambda",
            "--aws-sigv4",
            "EU_WEST",
        ],
        &["--aws-sigv4", "'EU_WEST'"],
    ),
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "lambda",
            "--aws-sigv4",
            "env",
        ],
        &["--aws-sigv4", "AWS_REGION"],
    ),
    row(
        &["--invocation-type", "Event"],
        &["--invocation-type", "--route lambda"],
    ),
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "lambda",
            "--invocation-type",
            "Async",
        ],
        &["--invocation-type", "'Async'", "RequestResponse"],
    ),
    row(&["--log-tail"], &["--log-tail", "--route lambda"]),
    row(
        &[
            "--gateway",
            "{base}",
            "--route",
            "lambda",
            "--log-tail",
            "--invocation-type",
            "Event",
        ],
        &["--log-tail", "Event"],
    ),
    // Connections, warm-up, CSV.
    row(
        &["--no-keepalive", "--max-requests-per-connection", "5"],
        &["--max-requests-per-connection", "--no-keepalive"],
    ),
    row(
        &["--max-requests-per-connection", "0"],
        &["--max-requests-per-connection", "'0'"],
    ),
    row(&["--warmup", "0"], &["--warmup", "more than 0"]),
    row(
        &["--warmup", "1s", "--stages", "5s:2"],
        &["--warmup", "--stages"],
    ),
    row(
        &["--csv", "/nonexistent/t.csv"],
        &["--csv /nonexistent/t.csv"],
    ),
    // Load models: stages, rates and think times.
    row(&["--stages", "30s"], &["--stages", "'30s'"]),
    row(&["--stages", "10s:5,x:3"], &["--stages", "'x:3'"]),
    row(&["--stages", "5s:-1"], &["--stages", "'-1'"]),
    row(
        &["--stages", "5s:2", "-z", "3s"],
        &["--stages", "--duration"],
    ),
    row(&["--rate", "0"], &["--rate", "'0'"]),
    row(&["--rate", "fast"], &["--rate", "'fast'"]),
    row(&["--think", "5..1"], &["--think", "'5..1'"]),
    // Thresholds, from flags and from the event.
    row(&["--threshold", "p99<<3"], &["--threshold", "'p99<<3'"]),
    row(&["--threshold", "foo<1"], &["--threshold", "'foo'"]),
    row(
        &["--threshold", "p99{op=nope}<1s"],
        &["--threshold", "'nope'"],
    ),
    row(
        &["--threshold", "error_rate<150%"],
        &["--threshold", "'150%'"],
    ),
    row(
        &["-d", r#"{"thresholds": 5}"#],
        &["key 'thresholds' in -d/--data"],
    ),
    // Client limits: body size, redirects, TLS switch.
    row(&["--max-body", "lots"], &["--max-body", "'lots'"]),
    row(&["--max-body", "2TiB"], &["--max-body", "'2TiB'"]),
    row(
        &["--follow-redirects", "101"],
        &["--follow-redirects", "'101'"],
    ),
    row(
        &["--follow-redirects", "-1"],
        &["--follow-redirects", "'-1'"],
    ),
    row(
        &["-d", r#"{"max_body":true}"#],
        &["key 'max_body' in -d/--data", "a boolean"],
    ),
    row(
        &["-d", r#"{"follow_redirects":1.5}"#],
        &["key 'follow_redirects' in -d/--data", "'1.5'"],
    ),
    row(
        &["-d", r#"{"insecure":"yes"}"#],
        &["key 'insecure' in -d/--data", "true or false"],
    ),
    // Files and the command line itself.
    row(&["--config", "/nonexistent"], &["--config /nonexistent"]),
    row(&["--bogus"], &["'--bogus'"]),
    row(&["stray"], &["'stray'"]),
];

/// Checks one refused command line; returns what was wrong, if anything.
fn check(
    server: &TestServer,
    args: &[String],
    env: &[(&str, &str)],
    needles: &[&str],
    forbidden: &[&str],
) -> Option<String> {
    // Rows that do not name a target get the test server, so a wrongly accepted line is
    // counted there; rows without a budget get a small one, so such a run stays short. Both
    // go first, so that a row's last flag can lack its value.
    let has = |flags: &[&str]| args.iter().any(|a| flags.contains(&a.as_str()));
    let url = server.url("/ok");
    let mut all: Vec<&str> = vec!["run"];
    if !has(&["--url", "--gateway", "--route"]) {
        all.extend(["--url", &url]);
    }
    if !has(&["-n", "--requests"]) {
        all.extend(["-n", "3"]);
    }
    all.extend(args.iter().map(String::as_str));

    let before = server.count();
    let out = run_env(&all, env);
    let mut wrong = vec![];
    if out.code != 2 {
        wrong.push(format!("exit code {}", out.code));
    }
    if !out.stdout.is_empty() {
        wrong.push(format!("stdout {:?}", out.stdout));
    }
    let lines: Vec<&str> = out.stderr.lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("fnstress: ") {
        wrong.push("stderr is not one 'fnstress: ' line".into());
    }
    for needle in needles {
        if !out.stderr.contains(needle) {
            wrong.push(format!("stderr lacks {needle:?}"));
        }
    }
    for text in forbidden {
        if out.stderr.contains(text) {
            wrong.push(format!("stderr shows {text:?}"));
        }
    }
    if server.count() != before {
        wrong.push(format!("{} invocations sent", server.count() - before));
    }
    (!wrong.is_empty()).then(|| format!("{all:?}: {}\n  stderr: {}", wrong.join("; "), out.stderr))
}

#[test]
fn invalid_input_exits_2_naming_the_flag_or_key() {
    let server = TestServer::start();
    let mut failures = vec![];
    for r in ROWS {
        let args: Vec<String> = r
            .args
            .iter()
            .map(|a| {
                a.replace("{url}", &server.url("/ok"))
                    .replace("{base}", &server.base())
            })
            .collect();
        failures.extend(check(&server, &args, &[], r.needles, &[]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ROWS.len() >= 50);
    assert_eq!(server.count(), 0);
}

#[test]
fn invalid_values_in_a_config_file_name_the_file_and_key() {
    let server = TestServer::start();
    let dir = TempDir::new("config");
    let path = dir.file("bad.json");
    std::fs::write(&path, r#"{"concurrency": 0}"#).unwrap();
    let key = format!("key 'concurrency' in {path}");
    let bad_json = dir.file("broken.json");
    std::fs::write(&bad_json, "{").unwrap();
    let broken = format!("--config {bad_json}");

    let mut failures = vec![];
    for (args, needles) in [
        (
            vec!["--config".to_string(), path.clone()],
            vec![key.as_str(), "'0'"],
        ),
        (
            vec!["--config".to_string(), bad_json.clone()],
            vec![broken.as_str(), "invalid JSON"],
        ),
    ] {
        failures.extend(check(&server, &args, &[], &needles, &[]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_flag_given_twice_is_named() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let args = ["--url".to_string(), url.clone(), "--url".to_string(), url];
    let failure = check(&server, &args, &[], &["'--url'", "more than once"], &[]);
    assert!(failure.is_none(), "{}", failure.unwrap());
}

/// A refused line carrying a secret: arguments, environment, texts the error must contain.
type SecretRow<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn refusals_never_echo_a_secret() {
    let server = TestServer::start();
    let event = r#"{"headers": ["Authorization Bearer t0ken-XYZ"]}"#;
    let table: [SecretRow; 7] = [
        // A header whose colon was forgotten: its value is likely a secret.
        (
            &["-H", "Authorization Bearer t0ken-XYZ"],
            &[],
            &["--header", "'Authorization...'"],
        ),
        (
            &["-H", "Authorization=Bearer t0ken-XYZ"],
            &[],
            &["--header", "'Authorization...'"],
        ),
        (&["-d", event], &[], &["key 'headers' in -d/--data"]),
        // Keys that cannot be sent as a header value are refused, not sent empty.
        (&["--api-key", "t0ken-\u{1}XYZ"], &[], &["--api-key"]),
        (
            &[],
            &[("FNSTRESS_API_KEY", "t0ken-\u{1}XYZ")],
            &["env FNSTRESS_API_KEY"],
        ),
        // AWS credentials that cannot be signed with are refused without being shown.
        (
            &["--aws-sigv4", "us-east-1"],
            &[
                ("AWS_ACCESS_KEY_ID", "AKIDt0ken"),
                ("AWS_SECRET_ACCESS_KEY", "t0ken XYZ"),
            ],
            &["--aws-sigv4", "not shown"],
        ),
        (
            &["--aws-sigv4", "us-east-1"],
            &[
                ("AWS_ACCESS_KEY_ID", "AKIDt0ken"),
                ("AWS_SECRET_ACCESS_KEY", "t0kenXYZ"),
                ("FNSTRESS_SIGV4_TIME", "tomorrow"),
            ],
            &["--aws-sigv4", "env FNSTRESS_SIGV4_TIME", "'tomorrow'"],
        ),
    ];
    let mut failures = vec![];
    for (args, env, needles) in table {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        failures.extend(check(&server, &args, env, needles, &["t0ken", "XYZ"]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_payload_and_config_files_name_the_file_and_line() {
    let server = TestServer::start();
    let dir = TempDir::new("files");
    let write = |name: &str, text: &str| {
        let path = dir.file(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let bad_line = write("bad-line.jsonl", "{\"a\":1}\n{bad\n");
    let empty = write("empty.jsonl", "# only a comment\n\n");
    let zero = write("zero.jsonl", "{\"body\":{\"a\":1},\"weight\":0}\n");
    let size = write("size.json", r#"{"concurrency": 5, "max_body": "huge"}"#);
    let array = write("array.json", "[]");
    let line2 = format!("{bad_line} line 2");
    let zero_line = format!("{zero} line 1");
    let size_key = format!("key 'max_body' in {size}");

    let rows: [(&str, &str, Vec<&str>); 5] = [
        ("--payloads", &bad_line, vec![&line2, "invalid JSON"]),
        ("--payloads", &empty, vec![&empty, "no payload lines"]),
        ("--payloads", &zero, vec![&zero_line, "\"weight\""]),
        ("--config", &size, vec![&size_key, "'huge'"]),
        ("--config", &array, vec![&array, "an array"]),
    ];
    let mut failures = vec![];
    for (flag, path, needles) in rows {
        let args = [flag.to_string(), path.to_string()];
        failures.extend(check(&server, &args, &[], &needles, &[]));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
