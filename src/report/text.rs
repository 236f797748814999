//! The human-readable report, rendered from the JSON report so that live and saved reports
//! print the same. Error lines appear only when non-zero.

use std::fmt::Write;

use serde_json::Value;

use crate::outcome::Kind;

/// Workers listed one per line up to this many; above it the text shows a summary.
const MAX_LISTED_WORKERS: usize = 32;

pub(super) fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

pub(super) fn ms(v: &Value) -> String {
    match v.as_f64() {
        Some(us) => format!("{:.2}", us / 1000.0),
        None => "-".into(),
    }
}

/// Seconds from the JSON report as the command line writes them: `30s`, `1m30s`, `250ms`.
fn secs(v: &Value) -> String {
    match v.as_f64() {
        Some(s) if s.is_finite() && s >= 0.0 => {
            crate::duration::format(std::time::Duration::from_secs_f64(s))
        }
        _ => "?".into(),
    }
}

/// One line on the load model, from the `load` object of the config.
fn model(load: &Value) -> String {
    let stages = |v: &Value, unit: &str| -> Option<String> {
        let list: Vec<String> = v
            .as_array()?
            .iter()
            .map(|s| format!("{}:{}{unit}", secs(&s["duration_s"]), s["target"]))
            .collect();
        Some(list.join(","))
    };
    match load["model"].as_str() {
        Some("open") => match (load["rate_per_s"].as_f64(), stages(&load["stages"], "/s")) {
            (Some(r), _) => format!("open, {r}/s scheduled from the start"),
            (None, Some(s)) => format!("open, rate stages {s}"),
            _ => "open".into(),
        },
        _ => {
            let mut text = String::from("closed");
            if let Some(s) = stages(&load["stages"], "") {
                text.push_str(&format!(", worker stages {s}"));
            }
            if let Some(t) = load["think_s"].as_array() {
                text.push_str(&format!(", think {}..{}", secs(&t[0]), secs(&t[1])));
            }
            text
        }
    }
}

/// Renders the text report.
pub fn render(r: &Value) -> String {
    let mut out = String::new();
    header(&mut out, r);
    super::gate_text::scope(&mut out, r);
    totals(
        &mut out,
        &r["totals"],
        r["elapsed_s"].as_f64().unwrap_or(0.0),
    );
    status_codes(&mut out, &r["status_codes"]);
    errors(&mut out, &r["errors"]);
    latency(
        &mut out,
        &r["latency"],
        "Latency (ms, from send to the end of the answer)",
    );
    if r.get("latency_corrected").is_some() {
        let title = "Latency corrected (ms, from the due time: what a user at this rate waits)";
        latency(&mut out, &r["latency_corrected"], title);
        lateness(&mut out, r);
    }
    operations(&mut out, &r["operations"], "Operations");
    super::text_functions::functions(&mut out, r);
    super::text_functions::connections_and_warmup(&mut out, r);
    workers(&mut out, &r["workers"]);
    super::gate_text::thresholds(&mut out, r);
    out
}

