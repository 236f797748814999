//! `GET /dashboard`: a live page of the gateway's function metrics, so a user can watch the
//! counts move during a load test. The page polls `GET /metrics` once a second; it is built
//! once, with its style and chart code inside, and loads nothing else.

use std::sync::OnceLock;

use crate::report::page;

const TEMPLATE: &str = include_str!("assets/dashboard.html");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");

/// The page's HTML.
pub fn page() -> String {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        page::assemble(
            TEMPLATE,
            &[page::CHARTS_JS, page::VIEWS_JS, DASHBOARD_JS],
            None,
        )
    })
    .clone()
}
