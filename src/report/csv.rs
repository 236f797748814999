//! `--csv FILE`: the per-second timeline as CSV, one row per second and function, for
//! spreadsheets and plotting tools. Rendered from the JSON report like the text report, so
//! a row never disagrees with the JSON.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::outcome::Kind;

/// The error kinds with a column each; cancelled invocations have no second of their own.
const ERROR_KINDS: [Kind; 6] = [
    Kind::Throttled,
    Kind::HttpError,
    Kind::FunctionError,
    Kind::Timeout,
    Kind::ConnectError,
    Kind::IoError,
];

/// Renders the CSV text of a JSON report.
pub fn render(doc: &Value) -> String {
    let mut out = String::from("time,second,function,invocations,success");
    for k in ERROR_KINDS {
        let _ = write!(out, ",{}", k.key());
    }
    out.push_str(",p50_ms,p90_ms,p99_ms,max_ms\n");
    let started = doc["started_at"]
        .as_str()
        .and_then(|t| humantime::parse_rfc3339(t).ok());
    let warmup = doc["warmup"]["duration_s"].as_f64().unwrap_or(0.0);
    let only = doc["functions"][0]["name"].as_str().unwrap_or("");
    for t in doc["timeline"].as_array().into_iter().flatten() {
        let second = t["second"].as_u64().unwrap_or(0);
        let time = started
            .map(|s| s + Duration::from_secs_f64(warmup) + Duration::from_secs(second))
            .map(|at| humantime::format_rfc3339_millis(at).to_string())
            .unwrap_or_default();
        match t["functions"].as_array() {
            Some(list) => {
                for f in list {
                    let name = f["name"].as_str().unwrap_or("");
                    row(&mut out, &time, second, name, f);
                }
            }
            None => row(&mut out, &time, second, only, t),
        }
    }
    out
}

fn row(out: &mut String, time: &str, second: u64, function: &str, t: &Value) {
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let _ = write!(
        out,
        "{time},{second},{},{},{}",
        quote(function),
        n(&t["completed"]),
        n(&t["success"])
    );
    for k in ERROR_KINDS {
        let _ = write!(out, ",{}", n(&t["kinds"][k.key()]));
    }
    for key in ["p50_us", "p90_us", "p99_us", "max_us"] {
        let _ = write!(out, ",{:.3}", n(&t[key]) as f64 / 1000.0);
    }
    out.push('\n');
}

/// Quotes a field that holds a comma, a quote or a line break, as CSV readers expect.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Writes the CSV through a temporary file and a rename, like the JSON report.
pub fn write_atomic(path: &Path, doc: &Value) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name =
        name.ok_or_else(|| Error::usage(format!("--csv {}: not a file name", path.display())))?;
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(render(doc).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::internal(format!(
            "--csv {}: cannot write the timeline ({e})",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_row_per_second_and_function() {
        let doc = json!({
            "started_at": "2026-01-02T03:04:05.000Z",
            "warmup": {"duration_s": 2.0},
            "functions": [{"name": "a"}, {"name": "b,c"}],
            "timeline": [{
                "second": 1,
                "functions": [
                    {"name": "a", "completed": 3, "success": 2, "kinds": {"timeout": 1},
                     "p50_us": 1500, "p90_us": 2000, "p99_us": 2000, "max_us": 2001},
                    {"name": "b,c", "completed": 0, "success": 0, "kinds": {},
                     "p50_us": 0, "p90_us": 0, "p99_us": 0, "max_us": 0}
                ]
            }]
        });
        let text = render(&doc);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "time,second,function,invocations,success,throttled,http_error,function_error,\
             timeout,connect_error,io_error,p50_ms,p90_ms,p99_ms,max_ms"
        );
        // the time is the start plus the warm-up plus the second
        assert_eq!(
            lines[1],
            "2026-01-02T03:04:08.000Z,1,a,3,2,0,0,0,1,0,0,1.500,2.000,2.000,2.001"
        );
        assert_eq!(
            lines[2],
            "2026-01-02T03:04:08.000Z,1,\"b,c\",0,0,0,0,0,0,0,0,0.000,0.000,0.000,0.000"
        );
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn a_single_function_uses_the_seconds_themselves() {
        let doc = json!({
            "started_at": "2026-01-02T03:04:05.000Z",
            "functions": [{"name": "echo"}],
            "timeline": [{"second": 0, "completed": 5, "success": 5, "kinds": {"success": 5},
                          "p50_us": 10, "p90_us": 20, "p99_us": 30, "max_us": 40}]
        });
        let text = render(&doc);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "2026-01-02T03:04:05.000Z,0,echo,5,5,0,0,0,0,0,0,0.010,0.020,0.030,0.040"
        );
    }
}