fn header(out: &mut String, r: &Value) {
    let c = &r["config"];
    let limit = match c["requests"].as_u64() {
        Some(n) => format!("{n} invocations"),
        None => "no invocation limit".into(),
    };
    let duration = match c["duration_s"] {
        Value::Null => "no deadline".into(),
        ref d => secs(d),
    };
    match c["target_function"].as_object() {
        Some(mix) => {
            let names: Vec<String> = mix.iter().map(|(n, w)| format!("{n}={w}")).collect();
            let _ = writeln!(
                out,
                "Target     {} ({} {} functions, route {})",
                names.join(","),
                c["method"].as_str().unwrap_or("?"),
                mix.len(),
                c["route"].as_str().unwrap_or("?"),
            );
        }
        None if c["route"] == "url" => {
            let _ = writeln!(
                out,
                "Target     {} {} (plain URL)",
                c["method"].as_str().unwrap_or("?"),
                c["url"].as_str().unwrap_or("?"),
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Target     {} ({} {}, route {})",
                c["target_function"].as_str().unwrap_or("?"),
                c["method"].as_str().unwrap_or("?"),
                c["url"].as_str().unwrap_or("?"),
                c["route"].as_str().unwrap_or("?"),
            );
        }
    }
    let workers = u(&c["concurrency"]);
    let _ = writeln!(
        out,
        "Load       {workers} worker{}, {duration}, {limit}; timeout {}, grace {}",
        if workers == 1 { "" } else { "s" },
        secs(&c["timeout_s"]),
        secs(&c["grace_s"]),
    );
    let _ = writeln!(out, "Model      {}", model(&c["load"]));
    let mix: Vec<String> = c["mix"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| format!("{}={}", m["operation"].as_str().unwrap_or("?"), m["weight"]))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Workload   {} ({}), seed {}",
        c["workload"].as_str().unwrap_or("?"),
        mix.join(", "),
        match &c["seed"] {
            Value::Null => "as in each merged report".to_string(),
            seed => seed.to_string(),
        },
    );
    let mut sent: Vec<String> = c["headers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if c["api_key"].is_string() {
        sent.push("X-API-Key: [redacted]".into());
    }
    if !sent.is_empty() {
        let _ = writeln!(out, "Headers    {}", sent.join("; "));
    }
    let _ = writeln!(
        out,
        "Run        started {}, stopped by {} after {:.2}s",
        r["started_at"].as_str().unwrap_or("?"),
        r["stop_reason"].as_str().unwrap_or("?"),
        r["elapsed_s"].as_f64().unwrap_or(0.0),
    );
}

fn totals(out: &mut String, t: &Value, elapsed: f64) {
    let completed = u(&t["completed"]);
    let _ = writeln!(out, "\nTotals");
    let _ = writeln!(out, "  started     {:>10}", u(&t["started"]));
    let _ = writeln!(
        out,
        "  completed   {completed:>10}   {:.2}/s over {elapsed:.2}s",
        t["rate_per_s"].as_f64().unwrap_or(0.0)
    );
    let success = u(&t["success"]);
    let pct = if completed == 0 {
        0.0
    } else {
        100.0 * success as f64 / completed as f64
    };
    let _ = writeln!(out, "  success     {success:>10}   {pct:.2}%");
    let _ = writeln!(out, "  errors      {:>10}", u(&t["errors"]));
    for k in Kind::ALL {
        if matches!(k, Kind::Success | Kind::Cancelled) {
            continue;
        }
        let n = u(&t[k.key()]);
        if n > 0 {
            let _ = writeln!(out, "    {:<16}{n:>8}", k.label());
        }
    }
    let cancelled = u(&t["cancelled"]);
    if cancelled > 0 {
        let _ = writeln!(
            out,
            "  cancelled   {cancelled:>10}   still in flight when the grace period ended"
        );
    }
    let resent = u(&t["resent"]);
    if resent > 0 {
        let _ = writeln!(
            out,
            "  resent      {resent:>10}   the server closed a reused connection unread"
        );
    }
    let truncated = u(&t["body_truncated"]);
    if truncated > 0 {
        let _ = writeln!(
            out,
            "  truncated   {truncated:>10}   bodies cut at --max-body (connection closed)"
        );
    }
}

fn status_codes(out: &mut String, codes: &Value) {
    let Some(map) = codes.as_object().filter(|m| !m.is_empty()) else {
        return;
    };
    let _ = writeln!(out, "\nStatus codes");
    for (code, n) in map {
        let _ = writeln!(out, "  {code:<6}{:>10}", u(n));
    }
}

fn errors(out: &mut String, errors: &Value) {
    let Some(list) = errors.as_array().filter(|l| !l.is_empty()) else {
        return;
    };
    let _ = writeln!(out, "\nErrors");
    for e in list {
        let kind = Kind::from_key(e["kind"].as_str().unwrap_or("")).map_or("?", Kind::label);
        let _ = writeln!(
            out,
            "  {kind:<16}{:>8}  {}",
            u(&e["count"]),
            e["message"].as_str().unwrap_or("")
        );
    }
}

