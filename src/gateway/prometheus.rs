//! `GET /metrics` in the Prometheus text exposition format (version 0.0.4), so that a real
//! scraper or dashboard can watch the gateway during a load test.

use std::fmt::Write;

use super::metrics::{FunctionSnapshot, Metrics, BUCKET_BOUNDS_SECONDS};

/// The media type scrapers expect for this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every series, for every function (or only `name`'s when given).
pub fn render(metrics: &Metrics, name: Option<&str>) -> String {
    let snaps = metrics.snapshot(name);
    let mut out = String::with_capacity(8 * 1024);

    header(
        &mut out,
        "invocations_total",
        "counter",
        "Invocations that reached a function.",
    );
    for snap in &snaps {
        for (op, stats) in operations(snap) {
            for (outcome, count) in [("success", stats.successes), ("error", stats.errors)] {
                let labels = format!(
                    "function=\"{}\",operation=\"{}\",outcome=\"{outcome}\"",
                    escape(snap.name),
                    escape(op)
                );
                sample(&mut out, "invocations_total", &labels, count);
            }
        }
    }

    header(
        &mut out,
        "duration_seconds",
        "histogram",
        "Time spent inside the function.",
    );
    for snap in &snaps {
        for (op, stats) in operations(snap) {
            let labels = format!(
                "function=\"{}\",operation=\"{}\"",
                escape(snap.name),
                escape(op)
            );
            let mut cumulative = 0;
            for (bound, count) in BUCKET_BOUNDS_SECONDS.iter().zip(&stats.buckets) {
                cumulative += count;
                let le = format!("{labels},le=\"{bound:?}\"");
                sample(&mut out, "duration_seconds_bucket", &le, cumulative);
            }
            let le = format!("{labels},le=\"+Inf\"");
            sample(&mut out, "duration_seconds_bucket", &le, stats.executions());
            let sum = stats.duration_total.as_secs_f64();
            sample(&mut out, "duration_seconds_sum", &labels, sum);
            sample(
                &mut out,
                "duration_seconds_count",
                &labels,
                stats.executions(),
            );
        }
    }

    header(
        &mut out,
        "cold_starts_total",
        "counter",
        "Invocations that started cold.",
    );
    for snap in &snaps {
        let labels = format!("function=\"{}\"", escape(snap.name));
        sample(
            &mut out,
            "cold_starts_total",
            &labels,
            snap.stats.cold_starts,
        );
    }

    let help = "Unix time at which the function last finished.";
    header(&mut out, "last_execution_timestamp_seconds", "gauge", help);
    for snap in &snaps {
        let Some(at) = snap.stats.last_execution else {
            continue;
        };
        let seconds = at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let labels = format!("function=\"{}\"", escape(snap.name));
        sample(
            &mut out,
            "last_execution_timestamp_seconds",
            &labels,
            seconds,
        );
    }

    custom_metrics(&mut out, &snaps);

    let help = "Requests answered without invoking a function.";
    header(&mut out, "rejections_total", "counter", help);
    for (why, count) in metrics.rejections() {
        sample(
            &mut out,
            "rejections_total",
            &format!("reason=\"{}\"", why.key()),
            count,
        );
    }

    header(
        &mut out,
        "uptime_seconds",
        "gauge",
        "Time since the gateway started.",
    );
    sample(
        &mut out,
        "uptime_seconds",
        "",
        metrics.uptime().as_secs_f64(),
    );
    out
}

fn custom_metrics(out: &mut String, snaps: &[FunctionSnapshot]) {
    let help = "Custom metrics counted by the functions themselves.";
    header(out, "custom_metric_total", "counter", help);
    for snap in snaps {
        for (name, metric) in &snap.stats.custom {
            let labels = format!(
                "function=\"{}\",metric=\"{}\"",
                escape(snap.name),
                escape(name)
            );
            sample(out, "custom_metric_total", &labels, metric.count);
        }
    }
    let help = "Time spent in invocations counted by each custom metric.";
    header(out, "custom_metric_duration_seconds_total", "counter", help);
    for snap in snaps {
        for (name, metric) in &snap.stats.custom {
            let labels = format!(
                "function=\"{}\",metric=\"{}\"",
                escape(snap.name),
                escape(name)
            );
            let seconds = metric.duration_total.as_secs_f64();
            sample(
                out,
                "custom_metric_duration_seconds_total",
                &labels,
                seconds,
            );
        }
    }
}

fn operations(
    snap: &FunctionSnapshot,
) -> impl Iterator<Item = (&'static str, &super::metrics::OperationStats)> {
    snap.operation_names
        .iter()
        .copied()
        .zip(&snap.stats.operations)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP fnstress_gateway_{name} {help}");
    let _ = writeln!(out, "# TYPE fnstress_gateway_{name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    if labels.is_empty() {
        let _ = writeln!(out, "fnstress_gateway_{name} {value}");
    } else {
        let _ = writeln!(out, "fnstress_gateway_{name}{{{labels}}} {value}");
    }
}

/// Label values may hold any text; these three characters would end or break the line.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::functions::Registry;
    use crate::gateway::metrics::Sample;
    use std::time::{Duration, Instant, SystemTime};

    #[test]
    fn histogram_is_cumulative_and_ends_at_the_count() {
        let metrics = Metrics::new(&Registry::demo(0.0));
        for ms in [2, 40, 300] {
            let duration = Duration::from_millis(ms);
            let started = Instant::now();
            let finished_at = SystemTime::now();
            let custom_metrics = &["success.total"];
            metrics.record(
                0,
                &Sample {
                    operation: 2,
                    failed: false,
                    started,
                    duration,
                    finished_at,
                    custom_metrics,
                },
            );
        }
        let text = render(&metrics, Some("custom-metrics"));
        let series = "fnstress_gateway_duration_seconds_bucket{function=\"custom-metrics\",\
                      operation=\"slow\"";
        assert!(text.contains(&format!("{series},le=\"0.005\"}} 1\n")));
        assert!(text.contains(&format!("{series},le=\"0.05\"}} 2\n")));
        assert!(text.contains(&format!("{series},le=\"+Inf\"}} 3\n")));
        assert!(text.contains(
            "fnstress_gateway_invocations_total{function=\"custom-metrics\",\
             operation=\"slow\",outcome=\"success\"} 3\n"
        ));
        assert!(!text.contains("function=\"echo\""));
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
