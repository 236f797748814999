//! Assembles the self-contained HTML pages (report, live dashboard, gateway dashboard) from
//! templates kept as asset files, so that every page carries its own style, chart code and
//! data and opens with no network access.

use serde_json::Value;

/// Shared style of every page.
pub const STYLE: &str = include_str!("assets/style.css");
/// Hand-made SVG charts shared by every page.
pub const CHARTS_JS: &str = include_str!("assets/charts.js");
/// Renders a run (report or live statistics) into sections; shared by report and live page.
pub const VIEWS_JS: &str = include_str!("assets/views.js");

/// Fills a template's `{{STYLE}}`, `{{SCRIPT}}` and `{{DATA}}` markers. The data goes into a
/// `<script type="application/json">` element, with `<` escaped so that no text in it (an
/// error message from the target, say) can close the element.
pub fn assemble(template: &str, scripts: &[&str], data: Option<&Value>) -> String {
    let data = data.map_or_else(String::new, |d| {
        serde_json::to_string(d)
            .expect("a JSON value serializes")
            .replace('<', "\\u003c")
    });
    template
        .replace("{{STYLE}}", STYLE)
        .replace("{{SCRIPT}}", &scripts.concat())
        .replace("{{DATA}}", &data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_cannot_close_its_script_element() {
        let page = assemble(
            "<script type=\"application/json\">{{DATA}}</script>",
            &[],
            Some(&json!({"message": "</script><script>alert(1)</script>"})),
        );
        assert_eq!(page.matches("</script>").count(), 1, "{page}");
        let inner = page
            .trim_start_matches("<script type=\"application/json\">")
            .trim_end_matches("</script>");
        let back: Value = serde_json::from_str(inner).unwrap();
        assert_eq!(back["message"], "</script><script>alert(1)</script>");
    }
}
