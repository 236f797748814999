//! The dashboard's HTTP side: which path answers what. Requests are few (a browser tab and a
//! scraper), so two threads taking them off `tiny_http`'s queue are plenty.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::thread;

use tiny_http::{Header, Method, Request, Response, Server};

use super::{api, prometheus, Board};
use crate::error::{Error, Result};
use crate::report::page;

const TEMPLATE: &str = include_str!("assets/live.html");
const LIVE_JS: &str = include_str!("assets/live.js");

/// Threads answering dashboard requests.
const HANDLERS: usize = 2;

/// Listens on `addr`; a failure names the option the address came from.
pub fn bind(addr: SocketAddr, option: &str) -> Result<Server> {
    Server::http(addr).map_err(|e| {
        Error::usage(format!(
            "{option}: cannot listen on {addr} ({e}); choose a free port, or port 0 for any \
             free one"
        ))
    })
}

/// The address the server really listens on.
pub fn local_addr(server: &Server) -> SocketAddr {
    server
        .server_addr()
        .to_ip()
        .expect("the dashboard listens on TCP")
}

/// Starts the handler threads; they live as long as the process.
pub fn spawn(server: Server, board: Arc<Board>) -> Result<()> {
    let server = Arc::new(server);
    for _ in 0..HANDLERS {
        let server = Arc::clone(&server);
        let board = Arc::clone(&board);
        thread::Builder::new()
            .name("dashboard".into())
            .spawn(move || {
                for request in server.incoming_requests() {
                    answer(&board, request);
                }
            })
            .map_err(|e| Error::internal(format!("cannot start the dashboard thread: {e}")))?;
    }
    Ok(())
}

fn answer(board: &Board, request: Request) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    if !matches!(request.method(), Method::Get | Method::Head) {
        let body = format!("{} is not allowed; use GET", request.method());
        let _ = request.respond(reply(405, "text/plain; charset=utf-8", body.into_bytes()));
        return;
    }
    let (status, content_type, body) = match path.as_str() {
        "/" | "/index.html" => (
            200,
            "text/html; charset=utf-8",
            live_page().as_bytes().to_vec(),
        ),
        "/api/stats" => {
            let doc = api::stats(board, &board.snapshot());
            let body = serde_json::to_vec(&doc).expect("a JSON value serializes");
            (200, "application/json", body)
        }
        "/metrics" => {
            let text = prometheus::render(board, &board.snapshot());
            (200, prometheus::CONTENT_TYPE, text.into_bytes())
        }
        _ => {
            let body = format!("no page at {path}; try /, /api/stats or /metrics");
            (404, "text/plain; charset=utf-8", body.into_bytes())
        }
    };
    // The reader may have gone away; nobody is left to tell.
    let _ = request.respond(reply(status, content_type, body));
}

fn live_page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| page::assemble(TEMPLATE, &[page::CHARTS_JS, page::VIEWS_JS, LIVE_JS], None))
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Response<std::io::Cursor<Vec<u8>>> {
    let mut response = Response::from_data(body).with_status_code(status);
    for (name, value) in [
        ("Content-Type", content_type),
        ("Cache-Control", "no-store"),
    ] {
        let header = Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header");
        response.add_header(header);
    }
    response
}
