//! Several functions in one run, the warm-up and the CSV timeline, checked against the
//! built-in gateway's own execution counts.

mod common_gateway;
mod support;

use common_gateway::Gateway;
use support::{num, run_ok, TempDir};

/// The gateway's execution count of one function.
fn executions(gateway: &Gateway, name: &str) -> u64 {
    num(
        &gateway.get(&format!("/metrics/{name}")).json(),
        "execution_count",
    )
}

/// Sums of the CSV's `invocations` column: in all, and per function.
fn csv_sums(path: &str) -> (u64, Vec<(String, u64)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (f, n) = (col("function"), col("invocations"));
    let mut per: Vec<(String, u64)> = vec![];
    let mut total = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let count: u64 = cells[n].parse().unwrap();
        total += count;
        match per.iter_mut().find(|(name, _)| name == cells[f]) {
            Some((_, c)) => *c += count,
            None => per.push((cells[f].to_string(), count)),
        }
    }
    (total, per)
}

#[test]
fn a_weighted_mix_spreads_invocations_and_reports_each_function() {
    let gateway = Gateway::start(&["--time-scale", "0"]);
    let dir = TempDir::new("mix");
    let csv = dir.file("t.csv");
    let out = run_ok(&[
        "run",
        "--gateway",
        &gateway.url(""),
        "-t",
        "custom-metrics=3,echo=1",
        "-n",
        "4000",
        "-c",
        "8",
        "--seed",
        "7",
        "-o",
        "json",
        "--csv",
        &csv,
    ]);
    let r = out.json();
    assert_eq!(num(&r["totals"], "completed"), 4000);
    let functions = r["functions"].as_array().unwrap();
    let names: Vec<&str> = functions
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["custom-metrics", "echo"]);
    for (f, share) in functions.iter().zip([3000.0, 1000.0]) {
        let name = f["name"].as_str().unwrap();
        let served = executions(&gateway, name);
        // the gateway's count equals the report's exactly, and the weights within 3%
        assert_eq!(num(f, "completed"), served, "{name}");
        assert!(
            (served as f64 - share).abs() <= share * 0.03,
            "{name}: {served}"
        );
        // each function's operation table adds up to the function
        let ops: u64 = f["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| num(o, "completed"))
            .sum();
        assert_eq!(ops, served, "{name}");
        assert_eq!(num(&f["latency"], "count"), served, "{name}");
    }
    // only custom-metrics fails, and only its error operation
    assert_eq!(num(&functions[1], "errors"), 0);
    let cm_errors = functions[0]["operations"][3]["errors"].as_u64().unwrap();
    assert_eq!(num(&functions[0], "errors"), cm_errors);
    assert_eq!(num(&r["totals"], "errors"), cm_errors);

    // The CSV has one row per second and function, adding up to the report.
    let (total, per) = csv_sums(&csv);
    assert_eq!(total, num(&r["totals"], "completed"));
    assert_eq!(per.len(), 2);
    for ((name, sum), f) in per.iter().zip(functions) {
        assert_eq!(name, f["name"].as_str().unwrap());
        assert_eq!(*sum, num(f, "completed"), "{name}");
    }
}

#[test]
fn warmup_invocations_are_counted_apart() {
    let gateway = Gateway::start(&["--time-scale", "0.05"]);
    let dir = TempDir::new("warmup");
    let csv = dir.file("t.csv");
    let out = run_ok(&[
        "run",
        "--gateway",
        &gateway.url(""),
        "-t",
        "custom-metrics",
        "--warmup",
        "700ms",
        "-n",
        "300",
        "-c",
        "4",
        "-o",
        "json",
        "--csv",
        &csv,
    ]);
    let r = out.json();
    let measured = num(&r["totals"], "started");
    let warm = num(&r["warmup"], "count");
    // the budget counts measured invocations only
    assert_eq!(measured, 300);
    assert!(warm > 0, "no warm-up invocations");
    assert_eq!(measured + warm, executions(&gateway, "custom-metrics"));
    // the warm-up opened the connections, so none are opened afterwards
    assert_eq!(num(&r["warmup"], "connections_opened"), 4);
    assert_eq!(
        r["connections"],
        serde_json::json!({"opened": 0, "reconnects": 0})
    );
    assert_eq!(num(&r["latency"], "count"), 300);
    let (total, _) = csv_sums(&csv);
    assert_eq!(total, 300);

    // A deadline run: warm-up plus the duration, and the same sum.
    let out = run_ok(&[
        "run",
        "--gateway",
        &gateway.url(""),
        "-t",
        "echo",
        "--warmup",
        "500ms",
        "-z",
        "1s",
        "-c",
        "2",
        "-o",
        "json",
    ]);
    let r = out.json();
    let sum = num(&r["totals"], "started") + num(&r["warmup"], "count");
    assert_eq!(sum, executions(&gateway, "echo"));
    assert!(out.elapsed.as_secs_f64() >= 1.5, "{:?}", out.elapsed);
}
