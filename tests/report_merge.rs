//! `fnstress report` merges shard reports without loss: totals are the sums, merged
//! percentiles equal those of one histogram holding every sample, a report merged with itself
//! doubles its counts and keeps its percentiles, and mismatched reports are refused. Shards
//! take exact shares of `-n`, of the rate and (when asked) of the workers.

mod support;

use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use support::{num, read_json, run, run_env, run_ok, sum, TempDir, TestServer};

use fnstress::report::json::decode_histogram;

const PCTS: [(&str, f64); 5] = [
    ("p50", 0.5),
    ("p90", 0.9),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99_9", 0.999),
];

/// Runs shard `i` of `n` against `/sleep/..`-free `/ok` and returns its report path.
fn shard(server: &TestServer, dir: &TempDir, i: u32, n: u32, extra: &[&str]) -> String {
    let path = dir.file(&format!("shard-{i}.json"));
    let url = server.url("/ok");
    let spec = format!("{i}/{n}");
    let mut args = vec![
        "run", "--url", &url, "--shard", &spec, "-q", "--json", &path, "-o", "json",
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
    path
}

fn histogram(v: &Value) -> Histogram<u64> {
    decode_histogram(v.as_str().expect("a histogram string")).unwrap()
}

/// One histogram holding every sample of the given reports.
fn reference(paths: &[String]) -> Histogram<u64> {
    // Decoded histograms have a fixed range; an empty one of 3 digits grows as needed.
    let mut all = Histogram::<u64>::new(3).unwrap();
    for p in paths {
        all.add(histogram(&read_json(p)["histogram"])).unwrap();
    }
    all
}

/// A copy of a report as if its run had started `by` later: another run, alike in all else.
fn shifted(dir: &TempDir, path: &str, by: Duration) -> String {
    let mut doc = read_json(path);
    let start = humantime::parse_rfc3339_weak(doc["started_at"].as_str().unwrap()).unwrap();
    doc["started_at"] = json!(humantime::format_rfc3339_millis(start + by).to_string());
    let copy = dir.file(&format!("shifted-{}ms.json", by.as_millis()));
    std::fs::write(&copy, doc.to_string()).unwrap();
    copy
}

/// Another run alike in all but its start, 1 ms later.
fn alike(dir: &TempDir, path: &str) -> String {
    shifted(dir, path, Duration::from_millis(1))
}

fn merged(paths: &[String]) -> Value {
    let mut args = vec!["report", "-o", "json"];
    args.extend(paths.iter().map(String::as_str));
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

fn assert_sums_and_percentiles(paths: &[String], m: &Value) {
    let docs: Vec<Value> = paths.iter().map(|p| read_json(p)).collect();
    for key in [
        "started",
        "completed",
        "success",
        "errors",
        "bytes_received",
    ] {
        let want: u64 = docs.iter().map(|d| num(&d["totals"], key)).sum();
        assert_eq!(num(&m["totals"], key), want, "totals.{key}");
    }
    let all = reference(paths);
    for (key, q) in PCTS {
        assert_eq!(num(&m["latency"], key), all.value_at_quantile(q), "{key}");
    }
    assert_eq!(num(&m["latency"], "max"), all.max());
    assert_eq!(num(&m["latency"], "count"), all.len());
    let workers: usize = docs
        .iter()
        .map(|d| d["workers"].as_array().unwrap().len())
        .sum();
    assert_eq!(m["workers"].as_array().unwrap().len(), workers);
    assert_eq!(
        sum(&m["timeline"], "completed"),
        num(&m["totals"], "completed")
    );
    assert_eq!(
        sum(&m["operations"], "completed"),
        num(&m["totals"], "completed")
    );
    assert_eq!(num(m, "merged_from"), paths.len() as u64);
}

#[test]
fn three_shards_split_the_budget_exactly_and_merge_to_the_sums() {
    let server = TestServer::start();
    let dir = TempDir::new("merge3");
    let paths: Vec<String> = (0..3)
        .map(|i| {
            shard(
                &server,
                &dir,
                i,
                3,
                &["-n", "301", "-c", "5", "--split-concurrency"],
            )
        })
        .collect();
    let shares: Vec<u64> = paths
        .iter()
        .map(|p| num(&read_json(p)["totals"], "completed"))
        .collect();
    assert_eq!(shares, [101, 100, 100]);
    let workers: Vec<usize> = paths
        .iter()
        .map(|p| read_json(p)["workers"].as_array().unwrap().len())
        .collect();
    assert_eq!(workers, [2, 2, 1]);
    assert_eq!(server.count(), 301);
    let r1 = read_json(&paths[1]);
    assert_eq!(r1["shard"], json!({"index": 1, "count": 3}));
    assert_eq!(r1["workers"][0]["shard"], json!(1));
    assert_eq!(r1["config"]["requests"], json!(100));

    let m = merged(&paths);
    assert_sums_and_percentiles(&paths, &m);
    assert_eq!(num(&m["totals"], "completed"), 301);
    assert_eq!(m["config"]["requests"], json!(301));
    assert_eq!(m["config"]["concurrency"], json!(5));
    assert_eq!(m["shard"], Value::Null);
    let shards: Vec<u64> = m["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| num(w, "shard"))
        .collect();
    assert_eq!(shards, [0, 0, 1, 1, 2]);
    // The saved merged report prints again as text and merges further.
    let merged_path = dir.file("merged.json");
    let out = run(&[
        "report",
        &paths[0],
        &paths[1],
        &paths[2],
        "--json",
        &merged_path,
        "-q",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .contains("Merged     3 reports: shard 0/3, shard 1/3, shard 2/3\n"));
    assert_eq!(read_json(&merged_path)["totals"], m["totals"]);
    // Thresholds judge the merged numbers, not one shard's.
    for (expr, code) in [("count>=301", 0), ("count>301", 99)] {
        let out = run(&[
            "report",
            &paths[0],
            &paths[1],
            &paths[2],
            "--threshold",
            expr,
        ]);
        assert_eq!(out.code, code, "{expr}: {}", out.stderr);
    }
}

#[test]
fn two_shards_merge_and_two_alike_runs_double() {
    let server = TestServer::start();
    let dir = TempDir::new("merge2");
    let paths: Vec<String> = (0..2)
        .map(|i| shard(&server, &dir, i, 2, &["-n", "200", "-c", "2"]))
        .collect();
    let m = merged(&paths);
    assert_sums_and_percentiles(&paths, &m);

    // The same file twice is refused: it would count every invocation twice.
    let again = run(&["report", &paths[0], &paths[0]]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again.stderr.contains("hold the same report"),
        "{}",
        again.stderr
    );
    assert!(again.stdout.is_empty());

    // A second run exactly alike but for its start time merges to double counts and the
    // same percentiles.
    let one = read_json(&paths[0]);
    let twice = merged(&[paths[0].clone(), alike(&dir, &paths[0])]);
    for key in ["started", "completed", "success", "bytes_received"] {
        assert_eq!(
            num(&twice["totals"], key),
            2 * num(&one["totals"], key),
            "{key}"
        );
    }
    for (key, _) in PCTS {
        assert_eq!(twice["latency"][key], one["latency"][key], "{key}");
    }
    assert_eq!(twice["latency"]["mean"], one["latency"]["mean"]);
    assert_eq!(
        num(&twice["latency"], "count"),
        2 * num(&one["latency"], "count")
    );
    for (a, b) in one["operations"]
        .as_array()
        .unwrap()
        .iter()
        .zip(twice["operations"].as_array().unwrap())
    {
        assert_eq!(num(b, "completed"), 2 * num(a, "completed"));
        assert_eq!(b["latency"]["p99"], a["latency"]["p99"]);
    }
}

#[test]
fn timelines_align_on_wall_clock_seconds() {
    let server = TestServer::start();
    let dir = TempDir::new("align");
    let a = shard(&server, &dir, 0, 1, &["-n", "20", "-c", "1"]);
    // The same report, as if it had started 3 s later.
    let b = shifted(&dir, &a, Duration::from_secs(3));

    let m = merged(&[a.clone(), b]);
    let first = read_json(&a);
    let per_second: Vec<u64> = first["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| num(t, "completed"))
        .collect();
    let merged_seconds: Vec<u64> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| num(t, "completed"))
        .collect();
    // Second s of the later report lands on merged second s + 3.
    let mut want = vec![0u64; per_second.len().max(per_second.len() + 3)];
    for (s, n) in per_second.iter().enumerate() {
        want[s] += n;
        want[s + 3] += n;
    }
    assert_eq!(merged_seconds, want);
    let elapsed = first["elapsed_s"].as_f64().unwrap();
    assert!((m["elapsed_s"].as_f64().unwrap() - (elapsed + 3.0)).abs() < 0.002);
}

#[test]
fn mismatched_reports_are_refused() {
    let server = TestServer::start();
    let dir = TempDir::new("mismatch");
    let a = shard(&server, &dir, 0, 2, &["-n", "10"]);
    let mut doc = read_json(&a);
    doc["schema"] = json!("fnstress.report.v0");
    let old = dir.file("old.json");
    std::fs::write(&old, doc.to_string()).unwrap();
    let out = run(&["report", &a, &old]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        format!(
            "fnstress: {old}: schema 'fnstress.report.v0' cannot be merged; this fnstress reads \
             fnstress.report.v1 (re-run the shard with this version)\n"
        )
    );
    assert_eq!(out.stdout, "");

    let other = dir.file("other.json");
    let url = server.url("/status/503");
    run_ok(&["run", "--url", &url, "-n", "5", "-q", "--json", &other]);
    let out = run(&["report", &a, &other]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(&format!(
            "fnstress: {other}: incompatible with {a}: url is \"{}\" there but \"{url}\" here",
            server.url("/ok")
        )),
        "{}",
        out.stderr
    );

    let far_path = shifted(&dir, &a, Duration::from_secs(48 * 3600));
    let out = run(&["report", &a, &far_path]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with(&format!("fnstress: {far_path}: started ")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("within 24 h of each other"),
        "{}",
        out.stderr
    );

    let out = run(&["report", &a, "--json", "/nonexistent-dir/x.json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("fnstress: --json /nonexistent-dir/x.json: cannot write"),
        "{}",
        out.stderr
    );

    let out = run(&["report", &dir.file("missing.json")]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
    let page = dir.file("merged.html");
    let out = run(&["report", &a, &alike(&dir, &a), "--html", &page, "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("\"merged_from\":2"),
        "the page embeds the merged report"
    );
    let out = run(&["report", &a, "--htm", "x"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("fnstress: unknown flag '--htm' for 'report'"),
        "{}",
        out.stderr
    );
}

#[test]
fn shards_share_the_rate_and_report_it() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let out = run_ok(&[
        "run", "--url", &url, "--rate", "90", "-z", "1s", "--shard", "2/3", "-q", "-o", "json",
    ]);
    let r = out.json();
    assert_eq!(r["config"]["load"]["rate_per_s"], json!(30.0));
    assert_eq!(r["shard"], json!({"index": 2, "count": 3}));

    let bad = [
        (
            vec!["-n", "9", "--shard", "3/3"],
            "fnstress: --shard: '3/3': the index is 0-based, so it must be below 3",
        ),
        (
            vec!["-n", "2", "--shard", "2/3"],
            "fnstress: --shard: a request budget of 2 leaves no invocation for shard 2",
        ),
        (
            vec!["-n", "9", "--split-concurrency"],
            "fnstress: --split-concurrency: needs --shard I/N",
        ),
    ];
    for (extra, want) in bad {
        let mut args = vec!["run", "--url", &url];
        args.extend(extra.iter().copied());
        let out = run(&args);
        assert_eq!(out.code, 2, "{extra:?}");
        assert!(out.stderr.starts_with(want), "{extra:?}: {}", out.stderr);
    }
}

#[test]
fn the_fnstress_event_env_configures_run_below_data_and_flags() {
    let server = TestServer::start();
    let url = server.url("/ok");
    let event = r#"{"requests": 7, "concurrency": 2, "quiet": true, "output": "json"}"#;
    let env = [("FNSTRESS_EVENT", event)];
    let r = run_env(&["run", "--url", &url], &env).json();
    assert_eq!(
        (
            num(&r["totals"], "completed"),
            num(&r["config"], "concurrency")
        ),
        (7, 2)
    );
    let r = run_env(&["run", "--url", &url, "-d", r#"{"concurrency": 3}"#], &env).json();
    assert_eq!(num(&r["config"], "concurrency"), 3);
    let r = run_env(
        &[
            "run",
            "--url",
            &url,
            "-d",
            r#"{"concurrency": 3}"#,
            "-c",
            "4",
        ],
        &env,
    )
    .json();
    assert_eq!(num(&r["config"], "concurrency"), 4);

    let out = run_env(
        &["run", "--url", &url],
        &[("FNSTRESS_EVENT", r#"{"concurrency": "x"}"#)],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("fnstress: key 'concurrency' in env FNSTRESS_EVENT: expected"),
        "{}",
        out.stderr
    );
    let out = run_env(&["run", "--url", &url], &[("FNSTRESS_EVENT", "{")]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("fnstress: env FNSTRESS_EVENT: invalid JSON"),
        "{}",
        out.stderr
    );
}

#[test]
fn function_tables_of_several_functions_merge_by_name() {
    let server = TestServer::start();
    let dir = TempDir::new("functions");
    let base = server.base();
    let paths: Vec<String> = (0..2)
        .map(|i| {
            let path = dir.file(&format!("f-{i}.json"));
            let spec = format!("{i}/2");
            run_ok(&[
                "run",
                "--gateway",
                &base,
                "-t",
                "a=3,b=1",
                "-n",
                "80",
                "-c",
                "2",
                "--shard",
                &spec,
                "-q",
                "--json",
                &path,
            ]);
            path
        })
        .collect();
    let m = merged(&paths);
    let docs: Vec<Value> = paths.iter().map(|p| read_json(p)).collect();
    for (i, name) in ["a", "b"].iter().enumerate() {
        let want: u64 = docs
            .iter()
            .map(|d| num(&d["functions"][i], "completed"))
            .sum();
        assert_eq!(m["functions"][i]["name"], json!(name));
        assert_eq!(num(&m["functions"][i], "completed"), want, "{name}");
    }
    assert_eq!(
        server.path_count("/run/a") + server.path_count("/run/b"),
        80
    );
    assert_eq!(
        num(&m["functions"][0], "completed") + num(&m["functions"][1], "completed"),
        80
    );
    assert_eq!(
        num(&m["functions"][0], "completed"),
        server.path_count("/run/a")
    );
}
