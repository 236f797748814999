//! The text sections for function mixes, cold starts, connections and the warm-up. Each
//! appears only when it says something: the function table with several functions or a log
//! tail, the warm-up line with a warm-up.

use std::fmt::Write;

use serde_json::Value;

use super::text::{ms, operations, u};

/// Renders the function table, then each function's operations when there are several.
pub fn functions(out: &mut String, r: &Value) {
    let Some(list) = r["functions"].as_array() else {
        return;
    };
    let log_tail = r["config"]["lambda"]["log_tail"].as_bool() == Some(true);
    if list.len() < 2 && !log_tail {
        return;
    }
    let width = list
        .iter()
        .filter_map(|f| f["name"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(out, "\nFunctions");
    let _ = write!(
        out,
        "  {:<width$}{:>8}{:>10}{:>10}{:>10}{:>10}{:>10}",
        "function", "weight", "count", "success", "errors", "p50 ms", "p99 ms"
    );
    if log_tail {
        let _ = write!(out, "{:>8}{:>12}{:>12}", "cold", "init p50", "init p99");
    }
    out.push('\n');
    for f in list {
        let _ = write!(
            out,
            "  {:<width$}{:>8}{:>10}{:>10}{:>10}{:>10}{:>10}",
            f["name"].as_str().unwrap_or("?"),
            u(&f["weight"]),
            u(&f["completed"]),
            u(&f["success"]),
            u(&f["errors"]),
            ms(&f["latency"]["p50"]),
            ms(&f["latency"]["p99"]),
        );
        if log_tail {
            let _ = write!(
                out,
                "{:>8}{:>12}{:>12}",
                u(&f["cold_starts"]),
                ms(&f["init_duration"]["p50"]),
                ms(&f["init_duration"]["p99"]),
            );
        }
        out.push('\n');
    }
    if list.len() > 1 {
        for f in list {
            let title = format!("Operations of {}", f["name"].as_str().unwrap_or("?"));
            operations(out, &f["operations"], &title);
        }
    }
}

/// The connections line, and the warm-up line when there was one.
pub fn connections_and_warmup(out: &mut String, r: &Value) {
    let c = &r["connections"];
    if c.is_object() {
        let _ = writeln!(
            out,
            "\nConnections  opened {}, reconnects {}",
            u(&c["opened"]),
            u(&c["reconnects"])
        );
    }
    let w = &r["warmup"];
    if w.is_object() {
        let _ = writeln!(
            out,
            "Warm-up      {}s: {} invocations kept out of the statistics ({} errors, {} cold \
             starts, {} connections opened)",
            w["duration_s"],
            u(&w["count"]),
            u(&w["errors"]),
            u(&w["cold_starts"]),
            u(&w["connections_opened"]),
        );
    }
}
