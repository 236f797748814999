//! The HTML report: one self-contained file (style, chart code and data inside) rendered from
//! the JSON report, so that a saved report renders exactly as the run's own `--html` did and
//! the file opens anywhere without network access.

use std::path::Path;

use serde_json::Value;

use super::{distribution, json, page};
use crate::error::{Error, Result};

const TEMPLATE: &str = include_str!("assets/report.html");
const REPORT_JS: &str = include_str!("assets/report.js");

/// Renders the report page from a JSON report.
pub fn render(doc: &Value) -> String {
    page::assemble(
        TEMPLATE,
        &[page::CHARTS_JS, page::VIEWS_JS, REPORT_JS],
        Some(&page_data(doc)),
    )
}

/// The report as the page's script reads it: the encoded histograms (of no use in a browser)
/// are replaced by the latency distribution decoded from them.
pub fn page_data(doc: &Value) -> Value {
    let mut data = doc.clone();
    data["distribution"] = doc["histogram"]
        .as_str()
        .and_then(|text| json::decode_histogram(text).ok())
        .map_or(Value::Null, |h| distribution::of(&h));
    if let Some(map) = data.as_object_mut() {
        map.remove("histogram");
    }
    if let Some(ops) = data["operations"].as_array_mut() {
        for op in ops.iter_mut().filter_map(Value::as_object_mut) {
            op.remove("histogram");
        }
    }
    data
}

/// Writes the page to `path` through a temporary file and a rename, like the JSON report.
pub fn write(path: &Path, doc: &Value, flag: &str) -> Result<()> {
    let failed = |e: std::io::Error| {
        Error::internal(format!(
            "{flag} {}: cannot write the HTML report ({e})",
            path.display()
        ))
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{flag} {}: not a file name", path.display())))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, render(doc)).map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        failed(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::new_histogram;
    use serde_json::json;

    #[test]
    fn the_page_is_self_contained_and_carries_the_distribution() {
        let mut h = new_histogram();
        h.record_n(1200, 10).unwrap();
        let doc = json!({
            "schema": super::super::SCHEMA,
            "histogram": json::encode_histogram(&h),
            "operations": [{"name": "fast", "histogram": json::encode_histogram(&h)}],
            "totals": {"completed": 10},
        });
        let data = page_data(&doc);
        assert!(data.get("histogram").is_none());
        assert!(data["operations"][0].get("histogram").is_none());
        assert_eq!(data["distribution"]["percentiles"][0][1], 1200);
        let html = render(&doc);
        for remote in [
            "src=\"http",
            "href=\"http",
            "src='http",
            "url(http",
            "@import",
        ] {
            assert!(!html.contains(remote), "the page loads {remote}");
        }
        assert!(html.contains("Content-Security-Policy"));
        assert!(!html.contains("{{"), "a template marker was left");
    }
}