fn lateness(out: &mut String, r: &Value) {
    let l = &r["lateness"];
    let rate = &r["rate"];
    let _ = writeln!(
        out,
        "\nRate       requested {:.2}/s, achieved {:.2}/s; {} started late (≥ {} ms), \
         lateness p50 {} ms, p99 {} ms, max {} ms",
        rate["requested_per_s"].as_f64().unwrap_or(0.0),
        rate["achieved_per_s"].as_f64().unwrap_or(0.0),
        u(&l["late"]),
        u(&l["threshold_us"]) / 1000,
        ms(&l["p50"]),
        ms(&l["p99"]),
        ms(&l["max"]),
    );
}

fn latency(out: &mut String, l: &Value, title: &str) {
    let _ = writeln!(out, "\n{title}");
    if u(&l["count"]) == 0 {
        let _ = writeln!(out, "  no completed invocations");
        return;
    }
    let keys = ["min", "mean", "p50", "p90", "p95", "p99", "p99_9", "max"];
    let names = ["min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"];
    let mut head = String::from(" ");
    let mut vals = String::from(" ");
    for (k, n) in keys.iter().zip(names) {
        let _ = write!(head, "{n:>10}");
        let _ = write!(vals, "{:>10}", ms(&l[*k]));
    }
    let _ = writeln!(out, "{head}\n{vals}");
}

pub(super) fn operations(out: &mut String, ops: &Value, title: &str) {
    let Some(list) = ops.as_array() else { return };
    let width = list
        .iter()
        .filter_map(|o| o["name"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(9);
    let width = width.max(9);
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<width$}{:>10}{:>10}{:>10}{:>12}{:>12}",
        "operation", "count", "success", "errors", "p50 ms", "p99 ms"
    );
    for o in list {
        let _ = writeln!(
            out,
            "  {:<width$}{:>10}{:>10}{:>10}{:>12}{:>12}",
            o["name"].as_str().unwrap_or("?"),
            u(&o["completed"]),
            u(&o["success"]),
            u(&o["errors"]),
            ms(&o["latency"]["p50"]),
            ms(&o["latency"]["p99"]),
        );
    }
}

fn workers(out: &mut String, workers: &Value) {
    let Some(list) = workers.as_array() else {
        return;
    };
    if list.len() > MAX_LISTED_WORKERS {
        let successes: Vec<u64> = list.iter().map(|w| u(&w["success"])).collect();
        let min = successes.iter().min().copied().unwrap_or(0);
        let max = successes.iter().max().copied().unwrap_or(0);
        let mean = successes.iter().sum::<u64>() as f64 / list.len() as f64;
        let with_errors = list.iter().filter(|w| u(&w["errors"]) > 0).count();
        let errors: u64 = list.iter().map(|w| u(&w["errors"])).sum();
        let _ = writeln!(
            out,
            "\nWorkers    {}: successes min {min}, mean {mean:.1}, max {max}; {errors} errors \
             on {with_errors} workers (every worker is listed in the JSON report)",
            list.len()
        );
        return;
    }
    let _ = writeln!(out, "\nWorkers");
    let _ = writeln!(
        out,
        "  {:<8}{:>10}{:>10}{:>10}",
        "worker", "success", "errors", "cancelled"
    );
    if list.iter().any(|w| w["shard"].is_u64()) {
        let _ = writeln!(out, "  (S#N: worker N of shard S)");
    }
    for w in list {
        let _ = writeln!(
            out,
            "  {:<8}{:>10}{:>10}{:>10}",
            match w["shard"].as_u64() {
                Some(shard) => format!("{shard}#{}", u(&w["id"])),
                None => format!("#{}", u(&w["id"])),
            },
            u(&w["success"]),
            u(&w["errors"]),
            u(&w["cancelled"]),
        );
    }
}
