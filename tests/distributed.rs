//! `make distributed` end to end: three shard processes against the built-in gateway, merged
//! by `fnstress report`; the merged completed count equals the gateway's execution count.

mod support;

use std::process::Command;

use support::{heavy, num, read_json, sum, TempDir, BIN};

#[test]
fn make_distributed_merges_three_shards_to_the_gateway_count() {
    let _serial = heavy();
    let dir = TempDir::new("distributed");
    let out = Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--no-print-directory",
            "distributed",
            "SHARDS=3",
            "DURATION=2s",
            "CONCURRENCY=6",
            &format!("FNSTRESS_BIN={BIN}"),
            &format!("OUT={}", dir.path().display()),
            "THRESHOLDS=count>0 p99<5s",
        ])
        .output()
        .expect("run make");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "make distributed failed:\n{stderr}");

    let merged = read_json(&dir.file("merged.json"));
    let gateway = read_json(&dir.file("gateway-metrics.json"));
    let completed = num(&merged["totals"], "completed");
    assert!(completed > 0);
    assert_eq!(completed, num(&gateway, "execution_count"));
    assert_eq!(num(&merged, "merged_from"), 3);
    assert_eq!(merged["config"]["concurrency"], 6);
    let shards: u64 = (0..3)
        .map(|i| {
            num(
                &read_json(&dir.file(&format!("shard-{i}.json")))["totals"],
                "completed",
            )
        })
        .sum();
    assert_eq!(shards, completed);
    assert_eq!(sum(&merged["operations"], "completed"), completed);
    // Errors of the demo function are what the gateway counted as errors.
    assert_eq!(
        num(&merged["totals"], "errors"),
        num(&gateway, "error_count")
    );
    let verdicts = merged["thresholds"].as_array().expect("thresholds judged");
    assert_eq!(verdicts.len(), 2);
    assert!(stderr.contains(&format!(
        "merged report: {completed} completed; gateway: {completed} executions"
    )));
}
